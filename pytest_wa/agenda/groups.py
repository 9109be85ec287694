"""Section groups: WA3's cross product of sections, as a tree of combinations.

Consecutive sections of one ``group`` are alternatives (siblings); a section
of a new group nests under every combination built so far. Each path from the
root to a leaf is one combination, whose section ids join into the job ids.

Deliberate difference from WA3: a grouped section's own ``workloads`` run in
every combination that section is part of (WA3 3.3.1 attaches them only to the
last copy of the section it creates, which looks like an accident).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from .entries import Entry, ProblemList

MAX_SECTION_NODES = 10_000


@dataclass
class SectionNode:
    """One section in one combination (the root stands for "no section")."""

    entry: Entry | None
    children: list[SectionNode] = field(default_factory=list)
    workloads: list[Entry] = field(default_factory=list)

    @property
    def group(self) -> str | None:
        return self.entry.group if self.entry else None


def section_tree(sections: list[Entry], workloads: list[Entry], problems: ProblemList
                 ) -> SectionNode:
    """The combinations of ``sections``; the root holds the top-level ``workloads``."""
    root = SectionNode(None, workloads=workloads)
    nodes = 1
    for section in sections:
        added = _add_section(root, section)
        nodes += len(added)
        if nodes > MAX_SECTION_NODES:
            problems.add(section.location, section.key_path, "section groups multiply into "
                         f"more than {MAX_SECTION_NODES:,} combinations; refusing to expand")
            break
        for node in added:
            node.workloads = section.workloads
    return root


def leaf_chains(node: SectionNode, chain: tuple[SectionNode, ...] = ()
                ) -> Iterator[tuple[SectionNode, ...]]:
    """Every path from ``node`` down to a leaf: one combination of sections each."""
    chain = (*chain, node)
    if not node.children:
        yield chain
    for child in node.children:
        yield from leaf_chains(child, chain)


def _add_section(node: SectionNode, section: Entry) -> list[SectionNode]:
    """WA3's grouping: same group -> sibling; a new group nests under every leaf."""
    if not node.children or node.children[0].group == section.group:
        child = SectionNode(section)
        node.children.append(child)
        return [child]
    return [new for child in node.children for new in _add_section(child, section)]
