"""Runtime parameters as users meet them: agendas run on the simulated phone, values seen by
the job, the device put back afterwards, and every mistake reported before the first job.

The simulated device's sysfs is fake (any value is accepted; only its
counters move by themselves), so these tests check what was written and when,
not what a kernel would make of it. It has three idle states per CPU but no
governor tunables: the test that needs them creates them in the device's /sys
(a tmpfs) first.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pytest_wa import RunOutput
from pytest_wa.model.errors import Location
from pytest_wa.runtime.facts import build_facts, parse_cpu_list, parse_cpuinfo
from pytest_wa.runtime.journal import Journal
from pytest_wa.runtime.names import ParsedName, UnknownName, UnsupportedName, parse_name
from pytest_wa.runtime.plan import apply_plan, build_plan
from pytest_wa.runtime.probe import probe_device, with_root_check

CPU = "/sys/devices/system/cpu"
STATE = (f"cat {CPU}/cpu0/cpufreq/scaling_governor {CPU}/cpu0/cpufreq/scaling_min_freq "
         f"{CPU}/cpu0/cpufreq/scaling_max_freq {CPU}/cpu4/cpufreq/scaling_governor "
         f"{CPU}/cpu4/cpufreq/scaling_min_freq {CPU}/cpu4/cpufreq/scaling_max_freq")
DEFAULTS = ["schedutil", "300000", "1804800", "schedutil", "710400", "2419200"]
ONLINE = f"cat {CPU}/cpu1/online {CPU}/cpu4/online {CPU}/cpu5/online {CPU}/cpu7/online"
SETTINGS = ("settings get system screen_brightness; settings get system user_rotation; "
            "settings get system accelerometer_rotation; settings get global airplane_mode_on")


def run(pytester: pytest.Pytester, device, agenda: str, *, root: bool = True
        ) -> pytest.RunResult:
    """Write the agenda and a device config for the phone, and run them."""
    pytester.makefile(".yaml", agenda=agenda)
    pytester.makefile(".yaml", lab=f"""\
        devices:
          phone: {{kind: adb, device: "{device.serial}", adb_port: {device.adb_port},
                   adb_as_root: {str(root).lower()}}}
        """)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "agenda.yaml",
                                         "--wa-config=lab.yaml", "--wa-device=phone", "-v")


def job_output(pytester: pytest.Pytester, job_id: str) -> list[str]:
    """What the job's command printed (its output.txt, without the command lines)."""
    job = RunOutput(pytester.path / "wa_output").job(job_id, 1)
    text = (job.path / "output.txt").read_text()
    return [line for line in text.splitlines() if not line.startswith(("$ ", "--- "))]


def device_lines(device, command: str) -> list[str]:
    return device.shell(command).stdout.split()


# --- on the simulated phone ---------------------------------------------------------


def test_settings_hold_during_their_job_only(pytester, device) -> None:
    device.shell("settings put system screen_brightness 80")
    result = run(pytester, device, f"""\
        config:
          runtime_parameters: {{governor: performance}}
        workloads:
          - id: cpufreq
            name: command
            params: {{command: "{STATE}"}}
            runtime_parameters:
              little_frequency: 1248000
              big_governor: powersave
              a78_min_frequency: 1401600
              cpu5_max_frequency: max
          - id: hotplug
            name: command
            params: {{command: "{ONLINE}"}}
            runtime_params: {{num_big_cores: 1, cpu1_online: false}}
          - id: android
            name: command
            params: {{command: "{SETTINGS}"}}
            runtime_parameters: {{brightness: 200, rotation: left, airplane_mode: true,
                                  screen_on: true}}
          - id: untouched
            name: command
            params: {{command: "{STATE}; {ONLINE}"}}
            runtime_parameters: {{governor: null}}
        """)
    result.assert_outcomes(passed=4)
    # The narrowest name wins: big_governor over the agenda-wide governor.
    assert job_output(pytester, "cpufreq") == ["performance", "1248000", "1248000",
                                               "powersave", "1401600", "2419200"]
    assert job_output(pytester, "hotplug") == ["0", "1", "0", "0"]
    assert job_output(pytester, "android") == ["200", "1", "0", "1"]
    assert job_output(pytester, "untouched") == DEFAULTS + ["1"] * 4
    assert device_lines(device, f"{STATE}; {ONLINE}") == DEFAULTS + ["1"] * 4
    # A setting that was not there before is deleted again; airplane mode is switched off.
    assert device_lines(device, SETTINGS) == ["80", "null", "null", "0"]
    assert "runtime parameters" not in result.stdout.str()  # no restore warning


