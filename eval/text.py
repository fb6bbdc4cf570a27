"""Text normalisation for matching key facts against answers, independent of wording details.

Case, punctuation, whitespace, plural and tense endings, and numbers written as words
("thirty-six" = "36", "per cent" = "%") do not matter; content words and numbers do.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from index.markers import strip_markers
from rag.support import numbers_in

_TOKEN_RE = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+|%")
_PERCENT_RE = re.compile(r"\bper\s?cent\b")
_STOPWORDS = frozenset(STOPWORDS_EN)
#: Share of an answer span's content words a text must hold to count as containing it.
SPAN_SHARE = 0.8


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def _as_number(token: str) -> str | None:
    """The digit form of a number token ("7", "seven", "1,000"), or None for a word."""
    found = numbers_in(token)
    return next(iter(found)) if len(found) == 1 else None


def canonical_tokens(text: str) -> list[str]:
    """Lower-case tokens with citation markers dropped, numbers as digits and words stemmed."""
    text = _PERCENT_RE.sub("%", unicodedata.normalize("NFKC", strip_markers(text)).lower())
    tokens: list[str] = []
    for token in _TOKEN_RE.findall(text):
        number = _as_number(token)
        previous = _as_number(tokens[-1]) if tokens else None
        if number is not None and previous is not None and _is_compound(previous, number):
            tokens[-1] = str(int(previous) + int(number))  # "thirty six" -> "36"
        else:
            tokens.append(number or token)
    return [t if t[0].isdigit() or t == "%" else _stemmer().stemWord(t) for t in tokens]


def _is_compound(tens: str, unit: str) -> bool:
    return tens.isdigit() and unit.isdigit() and 20 <= int(tens) <= 90 and int(tens) % 10 == 0 and 1 <= int(unit) <= 9


def content_terms(text: str) -> set[str]:
    """Canonical tokens of a text without stop words (all of them if that leaves none)."""
    tokens = canonical_tokens(text)
    content = {t for t in tokens if t not in _STOPWORDS}
    return content or set(tokens)


def fact_found(fact: str, answer: str) -> bool:
    """Whether every content word and number of a key fact occurs in the answer, in any order."""
    wanted = content_terms(fact)
    return bool(wanted) and wanted <= set(canonical_tokens(answer))


def span_found(span: str, text: str, share: float = SPAN_SHARE) -> bool:
    """Whether an annotated answer span is in a text: as a run of normalised tokens, or most of its content words.

    Extractive answers quote whole sentences, so the span is usually there word for word; the
    content-word share forgives a span whose edges cut through a number or a list.
    """
    wanted = canonical_tokens(span)
    if not wanted:
        return False
    tokens = canonical_tokens(text)
    if f" {' '.join(wanted)} " in f" {' '.join(tokens)} ":
        return True
    terms = content_terms(span)
    return len(terms & set(tokens)) >= share * len(terms)
