"""Bad agendas, as a user meets them: one clear collection error per problem.

Every test writes a broken agenda, runs pytest on it and checks that pytest
exits with a collection error, that the output names the file, the line and
the key path and says what is wrong, that no Python traceback is shown, and
that no job ran. The last group treats the agenda as hostile input: no YAML
construct may run code, hang, or exhaust the machine.
"""

from __future__ import annotations

import re
import textwrap

import pytest

# pytester's in-process runs unload the modules first imported during a run, and
# libyaml's C extension cannot be imported a second time cleanly (it keeps the
# first copy's node classes, so every later run would misparse). Import it once.
import yaml  # noqa: F401

from pytest_wa.workloads import builtin_workloads

COLLECTION_ERROR = pytest.ExitCode.INTERRUPTED  # pytest's exit code for collection errors


def write_agenda(pytester: pytest.Pytester, text: str, name: str = "agenda") -> None:
    """Write ``<name>.yaml``; the first line of ``text`` after its opening newline is line 1."""
    (pytester.path / f"{name}.yaml").write_text(textwrap.dedent(text).lstrip("\n"))


def add_sentinel_agenda(pytester: pytest.Pytester) -> None:
    """A valid agenda beside the bad one: if any job ran, it leaves a file behind."""
    write_agenda(pytester, f"""
        workloads:
          - name: command
            params: {{command: "touch {pytester.path / 'job-ran'}"}}
    """, name="sentinel")


def run_bad_agenda(pytester: pytest.Pytester, text: str) -> pytest.RunResult:
    """Write ``text`` as agenda.yaml (beside a sentinel agenda) and run pytest on both."""
    write_agenda(pytester, text)
    add_sentinel_agenda(pytester)
    return pytester.runpytest("-p", "no:cacheprovider")


def assert_clean_collection_error(result: pytest.RunResult, pytester: pytest.Pytester,
                                  *expected: str) -> None:
    """Collection failed, the ``expected`` lines are shown, without a traceback, nothing ran."""
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == COLLECTION_ERROR, output
    result.stdout.fnmatch_lines(["*ERROR collecting agenda.yaml*", *expected])
    assert "Traceback" not in output
    assert "pytest_wa" not in output  # no frame of our own source files...
    assert not re.search(r"\.py:\d+", output)  # ...nor of anyone's
    assert not [line for line in result.stdout.lines if line.startswith("E ")]
    assert not (pytester.path / "job-ran").exists()
    outcomes = result.parseoutcomes()
    assert "passed" not in outcomes and "failed" not in outcomes


def literal(text: str) -> str:
    """``text`` as an fnmatch pattern in which only ``*`` is a wildcard."""
    return re.sub(r"([\[\]?])", r"[\1]", text)


def at_line(line: int, message: str, file: str = "agenda.yaml") -> str:
    """A pattern for a problem reported at ``<path>/<file>:<line>`` (``*`` is a wildcard)."""
    return f"*/{file}:{line}: {literal(message)}"


def agenda_line(line: int, key: str, message: str) -> str:
    """A pattern for one problem at a key: ``<path>/agenda.yaml:<line>: <key>: <message>``."""
    return at_line(line, f"{key}: {message}")


# --- YAML ------------------------------------------------------------------------------


def test_yaml_syntax_error(pytester: pytest.Pytester) -> None:
    result = run_bad_agenda(pytester, """
        workloads:
          - name: idle
            params: {duration: 1
          - name: idle
    """)
    assert_clean_collection_error(result, pytester,
                                  at_line(4, "YAML syntax error: did not find expected ',' or "
                                             "'}', while parsing a flow mapping that starts at "
                                             "line 3"))


def test_yaml_duplicate_key(pytester: pytest.Pytester) -> None:
    result = run_bad_agenda(pytester, """
        workloads:
          - name: idle
            iterations: 2
            iterations: 3
    """)
    assert_clean_collection_error(result, pytester,
                                  at_line(4, "duplicate key 'iterations'*"))


# --- structure -------------------------------------------------------------------------


def test_unknown_top_level_key_suggests_a_close_match(pytester: pytest.Pytester) -> None:
    result = run_bad_agenda(pytester, """
        sections:
          - id: perf
        workload:
          - idle
    """)
    assert_clean_collection_error(result, pytester, agenda_line(
        3, "workload", "unknown key 'workload'. Did you mean 'workloads'?*"))


def test_empty_agenda(pytester: pytest.Pytester) -> None:
    result = run_bad_agenda(pytester, "workloads: []\n")
    assert_clean_collection_error(result, pytester, agenda_line(
        1, "workloads", "the agenda has no workloads to run*"))