def test_sysfiles_in_order_and_a_failing_job_still_restores(pytester, device) -> None:
    folder = "/data/local/tmp/rt"
    # "alias" is "c" under another name: c shows which of the two was written last.
    device.shell(f"mkdir -p {folder}/gone && for f in a b c gone/x; do echo old > "
                 f"{folder}/$f; done && ln -s c {folder}/alias && ln -s /dev/null {folder}/sink")
    result = run(pytester, device, f"""\
        config: {{max_retries: 0}}
        workloads:
          - id: ordered
            name: command
            params: {{command: "cat {folder}/c {folder}/a {folder}/b"}}
            runtime_parameters:
              sysfile_values:
                {folder}/c: 3
                {folder}/a: 1
                {folder}/alias: 7
                {folder}/b: true
                {folder}/sink!: 5
          - id: unverified
            name: command
            params: {{command: "true"}}
            runtime_parameters:
              sysfile_values: {{{folder}/a: written, {folder}/sink: 5}}
          - id: crashes
            name: command
            params: {{command: "cat {folder}/b; exit 3"}}
            runtime_parameters: {{sysfile_values: {{{folder}/b: changed}}}}
          - id: vanishes
            name: command
            params: {{command: "rm -r {folder}/gone"}}
            runtime_parameters: {{sysfile_values: {{{folder}/gone/x: 1}}}}
        """)
    result.assert_outcomes(passed=2, failed=1, errors=1)  # a setup failure is a pytest error
    # Written in the order given (alias after c), a boolean as 1, sink not read back.
    assert job_output(pytester, "ordered") == ["7", "1", "1"]
    # /dev/null does not read back: without "!" the job fails in setup, and the
    # value written before the failing one is restored all the same.
    result.stdout.fnmatch_lines([
        "*unverified-command*FAILED*",
        "setup: TargetError: sysfile_values: wrote '5' to */sink but it reads back ''",
        "*crashes-command*FAILED*"])
    output = RunOutput(pytester.path / "wa_output")
    assert output.job("unverified", 1).status.name == "FAILED"
    assert job_output(pytester, "crashes") == ["changed"]
    assert device_lines(device, f"cat {folder}/a {folder}/b {folder}/c") == ["old"] * 3
    # A value that cannot be put back is a warning and a job event; the job stays OK.
    vanished = output.job("vanishes", 1)
    assert vanished.status.name == "OK"
    assert [e.message.splitlines()[0] for e in vanished.events] == [
        f"runtime parameters: could not restore {folder}/gone/x (back to 'old'): command "
        f"exited with code 2: echo old > {folder}/gone/x"]
    result.stdout.fnmatch_lines(["*agenda.yaml:22: PytestWAWarning: vanishes-command*: runtime "
                                 f"parameters: could not restore {folder}/gone/x*"])


def test_idle_states_and_governor_tunables(pytester, device) -> None:
    # Two idle states per CPU, named as the test wants them, and a schedutil tunable.
    device.root()
    states = " ".join(f"{CPU}/cpu{n}/cpuidle/state{s}" for n in range(8) for s in (0, 1))
    device.shell(f"for d in {states}; do mkdir -p $d && echo 0 > $d/disable; done; "
                 f"for n in 0 1 2 3 4 5 6 7; do echo WFI > {CPU}/cpu$n/cpuidle/state0/name; "
                 f"echo cpu-sleep > {CPU}/cpu$n/cpuidle/state1/name; done; "
                 f"mkdir {CPU}/cpufreq/policy4/schedutil && "
                 f"echo 1000 > {CPU}/cpufreq/policy4/schedutil/rate_limit_us")
    disables = " ".join(f"{CPU}/cpu{n}/cpuidle/state{s}/disable" for n in (0, 4) for s in (0, 1))
    tunable = f"{CPU}/cpu4/cpufreq/schedutil/rate_limit_us"
    result = run(pytester, device, f"""\
        workloads:
          - id: idle
            name: command
            params: {{command: "cat {disables} {tunable}"}}
            runtime_parameters:
              idle_states: wfi
              cpu4_idle_states: none
              big_gov_tunables: {{rate_limit_us: 500}}
        """)
    result.assert_outcomes(passed=1)
    assert job_output(pytester, "idle") == ["0", "1", "1", "1", "500"]
    assert device_lines(device, f"cat {disables} {tunable}") == ["0"] * 4 + ["1000"]


