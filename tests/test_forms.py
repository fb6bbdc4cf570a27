"""rag.forms: answer forms on the tiny real index; computed text (headings, gap notes, the evidence
line) is kept apart from the quoted sentences, and the evidence line counts what the answer cites."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pytest

from rag import extractive, forms
from rag.citations import Quote
from rag.extractive import RANK_WEIGHT, ExtractiveAnswerer, ScoredSentence
from rag.forms import (
    DUPLICATE_SIMILARITY,
    Selection,
    _plural,
    _profile,
    compose,
    fill,
    in_own_words,
    judges_evidence,
    numbered_items,
    repeats,
    sides_of,
    spread,
    whole_sentences,
)
from rag.models import Answer

if TYPE_CHECKING:
    from fixtures_rag import RagIndex

pytest_plugins = ["fixtures_rag"]  # the twelve-passage index shared with the retrieval and answer tests

NIGHT_SHIFTS = "How does night shift work affect nurses' fatigue?"
POWER = "What works in working with power?"
BOARDS = "What did clinical leaders contribute to partnership boards?"
COMPARE = "Compare what Sims and Waring found about partnership boards."
STRENGTH = "How strong is the evidence on clinical leaders and partnership boards?"
ANSWERABLE = [NIGHT_SHIFTS, POWER, BOARDS, COMPARE, STRENGTH]
LABELS = ("Context:", "Mechanism:", "Outcome:", "Summary:")


@pytest.mark.parametrize(
    ("text", "items"),
    [
        ("They are: (1) 'inspiring intent'; (2) 'creating the conditions'; and (3) 'working with power'.", 3),
        ("Leaders met monthly (28) and shared budgets (31) .", 0),  # reference markers number nothing
        ("Diabetes is common (1) and costly (2) and rising (3) worldwide.", 0),
        ("The steps are: (1) agree aims and (3) review them.", 1),  # a list numbers from one on, without gaps
        ("No list here.", 0),
    ],
)
def test_numbered_items_counts_the_items_a_sentence_lists(text: str, items: int) -> None:
    assert numbered_items(text) == items


@pytest.mark.parametrize(
    ("noun", "n", "plural"),
    [
        ("case study", 2, "case studies"),
        ("qualitative case study", 3, "qualitative case studies"),
        ("survey", 2, "surveys"),
        ("realist review", 2, "realist reviews"),
        ("unknown design", 2, "unknown designs"),
        ("realist review", 1, "realist review"),
        ("realist synthesis", 2, "realist syntheses"),
        ("case study", 1, "case study"),
        ("interviews and literature review", 1, "interviews and literature review"),
        ("mixed methods", 2, "mixed methods"),
    ],
)
def test_plural(noun: str, n: int, plural: str) -> None:
    assert _plural(noun, n) == plural


def test_profile_counts_the_given_publications(rag_index: RagIndex) -> None:
    store = rag_index.store
    two = _profile(store, ["sims2021", "waring2023", "not-indexed"], [], bearing_count=2)
    assert two.line == "Evidence: 2 of 3 publications (2 unknown designs; 2021–2023)."
    assert (two.publications, two.records, two.bearing, two.indexed) == (2, 0, 2, 3)
    assert two.designs == {"unknown design": 2} and two.years == ["2021", "2023"] and two.countries == []
    one = _profile(store, ["sims2019"], [], bearing_count=1, bearing=True)
    assert one.line == "1 of 3 publications bears on this question: 1 unknown design; 2019."
    records = [p.passage_id for p in store.passages if p.record is not None and p.source_id == "sims2021"]
    assert len(records) == 2
    with_records = _profile(store, ["sims2021"], records, bearing_count=1)
    assert with_records.line == "Evidence: 1 of 3 publications and 2 coded records (1 unknown design; 2021)."
    assert with_records.records == 2
    bearing = _profile(store, ["sims2021"], records[:1], bearing_count=1, bearing=True)
    assert bearing.line == "1 of 3 publications and 1 coded record bear on this question: 1 unknown design; 2021."
    nothing = _profile(store, [], [], bearing_count=0)
    assert nothing.line == "Evidence: 0 of 3 publications."


@pytest.fixture(scope="module")
def answers(rag_index: RagIndex) -> dict[str, Answer]:
    """Each answerable question's answer, asked once."""
    return {question: rag_index.pipeline.ask(question) for question in ANSWERABLE}


