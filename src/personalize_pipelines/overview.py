"""What the Personalize page shows of a use case, read from its bucket: versions, champion, evaluations.

Everything comes from S3 objects the DAGs already write: each published version's manifest (its
window, rows per dataset, rows dropped by each cleaning rule, the validation result), the registry's
``champion.json`` and history, and each train run's ``evaluation/<run_key>/evaluation.json`` and
``evaluation.html`` beside the version it evaluated. Nothing here writes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from personalize_pipelines.layout import UseCaseLayout
from personalize_pipelines.publish import complete_versions, read_json
from personalize_pipelines.registry import Champion, history, read_champion

_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")


@dataclass(frozen=True)
class EvaluationSummary:
    """One train run's evaluation of a version, from its ``evaluation.json``."""

    run_key: str
    run_id: str | None
    created_at: str | None
    promote: bool
    winner: str | None
    metric: str | None
    reason: str
    champion: str | None
    challengers: list[str]


@dataclass(frozen=True)
class VersionSummary:
    """One published export version, from its manifest."""

    name: str
    created_at: str | None
    window: dict[str, Any]
    rows: dict[str, int]
    dropped: dict[str, dict[str, int]]
    validation_success: bool | None
    suites: dict[str, bool]
    evaluations: list[EvaluationSummary] = field(default_factory=list)


@dataclass(frozen=True)
class UseCaseOverview:
    """A use case's page: versions newest first, the serving champion, promotions newest first."""

    use_case: str
    uri: str
    versions: list[VersionSummary]
    champion: Champion | None
    history: list[Champion]


def is_safe_name(name: str) -> bool:
    """A version or run key as the DAGs name them (letters, digits, ``_ . -``), never ``.`` or ``..``."""
    return bool(_NAME.match(name)) and name not in {".", ".."}


def version_summary(manifest: dict[str, Any], *, evaluations: list[EvaluationSummary]) -> VersionSummary:
    """The page's row of a version from its manifest (as :func:`personalize_pipelines.export.publish` writes it)."""
    cleaning = manifest.get("cleaning") or {}
    dropped = {"interactions": {k: int(v) for k, v in (cleaning.get("dropped") or {}).items()}}
    for kind in ("items", "users"):
        if isinstance(cleaning.get(kind), dict):
            dropped[kind] = {k: int(v) for k, v in (cleaning[kind].get("dropped") or {}).items()}
    validation = manifest.get("validation") or {}
    return VersionSummary(
        name=manifest["version"],
        created_at=manifest.get("created_at"),
        window=dict(manifest.get("window") or {}),
        rows={kind: int(d.get("rows", 0)) for kind, d in (manifest.get("datasets") or {}).items()},
        dropped=dropped,
        validation_success=validation.get("success"),
        suites=dict(validation.get("suites") or {}),
        evaluations=evaluations,
    )


def evaluation_summary(run_key: str, report: dict[str, Any]) -> EvaluationSummary:
    """The page's line of one evaluation report (:func:`personalize_pipelines.evaluation.evaluation_report`)."""
    decision = report.get("decision") or {}
    champion = report.get("champion") or {}
    return EvaluationSummary(
        run_key=run_key,
        run_id=report.get("run_id"),
        created_at=report.get("created_at"),
        promote=bool(decision.get("promote")),
        winner=decision.get("winner"),
        metric=decision.get("metric"),
        reason=str(decision.get("reason", "")),
        champion=champion.get("name"),
        challengers=[c.get("name", "") for c in report.get("challengers", [])],
    )


def version_evaluations(s3_client: Any, *, layout: UseCaseLayout, version: str) -> list[EvaluationSummary]:
    """Every train run's evaluation of ``version``, oldest first; a run folder without its report is skipped."""
    folder = layout.version(version)
    paginator = s3_client.get_paginator("list_objects_v2")
    run_keys = sorted(
        common["Prefix"].rstrip("/").rsplit("/", 1)[-1]
        for page in paginator.paginate(Bucket=layout.bucket, Prefix=folder.evaluations, Delimiter="/")
        for common in page.get("CommonPrefixes", [])
    )
    summaries = []
    for run_key in run_keys:
        report = read_json(s3_client, layout.bucket, folder.evaluation(run_key).report)
        if report is not None:
            summaries.append(evaluation_summary(run_key, report))
    return sorted(summaries, key=lambda s: (s.created_at or "", s.run_key))


def use_case_overview(
    s3_client: Any, *, use_case: str, layout: UseCaseLayout, history_limit: int = 20
) -> UseCaseOverview:
    """Read everything the use case's page shows.

    :param use_case: the use case's name, as shown.
    :param layout: where its objects live (:meth:`UseCaseLayout.for_use_case`).
    :param history_limit: how many of the latest promotions to show.
    """
    versions = []
    for name in reversed(complete_versions(s3_client, bucket=layout.bucket, use_case_prefix=layout.prefix)):
        manifest = read_json(s3_client, layout.bucket, layout.version(name).manifest)
        if manifest is None:  # deleted by cleanup between the listing and the read
            continue
        evaluations = version_evaluations(s3_client, layout=layout, version=name)
        versions.append(version_summary({"version": name, **manifest}, evaluations=evaluations))
    location = layout.registry
    return UseCaseOverview(
        use_case=use_case,
        uri=layout.uri(layout.folder),
        versions=versions,
        champion=read_champion(s3_client, location=location),
        history=list(reversed(history(s3_client, location=location, limit=history_limit))),
    )


def evaluation_page(s3_client: Any, *, layout: UseCaseLayout, version: str, run_key: str) -> str | None:
    """The ``evaluation.html`` a train run wrote beside ``version``; None when it (or the name) does not exist."""
    if not (is_safe_name(version) and is_safe_name(run_key)):
        return None
    key = layout.version(version).evaluation(run_key).page
    try:
        return s3_client.get_object(Bucket=layout.bucket, Key=key)["Body"].read().decode()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
            return None
        raise