def test_every_mistake_is_one_error_before_any_job(pytester, device) -> None:
    result = run(pytester, device, """\
        workloads:
          - id: first
            name: command
            params: {command: "true"}
            runtime_parameters:
              governor: perfomance
              big_frequency: 1248000
              govenor: performance
              cpu9_online: true
              num_cores: many
          - id: second
            name: command
            params: {command: "true"}
            runtime_parameters:
              sysfile_values: {/proc/sys/kernel/perf_event_paranoid: 1}
              rotation: upside down
        """, root=False)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.assert_outcomes()
    agenda = pytester.path / "agenda.yaml"
    errors = [line for line in result.stderr.lines if line]
    # Each problem points at the line of its own key (runtime parameters keep them).
    assert errors[-8:] == [
        "ERROR: pytest-wa: 7 problems in runtime parameters (no job was run):",
        f"{agenda}:6: runtime_parameters.governor: 'perfomance' is not a governor of cpu0 "
        "(available: schedutil, performance, powersave, userspace, ondemand, conservative). "
        "Did you mean 'performance'?",
        f"{agenda}:7: runtime_parameters.big_frequency: 1248000 is not an available frequency "
        "of cpu4 (available: 710400, 1056000, 1401600, 1766400, 2016000, 2323200, 2419200). "
        "The nearest is 1401600.",
        f"{agenda}:8: runtime_parameters.govenor: unknown runtime parameter 'govenor'. "
        "Did you mean 'governor' or 'big_governor' or 'a78_governor'?",
        f"{agenda}:9: runtime_parameters: writing to sysfs needs root on device 'phone': set "
        "adb_as_root: true in the device's config (userdebug and eng builds), or use a device "
        "with su (also in job second)",
        f"{agenda}:9: runtime_parameters.cpu9_online: the device has no cpu9 (it has cpus 0-7)",
        f"{agenda}:10: runtime_parameters.num_cores: expected an integer, got 'many' (string)",
        f"{agenda}:16: runtime_parameters.rotation: expected natural, left, inverted, right or "
        "0-3, got 'upside down'",
    ]
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert not (pytester.path / "wa_output").exists()  # refused before anything was written


# --- without a device: this host, and the parts on their own -------------------------


def test_android_settings_on_a_linux_target_are_an_error(pytester) -> None:
    pytester.makefile(".yaml", agenda="""\
        workloads:
          - name: command
            params: {command: "true"}
            runtime_parameters: {brightness: 100, unlock_screen: vertical}
        """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "agenda.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "ERROR: pytest-wa: 2 problems in runtime parameters (no job was run):",
        "*agenda.yaml:4: runtime_parameters.brightness: is an Android setting, and device "
        "'local' is not an Android device (kind local)",
        "*agenda.yaml:4: runtime_parameters.unlock_screen: is not supported by pytest-wa *"])


@pytest.mark.parametrize(("key", "parsed"), [
    ("governor", ParsedName("governor", "governor")),
    ("CPU2_Governor", ParsedName("CPU2_Governor", "governor", "cpu2")),
    ("big_min_frequency", ParsedName("big_min_frequency", "min_frequency", "big")),
    ("min_frequency", ParsedName("min_frequency", "min_frequency")),
    ("a55_governor_tunables", ParsedName("a55_governor_tunables", "gov_tunables", "a55")),
    ("cpu03_idle_states", ParsedName("cpu03_idle_states", "idle_states", "cpu3")),
    ("num_cores", ParsedName("num_cores", "num_cores")),
    ("num_little_cores", ParsedName("num_little_cores", "num_cores", "little")),
    ("cpu7_online", ParsedName("cpu7_online", "online", "cpu7")),
    ("sysfile_values", ParsedName("sysfile_values", "sysfile_values")),
    ("Screen_On", ParsedName("Screen_On", "screen_on")),
])
def test_names(key: str, parsed: ParsedName) -> None:
    assert parse_name(key) == parsed


