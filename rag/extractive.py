"""The default answerer: quotes the retrieved sentences that answer the question.

It writes no words of its own, so every sentence is supported by the passage it cites by
construction. It abstains when the evidence does not cover the question:

* the best sentence scores under ``abstain_threshold``;
* the question names something (a capitalised word) that no passage mentions;
* the question asks for an amount of money and no candidate sentence states one;
* the top passage holds a scope note naming something the question asks about (a shared
  content word) that none of the leading answer sentences mentions;
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

from index.models import Passage
from index.sentences import sentence_spans
from index.settings import Settings
from index.store import IndexStore
from rag.citations import Quote, abstention, answer_text, assemble, display_text, make_citation
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
#: Questions whose answer is a count or an amount, and text that states one: a number standing
#: alone, not a year ("2019") and not part of an identifier ("sims2021", "18/01/06").
_COUNT_QUESTION = re.compile(
    r"\b(?:how (?:many|much|large|long|big|often)|number of|size|percentage|proportion)\b", re.IGNORECASE
)
_COUNT = re.compile(r"(?<![\w/.])(?!(?:19|20)\d\d\b)\d[\d,]*(?:\.\d+)?(?![\w/])%?")
#: Questions whose answer is a date, and text that has one.
_DATE_QUESTION = re.compile(r"\b(?:when|what (?:year|date|month))\b", re.I)
_DATE = re.compile(
    r"(?<![\w/])(?:19|20)\d\d(?![\w/])|\b(?:January|February|March|April|May|June|July|August|September|"
    r"October|November|December)\b"
)
#: Sentences that open with a word pointing back to the sentence before ("He had ...", "It appeared ...").
_ANAPHOR = re.compile(r"^(?:He|She|It|They|This|These|That|Those|Its|Their|His|Her|Such)\b")
#: How a sentence is scored: meaning, IDF-weighted shared words, the retrieval rank of its
#: passage, and words the question does not already contain; plus a bonus when it states the
#: kind of thing asked for (a count, a date) and a penalty for a record's framing lines.
DENSE_WEIGHT = 0.5
LEXICAL_WEIGHT = 0.3
RANK_WEIGHT = 0.2
NOVELTY_WEIGHT = 0.15
ANSWER_TYPE_BONUS = 0.1
FRAME_PENALTY = 0.1
#: Share of the previous sentence's similarity a sentence opening with "It", "They", ... inherits.
ANAPHOR_CARRY = 0.9
#: An answer goes ahead despite a top-ranked scope note when another sentence scores this close.
SCOPE_NOTE_MARGIN = 0.8
#: Words that shape a question rather than say what it is about.
_QUESTION_WORDS = "what which who whom whose how when where why do does did say says said find found"
#: The sentences of a would-be answer checked against the top passage's scope notes.
SCOPE_GAP_SENTENCES = 3
#: A sentence this similar (cosine) to one already chosen says the same thing.
DUPLICATE_SIMILARITY = 0.9
#: Sentences scoring under this share of the best one are left out of the answer.
SELECTION_RATIO = 0.55


@dataclass(frozen=True, eq=False)
class ScoredSentence:
    """A candidate sentence with the evidence that ranks it."""

    quote: Quote
    unit: int  # position of its sentence unit in the passage, to find its neighbours
    score: float
    vector: np.ndarray

    @property
    def is_record_heading(self) -> bool:
        """Whether the sentence is the first line of a coded-evidence record: metadata, not a finding."""
        return _is_record_heading(self.quote.hit.passage, self.quote.start)

    @property
    def is_scope_note(self) -> bool:
        """Whether the sentence says the evidence base does not cover something."""
        return bool(SCOPE_NOTE.search(self.quote.text))

    @property
    def is_quotable(self) -> bool:
        """Whether the sentence may stand in an answer: neither a scope note nor a record's heading."""
        return not (self.is_scope_note or self.is_record_heading)


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


def _without_scope_fragments(text: str, start: int, end: int) -> tuple[int, int]:
    """The span narrowed to its longest run of sentences that are not scope notes.

    A sentence unit can join a short note ("Mechanism: Not reported in the summarised text")
    to the finding on the next line; the finding is worth quoting, the note is not.
    """
    spans = [(start + s, start + e) for s, e in sentence_spans(text[start:end])]
    runs: list[list[tuple[int, int]]] = [[]]
    for span in spans:
        if SCOPE_NOTE.search(text[span[0] : span[1]]):
            runs.append([])
        else:
            runs[-1].append(span)
    longest = max(runs, key=lambda run: (run[-1][1] - run[0][0]) if run else 0)
    if not longest or len(longest) == len(spans):
        return start, end
    return longest[0][0], longest[-1][1]


