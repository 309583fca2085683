-- Views and add-to-cart events from the web clickstream.
-- event_ts is epoch seconds, except where a client sent milliseconds: the cleaning step converts
-- those (and counts them), so this query bounds only the window start, which holds in both units.
SELECT customer_id AS user_id,
       product_id  AS item_id,
       event_ts,
       event_type
FROM clickstream
WHERE event_ts >= {{ window.start_epoch }}
