"""Runtime parameters: device settings applied before each job and restored after it.

Modules, one job each: ``names`` (WA3's parameter names taken apart),
``facts`` (what the device's CPUs support, and which CPUs a scope names),
``probe`` (the few shell commands that read the device), ``given`` (a spec's
values, located problems, narrowest-scope-wins resolution), ``sysfiles``,
``hotplug``, ``cpufreq``, ``cpuidle`` and ``android_settings`` (check and
apply one family each), ``journal`` (what a job changed, undone in reverse),
``plan`` (one spec, all families, in WA3's order) and ``plugin`` (the hooks).
"""
