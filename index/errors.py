"""Errors that reach users: each carries a one-line message naming the input and the fix."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def one_line(text: str) -> str:
    """Text fit for one line of a terminal or log: control characters (a newline in a file name) shown as escapes."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class IcragError(Exception):
    """Base of every error icrag reports to a user instead of a traceback."""


class PathError(IcragError):
    """An error about one named thing (a file, a folder, an option): ``path: problem``."""

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class InputError(PathError):
    """A file, question or option the user gave cannot be used."""


class IndexMissingError(IcragError):
    """No index exists where one was expected."""


class IndexMismatchError(IcragError):
    """An index on disk was built with settings that differ from the current ones."""


class IndexCorruptError(IcragError):
    """An index on disk cannot be read."""


class IndexBusyError(IcragError):
    """Another process holds the index's write lock for too long."""


class CacheError(PathError):
    """The embedding cache on disk cannot be read or written."""


def os_error_message(exc: OSError) -> str:
    """One line for a filesystem error: the path (or both paths) it concerns and what went wrong."""
    if exc.filename is None:
        return str(exc) or type(exc).__name__
    reason = exc.strerror or type(exc).__name__
    where = str(exc.filename)
    if exc.filename2 is not None:
        where = f"{where} -> {exc.filename2}"
    return f"{where}: {reason}"
