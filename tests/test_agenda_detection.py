"""Which YAML files are agendas, and WA3's YAML tags, as a user meets them (issue 12).

A broken agenda is never skipped without a word: found in a directory or named
on the command line, it is a collection error that shows its YAML error, or the
misplaced key, with the file and line. YAML files that are not agendas (CI
workflows, compose files, Kubernetes manifests, playbooks) stay uncollected.

WA3's three YAML tags (regex, level, CPU mask) load as data that reaches the
workload and is written to the run directory in WA3's JSON form; a bad tagged
value is an agenda error at its key, and every other tag is still refused.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

# pytester's in-process runs unload the modules first imported during a run, and
# libyaml's C extension cannot be imported a second time cleanly: import it once.
import yaml  # noqa: F401

COLLECTION_ERROR = pytest.ExitCode.INTERRUPTED  # pytest's exit code for collection errors
NOT_AN_AGENDA = "this YAML file is not an agenda: its top level has no 'workloads' or " \
                "'sections' key"
IDLE_AGENDA = "workloads:\n  - {name: idle, params: {duration: 0}}\n"


def write(pytester: pytest.Pytester, name: str, text: str) -> Path:
    """Write ``name`` (dedented; the first line after the opening newline is line 1)."""
    path = pytester.path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def literal(text: str) -> str:
    """``text`` as an fnmatch pattern in which only ``*`` is a wildcard."""
    return re.sub(r"([\[\]?])", r"[\1]", text)


def at_line(file: str, line: int, message: str) -> str:
    """A pattern for one problem reported at ``<tmp path>/<file>:<line>``."""
    return f"*/{file}:{line}: {literal(message)}"


def assert_collection_error(result: pytest.RunResult, file: str, *expected: str) -> None:
    """Collecting ``file`` failed with the ``expected`` lines, one paragraph, no traceback."""
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == COLLECTION_ERROR, output
    result.stdout.fnmatch_lines([f"*ERROR collecting {file}*", *expected])
    assert "Traceback" not in output
    assert not re.search(r"\.py:\d+", output)  # no frame of anyone's source
    assert "passed" not in result.parseoutcomes()


# --- broken agendas are reported, wherever they are found -------------------------------

# A config key, a comment line that starts with a tab, a setting indented deeper,
# and the workloads indented by two spaces (as if typed inside config).
TAB_AGENDA = ("config:\n"
              "\t# the tab that starts this line is not YAML indentation\n"
              "        execution_order: by_workload\n"
              "  workloads:\n"
              "      - idle\n")


def test_an_agenda_with_a_tab_in_a_directory_shows_its_yaml_error(
        pytester: pytest.Pytester) -> None:
    (pytester.path / "agendas").mkdir()
    (pytester.path / "agendas" / "tabbed.yaml").write_text(TAB_AGENDA, encoding="utf-8")
    write(pytester, "agendas/good.yaml", IDLE_AGENDA)
    result = pytester.runpytest("-p", "no:cacheprovider", "agendas")
    assert_collection_error(result, "agendas/tabbed.yaml", at_line(
        "agendas/tabbed.yaml", 2, "YAML syntax error: found character that cannot start any "
                                  "token, while scanning for the next token"))


# The top-level workloads key indented by one space.
MIS_INDENTED = """
    config:
      iterations: 2
     workloads:
       - idle
