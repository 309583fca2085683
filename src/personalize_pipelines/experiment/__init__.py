"""The retraining trade-off experiment (``<use_case>__experiment``): training windows × per-user caps
(and, optionally, how many weeks before the holdout the window ends) × solutions, every variant scored on
one shared holdout.

- :mod:`~personalize_pipelines.experiment.grid`: the variants and the experiment's parameters;
- :mod:`~personalize_pipelines.experiment.variants`: one extraction, filtered per variant in the warehouse,
  each variant published under the experiment's folder (never a version: ``latest.json`` stays);
- :mod:`~personalize_pipelines.experiment.resources`: the Personalize resources each variant needs, and
  what deleting them all takes;
- :mod:`~personalize_pipelines.experiment.scoring`: holdout metrics per variant and solution, with
  bootstrap intervals over the holdout users;
- :mod:`~personalize_pipelines.experiment.report`: the table, the charts, the recommendation.
"""
