-- Placed orders, one interaction each.
SELECT buyer_ref                       AS user_id,
       listing_ref                     AS item_id,
       EXTRACT(EPOCH FROM placed_at)   AS event_ts,
       'order'                         AS event_type
FROM orders_placed
WHERE placed_at >= TIMESTAMP '{{ window.start }}'
