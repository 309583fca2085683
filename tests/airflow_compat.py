"""What the tests need to run on Airflow 3.0 as on the development lock.

* ``DagBag`` is ``airflow.dag_processing.dagbag`` from 3.2 on, ``airflow.models.dagbag`` before.
* Airflow 3.0's ``dag.test()`` writes nothing to the metadata DB (no DAG, no active Asset), so a task
  with an Asset outlet fails (AirflowInactiveAssetInInletOrOutletException); 3.1's syncs the DAG first.
  On 3.0, :func:`install` makes ``dag.test()`` of a DAG parsed from a file sync it first.
"""

from __future__ import annotations

from importlib.metadata import version

from packaging.version import Version

try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:  # Airflow < 3.2
    from airflow.models.dagbag import DagBag

__all__ = ["DagBag", "install"]


def install() -> None:
    if Version(version("apache-airflow-core")) >= Version("3.1.0"):
        return
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.sdk.definitions.dag import DAG

    original = DAG.test

    def test(self, *args, **kwargs):
        if getattr(self, "relative_fileloc", None) is not None:  # parsed from a file, not built in a test
            DagBundlesManager().sync_bundles_to_db()
            bag = DagBag(dag_folder="/nonexistent", include_examples=False, collect_dags=False)
            bag.dags = {self.dag_id: self}
            bag.sync_to_db("dags-folder", None)
        return original(self, *args, **kwargs)

    DAG.test = test
