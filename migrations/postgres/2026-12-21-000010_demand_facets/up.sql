-- A demand's search document carries the values its list filters by — status, field and
-- province — as facets beside its words (src/demands writes the same), so a search with words
-- is filtered by the index as the catalogue's is. The demands already indexed get theirs here.
UPDATE search_docs s SET facets =
       'fkindx' || encode(convert_to('demand', 'UTF8'), 'hex')
    || ' fstatusx' || encode(convert_to(d.status, 'UTF8'), 'hex')
    || ' fsectorx' || encode(convert_to(d.sector, 'UTF8'), 'hex')
    || ' fprovincex' || encode(convert_to(d.province, 'UTF8'), 'hex')
FROM demands d WHERE s.kind = 'demand' AND d.id = s.doc_id;
