#!/bin/sh
# Waits until the Temporal server reports itself healthy, then makes the namespace (with its
# retention) unless it exists. Every attempt's error is printed; after MAX_ATTEMPTS it exits 1,
# so `docker compose up` names this job and the API and worker, which need the namespace, do
# not start.
set -eu

namespace=${NAMESPACE:-default}
retention=${NAMESPACE_RETENTION:-30d}
address=${TEMPORAL_ADDRESS:-temporal:7233}
max=${MAX_ATTEMPTS:-30}
pause=${SLEEP_SECONDS:-5}

attempt=1
until temporal operator cluster health --address "$address"; do
  if [ "$attempt" -ge "$max" ]; then
    echo "temporal-namespace: the server at $address was not healthy after $max attempts" >&2
    exit 1
  fi
  echo "temporal-namespace: server not healthy yet (attempt $attempt/$max)"
  attempt=$((attempt + 1))
  sleep "$pause"
done

attempt=1
while :; do
  if temporal operator namespace describe --namespace "$namespace" --address "$address" >/dev/null 2>&1; then
    echo "temporal-namespace: $namespace exists"
    exit 0
  fi
  if temporal operator namespace create --namespace "$namespace" --retention "$retention" --address "$address"; then
    echo "temporal-namespace: $namespace created (retention $retention)"
    exit 0
  fi
  if [ "$attempt" -ge "$max" ]; then
    echo "temporal-namespace: could not create $namespace after $max attempts" >&2
    exit 1
  fi
  echo "temporal-namespace: not created yet (attempt $attempt/$max)"
  attempt=$((attempt + 1))
  sleep "$pause"
done