def test_names_that_are_not_runtime_parameters() -> None:
    for key in ("govenor", "_governor", "cpu_online", "num_cores_big", "frequency_max"):
        with pytest.raises(UnknownName):
            parse_name(key)
    with pytest.raises(UnsupportedName, match="unlock the device before the run"):
        parse_name("unlock_screen")


def test_device_facts_from_a_cpu_tree() -> None:
    files = {"present": "0-5", "online": "0-4", "cpu1/online": "1", "cpu5/online": "0",
             "cpufreq/policy0/related_cpus": "0 1 2 3",
             "cpufreq/policy0/cpuinfo_max_freq": "1800000",
             "cpufreq/policy4/related_cpus": "4 5",
             "cpufreq/policy4/cpuinfo_max_freq": "2400000",
             "cpufreq/policy4/scaling_available_governors": "performance schedutil"}
    cpuinfo = "".join(f"processor\t: {n}\nCPU implementer\t: 0x41\nCPU part\t: "
                      f"{'0xd03' if n < 4 else '0xd09'}\n\n" for n in range(6))
    facts = build_facts("board", "ssh", files, cpuinfo)
    assert facts.clusters == {"big": (4, 5), "little": (0, 1, 2, 3)}
    assert facts.core_names == {"a53": (0, 1, 2, 3), "a73": (4, 5)}
    assert facts.domain(5) == (4, 5) and facts.cpus[5].governors == ("performance", "schedutil")
    assert [cpu.online for cpu in facts.cpus.values()] == [True] * 5 + [False]
    assert facts.cpus[1].hotpluggable and not facts.cpus[0].hotpluggable
    assert parse_cpu_list("0-2,4,6-7") == [0, 1, 2, 4, 6, 7]
    assert parse_cpuinfo("processor\t: 0\nCPU implementer\t: 0x51\nCPU part\t: 0x805\n") == {}


class RecordingTarget:
    """A target whose files are a dict; it keeps the order of writes."""

    kind = "ssh"

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files
        self.writes: list[tuple[str, str]] = []

    def write_value(self, path: str, value: object, *, verify: bool = True) -> None:
        self.files[path] = str(value)
        self.writes.append((path.rsplit("/", 1)[1], str(value)))

    def execute(self, command: str, **_: object):
        from pytest_wa.targets.base import CommandResult

        paths = [word.strip("'") for word in command.split() if word.startswith(("/", "'/"))]
        out = "".join(f"\x1e{p}\n{self.files[p]}\n" for p in paths if p in self.files)
        return CommandResult(command, 0, out, "", 0.0)


@pytest.mark.parametrize(("given", "order"), [
    ({"frequency": 1800000}, ["scaling_max_freq", "scaling_min_freq"]),  # up: max first
    ({"frequency": 300000}, ["scaling_min_freq", "scaling_max_freq"]),   # down: min first
])
def test_min_stays_below_max_at_every_step(given: dict, order: list[str]) -> None:
    from pytest_wa.agenda.spec import JobSpec

    freqs = "300000 600000 1200000 1800000"
    files = {"present": "0", "online": "0", "cpu0/cpufreq/related_cpus": "0",
             "cpu0/cpufreq/scaling_available_frequencies": freqs,
             "cpu0/cpufreq/scaling_available_governors": "schedutil"}
    facts = build_facts("board", "ssh", files, "")
    spec = JobSpec("wk1", "wk1", (), "idle", "idle", 1, {}, given, {}, {}, {}, (),
                   Location("agenda.yaml", 3), "agenda.yaml")
    plan, problems = build_plan(spec, facts)
    assert not problems
    target = RecordingTarget({f"{CPU}/online": "0", f"{CPU}/cpu0/cpufreq/scaling_governor":
                              "schedutil", f"{CPU}/cpu0/cpufreq/scaling_min_freq": "600000",
                              f"{CPU}/cpu0/cpufreq/scaling_max_freq": "1200000"})
    journal = Journal(target)  # type: ignore[arg-type]
    apply_plan(plan, facts, journal)
    assert [name for name, _ in target.writes] == order
    assert journal.restore() == []
    assert [name for name, _ in target.writes[2:]] == order[::-1]  # undone in reverse
    assert target.files[f"{CPU}/cpu0/cpufreq/scaling_min_freq"] == "600000"


