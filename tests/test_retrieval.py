"""Retrieval: filters, named publications, hybrid fusion, and the dense and lexical retrievers."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from index.embedding import Embedder
from index.errors import InputError
from index.models import Passage
from index.settings import Settings
from index.store import IndexStore
from index.units import SENTENCE, WINDOW
from rag.lexical import Tokenizer, lexical_text
from rag.models import RetrievedPassage
from rag.pool import LIST_PASSAGES, POOL_SIZES, PoolSize, candidate_pool
from rag.query import (
    QuestionPart,
    SourceMatcher,
    asking_and_scene,
    defined_term,
    list_size,
    question_parts,
    with_term_named,
)
from rag.retrieval import (
    DenseRetriever,
    FusedScores,
    HybridRetriever,
    LexicalRetriever,
    filter_mask,
)

if TYPE_CHECKING:
    from fixtures_rag import RagIndex

pytest_plugins = ["fixtures_rag"]  # one twelve-passage index shared with the extractive and CLI tests

QUESTIONS = [
    "How do leaders work with power in joint decisions?",
    "night shift fatigue among community nurses",
    "How did clinical leaders help partnership boards?",
]
#: Every passage of the index by its label (see :func:`label`).
ALL_LABELS = {
    "evidence:sims2021:Findings",
    "evidence:sims2021:Abstract-Results",
    "evidence:waring2023:Findings",
    "notes:notes:",
    "review:sims2021:Results",
    "review:sims2021:Abstract-Results",
    "review:sims2021:Scope-note",
    "review:sims2019:Results",
    "review:sims2019:Methods",
    "review:waring2023:Abstract-Conclusions",
    "review:waring2023:Findings",
    "review:waring2023:Dedication",
}


def label(passage: Passage) -> str:
    """A readable, unique name of a passage in the test index: doc_id:source_id:section."""
    return f"{passage.doc_id}:{passage.source_id}:{passage.section}"


def labels(hits: list[RetrievedPassage]) -> list[str]:
    """Labels of retrieved passages, in rank order."""
    return [label(hit.passage) for hit in hits]


def hybrid(rag_index: RagIndex, embedder: Embedder, **overrides: object) -> HybridRetriever:
    """A hybrid retriever over the test index, with some settings changed."""
    settings: Settings = rag_index.settings.model_copy(update=overrides)
    return HybridRetriever(rag_index.store, embedder, settings, rag_index.pipeline.bm25)


def test_the_index_is_the_one_these_tests_expect(rag_index: RagIndex) -> None:
    store = rag_index.store
    assert {label(p) for p in store.passages} == ALL_LABELS
    assert len(store.passages) == len(ALL_LABELS)


# --- filters ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"source_id": "sims2019"}, {"review:sims2019:Results", "review:sims2019:Methods"}),
        ({"source_id": "  SIMS2019 "}, {"review:sims2019:Results", "review:sims2019:Methods"}),
        ({"component": "Working With Power"}, {"evidence:sims2021:Findings"}),
        ({"component": "clarifying complexity"}, {"evidence:waring2023:Findings"}),
        (
            {"kind": "EVIDENCE"},
            {"evidence:sims2021:Findings", "evidence:sims2021:Abstract-Results", "evidence:waring2023:Findings"},
        ),
        ({"kind": "text"}, {"notes:notes:"}),
        (
            {"year": "2023"},
            {
                "evidence:waring2023:Findings",
                "review:waring2023:Abstract-Conclusions",
                "review:waring2023:Findings",
                "review:waring2023:Dedication",
            },
        ),
        ({"doc_id": "Notes"}, {"notes:notes:"}),
        (
            {"section": "findings"},
            {"evidence:sims2021:Findings", "evidence:waring2023:Findings", "review:waring2023:Findings"},
        ),
        ({"section": "findings", "year": "2023"}, {"evidence:waring2023:Findings", "review:waring2023:Findings"}),
        ({"section": "Methods", "source_id": "sims2021"}, set()),
        ({"component": "no such component"}, set()),
    ],
)
def test_filter_mask_keeps_passages_matching_every_filter(
    rag_index: RagIndex, filters: dict[str, str], expected: set[str]
) -> None:
    passages = rag_index.store.passages
    mask = filter_mask(passages, filters)
    assert mask is not None and mask.dtype == bool and mask.shape == (len(passages),)
    assert {label(p) for p, keep in zip(passages, mask, strict=True) if keep} == expected


def test_no_filters_give_no_mask(rag_index: RagIndex) -> None:
    assert filter_mask(rag_index.store.passages, None) is None
    assert filter_mask(rag_index.store.passages, {}) is None


def test_unknown_filter_key_is_an_input_error_naming_it(rag_index: RagIndex, embedder: Embedder) -> None:
    with pytest.raises(InputError) as caught:
        filter_mask(rag_index.store.passages, {"year": "2021", "colour": "red"})
    assert caught.value.path == "--filter colour"
    assert "unknown filter key" in caught.value.problem
    assert "source_id" in caught.value.problem and "component" in caught.value.problem
    # Keys are exact: a capitalised key is not a known one.
    with pytest.raises(InputError, match="--filter Component"):
        filter_mask(rag_index.store.passages, {"Component": "working with power"})
    with pytest.raises(InputError, match="--filter colour"):
        hybrid(rag_index, embedder).retrieve(QUESTIONS[0], 3, {"colour": "red"})
    with pytest.raises(InputError, match="--filter colour"):
        LexicalRetriever(rag_index.store, rag_index.pipeline.bm25).retrieve(QUESTIONS[0], 3, {"colour": "red"})


# --- named publications ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What did Sims et al. (2021) find about leadership?", {"sims2021"}),
        ("What did Sims et al. (2019) report?", {"sims2019"}),
        ("In Sims et al. 2019, how many nurses took part?", {"sims2019"}),
        ("What did Sims et al. find?", {"sims2021", "sims2019"}),
        ("What did Sims et al. (2020) find?", {"sims2021", "sims2019"}),  # no Sims paper of 2020: the name decides
        ("What did Waring et al. conclude?", {"waring2023"}),
        ("What did waring and bishop conclude?", {"waring2023"}),
        ("What did Waring's study conclude?", {"waring2023"}),  # a possessive names its author
        ("How does Sims' 2021 review differ?", {"sims2021"}),
        ("What did Fletcher find?", set()),  # a second author does not name a publication
        ("What did these reviews find in 2021?", set()),  # a year alone does not either
        ("How do leaders build trust?", set()),
    ],
)
def test_source_matcher_finds_the_publications_a_question_names(
    rag_index: RagIndex, question: str, expected: set[str]
) -> None:
    assert SourceMatcher([p.source for p in rag_index.store.passages]).match(question) == expected


# --- hybrid retrieval ------------------------------------------------------------------------


@pytest.mark.parametrize("question", QUESTIONS)
def test_hybrid_ranks_by_fused_score(rag_index: RagIndex, embedder: Embedder, question: str) -> None:
    hits = hybrid(rag_index, embedder).retrieve(question, 4)
    assert [hit.rank for hit in hits] == [1, 2, 3, 4]
    scores = [hit.score for hit in hits]
    assert scores == sorted(scores, reverse=True)
    assert len({hit.passage.passage_id for hit in hits}) == 4


#: The four fused signals, as HybridRetriever computes them per passage.
SIGNALS = ("dense", "dense_window", "lexical", "window")
#: Fusion weights as Settings allows them.
WEIGHTS = st.fixed_dictionaries(
    {f"{name}_weight": st.floats(0.0, 10.0) for name in ("dense", "dense_window", "lexical", "window")}
)


def fused_from(retriever: HybridRetriever, signals: dict[str, np.ndarray]) -> FusedScores:
    """The retriever's fusion of the given signals (for a question naming no publication)."""
    with (
        patch.object(retriever, "dense_scores", return_value=(signals["dense"], signals["dense_window"])),
        patch.object(retriever.bm25, "scores", return_value=signals["lexical"]),
        patch.object(retriever, "window_scores", return_value=signals["window"]),
    ):
        scores = retriever.fused("", np.zeros(1, np.float32))
    assert scores is not None
    return scores


