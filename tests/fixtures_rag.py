"""Fixtures of the retrieval, extractive-answer and ``icrag ask`` tests: one tiny real index per session.

Loaded with ``pytest_plugins = ["fixtures_rag"]``, so the three test modules share one build.

Twelve passages from three publications and a plain-text note: two publications share a first author
(Sims, 2019 and 2021) so a named year must pick between them; one passage is longer than a 64-word
window (so it has window units) and repeats a sentence almost word for word; one introduces a list
with a colon, another a list whose items open in lower case; one is a scope note; one has a sentence
opening with "She", pointing back to the sentence before; three are coded-evidence records with
components, one with a "not reported" mechanism and a summary noting what the evidence base lacks.
No passage states an amount of money or mentions the Veterans Health Administration.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import RagIndex, build_index

from index.embedding import Embedder

__all__ = ["RagIndex", "rag_index"]  # RagIndex: the type the tests sharing this index annotate it with

REVIEW_MD = """# Evidence summaries

## Habits
Leaders who succeeded in joint working kept partners talking between the formal board meetings. The review lists the three habits these leaders relied on in their daily work:
- Holding monthly budget meetings where council and NHS partners sat as equals.
- Rotating the chair of the partnership board between the member organisations.
- Publishing the minutes of every joint decision for staff and the public to read. [sims2021 §Results]

## Power
Working with power means leaders notice how funding and status shape which partners are heard in joint decisions. Leaders who shared budgets openly reported more trust between council and NHS partners. [sims2021 §Abstract-Results]

## Scope
How leaders of integrated care teams are recruited and selected is not covered by this evidence base. [sims2021 §Scope-note]

## Fatigue
Nurses working night shifts in community hospitals reported more fatigue and sleep problems than day staff. Fatigue was highest after the third consecutive night shift. [sims2019 §Results]

## Methods
The survey of 412 community nurses ran in 2018 across six English hospital trusts. Nurses answered questions about sleep, fatigue and their rota patterns. The trusts were chosen to span two kinds of site:
- rural community hospitals with small night teams;
- city hospitals where agency nurses covered most night shifts. [sims2019 §Methods]

## Conclusions
Clinical leaders can make a distinctive contribution to the governance of integrated care systems. [waring2023 §Abstract-Conclusions]

## Dedication
The project was first shaped with Professor Ada Lane, who died suddenly in 2017. She had led research on interprofessional teams for twenty years, and the team dedicated the report to her. [waring2023 §Dedication]

## Boards
The study followed five partnership boards in the north of England for two years through interviews and observation of their meetings. Clinical leaders helped partnership boards agree shared priorities for the local population. Clinical leaders helped the partnership boards to agree shared priorities for their local population. Managers from councils valued clinical leaders who explained hospital pressures in plain language. Some board members worried that doctors dominated discussions about community services. [waring2023 §Findings]
"""  # noqa: E501

NOTES_TXT = """Shared electronic care records let social workers and general practitioners see the same medication list, which reduced duplicated assessments.
"""  # noqa: E501

EVIDENCE_CSV = (
    "record_id,component,context,mechanism,outcome,evidence_summary,source_id,section,included_study\n"
    'R1,working with power,Joint decisions between partners of unequal standing,"Leaders name funding gaps '
    'openly at the board",Smaller partners speak up in joint decisions,"Naming power openly helped smaller '
    'partners speak.",sims2021,Findings,\n'
    "R2,clarifying complexity,Boards facing overlapping national targets,Clinical leaders map which target "
    'each service answers to,Fewer duplicated reports to regulators,"Mapping targets cut duplicated '
    'reporting.",waring2023,Findings,\n'
    "R3,creating the conditions,Leading integrated care teams and systems across health and social care,"
    "Not reported in the summarised text,"
    'Named as one of the components the review found evidence for,"The review found evidence for creating '
    'the conditions. The studies that support it are not covered by this evidence base.",sims2021,'
    "Abstract-Results,\n"
)

SOURCES_CSV = (
    "source_id,authors,year,title,venue,doi,url,licence\n"
    'sims2021,"Sims S; Fletcher S; Harris R",2021,"What does success look like for leaders of integrated '
    'health and social care systems?",International Journal of Integrated Care,10.5334/ijic.5936,,CC BY 4.0\n'
    'sims2019,"Sims S; Brearley S",2019,"Night shifts and fatigue in community nursing",'
    "Journal of Nursing Management,10.1000/jnm.2019.1,,\n"
    'waring2023,"Waring J; Bishop S",2023,"Clinical leadership in the governance of integrated care systems",'
    "BMJ Leader,10.1136/leader-2023-1,,\n"
)

FILES: dict[str, str | bytes] = {
    "review.md": REVIEW_MD,
    "notes.txt": NOTES_TXT,
    "evidence.csv": EVIDENCE_CSV,
    "sources.csv": SOURCES_CSV,
}


@pytest.fixture(scope="session")
def rag_index(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path, embedder: Embedder) -> RagIndex:
    """The twelve-passage index, built once per session."""
    return build_index(tmp_path_factory.mktemp("rag"), FILES, cache_dir, embedder)
