-- A demand's search document carries the values its list filters by — status, field and
-- province — as facets beside its words (src/demands writes the same), so a search with words
-- is filtered by the index as the catalogue's is. The demands already indexed get theirs here.
UPDATE search_docs SET facets = (
    SELECT 'fkindx' || lower(hex('demand'))
        || ' fstatusx' || lower(hex(d.status))
        || ' fsectorx' || lower(hex(d.sector))
        || ' fprovincex' || lower(hex(d.province))
    FROM demands d WHERE d.id = search_docs.doc_id)
WHERE kind = 'demand' AND EXISTS (SELECT 1 FROM demands d WHERE d.id = search_docs.doc_id);
