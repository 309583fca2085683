"""validate_in_sql on DuckDB: the contract passes clean data and names every planted defect with counts."""

from __future__ import annotations

import json

import duckdb
import pytest

from personalize_pipelines.validation import (
    ContractViolation,
    SuiteError,
    UnsupportedExpectation,
    validate_in_sql,
)
from personalize_pipelines.validation.suite import parse_suite

from .conftest import PARAMETERS, RAW_COLUMNS, WINDOW_END, interactions, raw_row, raw_rows

TABLE = "stg.interactions_train"


def run(suite, load_duck, duck_query, rows, parameters=PARAMETERS, columns=None):
    table = load_duck(TABLE, rows, columns) if columns else load_duck(TABLE, rows)
    return validate_in_sql(
        suite=suite, table=table, dialect="duckdb", run_query=duck_query, parameters=parameters
    )


def test_clean_interactions_meet_the_contract(contract, load_duck, duck_query):
    result = run(contract, load_duck, duck_query, interactions())

    assert result.success, result.summary()
    assert len(result.results) == len(contract.expectations) == 20
    result.raise_for_contract()
    by_type = {r.type: r for r in result.results}
    assert by_type["expect_table_row_count_to_be_between"].observed_value == 1200
    assert by_type["expect_table_row_count_to_be_between"].kwargs["min_value"] == 1000  # suite default
    assert by_type["unexpected_rows_expectation"].observed_value == 0
    window = by_type["expect_column_values_to_be_between"]
    assert window.kwargs == {
        "column": "TIMESTAMP",
        "min_value": PARAMETERS["window_start"],
        "max_value": WINDOW_END,
    }
    assert (window.element_count, window.unexpected_count, window.unexpected_percent) == (1200, 0, 0.0)


def _replace(rows, index, **changes):
    names = ("USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE", "EVENT_VALUE")
    row = dict(zip(names, rows[index], strict=True))
    row.update(changes)
    rows[index] = tuple(row[n] for n in names)
    return rows


PLANTED = {
    "null user id": (
        lambda: _replace(interactions(), 5, USER_ID=None),
        ["expect_column_values_to_not_be_null (column USER_ID): 1 of 1,200 rows unexpected"],
    ),
    "null item id": (
        lambda: _replace(interactions(), 7, ITEM_ID=None),
        ["expect_column_values_to_not_be_null (column ITEM_ID): 1 of 1,200 rows unexpected"],
    ),
    "300-char item id": (
        lambda: _replace(interactions(), 9, ITEM_ID="x" * 300),
        ["expect_column_value_lengths_to_be_between (column ITEM_ID): 1 of 1,200 rows unexpected", "xxxx"],
    ),
    "empty user id": (
        lambda: _replace(interactions(), 9, USER_ID=""),
        ["expect_column_value_lengths_to_be_between (column USER_ID): 1 of 1,200 rows unexpected"],
    ),
    "timestamps outside the window": (
        lambda: _replace(_replace(interactions(), 0, TIMESTAMP=WINDOW_END + 1), 1, TIMESTAMP=1_600_000_000),
        ["expect_column_values_to_be_between (column TIMESTAMP): 2 of 1,200 rows unexpected", "1600000000"],
    ),
    "unknown event type": (
        lambda: _replace(interactions(), 3, EVENT_TYPE="click"),
        ["expect_column_values_to_be_in_set (column EVENT_TYPE): 1 of 1,200 rows unexpected", "'click'"],
    ),
    "too few rows": (
        lambda: interactions(users=40, per_user=20),
        ["expect_table_row_count_to_be_between", "observed 800", "row count >= 1000"],
    ),
    "too few users with two interactions": (
        # 1,200 rows, but only 20 users have more than one
        lambda: (
            interactions(users=20, per_user=59)
            + [(f"once-{i}", "item-1", 1_700_000_000, "view", None) for i in range(20)]
        ),
        [
            "unexpected_rows_expectation (At least 25 users have 2 or more interactions)",
            "users_with_two=20, required=25",
        ],
    ),
}


@pytest.mark.parametrize("defect", PLANTED, ids=list(PLANTED))
def test_planted_defect_fails_the_contract_naming_expectation_and_counts(
    defect, contract, load_duck, duck_query
):
    make_rows, expected_fragments = PLANTED[defect]
    result = run(contract, load_duck, duck_query, make_rows())

    assert not result.success
    assert len(result.failures) == 1, result.summary()
    with pytest.raises(ContractViolation) as caught:
        result.raise_for_contract()
    message = str(caught.value)
    for fragment in expected_fragments:
        assert fragment in message
    assert caught.value.failures == result.failures


def test_users_with_two_threshold_is_a_parameter(contract, load_duck, duck_query):
    rows = interactions(users=60, per_user=20)
    assert run(contract, load_duck, duck_query, rows, {**PARAMETERS, "min_users_with_two": 60}).success
    strict = run(contract, load_duck, duck_query, rows, {**PARAMETERS, "min_users_with_two": 10_000})
    failed = strict.failures[0]
    assert failed.type == "unexpected_rows_expectation"
    assert failed.description == "At least 10000 users have 2 or more interactions"
    assert failed.details == {"unexpected_rows": [[60, 10_000]]}