def test_workloads_must_be_a_list(pytester: pytest.Pytester) -> None:
    result = run_bad_agenda(pytester, """
        config: {iterations: 1}
        workloads:
          name: idle
    """)
    assert_clean_collection_error(result, pytester, agenda_line(
        2, "workloads", "must be a list, got mapping {'name': 'idle'}"))


def test_workload_entry_must_be_a_name_or_a_mapping(pytester: pytest.Pytester) -> None:
    result = run_bad_agenda(pytester, """
        workloads:
          - idle
          - [idle, command]
    """)
    assert_clean_collection_error(result, pytester, agenda_line(
        3, "workloads[1]", "a workload entry must be a workload name or a mapping, got "
                              "list ['idle', 'command']"))


def test_unknown_key_in_a_workload_entry(pytester: pytest.Pytester) -> None:
    result = run_bad_agenda(pytester, """
        workloads:
          - name: idle
            iteration: 2
    """)
    assert_clean_collection_error(result, pytester, agenda_line(
        3, "workloads[0].iteration", "unknown key 'iteration'. Did you mean 'iterations'*"))


def test_unknown_key_in_config(pytester: pytest.Pytester) -> None:
    result = run_bad_agenda(pytester, """
        config:
          iterations: 2
          reboot_polcy: never
        workloads: [idle]
    """)
    assert_clean_collection_error(result, pytester, agenda_line(
        3, "config.reboot_polcy", "unknown key 'reboot_polcy'. Did you mean 'reboot_policy'?*"))


def test_bad_execution_order(pytester: pytest.Pytester) -> None:
    result = run_bad_agenda(pytester, """
        config:
          execution_order: by_iterations
        workloads: [idle]
    """)
    assert_clean_collection_error(result, pytester, agenda_line(
        2, "config.execution_order", "'by_iterations' is not one of by_iteration, by_section, "
                                     "by_workload, random. Did you mean 'by_iteration'*"))


# --- ids -------------------------------------------------------------------------------


def test_duplicate_workload_id(pytester: pytest.Pytester) -> None:
    result = run_bad_agenda(pytester, """
        sections:
          - id: s
            workloads:
              - {id: dd, name: idle}
        workloads:
          - {id: dd, name: idle}
    """)
    assert_clean_collection_error(result, pytester, agenda_line(
        4, "sections[0].workloads[0].id", "duplicate workload id 'dd'"))


def test_duplicate_section_id(pytester: pytest.Pytester) -> None:
    result = run_bad_agenda(pytester, """
        sections:
          - id: perf
          - id: perf
        workloads: [idle]
    """)
    assert_clean_collection_error(result, pytester, agenda_line(
        3, "sections[1].id", "duplicate section id 'perf'"))


def test_id_containing_a_dash(pytester: pytest.Pytester) -> None:
    result = run_bad_agenda(pytester, """
        workloads:
          - id: dd-zero
            name: idle
    """)
    assert_clean_collection_error(result, pytester, agenda_line(
        2, "workloads[0].id", "id 'dd-zero' contains '-'*"))


def test_id_global_is_reserved(pytester: pytest.Pytester) -> None:
    result = run_bad_agenda(pytester, """
        sections:
          - id: global
        workloads: [idle]
    """)
    assert_clean_collection_error(result, pytester, agenda_line(
        2, "sections[0].id", "'global' is a reserved id"))


# --- workloads and their parameters ----------------------------------------------------


def test_unknown_workload_suggests_a_close_match(pytester: pytest.Pytester) -> None:
    result = run_bad_agenda(pytester, """
        workloads:
          - name: idle
          - name: idel
    """)
    installed = ", ".join(sorted(cls.name for cls in builtin_workloads()))
    assert "app_launch, command, cyclictest" in installed and "idle" in installed
    assert_clean_collection_error(result, pytester, agenda_line(
        3, "workloads[1].name", f"unknown workload 'idel'. Did you mean 'idle'? "
                                f"Installed: {installed}."))


def test_unknown_workload_parameter_suggests_a_close_match(pytester: pytest.Pytester) -> None:
    result = run_bad_agenda(pytester, """
        workloads:
          - name: idle
            params:
              screen_off: false
              durration: 5
    """)
    assert_clean_collection_error(result, pytester, agenda_line(
        5, "workloads[0].params.durration",
        "workload 'idle': unknown parameter. Did you mean 'duration'?*"))


