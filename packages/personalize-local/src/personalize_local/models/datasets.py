"""Dataset contents: Avro schemas, CSV imports checked against them, and records added one by one.

Each dataset keeps its bulk data (from import jobs) in ``bulk.parquet`` and its individually added
records (PutEvents, PutItems, PutUsers) in ``records.jsonl``; a FULL import replaces only the bulk
data, as Personalize does.
"""

from __future__ import annotations

import io
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from personalize_local.errors import InvalidInput
from personalize_local.limits import MAX_ID_LENGTH
from personalize_local.models.lifecycle import JobFailed
from personalize_local.models.s3 import S3Error, S3Location, list_keys, read_object

if TYPE_CHECKING:
    import pandas as pd


REQUIRED_FIELDS = {
    "Interactions": ("USER_ID", "ITEM_ID", "TIMESTAMP"),
    "Items": ("ITEM_ID",),
    "Users": ("USER_ID",),
}
AVRO_TYPES = {"string", "long", "int", "float", "double", "boolean"}


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    nullable: bool
    categorical: bool = False


def parse_schema(text: str) -> list[Field]:
    """The fields of an Avro record schema; InvalidInput naming what is wrong."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"schema is not valid JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("type") != "record":
        raise InvalidInput('schema must be an Avro record: {"type": "record", "fields": [...]}')
    fields = document.get("fields")
    if not isinstance(fields, list) or not fields:
        raise InvalidInput("schema must list its fields")
    parsed = []
    for index, entry in enumerate(fields):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise InvalidInput(f"schema field {index} has no name")
        kind = entry.get("type")
        types = kind if isinstance(kind, list) else [kind]
        nullable = "null" in types
        concrete = [t for t in types if t != "null"]
        if len(concrete) != 1 or concrete[0] not in AVRO_TYPES:
            raise InvalidInput(
                f"schema field {entry['name']} has type {kind!r}; "
                f"use one of {sorted(AVRO_TYPES)}, optionally with null"
            )
        parsed.append(Field(entry["name"], concrete[0], nullable, bool(entry.get("categorical"))))
    return parsed


def check_schema_for(dataset_type: str, fields: list[Field]) -> None:
    names = {f.name for f in fields}
    missing = [name for name in REQUIRED_FIELDS[dataset_type] if name not in names]
    if missing:
        raise InvalidInput(f"A {dataset_type} dataset's schema must have field(s) {', '.join(missing)}")


def read_csv_objects(location: str) -> list[tuple[str, bytes]]:
    """(uri, bytes) for one object, or for every CSV under a folder prefix ending in '/'."""
    try:
        parsed = S3Location.parse(location)
        if parsed.key == "" or parsed.key.endswith("/"):
            keys = list_keys(parsed, suffix=".csv")
            if not keys:
                raise JobFailed(f"No CSV files found under {location}")
            return [
                (f"s3://{parsed.bucket}/{key}", read_object(S3Location(parsed.bucket, key))) for key in keys
            ]
        return [(location, read_object(parsed))]
    except S3Error as exc:
        raise JobFailed(f"Cannot read the data source {location}: {exc}") from exc


def csv_to_frame(uri: str, data: bytes, fields: list[Field]) -> pd.DataFrame:
    """Parse one CSV and convert its columns to the schema's types; JobFailed names the column and line."""
    import pandas as pd

    try:
        raw = pd.read_csv(
            io.BytesIO(data), dtype=str, keep_default_na=False, na_values=[], encoding="utf-8-sig"
        )
    except Exception as exc:
        raise JobFailed(f"{uri} is not a readable UTF-8 CSV file: {exc}") from exc
    spelling = {f.name.upper(): f.name for f in fields}  # header names match fields regardless of case
    raw = raw.rename(columns=lambda column: spelling.get(str(column).strip().upper(), column))
    header = list(raw.columns)
    known = {f.name for f in fields}
    missing = [f.name for f in fields if not f.nullable and f.name not in header]
    if missing:
        raise JobFailed(
            f"{uri} is missing required column(s) {', '.join(missing)} "
            f"(the schema requires them; header is {', '.join(header)})"
        )
    unknown = [name for name in header if name not in known]
    if unknown:
        raise JobFailed(f"{uri} has column(s) {', '.join(unknown)} that the schema does not define")
    return pd.DataFrame({f.name: _convert(uri, raw, f) for f in fields})


