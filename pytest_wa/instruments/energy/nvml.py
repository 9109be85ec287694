"""The ``nvml`` backend: NVIDIA GPUs' energy counters, through NVML (nvidia-ml-py).

NVML's ``nvmlDeviceGetTotalEnergyConsumption`` is a 64-bit millijoule
counter kept by the driver (Volta and later), read for each GPU just before
and just after the workload: no sampling, no wrap. NVML is a library of this
host, so this backend measures the GPUs of the machine pytest runs on: the
local target only. ``pynvml`` (the ``nvml`` extra: ``pip install
'pytest-wa[nvml]'``) is imported when the backend is used, never before.
Each GPU is a site, ``gpu<index>``.
"""

from __future__ import annotations

import contextlib
import importlib
import time
from typing import TYPE_CHECKING, Any

from ...model.errors import InstrumentError
from ..availability import InstrumentUnavailable
from .base import Backend, Measurement

if TYPE_CHECKING:
    from ...targets.protocols import Target

INSTALL = "install the nvml extra: pip install 'pytest-wa[nvml]' (nvidia-ml-py)"


class NvmlBackend(Backend):
    name = "nvml"
    description = ("NVIDIA GPUs' energy counters through NVML (nvidia-ml-py), on the local "
                   "target; one site per GPU (gpu0, gpu1...).")

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        self.nvml: Any = None
        self.handles: dict[str, Any] = {}
        self._before: tuple[float, dict[str, int]] | None = None

    def discover(self, target: Target) -> list[str]:
        if getattr(target, "kind", None) != "local":
            raise InstrumentUnavailable(
                "NVML reads the GPUs of the host pytest runs on: use it with the local "
                "target (--wa-device local), not over adb or SSH")
        try:
            self.nvml = importlib.import_module("pynvml")
        except ImportError as exc:
            raise InstrumentUnavailable(f"pynvml cannot be imported ({exc}): {INSTALL}") from None
        try:
            self.nvml.nvmlInit()
        except self.nvml.NVMLError as exc:
            raise InstrumentUnavailable(
                f"NVML cannot start: {exc} (no NVIDIA GPU, or its driver is not "
                "loaded)") from None
        try:
            return self._gpus()
        except BaseException:
            self.close()
            raise

    def _gpus(self) -> list[str]:
        """Every GPU whose energy counter NVML can read, as a site."""
        nvml = self.nvml
        count = nvml.nvmlDeviceGetCount()
        if not count:
            raise InstrumentUnavailable("NVML sees no NVIDIA GPU on this host")
        refused = []
        for index in range(count):
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            try:
                nvml.nvmlDeviceGetTotalEnergyConsumption(handle)
            except nvml.NVMLError as exc:
                refused.append(f"gpu{index} ({_text(nvml.nvmlDeviceGetName(handle))}): {exc}")
                continue
            self.handles[f"gpu{index}"] = handle
        if not self.handles:
            raise InstrumentUnavailable(
                "no GPU has an energy counter (Volta or later is needed): "
                + "; ".join(refused))
        self.left_out = [f"{gpu}: no energy counter" for gpu in refused]
        return list(self.handles)

    def _read(self) -> tuple[float, dict[str, int]]:
        when = time.monotonic()
        try:
            counters = {site: int(self.nvml.nvmlDeviceGetTotalEnergyConsumption(handle))
                        for site, handle in self.handles.items() if site in self.sites}
        except self.nvml.NVMLError as exc:
            raise InstrumentError(f"NVML: {exc}") from None
        return when, counters

    def start(self, target: Target) -> None:
        self._before = self._read()

    def stop(self, target: Target) -> Measurement:
        if self._before is None:
            raise InstrumentError("stop without start")
        (start, before), self._before = self._before, None
        end, after = self._read()
        joules = {}
        for site, counter in after.items():
            if counter < before[site]:
                raise InstrumentError(f"{site}'s energy counter went back from "
                                      f"{before[site]} to {counter} mJ (driver reloaded?)")
            joules[site] = (counter - before[site]) / 1000
        rows = [{"time": 0.0, **{f"{site}_energy": 0.0 for site in joules}},
                {"time": end - start, **{f"{site}_energy": value
                                         for site, value in joules.items()}}]
        return Measurement(joules, end - start, rows)

    def close(self) -> None:
        if self.nvml is not None:
            with contextlib.suppress(self.nvml.NVMLError):  # already shut down
                self.nvml.nvmlShutdown()
            self.nvml, self.handles = None, {}


def _text(name: Any) -> str:
    """nvmlDeviceGetName gives bytes in older nvidia-ml-py releases, str in newer ones."""
    return name.decode(errors="replace") if isinstance(name, bytes) else str(name)
