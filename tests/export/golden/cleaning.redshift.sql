-- source_scan clickstream
SELECT COUNT(*), SUM(LENGTH(user_id)), SUM(LENGTH(item_id)), SUM(event_ts), SUM(LENGTH(event_type)), SUM(event_value) FROM (SELECT 'clickstream' AS source, CAST(s.user_id AS VARCHAR) AS user_id, CAST(s.item_id AS VARCHAR) AS item_id, CAST(s.event_ts AS DOUBLE PRECISION) AS event_ts, CAST(s.event_type AS VARCHAR) AS event_type, CAST(NULL AS DOUBLE PRECISION) AS event_value FROM (
SELECT * FROM clickstream
) AS s) AS scanned;

-- source_scan purchases
SELECT COUNT(*), SUM(LENGTH(user_id)), SUM(LENGTH(item_id)), SUM(event_ts), SUM(LENGTH(event_type)), SUM(event_value) FROM (SELECT 'purchases' AS source, CAST(s.user_id AS VARCHAR) AS user_id, CAST(s.item_id AS VARCHAR) AS item_id, CAST(s.event_ts AS DOUBLE PRECISION) AS event_ts, CAST(s.event_type AS VARCHAR) AS event_type, CAST(s.event_value AS DOUBLE PRECISION) AS event_value FROM (
SELECT * FROM purchases
) AS s) AS scanned;

-- classify
CREATE TABLE personalize_staging.r_golden_classified AS SELECT source, user_id, item_id, event_ts, event_type_raw, event_value, ts, mapped_event_type AS event_type, CASE WHEN user_id IS NULL OR user_id = '' THEN 'missing_user_id' WHEN item_id IS NULL OR item_id = '' THEN 'missing_item_id' WHEN LENGTH(user_id) > 256 OR LENGTH(item_id) > 256 THEN 'id_too_long' WHEN event_type_norm IS NULL OR event_type_norm = '' THEN 'missing_event_type' WHEN mapped_event_type IS NULL THEN 'unknown_event_type' WHEN ts IS NULL OR ts <= 0 THEN 'invalid_timestamp' WHEN ts < 1777593600 THEN 'before_window' WHEN ts >= 1793491200 THEN 'future_timestamp' END AS drop_rule, was_milliseconds, event_type_changed, id_changed FROM (SELECT source, user_id_raw, item_id_raw, event_ts, event_type_raw, event_type_norm, event_value, user_id, item_id, CAST(FLOOR(CASE WHEN event_ts >= 100000000000.0 THEN event_ts / 1000 ELSE event_ts END) AS BIGINT) AS ts, CASE WHEN source = 'clickstream' AND event_type_norm = 'add_to_cart' THEN 'AddToCart' WHEN source = 'clickstream' AND event_type_norm = 'view' THEN 'View' WHEN source = 'purchases' AND event_type_norm = 'purchase' THEN 'Purchase' END AS mapped_event_type, CASE WHEN event_ts >= 100000000000.0 THEN 1 ELSE 0 END AS was_milliseconds, CASE WHEN event_type_raw <> event_type_norm THEN 1 ELSE 0 END AS event_type_changed, CASE WHEN user_id_raw <> user_id OR item_id_raw <> item_id THEN 1 ELSE 0 END AS id_changed FROM (SELECT source, event_value, event_ts, user_id AS user_id_raw, item_id AS item_id_raw, event_type AS event_type_raw, TRIM(BOTH ' ' || CHR(9) || CHR(10) || CHR(13) FROM user_id) AS user_id, TRIM(BOTH ' ' || CHR(9) || CHR(10) || CHR(13) FROM item_id) AS item_id, LOWER(TRIM(BOTH ' ' || CHR(9) || CHR(10) || CHR(13) FROM event_type)) AS event_type_norm FROM (SELECT 'clickstream' AS source, CAST(s.user_id AS VARCHAR) AS user_id, CAST(s.item_id AS VARCHAR) AS item_id, CAST(s.event_ts AS DOUBLE PRECISION) AS event_ts, CAST(s.event_type AS VARCHAR) AS event_type, CAST(NULL AS DOUBLE PRECISION) AS event_value FROM (
SELECT * FROM clickstream
) AS s UNION ALL SELECT 'purchases' AS source, CAST(s.user_id AS VARCHAR) AS user_id, CAST(s.item_id AS VARCHAR) AS item_id, CAST(s.event_ts AS DOUBLE PRECISION) AS event_ts, CAST(s.event_type AS VARCHAR) AS event_type, CAST(s.event_value AS DOUBLE PRECISION) AS event_value FROM (
SELECT * FROM purchases
) AS s) AS unified) AS stripped) AS normalised;

