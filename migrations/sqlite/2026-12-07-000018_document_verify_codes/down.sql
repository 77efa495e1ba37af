DROP INDEX agreement_documents_verify_code;
ALTER TABLE agreement_documents DROP COLUMN verify_code;
