"""When the evidence does not cover a question, decided from the evidence itself.

An answer needs a finding that addresses the question. The answerer declines when:

* no sentence of the roles asked for scores at least ``abstain_threshold``;
* the question names something (a capitalised word) that no passage mentions;
* the question asks for an amount of money and no leading sentence states one;
* the publication asked about (the one the question names, else the one of the best finding)
  says it lacks the detail: one of its scope notes scores at least ``scope_note_margin``
  times its best finding, or shares a word of the question that its leading findings lack.

The two thresholds are fitted with ``icrag eval calibrate`` on the bundled question sets.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from index.settings import Settings
from index.store import IndexStore
from rag.intent import COUNTRY_NAMES
from rag.query import QUESTION_WORDS, Query, Vocabulary

if TYPE_CHECKING:
    from rag.extractive import ScoredSentence

#: Questions that ask for an amount of money, and text that states one.
_MONEY_QUESTION = re.compile(
    r"\b(?:how much (?:money|funding)|cost|costs|budget|spend|spent|price|award(?:ed)?)\b", re.I
)
_MONEY = re.compile(r"[£$€]\s?\d|\b\d[\d,.]*\s?(?:pounds|dollars|euros|million|billion|bn|k)\b", re.I)
#: Capitalised words inside a question: names of places, programmes, organisations.
_NAME = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-Z][A-Za-z\-]{2,}\b")
#: Leading findings checked for the words a scope note says are missing, and for an amount of money.
LEADING = 3
MONEY_DEPTH = 10


class AbstentionRules:
    """The rules above, over one index."""

    def __init__(self, store: IndexStore, settings: Settings, vocabulary: Vocabulary) -> None:
        self.settings = settings
        self.vocabulary = vocabulary
        # Words of the publications' authors and titles: a question may name a publication by them.
        bibliography = sorted({f"{p.source.authors} {p.source.title}" for p in store.passages})
        self._bibliographic = (
            {t for tokens in vocabulary.tokenizer(bibliography) for t in tokens} if bibliography else set()
        )
        self._question_words = set(vocabulary.tokenizer([QUESTION_WORDS])[0])
        # A country the index has publications from is known, however a question names it ("Spanish").
        countries = {p.source.country.lower() for p in store.passages}
        self._known_places = {word for word, country in COUNTRY_NAMES.items() if country.lower() in countries}

    def abstains(self, query: Query, candidates: Sequence[ScoredSentence], eligible: Sequence[ScoredSentence]) -> bool:
        """Whether the evidence fails to cover the question."""
        if not eligible or eligible[0].score < self.settings.abstain_threshold:
            return True
        if self.names_unknown_entity(query.text):
            return True
        if _MONEY_QUESTION.search(query.text) and not any(_MONEY.search(c.quote.text) for c in eligible[:MONEY_DEPTH]):
            return True
        return self.publication_lacks_it(query, candidates, eligible)

    def publication_lacks_it(
        self, query: Query, candidates: Sequence[ScoredSentence], eligible: Sequence[ScoredSentence]
    ) -> bool:
        """Whether the publication asked about notes that it lacks what the question asks for."""
        focal = set(query.named) or {eligible[0].source_id}
        notes = [c for c in candidates if c.is_scope_note and c.source_id in focal]
        findings = [c for c in eligible if c.source_id in focal]
        if not notes:
            return False
        if not findings or notes[0].score >= self.settings.scope_note_margin * findings[0].score:
            return True
        # The best-ranked passage of the publication notes a gap in words the question uses.
        top = max(notes + findings, key=lambda c: c.quote.hit.score).passage
        asked = set(query.words) - self._bibliographic - self._question_words
        leading = {t for c in findings[:LEADING] for t in self.tokens(c.quote.text)}
        return any((asked & self.tokens(n.quote.text)) - leading for n in notes if n.passage is top)

    def tokens(self, text: str) -> set[str]:
        """Word stems of a text."""
        return set(self.vocabulary.tokenizer([text])[0])

    def names_unknown_entity(self, question: str) -> bool:
        """Whether the question names something (a capitalised word) the index never mentions."""
        words = [w for w in _NAME.findall(question.strip()) if w.lower() not in self._known_places]
        if not words:
            return False
        return any(
            stem not in self.vocabulary.idf and stem not in self._bibliographic
            for tokens in self.vocabulary.tokenizer(words)
            for stem in tokens
        )
