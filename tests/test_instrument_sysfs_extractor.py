"""The sysfs_extractor instrument: files under given paths before and after the workload,
and their diff; on this host and on the simulated phone (whose /sys is its own)."""

from __future__ import annotations

import pytest
from host_instruments import agenda, output, phone_device, register, run_on_board
from test_wa3_compat import check_wa3_reads_the_same

from pytest_wa.instruments.sysfs_trees import diff_line, diff_text, parse_snapshot
from pytest_wa.model.errors import InstrumentError

CPU = "/sys/devices/system/cpu"


def make_tree(root) -> None:
    """A tree like a device's: counters, name-value tables, text; a link to follow only
    on the command line, and a file no one may read."""
    (root / "stats").mkdir(parents=True)
    (root / "count").write_text("10\n")
    (root / "governor").write_text("schedutil\n")
    (root / "stats" / "time_in_state").write_text("300000 120\n1800000 40\n")
    (root / "empty").write_text("")
    (root / "loop").symlink_to(root)


CHANGE = ("echo 15 > {root}/count; echo performance > {root}/governor; "
          "printf '300000 125\\n1800000 90\\n' > {root}/stats/time_in_state")


def test_on_this_host(pytester: pytest.Pytester, subtests: pytest.Subtests) -> None:
    """A tree the workload changes, and this host's real CPU tree."""
    tree = pytester.path / "device" / "tree"
    make_tree(tree)
    register(pytester, "sysfs_extractor")
    agenda(pytester, f"""
        config:
          augmentations: [sysfs_extractor]
          sysfs_extractor:
            paths: ["{tree}", "{CPU}/cpu*/topology", /proc/meminfo, /proc/sys/kernel/ostype]
        workloads: [{{id: job, name: command, params: {{command: "{CHANGE.format(root=tree)}"}}}}]
    """)
    pytester.runpytest().assert_outcomes(passed=1)
    job = output(pytester).job("job", 1)
    local = str(tree).lstrip("/")
    assert (job.path / "before" / local / "count").read_text() == "10\n"
    assert (job.path / "after" / local / "count").read_text() == "15\n"
    assert (job.path / "diff" / local / "count").read_text() == "5\n"
    assert (job.path / "diff" / local / "governor").read_text() == \
        "[schedutil -> performance]\n"
    assert (job.path / "diff" / local / "stats/time_in_state").read_text() == \
        "300000 5\n1800000 50\n"
    assert (job.path / "after" / local / "empty").read_text() == ""
    assert not (job.path / "before" / local / "loop").exists()  # links inside: not followed
    topology = job.path / "after/sys/devices/system/cpu/cpu0/topology/core_id"
    assert topology.read_text().strip().isdigit()
    assert "MemTotal:" in (job.path / "before/proc/meminfo").read_text()
    # /proc/sys answers nothing to a read that does not start at 0: read whole
    assert (job.path / "before/proc/sys/kernel/ostype").read_text() == "Linux\n"
    artifacts = {a.name: (a.path, a.classifiers["stage"]) for a in job.artifacts
                 if a.name.endswith("]")}
    assert artifacts == {
        f"{name} [{stage}]": (f"{stage}/{where}", stage)
        for name, where in ((str(tree), local), (f"{CPU}/cpu*/topology", CPU[1:]),
                            ("/proc/meminfo", "proc/meminfo"),
                            ("/proc/sys/kernel/ostype", "proc/sys/kernel/ostype"))
        for stage in ("before", "after", "diff")}
    check_wa3_reads_the_same(subtests, pytester.path / "wa_output")


