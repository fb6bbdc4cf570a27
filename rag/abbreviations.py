"""Abbreviations the indexed text defines, so full words and their short form match each other.

A question says "integrated care systems" where a passage says "ICSs"; a passage says
"Ontario Health Teams (OHTs)" once and "OHTs" after. Word matching (BM25 and the answerer's
shared-word score) misses every such pair, and MiniLM blurs them. The corpus defines its own
abbreviations, "full words (ABBR)", so they are read from it: no list to keep, and a new
document's abbreviations are known as soon as it is indexed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

#: Texts to their word stems, as the lexical matchers tokenise them.
Tokenize = Callable[[Sequence[str]], list[list[str]]]

#: A bracketed short form after the words it stands for: "integrated care systems (ICSs)".
_DEFINED = re.compile(r"\(([A-Z][A-Za-z&]{1,9})\)")
#: Words an abbreviation skips: "Social Care Institute for Excellence (SCIE)".
_SKIPPED = frozenset({"of", "and", "for", "the", "in", "on", "to", "&"})
_WORD = re.compile(r"[A-Za-z][\w'’-]*")
#: Words written in lower case: what a short form must not also be.
_PLAIN_WORD = re.compile(r"\b[a-z]+\b")


def long_form(before: str, short: str) -> str | None:
    """The words just before a short form whose initials spell its capitals, or None when none do."""
    letters = [c.lower() for c in short if c.isupper()]
    if len(letters) < 2:
        return None
    words = _WORD.findall(before)[-(2 * len(letters) + 2) :]
    matched: list[str] = []
    wanted = list(letters)
    for word in reversed(words):
        if not wanted:
            break
        if matched and word.lower() in _SKIPPED:
            matched.insert(0, word)  # "Accident and Emergency (A&E)": "and" gives no initial
        elif word[0].lower() == wanted[-1]:
            wanted.pop()
            matched.insert(0, word)
        else:
            return None
    return " ".join(matched) if not wanted else None


def definitions(texts: Iterable[str]) -> dict[str, str]:
    """Every abbreviation the texts define, with the words it stands for (the first definition wins).

    A short form the texts also use as an ordinary word ("Assertive Community Treatment (ACT)"
    beside "act") is left out: lower-cased for matching, it would bring its full words to every "act".
    """
    found: dict[str, str] = {}
    plain: set[str] = set()
    for text in texts:
        plain.update(_PLAIN_WORD.findall(text))
        for match in _DEFINED.finditer(text):
            short = match.group(1)
            words = long_form(text[max(0, match.start() - 200) : match.start()], short)
            if words and short not in found:
                found[short] = words
    return {
        short: words
        for short, words in found.items()
        if short.lower() not in plain and short.lower().removesuffix("s") not in plain
    }


class Abbreviations:
    """Word stems of each defined abbreviation and of its full words, for matching either way."""

    def __init__(self, texts: Iterable[str], tokenizer: Tokenize) -> None:
        self._short: dict[str, frozenset[str]] = {}  # a short form's stem -> the full words' stems
        self._full: list[tuple[frozenset[str], frozenset[str]]] = []  # full words' stems -> short stems
        self._written: list[tuple[frozenset[str], tuple[str, ...]]] = []  # full words' stems -> short forms
        self._tokenizer = tokenizer
        for short, words in definitions(texts).items():
            variants = {short, short[:-1]} if short.endswith("s") and short[-2:-1].isupper() else {short}
            shorts = frozenset(t for tokens in tokenizer(sorted(variants)) for t in tokens)
            full = frozenset(tokenizer([words])[0])
            if not shorts or not full or shorts & full:
                continue
            for stem in shorts:
                self._short[stem] = self._short.get(stem, frozenset()) | full
            self._full.append((full, shorts))
            self._written.append((full, tuple(sorted(variants))))

    def __len__(self) -> int:
        return len(self._full)

    def with_full_words(self, tokens: Iterable[str]) -> frozenset[str]:
        """Tokens with the full words of any abbreviation among them: "icss" brings "integr care system"."""
        tokens = frozenset(tokens)
        return tokens.union(*(self._short[t] for t in tokens if t in self._short))

    def short_forms(self, words: str) -> tuple[str, ...]:
        """The short forms, as written, of words the texts abbreviate ("integrated care system" -> "ICS",
        "ICSs"); none for words they do not."""
        stems = frozenset(self._tokenizer([words])[0])
        return tuple(form for full, forms in self._written if stems and full == stems for form in forms)

    def with_short_forms(self, tokens: Iterable[str]) -> list[str]:
        """Tokens with the short forms whose full words are all among them: "integr care system" brings "icss"."""
        tokens = list(tokens)
        present = set(tokens)
        extra = sorted({s for full, shorts in self._full if full <= present for s in shorts} - present)
        return tokens + extra
