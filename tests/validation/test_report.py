"""What a reader of the published result sees: the JSON document and the HTML page."""

from __future__ import annotations

import json
import re

from personalize_pipelines.validation import html_report, validate_in_sql

from .conftest import PARAMETERS, RAW_COLUMNS, interactions, raw_rows


def _failing_contract(contract, load_duck, duck_query):
    rows = interactions()
    rows[0] = (*rows[0][:3], "<script>alert(1)</script>", None)
    table = load_duck("stg.interactions_train", rows)
    return validate_in_sql(
        suite=contract, table=table, dialect="duckdb", run_query=duck_query, parameters=PARAMETERS
    )


def test_html_report_lists_every_expectation_with_its_outcome(contract, load_duck, duck_query):
    result = _failing_contract(contract, load_duck, duck_query)
    page = result.to_html()

    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    rows = re.findall(
        r"<tr><td class=\"num\">(\d+)</td><td><code>([a-z_]+)</code></td><td>([^<]*)</td>", page
    )
    assert [(kind, column) for _, kind, column in rows] == [(r.type, r.column or "") for r in result.results]
    assert page.count('<td><span class="pass">PASS</span></td>') == 19
    assert page.count('<td><span class="fail">FAIL</span></td>') == 1
    assert "1,200" in page  # rows checked
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    assert "At least 25 users have 2 or more interactions" in page


def test_one_page_for_several_suites_marks_warnings_apart(contract, source_quality, load_duck, duck_query):
    contract_result = _failing_contract(contract, load_duck, duck_query)
    table = load_duck("stg.raw_events", raw_rows(1000, null_user_ids=100), RAW_COLUMNS)
    quality = validate_in_sql(
        suite=source_quality, table=table, dialect="duckdb", run_query=duck_query, parameters=PARAMETERS
    )

    page = html_report([quality, contract_result], title="Export 2026-11-29")

    assert page.count("<!DOCTYPE html>") == 1
    assert page.count("<section>") == 2
    assert "<code>source_quality</code>" in page and "<code>personalize_contract</code>" in page
    assert page.count('<td><span class="warn">WARN</span></td>') == 1  # 10 % user_id nulls > 2 % allowed


def test_result_document_is_json_in_gx_shape(contract, load_duck, duck_query):
    result = _failing_contract(contract, load_duck, duck_query)
    document = json.loads(json.dumps(result.to_dict()))

    assert document["success"] is False
    assert document["suite_name"] == "personalize_contract"
    assert document["statistics"] == {
        "evaluated_expectations": 20,
        "successful_expectations": 19,
        "unsuccessful_expectations": 1,
        "success_percent": 19 / 20 * 100,
    }
    assert document["suite_parameters"]["min_interactions"] == 1000
    failed = [r for r in document["results"] if not r["success"]]
    assert failed[0]["expectation_config"]["type"] == "expect_column_values_to_be_in_set"
    assert failed[0]["expectation_config"]["kwargs"]["value_set"] == PARAMETERS["event_types"]
    assert failed[0]["expectation_config"]["severity"] == "critical"
    assert failed[0]["result"]["unexpected_count"] == 1
    assert failed[0]["result"]["partial_unexpected_list"] == ["<script>alert(1)</script>"]