def test_mistyped_workload_parameter(pytester: pytest.Pytester) -> None:
    result = run_bad_agenda(pytester, """
        workloads:
          - name: idle
            workload_parameters:
              duration: abc
    """)
    assert_clean_collection_error(result, pytester, agenda_line(
        4, "workloads[0].workload_parameters.duration",
        "workload 'idle': expected a number, got 'abc' (string)"))


def test_missing_mandatory_parameter(pytester: pytest.Pytester) -> None:
    result = run_bad_agenda(pytester, """
        workloads:
          - name: idle
          - name: command
            params: {timeout: 5}
    """)
    assert_clean_collection_error(result, pytester, agenda_line(
        3, "workloads[1].params.command",
        "workload 'command': mandatory parameter is missing"))


@pytest.mark.parametrize("count", ["0", "-1"])
def test_iterations_below_one(pytester: pytest.Pytester, count: str) -> None:
    result = run_bad_agenda(pytester, f"""
        workloads:
          - name: idle
            iterations: {count}
    """)
    assert_clean_collection_error(result, pytester, agenda_line(
        3, "workloads[0].iterations", f"must be at least 1, got {count}"))


def test_label_that_cannot_name_a_test_or_directory(pytester: pytest.Pytester) -> None:
    result = run_bad_agenda(pytester, """
        workloads:
          - name: idle
            label: idle/short
    """)
    assert_clean_collection_error(result, pytester, agenda_line(
        3, "workloads[0].label", "label 'idle/short' cannot be used in a test name or a "
                                     "directory name (it contains '/')"))


# --- augmentations ---------------------------------------------------------------------


def test_unknown_instrument(pytester: pytest.Pytester) -> None:
    result = run_bad_agenda(pytester, """
        config:
          augmentations:
            - execution_tim
        workloads: [idle]
    """)
    assert_clean_collection_error(result, pytester, agenda_line(
        3, "config.augmentations", "unknown instrument or output processor "
                                   "'execution_tim'. Did you mean 'execution_time'?*"))


def test_double_tilde_in_a_workload_entry(pytester: pytest.Pytester) -> None:
    result = run_bad_agenda(pytester, """
        workloads:
          - name: idle
            augmentations: ["~~"]
    """)
    assert_clean_collection_error(result, pytester, agenda_line(
        3, "workloads[0].augmentations", "'~~' can only be used in the top-level config*"))


# --- several problems ------------------------------------------------------------------


def test_every_problem_in_a_file_is_reported_once_in_line_order(pytester: pytest.Pytester
                                                                ) -> None:
    result = run_bad_agenda(pytester, """
        config:
          iterations: 0
        workloads:
          - name: idel
          - name: idle
            params: {durration: 1}
          - id: a-b
            name: idle
    """)
    assert_clean_collection_error(result, pytester,
                                  "4 problems in agenda:",
                                  agenda_line(2, "config.iterations", "must be at least 1*"),
                                  agenda_line(4, "workloads[0].name", "unknown workload*"),
                                  agenda_line(6, "workloads[1].params.durration",
                                              "*unknown parameter*"),
                                  agenda_line(7, "workloads[2].id", "id 'a-b' contains*"))
    assert result.stdout.str().count("unknown workload") == 1


def test_problem_in_an_included_file_names_that_file(pytester: pytest.Pytester) -> None:
    pytester.mkdir("parts")
    (pytester.path / "parts" / "common.yml").write_text("augmentations: [execution_time]\n"
                                                        "iterations: many\n")
    result = run_bad_agenda(pytester, """
        config:
          include#: parts/common.yml
        workloads: [idle]
    """)
    assert_clean_collection_error(result, pytester,
                                  at_line(2, "config.iterations: expected an integer or 'auto', "
                                             "got 'many' (string)", file="parts/common.yml"))


# --- YAML files that are not agendas ---------------------------------------------------


NOT_AN_AGENDA = """
    version: 2
    updates:
      - package-ecosystem: pip
"""


def test_non_agenda_yaml_named_on_the_command_line_is_an_error(pytester: pytest.Pytester
                                                               ) -> None:
    write_agenda(pytester, NOT_AN_AGENDA)
    result = pytester.runpytest("agenda.yaml")
    assert_clean_collection_error(result, pytester, at_line(
        1, "this YAML file is not an agenda: its top level has no 'workloads' or 'sections' "
           "key"))


def test_non_agenda_yaml_found_in_a_directory_is_ignored(pytester: pytest.Pytester) -> None:
    write_agenda(pytester, NOT_AN_AGENDA)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.fnmatch_lines(["*no tests ran*"])
    assert "agenda.yaml" not in result.stdout.str()


