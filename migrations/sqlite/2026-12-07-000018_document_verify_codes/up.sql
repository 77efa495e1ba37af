-- The code printed on a document (and in its QR code) that anyone can check at
-- /verify/{code}: 20 characters of Crockford base32, 100 random bits. Stored as printed, not
-- hashed: the document itself, stored beside it, carries the code anyway. Documents generated
-- before codes existed have none.
ALTER TABLE agreement_documents ADD COLUMN verify_code TEXT;
CREATE UNIQUE INDEX agreement_documents_verify_code ON agreement_documents (verify_code);
