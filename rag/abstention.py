"""When the evidence does not cover a question, decided from the evidence itself.

An answer needs a finding that addresses the question. The answerer declines when:

* no sentence of the roles asked for scores at least ``abstain_threshold``;
* the question names something (a capitalised word outside brackets) that no passage mentions;
* the question is about something the index never mentions: leaving out the words of the question
  that no passage uses ("community pharmacists", "telehealth") brings the question nearer, by at
  least ``uncovered_gain``, to the best sentence the evidence holds, so those words carried what
  the evidence lacks. A word the index lacks but whose meaning it has ("doctors" beside
  "physicians"), or one that sets no subject ("bewildering"), moves the question hardly at all;
* half or more of the words naming what the question asks about (two or more) are words no passage uses:
  it is mostly about what the index lacks ("minimum unit pricing for alcohol");
* the question asks for an amount of money and no leading sentence states one;
* the publication asked about (the one the question names, else the one of the best finding)
  says it lacks the detail: one of its scope notes shares more of the question's words than
  any of its leading findings, by at least ``scope_note_margin`` of the question's word weight,
  or the best-ranked passage's note names a word of the question its leading findings lack, or
  one of its notes names what the question asks for ("What results ...?") and its leading
  findings never do.

A comparison is not declined for one side's note: that side gets a gap instead (rag.forms).
The three thresholds are fitted with ``icrag eval calibrate`` on the bundled question sets.
"""

from __future__ import annotations

import functools
import math
import re
import string
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from bm25s.stopwords import STOPWORDS_EN_PLUS
from pydantic import Field

from index.models import Record
from index.readers.textio import without_accents
from index.settings import Settings
from index.store import IndexStore
from rag.glossary import KINDS, OFFICES, is_kind
from rag.intent import COUNTRY_NAMES, name_pieces, names_surname, side_parts
from rag.query import (
    ASKS_THE_RESEARCH,
    HINDRANCE_QUESTION,
    YEAR,
    Query,
    Vocabulary,
    asking_and_scene,
    scene_asked_about,
)

if TYPE_CHECKING:
    from rag.extractive import ScoredSentence

    #: A sentence with its word stems.
    Tokenised = tuple[ScoredSentence, set[str]]

