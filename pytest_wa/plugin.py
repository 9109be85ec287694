"""The pytest11 entry point. Thin on purpose: options, hooks, and lazy imports.

Installed beside an ordinary test suite it costs almost nothing and changes
nothing: no target connection, no output, until an agenda item or a ``wa_*``
fixture is used.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

ORDERS = ("by_iteration", "by_section", "by_workload", "by_spec", "classic", "random")


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from . import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("wa", "pytest-wa (Workload Automation agendas)")
    group.addoption("--wa-device", dest="wa_device", default=None, metavar="NAME",
                    help="device to run the agendas on: a name from a --wa-config file, "
                         "local (the default: this host), adb:SERIAL or ssh://user@host:port; "
                         "a comma list or a config file's pool runs on several with -n")
    group.addoption("--wa-matrix", dest="wa_matrix", action="store_true", default=False,
                    help="with a pool (--wa-device=a,b,c -n auto): run every job on each "
                         "device instead of sharing the jobs out")
    group.addoption("--wa-config", dest="wa_config", action="append", default=[],
                    metavar="FILE",
                    help="device config file with a 'devices:' mapping (repeatable; after "
                         "the ini's wa_config files; a later file's device wins)")
    group.addoption("--wa-order", dest="wa_order", default=None, choices=ORDERS,
                    help="execution order, overriding the agendas' execution_order")
    group.addoption("--wa-seed", dest="wa_seed", default=None, type=int, metavar="N",
                    help="seed of the random execution order (printed when used)")
    group.addoption("--wa-max-retries", dest="wa_max_retries", default=None, type=int,
                    metavar="N",
                    help="retry a job whose status is in retry_on_status up to N times "
                         "(overrides the agendas' max_retries; 0: never)")
    group.addoption("--wa-job-timeout", dest="wa_job_timeout", default=None, type=float,
                    metavar="SECONDS",
                    help="fail a job whose setup, execution and result extraction take longer; "
                         "its command is killed on the device (overrides job_timeout)")
    group.addoption("--wa-reboot-policy", dest="wa_reboot_policy", default=None,
                    choices=("never", "as_needed", "initial", "each_job", "each_spec",
                             "each_iteration", "run_completion"),
                    help="when to reboot the device (overrides the agendas' reboot_policy)")
    group.addoption("--wa-output", dest="wa_output", default=None, metavar="DIR",
                    help="run output directory (default: wa_output); a previous run there "
                         "is moved aside to DIR-<its start time>")
    group.addoption("--wa-force", dest="wa_force", action="store_true", default=False,
                    help="delete a previous run in the output directory instead of moving it")
    group.addoption("--wa-resume", dest="wa_resume", default=None, metavar="DIR",
                    help="run only the jobs of the run in DIR that did not finish OK, and "
                         "write into DIR")
    group.addoption("--wa-db", dest="wa_db", default=None, metavar="DB",
                    help="also store the run in a results database: an SQLite file (path "
                         "or sqlite:///path) or postgresql://user@host/dbname (overrides "
                         "the agendas' db setting; docs/results.md)")
    group.addoption("--wa-baseline", dest="wa_baseline", default=None, metavar="RUN",
                    help="compare every metric with the same job's in RUN (a run directory, "
                         "or a run uuid in --wa-db or $PYTEST_WA_DB): a job that regressed "
                         "fails its <job>[baseline] result (needs pytest-wa[stats]; "
                         "docs/statistics.md)")
    group.addoption("--wa-threshold", dest="wa_threshold", action="append", default=[],
                    metavar="[NAME=]PCT",
                    help="with --wa-baseline: the smallest change that counts, in %% of the "
                         "baseline mean (default 5%%); NAME=PCT for one metric (over the "
                         "agendas' thresholds); repeatable")
    group.addoption("--wa-html", dest="wa_html", default=None, metavar="PATH",
                    help="write the run's HTML report to PATH when the run ends: one "
                         "self-contained file (docs/report.md)")
    group.addoption("--wa-resources", dest="wa_resources", action="append", default=[],
                    metavar="DIR",
                    help="directory of workload programs (DIR/<abi>/NAME or DIR/NAME), "
                         "looked in before the device's PATH (repeatable)")
    group.addoption("--wa-list", dest="wa_list", default=None,
                    choices=("workloads", "instruments", "output_processors", "devices"),
                    help="list the available workloads, instruments, output processors or "
                         "devices and exit")
    group.addoption("--wa-show", dest="wa_show", default=None, metavar="NAME",
                    help="describe a workload, instrument or output processor and its "
                         "parameters, and exit")
    parser.addini("wa_config", "pytest-wa device config files (relative to the ini file)",
                  type="linelist", default=[])
    parser.addini("wa_progress_every", "pytest-wa: seconds between progress lines of a "
                  "running job when the output is not a terminal (default 30; the first "
                  "after a third of it)", default="30")
    parser.addini("wa_output", "pytest-wa run output directory (default: wa_output)",
                  default="")


def pytest_configure(config: pytest.Config) -> None:
    from .engine.stages import CoreStages
    from .pool import configure_pool
    from .session.report import StatusReporter

    config.pluginmanager.register(CoreStages(), "pytest-wa-core")
    config.pluginmanager.register(StatusReporter(config), "pytest-wa-reporter")
    config.addinivalue_line("markers", "wa_job: a pytest-wa job iteration")
    configure_pool(config)
    if config.getoption("wa_baseline", None) is not None:
        from .session.baseline import start_baseline_check

        start_baseline_check(config)


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    from .session.progress_line import start_live_progress

    start_live_progress(session.config)


def pytest_cmdline_main(config: pytest.Config) -> int | None:
    if config.getoption("wa_list") or config.getoption("wa_show"):
        from .session.listing import show_catalog

        return show_catalog(config)
    return None


def pytest_ignore_collect(collection_path: Any, config: pytest.Config) -> bool | None:
    """Never collect inside a run directory: it holds copies of the agendas it ran."""
    if (collection_path / ".run_state.json").is_file():
        return True
    return None


def pytest_collect_file(file_path: Any, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    from .session.detect import looks_like_agenda

    if looks_like_agenda(str(file_path)) or parent.session.isinitpath(file_path):
        from .session.items import AgendaFile

        return AgendaFile.from_parent(parent, path=file_path)
    return None


def _collected_agendas() -> bool:
    """Whether any agenda was collected (no YAML file was looked at, no job item)."""
    return _ITEMS_MODULE in sys.modules


_ITEMS_MODULE = f"{__package__}.session.items"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    """Before any selection: the run plan (stable output ids), then --wa-resume."""
    if _collected_agendas():
        from .session.collection import plan_and_resume

        plan_and_resume(config, items)


def pytest_collection_finish(session: pytest.Session) -> None:
    if _collected_agendas():
        from .session.collection import jobs_will_run, prepare_run

        prepare_run(session, jobs_will_run(session))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    """Job items run through session/protocol.py: retries happen inside one protocol call."""
    items = sys.modules.get(_ITEMS_MODULE)
    if items is None or not isinstance(item, items.JobItem):
        return None
    from .session.protocol import run_protocol

    return run_protocol(item, nextitem)


def pytest_report_collectionfinish(config: pytest.Config, items: list[pytest.Item]
                                   ) -> str | None:
    if not _collected_agendas():
        return None
    from .session.collection import random_order_notice

    return random_order_notice(config, items)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto`` with a pool: one worker per device (else xdist's own default)."""
    if not config.getoption("wa_device", None):
        return None
    from .pool.devices import pool_devices

    pool = pool_devices(config)
    return len(pool) if pool else None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    if hasattr(item, "next_job_item"):
        item.next_job_item = nextitem


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    report = yield
    if hasattr(item, "locate_skip"):
        item.locate_skip(report)
    return report


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
    if report.when == "teardown" or not getattr(report, "user_properties", None):
        return None
    from .session.report import teststatus

    return teststatus(report)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    from .session.state import existing_run

    run = existing_run(session.config)
    if run is not None:
        run.finish(interrupted=exitstatus == pytest.ExitCode.INTERRUPTED)
        if session.config.getoption("wa_html"):
            from .session.html_report import report_run

            report_run(session.config, run)


@pytest.fixture(scope="session")
def wa_target(request: pytest.FixtureRequest) -> Any:
    """The run's target (``--wa-device``), connected; shared with agenda jobs."""
    from .session.state import start_run

    return start_run(request.config).target
