"""The full stack as native processes: what `make stack-up` / `make stack-down` run.

The topology of docker-compose.yaml on this machine: Airflow's metadata DB in its own database on the
Postgres at PG_HOST:PG_PORT (created if missing), CeleryExecutor on the Redis at REDIS_HOST:REDIS_PORT,
a Celery worker, a triggerer, a scheduler, a dag-processor, the api-server (UI and REST API) and
personalize-local as the AWS endpoint. Everything it writes — Airflow home, logs, pid files, the
endpoint's state, the demo warehouse — is under one directory (build/stack/ by default).

    python -m stack.native up       # idempotent: starts what is not running, prints the UI's login
    python -m stack.native down     # stops every process it started (pid files), keeps the state
    python -m stack.native status

The system tests and bench/waiting.py start their own `Stack` with another database, Celery queue, home
and ports, so they never touch a developer's running stack.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
COMPONENTS = ("personalize-local", "api-server", "scheduler", "dag-processor", "triggerer", "worker")
HEALTH_COMPONENTS = ("metadatabase", "scheduler", "triggerer", "dag_processor")


class StackError(RuntimeError):
    """A component did not start, or a service the stack needs is unreachable."""


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


@dataclass(frozen=True, kw_only=True)
class Stack:
    """One native Airflow deployment: where it lives, which databases and ports it uses.

    :param home: directory for the Airflow home, logs, pid files, endpoint state and warehouse.
    :param db_name: Airflow's metadata database on the Postgres server (created if missing).
    :param redis_db: the Redis database number the Celery broker uses.
    :param api_port: the api-server's port (UI, REST API and the execution API the workers call).
    :param endpoint_port: personalize-local's port.
    :param executor: ``CeleryExecutor`` (the production topology) or ``LocalExecutor`` (no worker).
    :param train_seconds: minimum time personalize-local takes to train a solution version.
    :param phase_seconds: minimum time of each other Personalize lifecycle phase.
    :param warehouse_interactions: size of the synthetic shop warehouse generated when none exists
        (0: none).
    :param dags_folder: the DAG files to serve.
    :param extra_env: more environment for every process (e.g. ``AIRFLOW__PERSONALIZE__POLL_SECONDS``).
    """

    home: Path = ROOT / "build" / "stack"
    db_name: str = "airflow_stack"
    pg_host: str = field(default_factory=lambda: _env("PG_HOST", "127.0.0.1"))
    pg_port: int = field(default_factory=lambda: int(_env("PG_PORT", "5432")))
    pg_user: str = field(default_factory=lambda: _env("PG_USER", "postgres"))
    redis_host: str = field(default_factory=lambda: _env("REDIS_HOST", "127.0.0.1"))
    redis_port: int = field(default_factory=lambda: int(_env("REDIS_PORT", "6379")))
    redis_db: int = 0
    api_port: int = 8080
    endpoint_port: int = 4566
    worker_log_port: int = 8793
    trigger_log_port: int = 8794
    executor: str = "CeleryExecutor"
    worker_concurrency: int = 4
    train_seconds: float = 0
    phase_seconds: float = 0.2
    warehouse_interactions: int = 200_000
    dags_folder: Path = ROOT / "dags"
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def pids(self) -> Path:
        return self.home / "run"

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse" / "shop.duckdb"

    @property
    def cache(self) -> Path:
        """The DuckDB file the batch DAG writes recommendations to (exports read the warehouse meanwhile)."""
        return self.home / "warehouse" / "cache.duckdb"

    @property
    def api_url(self) -> str:
        return f"http://localhost:{self.api_port}"

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.endpoint_port}"

    @property
    def components(self) -> tuple[str, ...]:
        return tuple(c for c in COMPONENTS if c != "worker" or self.executor == "CeleryExecutor")

    @property
    def queue(self) -> str:
        """The Celery queue of this stack's tasks: stacks sharing a Redis never take each other's."""
        return self.db_name

    def database_url(self, driver: str = "postgresql+psycopg2") -> str:
        return f"{driver}://{self.pg_user}@{self.pg_host}:{self.pg_port}/{self.db_name}"

    def environment(self) -> dict[str, str]:
        """The environment every Airflow process of this stack runs with (os.environ plus these)."""
        env = dict(os.environ)
        for key in [k for k in env if k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))]:
            del env[key]
        env.setdefault("AWS_ACCESS_KEY_ID", "local")
        env.setdefault("AWS_SECRET_ACCESS_KEY", "local")
        env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        env.update(
            {
                "AIRFLOW_HOME": str(self.airflow_home),
                "AIRFLOW__CORE__EXECUTOR": self.executor,
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.api_port}/execution/",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.database_url(),
                "AIRFLOW__CELERY__BROKER_URL": f"redis://{self.redis_host}:{self.redis_port}/{self.redis_db}",
                "AIRFLOW__CELERY__RESULT_BACKEND": self.database_url("db+postgresql"),
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.worker_concurrency),
                "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.queue,
                "AIRFLOW__API__BASE_URL": self.api_url,
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API_AUTH__JWT_SECRET": self._jwt_secret(),
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.logs / "tasks"),
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(self.worker_log_port),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(self.trigger_log_port),
                "AIRFLOW_CONN_WAREHOUSE": json.dumps(
                    {
                        "conn_type": "duckdb",
                        "host": str(self.warehouse),
                        "extra": {"cache_path": str(self.cache)},
                    }
                ),
                "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(
                    {
                        "conn_type": "aws",
                        "extra": {"endpoint_url": self.endpoint_url, "region_name": "us-east-1"},
                    }
                ),
            }
        )
        env.update(self.extra_env)
        return env

    def _jwt_secret(self) -> str:
        """One random secret per stack, shared by its components (the api-server signs, workers present)."""
        path = self.home / "jwt_secret"
        if not path.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_hex(32))
        return path.read_text().strip()

    # ---- lifecycle ----------------------------------------------------------------------------------

    def up(self, *, timeout: float = 240) -> None:
        """Start every component that is not already running and wait until Airflow reports healthy."""
        for path in (self.airflow_home, self.logs, self.pids):
            path.mkdir(parents=True, exist_ok=True)
        if "personalize-local" not in self.running():
            self._start("personalize-local")
        if not self.running_airflow():
            self._create_database()
            warehouse = self._generate_warehouse()  # beside the migration: both take a while
            log(f"migrating the metadata DB {self.db_name} on {self.pg_host}:{self.pg_port}")
            self.airflow("db", "migrate")
            if warehouse is not None and warehouse.wait() != 0:
                raise StackError(f"generating {self.warehouse} failed (exit {warehouse.returncode})")
        for component in self.components:
            if component not in self.running():
                self._start(component)
            if component == "personalize-local":
                self._wait_for_endpoint(timeout=timeout)
        self.wait_healthy(timeout=timeout)

    def down(self, *, timeout: float = 30) -> list[str]:
        """Stop every process this stack started (by its pid file); return the components stopped.

        Each component's process group gets SIGTERM at once, and SIGKILL if it is still there after
        ``timeout`` seconds.
        """
        pids = {c: pid for c in reversed(COMPONENTS) if (pid := self._pid(c)) is not None}
        stopping = {c: pid for c, pid in pids.items() if _alive(pid)}
        for pid in stopping.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while any(_alive(pid) for pid in stopping.values()) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in stopping.values():
            if _alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
        for component in pids:
            self._pid_file(component).unlink(missing_ok=True)
        return list(stopping)

    def kill(self, component: str, sig: int = signal.SIGKILL) -> list[int]:
        """Signal a component's whole process tree at once, as a host or container dying would.

        That is its process group and the group of every descendant: Airflow's task runners run in
        process groups of their own, so signalling only the worker's group would leave a task running
        with no worker behind it. ``SIGSTOP`` freezes the tree in place (``SIGCONT`` resumes it); with
        ``SIGKILL`` this returns once every process is gone. Returns the pids signalled.
        """
        import psutil

        pid = self._pid(component)
        if pid is None or not _alive(pid):
            raise StackError(f"{component} is not running")
        signalled: set[int] = set()
        deadline = time.monotonic() + 30
        while True:
            tree = {pid, *signalled}
            with contextlib.suppress(psutil.NoSuchProcess):
                tree.update(child.pid for child in psutil.Process(pid).children(recursive=True))
            tree = {p for p in tree if _alive(p)}
            if not tree or (sig != signal.SIGKILL and tree <= signalled):
                return sorted(signalled)
            if time.monotonic() > deadline:
                raise StackError(f"{component}: {tree} still alive after {sig!r}")
            groups = set()
            for member in tree:
                with contextlib.suppress(ProcessLookupError):
                    groups.add(os.getpgid(member))
            for target in groups:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(target, sig)
            for member in tree:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(member, sig)
            signalled.update(tree)
            time.sleep(0.05)

    def start(self, component: str) -> None:
        """Start one component if it is not running (e.g. a worker again after :meth:`kill`)."""
        if component not in self.running():
            self._start(component)

    def running(self) -> list[str]:
        return [c for c in COMPONENTS if (pid := self._pid(c)) is not None and _alive(pid)]

    def running_airflow(self) -> list[str]:
        return [c for c in self.running() if c != "personalize-local"]

    def wait_healthy(self, *, timeout: float = 240) -> dict:
        """Wait until the api-server answers and reports the DB, scheduler, triggerer and dag-processor healthy."""
        deadline = time.monotonic() + timeout
        health: dict = {}
        while time.monotonic() < deadline:
            dead = [c for c in self.components if c not in self.running()]
            if dead:
                raise StackError(f"{', '.join(dead)} exited; see {self.logs}/<component>.log")
            try:
                with urllib.request.urlopen(f"{self.api_url}/api/v2/monitor/health", timeout=5) as response:
                    health = json.load(response)
                if all(health.get(c, {}).get("status") == "healthy" for c in HEALTH_COMPONENTS):
                    return health
            except (OSError, ValueError):
                pass
            time.sleep(1)
        raise StackError(
            f"the stack was not healthy within {timeout:.0f}s: {health or 'api-server not answering'}"
        )

    def purge_broker(self) -> None:
        """Delete this stack's Celery queue from Redis (messages a killed run left behind)."""
        import redis

        client = redis.Redis(host=self.redis_host, port=self.redis_port, db=self.redis_db)
        client.delete(self.queue, f"_kombu.binding.{self.queue}")

    def drop_database(self) -> None:
        """Drop this stack's metadata database (the stack must be down)."""
        with self._admin() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')

    # ---- using it -----------------------------------------------------------------------------------

    def airflow(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run an `airflow` CLI command against this stack."""
        result = subprocess.run(
            [str(BIN / "airflow"), *args], env=self.environment(), capture_output=True, text=True, cwd=ROOT
        )
        if check and result.returncode != 0:
            raise StackError(
                f"airflow {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result

    def credentials(self) -> dict[str, str]:
        """The UI's users and the passwords Airflow's simple auth manager generated for them."""
        path = self.airflow_home / "simple_auth_manager_passwords.json.generated"
        return json.loads(path.read_text()) if path.exists() else {}

    def token(self) -> str:
        """A JWT for the REST API, from /auth/token with the generated admin password."""
        body = json.dumps({"username": "admin", "password": self.credentials()["admin"]}).encode()
        request = urllib.request.Request(
            f"{self.api_url}/auth/token", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)["access_token"]

    # ---- internals ----------------------------------------------------------------------------------

    def _command(self, component: str) -> list[str]:
        airflow = str(BIN / "airflow")
        return {
            "personalize-local": [
                str(BIN / "personalize-local"),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.endpoint_port),
                "--state-dir",
                str(self.home / "personalize-local"),
                "--train-seconds",
                str(self.train_seconds),
                "--phase-seconds",
                str(self.phase_seconds),
                *(flag for bucket in _use_case_buckets() for flag in ("--bucket", bucket)),
            ],
            "api-server": [airflow, "api-server", "--host", "127.0.0.1", "--port", str(self.api_port)],
            "scheduler": [airflow, "scheduler"],
            "dag-processor": [airflow, "dag-processor"],
            "triggerer": [airflow, "triggerer"],
            "worker": [
                airflow,
                "celery",
                "worker",
                "--celery-hostname",
                f"{self.db_name}@%h",
                "--queues",
                self.queue,
                "--without-gossip",
                "--without-mingle",
            ],
        }[component]

    def _start(self, component: str) -> None:
        with open(self.logs / f"{component}.log", "ab") as out:
            process = subprocess.Popen(
                self._command(component),
                env=self.environment(),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=ROOT,
                start_new_session=True,
            )
        self._pid_file(component).write_text(str(process.pid))
        log(f"started {component} (pid {process.pid}, log {self.logs / (component + '.log')})")

    def _pid_file(self, component: str) -> Path:
        return self.pids / f"{component}.pid"

    def _pid(self, component: str) -> int | None:
        try:
            return int(self._pid_file(component).read_text())
        except (FileNotFoundError, ValueError):
            return None

    @contextlib.contextmanager
    def _admin(self):
        import psycopg2

        try:
            con = psycopg2.connect(host=self.pg_host, port=self.pg_port, user=self.pg_user, dbname="postgres")
        except psycopg2.OperationalError as exc:
            raise StackError(f"PostgreSQL unreachable at {self.pg_host}:{self.pg_port} ({exc})") from exc
        con.autocommit = True
        try:
            with con.cursor() as cur:
                yield cur
        finally:
            con.close()

    def _create_database(self) -> None:
        with self._admin() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.db_name,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{self.db_name}"')
                log(f"created database {self.db_name}")

    def _generate_warehouse(self) -> subprocess.Popen | None:
        """Start generating the synthetic shop (history ending tomorrow, so every run up to now has data)."""
        if self.warehouse.exists() or not self.warehouse_interactions:
            return None
        self.warehouse.parent.mkdir(parents=True, exist_ok=True)
        end = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
        log(f"generating the shop warehouse ({self.warehouse_interactions:,} interactions, history to {end})")
        return subprocess.Popen(
            [
                str(BIN / "python"),
                "-m",
                "personalize_pipelines.warehouse.synthetic",
                "--interactions",
                str(self.warehouse_interactions),
                "--end",
                end,
                "--out",
                str(self.warehouse),
            ],
            stdout=subprocess.DEVNULL,
            cwd=ROOT,
        )

    def _wait_for_endpoint(self, *, timeout: float) -> None:
        """personalize-local answers S3 (it creates each use case's bucket at start: ``--bucket``)."""
        import boto3

        s3 = boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                s3.list_buckets()
                return
            except Exception as exc:
                if time.monotonic() > deadline or "personalize-local" not in self.running():
                    raise StackError(
                        f"personalize-local not answering at {self.endpoint_url}: {exc}"
                    ) from exc
                time.sleep(0.3)


def _use_case_buckets() -> list[str]:
    """The bucket of every use case of the example project."""
    import yaml

    from personalize_pipelines.project import Project

    buckets = set()
    for config in sorted(Project(ROOT).config_dir.glob("*.yaml")):
        bucket = (yaml.safe_load(config.read_text()).get("s3") or {}).get("bucket")
        if bucket:
            buckets.add(bucket)
    return sorted(buckets)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # a zombie (our own exited child) is not running
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    return True


def log(message: str) -> None:
    print(f"[stack] {message}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stack.native", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "down", "status"])
    args = parser.parse_args(argv)
    stack = Stack(
        api_port=int(_env("STACK_API_PORT", "8080")), endpoint_port=int(_env("STACK_ENDPOINT_PORT", "4566"))
    )
    if args.command == "down":
        stopped = stack.down()
        log(f"stopped {', '.join(stopped)}" if stopped else "nothing was running")
        return 0
    if args.command == "status":
        running = stack.running()
        for component in COMPONENTS:
            log(f"{component:18} {'running' if component in running else 'stopped'}")
        return 0 if running else 1
    try:
        stack.up()
    except StackError as exc:
        log(f"error: {exc}")
        return 1
    users = stack.credentials()
    log(f"Airflow UI: {stack.api_url}  (log in as {', '.join(f'{u} / {p}' for u, p in users.items())})")
    log(f"personalize-local (S3 + Personalize): {stack.endpoint_url}")
    log(f"state, logs and pid files under {stack.home}; DAGs start paused; `make stack-down` stops it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
