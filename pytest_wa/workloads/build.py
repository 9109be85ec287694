"""Building pytest-wa's own benchmark programs from their C sources, for this host.

dhrystone and memcpy are small C programs written for pytest-wa
(``workloads/src/``). When no resource directory and no device has them, they
are compiled with this host's C compiler (``$CC``, else ``cc``) on first use
and kept in a cache keyed by the source's hash (``$XDG_CACHE_HOME/pytest-wa``,
else ``~/.cache/pytest-wa``), so later runs start at once. Only this host's
ABI is built: a cross compiler is a lab's business, and its binaries go in a
``--wa-resources`` directory.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..model.errors import WorkloadError

SOURCES = Path(__file__).resolve().parent / "src"
FLAGS = ("-O2", "-std=gnu99", "-pthread")


def cache_directory() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pytest-wa" / "bin" / platform.machine()


def build_program(source: str, name: str) -> Path:
    """The program built from ``src/<source>``, compiled now unless the cache has it."""
    code = (SOURCES / source).read_bytes()
    digest = hashlib.sha256(code + " ".join(FLAGS).encode()).hexdigest()[:16]
    program = cache_directory() / f"{name}-{digest}"
    if not program.is_file():
        _compile(SOURCES / source, program)
    return program


def _compile(source: Path, program: Path) -> None:
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise WorkloadError(f"cannot build {source.name}: no C compiler on this host "
                            "(Debian: apt-get install gcc), and no prebuilt binary was found")
    program.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=program.parent, delete=False) as scratch:
        partial = Path(scratch.name)
    try:
        result = subprocess.run([compiler, *FLAGS, "-o", str(partial), str(source), "-lm"],
                                capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise WorkloadError(f"building {source.name} with {compiler} failed:\n"
                                f"{result.stderr.strip()[-2000:]}")
        partial.chmod(0o755)
        partial.replace(program)  # atomic: a concurrent build cannot leave half a file
    finally:
        partial.unlink(missing_ok=True)
