-- Callback profiles in full (SPEC §2): endpoint, body template, headers, authentication,
-- encryption, signing secret and status; deliveries keep the request they send, so that a
-- replay sends it again with the same delivery id. See docs/webhooks.md.

ALTER TABLE callback_profiles
  ADD COLUMN http_method                text NOT NULL DEFAULT 'POST' CHECK (http_method IN ('POST', 'GET')),
  ADD COLUMN url                        text NOT NULL DEFAULT '',
  ADD COLUMN body                       jsonb,
  ADD COLUMN content_type               text,
  ADD COLUMN headers                    jsonb NOT NULL DEFAULT '{}',
  -- auth and enc hold their secrets (password, client secret, key, IV): the API never shows them.
  ADD COLUMN auth                       jsonb,
  ADD COLUMN enc                        jsonb,
  ADD COLUMN signing_secret             text NOT NULL
    DEFAULT 'whsec_' || encode(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')), 'base64'),
  -- After a rotation the previous secret signs too, until previous_secret_until.
  ADD COLUMN previous_signing_secret    text,
  ADD COLUMN previous_secret_until      timestamptz,
  ADD COLUMN status                     text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'auto_disabled', 'disabled')),
  ADD COLUMN disabled_reason            text,
  ADD COLUMN disabled_at                timestamptz,
  ADD COLUMN consecutive_failures       integer NOT NULL DEFAULT 0;

-- Profiles saved before this migration had no endpoint: they stay, disabled, until given one.
UPDATE callback_profiles SET status = 'disabled', disabled_reason = 'created without an endpoint url' WHERE url = '';
ALTER TABLE callback_profiles ALTER COLUMN url DROP DEFAULT, ALTER COLUMN signing_secret DROP DEFAULT;

CREATE UNIQUE INDEX callback_profiles_title ON callback_profiles (sid, lower(title));
-- "Is this profile in use?" without scanning every configuration of the account.
CREATE INDEX receive_configs_callback_profile ON receive_configs ((trigger->>'callback_profile_id'))
  WHERE trigger ? 'callback_profile_id';

-- The secret that signs an account's inline trigger URLs (those not through a profile).
CREATE TABLE account_signing_secrets (
  sid                      text PRIMARY KEY REFERENCES accounts(sid),
  signing_secret           text NOT NULL,
  previous_signing_secret  text,
  previous_secret_until    timestamptz,
  created_at               timestamptz NOT NULL DEFAULT now(),
  updated_at               timestamptz NOT NULL DEFAULT now()
);

-- A delivery is the request as first rendered (url, method, non-secret headers, body); the
-- profile's authentication, extra headers and signature are added at each attempt.
-- 'skipped': not sent because its profile is disabled or gone; it can be replayed.
ALTER TABLE deliveries
  ADD COLUMN profile_id       uuid,
  ADD COLUMN request_headers  jsonb NOT NULL DEFAULT '{}',
  ADD COLUMN body             text,
  ADD COLUMN replays          integer NOT NULL DEFAULT 0,
  ADD COLUMN last_attempt_at  timestamptz,
  DROP CONSTRAINT deliveries_status_check,
  ADD CONSTRAINT deliveries_status_check CHECK (status IN ('pending', 'succeeded', 'failed', 'skipped'));
CREATE INDEX deliveries_profile ON deliveries (profile_id, created_at) WHERE profile_id IS NOT NULL;

-- Which round an attempt belongs to: 0 for the first delivery, n for the n-th replay.
ALTER TABLE delivery_attempts ADD COLUMN round integer NOT NULL DEFAULT 0;