-- raw_view
CREATE VIEW personalize_staging.r_golden_raw AS SELECT source, user_id, item_id, event_ts, event_type_raw AS event_type, LOWER(TRIM(BOTH ' ' || CHR(9) || CHR(10) || CHR(13) FROM event_type_raw)) AS event_type_key, event_value FROM personalize_staging.r_golden_classified;

-- partition last_days
CREATE TABLE personalize_staging.r_golden_parts AS WITH kept AS (SELECT DISTINCT user_id, item_id, ts AS "timestamp", event_type, event_value FROM personalize_staging.r_golden_classified WHERE drop_rule IS NULL), users AS (SELECT user_id, COUNT(*) AS n, SUM(CASE WHEN "timestamp" < 1792281600 THEN 1 ELSE 0 END) AS train_rows FROM kept GROUP BY user_id) SELECT * FROM (SELECT k.user_id, k.item_id, k."timestamp", k.event_type, k.event_value, CASE WHEN u.n > 1000 THEN 'bot_user' WHEN k."timestamp" >= 1792281600 THEN 'holdout' WHEN u.train_rows < 2 THEN 'below_min_interactions' ELSE 'train' END AS part FROM kept AS k JOIN users AS u ON u.user_id = k.user_id) AS parted;

-- partition user_fraction
CREATE TABLE personalize_staging.r_golden_parts AS WITH kept AS (SELECT DISTINCT user_id, item_id, ts AS "timestamp", event_type, event_value FROM personalize_staging.r_golden_classified WHERE drop_rule IS NULL), users AS (SELECT user_id, COUNT(*) AS n, COUNT(*) - CASE WHEN COUNT(*) >= 2 THEN GREATEST(1, CAST(FLOOR(COUNT(*) * 0.1) AS BIGINT)) ELSE 0 END AS train_rows, CASE WHEN COUNT(*) >= 2 THEN GREATEST(1, CAST(FLOOR(COUNT(*) * 0.1) AS BIGINT)) ELSE 0 END AS holdout_rows FROM kept GROUP BY user_id) SELECT * FROM (SELECT k.user_id, k.item_id, k."timestamp", k.event_type, k.event_value, CASE WHEN u.n > 1000 THEN 'bot_user' WHEN k.rn <= u.holdout_rows THEN 'holdout' WHEN u.train_rows < 2 THEN 'below_min_interactions' ELSE 'train' END AS part FROM (SELECT kept.*, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY "timestamp" DESC, item_id DESC, event_type DESC, event_value DESC) AS rn FROM kept) AS k JOIN users AS u ON u.user_id = k.user_id) AS parted;

-- part_view 0
CREATE VIEW personalize_staging.r_golden_interactions AS SELECT user_id, item_id, "timestamp", event_type, event_value FROM personalize_staging.r_golden_parts WHERE part = 'train';

-- part_view 1
CREATE VIEW personalize_staging.r_golden_holdout AS SELECT user_id, item_id, "timestamp", event_type, event_value FROM personalize_staging.r_golden_parts WHERE part = 'holdout';

-- rule_counts
SELECT source, drop_rule, event_type, COUNT(*), SUM(CASE WHEN drop_rule IS NULL THEN was_milliseconds ELSE 0 END), SUM(CASE WHEN drop_rule IS NULL THEN event_type_changed ELSE 0 END), SUM(CASE WHEN drop_rule IS NULL THEN id_changed ELSE 0 END) FROM personalize_staging.r_golden_classified GROUP BY source, drop_rule, event_type ORDER BY source, drop_rule, event_type;

