"""Agenda loading as pure Python: ids, inheritance, aliases, groups, includes, order.

These tests call ``pytest_wa.agenda.load_agenda`` directly (no pytest run) and
pin down WA3's semantics: what job specs an agenda expands into, with which
ids, iterations, parameters, classifiers and augmentations, and in what order
their jobs run.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from pytest_wa import Instrument, Parameter, Workload
from pytest_wa.agenda import Agenda, JobSpec, load_agenda, order_jobs
from pytest_wa.model.errors import AgendaError
from pytest_wa.model.parameters import integer, list_of_strings, string
from pytest_wa.session.catalog import session_catalog as build_catalog


class Probe(Workload):
    """A test workload with an integer, a choice and a list parameter."""

    name = "probe"
    aliases = ("sonde",)
    parameters = (
        Parameter("count", integer, default=1),
        Parameter("mode", string, default="fast", allowed_values=("fast", "slow")),
        Parameter("tags", list_of_strings, default=[]),
    )


class Power(Instrument):
    name = "power"


class Hook:
    """Stands in for pytest's hook relay: registers the test plugins, nothing else."""

    def pytest_wa_register_workloads(self, registry: Any) -> None:
        registry.add(Probe)

    def pytest_wa_register_instruments(self, registry: Any) -> None:
        registry.add(Power)

    def pytest_wa_register_output_processors(self, registry: Any) -> None:
        pass


CATALOG = build_catalog(Hook())


