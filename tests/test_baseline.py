"""``--wa-baseline``: a pytest run gated on a baseline, as a user meets it: the
docs' worked example run as shown, thresholds from the agenda and the command
line, a pool, a baseline by uuid from a results database, and the errors."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs" / "statistics.md"
LAB = "devices:\n  a: {kind: local}\n  b: {kind: local}\n"


def docs_agenda(name: str) -> str:
    text = DOCS.read_text(encoding="utf-8")
    start = text.index(f"<!-- run name={name} -->", text.index("<!-- compare-example -->"))
    body = text.index("```yaml\n", start) + len("```yaml\n")
    return text[body:text.index("```", body)]


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=180)


@pytest.fixture
def runs(pytester: pytest.Pytester) -> pytest.Pytester:
    """The docs' base.yaml run into ``base`` and new.yaml written (not run)."""
    pytester.makefile(".yaml", base=docs_agenda("base.yaml"), new=docs_agenda("new.yaml"))
    run(pytester, "base.yaml", "--wa-output", "base", "--wa-db", "results.sqlite"
        ).assert_outcomes(passed=10)
    return pytester


def cases(path: Path) -> dict[str, ET.Element]:
    root = ET.parse(path).getroot()
    return {case.get("name", ""): case for case in root.iter("testcase")}


def properties(element: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in element.iter("property")}


def test_the_docs_example_fails_the_job_that_regressed(runs: pytest.Pytester) -> None:
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("## A baseline inside a pytest run"):]
    shown = section[section.index("$ pytest new.yaml"):]
    shown = shown[:shown.index("```")].splitlines()
    result = run(runs, *shown[0].split()[2:], "--junit-xml=out.xml")
    assert result.ret == 1
    result.assert_outcomes(passed=11, failed=1)
    expected = [line for line in shown[1:] if line != "..." and " in " not in line]
    # pytest cuts the short summary's message ("...") except under CI=true
    result.stdout.fnmatch_lines([line.replace("[", "[[]").removesuffix("...") + "*"
                                 if line.endswith("...") else line.replace("[", "[[]")
                                 for line in expected], consecutive=False)
    found = cases(runs.path / "out.xml")
    failure = found["build-command[baseline]"].find("failure")
    assert failure is not None and "regressed" in failure.get("message", "")
    assert found["boot-command[baseline]"].find("failure") is None
    assert properties(found["boot-command[baseline]"])["wa_verdict:score"].startswith(
        "inconclusive change=+3.26% ci95=[+1.50%, +5.01%] p=0.007937 threshold=5% ")
    suite = properties(ET.parse(runs.path / "out.xml").getroot().find("testsuite")
                       .find("properties"))  # type: ignore[union-attr]
    assert suite["wa_verdict:build:time"].startswith("regressed change=+9.88% ")
    assert suite["wa_verdict:build:size"].startswith("unchanged ")
    passed = run(runs, "new.yaml", "--wa-output", "again", "--wa-baseline", "base",
                 "--wa-threshold", "time=15%")
    assert passed.ret == 0
    passed.stdout.fnmatch_lines(["build*time*ms*101.2*111.2*+9.9%*unchanged (±15%)"])


def test_agenda_thresholds_and_their_precedence(runs: pytest.Pytester) -> None:
    """The job's ``thresholds`` win over ``--wa-threshold PCT``; ``--wa-threshold
    NAME=PCT`` wins over them."""
    tight = docs_agenda("new.yaml").replace(
        "    iterations: 5\n", "    iterations: 5\n    thresholds: {time: 2%, score: 1%}\n")
    runs.makefile(".yaml", tight=tight.replace("new.", "tight."))
    result = run(runs, "tight.yaml", "--wa-output", "t1", "--wa-baseline", "base",
                 "--wa-threshold", "20", "--wa-html", "t1.html")
    result.assert_outcomes(passed=11, failed=1)
    page = (runs.path / "t1.html").read_text()  # the report's verdicts are the session's
    data = json.loads(page[page.index('id="wa-data">') + 13:page.index("</script>",
                                                                      page.index('id="wa-data"'))])
    verdicts = {(row["job"], row["name"]): row["v"] for row in data["metrics"]}
    assert verdicts[("build", "time")]["verdict"] == "regressed"
    assert (verdicts[("build", "time")]["threshold"],
            verdicts[("build", "size")]["threshold"]) == (2, 20)
    # the run keeps its thresholds: the command line's compare applies them too
    done = subprocess.run([sys.executable, "-m", "pytest_wa", "compare", "base", "t1"],
                          cwd=runs.path, capture_output=True, text=True, timeout=120)
    assert "regressed (±2%)" in done.stdout and "improved (±1%)" in done.stdout, done
    result.stdout.fnmatch_lines(["build*time*+9.9%*regressed (±2%)",
                                 "boot*score*+3.3%*improved (±1%)",
                                 "FAILED tight.yaml::build-command[[]baseline]*"])
    result = run(runs, "tight.yaml", "--wa-output", "t2", "--wa-baseline", "base",
                 "--wa-threshold", "20", "--wa-threshold", "time=15")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["build*time*unchanged (±15%)",
                                 "3 metrics compared: 0 regressed, 1 improved, "
                                 "2 unchanged, 0 inconclusive"], consecutive=False)