@pytest.mark.parametrize("question", ANSWERABLE)
def test_evidence_line_counts_what_the_answer_cites(
    question: str, answers: dict[str, Answer], rag_index: RagIndex
) -> None:
    answer = answers[question]
    assert not answer.abstained and answer.citations
    evidence = answer.evidence
    assert evidence is not None
    cited = {c.source_id for c in answer.citations}
    store = rag_index.store
    records = {c.passage_id for c in answer.citations if store.passages[store.position[c.passage_id]].record}
    assert evidence.line.startswith("Evidence: ")
    assert evidence.publications == len(cited)
    assert evidence.records == len(records)
    assert evidence.indexed == 3
    assert evidence.line.startswith(f"Evidence: {len(cited)} of 3 publication")
    assert evidence.years == sorted({store.manifest.sources[s].year for s in cited})
    assert sum(evidence.designs.values()) == len(cited)
    if records:
        assert f" and {len(records)} coded record" in evidence.line
    else:
        assert "coded record" not in evidence.line


@pytest.mark.parametrize("question", ANSWERABLE)
def test_computed_text_is_never_a_cited_sentence(question: str, answers: dict[str, Answer]) -> None:
    answer = answers[question]
    assert answer.evidence is not None
    computed = [answer.evidence.line, *(s.heading for s in answer.sections if s.heading)]
    computed += [gap.note for gap in answer.gaps]
    assert answer.sentences
    for sentence in answer.sentences:
        assert sentence.citations
        assert not sentence.text.startswith(("Evidence:", *LABELS)), sentence.text
        for text in computed:
            assert text not in sentence.text and sentence.text not in text, (text, sentence.text)
    assert [s for section in answer.sections for s in section.sentences] == answer.sentences


@pytest.mark.parametrize("question", ANSWERABLE)
def test_answer_text_holds_every_sentence_with_its_marker(question: str, answers: dict[str, Answer]) -> None:
    answer = answers[question]
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    for sentence in answer.sentences:
        marked = sentence.text + " " + "".join(f"[{n}]" for n in sentence.citations)
        assert marked in answer.answer, marked
        assert all(1 <= n <= len(answer.citations) for n in sentence.citations)
    for section in answer.sections:
        if section.heading:
            assert f"{section.heading}:\n" in answer.answer
    for gap in answer.gaps:
        assert gap.note in answer.answer
    assert answer.evidence is not None
    if answer.form == "evidence_strength":
        lead = answer.answer.split("\n\n")[0]
        assert re.fullmatch(r"\d+ of 3 publications( and \d+ coded records?)? bears? on this question(: .+)?\.", lead)
    else:
        assert answer.answer.endswith(answer.evidence.line)


def test_forms_follow_the_intent(answers: dict[str, Answer]) -> None:
    assert answers[NIGHT_SHIFTS].form == "direct" and not answers[NIGHT_SHIFTS].sections[0].heading
    assert answers[POWER].form == "realist"
    assert answers[POWER].sections[0].heading == "What works"
    assert answers[COMPARE].form == "comparison"
    assert answers[STRENGTH].form == "evidence_strength"


def test_comparison_blocks_quote_their_own_side(answers: dict[str, Answer]) -> None:
    answer = answers[COMPARE]
    assert len(answer.sections) >= 2
    by_n = {c.n: c for c in answer.citations}
    owners = [{by_n[n].source_id for s in section.sentences for n in s.citations} for section in answer.sections]
    assert any(owner == {"waring2023"} for owner in owners)
    assert any(owner and all(sid.startswith("sims") for sid in owner) for owner in owners)
    for i, one in enumerate(owners):
        assert all(not one & other for other in owners[i + 1 :])  # no publication speaks for two sides


