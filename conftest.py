"""Root conftest: the test suite drives pytest-wa the way users meet it, through pytester."""

# PyYAML's C extension cannot be imported a second time in one process. pytester's
# in-process runs drop modules first imported during a run, and pytest-wa imports
# yaml lazily (only when an agenda is collected), so import it once up front.
import yaml  # noqa: F401

pytest_plugins = ["pytester", "pytest_wa.testing.fixtures", "pytest_wa.testing.ssh_fixtures"]


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _no_wa3_user_config(tmp_path_factory: pytest.TempPathFactory,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    """WA3's user directory is an empty one: a developer's ~/.workload_automation/config.yaml
    must not change what the tests see (tests of the user config make their own)."""
    monkeypatch.setenv("WA_USER_DIRECTORY", str(tmp_path_factory.mktemp("wa-user-directory")))
