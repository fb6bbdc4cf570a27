"""Does a passage support a sentence? An offline scorer shared by answering and evaluation.

No NLI model is available offline, so support is judged from three kinds of evidence:

* lexical: the share of the claim's content words (stemmed) found in the passage;
* numeric: every number in the claim (digits or number words) must occur in the passage;
* semantic: cosine similarity between the claim and the passage's closest sentence (MiniLM),
  when an embedder is given.

What it detects: verbatim and near-verbatim quotes, paraphrases that keep the key terms,
claims that borrow a passage's topic but add numbers or content words it does not contain,
and claims about a different subject altogether. What it cannot detect: a negation or a
reversed relation built from the passage's own words ("X increased Y" vs "Y increased X"
scores the same); subtle quantifier changes ("all" vs "some"); support that needs
reasoning across passages. An optional LLM judge (eval.judge) covers those at a cost.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from index.embedding import Embedder
from index.markers import strip_markers
from index.sentences import split_sentences
from rag.lexical import Tokenizer

_CARDINALS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13",
    "fourteen": "14", "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18",
    "nineteen": "19", "twenty": "20", "thirty": "30", "forty": "40", "fifty": "50", "sixty": "60",
    "seventy": "70", "eighty": "80", "ninety": "90", "hundred": "100",
}  # fmt: skip
_ORDINALS = {"first": "1", "second": "2", "third": "3", "fourth": "4", "fifth": "5", "sixth": "6", "seventh": "7"}
_NUMBER_WORDS = {**_CARDINALS, **_ORDINALS}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")
_COMPOUND_RE = re.compile(
    r"\b(twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)[- ](one|two|three|four|five|six|seven|eight|nine)\b"
)
#: Sentences either side of the best-matching one whose numbers can support a claim.
NUMBER_CONTEXT = 1


def cardinal_words(low: int, high: int) -> str:
    """The number words from ``low`` to ``high`` as a regular-expression alternation ("one|two|...|ten"), for
    patterns that read numbers written out."""
    return "|".join(word for word, value in _CARDINALS.items() if low <= int(value) <= high)


def numbers_in(text: str) -> set[str]:
    """Numbers in a text, as digit strings; number words count ("thirty-six" -> "36")."""
    lowered = text.lower()
    found = set()
    for match in _COMPOUND_RE.finditer(lowered):
        found.add(str(_TENS[match.group(1)] + int(_NUMBER_WORDS[match.group(2)])))
    lowered = _COMPOUND_RE.sub(" ", lowered)
    for match in _NUMBER_RE.finditer(lowered):
        found.add(match.group(0).replace(",", ""))
    for word in re.findall(r"[a-z]+", lowered):
        if word in _NUMBER_WORDS:
            found.add(_NUMBER_WORDS[word])
    return found


def normalise(text: str) -> str:
    """Lower-case text with punctuation and runs of whitespace folded, for containment tests."""
    return " ".join(re.sub(r"[^\w%]+", " ", text.lower()).split())


class SupportScorer:
    """Scores how well evidence supports a claim, from 0 (unrelated) to 1 (quoted)."""

    name = "offline"

    def __init__(self, embedder: Embedder | None = None, threshold: float = 0.6) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self._tokenize = Tokenizer()

    def score(self, claim: str, evidence: str) -> float:
        """Support of one claim by one evidence text."""
        return self.score_many(claim, [evidence])[0]

    def score_many(self, claim: str, evidences: Sequence[str]) -> list[float]:
        """Support of one claim by each of several evidence texts."""
        claim = strip_markers(claim)
        if not claim or not evidences:
            return [0.0 for _ in evidences]
        claim_norm = normalise(claim)
        claim_tokens = set(self._tokenize([claim])[0])
        claim_numbers = numbers_in(claim)
        semantic = self._semantic(claim, evidences)
        scores = []
        for i, evidence in enumerate(evidences):
            if claim_norm and claim_norm in normalise(evidence):
                scores.append(1.0)
                continue
            evidence_tokens = set(self._tokenize([evidence])[0])
            lexical = len(claim_tokens & evidence_tokens) / len(claim_tokens) if claim_tokens else 0.0
            value = lexical if semantic is None else 0.5 * lexical + 0.5 * semantic[i]
            missing_numbers = claim_numbers - self._numbers_near(claim_tokens, evidence) if claim_numbers else set()
            if missing_numbers:
                value *= 0.5 ** len(missing_numbers)
            scores.append(float(min(1.0, max(0.0, value))))
        return scores

    def _numbers_near(self, claim_tokens: set[str], evidence: str) -> set[str]:
        """Numbers in the evidence sentence that shares most words with the claim, and its neighbours.

        A number elsewhere in a long passage (a year, a table value) says nothing about the
        claim, so a changed number is only excused by the sentences the claim draws on.
        """
        sentences = split_sentences(evidence) or [evidence]
        if len(sentences) <= 2 * NUMBER_CONTEXT + 1:
            return numbers_in(evidence)
        overlaps = [len(claim_tokens & set(tokens)) for tokens in self._tokenize(sentences)]
        best = max(range(len(sentences)), key=overlaps.__getitem__)
        near = sentences[max(0, best - NUMBER_CONTEXT) : best + NUMBER_CONTEXT + 1]
        return numbers_in(" ".join(near))

    def supports(self, claim: str, evidence: str) -> bool:
        """Whether the evidence supports the claim, by the scorer's threshold."""
        return self.score(claim, evidence) >= self.threshold

    def _semantic(self, claim: str, evidences: Sequence[str]) -> list[float] | None:
        """Cosine similarity of the claim to the closest sentence of each evidence text."""
        if self.embedder is None:
            return None
        sentences = [split_sentences(e) or [e] for e in evidences]
        flat = [s for group in sentences for s in group]
        vectors = self.embedder.embed([claim, *flat], progress=False)
        vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        sims = vectors[1:] @ vectors[0]
        result, offset = [], 0
        for group in sentences:
            result.append(float(max(0.0, sims[offset : offset + len(group)].max())))
            offset += len(group)
        return result
