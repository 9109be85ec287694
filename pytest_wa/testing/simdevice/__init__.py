"""A simulated Android device: an adbd written from AOSP's protocol documents.

The real adb server attaches it with ``adb connect 127.0.0.1:PORT``; from
then on the adb CLI and adbutils talk to it as to a phone (shell protocol v2,
sync, reboot, root). Commands run on the host, chrooted into the device's own
file tree inside a private mount namespace. See docs/simulated-device.md.

Modules, one job each: ``wire`` (message framing), ``transport`` (connection,
streams, flow control), ``services`` (which service an OPEN names; reboot,
root), ``shell`` and ``process`` (commands), ``sync`` (file transfer),
``rootfs`` (the tree and the namespace), ``cpus`` (fake cpufreq sysfs),
``props`` (system properties), ``tools`` (getprop, pm, screencap...),
``adbd`` (the daemon), ``device`` (``SimulatedDevice``, to run one from
Python), ``__main__`` (the CLI).
"""

from .device import DeviceError, SimulatedDevice

__all__ = ["DeviceError", "SimulatedDevice"]