def test_fused_score_is_monotone_in_each_signal(rag_index: RagIndex, embedder: Embedder) -> None:
    """Raising one signal of one passage, all else equal, never lowers that passage's fused score."""
    n = len(rag_index.store.passages)
    values = st.lists(st.floats(0.0, 1.0, width=32), min_size=n, max_size=n).map(lambda v: np.array(v, np.float32))

    @hyp_settings(max_examples=60, deadline=None)
    @given(
        WEIGHTS,
        st.fixed_dictionaries(dict.fromkeys(SIGNALS, values)),
        st.sampled_from(SIGNALS),
        st.integers(0, n - 1),
        st.floats(0.01, 1.0),
    )
    def check(weights: dict[str, float], signals: dict[str, np.ndarray], raised: str, i: int, by: float) -> None:
        retriever = hybrid(rag_index, embedder, **weights)
        before = fused_from(retriever, signals).fused[i]
        higher = signals[raised].copy()
        higher[i] += by
        after = fused_from(retriever, {**signals, raised: higher}).fused[i]
        assert after >= before - 1e-4  # float32 rounding

    check()


def test_fused_ties_are_broken_by_passage_position(rag_index: RagIndex, embedder: Embedder) -> None:
    """Best fused score first; passages with equal scores in index order, whatever the signals."""
    n = len(rag_index.store.passages)
    # Few distinct values, so that many passages tie.
    values = st.lists(st.sampled_from([0.0, 0.5, 1.0]), min_size=n, max_size=n).map(lambda v: np.array(v, np.float32))

    @hyp_settings(max_examples=60, deadline=None)
    @given(WEIGHTS, st.fixed_dictionaries(dict.fromkeys(SIGNALS, values)))
    def check(weights: dict[str, float], signals: dict[str, np.ndarray]) -> None:
        scores = fused_from(hybrid(rag_index, embedder, **weights), signals)
        order = scores.order.tolist()
        assert sorted(order) == list(range(n))
        assert order == sorted(range(n), key=lambda position: (-scores.fused[position], position))
        # The same signals again rank the same way.
        assert fused_from(hybrid(rag_index, embedder, **weights), signals).order.tolist() == order

    check()


