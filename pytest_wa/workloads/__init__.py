"""WA's workloads, one module each; ``builtin_workloads`` lists them for the registry."""

from __future__ import annotations


def builtin_workloads() -> list[type]:
    """The workloads pytest-wa ships (imported when a catalog is built, not before)."""
    from .app_launch import AppLaunch
    from .command import Command
    from .cyclictest import Cyclictest
    from .deepbench import Deepbench, DeepConv, DeepGemm, DeepSparse
    from .dhrystone import Dhrystone
    from .hackbench import Hackbench
    from .idle import Idle
    from .lmbench import Lmbench
    from .meabo import Meabo
    from .memcpy import Memcpy
    from .openssl import Openssl
    from .rt_app import RtApp
    from .schbench import Schbench
    from .shellscript import ShellScript
    from .stress_ng import StressNg
    from .sysbench import Sysbench

    return [AppLaunch, Command, Cyclictest, Deepbench, DeepConv, DeepGemm, DeepSparse, Dhrystone,
            Hackbench, Idle, Lmbench, Meabo, Memcpy, Openssl, RtApp, Schbench, ShellScript,
            StressNg, Sysbench]
