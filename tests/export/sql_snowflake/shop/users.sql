-- include/sql/shop/users.sql in Snowflake's dialect: DATE_PART(epoch_second, ...) for EXTRACT(EPOCH FROM ...).
-- Customers who signed up before the window end, with order count, average order value and tenure.
SELECT c.customer_id                                  AS user_id,
       c.region                                       AS region,
       c.loyalty_tier                                 AS loyalty_tier,
       CAST(coalesce(o.order_count, 0) AS INTEGER)    AS order_count,
       CAST(o.avg_order_value AS DOUBLE PRECISION)    AS avg_order_value,
       CAST(floor(({{ window.end_epoch }} - DATE_PART(epoch_second, CAST(c.signup_date AS TIMESTAMP))) / 86400) AS INTEGER)
                                                      AS tenure_days
FROM customers c
LEFT JOIN (
    SELECT o.customer_id,
           count(DISTINCT o.order_id)                                AS order_count,
           sum(i.quantity * i.unit_price) / count(DISTINCT o.order_id) AS avg_order_value
    FROM orders o
    JOIN order_items i ON i.order_id = o.order_id
    WHERE o.status = 'completed' AND o.ordered_at < TIMESTAMP '{{ window.end }}'
    GROUP BY o.customer_id
) o ON o.customer_id = c.customer_id
WHERE CAST(c.signup_date AS TIMESTAMP) < TIMESTAMP '{{ window.end }}'
