"""The role of each sentence unit: what kind of text it is, so answers quote findings, not framing.

Roles come from three places, strongest first: a coded record's field (its context, its
mechanism and outcome); cues in the sentence itself that no section can overrule (a scope
note, publication details); the section heading it sits under ("Results", "Methods",
"Bibliographic details"); and, under a heading that says nothing of its role ("Abstract"),
cues of aims and methods in the sentence. Anything else is a finding.
"""

from __future__ import annotations

import re

from index.models import FieldName, Passage, Role
from index.sentences import LIST_MARKER, sentence_spans, sentence_units

#: Stable codes of the roles as stored in an index's unit table (append only).
ROLES: tuple[Role, ...] = ("finding", "context", "background", "aim", "method", "bibliographic", "scope_note")
ROLE_CODE: dict[Role, int] = {role: code for code, role in enumerate(ROLES)}

#: Sentences in which an evidence base states that it lacks a detail.
SCOPE_NOTE = re.compile(
    r"\bnot (?:covered|summari[sz]ed|given|stated|reported|recorded|included|described|available)\b"
    r"|\b(?:does|do) not (?:say|give|report|state|contain|describe|name|list|cover|include)\b"
    r"|\b(?:this|the) evidence base (?:covers|holds|contains|summari[sz]es)\b",
    re.IGNORECASE,
)
#: A bracketed aside: "setting up governance (the rest of this point is not given here)" is a
#: finding with a note on what is missing, not a note alone.
_ASIDE = re.compile(r"\([^()]*\)")
#: Sentences that give publication details: who wrote it, where and when it appeared, its licence.
_BIBLIOGRAPHIC_CUE = re.compile(
    r"\bDOI\b|\bISSN\b|\bISBN\b|\bis titled\b|\bwas titled\b|\bthe authors are\b|\bpublished online\b"
    r"|\bpublished (?:in|by) (?:the )?[A-Z]|\bCreative Commons\b|\bcopyright\b|\blicen[cs]e[ds]? (?:under|as)\b"
    r"|\bproject (?:number|reference)\b|\bfunded by\b|\bvolume \d|\bpp\. ?\d"
    # a publication's own history and furniture: "contract start April 2019", "accepted for publication in
    # August 2021", "Funding and timeline: ...", "The report opens with an epigraph from ..."
    r"|\bcontract (?:start|began|started|begins)\b|\beditorial review\b|\baccepted for publication\b"
    r"|\bfunding and timeline\b|\bepigraph\b|\bproject \d+/\d+/\d+|\bkey ?words (?:include|are)\b"
    # sentences about the document itself rather than what it found: "The title puts this ...", "This file records ..."
    r"|^(?:The|Its|This) (?:title|abstract|file|record|front matter|reference list) "
    r"(?:\w+ )?(?:puts|covers|records|gives|lists|is|was)\b",
    re.IGNORECASE,
)
#: Sentences that state what a study set out to do, under a heading that does not say.
_AIM_CUE = re.compile(
    r"^(?:The|This|Our|Its) (?:\w+ ){0,3}(?:aims?|objectives?|purpose|goals?)\b|\b(?:aimed|aims|sought|sets? out) to\b"
    r"|\bthe (?:review|study|paper|article|report) (?:\w+ )?(?:asks|asked)\b|\bresearch question\b"
    # what a study is about or was asked to do, not what it found: "This case study followed ...",
    # "... worked on three questions", "... asked The King's Fund to help them ..."
    r"|^(?:The|This) (?:[\w-]+ ){0,2}?(?:study|paper|review|article|project|analysis) (?:follow(?:s|ed)"
    r"|describe[sd]|explore[sd]|examine[sd]|investigate[sd]|looks at|looked at)\b"
    r"|^It (?:asks|asked) (?:how|whether|what|which|why)\b"
    rf"|^(?:{LIST_MARKER}\s+)?The authors (?:discuss|consider) \w+ \w+ (?!that\b)"
    # what the named authors' work is about: "Sims et al. and Harris et al. look at both integrated teams and ...",
    # "... all frame their work around England"
    r"|^(?:[A-Z][\w'’-]+ et al\.?,? (?:and )?)+(?:all |both )?(?:look|looks|looked) at\b"
    r"|\b(?:frame|frames|framed) (?:their|its) (?:work|review|study|analysis|research)\b"
    # a paper's own statement of what it does: "Here we describe ...", "In this study, we examined ..."
    r"|^(?:Here|In this (?:study|paper|article|report|review)),? we (?:describe|report|present|examine|explore"
    r"|investigate|analy[sz]e)"
    r"|\bworked on (?:\w+ ){0,2}questions\b|\bgives an account of\b|\bis written for\b"
    r"|\basked (?:the )?(?-i:[A-Z])[\w'’]*(?: (?-i:[A-Z])[\w'’]*)* to\b"
    # the question it asked and what it is: "Its overall question was how ...", "The paper reports a review of"
    r"|\b(?:overall|main|central|guiding|review|research) questions? (?:was|were|is|are)\b"
    r"|^(?:The|This) (?:paper|study|review|article|report) (?:reports|presents) (?:a|an)\b",
    re.IGNORECASE,
)
#: Sentences that describe how a study was done, under a heading that does not say.
_METHOD_CUE = re.compile(
    r"\b(?:we|they|the (?:authors|team|researchers|review|study)) (?:conducted|carried out|interviewed|searched"
    r"|recruited|analysed|analyzed|sampled|surveyed|used (?:a|an|the) \w+ (?:design|approach|method))\b"
    r"|\b(?:semi-structured|in-depth) (?:[\w-]+ )?interviews\b|\bthematic analysis\b|\bgrounded[- ]theory\b"
    r"|\bdata (?:were|was) (?:collected|analysed)\b"
    r"|\bdatabases? (?:were|was) searched\b|\bpurposive(?:ly)? sampl"
    # where its evidence comes from: "It draws on ...", "The paper is based on interviews ..."
    r"|\b(?:it|this|the (?:paper|report|review|study|analysis|article|summary|evaluation|blog|work))"
    r" (?:draws|drew|(?:is|was) based) on\b"
    # what the named authors did to gather it: "Sims et al. searched English-language literature"
    r"|\b[A-Z][\w'’-]+ et al\.? (?:searched|interviewed|surveyed|recruited|sampled)\b"
    # how many it heard and where it sits: "interviewing over 70 leaders", "The paper is part of a wider study"
    r"|\binterview(?:s|ed|ing)? (?:with |of )?(?:over |more than |some |around |about )?\d+"
    r"|\b(?:is|was|forms?|formed) (?:a |one )?part of a (?:wider|larger|broader)\b",
    re.IGNORECASE,
)
#: Sentences that say they give the background, under a heading that does not say.
_BACKGROUND_CUE = re.compile(
    r"\b(?:explain(?:s|ed)?|sets? out|gives?|gave|provided?s?|describe[sd]?) (?:the |some )?background\b"
    r"|\bby way of background\b",
    re.IGNORECASE,
)
#: Sentences that argue or note a view: under an aims heading, the framing of the problem.
_CLAIM = re.compile(
    r"\b(?:argues?|argued|note[sd]? that|starts? from|started from|see[sn]? (?:\w+ ){1,5}as"
    r"|presents? (?:\w+ ){1,4}as|(?:is|are|was|were) described as)\b",
    re.IGNORECASE,
)
#: Words by which a sentence speaks of the study itself.
_ABOUT_STUDY = re.compile(
    r"\b(?:study|studies|paper|review|report|project|article|research|it|its|they|their|we|our)\b", re.IGNORECASE
)
#: A purpose stated as an infinitive, as in a list of objectives ("- to assess how effective ...").
_PURPOSE = re.compile(rf"^(?:{LIST_MARKER}\s+)?to [a-z]+", re.IGNORECASE)
#: What a study found: a sentence saying so is a finding, however it opens ("The study followed 200
#: patients and found ...").
_FOUND = re.compile(
    r"\b(?:found|finds|showed|shows|show that|revealed|reveals|concluded|concludes|demonstrated?|demonstrates)\b",
    re.IGNORECASE,
)
#: Section headings and the role of the text under them, checked in order (first match wins).
_SECTION_ROLES: tuple[tuple[re.Pattern[str], Role], ...] = (
    (re.compile(r"not covered|scope[- ]note", re.I), "scope_note"),
    (
        re.compile(
            r"bibliograph|copyright|licen[cs]e|dedication|links to other|funding|acknowledg|references"
            r"|what this record is|publication details|author information|how to cite|metadata|front.?matter"
            r"|^contents$",
            re.I,
        ),
        "bibliographic",
    ),
    (
        re.compile(
            r"method|design|participants|sampl|ethics|stakeholder involvement|limitation|caveat|approach"
            r"|search strateg|data (?:collection|analysis)|strength of evidence"
            r"|(?:size|nature) (?:and nature )?of the evidence",
            re.I,
        ),
        "method",
    ),
    # "Purpose" opens an aims heading ("Abstract-Purpose"); "Shared purpose" names a topic.
    (
        re.compile(
            r"\baims?\b|objective|(?:^|[-/>:]\s*)purpose\b|review question|research question|why the work", re.I
        ),
        "aim",
    ),
    (
        re.compile(r"background|introduction|rationale|framing|\bcontext\b|gap in|building on|description", re.I),
        "background",
    ),
    (
        re.compile(r"result|finding|conclusion|discussion|key[- ]?message|implication|component|outcome|lesson", re.I),
        "finding",
    ),
)
#: The role of a coded record's fields; a record's heading names it and where it comes from.
_FIELD_ROLES: dict[FieldName, Role] = {
    "heading": "bibliographic",
    "context": "context",
    "mechanism": "finding",
    "outcome": "finding",
    "summary": "finding",
}


