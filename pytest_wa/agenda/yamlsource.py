"""Load YAML as plain data that remembers where every key came from.

Agendas are untrusted input, so loading is safe by construction: only YAML's
core types are built (no tag can run code); the event stream is checked before
any node is built (absurd nesting, too many values, in the agenda and its
included files together); the document graph is checked before anything is
constructed (alias "billion laughs" blow-ups and cycles are refused); and file
sizes and include counts are bounded.

Mappings and sequences come back as ``LocatedDict`` / ``LocatedList``: ordinary
``dict``/``list`` objects that also carry the file and line of each key or item,
so validation can name the exact place of a problem.

This module is the one place callers outside the agenda package import YAML
loading from; each part lives in a module of its own:

- ``located``: the located containers and WA3's ``merge_values``;
- ``yamllimits``: the checks that refuse hostile documents before they are built;
- ``yamlfile``: one file parsed into located data;
- ``includes``: ``include#`` keys, and an agenda loaded with every file it includes.
"""

from __future__ import annotations

from .includes import INCLUDE_KEY, MAX_INCLUDES, IncludeResolver, load_with_includes, merge_mappings
from .located import LocatedDict, LocatedList, location_of, merge_values
from .yamlfile import MAX_FILE_BYTES, load_yaml_file, parse_yaml
from .yamllimits import MAX_DEPTH, MAX_EXPANDED_NODES, MAX_WRITTEN_VALUES

__all__ = [
    "INCLUDE_KEY",
    "MAX_DEPTH",
    "MAX_EXPANDED_NODES",
    "MAX_FILE_BYTES",
    "MAX_INCLUDES",
    "MAX_WRITTEN_VALUES",
    "IncludeResolver",
    "LocatedDict",
    "LocatedList",
    "load_with_includes",
    "load_yaml_file",
    "location_of",
    "merge_mappings",
    "merge_values",
    "parse_yaml",
]