-- unknown_event_types
SELECT source, event_type_raw, n FROM (SELECT source, event_type_raw, COUNT(*) AS n, ROW_NUMBER() OVER (PARTITION BY source ORDER BY COUNT(*) DESC, event_type_raw) AS rank FROM personalize_staging.r_golden_classified WHERE drop_rule = 'unknown_event_type' GROUP BY source, event_type_raw) AS ranked WHERE rank <= 20 ORDER BY source, rank;

-- event_type_parts
SELECT event_type, part, COUNT(*) FROM personalize_staging.r_golden_parts WHERE part IN ('train', 'holdout') GROUP BY event_type, part ORDER BY event_type, part;

-- part_counts
SELECT part, COUNT(*), COUNT(DISTINCT user_id) FROM personalize_staging.r_golden_parts GROUP BY part ORDER BY part;

-- dataset items
CREATE TABLE personalize_staging.r_golden_items AS SELECT *, CASE WHEN item_id IS NULL OR item_id = '' THEN 'missing_id' WHEN LENGTH(item_id) > 256 THEN 'id_too_long' WHEN dup_rank > 1 THEN 'duplicate_id' END AS drop_rule FROM (SELECT item_id, category, brand, price, price_band, creation_timestamp, age_days, discontinued_note, ROW_NUMBER() OVER (PARTITION BY item_id ORDER BY category, brand, price, price_band, creation_timestamp, age_days, discontinued_note) AS dup_rank FROM (SELECT TRIM(BOTH ' ' || CHR(9) || CHR(10) || CHR(13) FROM CAST(src.item_id AS VARCHAR)) AS item_id, src.category, src.brand, src.price, src.price_band, src.creation_timestamp, src.age_days, src.discontinued_note FROM (
SELECT * FROM items
) AS src) AS trimmed) AS ranked;

-- dataset_counts items
SELECT drop_rule, COUNT(*), SUM(CASE WHEN drop_rule IS NULL AND NOT (category IS NULL OR TRIM(BOTH ' ' || CHR(9) || CHR(10) || CHR(13) FROM category) = '') THEN 1 ELSE 0 END), SUM(CASE WHEN drop_rule IS NULL AND NOT (brand IS NULL OR TRIM(BOTH ' ' || CHR(9) || CHR(10) || CHR(13) FROM brand) = '') THEN 1 ELSE 0 END), SUM(CASE WHEN drop_rule IS NULL AND NOT (price IS NULL) THEN 1 ELSE 0 END), SUM(CASE WHEN drop_rule IS NULL AND NOT (price_band IS NULL OR TRIM(BOTH ' ' || CHR(9) || CHR(10) || CHR(13) FROM price_band) = '') THEN 1 ELSE 0 END), SUM(CASE WHEN drop_rule IS NULL AND NOT (creation_timestamp IS NULL) THEN 1 ELSE 0 END), SUM(CASE WHEN drop_rule IS NULL AND NOT (age_days IS NULL) THEN 1 ELSE 0 END), SUM(CASE WHEN drop_rule IS NULL AND NOT (discontinued_note IS NULL OR TRIM(BOTH ' ' || CHR(9) || CHR(10) || CHR(13) FROM discontinued_note) = '') THEN 1 ELSE 0 END) FROM personalize_staging.r_golden_items GROUP BY drop_rule ORDER BY drop_rule;

-- fingerprint items
SELECT COUNT(*), SUM(STRTOL(SUBSTRING(h FROM 1 FOR 8), 16)), SUM(STRTOL(SUBSTRING(h FROM 9 FOR 8), 16)) FROM (SELECT MD5(COALESCE(CAST(item_id AS VARCHAR), '') || CHR(31) || COALESCE(CAST(category AS VARCHAR), '') || CHR(31) || COALESCE(CAST(brand AS VARCHAR), '') || CHR(31) || COALESCE(CAST(CAST(FLOOR(price * 1000000) AS DECIMAL(38, 0)) AS VARCHAR), '') || CHR(31) || COALESCE(CAST(price_band AS VARCHAR), '') || CHR(31) || COALESCE(CAST(creation_timestamp AS VARCHAR), '') || CHR(31) || COALESCE(CAST(age_days AS VARCHAR), '') || CHR(31) || COALESCE(CAST(discontinued_note AS VARCHAR), '')) AS h FROM personalize_staging.r_golden_items) AS hashed;

