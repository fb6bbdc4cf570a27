"""The default answerer: quotes the pool's sentences that answer the question, in the question's form.

It writes no words of its own, so every cited sentence is supported by the passage it cites
by construction; headings, the evidence line and gap notes are computed and kept apart
(rag.forms). Sentences are scored by meaning, shared rare words, the retrieval rank of their
passage and new information, and only sentences of the roles the question asks for (rag.intent)
may be quoted: an aim, a method or a title answers only a question about them.

It abstains (rag.abstention) when no finding addresses the question.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from index.models import Passage, Role
from index.sentences import LIST_MARKER
from index.settings import Settings
from index.store import IndexStore
from rag.abstention import AbstentionEvidence, AbstentionRules
from rag.citations import Quote, abstention
from rag.forms import BACKGROUND_PENALTY, compose, numbered_items
from rag.lexical import Tokenizer
from rag.models import Answer, RetrievedPassage
from rag.query import Query, Vocabulary
from rag.support import cardinal_words

#: Text that states a count: a number standing alone, not a year ("2019") nor part of a name ("sims2021",
#: "COVID-19", "IL-4").
_COUNT = re.compile(r"(?<![\w/.-])(?!(?:19|20)\d\d\b)\d[\d,]*(?:\.\d+)?(?![\w/])%?")
_SMALL_NUMBERS = cardinal_words(1, 10)
#: A number labelling one of a series ("Programme theory 1:", "Stage 3", "Table 2"): it names the item, it counts
#: nothing.
_LABEL_NUMBER = re.compile(
    r"\b(?:theor(?:y|ies)|themes?|stages?|phases?|steps?|figs?\.|figures?|tables?|box(?:es)?|chapters?|sections?"
    r"|parts?|waves?|domains?|pillars?|aims?|objectives?|questions?|hypothes[ie]s|cohorts?|groups?|arms?|models?"
    r"|rounds?|levels?|components?)\s+\d+[a-z]?(?:\s*(?:,|and|to|[-–])\s*\d+[a-z]?)*\b",
    re.I,
)
#: A reference marker: numbers alone in brackets ("[11]", "(28)", "[6, 12]", "[3-5]"), pointing to a reference
#: list, or an enumeration's "(1)": they count nothing the sentence states.
_REFERENCE_MARKER = re.compile(r"[\[(]\s*\d{1,3}(?:\s*[,;\u2013-]\s*\d{1,3})*\s*[\])]")
#: Text that states a rate: a percentage, a decimal, a multiple ("10-fold"), or one number per or in another
#: ("one in five", "12 per 1,000").
_RATE = re.compile(
    r"\d\s?%|\bper ?cent\b|(?<![\w.])\d+\.\d+(?![\w.])|\b\d+(?:\.\d+)?(?:[- ]fold|\s+times)\b"
    rf"|\b(?:\d[\d,.]*|{_SMALL_NUMBERS})\s+(?:in|out of)\s+(?!(?:19|20)\d\d\b)(?:\d|{_SMALL_NUMBERS}|every)"
    r"|\b\d[\d,.]*\s+per\s+(?:\d|every|each|one|a|an|head|capita)\b",
    re.I,
)
#: A number, in digits or words, and the words after it: "30,847 nucleotides", "three genotypes".
_NUMBER_AND_WORDS = re.compile(
    r"(?:(?<![\w/.-])(?!(?:19|20)\d\d\b)\d[\d,]*(?:\.\d+)?%?|\b(?:two|three|four|five|six|seven|eight|nine|ten"
    r"|eleven|twelve|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundreds?|thousands?|millions?"
    r"|dozens?))((?:\s+[^\W\d_][\w'-]*){1,3})",
    re.I,
)
#: Stems of words counting people of no particular kind: "How many people did they interview?" is answered by a
#: number of stakeholders, managers or nurses.
_ANYONE = frozenset(["peopl", "person", "particip", "interviewe", "individu", "respond", "inform"])
#: Text that says when: a year or decade, a month, or a time counted from an event ("10 days after onset",
#: "between 50 and 310 y ago").
_DATE = re.compile(
    r"(?<![\w/])(?:19|20)\d\d(?:s|(?![\w/]))|\b(?:January|February|March|April|May|June|July|August|September|"
    r"October|November|December)\b"
    r"|\b\d+(?:\.\d+)?\s*(?:y|yrs?|years?|months?|weeks?|days?|hours?|h|decades?)\s+"
    r"(?:ago|after|before|later|earlier|since|from|post)\b"
)
#: "It" standing for what follows, not for anything before: "It is interesting to note that ...", "It was
#: found that ...", "It remains unclear whether ...".
EXPLETIVE_IT = (
    r" (?:is|was|has been|had been|seems|seemed|appears|appeared|remains|remained|may be|might be|could be|would be)"
    r"(?: not)?(?: \w+ly)?(?: (?:\w+ (?:that|whether|if)|(?:important|necessary|essential|vital|crucial|possible"
    r"|impossible|difficult|hard|easy|interesting|worth|useful|helpful|clear|unclear|likely|unlikely|feasible"
    r"|noteworthy|notable|known) (?:to|that|whether|how|why))\b|(?: that)\b)"
)
#: Sentences that open with a word pointing back to the sentence before ("He had ...", "It appeared ...",
#: "Second, ..." after "First, ...": a later item of an enumeration; "According to the same report, ...";
#: "Even so, ..." and other connectives that concede or contrast).
ANAPHOR = re.compile(
    r"^(?:He|She|It(?!" + EXPLETIVE_IT + r")|They|This|These|That|Those|Its|Their|His|Her|Such"
    r"|The (?:other|former|latter))\b"
    # "One favoured ..." after "The interviews contained two opposing lines of argument."
    r"|^One(?= (?:of (?:them|these|those|the two)|\w+ed|was|is|has|had|saw)\b)"
    r"|^(?:Second|Secondly|Third|Thirdly|Fourth|Fourthly),"
    # ("In this study, ..." names the publication quoted, not the sentence before)
    r"|^(?:According to|In|By|From|Under) (?:the same|this(?! (?:study|paper|article|review|report|research|work"
    r"|evaluation|analysis|survey|trial)\b)|that|these|those|such)\b"
    r"|^(?:Even so|Even then|Nevertheless|Nonetheless|Despite (?:this|that|these|those)|In contrast|By contrast"
    r"|Conversely|Instead|Otherwise|Similarly|Likewise)\b"
    # "The review found evidence that it is potentially important ...": what "it" is, the sentence before says
    r"|^[^,.;:]{0,60}\bthat it(?!" + EXPLETIVE_IT + r")\s+(?:is|was|has|had|can|could|may|might|will|would)\b"
    # "The authors present this as a very large challenge": a demonstrative standing alone for what was said
    r"|^[^,.;:]{0,60}\b(?:this|these|those) (?:as|is|was|are|were)\b"
    # "The review reports evidence for it as ...": an "it" after a preposition is never a dummy
    r"|^[^,.;:]{0,60}\b(?:for|of|on|about|to|with|behind|against|from) (?:it|them)\b(?! all\b)"
    # "The authors call them ...", "In the order the abstract gives them, they are: ...": named or listed, they
    # are what the sentence before names
    r"|^[^,.;:]{0,60}\b(?:call|calls|called|term|terms|termed) them\b"
    r"|^[^,.;:]{0,60}\bthem, (?:they|these) (?:are|were):"
)
#: Sentences opening with a word that points at what the sentence before says.
_DEMONSTRATIVES = r"(?:This|These|That|Those|Such)"
_DEMONSTRATIVE = re.compile(rf"^{_DEMONSTRATIVES}\b")
#: The words a demonstrative opens with, up to the verb: "These acute exacerbations are ..." names what
#: it points at; "These include ..." does not.
_POINTED_AT = re.compile(
    rf"^{_DEMONSTRATIVES}\s+((?:(?!(?:is|are|was|were|be|been|has|have|had|includes?|included|can"
    r"|could|may|might|will|would|should|must|do|does|did|also|all|both|not|only|in|of|to|for|with|by|on|at|as"
    r"|that|which|who|then)\b)[^\W\d_][\w'-]*\s*){1,3})"
)
#: Sentences that carry on from the one before: an anaphor, or a connective that adds to it or draws
#: from it ("However, ...", "In addition, ...", "Meanwhile, ..."). Read after a direct answer, they finish it.
CONTINUATION = re.compile(
    ANAPHOR.pattern + r"|^(?:However|But|Yet|Still|Also|Again|Moreover|Furthermore|In addition|Additionally"
    r"|Meanwhile|Therefore|Thus|Hence|As a result|Consequently|Indeed|In turn|In particular|Importantly)\b"
)
#: A list marker or bold lead-in label opening a sentence unit: structure, not words to quote.
_LEAD_IN = re.compile(rf"^(?:{LIST_MARKER}\s+)?\*\*[^*\n]{{1,60}}\*\*\s+")
_LIST_MARKER = re.compile(rf"^{LIST_MARKER}\s+")
#: How a sentence is scored: meaning, IDF-weighted shared words, the retrieval rank of its
#: passage, and words the question does not already contain; plus a bonus when it states the
#: kind of thing asked for (a count, a date, advice).
DENSE_WEIGHT = 0.5
LEXICAL_WEIGHT = 0.4
RANK_WEIGHT = 0.6
NOVELTY_WEIGHT = 0.15
ANSWER_TYPE_BONUS = 0.2
#: What-works questions want what helped and what came of it; sentences that say so get a bonus,
#: and background (what a study starts from) a penalty.
_EFFECT = re.compile(
    r"\b(?:help(?:s|ed)?|improv(?:e|es|ed|ing)|enabl(?:e|es|ed)|led to|result(?:s|ed)? in|contribut(?:e|es|ed)"
    r"|support(?:s|ed)|facilitat(?:e|es|ed)|depend(?:s|ed)? on|key|important|crucial|essential|succe(?:ss|eded)"
    r"|barriers?|strengthen(?:s|ed)?|built|develop(?:ed)?|found that|showed|associated with)\b",
    re.I,
)
EFFECT_BONUS = 0.06
#: How-to questions ask for advice: sentences that say what should, must or needs to be done, or
#: what a change requires or depends on, state the kind of thing asked for (the answer-type bonus).
_ADVICE = re.compile(
    r"\b(?:should|must|ought to|needs? to|needed to|require[sd]?|requirements?|recommend\w*|advis\w*|advice"
    r"|preconditions?|prerequisites?|first step|key step|lessons?|depends? on|cannot be rushed|takes? time"
    r"|it is (?:important|essential|vital|crucial|necessary) to)\b",
    re.I,
)
#: Questions asking what stands in the way are answered by sentences saying what hindered, was hard or was
#: missing.
_HINDRANCE = re.compile(
    r"\b(?:hinder\w*|barriers?|obstacles?|made (?:it|this) (?:hard|harder|difficult)|(?:hard|harder|difficult) to"
    r"|difficult(?:y|ies)|lack(?:s|ed|ing)?\b|shortages?|prevent(?:s|ed)?|undermin\w*|imped\w*|tensions?"
    r"|conflicts?|fail(?:s|ed|ing|ures?)?|struggl\w*|challeng\w*|problems?|resist\w*|reluctan\w*"
    r"|absent|missing|held back|get in the way|got in the way)\b",
    re.I,
)
#: "Which factor matters most?" is answered by a sentence that ranks one thing above the rest: "the most
#: influential", "the main barrier", "above all".
_SUPERLATIVE = re.compile(
    r"\bmost (?:important|influential|significant|effective|powerful|critical|crucial|decisive|valued|useful"
    r"|helpful|common(?:ly)?|frequent(?:ly)?|often|strongly|consistent(?:ly)?|prominent)\b"
    r"|\b(?:the|a|its|their) (?:single |one )?(?:biggest|greatest|strongest|largest|main|primary|chief|principal"
    r"|overriding|dominant|decisive) (?:[\w'-]+ )?(?:factors?|influences?|drivers?|barriers?|enablers?|themes?"
    r"|challenges?|roles?|contributions?|lessons?|messages?|reasons?|mechanisms?|components?|determinants?"
    r"|obstacles?|priorit(?:y|ies)|conditions?|ingredients?|predictors?)\b"
    r"|\bmatter(?:s|ed|ing)? most\b|\babove all\b|\bmost of all\b",
    re.I,
)
#: "What are the review's limitations?" is answered by a sentence saying what limits the work or how far it carries:
#: "they acknowledge that stakeholder input came from only one ICS", "This may limit what the review can say".
_LIMITATION = re.compile(
    r"\blimitations?\b|\blimit(?:s|ed)? (?:what|how far|how much|the (?:extent|generali[sz]ability|transferability))\b"
    r"|\backnowledg\w*\b|\bcaveats?\b|\bweakness\w*\b|\bshortcomings?\b|\bsmall (?:sample|number)s?\b"
    r"|\bgenerali[sz](?:e|es|ed|ing|ation|ability|able)\b|\btransferab\w*\b|\bmay not (?:apply|hold|carry)\b"
    r"|\bonly (?:one|two|a few|a single)\b",
    re.I,
)
#: "Who funded ...?" is answered by a sentence naming who paid for the work.
_FUNDING = re.compile(r"\b(?:funded|paid for|commissioned|sponsored) by\b|\bfunding\b|\bgrants?\b", re.I)
#: "Who wrote ...?" is answered by a sentence naming who wrote the work.
_AUTHORS = re.compile(
    r"\b(?:the authors (?:are|were)|(?:written|authored) by|the (?:lead|first) author (?:is|was))\s+(?-i:[A-Z])", re.I
)
#: Evidence-strength questions ask how far the evidence can be trusted: sentences that appraise it
#: ("thin", "limited", "tentative", "no control groups", "high-quality studies are rare") state that.
_APPRAISAL = re.compile(
    r"\b(?:thin|limited|little|scarce|sparse|rare|few|tentative|preliminary|weak|strong|robust|rigorous"
    r"|high[- ]quality|low[- ]quality|middling|proven|small|control groups?|bias(?:ed)?|generali[sz]\w*"
    r"|potentially important|evidence (?:is|was|base is)|quality (?:of|rating))\b",
    re.I,
)
#: Background that frames a study by the gap in research it fills ("there is little evidence on how to
#: support leaders", "it is unclear what kind of leadership is needed", "The review starts from a gap")
#: says what is not known, not what works: a further penalty for questions asking what works.
_RESEARCH_GAP = re.compile(
    r"\b(?:little (?:research|evidence|is known)|(?:is|remains|was) unclear|(?:starts?|starting) from"
    r"|a gap\b|gaps? in\b|lack of (?:research|evidence)|(?:argues?|notes?|says?) that (?:leadership|integrat\w+) is)",
    re.I,
)
GAP_PENALTY = 0.3
#: A call for more research ("Future work should clarify which skills ...", "They call for more knowledge
#: about ...") echoes a question's words without answering it: the same penalty, unless the question is
#: itself about the evidence or research.
_CALL_FOR_RESEARCH = re.compile(
    r"\b(?:future (?:work|research|studies)|further (?:research|work|studies|study)|more (?:research|knowledge|studies)"
    r"|call(?:s|ed)? for (?:more|further|stronger)|research should|should (?:examine|explore|investigate)"
    r"|(?:stronger|better|more|further) (?:evidence|research|knowledge)\b[^.;:]{0,80}"
    r"\b(?:is|are) (?:urgently )?needed)\b",
    re.I,
)
#: Sentences about the research itself, whatever section they sit in: what it lacks ("there is little
#: research on ...", "It identifies three gaps: ...") or what it dwells on ("Studies often focus on who the
#: leader is ..."). Unless they report what studies found, they say nothing of what works: no candidates
#: for questions asking for findings (what works, how to, comparisons, what something is, and questions of
#: no clear intent) not about research.
_ON_THE_RESEARCH = re.compile(
    r"\b(?:little|scarce|sparse) (?:research|evidence)\b|\black of (?:research|evidence)\b"
    r"|\b(?:plenty of|a lot of|a great deal of) (?:\w+ ){0,2}(?:research|evidence|studies)\b"
    r"|\b(?:about|criticis\w*|critiqu\w*) (?:the )?(?:existing|current|previous|prior|wider) (?:research|literature"
    r"|evidence)\b"
    r"|\b(?:identif(?:y|ies|ied)|highlights?|highlighted|notes?|noted|names?|named|lists?|listed) (?:\w+ ){0,2}gaps?\b"
    r"|\b(?:knowledge|research|evidence) gaps?\b"
    r"|\blittle (?:is|was|has been) known about\b"
    # what the publications themselves cover, the whole sentence: "The added publications look at leadership at
    # different levels: ..."
    r"|^(?:(?:The|These|Those|Three|Two|Four|Five|Several|Some|Many|Other|Added) )+(?:\w+ )?(?:publications|papers)"
    r" (?:look|looks|deal|deals|examine|examines|cover|covers|focus|focuses|address|addresses)\b[^.]*\.?\s*$"
    r"|\bgaps? in (?:our |the )?(?:understanding|knowledge|evidence|research|literature)\b"
    r"|\b(?:studies|research|evidence)\b[^.;:]{0,80}"
    r"\b(?:is|are|was|were|remains?) (?:rare|scarce|thin|limited|lacking)\b"
    r"|^(?:[\w' ]{0,40}: )?(?:(?:First|Second|Third|Finally|Moreover|However|Yet),? )?"
    r"(?:(?:most|much|existing|current|the|this|that|such|previous|prior) )?"
    r"(?:research|studies|literature|evidence)\b(?! (?:\w+ )?(?:found|finds|show|shows|showed|suggest|suggests"
    r"|suggested|report|reports|reported|indicate|indicates|indicated|point|points)\b)",
    re.I,
)
#: A publication's stand on the research ("Sims et al. criticise the wider literature for focusing on who the
#: leader is", "studies concentrate on the leader as a person rather than on what leaders do"): where reviews are
#: compared, a side's position, however much it is about research.
_POSITION_ON_RESEARCH = re.compile(r"\b(?:criticis\w*|critiqu\w*)\b|\brather than (?:on )?what\b", re.I)
#: The next point of an enumeration ("Second, ...", "Finally, ..."): about what the points before it are about.
_NEXT_POINT = re.compile(r"^(?:Second|Secondly|Third|Thirdly|Fourth|Fourthly|Fifth|Finally|Lastly),")
#: A line of a compiled overview that lists the publications themselves ("**Scotland:** baylis2018 (...)"):
#: it says which studies there are, which answers only a question about the research.
_LISTS_PUBLICATIONS = re.compile(r"^(?:\*\*[^*\n]{1,60}\*\*\s+)?[a-z_]+(?:19|20)\d\d[a-z]*\b")
_WANTS_EFFECT = frozenset({"what_works", "how_to", "comparison"})
_WANTS_FINDINGS = _WANTS_EFFECT | {"general", "definition"}
#: Roles a sentence saying what a term is may have and still answer "What is X?": any but publication details and
#: scope notes.
_DEFINING_ROLES: frozenset[Role] = frozenset({"finding", "context", "background", "aim", "method"})
#: Questions for which all a named publication's passages share its best retrieval rank: what works or how to
#: do it, by Hendry et al., is anything they found, which their own match decides; for a fact about them,
#: which of their passages states it is what retrieval ranks.
_SHARES_ITS_RANK = frozenset({"what_works", "how_to"})
#: ... and what a named publication found, learnt or recommends about something ("What did Amunarriz et al.
#: find about the chief executive's role?"), not which thing of theirs ("Which group did they find best suited?"):
#: anything it found may answer, in words other than the question's.
_ASKS_WHAT_THEY_FOUND = re.compile(
    r"^\s*what (?:did|do|does|have|has) [^?]{1,80}?\b(?:find|conclude|learn|recommend)\b", re.I
)
#: Fewest words a quoted sentence has: shorter fragments state nothing.
MIN_WORDS = 3
#: The retrieval rank below which a passage's rank prior is 0.
PRIOR_DEPTH = 60
#: Share of the previous sentence's similarity a sentence opening with "It", "They", ... inherits.
ANAPHOR_CARRY = 0.9
#: Share of its list's opening sentence's similarity a list item inherits.
LIST_CARRY = 0.9


@dataclass(frozen=True, eq=False)
class ScoredSentence:
    """A candidate sentence with what ranks it and what it is."""

    quote: Quote
    unit: int  # position of its sentence unit in the passage, to find its neighbours
    score: float
    vector: np.ndarray
    role: Role
    field: str  # the coded record field it quotes ("context", "mechanism", ...), or "" for prose
    lexical: float  # share of the question's word weight it shares
    prior: float  # the part of its score that comes from its passage's retrieval rank
    typed: bool = False  # it states the kind of thing asked for: a count, a date, advice
    item: bool = False  # it is an item of a list ("- ...", "1. ...")
    tokens: frozenset[str] = frozenset()  # its word stems, to tell a repeat in other words
    #: It opens "These acute exacerbations ..." and the question names them ("What do the acute
    #: exacerbations cause?"): the question says what it points at, so it reads without the sentence before.
    pointed_at_by_question: bool = False
    #: It is about the research itself ("There is little research on ...") and the question asks for
    #: findings, not about research: it answers nothing asked.
    on_research: bool = False
    #: It states a count of what a "How many ...?" question counts, or a number standing alone.
    counts: bool = False
    #: It says what the term of a "What is X?" question is: whatever section it sits in, it answers (a method's
    #: name is spelt out where the methods are).
    defines: bool = False

    @property
    def content_score(self) -> float:
        """Its score without its passage's rank: how well the sentence itself matches the question."""
        return self.score - self.prior

    @property
    def passage(self) -> Passage:
        """The passage it quotes."""
        return self.quote.hit.passage

    @property
    def source_id(self) -> str:
        """Its publication."""
        return self.quote.hit.passage.source_id

    @property
    def is_scope_note(self) -> bool:
        """Whether the sentence says the evidence base does not cover something."""
        return self.role == "scope_note"

    @property
    def opens_with_anaphor(self) -> bool:
        """Whether it opens with "He", "It", ...: it reads only after the sentence before."""
        return bool(ANAPHOR.match(self.quote.text)) and not self.pointed_at_by_question

    @property
    def opens_with_demonstrative(self) -> bool:
        """Whether it opens with "This", "These", ...: without the sentence before, it says nothing
        ("This is the second of the seven components."), where "It ..." or "They ..." may still name
        the publication or its authors."""
        return bool(_DEMONSTRATIVE.match(self.quote.text)) and not self.pointed_at_by_question

    @property
    def carries_on(self) -> bool:
        """Whether it opens by carrying on from the sentence before ("However, ...", "This ...")."""
        return bool(CONTINUATION.match(self.quote.text))

    @property
    def continues(self) -> bool:
        """Whether it opens in lower case: a list item or fragment that reads only after the one before."""
        return self.quote.text[:1].islower()

    @property
    def introduces_list(self) -> bool:
        """Whether it ends in a colon or semicolon: what follows belongs with it."""
        return self.quote.text.rstrip().endswith((":", ";"))

    def eligible(self, roles: frozenset[Role]) -> bool:
        """Whether it may stand in an answer to a question asking for these roles.

        A fragment of one or two words ("Co-leadership") names a topic, and a question ("What was the
        major finding of the study?") asks one: neither states anything. A sentence on the research itself
        says nothing of what works, to a question asking for findings.
        """
        return (
            (self.role in roles or (self.defines and self.role in _DEFINING_ROLES))
            and not self.on_research
            and self.field != "heading"
            and len(self.quote.text.split()) >= MIN_WORDS
            and not self.quote.text.rstrip().endswith("?")
        )


