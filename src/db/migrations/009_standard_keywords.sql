-- Standard keywords (SPEC §3.7): STOP, START, HELP and their kin, handled before any
-- configuration on a number where they are on (every number, unless an operator turns them off).
-- The trigger of migration 005 on `numbers` already tells every routing cache of a change.
ALTER TABLE numbers ADD COLUMN standard_keywords boolean NOT NULL DEFAULT true;
-- A number whose configurations already answer one of the words (SPEC §2's own examples use
-- HELP and STOP) keeps them answering: turning the words on there would silently stop those
-- configurations. An operator turns them on once the configurations have moved (the admin
-- PATCH refuses while one still holds a word).
UPDATE numbers n SET standard_keywords = false
WHERE EXISTS (
  SELECT 1 FROM config_keywords k
  WHERE k.number = n.number
    AND k.phrase IN ('STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'OPTOUT', 'REVOKE', 'START', 'YES', 'UNSTOP', 'HELP', 'INFO'));

-- The account's confirmation texts; NULL sends the default (domain/standard-keywords.ts).
ALTER TABLE accounts
  ADD COLUMN opt_out_text  text,
  ADD COLUMN opt_in_text   text,
  ADD COLUMN help_text     text;

ALTER TABLE inbound_messages DROP CONSTRAINT inbound_messages_outcome_check;
ALTER TABLE inbound_messages ADD CONSTRAINT inbound_messages_outcome_check
  CHECK (outcome IN ('keyword', 'expired', 'default', 'standard', 'no_match', 'unknown_number'));

-- On a shared short code a STOP is no one account's: its confirmation is the platform's, with
-- no account, and one message changes the list of every account on the number, so the history
-- keeps one event per account (it kept one per message and sender).
ALTER TABLE outbox ALTER COLUMN sid DROP NOT NULL;
ALTER TABLE subscription_events DROP CONSTRAINT subscription_events_log_id_sender_id_status_key;
ALTER TABLE subscription_events ADD CONSTRAINT subscription_events_log_id_sid_sender_id_status_key
  UNIQUE (log_id, sid, sender_id, status);
