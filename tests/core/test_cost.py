"""Run cost estimates from the API's own figures."""

from __future__ import annotations

import pytest

from personalize_pipelines.cost import Prices, estimate_run_cost


def version(name, hours):
    inner = {"solutionVersionArn": f"arn:aws:personalize:us-east-1:1:solution/{name}/v1", "status": "ACTIVE"}
    if hours is not None:
        inner["trainingHours"] = hours
    return {"solutionVersion": inner}


CAMPAIGN = {
    "campaign": {"campaignArn": "arn:aws:personalize:us-east-1:1:campaign/shop", "minProvisionedTPS": 2}
}


def test_training_campaign_and_batch_are_priced_at_list_prices():
    estimate = estimate_run_cost(
        solution_versions=[version("ease", 1.5), version("sims", 0.25)],
        campaigns=[CAMPAIGN],
        campaign_hours=24,
        batch_users=3000,
    )
    assert [line.usd for line in estimate.lines] == pytest.approx(
        [1.5 * 0.24, 0.25 * 0.24, 2 * 24 * 0.20, 3 * 0.067]
    )
    assert estimate.total_usd == pytest.approx(0.42 + 9.6 + 0.201)
    assert estimate.unpriced == []


def test_prices_are_parameters_and_inner_resources_are_accepted():
    prices = Prices(training_hour=1.0, tps_hour=0.5, batch_per_1000_users=2.0, ingestion_per_gb=0.1)
    estimate = estimate_run_cost(
        solution_versions=[version("ease", 2.0)["solutionVersion"]],
        campaigns=[CAMPAIGN["campaign"]],
        campaign_hours=10,
        batch_users=500,
        ingested_bytes=3_000_000_000,
        prices=prices,
    )
    assert estimate.total_usd == pytest.approx(0.3 + 2.0 + 2 * 10 * 0.5 + 0.5 * 2.0)


def test_a_figure_the_api_did_not_report_is_listed_not_guessed():
    estimate = estimate_run_cost(solution_versions=[version("ease", None), version("sims", 1.0)])
    assert estimate.total_usd == pytest.approx(0.24)
    assert estimate.unpriced == ["training arn:aws:personalize:us-east-1:1:solution/ease/v1"]
    summary = estimate.summary()
    assert "not reported" in summary and "1 line(s) not reported" in summary
    assert summary.startswith("estimated cost (list prices, not a bill)")


def test_serialises_as_an_estimate():
    document = estimate_run_cost(campaigns=[CAMPAIGN], campaign_hours=1).as_dict()
    assert document["estimate"] is True and document["currency"] == "USD"
    assert document["total_usd"] == pytest.approx(0.4)
    assert document["lines"][0]["unit"] == "TPS-hours"


def test_negative_quantities_are_refused():
    with pytest.raises(ValueError, match="campaign_hours"):
        estimate_run_cost(campaign_hours=-1)
