"""push/pull over SFTP: files and whole directories, within one deadline.

Same semantics as the local target's copy: a directory's *contents* go into the
destination (created if missing, merged if present); a file copied onto an
existing directory lands inside it under its own name. Modes and modification
times are kept, so a pushed binary stays executable.
"""

from __future__ import annotations

import os
import posixpath
import stat
import time

import paramiko


class TransferExpired(Exception):
    """The deadline passed in the middle of a transfer."""


class Deadline:
    """Bounds every SFTP request of one push/pull by the time that is left."""

    def __init__(self, sftp: paramiko.SFTPClient, deadline: float) -> None:
        self.sftp = sftp
        self.deadline = deadline

    def check(self) -> None:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TransferExpired
        channel = self.sftp.get_channel()
        if channel is not None:
            channel.settimeout(remaining)

    def progress(self, done: int, total: int) -> None:
        if time.monotonic() > self.deadline:
            raise TransferExpired


def push(sftp: paramiko.SFTPClient, source: str, destination: str, deadline: float) -> None:
    limit = Deadline(sftp, deadline)
    if os.path.isdir(source):
        _push_tree(limit, source, destination)
        return
    limit.check()
    if _remote_is_dir(sftp, destination):
        destination = posixpath.join(destination, os.path.basename(source))
    _push_file(limit, source, destination)


def pull(sftp: paramiko.SFTPClient, source: str, destination: str, deadline: float) -> None:
    limit = Deadline(sftp, deadline)
    limit.check()
    attributes = sftp.stat(source)
    if stat.S_ISDIR(attributes.st_mode or 0):
        _pull_tree(limit, source, destination)
        return
    if os.path.isdir(destination):
        destination = os.path.join(destination, posixpath.basename(source))
    _pull_file(limit, source, destination, attributes)


def _remote_is_dir(sftp: paramiko.SFTPClient, path: str) -> bool:
    try:
        return stat.S_ISDIR(sftp.stat(path).st_mode or 0)
    except FileNotFoundError:
        return False


def _push_file(limit: Deadline, source: str, destination: str) -> None:
    limit.check()
    info = os.stat(source)
    limit.sftp.put(source, destination, callback=limit.progress, confirm=False)
    limit.check()
    limit.sftp.chmod(destination, stat.S_IMODE(info.st_mode))
    limit.sftp.utime(destination, (info.st_atime, info.st_mtime))


def _remote_mkdir(limit: Deadline, path: str) -> None:
    limit.check()
    try:
        limit.sftp.mkdir(path)
    except OSError:
        if not _remote_is_dir(limit.sftp, path):
            raise


def _push_tree(limit: Deadline, source: str, destination: str) -> None:
    _remote_mkdir(limit, destination)
    for directory, subdirectories, files in os.walk(source, followlinks=True):
        relative = os.path.relpath(directory, source)
        remote = destination if relative == "." else posixpath.join(
            destination, *relative.split(os.sep))
        for name in sorted(subdirectories):
            _remote_mkdir(limit, posixpath.join(remote, name))
        for name in sorted(files):
            _push_file(limit, os.path.join(directory, name), posixpath.join(remote, name))


def _pull_file(limit: Deadline, source: str, destination: str,
               attributes: paramiko.SFTPAttributes) -> None:
    limit.check()
    limit.sftp.get(source, destination, callback=limit.progress)
    if attributes.st_mode is not None:
        os.chmod(destination, stat.S_IMODE(attributes.st_mode))
    if attributes.st_mtime is not None:
        os.utime(destination, (attributes.st_atime or attributes.st_mtime,
                               attributes.st_mtime))


def _pull_tree(limit: Deadline, source: str, destination: str) -> None:
    os.makedirs(destination, exist_ok=True)
    limit.check()
    for entry in sorted(limit.sftp.listdir_attr(source), key=lambda e: e.filename):
        remote = posixpath.join(source, entry.filename)
        local = os.path.join(destination, entry.filename)
        attributes = entry
        if stat.S_ISLNK(entry.st_mode or 0):  # follow links, as the local copy does
            limit.check()
            attributes = limit.sftp.stat(remote)
        mode = attributes.st_mode or 0
        if stat.S_ISDIR(mode):
            _pull_tree(limit, remote, local)
        elif stat.S_ISREG(mode):
            _pull_file(limit, remote, local, attributes)
