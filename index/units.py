"""The units of an index: each passage's sentences and word windows, embedded apart from the passage.

On disk they are one int64 matrix (``unit_spans.npy``), a row per unit vector. Only this module
knows its column order: everything else reads the units by name, through :class:`Units`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from index.models import Role
from index.roles import ROLES

#: Kinds of unit embedded besides whole passages.
SENTENCE, WINDOW = 0, 1
#: The role code of a unit that has none (a word window is not quoted).
NO_ROLE = -1
#: Columns of the unit matrix on disk, in order.
COLUMNS = ("owner", "start", "end", "kind", "role")


class Unit(NamedTuple):
    """One unit of a passage: offsets into the passage text, its kind and its role code."""

    start: int
    end: int
    kind: int
    role: int


class Sentences(NamedTuple):
    """The sentence units of one passage, in reading order: what answers quote and score."""

    spans: list[tuple[int, int]]
    roles: list[Role]
    vectors: np.ndarray


@dataclass(frozen=True)
class Units:
    """The unit matrix by column name; row i of each array describes unit vector i."""

    owner: np.ndarray
    start: np.ndarray
    end: np.ndarray
    kind: np.ndarray
    role: np.ndarray

    @staticmethod
    def fits(table: np.ndarray) -> bool:
        """Whether a matrix read from disk has the shape of a unit table."""
        return table.ndim == 2 and table.shape[1:] == (len(COLUMNS),)

    @classmethod
    def from_table(cls, table: np.ndarray) -> Units:
        """Named views of the columns of a unit matrix (no copy)."""
        return cls(**{name: table[:, i] for i, name in enumerate(COLUMNS)})

    @classmethod
    def of_passages(cls, units: Sequence[Sequence[Unit]]) -> Units:
        """The units of passages in order, ``units[i]`` belonging to passage position i."""
        rows = [(owner, *unit) for owner, passage in enumerate(units) for unit in passage]
        return cls.from_table(np.array(rows, dtype=np.int64).reshape(-1, len(COLUMNS)))

    def table(self) -> np.ndarray:
        """The matrix written to disk, columns in ``COLUMNS`` order."""
        columns = [self.owner, self.start, self.end, self.kind, self.role]
        return np.ascontiguousarray(np.stack(columns, axis=1), dtype=np.int64).reshape(-1, len(COLUMNS))

    def __len__(self) -> int:
        return len(self.owner)

    def select(self, rows: Sequence[int]) -> list[Unit]:
        """The units of some rows, without their owner."""
        columns = (self.start[rows], self.end[rows], self.kind[rows], self.role[rows])
        return [Unit(*unit) for unit in zip(*(c.tolist() for c in columns), strict=True)]


def role_of(code: int) -> Role:
    """The role a stored code stands for; an unknown code reads as a finding."""
    return ROLES[code] if 0 <= code < len(ROLES) else "finding"
