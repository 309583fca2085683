"""The Personalize page's data, read from a real S3 API as the DAGs leave a use case's bucket."""

from __future__ import annotations

from personalize_pipelines.layout import UseCaseLayout
from personalize_pipelines.overview import evaluation_page, is_safe_name, use_case_overview
from tests.ui.seed import seed


def test_versions_newest_first_with_window_rows_drops_and_validation(s3, bucket):
    seeded = seed(s3, bucket=bucket)
    overview = use_case_overview(s3, use_case="shop", layout=seeded.layout)

    assert [v.name for v in overview.versions] == [seeded.new, seeded.old]  # the incomplete one is left out
    new, old = overview.versions
    assert new.window["end"] == "2026-11-27T00:00:00+00:00"
    assert new.rows == {"interactions": 24_512, "items": 800}
    assert new.dropped == {
        "interactions": {"duplicate": 37, "bot_user": 120, "null_id": 0},
        "items": {"blank_id": 3},
    }
    assert (new.validation_success, old.validation_success) == (True, False)
    assert old.suites == {"interactions": False, "items": True}
    assert overview.uri == f"s3://{bucket}/exports/shop/"


def test_each_train_run_evaluation_of_a_version(s3, bucket):
    seeded = seed(s3, bucket=bucket)
    new, old = use_case_overview(s3, use_case="shop", layout=seeded.layout).versions

    assert old.evaluations == []
    (evaluation,) = new.evaluations
    assert evaluation.run_key == seeded.run_key
    assert evaluation.promote is True
    assert evaluation.winner == "user_personalization"
    assert evaluation.champion == "user_personalization_v1"
    assert evaluation.metric == "ndcg_at_10"


def test_champion_and_history_newest_first(s3, bucket):
    seeded = seed(s3, bucket=bucket)
    overview = use_case_overview(s3, use_case="shop", layout=seeded.layout)

    assert overview.champion.solution_version_arn == seeded.champion_arn
    assert overview.champion.export_version == seeded.new
    assert [c.export_version for c in overview.history] == [seeded.new, seeded.old]
    assert overview.history[0].previous_solution_version_arn == overview.history[1].solution_version_arn


def test_a_use_case_nothing_was_published_for(s3, bucket):
    overview = use_case_overview(
        s3, use_case="shop", layout=UseCaseLayout(bucket=bucket, prefix="exports/shop")
    )
    assert (overview.versions, overview.champion, overview.history) == ([], None, [])


def test_the_evaluation_page_from_s3(s3, bucket):
    seeded = seed(s3, bucket=bucket)
    page = evaluation_page(s3, layout=seeded.layout, version=seeded.new, run_key=seeded.run_key)
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert evaluation_page(s3, layout=seeded.layout, version=seeded.old, run_key=seeded.run_key) is None


def test_names_that_are_not_a_version_or_run_key_read_nothing(s3, bucket):
    seeded = seed(s3, bucket=bucket)
    for name in ("..", ".", "a/b", "", "x" * 129):
        assert not is_safe_name(name)
        assert evaluation_page(s3, layout=seeded.layout, version=name, run_key=seeded.run_key) is None
    assert is_safe_name(seeded.new) and is_safe_name(seeded.run_key)
