"""An answer as the citation metrics read it: each sentence with the texts its numbers cite.

``icrag eval run`` cites the full text of each passage an icrag answer quotes; ``icrag eval
score`` cites the contexts given with each answer. Both number them from 1 and read them here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from eval.metrics import CitedAnswer, CitedSentence


def cited_answer(sentences: Sequence[tuple[str, Sequence[int]]], contexts: Mapping[int, str]) -> CitedAnswer:
    """Sentences, each with the numbers it cites, paired with the contexts those numbers name.

    A number that names no context cites "": it counts, and never supports. An answer that
    cites no number at all is unnumbered: each sentence stands against every context.
    """
    if not any(numbers for _, numbers in sentences):
        return CitedAnswer(
            sentences=[CitedSentence(text=text, evidence=list(contexts.values())) for text, _ in sentences],
            numbered=False,
        )
    return CitedAnswer(
        sentences=[
            CitedSentence(text=text, evidence=[contexts.get(n, "") for n in dict.fromkeys(numbers)])
            for text, numbers in sentences
        ]
    )
