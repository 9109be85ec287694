"""The examples in docs/*.md are real: every agenda shown collects, and the marked ones run.

A fenced ```yaml block whose top level is a mapping with ``workloads`` or
``sections`` is an agenda. An HTML comment on the line right before a fenced
block tells this test what to do with it:

- ``<!-- run name=FILE -->``: write the block as FILE and run pytest on it for
  real (on this host); it must pass. Also used for ```python test files, such
  as the ``wa_target`` examples.
- ``<!-- fails name=FILE -->``: run it for real; it must end with failed jobs
  (the status examples), not with a collection error.
- ``<!-- error name=FILE -->``: collecting it (``--co``) must fail with a
  collection error and no traceback. Each ``FILE:LINE: message`` line that the
  doc shows in the next ```text block must be among the problems reported.
- ``<!-- devices name=FILE -->``: a device config file; it must load with no
  problem, and it is also a support file (below), so a ``--wa-list devices``
  shown later runs with it.
- ``<!-- file name=PATH -->``: a support file, such as an included fragment, a
  script or a ``conftest.py``. It is written next to every agenda that comes
  after it in the same document, until a later block with the same name
  replaces it. So agendas that need a script file, an include or a custom
  workload are not skipped: they run with exactly the files the docs show.
  A ```python block also gets the named ``run`` agendas shown before it in
  its document, so a query example can run the agenda whose results it reads.

An agenda block without a comment, or marked ``<!-- collect name=FILE -->``
(e.g. one whose jobs would idle for minutes), is only collected
(``--co -q``), which must succeed. Every ```yaml block must be valid YAML unless it is marked
``error``: a broken snippet is a doc bug too. In ```text blocks, the output
shown after ``$ pytest --wa-show NAME`` and ``$ pytest --wa-list KIND`` must
be exactly what those commands print with the support files in place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
FENCE = re.compile(
    r"(?:^<!--\s*(?P<mode>run|fails|error|file|collect|devices)\s+name=(?P<name>\S+)\s*-->\n)?"
    r"^```(?P<lang>[\w-]*)\n(?P<body>.*?)^```\s*$",
    re.MULTILINE | re.DOTALL)
PROBLEM = re.compile(r"^\S*?(?P<file>[^/\s]+):(?P<line>\d+): (?P<message>.+)$")
CATALOG_COMMAND = re.compile(
    r"^\$ pytest (?P<args>(?:--wa-config=\S+ )*--wa-(?:show|list) \S+)$")


@dataclass
class Block:
    doc: str
    line: int
    lang: str
    body: str
    mode: str | None
    name: str | None
    files: dict[str, str] = field(default_factory=dict)  # support files in force here
    output: str | None = None  # the next ```text block (for error blocks)

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.line}" + (f":{self.name}" if self.name else "")


def _blocks(path: Path) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    blocks: list[Block] = []
    files: dict[str, str] = {}
    agendas: dict[str, str] = {}  # the named ``run`` agendas so far (for python blocks)
    for match in FENCE.finditer(text):
        support = {**agendas, **files} if match["lang"] == "python" else dict(files)
        block = Block(path.name, text.count("\n", 0, match.start("lang")) + 1,
                      match["lang"], match["body"], match["mode"], match["name"], support)
        if block.mode in ("file", "devices"):
            files[block.name] = block.body
        elif block.mode == "run" and block.lang == "yaml" and block.name:
            agendas[block.name] = block.body
        blocks.append(block)
    for index, block in enumerate(blocks):
        block.output = next((b.body for b in blocks[index + 1:] if b.lang == "text"), None)
    return blocks


ALL_BLOCKS = [block for doc in [README, *sorted(DOCS.glob("*.md"))] for block in _blocks(doc)]


def _is_agenda(block: Block) -> bool:
    if block.lang != "yaml" or block.mode in ("file", "devices"):
        return False
    if block.mode == "error":
        return True
    data = yaml.safe_load(block.body)
    return isinstance(data, dict) and ("workloads" in data or "sections" in data)


def _params(blocks: list[Block]) -> list:
    return [pytest.param(block, id=block.id) for block in blocks]


AGENDAS = [b for b in ALL_BLOCKS if _is_agenda(b) or (b.lang == "python" and b.mode == "run")]
CATALOG = [b for b in ALL_BLOCKS if b.lang == "text"
           and any(CATALOG_COMMAND.match(line) for line in b.body.splitlines())]


def _write(pytester: pytest.Pytester, block: Block) -> str:
    for name, content in block.files.items():
        target = pytester.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    name = block.name or "doc_agenda.yaml"
    (pytester.path / name).write_text(block.body, encoding="utf-8")
    return name


def test_docs_have_examples() -> None:
    """Guard the extraction itself: the docs hold agendas of every kind."""
    modes = {block.mode for block in AGENDAS}
    assert {"run", "fails", "error"} <= modes
    assert len(AGENDAS) >= 15


@pytest.mark.parametrize("block", _params([b for b in ALL_BLOCKS if b.lang == "yaml"
                                           and b.mode != "error"]))
def test_yaml_blocks_are_valid_yaml(block: Block) -> None:
    yaml.safe_load(block.body)


@pytest.mark.parametrize("block", _params([b for b in ALL_BLOCKS if b.mode == "devices"]))
def test_device_config_from_docs(tmp_path: Path, block: Block) -> None:
    from pytest_wa.devices.configfile import load_device_file

    path = tmp_path / (block.name or "devices.yaml")
    path.write_text(block.body, encoding="utf-8")
    assert load_device_file(str(path)), "a device config example defines no device"


@pytest.mark.parametrize("block", _params(AGENDAS))
def test_agenda_from_docs(pytester: pytest.Pytester, block: Block) -> None:
    name = _write(pytester, block)
    if block.mode == "error":
        _check_collection_error(pytester, block, name)
        return
    if block.mode not in ("run", "fails"):
        collected = pytester.runpytest("--co", "-q", "-p", "no:cacheprovider", name)
        assert collected.ret == pytest.ExitCode.OK, collected.stdout.str()
        return
    result = pytester.runpytest("-p", "no:cacheprovider", name)
    output = result.stdout.str()
    assert "ERROR collecting" not in output
    if block.mode == "run":
        assert result.ret == pytest.ExitCode.OK, output
    else:
        assert result.ret == pytest.ExitCode.TESTS_FAILED, output
    if block.lang == "yaml":
        assert "Ran a total of" in output


def _check_collection_error(pytester: pytest.Pytester, block: Block, name: str) -> None:
    result = pytester.runpytest("--co", "-q", "-p", "no:cacheprovider", name)
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, output
    assert f"ERROR collecting {name}" in output
    assert "Traceback" not in output
    shown = [m for m in map(PROBLEM.match, (block.output or "").splitlines())
             if m and m["file"] == name]
    for problem in shown:
        assert f"{name}:{problem['line']}: {problem['message']}" in output


@pytest.mark.parametrize("block", _params(CATALOG))
def test_catalog_output_in_docs(pytester: pytest.Pytester, block: Block) -> None:
    """``--wa-show``/``--wa-list`` output shown in the docs is what they print."""
    for name, content in block.files.items():
        target = pytester.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    lines = block.body.splitlines()
    commands = [i for i, line in enumerate(lines) if line.startswith("$ ")]
    for start, end in zip(commands, [*commands[1:], len(lines)], strict=True):
        command = CATALOG_COMMAND.match(lines[start])
        if command is None:
            continue
        expected = [line.rstrip() for line in lines[start + 1:end]]
        result = pytester.runpytest(*command["args"].split())
        assert result.ret == pytest.ExitCode.OK
        assert [line.rstrip() for line in result.outlines] == expected, lines[start]


# A README command line: `pytest ARGS  # comment`.
README_COMMAND = re.compile(r"^pytest (?P<args>.+?)\s{2,}#", re.MULTILINE)
NEEDS_MORE = ("--wa-config", "-n ", "--wa-list", "--wa-show")  # files or devices of the user's


def _readme_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    return [m["args"] for m in README_COMMAND.finditer(text)
            if not any(flag in m["args"] for flag in NEEDS_MORE)]


def test_readme_has_commands() -> None:
    """Guard the extraction: the README's command lines are found."""
    assert len(_readme_commands()) >= 5


@pytest.mark.parametrize("args", _readme_commands())
def test_readme_commands_collect(pytester: pytest.Pytester, args: str) -> None:
    """Every README command that needs nothing of the user's collects what it names
    (from a copy of the repository's example agendas, as a new user runs it)."""
    import shlex
    import shutil

    shutil.copytree(ROOT / "example_agendas", pytester.path / "example_agendas")
    result = pytester.runpytest("--co", "-q", "-p", "no:cacheprovider", *shlex.split(args))
    output = result.stdout.str()
    assert result.ret == pytest.ExitCode.OK, output + result.stderr.str()
    counts = re.findall(r"(\d+)(?:/\d+)? tests? collected|collected (\d+) items?", output)
    assert counts and int(next(n for n in counts[-1] if n)) >= 1, output