#: Questions that ask for an amount of money, and text that states one.
_MONEY_QUESTION = re.compile(
    # "spent years trying ..." spends time, not money
    r"\b(?:how much (?:money|funding)|cost|costs|budget|(?:spend|spent)(?! (?:\w+ )?(?:years?|months?|weeks?|days?"
    r"|hours?|time|decades?)\b)|price|award(?:ed)?|salar(?:y|ies)|wages?|earn(?:s|ed)?|remunerat\w*)\b"
    r"|\b(?:what|how much) did (?:[\w'’-]+ ){1,6}pay\b"
    # "How much are ICB chairs paid?", "How are ICS leaders paid ...?", "What do they get paid?", "pay scales"
    r"|\bhow (?:much )?(?:are|is|were|was) (?:[\w'’-]+ ){1,6}paid\b|\b(?:get|gets|getting|got) paid\b"
    r"|\bpay (?:levels?|scales?|rates?|bands?|gaps?)\b"
    # what the money spent brought back: "What return on investment did the programmes deliver?"
    r"|\breturn on (?:the )?investment\b|\bROI\b|\bvalue for money\b|\b(?:cash|cost|financial) savings?\b",
    re.I,
)
_MONEY = re.compile(r"[£$€]\s?\d|\b\d[\d,.]*\s?(?:pounds|dollars|euros|million|billion|bn|k)\b", re.I)
#: Measures of what services achieve ("hospital admissions", "deaths", "readmissions"): a question naming one the
#: indexed text never uses asks for an outcome the evidence did not measure.
_MEASURES = frozenset(
    [
        *("admission", "admissions", "readmission", "readmissions", "death", "deaths", "mortality", "morbidity"),
        *("hospitalisation", "hospitalisations", "hospitalization", "hospitalizations", "discharges"),
        *("attendances", "survival", "infections"),
    ]
)
#: A law named by its title ("the Health and Care Act 2022", "the Care Act"): named by words an index may use
#: apart ("health", "care", "act"), it is known only if the index names it whole.
_LAW = re.compile(r"(?<!^)(?<![.?!]\s)\b(?:[A-Z][\w'’-]*\s+(?:(?:and|of|for)\s+)?){1,6}(?:Act|Bill)\b")
#: Capitalised words inside a question: names of places, programmes, organisations.
_NAME = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-Z][A-Za-z\-]{2,}\b")
#: A publication named by its first author ("Smith et al.", "Smith and colleagues").
_ET_AL = re.compile(r"\b([A-Z][A-Za-z'’-]+) (?:et al\b|and colleagues\b)")
#: Examples in brackets ("(councils, GPs, hospitals)") illustrate; they are not what is asked about.
_BRACKETED = re.compile(r"\([^)]*\)")
#: The thing a "What/Which/How many <thing> ...?" question asks for: the word after its question words, not a verb.
_AUXILIARY = r"(?:is|are|was|were|do|does|did|has|have|had|can|could|should|would|will|might|may|must)\b"
#: The words between a question word and its verb ("How many [key informants] did ..."), at most four.
_BEFORE_VERB = rf"((?:(?!{_AUXILIARY})[\w-]+\s+){{0,3}}?[\w-]+)\s+{_AUXILIARY}"
#: A phrase setting where a question looks before it asks: "In the Waring study, what professions ...?".
_LEAD_PHRASE = r"(?:(?:in|for|from|according to|within|across|of) [^,?]{1,60},\s*)?"
_FOCUS = re.compile(
    rf"^\s*{_LEAD_PHRASE}(?:(?:what|which)\s+(?!{_AUXILIARY}"
    # "Which studies found ...?" asks for the publications, which an answer's citations name
    r"|(?:stud(?:y|ies)|papers?|reviews?|reports?|publications?|articles?|authors?|sources?|evidence)\b)([a-z]+)"
    # "How many context-mechanism-outcome configurations did ...": the words up to its verb
    rf"|how many\s+{_BEFORE_VERB})",
    re.I,
)
#: A "Which <things> ...?" question: the last word before its verb is the kind of thing whose names it asks for.
_WHICH = re.compile(
    rf"^\s*{_LEAD_PHRASE}which\s+(?:{_BEFORE_VERB}"
    # "Which were the eight first-wave ICSs that ...?"
    r"|(?:were|are|was|is)\s+(?:the\s+)?((?:[\w-]+\s+){0,3}?[\w-]+)\s+(?:that|which|who|whom)\b)",
    re.I,
)
#: A scope note's words for a number it lacks: "the number of participants", "numbers and search methods".
_NUMBER_MISSING = re.compile(r"(?<!\ba )\bnumbers?\s+(?:of|and)\b|\bhow many\b", re.I)
#: What a scope note lists as missing, before it says so: "The specific management behaviours, attitudes and values
#: identified, the organisation's name, and any outcome measures are not summarised here."
#: Only what the evidence base lacks counts ("... not summarised here", "... not given in the summarised text"), not
#: what a study did not report ("province not reported for three cases").
_NOTED_MISSING = re.compile(
    r"(?:^|[;:]\s*)([^;:]+?)\s+(?:(?:is|are|was|were)\s+(?:all\s+)?not|are all in [^.;]{0,40}, which is not)"
    r"\s+(?:summarised|covered|(?:given|stated|reported|included)\s+in\s+the\s+(?:summarised|material|abstract))\b"
)
#: Where such a list moves on to its next item: a comma, "and" or "or" before a word opening a noun phrase or a clause.
_NEXT_ITEM = re.compile(
    r",\s*(?:and\s+|or\s+)?(?=(?:the|any|its|their|all|named|illustrative|how|which|what|whether)\b)"
    r"|\s+(?:and|or)\s+(?=(?:the|any|its|their|how|which|what|whether)\b)",
    re.I,
)
#: An item that is a clause, not a noun phrase: "How leaders of integrated care teams are recruited".
_CLAUSE = re.compile(r"\s*(?:how|why|whether|which|what|who|when|where)\b", re.I)
#: Where an item's head ends: "the survey scores | on the five leadership items".
_PREPOSITION = re.compile(r"\b(?:of|on|in|under|for|about|from|with|by|to|at|between|behind)\b", re.I)
#: Words of such an item saying how much of a thing is missing, not what: "the specific ...", "the detailed list of
#: ...", "the rest of ...".
_HOW_MUCH = "specific detailed detail details list rest remaining full content account text body further any all"
#: Share of the words of an item's head a question must use, with two of the item's at least, to ask for what the
#: note lists as missing.
NOTED_ITEM_SHARE = 2 / 3
#: How scope notes say that something is missing ("... is not covered by this evidence base").
_NOTE_WORDING = "not covered by this evidence base; not summarised here; the summarised text does not include or state"
#: The end of a scope note that says what the evidence holds after all: ", so only its name is recorded".
_WHAT_IT_HOLDS = re.compile(
    r"[,;]\s*(?:so|but|and)?\s*only\b[^,;]*\b(?:is|are|was|were)\s+(?:recorded|given|kept|included|noted)\b.*$",
    re.I | re.S,
)
#: Verbs by which a question asks what a publication reported ("What did Waring et al. conclude?"): no
#: subject of their own.
_REPORTING = (
    "conclude concluded conclusions report reported reports show showed shows argue argued argues identify identified"
    " identifies find found finds describe described describes explain explains explained say says said"
    # "What were the results?" asks what was found, as "What did they find?" does
    " result results finding findings"
)
#: Words by which a question calls a publication it names ("Kjellberg et al.'s study").
_PUBLICATION = "study studies paper article report review publication work"
#: Leading findings of the publication asked about, checked against its scope notes.
LEADING = 8
#: Findings whose words a best-ranked passage's note must name for it to decline, and money's depth.
KEYWORD_LEADING = 3
MONEY_DEPTH = 10
#: Share of the words naming what a question asks about that, when no passage uses them, leave it about what the
#: index lacks: half.
UNCOVERED_MAJORITY = 0.5
#: Letters from which an unknown name one edit from a known word is taken for its misspelling.
MISSPELT_LENGTH = 6
#: Words that name nothing ("we", "our", "much", "someone"): never what a question is about.
_STOP_WORDS = frozenset(STOPWORDS_EN_PLUS) | {
    *("much", "many", "per", "someone", "anyone", "everyone", "something", "anything", "besides", "whether", "upon"),
    *("somebody", "anybody", "nobody", "nothing", "everything", "else", "elsewhere", "anywhere", "somewhere"),
    *("everywhere", "actually", "really", "please", "thanks"),
    # verbs too light to name a subject: "What should go into it?"
    *("go", "goes", "going", "gone", "went"),
}
#: Questions whose answer is a number: how many, or what share ("How much ...?" may ask how much weight to give).
_NUMBER_QUESTION = re.compile(
    r"\bhow many\b(?! times\b)|\b(?:what|which) (?:proportion|percentage|share|fraction|number|ratio)\b"
    r"|\bwhat per ?cent",
    re.I,
)
#: Words by which a question asks what ought to be done, not what is.
_NORMATIVE = re.compile(r"\b(?:should|ought|must|needs? to)\b", re.I)
#: What a "What is the <thing> of ...?" question asks for ("the hallmark of", "the pitfalls of"): the kind of
#: answer, which the evidence states in its own words.
_THING_OF = re.compile(r"^\s*what (?:is|are|was|were) (?:the |a |an )?(?:main |key |biggest )?([^\W\d_]+) of\b", re.I)
#: A word a question gives an example of ("a crisis like COVID-19", "disasters such as floods"): what it asks
#: about is the example, and the word only its kind.
_EXEMPLIFIED = re.compile(r"([^\W\d_][\w'’-]*)\s+(?:like|such as|including|e\.g\.)\s", re.I)
#: A word of a question, as it is written.
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
#: A word said of a subject, after a verb that links the two ("integration becomes bewildering", "it has
#: stalled", "feels very slow"), or an adverb ("typically"): it describes what the question is about, and names
#: nothing of its own.
_SAID_OF = re.compile(
    r"\b(?:is|are|was|were|be|been|being|become|becomes|became|becoming|feel|feels|felt|seem|seems|seemed|get|gets"
    r"|got|getting|grow|grows|grew|remain|remains|remained|look|looks|has|have|had)"
    r"\s+(?:(?:not|very|so|too|more|less|quite|rather|really|increasingly|still|already|often)\s+)*([^\W\d_][\w'’-]*)"
    r"|\b([^\W\d_]{3,}ly)\b",
    re.I,
)


