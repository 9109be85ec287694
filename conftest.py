"""Root conftest: the test suite drives pytest-wa the way users meet it, through pytester."""

pytest_plugins = ["pytester"]
