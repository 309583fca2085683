"""Cleaning in the warehouse: each planted defect counted by the right rule, valid rows all kept."""

from __future__ import annotations

import pytest

from personalize_pipelines.cleaning import StagingNames
from personalize_pipelines.engines import DuckDBEngine
from personalize_pipelines.export import DataQualityError, ExportContext, drop_staging, stage
from personalize_pipelines.windows import sliding_window
from tests.export import shop_fixture


@pytest.fixture
def engine(tiny_warehouse, tmp_path):
    engine = DuckDBEngine(database=tiny_warehouse, staging_path=tmp_path / "staging" / "run.duckdb")
    yield engine
    engine.close()


def make_ctx(use_case, engine, sql_root, **overrides):
    bots = use_case.cleaning.model_copy(update={"max_events_per_user": shop_fixture.MAX_EVENTS_PER_USER})
    use_case = use_case.model_copy(update={"cleaning": bots, **overrides})
    return ExportContext(
        use_case=use_case,
        window=sliding_window(shop_fixture.WINDOW_END, months=6),
        names=StagingNames(engine.qualifier, "t1"),
        sql_root=sql_root,
    )


def test_each_planted_defect_is_counted_by_its_rule(engine, shop_use_case, sql_root):
    report = stage(engine, make_ctx(shop_use_case, engine, sql_root))

    dropped = {rule: n for rule, n in report["dropped"].items() if n}
    assert dropped == shop_fixture.EXPECTED_DROPS
    assert report["changed"] == shop_fixture.EXPECTED_CHANGES
    assert report["bots"] == {"users": 1, "rows": shop_fixture.BOT_EVENTS}
    assert report["users_below_min"] == 1


def test_valid_rows_are_all_kept_and_every_row_accounted(engine, shop_use_case, sql_root):
    report = stage(engine, make_ctx(shop_use_case, engine, sql_root))

    views = shop_fixture.VALID_USERS * shop_fixture.VIEWS_PER_USER
    kept_odd_rows = 4  # ms timestamp, two messy event types, one padded id
    assert report["train_rows"] == views + shop_fixture.PURCHASES + kept_odd_rows
    assert report["holdout_rows"] == shop_fixture.VALID_USERS * shop_fixture.HOLDOUT_PER_USER
    assert (
        report["raw_rows"] == sum(report["dropped"].values()) + report["train_rows"] + report["holdout_rows"]
    )
    assert (
        report["by_source"]["purchases"]["raw"] == shop_fixture.PURCHASES
    )  # the cancelled order never enters


def test_cleaned_rows_have_the_personalize_shape(engine, shop_use_case, sql_root):
    ctx = make_ctx(shop_use_case, engine, sql_root)
    stage(engine, ctx)

    rows = engine.query(f"SELECT user_id, item_id, timestamp, event_type FROM {ctx.names.interactions}")
    assert {event_type for *_, event_type in rows} == {"View", "AddToCart", "Purchase"}
    assert all(user == user.strip() and len(item) <= 256 for user, item, _, _ in rows)
    assert all(ctx.window.start_epoch <= ts < ctx.window.end_epoch for _, _, ts, _ in rows)
    assert ("u002", "p003", shop_fixture.BASE + 11, "View") in rows  # the millisecond row, converted


def test_items_and_users_are_deduplicated_and_sparse_columns_left_out(engine, shop_use_case, sql_root):
    report = stage(engine, make_ctx(shop_use_case, engine, sql_root))

    assert report["items"]["rows"] == 50  # p999 is created after the window end
    assert report["items"]["dropped"] == {"duplicate_id": 1}
    assert "DISCONTINUED_NOTE" in report["items"]["columns_dropped"]
    assert "DISCONTINUED_NOTE" not in report["items"]["columns"]
    assert report["users"]["dropped"] == {"missing_id": 1}
    assert report["users"]["rows"] == shop_fixture.VALID_USERS


def test_a_defect_rate_above_the_threshold_fails_the_run(engine, shop_use_case, sql_root):
    strict = shop_use_case.cleaning.model_copy(
        update={"max_defect_fraction": 0.001, "max_events_per_user": shop_fixture.MAX_EVENTS_PER_USER}
    )
    with pytest.raises(
        DataQualityError, match=r"cleaning.max_defect_fraction 0.1%.*'missing_user_id': 5"
    ) as err:
        stage(engine, make_ctx(shop_use_case, engine, sql_root, cleaning=strict))
    assert "bot_user" not in str(err.value)


def test_bots_are_a_policy_not_a_defect(engine, shop_use_case, sql_root):
    """200 bot rows are over 1% of the window; the 11 defective rows are not: the run passes."""
    strict = shop_use_case.cleaning.model_copy(
        update={"max_defect_fraction": 0.01, "max_events_per_user": shop_fixture.MAX_EVENTS_PER_USER}
    )
    report = stage(engine, make_ctx(shop_use_case, engine, sql_root, cleaning=strict))
    defective = {rule: n for rule, n in shop_fixture.EXPECTED_DROPS.items() if rule in report["defects"]}
    assert "bot_user" not in defective and report["defect_rows"] == sum(defective.values()) == 11
    assert shop_fixture.BOT_EVENTS / report["in_window_rows"] > 0.01 > report["defect_fraction"]
    assert report["bots"] == {"users": 1, "rows": shop_fixture.BOT_EVENTS}


def test_staging_is_dropped_and_restaging_is_idempotent(engine, shop_use_case, sql_root):
    ctx = make_ctx(shop_use_case, engine, sql_root)
    first = stage(engine, ctx)
    second = stage(engine, ctx)
    assert first == second
    assert len(drop_staging(engine, ctx.names)) == len(ctx.names.all_tables())
    assert engine.staged_tables("r_t1_") == []


