-- Sender IDs belong to one account (SPEC §5.2; domain/sender-ids.ts, api/routes/account.ts,
-- api/routes/admin-sender-ids.ts). An alphanumeric sender ID (any letter in it) is held by one
-- account, whatever its case: handsets show ACMEBANK and AcmeBank alike. A numeric one (digits
-- only, as registration stores it) is a number, checked against number_accounts when used, and
-- several accounts on a shared short code may each register it: it stays out of the index.

-- Registrations this migration drops, kept for operators (docs/decisions.md, "Sender ID
-- ownership"): who had registered what, and which account kept it.
CREATE TABLE sender_ids_dropped (
  sid         text NOT NULL,
  sender_id   text NOT NULL,
  created_at  timestamptz NOT NULL,
  kept_sid    text NOT NULL,
  kept_as     text NOT NULL,
  dropped_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (sid, sender_id)
);

-- Duplicates from before: the oldest registration of each sender ID (ties: the lower sid) keeps
-- it; every later one, another account's or the same account's other spelling, is dropped.
WITH ranked AS (
  SELECT sid, sender_id, created_at,
         first_value(sid) OVER w AS kept_sid, first_value(sender_id) OVER w AS kept_as,
         row_number() OVER w AS n
  FROM sender_ids
  WHERE sender_id !~ '^[0-9]+$'
  WINDOW w AS (PARTITION BY upper(sender_id) ORDER BY created_at, sid, sender_id)
)
INSERT INTO sender_ids_dropped (sid, sender_id, created_at, kept_sid, kept_as)
SELECT sid, sender_id, created_at, kept_sid, kept_as FROM ranked WHERE n > 1;

DELETE FROM sender_ids s USING sender_ids_dropped d WHERE s.sid = d.sid AND s.sender_id = d.sender_id;

-- The one rule, enforced where two accounts registering at once cannot both pass it. Queries
-- that look a holder up write the same expression and predicate, so that they use it.
CREATE UNIQUE INDEX sender_ids_one_owner ON sender_ids (upper(sender_id)) WHERE sender_id !~ '^[0-9]+$';

-- The operators' list (GET /v1/admin/sender-ids) pages in this order.
CREATE INDEX sender_ids_by_name ON sender_ids (upper(sender_id), sid);