def test_a_tree_in_a_directory_through_the_local_target(tmp_path: Path) -> None:
    """probe, plan, apply and restore on this host, with a CPU tree in a temporary folder."""
    from pytest_wa.agenda.spec import JobSpec
    from pytest_wa.targets.local import LocalTarget

    tree = {"present": "0-1", "online": "0-1", "cpu1/online": "1",
            "cpu0/cpuidle/state0/name": "WFI", "cpu0/cpuidle/state0/disable": "0",
            "cpu0/cpuidle/state1/name": "C2", "cpu0/cpuidle/state1/disable": "0",
            "cpu1/cpuidle/state0/name": "WFI", "cpu1/cpuidle/state0/disable": "1"}
    for relative, content in tree.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(content + "\n")
    target = LocalTarget()
    target.connect()
    try:
        facts = probe_device(target, "local", cpu_root=str(tmp_path),
                             cpuinfo=str(tmp_path / "none"))
        facts = with_root_check(target, facts, [])
        spec = JobSpec("wk1", "wk1", (), "idle", "idle", 1, {},
                       {"idle_states": ["c2"], "cpu1_online": False}, {}, {}, {}, (),
                       Location("agenda.yaml", 3), "agenda.yaml")
        plan, problems = build_plan(spec, facts)
        if facts.root is False:
            pytest.skip("needs root or passwordless sudo on this host")
        assert not problems.items
        journal = Journal(target)
        apply_plan(plan, facts, journal)
        assert (tmp_path / "cpu0/cpuidle/state0/disable").read_text().strip() == "1"
        assert (tmp_path / "cpu0/cpuidle/state1/disable").read_text().strip() == "0"
        assert (tmp_path / "cpu1/online").read_text().strip() == "0"
        assert journal.restore() == []
        assert [(tmp_path / f).read_text().strip() for f in tree] == list(tree.values())
    finally:
        target.disconnect()


@pytest.fixture(scope="module")
def phone_facts(tmp_path_factory):
    """What probing the simulated phone's CPUs finds, from its tree built in a folder."""
    from pytest_wa.targets.local import LocalTarget
    from pytest_wa.testing.simdevice.cpus import build_cpu_tree, cpuinfo_text

    root = tmp_path_factory.mktemp("phone")
    build_cpu_tree(str(root), 8)
    (root / "cpuinfo").write_text(cpuinfo_text(8, "sim"))
    target = LocalTarget()
    target.connect()
    try:
        facts = probe_device(target, "phone", cpu_root=f"{root}/devices/system/cpu",
                             cpuinfo=str(root / "cpuinfo"))
    finally:
        target.disconnect()
    return dataclasses.replace(facts, kind="adb")


def plan_of(facts, parameters: dict):
    from pytest_wa.agenda.spec import JobSpec

    spec = JobSpec("wk1", "wk1", (), "idle", "idle", 1, {}, parameters, {}, {}, {}, (),
                   Location("agenda.yaml", 3), "agenda.yaml")
    plan, problems = build_plan(spec, facts)
    return plan, [f"{p.key}: {p.message}" for p in problems.items]


