"""The edge: one WSGI app routing on the SigV4 credential scope, and the threaded HTTP server."""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from moto.core.config import default_user_config
from moto.iam.models import iam_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from personalize_local.errors import InternalFailure, ServiceError
from personalize_local.faults import Faults
from personalize_local.models.backend import PersonalizeBackend
from personalize_local.models.context import RequestContext
from personalize_local.protocol import json11, rest_json
from personalize_local.protocol.dispatch import error_response
from personalize_local.s3_snapshot import S3Snapshot, ensure_buckets
from personalize_local.settings import Settings

log = logging.getLogger("personalize_local.server")

# sns/sqs: the pipelines' alerts; ssm: the parameters AWS's sample notebooks read in their setup
MOTO_SERVICES = frozenset({"s3", "sts", "iam", "sns", "sqs", "ssm"})
DEFAULT_REGION = "us-east-1"
_CREDENTIAL = re.compile(r"Credential=[^/\s,]+/\d{8}/([^/\s,]+)/([^/\s,]+)/aws4_request")
_QUERY_CREDENTIAL = re.compile(r"^[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request$")


def credential_scope(environ: dict[str, Any]) -> tuple[str, str] | None:
    """(region, service) from the Authorization header or a presigned URL's X-Amz-Credential."""
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match:
        return match.group(1), match.group(2).lower()
    request = Request(environ, populate_request=False)
    query_match = _QUERY_CREDENTIAL.match(request.args.get("X-Amz-Credential", ""))
    if query_match:
        return query_match.group(1), query_match.group(2).lower()
    return None


def load_aws_managed_policies() -> None:
    """Have moto's IAM hold AWS's managed policies, so that AttachRolePolicy with an
    ``arn:aws:iam::aws:policy/...`` ARN works as on AWS (moto leaves them out unless told).

    moto's switch is its process-wide config, read when an account's IAM is first used or reset; it is set
    in place, so a ``mock_aws`` context started meanwhile restores it as it is. An account whose IAM an
    earlier endpoint in this process already used gets the policies it missed.
    """
    default_user_config.setdefault("iam", {})["load_aws_managed_policies"] = True
    for account in iam_backends.values():
        for iam in account.values():
            if not iam.aws_managed_policies:
                iam.aws_managed_policies = iam._init_aws_policies()
                iam.managed_policies.update(iam._init_managed_policies())


class RequestHandler(MotoRequestHandler):
    """moto's handler (keeps S3 metadata headers with underscores), logging requests at DEBUG."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("%s %s", self.requestline, code)


class EdgeApp:
    """Routes the MOTO_SERVICES (S3, STS, IAM, SNS, SQS, SSM) to moto's server app as is, and Personalize
    to our protocol handlers."""

    def __init__(self, *, settings: Settings, backend: PersonalizeBackend) -> None:
        self.settings = settings
        self.backend = backend
        self.faults = Faults(settings)
        self.moto = DomainDispatcherApplication(create_backend_app)
        self._rest_backends = {"personalize-runtime": backend.runtime, "personalize-events": backend.events}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        try:
            return self._route(environ, start_response)
        except Exception:  # a bug must still answer the client, never drop the connection
            log.exception(
                "unhandled error for %s %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
            )
            response = error_response(InternalFailure("personalize-local hit an internal error; see its log"))
            return response(environ, start_response)

    def _route(self, environ: dict[str, Any], start_response: Any) -> Any:
        scope = credential_scope(environ)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if scope is None and not target.startswith(json11.TARGET_PREFIX):
            return self.moto(environ, start_response)
        region, service = scope or (DEFAULT_REGION, "personalize")
        if service in MOTO_SERVICES:
            return self.moto(environ, start_response)
        if service != "personalize":
            error = ServiceError(
                f"personalize-local serves {', '.join(sorted(MOTO_SERVICES))} and personalize; "
                f"the request is signed for {service!r}"
            )
            error.code = "UnknownServiceException"
            return error_response(error)(environ, start_response)
        request = Request(environ)
        context = RequestContext(region=region)
        if target:
            response: Response = json11.handle(
                request, backend=self.backend, faults=self.faults, context=context
            )
        else:
            response = rest_json.handle(
                request, backends=self._rest_backends, faults=self.faults, context=context
            )
        return response(environ, start_response)


class Endpoint:
    """A running endpoint: the backend (state, background jobs) behind a threaded HTTP server."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.backend = PersonalizeBackend(settings=settings)
        load_aws_managed_policies()
        self.app = EdgeApp(settings=settings, backend=self.backend)
        self.server: BaseWSGIServer = make_server(
            settings.host, settings.port, self.app, threaded=True, request_handler=RequestHandler
        )
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None
        self.s3_snapshot: S3Snapshot | None = None
        if settings.persist_s3:
            self.s3_snapshot = S3Snapshot(settings.state_dir / "s3", interval=settings.s3_sync_seconds)
            self.s3_snapshot.restore()
            self.s3_snapshot.start()
        if created := ensure_buckets(settings.buckets):
            log.info("created bucket(s) %s", ", ".join(created))

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def serve_forever(self) -> None:
        log.info("personalize-local listening on %s (state in %s)", self.url, self.settings.state_dir)
        self.server.serve_forever(poll_interval=0.1)

    def start(self) -> str:
        """Serve in a background thread; returns the URL."""
        self._thread = threading.Thread(target=self.serve_forever, name="personalize-local", daemon=True)
        self._thread.start()
        return self.url

    def stop_background(self) -> None:
        """Stop background work and write S3's final snapshot; state on disk stays."""
        self.backend.close()
        if self.s3_snapshot is not None:
            self.s3_snapshot.close()

    def close(self) -> None:
        """Stop serving, then background work."""
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.stop_background()
