"""``openssl``: WA3's openssl speed workload, its parser on OpenSSL 1.1 and 3, and real runs.

The ``openssl-3.0-*.out`` files under ``tests/data/outputs/`` were recorded on
this project's host from Debian's OpenSSL 3.0.19 with the workload's own
command line and ``-seconds 1`` (``openssl version && openssl speed -mr -multi
N -seconds 1 [-bytes B] [-evp] ALGORITHM``), in the layout of the ``openssl.out``
artifact. The ``openssl-1.1.*`` files are written by hand from OpenSSL 1.1's
documented ``-mr`` format (their headers say so). Every expected number below
is read off those files.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from test_workload_resources import processes, renamed_program

from pytest_wa import RunOutput
from pytest_wa.workloads.openssl import Openssl
from pytest_wa.workloads.openssl_results import read_speed

OUTPUTS = Path(__file__).parent / "data" / "outputs"
MIB = 2 ** 20
CONFTEST = """
from pytest_wa.workloads.openssl import Openssl

def pytest_wa_register_workloads(registry):
    registry.add(Openssl)
"""
ECDSA_CURVES = ["secp160r1", "nistp192", "nistp224", "nistp256", "nistp384", "nistp521",
                "nistk163", "nistk233", "nistk283", "nistk409", "nistk571", "nistb163",
                "nistb233", "nistb283", "nistb409", "nistb571", "brainpoolP256r1",
                "brainpoolP256t1", "brainpoolP384r1", "brainpoolP384t1", "brainpoolP512r1",
                "brainpoolP512t1"]
ECDH_CURVES = [*ECDSA_CURVES, "X25519", "X448"]


def readings(name: str) -> list[tuple]:
    text = (OUTPUTS / name).read_text(encoding="utf-8")
    return [(r.name, r.value, r.units, r.lower_is_better, r.classifiers)
            for r in read_speed(text)]


def by_key(name: str, metric: str, key: str = "key_length") -> dict:
    return {r[4][key]: r[1] for r in readings(name) if r[0] == metric}


# --- OpenSSL 3.0, recorded here ---

def test_rsa_sign_and_verify_are_operations_per_second() -> None:
    """WA3 3.3.1 labels these 'seconds'; on OpenSSL >= 1.1.1 they are rates."""
    assert readings("openssl-3.0-rsa.out") == [
        (name, value, "ops/s", False, {"key_length": bits}) for bits, sign, verify in [
            (512, 31192.0, 534289.0), (1024, 12062.0, 205038.0), (2048, 4144.0, 59613.0),
            (3072, 563.0, 26186.0), (4096, 236.0, 16037.0), (7680, 26.213592, 3563.0),
            (15360, 4.385965, 1183.0)]
        for name, value in (("sign", sign), ("verify", verify))]


def test_dsa_results() -> None:
    assert by_key("openssl-3.0-dsa.out", "sign") == {512: 21950.0, 1024: 10429.0,
                                                     2048: 3531.0}
    assert by_key("openssl-3.0-dsa.out", "verify") == {512: 32900.0, 1024: 11465.0,
                                                       2048: 3162.0}


def test_ecdsa_past_17_curves_names_all_22() -> None:
    """WA3 3.3.1 raises IndexError at the 18th curve; OpenSSL 3 measures 22 for ecdsa."""
    found = readings("openssl-3.0-ecdsa.out")
    assert len(found) == 44
    assert [r[4]["curve"] for r in found if r[0] == "sign"] == ECDSA_CURVES
    assert ("sign", 3542.574257, "ops/s", False,
            {"key_length": 160, "curve": "secp160r1"}) in found
    assert ("verify", 739.0, "ops/s", False,
            {"key_length": 512, "curve": "brainpoolP512t1"}) in found
    assert ("sign", 794.0, "ops/s", False,
            {"key_length": 256, "curve": "brainpoolP256r1"}) in found


def test_ecdh_columns_are_read_in_openssl_3_order_for_24_curves() -> None:
    """+F5:IDX:BITS:OPS/S:SECONDS on OpenSSL >= 1.1.1; WA3 3.3.1 reads them swapped."""
    found = readings("openssl-3.0-ecdh.out")
    assert len(found) == 48
    assert [r[4]["curve"] for r in found if r[0] == "op"] == ECDH_CURVES
    first = {"key_length": 160, "curve": "secp160r1"}
    assert found[:2] == [("op", 0.000180, "seconds", True, first),
                         ("ops_per_sec", 5559.0, "Hz", False, first)]
    x448 = {"key_length": 448, "curve": "X448"}
    assert found[-2:] == [("op", 0.000359, "seconds", True, x448),
                          ("ops_per_sec", 2784.158416, "Hz", False, x448)]
    assert by_key("openssl-3.0-ecdh.out", "ops_per_sec", "curve")["X25519"] == 20255.0


def test_one_curve_is_named_by_its_index_and_key_length() -> None:
    x25519 = {"key_length": 253, "curve": "X25519"}
    assert readings("openssl-3.0-ecdhx25519.out") == [
        ("op", 0.000038, "seconds", True, x25519),
        ("ops_per_sec", 26180.0, "Hz", False, x25519)]


def test_cipher_scores_are_the_sum_over_threads_not_each_childs() -> None:
    sums = [31449485.62, 130569927.60, 666843904.00, 1770061824.00, 6653247488.00,
            4939677696.00]
    assert readings("openssl-3.0-aes-256-gcm-2threads.out") == [
        ("score", value / MIB, "MB/s", False, {"block_size": size})
        for size, value in zip((16, 64, 256, 1024, 8192, 16384), sums, strict=True)]


def test_one_block_size_comes_from_the_header() -> None:
    assert readings("openssl-3.0-sha256-64bytes.out") == [
        ("score", 248339840.00 / MIB, "MB/s", False, {"block_size": 64})]


# --- OpenSSL 1.1, written by hand from the documented format ---

def test_openssl_1_1_0_gives_seconds_which_become_rates() -> None:
    assert by_key("openssl-1.1.0-rsa.out", "sign")[2048] == pytest.approx(1 / 0.000720)
    assert by_key("openssl-1.1.0-rsa.out", "verify")[2048] == pytest.approx(1 / 0.000021)
    assert by_key("openssl-1.1.0-rsa.out", "sign")[15360] == pytest.approx(4.0)
    assert len(readings("openssl-1.1.0-rsa.out")) == 14


def test_openssl_1_1_0_ecdh_is_seconds_first_and_ends_with_x25519() -> None:
    found = readings("openssl-1.1.0-ecdh.out")
    assert len(found) == 34
    x25519 = {"key_length": 253, "curve": "X25519"}
    assert found[-2:] == [("op", 0.000040, "seconds", True, x25519),
                          ("ops_per_sec", 25000.0, "Hz", False, x25519)]
    assert by_key("openssl-1.1.0-ecdh.out", "op", "curve")["nistb571"] == 0.002


def test_openssl_1_1_1_ecdh_has_24_curves_rate_first() -> None:
    found = readings("openssl-1.1.1-ecdh.out")
    assert [r[4]["curve"] for r in found if r[0] == "op"] == ECDH_CURVES
    rates = by_key("openssl-1.1.1-ecdh.out", "ops_per_sec", "curve")
    seconds = by_key("openssl-1.1.1-ecdh.out", "op", "curve")
    assert (rates["brainpoolP256r1"], seconds["brainpoolP256r1"]) == (2500.0, 0.0004)
    assert (rates["X25519"], seconds["X25519"]) == (25000.0, 0.00004)
    assert (rates["X448"], seconds["X448"]) == (4000.0, 0.00025)


def test_openssl_1_1_1_cipher_with_two_threads() -> None:
    assert [(r[4]["block_size"], r[1]) for r in readings(
        "openssl-1.1.1-aes-128-cbc-2threads.out")] == [
        (16, 200.0), (64, 400.0), (256, 500.0), (1024, 600.0), (8192, 600.0), (16384, 600.0)]


# --- layouts met elsewhere ---

def test_a_build_without_binary_curves_names_brainpool_by_key_length() -> None:
    found = read_speed("OpenSSL 3.2.1 30 Jan 2024\n+F5:6:256:2500.000000:0.000400\n"
                       "+F5:12:253:25000.000000:0.000040\n")
    assert [r.classifiers["curve"] for r in found] == ["brainpoolP256r1"] * 2 + ["X25519"] * 2


def test_eddsa_names_its_curve_and_libressl_gives_seconds() -> None:
    eddsa = read_speed("OpenSSL 1.1.1w  11 Sep 2023\n+F6:0:253:Ed25519:20000.0:8000.0\n")
    assert [(r.name, r.value, r.classifiers) for r in eddsa] == [
        ("sign", 20000.0, {"key_length": 253, "curve": "Ed25519"}),
        ("verify", 8000.0, {"key_length": 253, "curve": "Ed25519"})]
    libre = read_speed("LibreSSL 3.8.2\n+F2:2:2048:0.000500:0.000020\n")
    assert [r.value for r in libre] == [pytest.approx(2000.0), pytest.approx(50000.0)]


def test_an_unknown_curve_index_and_a_broken_line() -> None:
    found = read_speed("OpenSSL 3.0.2 15 Mar 2022\n+F5:40:300:100.0:0.01\n")
    assert found[0].classifiers == {"key_length": 300, "curve": "curve40"}
    with pytest.raises(ValueError, match=r"unexpected openssl speed line: \+F2:0:512:fast"):
        read_speed("OpenSSL 3.0.2 15 Mar 2022\n+F2:0:512:fast:1.0\n")


# --- parameters ---

def test_wa3_parameters_and_checks() -> None:
    values, problems = Openssl.resolve({"algorithm": "ecdsa", "threads": 2})
    assert problems == []
    assert values["use_system_binary"] is True and values["seconds"] is None
    for bad in ({"threads": 0}, {"algorithm": "rsa", "block_size": 16}):
        resolved, _ = Openssl.resolve(bad)
        with pytest.raises(ValueError):
            Openssl(**resolved).validate()
    _, problems = Openssl.resolve({"algorithm": "aes-512-xyz"})
    assert problems and "not one of WA3's algorithms" in problems[0][1]


def test_command_line_is_wa3s_after_the_version() -> None:
    values, _ = Openssl.resolve({"algorithm": "sha256", "threads": 2, "seconds": 1,
                                 "block_size": 64})
    workload = Openssl(**values)
    workload.program = "/usr/bin/openssl"
    assert workload.command_line(None) == (
        "/usr/bin/openssl version && /usr/bin/openssl speed -mr -multi 2 -seconds 1 "
        "-bytes 64 -evp sha256")


def test_wa_show_documents_it(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    result = pytester.runpytest("--wa-show", "openssl")
    assert result.ret == 0
    text = result.stdout.str()
    for parameter in ("algorithm (string, default: 'aes-256-cbc')", "threads (integer",
                      "use_system_binary (boolean, default: True)",
                      "uninstall (boolean, default: True)", "seconds (integer, optional)",
                      "block_size (integer, optional)", "binary (string"):
        assert parameter in text


# --- real runs on this host ---

def run(pytester: pytest.Pytester, agenda: str, *args: str) -> pytest.RunResult:
    pytester.makeconftest(CONFTEST)
    pytester.makefile(".yaml", agenda=textwrap.dedent(agenda))
    return pytester.runpytest("-p", "no:cacheprovider", "agenda.yaml", *args)


def test_a_cipher_and_two_public_keys_for_a_second_each(pytester: pytest.Pytester) -> None:
    run(pytester, """\
        workloads:
          - {id: aes, name: openssl, params: {algorithm: aes-128-cbc, seconds: 1,
                                              block_size: 16}}
          - {id: ecdh, name: openssl, params: {algorithm: ecdhp256, seconds: 1}}
          - {id: rsa, name: openssl, params: {algorithm: rsa2048, seconds: 1}}
        """).assert_outcomes(passed=3)
    output = RunOutput(pytester.path / "wa_output")
    score = output.job("aes", 1).metric("score")
    assert (score.units, score.classifiers["block_size"]) == ("MB/s", 16) and score.value > 0
    ecdh = output.job("ecdh", 1)
    op, rate = ecdh.metric("op"), ecdh.metric("ops_per_sec")
    assert op.classifiers["curve"] == "nistp256" and op.classifiers["key_length"] == 256
    assert (op.units, rate.units, op.lower_is_better) == ("seconds", "Hz", True)
    assert rate.value > 100 and op.value == pytest.approx(1 / rate.value, abs=2e-6)
    rsa = output.job("rsa", 1)
    assert {m.name for m in rsa.metrics} == {"sign", "verify"}
    assert rsa.metric("verify").value > rsa.metric("sign").value > 0  # RSA verifies faster
    assert rsa.metric("sign").units == "ops/s"
    assert "+F2:2:2048:" in rsa.artifact_path("openssl_output").read_text()


def test_job_timeout_kills_every_openssl_process(pytester: pytest.Pytester) -> None:
    program = renamed_program(pytester, "openssl")
    result = run(pytester, f"""\
        config: {{max_retries: 0}}
        workloads:
          - {{name: openssl, params: {{algorithm: rsa, threads: 2, binary: "{program}"}}}}
        """, "--wa-job-timeout=1.5")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*job_timeout of 1.5 s; the command was killed: {program} "
                                 f"version && {program} speed -mr -multi 2 rsa"])
    time.sleep(0.3)
    assert processes(str(program)) == []


def test_ctrl_c_leaves_no_openssl_process(pytester: pytest.Pytester) -> None:
    program = renamed_program(pytester, "openssl")
    pytester.makeconftest(CONFTEST)
    pytester.makefile(".yaml", agenda=f"""\
        workloads:
          - {{name: openssl, params: {{algorithm: rsa, threads: 2, binary: "{program}"}}}}
        """)
    process = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                                "agenda.yaml"], cwd=pytester.path, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while len(processes(str(program))) < 3:  # the shell's openssl and its two children
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == pytest.ExitCode.INTERRUPTED, output
    time.sleep(0.3)
    assert processes(str(program)) == [], output
    assert os.path.isdir(pytester.path / "wa_output")