def test_a_pool_is_judged_on_the_controller(runs: pytest.Pytester) -> None:
    runs.makefile(".yaml", lab=LAB)
    twin = docs_agenda("base.yaml").replace("base.", "twin.")
    runs.makefile(".yaml", twin=twin)
    result = run(runs, "twin.yaml", "--wa-output", "pooled", "--wa-baseline", "base",
                 "--wa-config=lab.yaml", "--wa-device=a,b", "-n", "2", "-v",
                 "--junit-xml=pool.xml")
    assert result.ret == 0
    result.assert_outcomes(passed=12)
    result.stdout.fnmatch_lines(["*twin.yaml::build-command[[]baseline] PASSED*",
                                 "3 metrics compared: 0 regressed, 0 improved, "
                                 "3 unchanged, 0 inconclusive"], consecutive=False)
    found = cases(runs.path / "pool.xml")
    # size is constant (the counters behind time and score race between the workers)
    assert properties(found["build-command[baseline]"])["wa_verdict:size"].startswith(
        "unchanged change=+0.00% ")


def test_a_baseline_by_uuid_in_a_results_database(runs: pytest.Pytester) -> None:
    with sqlite3.connect(runs.path / "results.sqlite") as db:
        (uuid,), = db.execute("SELECT run_uuid FROM runs").fetchall()
    result = run(runs, "new.yaml", "--wa-output", "new", "--wa-baseline", str(uuid),
                 "--wa-db", "results.sqlite")
    result.assert_outcomes(passed=11, failed=1)
    result.stdout.fnmatch_lines([f"baseline: {uuid}"])


def test_the_previous_run_in_the_same_directory(runs: pytest.Pytester) -> None:
    """``--wa-baseline wa_output`` is read before this run moves it aside."""
    run(runs, "new.yaml").assert_outcomes(passed=10)
    result = run(runs, "new.yaml", "--wa-baseline", "wa_output")
    result.stdout.fnmatch_lines(["build*time*ms*111.2*111.2*+0.0%*unchanged"])
    assert result.ret == 0
    assert len(list(runs.path.glob("wa_output-*"))) == 1


def test_errors_stop_the_run_before_any_job(runs: pytest.Pytester) -> None:
    for args, message in (
            (["--wa-baseline", "nothere"], "ERROR: --wa-baseline nothere: no run directory "
                                           "'nothere'"),
            (["--wa-baseline", "1234", "--wa-db", "none.sqlite"],
             "ERROR: --wa-baseline 1234: no results database none.sqlite*"),
            (["--wa-baseline", "base", "--wa-threshold", "x=lots"],
             "ERROR: --wa-threshold 'lots': expected a percentage*")):
        result = run(runs, "new.yaml", "--wa-output", "never", *args)
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines([message])
        assert "Traceback" not in result.stderr.str()
        assert not (runs.path / "never").exists()
    runs.makeconftest("import sys\nsys.modules['scipy'] = None  # as if not installed\n")
    result = run(runs, "new.yaml", "--wa-output", "never", "--wa-baseline", "base")
    result.stderr.fnmatch_lines(["ERROR: --wa-baseline needs scipy: pip install "
                                 "'pytest-wa[[]stats]'"])


def test_nothing_in_common_fails_the_gate(runs: pytest.Pytester) -> None:
    runs.makefile(".yaml", other="workloads:\n  - id: z\n    name: command\n    params: "
                                 "{command: 'echo y=2', metrics: {y: 'y=(\\d)'}}\n")
    result = run(runs, "other.yaml", "--wa-baseline", "base")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*_ baseline _*",
        "--wa-baseline base: no metric of this run is in the baseline base (its jobs: "
        "boot, build)",
        "FAILED other.yaml::baseline - --wa-baseline base: no metric*"])


def test_agenda_thresholds_errors_are_located(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", agenda="workloads:\n  - name: idle\n    thresholds:\n"
                                      "      dmips: -2%\n      time: fast\n")
    result = run(pytester, "agenda.yaml", "--co")
    result.stdout.fnmatch_lines([
        "*agenda.yaml:4: workloads[[]0].thresholds.dmips: expected a percentage of at "
        "least 0, got '-2%' (string)",
        "*agenda.yaml:5: workloads[[]0].thresholds.time: expected a percentage such as "
        "5% or 2.5, got 'fast' (string)"])