@functools.lru_cache(maxsize=16_384)
def _found(pattern: re.Pattern[str], text: str) -> bool:
    """Whether a pattern is found in a sentence, searched once: the same pooled sentences recur from question
    to question, and a pattern as wide as ``_ON_THE_RESEARCH`` costs tens of microseconds a sentence."""
    return bool(pattern.search(text))


@functools.lru_cache(maxsize=256)
def statement_of(term: str) -> re.Pattern[str]:
    """Sentences that say what a term is: "<term> is/are/refers to ...", "<term> (...), a ..." or "... is <term>".

    In "<term> is ...", the term is what the sentence or its clause is about: it opens it ("ICSs are
    complex ...", "Here, co-leadership means ...", "... found that OHTs are ..."), where "Leading an ICS
    is ..." is about leading.
    """
    *head, last = re.split(r"[\s-]+", term.strip())
    # "partnership boards" is also stated of "a partnership board"
    plural = len(last) > 3 and last.endswith("s") and last[-2:-1].islower()
    last_word = re.escape(last[:-1]) + "s?" if plural else re.escape(last)
    # ... quoted or not: "known as 'COVID-19 Protect'"
    words = r"['‘\"“]?" + r"[\s-]+".join([*(re.escape(word) for word in head), last_word]) + r"['’\"”]?"
    # An acronym spelt out: "RAMESES (Realist And Meta-narrative Evidence Syntheses: Evolving Standards)"; or the
    # term spelt out after its short form, opening what the sentence says of it: "IHSs (integrated healthcare
    # systems) bring health and social care services together"
    spelt_out = (
        rf"|(?-i:\b{words}\s*\([A-Z][^)]{{8,}}\))"
        if term.isupper()
        else rf"|(?:^|[,;:]\s+)(?:(?:the|an?)\s+)?(?-i:[A-Z][\w-]*)\s*\(\s*{words}\s*\)\s+(?-i:[a-z])"
    )
    return re.compile(
        rf"\b(?:is|are|was|were|(?<!such )(?<!well )as|called|termed|known as)\s+(?:(?:an?|the)\s+)?{words}\b"
        rf"|\b{words}\b\s*(?:\([^)]*\)\s*)?,\s*(?:an?|the)\s"
        rf"|(?:^|[,;:]\s+|\bthat\s+)(?:(?:the|an?|these|those|all|most|many|some|such)\s+)?{words}\b\s*"
        r"(?:\([^)]*\)\s*)?(?:is\b|are\b|was\b|were\b|refers? to\b|means\b|denotes?\b|describes?\b|:|[—–])" + spelt_out,
        re.I,
    )


