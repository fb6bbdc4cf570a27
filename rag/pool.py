"""The candidate pool: the passages an answer may draw on, spanning publications and the question's parts.

One ranked list leans on the publication that matches the question's words best. The pool
takes the best passages overall, the best of each publication that ranks at all, the best
of each comparison side's own publications, every passage of a publication the question names
(or of the only one of a place it names), and, for what-works and how-to questions, the best
coded records, so every publication that bears on a question can be heard.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rag.models import Intent, RetrievedPassage
from rag.query import Query
from rag.retrieval import FusedScores


@dataclass(frozen=True)
class PoolSize:
    """How wide the pool is cast for one intent."""

    top: int  # best passages overall
    publications: int  # publications that contribute their best passages
    per_publication: int  # passages each of them contributes
    per_side: int  # passages of each comparison side's own publications
    records: int  # best coded records


#: Words that ask how a study was done, whatever the question's intent ("How large was the data collection").
_HOW_DONE = re.compile(
    r"\b(?:data collection|sample size|sampl(?:e|ed|ing)|interview(?:s|ed|ees)?|survey(?:s|ed)?|participants"
    r"|respondents|recruit\w*|study design|methods?|methodology)\b"
    r"|\bhow (?:was|were) (?:the |this |that )?[\w' -]{0,40}(?:study|review|evaluation|research) "
    r"(?:done|carried out|conducted|designed)\b",
    re.I,
)
#: Pool sizes by intent: a factoid needs the few best passages; what works needs every publication's best.
_NARROW = PoolSize(top=8, publications=6, per_publication=1, per_side=0, records=0)
_WIDE = PoolSize(top=80, publications=25, per_publication=5, per_side=8, records=40)
POOL_SIZES: dict[Intent, PoolSize] = {
    "factoid": _NARROW,
    "definition": _NARROW,
    "methods": _NARROW,
    "general": PoolSize(top=20, publications=15, per_publication=2, per_side=0, records=10),
    "what_works": _WIDE,
    "how_to": _WIDE,
    "comparison": _WIDE,
    "evidence_strength": _WIDE,
}


#: Passages pooled per item a question asks to be listed.
LIST_PASSAGES = 3


def candidate_pool(query: Query, scores: FusedScores, top_k: int) -> list[RetrievedPassage]:
    """The pool for a query, best fused score first; at least the top_k passages of the ranking."""
    size = POOL_SIZES[query.intent.intent]
    passages = scores.store.passages
    order = scores.order.tolist()
    # "What are the seven components?" needs a passage for each item it asks for, and then some.
    chosen: dict[int, None] = dict.fromkeys(order[: max(size.top, top_k, LIST_PASSAGES * query.listed)])
    by_source: dict[str, list[int]] = {}
    for position in order:
        by_source.setdefault(passages[position].source_id, []).append(position)
    for ranked in list(by_source.values())[: size.publications]:
        chosen.update(dict.fromkeys(ranked[: size.per_publication]))

    def best_of(source_ids: Iterable[str]) -> list[int]:
        """The passages of some publications, best fused score first."""
        return sorted((p for sid in source_ids for p in by_source.get(sid, [])), key=lambda p: -scores.fused[p])

    for side in query.intent.sides:
        chosen.update(dict.fromkeys(best_of(side.source_ids)[: size.per_side]))
    # What a named publication found is anywhere in it: all its passages may answer.
    for source_id in query.named:
        chosen.update(dict.fromkeys(by_source.get(source_id, [])))
    if not query.named and (
        query.intent.intent in ("evidence_strength", "methods")
        or _HOW_DONE.search(query.text)
        or "bibliographic" in query.roles
    ):
        # How strong a study's evidence is, or how it was done, lies in its own design, sample and limitations;
        # when or where it was published, or who paid for it, in its publication details: of the study that
        # matches best, when the question names none.
        chosen.update(dict.fromkeys(by_source.get(next(iter(by_source), ""), [])))
    for source_ids in query.places:
        # A place only one publication covers ("the Basque experience") names it: all its passages may answer.
        placed = best_of(source_ids)
        chosen.update(dict.fromkeys(placed if len(source_ids) == 1 else placed[: max(size.per_side, 3)]))
    if size.records:
        records = [p for p in order if passages[p].record is not None]
        chosen.update(dict.fromkeys(records[: size.records]))
    return scores.hits(sorted(chosen, key=lambda p: -scores.fused[p]))
