UPDATE search_docs SET facets = 'fkindx' || lower(hex('demand')) WHERE kind = 'demand';