def test_realist_gaps_are_notes_not_sections(answers: dict[str, Answer]) -> None:
    answer = answers[BOARDS]
    assert answer.form == "realist"
    headings = {s.heading for s in answer.sections}
    for gap in answer.gaps:
        assert gap.part not in headings
        assert gap.note.startswith(f"{gap.part}: ")


def test_findings_are_read_before_the_background_chosen_with_them(rag_index: RagIndex) -> None:
    """A reader who stops after the first items of a block has the findings, not the framing."""
    pipeline = rag_index.pipeline
    query = pipeline.query(BOARDS)
    _, eligible = pipeline.extractive.candidates(query, pipeline.pool(query))
    standalone = [c for c in eligible if not (c.opens_with_anaphor or c.continues or c.introduces_list)][:3]
    assert len(standalone) == 3
    framed = [replace(standalone[0], role="background"), *standalone[1:]]  # the best one frames the others

    def chosen(findings_first: bool) -> list[str]:
        selection = Selection(framed, query.roles, limit=5)
        return [s.role for s in fill(selection, framed, 3, findings_first=findings_first)]

    assert chosen(findings_first=False)[0] == "background"
    assert chosen(findings_first=True)[-1] == "background" and chosen(findings_first=True)[0] != "background"


def test_a_count_question_is_answered_first_by_a_sentence_stating_a_count(rag_index: RagIndex) -> None:
    """The best match that states no number cannot answer "how many"; one that does comes first."""
    pipeline = rag_index.pipeline
    query = pipeline.query("How many hospital trusts took part in the nurse survey?")
    assert query.wants_count
    candidates, eligible = pipeline.extractive.candidates(query, pipeline.pool(query))
    standalone = [c for c in eligible if not (c.opens_with_anaphor or c.continues or c.introduces_list)]
    best, counted = standalone[0], standalone[1]  # pretend only the second states a count
    relabel = {best: replace(best, typed=False), counted: replace(counted, typed=True)}
    eligible = [relabel.get(c, replace(c, typed=False)) for c in eligible]
    candidates = [relabel.get(c, c) for c in candidates]
    answer = compose(query, candidates, eligible, pipeline.store, pipeline.settings)
    assert answer is not None
    assert answer.sentences[0].text == " ".join(counted.quote.text.split())


def test_what_an_evidence_strength_answer_found_holds_no_aims_or_methods(answers: dict[str, Answer]) -> None:
    """What a study set out to do, or how, is not what it found."""
    answer = answers[STRENGTH]
    role = {c.n: c.role for c in answer.citations}
    found = next(section for section in answer.sections if section.heading == "What it found")
    assert found.sentences
    assert all(role[n] in ("finding", "context", "background") for s in found.sentences for n in s.citations)


def test_a_sentence_mostly_in_the_words_of_a_chosen_one_is_a_repeat(rag_index: RagIndex) -> None:
    """Prose and its coded record often say one thing twice, in words too different for the vectors."""
    pipeline = rag_index.pipeline
    query = pipeline.query(BOARDS)
    _, eligible = pipeline.extractive.candidates(query, pipeline.pool(query))
    first, second = eligible[0], next(c for c in eligible[1:] if float(c.vector @ eligible[0].vector) < 0.8)
    chosen = replace(first, tokens=frozenset({"clinic", "leader", "board", "prioriti", "share"}))
    assert repeats(replace(second, tokens=frozenset({"clinic", "leader", "board", "agre"})), chosen)
    assert not repeats(replace(second, tokens=frozenset({"clinic", "leader", "council", "agre"})), chosen)
    assert not repeats(replace(second, tokens=frozenset()), chosen)
    survey = pipeline.query("How many hospital trusts took part in the nurse survey?")
    _, counted = pipeline.extractive.candidates(survey, pipeline.pool(survey))
    figures = next(c for c in counted if "412" in c.quote.text)  # a new figure is a new fact, however alike
    assert float(figures.vector @ first.vector) < DUPLICATE_SIMILARITY
    assert not repeats(replace(figures, tokens=frozenset({"clinic", "leader", "board", "agre"})), chosen)


