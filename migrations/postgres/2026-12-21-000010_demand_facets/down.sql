UPDATE search_docs SET facets = 'fkindx' || encode(convert_to('demand', 'UTF8'), 'hex')
WHERE kind = 'demand';
