"""The HTML report as users meet it: ``--wa-html`` on a run of this host, on a pool of two
local devices and on the simulated phone with instruments; ``python -m pytest_wa report``
beside a baseline; each report opened in a real headless Chromium (no console message, the
plots drawn, every link a file of the run, nothing fetched) with a screenshot kept where CI
keeps artifacts ($PYTEST_WA_ARTIFACTS, else .ci/artifacts/). Without Chromium these tests
skip, except with CI=true, where they fail (.ci/run installs Debian's chromium)."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from instrument_runs import on_phone
from test_compare import AGENDA

from pytest_wa.testing.browser import find_chromium, open_page

ROOT = Path(__file__).resolve().parent.parent
ADDRESS = re.compile(r"https?://[^\s'\"<>)]*")
DATA = re.compile(r'<script type="application/json" id="wa-data">(.*?)</script>', re.DOTALL)

#: test_compare's: t (5 iterations: base+1, base+2, base, base+1, base+2; ms, lower is better)
#: and c (7) in job t, x (1) in job u; iteration 2 of t fails in ``run()``'s run.
RUN = {"name": "run", "base": 100, "fail": '[ "$n" = 2 ] && exit 3; ', "other": "u"}


@pytest.fixture
def chromium() -> str:
    found = find_chromium()
    if found is None:
        why = "no chromium on PATH (Debian: apt-get install chromium; .ci/run installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true, but {why}")
        pytest.skip(why)
    return found


def artifacts() -> Path:
    """Where CI keeps what a run leaves for people to look at."""
    folder = Path(os.environ.get("PYTEST_WA_ARTIFACTS") or ROOT / ".ci" / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def wa(where: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_wa", *args], cwd=where,
                          capture_output=True, text=True, timeout=120, check=False)


def data(report: Path) -> dict[str, Any]:
    """The report's embedded data, as the page reads it."""
    match = DATA.search(report.read_text(encoding="utf-8"))
    assert match, "no embedded data"
    return json.loads(match[1])


def opened(report: Path, name: str, script: str = "", height: int = 2400) -> str:
    """The DOM once the page has drawn itself (``script`` run after it: clicks), checked:
    no console message (errors, CSP refusals), no error caught by the page, nothing
    fetched; a screenshot in ``artifacts()``."""
    text = report.read_text(encoding="utf-8")
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    # the one address in the page is SVG's namespace, a name that is never fetched
    assert set(ADDRESS.findall(text)) <= {"http://www.w3.org/2000/svg"}
    if script:
        report = report.with_name(f"{report.stem}-{name}.html")
        report.write_text(text.replace("</body>", f"<script>{script}</script></body>"))
    page = open_page(report)
    assert page.console == []
    root = re.search(r"<html([^>]*)>", page.dom)
    assert root and "data-rendered=" in root[1] and "data-errors" not in root[1], root
    shot = artifacts() / f"html-report-{name}.png"
    open_page(report, screenshot=shot, size=(1300, height))
    assert shot.stat().st_size > 10_000
    return page.dom


def count(dom: str, fragment: str) -> int:
    return dom.count(fragment)


def check_links(report: Path, found: dict[str, Any]) -> None:
    """Every job's artifact link (relative to the report) is a file of the run."""
    base = found["run"]["base"]
    links = [base + job["dir"] for job in found["jobs"] if job["dir"]]
    links += [base + path for job in found["jobs"] for _, path, _ in job["art"]]
    links += [base + path for _, path, _ in found["run"]["artifacts"]]
    assert links
    for link in links:
        assert (report.parent / unquote(link)).exists(), link


def statistics_csv(run: Path) -> dict[tuple[str, str], dict[str, str]]:
    with open(run / "statistics.csv", newline="") as handle:
        return {(row["id"], row["metric"]): row for row in csv.DictReader(handle)}


# --- one device -----------------------------------------------------------------------------