# --- untrusted input -------------------------------------------------------------------


def test_python_tags_do_not_run_code(pytester: pytest.Pytester) -> None:
    result = run_bad_agenda(pytester, """
        workloads:
          - name: idle
            label: !!python/object/apply:os.system ["touch PWNED"]
    """)
    assert_clean_collection_error(result, pytester,
                                  at_line(3, "tag '!!python/object/apply:os.system' is not "
                                             "allowed: an agenda holds plain data only*"))
    assert not (pytester.path / "PWNED").exists()


def test_unknown_local_tags_are_refused(pytester: pytest.Pytester) -> None:
    result = run_bad_agenda(pytester, """
        workloads:
          - !include other.yaml
    """)
    assert_clean_collection_error(result, pytester,
                                  at_line(2, "tag '!include' is not allowed*"))


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    lines = ["workloads:", "  - name: idle", "    label: lol", "    classifiers:",
             '      lol0: &l0 "lol"']
    for level in range(1, levels + 1):
        aliases = ", ".join([f"*l{level - 1}"] * width)
        lines.append(f"      lol{level}: &l{level} [{aliases}]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused(pytester: pytest.Pytester) -> None:
    result = run_bad_agenda(pytester, billion_laughs())
    assert_clean_collection_error(result, pytester,
                                  at_line(12, "the document expands to more than 2,000,000 "
                                              "values through aliases; refusing to load it"))


def test_self_referencing_alias_is_refused(pytester: pytest.Pytester) -> None:
    result = run_bad_agenda(pytester, """
        workloads:
          - name: idle
            classifiers: {loop: &a [*a]}
    """)
    assert_clean_collection_error(result, pytester,
                                  at_line(3, "an alias refers to a value that contains it "
                                             "(a cycle)"))


def test_absurd_nesting_is_refused(pytester: pytest.Pytester) -> None:
    deep = "[" * 200 + "]" * 200
    result = run_bad_agenda(pytester, f"""
        workloads:
          - name: idle
            classifiers: {{deep: {deep}}}
    """)
    assert_clean_collection_error(result, pytester,
                                  at_line(3, "values are nested more than 64 levels deep"))


def test_nesting_deep_enough_to_overflow_the_c_stack_is_refused(pytester: pytest.Pytester
                                                                ) -> None:
    # libyaml's composer would recurse 100,000 times in C and crash the interpreter;
    # run in a subprocess so that a regression fails this test instead of the suite.
    write_agenda(pytester, "workloads: " + "[" * 100_000 + "]" * 100_000 + "\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == COLLECTION_ERROR
    # Our own depth check, or libyaml's (newer builds stop at 1,000 levels while
    # scanning ahead, before our check sees the events): either way, one clear line.
    result.stdout.re_match_lines([r".*/agenda\.yaml:1: (values are nested more than 64 levels "
                                  r"deep|YAML syntax error: exceeded maximum nesting depth.*)$"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_agenda_too_large_to_build_is_refused_before_it_is_built(pytester: pytest.Pytester
                                                                 ) -> None:
    result = run_bad_agenda(pytester, "workloads:\n" + "  - idle\n" * 500_000)
    # Three values at the top (mapping, key, list), then one per line: line 499,999
    # holds the 500,001st.
    assert_clean_collection_error(result, pytester, at_line(
        499_999, "the agenda, with the files it includes, holds more than 500,000 values; "
                 "refusing to load it"))


def test_huge_integer_is_refused(pytester: pytest.Pytester) -> None:
    result = run_bad_agenda(pytester, f"""
        workloads:
          - name: idle
            iterations: {"9" * 10_000}
    """)
    assert_clean_collection_error(result, pytester,
                                  at_line(3, "integer is too large (10,000 characters)*"))


def test_huge_number_in_a_string_is_a_clear_parameter_error(pytester: pytest.Pytester) -> None:
    result = run_bad_agenda(pytester, f"""
        workloads:
          - name: idle
            iterations: "{"9" * 10_000}"
    """)
    assert_clean_collection_error(result, pytester, agenda_line(
        3, "workloads[0].iterations", "expected an integer, got '999*... (string)"))


def test_infinite_duration_is_refused(pytester: pytest.Pytester) -> None:
    result = run_bad_agenda(pytester, """
        workloads:
          - name: idle
            params: {duration: .inf}
    """)
    assert_clean_collection_error(result, pytester, agenda_line(
        3, "workloads[0].params.duration",
        "workload 'idle': expected a finite number, got inf (number)"))
