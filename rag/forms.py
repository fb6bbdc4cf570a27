"""Answer forms: the shapes an extractive answer takes for each intent, from scored sentences.

* direct (factoid, definition, methods, general): the sentence that states the answer first,
  with the sentence after it when that one carries on from it ("However, ..."), then at most
  ``SUPPORTING`` supporting sentences;
* realist (what works, how to): findings across publications under "What works", the coded
  records' contexts under "In what circumstances" and their outcomes under "With what results";
* comparison: one block per side, each from that side's own publications, or a gap note;
* evidence strength: how many publications and records bear on the question, of which
  designs, countries and years, computed; then the findings.

Headings, gap notes and evidence lines are computed text: never quotes, never in ``sentences``.
Every cited sentence is a verbatim quote of its passage. Where several publications hold
findings, the best finding of each comes before a second one of any.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from index.settings import Settings
from index.store import IndexStore
from rag.citations import Quote, make_citation
from rag.intent import plural
from rag.models import Answer, AnswerSection, AnswerSentence, Citation, EvidenceProfile, Form, Gap, Side
from rag.query import Query
from rag.support import numbers_in

if TYPE_CHECKING:
    from rag.extractive import ScoredSentence

#: A block of an answer while it is composed: its computed heading ("" for none) and chosen sentences.
Block = tuple[str, list["ScoredSentence"]]

#: What background (what a study starts from) gives up of its score where findings are asked for.
BACKGROUND_PENALTY = 0.06
#: Supporting sentences after a direct answer's first; a question of no clear intent may need more.
SUPPORTING = 3
GENERAL_SUPPORTING = 5
#: Words of quotes a direct answer's supporting sentences may bring it to: with its evidence line a
#: direct answer stays within about 120 words.
DIRECT_WORDS = 110
#: Words of quotes allowed per item a question asks to be listed ("What are the seven components?").
LIST_ITEM_WORDS = 20
#: Items under the realist headings after "What works" (which takes the room they leave), and per comparison side.
REALIST_ITEMS = {"In what circumstances": 2, "With what results": 2}
SIDE_ITEMS = 4
#: Share of the best sentence's match (rank aside) a side's best sentence must reach to speak for the side.
SIDE_BAR = 0.6
#: Publications compared when a comparison names no sides of its own.
IMPLICIT_SIDES = 3
#: Method sentences of the study asked about, and findings, after an evidence-strength line.
STRENGTH_METHODS = 5
STRENGTH_FINDINGS = 3
STRENGTH_APPRAISALS = 3
#: Sentences opening with "They", "It", ... followed back to the one that names their subject, at most.
ANAPHOR_CHAIN = 3
#: Items of a list brought by the sentence that opens it, at most.
LIST_ITEMS = 6
#: A sentence this similar (cosine) to one already chosen says the same thing.
DUPLICATE_SIMILARITY = 0.9
#: ... or this share of its word stems are a chosen one's.
REPEATED_WORDS = 0.6
#: A coded record's line this similar (cosine) to a sentence of its publication restates it.
PARAPHRASE_SIMILARITY = 0.8
#: Sentences scoring under this share of the best one are left out of the answer.
SELECTION_RATIO = 0.55
#: A publication bears on the question when its best finding scores this share of the best one.
BEARING_RATIO = 0.85
#: Words by which a question points at one study: "the ... project", "this review".
_ONE_STUDY = re.compile(
    r"\b(?:the|this|that)\s+(?:[\w'’-]+\s+){0,4}(?:study|project|model|case|programme|program|report|review|trial)\b",
    re.I,
)
#: How a whole sentence (or a list's opening, or an item) ends: a piece cut from a longer one does not.
_ENDS_SENTENCE = re.compile(r"""[.!?:;)\]"'’”]\s*$""")
#: A name in quotation marks: 'working with power', "clarifying complexity" (an apostrophe inside a word is none).
_QUOTED = re.compile(r"""(?<!\w)['‘"“]([^'’"”\n]{3,80}?)['’"”](?!\w)""")
#: A numbered item within a sentence: "(1) 'inspiring intent to work together'; (2) ...".
_NUMBERED_ITEM = re.compile(r"(?<![\w(])\((\d{1,2})\)\s")
#: Where a sentence opens a numbered list: "they are: (1) ...".
_LIST_OPENS = re.compile(r":\s*\(1\)\s")
#: A count of things a sentence names without listing them: "positive change in five outcomes", "four distinct
#: ways".
_COUNTED_THINGS = re.compile(
    r"\b(?P<n>two|three|four|five|six|seven|eight|nine|ten|[2-9])\s+(?:[a-z-]+\s+){0,2}?(?P<noun>[a-z]{3,}s)\b", re.I
)
#: Words that judge evidence wherever they stand ("tentative", "of middling quality", "without control groups"), and
#: words that do so only beside what they judge ("thin" evidence, "few" studies, a "small" sample; not "strong
#: relationships" or "more robust" management).
_FIRM_APPRAISAL = re.compile(
    r"\b(?:tentative|preliminary|provisional|unproven|proven|validated|middling|mediocre|rigorous|bias(?:ed)?"
    r"|potentially important|control groups?)\b",
    re.I,
)
_LOOSE_APPRAISAL = re.compile(
    r"\b(?:thin|limited|little|scarce|sparse|rare|few|weak|strong|robust|(?:high|low|good|poor)[- ]quality|small"
    r"|generali[sz]\w*)\b",
    re.I,
)
_EVIDENCE = re.compile(
    r"\b(?:evidence|research|stud(?:y|ies)|papers?|articles?|literature|samples?|interviewees|participants"
    r"|respondents|quality|trials?|designs?|data)\b",
    re.I,
)
#: A sentence naming what it draws on only as "the same" one: it cannot open what is quoted.
_THE_SAME = re.compile(r"^(?:According to|In|By|From|Under|As in) the same\b")
_INTENT_FORM: dict[str, Form] = {
    "what_works": "realist",
    "how_to": "realist",
    "comparison": "comparison",
    "evidence_strength": "evidence_strength",
}


