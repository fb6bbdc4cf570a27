"""BM25 over passages with English stemming (bm25s + PyStemmer)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import bm25s
import numpy as np
import Stemmer

from index.models import Passage
from index.sentences import word_window_spans
from rag.abbreviations import Abbreviations

# bm25s sets its logger to DEBUG on import, which would print on every index load.
logging.getLogger("bm25s").setLevel(logging.WARNING)


class Tokenizer:
    """Lower-cased, stop-word filtered, Snowball-stemmed word tokens."""

    def __init__(self) -> None:
        self._stemmer = Stemmer.Stemmer("english")

    def __call__(self, texts: Sequence[str]) -> list[list[str]]:
        """Tokens of each text."""
        tokens = bm25s.tokenize(
            list(texts), stopwords="en", stemmer=self._stemmer, return_ids=False, show_progress=False
        )
        return [list(t) for t in tokens]

    def stems(self, words: Sequence[str]) -> list[str]:
        """Each word lower-cased and stemmed, in order and stop words kept: to read words where they stand."""
        return list(self._stemmer.stemWords([word.lower() for word in words]))


class BM25Index:
    """BM25 scores of every passage for a query; built in memory when an index is loaded.

    A question's full words also match the short form the texts define for them ("integrated
    care systems" finds "ICSs"); pass ``abbreviations`` to share another index's definitions.
    """

    def __init__(
        self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75, abbreviations: Abbreviations | None = None
    ) -> None:
        self.tokenizer = Tokenizer()
        self.abbreviations = abbreviations if abbreviations is not None else Abbreviations(texts, self.tokenizer)
        self.size = len(texts)
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        corpus = self.tokenizer(texts) if texts else []
        if any(corpus):
            self._bm25.index(corpus, show_progress=False)
            self._vocab: set[str] = set(self._bm25.vocab_dict)
        else:
            self._vocab = set()

    def query_tokens(self, query: str) -> list[str]:
        """Query tokens known to the index (unknown ones cannot score), with the short forms of its full words."""
        tokens = self.abbreviations.with_short_forms(self.tokenizer([query])[0])
        return [t for t in tokens if t in self._vocab]

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage, in index order; all zeros when no token matches."""
        tokens = self.query_tokens(query)
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)


def lexical_text(passage: Passage) -> str:
    """What BM25 indexes for a passage: its words plus who wrote it, when, and under what title.

    Questions name publications ("Sims et al. (2021)") far more often than passages do, so
    the bibliographic words let BM25 find the right publication's passages.
    """
    source = passage.source
    # An organisation adds only its first word, as a person adds one surname.
    surnames = " ".join(name.split()[0] for name in source.surnames)
    return " ".join(part for part in (surnames, source.year, source.title, passage.section, passage.text) if part)


def word_windows(text: str, size: int, stride: int) -> list[str]:
    """Overlapping windows of ``size`` words every ``stride`` words, the last aligned to the end.

    BM25 over windows rewards passages where the question's words occur close together.
    """
    return [text[start:end] for start, end in word_window_spans(text, size, stride)] or [text]
