"""``openssl``: ``openssl speed`` for one algorithm, with WA3 3.3.1's parameters and metrics.

The command is WA3's, ``openssl speed -mr -multi THREADS [-evp] ALGORITHM``,
after ``openssl version``: the version decides what the numbers mean
(``openssl_results.py``). WA3 read OpenSSL 1.1.0's numbers; on OpenSSL 1.1.1
and 3 it labels rates as seconds, swaps ecdh's two columns and stops with an
IndexError on the 18th curve. The metrics here keep WA3's names and mean the
same on every version: sign/verify and ops_per_sec are rates, op is seconds.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..model.errors import WorkloadError
from ..model.parameters import Kind, Parameter, ParameterValueError, boolean, integer, string
from ..targets.protocols import ExecutablesDirectory
from .openssl_results import read_speed
from .resources import Tool
from .tool import BINARY, Reading, ToolWorkload

if TYPE_CHECKING:
    from ..plugins.context import JobContext

#: WA3's ciphers and digests, run through the EVP interface (``-evp``).
EVP_ALGORITHMS = ("aes-128-cbc", "aes-192-cbc", "aes-256-cbc", "aes-128-gcm", "aes-192-gcm",
                  "aes-256-gcm", "sha1", "sha256", "sha384", "sha512")
#: WA3's public-key families: every key length or curve the build knows.
FAMILIES = ("rsa", "dsa", "ecdh", "ecdsa")
#: One key length or curve, as ``openssl speed`` names it (a pytest-wa addition).
ONE_KEY = re.compile(r"^(rsa\d+|dsa\d+|ecdsa[a-z0-9]+|ecdh[a-z0-9]+|ed25519|ed448|eddsa)$")
#: How many timed tests a family runs (OpenSSL 3: two per key, one per ecdh curve).
TESTS = {"rsa": 14, "dsa": 6, "ecdsa": 44, "ecdh": 24, "eddsa": 4}


def _algorithm(value: Any) -> str:
    text = string(value).strip()
    if text in EVP_ALGORITHMS or text in FAMILIES or ONE_KEY.match(text):
        return text
    raise ParameterValueError(
        f"{text!r} is not one of WA3's algorithms ({', '.join(EVP_ALGORITHMS + FAMILIES)}) "
        "nor one key of openssl speed (rsa2048, dsa2048, ecdsap256, ecdhx25519, ed25519...)")


algorithm_kind = Kind("string", _algorithm)


class Openssl(ToolWorkload):
    name = "openssl"
    description = """
        Measure OpenSSL's throughput with 'openssl speed' for one algorithm.

        Runs 'openssl speed -mr -multi THREADS [-evp] ALGORITHM' as WA3 does. Ciphers
        and digests give 'score' (MB/s, one per block_size); rsa, dsa and ecdsa give
        'sign' and 'verify' (operations per second, per key_length and curve); ecdh
        gives 'op' (seconds) and 'ops_per_sec' (Hz), per key_length and curve.
        """
    tool = Tool("openssl", debian="openssl")
    parameters = (
        Parameter("algorithm", algorithm_kind, default="aes-256-cbc",
                  description="What to measure: a cipher or digest of WA3's ("
                              f"{', '.join(EVP_ALGORITHMS)}), a public-key family "
                              f"({', '.join(FAMILIES)}: every key length or curve), or one "
                              "key as openssl speed names it (rsa2048, ecdhp256...; a pytest-wa "
                              "addition)."),
        Parameter("threads", integer, default=1,
                  description="Processes measuring at once (-multi); results are their sum."),
        Parameter("use_system_binary", boolean, default=True,
                  description="Use the device's own openssl (on its PATH); false: one from "
                              "--wa-resources (or WA3's dependencies directory), pushed."),
        Parameter("uninstall", boolean, default=True,
                  description="At the end of the run, remove the openssl pytest-wa pushed to "
                              "the device (never the device's own); WA3's base parameter."),
        Parameter("seconds", integer,
                  description="Seconds per test (-seconds; OpenSSL 1.1.1 and later). Default: "
                              "openssl's own, 3 for ciphers and 10 for public keys. A pytest-wa "
                              "addition."),
        Parameter("block_size", integer,
                  description="Measure ciphers and digests on this block size only (-bytes; "
                              "OpenSSL 1.1.1 and later). A pytest-wa addition."),
        BINARY,
    )

    algorithm: str
    threads: int
    use_system_binary: bool
    uninstall: bool
    seconds: int | None
    block_size: int | None

    def validate(self) -> None:
        for name in ("threads", "seconds", "block_size"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        if self.block_size is not None and self.algorithm not in EVP_ALGORITHMS:
            raise ValueError(f"block_size applies to ciphers and digests, not to "
                             f"{self.algorithm!r}")

    def initialize(self, context: JobContext) -> None:
        """WA3's use_system_binary: the device's openssl, or (false) one from this host."""
        if self.use_system_binary and not self.values.get("binary"):
            self.program = self._system_openssl(context)
        else:
            super().initialize(context)

    def _system_openssl(self, context: JobContext) -> str:
        found = context.target.execute("command -v openssl", timeout=30)
        path = found.stdout.strip().splitlines()[0] if found.ok and found.stdout.strip() else ""
        if not path:
            raise WorkloadError(
                f"workload 'openssl': device {context.run.device!r} has no openssl on its "
                f"PATH (use_system_binary is true); {self.tool.hint()}, or set "
                "use_system_binary: false and put one in a --wa-resources directory")
        return path

    def command_line(self, context: JobContext) -> str:
        program = shlex.quote(self.program)
        options = ["-mr", "-multi", str(self.threads)]
        if self.seconds:
            options += ["-seconds", str(self.seconds)]
        if self.block_size:
            options += ["-bytes", str(self.block_size)]
        if self.algorithm in EVP_ALGORITHMS:
            options.append("-evp")
        return f"{program} version && {program} speed {' '.join(options)} {self.algorithm}"

    def time_limit(self) -> float:
        """A generous bound from the number of timed tests and their length."""
        if self.algorithm in EVP_ALGORITHMS:
            tests, default_seconds = (1 if self.block_size else 6), 3
        else:
            tests, default_seconds = TESTS.get(self.algorithm, 2), 10
        return tests * (self.seconds or default_seconds) * 3 + 60

    def parse(self, output: str) -> Iterable[Reading]:
        return read_speed(output)

    def finalize(self, context: JobContext) -> None:
        """uninstall, as WA3: remove the openssl this run pushed (never the device's own)."""
        target = context.target
        if (self.uninstall and isinstance(target, ExecutablesDirectory)
                and self.program.startswith(f"{target.executables_directory}/")):
            target.execute(f"rm -f {shlex.quote(self.program)}", timeout=60)