@pytest.mark.parametrize(("parameters", "message"), [
    ({"big_governor": "performance", "num_big_cores": 0},
     "runtime_parameters.big_governor: no CPU of cpus 4-7 is online during the job, so its "
     "cpufreq policy cannot be set"),
    ({"cpu4_governor": "performance", "cpu5_governor": "powersave"},
     "runtime_parameters.cpu5_governor: 'powersave' conflicts with cpu4_governor: 'performance' "
     "(both set cpus 4-7); give only one of them"),
    ({"little_frequency": 1248000, "little_min_frequency": 300000},
     "runtime_parameters.little_min_frequency: 300000 conflicts with little_frequency: 1248000 "
     "(both set cpus 0-3); give only one of them"),
    ({"little_min_frequency": "max", "little_max_frequency": 300000},
     "runtime_parameters.little_min_frequency: the minimum frequency 1804800 would be above the "
     "maximum 300000 (little_max_frequency) for cpus 0-3"),
    ({"frequency": "fast"}, "runtime_parameters.frequency: expected a frequency in kHz (an "
                            "integer), 'min' or 'max', got 'fast' (string)"),
    ({"num_cores": 0}, "runtime_parameters.num_cores: cpu0 stays online: it cannot be taken "
                       "offline (so num_cores must be at least 1)"),
    ({"num_big_cores": 5}, "runtime_parameters.num_big_cores: must be between 0 and 4 (the "
                           "number of cpus 4-7), got 5"),
    ({"num_cpu2_cores": 1}, "runtime_parameters.num_cpu2_cores: to take one CPU on or offline, "
                            "use cpu2_online"),
    ({"a53_governor": "performance"},
     "runtime_parameters.a53_governor: 'a53' is not a CPU, cluster or core name of the device "
     "(core names: a55, a78)"),
    ({"idle_states": "c9"}, "runtime_parameters.idle_states: 'c9' is not an idle state of cpu0 "
                            "(its states: WFI, cpu-sleep, cluster-sleep)*"),
    ({"gov_tunables": [1]}, "runtime_parameters.gov_tunables: expected a mapping of tunable "
                            "names to values, got list [[]1]"),
    ({"sysfile_values": {"sys/kernel/x": 1}},
     "runtime_parameters.sysfile_values.sys/kernel/x: a path must be absolute (start with /), "
     "got 'sys/kernel/x'"),
    ({"brightness": 300}, "runtime_parameters.brightness: must be between 0 and 255, got 300"),
    ({"screen_on": "maybe"}, "runtime_parameters.screen_on: expected true or false, got 'maybe' "
                             "(string)"),
])
def test_what_cannot_be_done_is_a_problem(phone_facts, parameters: dict, message: str) -> None:
    import fnmatch

    _, problems = plan_of(phone_facts, parameters)
    assert len(problems) == 1 and fnmatch.fnmatchcase(problems[0], message), problems


def test_what_the_plan_sets(phone_facts) -> None:
    plan, problems = plan_of(phone_facts, {
        "governor": "performance", "num_big_cores": 0, "little_frequency": "max",
        "cpu0_min_frequency": "min", "cpu3_gov_tunables": {"rate_limit_us": 100}})
    assert not problems
    assert plan.hotplug.online == {n: (False, "num_big_cores") for n in (4, 5, 6, 7)}
    [little] = plan.cpufreq.domains  # the big cluster is offline: the agenda-wide governor
    assert little.cpus == (0, 1, 2, 3)  # leaves it alone
    assert (little.governor.value, little.min.value, little.max.value) == \
        ("performance", 300000, 1804800)
    assert little.setspeed.value == 1804800 and little.min.given.key == "cpu0_min_frequency"
    assert little.tunables["rate_limit_us"].value == "100"


class ScreenTarget:
    """A phone whose ``dumpsys power`` tells the screen state, as real ones do."""

    def __init__(self) -> None:
        self.awake = True
        self.commands: list[str] = []

    def execute(self, command: str, **_: object):
        from pytest_wa.targets.base import CommandResult

        self.commands.append(command)
        if command.startswith("input keyevent"):
            self.awake = command.endswith("WAKEUP")
        state = "Awake" if self.awake else "Asleep"
        out = f"POWER MANAGER\n  mWakefulness={state}\n" if command == "dumpsys power" else ""
        return CommandResult(command, 0, out, "", 0.0)


def test_screen_on_waits_for_dumpsys_power_and_is_restored(phone_facts) -> None:
    plan, problems = plan_of(phone_facts, {"screen_on": False})
    assert not problems
    target = ScreenTarget()
    journal = Journal(target)  # type: ignore[arg-type]
    apply_plan(plan, phone_facts, journal)
    assert not target.awake and "input keyevent KEYCODE_SLEEP" in target.commands
    assert journal.restore() == []
    assert target.awake and target.commands[-2:] == ["input keyevent KEYCODE_WAKEUP",
                                                     "dumpsys power"]
