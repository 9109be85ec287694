"""``deepbench``: WA3's deepbench workload, the Arm benchmarks of Baidu's DeepBench.

Each test is its own program: ``gemm_bench`` (dense 8-bit GEMM with gemmlowp),
``conv_bench`` (convolutions with the Arm Compute Library) and
``sparse_bench`` (sparse against dense GEMM with Eigen). The ``test``
parameter picks one, so ``tools_for`` names only that program and a run that
never uses conv does not need conv_bench. WA3's aliases ``deep-gemm``,
``deep-conv`` and ``deep-sparse`` preset ``test``; here each is a workload of
its own whose ``test`` defaults to the preset (an agenda may still set it, as
in WA3, where an alias's values are defaults).
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from ..model.parameters import Parameter, string
from .deepbench_parse import TESTS, parse_deepbench
from .resources import Tool
from .tool import BINARY, Reading, ToolWorkload

if TYPE_CHECKING:
    from ..plugins.context import JobContext

#: WA3's limit on one run: the built-in problem sets take minutes to hours.
TIMEOUT = 10800.0
PROGRAMS = {test: Tool(f"{test}_bench") for test in TESTS}

TEST = Parameter(
    "test", string, "gemm",
    "Which benchmark to run: gemm (dense matrix multiplication, gemm_bench), conv "
    "(convolutions on NCHW inputs, conv_bench) or sparse (sparse matrix multiplication "
    "against the dense one, sparse_bench).", allowed_values=TESTS)
EXTRA_PARAMS = Parameter(
    "extra_params", string, "",
    "More arguments for the program, as written. Upstream's programs take none; Arm's "
    "modernized ones (DeepBench pull request #102) take e.g. --device (the inference "
    "device set), --m/--n/--k (one GEMM), --repeat, --num-threads. A pytest-wa addition.")


class Deepbench(ToolWorkload):
    name = "deepbench"
    description = """
        Run one of DeepBench's Arm benchmarks (GEMM, convolution, sparse GEMM).

        Reports each problem's time (and GOPS, speed-up) with its sizes as
        classifiers.

        gemm: dense 8-bit matrix multiplication (gemm_bench); conv: convolutions
        (conv_bench); sparse: sparse matrix multiplication compared with dense
        (sparse_bench). Each program runs its own built-in set of problems.
        """
    #: The test WA3's alias presets (deepbench itself: gemm, the default).
    preset: ClassVar[str] = "gemm"
    tool = PROGRAMS["gemm"]
    parameters = (TEST, EXTRA_PARAMS, BINARY)

    test: str
    extra_params: str

    @classmethod
    def tools_for(cls, parameters: Mapping[str, Any]) -> tuple[Tool, ...]:
        """The one program ``test`` picks (the preset when the agenda does not say)."""
        return (PROGRAMS[parameters.get("test") or cls.preset],)

    def command_line(self, context: JobContext) -> str:
        return f"{shlex.quote(self.program)} {self.extra_params}".rstrip()

    def time_limit(self) -> float:
        return TIMEOUT

    def parse(self, output: str) -> list[Reading]:
        return list(parse_deepbench(output, self.test))


class DeepGemm(Deepbench):
    name = "deep-gemm"
    description = "deepbench with test 'gemm' (gemm_bench): WA3's alias deep-gemm."
    preset = "gemm"
    tool = PROGRAMS["gemm"]
    parameters = (dataclasses.replace(TEST, default="gemm"), EXTRA_PARAMS, BINARY)


class DeepConv(Deepbench):
    name = "deep-conv"
    description = "deepbench with test 'conv' (conv_bench): WA3's alias deep-conv."
    preset = "conv"
    tool = PROGRAMS["conv"]
    parameters = (dataclasses.replace(TEST, default="conv"), EXTRA_PARAMS, BINARY)


class DeepSparse(Deepbench):
    name = "deep-sparse"
    description = "deepbench with test 'sparse' (sparse_bench): WA3's alias deep-sparse."
    preset = "sparse"
    tool = PROGRAMS["sparse"]
    parameters = (dataclasses.replace(TEST, default="sparse"), EXTRA_PARAMS, BINARY)