@pytest.mark.parametrize(
    ("filters", "allowed"),
    [
        ({"source_id": "sims2021"}, 5),
        ({"kind": "evidence"}, 3),
        ({"year": "2023", "section": "Findings"}, 2),
    ],
)
def test_hybrid_returns_only_allowed_passages(
    rag_index: RagIndex, embedder: Embedder, filters: dict[str, str], allowed: int
) -> None:
    mask = filter_mask(rag_index.store.passages, filters)
    assert mask is not None and int(mask.sum()) == allowed
    wanted = {p.passage_id for p, keep in zip(rag_index.store.passages, mask, strict=True) if keep}
    hits = hybrid(rag_index, embedder).retrieve(QUESTIONS[0], 3, filters)
    assert len(hits) == min(3, allowed)
    assert {hit.passage.passage_id for hit in hits} <= wanted
    assert [hit.rank for hit in hits] == list(range(1, len(hits) + 1))
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


def test_hybrid_with_a_filter_matching_nothing_returns_nothing(rag_index: RagIndex, embedder: Embedder) -> None:
    assert hybrid(rag_index, embedder).retrieve(QUESTIONS[0], 5, {"component": "no such component"}) == []


def test_source_boost_lifts_the_named_publication(rag_index: RagIndex, embedder: Embedder) -> None:
    question = "What did Waring et al. find about leaders and partners?"
    n = len(rag_index.store.passages)
    plain = {hit.passage.passage_id: hit for hit in hybrid(rag_index, embedder, source_boost=0.0).retrieve(question, n)}
    boosted_hits = hybrid(rag_index, embedder, source_boost=1.0).retrieve(question, n)
    for hit in boosted_hits:
        named = hit.passage.source_id == "waring2023"
        assert hit.score - plain[hit.passage.passage_id].score == pytest.approx(1.0 if named else 0.0, abs=1e-5)
    before = next(h.rank for h in plain.values() if label(h.passage) == "review:waring2023:Findings")
    after = next(h.rank for h in boosted_hits if label(h.passage) == "review:waring2023:Findings")
    assert (before, after) == (4, 2)


