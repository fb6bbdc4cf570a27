"""Who decides whether a cited passage supports a sentence: the offline scorer or a chat model.

The offline scorer (:class:`rag.support.SupportScorer`) cannot see a negation or a reversed
relation built from the passage's own words; a capable chat model can, at the cost of one
call per (sentence, evidence) pair. ``ICRAG_JUDGE=openai|ollama`` picks one through the
same ``ICRAG_LLM_*`` settings as the LLM answerer.
"""

from __future__ import annotations

import re

from langchain_core.language_models import BaseChatModel

from eval.metrics import SupportJudge
from index.embedding import Embedder
from index.errors import IcragError
from index.markers import strip_markers
from index.settings import Settings
from rag.llm import chat_model, invoke, without_reasoning
from rag.prompts import JUDGE_VERSION, SUPPORTED, UNSUPPORTED, judge_messages
from rag.support import SupportScorer

_VERDICTS = {SUPPORTED: True, UNSUPPORTED: False, f"NOT {SUPPORTED}": False}


def parse_verdict(reply: str) -> bool:
    """True for a SUPPORTED reply, False for UNSUPPORTED; anything else is an error, not a guess.

    The prompt asks for exactly one word, so a hedge ("partially supported", "SUPPORTED? No.")
    is not read as a verdict either way.
    """
    words = " ".join(re.sub(r"[^A-Z]", " ", without_reasoning(reply).upper()).split())
    if words not in _VERDICTS:
        raise IcragError(f"the judge model replied neither {SUPPORTED} nor {UNSUPPORTED}: {reply.strip()[:80]!r}")
    return _VERDICTS[words]


class LLMJudge:
    """A chat model as support judge; each (claim, evidence) pair is asked about once."""

    def __init__(self, model: BaseChatModel, name: str) -> None:
        self.model = model
        self.name = name
        self._verdicts: dict[tuple[str, str], bool] = {}

    def supports(self, claim: str, evidence: str) -> bool:
        """Whether the model judges that the evidence supports the claim."""
        key = (strip_markers(claim), evidence)
        if key not in self._verdicts:
            self._verdicts[key] = parse_verdict(invoke(self.model, *judge_messages(*key)))
        return self._verdicts[key]


def make_judge(settings: Settings, embedder: Embedder) -> SupportJudge:
    """The judge ``settings.judge`` names: the offline scorer by default.

    Raises:
        IcragError: when a chat-model judge lacks a setting or its backend package.
    """
    if settings.judge == "offline":
        return SupportScorer(embedder)
    model = chat_model(settings, settings.judge, "ICRAG_JUDGE")
    return LLMJudge(model, f"{settings.judge}:{settings.llm_model} ({JUDGE_VERSION})")
