-- Users to score in <use_case>__batch: everyone who viewed, added to cart or bought in the last
-- {{ active_days }} days (clickstream timestamps may be milliseconds: both units pass the bound).
SELECT DISTINCT trim(user_id) AS user_id
FROM (
    SELECT customer_id AS user_id FROM clickstream WHERE event_ts >= {{ active_since_epoch }}
    UNION ALL
    SELECT customer_id AS user_id FROM orders
    WHERE status = 'completed' AND ordered_at >= TIMESTAMP '{{ active_since }}'
) active
WHERE user_id IS NOT NULL AND trim(user_id) <> ''
