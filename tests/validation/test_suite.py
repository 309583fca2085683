"""Suite files: clear errors naming the file and field; parameters; no GX import on the way."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from personalize_pipelines.validation import SuiteError, load_suite
from personalize_pipelines.validation.suite import parse_suite, render_query_parameters

from .conftest import PARAMETERS, SUITES


def _write(tmp_path, document):
    path = tmp_path / "suite.json"
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return path


def _minimal(**changes):
    document = {
        "name": "s",
        "meta": {"severity": "fail"},
        "expectations": [{"type": "expect_column_to_exist", "kwargs": {"column": "a"}}],
    }
    document.update(changes)
    return document


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{not json", "not valid JSON"),
        (_minimal(name=""), "field 'name'"),
        (_minimal(meta={"severity": "fatal"}), "meta.severity must be one of"),
        (_minimal(expectations=[]), "field 'expectations' must be a non-empty list"),
        (
            _minimal(expectations=[{"type": "expect_column_to_exist"}]),
            r"expectations\[0\] \(expect_column_to_exist\): field 'kwargs'",
        ),
        (
            _minimal(expectations=[{"type": "x", "kwargs": {}, "mostly": 0.5}]),
            r"expectations\[0\]: unknown field\(s\) \['mostly'\]",
        ),
        (
            _minimal(
                expectations=[
                    {"type": "unexpected_rows_expectation", "kwargs": {"unexpected_rows_query": "SELECT '{'"}}
                ]
            ),
            "unexpected_rows_query has a malformed brace",
        ),
    ],
)
def test_bad_suite_file_names_file_and_field(tmp_path, document, message):
    path = _write(tmp_path, document)
    with pytest.raises(SuiteError, match=message) as caught:
        load_suite(path)
    assert str(path) in str(caught.value)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(SuiteError, match="nope.json: suite file not found"):
        load_suite(tmp_path / "nope.json")


def test_shipped_suites_declare_severity_and_defaults():
    contract = load_suite(SUITES / "personalize_contract.json")
    quality = load_suite(SUITES / "source_quality.json")
    assert (contract.severity, quality.severity) == ("fail", "warn")
    assert contract.parameter_defaults == {"min_interactions": 1000, "min_users_with_two": 25}
    assert contract.referenced_parameters() == {
        "window_start",
        "window_end",
        "event_types",
        "min_interactions",
        "min_users_with_two",
    }


def test_given_parameters_override_defaults():
    contract = load_suite(SUITES / "personalize_contract.json")
    merged = contract.parameters({**PARAMETERS, "min_users_with_two": 10_000})
    assert merged["min_users_with_two"] == 10_000 and merged["min_interactions"] == 1000


def test_query_parameters_become_sql_literals_and_keep_batch():
    query = "SELECT * FROM {batch} WHERE n < {limit} AND kind = {kind} AND j = '{{}}'"
    rendered = render_query_parameters(query, {"limit": 25, "kind": "it's"}, where="q")
    assert rendered == "SELECT * FROM {batch} WHERE n < 25 AND kind = 'it''s' AND j = '{{}}'"
    assert rendered.format(batch="t") == "SELECT * FROM t WHERE n < 25 AND kind = 'it''s' AND j = '{}'"


@pytest.mark.parametrize("value", [{"a": 1}, [1, 2], float("nan"), None])
def test_query_parameters_other_than_scalars_are_refused(value):
    with pytest.raises(SuiteError, match="limit"):
        render_query_parameters("SELECT 1 FROM {batch} WHERE n < {limit}", {"limit": value}, where="q")


def test_severity_of_one_expectation_can_differ_from_the_suite():
    document = _minimal()
    document["expectations"].append(
        {"type": "expect_column_to_exist", "kwargs": {"column": "b"}, "meta": {"severity": "warn"}}
    )
    suite = parse_suite(document)
    assert [e.severity for e in suite.expectations] == ["fail", "warn"]


def test_importing_the_package_does_not_import_great_expectations():
    code = "import sys, personalize_pipelines.validation; print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "False"