def counts_what_is_asked(query: Query, text: str, tokenizer: Tokenizer) -> bool:
    """Whether a sentence gives a number of what a "How many ...?" question counts ("three genotypes",
    "20 studies met the inclusion criteria"), in digits or in words; "How many people ...?" counts whoever the
    sentence names ("nine stakeholders", "eight managers")."""
    anyone = query.counted <= _ANYONE
    return bool(query.counted) and any(
        anyone or set(tokenizer.stems(match.group(1).split())) & query.counted
        for match in _NUMBER_AND_WORDS.finditer(text)
    )


def states_count(query: Query, text: str, tokenizer: Tokenizer) -> bool:
    """Whether a sentence states a count for a "How many ...?" question: a number standing alone, not a year, a
    reference marker or part of a name, or a number in words of what it counts ("three genotypes")."""
    counts = _LABEL_NUMBER.sub(" ", _REFERENCE_MARKER.sub(" ", text))
    return bool(_COUNT.search(counts) or counts_what_is_asked(query, counts, tokenizer))


def states_term(query: Query, text: str) -> bool:
    """Whether a sentence says what the term of a "What is X?" question is, under any of its forms."""
    return any(statement_of(term).search(text) for term in (query.term, *query.term_forms) if term)


def answer_type_bonus(
    query: Query, text: str, tokenizer: Tokenizer, counts: bool | None = None, defines: bool | None = None
) -> float:
    """``ANSWER_TYPE_BONUS`` when a sentence states the kind of thing asked for: a count (of what is counted),
    a date, advice, what counts most, what limits a piece of work, what the term of a "What is ...?" question is,
    or every item a "What are the seven ...?" question asks for. ``counts``: whether it states the count a "How
    many ...?" question asks for (:func:`states_count`), and ``defines`` whether it says what the term is
    (:func:`states_term`), when already read."""
    if counts is None:
        counts = query.wants_count and states_count(query, text, tokenizer)
    states = (
        (query.wants_rate and _RATE.search(_REFERENCE_MARKER.sub(" ", text)))
        or (counts and not query.wants_rate)
        or (query.wants_date and _DATE.search(text))
        or (query.intent.intent == "how_to" and _ADVICE.search(text))
        or (query.wants_hindrance and _HINDRANCE.search(text))
        or (query.wants_superlative and _SUPERLATIVE.search(text))
        or (query.wants_limitation and _LIMITATION.search(text))
        or (query.wants_funder and _FUNDING.search(text))
        or (query.wants_authors and _AUTHORS.search(text))
        or (query.listed > 1 and numbered_items(text) >= query.listed)
        or (states_term(query, text) if defines is None else defines)
        or (query.intent.intent == "evidence_strength" and _APPRAISAL.search(text))
    )
    return ANSWER_TYPE_BONUS if states else 0.0


