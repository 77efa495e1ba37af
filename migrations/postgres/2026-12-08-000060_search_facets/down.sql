ALTER TABLE search_docs DROP COLUMN facet_words;
ALTER TABLE search_docs DROP COLUMN facets;
