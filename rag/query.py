"""A question read once: clean text, vector, content words, named publications, intent and sides.

Every stage after it (retrieval, the candidate pool, the answerers, evaluation) takes the
same :class:`Query`, so a question is embedded and tokenised exactly once.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from index.embedding import Embedder
from index.errors import InputError
from index.models import Passage, Role, SourceInfo
from rag.abbreviations import Abbreviations
from rag.glossary import full_words, is_kind
from rag.idioms import in_plain_words
from rag.intent import PROPER_WORD, IntentReader, asked_roles, capitalised, names_surname
from rag.lexical import Tokenizer
from rag.models import QueryIntent
from rag.support import cardinal_words, numbers_in

MAX_QUESTION_CHARS = 2_000
_SURROGATE = re.compile("[\ud800-\udfff]")
#: Words that shape a question rather than say what it is about.
QUESTION_WORDS = (
    "what which who whom whose how when where why do does did say says said find found"
    " behind about regarding concerning"  # "the evidence behind X" asks about X
    " versus vs"  # "Sims vs Knight": what is compared is on either side
)
#: Pronouns the tokenizer's short stop-word list keeps ("its" is stemmed to "it"): they name no subject either, so
#: "What are its components?" asks nothing a scope note's "it" could lack.
PRONOUNS = "its them his her hers he she those we our ours you your yours me my mine"
#: Where a question names the research only as what it asks ("What does the evidence say about ...?",
#: "What does the research recommend?", "What do we know about ...?"): its subject is what follows, not the
#: research.
ASKS_THE_RESEARCH = re.compile(
    # "do English and Canadian studies", "did the New Zealand study"
    r"\b(?:does|do|did) (?:the |this |these |any )?(?:[\w-]+ (?:[\w-]+ )?(?:and [\w-]+ )?)?"
    r"(?:research|evidence|studies|study|literature|reviews?)"
    r" (?:\w+ )?(?:say|show|find|recommend|suggest|tell|advise)\b"
    r"|\bwhat (?:the )?(?:research|evidence|studies) (?:says?|shows?|recommends?|suggests?|finds?)\b"
    r"|\baccording to (?:the )?(?:research|evidence|studies)\b"
    # "What do we know about X?" asks what is known of X, not about knowing
    r"|\bwhat (?:do|does|did) (?:we|you|they|researchers) know about\b|\bwhat is (?:already )?known about\b"
    # "Which publications in the evidence base raise power ...?": where it looks, not what it asks about
    r"|\b(?:in|from|across|within) (?:the|this|our|its) (?:evidence base|evidence|literature)\b"
    # "I'm after the review evidence, not think-pieces": what it wants answered from, not what it asks about
    r"|\b(?:i'm|i am|we're|we are) (?:after|looking for|interested in|asking for|wanting) (?:the |some |any )?"
    r"(?:review |research |hard |published )?(?:evidence|research|findings|studies)\b"
    r"|\b(?:based on|backed by|grounded in) (?:the )?(?:review |research |published )?(?:evidence|research)\b",
    re.I,
)
#: Words by which a question asks how the sources put something, with nothing of what it is about.
ASKING_THE_SOURCES = (
    "describe describes explain explains define defines put puts present presents frame frames characterise"
    " characterises characterize characterizes source sources paper papers publication publications author authors"
    " literature research evidence study studies review reviews"
)
#: Words by which a question is about the research itself, once the words asking it are set aside.
_ABOUT_RESEARCH = re.compile(r"\b(?:research|evidence|stud(?:y|ies)|literature|future|gaps?|know|known)\b", re.I)
#: Questions whose answer is a count or an amount.
_COUNT_QUESTION = re.compile(
    r"\b(?:how (?:many|much|large|long|big|often)|number of|size|percentage|proportion|rates?|ratios?)\b"
    r"|\b(?:the|an?|what) (?:mean|median|average)\b",  # "What is the mean time from onset to ...?"
    re.IGNORECASE,
)
#: Questions that open asking for something other than an amount: a place, a person, a reason or a time.
_ASKS_OTHER_THAN_AMOUNT = re.compile(r"\s*(?:where|who|whom|whose|why|when)\b", re.I)
#: Questions whose amount is a rate: stated as a share ("21%", "1 in 5", "0.8 per 1,000"), not a count.
_RATE_QUESTION = re.compile(r"\b(?:percentages?|proportions?|rates?|ratios?|percent)\b", re.I)
#: Questions asking what stands in the way: barriers, obstacles, problems, what hinders, undermines or goes wrong.
HINDRANCE_QUESTION = re.compile(
    r"\b(?:barriers?|obstacles?|hinder\w*|challenges?|difficult(?:y|ies)|problems?|pitfalls?|(?:gets?|got|stand"
    r"|stands|stood) in the way|imped\w*|go(?:es)? wrong|went wrong|fail(?:s|ed|ing|ures?)?|undermin\w*|derail\w*"
    r"|thwart\w*|(?:hold|holds|holding|held)\s+(?:[\w'-]+\s+){0,3}?back)\b",
    re.I,
)
#: Questions asking which of several things counts most ("Which factor matters most?", "What is the biggest
#: barrier?"): answered by a sentence that ranks one above the rest.
_SUPERLATIVE_QUESTION = re.compile(
    r"\b(?:matter(?:s|ed|ing)?|count(?:s|ed|ing)?|weigh(?:s|ed|ing)?|help(?:s|ed|ing)?|stands? out) (?:the )?most\b"
    r"|\bmost of all\b"
    r"|\babove all\b|\bsingle most\b|\bnumber one\b"
    # "If we could only put our energy into one thing, which would it be?"
    r"|\b(?:only|just) (?:[\w'-]+ ){0,6}one (?:thing|factor|priority|area)\b"
    r"|\b(?:what|which)\b[^?]*\b(?:biggest|greatest|strongest|largest|main|most (?:important|influential"
    r"|significant|effective|powerful|critical|crucial|decisive))\b",
    re.I,
)
#: Questions asking what limits a piece of work or how far its findings carry ("What are the limitations of the
#: review?", "Can its findings be applied to other systems?").
_LIMITATION_QUESTION = re.compile(
    r"\b(?:limitations?|weakness(?:es)?|shortcomings?|caveats?|generali[sz](?:e|es|ed|ing|ation|ability|able)"
    r"|transferab\w*)\b"
    r"|\b(?:be )?(?:applied|apply|transferred|transfer) (?:to|in) (?:other|another|different)\b",
    re.I,
)
#: Questions asking who paid for a piece of work.
_FUNDER_QUESTION = re.compile(
    r"\b(?:who|which(?: [\w'-]+){0,3}?)\s+(?:funded|funds|paid for|commissioned|sponsored)\b"
    r"|\bfund(?:er|ers|ing body|ing bodies|ing source|ing sources)\b",
    re.I,
)
#: Questions asking who wrote a piece of work.
_AUTHOR_QUESTION = re.compile(
    r"\bwho (?:wrote|authored|are the authors|were the authors|is the (?:lead |first )?author"
    r"|was the (?:lead |first )?author)\b"
    r"|\b(?:what|which) (?:are|were) the (?:names of the )?authors\b",
    re.I,
)
#: What a "How many ...?" question counts: its words up to the verb ("How many human cases were ...?"
#: counts human cases, "the number of studies included" studies).
_COUNTED = re.compile(
    r"\b(?:how many|number of)\s+((?:(?!(?:did|do|does|have|has|had|are|is|were|was|can|could|would|will"
    r"|should|there|the|of|in|and|or)\b)[^\W\d_][\w'-]*\s*){1,3})",
    re.I,
)
#: A question asking for a list of a size it names ("What are the seven components?", "Name the 3 cytokines").
_LISTED = re.compile(
    r"\b(?:(?:what|which)\s+(?:are|were)|name|list)\s+(?:the|its|their|these|those)\s+"
    rf"({cardinal_words(2, 12)}|[2-9]|1[0-2])\s+[a-z]",
    re.I,
)
#: The noun phrases of a question, opened by a determiner ("the acute exacerbations", "these agents"),
#: up to the next function word: what an answer sentence's "These ..." may point at.
_NOUN_PHRASE = re.compile(
    r"\b(?:the|these|those|this|that|its|their)\s+((?:(?!(?:is|are|was|were|be|been|has|have|had|do|does|did|can"
    r"|could|may|might|will|would|should|must|of|in|on|at|to|for|with|by|from|and|or|that|which|who|when|where"
    r"|how|what|why)\b)[\w'-]+\s*){1,3})",
    re.I,
)
#: Questions whose answer is a date: "When" asking ("When was ...?", "By when will ...?"), not the "when"
#: of a clause ("What was the result when the virus struck ...?", "the lag between when ... and when ...").
_DATE_QUESTION = re.compile(
    r"\bwhen (?:did|does|do|was|were|is|are|will|would|could|can|should|has|have|had)\b"
    r"|\bwhat (?:year|date|month)\b|\bhow long ago\b",
    re.I,
)
#: A year a question names ("Sims et al. (2021)", "the 2008 financial crisis").
YEAR = re.compile(r"\b(?:19|20)\d\d\b")
#: Questions asking what something is ("What is the main cause of ...?"): the answer says "... is <term>".
_TERM_QUESTION = re.compile(
    r"^\s*(?:(?:what|who) (?:(?:actually|exactly|really|precisely) )?(?:is|are|was|were) (?:(?:an?|the) )?"
    r"(?P<term>[^?]{2,80}?)"
    r"|what (?:does|do) (?:(?:an?|the) )?(?P<meant>[^?]{2,80}?) mean)\s*\?*\s*$",  # "What does 'X' mean?"
    re.I,
)
#: "What does RAMESES stand for?", "RAMESES - what does it stand for, and ...?"
_STANDS_FOR = re.compile(r"\bwhat (?:does|do) (?P<stands>[\w'’ -]{1,40}?) stand for\b", re.I)
#: "What do the authors mean by 'system leadership'?"
_MEANT_BY = re.compile(r"\bmean[st]? by (?:(?:an?|the) )?(?P<by>[^?]{2,80}?)\s*\?*\s*$", re.I)
#: A term that points at what the question named before it: "Several reviews mention RAMESES. What is it?"
_POINTING = frozenset(["it", "this", "that", "they", "these", "those", "this term", "that term", "the term"])
#: What a pointing term stands for: a quoted phrase, else a name (capitalised words not opening a sentence, or an
#: acronym anywhere).
_QUOTED = re.compile(r"(?<!\w)['‘\"“]([^'’\"”?]{3,80})['’\"”](?!\w)")
_KIND_AFTER_QUOTE = re.compile(
    r"\s+(?:approach|model|framework|programme|program|method|initiative|project|strategy|scheme|tool)\b", re.I
)
_NAMED = re.compile(rf"{PROPER_WORD.pattern}(?:\s+[A-Z][\w'’-]*)*|\b[A-Z]{{2,}}\b")

#: Weight, in a question's vector, of the sentences that set the scene ("We already run a joined-up
#: service for older people at home but it has stalled.") against those that ask ("What's the best way
#: to go about improving it?"): what is asked decides what answers; the scene only what it is about.
CONTEXT_WEIGHT = 0.3
#: Where one sentence of a question ends and the next begins ("... it has stalled. What's ...").
_SENTENCE_BREAK = re.compile(
    r"(?<=[.?!])\s+(?=[A-Z\"'‘“])"
    # "... across our patch. how should we structure it?", but not "What did Harris et al. do ...?"
    r"|(?<=[.?!])(?<!al\.)(?<!e\.g\.)(?<!i\.e\.)(?<!etc\.)\s+"
    r"(?=(?:how|what|why|when|where|which|who|is|are|do|does|did|can|could|should|would)\s)"
)


def clean_question(question: str) -> str:
    """A question fit to search with, or InputError for one that cannot be answered.

    Undecodable bytes (a command-line argument in another encoding arrives as lone
    surrogates, which the tokenizer rejects) become U+FFFD replacement characters.
    """
    text = " ".join(_SURROGATE.sub("\ufffd", question).split())
    if not any(ch.isalnum() for ch in text):
        raise InputError("question", "is empty or has no words; ask in plain language")
    if len(text) > MAX_QUESTION_CHARS:
        raise InputError("question", f"is {len(text)} characters long; keep it under {MAX_QUESTION_CHARS}")
    return text


def list_size(text: str) -> int:
    """How many items a question asks to be listed ("What are the seven components?" asks for 7), or 0."""
    found = _LISTED.search(text)
    return int(next(iter(numbers_in(found.group(1))))) if found else 0


def asking_and_scene(text: str) -> tuple[str, str]:
    """A question's sentences that ask (those ending in "?", else the last one) and the others, which set
    the scene; the scene is "" for a question of one sentence, or whose every sentence asks."""
    sentences = _SENTENCE_BREAK.split(text.strip())
    asking = [s for s in sentences if s.rstrip().endswith("?")] or sentences[-1:]
    scene = [s for s in sentences if s not in asking]
    return (" ".join(asking), " ".join(scene)) if scene else (text, "")


#: Where one sentence asks a second question: a comma, semicolon or dash (or nothing), "and", "or" or "but", and a
#: word that opens a question ("What is an ICS, in plain terms, and why is leading one so demanding?").
_JOINED_QUESTION = re.compile(
    r"\s*(?:[,;]|\s[–—-])?\s+(?:and|or|but)\s+(?=(?:what|what's|why|how|who|which|when|where|is|are|was|were|does"
    r"|do|did|can|could|should|would|has|have)\b)",
    re.I,
)
#: Words of a question a part must have to ask something of its own ("what's a CMOC?"); fewer are a phrase.
MIN_PART_WORDS = 3


class QuestionPart(NamedTuple):
    """One of the questions a question asks together: as it is written, and as it is asked on its own."""

    asked: str  # "Why is leading one considered so demanding"
    question: str  # with the scene the whole question sets before it


def question_parts(text: str) -> tuple[QuestionPart, ...]:
    """The questions a question asks together, in its order ("What is X, and why ...?", "How did A ...? What did
    B ...?"), each asked on its own after the scene set before them; () for a question asking one thing.

    A question that points back at the one before ("..., and did it deliver savings?", "Were they higher ...?")
    asks about what that one names: it stays with it.
    """
    asking, scene = asking_and_scene(text)
    found = sorted(
        (m.start(), m.end()) for pattern in (_SENTENCE_BREAK, _JOINED_QUESTION) for m in pattern.finditer(asking)
    )
    cuts: list[tuple[int, int]] = []
    for start, end in found:  # "? And who ...": a sentence break and a join, one cut
        if cuts and start <= cuts[-1][1]:
            cuts[-1] = (cuts[-1][0], max(end, cuts[-1][1]))
        else:
            cuts.append((start, end))
    # Each cut is kept when what follows it, up to the next cut, asks something of its own.
    stops = [start for start, _ in cuts[1:]] + [len(asking)] if cuts else []
    cuts = [(start, end) for (start, end), stop in zip(cuts, stops, strict=True) if _asks_alone(asking[end:stop])]
    bounds = [0, *(position for cut in cuts for position in cut), len(asking)]
    pieces = [asking[bounds[i] : bounds[i + 1]] for i in range(0, len(bounds), 2)]
    parts = [_LEADING_JOIN.sub("", piece).strip(" ,;:–—-?") for piece in pieces]
    parts = [part for part in parts if len(part.split()) >= MIN_PART_WORDS]
    if len(parts) < 2:
        return ()
    written = [part[:1].upper() + part[1:] for part in parts]
    return tuple(QuestionPart(part, f"{scene} {part}?".strip()) for part in written)


def _asks_alone(piece: str) -> bool:
    """Whether a question following another asks something of its own: enough words, and none pointing back."""
    piece = _LEADING_JOIN.sub("", piece)
    return len(piece.split()) >= MIN_PART_WORDS and not _POINTS_BACK.search(piece)


#: Words by which a question points at what the question before it names ("did it", "were they", "each").
_POINTS_BACK = re.compile(
    r"\b(?:it|its|they|them|their|theirs|this|that|these|those|he|him|his|she|her|each|both|either)\b", re.I
)
#: "And" or "but" opening a question that follows another ("... ? And who did each talk to?").
_LEADING_JOIN = re.compile(r"^\s*(?:and|or|but|also)\b[,]?\s*", re.I)


def scene_asked_about(text: str) -> str:
    """The scene a question sets when the sentences that ask point back at it ("Northern Ireland has had
    integrated trusts for decades. What does the research say about how they're led?"), else ""."""
    asking, scene = asking_and_scene(text)
    return scene if scene and _POINTS_AT_SCENE.search(asking) else ""


#: Words by which the sentences that ask point at what the scene names ("how they're led", "do these work").
_POINTS_AT_SCENE = re.compile(r"\b(?:they|them|their|it|its|these|those|such)\b", re.I)  # "they're", "it's" too


def _asking_sentences(text: str) -> list[tuple[int, str]]:
    """The sentences of a question that ask (as :func:`asking_and_scene` reads them), each with where it starts."""
    breaks = list(_SENTENCE_BREAK.finditer(text))
    starts = [0] + [b.end() for b in breaks]
    ends = [b.start() for b in breaks] + [len(text)]
    sentences = [(start, text[start:end]) for start, end in zip(starts, ends, strict=True)]
    return [(start, s) for start, s in sentences if s.rstrip().endswith("?")] or sentences[-1:]


def _term_match(text: str) -> tuple[re.Match[str], int] | None:
    """The match of a "What is X?" or "What do they mean by X?" sentence that asks, and where that sentence starts
    in the text."""
    for start, sentence in _asking_sentences(text):
        defined = _TERM_QUESTION.match(sentence) or _MEANT_BY.search(sentence) or _STANDS_FOR.search(sentence)
        if defined:
            return defined, start
    return None


def defined_term(text: str) -> str:
    """What a "What is X?" or "What do they mean by X?" question asks to be told about, or "" (also for a term
    pointing at nothing the question names: "What is it?")."""
    found = _term_match(text)
    if not found:
        return ""
    term = re.split(r"[,;(]", next(group for group in found[0].groups() if group))[0].strip(" '\"‘’“”")
    return "" if term.lower() in _POINTING else term


def with_term_named(text: str) -> str:
    """The question with a term that points back ("What is it?", "what does it mean by that?") replaced by what
    it points at: the last phrase the question quotes before it, else the last name it gives ("Several reviews
    mention RAMESES. What is it?" asks "What is RAMESES?")."""
    found = _term_match(text)
    if not found:
        return text
    defined, offset = found
    group = next(name for name, value in defined.groupdict().items() if value)
    # "What is it, exactly?": the term is what comes before the comma
    pointing = re.split(r"[,;(]", defined.group(group))[0].rstrip()
    if pointing.strip().lower() not in _POINTING:
        return text
    start = offset + defined.start(group)
    end = start + len(pointing)
    quoted = list(_QUOTED.finditer(text[:start]))
    if quoted:
        # the quoted word with the kind of thing it names: "the 'discovery' approach"
        kind = _KIND_AFTER_QUOTE.match(text, quoted[-1].end(), start)
        named = quoted[-1].group(1) + (kind.group(0) if kind else "")
    else:
        # not a kind of body ("My ICB colleague mentioned ..."): it names no particular thing
        names = [name for name in _NAMED.findall(text[:start]) if not is_kind(name)]
        if not names:
            return text
        named = names[-1]
    return f"{text[:start]}{named.strip()}{text[end:]}"


@dataclass(frozen=True, eq=False)
class Query:
    """Everything the pipeline reads from a question, computed once."""

    #: The clean question in plain words (rag.idioms): what is read for its meaning, words and scope.
    text: str
    #: The clean question as asked: what an answer shows.
    as_asked: str
    vector: np.ndarray
    #: Word stems an answer sentence should share; the names of a publication asked about are left out.
    words: frozenset[str]
    #: Publications the question names ("Sims et al. (2021)").
    named: frozenset[str]
    intent: QueryIntent
    #: Roles of text the question asks for.
    roles: frozenset[Role]
    wants_count: bool
    wants_date: bool
    #: Whether it asks who paid for the work ("Who funded the synthesis?").
    wants_funder: bool = False
    #: Whether it asks who wrote the work ("Who wrote the realist review ...?").
    wants_authors: bool = False
    #: Whether it asks what stands in the way ("What are the barriers to ...?", "Why do pilots fail?").
    wants_hindrance: bool = False
    #: Whether it asks which of several things counts most ("Which factor matters most?").
    wants_superlative: bool = False
    #: Whether it asks what limits a piece of work or how far its findings carry ("What are its limitations?").
    wants_limitation: bool = False
    #: Whether the amount asked for is a rate ("What is the case fatality rate?"): a bare count is none.
    wants_rate: bool = False
    #: Stems of what a "How many ...?" question counts ("studies", "human cases").
    counted: frozenset[str] = frozenset()
    #: Stems of the noun phrases it opens with a determiner ("the acute exacerbations"): what a sentence
    #: opening "These acute exacerbations ..." points at, so that sentence reads without the one before.
    referents: frozenset[str] = frozenset()
    #: How many items a question asks to be listed ("What are the seven components?"), or 0.
    listed: int = 0
    #: What a "What is X?" question asks to be told about (X), or "".
    term: str = ""
    #: The term's short forms the indexed text defines ("ICS" for "integrated care system"): a definition
    #: may be written under either.
    term_forms: tuple[str, ...] = ()
    #: For each country the question names ("the Swedish finding"), the publications set there.
    places: tuple[tuple[str, ...], ...] = ()
    #: The publications of a kind the question names in the plural ("the reviews"): a comparison of
    #: "the reviews" compares reviews.
    of_kind: tuple[str, ...] = ()
    #: Whether it asks about the research itself ("What research gaps remain?", "How strong is the
    #: evidence?"), not merely asks the research ("What does the evidence say about ...?").
    about_research: bool = False
    #: The questions it asks together ("What is X, and why ...?"), each of which may be answered on its own.
    parts: tuple[QuestionPart, ...] = ()

    @property
    def asked_about(self) -> frozenset[str]:
        """The publications the question is about: those it names, else, when it names one country and compares
        nothing, that country's ("What lessons does the Basque experience offer?"). Their sentences come first."""
        if self.named or len(self.places) != 1 or self.intent.intent == "comparison":
            return self.named
        return frozenset(self.places[0])


class Vocabulary:
    """Inverse document frequencies of stemmed words over an index's passages."""

    def __init__(self, texts: Sequence[str], tokenizer: Tokenizer, abbreviations: Abbreviations) -> None:
        self.tokenizer = tokenizer
        #: The abbreviations the texts define: a sentence saying "ICSs" shares "integrated care systems".
        self.abbreviations = abbreviations
        counts: dict[str, int] = {}
        for tokens in tokenizer(texts) if texts else []:
            for token in set(tokens):
                counts[token] = counts.get(token, 0) + 1
        self.n = max(1, len(texts))
        self.idf = {token: math.log(1 + self.n / df) for token, df in counts.items()}
        self.unseen_idf = math.log(1 + self.n)
        #: Stems of the words by which a question asks ("what", "how", "did"), and of pronouns: no subject of its own.
        self.question_words = frozenset(tokenizer([f"{QUESTION_WORDS} {PRONOUNS}"])[0])

    def uses_every_word(self, text: str) -> bool:
        """Whether the index uses every word of a text (stop words aside)."""
        return all(token in self.idf for token in self.tokenizer([text])[0])

    def weight(self, token: str) -> float:
        """IDF of a word; words never seen weigh the most."""
        return self.idf.get(token, self.unseen_idf)


class SourceMatcher:
    """Finds the publications a question names, e.g. "Sims et al. (2021)" or "Waring et al."."""

    def __init__(self, sources: Sequence[SourceInfo]) -> None:
        self._by_surname: dict[str, set[str]] = {}
        self._year: dict[str, str] = {}
        for source in sources:
            surname = source.first_author
            if len(surname) > 2:  # a shorter surname ("Li") would be matched in any question's words
                self._by_surname.setdefault(surname, set()).add(source.source_id)
                self._year[source.source_id] = source.year

    def match(self, question: str) -> set[str]:
        """Source ids whose first author the question names (narrowed by a named year)."""
        # "Nieuwboer's review", "Sims' review": a possessive names its author
        words = {re.sub(r"'s?$", "", word) for word in re.findall(r"[a-z][a-z'\-]+", question.lower())}
        names = capitalised(question)
        found = {
            sid for surname, sids in self._by_surname.items() if names_surname(words, surname, names) for sid in sids
        }
        years = set(YEAR.findall(question))
        dated = {sid for sid in found if self._year.get(sid) in years}
        return dated or found


class QueryReader:
    """Turns question text into a :class:`Query` against one index's vocabulary and publications."""

    def __init__(
        self, passages: Sequence[Passage], embedder: Embedder, vocabulary: Vocabulary, sources: SourceMatcher
    ) -> None:
        self.embedder = embedder
        self.vocabulary = vocabulary
        publications = {p.source.source_id: p.source for p in passages}
        self.sources = sources
        self.intents = IntentReader(list(publications.values()))
        # Words that name a publication ("Harris et al. (2022)"): they pick the publication, not the answer.
        self._naming_words = {
            sid: set(vocabulary.tokenizer([f"{' '.join(source.surnames)} {source.year} et al"])[0])
            for sid, source in publications.items()
        }

    def read(self, question: str) -> Query:
        """The query of a question; InputError for an empty or overlong one."""
        asked = clean_question(question)
        text = with_term_named(in_plain_words(asked, self.vocabulary.uses_every_word))
        named = self.sources.match(text)
        intent = self.intents.read(text, named, lambda word: not self.vocabulary.uses_every_word(word))
        term = defined_term(text)
        # "Where is the highest rate of ...?" asks for a place, "Who ...?" for a name: an amount answers neither.
        asks_amount = not _ASKS_OTHER_THAN_AMOUNT.match(text)
        return Query(
            text=text,
            as_asked=asked,
            vector=self.vector(text),
            words=frozenset(self.content_words(text, named)),
            named=frozenset(named),
            intent=intent,
            roles=asked_roles(intent.intent, text),
            wants_count=asks_amount and bool(_COUNT_QUESTION.search(text)),
            wants_date=bool(_DATE_QUESTION.search(text)),
            wants_rate=asks_amount and bool(_RATE_QUESTION.search(text)),
            wants_hindrance=bool(HINDRANCE_QUESTION.search(text)),
            wants_superlative=bool(_SUPERLATIVE_QUESTION.search(text)),
            wants_limitation=bool(_LIMITATION_QUESTION.search(text)),
            wants_funder=bool(_FUNDER_QUESTION.search(text)),
            wants_authors=bool(_AUTHOR_QUESTION.search(text)),
            counted=self.stems_of(_COUNTED, text),
            referents=self.stems_of(_NOUN_PHRASE, text),
            listed=list_size(text),
            term=term,
            term_forms=self.vocabulary.abbreviations.short_forms(term) if term else (),
            places=tuple(tuple(ids) for ids in self.intents.places(text)),
            of_kind=tuple(self.intents.of_kind(text)),
            about_research=intent.intent == "evidence_strength"
            or bool(_ABOUT_RESEARCH.search(ASKS_THE_RESEARCH.sub(" ", text))),
            parts=question_parts(asked),
        )

    def stems_of(self, pattern: re.Pattern[str], text: str) -> frozenset[str]:
        """Word stems of what a pattern's first group finds in a question."""
        return frozenset(self.vocabulary.tokenizer([" ".join(m.group(1) for m in pattern.finditer(text))])[0])

    def vector(self, text: str) -> np.ndarray:
        """The question's vector: the sentences that ask, with the scene set before them at ``CONTEXT_WEIGHT``.

        Embedded whole, a long scene ("I'm drafting guidance for newly formed partnerships.") outweighs
        the short question it leads to, and the answer matches the scene instead of what is asked;
        unless the question asks nothing of its own, when it is embedded whole.
        """
        asking, scene = asking_and_scene(text)
        if not scene or not self.asks_of_its_own(asking):
            return self.embedder.embed_query(text)  # "Our ICB wants to ... What does the research recommend?"
        vector = self.embedder.embed_query(asking) + CONTEXT_WEIGHT * self.embedder.embed_query(scene)
        return (vector / np.linalg.norm(vector)).astype(np.float32)

    def asks_of_its_own(self, asking: str) -> bool:
        """Whether the sentences that ask have words of their own beyond question words and the research
        they ask; without any ("What does the research recommend?", "How do these sources describe it?") the
        scene says what is asked about."""
        words = set(self.vocabulary.tokenizer([ASKS_THE_RESEARCH.sub(" ", asking)])[0])
        return bool(words - self.vocabulary.question_words - self._asking_the_sources)

    @functools.cached_property
    def _asking_the_sources(self) -> frozenset[str]:
        """Stems of the words by which a question asks how the sources put something ("describe", "these
        sources"), not what about."""
        return frozenset(self.vocabulary.tokenizer([ASKING_THE_SOURCES])[0])

    def content_words(self, text: str, named: set[str]) -> set[str]:
        """The question's word stems that an answer sentence should share.

        The authors and year of a publication the question names are left out: "Harris et al.
        (2022)" picks the publication, and a sentence that merely names it does not answer. So are
        the words by which it asks the research ("What does the evidence say about ...?").
        """
        words = set(self.vocabulary.tokenizer([ASKS_THE_RESEARCH.sub(" ", text)])[0]) or set(
            self.vocabulary.tokenizer([text])[0]
        )
        naming = {t for sid in named for t in self._naming_words.get(sid, ())}
        # "GPs" also asks about general practitioners, where the indexed text spells them out (rag.glossary).
        spelt_out = full_words(text)
        spelt = (
            {t for t in self.vocabulary.tokenizer([spelt_out])[0] if t in self.vocabulary.idf} if spelt_out else set()
        )
        return ((words - naming) or words) | spelt  # "Sims 2021?" asks about the publication itself