def _rank_prior(hits: Sequence[RetrievedPassage]) -> dict[str, float]:
    """Retrieval scores rescaled to [0, 1] between the best hit and the ``PRIOR_DEPTH``-th best.

    The scale does not depend on how wide the pool is: passages below that depth all get 0.
    """
    if not hits:
        return {}
    scores = np.array([h.score for h in hits])
    top = float(scores.max())
    floor = float(np.sort(scores)[::-1][min(PRIOR_DEPTH, len(scores)) - 1])
    spread = top - floor
    scaled = np.clip((scores - floor) / spread, 0.0, 1.0) if spread > 1e-9 else np.ones_like(scores)
    return {h.passage.passage_id: float(v) for h, v in zip(hits, scaled, strict=True)}


def _named_share_best(
    prior: dict[str, float], hits: Sequence[RetrievedPassage], named: frozenset[str]
) -> dict[str, float]:
    """The rank prior with every passage of a publication the question is about raised to that publication's
    best."""
    best: dict[str, float] = {}
    for hit in hits:
        if (source := hit.passage.source.source_id) in named:
            best[source] = max(best.get(source, 0.0), prior[hit.passage.passage_id])
    return {h.passage.passage_id: best.get(h.passage.source.source_id, prior[h.passage.passage_id]) for h in hits}


