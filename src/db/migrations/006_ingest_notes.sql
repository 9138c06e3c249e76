-- SPEC §5: an MO is never refused for its metadata. What was odd about it (a carrier id kept
-- as its hash, a label cut, a time that could not be read) is stored beside it.
ALTER TABLE inbound_messages ADD COLUMN ingest_notes text[] NOT NULL DEFAULT '{}';
-- Carrier ids may now be any printable text up to 256 characters (or a 71-character hash).
