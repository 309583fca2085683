"""A use case's bucket as the DAGs leave it: two published versions (one failed validation, one
evaluated by a train run), an incomplete one, a champion promoted twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from personalize_pipelines.evaluation import Evaluated, evaluation_html, evaluation_report, publish_evaluation
from personalize_pipelines.gate import decide
from personalize_pipelines.layout import UseCaseLayout
from personalize_pipelines.publish import VersionWriter
from personalize_pipelines.registry import promote

OLD = "20261120T000000Z-20261120T010000-aaaaaa"
NEW = "20261127T000000Z-20261127T010000-bbbbbb"
RUN_KEY = "scheduled__2026-11-27T01-00-00"
CHAMPION_ARN = "arn:aws:personalize:us-east-1:123456789012:solution/shop-up-run2/v2"


@dataclass(frozen=True)
class Seeded:
    layout: UseCaseLayout
    old: str = OLD
    new: str = NEW
    run_key: str = RUN_KEY
    champion_arn: str = CHAMPION_ARN


def _model(name: str, ndcg: float, arn: str) -> Evaluated:
    return Evaluated(
        name=name,
        solution_version_arn=arn,
        metrics={"ndcg_at_10": ndcg, "precision_at_10": ndcg / 2, "recall_at_10": ndcg * 2, "coverage": 0.3},
        recipe="aws-user-personalization",
        batch={"lines": 50, "error_lines": 0},
    )


def _publish(s3, layout: UseCaseLayout, version: str, *, end: str, valid: bool) -> None:
    writer = VersionWriter(client=s3, bucket=layout.bucket, use_case_prefix=layout.prefix, version=version)
    writer.put_bytes(
        "interactions/part-00000.csv", b"USER_ID,ITEM_ID\nu1,i1\n", rows=1, content_type="text/csv"
    )
    writer.commit(
        {
            "use_case": "shop",
            "created_at": f"{end}T01:00:00+00:00",
            "window": {"start": "2026-08-29T00:00:00+00:00", "end": f"{end}T00:00:00+00:00"},
            "datasets": {"interactions": {"rows": 24_512, "parts": 1}, "items": {"rows": 800, "parts": 1}},
            "cleaning": {
                "dropped": {"duplicate": 37, "bot_user": 120, "null_id": 0},
                "items": {"dropped": {"blank_id": 3}},
            },
            "validation": {"success": valid, "suites": {"interactions": valid, "items": True}},
        }
    )


def seed(s3, *, bucket: str, prefix: str = "exports/shop") -> Seeded:
    """Write the use case's objects under ``s3://bucket/prefix/``."""
    layout = UseCaseLayout(bucket=bucket, prefix=prefix)
    _publish(s3, layout, OLD, end="2026-11-20", valid=False)
    _publish(s3, layout, NEW, end="2026-11-27", valid=True)
    s3.put_object(
        Bucket=bucket, Key=f"{prefix}/20261128T000000Z-20261128T010000-cccccc/interactions/x.csv", Body=b""
    )

    location = layout.registry
    first = dict(
        location=location,
        solution_arn="arn:aws:personalize:us-east-1:123456789012:solution/shop-up-run1",
        campaign_arn="arn:aws:personalize:us-east-1:123456789012:campaign/shop",
        recipe="aws-user-personalization",
        dataset_group_arn="arn:aws:personalize:us-east-1:123456789012:dataset-group/shop-run1",
    )
    promote(
        s3,
        **first,
        solution_version_arn="arn:aws:personalize:us-east-1:123456789012:solution/shop-up-run1/v1",
        metrics={"ndcg_at_10": 0.21},
        export_version=OLD,
        now=datetime(2026, 11, 20, 2, tzinfo=UTC),
    )
    champion = _model(
        "user_personalization_v1", 0.21, "arn:aws:personalize:us-east-1:123456789012:solution/shop-up-run1/v1"
    )
    challenger = _model("user_personalization", 0.27, CHAMPION_ARN)
    report = evaluation_report(
        use_case="shop",
        export_version=NEW,
        champion=champion,
        challengers=[challenger],
        decision=decide(champion=champion, challengers=[challenger], min_relative_lift=0.05),
        run_id="scheduled__2026-11-27T01:00:00+00:00",
        created_at=datetime(2026, 11, 27, 2, tzinfo=UTC),
    )
    publish_evaluation(
        s3, version=layout.version(NEW), run_key=RUN_KEY, report=report, html_page=evaluation_html(report)
    )
    promote(
        s3,
        **first,
        solution_version_arn=CHAMPION_ARN,
        metrics={"ndcg_at_10": 0.27},
        export_version=NEW,
        run_id="scheduled__2026-11-27T01:00:00+00:00",
        now=datetime(2026, 11, 27, 3, tzinfo=UTC),
    )
    return Seeded(layout=layout)
