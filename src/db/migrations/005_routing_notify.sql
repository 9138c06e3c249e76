-- Ingest keeps an in-process routing cache (numbers, their accounts, keyword index, default
-- configuration). Every write that changes routing tells every API process, through NOTIFY,
-- once its transaction commits: the payload is the number whose routing changed, or '*' when
-- any number may be affected (a number added or removed changes how national forms resolve;
-- an account's country changes how its customers' numbers are read).
CREATE FUNCTION notify_routing_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed text;
BEGIN
  IF TG_TABLE_NAME IN ('numbers', 'accounts') THEN
    changed := '*';
  ELSIF TG_OP = 'DELETE' THEN
    changed := OLD.number;
  ELSE
    changed := NEW.number;
  END IF;
  -- Identical notifications within one transaction are delivered once.
  PERFORM pg_notify('routing_changed', changed);
  IF TG_OP = 'UPDATE' AND TG_TABLE_NAME NOT IN ('numbers', 'accounts') AND OLD.number IS DISTINCT FROM NEW.number THEN
    PERFORM pg_notify('routing_changed', OLD.number);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER receive_configs_routing AFTER INSERT OR UPDATE OR DELETE ON receive_configs
  FOR EACH ROW EXECUTE FUNCTION notify_routing_changed();
CREATE TRIGGER config_keywords_routing AFTER INSERT OR UPDATE OR DELETE ON config_keywords
  FOR EACH ROW EXECUTE FUNCTION notify_routing_changed();
CREATE TRIGGER number_accounts_routing AFTER INSERT OR UPDATE OR DELETE ON number_accounts
  FOR EACH ROW EXECUTE FUNCTION notify_routing_changed();
CREATE TRIGGER numbers_routing AFTER INSERT OR UPDATE OR DELETE ON numbers
  FOR EACH ROW EXECUTE FUNCTION notify_routing_changed();
CREATE TRIGGER accounts_routing AFTER UPDATE OF country ON accounts
  FOR EACH ROW EXECUTE FUNCTION notify_routing_changed();
