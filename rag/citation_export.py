"""An answer's references as files a reference manager imports: RIS, BibTeX and CSL-JSON.

One function, :func:`export_references`, serves ``icrag ask --cite``, the Ask page's download
buttons and the API, so every way out writes the same references. Each publication an answer
cites appears once, in the order the answer first cites it. An abstention cites nothing (its
related passages are not support), so its export is empty: an empty string for RIS and BibTeX
and ``[]`` for CSL-JSON.

Written from the format descriptions, with a deliberately simple type rule (:func:`venue_kind`):
a venue that names a journal (the word "journal", a volume and issue such as "21(4)", an issue
or article number, or a BMJ title) is a journal article (RIS ``JOUR``, BibTeX ``@article``,
CSL ``article-journal``); one that says "report" is a report (``RPRT``, ``@misc``, ``report``);
anything else is a generic document (``GEN``, ``@misc``, ``document``). The venue text is kept
as written (journal, secondary title or ``howpublished``). Authors come from the semicolon list
("Sims S; Fletcher S") as :func:`index.models.split_author` reads it: an author without initials
is an organisation and stays one literal name. Years that are not a year ('n.d.') are left out, and
a publication without a title is titled by its source id. BibTeX text fields escape LaTeX's
special characters; its DOI and URL stay verbatim for the link, with only braces and backslashes
percent-encoded. Records are separated by a blank line. Non-ASCII text is kept as UTF-8, which
current reference managers and biber read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Literal

from index.errors import InputError
from index.models import SourceInfo, split_author
from rag.models import Answer

CiteFormat = Literal["ris", "bibtex", "csl"]
#: The formats, in the order the app offers them.
CITE_FORMATS: tuple[CiteFormat, ...] = ("ris", "bibtex", "csl")
#: The media type a download or an HTTP response of each format carries.
CITE_MEDIA_TYPES: dict[CiteFormat, str] = {
    "ris": "application/x-research-info-systems",
    "bibtex": "application/x-bibtex",
    "csl": "application/vnd.citationstyles.csl+json",
}
#: The file name extension of each format.
CITE_EXTENSIONS: dict[CiteFormat, str] = {"ris": ".ris", "bibtex": ".bib", "csl": ".json"}

VenueKind = Literal["journal", "report", "other"]
_JOURNAL = re.compile(r"\bjournals?\b|\bBMJ\b|\bissue\b|\barticle\b|\d+\s*\(\s*\d+\s*\)", re.IGNORECASE)
_REPORT = re.compile(r"\breports?\b", re.IGNORECASE)
_YEAR = re.compile(r"\b\d{4}\b")
#: LaTeX's special characters, as BibTeX text must write them.
_BIBTEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_BIBTEX_SPECIAL = re.compile("|".join(re.escape(c) for c in _BIBTEX_ESCAPES))
#: In a DOI or URL (kept verbatim for the link) only what would unbalance a BibTeX field is encoded.
_VERBATIM_ESCAPES = str.maketrans({"{": "%7B", "}": "%7D", "\\": "%5C"})
_RIS_TYPES: dict[VenueKind, str] = {"journal": "JOUR", "report": "RPRT", "other": "GEN"}
_CSL_TYPES: dict[VenueKind, str] = {"journal": "article-journal", "report": "report", "other": "document"}


def cited_sources(answer: Answer, sources: Mapping[str, SourceInfo]) -> list[SourceInfo]:
    """The publications an answer cites, each once, in the order it first cites them.

    A publication missing from ``sources`` (the index changed since the answer) is rebuilt from
    the citation's own title, authors, year and DOI, so a reference is never dropped. An
    abstention cites nothing: its related passages are not support.
    """
    if answer.abstained:
        return []
    seen: dict[str, SourceInfo] = {}
    for citation in sorted(answer.citations, key=lambda c: c.n):
        if citation.source_id in seen:
            continue
        seen[citation.source_id] = sources.get(citation.source_id) or SourceInfo(
            source_id=citation.source_id,
            title=citation.title,
            authors=citation.authors,
            year=citation.year,
            doi=citation.doi,
        )
    return list(seen.values())


def export_references(answer: Answer, sources: Mapping[str, SourceInfo], fmt: CiteFormat) -> str:
    """The answer's cited publications as a RIS, BibTeX or CSL-JSON file (see the module notes)."""
    cited = cited_sources(answer, sources)
    if fmt == "ris":
        return "\n".join(ris_entry(source) for source in cited)
    if fmt == "bibtex":
        keys = _unique_keys([source.source_id for source in cited])
        return "\n".join(bibtex_entry(source, key) for source, key in zip(cited, keys, strict=True))
    if fmt == "csl":
        return json.dumps([csl_item(source) for source in cited], indent=2, ensure_ascii=False) + "\n"
    raise InputError(f"format {fmt}", f"unknown citation format (use one of: {', '.join(CITE_FORMATS)})")