class Selection:
    """Sentences chosen so far, shared by an answer's blocks so none is quoted twice."""

    def __init__(
        self, candidates: Sequence[ScoredSentence], roles: frozenset[str], limit: int, listing: bool = False
    ) -> None:
        self.by_unit = {(c.passage.passage_id, c.unit): c for c in candidates}
        self.roles = roles
        self.limit = limit
        self.listing = listing  # the question asks for a list: items alike but for their names are all wanted
        self.chosen: list[ScoredSentence] = []

    def room(self) -> int:
        """How many more sentences the answer may hold."""
        return self.limit - len(self.chosen)

    def group_for(self, candidate: ScoredSentence) -> list[ScoredSentence]:
        """The candidate with the sentences it needs to be read and that are not chosen yet; empty when it
        is chosen already, repeats a chosen sentence, cannot be read whole or does not fit the limit."""
        # A record's line may stand in its publication's words (in_own_words): the same sentence, another object.
        chosen = {(c.passage.passage_id, c.unit) for c in self.chosen}
        if (candidate.passage.passage_id, candidate.unit) in chosen or any(
            repeats(candidate, c, self.listing) for c in self.chosen
        ):
            return []
        group = self.readable_group(candidate)
        if group[0].opens_with_demonstrative and (group[0].passage.passage_id, group[0].unit - 1) not in self.by_unit:
            return []  # "This is the second of the seven components." with what "This" is outside the pool
        if group[-1].introduces_list or group[0].continues or _THE_SAME.match(group[0].quote.text):
            return []  # the list it opens or continues, or what its "the same" points back to, is not in the pool
        if not all(s.eligible(self.roles) for s in group):  # type: ignore[arg-type]
            return []  # it leans on text not asked for
        group = [s for s in group if (s.passage.passage_id, s.unit) not in chosen]
        return group if len(group) <= self.room() else []

    def enumeration(self, sentence: ScoredSentence) -> ScoredSentence | None:
        """The sentence of the same publication that lists the things a sentence only counts ("produced positive
        change in five outcomes": "Five outcomes showed positive change: skills, knowledge, ..."): without it the
        count says little. None when the sentence lists them itself, or none does."""
        text = sentence.quote.text
        counted = _COUNTED_THINGS.search(text)
        if counted is None or ":" in text[counted.end() :]:
            return None
        number, noun = numbers_in(counted.group("n")), counted.group("noun").lower()
        for other in self.by_unit.values():
            listing = other.quote.text.partition(":")
            if (
                other.source_id == sentence.source_id
                and other is not sentence
                and listing[1]
                and noun in listing[0].lower()
                and numbers_in(listing[0]) & number
                and len(re.findall(r"[,;]", listing[2])) >= int(next(iter(number))) - 2
                and other.eligible(self.roles)  # type: ignore[arg-type]
            ):
                return other
        return None

    def continuation(self, chosen: Sequence[ScoredSentence]) -> list[ScoredSentence]:
        """The sentence after the last chosen one, with what it needs, when it carries on from it
        ("However, ...", "This ...", or the next item of the list the last one is an item of): it finishes
        what that one says. Empty when there is none."""
        if not chosen:
            return []
        last = chosen[-1]
        follower = self.by_unit.get((last.passage.passage_id, last.unit + 1))
        if follower is None or not (follower.carries_on or (last.item and follower.item)):
            return []
        return self.group_for(follower)

    def readable_group(self, candidate: ScoredSentence) -> list[ScoredSentence]:
        """A sentence with the sentences its "He"/"It" points back to, what a fragment continues, and its list."""

        def neighbour(sentence: ScoredSentence, offset: int) -> ScoredSentence | None:
            return self.by_unit.get((sentence.passage.passage_id, sentence.unit + offset))

        group = [candidate]
        while (
            group[0].opens_with_anaphor
            and len(group) <= ANAPHOR_CHAIN
            and (antecedent := neighbour(group[0], -1)) is not None
        ):
            group.insert(0, antecedent)  # "They brokered ..." after "They explained ..." after "Clinical leaders ..."
        while group[0].continues and (before := neighbour(group[0], -1)) is not None:
            group.insert(0, before)
        # A sentence too long for the embedding model's window is cut in pieces: it reads only whole.
        while (rest := neighbour(group[-1], 1)) is not None and is_cut(group[-1], rest):
            group.append(rest)
        # A sentence ending in a colon brings its list: every item, "1. ..." to "4. ...", up to LIST_ITEMS.
        opened = items = 0
        while items < LIST_ITEMS and (follower := neighbour(group[-1], 1)) is not None:
            # A sentence opens a list when it ends in a colon, or when the list follows it directly.
            opens = group[-1].introduces_list or (follower.item and not group[-1].item)
            opened += opens
            if not (opens or (opened and follower.item)):
                break
            group.append(follower)
            items += follower.item
        listed = self.enumeration(group[-1])
        if listed is not None and listed not in group:
            group.append(listed)
        return group


