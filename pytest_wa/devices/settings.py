"""The settings each device kind accepts, under WA3's ``device_config`` names.

WA users can paste their ``device_config`` into a device entry. Keys WA3 knows
but pytest-wa has no use for are accepted with a note rather than refused, so
a pasted config works; any other unknown key is an error with suggestions.
"""

from __future__ import annotations

from ..model.parameters import Parameter, boolean, integer, number, string

KINDS = ("local", "ssh", "adb")

# WA3 target names (``device:``) and friendly words, as kinds.
KIND_ALIASES = {
    "local": "local", "generic_local": "local", "localhost": "local",
    "ssh": "ssh", "linux": "ssh", "generic_linux": "ssh",
    "adb": "adb", "android": "adb", "generic_android": "adb",
}


COMMON = (
    Parameter("working_directory", string, None,
              "directory on the device under which each run makes its own working directory "
              "(default: /tmp on Linux, /data/local/tmp on Android)"),
    Parameter("executables_directory", string, None,
              "directory on the device for binaries a workload installs "
              "(default: the run's working directory)"),
    Parameter("hard_reset_command", string, None,
              "command run on this host to power-cycle the device (a relay, a smart plug); "
              "without it a hard reset is not possible"),
    Parameter("boot_timeout", number, 120.0,
              "seconds to wait for the device to come back after a reboot"),
    Parameter("description", string, "", "free text shown by --wa-list devices"),
)

SSH = (
    Parameter("host", string, mandatory=True, description="host name or address of the board"),
    Parameter("port", integer, 22, "SSH port"),
    Parameter("username", string, None, "login user (default: the current user)",
              aliases=("user",)),
    Parameter("password", string, None,
              "login password, also given to sudo; never written to output or logs"),
    Parameter("keyfile", string, None, "private key file (default: ssh-agent and ~/.ssh keys)"),
    Parameter("strict_host_check", boolean, True,
              "refuse a host key that is not in known_hosts (set false to accept any)"),
    Parameter("known_hosts", string, None, "known_hosts file (default: ~/.ssh/known_hosts)"),
    Parameter("sudo_cmd", string, "sudo -S -p '' -- sh -c {}",
              "how as_root commands are run when the user is not root; {} is the command"),
    Parameter("timeout", number, 10.0, "seconds to wait for the connection",
              aliases=("connection_timeout",)),
)

ADB = (
    Parameter("device", string, None,
              "serial of the device (adb devices); IP:PORT devices are connected with "
              "adb connect (default: the only device attached)",
              aliases=("adb_name", "serial")),
    Parameter("adb_server", string, None,
              "host of the adb server (default: $ANDROID_ADB_SERVER_ADDRESS or 127.0.0.1)"),
    Parameter("adb_port", integer, None,
              "port of the adb server (default: $ANDROID_ADB_SERVER_PORT or 5037)"),
    Parameter("adb_as_root", boolean, False,
              "restart adbd as root (adb root) when connecting; needs a userdebug build"),
    Parameter("capture_on_failure", boolean, True,
              "save a screenshot (error.png) and UI dump (error.uix) when a job fails"),
    Parameter("logcat", boolean, True, "save the job's logcat as logcat.log in its output"),
    Parameter("timeout", number, 10.0, "seconds to wait for the adb server and the device",
              aliases=("connection_timeout",)),
)

LOCAL = ()

BY_KIND: dict[str, tuple[Parameter, ...]] = {
    "local": COMMON + LOCAL, "ssh": COMMON + SSH, "adb": COMMON + ADB,
}

# WA3 device_config keys accepted and ignored (with a note), so pasted configs load.
WA3_IGNORED = frozenset({
    "modules", "load_default_modules", "shell_prompt", "platform", "connection_attempts",
    "poll_transfers", "start_transfer_poll_delay", "total_transfer_timeout",
    "transfer_poll_period", "use_scp", "unrooted", "package_data_directory",
    "is_container", "max_async", "adb_host", "keep_password", "use_rsync",
    # WA3's platform settings: what the CPUs are called; pytest-wa reads them off the device.
    "big_core", "core_clusters", "core_names", "model",
})

# Per kind: WA3's local connection takes a sudo password; pytest-wa's local target runs
# as_root commands with passwordless sudo (sudo -n), so a password there is not used.
WA3_IGNORED_BY_KIND: dict[str, frozenset[str]] = {"local": frozenset({"password"})}
