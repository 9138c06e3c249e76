#!/bin/sh
# The database users of docker-compose.yml: APP_DB_USER (inbound_sms) owns the app's database,
# TEMPORAL_DB_USER (temporal) owns Temporal's two, and neither may connect to the other's. Run as
# the PostgreSQL superuser (PGHOST, PGUSER, PGPASSWORD) on every `docker compose up`: it makes
# what is missing, sets both passwords from the environment (change one in .env, `up` again),
# and hands to its owner whatever an earlier layout, everything as `postgres`, left in a database
# (but for extensions' own objects, which stay as their extension made them).
# Idempotent; any error stops it with a non-zero exit.
set -eu

: "${APP_DB_PASSWORD:?APP_DB_PASSWORD must be set}"
: "${TEMPORAL_DB_PASSWORD:?TEMPORAL_DB_PASSWORD must be set}"
APP_DB_USER=${APP_DB_USER:-inbound_sms}
APP_DB_NAME=${APP_DB_NAME:-inbound_sms}
TEMPORAL_DB_USER=${TEMPORAL_DB_USER:-temporal}
TEMPORAL_DB_NAMES=${TEMPORAL_DB_NAMES:-temporal temporal_visibility}

for user in "$APP_DB_USER" "$TEMPORAL_DB_USER"; do
  if [ "$user" = "${PGUSER:-postgres}" ] || [ "$user" = postgres ]; then
    echo "db-users: $user is the superuser; the app and Temporal need users of their own" >&2
    exit 1
  fi
done
if [ "$APP_DB_USER" = "$TEMPORAL_DB_USER" ]; then
  echo "db-users: APP_DB_USER and TEMPORAL_DB_USER must differ" >&2
  exit 1
fi

run() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# role NAME PASSWORD: a login with no other power.
role() {
  run -d postgres -v name="$1" -v password="$2" <<'SQL'
SELECT format('CREATE ROLE %I', :'name') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'name') \gexec
ALTER ROLE :"name" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'password';
SQL
}

# database NAME OWNER: owned by OWNER, who alone (and the superuser) may connect; every table,
# view, sequence, routine and type in its public schema is OWNER's.
database() {
  run -d postgres -v name="$1" -v owner="$2" <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I', :'name', :'owner') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name') \gexec
ALTER DATABASE :"name" OWNER TO :"owner";
REVOKE CONNECT, TEMPORARY ON DATABASE :"name" FROM PUBLIC;
SQL
  run -d "$1" -v owner="$2" <<'SQL'
SET deploy.owner = :'owner';
DO $$
DECLARE
  target text := current_setting('deploy.owner');
  stmt text;
BEGIN
  -- PostgreSQL 15+ gives the public schema to pg_database_owner (the new owner already); older
  -- clusters gave it to the superuser.
  IF (SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'public') NOT IN ('pg_database_owner', quote_ident(target)) THEN
    EXECUTE format('ALTER SCHEMA public OWNER TO %I', target);
  END IF;
  FOR stmt IN
    SELECT format('ALTER %s %s OWNER TO %I',
                  CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
                  c.oid::regclass, target)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND c.relowner <> quote_ident(target)::regrole
      -- a serial's or identity column's sequence goes with its table
      AND NOT (c.relkind = 'S' AND EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')))
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
    UNION ALL
    SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, target)
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'public' AND p.proowner <> quote_ident(target)::regrole
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
    UNION ALL
    SELECT format('ALTER TYPE %s OWNER TO %I', t.oid::regtype, target)
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'r') AND t.typowner <> quote_ident(target)::regrole
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
  LOOP
    EXECUTE stmt;
  END LOOP;
END $$;
SQL
}

role "$APP_DB_USER" "$APP_DB_PASSWORD"
role "$TEMPORAL_DB_USER" "$TEMPORAL_DB_PASSWORD"
database "$APP_DB_NAME" "$APP_DB_USER"
for name in $TEMPORAL_DB_NAMES; do database "$name" "$TEMPORAL_DB_USER"; done
echo "db-users: $APP_DB_USER owns $APP_DB_NAME; $TEMPORAL_DB_USER owns $TEMPORAL_DB_NAMES"
