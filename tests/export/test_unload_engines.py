"""Redshift's and Snowflake's engines in unload mode: the statement each sends (the golden ones of
tests/export/test_unload.py) and how what the warehouse reports becomes the parts' S3 keys and rows.

No Redshift or Snowflake runs here, and neither Postgres nor fakesnow unloads to S3, so the connection is a
recording stand-in answering with rows shaped as ``stl_unload_log`` and COPY INTO's DETAILED_OUTPUT are
documented to be; publishing from those parts is tests/export/test_unload.py's.
"""

from __future__ import annotations

import pytest

from personalize_pipelines.engines import RedshiftEngine, SnowflakeEngine
from personalize_pipelines.unload import (
    REDSHIFT_UNLOADED_SQL,
    UnloadedPart,
    UnloadError,
    redshift_unload_sql,
    snowflake_unload_sql,
)

SELECT = "SELECT user_id, item_id FROM stg.r_k_interactions"
FOLDER = "s3://exports-bucket/personalize/shop/v1/interactions/"


class Recording:
    """A DB-API connection that records each statement and answers from ``answers`` (SQL prefix → rows)."""

    def __init__(self, answers: dict[str, list[tuple]]) -> None:
        self.answers, self.statements, self.autocommit = answers, [], False

    def cursor(self):
        return _Cursor(self)

    def close(self) -> None:
        pass


class _Cursor:
    def __init__(self, connection: Recording) -> None:
        self.connection, self.rows = connection, []

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def execute(self, sql: str) -> None:
        self.connection.statements.append(sql)
        self.rows = next(
            (rows for prefix, rows in self.connection.answers.items() if sql.startswith(prefix)), []
        )

    def fetchall(self) -> list[tuple]:
        return self.rows


def test_redshift_unloads_through_its_role_and_reports_stl_unload_log():
    connection = Recording(
        {
            REDSHIFT_UNLOADED_SQL: [
                (FOLDER + "part-0000_part_00.csv   ", 600),  # stl_unload_log's path is blank-padded
                (FOLDER + "part-0001_part_00.csv   ", 644),
            ]
        }
    )
    role = "arn:aws:iam::123456789012:role/personalize-unload"
    engine = RedshiftEngine(connection=connection, unload_iam_role=role)

    parts = engine.unload(SELECT, uri_prefix=FOLDER)

    assert engine.can_unload
    assert connection.statements[-2:] == [
        redshift_unload_sql(SELECT, uri_prefix=FOLDER, iam_role=role),
        REDSHIFT_UNLOADED_SQL,
    ]
    assert parts == [
        UnloadedPart(key="personalize/shop/v1/interactions/part-0000_part_00.csv", rows=600),
        UnloadedPart(key="personalize/shop/v1/interactions/part-0001_part_00.csv", rows=644),
    ]
    assert not RedshiftEngine(connection=Recording({})).can_unload  # no role: rows stream


def test_snowflake_copies_into_its_stage_below_the_stage_url():
    connection = Recording(
        {
            "SELECT current_schema()": [("PUBLIC",)],
            "COPY INTO": [
                ("personalize/shop/v1/interactions/part_0_0_0.csv", 51_200, 1244),
            ],
        }
    )
    engine = SnowflakeEngine(
        connection=connection, unload_stage="ANALYTICS.PUBLIC.EXPORTS", unload_stage_url="s3://exports-bucket"
    )

    parts = engine.unload(SELECT, uri_prefix=FOLDER)

    assert engine.can_unload
    assert connection.statements[-1] == snowflake_unload_sql(
        SELECT, stage="ANALYTICS.PUBLIC.EXPORTS", path="personalize/shop/v1/interactions/"
    )
    assert parts == [UnloadedPart(key="personalize/shop/v1/interactions/part_0_0_0.csv", rows=1244)]
    with pytest.raises(
        UnloadError, match="not under stage ANALYTICS.PUBLIC.EXPORTS's URL s3://exports-bucket/"
    ):
        engine.unload(SELECT, uri_prefix="s3://another-bucket/v1/interactions/")
    with pytest.raises(ValueError, match="go together"):
        SnowflakeEngine(connection=connection, unload_stage="ANALYTICS.PUBLIC.EXPORTS")
