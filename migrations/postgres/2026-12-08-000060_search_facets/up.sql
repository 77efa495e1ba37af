-- Each search document also carries its owner's facets (its kind, who may see it, the values a
-- search filters by), kept as a second tsvector, so a filtered search is answered by the index
-- alone: its count and a ranked page, without reading the owner's row of each match. A facet
-- is one token, 'f' || name || 'x' || the value's UTF-8 in hex (src/search writes the same).
-- The facets are checked on the rows the words' GIN index finds, not indexed themselves: a
-- facet such as "listed" holds for most documents, and a bitmap of them costs more than the
-- check (measured over 100,000 technologies: a two-word search took 196 ms at the median
-- with the facets indexed, 21 ms without).
ALTER TABLE search_docs ADD COLUMN facets TEXT NOT NULL DEFAULT '';
UPDATE search_docs d SET facets =
       'fkindx' || encode(convert_to('technology', 'UTF8'), 'hex')
    || ' fstatusx' || encode(convert_to(t.status, 'UTF8'), 'hex')
    || ' forgx' || encode(convert_to(t.institute_id, 'UTF8'), 'hex')
    || ' ffieldx' || encode(convert_to(t.field, 'UTF8'), 'hex')
    || ' fipx' || encode(convert_to(t.ip_type, 'UTF8'), 'hex')
FROM technologies t WHERE d.kind = 'technology' AND t.id = d.doc_id;
UPDATE search_docs SET facets = 'fkindx' || encode(convert_to('demand', 'UTF8'), 'hex')
WHERE kind = 'demand';
ALTER TABLE search_docs
    ADD COLUMN facet_words TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', facets)) STORED;