class AbstentionEvidence(Record):
    """What the abstention rules read from one question's candidates (reported by ``eval calibrate``)."""

    best_score: float = Field(description="Score of the best sentence of the roles asked for (0 without one).")
    note_margin: float = Field(
        description="Share of the question's word weight a scope note of the publication asked about holds "
        "beyond its best finding (negative: the findings hold more)."
    )
    unknown_name: bool = Field(description="The question names something no passage mentions.")
    money_missing: bool = Field(description="It asks for an amount of money that no leading sentence states.")
    measure_unmentioned: bool = Field(
        False, description="It asks about a measure of outcome ('hospital admissions') no passage mentions."
    )
    amount_missing: bool = Field(
        False,
        description="It asks how many or what share ('What proportion ...?') and no leading sentence states one.",
    )
    note_names_gap: bool = Field(
        description="The best-ranked passage's note names a word its findings lack, or a note of the publication "
        "asked about names what the question asks for ('What results ...') and its leading findings do not."
    )
    uncovered_gain: float = Field(
        0.0,
        description="How much nearer the best sentence the question comes without the words no passage uses "
        "(0: it has none, names a publication, or compares sides the index holds).",
    )
    mostly_uncovered: bool = Field(
        False,
        description="Half or more of the words naming what it asks about, two or more, are words no passage uses "
        "(False when it names a publication, or compares sides the index holds).",
    )
    comparison: bool = Field(description="The question is a comparison (declined by side, not whole).")
    stated_by_named: bool = Field(
        False,
        description="It asks when, or how the work was done, of a publication it names, and a sentence of that "
        "publication states a date, or is a method; or it asks only what that publication found ('What did "
        "Waring et al. find?') and a finding of it is among the candidates.",
    )
    compares_named: bool = Field(
        False,
        description="It compares publications it names, every side one the index holds, in no word the index "
        "lacks ('Sims et al. vs Knight et al.: how do the two frameworks differ?'): what they say answers it.",
    )
    defines_term: bool = Field(
        False,
        description="It asks what a term is ('What is RAMESES?') and a sentence of the roles it may quote says what "
        "that term is, however little else of it matches.",
    )


