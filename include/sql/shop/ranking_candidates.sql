-- Items to rank for each user in <use_case>__batch: the live products of every category the user viewed
-- in the last {{ active_days }} days, newest first (Personalize ranks each user's first 500).
SELECT viewer.user_id, product.product_id AS item_id
FROM (
    SELECT DISTINCT trim(c.customer_id) AS user_id, p.category
    FROM clickstream c
    JOIN products p ON p.product_id = c.product_id
    WHERE c.event_ts >= {{ active_since_epoch }} AND c.customer_id IS NOT NULL
) viewer
JOIN products product
  ON product.category = viewer.category AND product.created_at < TIMESTAMP '{{ run_at }}'
ORDER BY viewer.user_id, product.created_at DESC, product.product_id
