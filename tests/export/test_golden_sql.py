"""The cleaning as compiled for Redshift and Snowflake, held in golden files, so that a sqlglot upgrade (or an
edit of the cleaning) that changes what those warehouses receive is seen in review.

No Redshift or Snowflake runs here: these statements were generated, and what runs of them is said in
tests/export/test_warehouses.py. After a deliberate change, regenerate and read the diff:

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/export/test_golden_sql.py
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from personalize_pipelines import cleaning
from personalize_pipelines.dialects import compile_sql
from personalize_pipelines.export import INTERACTION_COLUMNS

GOLDEN = Path(__file__).parent / "golden"
QUALIFIERS = {"redshift": "personalize_staging.", "snowflake": "PERSONALIZE_STAGING."}
WINDOW_START, WINDOW_END, HOLDOUT_START = 1_777_593_600, 1_793_491_200, 1_792_281_600


def statements(use_case, qualifier: str) -> list[tuple[str, str]]:
    """(name, SQL in Postgres's dialect) of every cleaning statement the export sends, for the shop; each
    source, items and users query stands in as ``SELECT * FROM <name>`` (embedded verbatim anyway)."""
    names = cleaning.StagingNames(qualifier, "golden")
    rendered = {source.name: f"SELECT * FROM {source.name}" for source in use_case.sources}
    raw_union = cleaning.raw_union_sql(rendered, use_case)
    fraction = use_case.holdout.model_copy(update={"strategy": "user_fraction", "fraction": 0.1})
    found = [
        *((f"source_scan {s.name}", cleaning.source_scan_sql(s, rendered[s.name])) for s in use_case.sources),
        (
            "classify",
            cleaning.classify_sql(
                names, raw_union, use_case, window_start=WINDOW_START, window_end=WINDOW_END
            ),
        ),
        ("raw_view", cleaning.raw_view_sql(names)),
        ("partition last_days", cleaning.partition_sql(names, use_case, holdout_start=HOLDOUT_START)),
        (
            "partition user_fraction",
            cleaning.partition_sql(names, use_case.model_copy(update={"holdout": fraction}), holdout_start=0),
        ),
        *((f"part_view {i}", sql) for i, sql in enumerate(cleaning.part_views_sql(names))),
        ("rule_counts", cleaning.rule_counts_sql(names)),
        ("unknown_event_types", cleaning.unknown_event_types_sql(names, top=20)),
        ("event_type_parts", cleaning.event_type_parts_sql(names)),
        ("part_counts", cleaning.part_counts_sql(names)),
    ]
    for kind, id_column in (("items", "item_id"), ("users", "user_id")):
        spec = getattr(use_case, kind)
        table = getattr(names, kind)
        found.append(
            (
                f"dataset {kind}",
                cleaning.dataset_sql(table, f"SELECT * FROM {kind}", spec, id_column=id_column),
            )
        )
        found.append((f"dataset_counts {kind}", cleaning.dataset_counts_sql(table, spec)))
        columns = [(id_column.upper(), "string"), *((f.name, f.type) for f in spec.fields)]
        found.append((f"fingerprint {kind}", cleaning.fingerprint_sql(table, columns)))
    found.append(
        ("fingerprint interactions", cleaning.fingerprint_sql(names.interactions, INTERACTION_COLUMNS))
    )
    return found


def compiled(use_case, dialect: str) -> str:
    return "".join(
        f"-- {name}\n{compile_sql(sql, dialect).strip()};\n\n"
        for name, sql in statements(use_case, QUALIFIERS[dialect])
    )


@pytest.mark.parametrize("dialect", sorted(QUALIFIERS))
def test_the_compiled_cleaning_is_the_golden_one(shop_use_case, dialect):
    path = GOLDEN / f"cleaning.{dialect}.sql"
    now = compiled(shop_use_case, dialect)
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(now)
    golden = path.read_text() if path.exists() else ""
    if now != golden:
        diff = "".join(difflib.unified_diff(golden.splitlines(True), now.splitlines(True), str(path), "now"))
        pytest.fail(
            f"the {dialect}-compiled cleaning differs from {path} (regenerate with UPDATE_GOLDEN=1 after "
            f"checking the change):\n{diff}"
        )
