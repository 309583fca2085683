COPY INTO @analytics.public.personalize_exports/personalize/shop/v1/interactions/part
FROM (SELECT user_id, item_id, timestamp, event_type, event_value FROM personalize_staging.r_k_interactions)
FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE FIELD_OPTIONALLY_ENCLOSED_BY = '"' NULL_IF = ('') FILE_EXTENSION = 'csv')
HEADER = TRUE MAX_FILE_SIZE = 268435456 DETAILED_OUTPUT = TRUE
