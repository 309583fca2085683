-- Interactions for <use_case>__events, from {{ since_epoch }} (epoch seconds, ties included) on.
-- Raw event types are mapped by the use case's sources; milliseconds are converted by the DAG.
SELECT customer_id AS user_id,
       product_id  AS item_id,
       event_ts,
       event_type,
       CAST(NULL AS DOUBLE PRECISION) AS event_value,
       session_id
FROM clickstream
WHERE event_ts >= {{ since_epoch }}
UNION ALL
SELECT o.customer_id,
       i.product_id,
       CAST(EXTRACT(EPOCH FROM o.ordered_at) AS BIGINT),
       'purchase',
       CAST(i.quantity * i.unit_price AS DOUBLE PRECISION),
       o.order_id
FROM orders o
JOIN order_items i ON i.order_id = o.order_id
WHERE o.status = 'completed'
  AND EXTRACT(EPOCH FROM o.ordered_at) >= {{ since_epoch }}
