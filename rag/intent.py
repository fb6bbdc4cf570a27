"""What a question asks for, read from its wording without a language model.

The intent picks the answer's form (rag.forms) and the roles of text it may quote; a
comparison's sides are what it names on each side (countries, publications), each with the
publications that speak for it, so every side is answered from its own evidence.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Collection, Iterable, Sequence

from index.models import Role, SourceInfo
from rag.models import Intent, QueryIntent, Side

#: Roles of text every intent asks for: findings and what frames them.
_FINDINGS: frozenset[Role] = frozenset({"finding", "context", "background"})
#: Roles each intent asks for; a cited sentence of another role is noise in its answer.
ROLES_ASKED: dict[Intent, frozenset[Role]] = {
    "what_works": _FINDINGS,
    "how_to": _FINDINGS,
    "comparison": _FINDINGS,
    "factoid": _FINDINGS,
    "definition": _FINDINGS,
    "general": _FINDINGS,
    "evidence_strength": _FINDINGS | {"method", "aim"},
    "methods": _FINDINGS | {"method", "aim"},
}

#: Cues of a comparison: also read where a question on the strength of evidence compares publications.
_COMPARES = re.compile(
    # "compare", "comparison", not "Ontario as a comparator for our region"
    r"\bcompar(?!ators?\b)|\bversus\b|\bvs\.?\s|\bdiffer(?:s|ed|ence|ences)?\b|\bdifferent (?:from|to|than)\b"
    r"|\bsimilar"
    # "both X and Y", not "a manager across both"
    # "Do the reviews agree?", not "How do we get partners to agree a common direction?"
    r"|\bcontrast|\bagree\b(?! (?:an?|the|to|how|what|which|their|its|our|shared|common|joint)\b)"
    r"|\bboth\b(?! health and social care\b)(?=[^?]*\band\b)"
    r"|\beach (?:organi[sz]e|do|say|find|describe|approach|handle|look|report|conclude)|\bwhereas\b"
    # "Is Scotland's model working better than Wales's?", "How does SCIE's framework line up with ...?"
    r"|\b(?:better|worse|stronger|weaker) than\b|\bmore (?:effective|successful|useful|important) than\b"
    r"|\bline[sd]? up (?:with|against)\b|\bstacks? up\b"
    # "Do these conflict?", "Doesn't that sit awkwardly with Sims et al.?"; not "conflicts of interest"
    r"|\b(?:do|does|did)(?:n't| not)? (?:these|they|those|the two|both|the (?:reviews|studies|findings))"
    r"(?: \w+ly)? (?:conflict|clash|disagree)\b|\bcontradict\w*|\bat odds\b|\bsquare with\b"
    r"|\bsits? (?:awkwardly|uneasily)\b|\bin tension with\b"
    r"|\bhow does (?:that|this|it) (?:sit|fit|square) with\b"
    # "Do Sims et al. and Knight et al. end up with the same ideas ...?"
    r"|\b(?:say|saying|reach|reaching|find|finding|end up with|ending up with|come to|coming to|share|sharing|draw"
    r"|drawing|make|making) (?:much |broadly |basically )?the same\b"
    # "Has the picture shifted between the first-year review and the later case studies?"
    r"|\b(?:shift|shifted|change|changed|moved) between\b",
    re.I,
)
#: Cues of each intent, tried in this order: the first that matches decides.
_CUES: tuple[tuple[Intent, re.Pattern[str]], ...] = (
    (
        "evidence_strength",
        re.compile(
            r"\bhow (?:\w+ (?:and|or) )?(?:strong|robust|reliable|good|solid|well[- ](?:tested|evidenced|supported"
            r"|established))\b"
            # "How far can its theories be trusted outside ...?", "Is that a fair description of the evidence?"
            r"|\bhow far can (?:[\w'’-]+ ){1,5}be (?:trusted|relied on|generali[sz]ed|transferred)\b"
            # "How far can we generalise from the Swedish study?", "Can we generalise its theories to our system?"
            r"|\bcan (?:we|i|you|one) (?:safely |reasonably )?(?:generali[sz]e|extrapolate)\b"
            r"|\b(?:fair|accurate|right) (?:description|reading|summary|account) of (?:the )?(?:evidence|research)\b"
            r"|\bhow much (?:\w+ )?(?:weight|confidence|trust|evidence)\b"
            # "Is the Swedish study big enough to convince my director?", "Can I assume it applies to my area?"
            r"|\b(?:big|large|robust|strong|good) enough\b"
            # "How much can a ministry lean on them?", "Could we adopt them as a validated standard?", "Can the
            # permanent secretary cite the paper as an evaluation?"
            r"|\bhow much (?:can|should|could) (?:[\w'’-]+ ){1,3}(?:lean|rely|draw) on\b"
            r"|\bas (?:a |an )?(?:validated|proven|tested|evidence-based) (?:standard|tool|framework|model|measure)\b"
            r"|\bcite (?:[\w'’-]+ ){1,6}as (?:an? )?(?:independent |formal )?(?:evaluation|evidence|proof)\b"
            r"|\b(?:appl(?:y|ies)|transfers?|holds?) (?:to|in|for) (?:my|our) (?:own )?(?:area|system|setting|context"
            r"|organi[sz]ation|region|place|service|team)\b"
            r"|\bhow (?:confident|sure|certain) (?:can|should|could|are)\b"
            # "How well is 'leadership' defined and theorised in the research?" asks about the research itself
            r"|\bhow well (?:is|are|has|have|was|were) (?:[\w'‘’\"“”-]+ ){1,5}(?:been )?(?:defined|theori[sz]ed"
            r"|conceptuali[sz]ed|studied|researched|understood|described)\b"
            r"|\b(?:strength|quality|certainty) of (?:the )?evidence\b"
            r"|\bhow many (?:studies|papers|publications|reviews)\b(?! (?:did|were|was) )"
            r"|\bis there (?:any )?evidence\b"
            r"|\bevidence base (?:for|behind)\b"
            # "Has the framework been validated, or is it still provisional?"
            r"|\b(?:been|is it|are they|still) (?:\w+ )?(?:validated|proven|provisional|tentative)\b(?! to\b)",
            re.I,
        ),
    ),
    ("comparison", _COMPARES),
    (
        "methods",
        re.compile(
            r"\b(?:what|which) (?:study )?(?:design|methods?|methodology|databases?|sample|sampling|data)\b"
            r"|\bhow (?:was|were) (?:the )?(?:study|review|data|evidence|synthesis|interviews?)\b"
            # "How did Knight et al. get their initial programme theories?"
            r"|\bhow did (?:[\w'’-]+ )?(?:et al\.?|and colleagues|the (?:authors|review|study|team|researchers)) "
            r"(?:get|develop|derive|arrive at|come up with|identify|select|choose|build|generate|refine)\b"
            # "How did the Scottish reflection organise its assessment of ...?"
            r"|\bhow did (?:the )?(?:[\w'’-]+ ){0,4}?(?:review|reflection|paper|report|evaluation|synthesis|authors"
            r"|researchers|et al\.?) (?:organi[sz]e|structure|design|conduct|carry out) (?:its|their|the)"
            r" (?:assessment|evaluation|analysis|review|research|interviews|data collection)\b"
            r"|\bhow many (?:participants|interviewees|people|respondents|informants|stakeholders|sites|cases)\b"
            r"|\bwho (?:wrote|authored|published)\b|\bwhen was (?:it|the \w+) published\b"
            # who the authors are, not what they mean by a term
            r"|\bauthors?\b(?![^?]{0,30}\bmean[st]? by\b)"
            r"|\blimitations?\b",
            re.I,
        ),
    ),
    (
        "factoid",
        re.compile(
            r"\bhow (?:many|much|long|often|old)\b|\b(?:what|which) (?:year|date|number|percentage|proportion)\b"
            # not "When the review talks about X, what does it mean?": a clause setting when the question applies
            r"|^\s*(?:when|who|where)\b(?![^?]*,\s*(?:what|how|which|why|who|is|are|do|does|did|should|can)\b)"
            r"|\bhow large\b",
            re.I,
        ),
    ),
    (
        "what_works",
        re.compile(
            r"\bwhat works\b|\bwhat (?:has |have )?help|\bwhat (?:helps|helped|drives|enables|makes)\b|\beffective"
            r"|\bsucce(?:ed|ss)|\bin what circumstances\b|\bachiev|\bworth\b|\bimprove|\bbetter\b|\bbarriers?\b"
            r"|\bfacilitat|\benabl|\bwhat (?:do|did|can|could) [\w ]{1,40} (?:contribute|do differently|add|bring)\b"
            r"|\bimpact\b|\bchange anything\b|\bpay off\b"
            r"|\bdetermine|\bmakes? [\w' -]{1,40} work\b|\bwork well\b|\bgets? in the way\b|\bhinder|\bobstacles?\b"
            r"|^\s*why\b|\b(?:shown|proven|found|known) to (?:work|help|be effective)\b"
            # "Which leadership behaviours help during ...?"
            r"|^\s*which (?!(?:stud|paper|publication|review|article|report)\w*)(?:[\w-]+ ){1,3}"
            r"(?:help|helps|helped|work|works|worked)\b",
            re.I,
        ),
    ),
    (
        "how_to",
        re.compile(
            # "How can ICB leaders build trust ...?" asks how to, whoever the subject; "How do Sims et al.
            # describe ...?" asks what was done, unless "we" or leaders do it
            # not "How do you define ...?"
            r"\bhow (?:can|could|might)\b|\bhow (?:do|would) (?:we|i|you|leaders?|it|they|our|the|an?)\b"
            r"(?! (?:define|mean)\b)"
            r"|\bwhat should\b|\bhow (?:should|ought)\b|\bgo about\b|\b(?:where|when) (?:should|would|do) (?:we|i)\b"
            r"|\bwhat (?:can|could) (?:[\w'-]+ ){1,4}do\b"
            r"|\bbest way\b|\bhow to\b|\bput in place\b|\b(?:needs?|has|have|must|should) (?:to )?be in place\b"
            r"|\bguidance\b|\bsteps?\b|\brecommend|\blessons?\b"
            r"|\bneeds? to do\b|\bprioriti[sz]e\b|\badvi[cs]e\b|\btips?\b"
            # "How am I supposed to turn goals into practice?", "How are its leaders meant to get anything done?"
            r"|\bhow (?:am|are|is) (?:[\w'-]+ ){0,3}(?:meant|supposed|expected) to\b"
            # "How have others structured ...?", "What does research suggest senior leaders can do about that?"
            r"|\bhow (?:have|did) others\b"
            r"|\bwhat (?:does|do) (?:the )?(?:research|evidence|studies) (?:suggest|say) (?:[\w'-]+ ){1,4}"
            r"(?:can|could|should) do\b"
            # what a search box is asked in: "making co-leadership work day to day", "building trust between NHS and
            # council", asking no question of its own (not "Building trust: what did Nieuwboer find?")
            r"|^\s*(?:making|building|getting|creating|developing|designing|involving|engaging|running|managing"
            r"|setting up|sustaining|spreading|scaling|embedding|improving|supporting|growing|strengthening|keeping"
            r"|bringing|winning|turning)\s(?!(?:countries|costs)\b)"
            r"(?![^?]*\?)(?!.*\b(?:what|how|why|which|who|when|where|does|did|do|is|are)\b)",
            re.I,
        ),
    ),
    (
        "definition",
        re.compile(
            # "What are Ontario Health Teams?", not "What are the risks of relying on one charismatic leader?"
            # ... also after sentences setting the scene: "Several reviews mention RAMESES. What is it?"
            # ... but not "What are its components?", which asks for its parts
            # ... or after a few words setting it up: "Quick one: what is a 'CMOC'?"
            r"(?:^|(?<!\bal)[.!?:]\s+)\s*(?:what|who) (?:(?:actually|exactly|really|precisely) )?(?:is|are|was|were) "
            r"(?!(?:its|their|our|your|his|her|my)\b)(?:an? |the )?[\w'-]+(?: [\w'-]+){0,4}"
            r"(?:,? (?:exactly|actually|really|precisely))?\??$|\bdefin"
            r"|\bmeant by\b|\bwhat (?:do|does) (?:they|people|leaders|it) mean\b"
            r"|\b(?:do|does|did)\b[^?]{1,60}\bmean by\b"
            r"|\bmeaning of\b|\bstands? for\b"
            r"|^\s*what (?:does|do) [\w'‘’\"“” -]{1,60} mean\??$"
            r"|\bunfamiliar\b|\bwhat (?:is|was) the '?[\w -]+'? (?:approach|model|framework|programme)\b",
            re.I,
        ),
    ),
)

#: How questions name a country, mapped to the ``country`` of sources.csv.
COUNTRY_NAMES: dict[str, str] = {
    "england": "England", "english": "England",
    "scotland": "Scotland", "scottish": "Scotland", "scots": "Scotland",
    "netherlands": "Netherlands", "dutch": "Netherlands", "holland": "Netherlands",
    "sweden": "Sweden", "swedish": "Sweden",
    "finland": "Finland", "finnish": "Finland",
    "spain": "Spain", "spanish": "Spain", "basque": "Spain",
    "canada": "Canada", "canadian": "Canada", "ontario": "Canada",
    "new zealand": "New Zealand", "zealand": "New Zealand",
    "ireland": "Ireland", "irish": "Ireland",
    "wales": "Wales", "welsh": "Wales",
    "australia": "Australia", "australian": "Australia",
    "usa": "United States", "american": "United States", "united states": "United States",
    "germany": "Germany", "german": "Germany", "denmark": "Denmark", "danish": "Denmark",
    "norway": "Norway", "norwegian": "Norway", "france": "France", "french": "France",
}  # fmt: skip
_COUNTRY_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, COUNTRY_NAMES), key=len, reverse=True)) + r")\b", re.I)
#: A country's adjective naming its language, not the country: "in plain English", "English-language", "written in
#: Dutch".
_LANGUAGE = re.compile(
    r"\bin (?:plain |simple |everyday |good |clear |ordinary )?(?:English|Dutch|Swedish|Finnish|Spanish|German|French"
    r"|Norwegian|Danish|Italian)\b(?=\s*(?:[.,;:?!)]|$|(?:for|to|so|and|please|that)\b))"
    r"|\b(?:English|Dutch|Swedish|Finnish|Spanish|German|French|Norwegian|Danish|Italian)[- ](?:language|speaking)\b",
    re.I,
)
#: Where a comparison's question splits into its sides.
_SIDE_SPLIT = re.compile(r"\s+(?:compared (?:with|to)|versus|vs\.?|and|with|or|against|than)\s+", re.I)
_WORD = re.compile(r"[a-z][a-z']+")
#: Words written with a capital that do not open the text: the names in a part of a question.
PROPER_WORD = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-Z][\w'’-]*")
#: Words that say nothing about which publication a side means.
_GENERIC = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "what",
        "how",
        "did",
        "does",
        "do",
        "say",
        "says",
        "said",
        "about",
        "their",
        "its",
        "his",
        "her",
        "our",
        "our",
        "each",
        "both",
        "from",
        "into",
        "that",
        "this",
        "these",
        "those",
        "report",
        "study",
        "studies",
        "review",
        "reviews",
        "paper",
        "article",
        "case",
        "experience",
        "evidence",
        "care",
        "health",
        "social",
        "integrated",
        "integration",
        "leadership",
        "leaders",
        "leader",
        "leading",
        "system",
        "systems",
        "team",
        "teams",
    ]
)
#: A metadata word names a side's publications only when this few publications have it.
DISTINCTIVE_MAX_SOURCES = 3
#: Word pairs a side shares with a publication's title before the title singles the publication out.
TITLE_PAIRS_MIN = 2
#: Words too common to make a title's word pair count on their own.
_FUNCTION_WORDS = frozenset(["of", "the", "a", "an", "in", "on", "and", "for", "to", "with", "what", "how", "its"])


#: "What's the evidence it makes any difference?" asks what works, not how two things differ.
_MAKES_A_DIFFERENCE = re.compile(
    r"\b(?:make|makes|making|made) (?:(?:a|any|no|much|much of a|the) )?(?:(?:real|big|significant|measurable"
    r"|lasting) )?difference\b"
    r"|\bwhat difference (?:does|did|do|would|will|can|could)\b"
    # "... and what difference the reform made"
    r"|\bwhat difference (?:[\w'’-]+ ){1,4}?(?:make|makes|made)\b",
    re.I,
)


#: "How do we get partners to agree a direction?" asks how to bring agreement about, not whether sources agree.
_BRING_TO_AGREE = re.compile(
    r"\b(?:get|gets|getting|got|help|helps|helping|make|makes|making|persuade|persuading|bring|bringing|encourage"
    r"|encouraging)\s+(?:[\w'-]+\s+){1,5}?to agree\b",
    re.I,
)


def classify(question: str) -> Intent:
    """The intent of a question: the first family of cues its wording matches, else 'general'."""
    question = _MAKES_A_DIFFERENCE.sub(" has an impact ", question)
    question = _BRING_TO_AGREE.sub(" to settle ", question)
    for intent, cue in _CUES:
        if cue.search(question):
            return intent
    return "general"


#: Words by which a question asks for text of a role its intent does not ask for.
_ROLE_CUES: tuple[tuple[Role, re.Pattern[str]], ...] = (
    (
        "method",
        re.compile(
            r"\bmethod|\bdesigns?\b|\bsampl|\bsurvey|\bdatabases?\b|\bsearch"
            # how a study heard people, not what those it heard said ("according to the leaders interviewed")
            r"|\binterview(?!ed\b)|\b(?:was|were|been|be|they|we|who|whom|did|to) interviewed\b"
            r"|\bdata (?:collection|sources?|gathering|analysis)\b|\b(?:collect|gather)\w* (?:\w+ )?data\b"
            r"|\bstakeholder (?:events?|input|consultation|engagement|involvement|groups?|workshops?)\b"
            r"|\bconsult\w* (?:with )?stakeholders\b"
            r"|\bprotocol|\blimitation|\bparticipants?\b|\banaly[sz]|\bextract"
            # what a review took in ("How many papers were included?"), not what a thing includes
            r"|\b(?:were|was|be|been|it|they|review|synthesis) included\b|\binclusion\b"
            r"|\brecords? (?:were |was )?(?:screened|identified|retrieved|found)\b"
            r"|\bconfigurations\b|\bcarried out\b"
            # how big the evidence behind a review is: "How big were the evidence bases?", "the size of the review"
            r"|\bhow (?:big|large) (?:\w+ ){0,6}(?:evidence|samples?|reviews?|stud(?:y|ies))\b"
            r"|\bsizes? of (?:the |their |its )?(?:evidence|samples?|reviews?)\b"
            # how many a study heard, included or studied is told by its methods
            r"|\bhow many\b"
            r"|\bevidence (?:was|were)\b"
            r"|\b(?:gather|collect|obtain|assemble)(?:s|ed|ing)? (?:\w+ ){0,2}(?:evidence|information)\b"
            # the way a piece of work was done: "the 'discovery' approach they used", "which approach did it take"
            r"|\bapproach(?:es)?\b.*\b(?:used|use|took|take|taken|adopted|adopt)\b"
            # how a review is or was done: "How did Knight et al. go about reviewing ...?", "How would you set up
            # a realist synthesis ...?", "How should a realist synthesis ... be staged?", "the RAMESES standards"
            r"|\bgo(?:es)? about (?:reviewing|synthesi[sz]ing|evaluating|studying|researching|analy[sz]ing)\b"
            r"|\b(?:set up|design|stage|conduct) (?:an? |the |their |its )?(?:[\w-]+ ){0,3}"
            r"(?:synthesis|review|evaluation)\b"
            r"|\b(?:synthesis|review|evaluation)\b[^?]{0,60}\bbe (?:staged|set up|designed|conducted|carried out)\b"
            r"|\bRAMESES\b|\bPRISMA\b|\b(?:reporting|publication) (?:standards|guidelines)\b"
            # how much evidence a review stands on: "Which one rests on the most literature?"
            r"|\b(?:rests?|draws?|based|built) on (?:the )?(?:most|more|less|least|fewest) (?:literature|studies"
            r"|papers|articles|evidence|sources)\b"
            # how far findings carry is told by how they were gathered ("stakeholder input came from only one ICS")
            r"|\bgenerali[sz]|\btoo narrow\b|\bindependent evaluation\b",
            re.I,
        ),
    ),
    (
        "aim",
        re.compile(
            r"\baims?\b|\bobjectives?\b|\bpurpose of\b|\bits purpose\b|\bset out\b|\bmeant to\b|\bintended\b"
            r"|\bgoals?\b",
            re.I,
        ),
    ),
    (
        "bibliographic",
        re.compile(
            # "funded", "funding", but not the King's Fund, a name
            r"\blicen[cs]e|\bdedicat|\bpublish|\bjournal\b|(?-i:\bfund|^Fund)|\bpaid\b|\bproject number\b|\bauthors?\b"
            r"|\baffiliat|\btitle[ds]?\b|\bdoi\b|\bcontract\b|\baccepted\b|\bprogramme paid\b"
            r"|\bwho (?:wrote|authored)\b|\b(?:written|authored) by\b",
            re.I,
        ),
    ),
)


def asked_roles(intent: Intent, question: str = "") -> frozenset[Role]:
    """The roles of text a question asks for: its intent's, and any its words ask for by name."""
    extra = {role for role, cue in _ROLE_CUES if cue.search(question)}
    return ROLES_ASKED[intent] | extra