def test_a_run_writes_its_report(pytester: pytest.Pytester, chromium: str) -> None:
    pytester.makefile(".yaml", agenda=AGENDA.format(**RUN))
    result = run(pytester, "agenda.yaml", "--wa-html=reports/run.html")
    result.assert_outcomes(passed=5, failed=1)
    report = pytester.path / "reports" / "run.html"
    result.stdout.fnmatch_lines([f"pytest-wa: HTML report in {report}"])
    found = data(report)
    assert found["statuses"] == [["OK", 5], ["FAILED", 1]]
    assert found["left_out"] == ["job t iteration 2 (FAILED)"]
    rows = {row["name"]: row for row in found["metrics"] if row["job"] == "t"}
    assert rows["t"]["y"] == [101, 100, 101, 102] and rows["t"]["units"] == "ms"
    expected = statistics_csv(pytester.path / "wa_output")[("t", "t")]
    for column, key in (("mean", "mean"), ("stdev", "stdev"), ("ci_low", "lo"), ("min", "min")):
        assert rows["t"][key] == pytest.approx(float(expected[column]), rel=1e-5)
    failed = next(job for job in found["jobs"] if job["status"] != "OK")
    assert (failed["id"], failed["it"]) == ("t", 2) and any("exit" in e for e in failed["ev"])
    check_links(report, found)
    dom = opened(report, "run")
    assert count(dom, 'class="plot metric-plot"') == len(found["metrics"])
    assert count(dom, 'class="job st-') == 6  # the timeline: a bar per job
    assert "5 OK" in dom and "1 FAILED" in dom and "job t iteration 2 (FAILED)" in dom


def test_the_page_answers_clicks(pytester: pytest.Pytester, chromium: str) -> None:
    """A row opens its large plot; a header sorts; the filter filters."""
    pytester.makefile(".yaml", agenda=AGENDA.format(**RUN))
    run(pytester, "agenda.yaml", "--wa-html=run.html").assert_outcomes(passed=5, failed=1)
    clicks = """
        var mean = document.querySelectorAll('#metrics-table th')[4];
        mean.click(); mean.click();
        document.querySelector('#metrics-table tbody tr').click();
        var filter = document.querySelector('#jobs-table input');
        filter.value = 'failed'; filter.dispatchEvent(new Event('input'));
    """
    dom = opened(pytester.path / "run.html", "clicks", clicks)
    detail = dom[dom.index('class="detail"'):]
    assert detail.index('class="plot metric-plot"') < 200  # the large plot, first in the row
    assert "values: 101, 100, 101, 102" in detail  # t (mean 101) sorted first
    assert 'class="sorted-desc"' in dom and "1 of 6 rows" in dom


# --- a pool --------------------------------------------------------------------------------


def test_a_pool_run_has_one_report_of_every_device(pytester: pytest.Pytester,
                                                    chromium: str) -> None:
    pytester.makefile(".yaml", lab="devices:\n  a: {kind: local}\n  b: {kind: local}\n",
                      agenda="""\
        config: {iterations: 6, max_retries: 0}
        workloads:
          - {id: nap, name: command, params: {command: "sleep 0.2; echo x=1",
                                              metrics: {x: 'x=(\\d+)'}}}
        """)
    result = run(pytester, "agenda.yaml", "-n", "2", "--wa-config=lab.yaml",
                 "--wa-device=a,b", "--wa-html=pool.html")
    result.assert_outcomes(passed=6)
    assert result.stdout.str().count("HTML report in") == 1  # the controller's, no worker's
    report = pytester.path / "pool.html"
    found = data(report)
    run_directory = pytester.path / "wa_output"
    for job in found["jobs"]:
        metadata = json.loads((run_directory / job["dir"] / "result.json").read_text())
        assert found["devices"][job["dev"]] == metadata["metadata"]["device"]
        assert 0 <= job["t0"] < job["t1"]
    assert set(found["devices"]) <= {"a", "b"} and found["devices"]
    assert found["metrics"][0]["n"] == 6 and found["run"]["base"] == "wa_output/"
    check_links(report, found)
    dom = opened(report, "pool")
    assert count(dom, 'class="job st-OK') == 6
    timeline = dom[dom.index('class="plot timeline"'):]
    assert all(f">{device}</text>" in timeline for device in found["devices"])


