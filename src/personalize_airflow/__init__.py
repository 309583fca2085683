"""Airflow-facing code: hooks, operators, sensors, triggers, task callables."""
