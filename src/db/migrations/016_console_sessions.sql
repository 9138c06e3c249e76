-- Console sign-ins (src/console/sessions.ts): only the SHA-256 of the session id is kept, so a
-- read of this table cannot be replayed as a cookie. The API key is verified, never stored.
CREATE TABLE console_sessions (
  id_hash     text PRIMARY KEY,
  sid         text NOT NULL REFERENCES accounts (sid) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
