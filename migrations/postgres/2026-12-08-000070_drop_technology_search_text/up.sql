-- The folded text the catalogue searched before the search index (search_docs); nothing reads it.
ALTER TABLE technologies DROP COLUMN search_text;
