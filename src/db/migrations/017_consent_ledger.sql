-- SPEC §5.1: the consent ledger. Every opt-in and opt-out of a customer, with what caused it.
-- An MO's entry is written in the MO's own commit (ingest/writer.ts), `pending`: from then on
-- every send obeys it (consent/ledger.ts effectiveStates), while its run is queued or Temporal
-- is down. The run applies it to `subscriptions` (`applied`), or records why not (`skipped`).
-- `id` is the arrival order: consent changes of a customer apply in it, never by a carrier's
-- timestamp.
CREATE TABLE consent_ledger (
  id          bigserial PRIMARY KEY,
  sid         text NOT NULL REFERENCES accounts (sid),
  msisdn      text NOT NULL,
  direction   text NOT NULL CHECK (direction IN ('opt_in', 'opt_out')),
  -- '{*}': all of the account's sender IDs (an opt-in is always to all)
  senders     text[] NOT NULL,
  cause       text NOT NULL CHECK (cause IN ('mo', 'console', 'api', 'operator')),
  log_id      text,
  keyword     text,
  -- how it reached us; NULL for an MO stored before the ledger, whose run wrote its entry
  channel     text CHECK (channel IN ('http', 'smpp', 'console', 'api')),
  via_number  text,
  status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'applied', 'skipped')),
  reason      text,
  -- the sender IDs its application wrote
  written     text[],
  created_at  timestamptz NOT NULL DEFAULT now(),
  applied_at  timestamptz,
  UNIQUE (log_id, sid)
);
CREATE INDEX consent_ledger_customer ON consent_ledger (sid, msisdn, id);
CREATE INDEX consent_ledger_pending ON consent_ledger (sid, msisdn, id) WHERE status = 'pending';
CREATE INDEX consent_ledger_account ON consent_ledger (sid, id);

-- The entry that last changed a row: its place in arrival order. Its own column, not
-- changed_seq: a worker of the version before, still running during a rolling upgrade, keeps
-- writing changed_seq (an MO's seq, in the millions), which must not outrank the ledger's ids.
-- Rows changed before the ledger came before every entry in it (0).
ALTER TABLE subscriptions ADD COLUMN changed_entry bigint NOT NULL DEFAULT 0;