def is_cut(piece: ScoredSentence, rest: ScoredSentence) -> bool:
    """Whether two sentence units of a passage are pieces of one sentence, cut to fit the embedding
    model's window: the first does not end a sentence and the next, no list item, goes on in lower case."""
    return (
        rest.passage.passage_id == piece.passage.passage_id
        and rest.unit == piece.unit + 1
        and not _ENDS_SENTENCE.search(piece.quote.text)
        and rest.continues
        and not rest.item
    )


def whole_sentences(chosen: Sequence[ScoredSentence]) -> list[ScoredSentence]:
    """The chosen sentences with the pieces of a cut sentence quoted as one."""
    joined: list[ScoredSentence] = []
    for sentence in chosen:
        if joined and is_cut(last := joined[-1], sentence):
            quote = Quote(last.quote.hit, last.quote.start, sentence.quote.end)
            joined[-1] = replace(last, quote=quote, unit=sentence.unit)
        else:
            joined.append(sentence)
    return joined


def repeats(sentence: ScoredSentence, chosen: ScoredSentence, listing: bool = False) -> bool:
    """Whether a sentence says what a chosen one says: nearly the same meaning, or mostly its words
    and no number of its own (a new number is a new fact, however alike the words). When the question
    asks for a list ("What are the seven components?"), a new name in quotation marks ("... found evidence
    for 'clarifying complexity' ...") is a new item too, and items a chosen sentence already names ("they are:
    (1) 'inspiring intent ...'; ...") are named again."""
    if float(sentence.vector @ chosen.vector) > DUPLICATE_SIMILARITY:
        return True
    text, other = sentence.quote.text, chosen.quote.text
    if listing and (names := _quoted(text)):
        return names <= _quoted(other)  # a name not yet quoted is a new item
    if not sentence.tokens or numbers_in(text) - numbers_in(other):
        return False
    return len(sentence.tokens & chosen.tokens) >= REPEATED_WORDS * len(sentence.tokens)


def _quoted(text: str) -> set[str]:
    """The names a text puts in quotation marks ("'working with power'")."""
    return {name.lower() for name in _QUOTED.findall(text)}


