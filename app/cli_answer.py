"""``icrag ask`` and ``icrag search``: cited answers and ranked passages in the terminal."""

from __future__ import annotations

import json
import textwrap
from enum import StrEnum
from typing import Annotated

import typer

from app.cli_common import (
    FilterOption,
    IndexOption,
    JsonOption,
    make_embedder,
    make_settings,
    parse_filters,
    user_errors,
)
from index.errors import InputError
from rag.citation_export import export_references
from rag.citations import reference
from rag.models import Answer, Citation, RetrievedPassage

TopKOption = Annotated[int | None, typer.Option("--top-k", min=1, max=100, help="Passages to retrieve.")]


class CiteChoice(StrEnum):
    """Reference formats of ``icrag ask --cite`` (rag.citation_export.CITE_FORMATS)."""

    ris = "ris"
    bibtex = "bibtex"
    csl = "csl"


CiteOption = Annotated[
    CiteChoice | None,
    typer.Option("--cite", help="Print the cited publications as RIS, BibTeX or CSL-JSON instead of the answer."),
]


@user_errors
def ask(
    question: Annotated[str, typer.Argument(help="A question in plain language.")],
    as_json: JsonOption = False,
    top_k: TopKOption = None,
    filters: FilterOption = None,
    cite: CiteOption = None,
    index: IndexOption = None,
) -> None:
    """Answer a question with numbered citations to the evidence.

    With ``--cite`` only the cited publications are printed, in a reference manager's format, so
    ``icrag ask "..." --cite ris > refs.ris`` saves them; an abstention prints no references.
    """
    from rag.pipeline import Pipeline

    if cite is not None and as_json:
        raise InputError("--cite", "cannot be combined with --json; choose one format")
    settings = make_settings(index, show_progress=False)
    pipeline = Pipeline.load(settings, make_embedder(settings))
    answer = pipeline.ask(question, top_k=top_k, filters=parse_filters(filters))
    if cite is not None:
        typer.echo(export_references(answer, pipeline.store.manifest.sources, cite.value), nl=False)
    else:
        typer.echo(answer.model_dump_json(indent=2) if as_json else render_answer(answer))


@user_errors
def search(
    query: Annotated[str, typer.Argument(help="Words or a question to search the evidence for.")],
    as_json: JsonOption = False,
    top_k: TopKOption = None,
    filters: FilterOption = None,
    index: IndexOption = None,
) -> None:
    """List the passages that best match a query."""
    from rag.pipeline import Pipeline

    settings = make_settings(index, show_progress=False)
    hits = Pipeline.load(settings, make_embedder(settings)).retrieve(query, top_k=top_k, filters=parse_filters(filters))
    if as_json:
        typer.echo(json.dumps([hit.model_dump(mode="json") for hit in hits], indent=2))
    else:
        typer.echo(render_hits(hits))


def render_answer(answer: Answer, width: int = 100) -> str:
    """A readable terminal rendering: the answer, then references with their quotes."""
    lines = [_wrap_lines(answer.answer, width), ""]
    if answer.abstained:
        if answer.related:
            lines.append("Related evidence (not cited as support):")
            lines.extend(_quoted(c, width) for c in answer.related)
        return "\n".join(lines).rstrip()
    lines.append("References:")
    lines.extend(_quoted(c, width) for c in answer.citations)
    return "\n".join(lines).rstrip()


def _wrap_lines(text: str, width: int) -> str:
    """Wrap each line of an answer on its own, so headings and list items keep their lines."""
    return "\n".join(
        textwrap.fill(line, width, subsequent_indent="  " if line.startswith("- ") else "") if line else ""
        for line in text.split("\n")
    )


def render_hits(hits: list[RetrievedPassage], width: int = 100) -> str:
    """Ranked passages with their publication and score."""
    if not hits:
        return "No passages match."
    blocks = []
    for hit in hits:
        p = hit.passage
        where = f"§{p.section or '-'}" + (f", {_page(p.page)}" if p.page else "")
        head = f"{hit.rank}. {p.source_id} {where} (score {hit.score:.2f})"
        body = textwrap.indent(textwrap.fill(" ".join(p.text.split()), width - 4), "    ")
        blocks.append(f"{head}\n{body}")
    return "\n\n".join(blocks)


def _page(page: int | None) -> str:
    return f"p. {page}" if page else ""


def _quoted(citation: Citation, width: int) -> str:
    quote = textwrap.fill(f"“{' '.join(citation.quote.split())}”", width - 4)
    return reference(citation) + "\n" + textwrap.indent(quote, "    ")
