"""rag.intent: what a question asks for (its intent, comparison sides and roles), read from its wording."""

from __future__ import annotations

import pytest

from index.models import Role, SourceInfo
from rag.intent import ROLES_ASKED, IntentReader, asked_roles, classify, names_surname, plural
from rag.models import Intent

#: Titles without country names or designs, so a side is chosen by its country alone.
SOURCES = [
    SourceInfo(
        source_id="baylis2018",
        authors="Baylis A; Trimble A",
        year="2018",
        title="Leading across health and social care: learning from chief officers",
        country="Scotland",
        design="practice report",
    ),
    SourceInfo(
        source_id="hendry2021",
        authors="Hendry A; Thompson M",
        year="2021",
        title="Reform of community services: what next?",
        country="Scotland",
        design="policy reflection",
    ),
    SourceInfo(
        source_id="sims2021",
        authors="Sims S; Fletcher S; Harris R",
        year="2021",
        title="What does success look like for leaders of integrated systems?",
        country="England",
        design="realist review",
    ),
    SourceInfo(
        source_id="waring2023",
        authors="Waring J; Bishop S",
        year="2023",
        title="What can clinical leaders contribute to governance?",
        country="England",
        design="qualitative study",
    ),
    SourceInfo(
        source_id="nies2021",
        authors="Nies H; Stekelenburg D",
        year="2021",
        title="A decade of lessons learned from integration strategies",
        country="Netherlands",
        design="policy analysis",
    ),
    SourceInfo(source_id="brewer2016", authors="Brewer M", year="2016", title="A scoping review", country=""),
]
SCOTTISH = ["baylis2018", "hendry2021"]
ENGLISH = ["sims2021", "waring2023"]
DUTCH = ["nies2021"]


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("What works in leading integrated care teams?", "what_works"),
        ("What helps leaders build trust between partners?", "what_works"),
        ("How can leaders improve collaboration across organisations?", "what_works"),
        ("In what circumstances does shared leadership succeed?", "what_works"),
        ("Which leadership behaviours make integrated teams work well?", "what_works"),
        ("What gets in the way of shared leadership between councils and the NHS?", "what_works"),
        ("Why do integration pilots fail to scale up?", "what_works"),
        ("What lessons are there for new boards about leading across organisations?", "how_to"),
        ("What should a new chair prioritise in their first year?", "how_to"),
        ("What advice is there for leaders developing a shared purpose?", "how_to"),
        ("Which leadership behaviours help during a pandemic?", "what_works"),
        ("Which studies worked with patients?", "general"),
        ("What are the risks of relying on one charismatic leader in integration?", "general"),
        ("What leadership approaches help systems succeed during a crisis like COVID-19?", "what_works"),
        ("What would you like to know about leaders?", "general"),
        ("How should leaders set up a joint board?", "how_to"),
        ("What should a new system leader do first?", "how_to"),
        ("How to run a partnership meeting across council and NHS staff?", "how_to"),
        ("How should an integrated care board go about sharing power with councils?", "how_to"),
        ("How ought a partnership board to handle disagreements?", "how_to"),
        ("How can ICB leaders build trust with councils?", "how_to"),  # whoever is to do it
        ("We are a new board and partners distrust each other. Where should we start?", "how_to"),
        ("How confident can we be that pooled budgets reduce admissions?", "evidence_strength"),
        ("What can a chief officer do to keep partners engaged?", "how_to"),
        ("Which approaches have been shown to work for joint boards?", "what_works"),
        ("How could a partnership board share its budget?", "how_to"),
        ("How do Sims et al. describe the components?", "general"),  # what a publication does: no advice
        ("How is leading a system different from leading an organisation?", "comparison"),
        ("How does the Scottish experience compare with the English one?", "comparison"),
        ("Do Sims and Waring agree about clinical leadership?", "comparison"),
        ("What is the difference between a system leader and a team leader?", "comparison"),
        ("How strong is the evidence for shared leadership?", "evidence_strength"),
        # how well the research defines something is about the research, not a definition
        ("How well is 'leadership' actually defined and theorised in the research?", "evidence_strength"),
        ("How well is the partnership working?", "general"),
        ("Has the picture shifted between the first-year review and the later case studies?", "comparison"),
        ("Quick question: what is an ICS?", "definition"),
        ("How far can we generalise from the Swedish study on trust?", "evidence_strength"),
        ("One by Sims and one by Knight: are they basically saying the same thing?", "comparison"),
        ("How much solid evidence is there for co-leadership?", "evidence_strength"),
        ("Is the Swedish co-leadership study big enough to convince my director?", "evidence_strength"),
        ("That Knight review - can I assume it applies to my area?", "evidence_strength"),
        ("How much can a ministry lean on the Nordic studies?", "evidence_strength"),
        ("Could we adopt the seven components as a validated standard for our leaders?", "evidence_strength"),
        ("Can the permanent secretary cite the Hendry paper as an evaluation?", "evidence_strength"),
        ("can we generalise Knight et al's ICS findings to our system or is it too narrow", "evidence_strength"),
        ("Is there evidence that pooled budgets reduce hospital admissions?", "evidence_strength"),
        ("How many studies support working with power?", "evidence_strength"),
        ("What is the quality of the evidence on clinical leadership?", "evidence_strength"),
        ("Has the seven-component framework been validated, or is it still provisional?", "evidence_strength"),
        ("How many components did the review identify?", "factoid"),
        ("When was the realist review published?", "factoid"),
        ("In which year did the programme start?", "factoid"),
        ("Where was the study set?", "factoid"),
        ("What is system leadership?", "definition"),
        ("What is meant by working with power?", "definition"),
        ("What do the authors mean by 'working with power'?", "definition"),  # not who the authors are
        ("What sampling strategy did Curry et al. use in their case study?", "methods"),
        ("What do both Sims et al. and Knight et al. say about trust?", "comparison"),
        ("What does the research say about sharing a single manager across both?", "general"),  # no sides
        ("How do leaders work across both health and social care?", "how_to"),  # the sector's name, no sides
        ("What do the authors actually mean by 'clarifying complexity'?", "definition"),
        ("Do Sims et al. and Knight et al. end up with the same ideas about what matters?", "comparison"),
        ("Define clarifying complexity.", "definition"),
        ("What methods did the review use?", "methods"),
        ("Which databases were searched?", "methods"),
        ("How were the interviews analysed?", "methods"),
        ("Who wrote the realist review?", "methods"),
        ("Who funded the synthesis, and what is the project number?", "factoid"),  # a fact of its publication
        ("What are the limitations of the study?", "methods"),
        ("Tell me about clinical leadership in integrated care.", "general"),
        ("Leaders of integrated care teams", "general"),
        ("Summarise the review on joint working.", "general"),
        ("Is Scotland's model of integration working better than Wales's?", "comparison"),
        ("How does SCIE's framework line up with the seven components?", "comparison"),
        ("How does the Scottish reform stack up against the English one?", "comparison"),
        ("The two Dutch studies differ in scale. What did each look at and find?", "comparison"),
        # to agree on a direction is what a partnership is to do, not publications agreeing
        ("How do you get very different organisations to agree a common direction?", "how_to"),
        # "When ..., what ...?" asks what, in the case the clause sets
        ("When the review talks about 'integrated healthcare systems', what does it mean by that?", "definition"),
        ("Several of these reviews mention RAMESES. What is it?", "definition"),
        ("What exactly is co-leadership?", "definition"),
        ("Several reviews mention RAMESES. What is RAMESES, exactly?", "definition"),
        ("According to Sims et al. what is the role of the ICB?", "general"),  # "et al." ends no sentence
        ("How do you define integrated care?", "definition"),
        ("What has been proven to work in joint commissioning?", "what_works"),
        ("Do the reviews tend to agree about what ICS leaders need?", "comparison"),
        ("How do they handle conflict between the NHS and councils?", "how_to"),
        ("RAMESES - what does it stand for, and which reviews used it?", "definition"),
        # making a difference is an effect, not two things differing
        ("What's the evidence that leadership programmes make any difference?", "what_works"),
        ("What difference does clinical leadership make?", "what_works"),
        ("do leadership development programmes make any real difference?", "what_works"),
        ("What needs to be in place before two organisations share a manager?", "how_to"),
        ("How did Knight et al. get their initial programme theories?", "methods"),
        ("How did Knights et al. generate and then test their programme theories?", "methods"),
        ("How did the Scottish reflection organise its assessment of what helped and what got in the way?", "methods"),
        ("Tell me what difference the new leaders made.", "what_works"),
        ("What are its components?", "general"),  # its parts, not what it is
        ("making co-leadership work day to day", "how_to"),  # a search box's how-to
        ("building trust between NHS and council", "how_to"),
        ("co-leadership evidence", "general"),
        ("Building trust: what did Nieuwboer find?", "general"),  # a question of its own
        ("Developing countries and integrated care", "general"),
        ("How did the board conduct its review of governance?", "general"),  # no publication's method
        ("I wonder what difference it would make.", "what_works"),
        ("How far can its programme theories be trusted outside the system it studied?", "evidence_strength"),
        ("How independent and robust is that assessment?", "evidence_strength"),
        ("Is that a fair description of the evidence?", "evidence_strength"),
        ("How have others structured leadership development?", "how_to"),
        ("What does research suggest senior leaders can do about that?", "how_to"),
        ("When people talk about system leadership, what do they mean?", "definition"),
        ("How did leaders build trust across the system?", "general"),
        ("Does leadership really make much difference to how systems perform?", "what_works"),
        ("Did leadership make a difference in the OHTs? We look at Ontario as a comparator.", "what_works"),
        ("One review says doctors lead best, another that we dwell on who leads. Do these conflict?", "comparison"),
        ("Doesn't that sit awkwardly with Sims et al.'s critique?", "comparison"),
        ("Nieuwboer's review says physicians lead best. How does that sit with Sims et al.'s critique?", "comparison"),
        ("Conflicts of interest are baked into our partnership. Is joint decision-making worth it?", "what_works"),
        ("What can clinical leaders bring to ICS governance that managers can't?", "what_works"),
        ("Do leadership development programmes actually change anything?", "what_works"),
        ("Our ICS has no statutory powers. How are its leaders meant to get anything done?", "how_to"),
    ],
)
def test_classify(question: str, intent: Intent) -> None:
    assert classify(question) == intent