def spread(
    candidates: Sequence[ScoredSentence], floor: float, named: frozenset[str] = frozenset()
) -> list[ScoredSentence]:
    """Candidates above the floor, best first, but the best finding of each publication that bears
    on the question (within ``BEARING_RATIO`` of the best) before a second one of any; those of the
    publications the question is about before all others, above a floor of their own: "What lessons does
    the Basque experience offer?" is answered from the Basque study, however far its words are from the
    question's."""
    own = [c.score for c in candidates if c.source_id in named]
    own_floor = SELECTION_RATIO * max(own) if own else floor
    kept = [c for c in candidates if c.score >= (min(floor, own_floor) if c.source_id in named else floor)]
    if not kept:
        return []
    top = kept[0].score
    leaders: dict[str, ScoredSentence] = {}
    for candidate in kept:
        if candidate.score >= BEARING_RATIO * top and candidate.role != "background":
            leaders.setdefault(candidate.source_id, candidate)
    first = list(leaders.values())
    return named_first(named, first + [c for c in kept if c not in first])


def numbered_items(text: str) -> int:
    """How many items a sentence lists after a colon, numbered from one on: ": (1) ...; (2) ...; and (7) ..."
    lists seven; reference markers ("common (1) and costly (2)") list none."""
    opened = _LIST_OPENS.search(text)
    numbers = {int(n) for n in _NUMBERED_ITEM.findall(text[opened.start() :])} if opened else set()
    count = 0
    while count + 1 in numbers:
        count += 1
    return count


def judges_evidence(text: str) -> bool:
    """Whether a sentence judges the strength of evidence ("Every review ... describes it as thin", "The included
    papers were of middling quality", "the number of interviewees is small")."""
    return bool(_FIRM_APPRAISAL.search(text) or (_LOOSE_APPRAISAL.search(text) and _EVIDENCE.search(text)))


def is_phrase(sentence: ScoredSentence) -> bool:
    """Whether a candidate is a coded record's phrase rather than a sentence: a field's words that do not
    end as a sentence does ("Attention to both the content and the methods of leadership programmes")."""
    return bool(sentence.field) and not _ENDS_SENTENCE.search(sentence.quote.text)


def statements_first(eligible: Sequence[ScoredSentence]) -> list[ScoredSentence]:
    """The candidates with whole sentences that score within ``BEARING_RATIO`` of the best before the rest:
    an answer opens with a statement ("Across the included studies, leadership development produced ..."),
    not a record's phrase ("Attention to both the content and the methods of ..."), when one matches
    nearly as well."""
    if not eligible:
        return []
    close = [c for c in eligible if not is_phrase(c) and c.score >= BEARING_RATIO * eligible[0].score]
    return close + [c for c in eligible if c not in close]


def findings_before_background(eligible: Sequence[ScoredSentence]) -> list[ScoredSentence]:
    """The candidates reordered as if background paid ``BACKGROUND_PENALTY``: a question of no clear intent ("How
    do system leaders make decisions across organisations?") is answered by what studies found before what they
    start from. Only the order changes: how well the evidence matches the question, which decides whether to
    abstain, does not."""
    return sorted(eligible, key=lambda c: -(c.score - BACKGROUND_PENALTY * (c.role == "background")))


def background_last(sentences: Sequence[ScoredSentence]) -> list[ScoredSentence]:
    """The sentences stating what was found, then those saying what a study starts from, each in their order: what
    the evidence found is what its strength is judged on."""
    return sorted(sentences, key=lambda c: c.role == "background")


def named_first(named: frozenset[str], sentences: Sequence[ScoredSentence]) -> list[ScoredSentence]:
    """The sentences of the publications a question is about ("What did Hendry et al. recommend?", "the Basque
    experience"), then the others, each in their order: a question about a publication is answered from it,
    others only after it."""
    return [c for c in sentences if c.source_id in named] + [c for c in sentences if c.source_id not in named]


def fill(
    selection: Selection,
    pool: Sequence[ScoredSentence],
    items: int,
    most: int | None = None,
    words: int | None = None,
    findings_first: bool = False,
) -> list[ScoredSentence]:
    """Up to ``items`` sentences from a pool, in its order, each with the sentences it needs to be read,
    and no more than ``most`` sentences or ``words`` words in all.

    With ``findings_first``, what the chosen sentences found is read before the background they
    also quote: a reader who stops early has the findings.
    """
    groups: list[list[ScoredSentence]] = []
    taken: list[ScoredSentence] = []
    for candidate in pool:
        if len(groups) >= items or not selection.room():
            break
        group = selection.group_for(candidate)
        too_many = most is not None and len(taken) + len(group) > most
        too_long = words is not None and _length(taken + group) > words
        if not group or too_many or too_long:
            continue
        selection.chosen.extend(group)
        taken.extend(group)
        groups.append(group)
    if findings_first:
        groups.sort(key=lambda group: all(s.role == "background" for s in group))
    return [sentence for group in groups for sentence in group]


