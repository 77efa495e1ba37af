-- The search index: one row per searchable thing (a technology, a demand) with its words,
-- folded (lower case, no diacritics, đ as d) and Chinese runs written as overlapping
-- bigrams. FTS5 indexes them and ranks by bm25; it reads the text from search_docs
-- (external content) and the triggers keep it in step with every write of search_docs.
CREATE TABLE search_docs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (kind, doc_id)
);
CREATE VIRTUAL TABLE search_fts USING fts5(
    body,
    content = 'search_docs',
    content_rowid = 'id',
    tokenize = "unicode61 remove_diacritics 2"
);
CREATE TRIGGER search_docs_inserted AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_fts (rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER search_docs_deleted AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;
CREATE TRIGGER search_docs_updated AFTER UPDATE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO search_fts (rowid, body) VALUES (new.id, new.body);
END;
-- The technologies listed before the index existed. FTS5 removes the diacritics itself; đ is
-- a letter of its own to it, so it is folded here. (Chinese words in them are found once the
-- technology is next saved, which writes its bigrams.)
INSERT INTO search_docs (kind, doc_id, body)
SELECT 'technology', id,
       replace(replace(lower(title_vi || ' ' || title_en || ' ' || summary_vi || ' ' || summary_en
                             || ' ' || field || ' ' || ip_reference), 'đ', 'd'), 'Đ', 'd')
FROM technologies;