def test_missing_column_is_a_named_failure_not_a_crash(contract, load_duck, duck_query):
    columns = '"USER_ID" VARCHAR, "ITEM_ID" VARCHAR, "TIMESTAMP" BIGINT, "EVENT_TYPE" VARCHAR'
    rows = [r[:4] for r in interactions()]
    result = run(contract, load_duck, duck_query, rows, columns=columns)

    assert [r.label for r in result.failures] == [
        "expect_column_to_exist (column EVENT_VALUE)",
        "expect_column_values_to_be_in_type_list (column EVENT_VALUE)",
    ]
    assert "column 'EVENT_VALUE' not found in stg.interactions_train" in result.failures[1].exception
    with pytest.raises(ContractViolation, match="EVENT_VALUE"):
        result.raise_for_contract()


def test_timestamp_must_be_an_integer_type(contract, load_duck, duck_query):
    columns = (
        '"USER_ID" VARCHAR, "ITEM_ID" VARCHAR, "TIMESTAMP" DOUBLE, "EVENT_TYPE" VARCHAR, "EVENT_VALUE" DOUBLE'
    )
    result = run(contract, load_duck, duck_query, interactions(), columns=columns)

    assert [(r.label, r.observed_value) for r in result.failures] == [
        ("expect_column_values_to_be_in_type_list (column TIMESTAMP)", "DOUBLE")
    ]
    with pytest.raises(ContractViolation, match=r"TIMESTAMP\): observed 'DOUBLE'"):
        result.raise_for_contract()


def test_all_null_event_value_is_allowed(contract, load_duck, duck_query):
    rows = [r[:4] + (None,) for r in interactions()]
    assert run(contract, load_duck, duck_query, rows).success


def test_column_checks_run_as_one_scan(contract, load_duck, duck, duck_query):
    load_duck(TABLE, interactions())
    statements = []

    def recording(sql):
        statements.append(sql)
        return duck_query(sql)

    validate_in_sql(suite=contract, table=TABLE, dialect="duckdb", run_query=recording, parameters=PARAMETERS)
    scans = [s for s in statements if f"FROM {TABLE}" in s]
    # one aggregate SELECT for all 13 column/table checks, one for the users-with-two query
    assert len(scans) == 2
    assert len(statements) == 3  # plus the information_schema lookup


def test_mostly_tolerates_a_share_of_nulls(source_quality, load_duck, duck_query):
    def user_id_check(null_user_ids):
        rows = raw_rows(1000, null_user_ids=null_user_ids)
        table = load_duck("stg.raw_events", rows, RAW_COLUMNS)
        result = validate_in_sql(
            suite=source_quality, table=table, dialect="duckdb", run_query=duck_query, parameters=PARAMETERS
        )
        return next(
            r
            for r in result.results
            if r.type == "expect_column_values_to_not_be_null" and r.column == "user_id"
        )

    at_limit = user_id_check(20)  # 2.0 % missing, mostly=0.98
    assert at_limit.success and at_limit.unexpected_count == 20 and at_limit.unexpected_percent == 2.0
    over = user_id_check(21)
    assert not over.success and over.unexpected_count == 21


def test_warn_suite_reports_but_never_raises(source_quality, load_duck, duck_query):
    rows = raw_rows(1000, null_user_ids=300)
    rows += [raw_row("clicks", "u1", None, -5.0, "refund", None)] * 50
    table = load_duck("stg.raw_events", rows, RAW_COLUMNS)
    result = validate_in_sql(
        suite=source_quality, table=table, dialect="duckdb", run_query=duck_query, parameters=PARAMETERS
    )

    failed = {(r.type, r.column): r for r in result.failures}
    assert not result.success
    assert set(failed) == {
        ("expect_column_values_to_not_be_null", "user_id"),
        ("expect_column_values_to_not_be_null", "item_id"),
        ("expect_column_values_to_be_in_set", "event_type_key"),
        ("expect_column_values_to_be_between", "event_ts"),
    }
    assert failed[("expect_column_values_to_be_in_set", "event_type_key")].unexpected_count == 50
    assert (
        failed[("expect_column_values_to_be_in_set", "event_type_key")].partial_unexpected_list[0] == "refund"
    )
    assert all(r.severity == "warn" for r in result.results)
    result.raise_for_contract()  # warn severity: reported only


def test_raw_event_types_match_after_lower_and_trim(source_quality, load_duck, duck_query):
    table = load_duck("stg.raw_events", raw_rows(400), RAW_COLUMNS)
    result = validate_in_sql(
        suite=source_quality, table=table, dialect="duckdb", run_query=duck_query, parameters=PARAMETERS
    )
    assert result.success, result.summary()


