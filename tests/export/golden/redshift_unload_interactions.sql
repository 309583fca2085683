UNLOAD ('SELECT user_id, item_id, "timestamp", event_type, event_value FROM personalize_staging.r_k_interactions WHERE event_type = ''View''')
TO 's3://exports-bucket/personalize/shop/v1/interactions/part-'
IAM_ROLE 'arn:aws:iam::123456789012:role/personalize-unload'
FORMAT AS CSV HEADER PARALLEL ON MAXFILESIZE 256 MB EXTENSION 'csv'
