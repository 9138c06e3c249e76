-- Delivery reports (SPEC §6 POST /v1/delivery-reports, §8): each status an SMS was reported in,
-- once. A gateway's retry or a duplicate receipt finds its row and changes nothing, so a report
-- counts once however often it comes.
CREATE TABLE delivery_reports (
  outbox_id    text NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
  status       text NOT NULL,          -- upper case; Kannel's numeric DLR types by name
  final        boolean NOT NULL,       -- delivered or undelivered (domain/delivery-reports.ts)
  error_code   text,
  reported_at  timestamptz,            -- the gateway's time, when it gave one it could read
  received_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (outbox_id, status)
);

-- The latest report on the SMS itself, beside delivery_status.
ALTER TABLE outbox
  ADD COLUMN delivery_error_code text,
  ADD COLUMN delivery_reported_at timestamptz;
