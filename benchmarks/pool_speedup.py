"""Does a device pool pay off? Wall time of a waiting agenda on 4 devices vs 1.

Run from the repository root (about a minute)::

    python benchmarks/pool_speedup.py
    python benchmarks/pool_speedup.py --jobs 40 --duration 0.5 --devices 4

The agenda is ``--jobs`` iterations of ``idle`` with ``duration`` seconds:
jobs that mostly wait on the device, as real benchmarks do, so the pool's
speed-up is not limited by this machine's cores. Four simulated Android
devices (pytest_wa.testing.simdevice) are attached to a private adb server;
the same agenda runs with ``-n 1`` on the first device, then with ``-n 4`` on
the pool of all four, each a fresh ``python -m pytest`` process: what a user
waits for, start-up included. The ratio T(1 device) / T(pool) is printed
against the target (>= 3.5x for 4 devices). The script reports and does not
assert: it exits 0, or 2 if a run failed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_RATIO = 3.5


def timed_run(directory: Path, devices: list[str], adb_port: int) -> float:
    """Wall time of one pytest run of the agenda on ``devices`` (one worker each)."""
    env = {**os.environ, "ANDROID_ADB_SERVER_PORT": str(adb_port)}
    argv = [sys.executable, "-m", "pytest", "agenda.yaml", "-q", "-p", "no:cacheprovider",
            "-p", "no:randomly", "-n", str(len(devices)),
            "--wa-device=" + ",".join(f"adb:{serial}" for serial in devices),
            f"--wa-output=out-{len(devices)}", "--wa-force"]
    if len(devices) == 1:  # one device is not a pool: a single --wa-device
        argv[argv.index("-n") + 1] = "1"
    started = time.perf_counter()
    result = subprocess.run(argv, cwd=directory, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-2000:], sep="\n")
        raise RuntimeError(f"pytest exited {result.returncode} on {len(devices)} device(s)")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--duration", type=float, default=0.5)
    parser.add_argument("--devices", type=int, default=4)
    args = parser.parse_args()

    from pytest_wa.testing.adb import AdbServer
    from pytest_wa.testing.simdevice import SimulatedDevice

    server = AdbServer().start()
    devices: list[SimulatedDevice] = []
    try:
        for _ in range(args.devices):
            device = SimulatedDevice().start()
            devices.append(device)
            server.connect(device.address)
        serials = [device.address for device in devices]
        with tempfile.TemporaryDirectory(prefix="pool-speedup-") as temp:
            directory = Path(temp)
            (directory / "agenda.yaml").write_text(
                f"config: {{iterations: {args.jobs}}}\n"
                f"workloads:\n  - {{name: idle, params: {{duration: {args.duration}}}}}\n")
            ideal = args.jobs * args.duration
            print(f"{args.jobs} x idle {args.duration:g} s (device time {ideal:g} s); "
                  f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
            one = timed_run(directory, serials[:1], server.port)
            print(f"1 device  (-n 1): {one:6.2f} s")
            pool = timed_run(directory, serials, server.port)
            print(f"{args.devices} devices (-n {args.devices}): {pool:6.2f} s")
            ratio = one / pool
            verdict = "PASS" if ratio >= TARGET_RATIO else "FAIL"
            print(f"speed-up {ratio:4.2f}x   target >= {TARGET_RATIO:g}x   {verdict}")
            # For context: the fixed cost of a session (start-up, collection, device
            # connection, shutdown), from the same agenda with idle jobs of 0 s, and the
            # speed-up of the jobs themselves once that is taken off.
            (directory / "agenda.yaml").write_text(
                f"config: {{iterations: {args.jobs}}}\n"
                "workloads:\n  - {name: idle, params: {duration: 0}}\n")
            one_fixed = timed_run(directory, serials[:1], server.port)
            pool_fixed = timed_run(directory, serials, server.port)
            steady = (one - one_fixed) / max(pool - pool_fixed, 1e-9)
            print(f"fixed cost of a session with 0 s jobs: {one_fixed:.2f} s (-n 1), "
                  f"{pool_fixed:.2f} s (-n {args.devices}); speed-up of the jobs without it: "
                  f"{steady:4.2f}x")
    except RuntimeError as exc:
        print(f"could not measure: {exc}")
        return 2
    finally:
        for device in devices:
            device.stop()
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
