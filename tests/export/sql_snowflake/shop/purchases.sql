-- include/sql/shop/purchases.sql in Snowflake's dialect: DATE_PART(epoch_second, ...) for EXTRACT(EPOCH FROM ...).
-- Completed purchases, one interaction per order line; EVENT_VALUE is the line's revenue.
SELECT o.customer_id                      AS user_id,
       i.product_id                       AS item_id,
       DATE_PART(epoch_second, o.ordered_at) AS event_ts,
       'purchase'                         AS event_type,
       i.quantity * i.unit_price          AS event_value
FROM orders o
JOIN order_items i ON i.order_id = o.order_id
WHERE o.status = 'completed'
  AND o.ordered_at >= TIMESTAMP '{{ window.start }}'
