-- Watch events from the streaming service: one row per title a viewer watched, with their rating.
SELECT viewer_id                                     AS user_id,
       title_id                                      AS item_id,
       CAST(EXTRACT(EPOCH FROM watched_at) AS BIGINT) AS event_ts,
       'watch'                                       AS event_type,
       CAST(rating AS DOUBLE PRECISION)              AS event_value
FROM watch_events
WHERE watched_at >= TIMESTAMP '{{ window.start }}' AND watched_at < TIMESTAMP '{{ window.end }}'
