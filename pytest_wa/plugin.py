"""The pytest11 entry point. Thin on purpose: options, hooks, and lazy imports.

Installed beside an ordinary test suite it costs almost nothing and changes
nothing: no target connection, no output, until an agenda item or a ``wa_*``
fixture is used.
"""

from __future__ import annotations

from typing import Any

import pytest

ORDERS = ("by_iteration", "by_section", "by_workload", "by_spec", "classic", "random")


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from . import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("wa", "pytest-wa (Workload Automation agendas)")
    group.addoption("--wa-device", dest="wa_device", default=None, metavar="NAME",
                    help="device to run the agendas on (default: local, this host)")
    group.addoption("--wa-order", dest="wa_order", default=None, choices=ORDERS,
                    help="execution order, overriding the agendas' execution_order")
    group.addoption("--wa-seed", dest="wa_seed", default=None, type=int, metavar="N",
                    help="seed of the random execution order (printed when used)")
    group.addoption("--wa-list", dest="wa_list", default=None,
                    choices=("workloads", "instruments"),
                    help="list the available workloads or instruments and exit")
    group.addoption("--wa-show", dest="wa_show", default=None, metavar="NAME",
                    help="describe a workload or instrument and its parameters, and exit")


def pytest_configure(config: pytest.Config) -> None:
    from .core import CoreStages
    from .report import StatusReporter

    config.pluginmanager.register(CoreStages(), "pytest-wa-core")
    config.pluginmanager.register(StatusReporter(config), "pytest-wa-reporter")
    config.addinivalue_line("markers", "wa_job: a pytest-wa job iteration")


def pytest_cmdline_main(config: pytest.Config) -> int | None:
    if config.getoption("wa_list") or config.getoption("wa_show"):
        from .catalog_view import show_catalog

        return show_catalog(config)
    return None


def pytest_collect_file(file_path: Any, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix in (".yaml", ".yml"):
        from .collect import agenda_file_for

        return agenda_file_for(file_path, parent)
    return None


def pytest_collection_finish(session: pytest.Session) -> None:
    from .collect import JobItem

    jobs = [item for item in session.items if isinstance(item, JobItem)]
    if jobs:
        from .runstate import get_run

        run = get_run(session.config)
        for item in jobs:
            for name in item.spec.augmentations:
                cls = item.catalog.instrument(name)
                run.plan_instrument(cls.name, cls, item.agenda.plugin_configs.get(name, {}),
                                    str(item.path.parent))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    if hasattr(item, "next_job_item"):
        item.next_job_item = nextitem


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
    if not report.user_properties or report.when == "teardown":
        return None
    from .report import teststatus

    return teststatus(report)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    from .runstate import existing_run

    run = existing_run(session.config)
    if run is not None:
        run.finish()


@pytest.fixture(scope="session")
def wa_target(request: pytest.FixtureRequest) -> Any:
    """The run's target (``--wa-device``), connected; shared with agenda jobs."""
    from .runstate import get_run

    run = get_run(request.config)
    run.start()
    return run.target