def test_every_intent_asks_for_findings() -> None:
    for intent, roles in ROLES_ASKED.items():
        assert {"finding", "context", "background"} <= roles, intent
    assert "method" not in ROLES_ASKED["what_works"] and "bibliographic" not in ROLES_ASKED["general"]
    assert {"method", "aim"} <= ROLES_ASKED["evidence_strength"]
    # how a study was done is no title, journal or funder: those only when its words ask ("Who wrote ...?")
    assert {"method", "aim"} <= ROLES_ASKED["methods"] and "bibliographic" not in ROLES_ASKED["methods"]


@pytest.mark.parametrize(
    ("intent", "question", "added"),
    [
        ("what_works", "What did leaders achieve, and how large was the sample?", {"method"}),
        ("general", "What did the interviews with chief officers show?", {"method"}),
        ("factoid", "Under what licence is the report available?", {"bibliographic"}),
        ("general", "What was the review meant to do?", {"aim"}),
        ("what_works", "What helps leaders build trust between partners?", set()),
        ("definition", "What was the 'discovery' approach that the two organisations used?", {"method"}),
        ("what_works", "What leadership approaches help systems succeed in a crisis?", set()),
        ("factoid", "Which programme funded the synthesis?", {"bibliographic"}),
        ("factoid", "Funding for the review came from where?", {"bibliographic"}),
        ("comparison", "Do the King's Fund report and the NIHR project agree on system leadership?", set()),
        ("factoid", "How many integrated care systems did the team study?", {"method"}),  # a study's sample
        ("factoid", "Who was interviewed, and in what settings?", {"method"}),
        ("factoid", "How many papers were included?", {"method"}),
        ("factoid", "What did the second stakeholder event do?", {"method"}),
        ("factoid", "How large was the data collection?", {"method"}),
        ("methods", "Who wrote the review, and how was it done?", {"bibliographic"}),
        ("methods", "What theoretical lens did Kjellberg and Szucs use?", set()),
        # whose findings, and what a thing includes or records hold, are not how a study was done
        ("what_works", "What makes collaboration work, according to the leaders interviewed?", set()),
        ("general", "Does the framework include anything about dealing with power?", set()),
        ("how_to", "How do leaders engage stakeholders across the system?", set()),
        ("how_to", "How should we use our shared care record and its data?", set()),
        # how big the evidence behind a review is, its methods tell
        ("comparison", "Can you compare how big the evidence bases were in the two reviews?", {"method"}),
        ("comparison", "Comparing the three reviews, which one rests on the most literature?", {"method"}),
        ("general", "Quick one: how big was the Ontario Health Teams leadership study?", {"method"}),
        # how a review is or was done
        ("comparison", "How did Knight et al. and Nieuwboer et al. go about reviewing leadership?", {"method"}),
        ("how_to", "How would you set up a realist synthesis of integrated care leadership?", {"method"}),
        ("how_to", "How should a realist synthesis on leadership be staged?", {"method"}),
        ("general", "The NIHR report says it followed RAMESES - what is that?", {"method"}),
        # how far findings carry is told by how they were gathered
        ("general", "Can we generalise Knight et al's findings to our system, or is it too narrow?", {"method"}),
        ("general", "Can we cite the Hendry et al. paper as if it were an independent evaluation?", {"method"}),
        # what a leader goes about, sets up or designs is no review
        ("how_to", "How should we go about building trust with the council?", set()),
        ("how_to", "How should we set up a leadership development programme?", set()),
    ],
)
def test_asked_roles_adds_the_roles_a_question_names(intent: Intent, question: str, added: set[Role]) -> None:
    assert asked_roles(intent, question) == ROLES_ASKED[intent] | added
    assert asked_roles(intent) == ROLES_ASKED[intent]