# --- a baseline -----------------------------------------------------------------------------


def has_option(pytester: pytest.Pytester, option: str) -> bool:
    return option in run(pytester, "--help").stdout.str()


def test_a_run_beside_its_baseline(pytester: pytest.Pytester, chromium: str) -> None:
    """t regresses by about 20 % (lower is better); c does not move."""
    for name, base in (("base", 100), ("new", 120)):
        pytester.makefile(".yaml", **{name: AGENDA.format(name=name, base=base, fail="",
                                                          other="u")})
        run(pytester, f"{name}.yaml", f"--wa-output={name}").assert_outcomes(passed=6)
    done = wa(pytester.path, "report", "new", "-o", "compared.html", "--baseline", "base")
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert done.stdout == "report: compared.html\n"
    reports = [pytester.path / "compared.html"]
    if has_option(pytester, "--wa-baseline"):  # the same from the run itself
        pytester.makefile(".yaml", again=AGENDA.format(name="again", base=120, fail="",
                                                       other="u"))
        run(pytester, "again.yaml", "--wa-output=again", "--wa-baseline=base",
            "--wa-html=again.html")
        reports.append(pytester.path / "again.html")
    for report in reports:
        found = data(report)
        verdicts = {row["name"]: row["v"]["verdict"] for row in found["metrics"]
                    if row["job"] == "t"}
        assert verdicts["t"] == "regressed" and verdicts["c"] == "unchanged"
        assert found["baseline"]["counts"]["regressed"] == 1
        t_row = next(row for row in found["metrics"] if row["name"] == "t")
        assert t_row["base"]["y"] == [101, 102, 100, 101, 102]
        assert t_row["v"]["change"] == pytest.approx(19.8, abs=0.1)
    dom = opened(pytester.path / "compared.html", "baseline")
    assert 'class="verdict v-regressed"' in dom and "1 regressed" in dom
    assert count(dom, 'class="pt base"') >= 10  # the baseline's iterations, drawn


# --- instruments ----------------------------------------------------------------------------


def test_instrument_data_as_plots_on_the_phone(pytester: pytest.Pytester, device,
                                               chromium: str) -> None:
    result = on_phone(pytester, device, root=True, agenda="""\
        config:
          iterations: 2
          augmentations: [cpufreq, cpuidle, thermal, energy_measurement]
          energy_measurement: {instrument: hwmon, channels: [sys_energy, sys_power]}
        workloads:
          - id: busy
            name: command
            params: {command: "timeout 1 sh -c 'while :; do :; done'; true"}
          - {id: nap, name: command, params: {command: "sleep 0.5"}}
        """)
    result.assert_outcomes(passed=4)
    done = wa(pytester.path, "report", "wa_output")
    assert done.returncode == 0, done.stderr
    report = pytester.path / "wa_output" / "report.html"
    found = data(report)
    titles = [chart["title"].split(" (")[0] for chart in found["residency"]]
    assert titles == ["Frequency residency", "Idle-state residency"]
    frequency = found["residency"][0]["bars"]
    assert {bar["group"] for bar in frequency} == {"policy0", "policy4"}
    for bar in frequency:
        assert sum(share for _, share, _ in bar["bins"]) == pytest.approx(100, abs=0.5)
    assert [chart["name"] for chart in found["energy"]] == ["sys_total_energy",
                                                            "sys_average_power"]
    assert found["temperature"] and all(len(series["points"]) == 4 for chart in
                                        found["temperature"] for series in chart["series"])
    assert found["run"]["base"] == ""  # the report inside its run: links start there
    check_links(report, found)
    dom = opened(report, "instruments", height=9000)  # the metrics table, then the plots
    assert count(dom, 'class="plot residency"') == 2
    assert count(dom, 'class="plot bars"') == 2
    assert count(dom, 'class="plot lines"') == len(found["temperature"])


