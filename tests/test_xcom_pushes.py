"""No task of the session's DAG runs pushed a None XCom value (tests/xcom_pushes.py records them); they
run last. A session without DAG runs has nothing to check and skips."""

from __future__ import annotations

import pytest

from tests import xcom_pushes

pytestmark = pytest.mark.after_all_dags


def test_no_task_pushed_a_none_xcom():
    if not xcom_pushes.PUSHED:
        pytest.skip("no task pushed an XCom in this session (no DAG ran)")
    assert xcom_pushes.NONE == []
