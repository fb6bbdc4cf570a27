"""The coded context-mechanism-outcome records, filtered and searched: one listing for the CLI, the app and the API.

``icrag evidence records``, the app's Evidence page and the API list records through
:func:`coded_records`, so a filter or a search word finds the same records everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import Field

from index.models import EvidenceRecord, Passage
from rag.retrieval import filter_mask


class RecordRow(EvidenceRecord):
    """One coded record as it is listed: the record itself, the publication as cited and its passage."""

    source: str = Field(description="The publication as a reader cites it, e.g. 'Sims et al. (2021)'.")
    passage_id: str = Field(description="The indexed passage that renders the record.")

    @classmethod
    def of(cls, passage: Passage, record: EvidenceRecord) -> RecordRow:
        """The row of a passage's coded record."""
        return cls(**record.model_dump(), source=passage.source.short_cite, passage_id=passage.passage_id)


def coded_records(
    passages: Sequence[Passage], filters: Mapping[str, str] | None = None, search: str = ""
) -> list[RecordRow]:
    """The coded records of these passages, in index order, that match every filter and every search word.

    Filters are retrieval's (:func:`rag.retrieval.filter_mask`: the same keys, the same
    case-insensitive match, the same error for an unknown key), so ``--filter component=...``
    lists the records an ask with that filter may cite. Search words are matched as
    :func:`matches` says.
    """
    listed = list(passages)
    mask = filter_mask(listed, filters)
    words = search.lower().split()
    rows = []
    for position, passage in enumerate(listed):
        if passage.record is None or (mask is not None and not mask[position]):
            continue
        row = RecordRow.of(passage, passage.record)
        if matches(row, passage, words):
            rows.append(row)
    return rows


def matches(row: RecordRow, passage: Passage, words: Sequence[str]) -> bool:
    """Whether every (lower-case) word occurs in the record as a reader sees it listed and opened.

    The haystack is every field of the row plus the publication's authors, year and title, so
    any word a user can see, such as a component, 'et al.' or a title, finds the record.
    """
    source = passage.source
    shown = (*row.model_dump(exclude={"passage_id"}).values(), source.authors, source.year, source.title)
    haystack = " ".join(shown).lower()
    return all(word in haystack for word in words)