def test_asked_roles_without_cues_adds_nothing() -> None:
    roles = asked_roles("general", "Tell me about leaders who shared budgets openly.")
    assert roles == ROLES_ASKED["general"]
    assert "method" not in roles and "bibliographic" not in roles


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How does leading integrated care in Scotland compare with England?", [SCOTTISH, ENGLISH]),
        ("How does leading integrated care in England compare with Scotland?", [ENGLISH, SCOTTISH]),
        ("Compare the Scottish and English experience of leading integrated care.", [SCOTTISH, ENGLISH]),
        ("How do Scottish and Dutch leaders differ?", [SCOTTISH, DUTCH]),
    ],
)
def test_sides_of_a_comparison_naming_two_countries(question: str, expected: list[list[str]]) -> None:
    reader = IntentReader(SOURCES)
    sides = reader.sides(question, set())
    assert [sorted(side.source_ids) for side in sides] == expected
    assert all(side.label for side in sides)
    read = reader.read(question, set())
    assert read.intent == "comparison"
    assert [sorted(side.source_ids) for side in read.sides] == expected


def test_a_country_without_publications_is_a_side_with_none() -> None:
    sides = IntentReader(SOURCES).sides("How does leadership in Scotland compare with France?", set())
    assert [sorted(side.source_ids) for side in sides] == [SCOTTISH, []]


