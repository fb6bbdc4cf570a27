"""The abbreviations of kinds of body and role a question may use without the evidence defining them."""

from __future__ import annotations

import pytest

from rag.glossary import full_words, is_kind


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("ICB", True),
        ("ICBs", True),
        ("GPs", True),
        ("PCN", True),
        ("AHSNs", True),
        ("HSCPs", True),  # a Scottish health and social care partnership
        ("IJB", True),
        ("NHS", False),
        ("CQC", False),
        ("ICBX", False),
    ],
)
def test_a_kind_of_body_or_role_is_told_from_a_name(word: str, kind: bool) -> None:
    assert is_kind(word) is kind


def test_full_words_spell_out_each_abbreviation_of_the_list() -> None:
    assert full_words("Should our ICB ask GPs first?") == "integrated care board general practitioner"
    assert full_words("What did the King's Fund say?") == ""
