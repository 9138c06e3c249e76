-- Review of issue 9 (SPEC §5, §8): SMS sent over SMPP, and the reports on them.

-- Which SMPP connection an SMS went over (a receipt is matched only among the SMS of the
-- connection whose bind it came on), how many parts it was split into, the 8-bit
-- concatenation reference its parts carry (allocated once, kept for every resend), and the
-- keys its parts' SMSC ids are found by (domain/smpp-receipts.ts partIdKeys: exact, case and
-- leading zeros aside, hex read as decimal and back). No foreign key: an SMS outlives its
-- connection.
ALTER TABLE outbox
  ADD COLUMN provider_connection_id uuid,
  ADD COLUMN provider_parts integer,
  ADD COLUMN concat_ref integer CHECK (concat_ref BETWEEN 0 AND 255),
  ADD COLUMN provider_part_keys text[];
CREATE INDEX outbox_smpp_part_keys ON outbox USING gin (provider_part_keys) WHERE provider = 'smpp';
-- Part ids are looked up through provider_part_keys now; migration 012's index served nothing else.
DROP INDEX IF EXISTS outbox_provider_part_ids;
UPDATE outbox SET provider_parts = cardinality(provider_part_ids),
                  provider_part_keys = (SELECT array_agg('=' || p) FROM unnest(provider_part_ids) p WHERE p <> '')
WHERE provider = 'smpp' AND provider_part_ids IS NOT NULL;

-- A report names one part of an SMS (SMPP receipts, one per part) or the whole SMS (part_id
-- ''): each status counts once per part, and the SMS is settled from all of them.
ALTER TABLE delivery_reports ADD COLUMN part_id text NOT NULL DEFAULT '';
ALTER TABLE delivery_reports DROP CONSTRAINT delivery_reports_pkey;
ALTER TABLE delivery_reports ADD PRIMARY KEY (outbox_id, part_id, status);

-- A receipt that came before its SMS's part id was recorded (a fast SMSC answers the
-- submit_sm and reports on it at once): kept here, and applied when the id is recorded, in
-- the same transaction. Pruned after a day: by then it is no SMS of ours.
CREATE TABLE smpp_unmatched_receipts (
  id             bigserial PRIMARY KEY,
  connection_id  uuid NOT NULL,
  message_id     text NOT NULL,
  keys           text[] NOT NULL,    -- what it is looked up by (domain/smpp-receipts.ts receiptIdLookups)
  status         text NOT NULL,
  error_code     text,
  at             timestamptz,
  received_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX smpp_unmatched_receipts_keys ON smpp_unmatched_receipts USING gin (keys);
CREATE INDEX smpp_unmatched_receipts_age ON smpp_unmatched_receipts (received_at);

-- The last 8-bit concatenation reference given to a long SMS to each destination: the next one
-- takes the next number, so SMS in flight to one handset never share one (until 256 of them).
CREATE TABLE smpp_concat_refs (
  destination  text PRIMARY KEY,
  last_ref     integer NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX smpp_concat_refs_age ON smpp_concat_refs (updated_at);