def test_one_country_is_not_a_comparison_of_sides() -> None:
    reader = IntentReader(SOURCES)
    assert reader.sides("How does leadership in Scotland compare with other places?", set()) == []
    assert reader.sides("Compare the leadership components.", set()) == []


def test_sides_named_by_authors() -> None:
    sides = IntentReader(SOURCES).sides("Compare Sims et al. with Waring et al.", {"sims2021", "waring2023"})
    assert [side.source_ids for side in sides] == [["sims2021"], ["waring2023"]]


def test_sides_named_by_a_country_and_an_author() -> None:
    sides = IntentReader(SOURCES).sides("How does the Scottish experience compare with Sims et al.?", {"sims2021"})
    assert [side.source_ids for side in sides] == [SCOTTISH, ["sims2021"]]


def test_a_side_naming_what_the_index_never_does_is_a_side_without_publications() -> None:
    """ "Kaiser Permanente" is no word of the index: the comparison is answered for the Scottish side, and says the
    other has no evidence, rather than being refused whole."""
    question = "How does the Scottish experience stack up against Kaiser Permanente's model?"
    sides = IntentReader(SOURCES).sides(question, set(), unknown=lambda word: word in {"Kaiser", "Permanente"})
    assert [(side.label, side.source_ids) for side in sides] == [("Scotland", SCOTTISH), ("Kaiser Permanente", [])]
    # a side known to the index but naming no publication is none
    assert IntentReader(SOURCES).sides(question, set()) == []