#: Section roles that a record's mechanism and outcome take over from "finding".
_NOT_FINDINGS: frozenset[Role | None] = frozenset({"aim", "method", "bibliographic", "background"})


#: Section roles that sentence cues do not overrule: a sentence under "Methods" is a method.
_STATED: frozenset[Role | None] = frozenset({"aim", "method", "bibliographic", "scope_note"})


def section_role(section: str) -> Role | None:
    """The role a section heading gives its text, or None for a heading that does not say ("Abstract").

    A heading naming two ("Context and design", "Background and aim") is taken by the one it names first.
    """
    found = [(match.start(), order, role) for order, (pattern, role) in enumerate(_SECTION_ROLES)
             if (match := pattern.search(section))]  # fmt: skip
    return min(found)[2] if found else None


def is_scope_note(text: str) -> bool:
    """Whether a sentence notes what the evidence base lacks, outside any bracketed aside."""
    return bool(SCOPE_NOTE.search(_ASIDE.sub(" ", text)))


def is_framing(text: str) -> bool:
    """Whether a sentence under an aims heading frames the problem rather than states the aim: it argues or
    notes a view ("The authors argue that ...", "The review starts from a gap"), or it speaks of the world,
    not of the study ("ICSs are complex ..."), and is no purpose ("- to assess ...")."""
    if _CLAIM.search(text):
        return True
    return not _ABOUT_STUDY.search(text) and not _PURPOSE.match(text)


