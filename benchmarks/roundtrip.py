"""The command round trip on each target kind: what one ``execute("true")`` costs.

Run from the repository root, as root (the simulated device needs a mount
namespace)::

    python benchmarks/roundtrip.py            # about a minute
    python benchmarks/roundtrip.py --calls 2000

Every workload step, sysfs read and instrument poll is a command, so this is
the floor under every measurement pytest-wa takes on a device. Measured with
the real servers the test suite uses: this host (``local``), a real OpenSSH
server on 127.0.0.1 with key authentication (``ssh``, loopback), and the real
adb server with the simulated Android device attached over TCP (``adb``).
For the adb target, two references are timed on the same device: adbutils'
own ``shell2`` (which sleeps 10 ms whenever it closes a connection) and the
``adb shell`` command-line client.

Printed: the median and the 10th/90th percentiles of each, and for the SSH and
adb targets the ratio median/target (<= 1.0 meets issue 4: 3 ms over SSH on
loopback, 5 ms through the adb server). The script reports, it does not
assert; exit status 2 means it could not measure.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGETS_MS = {"ssh": 3.0, "adb": 5.0}


def timings(call: Callable[[], object], calls: int, warmup: int = 20) -> list[float]:
    for _ in range(warmup):
        call()
    result = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        result.append((time.perf_counter() - started) * 1000)
    return result


def report(name: str, values: list[float], target: float | None = None) -> None:
    values = sorted(values)
    median = statistics.median(values)
    p10 = values[len(values) // 10]
    p90 = values[len(values) * 9 // 10]
    line = f"{name:<34} median {median:7.2f} ms   p10 {p10:6.2f}   p90 {p90:6.2f}   n={len(values)}"
    if target is not None:
        verdict = "PASS" if median <= target else "FAIL"
        line += f"   target <= {target:g} ms   ratio {median / target:4.2f}  {verdict}"
    print(line, flush=True)


def measure_local(calls: int) -> None:
    from pytest_wa.targets.local import LocalTarget

    target = LocalTarget()
    target.connect()
    try:
        report("local   execute('true')", timings(lambda: target.execute("true"), calls))
    finally:
        target.disconnect()


def measure_ssh(calls: int) -> None:
    from pytest_wa.targets.ssh import SshTarget
    from pytest_wa.testing.sshd import SshServer

    with SshServer() as server:
        target = SshTarget("bench", server.host, port=server.port, username=server.username,
                           keyfile=server.client_key, known_hosts=server.known_hosts)
        target.connect()
        try:
            report("ssh     execute('true')", timings(lambda: target.execute("true"), calls),
                   TARGETS_MS["ssh"])
        finally:
            target.disconnect()


def measure_adb(calls: int) -> None:
    import adbutils

    from pytest_wa.targets.android import AndroidTarget
    from pytest_wa.testing.adb import AdbServer, adb_path
    from pytest_wa.testing.simdevice import SimulatedDevice

    server = AdbServer()
    server.start()
    try:
        with SimulatedDevice() as device:
            server.connect(device.address)
            target = AndroidTarget("bench", serial=device.address, adb_port=server.port)
            target.connect()
            try:
                report("adb     execute('true')",
                       timings(lambda: target.execute("true"), calls), TARGETS_MS["adb"])
                shell = adbutils.AdbClient(port=server.port).device(device.address)
                report("  ref: adbutils shell2('true')",
                       timings(lambda: shell.shell2("true"), max(calls // 5, 50)))
                argv = [adb_path(), "-P", str(server.port), "-s", device.address, "shell",
                        "true"]
                report("  ref: adb shell true (CLI)",
                       timings(lambda: subprocess.run(argv, check=True),
                               max(calls // 5, 50), warmup=5))
            finally:
                target.disconnect()
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500, help="commands per target")
    parser.add_argument("--only", choices=("local", "ssh", "adb"), action="append",
                        help="measure only these targets (repeatable)")
    args = parser.parse_args()
    chosen = args.only or ["local", "ssh", "adb"]
    print(f"command round trip, {args.calls} calls each (python {sys.version.split()[0]})")
    failed = False
    for name, measure in (("local", measure_local), ("ssh", measure_ssh),
                          ("adb", measure_adb)):
        if name not in chosen:
            continue
        try:
            measure(args.calls)
        except Exception as exc:  # report and go on: one missing server is not the others
            print(f"{name:<8}could not measure: {type(exc).__name__}: {exc}", flush=True)
            failed = True
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
