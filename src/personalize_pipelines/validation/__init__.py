"""Data validation with Great Expectations Core 1.x suites kept as JSON files.

Two runners produce the same ValidationResult from the same suite:

- `validate_in_sql` evaluates the suite as aggregate SQL in the warehouse (DuckDB, Postgres), for
  engines GX's SQL engine cannot drive; it never imports Great Expectations.
- `validate_with_gx` runs GX Core itself (Postgres, Redshift, Snowflake); GX is imported only inside it.
"""

from personalize_pipelines.validation.gx_runner import validate_with_gx
from personalize_pipelines.validation.report import html_report
from personalize_pipelines.validation.result import ContractViolation, ExpectationResult, ValidationResult
from personalize_pipelines.validation.sql_runner import UnsupportedExpectation, validate_in_sql
from personalize_pipelines.validation.suite import Expectation, Suite, SuiteError, load_suite

__all__ = [
    "ContractViolation",
    "Expectation",
    "ExpectationResult",
    "Suite",
    "SuiteError",
    "UnsupportedExpectation",
    "ValidationResult",
    "html_report",
    "load_suite",
    "validate_in_sql",
    "validate_with_gx",
]