class IntentReader:
    """Reads intents and comparison sides against the publications of one index."""

    def __init__(self, sources: Sequence[SourceInfo]) -> None:
        self.sources = list(sources)
        self._by_id = {s.source_id: s for s in self.sources}
        self._metadata = {s.source_id: set(_words(f"{s.title} {s.venue} {' '.join(s.surnames)}")) for s in sources}
        counts: dict[str, int] = {}
        for words in self._metadata.values():
            for word in words:
                counts[word] = counts.get(word, 0) + 1
        self._idf = {w: math.log(1 + len(self.sources) / c) for w, c in counts.items()}
        # Each publication's kind in the plural, as a question names it: "reviews" for a "realist review".
        self._kinds = {s.source_id: plural(kind[0]) for s in sources if (kind := _words(s.design)[-1:])}
        self._df = counts

    def read(self, question: str, named: set[str], unknown: Callable[[str], bool] = lambda word: False) -> QueryIntent:
        """The intent of a question, its sides when it compares, and the publications it names. ``unknown``: whether
        a word is one the indexed text never uses."""
        intent = classify(question)
        if intent == "general" and len(self.countries(question)) >= 2:
            intent = "comparison"  # "How did leaders in Sweden and Finland ...?" is answered country by country
        sides = self.sides(question, named, unknown) if intent == "comparison" else []
        if intent == "evidence_strength" and _COMPARES.search(question):
            # "How big was the evidence base behind the NIHR synthesis compared with Knight's review?" is answered
            # publication by publication, when it names each.
            with_evidence = [side for side in self.sides(question, named, unknown) if side.source_ids]
            if len(with_evidence) >= 2:
                intent, sides = "comparison", with_evidence
        return QueryIntent(intent=intent, sides=sides, named_sources=sorted(named))

    def sides(self, question: str, named: set[str], unknown: Callable[[str], bool] = lambda word: False) -> list[Side]:
        """The sides a comparison names: two or more countries, or parts naming different publications, a country,
        or something the indexed text never names ("Kaiser Permanente"), which is a side without evidence.

        Fewer than two found means the sides are left to the evidence (rag.forms then compares
        the publications that bear on the question).
        """
        countries = list(dict.fromkeys(m.group(1) for m in _COUNTRY_RE.finditer(question)))
        if len({COUNTRY_NAMES[c.lower()] for c in countries}) >= 2:
            by_country = [self._country_side(c, question) for c in countries]
            return [s for i, s in enumerate(by_country) if s.label not in {t.label for t in by_country[:i]}]
        parts = [p for p in _SIDE_SPLIT.split(question) if p.strip()]
        sides: list[Side] = []
        for part in parts:
            side = self._side_named_in(part, named, unknown)
            if side and all(side.label != s.label for s in sides):
                sides.append(side)
        return sides if len(sides) >= 2 and any(s.source_ids for s in sides) else []

    def _side_named_in(self, part: str, named: set[str], unknown: Callable[[str], bool]) -> Side | None:
        """The side a part of a comparison names: its publications, else its country's, else what it names that
        the indexed text never does; None when it names none."""
        ids = self._named_in(part, named)
        if ids:
            return Side(label="; ".join(self._by_id[sid].short_cite for sid in ids), source_ids=ids)
        countries = self.countries(part)
        if countries:
            return self._country_side(countries[0], part)
        # a part may open with the name: "... stack up against | Kaiser Permanente's model?"
        names = [name.removesuffix("'s").removesuffix("’s") for name in PROPER_WORD.findall(f" {part}")]
        lacking = [name for name in names if unknown(name)]
        return Side(label=" ".join(lacking), source_ids=[]) if lacking else None

    @staticmethod
    def countries(question: str) -> list[str]:
        """The countries a question names, however it names them ("Dutch", "the Netherlands"), in its order; not a
        language ("in plain English")."""
        spoken = _LANGUAGE.sub(" ", question)
        return list(dict.fromkeys(COUNTRY_NAMES[m.group(1).lower()] for m in _COUNTRY_RE.finditer(spoken)))

    def of_kind(self, question: str) -> list[str]:
        """The publications of a kind the question names in the plural ("Do the reviews agree ...?" names
        every publication whose design is a review), in index order; none when it names no kind."""
        words = set(_words(question))
        return [s.source_id for s in self.sources if self._kinds.get(s.source_id) in words]

    def places(self, question: str) -> list[list[str]]:
        """For each country a question names, the publications set there (none for an unknown one), narrowed
        by the words that describe one of them ("the Dutch participatory case study")."""
        return [self._narrowed(question, ids) for ids in map(self._of_country, self.countries(question)) if ids]

    def _country_side(self, mention: str, question: str) -> Side:
        """A side naming a country: that country's publications, narrowed by other words of its part."""
        country = COUNTRY_NAMES[mention.lower()]
        ids = self._of_country(country)
        part = next((p for p in _SIDE_SPLIT.split(question) if mention.lower() in p.lower()), question)
        return Side(label=country, source_ids=self._narrowed(part, ids) if ids else [])

    def _of_country(self, country: str) -> list[str]:
        """The publications set in a country, in index order."""
        return [s.source_id for s in self.sources if s.country.lower() == country.lower()]

    def _narrowed(self, part: str, ids: list[str]) -> list[str]:
        """The publications of a side that its words single out: by a design it names ("the English
        review"), then by rare title words; all of them when none do."""
        words = set(_words(part))
        designs = [sid for sid in ids if words & set(_words(self._by_id[sid].design))]
        ids = designs or ids
        return self._distinctive(part, ids) or self._titled(part, ids) or ids

    def _titled(self, part: str, candidates: list[str]) -> list[str]:
        """The candidates whose title shares the most word pairs with the part ("the review of integrated
        care system leadership"), when the best shares at least :data:`TITLE_PAIRS_MIN`; none otherwise.

        Single title words are too common among publications on one topic to tell them apart; a
        run of them, as a question describes a publication by its title, is not.
        """
        asked = _pairs(part)
        scores = {sid: len(asked & _pairs(self._by_id[sid].title)) for sid in candidates}
        best = max(scores.values(), default=0)
        return [sid for sid in candidates if best >= TITLE_PAIRS_MIN and scores[sid] == best]

    def _named_in(self, part: str, named: set[str]) -> list[str]:
        """Publications a part of a question names: by author, or by a word of few publications' titles."""
        words = set(_words(part.replace("’", "'")))
        words |= {re.sub(r"'s?$", "", word) for word in words}
        names = capitalised(part)
        by_author = sorted(sid for sid in named if any(names_surname(words, n, names) for n in self._surnames(sid)))
        return by_author or self._distinctive(part, [s.source_id for s in self.sources])

    def _distinctive(self, part: str, candidates: list[str]) -> list[str]:
        """The candidates whose title, venue or authors share the part's rarest names.

        Only words written with a capital inside the part count ("the AQuA report", "the NIHR
        project"): a publication is named by a proper name, not by a common word of its title.
        """
        # "Swedish-style" names a country, which is no publication's name: of a hyphenated word, its capitalised
        # pieces are the names
        names = " ".join(
            w for w in name_pieces(PROPER_WORD.findall(part)) if w.lower().rstrip("'’s") not in COUNTRY_NAMES
        )
        words = {w for w in _words(names) if w not in _GENERIC and 0 < self._df.get(w, 0) <= DISTINCTIVE_MAX_SOURCES}
        scores = {sid: math.fsum(self._idf[w] for w in words & self._metadata.get(sid, set())) for sid in candidates}
        best = max(scores.values(), default=0.0)
        return sorted(sid for sid, score in scores.items() if best > 0 and score == best)

    def _surnames(self, source_id: str) -> list[str]:
        source = self._by_id.get(source_id)
        return source.surnames[:1] if source else []