def sentence_role(text: str, section: Role | None) -> Role:
    """The role of one sentence under a section of the given role."""
    if is_scope_note(text):
        return "scope_note"
    if _BIBLIOGRAPHIC_CUE.search(text):
        return "bibliographic"
    if section == "aim" and not _AIM_CUE.search(text) and is_framing(text):
        return "background"  # the problem a study starts from, under its "Purpose" heading
    if section is not None and section in _STATED:
        return section
    if _AIM_CUE.search(text) and not _FOUND.search(text):
        return "aim"
    if _METHOD_CUE.search(text) and not _FOUND.search(text):
        return "method"
    if section is None and _BACKGROUND_CUE.search(text):
        return "background"
    return section or "finding"


def passage_units(passage: Passage) -> list[tuple[int, int, Role]]:
    """The sentence units of a passage with their roles, offsets into the passage text.

    A coded record's units are the sentences of each field's value, labels excluded, so a
    quote never carries "Context:" or runs one field into the next.
    """
    # The file's own heading ("Findings") says what the text is; a tag's section ("Overview")
    # says where in the publication it came from, and decides only where the heading does not.
    under = section_role(passage.heading) or section_role(passage.section)
    if passage.fields:
        units: list[tuple[int, int, Role]] = []
        for field in passage.fields:
            value = passage.text[field.start : field.end]
            spans = [(0, len(value))] if field.name == "heading" else sentence_spans(value)
            role = _FIELD_ROLES[field.name]
            # A record coded from a study's methods describes the study, not what it found.
            section: Role = under if role == "finding" and under is not None and under in _NOT_FINDINGS else role
            for start, end in spans:
                text = value[start:end]
                if role in ("finding", "bibliographic"):
                    found = sentence_role(text, section)  # a scope note, publication details, aims or methods
                else:
                    found = "scope_note" if is_scope_note(text) else role
                units.append((field.start + start, field.start + end, found))
        return units
    return [(s, e, sentence_role(passage.text[s:e], under)) for s, e in sentence_units(passage.text)]
