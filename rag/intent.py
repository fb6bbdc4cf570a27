"""What a question asks for, read from its wording without a language model."""

from __future__ import annotations

from index.models import Role
from rag.models import Intent

#: Roles of text every intent asks for: findings and their contexts.
_FINDINGS: frozenset[Role] = frozenset({"finding", "context", "background"})
#: Roles each intent asks for; a cited sentence of another role is noise in its answer.
ROLES_ASKED: dict[Intent, frozenset[Role]] = {
    "what_works": _FINDINGS,
    "how_to": _FINDINGS,
    "comparison": _FINDINGS,
    "factoid": _FINDINGS,
    "definition": _FINDINGS,
    "general": _FINDINGS,
    "evidence_strength": _FINDINGS | {"method", "aim"},
    "methods": _FINDINGS | {"method", "aim", "bibliographic"},
}


def asked_roles(intent: Intent) -> frozenset[Role]:
    """The roles of text a question of this intent asks for."""
    return ROLES_ASKED[intent]
