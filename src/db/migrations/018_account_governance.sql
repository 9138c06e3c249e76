-- Account governance and limits (SPEC §5.2; api/routes/admin-accounts.ts, api/limits.ts).
-- A disabled account's routes answer 403 account_disabled; its numbers still take MOs.
-- daily_limit: SMS a day (UTC) through POST /v1/{sid}/messages; NULL: no limit.
ALTER TABLE accounts
  ADD COLUMN active      boolean NOT NULL DEFAULT true,
  ADD COLUMN daily_limit integer CHECK (daily_limit >= 0);

-- The send API's sends per account and UTC day, one row each: the row an upsert locks is what
-- keeps two sends at once from both taking the last slot. One small row per account a day.
CREATE TABLE account_daily_sends (
  sid   text NOT NULL REFERENCES accounts (sid) ON DELETE CASCADE,
  day   date NOT NULL,
  sent  integer NOT NULL CHECK (sent >= 0),
  PRIMARY KEY (sid, day)
);