def test_max_per_source_keeps_the_best_passage_of_each_publication(rag_index: RagIndex, embedder: Embedder) -> None:
    question = "How do leaders and nurses work with partners?"
    n = len(rag_index.store.passages)
    unlimited = hybrid(rag_index, embedder, max_per_source=0).retrieve(question, n)
    assert len(unlimited) == n  # 0 means no limit
    assert max(Counter(hit.passage.source_id for hit in unlimited).values()) == 5

    one_each = hybrid(rag_index, embedder, max_per_source=1).retrieve(question, n)
    sources = [hit.passage.source_id for hit in one_each]
    assert sorted(sources) == ["notes", "sims2019", "sims2021", "waring2023"]
    firsts: dict[str, str] = {}
    for hit in unlimited:
        firsts.setdefault(hit.passage.source_id, hit.passage.passage_id)
    assert [hit.passage.passage_id for hit in one_each] == list(firsts.values())
    assert [hit.rank for hit in one_each] == [1, 2, 3, 4]

    two_each = hybrid(rag_index, embedder, max_per_source=2).retrieve(question, 5)
    assert len(two_each) == 5
    assert max(Counter(hit.passage.source_id for hit in two_each).values()) == 2


# --- dense signals and the plain retrievers --------------------------------------------------


def brute_force_units(store: IndexStore, query: np.ndarray, kind: int) -> np.ndarray:
    """Per passage, the best unit-vector similarity of one unit kind; the passage vector where it has none."""
    units = store.units
    best = np.empty(len(store.passages))
    for position in range(len(store.passages)):
        rows = [r for r in range(len(units)) if units.owner[r] == position and units.kind[r] == kind]
        vectors = store.unit_vectors[rows] if rows else store.vectors[position : position + 1]
        best[position] = max(float(np.dot(vector, query)) for vector in vectors)
    return best


@pytest.mark.parametrize("question", QUESTIONS)
def test_dense_scores_are_the_best_unit_similarities(rag_index: RagIndex, embedder: Embedder, question: str) -> None:
    store = rag_index.store
    windowed = set(store.units.owner[store.units.kind == WINDOW].tolist())
    assert 0 < len(windowed) < len(store.passages)  # both branches of the window signal are exercised
    query = embedder.embed_query(question)
    sentence, window = hybrid(rag_index, embedder).dense_scores(query)
    np.testing.assert_allclose(sentence, brute_force_units(store, query, SENTENCE), atol=1e-5)
    np.testing.assert_allclose(window, brute_force_units(store, query, WINDOW), atol=1e-5)
    passage_sims = store.vectors @ query
    unwindowed = [i for i in range(len(store.passages)) if i not in windowed]
    np.testing.assert_allclose(window[unwindowed], passage_sims[unwindowed], atol=1e-6)
    assert not np.allclose(window[sorted(windowed)], passage_sims[sorted(windowed)], atol=1e-4)