#: Surnames of this many letters or more are recognised with one letter wrong, missing, extra or swapped
#: ("Niewboer" for Nieuwboer): shorter ones would match other words.
MISSPELT_SURNAME = 8
_DOUBLED = re.compile(r"(\w)\1")
#: A capitalised word opening a sentence names an author only when it is cited as one: "Knights et al. found ...",
#: "Bhatt and colleagues' review", not "Warring partners: ...".
_CITED_FIRST = re.compile(r"(?:^|[.?!]\s+)([A-Z][a-z'’-]+)(?= et al\b| and colleagues\b)")


def names_surname(words: set[str], surname: str, names: Collection[str] = ()) -> bool:
    """Whether lower-case words name a surname: as written, or, when it is long enough, with one letter wrong,
    missing, extra or swapped ("niewboer"). Of any length, a name (a word the question capitalises: ``names``, in
    lower case) with a letter doubled or undoubled, or an "s" added, names it ("Bhatt", "Sibald", "Knights"), where
    a word in lower case is another word ("warring")."""
    surname = surname.lower()
    if surname in words:
        return True
    if any(name == f"{surname}s" or _DOUBLED.sub(r"\1", name) == _DOUBLED.sub(r"\1", surname) for name in names):
        return True
    return len(surname) >= MISSPELT_SURNAME and any(
        abs(len(word) - len(surname)) <= 1 and _one_edit(word, surname) for word in words
    )


