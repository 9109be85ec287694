"""The ``__meta`` files' contents in the exact shapes WA3's reader accepts.

WA3 rejects unknown keys in config.json's two halves and in each JobSpec, and
requires a fixed set of keys in target_info.json (TargetInfo pod version 5);
pytest-wa's own extras therefore go into the run result's ``metadata``. Values
an agenda wrote with WA3's YAML tags are written as WA3's JSON encoder writes
them (``REGEX:40:^.*#``...): the files read as WA3's own.
"""

from __future__ import annotations

import os
import resource
from typing import Any

from ..agenda.spec import JobSpec, RunSettings
from ..agenda.tagged import WaCpuMask, WaLevel, WaRegex
from ..model.secrets import masked
from ..model.status import JobStatus

POD = {"_pod_version": 1, "_pod_serialization_version": 1}


def spec_pod(spec: JobSpec, job_id: str) -> dict[str, Any]:
    """One JobSpec of ``jobs.json`` (WA3 key order), under the id used in the output."""
    pod = {**POD, "iterations": spec.iterations, "workload_name": spec.workload_name,
           "workload_parameters": spec.workload_parameters,
           "runtime_parameters": spec.runtime_parameters,
           "boot_parameters": spec.boot_parameters, "label": spec.label,
           "augmentations": list(spec.augmentations), "flash": spec.flash or None,
           "classifiers": spec.classifiers, "id": job_id}
    return _wa3_json(pod)


def _wa3_json(value: Any) -> Any:
    """``value`` with every WA3 tagged value replaced by WA3's JSON text for it."""
    if isinstance(value, WaRegex | WaLevel | WaCpuMask):
        return value.json_text()
    if isinstance(value, dict):
        return {key: _wa3_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_wa3_json(item) for item in value]
    return value


def _level(name: str) -> str:
    return f"LEVEL:{name}:{JobStatus[name].value}"


def config_pod(settings: RunSettings, device: str, instruments: dict[str, dict[str, Any]],
               output_directory: str, device_config: dict[str, Any] | None = None
               ) -> dict[str, Any]:
    """config.json: WA3's MetaConfiguration and RunConfiguration, nothing else.

    ``device_config`` is the device's settings (secrets already masked); an
    agenda's own ``device_config`` is written under it with secrets masked too.
    """
    written_device_config = masked(settings.device_config)
    written_device_config.update(device_config or {})
    logging_pod = {**POD, "regular_format": "%(levelname)-8s %(message)s",
                   "verbose_format": "%(asctime)s %(levelname)-8s %(name)s: %(message)s",
                   "file_format": "%(asctime)s %(levelname)-8s %(name)s: %(message)s",
                   "color": True}
    meta = {**POD, "user_directory": "", "assets_repository": "", "logging": logging_pod,
            "verbosity": 0, "default_output_directory": output_directory,
            "extra_plugin_paths": None}
    run = {**POD, "execution_order": settings.execution_order,
           "reboot_policy": settings.reboot_policy, "device": device,
           "retry_on_status": [_level(name) for name in settings.retry_on_status],
           "max_retries": settings.max_retries,
           "bail_on_init_failure": settings.bail_on_init_failure,
           "bail_on_job_failure": settings.bail_on_job_failure,
           "allow_phone_home": settings.allow_phone_home,
           "device_config": written_device_config,
           "augmentations": {name: masked(values) for name, values in instruments.items()},
           "resource_getters": {}}
    return _wa3_json({**POD, "settings": meta, "run_config": run})


def _cpu_pod(index: int) -> dict[str, Any]:
    frequency: dict[str, Any] = {**POD, "available_frequencies": [], "available_governors": [],
                 "related_cpus": [], "driver": None}
    idle: dict[str, Any] = {**POD, "governor": None, "driver": None, "states": []}
    return {**POD, "id": index, "name": None, "architecture": None, "features": [],
            "cpufreq": frequency, "cpuidle": idle}


def target_info_pod(target: Any) -> dict[str, Any]:
    """target_info.json (TargetInfo version 5) from the target's properties."""
    props = target.properties
    extra = dict(props.extra)
    return {"_pod_version": 5, "_pod_serialization_version": 5,
            "target": type(target).__name__, "modules": [], "abi": props.abi,
            "cpus": [_cpu_pod(i) for i in range(props.cpus)], "os": props.os,
            "os_version": extra.get("os_version", {}), "system_id": None, "hostid": None,
            "hostname": props.hostname, "is_rooted": bool(extra.get("is_rooted",
                                                                    os.geteuid() == 0)),
            "kernel_release": props.kernel, "kernel_version": extra.get("kernel_version", ""),
            "kernel_config": {}, "sched_features": None,
            "page_size_kb": extra.get("page_size_kb", resource.getpagesize() // 1024),
            # WA3's reader requires these of an Android target (AndroidTargetInfo)
            **({"screen_resolution": extra.get("screen_resolution"),
                "prop": extra.get("prop", {}), "android_id": extra.get("android_id")}
               if props.os == "android" else {})}
