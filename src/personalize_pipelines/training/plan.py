"""The plan of a train run: the export version it trains on, where its data is, the name of everything."""

from __future__ import annotations

import json
import logging
from typing import Any

from personalize_pipelines.export import run_key
from personalize_pipelines.layout import UseCaseLayout
from personalize_pipelines.publish import read_json
from personalize_pipelines.registry import read_champion
from personalize_pipelines.training import SameDataAsChampion, TrainRunError
from personalize_pipelines.training.resources import (
    CHAMPION_LABEL,
    DATASET_TYPES,
    dataset_kinds,
    resource_names,
)

log = logging.getLogger(__name__)


def plan_run(
    s3_client: Any, uc: Any, *, version: str, run_id: str, same_data_trains: bool = False
) -> dict[str, Any]:
    """Read the version's manifest and schemas; return its folders, sizes and every resource name.

    :param s3_client: a boto3 S3 client.
    :param uc: the :class:`personalize_pipelines.config.UseCase`.
    :param version: the export version to train on.
    :param run_id: the pipeline run.
    :param same_data_trains: train even when the version holds the same rows as the champion's.
    :raises TrainRunError: when the version has no manifest, or lacks a schema the use case imports.
    :raises SameDataAsChampion: when every dataset the use case imports has the fingerprint it had in the
        export version the champion was trained on (unless ``same_data_trains``).
    """
    export = UseCaseLayout.for_use_case(uc).version(version)
    manifest = read_json(s3_client, export.bucket, export.manifest)
    if manifest is None:
        raise TrainRunError(
            f"{export.uri(export.manifest)} does not exist: export version {version!r} is "
            "unknown or was never completed"
        )
    if not same_data_trains:
        _refuse_same_data(s3_client, uc, version=version, manifest=manifest)
    schemas = {}
    for kind in dataset_kinds(uc):
        document = read_json(s3_client, export.bucket, export.key(export.schema(kind)))
        if document is None:
            raise TrainRunError(
                f"export version {version} has no {export.schema(kind)}, but {uc.name} imports {kind}"
            )
        schemas[kind] = json.dumps(document, sort_keys=True)
    key = run_key(uc.name, run_id)
    evaluation = export.evaluation(key)
    files = manifest.get("files", [])
    imported = sum(f.get("bytes", 0) for f in files if f["key"].split("/")[0] in DATASET_TYPES)
    log.info(
        "training on export version %s (%s), window %s", version, manifest.get("uri"), manifest.get("window")
    )
    models = [s.name for s in uc.training.solutions] + [CHAMPION_LABEL]
    return {
        "version": version,
        "window": manifest.get("window"),
        "rows": {kind: d.get("rows") for kind, d in manifest.get("datasets", {}).items()},
        "run_key": key,
        "eval_uri": evaluation.uri(evaluation.prefix),
        "ingested_bytes": imported,
        **{f"data__{kind}": export.uri(export.data(kind)) for kind in schemas},
        **{f"schema_json__{kind}": body for kind, body in schemas.items()},
        **{f"batch_output__{model}": evaluation.uri(evaluation.batch_output(model)) for model in models},
        **resource_names(uc, version=version, run_id=run_id, schemas=schemas),
    }


def _refuse_same_data(s3_client: Any, uc: Any, *, version: str, manifest: dict[str, Any]) -> None:
    layout = UseCaseLayout.for_use_case(uc)
    champion = read_champion(s3_client, location=layout.registry)
    if champion is None or champion.export_version == version:
        return
    trained_on = layout.version(champion.export_version)
    previous = read_json(s3_client, trained_on.bucket, trained_on.manifest) or {}
    kinds = dataset_kinds(uc)
    now, then = (
        {kind: m.get("datasets", {}).get(kind, {}).get("fingerprint") for kind in kinds}
        for m in (manifest, previous)
    )
    if None not in now.values() and now == then:
        raise SameDataAsChampion(
            f"export version {version} holds the same rows as {champion.export_version}, which the champion "
            f"{champion.solution_version_arn} was trained on (fingerprints {now}): nothing to train. "
            "Trigger with same_data_trains=true to train anyway, e.g. after changing the training config."
        )
