-- Items to cache related items for in <use_case>__batch: the live catalogue.
SELECT DISTINCT product_id AS item_id
FROM products
WHERE product_id IS NOT NULL AND created_at < TIMESTAMP '{{ run_at }}'