def compose(
    query: Query,
    candidates: Sequence[ScoredSentence],
    eligible: Sequence[ScoredSentence],
    store: IndexStore,
    settings: Settings,
) -> Answer | None:
    """The answer in the form the question's intent calls for; None when nothing can be quoted."""
    intent = query.intent.intent
    form = _INTENT_FORM.get(intent, "direct")
    if form == "realist" and not any(c.field for c in eligible):
        form = "direct"  # no coded records bear on it: findings in prose answer directly
    stating: list[ScoredSentence] = []
    if form != "realist":
        # A record's context frames a finding; outside "In what circumstances" it is not one, but may still state
        # what a direct question asks for ("First cohort of 30 OHTs in 2020" for "How many OHTs ...?").
        stating = [c for c in eligible if c.field == "context" and c.typed]
        eligible = [c for c in eligible if c.field != "context"] or list(eligible)
        # Outside the realist headings a record's fields give no structure: quote the publication.
        eligible = in_own_words(eligible)
    selection = Selection(candidates, query.roles, settings.max_answer_sentences, listing=query.listed > 0)
    floor = SELECTION_RATIO * eligible[0].score
    blocks: list[Block] = []
    gaps: list[Gap] = []
    lead = ""
    if form == "direct":
        if intent == "general":
            eligible = findings_before_background(eligible)
        # A question about a publication is answered from it, others only after it.
        eligible = named_first(query.asked_about, eligible)
        # A question asking for a count, a date or advice is answered first by a sentence that states one
        # (of the publication it names: another's count is no answer about this one), else by a record's context
        # that states one.
        # A sentence numbering every item a "What are the seven ...?" question asks for lists them, in whatever
        # words ("they are: (1) ...; ...; and (7) ..."), however little it shares with the question.
        typed = [
            c
            for c in [*eligible, *stating]
            if c.typed
            and (c.score >= floor or (query.listed > 1 and numbered_items(c.quote.text) >= query.listed))
            and (not query.asked_about or c.source_id in query.asked_about)
        ]
        first = fill(selection, typed, 1) or fill(selection, statements_first(eligible), 1)
        # What carries on from the answer finishes it, before any other supporting sentence: the sentence
        # after it ("However, ..."), and the items after it when it is an item of a list.
        follower = selection.continuation(first)
        while follower and _length(first + follower) <= DIRECT_WORDS:
            selection.chosen.extend(follower)
            first += follower
            follower = selection.continuation(first) if follower[-1].item else []
        # "What are the seven components?" is answered by as many items as it asks for.
        supporting = max(SUPPORTING if intent != "general" else GENERAL_SUPPORTING, query.listed)
        words = max(DIRECT_WORDS, LIST_ITEM_WORDS * query.listed)
        pool = spread(eligible, floor, query.asked_about)
        rest = fill(selection, pool, supporting, words=max(0, words - _length(first)))
        blocks = [("", first + rest)]
    elif form == "realist":
        blocks, gaps = _realist(selection, eligible, floor, query.asked_about, ranked_first=query.wants_superlative)
    elif form == "comparison":
        blocks, gaps = _comparison(query, selection, eligible, store)
    else:
        bearing = _bearing(query, eligible)
        records = sorted({c.passage.passage_id for c in eligible if c.field and c.source_id in bearing})
        lead = _profile(store, bearing, records, bearing_count=len(bearing), bearing=True).line
        # A question about one study ("the COVID-19 Protect project", "the Swedish finding") is
        # answered first by how that study was done, in its own order: design, sample, analysis, limits.
        about_one = bool(query.named or query.places or _ONE_STUDY.search(query.text))
        # The study asked about: the one named, else the best-matching one of the country named ("the Swedish
        # finding"), else the best-matching one.
        placed = {sid for ids in query.places for sid in ids}
        focal = set(query.named) or {
            next((c.source_id for c in eligible if c.source_id in placed), eligible[0].source_id)
        }
        methods = sorted(
            (c for c in eligible if about_one and c.role == "method" and c.source_id in focal),
            key=lambda c: (bool(c.field), c.passage.doc_id, c.passage.start + c.quote.start),
        )
        findings = [c for c in eligible if c.role not in ("method", "aim", "bibliographic")]
        # "How many studies support ...?" is answered first by the sentence that counts them ("20 of these met
        # the inclusion criteria"), of whichever study states it.
        counted = fill(selection, [c for c in eligible if c.counts and c.score >= floor], 1)
        # What the study set out to do or followed ("one manager's attempt to ...") bounds how far it reaches.
        aim = fill(selection, [c for c in eligible if about_one and c.role == "aim" and c.source_id in focal], 1)
        # The count goes, with the sentences it is read with, where its own role puts it: how the evidence was
        # gathered, else how strong it is.
        found = [] if any(c.counts and c.role in ("method", "aim") for c in counted) else counted
        gathered = [c for c in counted if c not in found]
        # What the publications say of their own evidence ("describes it as thin", "of middling quality", "the
        # number of interviewees is small") is what the question asks, in whatever section it sits.
        appraisals = [
            c
            for c in eligible
            if judges_evidence(c.quote.text)
            and c.role not in ("aim", "bibliographic")
            and c.score >= floor
            # of the studies asked about (those named, else of the countries named), not how others judge theirs
            and (not about_one or c.source_id in (focal | placed))
        ]
        blocks = [
            ("How the evidence was gathered", gathered + aim + fill(selection, methods, STRENGTH_METHODS)),
            (
                "How strong it is",
                found + fill(selection, background_last(spread(appraisals, floor)), STRENGTH_APPRAISALS),
            ),
            ("What it found", fill(selection, background_last(spread(findings, floor)), STRENGTH_FINDINGS)),
        ]
        blocks = [block for block in blocks if block[1]]
    if not any(chosen for _, chosen in blocks):
        return None
    return _assemble(query, form, blocks, gaps, store, eligible, lead)


