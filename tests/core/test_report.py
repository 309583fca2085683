"""The evaluation report (JSON) and its standalone HTML page."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from personalize_pipelines.evaluation import Evaluated, evaluation_html, evaluation_report, publish_evaluation
from personalize_pipelines.gate import decide
from personalize_pipelines.layout import UseCaseLayout
from personalize_pipelines.publish import complete_versions


def model(name, ndcg, **metrics):
    return Evaluated(
        name=name,
        solution_version_arn=f"arn:aws:personalize:us-east-1:1:solution/{name}/v1",
        metrics={
            "ndcg_at_10": ndcg,
            "precision_at_10": ndcg / 2,
            "recall_at_10": ndcg * 2,
            "mrr_at_25": ndcg,
            "coverage": 0.3,
            "users_evaluated": 50,
            "users_missing": 0,
            **metrics,
        },
        recipe="aws-user-personalization",
        batch={"lines": 50, "error_lines": 0},
    )


def report_for(champion, challengers, *, version="v2", when=datetime(2026, 11, 29, tzinfo=UTC)):
    decision = decide(champion=champion, challengers=challengers, min_relative_lift=0.05)
    return evaluation_report(
        use_case="shop",
        export_version=version,
        champion=champion,
        challengers=challengers,
        decision=decision,
        holdout={"users": 50, "rows": 180},
        run_id="manual__1",
        created_at=when,
    )


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_report_is_json_with_every_model_and_the_decision():
    report = report_for(model("champion", 0.08), [model("ease", 0.09), model("sims", 0.05)])
    assert json.loads(json.dumps(report)) == report
    assert report["champion"]["solution_version_arn"].endswith("champion/v1")
    assert [c["name"] for c in report["challengers"]] == ["ease", "sims"]
    assert report["decision"]["promote"] is True and report["decision"]["winner"] == "ease"
    assert report["holdout"] == {"users": 50, "rows": 180}
    assert report["created_at"] == "2026-11-29T00:00:00+00:00"


def test_html_has_an_inline_chart_with_every_model_and_no_scripts_or_network():
    report = report_for(
        model("champion", 0.08), [model("ease", 0.09), model("sims", 0.05), model("pop", 0.02)]
    )
    page = evaluation_html(report)

    parser = Tags()
    parser.feed(page)
    tags = [tag for tag, _ in parser.tags]
    assert "svg" in tags
    bars = [
        attrs
        for tag, attrs in parser.tags
        if tag == "rect" and attrs.get("class") == "bar" and float(attrs["height"]) > 0
    ]
    assert len(bars) == 4 * 5  # four models × five metrics
    for name in ("champion", "ease", "sims", "pop"):
        assert f"solution/{name}/v1" in page
        assert f">{name}<" in page or f"champion: {name}" in page
    assert "PROMOTE" in page and report["decision"]["reason"] in page
    assert "script" not in tags and not any("src" in attrs or "href" in attrs for _, attrs in parser.tags)


def test_the_tallest_bar_is_the_best_value():
    report = report_for(model("champion", 0.08), [model("ease", 0.2)])
    page = evaluation_html(report, chart_metrics=("ndcg_at_10",))
    heights = [
        float(h)
        for h in re.findall(r'<rect class="bar" x="[^"]+" y="[^"]+" width="12" height="([^"]+)"', page)
    ]
    assert heights == sorted(heights) and heights[-1] == 220.0 and heights[0] == 220.0 * 0.08 / 0.2


def test_html_lists_past_runs_and_draws_their_line():
    first = report_for(None, [model("ease", 0.07)], version="v1", when=datetime(2026, 11, 1, tzinfo=UTC))
    second = report_for(
        model("champion", 0.07), [model("ease", 0.071)], version="v2", when=datetime(2026, 11, 8, tzinfo=UTC)
    )
    current = report_for(model("champion", 0.07), [model("sims", 0.09)], version="v3")
    page = evaluation_html(current, history=[first, second])

    assert page.count("<polyline") == 2
    assert page.count("<circle") == 2 + 3  # the first run had no champion; every run had challengers
    assert "2026-11-01" in page and "2026-11-08" in page
    for past in (first, second):
        assert past["export_version"] in page
        assert past["decision"]["reason"] in page
    assert "kept champion" in page and "promoted" in page
    assert "no earlier runs" not in page
    assert "no earlier runs" in evaluation_html(current)


def test_names_are_escaped():
    report = report_for(None, [model("<script>alert(1)</script>", 0.1)])
    page = evaluation_html(report)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_report_and_page_are_published_next_to_the_version(s3, bucket):
    s3.put_object(Bucket=bucket, Key="personalize/shop/v2/manifest.json", Body=b"{}")
    report = report_for(None, [model("ease", 0.1)])
    uris = publish_evaluation(
        s3,
        version=UseCaseLayout(bucket=bucket, prefix="personalize/shop").version("v2"),
        run_key="run-1",
        report=report,
        html_page=evaluation_html(report),
    )
    assert uris == {
        "json": f"s3://{bucket}/personalize/shop/v2/evaluation/run-1/evaluation.json",
        "html": f"s3://{bucket}/personalize/shop/v2/evaluation/run-1/evaluation.html",
    }
    stored = s3.get_object(Bucket=bucket, Key="personalize/shop/v2/evaluation/run-1/evaluation.html")
    assert stored["ContentType"].startswith("text/html") and b"<svg" in stored["Body"].read()
    assert (
        json.loads(
            s3.get_object(Bucket=bucket, Key="personalize/shop/v2/evaluation/run-1/evaluation.json")[
                "Body"
            ].read()
        )
        == report
    )
    assert complete_versions(s3, bucket=bucket, use_case_prefix="personalize/shop") == ["v2"]
    with pytest.raises(ValueError, match="run_key 'a/b'"):
        publish_evaluation(
            s3,
            version=UseCaseLayout(bucket=bucket, prefix="personalize/shop").version("v2"),
            run_key="a/b",
            report=report,
            html_page="",
        )
