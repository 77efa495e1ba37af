DROP INDEX conversion_contracts_royalty_next_close;
ALTER TABLE conversion_contracts DROP COLUMN royalty_next_close;
DROP TABLE royalty_years;