"""
MIS_INDENTED_ERROR = "YAML syntax error: did not find expected key, while parsing a block " \
                     "mapping that starts at line 1"


def test_a_mis_indented_workloads_key_in_a_directory_shows_its_yaml_error(
        pytester: pytest.Pytester) -> None:
    write(pytester, "agendas/nightly.yaml", MIS_INDENTED)
    result = pytester.runpytest("-p", "no:cacheprovider", "agendas")
    assert_collection_error(result, "agendas/nightly.yaml", at_line(
        "agendas/nightly.yaml", 3, MIS_INDENTED_ERROR))


def test_workloads_indented_under_config_is_reported_at_its_line(
        pytester: pytest.Pytester) -> None:
    write(pytester, "agendas/cpu.yaml", """
        config:
          iterations: 2
          workloads:
            - idle
    """)
    result = pytester.runpytest("-p", "no:cacheprovider", "agendas")
    assert_collection_error(result, "agendas/cpu.yaml", at_line(
        "agendas/cpu.yaml", 3, "config.workloads: 'workloads' is indented under 'config' "
                               "(line 1): it must be a top-level key of the agenda, at the "
                               "start of its line"))


def test_an_agenda_nested_under_another_key_is_reported_at_its_line(
        pytester: pytest.Pytester) -> None:
    write(pytester, "agendas/memory.yaml", """
        memory_run:
          config: {iterations: 3}
          sections:
            - id: small
          workloads: [idle]
    """)
    result = pytester.runpytest("-p", "no:cacheprovider", "agendas")
    assert_collection_error(result, "agendas/memory.yaml", at_line(
        "agendas/memory.yaml", 3, "memory_run.sections: 'sections' is indented under "
                                  "'memory_run' (line 1): it must be a top-level key of the "
                                  "agenda, at the start of its line"))


def test_an_agenda_indented_as_a_whole_is_still_an_agenda(pytester: pytest.Pytester) -> None:
    (pytester.path / "agendas").mkdir()
    indented = "".join(f"  {line}" for line in IDLE_AGENDA.splitlines(keepends=True))
    (pytester.path / "agendas" / "indented.yaml").write_text(indented, encoding="utf-8")
    result = pytester.runpytest("-p", "no:cacheprovider", "agendas")
    result.assert_outcomes(passed=1)


def test_named_on_the_command_line_a_broken_agenda_gets_its_yaml_error_and_a_workflow_does_not(
        pytester: pytest.Pytester) -> None:
    write(pytester, "broken.yaml", MIS_INDENTED)
    write(pytester, "labeler.yml", WORKFLOW)
    result = pytester.runpytest("-p", "no:cacheprovider", "broken.yaml", "labeler.yml")
    assert_collection_error(result, "broken.yaml", at_line("broken.yaml", 3, MIS_INDENTED_ERROR))
    result.stdout.fnmatch_lines(["*ERROR collecting labeler.yml*",
                                 at_line("labeler.yml", 1, NOT_AN_AGENDA)])
    assert result.stdout.str().count(NOT_AN_AGENDA) == 1  # labeler.yml's, not broken.yaml's


# --- ordinary YAML files stay uncollected ---------------------------------------------

WORKFLOW = """
    name: label pull requests
    on:
      pull_request:
        types: [opened, synchronize]
    jobs:
      label:
        runs-on: ubuntu-latest
        strategy:
          matrix:
            config: [fast, slow]
        steps:
          - uses: actions/labeler@v5
            with:
              configuration-path: .github/labeler-${{ matrix.config }}.yml
"""

COMPOSE = """
    services:
      bench:
        image: registry.example.com/bench:1.4
        command: ["--config", "/etc/bench/config.yaml"]
        configs:
          - source: bench_config
            target: /etc/bench/config.yaml
        deploy:
          resources: {limits: {cpus: "2"}}
    configs:
      bench_config:
        file: ./bench.yaml
"""

MANIFESTS = """
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: bench-config
    data:
      config: |
        workloads:
          - name: stress
        sections: []
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: bench
    spec:
      template:
        spec:
          volumes:
            - name: config
              configMap: {name: bench-config}
"""

PLAYBOOK = """
    - hosts: boards
      vars:
        config:
          token: !vault |
            $ANSIBLE_VAULT;1.1;AES256
            62313365396662343061393464336163383764373764613633653634306231386433626436
      tasks:
        - name: write the bench config
          template: {src: config.j2, dest: /etc/bench/config}
"""


def test_only_the_broken_agenda_among_ordinary_yaml_files_is_reported(
        pytester: pytest.Pytester) -> None:
    for name, text in {".github/workflows/labeler.yml": WORKFLOW, "compose.yaml": COMPOSE,
                       "deploy/bench.yaml": MANIFESTS, "site.yml": PLAYBOOK}.items():
        write(pytester, name, text)
    (pytester.path / "agendas").mkdir()
    (pytester.path / "agendas" / "tabbed.yaml").write_text(TAB_AGENDA, encoding="utf-8")
    pytester.makepyfile(test_plain="def test_one():\n    assert True\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "--continue-on-collection-errors",
                                ".", ".github")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*ERROR collecting agendas/tabbed.yaml*"])
    output = result.stdout.str()
    for name in ("labeler.yml", "compose.yaml", "bench.yaml", "site.yml"):
        assert name not in output


# --- WA3's YAML tags ------------------------------------------------------------------

PROMPT = r"^(root|shell)@\w+:[/~]\S* ?[#$] $"
# Written with flags 8 (MULTILINE); WA3 writes a compiled pattern's flags, which
# include re.UNICODE (32) for text patterns.
WRITTEN_PROMPT = f"REGEX:40:{PROMPT}"


def run_dir_json(pytester: pytest.Pytester, name: str) -> Any:
    return json.loads((pytester.path / "wa_output" / "__meta" / name).read_text())


def test_an_agenda_with_a_wa3_regex_in_device_config_runs_and_keeps_it(
        pytester: pytest.Pytester) -> None:
    write(pytester, "ci.yaml", f"""
        config:
          device_config:
            shell_prompt: !<tag:wa:regex> '8:{PROMPT}'
        workloads:
          - {{name: idle, params: {{duration: 0}}}}
    """)
    result = pytester.runpytest("-p", "no:cacheprovider", "ci.yaml")
    result.assert_outcomes(passed=1)
    device_config = run_dir_json(pytester, "config.json")["run_config"]["device_config"]
    assert device_config["shell_prompt"] == WRITTEN_PROMPT


TAGGED_CONFTEST = """
    import re

    from pytest_wa import Parameter, Workload
    from pytest_wa.agenda.tagged import WaCpuMask, WaLevel, WaRegex


    def of_type(cls):
        def convert(value):
            if not isinstance(value, cls):
                raise ValueError(f"expected a {cls.__name__}")
            return value
        return convert


    class Prompted(Workload):
        name = "prompted"
        parameters = [Parameter("prompt", of_type(WaRegex)),
                      Parameter("level", of_type(WaLevel)),
                      Parameter("cpus", of_type(WaCpuMask))]

        def run(self, context):
            prompt = self.prompt.compiled()
            context.add_metric("matches", int(bool(prompt.search("root@juno:/ # "))))
            context.add_metric("multiline", int(bool(prompt.flags & re.M)))
            context.add_metric("level", self.level.value)
            context.add_metric("cpus", len(self.cpus.cpus()))


    def pytest_wa_register_workloads(registry):
        registry.add(Prompted)
