"""``app_launch``: how long an installed Android app takes to start (``am start -W``).

A cold start is measured from nothing: the app is force-stopped and, when the
device is rooted, the page cache is dropped, so its code and data come from
storage. A warm start is measured with the app already running in the
background (started once in setup, then sent home). The time is Android's
own: ``TotalTime`` is what the user waits for the first frame (the metric to
compare), ``WaitTime`` adds the system's own bookkeeping, ``ThisTime`` (before
Android 10) is the last activity's part. WA3 measures launches through its UI
automation APKs; this needs nothing on the device but the app.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from ..model.errors import TargetError, WorkloadError
from ..model.parameters import Parameter, boolean, number, string
from .app_launch_report import failure, read_report
from .base import Workload

if TYPE_CHECKING:
    from ..plugins.context import JobContext
    from ..targets.base import CommandResult

LAUNCHER = "-a android.intent.action.MAIN -c android.intent.category.LAUNCHER"


class AppLaunch(Workload):
    name = "app_launch"
    description = """Start an installed Android app and report Android's launch times.

    ``am start -W`` after a cold (force-stopped) or warm (running) start:
    total_time (what the user waits for the first frame), wait_time and,
    before Android 10, this_time, in milliseconds."""
    parameters = (
        Parameter("package", string, mandatory=True,
                  description="The app's package name, e.g. com.android.settings."),
        Parameter("activity", string, None,
                  description="The activity to start (e.g. .MainActivity); default: the "
                              "app's launcher activity."),
        Parameter("start", string, "cold", allowed_values=("cold", "warm"),
                  description="cold: the app force-stopped first (and the page cache "
                              "dropped when rooted); warm: the app already running in the "
                              "background."),
        Parameter("drop_caches", boolean, True,
                  description="With a cold start on a rooted device, sync and drop the "
                              "page cache first, so the app is read from storage."),
        Parameter("timeout", number, 60,
                  description="Seconds am start may take before the job fails."),
    )

    package: str
    activity: str | None
    start: str
    drop_caches: bool
    timeout: float

    def intent(self) -> str:
        if self.activity:
            return f"-n {shlex.quote(self.package + '/' + self.activity)}"
        return f"{LAUNCHER} -p {shlex.quote(self.package)}"

    def setup(self, context: JobContext) -> None:
        target = context.target
        if target.properties.os != "android":
            raise WorkloadError("app_launch needs an Android device; this one runs "
                                f"{target.properties.os}")
        listed = target.execute(f"pm list packages {shlex.quote(self.package)}", timeout=30)
        if f"package:{self.package}" not in listed.stdout.split():
            raise WorkloadError(f"app {self.package!r} is not installed on the device")
        self._force_stop(context)
        if self.start == "warm":
            self._launch(context)  # the app runs...
            target.execute("input keyevent KEYCODE_HOME", timeout=30)  # ...in the background
        elif self.drop_caches:
            self._drop_caches(context)

    def _force_stop(self, context: JobContext) -> None:
        context.target.execute(f"am force-stop {shlex.quote(self.package)}", timeout=30,
                               check=True)

    def _drop_caches(self, context: JobContext) -> None:
        try:
            context.target.execute("sync; echo 3 > /proc/sys/vm/drop_caches", timeout=60,
                                   as_root=True, check=True)
        except TargetError as exc:
            context.add_event(f"page cache not dropped (needs root): {exc}")

    def _launch(self, context: JobContext) -> CommandResult:
        """Start the app; the job fails if Android's report says it did not start (am
        exits 0 even then). The command and its output are kept with the job."""
        result = context.target.execute(f"am start -W {self.intent()}", timeout=self.timeout)
        context.add_output(result)
        reason = failure(read_report(result.stdout + result.stderr))
        if not result.ok or reason:
            raise WorkloadError(f"{self.package} did not start: "
                                f"{reason or f'am exited with code {result.exit_code}'}")
        return result

    def run(self, context: JobContext) -> None:
        self.result: CommandResult | None = None
        self.result = self._launch(context)

    def extract_results(self, context: JobContext) -> None:
        if self.result is None:
            return
        report = read_report(self.result.stdout)
        state = {"launch_state": report.launch_state.lower()} if report.launch_state else {}
        for metric, milliseconds in report.times.items():
            context.add_metric(metric, milliseconds, "milliseconds", lower_is_better=True,
                               classifiers={"start": self.start, **state})

    def teardown(self, context: JobContext) -> None:
        """Leave the device as found: the app stopped."""
        self._force_stop(context)