def _field_of(passage: Passage, start: int) -> str:
    """The record field a span of a coded-evidence passage sits in ("" for prose)."""
    return next((f.name for f in passage.fields if f.start <= start < f.end), "")


def quotable_span(text: str, start: int, end: int) -> tuple[int, int]:
    """A unit's span without its opening list marker, or bold lead-in label before a sentence: structure."""
    unit = text[start:end]
    for pattern in (_LEAD_IN, _LIST_MARKER):
        lead = pattern.match(unit)
        rest = unit[lead.end() :] if lead else unit
        if lead and len(rest) >= 2 and (pattern is _LIST_MARKER or rest[:1].isupper()):
            return start + lead.end(), end
    return start, end


class ExtractiveAnswerer:
    """Scores the pool's sentences, then shapes the best into the question's form."""

    name = "extractive"

    def __init__(
        self, store: IndexStore, settings: Settings, vocabulary: Vocabulary, encode: Callable[[str], np.ndarray]
    ) -> None:
        self.store = store
        self.settings = settings
        self.vocabulary = vocabulary
        self.rules = AbstentionRules(store, settings, vocabulary, encode)
        self._tokens: dict[tuple[int, int], frozenset[str]] = {}

    def unit_tokens(self, position: int, texts: Sequence[str]) -> list[frozenset[str]]:
        """Word stems of a passage's sentence units, tokenised once per process; an abbreviation
        brings the stems of its full words ("ICSs" shares "integrated care systems")."""
        if (position, 0) not in self._tokens:
            for unit, tokens in enumerate(self.vocabulary.tokenizer(texts) if texts else []):
                self._tokens[(position, unit)] = self.vocabulary.abbreviations.with_full_words(tokens)
        return [self._tokens.get((position, unit), frozenset()) for unit in range(len(texts))]

    def points_at_the_question(self, query: Query, text: str) -> bool:
        """Whether a sentence opens with a demonstrative naming what a noun phrase of the question names
        ("These acute exacerbations are ..." for "What do the acute exacerbations cause?"; not "This suggests
        ..." for "What suggests that ...?")."""
        pointed = _POINTED_AT.match(text)
        return pointed is not None and bool(
            set(self.vocabulary.tokenizer.stems(pointed.group(1).split())) & query.referents
        )

    def score_sentences(self, query: Query, hits: Sequence[RetrievedPassage]) -> list[ScoredSentence]:
        """Every sentence unit of the pool's passages, scored against the question, best first."""
        q_weight = math.fsum(self.vocabulary.weight(t) for t in query.words) or 1.0
        prior = _rank_prior(hits)
        if query.asked_about and (
            query.intent.intent in _SHARES_ITS_RANK
            or (query.intent.intent == "general" and bool(_ASKS_WHAT_THEY_FOUND.search(query.text)))
        ):
            prior = _named_share_best(prior, hits, query.asked_about)
        about_research = query.about_research
        # Only a question for findings (what works, how to, a comparison, what something is, or of no clear
        # intent: "What role do GPs play in ...?") not about research is answered without sentences on the
        # research itself: for any other (a count or date of a study), they need not be read.
        research_excluded = query.intent.intent in _WANTS_FINDINGS and not about_research
        comparing = query.intent.intent == "comparison"
        scored = []
        for hit in hits:
            passage = hit.passage
            position = self.store.position[passage.passage_id]
            spans, roles, vectors = self.store.sentences(position)
            token_sets = self.unit_tokens(position, [passage.text[s:e] for s, e in spans])
            previous_dense = lead_dense = 0.0
            after_list = False  # the unit before is a list item ("- ...", "a willingness to share power;")
            on_research = False  # the unit before is about the research itself
            for unit, ((start, end), role, vector, tokens) in enumerate(
                zip(spans, roles, vectors, token_sets, strict=True)
            ):
                item = bool(_LIST_MARKER.match(passage.text[start:end]))
                start, end = quotable_span(passage.text, start, end)
                text = passage.text[start:end]
                dense = float(vector @ query.vector)
                if ANAPHOR.match(text):
                    # Its subject is in the sentence before, so it is about what that one is about.
                    dense = max(dense, ANAPHOR_CARRY * previous_dense)
                if item:
                    # A list item is about what the sentence opening its list is about.
                    dense = max(dense, LIST_CARRY * lead_dense)
                else:
                    lead_dense = dense
                previous_dense = dense
                lists_publications = bool(_LISTS_PUBLICATIONS.match(text))
                # "Second, what exists ..." after "First, there is little research ...", and "It offers little
                # insight ..." after "That research seldom ...", are about it too.
                on_research = research_excluded and (
                    (_found(_ON_THE_RESEARCH, text) and not (comparing and _found(_POSITION_ON_RESEARCH, text)))
                    or lists_publications
                    or (on_research and bool(_NEXT_POINT.match(text) or ANAPHOR.match(text)))
                )
                # "These mechanisms ..." after a list points at its items, which the question does not name.
                pointed_at = not after_list and self.points_at_the_question(query, text)
                after_list = item or text[:1].islower()
                lexical = math.fsum(self.vocabulary.weight(t) for t in query.words & tokens) / q_weight
                # Sentences that only echo the question's words carry no answer; new words might.
                novelty = len(tokens - query.words) / len(tokens) if tokens else 0.0
                score = (
                    DENSE_WEIGHT * dense
                    + LEXICAL_WEIGHT * lexical
                    + RANK_WEIGHT * prior[passage.passage_id]
                    + NOVELTY_WEIGHT * novelty
                )
                counts = query.wants_count and states_count(query, text, self.vocabulary.tokenizer)
                defines = states_term(query, text)
                bonus = answer_type_bonus(query, text, self.vocabulary.tokenizer, counts, defines)
                score += bonus - GAP_PENALTY * (
                    not about_research and (bool(_CALL_FOR_RESEARCH.search(text)) or lists_publications)
                )
                if query.intent.intent in _WANTS_EFFECT:
                    background = role == "background"
                    score += (
                        EFFECT_BONUS * bool(_EFFECT.search(text))
                        - BACKGROUND_PENALTY * background
                        - GAP_PENALTY * (background and bool(_RESEARCH_GAP.search(text)))
                    )
                field = _field_of(passage, start)
                rank_part = RANK_WEIGHT * prior[passage.passage_id]
                scored.append(
                    ScoredSentence(
                        Quote(hit, start, end),
                        unit,
                        score,
                        vector,
                        role,
                        field,
                        lexical,
                        rank_part,
                        typed=bonus > 0,
                        item=item,
                        tokens=tokens,
                        pointed_at_by_question=pointed_at,
                        on_research=on_research,
                        counts=counts,
                        defines=defines,
                    )
                )
        scored.sort(key=lambda s: -s.score)
        return scored

    def candidates(
        self, query: Query, hits: Sequence[RetrievedPassage]
    ) -> tuple[list[ScoredSentence], list[ScoredSentence]]:
        """Every scored sentence of the pool, and those of the roles the question asks for, best first."""
        candidates = self.score_sentences(query, hits)
        return candidates, [c for c in candidates if c.eligible(query.roles)]

    def abstention_evidence(self, query: Query, hits: Sequence[RetrievedPassage]) -> AbstentionEvidence:
        """What the abstention rules read from a question's pool (``icrag eval calibrate`` fits on it)."""
        return self.rules.evidence(query, *self.candidates(query, hits))

    def answer(self, query: Query, hits: Sequence[RetrievedPassage]) -> Answer:
        """A cited answer in the question's form from the pool, or an abstention."""
        candidates, eligible = self.candidates(query, hits)
        settings_hash = self.settings.settings_hash()
        if self.rules.abstains(query, candidates, eligible):
            return abstention(query.as_asked, hits[: self.settings.top_k], settings_hash)
        answer = compose(query, candidates, eligible, self.store, self.settings)
        if answer is None:
            return abstention(query.as_asked, hits[: self.settings.top_k], settings_hash)
        answer.settings_hash = settings_hash
        return answer
