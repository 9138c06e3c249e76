-- Fair shares (SPEC §5.2; ingest/dispatcher.ts, docs/decisions.md "Fair shares and slow
-- endpoints"): the dispatcher takes each account's oldest pending messages in turn, one index
-- probe per account, instead of the oldest overall, where one account's backlog would come
-- first in full. NULL sid (standard keywords on a shared short code) is one more share.
CREATE INDEX IF NOT EXISTS inbound_messages_pending_account ON inbound_messages (sid, dispatch_attempts, seq) WHERE dispatch_state = 'pending';
