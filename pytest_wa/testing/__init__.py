"""Real servers for testing pytest-wa and what is built on it.

``simdevice`` is a simulated Android device (an adbd speaking the real
transport protocol), ``adb`` starts a private adb server, ``sshd`` a private
OpenSSH server. ``fixtures`` offers them as pytest fixtures
(``pytest_plugins = ["pytest_wa.testing.fixtures"]``).
"""