@pytest.mark.parametrize("filters", [None, {"source_id": "sims2021"}, {"kind": "markdown"}])
@pytest.mark.parametrize("question", QUESTIONS)
def test_dense_retriever_equals_brute_force(
    rag_index: RagIndex, embedder: Embedder, question: str, filters: dict[str, str] | None
) -> None:
    store = rag_index.store
    query = embedder.embed_query(question)
    sims = store.vectors @ query
    mask = filter_mask(store.passages, filters)
    allowed = [i for i in range(len(store.passages)) if mask is None or mask[i]]
    expected = sorted(allowed, key=lambda i: -sims[i])[:3]
    hits = DenseRetriever(store, embedder).retrieve(question, 3, filters)
    assert [store.position[hit.passage.passage_id] for hit in hits] == expected
    assert [hit.score for hit in hits] == pytest.approx([float(sims[i]) for i in expected], abs=1e-5)
    assert [hit.dense_score for hit in hits] == [hit.score for hit in hits]
    assert [hit.rank for hit in hits] == [1, 2, 3]


def test_lexical_retriever_leaves_out_passages_with_no_matching_word(rag_index: RagIndex) -> None:
    store = rag_index.store
    tokenize = Tokenizer()
    question = "fatigue of night shift nurses"
    words = set(tokenize([question])[0])
    matching = {p.passage_id for p in store.passages if words & set(tokenize([lexical_text(p)])[0])}
    assert 0 < len(matching) < len(store.passages)
    lexical = LexicalRetriever(store, rag_index.pipeline.bm25)
    hits = lexical.retrieve(question, len(store.passages))
    assert {hit.passage.passage_id for hit in hits} == matching
    assert all(hit.score > 0 and hit.lexical_score == hit.score for hit in hits)
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    assert labels(hits)[0] == "review:sims2019:Results"
    filtered = lexical.retrieve(question, 10, {"section": "methods"})
    assert labels(filtered) == ["review:sims2019:Methods"]
    assert lexical.retrieve("zebras and xylophones", 5) == []


# --- the candidate pool ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "How many council partners did Sims et al. (2021) interview?",  # how the study was done
        "How many habits did Sims et al. (2021) find among leaders?",
        "What did Sims et al. (2021) say about data sharing between partners?",
        "When was Sims et al. (2021) published?",  # its publication details
        "Which journal published Sims et al. (2021)?",
    ],
)
def test_a_question_naming_a_publication_pools_all_of_it(rag_index: RagIndex, question: str) -> None:
    """A study's sample sits in its methods, when or where it was published in its publication details, and
    what it found about something anywhere in it: a narrow pool of its best passages can miss each."""
    pipeline = rag_index.pipeline
    query = pipeline.query(question)
    assert query.named == {"sims2021"} and query.intent.intent in ("factoid", "general", "methods")
    narrow = PoolSize(top=1, publications=0, per_publication=0, per_side=0, records=0)
    scores = pipeline.retriever.fused(query.text, query.vector)
    assert scores is not None
    with patch.dict(POOL_SIZES, {"factoid": narrow, "general": narrow, "methods": narrow}):
        pooled = {h.passage.passage_id for h in candidate_pool(query, scores, top_k=1)}
    own = {p.passage_id for p in rag_index.store.passages if p.source_id == "sims2021"}
    assert len(own) > 1 and own <= pooled


