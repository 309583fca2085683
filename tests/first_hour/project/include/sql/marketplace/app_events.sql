-- Taps, views, saves and contacts from the marketplace app. occurred_ms is the device's clock in epoch
-- milliseconds (cleaning converts it); the table is read by arrival (received_ms, the server's clock),
-- so a device clock before the window, after its end or missing reaches cleaning and is counted there.
SELECT member      AS user_id,
       listing     AS item_id,
       occurred_ms AS event_ts,
       action      AS event_type
FROM app_events
WHERE received_ms >= {{ window.start_epoch_ms }}
