"""The experiment's answer from its rows: the recommendation, the saving, the cadence, the page."""

from __future__ import annotations

import random

from personalize_pipelines.experiment.report import (
    experiment_html,
    experiment_report,
    recommend,
    runs_per_month,
)
from personalize_pipelines.experiment.scoring import bootstrap_intervals, score


def row(months, cap, value, cost, *, solution="personalized", lag=0, rows=1000):
    name = f"w{months:02d}-cap{cap or 'all'}" + (f"-lag{lag}w" if lag else "")
    return {
        "label": f"{name} {solution}",
        "variant": {"months": months, "cap": cap, "lag_weeks": lag, "name": name},
        "solution": solution,
        "rows": rows,
        "users": 10,
        "items": 20,
        "training_hours": cost / 0.24,
        "cost_usd": cost,
        "metrics": {"ndcg_at_10": value, "precision_at_10": 0.1, "recall_at_10": 0.2, "coverage": 0.5},
        "intervals": {m: [0.0, 1.0] for m in ("ndcg_at_10", "precision_at_10", "recall_at_10", "coverage")},
    }


def test_the_cheapest_variant_within_tolerance_is_recommended_with_its_saving():
    rows = [row(12, None, 0.200, 4.0), row(6, None, 0.197, 2.0), row(3, None, 0.190, 1.0)]
    chosen = recommend(rows, metric="ndcg_at_10", tolerance=0.02, runs_a_month=4.0)
    assert chosen["label"] == "w06-capall personalized"  # 3 months is 5% below the best: out of tolerance
    assert chosen["saving_per_run_usd"] == 2.0 and chosen["saving_per_month_usd"] == 8.0
    assert recommend(rows, metric="ndcg_at_10", tolerance=0.10, runs_a_month=None)["label"].startswith("w03")


def test_the_schedule_sets_the_runs_a_month():
    assert runs_per_month("@weekly") == 4 and runs_per_month("@daily") == 30 and runs_per_month(None) is None


def test_the_cadence_says_what_retraining_more_often_buys_and_costs():
    rows = [row(12, None, 0.20, 1.0), row(12, None, 0.19, 1.0, lag=1), row(12, None, 0.15, 1.0, lag=4)]
    report = experiment_report(
        use_case="shop",
        experiment="x",
        params={"metric": "ndcg_at_10", "tolerance": 0.02},
        rows=rows,
        extraction={"shared_seconds": 3.0, "variants": 3, "mean_variant_seconds": 0.5},
        holdout={"users": 10},
        schedule="@weekly",
    )
    assert "retraining weekly instead of every 4 weeks buys +26.7% ndcg_at_10" in report["cadence_statement"]
    page = experiment_html(report)
    assert page.count("<svg") == 2 and "Retraining cadence" in page


def test_bootstrap_intervals_hold_the_mean_and_narrow_with_more_users():
    rng = random.Random(0)
    items = [f"i{i}" for i in range(100)]

    def widths(users):
        recs = {f"u{u}": rng.sample(items[: 30 + u % 50], 25) for u in range(users)}
        relevant = {f"u{u}": frozenset(rng.sample(items, 5)) for u in range(users)}
        scored = score(recs, relevant, catalog=items, samples=500)
        for metric in ("ndcg_at_10", "coverage"):
            low, high = scored["intervals"][metric]
            assert low <= scored["metrics"][metric] <= high, metric
        return scored["intervals"]["ndcg_at_10"][1] - scored["intervals"]["ndcg_at_10"][0]

    assert widths(1000) < widths(50)
    assert bootstrap_intervals({}, {}, catalog=items, samples=100)["coverage"] == [0.0, 0.0]