def write(path: Path, text: str) -> Path:
    """Write ``text``; its first line after the opening newline is line 1."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def load(tmp_path: Path, text: str) -> Agenda:
    return load_agenda(str(write(tmp_path / "agenda.yaml", text)), CATALOG)


def load_error(tmp_path: Path, text: str) -> str:
    with pytest.raises(AgendaError) as excinfo:
        load(tmp_path, text)
    return str(excinfo.value)


def job_ids(agenda: Agenda) -> list[str]:
    return [spec.id for spec in agenda.specs]


def spec(agenda: Agenda, job_id: str) -> JobSpec:
    found = [s for s in agenda.specs if s.id == job_id]
    assert len(found) == 1, f"{job_id} not in {job_ids(agenda)}"
    return found[0]


# --- ids -------------------------------------------------------------------------------


def test_auto_ids_count_only_entries_without_an_id(tmp_path: Path) -> None:
    agenda = load(tmp_path, """
        workloads:
          - probe
          - {id: wk2, name: probe}
          - probe
    """)
    assert job_ids(agenda) == ["wk1", "wk2", "wk3"]


def test_auto_ids_skip_an_id_already_taken(tmp_path: Path) -> None:
    agenda = load(tmp_path, """
        workloads:
          - {id: wk1, name: probe}
          - probe
    """)
    assert job_ids(agenda) == ["wk1", "wk2"]


def test_auto_ids_skip_an_id_taken_further_down(tmp_path: Path) -> None:
    agenda = load(tmp_path, """
        workloads:
          - probe
          - {id: wk1, name: probe}
    """)
    assert job_ids(agenda) == ["wk2", "wk1"]


def test_explicit_ids_may_be_any_name_or_number(tmp_path: Path) -> None:
    agenda = load(tmp_path, """
        workloads:
          - {id: memcpy, name: probe}
          - {id: 7, name: probe}
    """)
    assert job_ids(agenda) == ["memcpy", "7"]


def test_section_auto_ids_count_only_sections_without_an_id(tmp_path: Path) -> None:
    agenda = load(tmp_path, """
        sections:
          - {}
          - {id: s2}
          - {}
          - {id: s1}
        workloads: [probe]
    """)
    assert job_ids(agenda) == ["s3-wk1", "s2-wk1", "s4-wk1", "s1-wk1"]
    assert spec(agenda, "s3-wk1").section_ids == ("s3",)
    assert spec(agenda, "s3-wk1").workload_id == "wk1"


def test_job_id_without_sections_is_the_workload_id(tmp_path: Path) -> None:
    agenda = load(tmp_path, "workloads: [{id: solo, name: probe}]\n")
    assert job_ids(agenda) == ["solo"]
    assert agenda.specs[0].section_ids == ()
    assert agenda.specs[0].section_id is None


def test_section_workloads_come_after_global_ones(tmp_path: Path) -> None:
    agenda = load(tmp_path, """
        sections:
          - id: x
            workloads: [{name: probe, label: own_x}]
          - id: y
            workloads: [{name: probe, label: own_y}]
        workloads:
          - {name: probe, label: first}
          - {name: probe, label: second}
    """)
    assert [(s.id, s.label) for s in agenda.specs] == [
        ("x-wk1", "first"), ("x-wk2", "second"), ("x-wk3", "own_x"),
        ("y-wk1", "first"), ("y-wk2", "second"), ("y-wk4", "own_y"),
    ]


def test_auto_ids_count_global_workloads_before_section_workloads(tmp_path: Path) -> None:
    # The section's workload is written first, yet global workloads are numbered first.
    agenda = load(tmp_path, """
        sections:
          - id: x
            workloads: [probe, {id: wk1, name: probe}]
        workloads: [probe, probe]
    """)
    assert job_ids(agenda) == ["x-wk2", "x-wk3", "x-wk4", "x-wk1"]


def test_ids_that_cannot_name_a_test_or_a_directory_are_refused(tmp_path: Path) -> None:
    message = load_error(tmp_path, """
        sections: [{id: "x/y"}]
        workloads: [{id: "a[1]", name: probe}]
    """)
    assert "agenda.yaml:1: sections[0].id: id 'x/y' cannot be used in a test name or a " \
           "directory name (it contains '/')" in message
    assert "agenda.yaml:2: workloads[0].id: id 'a[1]' cannot be used" in message


# --- inheritance -----------------------------------------------------------------------


def iterations_of(tmp_path: Path, config: str, section: str, workload: str) -> int:
    agenda = load(tmp_path, f"""
        config: {{{config}}}
        sections: [{{id: s, {section}}}]
        workloads: [{{name: probe, {workload}}}]
    """)
    return agenda.specs[0].iterations


def test_iterations_workload_beats_section_beats_config(tmp_path: Path) -> None:
    assert iterations_of(tmp_path, "iterations: 2", "iterations: 3", "iterations: 4") == 4
    assert iterations_of(tmp_path, "iterations: 2", "iterations: 3", "") == 3
    assert iterations_of(tmp_path, "iterations: 2", "", "") == 2
    assert iterations_of(tmp_path, "", "", "") == 1


def test_mappings_merge_config_then_section_then_workload(tmp_path: Path) -> None:
    agenda = load(tmp_path, """
        config:
          workload_parameters: {count: 1, mode: slow}
          runtime_parameters: {governor: powersave, cpu0_online: 1}
          classifiers: {board: juno, level: config}
        sections:
          - id: s
            workload_parameters: {count: 2}
            runtime_parameters: {governor: performance}
            classifiers: {level: section}
        workloads:
          - name: probe
            workload_parameters: {count: 3}
            runtime_parameters: {cpu0_online: 0}
            classifiers: {run: a}
    """)
    job = agenda.specs[0]
    assert job.workload_parameters == {"count": 3, "mode": "slow", "tags": []}
    assert job.runtime_parameters == {"governor": "performance", "cpu0_online": 0}
    assert job.classifiers == {"board": "juno", "level": "section", "run": "a"}


def test_workload_parameters_get_their_defaults_and_types(tmp_path: Path) -> None:
    agenda = load(tmp_path, """
        workloads:
          - {name: probe, params: {count: "12", tags: one}}
    """)
    assert agenda.specs[0].workload_parameters == {"count": 12, "mode": "fast",
                                                   "tags": ["one"]}


def test_integer_strings_are_decimal_unless_prefixed(tmp_path: Path) -> None:
    agenda = load(tmp_path, """
        workloads:
          - {name: probe, params: {count: "010"}}
          - {name: probe, params: {count: "0x10"}}
    """)
    assert [s.workload_parameters["count"] for s in agenda.specs] == [10, 16]


def test_a_setting_given_under_two_aliases_is_an_error(tmp_path: Path) -> None:
    message = load_error(tmp_path, """
        workloads:
          - name: probe
            params: {count: 1}
            workload_parameters: {count: 2}
    """)
    assert "agenda.yaml:4: workloads[0].workload_parameters: 'workload_parameters' is given " \
           "twice, as 'params' and as 'workload_parameters'" in message


def test_null_parameter_means_its_default(tmp_path: Path) -> None:
    agenda = load(tmp_path, "workloads: [{name: probe, params: {count: null}}]\n")
    assert agenda.specs[0].workload_parameters["count"] == 1


def test_plugin_configuration_in_config_is_overridden_by_the_entry(tmp_path: Path) -> None:
    agenda = load(tmp_path, """
        config:
          probe: {count: 5, mode: slow}
        workloads:
          - probe
          - {name: probe, params: {count: 6}}
    """)
    assert [s.workload_parameters["count"] for s in agenda.specs] == [5, 6]
    assert {s.workload_parameters["mode"] for s in agenda.specs} == {"slow"}
    assert agenda.plugin_configs == {"probe": {"count": 5, "mode": "slow"}}


def test_plugin_configuration_in_global_adds_to_config(tmp_path: Path) -> None:
    agenda = load(tmp_path, """
        config:
          probe: {count: 5, mode: slow}
        global:
          probe: {count: 7}
        workloads: [probe]
    """)
    assert agenda.specs[0].workload_parameters == {"count": 7, "mode": "slow", "tags": []}


def test_label_defaults_to_the_workload_name_as_written(tmp_path: Path) -> None:
    agenda = load(tmp_path, """
        workloads:
          - probe
          - sonde
          - {name: probe, label: warm}
    """)
    assert [s.label for s in agenda.specs] == ["probe", "sonde", "warm"]
    assert [s.workload_name for s in agenda.specs] == ["probe", "probe", "probe"]


def test_job_names_and_output_directories(tmp_path: Path) -> None:
    agenda = load(tmp_path, """
        sections: [{id: perf}]
        workloads: [{id: dd, name: probe, label: zero, iterations: 2}]
    """)
    jobs = order_jobs(agenda.specs)
    assert [job.name for job in jobs] == ["perf-dd-zero[1]", "perf-dd-zero[2]"]
    assert [job.output_name for job in jobs] == ["perf-dd-zero-1", "perf-dd-zero-2"]
    assert agenda.job_count == 2


def test_spec_remembers_where_its_entry_is(tmp_path: Path) -> None:
    agenda = load(tmp_path, """
        workloads:
          - probe
          - name: probe
            label: second
    """)
    assert [s.location.line for s in agenda.specs] == [2, 3]
    assert agenda.specs[0].location.path == str(tmp_path / "agenda.yaml")


# --- aliases ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["name", "workload_name"])
def test_workload_name_aliases(tmp_path: Path, key: str) -> None:
    agenda = load(tmp_path, f"workloads: [{{{key}: probe}}]\n")
    assert agenda.specs[0].workload_name == "probe"


@pytest.mark.parametrize("key", ["workload_parameters", "params", "workload_params",
                                 "parameters"])
def test_workload_parameters_aliases(tmp_path: Path, key: str) -> None:
    agenda = load(tmp_path, f"workloads: [{{name: probe, {key}: {{count: 4}}}}]\n")
    assert agenda.specs[0].workload_parameters["count"] == 4


@pytest.mark.parametrize("key", ["runtime_parameters", "runtime_params"])
def test_runtime_parameters_aliases(tmp_path: Path, key: str) -> None:
    agenda = load(tmp_path, f"workloads: [{{name: probe, {key}: {{governor: ondemand}}}}]\n")
    assert agenda.specs[0].runtime_parameters == {"governor": "ondemand"}


@pytest.mark.parametrize("key", ["boot_parameters", "boot_params"])
def test_boot_parameters_aliases(tmp_path: Path, key: str) -> None:
    agenda = load(tmp_path, f"workloads: [{{name: probe, {key}: {{quiet: true}}}}]\n")
    assert agenda.specs[0].boot_parameters == {"quiet": True}


@pytest.mark.parametrize("key", ["augmentations", "instruments", "instrumentation",
                                 "result_processors", "output_processors", "processors",
                                 "augment"])
def test_augmentations_aliases(tmp_path: Path, key: str) -> None:
    agenda = load(tmp_path, f"workloads: [{{name: probe, {key}: [power]}}]\n")
    assert agenda.specs[0].augmentations == ("power",)


def test_wa2_instrumentation_and_result_processors_combine(tmp_path: Path) -> None:
    agenda = load(tmp_path, """
        config:
          instrumentation: [power]
          result_processors: [execution_time]
        workloads: [probe]
    """)
    assert sorted(agenda.specs[0].augmentations) == ["execution_time", "power"]


def test_a_bare_string_entry_is_a_workload_name(tmp_path: Path) -> None:
    agenda = load(tmp_path, "workloads: [probe, idle]\n")
    assert [(s.id, s.workload_name, s.label) for s in agenda.specs] == [
        ("wk1", "probe", "probe"), ("wk2", "idle", "idle")]


def test_global_is_an_alias_of_config(tmp_path: Path) -> None:
    agenda = load(tmp_path, """
        global:
          iterations: 3
          execution_order: by_section
          classifiers: {rig: a}
        workloads: [probe]
    """)
    assert agenda.specs[0].iterations == 3
    assert agenda.specs[0].classifiers == {"rig": "a"}
    assert agenda.settings.execution_order == "by_section"


def test_global_applies_after_config(tmp_path: Path) -> None:
    agenda = load(tmp_path, """
        config: {iterations: 2, classifiers: {a: config, b: config}}
        global: {iterations: 5, classifiers: {b: global}}
        workloads: [probe]
    """)
    assert agenda.specs[0].iterations == 5
    assert agenda.specs[0].classifiers == {"a": "config", "b": "global"}


def test_section_params_are_runtime_parameters(tmp_path: Path) -> None:
    agenda = load(tmp_path, """
        sections:
          - id: fast
            params: {cpu0_governor: performance}
        workloads: [{name: probe, params: {count: 2}}]
    """)
    job = agenda.specs[0]
    assert job.runtime_parameters == {"cpu0_governor": "performance"}
    assert job.workload_parameters["count"] == 2


def test_run_settings_are_read_from_config(tmp_path: Path) -> None:
    agenda = load(tmp_path, """
        config:
          execution_order: by_spec
          reboot_policy: each_spec
          retry_on_status: [failed]
          max_retries: 0
        workloads: [probe]
    """)
    settings = agenda.settings
    assert (settings.execution_order, settings.reboot_policy) == ("by_workload", "each_job")
    assert (settings.retry_on_status, settings.max_retries) == (("FAILED",), 0)
    assert {"execution_order", "max_retries"} <= agenda.explicit_settings


# --- groups ----------------------------------------------------------------------------


GROUPS = """
    sections:
      - {id: a1, group: A}
      - {id: a2, group: A}
      - {id: b1, group: B}
      - {id: b2, group: B}
    workloads: [probe]