def test_an_item_alike_but_for_its_quoted_name_is_new_only_when_a_list_is_asked_for(rag_index: RagIndex) -> None:
    """ "... found evidence for 'working with power', ..." after "... for 'inspiring intent', ..." is the next
    item of "What are the seven components?", and a repeat in any other answer."""
    pipeline = rag_index.pipeline
    query = pipeline.query(BOARDS)
    _, eligible = pipeline.extractive.candidates(query, pipeline.pool(query))
    first, second = eligible[0], next(c for c in eligible[1:] if float(c.vector @ eligible[0].vector) < 0.8)
    tokens = frozenset({"sim", "found", "evid", "list", "compon"})

    def saying(sentence: ScoredSentence, text: str) -> ScoredSentence:
        hit = sentence.quote.hit
        written = hit.model_copy(update={"passage": hit.passage.model_copy(update={"text": text})})
        return replace(sentence, quote=Quote(written, 0, len(text)), tokens=tokens)

    chosen = saying(first, "Sims et al. found evidence for 'inspiring intent', a listed component.")
    item = saying(second, "Sims et al. found evidence for 'working with power', a listed component.")
    unnamed = saying(second, "Sims et al. found evidence for it, a listed component.")
    assert repeats(item, chosen) and not repeats(item, chosen, listing=True)
    assert repeats(unnamed, chosen, listing=True)
    # an item a chosen sentence already names, with others, is named again
    listed = saying(first, "They are: (1) 'inspiring intent'; and (2) 'working with power'.")
    assert repeats(item, listed, listing=True)


def test_how_one_study_gathered_its_evidence_opens_with_what_it_set_out_to_do(rag_index: RagIndex) -> None:
    """ "The study followed five boards" bounds how far a finding reaches before any detail of method."""
    answer = rag_index.pipeline.ask("How strong is the evidence from the study of partnership boards?")
    assert answer.form == "evidence_strength"
    role = {c.n: c.role for c in answer.citations}
    gathered = next(section for section in answer.sections if section.heading == "How the evidence was gathered")
    assert [role[n] for n in gathered.sentences[0].citations] == ["aim"]


def test_a_side_opens_with_its_best_match_whatever_its_passage_ranks(rag_index: RagIndex) -> None:
    """The rank of a passage for the whole comparison says little about which of one publication's
    sentences answers it: a side of one publication opens with its best match."""
    pipeline = rag_index.pipeline
    query = pipeline.query(COMPARE)
    candidates, eligible = pipeline.extractive.candidates(query, pipeline.pool(query))
    # Give the passages the reverse of their retrieval order: a side must still open with its best match.
    flipped = [replace(c, score=c.content_score + RANK_WEIGHT - c.prior, prior=RANK_WEIGHT - c.prior) for c in eligible]
    flipped.sort(key=lambda c: -c.score)
    answer = compose(query, candidates, flipped, rag_index.store, pipeline.settings)
    assert answer is not None and answer.form == "comparison"
    by_n = {c.n: c for c in answer.citations}
    single = [side.label for side in query.intent.sides if len(side.source_ids) == 1]
    assert single
    for section in (s for s in answer.sections if s.heading in single):
        first = by_n[section.sentences[0].citations[0]]
        own = [c for c in eligible if c.source_id == first.source_id and c.role != "background"]
        best = max(own, key=lambda c: c.content_score)
        assert first.quote == best.quote.text, section.heading


def test_a_sentence_naming_its_source_only_as_the_same_one_does_not_open_a_group(rag_index: RagIndex) -> None:
    """ "According to the same announcement, ..." with its announcement outside the pool cannot be read."""
    pipeline = rag_index.pipeline
    query = pipeline.query(BOARDS)
    candidates, eligible = pipeline.extractive.candidates(query, pipeline.pool(query))
    first = next(c for c in eligible if c.unit == 0 and not c.continues)
    selection = Selection(candidates, query.roles, 10)
    assert selection.group_for(first)
    passage = first.passage.model_copy(update={"text": "According to the same report, " + first.passage.text})
    shifted = len("According to the same report, ")
    hit = first.quote.hit.model_copy(update={"passage": passage})
    dangling = replace(first, quote=replace(first.quote, hit=hit, start=0, end=first.quote.end + shifted))
    assert not Selection([dangling], query.roles, 10).group_for(dangling)


