"""The pytest11 entry point. Thin on purpose: options, hooks, and lazy imports.

Installed beside an ordinary test suite it costs almost nothing and changes
nothing: no target connection, no output, until an agenda item or a ``wa_*``
fixture is used.
"""

from __future__ import annotations

import re
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
    group.addoption("--wa-list", dest="wa_list", default=None,
                    choices=("workloads", "instruments", "devices"),
                    help="list the available workloads, instruments or devices and exit")
    group.addoption("--wa-show", dest="wa_show", default=None, metavar="NAME",
                    help="describe a workload or instrument and its parameters, and exit")
    parser.addini("wa_config", "pytest-wa device config files (relative to the ini file)",
                  type="linelist", default=[])
    parser.addini("wa_output", "pytest-wa run output directory (default: wa_output)",
                  default="")


def pytest_configure(config: pytest.Config) -> None:
    from .core import CoreStages
    from .report import StatusReporter

    config.pluginmanager.register(CoreStages(), "pytest-wa-core")
    config.pluginmanager.register(StatusReporter(config), "pytest-wa-reporter")
    config.addinivalue_line("markers", "wa_job: a pytest-wa job iteration")
    _configure_xdist_controller(config)


def _configure_xdist_controller(config: pytest.Config) -> None:
    """On the xdist controller: pool checks, and the plugin that owns the run's files.

    Cheap when pytest-xdist is off: one option look-up (and none of pool/).
    """
    if getattr(config, "workerinput", None) is not None:
        return
    if config.getoption("wa_device", None) or config.getoption("wa_matrix", False):
        from .pool.devices import check_pool

        check_pool(config)
    if config.getoption("dist", "no") != "no" and config.getoption("tx", None):
        from .pool.controller import PoolController

        config.pluginmanager.register(PoolController(config), "pytest-wa-pool")


def pytest_cmdline_main(config: pytest.Config) -> int | None:
    if config.getoption("wa_list") or config.getoption("wa_show"):
        from .catalog_view import show_catalog

        return show_catalog(config)
    return None


# A top-level workloads/sections key (or a likely misspelling of one, so that the
# typo is reported rather than the file silently ignored), or a flow mapping.
_AGENDA_MARKER = re.compile(rb"^(?:workloads?|sections?|work_loads)\s*:|^\{", re.MULTILINE)


_SCAN_CHUNK = 1024 * 1024
_SCAN_LIMIT = 64 * 1024 * 1024  # the largest agenda pytest-wa loads


def looks_like_agenda(path: str) -> bool:
    """Cheap test (no YAML parse) for a top-level 'workloads:' or 'sections:' key.

    Reads in chunks and stops at the first match, so a large YAML data file in
    an ordinary test suite costs little memory; past the agenda size limit it
    cannot be an agenda.
    """
    tail = b"\n"  # the text scanned always starts at a line start ("\n") or mid-line ("\0")
    try:
        with open(path, "rb") as handle:
            for _ in range(_SCAN_LIMIT // _SCAN_CHUNK):
                chunk = handle.read(_SCAN_CHUNK)
                if not chunk:
                    return False
                text = tail + chunk
                if _AGENDA_MARKER.search(text):
                    return True
                # A key split across chunks starts in a short unfinished last line; a
                # long one is replaced by a byte that keeps '^' from matching mid-line.
                newline = text.rfind(b"\n")
                last = text[newline:] if newline >= 0 else text
                tail = last if len(last) <= 64 else b"\0"
    except OSError:
        return False
    return False


def pytest_ignore_collect(collection_path: Any, config: pytest.Config) -> bool | None:
    """Never collect inside a run directory: it holds copies of the agendas it ran."""
    if (collection_path / ".run_state.json").is_file():
        return True
    return None


def pytest_collect_file(file_path: Any, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    if looks_like_agenda(str(file_path)) or parent.session.isinitpath(file_path):
        from .collect import AgendaFile

        return AgendaFile.from_parent(parent, path=file_path)
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    """Before any selection: the run plan (stable output ids), then --wa-resume."""
    collect = sys.modules.get(f"{__package__}.collect")
    if collect is not None:
        collect.plan_and_resume(config, items)
        config.stash[_PLANNED] = True


_PLANNED = pytest.StashKey[bool]()


def _will_run(session: pytest.Session) -> bool:
    """Whether the jobs collected are going to run (so the device is needed now).

    Not with --co, nor when collection failed: pytest calls collection_finish
    even then, and stops before the first item.
    """
    config = session.config
    if config.option.collectonly or not config.stash.get(_PLANNED, False):
        return False
    return not (session.testsfailed and not config.option.continue_on_collection_errors)


def pytest_collection_finish(session: pytest.Session) -> None:
    collect = sys.modules.get(f"{__package__}.collect")
    if collect is None:  # no YAML file was looked at, so there is no job item
        return
    jobs = [item for item in session.items if isinstance(item, collect.JobItem)]
    if jobs:
        from .runstate import get_run

        run = get_run(session.config)
        run.nodeids = {id(item.job): item.nodeid for item in jobs}
        if run.plan is not None:
            run.plan.keep(item.job for item in jobs)
        for item in jobs:
            for name in item.spec.augmentations:
                cls = item.catalog.instrument(name)
                run.plan_instrument(cls.name, cls, item.agenda.plugin_configs.get(name, {}),
                                    str(item.path.parent))
        if _will_run(session):
            # The device is had before the first job, so that an unknown name, an
            # unreachable device or bad credentials is one line, not an error per job.
            from .errors import InputError, TargetError

            try:
                run.start()
            except (InputError, TargetError) as exc:
                from .pool.worker import in_pool

                if not in_pool(session.config):
                    raise pytest.UsageError(f"pytest-wa: {exc}") from None
                # A pool worker whose device cannot be had leaves at its first job,
                # and the other devices run the jobs (pool/worker.py).
                run.device_lost = str(exc)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    """Job items run through retry.py: retries happen inside one protocol call."""
    collect = sys.modules.get(f"{__package__}.collect")
    if collect is None or not isinstance(item, collect.JobItem):
        return None
    from .retry import run_job_item
    from .runstate import get_run

    run = get_run(item.config)
    if run.device_lost is not None and not run.started:  # never had its device
        from .pool.worker import leave_if_device_lost

        leave_if_device_lost(run, "")
    run.ensure_output()
    done = run_job_item(item, nextitem)
    if run.device_lost is not None:
        from .pool.worker import leave_if_device_lost

        leave_if_device_lost(run, item.nodeid)
    return done


def pytest_report_collectionfinish(config: pytest.Config, items: list[pytest.Item]
                                   ) -> str | None:
    collect = sys.modules.get(f"{__package__}.collect")
    if collect is None:
        return None
    return collect.random_order_notice(config, items)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: every worker orders jobs with the controller's random seed
    (its device, in a pool, comes from pool/controller.py)."""
    from .runstate import wa_seed

    node.workerinput["wa_seed"] = wa_seed(node.config)


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
    from .report import teststatus

    return teststatus(report)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    from .runstate import existing_run

    run = existing_run(session.config)
    if run is not None:
        run.finish(interrupted=exitstatus == pytest.ExitCode.INTERRUPTED)


@pytest.fixture(scope="session")
def wa_target(request: pytest.FixtureRequest) -> Any:
    """The run's target (``--wa-device``), connected; shared with agenda jobs."""
    from .collect import start_run

    return start_run(request.config).target