"""


def test_groups_form_a_cross_product_of_sections(tmp_path: Path) -> None:
    agenda = load(tmp_path, GROUPS)
    assert job_ids(agenda) == ["a1-b1-wk1", "a1-b2-wk1", "a2-b1-wk1", "a2-b2-wk1"]
    assert spec(agenda, "a2-b1-wk1").section_ids == ("a2", "b1")


def test_group_names_become_classifiers(tmp_path: Path) -> None:
    agenda = load(tmp_path, GROUPS)
    assert [s.classifiers for s in agenda.specs] == [
        {"A": "a1", "B": "b1"}, {"A": "a1", "B": "b2"},
        {"A": "a2", "B": "b1"}, {"A": "a2", "B": "b2"},
    ]


def test_a_group_classifier_beats_its_sections_own_but_not_the_workloads(tmp_path: Path
                                                                        ) -> None:
    agenda = load(tmp_path, """
        sections:
          - {id: a1, group: A, classifiers: {A: mine, other: 1}}
        workloads:
          - probe
          - {name: probe, classifiers: {A: workload}}
    """)
    assert [s.classifiers for s in agenda.specs] == [{"A": "a1", "other": 1},
                                                     {"A": "workload", "other": 1}]


def test_grouped_sections_settings_merge_outer_to_inner(tmp_path: Path) -> None:
    agenda = load(tmp_path, """
        sections:
          - {id: a1, group: A, iterations: 2, runtime_params: {x: a1, y: a1}}
          - {id: b1, group: B, runtime_params: {y: b1}}
        workloads: [probe]
    """)
    job = agenda.specs[0]
    assert (job.id, job.iterations) == ("a1-b1-wk1", 2)
    assert job.runtime_parameters == {"x": "a1", "y": "b1"}


def test_grouped_sections_own_workloads_run_in_each_combination(tmp_path: Path) -> None:
    agenda = load(tmp_path, """
        sections:
          - {id: a1, group: A}
          - {id: a2, group: A}
          - {id: b1, group: B, workloads: [{id: extra, name: probe}]}
        workloads: [probe]
    """)
    assert job_ids(agenda) == ["a1-b1-wk1", "a1-b1-extra", "a2-b1-wk1", "a2-b1-extra"]


# --- augmentations ---------------------------------------------------------------------


def augmentations(tmp_path: Path, text: str) -> dict[str, tuple[str, ...]]:
    return {s.id: s.augmentations for s in load(tmp_path, text).specs}


def test_tilde_disables_an_augmentation_enabled_in_config(tmp_path: Path) -> None:
    assert augmentations(tmp_path, """
        config: {augmentations: [execution_time, power]}
        workloads:
          - {id: plain, name: probe}
          - {id: quiet, name: probe, augmentations: [~power]}
    """) == {"plain": ("execution_time", "power"), "quiet": ("execution_time",)}


def test_a_workload_re_enables_what_its_section_disabled(tmp_path: Path) -> None:
    assert augmentations(tmp_path, """
        config: {augmentations: [power]}
        sections: [{id: s, instruments: [~power]}]
        workloads:
          - {id: muted, name: probe}
          - {id: loud, name: probe, instruments: [power]}
    """) == {"s-muted": (), "s-loud": ("power",)}


def test_double_tilde_clears_what_config_enabled(tmp_path: Path) -> None:
    assert augmentations(tmp_path, """
        config: {augmentations: [execution_time]}
        global: {augmentations: ["~~", power]}
        workloads: [{id: w, name: probe}]
    """) == {"w": ("power",)}


def test_double_tilde_keeps_its_own_entry(tmp_path: Path) -> None:
    assert augmentations(tmp_path, """
        config: {augmentations: [power, "~~"]}
        workloads: [{id: w, name: probe}]
    """) == {"w": ("power",)}


# --- YAML details ----------------------------------------------------------------------


def test_yaml_merge_keys_let_a_mapping_override_merged_keys(tmp_path: Path) -> None:
    agenda = load(tmp_path, """
        workloads:
          - &base {id: one, name: probe, params: {count: 2}}
          - {<<: *base, id: two}
    """)
    assert job_ids(agenda) == ["one", "two"]
    assert [s.workload_parameters["count"] for s in agenda.specs] == [2, 2]


# --- include# --------------------------------------------------------------------------


def test_include_a_file_into_config(tmp_path: Path) -> None:
    write(tmp_path / "common.yaml", "iterations: 4\naugmentations: [power]\n")
    agenda = load(tmp_path, """
        config:
          include#: common.yaml
        workloads: [probe]
    """)
    assert (agenda.specs[0].iterations, agenda.specs[0].augmentations) == (4, ("power",))
    assert agenda.files == (str(tmp_path / "agenda.yaml"), str(tmp_path / "common.yaml"))


def test_include_path_is_relative_to_the_including_file(tmp_path: Path) -> None:
    write(tmp_path / "parts" / "wl.yaml", "workloads: [{id: inc, name: probe}]\n")
    agenda_path = write(tmp_path / "agendas" / "main.yaml", """
        include#: ../parts/wl.yaml
    """)
    agenda = load_agenda(str(agenda_path), CATALOG)
    assert job_ids(agenda) == ["inc"]


def test_including_files_own_values_win_and_lists_join(tmp_path: Path) -> None:
    write(tmp_path / "base.yaml", """
        config:
          iterations: 3
          classifiers: {rig: base, lab: cambridge}
          runtime_parameters: {governor: powersave}
        workloads: [{id: from_base, name: probe}]
    """)
    agenda = load(tmp_path, """
        include#: base.yaml
        config:
          classifiers: {rig: own}
        workloads: [{id: own, name: probe}]
    """)
    assert job_ids(agenda) == ["from_base", "own"]
    job = agenda.specs[0]
    assert job.iterations == 3
    assert job.runtime_parameters == {"governor": "powersave"}
    # WA3 merges the included value one level deep only: a nested mapping is replaced.
    assert job.classifiers == {"rig": "own"}


def test_included_keys_merge_with_the_including_mappings_keys(tmp_path: Path) -> None:
    write(tmp_path / "params.yaml", "runtime_parameters: {a: 1}\nclassifiers: {x: 1}\n")
    agenda = load(tmp_path, """
        config:
          include#: params.yaml
          runtime_parameters: {b: 2}
        global:
          classifiers: {y: 2}
        workloads: [probe]
    """)
    assert agenda.specs[0].runtime_parameters == {"a": 1, "b": 2}
    assert agenda.specs[0].classifiers == {"x": 1, "y": 2}


def test_included_list_and_single_value_join_but_mapping_and_value_do_not(tmp_path: Path
                                                                          ) -> None:
    write(tmp_path / "common.yaml", "augmentations: [execution_time]\nclassifiers: {a: 1}\n")
    agenda = load(tmp_path, """
        config:
          include#: common.yaml
          augmentations: power
        workloads: [probe]
    """)
    assert agenda.specs[0].augmentations == ("execution_time", "power")
    message = load_error(tmp_path, """
        config:
          include#: common.yaml
          classifiers: fast
        workloads: [probe]
    """)
    assert "agenda.yaml:3: classifiers: cannot merge it with the value included by include# " \
           "at " in message
    assert "a mapping and a single value do not merge" in message


def test_include_a_list_of_files_merged_in_order(tmp_path: Path) -> None:
    write(tmp_path / "one.yaml", "workloads: [{id: one, name: probe}]\nconfig: {iterations: 1}\n")
    write(tmp_path / "two.yaml", "workloads: [{id: two, name: probe}]\nconfig: {iterations: 2}\n")
    agenda = load(tmp_path, """
        include#: [one.yaml, two.yaml]
        workloads: [{id: main, name: probe}]
    """)
    assert job_ids(agenda) == ["one", "two", "main"]
    assert {s.iterations for s in agenda.specs} == {2}


def test_include_into_a_workload_entry(tmp_path: Path) -> None:
    write(tmp_path / "probe.yaml", "name: probe\nparams: {count: 9}\nlabel: shared\n")
    agenda = load(tmp_path, """
        workloads:
          - {include#: probe.yaml, id: a}
          - {include#: probe.yaml, id: b, label: own}
    """)
    assert [(s.id, s.label, s.workload_parameters["count"]) for s in agenda.specs] == [
        ("a", "shared", 9), ("b", "own", 9)]


def test_nested_includes_are_relative_to_the_file_that_names_them(tmp_path: Path) -> None:
    write(tmp_path / "lib" / "outer.yaml", "include#: inner/wl.yaml\n")
    write(tmp_path / "lib" / "inner" / "wl.yaml", "workloads: [{id: deep, name: probe}]\n")
    agenda = load(tmp_path, "include#: lib/outer.yaml\n")
    assert job_ids(agenda) == ["deep"]
    assert len(agenda.files) == 3


def test_an_error_in_an_included_file_names_that_file(tmp_path: Path) -> None:
    write(tmp_path / "bad.yaml", "workloads:\n  - name: probe\n    params: {cont: 1}\n")
    message = load_error(tmp_path, "include#: bad.yaml\n")
    assert f"{tmp_path / 'bad.yaml'}:3: workloads[0].params.cont:" in message
    assert "Did you mean 'count'?" in message


def test_include_cycle_is_an_error_at_the_include(tmp_path: Path) -> None:
    write(tmp_path / "other.yaml", "config:\n  include#: agenda.yaml\n")
    message = load_error(tmp_path, """
        workloads: [probe]
        include#: other.yaml
    """)
    assert "include cycle" in message
    assert f"{tmp_path / 'other.yaml'}:2: include#" in message


def test_missing_included_file_is_an_error(tmp_path: Path) -> None:
    message = load_error(tmp_path, """
        workloads: [probe]
        include#: nowhere.yaml
    """)
    assert f"{tmp_path / 'agenda.yaml'}:2: include#: included file 'nowhere.yaml' does " \
           "not exist" in message


# --- execution order -------------------------------------------------------------------


def two_sections_two_specs(tmp_path: Path, iterations_b: int = 2) -> Agenda:
    return load(tmp_path, f"""
        config: {{iterations: 2}}
        sections: [{{id: X}}, {{id: Y}}]
        workloads:
          - {{id: A, name: probe}}
          - {{id: B, name: probe, iterations: {iterations_b}}}
    """)


def order(agenda: Agenda, how: str, seed: int | None = None) -> list[str]:
    return [f"{job.spec.section_id}.{job.spec.workload_id}{job.iteration}"
            for job in order_jobs(agenda.specs, how, seed)]


def test_by_iteration_interleaves_sections(tmp_path: Path) -> None:
    assert order(two_sections_two_specs(tmp_path), "by_iteration") == [
        "X.A1", "Y.A1", "X.B1", "Y.B1", "X.A2", "Y.A2", "X.B2", "Y.B2"]


def test_by_section_runs_a_section_per_round(tmp_path: Path) -> None:
    assert order(two_sections_two_specs(tmp_path), "by_section") == [
        "X.A1", "X.B1", "Y.A1", "Y.B1", "X.A2", "X.B2", "Y.A2", "Y.B2"]


@pytest.mark.parametrize("name", ["by_workload", "by_spec", "classic"])
def test_by_workload_runs_every_iteration_of_a_spec_together(tmp_path: Path,
                                                             name: str) -> None:
    assert order(two_sections_two_specs(tmp_path), name) == [
        "X.A1", "X.A2", "X.B1", "X.B2", "Y.A1", "Y.A2", "Y.B1", "Y.B2"]


def test_specs_with_fewer_iterations_drop_out_of_later_rounds(tmp_path: Path) -> None:
    agenda = two_sections_two_specs(tmp_path, iterations_b=1)
    assert order(agenda, "by_iteration") == ["X.A1", "Y.A1", "X.B1", "Y.B1", "X.A2", "Y.A2"]
    assert order(agenda, "by_section") == ["X.A1", "X.B1", "Y.A1", "Y.B1", "X.A2", "Y.A2"]


def test_random_order_is_a_permutation_reproducible_from_its_seed(tmp_path: Path) -> None:
    agenda = two_sections_two_specs(tmp_path)
    shuffled = order(agenda, "random", seed=1234)
    assert shuffled == order(agenda, "random", seed=1234)
    assert sorted(shuffled) == sorted(order(agenda, "by_iteration"))
    others = {tuple(order(agenda, "random", seed=seed)) for seed in range(20)}
    assert len(others) > 1


def test_unknown_order_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown execution order 'sideways'"):
        order_jobs(two_sections_two_specs(tmp_path).specs, "sideways")
