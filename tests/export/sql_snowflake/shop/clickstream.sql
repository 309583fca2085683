-- The shop's clickstream, unfiltered as tests/export/conftest.py's sql_root has it, so every timestamp
-- rule sees its rows; the same SQL in Snowflake's dialect.
SELECT customer_id AS user_id, product_id AS item_id, event_ts, event_type FROM clickstream