def _convert(uri: str, raw: pd.DataFrame, field: Field) -> pd.Series:
    import pandas as pd

    if field.name not in raw.columns:
        return pd.Series([None] * len(raw), dtype=_dtype(field.type))
    values = raw[field.name]
    empty = values == ""
    if not field.nullable and empty.any():
        line = int(empty.to_numpy().argmax()) + 2
        raise JobFailed(f"{uri} line {line}: column {field.name} is empty but the schema does not allow null")
    if field.type == "string":
        too_long = values.str.len() > MAX_ID_LENGTH
        if field.name in ("USER_ID", "ITEM_ID") and too_long.any():
            line = int(too_long.to_numpy().argmax()) + 2
            raise JobFailed(f"{uri} line {line}: {field.name} is longer than {MAX_ID_LENGTH} characters")
        return values.where(~empty, None).astype("string")
    if field.type == "boolean":
        lowered = values.str.lower()
        bad = ~lowered.isin(["true", "false", ""])
        if bad.any():
            _type_error(uri, values, bad, field)
        return lowered.map({"true": True, "false": False, "": None}).astype("boolean")
    numbers = pd.to_numeric(values.where(~empty, None), errors="coerce")
    bad = numbers.isna() & ~empty
    if field.type in ("long", "int"):
        bad |= numbers.notna() & (numbers != numbers.round())
    if bad.any():
        _type_error(uri, values, bad, field)
    return numbers.astype(_dtype(field.type))


def _type_error(uri: str, values: pd.Series, bad: pd.Series, field: Field) -> None:
    position = int(bad.to_numpy().argmax())
    raise JobFailed(
        f"{uri} line {position + 2}: column {field.name} has value {values.iloc[position]!r}, "
        f"which is not of the schema's type {field.type}"
    )


def _dtype(kind: str) -> str:
    return {
        "long": "Int64",
        "int": "Int64",
        "float": "Float64",
        "double": "Float64",
        "boolean": "boolean",
    }.get(kind, "string")


class DatasetData:
    """The stored contents of one dataset."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()

    @property
    def bulk_path(self) -> Path:
        return self.directory / "bulk.parquet"

    @property
    def records_path(self) -> Path:
        return self.directory / "records.jsonl"

    def write_bulk(self, frame: pd.DataFrame, *, append: bool) -> int:
        """Store imported rows (replacing or appending to the bulk data); returns the bulk row count."""
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.directory.mkdir(parents=True, exist_ok=True)
        with self._lock:
            if append and self.bulk_path.exists():
                frame = pd.concat([pd.read_parquet(self.bulk_path), frame], ignore_index=True)
            temporary = self.bulk_path.with_suffix(".tmp")
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), temporary)
            temporary.replace(self.bulk_path)
        return len(frame)

    def append_records(self, records: list[dict[str, Any]]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        text = "".join(json.dumps(record) + "\n" for record in records)
        with self._lock, self.records_path.open("a") as handle:
            handle.write(text)

    def records(self) -> list[dict[str, Any]]:
        if not self.records_path.exists():
            return []
        with self._lock:
            text = self.records_path.read_text()
        complete = text[: text.rfind("\n") + 1]  # a line cut short by a crash mid-append is not a record
        return [json.loads(line) for line in complete.splitlines() if line.strip()]

    def frame(self, *, records: list[dict[str, Any]] | None = None) -> pd.DataFrame | None:
        """Bulk data plus individually added records (``records`` if already read); None when empty."""
        import pandas as pd

        parts = []
        if self.bulk_path.exists():
            parts.append(pd.read_parquet(self.bulk_path))
        records = self.records() if records is None else records
        if records:
            parts.append(pd.DataFrame.from_records(records))
        if not parts:
            return None
        return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
