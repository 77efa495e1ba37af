-- Each search document also carries its owner's facets (its kind, who may see it, the values a
-- search filters by) as words of a second FTS5 column, so a filtered search is answered by the
-- index alone: its count and a ranked page, without reading the owner's row of each match. A
-- facet is one token, 'f' || name || 'x' || the value's UTF-8 in hex (src/search writes the
-- same). An external-content FTS5 table cannot gain a column: it is made again and rebuilt.
DROP TRIGGER search_docs_updated;
DROP TRIGGER search_docs_deleted;
DROP TRIGGER search_docs_inserted;
DROP TABLE search_fts;
ALTER TABLE search_docs ADD COLUMN facets TEXT NOT NULL DEFAULT '';
UPDATE search_docs SET facets = (
    SELECT 'fkindx' || lower(hex('technology'))
        || ' fstatusx' || lower(hex(t.status))
        || ' forgx' || lower(hex(t.institute_id))
        || ' ffieldx' || lower(hex(t.field))
        || ' fipx' || lower(hex(t.ip_type))
    FROM technologies t WHERE t.id = search_docs.doc_id)
WHERE kind = 'technology';
UPDATE search_docs SET facets = 'fkindx' || lower(hex('demand')) WHERE kind = 'demand';
CREATE VIRTUAL TABLE search_fts USING fts5(
    body,
    facets,
    content = 'search_docs',
    content_rowid = 'id',
    tokenize = "unicode61 remove_diacritics 2"
);
CREATE TRIGGER search_docs_inserted AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_fts (rowid, body, facets) VALUES (new.id, new.body, new.facets);
END;
CREATE TRIGGER search_docs_deleted AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, body, facets)
    VALUES ('delete', old.id, old.body, old.facets);
END;
CREATE TRIGGER search_docs_updated AFTER UPDATE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, body, facets)
    VALUES ('delete', old.id, old.body, old.facets);
    INSERT INTO search_fts (rowid, body, facets) VALUES (new.id, new.body, new.facets);
END;
INSERT INTO search_fts (search_fts) VALUES ('rebuild');