def test_a_user_fraction_holdout_takes_each_users_latest_events(engine, shop_use_case, sql_root):
    holdout = shop_use_case.holdout.model_copy(update={"strategy": "user_fraction", "fraction": 0.1})
    ctx = make_ctx(shop_use_case, engine, sql_root, holdout=holdout)
    report = stage(engine, ctx)

    # 33 or 34 events per valid user → floor(10%) = 3 held out; u999's single event is below the minimum
    assert report["holdout_rows"] == shop_fixture.VALID_USERS * 3
    assert report["users_below_min"] == 1
    overlapping = engine.query(
        f"SELECT t.user_id FROM (SELECT user_id, max(timestamp) AS last FROM {ctx.names.interactions} GROUP BY user_id) t "
        f"JOIN (SELECT user_id, min(timestamp) AS first FROM {ctx.names.holdout} GROUP BY user_id) h "
        "ON h.user_id = t.user_id WHERE t.last > h.first"
    )
    assert overlapping == []
    held_users = engine.query(f"SELECT count(DISTINCT user_id) FROM {ctx.names.holdout}")[0][0]
    assert held_users == shop_fixture.VALID_USERS


def test_event_types_are_visible_per_source_and_per_event_type(engine, shop_use_case, sql_root):
    report = stage(engine, make_ctx(shop_use_case, engine, sql_root))

    clicks, purchases = report["by_source"]["clickstream"], report["by_source"]["purchases"]
    assert clicks["unknown_event_types"] == {"wishlist": 1}
    assert purchases["unknown_event_types"] == {}
    assert set(clicks["kept_by_event_type"]) == {"View", "AddToCart"}
    assert purchases["kept_by_event_type"] == {"Purchase": purchases["kept"]}
    published = {t: parts["train"] + parts["holdout"] for t, parts in report["event_types"].items()}
    assert sum(published.values()) == report["train_rows"] + report["holdout_rows"]
    assert (
        report["event_types"]["AddToCart"]["holdout"]
        == shop_fixture.VALID_USERS * shop_fixture.HOLDOUT_PER_USER
    )
    assert report["warnings"] == []


def test_a_mapped_event_type_no_row_has_is_a_warning(engine, shop_use_case, sql_root):
    clicks, purchases = shop_use_case.sources
    wishful = clicks.model_copy(update={"event_types": {**clicks.event_types, "share": "Share"}})
    report = stage(engine, make_ctx(shop_use_case, engine, sql_root, sources=[wishful, purchases]))
    assert report["by_source"]["clickstream"]["kept_by_event_type"]["Share"] == 0
    assert report["warnings"] == ["source 'clickstream': no row in the window is Share (mapped from 'share')"]


def test_a_row_without_a_required_field_is_dropped_under_its_rule_and_the_field_stays(
    engine, shop_use_case, sql_root
):
    fields = [
        f.model_copy(update={"optional": False}) if f.name == "DISCONTINUED_NOTE" else f
        for f in shop_use_case.items.fields
    ]
    items = shop_use_case.items.model_copy(update={"fields": fields})
    report = stage(engine, make_ctx(shop_use_case, engine, sql_root, items=items))

    # only p000 has a note; the other 49 products and p001's duplicate row have none
    assert report["items"]["dropped"] == {"missing_discontinued_note": 50}
    assert report["items"]["rows"] == 1
    assert "DISCONTINUED_NOTE" in report["items"]["columns"] and not report["items"]["columns_dropped"].get(
        "DISCONTINUED_NOTE"
    )


def test_the_recent_cap_keeps_each_users_latest_k_training_rows_and_counts_the_rest(
    engine, shop_use_case, sql_root
):
    uncapped = make_ctx(shop_use_case, engine, sql_root)
    stage(engine, uncapped)
    train = engine.query(f"SELECT user_id, item_id, timestamp, event_type FROM {uncapped.names.interactions}")
    holdout = sorted(engine.query(f"SELECT * FROM {uncapped.names.holdout}"))
    k = 3
    cleaning = uncapped.use_case.cleaning.model_copy(update={"max_recent_events_per_user": k})
    ctx = ExportContext(
        use_case=uncapped.use_case.model_copy(update={"cleaning": cleaning}),
        window=uncapped.window,
        names=StagingNames(engine.qualifier, "t2"),
        sql_root=sql_root,
    )
    report = stage(engine, ctx)

    by_user: dict[str, list[tuple]] = {}
    for row in train:
        by_user.setdefault(row[0], []).append(row)
    expected = {
        row
        for rows in by_user.values()
        for row in sorted(rows, key=lambda r: (r[2], r[1], r[3]), reverse=True)[:k]
    }
    kept = set(engine.query(f"SELECT user_id, item_id, timestamp, event_type FROM {ctx.names.interactions}"))
    assert kept == expected
    over = sum(max(0, len(rows) - k) for rows in by_user.values())
    assert over > 0 and report["dropped"]["beyond_recent_cap"] == over
    assert report["recent_cap"] == {
        "max_recent_events_per_user": k,
        "users": sum(len(rows) > k for rows in by_user.values()),
        "rows": over,
    }
    assert (
        sorted(engine.query(f"SELECT * FROM {ctx.names.holdout}")) == holdout
    )  # the holdout is never capped
    assert "beyond_recent_cap" not in report["defects"]


def test_a_recent_cap_below_the_minimum_is_refused():
    from pydantic import ValidationError

    from personalize_pipelines.config import CleaningSpec

    with pytest.raises(
        ValidationError, match="below min_interactions_per_user 5: every user would be dropped"
    ):
        CleaningSpec(max_recent_events_per_user=3, min_interactions_per_user=5)
