"""Where everything of a use case lives in its bucket: every S3 key is built here and nowhere else.

```
s3://<bucket>/<prefix>/<use_case>/
  latest.json                                   the newest complete version (publish.move_latest_pointer)
  <version>/
    manifest.json                               written last: a folder without it is incomplete
    interactions/ holdout/ items/ users/        CSV parts (part-00000.csv, ...)
    schemas/<kind>.json                         Avro schemas
    validation/<suite>.json, report.html        GX results and their page
    evaluation/<run_key>/                       one train run's evaluation of this version
      evaluation.json, evaluation.html
      batch/users.json, batch/<model>/          the holdout sample and each model's batch output
  registry/champion.json, history/, evaluations/
  batch/<run_key>/<kind>/input/<kind>.json, output/, report.json   kind: users, items, ranking, segments
  events/<tracker id>/watermark.json
  events/imports/<run_key>/interactions.csv
  experiments/<experiment>/                     one <use_case>__experiment run: no version, no latest
    <variant>/                                  a version's layout (manifest.json last), one per variant
    evaluation/users.json, <variant>/<solution>/ the shared holdout sample and each model's batch output
    experiment.json, experiment.html            the comparison and its page
```
Keys have no leading slash and folders end in ``/``; ``uri`` turns a key into ``s3://bucket/key``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MANIFEST = "manifest.json"
LATEST = "latest.json"
CHAMPION = "champion.json"


@dataclass(frozen=True)
class UseCaseLayout:
    """The folder of one use case: ``s3://<bucket>/<prefix>/<use_case>/``."""

    bucket: str
    prefix: str

    @classmethod
    def for_use_case(cls, use_case: Any) -> UseCaseLayout:
        """From a :class:`personalize_pipelines.config.UseCase`: its bucket and ``<prefix>/<name>``."""
        return cls(bucket=use_case.s3.bucket, prefix=use_case.s3_prefix)

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    @property
    def folder(self) -> str:
        return f"{self.prefix}/"

    @property
    def latest(self) -> str:
        return f"{self.prefix}/{LATEST}"

    def version(self, name: str) -> VersionLayout:
        return VersionLayout(bucket=self.bucket, prefix=f"{self.prefix}/{name}", name=name)

    @property
    def registry(self) -> RegistryLocation:
        return RegistryLocation(bucket=self.bucket, use_case_prefix=self.prefix)

    def batch_run(self, run_key: str, kind: str) -> BatchRunLayout:
        """One batch job of a serving DAG (``kind``: users, items, ranking of ``<use_case>__batch``; segments
        of ``<use_case>__segments``)."""
        return BatchRunLayout(bucket=self.bucket, folder=f"{self.prefix}/batch/{run_key}/{kind}", kind=kind)

    def watermark(self, tracker_arn: str) -> str:
        return f"{self.prefix}/events/{tracker_arn.rsplit('/', 1)[-1]}/watermark.json"

    def write_check(self, run_key: str) -> str:
        """The object an export writes and deletes before any work, to prove the bucket takes its writes."""
        return f"{self.prefix}/.write-check/{run_key}"

    def events_import(self, run_key: str) -> str:
        return f"{self.prefix}/events/imports/{run_key}/interactions.csv"

    def experiment(self, experiment: str) -> ExperimentLayout:
        return ExperimentLayout(bucket=self.bucket, prefix=f"{self.prefix}/experiments/{experiment}")


@dataclass(frozen=True)
class ExperimentLayout:
    """One experiment's folder: its variants (each laid out as a version) and its report. The folder is
    not a version's, so ``latest.json``, the train DAG and cleanup's version retention never see it."""

    bucket: str
    prefix: str

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    @property
    def folder(self) -> str:
        return f"{self.prefix}/"

    def variant(self, name: str) -> VersionLayout:
        return VersionLayout(bucket=self.bucket, prefix=f"{self.prefix}/{name}", name=name)

    @property
    def batch_input(self) -> str:
        """The shared holdout sample every trained model is scored on."""
        return f"{self.prefix}/evaluation/users.json"

    def batch_output(self, variant: str, solution: str) -> str:
        return f"{self.prefix}/evaluation/{variant}/{solution}/"

    @property
    def report(self) -> str:
        return f"{self.prefix}/experiment.json"

    @property
    def page(self) -> str:
        return f"{self.prefix}/experiment.html"


@dataclass(frozen=True)
class VersionLayout:
    """One export version's folder. The static names are relative to it: the keys the manifest lists."""

    VALIDATION_REPORT = "validation/report.html"

    bucket: str
    prefix: str
    name: str

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def key(self, relative: str) -> str:
        return f"{self.prefix}/{relative}"

    @property
    def folder(self) -> str:
        return f"{self.prefix}/"

    @property
    def manifest(self) -> str:
        return self.key(MANIFEST)

    def data(self, kind: str) -> str:
        """The folder of one dataset's CSV parts (interactions, holdout, items, users)."""
        return self.key(f"{kind}/")

    @staticmethod
    def part(kind: str, index: int) -> str:
        return f"{kind}/part-{index:05d}.csv"

    @staticmethod
    def schema(kind: str) -> str:
        return f"schemas/{kind}.json"

    @staticmethod
    def validation(suite: str) -> str:
        return f"validation/{suite}.json"

    @property
    def evaluations(self) -> str:
        """The folder holding one ``<run_key>/`` folder per train run that evaluated this version."""
        return self.key("evaluation/")

    def evaluation(self, run_key: str) -> EvaluationLayout:
        return EvaluationLayout(bucket=self.bucket, folder=self.key(f"evaluation/{run_key}"))


@dataclass(frozen=True)
class EvaluationLayout:
    """One train run's evaluation of an export version."""

    bucket: str
    folder: str

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    @property
    def prefix(self) -> str:
        """The folder as a key prefix, ending in ``/``."""
        return f"{self.folder}/"

    @property
    def report(self) -> str:
        return f"{self.folder}/evaluation.json"

    @property
    def page(self) -> str:
        return f"{self.folder}/evaluation.html"

    @property
    def batch_input(self) -> str:
        return f"{self.folder}/batch/users.json"

    def batch_output(self, model: str) -> str:
        return f"{self.folder}/batch/{model}/"


@dataclass(frozen=True)
class BatchRunLayout:
    """One batch inference job of the serving DAG: its input, its output folder and the load's report."""

    bucket: str
    folder: str
    kind: str

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    @property
    def input(self) -> str:
        return f"{self.folder}/input/{self.kind}.json"

    @property
    def output(self) -> str:
        return f"{self.folder}/output/"

    @property
    def report(self) -> str:
        return f"{self.folder}/report.json"


@dataclass(frozen=True)
class RegistryLocation:
    """Where one use case's registry lives: ``s3://<bucket>/<use_case_prefix>/registry/``."""

    bucket: str
    use_case_prefix: str

    @classmethod
    def for_use_case(cls, use_case: Any) -> RegistryLocation:
        """From a :class:`personalize_pipelines.config.UseCase`: its bucket and ``<prefix>/<name>``."""
        return UseCaseLayout.for_use_case(use_case).registry

    @property
    def root(self) -> str:
        return f"{self.use_case_prefix}/registry"

    @property
    def champion_key(self) -> str:
        return f"{self.root}/{CHAMPION}"

    @property
    def history_prefix(self) -> str:
        return f"{self.root}/history/"

    @property
    def evaluations_prefix(self) -> str:
        return f"{self.root}/evaluations/"

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"
