-- Ordering of opt-outs, expiry-message sender and DLT fields, and dispatch bookkeeping.

-- Opt-in / opt-out changes apply in the order customers sent them, whatever order their runs
-- happen to execute in: each row remembers the time of the message that last changed it.
-- (changed_at, changed_seq) orders changes: the message's time, then its arrival order, so
-- two messages stamped with the same second still apply in the order they came.
ALTER TABLE subscriptions ADD COLUMN changed_at timestamptz;
UPDATE subscriptions SET changed_at = updated_at;
ALTER TABLE subscriptions ALTER COLUMN changed_at SET NOT NULL, ALTER COLUMN changed_at SET DEFAULT now();
ALTER TABLE subscriptions ADD COLUMN changed_seq bigint NOT NULL DEFAULT 0;
ALTER TABLE subscription_events ADD COLUMN message_at timestamptz;

-- "Does this customer have an older message still waiting to start?" on every ingest.
CREATE INDEX inbound_messages_pending_customer ON inbound_messages (recipient, source, seq) WHERE dispatch_state = 'pending';

-- An expiry message is an SMS of its own: in India it needs a DLT template of its own, so it
-- can name its sender, route and template id instead of borrowing the auto reply's.
ALTER TABLE receive_configs
  ADD COLUMN expiry_sender       text,
  ADD COLUMN expiry_route        text,
  ADD COLUMN expiry_template_id  text;

-- A message whose run Temporal refuses to start (not merely cannot be reached) no longer holds
-- the queue: the dispatcher notes why, moves on, and tries it again on later ticks.
ALTER TABLE inbound_messages
  ADD COLUMN dispatch_attempts  integer NOT NULL DEFAULT 0,
  ADD COLUMN dispatch_error     text;
CREATE INDEX inbound_messages_dispatch_order ON inbound_messages (dispatch_attempts, seq) WHERE dispatch_state = 'pending';
