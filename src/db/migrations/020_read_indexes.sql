-- Issue 18, reads that do not grow: every filter the list routes (and the console's pages)
-- offer has an index that answers it in the list's own order, so a page costs the same at
-- 1,000 or 1,000,000 messages; keyset cursors resume on the same indexes. Measured at
-- 1,000,000 MOs in one account: docs/benchmarks.md. Plain CREATE INDEX (the migrations run in
-- one transaction, where CONCURRENTLY cannot): writes to each table wait while its index is
-- built, about a second per million rows on two cores.

-- GET /v1/{sid}/logs, newest (seq) first: ?outcome=, ?number= (the recipient), ?keyword= (as
-- upper(keyword), how the route compares it). `inbound_messages_sid (sid, seq DESC)` serves the
-- list without a filter, and seq < cursor.
CREATE INDEX IF NOT EXISTS inbound_messages_sid_outcome ON inbound_messages (sid, outcome, seq);
CREATE INDEX IF NOT EXISTS inbound_messages_sid_recipient ON inbound_messages (sid, recipient, seq);
CREATE INDEX IF NOT EXISTS inbound_messages_sid_keyword ON inbound_messages (sid, upper(keyword), seq);
-- ?since= / ?until=: the window's rows by received_at, with their seq so that a window is
-- counted and sorted from the index alone (api/routes/logs.ts).
CREATE INDEX IF NOT EXISTS inbound_messages_sid_received ON inbound_messages (sid, received_at) INCLUDE (seq);

-- GET /v1/{sid}/deliveries, newest first (created_at DESC, id): the list, ?since=, the cursor.
-- ?status= has deliveries_sid_status, ?profile_id= deliveries_profile; ?log_id= (the console's
-- log page) had none, nor had the foreign key that retention deletes by.
CREATE INDEX IF NOT EXISTS deliveries_sid_created ON deliveries (sid, created_at DESC, id);
CREATE INDEX IF NOT EXISTS deliveries_log ON deliveries (log_id);

-- GET /v1/{sid}/messages (the outbox), newest (seq) first: ?status=, ?channel=. The list has
-- outbox_sid, ?log_id= outbox_log.
CREATE INDEX IF NOT EXISTS outbox_sid_status ON outbox (sid, status, seq);
CREATE INDEX IF NOT EXISTS outbox_sid_channel ON outbox (sid, channel, seq);

-- GET /v1/{sid}/subscriptions, last changed first (updated_at DESC, msisdn, sender_id): the
-- list and its cursor. ?status= has subscriptions_status, ?number= the primary key.
CREATE INDEX IF NOT EXISTS subscriptions_sid_updated ON subscriptions (sid, updated_at DESC, msisdn, sender_id);

-- GET /v1/{sid}/subscriptions/history, newest (id) first: the list, ?status=. ?number= has
-- subscription_events_msisdn.
CREATE INDEX IF NOT EXISTS subscription_events_sid ON subscription_events (sid, id);
CREATE INDEX IF NOT EXISTS subscription_events_sid_status ON subscription_events (sid, status, id);

-- The consent ledger (/subscriptions/ledger, /subscriptions/{msisdn}/history) has its indexes
-- since migration 017: consent_ledger_account (sid, id), consent_ledger_customer (sid, msisdn, id).
-- The dry run's replay reads a number's messages by inbound_messages_recipient_received (014).
