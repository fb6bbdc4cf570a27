"""Errors that reach users: each carries a one-line message naming the input and the fix."""

from __future__ import annotations


class IcragError(Exception):
    """Base of every error icrag reports to a user instead of a traceback."""


class InputError(IcragError):
    """A file, question or option the user gave cannot be used."""

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class IndexMissingError(IcragError):
    """No index exists where one was expected."""


class IndexMismatchError(IcragError):
    """An index on disk was built with settings that differ from the current ones."""


class IndexCorruptError(IcragError):
    """An index on disk cannot be read."""


class IndexBusyError(IcragError):
    """Another process holds the index's write lock for too long."""
