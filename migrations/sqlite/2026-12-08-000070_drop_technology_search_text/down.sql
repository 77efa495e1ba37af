-- Restored empty: what it held is in search_docs.
ALTER TABLE technologies ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