def test_a_retried_job_links_its_earlier_attempts(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", agenda="""\
        config: {max_retries: 1, iterations: 2}
        workloads:
          - id: flaky
            name: command
            params:
              command: 'echo . >> c; [ $(wc -l < c) = 1 ] && exit 3; echo v=5'
              metrics: {v: 'v=(\\d+)'}
        """)
    run(pytester, "agenda.yaml", "--wa-html=wa_output/r.html").assert_outcomes(passed=2)
    report = pytester.path / "wa_output" / "r.html"
    first = data(report)["jobs"][0]
    assert (first["retries"], first["att"]) == (1, [[1, "FAILED",
                                                     "__failed/flaky-command-1-attempt01"]])
    assert (report.parent / first["att"][0][2] / "result.json").is_file()


# --- what goes wrong ------------------------------------------------------------------------


def test_a_report_that_cannot_be_written_costs_only_itself(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", agenda=AGENDA.format(**RUN))
    (pytester.path / "taken").mkdir()
    result = run(pytester, "agenda.yaml", "--wa-html=taken")
    result.assert_outcomes(passed=5, failed=1)  # the run's own outcome
    result.stdout.fnmatch_lines(["pytest-wa: HTML report not written: *taken: is a directory "
                                 "(give the report's file name)"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert (pytester.path / "wa_output" / "statistics.csv").is_file()
    missing = wa(pytester.path, "report", "nowhere")
    assert (missing.returncode, missing.stdout) == (2, "")
    assert missing.stderr == f"error: {pytester.path / 'nowhere'}: no such directory\n"
    lost = wa(pytester.path, "report", "wa_output", "-o", "r.html", "--baseline", "gone")
    assert lost.returncode == 0
    assert lost.stderr == "warning: baseline gone not shown: no run directory 'gone'\n"
    assert data(pytester.path / "r.html")["baseline"]["error"] == "no run directory 'gone'"


def test_the_report_is_imported_only_when_asked_for(pytester: pytest.Pytester) -> None:
    """A run without --wa-html never imports the report; one without a baseline, no scipy."""
    pytester.makeconftest("""
        import sys
        def pytest_unconfigure(config):
            with open("modules.txt", "w") as handle:
                handle.write("\\n".join(sorted(sys.modules)))
        """)
    pytester.makefile(".yaml", agenda=AGENDA.format(**RUN))
    for args, report in (((), False), (("--wa-html=r.html",), True)):
        run(pytester, "agenda.yaml", *args).assert_outcomes(passed=5, failed=1)
        modules = set((pytester.path / "modules.txt").read_text().split())
        assert ("pytest_wa.report.writer" in modules) is report
        assert "scipy" not in modules


def test_the_docs_example_writes_its_report_into_its_run(pytester: pytest.Pytester) -> None:
    """docs/report.md's pytest.ini and agenda, as shown: the report lands in wa_output."""
    text = (ROOT / "docs" / "report.md").read_text(encoding="utf-8")
    for name in ("pytest.ini", "report.yaml"):
        block = re.search(rf"<!-- (?:file|run) name={re.escape(name)} -->\n```\w+\n(.*?)```",
                          text, re.DOTALL)
        assert block, name
        (pytester.path / name).write_text(block[1])
    run(pytester, "report.yaml").assert_outcomes(passed=3)
    found = data(pytester.path / "wa_output" / "report.html")
    lines = next(row for row in found["metrics"] if row["name"] == "lines")
    assert (lines["n"], lines["mean"], lines["units"]) == (3, 200000, "lines")