def test_what_a_comparison_holds_better_than_is_a_side() -> None:
    question = "Is the Scottish model better than the Torbay model?"
    sides = IntentReader(SOURCES).sides(question, set(), unknown=lambda word: word == "Torbay")
    assert [(side.label, side.source_ids) for side in sides] == [("Scotland", SCOTTISH), ("Torbay", [])]


def test_read_gives_sides_only_to_comparisons() -> None:
    reader = IntentReader(SOURCES)
    read = reader.read("What works in Scotland and England?", {"sims2021"})
    assert read.intent == "what_works"
    assert read.sides == []
    assert read.named_sources == ["sims2021"]


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("How did leaders in Scotland and England experience integrating care?", "comparison"),
        ("What did Scottish and Dutch leaders say about integration?", "comparison"),
        ("How did leaders in Scotland experience integrating care?", "general"),
        ("How did leaders in Scotland and Scotland's islands experience integrating care?", "general"),
    ],
)
def test_a_question_about_two_countries_without_other_cues_compares_them(question: str, intent: str) -> None:
    """Asked about two countries at once, the answer takes them one by one."""
    read = IntentReader(SOURCES).read(question, set())
    assert read.intent == intent
    assert len(read.sides) == (2 if intent == "comparison" else 0)


def test_places_lists_the_publications_of_each_known_country() -> None:
    reader = IntentReader(SOURCES)
    assert [sorted(ids) for ids in reader.places("What happened in Scotland and the Netherlands?")] == [SCOTTISH, DUTCH]
    assert reader.places("What happened in France?") == []


def test_a_country_named_by_its_adjective_keeps_all_its_publications() -> None:
    """ "English" picks England's publications; a title saying "English NHS" does not narrow the side to it."""
    titled = SourceInfo(
        source_id="english_nhs",
        authors="Lee K",
        year="2023",
        title="Architecture of the English NHS",
        country="England",
    )
    reader = IntentReader([*SOURCES, titled])
    sides = reader.sides("How do English and Scottish leaders of integrated care differ?", set())
    assert [sorted(side.source_ids) for side in sides] == [sorted([*ENGLISH, "english_nhs"]), SCOTTISH]


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("What are the barriers to joint working between councils and the NHS?", "what_works"),
        ("What is the best way to share a budget across partners?", "how_to"),
    ],
)
def test_a_short_what_is_question_with_a_what_works_or_how_to_cue_is_not_a_definition(
    question: str, intent: Intent
) -> None:
    assert classify(question) == intent


