"""A standalone HTML page for validation results: one table per suite, one row per expectation."""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from personalize_pipelines.validation.result import ExpectationResult, ValidationResult

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem;color:#1f2328}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{border:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}.warn{color:#9a6700;font-weight:600}
code,pre{font-family:ui-monospace,Menlo,monospace;font-size:.8rem;white-space:pre-wrap;margin:0}
.meta{color:#57606a;font-size:.85rem}
"""


def html_report(results: Sequence[ValidationResult], *, title: str = "Data validation report") -> str:
    """One standalone page (inline CSS, no scripts) covering every result given."""
    sections = "\n".join(_suite_section(r) for r in results)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>\n"
        f"<body><h1>{escape(title)}</h1>\n{sections}\n</body></html>\n"
    )


def _suite_section(result: ValidationResult) -> str:
    stats = result.statistics
    verdict = _status(result.success, result.severity)
    rows = "\n".join(_row(index, r) for index, r in enumerate(result.results, start=1))
    parameters = escape(json.dumps(result.parameters, default=str, sort_keys=True))
    return f"""<section>
<h2>Suite <code>{escape(result.suite_name)}</code> on <code>{escape(result.table)}</code>: {verdict}</h2>
<p class="meta">severity {escape(result.severity)} · engine {escape(result.engine)} · validated at
{escape(result.validated_at)} · {stats["successful_expectations"]} of {stats["evaluated_expectations"]}
expectations passed · parameters <code>{parameters}</code></p>
<table>
<thead><tr><th>#</th><th>Expectation</th><th>Column</th><th>Rule</th><th>Outcome</th><th>Observed</th>
<th>Rows</th><th>Unexpected</th><th>Unexpected %</th><th>Sample unexpected values</th></tr></thead>
<tbody>
{rows}
</tbody></table></section>"""


def _row(index: int, r: ExpectationResult) -> str:
    rule = r.expected() or _kwargs_text(r)
    if r.description:
        rule = f"{r.description}\n{rule}" if rule else r.description
    observed = r.exception or (_value(r.observed_value) if r.observed_value is not None else "")
    details = (r.details or {}).get("unexpected_rows") or (r.details or {}).get("mismatched")
    if details:
        observed += ("\n" if observed else "") + _value(details)
    sample = ", ".join(_value(v) for v in r.sample_values())
    percent = f"{r.unexpected_percent:.4g}" if r.unexpected_percent is not None else ""
    return (
        f'<tr><td class="num">{index}</td><td><code>{escape(r.type)}</code></td>'
        f"<td>{escape(r.column or '')}</td><td><pre>{escape(rule)}</pre></td>"
        f"<td>{_status(r.success, r.severity)}</td><td><pre>{escape(observed)}</pre></td>"
        f'<td class="num">{_count(r.element_count)}</td><td class="num">{_count(r.unexpected_count)}</td>'
        f'<td class="num">{percent}</td><td><pre>{escape(sample)}</pre></td></tr>'
    )


def _status(success: bool, severity: str) -> str:
    if success:
        return '<span class="pass">PASS</span>'
    if severity == "warn":
        return '<span class="warn">WARN</span>'
    return '<span class="fail">FAIL</span>'


def _kwargs_text(r: ExpectationResult) -> str:
    shown = {k: v for k, v in r.kwargs.items() if k not in ("column", "batch_id", "result_format")}
    return json.dumps(shown, default=str, indent=1) if shown else ""


def _count(value: int | None) -> str:
    return f"{value:,}" if value is not None else ""


def _value(value: Any, limit: int = 200) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 1] + "…"