@pytest.mark.parametrize(
    ("text", "asking", "scene"),
    [
        ("How many papers did the review include?", "How many papers did the review include?", ""),
        (
            "We run a joined-up service. It has stalled. What's the best way to improve it?",
            "What's the best way to improve it?",
            "We run a joined-up service. It has stalled.",
        ),
        ("Is it safe? How long does it protect?", "Is it safe? How long does it protect?", ""),
        ("What did Sims et al. (2021) find? Keep it short.", "What did Sims et al. (2021) find?", "Keep it short."),
        ("I lead a board. Tell me what helps", "Tell me what helps", "I lead a board."),
        # a question typed in lower case still asks apart from its scene, but "et al. do" goes on one sentence
        ("We cover a wide patch. how should we structure it?", "how should we structure it?", "We cover a wide patch."),
        (
            "What did Harris et al. do to consult stakeholders?",
            "What did Harris et al. do to consult stakeholders?",
            "",
        ),
    ],
)
def test_a_question_is_split_into_what_it_asks_and_the_scene_it_sets(text: str, asking: str, scene: str) -> None:
    assert asking_and_scene(text) == (asking, scene)


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        (
            "What is an integrated care system, in plain terms, and why is leading one so demanding?",
            ["What is an integrated care system, in plain terms", "Why is leading one so demanding"],
        ),
        (
            "How did Sanderson study ICSs? And who did Waring interview?",
            ["How did Sanderson study ICSs", "Who did Waring interview"],
        ),
        ("what's a realist review and what's a CMOC", ["What's a realist review", "What's a CMOC"]),
        ("Quick question? What is a CMOC?", []),  # two words ask nothing of their own
        # a question pointing back at the one before asks about what that one names: it stays with it
        ("How much did the programme cost, and did it deliver savings?", []),
        ("What did Frimley do for its leaders, and has anyone evaluated that?", []),
        ("What are the risks and benefits of co-leadership?", []),  # "and" joins two nouns, not two questions
        ("What works for clinical leaders, and in what circumstances?", []),
    ],
)
def test_a_question_asking_several_things_is_read_as_its_parts(text: str, parts: list[str]) -> None:
    assert [part.asked for part in question_parts(text)] == parts


def test_each_part_is_asked_after_the_scene_the_question_sets() -> None:
    text = "We lead a new partnership. What is a CMOC, and how should boards use realist findings?"
    assert question_parts(text) == (
        QuestionPart("What is a CMOC", "We lead a new partnership. What is a CMOC?"),
        QuestionPart(
            "How should boards use realist findings",
            "We lead a new partnership. How should boards use realist findings?",
        ),
    )


@pytest.mark.parametrize(
    ("question", "named", "term"),
    [
        ("What is co-leadership?", "What is co-leadership?", "co-leadership"),
        ("What do the authors mean by system leadership?", "What do the authors mean by system leadership?",
         "system leadership"),
        # a term pointing back is what the question named before it: a name, or a phrase it quotes
        ("Some reviews mention RAMESES. What is it?", "Some reviews mention RAMESES. What is RAMESES?", "RAMESES"),
        (
            "When the review talks about 'integrated healthcare systems', what does it mean by that?",
            "When the review talks about 'integrated healthcare systems', what does it mean by integrated healthcare "
            "systems?",
            "integrated healthcare systems",
        ),
        ("What exactly is co-leadership?", "What exactly is co-leadership?", "co-leadership"),
        # a quoted word with the kind of thing it names
        ("They cite the 'discovery' approach. What actually is it?",
         "They cite the 'discovery' approach. What actually is discovery approach?", "discovery approach"),
        # an apostrophe is no quotation mark; a kind of body names nothing; "?" ends a sentence too
        ("We've heard the term 'realist synthesis'. What is it?",
         "We've heard the term 'realist synthesis'. What is realist synthesis?", "realist synthesis"),
        ("My ICB colleague mentioned RAMESES. What is it?", "My ICB colleague mentioned RAMESES. What is RAMESES?",
         "RAMESES"),
        ("Have you heard of RAMESES? What is it, exactly?", "Have you heard of RAMESES? What is RAMESES, exactly?",
         "RAMESES"),
        # the sentences that ask need not be next to each other
        ("RAMESES comes up. What does it stand for? I saw it once. Is it used?",
         "RAMESES comes up. What does RAMESES stand for? I saw it once. Is it used?", "RAMESES"),
        # an acronym opening the question is a name too
        ("RAMESES - what does it stand for?", "RAMESES - what does RAMESES stand for?", "RAMESES"),
        # nothing named before it: left as it is
        ("What is it?", "What is it?", ""),
        ("How do leaders share power?", "How do leaders share power?", ""),
    ],
)  # fmt: skip
def test_the_term_a_definition_question_asks_about(question: str, named: str, term: str) -> None:
    assert with_term_named(question) == named
    assert defined_term(named) == term


