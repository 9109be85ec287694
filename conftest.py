"""Root conftest: the test suite drives pytest-wa the way users meet it, through pytester."""

# PyYAML's C extension cannot be imported a second time in one process. pytester's
# in-process runs drop modules first imported during a run, and pytest-wa imports
# yaml lazily (only when an agenda is collected), so import it once up front.
import yaml  # noqa: F401

pytest_plugins = ["pytester", "pytest_wa.testing.fixtures", "pytest_wa.testing.ssh_fixtures"]