def in_own_words(eligible: Sequence[ScoredSentence]) -> list[ScoredSentence]:
    """The sentences with each coded record's line that restates a sentence of its publication (cosine at
    least ``PARAPHRASE_SIMILARITY``) replaced, at the line's place, by that sentence: the publication's
    own words, fuller than the coder's, and a citation a reader can find in the publication."""
    prose = [c for c in eligible if not c.field]
    lines = [row for row, c in enumerate(eligible) if c.field]
    if not prose or not lines:
        return list(eligible)
    similarity = np.stack([eligible[row].vector for row in lines]) @ np.stack([c.vector for c in prose]).T
    sources = np.array([c.source_id for c in prose])
    scores = np.array([c.score for c in prose])
    free = np.ones(len(prose), dtype=bool)
    placed = list(eligible)
    for i, row in enumerate(lines):
        line = eligible[row]
        fits = free & (sources == line.source_id) & (scores < line.score) & (similarity[i] >= PARAPHRASE_SIMILARITY)
        if fits.any():
            col = int(np.argmax(np.where(fits, similarity[i], -np.inf)))
            free[col] = False
            placed[row] = replace(prose[col], score=line.score, prior=line.prior)
    moved = {id(prose[col]) for col in np.flatnonzero(~free)}
    return [c for c in placed if id(c) not in moved]


def _realist(
    selection: Selection,
    eligible: Sequence[ScoredSentence],
    floor: float,
    named: frozenset[str],
    ranked_first: bool = False,
) -> tuple[list[Block], list[Gap]]:
    """What works (mechanisms and findings), in what circumstances (contexts), with what results (outcomes),
    from the publications the question is about first. With ``ranked_first`` ("If we could do only one thing,
    which?"), what works opens with the best sentence stating the kind of thing asked for: one ranking a thing
    above the rest."""
    works = [c for c in eligible if c.field in ("", "mechanism", "summary")]
    # What works takes the answer's room but a sentence for a context and one for an outcome, when there
    # are any: an answer with no room left for them would read as if the evidence were silent on its
    # circumstances or results, and one with findings left out for a second context says less of what works.
    fields = {c.field for c in eligible}
    reserved = len(fields & {"context", "outcome"})
    most = max(1, selection.room() - reserved)
    pool = spread(works, floor, named)
    if ranked_first:
        pool = [c for c in works if c.typed and c.score >= floor][:1] + pool
    mechanisms = fill(selection, pool, most, most, findings_first=True)
    records = {c.passage.passage_id for c in mechanisms if c.field}

    def of_field(name: str) -> list[ScoredSentence]:
        own = [c for c in eligible if c.field == name and c.passage.passage_id in records]
        others = [c for c in eligible if c.field == name and c.passage.passage_id not in records]
        return own + spread(others, floor, named)

    blocks: list[Block] = [("What works", mechanisms)]
    gaps: list[Gap] = []
    for heading, field in (("In what circumstances", "context"), ("With what results", "outcome")):
        reserved -= field in fields
        pool = of_field(field)
        chosen = fill(selection, pool, REALIST_ITEMS[heading], max(1, selection.room() - reserved))
        if chosen:
            blocks.append((heading, chosen))
        elif not pool:  # a context left out as a repeat, or for want of room, is no silence of the evidence
            gaps.append(Gap(part=heading, note=f"{heading}: the indexed evidence does not say."))
    return [block for block in blocks if block[1]], gaps


