"""WA3's user configuration: ``config.yaml`` in WA's user directory, read before agendas.

WA3 reads ``$WA_USER_DIRECTORY/config.yaml`` (``~/.workload_automation/`` when
the variable is unset) before the agenda, so that a lab's device, its usual
augmentations and their settings are written once. A config file is an
agenda's ``config`` section at the top level of its own file; as in WA3, keys
whose value is null are not set, and ``run_name`` and ``id`` belong to agendas.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

USER_DIRECTORY_VARIABLE = "WA_USER_DIRECTORY"
DEFAULT_USER_DIRECTORY = os.path.join("~", ".workload_automation")
USER_CONFIG_NAME = "config.yaml"

#: WA3's own settings (MetaConfiguration: where WA keeps its files, how it logs). A
#: config file WA3 generated has them all; pytest-wa accepts them with a note.
WA3_META_SETTINGS = frozenset({
    "user_directory", "assets_repository", "logging", "verbosity",
    "default_output_directory", "extra_plugin_paths",
})

#: Keys only an agenda may set (WA3 refuses them in config files).
AGENDA_ONLY = ("run_name", "id")


def user_directory(environ: Mapping[str, str] | None = None) -> str:
    """WA's user directory: ``$WA_USER_DIRECTORY``, else ``~/.workload_automation``."""
    values = os.environ if environ is None else environ
    return os.path.expanduser(values.get(USER_DIRECTORY_VARIABLE) or DEFAULT_USER_DIRECTORY)


def user_config_path(environ: Mapping[str, str] | None = None) -> str | None:
    """The user's ``config.yaml``, if there is one."""
    path = os.path.join(user_directory(environ), USER_CONFIG_NAME)
    return path if os.path.isfile(path) else None