def test_a_long_scene_does_not_outweigh_the_question_it_leads_to(rag_index: RagIndex, embedder: Embedder) -> None:
    """Embedded whole, a scene about night shifts would match the fatigue survey better than the
    partnership boards the question asks about; read apart, the asking sentence leads."""
    question = (
        "Our community nurses work long night shifts and many of them report fatigue and poor sleep, "
        "which worries our board. Who helped partnership boards agree priorities?"
    )
    boards = embedder.embed_query("Clinical leaders helped partnership boards agree shared priorities.")
    fatigue = embedder.embed_query("Nurses working night shifts reported more fatigue and sleep problems.")
    whole = embedder.embed_query(question)
    assert whole @ fatigue > whole @ boards  # the premise: read whole, the scene wins
    vector = rag_index.pipeline.query(question).vector
    assert vector @ boards > vector @ fatigue
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5
    single = "Who helped partnership boards agree priorities?"
    assert np.allclose(rag_index.pipeline.query(single).vector, embedder.embed_query(single))


def test_a_question_that_asks_nothing_of_its_own_is_read_with_its_scene(
    rag_index: RagIndex, embedder: Embedder
) -> None:
    """ "What does the research recommend?" asks nothing but what the research says: the scene before it
    is what is asked about, embedded whole, and the words that ask the research are no words to match."""
    question = "Our partnership boards struggle to agree priorities. What does the research recommend?"
    query = rag_index.pipeline.query(question)
    assert np.allclose(query.vector, embedder.embed_query(question))
    assert {"research", "recommend"}.isdisjoint(query.words) and {"partnership", "prioriti"} <= query.words
    asking = "Our partnership boards struggle to agree priorities. What does the research say about night shifts?"
    assert not np.allclose(rag_index.pipeline.query(asking).vector, embedder.embed_query(asking))


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("What are the seven leadership components?", 7),
        ("Which were the 3 mechanisms Middleton et al. found?", 3),
        ("List the five programmes.", 5),
        ("What did the seven components show?", 0),  # asks what they showed, not what they are
        ("What happens when the 3 cytokines are expressed?", 0),
        ("How many components are there?", 0),
    ],
)
def test_a_question_asking_for_a_list_names_its_size(text: str, size: int) -> None:
    assert list_size(text) == size


def test_a_question_on_how_a_study_was_done_naming_none_pools_the_best_matching_one_whole(rag_index: RagIndex) -> None:
    pipeline = rag_index.pipeline
    query = pipeline.query("How many people were interviewed, and how were the data analysed?")
    assert not query.named
    narrow = PoolSize(top=1, publications=0, per_publication=0, per_side=0, records=0)
    scores = pipeline.retriever.fused(query.text, query.vector)
    assert scores is not None
    with patch.dict(POOL_SIZES, dict.fromkeys(POOL_SIZES, narrow)):
        pooled = {h.passage.passage_id for h in candidate_pool(query, scores, top_k=1)}
    best = rag_index.store.passages[int(scores.order[0])].source_id
    own = {p.passage_id for p in rag_index.store.passages if p.source_id == best}
    assert len(own) > 1 and own == pooled


def test_a_question_asking_for_a_list_pools_a_few_passages_per_item(rag_index: RagIndex) -> None:
    """ "What are the seven ...?" needs every item's passage, which a factoid's narrow pool would not hold."""
    pipeline = rag_index.pipeline
    narrow = PoolSize(top=1, publications=0, per_publication=0, per_side=0, records=0)
    sizes = {}
    for text in ("What are the two kinds of partnership board?", "What are partnership boards?"):
        query = pipeline.query(text)
        scores = pipeline.retriever.fused(query.text, query.vector)
        assert scores is not None
        with patch.dict(POOL_SIZES, dict.fromkeys(POOL_SIZES, narrow)):
            sizes[query.listed] = len(candidate_pool(query, scores, top_k=1))
    assert sizes == {2: 2 * LIST_PASSAGES, 0: 1}
