-- Item-attribute queries for <use_case>__segments with aws-item-attribute-affinity: an audience per category
-- of the live catalogue at the run's moment {{ run_at }} (a batch segment job takes at most 10 queries).
SELECT DISTINCT 'ITEMS.CATEGORY = "' || category || '"' AS item_attributes
FROM products
WHERE discontinued_note IS NULL AND created_at < TIMESTAMP '{{ run_at }}'
ORDER BY 1
LIMIT 10
