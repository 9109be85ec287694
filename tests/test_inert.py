"""Installed beside an ordinary test suite, pytest-wa changes nothing."""

from __future__ import annotations

import pytest


def test_plain_suite_runs_as_before(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        def test_one(record_property):
            record_property("mine", 1)

        def test_two():
            assert 1 + 1 == 2
    """)
    pytester.makefile(".yml", ci="steps:\n  - run: make\n")
    before = sorted(p.name for p in pytester.path.iterdir())
    quiet = ("-p", "no:cacheprovider", "-p", "no:benchmark", "-v")  # plugins that write files
    with_plugin = pytester.runpytest(*quiet)
    without = pytester.runpytest(*quiet, "-p", "no:wa")
    with_plugin.assert_outcomes(passed=2)
    without.assert_outcomes(passed=2)
    assert sorted(p.name for p in pytester.path.iterdir()) == before
    assert "pytest-wa" not in with_plugin.stdout.str()
    assert "Ran a total" not in with_plugin.stdout.str()
    strip = [line for line in with_plugin.stdout.lines
             if not line.startswith(("plugins:", "=", "rootdir", "cachedir"))]
    assert strip == [line for line in without.stdout.lines
                     if not line.startswith(("plugins:", "=", "rootdir", "cachedir"))]


def test_plain_suite_never_creates_a_target(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
        import pathlib

        def pytest_wa_make_target(config, device):
            pathlib.Path("target-made").write_text(device)

        def pytest_wa_run_start(run):
            pathlib.Path("run-started").write_text("yes")
    """)
    pytester.makepyfile("def test_one():\n    pass\n")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    assert not (pytester.path / "target-made").exists()
    assert not (pytester.path / "run-started").exists()


def test_plugin_import_does_not_load_heavy_modules(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import sys

        def test_modules():
            loaded = set(sys.modules)
            heavy = {"yaml", "adbutils", "fabric", "paramiko", "pytest_wa.agenda",
                     "pytest_wa.targets.local"}
            assert not heavy & loaded, heavy & loaded
    """)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
