"""The default answerer: quotes the retrieved sentences that answer the question.

It writes no words of its own, so every sentence is supported by the passage it cites by
construction. It abstains when the evidence does not cover the question:

* the best sentence scores under ``abstain_threshold``;
* the question names something (a capitalised word) that no passage mentions;
* the question asks for an amount of money and no candidate sentence states one;
* the best sentence is a scope note ("... is not covered by this evidence base") about the
  publication asked about (or any, when the question names none) and no other sentence
  comes within ``SCOPE_NOTE_MARGIN`` of it.

These rules were calibrated on the bundled dev questions (see eval/).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.settings import Settings
from index.store import IndexStore
from rag.citations import Quote, abstention, assemble, display_text, make_citation
from rag.lexical import Tokenizer
from rag.models import Answer, RetrievedPassage
from rag.retrieval import SourceMatcher

#: Sentences in which an evidence base states that it lacks a detail.
SCOPE_NOTE = re.compile(
    r"\bnot (?:covered|summari[sz]ed|given|stated|reported|recorded|included|described|available)\b"
    r"|\bdoes not (?:say|give|report|state|contain|describe|name|list|cover|include)\b"
    r"|\bdo not (?:say|give|report|state|contain|describe|name|list|cover|include)\b",
    re.IGNORECASE,
)


#: Questions that ask for an amount of money, and text that states one.
_MONEY_QUESTION = re.compile(
    r"\b(?:how much (?:money|funding)|cost|costs|budget|spend|spent|price|award(?:ed)?)\b", re.I
)
_MONEY = re.compile(r"[£$€]\s?\d|\b\d[\d,.]*\s?(?:pounds|dollars|euros|million|billion|bn|k)\b", re.I)
#: Questions whose answer is a number or a date, and text that has one.
_NUMBER_QUESTION = re.compile(
    r"\b(?:how (?:many|much|large|long|big|often)|when|what (?:year|date|percentage|proportion)|number of|size)\b",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")
_RECORD_FRAME = re.compile(r"(?:Coded evidence \S+ on the component|Context:)")
#: An answer goes ahead despite a top-ranked scope note when another sentence scores this close.
SCOPE_NOTE_MARGIN = 0.8
#: Sentences scoring under this share of the best one are left out of the answer.
SELECTION_RATIO = 0.65


@dataclass(frozen=True, eq=False)
class ScoredSentence:
    """A candidate sentence with the evidence that ranks it."""

    quote: Quote
    dense: float
    lexical: float
    score: float
    vector: np.ndarray

    @property
    def is_scope_note(self) -> bool:
        """Whether the sentence says the evidence base does not cover something."""
        return bool(SCOPE_NOTE.search(self.quote.text))


class Vocabulary:
    """Inverse document frequencies of stemmed words over an index's passages."""

    def __init__(self, texts: Sequence[str], tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer
        counts: dict[str, int] = {}
        for tokens in tokenizer(texts) if texts else []:
            for token in set(tokens):
                counts[token] = counts.get(token, 0) + 1
        self.n = max(1, len(texts))
        self.idf = {token: math.log(1 + self.n / df) for token, df in counts.items()}
        self.unseen_idf = math.log(1 + self.n)

    def weight(self, token: str) -> float:
        """IDF of a word; words never seen weigh the most."""
        return self.idf.get(token, self.unseen_idf)


def _rank_prior(hits: Sequence[RetrievedPassage]) -> dict[str, float]:
    """Retrieval scores of the hits rescaled to [0, 1], so the fused ranking informs selection."""
    if not hits:
        return {}
    scores = np.array([h.score for h in hits])
    spread = float(scores.max() - scores.min())
    scaled = (scores - scores.min()) / spread if spread > 1e-9 else np.ones_like(scores)
    return {h.passage.passage_id: float(v) for h, v in zip(hits, scaled, strict=True)}


def _reading_order(sentences: list[ScoredSentence]) -> list[ScoredSentence]:
    """Best passage first; sentences of one passage together, in the order the passage has them."""
    best: dict[str, float] = {}
    for sentence in sentences:
        pid = sentence.quote.hit.passage.passage_id
        best[pid] = max(best.get(pid, -1e9), sentence.score)
    return sorted(sentences, key=lambda s: (-best[s.quote.hit.passage.passage_id], s.quote.start))


class ExtractiveAnswerer:
    """Selects, de-duplicates and orders quoted sentences into a cited answer."""

    def __init__(
        self, store: IndexStore, settings: Settings, vocabulary: Vocabulary, sources: SourceMatcher | None = None
    ) -> None:
        self.sources = sources or SourceMatcher(store.passages)
        self.store = store
        self.settings = settings
        self.vocabulary = vocabulary
        # Words of the publications' authors and titles: a question may name a publication by them.
        bibliography = sorted({f"{p.source.authors} {p.source.title}" for p in store.passages})
        self._bibliographic = (
            {t for tokens in vocabulary.tokenizer(bibliography) for t in tokens} if bibliography else set()
        )

    def score_sentences(
        self, question: str, query: np.ndarray, hits: Sequence[RetrievedPassage]
    ) -> list[ScoredSentence]:
        """Every sentence unit of the retrieved passages, scored against the question."""
        q_tokens = set(self.vocabulary.tokenizer([question])[0])
        q_weight = sum(self.vocabulary.weight(t) for t in q_tokens) or 1.0
        wants_number = bool(_NUMBER_QUESTION.search(question))
        scored = []
        prior = _rank_prior(hits)
        for hit in hits:
            position = self.store.position[hit.passage.passage_id]
            spans = self.store.unit_spans[position]
            vectors = self.store.units_of(position)
            texts = [hit.passage.text[s:e] for s, e in spans]
            token_sets = self.vocabulary.tokenizer(texts) if texts else []
            for (start, end), vector, tokens in zip(spans, vectors, token_sets, strict=True):
                dense = float(vector @ query)
                token_set = set(tokens)
                lexical = sum(self.vocabulary.weight(t) for t in q_tokens & token_set) / q_weight
                # Sentences that only echo the question's words carry no answer; new words might.
                novelty = len(token_set - q_tokens) / len(token_set) if token_set else 0.0
                score = 0.5 * dense + 0.3 * lexical + 0.2 * prior[hit.passage.passage_id] + 0.15 * novelty
                text = hit.passage.text[start:end]
                if wants_number and _DIGIT.search(text):
                    score += 0.1
                if _RECORD_FRAME.match(text):
                    score -= 0.1  # a record's heading or context frames a finding but does not state one
                scored.append(ScoredSentence(Quote(hit, start, end), dense, lexical, score, vector))
        scored.sort(key=lambda s: -s.score)
        return scored

    def answer(self, question: str, query: np.ndarray, hits: Sequence[RetrievedPassage]) -> Answer:
        """A cited answer from the retrieved passages, or an abstention."""
        candidates = self.score_sentences(question, query, hits)
        settings_hash = self.settings.settings_hash()
        if not candidates or self._abstains(question, candidates):
            return abstention(question, hits, settings_hash)
        chosen = self._select(candidates)
        chosen = _reading_order(chosen)
        return assemble(
            question,
            [(display_text(s.quote.text), [make_citation(1, s.quote)]) for s in chosen],
            settings_hash,
        )

    def _abstains(self, question: str, candidates: list[ScoredSentence]) -> bool:
        """Whether the evidence fails to cover the question (see the module docstring)."""
        best = candidates[0]
        if best.score < self.settings.abstain_threshold:
            return True
        if self._names_unknown_entity(question):
            return True
        if _MONEY_QUESTION.search(question) and not any(_MONEY.search(c.quote.text) for c in candidates[:10]):
            return True
        named = self.sources.match(question)
        if best.is_scope_note and (not named or best.quote.hit.passage.source_id in named):
            # The evidence base says it lacks the detail; answer only if other evidence matches nearly as well.
            # A note about another publication than the one asked about says nothing of that one.
            runner_up = next((c.score for c in candidates if not c.is_scope_note), 0.0)
            return runner_up < SCOPE_NOTE_MARGIN * best.score
        return False

    def _names_unknown_entity(self, question: str) -> bool:
        """Whether the question names something (a capitalised word) the index never mentions."""
        words = re.findall(r"(?<!^)(?<![.?!]\s)\b[A-Z][A-Za-z\-]{2,}\b", question.strip())
        if not words:
            return False
        return any(
            stem not in self.vocabulary.idf and stem not in self._bibliographic
            for tokens in self.vocabulary.tokenizer(words)
            for stem in tokens
        )

    def _select(self, candidates: list[ScoredSentence]) -> list[ScoredSentence]:
        """The best sentences that say something new, each followed by what it introduces."""
        best = candidates[0].score
        limit = self.settings.max_answer_sentences
        by_span = {(c.quote.hit.passage.passage_id, c.quote.start): c for c in candidates}
        chosen: list[ScoredSentence] = []
        for candidate in candidates:
            if len(chosen) >= limit or candidate.score < SELECTION_RATIO * best:
                break
            if candidate.is_scope_note or candidate in chosen:
                continue
            if any(float(candidate.vector @ c.vector) > 0.9 for c in chosen):
                continue  # says what a chosen sentence already says
            chosen.append(candidate)
            # A sentence ending in a colon introduces a list: the list is the answer.
            follower = self._next_unit(candidate, by_span)
            while (
                follower is not None
                and follower not in chosen
                and len(chosen) < limit
                and follower.quote.text.rstrip().endswith((":", ";"))
            ):
                chosen.append(follower)
                follower = self._next_unit(follower, by_span)
            if (
                chosen[-1].quote.text.rstrip().endswith((":", ";"))
                and follower is not None
                and follower not in chosen
                and len(chosen) < limit
            ):
                chosen.append(follower)
        return list(dict.fromkeys(chosen))

    def _next_unit(
        self, sentence: ScoredSentence, by_span: dict[tuple[str, int], ScoredSentence]
    ) -> ScoredSentence | None:
        """The sentence unit right after another in the same passage, if it was scored."""
        passage = sentence.quote.hit.passage
        spans = self.store.unit_spans[self.store.position[passage.passage_id]]
        starts = [start for start, _ in spans]
        index = starts.index(sentence.quote.start) + 1 if sentence.quote.start in starts else len(starts)
        return by_span.get((passage.passage_id, starts[index])) if index < len(starts) else None
