"""Abbreviations of kinds of body, role and team in health and social care.

Questions use them ("our ICB", "GPs", "the PCN") where the indexed text spells the words out,
or predates them (integrated care boards took over from clinical commissioning groups in
2022). They name kinds of thing, not particular ones: a question using one names nothing the
evidence lacks, as "Fuller" or "Canterbury" would. Abbreviations the indexed text defines
itself are read from it (rag.abbreviations); this list holds the ones a leader of integrated
care uses without defining them. Named organisations (NHS England, the CQC) are not kinds.
"""

from __future__ import annotations

import re

#: Each abbreviation, singular, and the words it stands for.
KINDS: dict[str, str] = {
    "ACO": "accountable care organisation",
    "AHSN": "academic health science network",
    "AHP": "allied health professional",
    "ASC": "adult social care",
    "CCG": "clinical commissioning group",
    "CEO": "chief executive officer",
    "CFO": "chief finance officer",
    "CMO": "chief medical officer",
    "CNO": "chief nursing officer",
    "COO": "chief operating officer",
    "GP": "general practitioner",
    "HSCP": "health and social care partnership",
    "HWB": "health and wellbeing board",
    "ICB": "integrated care board",
    "ICO": "integrated care organisation",
    "ICP": "integrated care partnership",
    "ICS": "integrated care system",
    "IJB": "integration joint board",
    "MDT": "multidisciplinary team",
    "PCN": "primary care network",
    "STP": "sustainability and transformation partnership",
    "VCSE": "voluntary, community and social enterprise",
}
#: Offices held in those bodies, by which a question may name who asks ("a new ICB chair", "our non-executive
#: directors") where the indexed text never does: a kind of role, not a subject the evidence lacks.
OFFICES = (
    "chair chairs chairman chairwoman chairperson director directors non-executive non-executives trustee trustees"
    " councillor councillors governor governors commissioner commissioners"
    # ... and in government ("For the Cabinet Secretary's speech", "a cabinet paper", "Dutch ministry question")
    " minister ministers ministry ministries cabinet secretary secretaries"
)
#: An abbreviation of the list, singular or plural ("ICBs", "GPs").
_KIND = re.compile(rf"\b({'|'.join(KINDS)})s?\b")


def is_kind(word: str) -> bool:
    """Whether a word is one of the abbreviations, singular or plural."""
    return bool(_KIND.fullmatch(word))


def full_words(text: str) -> str:
    """The words the text's abbreviations of the list stand for, one after another ("" for none)."""
    return " ".join(KINDS[match.group(1)] for match in _KIND.finditer(text))
