"""Alerts per use case through Airflow notifiers: SNS (Amazon provider) and, optionally, Slack.

DAG files attach :func:`alert_args` to ``default_args`` so every task failure is announced; the train
DAG calls :func:`notify_not_promoted` when the gate keeps the champion. Where alerts go is the use
case's ``serving.alerts`` (``sns_topic_arn``, ``aws_conn_id``, ``slack_conn_id``, ``slack_channel``);
with none set, nothing is attached and nothing is sent.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

FAILURE_SUBJECT = "[personalize] {{ dag.dag_id }} failed"
FAILURE_MESSAGE = (
    "{{ dag.dag_id }}: task {{ ti.task_id }} failed (try {{ ti.try_number }}) in run {{ run_id }}.\n"
    "Error: {{ exception | default('see the task log') }}"
)


def _alerts(uc: Any) -> Any:
    return uc.serving.alerts if uc.serving is not None else None


def failure_notifiers(
    uc: Any, *, subject: str = FAILURE_SUBJECT, message: str = FAILURE_MESSAGE
) -> list[Any]:
    """Notifiers for the use case's alert channels; ``subject`` and ``message`` are Jinja over the task
    context."""
    alerts = _alerts(uc)
    if alerts is None:
        return []
    notifiers: list[Any] = []
    if alerts.sns_topic_arn:
        from airflow.providers.amazon.aws.notifications.sns import SnsNotifier

        notifiers.append(
            SnsNotifier(
                aws_conn_id=alerts.aws_conn_id,
                target_arn=alerts.sns_topic_arn,
                subject=subject,
                message=message,
            )
        )
    if alerts.slack_conn_id:
        try:
            from airflow.providers.slack.notifications.slack import SlackNotifier
        except ImportError as exc:
            raise ValueError(
                f"include/config/{uc.name}.yaml: serving.alerts.slack_conn_id is set but "
                "apache-airflow-providers-slack is not installed"
            ) from exc
        notifiers.append(
            SlackNotifier(
                slack_conn_id=alerts.slack_conn_id, text=message, channel=alerts.slack_channel or "#general"
            )
        )
    return notifiers


def alert_args(uc: Any) -> dict[str, Any]:
    """``default_args`` entries that announce every task failure; empty when no channel is configured."""
    notifiers = failure_notifiers(uc)
    return {"on_failure_callback": notifiers} if notifiers else {}


def not_promoted_message(*, use_case: str, run_id: str, reason: str, champion: str | None) -> tuple[str, str]:
    """(subject, message) of a "not promoted" alert."""
    subject = f"[personalize] {use_case}: challenger not promoted"
    message = f"{use_case}: run {run_id} kept the champion ({champion or 'none yet'}).\nReason: {reason}"
    return subject, message


def notify_not_promoted(uc: Any, context: Any, *, reason: str, champion: str | None = None) -> int:
    """Send a "not promoted" alert through every configured channel; returns how many were sent.

    :param context: the task's context (for the run id).
    :param reason: the gate's reason.
    :param champion: the solution version that keeps serving.
    """
    subject, message = not_promoted_message(
        use_case=uc.name, run_id=str(context.get("run_id")), reason=reason, champion=champion
    )
    return notify(uc, context, subject=subject, message=message)


def notify(uc: Any, context: Any, *, subject: str, message: str) -> int:
    """Send ``subject`` and ``message`` through every configured channel; returns how many were sent."""
    notifiers = failure_notifiers(uc, subject=subject, message=message)
    for notifier in notifiers:
        notifier.notify(context)  # the text is final: no Jinja rendering of a message that may hold braces
    log.info("%r sent to %d channel(s)", subject, len(notifiers))
    return len(notifiers)