def test_a_country_side_described_by_its_title_is_narrowed_to_that_publication() -> None:
    reader = IntentReader(SOURCES)
    question = "Compare the Scottish reform of community services with English work on integrated care."
    sides = reader.sides(question, set())
    assert sides[0].source_ids == ["hendry2021"]  # "reform of community services"
    one_pair = reader.sides("Compare Scottish work on community reform with English work.", set())
    assert sorted(one_pair[0].source_ids) == SCOTTISH  # a single shared pair singles nothing out


@pytest.mark.parametrize(
    "question",
    ["What should governance of a new system be designed to do?", "How do leaders build a shared purpose?"],
)
def test_everyday_words_near_a_role_cue_ask_for_no_extra_role(question: str) -> None:
    assert asked_roles("how_to", question) == ROLES_ASKED["how_to"]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Do the reviews agree on what leaders need?", ["sims2021"]),
        ("What do the studies say about trust?", ["waring2023"]),
        ("Do the policy analyses and reports differ?", ["baylis2018", "nies2021"]),
        ("What does the review say about trust?", []),  # one review is named, not a kind compared
        ("Do the publications agree on trust?", []),
    ],
)
def test_of_kind_lists_the_publications_of_a_kind_named_in_the_plural(question: str, expected: list[str]) -> None:
    assert IntentReader(SOURCES).of_kind(question) == expected


@pytest.mark.parametrize(
    ("noun", "expected"),
    [("review", "reviews"), ("case study", "case studies"), ("realist synthesis", "realist syntheses"),
     ("survey", "surveys"), ("mixed methods", "mixed methods")],
)  # fmt: skip
def test_plural(noun: str, expected: str) -> None:
    assert plural(noun) == expected


@pytest.mark.parametrize(
    ("question", "countries"),
    [
        ("How do I explain systems leadership in plain English?", []),
        ("Is there English-language research on it?", []),
        ("What did the English and Dutch studies find?", ["England", "Netherlands"]),
        ("What works in English primary care?", ["England"]),
    ],
)
def test_a_language_is_not_a_country(question: str, countries: list[str]) -> None:
    assert IntentReader.countries(question) == countries


@pytest.mark.parametrize(
    ("word", "surname", "named"),
    [
        ("nieuwboer", "Nieuwboer", True),
        ("niewboer", "Nieuwboer", True),  # a letter missing
        ("kjelberg", "Kjellberg", True),
        ("nieuwbore", "Nieuwboer", True),  # two letters swapped
        ("nieuwb", "Nieuwboer", False),
        ("warning", "Waring", False),  # too short a surname to take a near word for it
        ("waring", "Waring", True),
    ],
)
def test_a_long_surname_is_named_with_one_letter_wrong(word: str, surname: str, named: bool) -> None:
    assert names_surname({word}, surname) is named


@pytest.mark.parametrize(
    ("name", "surname", "named"),
    [
        ("bhatt", "Bhat", True),  # a letter doubled
        ("sibald", "Sibbald", True),  # a letter undoubled
        ("knights", "Knight", True),  # an "s" added
        ("knigt", "Knight", False),  # too short a surname for a letter missing
        ("smith", "Sims", False),
    ],
)
def test_a_name_with_a_letter_doubled_undoubled_or_an_s_added_names_a_surname(
    name: str, surname: str, named: bool
) -> None:
    assert names_surname(set(), surname, {name}) is named


def test_a_word_in_lower_case_near_a_short_surname_is_another_word() -> None:
    """ "warring partners" is no misspelt Waring: only a name the question capitalises is read as a surname."""
    assert not names_surname({"warring"}, "Waring")
    assert names_surname(set(), "Waring", {"warring"})