class AbstentionRules:
    """The rules above, over one index."""

    def __init__(
        self, store: IndexStore, settings: Settings, vocabulary: Vocabulary, encode: Callable[[str], np.ndarray]
    ) -> None:
        self.settings = settings
        self.vocabulary = vocabulary
        #: Embeds a question's text as retrieval does.
        self.encode = encode
        # Words of the kinds of body and role a question may name by abbreviation ("board" of "ICB"), and offices
        # held in them ("chair").
        self._kind_words = set(vocabulary.tokenizer([" ".join([*KINDS.values(), OFFICES])])[0])
        # Words of the publications' authors and titles: a question may name a publication by them.
        bibliography = sorted({f"{p.source.authors} {p.source.title}" for p in store.passages})
        self._bibliographic = (
            {t for tokens in vocabulary.tokenizer(bibliography) for t in tokens} if bibliography else set()
        )
        self._note_words = set(vocabulary.tokenizer([_NOTE_WORDING])[0])
        self._how_much = set(vocabulary.tokenizer([_HOW_MUCH])[0])
        self._reporting = set(vocabulary.tokenizer([_REPORTING])[0])
        self._publication = frozenset(vocabulary.tokenizer([_PUBLICATION])[0])
        # Each publication's title words: what a question about "Kjellberg et al.'s study" may call its topic.
        titles = {p.source.source_id: p.source.title for p in store.passages}
        tokenised = vocabulary.tokenizer(list(titles.values())) if titles else []
        self._title_words = {sid: frozenset(tokens) for sid, tokens in zip(titles, tokenised, strict=True)}
        self._texts = [p.text for p in store.passages]
        self._first_authors = {p.source.first_author for p in store.passages} - {""}
        self._years = {p.source.year for p in store.passages}
        # A country the index has publications from is known, however a question names it ("Spanish").
        countries = {p.source.country.lower() for p in store.passages}
        self._known_places = {word for word, country in COUNTRY_NAMES.items() if country.lower() in countries}

    def abstains(self, query: Query, candidates: Sequence[ScoredSentence], eligible: Sequence[ScoredSentence]) -> bool:
        """Whether the evidence fails to cover the question."""
        return decides(self.evidence(query, candidates, eligible), self.settings)

    def evidence(
        self, query: Query, candidates: Sequence[ScoredSentence], eligible: Sequence[ScoredSentence]
    ) -> AbstentionEvidence:
        """What the rules read from the candidates of one question."""
        comparison = query.intent.intent == "comparison"
        # What the scene names ("Our ICB wants to ... What does the research recommend?") frames the question;
        # what it asks about is in the sentences that ask.
        asking = asking_and_scene(query.text)[0]
        # A side the evidence lacks ("Kaiser Permanente", "Germany's Gesundes Kinzigtal model") is a gap in a
        # comparison's answer, not a refusal: what names it is no name the evidence must hold.
        gaps = frozenset(
            word.lower()
            for side in query.intent.sides
            if not side.source_ids
            for part in side_parts(query.text, side.label)
            for word in _NAME.findall(f" {part}")
        )
        # ... unless they point back at it ("Northern Ireland has had integrated trusts for decades. What does the
        # research say about how they're led?"): then a place or body it names by name is asked about too, though
        # not the asker's own circumstances ("My PhD student ...", "social workers, OTs and nurses").
        scene = scene_asked_about(query.text)
        unknown_name = self.names_unknown_entity(asking, sides=comparison, gaps=gaps) or bool(
            scene and self.names_unknown_entity(scene, sides=comparison, gaps=gaps, proper_only=True)
        )
        # "How do I share power without giving away my whole budget?" asks what to do, not for a sum
        money_asked = query.intent.intent != "how_to" and bool(_MONEY_QUESTION.search(asking))
        if not eligible:
            return AbstentionEvidence(
                best_score=0.0,
                note_margin=0.0,
                unknown_name=unknown_name,
                money_missing=money_asked,
                note_names_gap=False,
                comparison=comparison,
            )
        focal = set(query.named) or {eligible[0].source_id}
        # A publication's notes, and notes elsewhere that name it ("the number of interviews in middleton2024").
        notes = [
            c
            for c in candidates
            if c.is_scope_note and (c.source_id in focal or any(sid in c.quote.text for sid in focal))
        ]
        findings = [c for c in eligible if c.source_id in focal]
        asked = set(query.words) - self.vocabulary.question_words
        # Words of titles and authors may only name a publication; but a question left with one word
        # without them ("Why does leading integrated care take time?") is about those words.
        if len(asked - self._bibliographic) >= 2:
            asked -= self._bibliographic
        # "Which components did Sims et al. identify?" asks for components, however the review came by them, and
        # "What does the SCIE paper say ...?" what it says, whatever the publication is called.
        asked = asked - self._reporting - self._publication or asked
        if asked <= self._reporting | self.titles_of(query.named):
            # "What did Knight et al. report?" asks what they found, and names nothing of it; "What does
            # Kjellberg et al.'s study say about collaborative advantage?" names its title's topic, which
            # all it found is about.
            asked = set()
        # Each note and leading finding tokenised once, for both rules that read them.
        noted = [(note, self.note_tokens(note)) for note in notes]
        leading = [(finding, self.tokens(finding.quote.text)) for finding in findings[:LEADING]]
        # A question naming a publication, or comparing sides the index holds, is about what the evidence holds on
        # it: the other rules read it. One comparing sides it does not name ("both the council's reablement workers
        # and our NHS community nurses") may ask about what no passage mentions.
        about_the_evidence = (comparison and bool(query.intent.sides)) or bool(query.named)
        subject = self.subject_words(asking)
        uncovered = [] if about_the_evidence else self.uncovered_words(query.text, subject)
        return AbstentionEvidence(
            best_score=eligible[0].score,
            note_margin=self._note_margin(asked, noted, leading),
            unknown_name=unknown_name,
            money_missing=money_asked and not any(_MONEY.search(c.quote.text) for c in eligible[:MONEY_DEPTH]),
            # "What share of the work should the council take on?" asks what to do, not for a number
            amount_missing=query.intent.intent not in ("how_to", "what_works")
            and bool(_NUMBER_QUESTION.search(asking))
            and not _NORMATIVE.search(asking)
            and not any(c.typed or c.counts for c in eligible[:MONEY_DEPTH]),
            note_names_gap=self._note_names_gap(query, asked, noted, findings, leading),
            comparison=comparison,
            stated_by_named=self._stated_by_named(query, findings, asked),
            compares_named=self._compares_named(query, subject),
            defines_term=query.intent.intent == "definition" and any(c.defines for c in eligible),
            uncovered_gain=0.0 if about_the_evidence else self.uncovered_gain(query, eligible, uncovered),
            mostly_uncovered=not about_the_evidence and mostly_uncovered(subject, uncovered),
            measure_unmentioned=any(word.lower() in _MEASURES for word in uncovered),
        )

    def uncovered_words(self, question: str, subject: Sequence[str] | None = None) -> list[str]:
        """The subject words (:meth:`subject_words`) of the part of a question that asks which no passage uses, as
        written: not what it asks for ("What weakness ...?"), a kind of body or role ("ICB", "board"), a known
        country ("Spanish"), words of the publications' authors and titles, nor a misspelling or another form of a
        word of the index. ``subject``: the subject words, when already read."""
        asking = asking_and_scene(question)[0]
        words = self.subject_words(asking) if subject is None else subject
        # What a "What <thing> ...?" question asks for ("What weakness ...?", "What is the hallmark of ...?") the
        # evidence says in its own words.
        thing = _THING_OF.match(asking)
        asked_for = self.focus(asking) | (self.tokens(thing.group(1)) if thing else set())
        known = self.vocabulary.question_words | self._kind_words | self._bibliographic | asked_for
        return [
            word
            for word, stems in zip(words, self.vocabulary.tokenizer(words), strict=True)
            if stems
            and not any(stem in self.vocabulary.idf or stem in known for stem in stems)
            and not is_kind(word)
            and word.lower() not in self._known_places
            and not self.misspells_known(word)
            and not self.forms_known(word)
        ]

    def subject_words(self, asking: str) -> list[str]:
        """The words of the sentences that ask that may name their subject, as written: not a stop word, a word
        by which they ask ("what", "how"), one said of the subject ("becomes bewildering", "typically"), the kind
        of an example they give ("a crisis like COVID-19"), nor a word asking what stands in the way ("What
        undermines ...?"), which the evidence says in its own words ("a lack of trust"), nor the words by which
        they ask the research ("What does the evidence say about ...?")."""
        asking = ASKS_THE_RESEARCH.sub(" ", asking)
        said_of = {word for match in _SAID_OF.finditer(asking) for word in match.groups() if word}
        said_of |= set(_EXEMPLIFIED.findall(asking))
        said_of |= {word for match in HINDRANCE_QUESTION.finditer(asking) for word in match.group(0).split()}
        words = [word for word in _WORD.findall(asking) if word.lower() not in _STOP_WORDS and word not in said_of]
        return [
            word
            for word, stems in zip(words, self.vocabulary.tokenizer(words), strict=True)
            if stems and not set(stems) <= self.vocabulary.question_words
        ]

    def uncovered_gain(self, query: Query, eligible: Sequence[ScoredSentence], uncovered: Sequence[str]) -> float:
        """How much nearer the best sentence of the roles asked for the question comes without the words no
        passage uses: what those words add to its meaning, the evidence does not hold."""
        if not uncovered or not eligible:
            return 0.0
        pattern = re.compile(r"(?<![\w'’-])(?:" + "|".join(map(re.escape, set(uncovered))) + r")(?![\w'’-])")
        rest = " ".join(pattern.sub(" ", query.text).split())
        vectors = np.stack([c.vector for c in eligible])
        return float((vectors @ self.encode(rest)).max() - (vectors @ query.vector).max())

    def titles_of(self, named: frozenset[str]) -> frozenset[str]:
        """Word stems of the titles of the publications a question names, with the words that call a
        publication ("study", "paper"); none when it names none."""
        titles = frozenset().union(*(self._title_words.get(sid, frozenset()) for sid in named))
        return titles | self._publication if titles else titles

    def _compares_named(self, query: Query, subject: Sequence[str]) -> bool:
        """Whether a comparison's sides are all publications the question names, and it uses no word the index
        lacks: however little its words match any one sentence, the named publications answer it."""
        sides = query.intent.sides
        return (
            query.intent.intent == "comparison"
            and len(sides) >= 2
            and all(side.source_ids and set(side.source_ids) <= query.named for side in sides)
            and not self.uncovered_words(query.text, subject)
        )

    @staticmethod
    def _stated_by_named(query: Query, findings: Sequence[ScoredSentence], asked: set[str]) -> bool:
        """Whether the publication a question names states what it asks: a date for "When ...?", a method
        for how the work was done ("How did Curry et al. gather their evidence?"), and any finding of its
        when the question asks nothing but what it found ("What did Waring et al. conclude?")."""
        asks_method = "method" in query.roles
        asks_findings = not asked
        return any(
            c.source_id in query.named
            and (
                (query.wants_date and c.typed)
                or (asks_method and c.role == "method")
                or (asks_findings and c.role == "finding")
            )
            for c in findings
        )

    def _note_margin(self, asked: set[str], noted: Sequence[Tokenised], leading: Sequence[Tokenised]) -> float:
        """How much more of the asked words' weight the best note holds than the best leading finding."""
        total = math.fsum(self.vocabulary.weight(t) for t in asked)
        if not total or not noted:
            return -1.0

        def share(tokens: set[str]) -> float:
            return math.fsum(self.vocabulary.weight(t) for t in asked & tokens) / total

        return max(share(tokens) for _, tokens in noted) - max((share(tokens) for _, tokens in leading), default=0.0)

    def _note_names_gap(
        self,
        query: Query,
        asked: set[str],
        noted: Sequence[Tokenised],
        findings: Sequence[ScoredSentence],
        leading: Sequence[Tokenised],
    ) -> bool:
        """Whether the best-ranked passage of the publication notes a gap in words the question uses, or
        any of its notes names what the question asks for and its leading findings do not (for a count,
        do not with a number), or says the names a "Which ...?" question asks for are not given."""
        if not noted:
            return False
        top = max([*(note for note, _ in noted), *findings], key=lambda c: c.quote.hit.score).passage
        first = {t for _, tokens in leading[:KEYWORD_LEADING] for t in tokens}
        if any((asked & tokens) - first for note, tokens in noted if note.passage is top):
            return True
        # "What results did ... achieve?": a note saying the results are not given, and no leading finding
        # naming results, means the results asked for are not in the evidence, whatever else it says.
        focus = self.focus(query.text)
        found = {t for finding, tokens in leading if finding.typed or not query.wants_count for t in tokens}
        if focus and not focus & found and any(focus <= tokens for _, tokens in noted):
            return True
        # "How many chief officers took part ...?": a note that a number is not given ("the number of participants in
        # baylis2018"), and no leading finding stating one, means the count asked for is not in the evidence.
        if (
            query.wants_count
            and not any(finding.typed for finding, _ in leading)
            and any(_NUMBER_MISSING.search(note.quote.text) for note, _ in noted)
        ):
            return True
        # "What did OHTs score on the five leadership items?" asks for what a note lists as missing: "The remaining
        # results, the survey scores on the five leadership items, and ... are not summarised here."
        if any(self.asks_for_missing(set(query.words), note.quote.text) for note, _ in noted):
            return True
        # "Which three ICSs did ... study?" asks for their names: a note that the names are not given declines it.
        which = _WHICH.match(query.text)
        if not which:
            return False
        # ... under its short form too: "the names of the eight ICSs" for "Which eight integrated care systems ...?"
        asked_for = (which.group(1) or which.group(2)).split()
        forms = {asked_for[-1]}.union(
            *(self.vocabulary.abbreviations.short_forms(" ".join(asked_for[i:])) for i in range(len(asked_for)))
        )
        head = "|".join(sorted(re.escape(form.rstrip("s")) for form in forms))
        names_missing = re.compile(rf"\bnames? of (?:the |its |their )?(?:[\w'’-]+ ){{0,3}}(?:{head})s?\b", re.I)
        return any(names_missing.search(note.quote.text) for note, _ in noted)

    def focus(self, question: str) -> set[str]:
        """Word stems of what a "What <thing> ...?" question asks for ("What results ..." asks for results)."""
        match = _FOCUS.match(question)
        return self.tokens(match.group(1) or match.group(2)) if match else set()

    def asks_for_missing(self, asked: set[str], note: str) -> bool:
        """Whether a question's words (stems) ask for an item a scope note lists as missing: two at least, and
        ``NOTED_ITEM_SHARE`` of the words naming it."""
        items = [item for listed in _NOTED_MISSING.finditer(note) for item in _NEXT_ITEM.split(listed.group(1))]
        asked = asked - self.vocabulary.question_words
        for item in items:
            if _CLAUSE.match(item):
                continue  # "How leaders are recruited ...": what is missing is how, which other rules read
            # What is missing is what the item's head names: "the professions of the clinical leaders" lacks
            # professions, not clinical leaders; "the content of the chapter on ..." the chapter.
            heads = (self.tokens(phrase) - self._how_much for phrase in _PREPOSITION.split(item))
            head = next((words for words in heads if words), set())
            named = self.tokens(item) - self.vocabulary.question_words
            if len(named & asked) >= 2 and head and len(head & asked) >= NOTED_ITEM_SHARE * len(head):
                return True
        return False

    def note_tokens(self, note: ScoredSentence) -> set[str]:
        """Word stems of a scope note without those that make it one ("not covered by this evidence base"):
        they say that something is missing, not what, and would match any question about evidence; nor
        those of what it says the evidence does hold ("..., so only its name and place in the framework are
        recorded")."""
        return self.tokens(_WHAT_IT_HOLDS.sub("", note.quote.text)) - self._note_words

    def tokens(self, text: str) -> set[str]:
        """Word stems of a text."""
        return set(self.vocabulary.tokenizer([text])[0])

    def names_unknown_entity(
        self, question: str, sides: bool = False, gaps: frozenset[str] = frozenset(), proper_only: bool = False
    ) -> bool:
        """Whether the question names something (a capitalised word) the index never mentions.

        With ``sides``, countries are a comparison's sides: one without evidence is a gap, not a refusal, as is
        a side named by words of ``gaps`` (lower case: "kaiser", "permanente"). With ``proper_only``, only words
        written as proper names are read ("Ireland", not "PhD" or "OTs").
        """
        # "Smith et al." names a publication by its first author: one no indexed publication has is unknown,
        # as is a year the indexed text never mentions ("the 2008 financial crisis"), or a law it never names whole.
        if any(
            not any(names_surname({author.lower()}, known, {author.lower()}) for known in self._first_authors)
            for author in _ET_AL.findall(question)
        ):
            return True
        if any(year not in self.vocabulary.idf and year not in self._years for year in YEAR.findall(question)):
            return True
        if any(
            not re.search(rf"\b{re.escape(' '.join(law.lower().split()))}\b", self._lower_text)
            for law in _LAW.findall(question)
        ):
            return True
        known = set(COUNTRY_NAMES) if sides else self._known_places
        # "ICB" or "GPs" names a kind of body or role, not one the evidence may lack (rag.glossary).
        words = [
            w
            for w in name_pieces(_NAME.findall(_BRACKETED.sub(" ", question.strip())))
            if w.lower() not in known
            and w.lower() not in gaps
            and not is_kind(w)
            and (not proper_only or w[1:].islower())
            # "Bhatt and colleagues" names Bhat et al.
            and not any(names_surname(set(), author, {w.lower()}) for author in self._first_authors)
        ]
        if not words:
            return False
        # "Boards" of "Integration Joint Boards", "Chair" of "ICB Chair": a word of a kind of body or office names no
        # particular one, capitalised or not.
        return any(
            any(
                stem not in self.vocabulary.idf and stem not in self._bibliographic and stem not in self._kind_words
                for stem in tokens
            )
            and not self.misspells_known(word)
            for word, tokens in zip(words, self.vocabulary.tokenizer(words), strict=True)
        )

    def misspells_known(self, word: str) -> bool:
        """Whether an unknown word of ``MISSPELT_LENGTH`` letters or more is a word of the index with one
        letter wrong, swapped, or missing or extra inside it ("Influenze", "Bacilius", "Scotand"): a typo,
        not a name the index lacks. A letter more or less at the end makes another word ("Australian"). A word
        of any length written without the accents of a word of the index ("Szucs" for "Szücs") is that word."""
        word = word.lower()
        if without_accents(word) in self._unaccented:
            return True
        if len(word) < MISSPELT_LENGTH:
            return False
        splits = [(word[:i], word[i:]) for i in range(1, len(word))]
        edits = {a + b[1:] for a, b in splits}
        edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        edits |= {a + c + b[1:] for a, b in [("", word), *splits] for c in string.ascii_lowercase}
        edits |= {a + c + b for a, b in splits for c in string.ascii_lowercase}
        return bool(edits & self._words)

    def forms_known(self, word: str) -> bool:
        """Whether an unknown word is the superlative of a word of the index ("safest", "easiest"), which the
        stemmer leaves as it is, or a stop word run into one ("ofwater"): neither names anything new."""
        word = word.lower()
        plain = re.sub(r"est$", "", word)
        bases = {plain, plain + "e", re.sub(r"i$", "y", plain)} if plain != word else set()
        return bool(bases & self._index_words) or any(
            word[:i] in _STOP_WORDS and word[i:] in self._index_words for i in range(2, len(word) - 2)
        )

    @functools.cached_property
    def _lower_text(self) -> str:
        """The index's passages in lower case, their spacing made single, to find a name of several words in."""
        return " ".join(" ".join(text.lower().split()) for text in self._texts)

    @functools.cached_property
    def _index_words(self) -> frozenset[str]:
        """Every lower-case word of the index's passages, read once when a question first needs them."""
        return frozenset(word for text in self._texts for word in re.findall(r"[^\W\d_]+", text.lower()))

    @functools.cached_property
    def _unaccented(self) -> frozenset[str]:
        """The index's words with accents, as written without them ("szucs", "slaintecare")."""
        return frozenset(without_accents(word) for word in self._index_words if not word.isascii())

    @functools.cached_property
    def _words(self) -> frozenset[str]:
        """The lower-case words of the index's passages long enough to be taken for misspelt."""
        return frozenset(word for word in self._index_words if len(word) >= MISSPELT_LENGTH - 1)


