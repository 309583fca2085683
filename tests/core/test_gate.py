"""The promotion gate: a challenger replaces the champion only when it earns it."""

from __future__ import annotations

import pytest

from personalize_pipelines.evaluation import Evaluated
from personalize_pipelines.gate import decide


def model(name, ndcg=None, *, evaluated=100, missing=0, **extra):
    metrics = {"users_evaluated": evaluated, "users_missing": missing, **extra}
    if ndcg is not None:
        metrics["ndcg_at_10"] = ndcg
    return Evaluated(
        name=name, solution_version_arn=f"arn:aws:personalize:us-east-1:1:solution/{name}/v", metrics=metrics
    )


def test_first_run_promotes_the_best_challenger():
    decision = decide(
        champion=None, challengers=[model("sims", 0.05), model("ease", 0.09), model("pop", 0.02)]
    )
    assert decision.promote
    assert decision.winner.name == "ease"
    assert decision.reason == "no champion yet: challenger ease ndcg_at_10 0.0900 becomes the champion"


def test_a_worse_challenger_is_not_promoted():
    decision = decide(champion=model("champion", 0.08), challengers=[model("ease", 0.07)])
    assert not decision.promote
    assert decision.winner.name == "ease"
    assert decision.reason == "challenger ease ndcg_at_10 0.0700 does not beat champion 0.0800 (-12.5%)"
    assert decision.relative_lift == pytest.approx(-0.125)


def test_a_better_challenger_is_promoted():
    decision = decide(
        champion=model("champion", 0.08), challengers=[model("ease", 0.07), model("item_knn", 0.1)]
    )
    assert decision.promote
    assert decision.winner.name == "item_knn"
    assert (decision.champion_value, decision.winner_value) == (0.08, 0.1)
    assert decision.reason == "challenger item_knn ndcg_at_10 0.1000 beats champion 0.0800 (+25.0%)"


def test_the_relative_margin_is_respected():
    champion = model("champion", 0.079)
    short = decide(champion=champion, challengers=[model("x", 0.081)], min_relative_lift=0.05)
    assert not short.promote
    assert short.reason == "challenger x ndcg_at_10 0.0810 does not beat champion 0.0790 by 5% (+2.5%)"

    enough = decide(champion=champion, challengers=[model("x", 0.0830)], min_relative_lift=0.05)
    assert enough.promote
    assert enough.reason == "challenger x ndcg_at_10 0.0830 beats champion 0.0790 (+5.1%; required 5%)"


def test_the_absolute_margin_is_respected_too():
    champion = model("champion", 0.10)
    assert not decide(champion=champion, challengers=[model("x", 0.105)], min_absolute_lift=0.01).promote
    assert decide(champion=champion, challengers=[model("x", 0.111)], min_absolute_lift=0.01).promote
    both = decide(
        champion=champion, challengers=[model("x", 0.111)], min_absolute_lift=0.01, min_relative_lift=0.2
    )
    assert not both.promote
    assert "by 20% and 0.01 absolute" in both.reason


def test_a_tie_keeps_the_champion():
    decision = decide(champion=model("champion", 0.08), challengers=[model("x", 0.08)])
    assert not decision.promote
    assert decision.reason == "challenger x ndcg_at_10 0.0800 ties champion 0.0800; a tie keeps the champion"


def test_tied_challengers_are_broken_by_name_and_said_so():
    decision = decide(champion=None, challengers=[model("zeta", 0.05), model("alpha", 0.05)])
    assert decision.winner.name == "alpha"
    assert "tied with zeta; the first by name wins" in decision.reason


def test_a_challenger_missing_the_metric_is_not_eligible():
    decision = decide(
        champion=model("champion", 0.08),
        challengers=[model("broken"), model("nan", float("nan")), model("ok", 0.09)],
    )
    assert decision.promote and decision.winner.name == "ok"
    assert decision.ineligible == {
        "broken": "ndcg_at_10 is missing or not a number",
        "nan": "ndcg_at_10 is missing or not a number",
    }


def test_no_eligible_challenger_promotes_nothing():
    decision = decide(champion=None, challengers=[model("broken")])
    assert not decision.promote and decision.winner is None
    assert decision.reason.startswith(
        "no challenger can be compared on ndcg_at_10 (broken: ndcg_at_10 is missing"
    )


def test_no_challengers_promotes_nothing():
    decision = decide(champion=model("champion", 0.08), challengers=[])
    assert not decision.promote
    assert "no challengers" in decision.reason


def test_a_challenger_without_answers_for_many_users_is_not_eligible():
    decision = decide(
        champion=model("champion", 0.05),
        challengers=[model("flaky", 0.5, missing=30), model("steady", 0.06, missing=5)],
        max_missing_fraction=0.1,
    )
    assert decision.winner.name == "steady" and decision.promote
    assert "no recommendations for 30 of 100 holdout users" in decision.ineligible["flaky"]


def test_an_unmeasurable_champion_is_never_replaced():
    decision = decide(champion=model("champion", 0.2, missing=80), challengers=[model("x", 0.09)])
    assert not decision.promote
    assert decision.winner.name == "x"
    assert decision.reason.startswith(
        "champion champion cannot be compared (no recommendations for 80 of 100"
    )

    without_metric = decide(champion=model("champion"), challengers=[model("x", 0.09)])
    assert not without_metric.promote
    assert "ndcg_at_10 is missing" in without_metric.reason


def test_a_zero_champion_is_beaten_by_any_gain():
    decision = decide(champion=model("champion", 0.0), challengers=[model("x", 0.01)], min_relative_lift=0.5)
    assert decision.promote
    assert decision.relative_lift is None
    assert "(from 0; required 50%)" in decision.reason


def test_another_metric_can_be_gated():
    champion = model("champion", 0.2, precision_at_10=0.01)
    decision = decide(
        champion=champion, challengers=[model("x", 0.1, precision_at_10=0.02)], metric="precision_at_10"
    )
    assert decision.promote and decision.metric == "precision_at_10"


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="min_relative_lift"):
        decide(champion=None, challengers=[model("x", 0.1)], min_relative_lift=-0.1)
    with pytest.raises(ValueError, match="unique"):
        decide(champion=None, challengers=[model("x", 0.1), model("x", 0.2)])


def test_decision_serialises_for_xcom_and_the_report():
    decision = decide(champion=model("champion", 0.08), challengers=[model("x", 0.1)])
    assert decision.as_dict() == {
        "promote": True,
        "winner": "x",
        "winner_solution_version_arn": "arn:aws:personalize:us-east-1:1:solution/x/v",
        "reason": decision.reason,
        "metric": "ndcg_at_10",
        "champion_value": 0.08,
        "winner_value": 0.1,
        "relative_lift": pytest.approx(0.25),
        "ineligible": {},
    }
