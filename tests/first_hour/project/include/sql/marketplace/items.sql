-- The listings catalogue as of the window end.
SELECT listing_id                      AS item_id,
       category                        AS category,
       CAST(price AS DOUBLE PRECISION) AS price
FROM listings
WHERE listed_at < TIMESTAMP '{{ window.end }}'