def mostly_uncovered(subject: Sequence[str], uncovered: Sequence[str]) -> bool:
    """Whether at least ``UNCOVERED_MAJORITY`` of the distinct words naming what a question asks about, and two or
    more, are words no passage uses ("Has minimum unit pricing for alcohol reduced alcohol-related deaths?"): left
    out, they leave too little of the question for its nearness to the evidence to say anything."""
    lacking = {word.lower() for word in uncovered}
    return len(lacking) >= 2 and len(lacking) >= UNCOVERED_MAJORITY * len({word.lower() for word in subject})


def decides(evidence: AbstentionEvidence, settings: Settings) -> bool:
    """Whether these readings decline the question under the settings' thresholds."""
    # "When was Sims et al. published?" reads its answer in publication details, far in wording from the
    # question: a date, or a method, stated by the publication it names addresses it, however low its match; and
    # "What is RAMESES?" a sentence spelling it out in a methods section.
    low = evidence.best_score < settings.abstain_threshold and not (
        evidence.stated_by_named or evidence.defines_term or evidence.compares_named
    )
    missing = evidence.money_missing or evidence.amount_missing or evidence.measure_unmentioned
    if low or evidence.unknown_name or missing or evidence.mostly_uncovered:
        return True
    if evidence.comparison:
        return evidence.uncovered_gain >= settings.uncovered_gain
    return (
        evidence.note_margin >= settings.scope_note_margin
        or evidence.note_names_gap
        or evidence.uncovered_gain >= settings.uncovered_gain
    )
