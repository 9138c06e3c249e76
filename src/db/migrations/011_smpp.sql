-- SPEC §8: SMPP binds to SMSCs, made by operators. The password is stored sealed with
-- SECRETS_KEY (enc:v1:…) and never returned by the API.
CREATE TABLE smpp_connections (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name         text NOT NULL UNIQUE,
  host         text NOT NULL,
  port         integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
  system_id    text NOT NULL,
  password     text NOT NULL,
  system_type  text NOT NULL DEFAULT '',
  bind_type    text NOT NULL CHECK (bind_type IN ('transceiver', 'receiver')),
  tls          boolean NOT NULL DEFAULT false,
  enabled      boolean NOT NULL DEFAULT true,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Each bind is held by one process at a time: a lease taken and renewed by single statements
-- (like dispatch_lease), and the holder's live state, so any process can show it.
CREATE TABLE smpp_binds (
  connection_id  uuid PRIMARY KEY REFERENCES smpp_connections (id) ON DELETE CASCADE,
  holder         text NOT NULL,
  until          timestamptz NOT NULL,
  status         jsonb NOT NULL DEFAULT '{}'
);

-- Parts of concatenated MOs, stored before their deliver_sm is answered so that none is lost
-- to a crash. Joined (and ingested) when all have come or the reassembly timeout passes;
-- `message_id` is then set, and the row kept for the redelivery window, so a part the SMSC
-- delivers again is recognised (its digest is unique) rather than starting a new message.
-- No foreign key: parts of a connection deleted meanwhile are still joined and stored.
CREATE TABLE smpp_parts (
  id             bigserial PRIMARY KEY,
  connection_id  uuid NOT NULL,
  source         text NOT NULL,
  destination    text NOT NULL,
  ref            text NOT NULL,
  total          integer NOT NULL,
  seq            integer NOT NULL,
  data_coding    integer NOT NULL,
  octets         bytea NOT NULL,
  digest         text NOT NULL UNIQUE,
  received_at    timestamptz NOT NULL DEFAULT now(),
  message_id     text
);
CREATE INDEX smpp_parts_open ON smpp_parts (connection_id, source, destination, ref, total) WHERE message_id IS NULL;
CREATE INDEX smpp_parts_open_age ON smpp_parts (received_at) WHERE message_id IS NULL;
CREATE INDEX smpp_parts_joined_age ON smpp_parts (received_at) WHERE message_id IS NOT NULL;

-- Single-part MOs seen within the redelivery window, by digest of what the SMSC sent: the
-- same deliver_sm delivered again maps to the same message id, which ingest stores once.
-- The last single-part MO of each (connection, source, destination): a deliver_sm with the
-- same content as that one, within the redelivery window, is the SMSC delivering it again.
CREATE TABLE smpp_seen (
  digest      text PRIMARY KEY,
  content     text NOT NULL,
  message_id  text NOT NULL,
  first_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX smpp_seen_age ON smpp_seen (first_at);
