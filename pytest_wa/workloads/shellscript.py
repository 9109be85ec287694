"""``shellscript``: push a script to the target and run it (WA3's shellscript).

``script_file`` is found relative to the agenda that names it. The script's
output is kept with the job; a non-zero exit makes the job FAILED. Optional
``metrics`` work as in the ``command`` workload.
"""

from __future__ import annotations

import os
import posixpath
import shlex
from typing import TYPE_CHECKING

from ..model.errors import WorkloadError
from ..model.parameters import Parameter, boolean, mapping, number, string
from .base import Workload
from .command import extract_metrics, metric_patterns

if TYPE_CHECKING:
    from ..plugins.context import JobContext


class ShellScript(Workload):
    name = "shellscript"
    description = "Run a shell script (from the host) on the target."
    parameters = (
        Parameter("script_file", string, mandatory=True,
                  description="Path of the script on the host, relative to the agenda."),
        Parameter("argstring", string, default="", description="Arguments for the script."),
        Parameter("as_root", boolean, default=False, description="Run the script as root."),
        Parameter("timeout", number, default=60,
                  description="Seconds before the script is killed (with all it started)."),
        Parameter("metrics", mapping, default={},
                  description="Metrics to extract from the output, as for 'command'."),
    )

    script_file: str
    argstring: str
    as_root: bool
    timeout: float
    metrics: dict

    def validate(self) -> None:
        self.patterns = metric_patterns(self.metrics or {})
        self.host_script = os.path.join(self.source_directory,
                                        os.path.expanduser(self.script_file))
        if not os.path.isfile(self.host_script):
            raise ValueError(f"script_file {self.script_file!r} not found (looked for "
                             f"{self.host_script})")

    def setup(self, context: JobContext) -> None:
        self.on_target = posixpath.join(context.target.working_directory,
                                        os.path.basename(self.host_script))
        context.target.push(self.host_script, self.on_target)
        context.target.execute(f"chmod +x {shlex.quote(self.on_target)}", check=True, timeout=30)

    def run(self, context: JobContext) -> None:
        command = f"{shlex.quote(self.on_target)} {self.argstring}".strip()
        self.result = context.target.execute(command, timeout=self.timeout,
                                             as_root=self.as_root)
        context.add_output(self.result)
        if not self.result.ok:
            raise WorkloadError(f"script exited with code {self.result.exit_code}: {command}")

    def extract_results(self, context: JobContext) -> None:
        if getattr(self, "result", None) is not None:
            extract_metrics(context, self.patterns, self.result)

    def teardown(self, context: JobContext) -> None:
        context.target.execute(f"rm -f {shlex.quote(self.on_target)}", timeout=30)
