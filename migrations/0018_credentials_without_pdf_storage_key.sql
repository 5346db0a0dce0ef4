-- The register's `pdf_storage_key` was never written: issued files are found by the
-- credential's id. A column nothing writes reads as if something might.
ALTER TABLE credentials DROP COLUMN pdf_storage_key;
