-- include/sql/shop/items.sql in Snowflake's dialect: DATE_PART(epoch_second, ...) for EXTRACT(EPOCH FROM ...).
-- The catalogue as of the window end, with derived price band and age.
SELECT product_id                                   AS item_id,
       category                                     AS category,
       brand                                        AS brand,
       CAST(price AS DOUBLE PRECISION)              AS price,
       CASE WHEN price < 20 THEN 'budget'
            WHEN price < 100 THEN 'mid'
            ELSE 'premium' END                      AS price_band,
       CAST(DATE_PART(epoch_second, created_at) AS BIGINT) AS creation_timestamp,
       CAST(floor(({{ window.end_epoch }} - DATE_PART(epoch_second, created_at)) / 86400) AS INTEGER) AS age_days,
       discontinued_note                            AS discontinued_note
FROM products
WHERE created_at < TIMESTAMP '{{ window.end }}'
