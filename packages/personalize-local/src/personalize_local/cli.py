"""``personalize-local serve``: the endpoint from the command line."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

from personalize_local.server import Endpoint
from personalize_local.settings import Settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="personalize-local", description="An offline AWS endpoint for S3 and Amazon Personalize."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="serve S3, STS, IAM, SSM, SNS, SQS and Personalize on one endpoint",
        description="Every option can also be set as PERSONALIZE_LOCAL_<OPTION>, "
        "e.g. PERSONALIZE_LOCAL_TRAIN_SECONDS=120; lists are comma-separated "
        "(PERSONALIZE_LOCAL_BUCKETS=a,b; PERSONALIZE_LOCAL_FAULT_OPERATIONS="
        "GetRecommendations) and PERSONALIZE_LOCAL_PERSIST_S3=0 turns "
        "S3 mirroring off.",
    )
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to bind (default 4566; 0 picks a free one)")
    serve.add_argument(
        "--state-dir",
        type=Path,
        help="where resources, imported data, models and S3 objects persist "
        "(default ./personalize-local-state)",
    )
    serve.add_argument("--phase-seconds", type=float, help="minimum duration of each lifecycle phase (0.2)")
    serve.add_argument("--train-seconds", type=float, help="minimum time a solution version trains (0)")
    serve.add_argument("--throttle-rate", type=float, help="fraction of calls answered ThrottlingException")
    serve.add_argument("--error-rate", type=float, help="fraction of calls answered HTTP 500")
    serve.add_argument(
        "--fault-operation",
        dest="fault_operations",
        action="append",
        help="operation the fault rates apply to (repeatable; default all)",
    )
    serve.add_argument(
        "--fail-job",
        dest="fail_jobs",
        action="append",
        help="resource name whose creation is forced to fail, or update:<campaign or recommender name> "
        "to fail its updates (repeatable)",
    )
    serve.add_argument("--fault-seed", type=int, help="seed for reproducible fault injection")
    serve.add_argument(
        "--bucket",
        dest="buckets",
        action="append",
        help="an S3 bucket that exists from the start (repeatable; kept if the state dir has it already)",
    )
    serve.add_argument(
        "--no-persist-s3",
        dest="persist_s3",
        action="store_false",
        default=None,
        help="keep S3 objects in memory only (by default they are mirrored under the state dir)",
    )
    serve.add_argument("--s3-sync-seconds", type=float, help="how often S3 objects are mirrored to disk (1)")
    serve.add_argument("--log-level", default="INFO")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    options = {k: v for k, v in vars(args).items() if k not in ("command", "log_level")}
    endpoint = Endpoint(Settings.from_env(**options))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"personalize-local serving {endpoint.url}", flush=True)
    try:
        endpoint.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        endpoint.stop_background()
    return 0


if __name__ == "__main__":
    sys.exit(main())
