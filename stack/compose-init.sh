#!/usr/bin/env bash
# docker-compose's airflow-init: migrate the metadata DB, build the demo warehouse, create the bucket and
# the connections the DAGs read. Idempotent: a connection that exists (perhaps edited in the UI to point
# at real AWS) is left alone.
set -euo pipefail

airflow db migrate

warehouse=/opt/airflow/data/shop.duckdb
if [ ! -f "$warehouse" ]; then
  python -m personalize_pipelines.warehouse.synthetic --interactions "${DEMO_INTERACTIONS:-200000}" \
    --out "$warehouse" >/dev/null
fi

if [ "${WAREHOUSE:-duckdb}" = postgres ]; then
  python - <<'PY'
import os
from personalize_pipelines.warehouse.postgres_copy import copy_to_postgres
copy_to_postgres(duckdb_path="/opt/airflow/data/shop.duckdb", dsn=os.environ["WAREHOUSE_DSN"])
PY
  warehouse_conn='{"conn_type": "postgres", "host": "warehouse", "login": "postgres", "schema": "shop"}'
else
  warehouse_conn="{\"conn_type\": \"duckdb\", \"host\": \"$warehouse\"}"
fi

add_connection() {  # conn_id, JSON
  airflow connections get "$1" >/dev/null 2>&1 || airflow connections add "$1" --conn-json "$2"
}
add_connection warehouse "$warehouse_conn"
if [ -n "${PERSONALIZE_ENDPOINT_URL:-}" ]; then  # empty: real AWS, the endpoint from the region
  endpoint="\"endpoint_url\": \"$PERSONALIZE_ENDPOINT_URL\", "
fi
add_connection aws_default "{\"conn_type\": \"aws\", \"extra\": {${endpoint:-}\"region_name\": \"$AWS_DEFAULT_REGION\"}}"

python - <<'PY'
from personalize_airflow.use_cases import all_use_cases
from airflow.providers.amazon.aws.hooks.s3 import S3Hook

for uc in all_use_cases():
    hook = S3Hook(aws_conn_id=uc.s3.conn_id)
    if not hook.check_for_bucket(uc.s3.bucket):
        hook.create_bucket(bucket_name=uc.s3.bucket)
PY
