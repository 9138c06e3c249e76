-- Every SMS and email the platform sends, whichever provider delivered it (SPEC §7), and the
-- opt-in / opt-out list with its history (SPEC §2 subscribe / unsubscribe).

CREATE TABLE outbox (
  id                   text PRIMARY KEY,          -- the idempotency key: one send per key
  seq                  bigserial UNIQUE,
  sid                  text NOT NULL REFERENCES accounts(sid),
  log_id               text REFERENCES inbound_messages(id),
  channel              text NOT NULL CHECK (channel IN ('sms', 'email')),
  purpose              text NOT NULL CHECK (purpose IN ('auto_reply', 'expiry_message', 'forward_sms', 'forward_email', 'api')),
  sender               text NOT NULL,
  recipient            text NOT NULL,
  subject              text,
  body                 text NOT NULL,
  route                text,
  template_id          text,
  provider             text NOT NULL,
  -- queued → sending → sent | failed; stored = kept in the outbox only (no SMTP server);
  -- delivered / undelivered come from delivery reports.
  status               text NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'stored', 'failed', 'delivered', 'undelivered')),
  attempts             integer NOT NULL DEFAULT 0,
  provider_message_id  text,
  provider_response    jsonb,
  last_error           text,
  delivery_status      text,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_sid ON outbox (sid, seq DESC);
CREATE INDEX outbox_log ON outbox (log_id);
CREATE INDEX outbox_provider_message ON outbox (provider_message_id);

-- Current state per account, customer and sender ID; sender_id '*' stands for every sender ID
-- of the account, those registered later included.
CREATE TABLE subscriptions (
  sid         text NOT NULL REFERENCES accounts(sid),
  msisdn      text NOT NULL,
  sender_id   text NOT NULL,
  status      text NOT NULL CHECK (status IN ('subscribed', 'unsubscribed')),
  via_number  text,
  log_id      text,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (sid, msisdn, sender_id)
);
CREATE INDEX subscriptions_status ON subscriptions (sid, status, updated_at DESC);

CREATE TABLE subscription_events (
  id          bigserial PRIMARY KEY,
  sid         text NOT NULL REFERENCES accounts(sid),
  msisdn      text NOT NULL,
  sender_id   text NOT NULL,
  status      text NOT NULL CHECK (status IN ('subscribed', 'unsubscribed')),
  via_number  text,
  log_id      text,
  -- one event per message and sender: a retried activity does not write history twice
  UNIQUE (log_id, sender_id, status),
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscription_events_msisdn ON subscription_events (sid, msisdn, id);
