"""A private PostgreSQL server for tests and benchmarks: Debian's binaries, our data directory.

The server listens on 127.0.0.1 on a free port with its own data and socket
directories, and needs a password over TCP (SCRAM), as a team's server would;
it is stopped (and its files removed by the caller's temporary directory)
when the test is done. As root, the server runs as the ``postgres`` user
(PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from .ports import free_port

USER = "wa"
PASSWORD = "s3cret-Pa55word"  # what the tests check never appears in any output


def binaries() -> Path | None:
    """The newest installed PostgreSQL's bin directory (Debian keeps it off PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


class PostgresServer:
    """``start()`` it, give ``url()`` to the code under test, ``stop()`` it."""

    def __init__(self, *, durable: bool = False) -> None:
        bindir = binaries()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed (Debian: apt install postgresql)")
        self.bin = bindir
        # not under pytest's tmp_path: as root that is private to root, and the
        # server (user postgres) must reach its files
        self.base = Path(tempfile.mkdtemp(prefix="pytest-wa-postgres-"))
        self.data = self.base / "data"
        self.sockets = self.base / "sockets"
        self.port = free_port()
        self.durable = durable
        self.process: subprocess.Popen[bytes] | None = None

    def _as_owner(self) -> list[str]:
        return (["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"]
                if os.geteuid() == 0 else [])

    def _prepare(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        self.sockets.mkdir(exist_ok=True)
        secret = self.base / "password"
        secret.write_text(PASSWORD + "\n")
        if os.geteuid() == 0:
            self.base.chmod(0o755)
            for path in (self.base, self.sockets, secret):
                shutil.chown(path, "postgres", "postgres")
        subprocess.run([*self._as_owner(), str(self.bin / "initdb"), "-D", str(self.data),
                        "-U", USER, "--auth-local=trust", "--auth-host=scram-sha-256",
                        f"--pwfile={secret}", "-E", "UTF8", "--no-sync"],
                       check=True, capture_output=True)

    def start(self) -> PostgresServer:
        if not self.data.exists():
            self._prepare()
        settings = ["-c", "listen_addresses=127.0.0.1", "-c", f"port={self.port}",
                    "-c", f"unix_socket_directories={self.sockets}", "-c", "max_connections=50"]
        if not self.durable:
            settings += ["-c", "fsync=off", "-c", "synchronous_commit=off",
                         "-c", "full_page_writes=off"]
        self.process = subprocess.Popen(
            [*self._as_owner(), str(self.bin / "postgres"), "-D", str(self.data), *settings],
            stdout=subprocess.DEVNULL, stderr=open(self.base / "server.log", "ab"))  # noqa: SIM115
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = subprocess.run([str(self.bin / "pg_isready"), "-h", "127.0.0.1",
                                    "-p", str(self.port), "-q"], check=False)
            if ready.returncode == 0:
                return
            if self.process is not None and self.process.poll() is not None:
                break
            time.sleep(0.1)
        log = (self.base / "server.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"PostgreSQL did not start on port {self.port}:\n{log}")

    def create_database(self, name: str) -> str:
        """A new empty database; its URL (with the password)."""
        subprocess.run([str(self.bin / "createdb"), "-h", str(self.sockets), "-p",
                        str(self.port), "-U", USER, name], check=True, capture_output=True)
        return self.url(name)

    def url(self, database: str = "postgres", *, password: bool = True) -> str:
        secret = f":{PASSWORD}" if password else ""
        return f"postgresql://{USER}{secret}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        """Stop now (fast shutdown: clients are disconnected)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def remove(self) -> None:
        """Stop, and delete the data directory."""
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)
