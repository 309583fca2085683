"""The tiny shop in the warehouses the export supports, for tests that run the same export on each.

- Snowflake: fakesnow's server (the Snowflake REST API over DuckDB, in this process) spoken to by the real
  snowflake-connector, the fixture tables copied in with CREATE TABLE and INSERT.
- Redshift: Postgres spoken to as Redshift. psycopg2 connects as it is; redshift_connector sends
  start-up parameters Postgres refuses and cannot parse Postgres's version string, so
  :func:`redshift_wire` sits between them and rewrites exactly those two things.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

SNOWFLAKE_SQL = Path(__file__).parent / "sql_snowflake"
"""The shop's sources, items and users queries in Snowflake's dialect (their sql root)."""

_SNOWFLAKE_TYPES = {"TIMESTAMP": "TIMESTAMP_NTZ"}


def _trim_keeping_characters(original):
    """fakesnow 0.12.1 rewrites TRIM(x, characters) to TRIM(CAST(x AS VARCHAR)) and so drops the characters
    (its trim_cast_varchar); this keeps them, casting x as fakesnow meant to. Snowflake itself trims the
    characters given, as its documentation says."""
    from sqlglot import exp

    def trim_cast_varchar(expression):
        if not isinstance(expression, exp.Trim) or expression.args.get("expression") is None:
            return original(expression)
        operand = expression.this
        if isinstance(operand, exp.Cast) and operand.to.this in (
            exp.DataType.Type.VARCHAR,
            exp.DataType.Type.TEXT,
        ):
            return expression
        expression = expression.copy()
        expression.set("this", exp.Cast(this=operand, to=exp.DataType(this=exp.DataType.Type.VARCHAR)))
        return expression

    return trim_cast_varchar


@contextmanager
def fakesnow_server() -> Iterator[dict]:
    """fakesnow's server, with its TRIM fixed; yields the connector's keyword arguments (no database)."""
    import fakesnow
    import fakesnow.transforms

    original = fakesnow.transforms.trim_cast_varchar
    fakesnow.transforms.trim_cast_varchar = _trim_keeping_characters(original)
    try:
        with fakesnow.server() as kwargs:
            yield {**kwargs, "network_timeout": 120}
    finally:
        fakesnow.transforms.trim_cast_varchar = original


def load_into_snowflake(duckdb_path: Path, connection) -> list[str]:
    """Every table of the DuckDB file, created in the connection's schema with its rows; the table names."""
    import duckdb

    source = duckdb.connect(str(duckdb_path), read_only=True)
    try:
        tables = [
            name for (name,) in source.execute("SELECT table_name FROM information_schema.tables").fetchall()
        ]
        with connection.cursor() as cur:
            for table in tables:
                columns = source.execute(f'DESCRIBE "{table}"').fetchall()
                definition = ", ".join(
                    f"{name} {_SNOWFLAKE_TYPES.get(kind, kind)}" for name, kind, *_ in columns
                )
                cur.execute(f"CREATE TABLE {table} ({definition})")
                placeholders = ", ".join(["%s"] * len(columns))
                cur.executemany(
                    f"INSERT INTO {table} VALUES ({placeholders})",
                    source.execute(f'SELECT * FROM "{table}"').fetchall(),
                )
    finally:
        source.close()
    return tables


# ---- Postgres as redshift_connector expects Redshift to answer -------------------------------------------
_STARTUP_KEPT = {b"user", b"database", b"application_name"}
"""Of redshift_connector's start-up parameters, those Postgres knows; it refuses client_protocol_version,
driver_version, os_version and driver_discovery_version with FATAL."""


def _read(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()


def _client_to_server(client: socket.socket, server: socket.socket) -> None:
    try:
        while data := client.recv(65536):
            server.sendall(data)
    except OSError:
        pass
    _close(client, server)


def _server_to_client(server: socket.socket, client: socket.socket) -> None:
    """Message by message; ParameterStatus server_version loses its suffix ('15.20 (Debian …)' → '15.20'),
    which redshift_connector parses as a version number."""
    try:
        while True:
            head = _read(server, 5)
            body = _read(server, struct.unpack("!i", head[1:])[0] - 4)
            if head[:1] == b"S" and body.startswith(b"server_version\0"):
                number = body[len(b"server_version\0") :].rstrip(b"\0").split(b" ")[0]
                body = b"server_version\0" + number + b"\0"
            client.sendall(head[:1] + struct.pack("!i", len(body) + 4) + body)
    except (OSError, ConnectionError):
        pass
    _close(client, server)


def _relay(client: socket.socket, upstream: tuple[str, int]) -> None:
    try:
        length = struct.unpack("!i", _read(client, 4))[0]
        startup = _read(client, length - 4)
    except (OSError, ConnectionError):
        _close(client)
        return
    fields = startup[4:].split(b"\0")
    kept = b"".join(
        key + b"\0" + value + b"\0"
        for key, value in zip(fields[0::2], fields[1::2], strict=False)
        if key in _STARTUP_KEPT
    )
    packet = startup[:4] + kept + b"\0"
    server = socket.create_connection(upstream)
    server.sendall(struct.pack("!i", len(packet) + 4) + packet)
    threading.Thread(target=_server_to_client, args=(server, client), daemon=True).start()
    _client_to_server(client, server)


@contextmanager
def redshift_wire(upstream: tuple[str, int]) -> Iterator[int]:
    """A loopback port where redshift_connector (ssl=False) reaches the Postgres at ``upstream``."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def accept() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=_relay, args=(client, upstream), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
