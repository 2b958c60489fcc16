-- A document's bytes are stored out of line without PostgreSQL's compression (TOAST
-- storage EXTERNAL instead of EXTENDED). What is stored is almost always compressed
-- already (PDF streams, DOCX and ODT zips, JPEG, PNG, G4 fax pages), and pglz
-- compresses the whole value before it finds the saving too small and keeps the
-- original: 40% of PostgreSQL's time ingesting mails with a 140 KB PDF each, about 2 ms
-- a mail (bench/mail/README.md). Uncompressed values are also read without a
-- decompression pass. Rows already stored keep their form until rewritten.
ALTER TABLE documents ALTER COLUMN bytes SET STORAGE EXTERNAL;
