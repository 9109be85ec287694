"""House rules that keep the package readable, checked on its source (issue 11).

A module over 400 lines almost always does more than one job, and a function
over 40 lines more than one step; both are split before they land. The one
exception is a declaration: a function that only lists things (options,
ini keys...) through calls with plain arguments is long without being
complicated, so it may be as long as its list.

xdist's ``workerinput``/``workeroutput`` are one protocol between controller
and workers, so only ``pytest_wa/pool/`` may touch them.

Pure ``ast`` on the files: nothing is imported but ``pytest_wa`` itself (to
find the package), so these tests take well under a second.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import pytest_wa

PACKAGE = Path(pytest_wa.__file__).parent
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 40
POOL_ONLY_NAMES = frozenset({"workerinput", "workeroutput"})

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _shown(path: Path) -> str:
    """The path as the offender lists show it: from the package's parent, e.g. pytest_wa/x.py."""
    return path.relative_to(PACKAGE.parent).as_posix()


def _parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, FunctionNode]]:
    """Every function and method, nested ones too, with its dotted name (Class.method)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield f"{prefix}{node.name}", node
            yield from _functions(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, f"{prefix}{node.name}.")
        else:
            yield from _functions(node, prefix)


def _length(function: FunctionNode) -> int:
    """Lines from ``def`` to the last line of the body; decorators are not counted."""
    assert function.end_lineno is not None
    return function.end_lineno - function.lineno + 1


# --- what a declaration is ------------------------------------------------------------


def is_declaration(function: FunctionNode) -> bool:
    """Whether the body (after an optional docstring) is only calls with plain arguments.

    A statement may be a call (``group.addoption(...)``) or a name bound to one
    (``group = parser.getgroup(...)``); the function called must be a name or an
    attribute chain, and every argument a literal, a name, an attribute chain,
    or a tuple/list/set/dict of those. Any other statement or argument is logic.
    """
    body = function.body
    if body and _is_docstring(body[0]):
        body = body[1:]
    return bool(body) and all(_is_declaring_statement(statement) for statement in body)


def _is_docstring(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) \
        and isinstance(statement.value.value, str)


def _is_declaring_statement(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.Expr):
        return _is_plain_call(statement.value)
    if isinstance(statement, ast.Assign):
        return all(isinstance(target, ast.Name) for target in statement.targets) \
            and _is_plain_call(statement.value)
    return False


def _is_plain_call(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and _is_reference(node.func) \
        and all(_is_plain_value(arg) for arg in node.args) \
        and all(keyword.arg is not None and _is_plain_value(keyword.value)
                for keyword in node.keywords)


def _is_reference(node: ast.expr) -> bool:
    """A name or an attribute chain on one: ``ORDERS``, ``group.addoption``, ``a.b.c``."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def _is_plain_value(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant) or _is_reference(node):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        return isinstance(node.operand, ast.Constant)
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return all(_is_plain_value(item) for item in node.elts)
    if isinstance(node, ast.Dict):
        return all(key is not None and _is_plain_value(key) for key in node.keys) \
            and all(_is_plain_value(value) for value in node.values)
    return False


# --- the rules ------------------------------------------------------------------------


def test_the_rules_read_the_whole_package() -> None:
    """Guards the rules below against passing because they looked at nothing."""
    shown = {_shown(path) for path in _modules()}
    assert "pytest_wa/__init__.py" in shown, f"pytest_wa not found under {PACKAGE}"
    assert len(shown) > 20, f"only {len(shown)} modules found under {PACKAGE}: {sorted(shown)}"


def test_no_module_is_over_400_lines() -> None:
    offenders = []
    for path in _modules():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            offenders.append(f"  {_shown(path)}: {lines} lines")
    assert not offenders, (
        f"{len(offenders)} module(s) over {MAX_MODULE_LINES} lines; split each into "
        "modules of one job:\n" + "\n".join(offenders))


def test_no_function_is_over_40_lines_unless_it_is_a_declaration() -> None:
    offenders = []
    for path in _modules():
        for name, function in _functions(_parsed(path)):
            lines = _length(function)
            if lines > MAX_FUNCTION_LINES and not is_declaration(function):
                offenders.append(f"  {_shown(path)}:{function.lineno} {name}: {lines} lines")
    assert not offenders, (
        f"{len(offenders)} function(s) over {MAX_FUNCTION_LINES} lines (from 'def' to the "
        "end, decorators excluded) that are not declarations; split each into well-named "
        "helpers:\n" + "\n".join(offenders))


def test_only_the_pool_touches_xdist_worker_input_and_output() -> None:
    offenders = []
    for path in _modules():
        if path.relative_to(PACKAGE).parts[0] == "pool":
            continue
        uses = {(getattr(node, "lineno", 0), word) for node in ast.walk(_parsed(path))
                if (word := _named_word(node)) in POOL_ONLY_NAMES}
        offenders += [f"  {_shown(path)}:{line} {word}" for line, word in sorted(uses)]
    assert not offenders, (
        f"{len(offenders)} use(s) of {' / '.join(sorted(POOL_ONLY_NAMES))} outside "
        "pytest_wa/pool/ (xdist's controller-worker exchange belongs to the pool "
        "package; ask it instead):\n" + "\n".join(offenders))


def _named_word(node: ast.AST) -> str | None:
    """The identifier or exact string a node names: ``x.workerinput``, ``"workerinput"``..."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.keyword):
        return node.arg
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


# --- the declaration rule itself ------------------------------------------------------

DECLARING = '''
def pytest_addoption(parser):
    """Options."""
    group = parser.getgroup("wa", "pytest-wa")
    group.addoption("--wa-order", dest="wa_order", default=None, choices=ORDERS,
                    help="execution order, "
                         "overriding the agendas'")
    group.addoption("--wa-seed", type=int, default=-1, metavar=config.names.SEED)
    parser.addini("wa_config", "files", type="linelist", default=[], extra={"a": (1, 2)})
'''

NOT_DECLARING = {
    "a branch": "def f(parser):\n    if parser:\n        parser.addoption('--x')\n",
    "a loop": "def f(parser):\n    for name in NAMES:\n        parser.addoption(name)\n",
    "a computed argument": "def f(parser):\n    parser.addoption('--x', default=make())\n",
    "arithmetic": "def f(parser):\n    parser.addoption('--x', default=1 + 2)\n",
    "an f-string": "def f(parser):\n    parser.addoption(f'--{NAME}')\n",
    "a called callee": "def f(parser):\n    parser.getgroup('wa').addoption('--x')\n",
    "a bound value": "def f(parser):\n    group = parser\n    group.addoption('--x')\n",
    "a return": "def f(parser):\n    return parser.addoption('--x')\n",
    "**kwargs": "def f(parser):\n    parser.addoption('--x', **OPTIONS)\n",
    "only a docstring": "def f(parser):\n    'Nothing.'\n",
}


def _only_function(source: str) -> FunctionNode:
    function = ast.parse(source).body[0]
    assert isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
    return function


def test_a_list_of_plain_calls_is_a_declaration() -> None:
    assert is_declaration(_only_function(DECLARING))


@pytest.mark.parametrize("source", list(NOT_DECLARING.values()), ids=list(NOT_DECLARING))
def test_logic_is_not_a_declaration(source: str) -> None:
    assert not is_declaration(_only_function(source))
