-- The dry run's replay (POST /v1/{sid}/receive-configs/dry-run with config and since) reads a
-- number's newest messages since a time: without this index every replay would scan all MOs.
CREATE INDEX inbound_messages_recipient_received ON inbound_messages (recipient, received_at);