def test_a_record_line_restating_its_publication_gives_way_to_the_publications_words(rag_index: RagIndex) -> None:
    """Outside the realist headings a coded record's line that says what its publication says is quoted
    in the publication's own words, at the place the line earned."""
    pipeline = rag_index.pipeline
    query = pipeline.query(COMPARE)
    _, eligible = pipeline.extractive.candidates(query, pipeline.pool(query))
    line = next(c for c in eligible if c.field in ("mechanism", "summary", "outcome"))
    prose = next(c for c in eligible if not c.field and c.source_id == line.source_id and c.score < line.score)
    restated = [replace(c, vector=line.vector) if c is prose else c for c in eligible]
    placed = in_own_words(restated)
    assert len(placed) == len(eligible) - 1  # the line gives way; its twin moves up
    at = restated.index(line)
    assert placed[at].quote == prose.quote and placed[at].score == line.score and not placed[at].field
    assert sum(c.quote == prose.quote for c in placed) == 1  # moved, not copied
    assert [c.score for c in placed] == sorted((c.score for c in placed), reverse=True)
    unlike = [replace(c, vector=-line.vector) if not c.field else c for c in eligible]
    assert in_own_words(unlike) == unlike  # a record line that restates nothing stays


def test_a_publication_earns_an_early_place_by_a_finding_not_by_its_background(rag_index: RagIndex) -> None:
    """The best finding of each publication comes before a second of any; background is not a finding."""
    pipeline = rag_index.pipeline
    query = pipeline.query(COMPARE)
    _, eligible = pipeline.extractive.candidates(query, pipeline.pool(query))
    first = eligible[0]
    same = next(c for c in eligible[1:] if c.source_id == first.source_id)
    other = next(c for c in eligible if c.source_id != first.source_id)
    ranked = [replace(first, score=1.0), replace(same, score=0.95), replace(other, score=0.9)]
    assert [c.source_id for c in spread(ranked, 0.0)][:2] == [first.source_id, other.source_id]
    ranked[2] = replace(other, score=0.9, role="background")
    assert [c.source_id for c in spread(ranked, 0.0)][:2] == [first.source_id, first.source_id]


