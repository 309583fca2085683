-- Items to find an audience for in <use_case>__segments (aws-item-affinity): this month's 25 most viewed
-- live products, up to the run's moment {{ run_at }} (clickstream timestamps may be milliseconds). For
-- aws-item-attribute-affinity, return a column item_attributes instead, e.g.
-- SELECT DISTINCT 'ITEMS.CATEGORY = "' || category || '"' AS item_attributes FROM products.
SELECT c.product_id AS item_id
FROM clickstream c
JOIN products p ON p.product_id = c.product_id
WHERE CASE WHEN c.event_ts > 100000000000 THEN c.event_ts / 1000 ELSE c.event_ts END
      BETWEEN {{ run_at_epoch }} - 30 * 86400 AND {{ run_at_epoch }}
  AND p.discontinued_note IS NULL
GROUP BY c.product_id
ORDER BY count(*) DESC, c.product_id
LIMIT 25
