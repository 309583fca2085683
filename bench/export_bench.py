"""One export, end to end, in its own process: stage, validate, publish to an S3 endpoint.

Prints one JSON line: seconds per phase, rows, peak RSS. Run by bench/run.py, which owns the
warehouse files and the S3 server so that this process's memory is the export's alone.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def peak_rss_mb() -> float:
    """This process's high-water RSS (VmHWM; unlike ru_maxrss it is not inherited across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_export(*, warehouse: Path, endpoint: str, bucket: str, window_end: datetime, months: int) -> dict:
    import boto3

    from personalize_pipelines.cleaning import StagingNames
    from personalize_pipelines.engines import DuckDBEngine
    from personalize_pipelines.export import ExportContext, publish, stage, validate
    from personalize_pipelines.project import Project
    from personalize_pipelines.windows import sliding_window

    shop = Project(ROOT).use_case("shop")
    use_case = shop.model_copy(
        update={
            "window": shop.window.model_copy(update={"months": months}),
            "s3": shop.s3.model_copy(update={"bucket": bucket}),
        }
    )
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    engine = DuckDBEngine(
        database=warehouse, staging_path=warehouse.parent / "staging" / f"{warehouse.stem}.duckdb"
    )
    ctx = ExportContext(
        use_case=use_case,
        window=sliding_window(window_end, months=months),
        names=StagingNames(engine.qualifier, "bench"),
    )
    timings = {}
    started = time.perf_counter()
    report = stage(engine, ctx, progress=lambda _: None)
    timings["stage_seconds"] = time.perf_counter() - started
    mark = time.perf_counter()
    validation = validate(engine, ctx)
    timings["validate_seconds"] = time.perf_counter() - mark
    mark = time.perf_counter()
    manifest = publish(
        engine, ctx, s3_client=s3, report=report, validation=validation, progress=lambda _: None
    )
    timings["publish_seconds"] = time.perf_counter() - mark
    timings["seconds"] = time.perf_counter() - started
    engine.close()
    return {
        **{k: round(v, 3) for k, v in timings.items()},
        "raw_rows": report["raw_rows"],
        "train_rows": manifest["datasets"]["interactions"]["rows"],
        "parts": manifest["datasets"]["interactions"]["parts"],
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--window-end", default="2026-11-01T00:00:00+00:00")
    parser.add_argument("--months", type=int, default=12)
    args = parser.parse_args()
    result = run_export(
        warehouse=args.warehouse,
        endpoint=args.endpoint,
        bucket=args.bucket,
        window_end=datetime.fromisoformat(args.window_end).astimezone(UTC),
        months=args.months,
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