def capitalised(text: str) -> set[str]:
    """The words a text writes with a capital, in lower case and without a possessive: what may name an author. A
    sentence's first word is one only when "et al." or "and colleagues" follows it."""
    words = [*PROPER_WORD.findall(text), *_CITED_FIRST.findall(text)]
    return {re.sub(r"['’]s?$", "", word).lower() for word in words}


def _one_edit(a: str, b: str) -> bool:
    """Whether two words are at most one edit apart: a letter changed, dropped, added or two swapped."""
    if len(a) > len(b):
        a, b = b, a
    i = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), len(a))
    if len(a) == len(b):
        return a[i + 1 :] == b[i + 1 :] or (a[i : i + 2] == b[i : i + 2][::-1] and a[i + 2 :] == b[i + 2 :])
    return a[i:] == b[i + 1 :]


def name_pieces(names: Iterable[str]) -> list[str]:
    """The capitalised pieces of names: "Swedish-style" is named by "Swedish", "NHS-led" by "NHS"."""
    return [piece for name in names for piece in name.split("-") if piece[:1].isupper()]


def side_parts(question: str, label: str) -> list[str]:
    """The parts of a comparison that name a side, by any word of its label ("Germany's Gesundes Kinzigtal model"
    for "Germany")."""
    words = {word.lower() for word in label.split()}
    return [part for part in _SIDE_SPLIT.split(question) if words & {w.removesuffix("'s") for w in _words(part)}]


def plural(noun: str) -> str:
    """The plural of a noun phrase ("case study" -> "case studies", "realist synthesis" -> "realist syntheses")."""
    if noun.endswith("sis"):
        return noun[:-2] + "es"
    if noun.endswith("s"):
        return noun  # "mixed methods"
    return noun[:-1] + "ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else noun + "s"


def _pairs(text: str) -> set[tuple[str, str]]:
    """Neighbouring word pairs of a text, leaving out pairs of only generic words ("of the")."""
    words = _words(text)
    return {(a, b) for a, b in itertools.pairwise(words) if not {a, b} <= _FUNCTION_WORDS}


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))
