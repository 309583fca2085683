"""A video-on-demand warehouse in DuckDB from MovieLens' ratings, for the ``movies`` example use case.

`build(path, source=<folder with ratings.csv and movies.csv>, end=...)` writes the two tables a streaming
service has:

    watch_events(viewer_id, title_id, watched_at TIMESTAMP, rating DOUBLE)   -- one row per rating
    titles(title_id, title, genres, released_at TIMESTAMP)

Each rating is a title watched. MovieLens' ratings span 1996–2018; their timestamps are mapped
linearly onto the ``months`` before ``end`` (order and relative gaps kept, the last one a day before
``end``), so a 12-month export window holds all of them. ``genres`` keeps MovieLens' ``A|B|C`` form
(Personalize's multi-valued categorical), NULL for "(no genres listed)"; ``released_at`` is 1 January of
the year in the title, NULL when the title has none — the export drops and counts those titles, since
the VIDEO_ON_DEMAND domain requires GENRES and CREATION_TIMESTAMP.

The data is GroupLens' (see README.txt beside the CSVs: redistribution under the same non-commercial
license, citation asked).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

DAY_SECONDS = 86_400


def build(path: Path, *, source: Path, end: datetime, months: int = 12) -> Path:
    """Write the warehouse to ``path`` (replaced if present) and return it."""
    import duckdb

    ratings, movies = source / "ratings.csv", source / "movies.csv"
    for required in (ratings, movies):
        if not required.is_file():
            raise FileNotFoundError(
                f"{required} is missing: the movies warehouse is built from MovieLens CSVs"
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    last = int((end.astimezone(UTC) - timedelta(days=1)).timestamp())
    span = months * 30 * DAY_SECONDS - 2 * DAY_SECONDS
    con = duckdb.connect(str(path))
    try:
        con.execute(
            f"""
            CREATE TABLE watch_events AS
            WITH bounds AS (SELECT min(timestamp) AS first, max(timestamp) AS last FROM read_csv_auto('{ratings}'))
            SELECT CAST(userId AS VARCHAR) AS viewer_id, CAST(movieId AS VARCHAR) AS title_id,
                   make_timestamp(CAST(({last} - (bounds.last - timestamp) * {span}.0
                                        / greatest(bounds.last - bounds.first, 1)) * 1000000 AS BIGINT))
                       AS watched_at,
                   CAST(rating AS DOUBLE) AS rating
            FROM read_csv_auto('{ratings}'), bounds
            ORDER BY watched_at, viewer_id, title_id
            """
        )
        con.execute(
            f"""
            CREATE TABLE titles AS
            SELECT CAST(movieId AS VARCHAR) AS title_id, title,
                   CASE WHEN genres = '(no genres listed)' THEN NULL ELSE genres END AS genres,
                   CASE WHEN regexp_matches(title, '\\((\\d{{4}})\\)\\s*$')
                        THEN make_timestamp(CAST(regexp_extract(title, '\\((\\d{{4}})\\)\\s*$', 1) AS BIGINT), 1, 1,
                                            0, 0, 0)
                   END AS released_at
            FROM read_csv_auto('{movies}', quote='"')
            ORDER BY movieId
            """
        )
    finally:
        con.close()
    return path