def _is_record_heading(passage: Passage, start: int) -> bool:
    """Whether a span starting at ``start`` is a coded-evidence record's first line: metadata, not a finding."""
    return passage.record is not None and start == 0


def _frames_record(passage: Passage, start: int, end: int) -> bool:
    """Whether a span is a coded-evidence record's heading or context line, not its finding."""
    record = passage.record
    if record is None:
        return False
    context = bool(record.context) and passage.text[start:end].endswith(record.context.rstrip())
    return _is_record_heading(passage, start) or context


def _introduces_list(sentence: ScoredSentence) -> bool:
    """Whether a sentence ends in a colon or semicolon: what follows belongs with it."""
    return sentence.quote.text.rstrip().endswith((":", ";"))


def _continues(sentence: ScoredSentence) -> bool:
    """Whether a sentence opens in lower case: a list item or fragment that reads only after the one before."""
    return display_text(sentence.quote.text)[:1].islower()


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
        self._question_words = set(vocabulary.tokenizer([_QUESTION_WORDS])[0])
        # Words that name a publication ("Harris et al. (2022)"): they pick the publication, not the answer.
        publications = {p.source.source_id: p.source for p in store.passages}
        self._naming_words = {
            sid: set(vocabulary.tokenizer([f"{source.authors} {source.year} et al"])[0])
            for sid, source in publications.items()
        }

    def content_words(self, question: str) -> set[str]:
        """The question's word stems that an answer sentence should share.

        The authors and year of a publication the question names are left out: "Harris et al.
        (2022)" picks the publication, and a sentence that merely names it does not answer.
        """
        words = set(self.vocabulary.tokenizer([question])[0])
        naming = {t for sid in self.sources.match(question) for t in self._naming_words.get(sid, ())}
        return (words - naming) or words  # "Sims 2021?" asks about the publication itself

    def score_sentences(
        self, question: str, query: np.ndarray, hits: Sequence[RetrievedPassage]
    ) -> list[ScoredSentence]:
        """Every sentence unit of the retrieved passages, scored against the question."""
        q_tokens = self.content_words(question)
        q_weight = sum(self.vocabulary.weight(t) for t in q_tokens) or 1.0
        wants_count = bool(_COUNT_QUESTION.search(question))
        wants_date = bool(_DATE_QUESTION.search(question))
        scored = []
        prior = _rank_prior(hits)
        for hit in hits:
            position = self.store.position[hit.passage.passage_id]
            spans = self.store.unit_spans[position]
            vectors = self.store.units_of(position)
            texts = [hit.passage.text[s:e] for s, e in spans]
            token_sets = self.vocabulary.tokenizer(texts) if texts else []
            previous_dense = 0.0
            units = zip(spans, vectors, token_sets, strict=True)
            for unit, ((unit_start, unit_end), vector, tokens) in enumerate(units):
                start, end = _without_scope_fragments(hit.passage.text, unit_start, unit_end)
                text = hit.passage.text[start:end]
                dense = float(vector @ query)
                if _ANAPHOR.match(display_text(text)):
                    # Its subject is in the sentence before, so it is about what that one is about.
                    dense = max(dense, ANAPHOR_CARRY * previous_dense)
                previous_dense = dense
                token_set = set(tokens)
                lexical = sum(self.vocabulary.weight(t) for t in q_tokens & token_set) / q_weight
                # Sentences that only echo the question's words carry no answer; new words might.
                novelty = len(token_set - q_tokens) / len(token_set) if token_set else 0.0
                score = (
                    DENSE_WEIGHT * dense
                    + LEXICAL_WEIGHT * lexical
                    + RANK_WEIGHT * prior[hit.passage.passage_id]
                    + NOVELTY_WEIGHT * novelty
                )
                if (wants_count and _COUNT.search(text)) or (wants_date and _DATE.search(text)):
                    score += ANSWER_TYPE_BONUS
                if _frames_record(hit.passage, start, end):
                    score -= FRAME_PENALTY  # a record's heading or context frames a finding but does not state one
                scored.append(ScoredSentence(Quote(hit, start, end), unit, score, vector))
        scored.sort(key=lambda s: -s.score)
        return scored

    def answer(self, question: str, query: np.ndarray, hits: Sequence[RetrievedPassage]) -> Answer:
        """A cited answer from the retrieved passages, or an abstention."""
        candidates = self.score_sentences(question, query, hits)
        settings_hash = self.settings.settings_hash()
        if not candidates or self._abstains(question, candidates):
            return abstention(question, hits, settings_hash)
        chosen = self._select(candidates)
        if not chosen:
            return abstention(question, hits, settings_hash)
        chosen = _reading_order(chosen)
        return assemble(
            question,
            [(answer_text(s.quote.text), [make_citation(1, s.quote)]) for s in chosen],
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
        if self._scope_note_names_gap(question, candidates, named):
            return True
        if best.is_scope_note and (not named or best.quote.hit.passage.source_id in named):
            # The evidence base says it lacks the detail; answer only if other evidence matches nearly as well.
            # A note about another publication than the one asked about says nothing of that one.
            runner_up = next((c.score for c in candidates if not c.is_scope_note), 0.0)
            return runner_up < SCOPE_NOTE_MARGIN * best.score
        return False

    def _scope_note_names_gap(self, question: str, candidates: list[ScoredSentence], named: set[str]) -> bool:
        """Whether the top passage says it lacks a detail the question asks for and the answer misses.

        "Which primary studies supported ...?" against a record noting that its "supporting
        studies" are not covered: an answer quoting the record's other sentences would not
        answer the question asked. A note about another publication than the one the question
        names says nothing about that one.
        """
        top = max(candidates, key=lambda c: c.quote.hit.score).quote.hit.passage
        notes = [c for c in candidates if c.is_scope_note and c.quote.hit.passage is top]
        if not notes or (named and top.source_id not in named):
            return False
        tokenize = self.vocabulary.tokenizer
        asked = set(tokenize([question])[0]) - self._bibliographic - self._question_words
        leading = [c.quote.text for c in candidates if c.is_quotable][:SCOPE_GAP_SENTENCES]
        answered = {t for tokens in tokenize(leading) for t in tokens} if leading else set()
        return any((asked & set(tokenize([n.quote.text])[0])) - answered for n in notes)

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
        """The best sentences that say something new, each with the sentences it needs to be read.

        A sentence whose group (the sentence its "He"/"It" points back to, the list it
        introduces) does not fit in the sentences left is skipped, never cut.
        """
        best = candidates[0].score
        limit = self.settings.max_answer_sentences
        by_unit = {(c.quote.hit.passage.passage_id, c.unit): c for c in candidates}
        chosen: list[ScoredSentence] = []
        for candidate in candidates:
            if len(chosen) >= limit or candidate.score < SELECTION_RATIO * best:
                break
            if not candidate.is_quotable or candidate in chosen:
                continue
            if any(float(candidate.vector @ c.vector) > DUPLICATE_SIMILARITY for c in chosen):
                continue  # says what a chosen sentence already says
            group = _readable_group(candidate, by_unit)
            if _introduces_list(group[-1]) or _continues(group[0]) or not all(s.is_quotable for s in group):
                continue  # the list it opens or continues was not retrieved, or it leans on a note or heading
            group = [s for s in group if s not in chosen]
            if len(chosen) + len(group) > limit:
                continue
            chosen.extend(group)
        return chosen


def _readable_group(candidate: ScoredSentence, by_unit: dict[tuple[str, int], ScoredSentence]) -> list[ScoredSentence]:
    """A sentence with the sentences it needs to be read.

    Those are the sentence its opening "He"/"It" points back to; for a list item or fragment
    opening in lower case, the sentences before it back to one that opens a sentence; and the
    list it introduces.

    ``by_unit`` holds the scored sentences by (passage id, unit position); a neighbour that was
    not scored is not found.
    """

    def neighbour(sentence: ScoredSentence, offset: int) -> ScoredSentence | None:
        return by_unit.get((sentence.quote.hit.passage.passage_id, sentence.unit + offset))

    group = [candidate]
    if _ANAPHOR.match(display_text(candidate.quote.text)):
        antecedent = neighbour(candidate, -1)
        if antecedent is not None:
            group.insert(0, antecedent)
    while _continues(group[0]):
        before = neighbour(group[0], -1)
        if before is None:
            break
        group.insert(0, before)
    while _introduces_list(group[-1]):
        follower = neighbour(group[-1], 1)
        if follower is None:
            break
        group.append(follower)
    return group
