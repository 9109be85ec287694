"""``schbench``: WA3's schbench workload, a scheduler wake-up latency benchmark.

Message threads wake worker threads and schbench records how late each worker
got the CPU. WA3 3.3.1 was written for the 2021 schbench (``-s`` message
thread sleep, ``-c`` worker think time, ``-a`` auto mode). In 2023 schbench was
reworked: ``-c`` and ``-a`` went, ``-s`` later came back meaning something
else, and the output gained request-latency and RPS tables. WA3's command
line makes today's schbench print its usage and exit.

So before the first job ``schbench --help`` is asked which options it has,
and each option pytest-wa would pass is given only if the program lists it:
one left at WA3's default is left out where it does not exist, one the agenda
set is an error. The output is read by schbench_parse.py.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..model.errors import WorkloadError
from ..model.parameters import Parameter, boolean, integer, string
from ..model.runlog import RUN_LOGGER
from .common import UNINSTALL, remove_pushed
from .resources import Tool
from .schbench_parse import parse_schbench, usage_options
from .tool import BINARY, DEFAULT_TIMEOUT, Reading, ToolWorkload

if TYPE_CHECKING:
    from ..plugins.context import JobContext

#: Seconds allowed past ``runtime`` before the run is killed (WA3's margin).
TIMEOUT_MARGIN = 10
WA3_SLEEPTIME = 30000
WA3_CPUTIME = 30000
#: What WA3 passes, assumed when the usage text lists no option at all.
WA3_OPTIONS = {"message-threads": "m", "threads": "t", "runtime": "r", "sleeptime": "s",
               "cputime": "c", "pipe": "p", "rps": "R", "intervaltime": "i", "auto": "a"}


@dataclass(frozen=True)
class Option:
    """One option pytest-wa may pass: the parameter behind it, its long name as the
    usage text lists it, the value (None: a switch), and whether the agenda asked for
    it (else it is WA3's default, which is left out where schbench has no such option)."""

    parameter: str
    long: str
    short: str
    value: int | None
    asked: bool

    def words(self) -> list[str]:
        return [f"-{self.short}"] + ([] if self.value is None else [str(self.value)])


def _given(parameter: str, long: str, short: str, value: int | None) -> list[Option]:
    """A pytest-wa addition: passed when the agenda gives it."""
    return [] if value is None else [Option(parameter, long, short, value, True)]


class Schbench(ToolWorkload):
    name = "schbench"
    description = """
        Run schbench: message threads wake workers; report wake-up latency percentiles.

        With schbench 2023+, also request latency and RPS percentiles.

        Works with the 2021 schbench WA3 was written for and with today's
        (https://github.com/masoncl/schbench): its options are read from
        'schbench --help'. Latencies are in microseconds.
        """
    tool = Tool("schbench")
    parameters = (
        Parameter("runtime", integer, 30,
                  "Seconds to run (-r); the run is killed 10 s after (alias: timeout).",
                  aliases=("timeout",)),
        Parameter("message_threads", integer, 2, "Message threads (-m)."),
        Parameter("threads", integer, 16, "Worker threads per message thread (-t)."),
        Parameter("sleeptime", integer, WA3_SLEEPTIME,
                  "2021 schbench only: message thread sleep between wake-ups, usec (-s)."),
        Parameter("cputime", integer, WA3_CPUTIME,
                  "2021 schbench only: worker think time per wake-up, usec (-c)."),
        Parameter("auto", boolean, False,
                  "2021 schbench only: add worker threads until p99 wake-up latency "
                  "reaches 2 ms (-a); the thread count is metric auto_threads."),
        Parameter("pipe", integer, 0,
                  "Pipe test: bytes each wake-up transfers (-p); 0: no pipe test."),
        Parameter("rps", integer, 0, "Requests per second to aim at (-R); 0: as fast as "
                  "the workers go."),
        Parameter("intervaltime", integer, None,
                  "Seconds between progress reports (-i); not given or 0: runtime."),
        Parameter("cache_footprint", integer, None,
                  "KiB of memory each request works through (-F); pytest-wa addition, "
                  "schbench 2023+ (and late 2021)."),
        Parameter("operations", integer, None,
                  "Think-time operations per request (-n); pytest-wa addition, schbench "
                  "2023+ (and late 2021)."),
        Parameter("sleep_usec", integer, None,
                  "Sleep per request, usec (today's -s, not 2021's sleeptime); pytest-wa "
                  "addition, schbench 2025+."),
        Parameter("locking", boolean, True,
                  "False: workers skip the per-CPU spinlock (-L); pytest-wa addition, "
                  "schbench 2023+."),
        Parameter("extra_params", string, "",
                  "More schbench options, as written (see schbench --help)."),
        UNINSTALL,
        BINARY,
    )

    runtime: int
    message_threads: int
    threads: int
    sleeptime: int
    cputime: int
    auto: bool
    pipe: int
    rps: int
    intervaltime: int | None
    cache_footprint: int | None
    operations: int | None
    sleep_usec: int | None
    locking: bool
    extra_params: str
    uninstall: bool

    def __init__(self, source_directory: str = ".", **values: Any) -> None:
        super().__init__(source_directory, **values)
        self.options: dict[str, str] = {}
        self.command = ""

    def validate(self) -> None:
        """schbench reads -r 0 as "forever"; intervaltime 0 is "not given", as in WA3."""
        for name in ("runtime", "message_threads", "threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("intervaltime", "sleeptime", "cputime", "pipe", "rps", "cache_footprint",
                     "operations", "sleep_usec"):
            if (getattr(self, name) or 0) < 0:
                raise ValueError(f"{name} cannot be negative, got {getattr(self, name)}")

    def initialize(self, context: JobContext) -> None:
        """Install schbench, then read the options it lists in its usage text."""
        super().initialize(context)
        answer = context.target.execute(f"{shlex.quote(self.program)} --help", timeout=30)
        self.options = usage_options(answer.stdout + answer.stderr)
        if not self.options:
            RUN_LOGGER.info("%s: no usage text from %s --help; using WA3's options",
                            context.name, self.program)
            self.options = dict(WA3_OPTIONS)
        style = "2021" if "cputime" in self.options else "2023+"
        RUN_LOGGER.info("%s: schbench with %s options: %s", context.name, style,
                        " ".join(f"-{short}" for short in self.options.values()))

    def wanted(self) -> list[Option]:
        """Every option the agenda's values call for, in WA3's order, then the additions."""
        return [
            Option("message_threads", "message-threads", "m", self.message_threads, True),
            Option("threads", "threads", "t", self.threads, True),
            Option("runtime", "runtime", "r", self.runtime, True),
            Option("sleeptime", "sleeptime", "s", self.sleeptime,
                   self.sleeptime != WA3_SLEEPTIME),
            Option("cputime", "cputime", "c", self.cputime, self.cputime != WA3_CPUTIME),
            *([Option("pipe", "pipe", "p", self.pipe, True)] if self.pipe else []),
            Option("rps", "rps", "R", self.rps, self.rps != 0),
            Option("intervaltime", "intervaltime", "i", self.intervaltime or self.runtime,
                   bool(self.intervaltime)),
            *([Option("auto", "auto", "a", None, True)] if self.auto else []),
            *_given("cache_footprint", "cache_footprint", "F", self.cache_footprint),
            *_given("operations", "operations", "n", self.operations),
            *_given("sleep_usec", "sleep_usec", "s", self.sleep_usec),
            *([] if self.locking else [Option("locking", "no-locking", "L", None, True)]),
        ]

    def arguments(self, options: dict[str, str]) -> list[str]:
        """The command's options for a schbench that lists ``options``."""
        words: list[str] = []
        for option in self.wanted():
            if option.long in options:
                words += option.words()
            elif option.asked:
                listed = " ".join(f"-{short}" for short in options.values())
                raise WorkloadError(
                    f"{option.parameter}: this schbench has no --{option.long} "
                    f"(-{option.short}), so the agenda's value cannot be passed; its "
                    f"options are {listed}")
        return words

    def setup(self, context: JobContext) -> None:
        """The command line, checked against the program's options before it runs."""
        words = [shlex.quote(self.program), *self.arguments(self.options)]
        self.command = " ".join([*words, self.extra_params]).rstrip()

    def command_line(self, context: JobContext) -> str:
        return self.command

    def time_limit(self) -> float:
        """Auto mode runs ``runtime`` once per thread count it tries: no bound but the
        job's own (job_timeout)."""
        return DEFAULT_TIMEOUT if self.auto else self.runtime + TIMEOUT_MARGIN

    def parse(self, output: str) -> list[Reading]:
        return parse_schbench(output)

    def finalize(self, context: JobContext) -> None:
        if self.uninstall:
            remove_pushed(context, self.program)