-- dataset users
CREATE TABLE personalize_staging.r_golden_users AS SELECT *, CASE WHEN user_id IS NULL OR user_id = '' THEN 'missing_id' WHEN LENGTH(user_id) > 256 THEN 'id_too_long' WHEN dup_rank > 1 THEN 'duplicate_id' END AS drop_rule FROM (SELECT user_id, region, loyalty_tier, order_count, avg_order_value, tenure_days, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY region, loyalty_tier, order_count, avg_order_value, tenure_days) AS dup_rank FROM (SELECT TRIM(BOTH ' ' || CHR(9) || CHR(10) || CHR(13) FROM CAST(src.user_id AS VARCHAR)) AS user_id, src.region, src.loyalty_tier, src.order_count, src.avg_order_value, src.tenure_days FROM (
SELECT * FROM users
) AS src) AS trimmed) AS ranked;

-- dataset_counts users
SELECT drop_rule, COUNT(*), SUM(CASE WHEN drop_rule IS NULL AND NOT (region IS NULL OR TRIM(BOTH ' ' || CHR(9) || CHR(10) || CHR(13) FROM region) = '') THEN 1 ELSE 0 END), SUM(CASE WHEN drop_rule IS NULL AND NOT (loyalty_tier IS NULL OR TRIM(BOTH ' ' || CHR(9) || CHR(10) || CHR(13) FROM loyalty_tier) = '') THEN 1 ELSE 0 END), SUM(CASE WHEN drop_rule IS NULL AND NOT (order_count IS NULL) THEN 1 ELSE 0 END), SUM(CASE WHEN drop_rule IS NULL AND NOT (avg_order_value IS NULL) THEN 1 ELSE 0 END), SUM(CASE WHEN drop_rule IS NULL AND NOT (tenure_days IS NULL) THEN 1 ELSE 0 END) FROM personalize_staging.r_golden_users GROUP BY drop_rule ORDER BY drop_rule;

-- fingerprint users
SELECT COUNT(*), SUM(STRTOL(SUBSTRING(h FROM 1 FOR 8), 16)), SUM(STRTOL(SUBSTRING(h FROM 9 FOR 8), 16)) FROM (SELECT MD5(COALESCE(CAST(user_id AS VARCHAR), '') || CHR(31) || COALESCE(CAST(region AS VARCHAR), '') || CHR(31) || COALESCE(CAST(loyalty_tier AS VARCHAR), '') || CHR(31) || COALESCE(CAST(order_count AS VARCHAR), '') || CHR(31) || COALESCE(CAST(CAST(FLOOR(avg_order_value * 1000000) AS DECIMAL(38, 0)) AS VARCHAR), '') || CHR(31) || COALESCE(CAST(tenure_days AS VARCHAR), '')) AS h FROM personalize_staging.r_golden_users) AS hashed;

-- fingerprint interactions
SELECT COUNT(*), SUM(STRTOL(SUBSTRING(h FROM 1 FOR 8), 16)), SUM(STRTOL(SUBSTRING(h FROM 9 FOR 8), 16)) FROM (SELECT MD5(COALESCE(CAST(user_id AS VARCHAR), '') || CHR(31) || COALESCE(CAST(item_id AS VARCHAR), '') || CHR(31) || COALESCE(CAST("timestamp" AS VARCHAR), '') || CHR(31) || COALESCE(CAST(event_type AS VARCHAR), '') || CHR(31) || COALESCE(CAST(CAST(FLOOR(event_value * 1000000) AS DECIMAL(38, 0)) AS VARCHAR), '')) AS h FROM personalize_staging.r_golden_interactions) AS hashed;