def test_a_direct_answer_is_finished_by_the_sentence_that_carries_on_from_it(
    rag_index: RagIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "However, ..." or "This ..." after the answering sentence finishes it: it comes next, before
    any other supporting sentence; a following sentence with its own subject does not."""
    pipeline = rag_index.pipeline
    query = pipeline.query(NIGHT_SHIFTS)
    candidates, eligible = pipeline.extractive.candidates(query, pipeline.pool(query))
    answer = compose(query, candidates, eligible, pipeline.store, pipeline.settings)
    assert answer is not None and answer.form == "direct"
    first = next(c for c in eligible if " ".join(c.quote.text.split()) == answer.sentences[0].text)
    follower = next(
        c for c in candidates if c.passage.passage_id == first.passage.passage_id and c.unit == first.unit + 1
    )
    # The follower matches the question worst of all, so only carrying on can bring it in.
    weakest = replace(follower, score=-1.0, prior=0.0)
    candidates = [weakest if c is follower else c for c in candidates]
    eligible = [c for c in eligible if c is not follower] + [weakest]
    assert not weakest.carries_on
    assert Selection(candidates, query.roles, 10).continuation([first]) == []
    unfinished = compose(query, candidates, eligible, pipeline.store, pipeline.settings)
    assert unfinished is not None
    assert " ".join(weakest.quote.text.split()) not in [s.text for s in unfinished.sentences]
    monkeypatch.setattr(extractive, "CONTINUATION", re.compile(re.escape(weakest.quote.text[:12])))
    assert weakest.carries_on
    finished = compose(query, candidates, eligible, pipeline.store, pipeline.settings)
    assert finished is not None
    assert [s.text for s in finished.sentences[:2]] == [
        answer.sentences[0].text,
        " ".join(weakest.quote.text.split()),
    ]


@pytest.mark.parametrize("limit", [3, 4, 5])
def test_what_works_leaves_room_for_the_circumstances_and_results(rag_index: RagIndex, limit: int) -> None:
    """However short the answer must be, a realist answer with coded contexts and outcomes to hand quotes
    one of each: a full "What works" would otherwise read as if the evidence were silent on them."""
    pipeline = rag_index.pipeline
    settings = rag_index.settings.model_copy(update={"max_answer_sentences": limit})
    answerer = ExtractiveAnswerer(rag_index.store, settings, pipeline.vocabulary, pipeline.reader.vector)
    answer = answerer.answer(pipeline.query(POWER), pipeline.pool(POWER))
    assert answer.form == "realist"
    sizes = {section.heading: len(section.sentences) for section in answer.sections}
    assert sizes == {"What works": limit - 2, "In what circumstances": 1, "With what results": 1}
    assert not answer.gaps


def test_what_works_takes_the_room_the_circumstances_and_results_leave(rag_index: RagIndex) -> None:
    """However long the answer may be, "What works" fills what a context and an outcome leave of it: what
    works is what was asked."""
    pipeline = rag_index.pipeline
    query = pipeline.query(POWER)
    _, eligible = pipeline.extractive.candidates(query, pipeline.pool(query))
    template = next(c for c in eligible if not c.field and not c.opens_with_anaphor and not c.introduces_list)
    axes = np.eye(len(template.vector), dtype=template.vector.dtype)

    def variant(i: int, field: str) -> ScoredSentence:
        """The template as another sentence of its own, unlike the others in meaning and words."""
        return replace(
            template, unit=10 * (i + 1), vector=axes[i], tokens=frozenset({f"w{i}"}), field=field, score=2 - i / 100
        )

    works = [variant(i, "") for i in range(14)]
    framing = [variant(14, "context"), variant(15, "outcome")]
    pool = [*works, *framing]
    selection = Selection(pool, query.roles, limit=12)
    blocks, _ = forms._realist(selection, pool, floor=0.0, named=frozenset())
    assert {heading: len(chosen) for heading, chosen in blocks} == {
        "What works": 10,
        "In what circumstances": 1,
        "With what results": 1,
    }


def test_a_comparison_of_a_kind_of_publication_compares_publications_of_that_kind(rag_index: RagIndex) -> None:
    """ "Do the reviews agree ...?" names no sides; its sides are the reviews that bear most on it."""
    pipeline = rag_index.pipeline
    query = pipeline.query("Do the studies agree about partnership boards?")
    assert query.intent.intent == "comparison" and not query.intent.sides
    _, eligible = pipeline.extractive.candidates(query, pipeline.pool(query))
    bearing = [side.source_ids[0] for side in sides_of(query, eligible, rag_index.store)]
    assert len(bearing) == 3
    kind = replace(query, of_kind=(bearing[2], bearing[1]))
    assert [side.source_ids[0] for side in sides_of(kind, eligible, rag_index.store)] == [bearing[1], bearing[2]]
    alone = replace(query, of_kind=(bearing[2],))  # one publication of the kind is no comparison of them
    assert [side.source_ids[0] for side in sides_of(alone, eligible, rag_index.store)] == bearing


def test_a_sentence_followed_directly_by_a_list_opens_it(rag_index: RagIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    """ "The review produced four programme theories." followed by "1. ...", "2. ..." brings them as a
    sentence ending in a colon would; a sentence followed by another sentence brings nothing."""
    pipeline = rag_index.pipeline
    query = pipeline.query("What habits did leaders who succeeded in joint working rely on?")
    candidates, _ = pipeline.extractive.candidates(query, pipeline.pool(query))
    intro = next(c for c in candidates if c.quote.text.startswith("The review lists the three habits"))
    talking = next(c for c in candidates if c.quote.text.startswith("Leaders who succeeded in joint working kept"))
    # As if the list's opening sentence ended in a full stop.
    monkeypatch.setattr(ScoredSentence, "introduces_list", property(lambda self: False))
    selection = Selection(candidates, query.roles, 10)
    assert [s.item for s in selection.readable_group(intro)] == [False, True, True, True]
    assert selection.readable_group(talking) == [talking]


def test_a_context_left_out_as_a_repeat_is_not_reported_as_missing(
    rag_index: RagIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "In what circumstances: the indexed evidence does not say" only when it does not: a context
    dropped because it repeats a chosen sentence is still evidence."""
    pipeline = rag_index.pipeline
    assert any(section.heading == "In what circumstances" for section in pipeline.ask(POWER).sections)
    real = forms.repeats
    monkeypatch.setattr(
        forms,
        "repeats",
        lambda sentence, chosen, listing=False: sentence.field == "context" or real(sentence, chosen, listing),
    )
    answer = pipeline.ask(POWER)
    assert all(section.heading != "In what circumstances" for section in answer.sections)
    assert all(gap.part != "In what circumstances" for gap in answer.gaps)


def test_a_sentence_cut_for_the_embedding_window_is_read_and_quoted_whole(rag_index: RagIndex) -> None:
    """A sentence too long for the model's window is stored in pieces; choosing either piece brings
    the other, and the answer quotes them as one sentence with one citation."""
    pipeline = rag_index.pipeline
    query = pipeline.query(BOARDS)
    candidates, _ = pipeline.extractive.candidates(query, pipeline.pool(query))
    whole = next(c for c in candidates if c.quote.text.startswith("Managers from councils valued"))
    cut = whole.quote.start + whole.quote.text.index(" who ")
    head = replace(whole, quote=replace(whole.quote, end=cut))
    tail = replace(whole, quote=replace(whole.quote, start=cut + 1), unit=whole.unit + 1)
    assert not tail.quote.text.endswith(" ") and tail.continues
    later = [
        replace(c, unit=c.unit + 1)
        for c in candidates
        if c.passage.passage_id == whole.passage.passage_id and c.unit > whole.unit
    ]
    pieces = [head, tail, *later]
    selection = Selection(pieces, query.roles, 10)
    assert selection.readable_group(head) == [head, tail]
    assert selection.readable_group(tail) == [head, tail]
    assert selection.readable_group(later[0]) == [later[0]]  # a whole sentence brings no neighbour
    assert [s.quote.text for s in whole_sentences([head, tail])] == [whole.quote.text]
    assert whole_sentences([head, later[0]]) == [head, later[0]]  # not neighbours: two quotes


def test_a_side_of_one_publication_keeps_sentences_by_their_own_match_not_their_passage_rank(
    rag_index: RagIndex,
) -> None:
    """Within a side of one publication the floor is read on how well the sentences match, so a finding
    of a low-ranked passage is not dropped below the best match of a high-ranked one."""
    pipeline = rag_index.pipeline
    query = pipeline.query(COMPARE)
    candidates, eligible = pipeline.extractive.candidates(query, pipeline.pool(query))
    single = next(side for side in query.intent.sides if len(side.source_ids) == 1)
    own = [c for c in eligible if c.source_id in single.source_ids and c.role != "background"]
    assert len(own) >= 2
    best = own[0]
    other = next(c for c in own[1:] if not repeats(c, best) and c.passage.passage_id == best.passage.passage_id)
    # The best match sits in the top passage; the other in a passage ranked below the prior's depth.
    lifted = replace(best, score=best.content_score + RANK_WEIGHT, prior=RANK_WEIGHT)
    sunk = replace(other, score=best.content_score * 0.9, prior=0.0)
    rest = [c for c in eligible if c is not best and c is not other]
    ranked = sorted([lifted, sunk, *rest], key=lambda c: -c.score)
    answer = compose(query, candidates, ranked, rag_index.store, pipeline.settings)
    assert answer is not None
    section = next(s for s in answer.sections if s.heading == single.label)
    assert " ".join(other.quote.text.split()) in [s.text for s in section.sentences]


@pytest.mark.parametrize(("opening", "quoted"), [("These findings show that ", False), ("It reports that ", True)])
def test_a_sentence_pointing_at_a_sentence_outside_the_pool_is_not_quoted(
    rag_index: RagIndex, opening: str, quoted: bool
) -> None:
    """ "This is the second of the seven components." says nothing without what "This" is; "It reports ..."
    may still be read as the publication speaking."""
    pipeline = rag_index.pipeline
    query = pipeline.query(BOARDS)
    _, eligible = pipeline.extractive.candidates(query, pipeline.pool(query))
    first = next(c for c in eligible if c.unit == 0 and not c.continues and not c.field)
    text = (
        opening
        + first.passage.text[first.quote.start :].lstrip()[:1].lower()
        + first.passage.text[first.quote.start + 1 :]
    )
    passage = first.passage.model_copy(update={"text": text})
    hit = first.quote.hit.model_copy(update={"passage": passage})
    dangling = replace(
        first, quote=replace(first.quote, hit=hit, start=0, end=first.quote.end - first.quote.start + len(opening))
    )
    assert dangling.quote.text.startswith(opening)
    assert bool(Selection([dangling], query.roles, 10).group_for(dangling)) is quoted


def test_a_publication_asked_about_is_answered_from_its_own_findings_first(rag_index: RagIndex) -> None:
    """ "What did Waring et al. find?" quotes Waring et al.'s findings before any other publication's: the
    spread over publications that answers an open question comes after them."""
    answer = rag_index.pipeline.ask("What did Waring et al. find?")
    assert not answer.abstained
    sources = [citation.source_id for citation in answer.citations]
    theirs = [n for n, source in enumerate(sources) if source == "waring2023"]
    assert len(theirs) >= 2 and theirs == list(range(len(theirs)))


def test_what_works_for_a_publication_asked_about_opens_with_its_findings(rag_index: RagIndex) -> None:
    """ "What works for partnership boards, according to Waring et al.?" quotes what Waring et al. found
    first, however far down the ranking their passages sit, and others' findings only after theirs."""
    answer = rag_index.pipeline.ask("What helps partnership boards work, according to Waring et al.?")
    assert answer.form == "realist"
    works = next(section for section in answer.sections if section.heading == "What works")
    sources = [answer.citations[s.citations[0] - 1].source_id for s in works.sentences]
    assert sources[0] == "waring2023"
    assert sources == sorted(sources, key=lambda source: source != "waring2023")


def test_a_direct_answer_opens_with_a_statement_before_a_records_phrase(rag_index: RagIndex) -> None:
    """A record's phrase ("Leaders name funding gaps openly at the board") scoring a little better than a
    whole sentence gives way to it as the answer's opening; one scoring far better does not."""
    pipeline = rag_index.pipeline
    query = pipeline.query(POWER)
    _, eligible = pipeline.extractive.candidates(query, pipeline.pool(query))
    phrase = next(c for c in eligible if c.field and forms.is_phrase(c))
    statement = next(c for c in eligible if not c.field and c.quote.text.endswith("."))
    assert not forms.is_phrase(statement)
    near = [replace(phrase, score=1.0), replace(statement, score=0.9)]
    assert forms.statements_first(near)[0].quote.text == statement.quote.text
    far = [replace(phrase, score=1.0), replace(statement, score=0.5)]
    assert forms.statements_first(far)[0].quote.text == phrase.quote.text


def test_a_direct_answer_opening_with_a_list_item_goes_on_with_the_items_after_it(rag_index: RagIndex) -> None:
    """An item of a list answers with the items after it: the list is what the source gives as the answer."""
    texts = [s.text for s in rag_index.pipeline.ask("Who rotated the chair of the partnership board?").sentences]
    assert texts[0].startswith("Rotating the chair")
    assert texts[1].startswith("Publishing the minutes")


@pytest.mark.parametrize(
    ("text", "judges"),
    [
        ("Every review that comments on its evidence describes it as thin:", True),
        ("The included papers were of middling quality.", True),
        ("The authors acknowledge that the number of interviewees is small.", True),
        ("The authors call them 'potentially important', which signals that they are tentative.", True),
        ("building strong relationships with other leaders;", False),  # strong, but nothing judged as evidence
        ("Co-leadership made management more robust.", False),
    ],
)
def test_a_sentence_judges_evidence_by_words_that_judge_it(text: str, judges: bool) -> None:
    assert judges_evidence(text) is judges
