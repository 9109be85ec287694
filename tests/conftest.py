"""Fixtures many test modules share (a module's own fixture of the same name wins)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def device(wa_simulated_device, monkeypatch):
    """The device, with adb's own variable pointing pytest at the private adb server."""
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(wa_simulated_device.adb_port))
    return wa_simulated_device


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty HOME and no agent: only what the device config says is used."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return tmp_path
