-- SPEC §8, SMPP as an SMS provider. A connection's submit_sm rate (the SMSC's contract), and
-- the SMSC's message id of every part of a long SMS: a delivery receipt names one part, and
-- must find its SMS whichever part it is (provider_message_id keeps the first part's).
ALTER TABLE smpp_connections ADD COLUMN max_tps integer NOT NULL DEFAULT 10 CHECK (max_tps BETWEEN 1 AND 10000);
ALTER TABLE outbox ADD COLUMN provider_part_ids text[];
CREATE INDEX outbox_provider_part_ids ON outbox USING gin (provider_part_ids);
