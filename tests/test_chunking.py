"""Chunking: passages are exact, bounded spans that never cross a segment, with stable ids."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from index.chunking import is_readable, split_document
from index.models import Document, Passage, Segment, SourceInfo
from index.settings import Settings

SETTINGS = Settings(chunk_size=200, show_progress=False)


def make_document(paragraphs: list[str], sections: list[str] | None = None) -> Document:
    """A text document with one segment per paragraph."""
    text = "\n\n".join(paragraphs)
    segments, cursor = [], 0
    for i, paragraph in enumerate(paragraphs):
        section = sections[i] if sections else ""
        segments.append(Segment(start=cursor, end=cursor + len(paragraph), source_id="s1", section=section))
        cursor += len(paragraph) + 2
    return Document(doc_id="doc", path="doc.txt", kind="text", checksum="0" * 64, text=text, segments=segments)


SENTENCES = [f"Sentence number {i} says that leaders of integrated care share a purpose." for i in range(12)]


def test_long_segment_splits_at_sentences_within_size() -> None:
    document = make_document([" ".join(SENTENCES)])
    passages = split_document(document, SETTINGS)
    assert len(passages) > 1
    for passage in passages:
        assert document.text[passage.start : passage.end] == passage.text
        assert len(passage.text) <= SETTINGS.chunk_size
        assert passage.text.endswith(".")  # cut between sentences, not inside one
    assert " ".join(p.text for p in passages) == document.text
    assert [p.start for p in passages] == sorted(p.start for p in passages)


def test_passages_never_cross_segments_and_keep_their_metadata() -> None:
    paragraphs = [" ".join(SENTENCES[:2]), " ".join(SENTENCES[2:4])]
    document = make_document(paragraphs, sections=["One", "Two"])
    passages = split_document(document, Settings(chunk_size=900))
    assert [(p.section, p.text) for p in passages] == [("One", paragraphs[0]), ("Two", paragraphs[1])]


def test_overlap_repeats_text_between_neighbours() -> None:
    document = make_document([" ".join(SENTENCES)])
    passages = split_document(document, SETTINGS.model_copy(update={"chunk_overlap": 80}))
    for before, after in itertools.pairwise(passages):
        assert after.start < before.end  # neighbours share text
        assert document.text[after.start : after.end] == after.text


def test_unreadable_spans_are_dropped() -> None:
    table = "\n".join(f"{i} | {i * 3} | {i * 7}" for i in range(12))
    prose = "Leaders of integrated care teams build a shared purpose across organisations."
    document = make_document([table, "Too short.", prose])
    assert [p.text for p in split_document(document, SETTINGS)] == [prose]


@pytest.mark.parametrize(
    ("text", "readable"),
    [
        ("Leaders of integrated care teams build a shared purpose across organisations.", True),
        ("0.12 0.55 0.91 0.33 0.25 0.75 0.11 0.45 0.56 0.87 0.12 0.34", False),  # numbers
        ("a b c d e f g h i j k l m n o p q r s t u v w x y z a b c", False),  # one-letter tokens
        ("Home\nAbout us\nContact\nNews\nCareers\nPrivacy policy", False),  # a menu
        ("Short words.", False),
    ],
)
def test_is_readable(text: str, readable: bool) -> None:
    assert is_readable(text, min_chars=20) is readable


def test_passage_ids_depend_on_document_position_and_text_only() -> None:
    document = make_document([" ".join(SENTENCES)])
    first = [p.passage_id for p in split_document(document, SETTINGS)]
    again = [p.passage_id for p in split_document(document, SETTINGS, {"s1": SourceInfo(source_id="s1", year="2020")})]
    assert first == again  # bibliographic metadata does not change ids
    assert len(set(first)) == len(first)
    assert Passage.make_id("doc", 0, "text") != Passage.make_id("doc", 1, "text")
    assert Passage.make_id("doc", 0, "text") != Passage.make_id("other", 0, "text")


words = st.sampled_from(["care", "team", "leader", "shared", "purpose", "of", "integration", "boards"])
# Sentences of 5 to 12 words always fit a passage, so every cut falls between sentences.
sentence = st.lists(words, min_size=5, max_size=12).map(lambda ws: " ".join(ws).capitalize() + ".")
paragraph = st.lists(sentence, min_size=1, max_size=15).map(" ".join)


@hypothesis_settings(max_examples=60, deadline=None)
@given(paragraphs=st.lists(paragraph, min_size=1, max_size=4), size=st.integers(150, 600))
def test_chunks_are_exact_bounded_ordered_and_lose_nothing(paragraphs: list[str], size: int) -> None:
    document = make_document(paragraphs)
    passages = split_document(document, Settings(chunk_size=size, min_passage_chars=1))
    for passage in passages:
        assert document.text[passage.start : passage.end] == passage.text
        assert len(passage.text) <= size
        assert any(s.start <= passage.start and passage.end <= s.end for s in document.segments)
    for before, after in itertools.pairwise(passages):
        assert before.end <= after.start
    assert " ".join(p.text for p in passages) == " ".join(paragraphs)