def test_unsupported_expectation_type_is_a_clear_error_before_any_query(contract):
    document = json.loads(json.dumps(contract.document))
    document["expectations"].append(
        {"type": "expect_column_kl_divergence_to_be_less_than", "kwargs": {"column": "ITEM_ID"}}
    )
    suite = parse_suite(document)

    def no_query(sql):
        raise AssertionError(f"ran {sql}")

    with pytest.raises(UnsupportedExpectation, match="expect_column_kl_divergence_to_be_less_than"):
        validate_in_sql(suite=suite, table=TABLE, dialect="duckdb", run_query=no_query, parameters=PARAMETERS)


def test_unsupported_kwarg_is_a_clear_error(contract, duck_query):
    document = json.loads(json.dumps(contract.document))
    document["expectations"][5]["kwargs"]["row_condition"] = 'col("EVENT_TYPE") == "view"'
    with pytest.raises(UnsupportedExpectation, match="row_condition"):
        validate_in_sql(
            suite=parse_suite(document),
            table=TABLE,
            dialect="duckdb",
            run_query=duck_query,
            parameters=PARAMETERS,
        )


def test_missing_parameter_is_named(contract, duck_query):
    with pytest.raises(SuiteError, match="event_types"):
        validate_in_sql(
            suite=contract,
            table=TABLE,
            dialect="duckdb",
            run_query=duck_query,
            parameters={"window_start": 0, "window_end": 1},
        )


def test_missing_table_is_named(contract, duck_query):
    with pytest.raises(ValueError, match="stg.nope not found"):
        validate_in_sql(
            suite=contract, table="stg.nope", dialect="duckdb", run_query=duck_query, parameters=PARAMETERS
        )


def test_table_reference_must_be_an_identifier(contract, duck_query):
    with pytest.raises(ValueError, match="not a"):
        validate_in_sql(
            suite=contract,
            table="t; DROP TABLE t",
            dialect="duckdb",
            run_query=duck_query,
            parameters=PARAMETERS,
        )


def test_string_parameters_are_quoted_literals(contract, load_duck, duck_query):
    rows = _replace(interactions(), 0, EVENT_TYPE="it's")
    result = run(
        contract, load_duck, duck_query, rows, {**PARAMETERS, "event_types": ["view", "purchase", "it's"]}
    )
    assert result.success, result.summary()


def test_contract_columns_meet_lower_case_table_columns(contract, load_duck, duck_query):
    # the export's cleaning SQL creates lower-case columns; the contract names them as Personalize does
    columns = "user_id VARCHAR, item_id VARCHAR, timestamp BIGINT, event_type VARCHAR, event_value DOUBLE"
    rows = _replace(interactions(), 4, USER_ID=None)
    result = run(contract, load_duck, duck_query, rows, columns=columns)

    assert [r.label for r in result.failures] == ["expect_column_values_to_not_be_null (column user_id)"]
    assert result.failures[0].unexpected_count == 1


def test_table_in_an_attached_staging_database(tmp_path, contract):
    # the export's DuckDB engine: warehouse attached read-only and in use, staging attached as `stg`
    con = duckdb.connect()
    duckdb.connect(str(tmp_path / "wh.duckdb")).close()
    con.execute(f"ATTACH '{tmp_path / 'wh.duckdb'}' AS wh (READ_ONLY)")
    con.execute(f"ATTACH '{tmp_path / 'stg.duckdb'}' AS stg")
    con.execute("USE wh")
    con.execute(
        "CREATE TABLE stg.main.interactions AS SELECT 'user-' || (i % 50) AS user_id, 'item-' || (i % 70) AS item_id, "
        "CAST(1700000000 + i AS BIGINT) AS timestamp, 'view' AS event_type, CAST(NULL AS DOUBLE) AS event_value "
        "FROM range(1500) r(i)"
    )
    result = validate_in_sql(
        suite=contract,
        table="stg.main.interactions",
        dialect="duckdb",
        run_query=lambda sql: con.execute(sql).fetchall(),
        parameters={**PARAMETERS, "event_types": ["view"]},
    )
    assert result.success, result.summary()
    assert (
        next(r for r in result.results if r.type == "expect_table_row_count_to_be_between").observed_value
        == 1500
    )


def test_a_regex_expectation_matches_anywhere_in_the_value(contract, load_duck, duck_query):
    document = json.loads(json.dumps(contract.document))
    document["expectations"] = [
        {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "USER_ID", "regex": "[0-9]"}},
        {"type": "expect_column_values_to_not_match_regex", "kwargs": {"column": "ITEM_ID", "regex": "^x"}},
    ]
    result = run(parse_suite(document), load_duck, duck_query, interactions())
    assert [r.success for r in result.results] == [True, True]  # ids like u001 hold a digit mid-value
    document["expectations"][0]["kwargs"]["regex"] = "^[0-9]"
    result = run(parse_suite(document), load_duck, duck_query, interactions())
    assert result.results[0].success is False