def _comparison(
    query: Query, selection: Selection, eligible: Sequence[ScoredSentence], store: IndexStore
) -> tuple[list[Block], list[Gap]]:
    """One block per side from the side's own publications; a side without evidence gets a gap note."""
    sides = sides_of(query, eligible, store)
    blocks: list[Block] = []
    gaps: list[Gap] = []
    share = max(1, selection.room() // max(1, len(sides)))
    for side in sides:
        # A side is answered from its own best evidence, however its passages rank against the other
        # side's: its best sentence must match the question nearly as well as the best one overall does.
        own = [c for c in eligible if c.source_id in side.source_ids]
        if len({c.source_id for c in own}) == 1:
            # Within one publication, the rank of a passage for the whole question says little about
            # which of its sentences answers it: they come in the order of how well they match.
            own = sorted((replace(c, score=c.content_score, prior=0.0) for c in own), key=lambda c: -c.score)
        bears = bool(own) and max(c.content_score for c in own) >= SIDE_BAR * eligible[0].content_score
        chosen = (
            fill(selection, spread(own, SELECTION_RATIO * own[0].score), SIDE_ITEMS, share, findings_first=True)
            if bears
            else []
        )
        if chosen:
            blocks.append((side.label, chosen))
        else:
            gaps.append(Gap(part=side.label, note=f"{side.label}: the indexed evidence has nothing on this side."))
    return blocks, gaps


def sides_of(query: Query, eligible: Sequence[ScoredSentence], store: IndexStore) -> list[Side]:
    """A comparison's sides: those it names, else the publications that bear most on it, each a side (of
    the country it names, "What did the two Dutch studies each find?", or of the kind it names in the plural, "Do
    the reviews agree ...?", or both, when two or more such bear on it)."""
    if query.intent.sides:
        return query.intent.sides
    bearing = list(dict.fromkeys(c.source_id for c in eligible))
    # "Do the reviews agree ...?" compares the reviews among them, "the Dutch studies" the Dutch ones.
    placed = {sid for ids in query.places for sid in ids}
    of_kind = [sid for sid in bearing if sid in query.of_kind]
    of_place = [sid for sid in bearing if sid in placed]
    narrowed = ([sid for sid in of_place if sid in of_kind], of_place, of_kind)
    order = next((ids for ids in narrowed if len(ids) >= 2), bearing)[:IMPLICIT_SIDES]
    return [Side(label=store.manifest.sources[sid].short_cite if sid in store.manifest.sources else sid,
                 source_ids=[sid]) for sid in order]  # fmt: skip


def _bearing(query: Query, eligible: Sequence[ScoredSentence]) -> list[str]:
    """The publications an evidence-strength answer counts: those named, else those close to the best."""
    return sorted(query.named) if query.named else _close_to_best(eligible)


def _close_to_best(eligible: Sequence[ScoredSentence]) -> list[str]:
    """Publications with a finding scoring within ``BEARING_RATIO`` of the best one, best first."""
    top = eligible[0].score
    return list(dict.fromkeys(c.source_id for c in eligible if c.score >= BEARING_RATIO * top))


def _length(sentences: Sequence[ScoredSentence]) -> int:
    """Words in the quotes of some sentences."""
    return sum(len(s.quote.text.split()) for s in sentences)


def _words(text: str) -> str:
    return " ".join(text.split())


def _assemble(
    query: Query,
    form: Form,
    blocks: list[Block],
    gaps: list[Gap],
    store: IndexStore,
    eligible: Sequence[ScoredSentence],
    lead: str,
) -> Answer:
    """Number the citations in order of first use and write the answer's sections and text."""
    citations: list[Citation] = []
    numbering: dict[tuple[str, int, int], int] = {}
    sections: list[AnswerSection] = []
    for heading, chosen in blocks:
        cited: list[AnswerSentence] = []
        for sentence in whole_sentences(chosen):
            quote = sentence.quote
            key = (quote.hit.passage.passage_id, quote.start, quote.end)
            if key not in numbering:
                numbering[key] = len(citations) + 1
                citations.append(make_citation(numbering[key], quote, sentence.role))
            cited.append(AnswerSentence(text=_words(quote.text), citations=[numbering[key]]))
        sections.append(AnswerSection(heading=heading, sentences=cited))
    evidence = evidence_of(store, citations, bearing_count=len(_close_to_best(eligible)))
    intent = query.intent
    if form == "comparison":
        intent = intent.model_copy(update={"sides": sides_of(query, eligible, store)})
    return Answer(
        question=query.as_asked,
        intent=intent,
        answer=written_answer(sections, gaps, lead or evidence.line, lead_first=bool(lead)),
        sentences=[sentence for section in sections for sentence in section.sentences],
        citations=citations,
        form=form,
        sections=sections,
        gaps=gaps,
        evidence=evidence,
    )


def written_answer(sections: list[AnswerSection], gaps: list[Gap], line: str, lead_first: bool = False) -> str:
    """The answer as text: blocks of cited sentences under their headings, gap notes, the evidence line."""
    marked: Callable[[AnswerSentence], str] = lambda s: s.text + " " + "".join(f"[{n}]" for n in s.citations)  # noqa: E731
    blocks = [line] if lead_first else []
    for section in sections:
        if section.heading:
            blocks.append(f"{section.heading}:\n" + "\n".join(f"- {marked(s)}" for s in section.sentences))
        else:
            blocks.append(_paragraph([marked(s) for s in section.sentences]))
    blocks.extend(gap.note for gap in gaps)
    if not lead_first:
        blocks.append(line)
    return "\n\n".join(b for b in blocks if b)


def _paragraph(sentences: list[str]) -> str:
    """Sentences run on; one whose quote has no closing stop ends its line instead."""
    out = ""
    for sentence in sentences:
        if out:
            out += " " if out.rstrip(" []0123456789")[-1:] in ".!?:;\"')”’" else "\n"
        out += sentence
    return out


def evidence_of(store: IndexStore, citations: Sequence[Citation], bearing_count: int | None = None) -> EvidenceProfile:
    """The evidence profile and line of an answer's citations; publications bearing on the question
    default to those cited (an LLM's answer says no more)."""
    cited = list(dict.fromkeys(c.source_id for c in citations))
    records = sorted({c.passage_id for c in citations if store.passages[store.position[c.passage_id]].record})
    return _profile(store, cited, records, bearing_count=len(cited) if bearing_count is None else bearing_count)


def _profile(
    store: IndexStore, source_ids: Sequence[str], records: Sequence[str], bearing_count: int, bearing: bool = False
) -> EvidenceProfile:
    """How broad the evidence is: counts, designs, countries and years of the given publications.

    Its line reads "Evidence: 2 of 25 publications ..." for what an answer cites, or "7 of 25
    publications bear on this: ..." for an evidence-strength answer.
    """
    sources = [store.manifest.sources[s] for s in source_ids if s in store.manifest.sources]
    designs = Counter(s.design or "unknown design" for s in sources)
    countries = sorted({s.country for s in sources if s.country})
    years = sorted({s.year for s in sources if s.year[:4].isdigit()})
    indexed = sum(1 for s in store.manifest.sources.values() if s.title)
    described = ", ".join(f"{n} {_plural(d, n)}" for d, n in designs.most_common())
    span = f"{years[0]}–{years[-1]}" if len(years) > 1 else (years[0] if years else "")
    details = "; ".join(part for part in (described, ", ".join(countries), span) if part)
    noun = "publication" if indexed == 1 else "publications"
    counted = f"{len(sources)} of {indexed} {noun}"
    if records:
        counted += f" and {len(records)} coded record{'s' if len(records) != 1 else ''}"
    if bearing:
        verb = "bears" if len(sources) == 1 and not records else "bear"
        line = f"{counted} {verb} on this question" + (f": {details}." if details else ".")
    else:
        line = f"Evidence: {counted}" + (f" ({details})." if details else ".")
    return EvidenceProfile(
        publications=len(sources),
        records=len(records),
        bearing=bearing_count,
        indexed=indexed,
        designs=dict(designs),
        countries=countries,
        years=years,
        line=line,
    )


def _plural(noun: str, n: int) -> str:
    return noun if n == 1 else plural(noun)