def venue_kind(venue: str) -> VenueKind:
    """Whether a venue names a journal, a report or neither (the simple rule of the module notes)."""
    if _JOURNAL.search(venue):
        return "journal"
    if _REPORT.search(venue):
        return "report"
    return "other"


def ris_entry(source: SourceInfo) -> str:
    """One RIS record, ``TY`` to ``ER``, one ``AU`` line per author."""
    kind = venue_kind(source.venue)
    lines = [("TY", _RIS_TYPES[kind])]
    lines += [("AU", _person(family, given)) for family, given in _authors(source.authors)]
    lines += [("TI", _title(source)), ("PY", _year(source.year))]
    lines.append(("JO" if kind == "journal" else "T2", source.venue))
    lines += [("DO", source.doi), ("UR", source.url), ("ER", "")]
    # A tag, two spaces, a hyphen and a space; the closing ER keeps that form with no value.
    return "".join(f"{tag}  - {_one_line(value)}\n" for tag, value in lines if value or tag == "ER")


def bibtex_entry(source: SourceInfo, key: str | None = None) -> str:
    """One BibTeX entry: ``@article`` for a journal, else ``@misc``; text fields escaped for LaTeX."""
    journal = venue_kind(source.venue) == "journal"
    authors = " and ".join(
        _bibtex_text(_person(family, given)) if given else "{" + _bibtex_text(family) + "}"
        for family, given in _authors(source.authors)
    )
    fields = [
        ("author", authors),
        ("title", _bibtex_text(_title(source))),
        ("journal" if journal else "howpublished", _bibtex_text(source.venue)),
        ("year", _year(source.year)),
        ("doi", _one_line(source.doi).translate(_VERBATIM_ESCAPES)),
        ("url", _one_line(source.url).translate(_VERBATIM_ESCAPES)),
    ]
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
    kind = "article" if journal else "misc"
    return f"@{kind}{{{key or bibtex_key(source.source_id)},\n{body}\n}}\n"


def bibtex_key(source_id: str) -> str:
    """A source id as a BibTeX key: letters, digits and ``_:.-`` only ('ref' if nothing is left)."""
    return re.sub(r"[^A-Za-z0-9_:.\-]+", "_", source_id).strip("_") or "ref"


def csl_item(source: SourceInfo) -> dict[str, object]:
    """One CSL-JSON item; empty fields are left out."""
    kind = venue_kind(source.venue)
    year = _year(source.year)
    item: dict[str, object] = {
        "id": source.source_id,
        "type": _CSL_TYPES[kind],
        "title": _one_line(_title(source)),
        "author": [
            {"family": family, "given": _given(given)} if given else {"literal": family}
            for family, given in _authors(source.authors)
        ],
        "issued": {"date-parts": [[int(year)]]} if year else None,
        "container-title": _one_line(source.venue),
        "DOI": _one_line(source.doi),
        "URL": _one_line(source.url),
    }
    return {name: value for name, value in item.items() if value}


def _authors(authors: str) -> list[tuple[str, str]]:
    """(family, initials) per author; initials empty for an organisation."""
    return [pair for pair in (split_author(a) for a in authors.split(";")) if pair[0]]


def _given(initials: str) -> str:
    """'MS' -> 'M. S.', 'J-P' -> 'J.-P.'; dots already there are not doubled."""
    return "-".join(" ".join(f"{letter}." for letter in part) for part in initials.replace(".", "").split("-"))


def _person(family: str, initials: str) -> str:
    """'Sims, S.' for a person, the whole name for an organisation."""
    return f"{family}, {_given(initials)}" if initials else family


def _title(source: SourceInfo) -> str:
    """The title, or the source id for a publication without one, so every reference names something."""
    return source.title or source.source_id


def _year(year: str) -> str:
    match = _YEAR.search(year)
    return match.group() if match else ""


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _bibtex_text(text: str) -> str:
    return _BIBTEX_SPECIAL.sub(lambda m: _BIBTEX_ESCAPES[m.group()], _one_line(text))


def _unique_keys(source_ids: list[str]) -> list[str]:
    """BibTeX keys of the cited publications, suffixed '-2', '-3' where two ids sanitise alike."""
    keys: list[str] = []
    for source_id in source_ids:
        key = base = bibtex_key(source_id)
        count = 1
        while key in keys:
            count += 1
            key = f"{base}-{count}"
        keys.append(key)
    return keys
