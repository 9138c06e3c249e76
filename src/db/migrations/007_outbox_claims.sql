-- A send's claim belongs to one attempt and lasts only while that attempt is alive: the
-- sending process renews claim_until every few seconds, so a killed worker's claim lapses
-- within seconds, and a later attempt of the same send (claim_attempt higher) takes it over
-- at once, since Temporal only starts a new attempt once the last one has failed or timed out.
ALTER TABLE outbox
  ADD COLUMN claim_attempt integer,
  ADD COLUMN claim_until   timestamptz;
