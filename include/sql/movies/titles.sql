-- The catalogue: genres as "A|B|C" (a multi-valued categorical) and the release as CREATION_TIMESTAMP,
-- both required by the VIDEO_ON_DEMAND domain (titles without them are dropped and counted).
SELECT title_id                                        AS item_id,
       genres                                          AS genres,
       CAST(EXTRACT(EPOCH FROM released_at) AS BIGINT) AS creation_timestamp
FROM titles
