"""The `<use_case>__train` workflow without Airflow: each task of the train DAG calls one function here.

- :mod:`.resources` — the datasets a use case imports and the name of every resource a run creates;
- :mod:`.plan` — the export version a run trains on: its manifest, schemas, folders and names;
- :mod:`.evaluate` — the holdout sample, each trained version's offline metrics, the holdout evaluation
  of every model, the gate's decision (:mod:`personalize_pipelines.gate`) and its report;
- :mod:`.deploy` — the serving champion, the smoke test, the rollback target, the promotion and the
  run's estimated cost.

Clients (S3, Personalize, the Personalize runtime) are passed in; S3 keys come from
:mod:`personalize_pipelines.layout`.
"""


class TrainRunError(RuntimeError):
    """What a retry cannot fix: an unknown export version, an empty holdout, a failed smoke test."""


class SameDataAsChampion(Exception):
    """The version holds the same rows as the champion's: training again would cost and change nothing."""
