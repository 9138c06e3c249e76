-- Accounts, numbers, sender ids, receive configurations, inbound messages (MO logs),
-- their actions, and webhook deliveries with every attempt.

CREATE TABLE accounts (
  sid           text PRIMARY KEY,
  name          text NOT NULL,
  country       char(2) NOT NULL,
  timezone      text NOT NULL DEFAULT 'UTC',
  api_key_hash  text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE numbers (
  number      text PRIMARY KEY,
  kind        text NOT NULL CHECK (kind IN ('long_code', 'short_code')),
  shared      boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE number_accounts (
  number      text NOT NULL REFERENCES numbers(number),
  sid         text NOT NULL REFERENCES accounts(sid),
  assigned_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (number, sid)
);
CREATE INDEX number_accounts_sid ON number_accounts (sid);

CREATE TABLE sender_ids (
  sid         text NOT NULL REFERENCES accounts(sid),
  sender_id   text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (sid, sender_id)
);

CREATE TABLE receive_configs (
  id                uuid PRIMARY KEY,
  sid               text NOT NULL REFERENCES accounts(sid),
  number            text NOT NULL REFERENCES numbers(number),
  is_default        boolean NOT NULL,
  keyword           text,
  aliases           text[] NOT NULL DEFAULT '{}',
  template          text,
  template_names    text[] NOT NULL DEFAULT '{}',
  expires_at_local  text,
  expires_at        timestamptz,
  expiry_message    text,
  auto_reply        jsonb,
  reply_at          timestamptz,
  forward           jsonb,
  trigger           jsonb,
  subscribe         boolean NOT NULL DEFAULT false,
  unsubscribe       jsonb,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX receive_configs_sid ON receive_configs (sid, created_at);
-- SPEC §2: at most one default configuration per number.
CREATE UNIQUE INDEX receive_configs_one_default ON receive_configs (number) WHERE is_default;

-- Keyword and alias phrases, looked up by number and first word: matching never scans
-- every configuration of a number.
CREATE TABLE config_keywords (
  config_id   uuid NOT NULL REFERENCES receive_configs(id) ON DELETE CASCADE,
  number      text NOT NULL,
  sid         text NOT NULL,
  phrase      text NOT NULL,
  first_word  text NOT NULL,
  PRIMARY KEY (config_id, phrase)
);
CREATE INDEX config_keywords_lookup ON config_keywords (number, first_word);

CREATE TABLE inbound_messages (
  id              text PRIMARY KEY,
  seq             bigserial UNIQUE,
  sid             text REFERENCES accounts(sid),
  source          text NOT NULL,
  recipient       text NOT NULL,
  message         text NOT NULL,
  operator        text,
  circle          text,
  received_at     timestamptz NOT NULL,
  keyword         text,
  outcome         text NOT NULL CHECK (outcome IN ('keyword', 'expired', 'default', 'no_match', 'unknown_number')),
  config_id       uuid,
  matched_words   integer NOT NULL DEFAULT 0,
  workflow_id     text,
  -- 'pending' until the workflow start is confirmed by Temporal; 'none' when no run is needed.
  dispatch_state  text NOT NULL CHECK (dispatch_state IN ('none', 'pending', 'started')),
  dispatched_at   timestamptz,
  run_status      text,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbound_messages_sid ON inbound_messages (sid, seq DESC);
CREATE INDEX inbound_messages_pending ON inbound_messages (seq) WHERE dispatch_state = 'pending';

CREATE TABLE message_actions (
  log_id      text NOT NULL REFERENCES inbound_messages(id),
  type        text NOT NULL CHECK (type IN ('trigger', 'auto_reply', 'forward_sms', 'forward_email', 'subscribe', 'unsubscribe', 'expiry_message')),
  status      text NOT NULL CHECK (status IN ('pending', 'scheduled', 'succeeded', 'failed', 'skipped', 'cancelled')),
  attempts    integer NOT NULL DEFAULT 0,
  last_error  text,
  detail      jsonb NOT NULL DEFAULT '{}',
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (log_id, type)
);

CREATE TABLE deliveries (
  id                text PRIMARY KEY,
  sid               text NOT NULL REFERENCES accounts(sid),
  log_id            text NOT NULL REFERENCES inbound_messages(id),
  url               text NOT NULL,
  method            text NOT NULL,
  status            text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempts          integer NOT NULL DEFAULT 0,
  last_status_code  integer,
  last_error        text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deliveries_sid_status ON deliveries (sid, status, created_at);

CREATE TABLE delivery_attempts (
  delivery_id   text NOT NULL REFERENCES deliveries(id),
  attempt       integer NOT NULL,
  status_code   integer,
  latency_ms    integer NOT NULL,
  error         text,
  response_head text,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, created_at);

-- Callback profiles (SPEC §2): a reusable webhook a trigger can name by id.
CREATE TABLE callback_profiles (
  id          uuid PRIMARY KEY,
  sid         text NOT NULL REFERENCES accounts(sid),
  title       text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX callback_profiles_sid ON callback_profiles (sid, created_at);
