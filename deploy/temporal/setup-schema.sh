#!/bin/sh
# Temporal's schema in its two databases (made, with their owner, by deploy/postgres/db-users.sh),
# brought to the version of this admin-tools image: `setup-schema -v 0.0` only marks a new
# database, `update-schema` applies what is missing, and both are no-ops when done. No error is
# hidden: any failure stops the job with a non-zero exit, and Temporal does not start.
set -eu

: "${POSTGRES_SEEDS:?POSTGRES_SEEDS must be set}"
: "${POSTGRES_USER:?POSTGRES_USER must be set}"
: "${SQL_PASSWORD:?SQL_PASSWORD must be set}"
schema=/etc/temporal/schema/postgresql/v12

for db in "${DBNAME:-temporal}:temporal" "${VISIBILITY_DBNAME:-temporal_visibility}:visibility"; do
  name=${db%%:*}
  dir=${db##*:}
  echo "temporal-schema: $name"
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "${DB_PORT:-5432}" -u "$POSTGRES_USER" --db "$name" setup-schema -v 0.0
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "${DB_PORT:-5432}" -u "$POSTGRES_USER" --db "$name" update-schema -d "$schema/$dir/versioned"
done
echo "temporal-schema: up to date"
