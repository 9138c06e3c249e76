-- SPEC §5 gateways: each carrier connection that delivers MOs (and delivery reports) has its
-- own credential, made by an operator. INGEST_TOKEN stays the default gateway, which has no
-- row: a NULL gateway_id anywhere means the default one. The token is shown once and only its
-- SHA-256 kept, like an account's api key. Gateways are revoked, never deleted, so the
-- messages they delivered keep naming them.
CREATE TABLE gateways (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL UNIQUE,
  token_hash  text NOT NULL UNIQUE,
  numbers     text[],                 -- NULL: any number; else the only recipients it may send to
  revoked_at  timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Which gateway delivered the MO. Carrier ids are unique per gateway: a non-default gateway's
-- messages are stored as gw:<gateway id>:<carrier id> (domain/gateways.ts), so the primary key
-- still says "once per gateway" and the default gateway's ids stay as they were.
ALTER TABLE inbound_messages ADD COLUMN gateway_id uuid REFERENCES gateways (id);

-- An SMPP bind belongs to a gateway too (NULL: the default one).
ALTER TABLE smpp_connections ADD COLUMN gateway_id uuid REFERENCES gateways (id);

-- API processes cache gateways by token hash; any change (a revocation above all) tells every
-- process on commit, so a revoked token stops working everywhere at once.
CREATE FUNCTION notify_gateways_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('gateways_changed', '*');
  RETURN NULL;
END $$;

CREATE TRIGGER gateways_changed AFTER INSERT OR UPDATE OR DELETE ON gateways
  FOR EACH STATEMENT EXECUTE FUNCTION notify_gateways_changed();
