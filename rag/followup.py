"""The question a conversation asks: a follow-up turn is read together with the question before it.

Chat clients send the whole conversation. The pipeline answers one question, so a turn that
only makes sense after the previous one ("and in Scotland?", "what about working with power?")
is appended to the previous user question, with no model involved. A user turn is a follow-up when:

1. it opens with a connective that continues a question: ``and``, ``but``, ``also``, ``or``,
   ``then``, ``what about``, ``how about``, ``what of``, ``same for``; or
2. it is short: at most :data:`SHORT_TURN_WORDS` words ("In Scotland?", "Why?"); or
3. it is at most :data:`PRONOUN_TURN_WORDS` words and refers back with a pronoun
   (it, its, they, them, their, this, these, those), as in "How did they measure it?".

The previous question is itself resolved first, so a chain of follow-ups keeps the first full
question. When the combined text would be over :data:`rag.query.MAX_QUESTION_CHARS`, the last
turn is asked alone rather than refused for context the user did not type in that turn.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.query import MAX_QUESTION_CHARS

#: A turn of at most this many words is read as a follow-up.
SHORT_TURN_WORDS = 4
#: A turn of at most this many words that refers back with a pronoun is read as a follow-up.
PRONOUN_TURN_WORDS = 12
_CONNECTIVE = re.compile(r"^\W*(?:and|but|also|or|then|what about|how about|what of|same for)\b", re.IGNORECASE)
_PRONOUN = re.compile(r"\b(?:it|its|they|them|their|this|these|those)\b", re.IGNORECASE)
_WORD = re.compile(r"\w+")


def is_follow_up(turn: str) -> bool:
    """Whether a user turn continues the question before it rather than asking a new one."""
    words = len(_WORD.findall(turn))
    if _CONNECTIVE.match(turn) or words <= SHORT_TURN_WORDS:
        return True
    return words <= PRONOUN_TURN_WORDS and bool(_PRONOUN.search(turn))


def conversation_question(turns: Sequence[str]) -> str:
    """The question to answer for a conversation's user turns (oldest first; empty turns ignored).

    The last turn, preceded by the previous user question whenever it is a follow-up (see the
    module docstring); "" when there is no user turn.
    """
    question = ""
    for turn in (" ".join(turn.split()) for turn in turns):
        if not turn:
            continue
        combined = f"{question} {turn}" if question and is_follow_up(turn) else turn
        question = combined if len(combined) <= MAX_QUESTION_CHARS else turn
    return question