"""


def test_tagged_workload_parameters_reach_the_workload_and_jobs_json(
        pytester: pytest.Pytester) -> None:
    pytester.makeconftest(textwrap.dedent(TAGGED_CONFTEST))
    write(pytester, "tagged.yaml", f"""
        workloads:
          - name: prompted
            params:
              prompt: !<tag:wa:regex> '8:{PROMPT}'
              level: !<tag:wa:level> 'warning:30'
              cpus: !<tag:wa:cpu_mask> '0,2-3'
    """)
    result = pytester.runpytest("-p", "no:cacheprovider", "tagged.yaml")
    result.assert_outcomes(passed=1)
    import pytest_wa

    job = pytest_wa.RunOutput(pytester.path / "wa_output").jobs[0]
    assert {name: job.metric(name).value for name in ("matches", "multiline", "level", "cpus")} \
        == {"matches": 1, "multiline": 1, "level": 30, "cpus": 3}
    spec = run_dir_json(pytester, "jobs.json")["jobs"][0]
    assert spec["workload_parameters"] == {"prompt": WRITTEN_PROMPT,
                                           "level": "LEVEL:warning:30", "cpus": "CPUMASK:0xd"}


@pytest.mark.parametrize(("value", "message"), [
    ("!<tag:wa:regex> '4x:^root@'",
     "invalid !<tag:wa:regex> value '4x:^root@': the flags before the first ':' must be an "
     "integer (Python's re flags, e.g. 8 for MULTILINE) or nothing, got '4x'"),
    ("!<tag:wa:regex> '^root@'",
     "invalid !<tag:wa:regex> value '^root@': expected FLAGS:PATTERN, e.g. '8:^root@'"),
    ("!<tag:wa:regex> '0:(root|shell@'",
     "invalid !<tag:wa:regex> value '0:(root|shell@': not a valid regular expression: "
     "missing ), unterminated subpattern at position 0"),
    ("!<tag:wa:level> 'warning:loud'",
     "invalid !<tag:wa:level> value 'warning:loud': the value after the first ':' must be a "
     "number, got 'loud'"),
    ("!<tag:wa:cpu_mask> '0-3,x'",
     "invalid !<tag:wa:cpu_mask> value '0-3,x': expected a hexadecimal mask such as 0x0f or "
     "CPU numbers and ranges such as 0-3,6"),
    ("!<tag:wa:regex> {flags: 8}",
     "!<tag:wa:regex> takes a single text value, not a mapping"),
], ids=["regex-flags", "regex-no-flags", "regex-pattern", "level-value", "cpu-mask", "mapping"])
def test_a_bad_tagged_value_is_an_agenda_error_at_its_key(
        pytester: pytest.Pytester, value: str, message: str) -> None:
    write(pytester, "agenda.yaml", f"""
        config:
          device_config:
            shell_prompt: {value}
        workloads: [idle]
    """)
    result = pytester.runpytest("-p", "no:cacheprovider", "agenda.yaml")
    assert_collection_error(result, "agenda.yaml", at_line(
        "agenda.yaml", 3, f"config.device_config.shell_prompt: {message}"))


@pytest.mark.parametrize("tag", ["!!python/regex '^root'", "!!python/name:os.system ''",
                                 "!<tag:wa:cpumask> '0x3'", "!regex '8:^root'"])
def test_wa3_tags_are_accepted_and_every_other_tag_is_still_refused(
        pytester: pytest.Pytester, tag: str) -> None:
    write(pytester, "agenda.yaml", f"""
        config:
          device_config:
            shell_prompt: !<tag:wa:regex> '8:^root@'
            big_cores: !<tag:wa:cpu_mask> '0xf0'
        workloads:
          - name: idle
            label: {tag}
    """)
    result = pytester.runpytest("-p", "no:cacheprovider", "agenda.yaml")
    shown = tag.split()[0].replace("tag:yaml.org,2002:", "!!")
    shown = shown.removeprefix("!<").removesuffix(">") if shown.startswith("!<") else shown
    assert_collection_error(result, "agenda.yaml", at_line(
        "agenda.yaml", 7, f"tag '{shown}' is not allowed: an agenda holds plain data only*"))
    assert "agenda.yaml:3:" not in result.stdout.str()
    assert "agenda.yaml:4:" not in result.stdout.str()