@pytest.mark.parametrize("root", [False, True])
def test_on_the_simulated_phone(pytester: pytest.Pytester, wa_simulated_device, monkeypatch,
                                root: bool) -> None:
    """The phone's cpufreq statistics move while the job runs: the diff says by how much.
    As the shell user (use_tmpfs false) and as root (its default on a rooted phone)."""
    register(pytester, "sysfs_extractor")
    settings = "" if root else ", use_tmpfs: false"
    agenda(pytester, f"""
        config:
          augmentations: [sysfs_extractor]
          sysfs_extractor: {{paths: [{CPU}/cpufreq]{settings}}}
        workloads: [{{id: job, name: command, params: {{command: "sleep 0.5"}}}}]
    """)
    phone_device(pytester, wa_simulated_device, monkeypatch, root=root)
    run_on_board(pytester).assert_outcomes(passed=1)
    job = output(pytester).job("job", 1)
    diff = (job.path / "diff/sys/devices/system/cpu/cpufreq/policy0/stats/time_in_state")
    moved = [int(line.split()[1]) for line in diff.read_text().splitlines()]
    assert sum(moved) >= 30  # 0.5 s at least, in 10 ms units, at whatever frequency
    governor = job.path / "after/sys/devices/system/cpu/cpufreq/policy0/scaling_governor"
    assert governor.read_text() == "schedutil\n"


def test_use_tmpfs_on_a_phone_without_root_is_refused(pytester: pytest.Pytester,
                                                      wa_simulated_device, monkeypatch) -> None:
    register(pytester, "sysfs_extractor")
    agenda(pytester, f"""
        config: {{augmentations: [sysfs_extractor],
                 sysfs_extractor: {{paths: [{CPU}], use_tmpfs: true}}}}
        workloads: [{{name: command, params: {{command: "true"}}}}]
    """)
    phone_device(pytester, wa_simulated_device, monkeypatch, root=False)
    result = run_on_board(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*instrument 'sysfs_extractor' cannot work on device "
                                 "'board': use_tmpfs: true reads the files as root, and "
                                 "commands cannot run as root on this device*"])


def test_a_missing_path_is_refused(pytester: pytest.Pytester) -> None:
    register(pytester, "sysfs_extractor")
    agenda(pytester, """
        config: {augmentations: [sysfs_extractor],
                 sysfs_extractor: {paths: [/proc/meminfo, /sys/class/no-such-class/*]}}
        workloads: [{name: command, params: {command: "true"}}]
    """)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*instrument 'sysfs_extractor' cannot work on device "
                                 "'local': no such path: /sys/class/no-such-class/[*]. *"])


def test_paths_are_mandatory(pytester: pytest.Pytester) -> None:
    register(pytester, "sysfs_extractor")
    agenda(pytester, """
        config: {augmentations: [sysfs_extractor]}
        workloads: [{name: command, params: {command: "true"}}]
    """)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: pytest-wa: instrument 'sysfs_extractor': paths is "
                                 "mandatory (e.g. config: {sysfs_extractor: {paths: *"])


# --- the snapshot's form and the diff -----------------------------------------------------

def test_a_snapshot_is_read_back_exactly() -> None:
    """The list, then grep's PATH:LINE lines; paths with ':' (sysfs has many)."""
    stdout = ("/a/one\n/a/0000:00:01.0/x\n/a/empty\n/a/secret\n@@pytest-wa-end-of-list@@\n"
              "/a/one:1\n/a/0000:00:01.0/x:a: b\n/a/0000:00:01.0/x:  indented\n")
    stderr = "grep: /a/secret: Permission denied\n"
    assert parse_snapshot(stdout, stderr) == {
        "/a/one": "1\n", "/a/0000:00:01.0/x": "a: b\n  indented\n", "/a/empty": "",
        "/a/secret": None}


def test_a_snapshot_that_did_not_run_is_an_error() -> None:
    with pytest.raises(InstrumentError, match="the files were not read: 'sh: find: not f"):
        parse_snapshot("", "sh: find: not found")


@pytest.mark.parametrize(("before", "after", "diff"), [
    ("12", "15", "3"),
    ("schedutil", "performance", "[schedutil -> performance]"),
    ("300000 120", "300000 125", "300000 5"),      # name value: the name is kept
    ("  300000 120", "  300000 125", "  300000 5"),
    ("cpu0 1 2 3", "cpu0 2 2 5", "cpu0 1 0 2"),     # more than two words: all diffed
    ("a b c", "a b", "[a b c -> a b]"),            # words that do not line up
])
def test_diff_lines(before: str, after: str, diff: str) -> None:
    assert diff_line(before, after) == diff


def test_a_diff_is_as_long_as_the_shorter_file() -> None:
    assert diff_text("1\n2\n3\n", "2\n4\n") == "1\n2\n"
