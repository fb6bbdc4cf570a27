"""Records that cross module boundaries during ingestion and indexing."""

from __future__ import annotations

import hashlib
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DocKind = Literal["pdf", "html", "markdown", "text", "evidence"]
#: What a sentence unit is, from its section heading, record field or wording (see index.roles).
Role = Literal["finding", "context", "background", "aim", "method", "bibliographic", "scope_note"]
#: Fields of a coded-evidence record as rendered into its passage; "heading" is the record's first line.
FieldName = Literal["heading", "context", "mechanism", "outcome", "summary"]
#: The initials that end a person's name in an author list ("S", "MGM", "J-P"); see split_author.
_INITIALS = re.compile(r"[A-Z][A-Z.\-]{0,3}")


class Record(BaseModel):
    """Base for every icrag record: unknown fields are an error, not silently kept."""

    model_config = ConfigDict(extra="forbid")


class SourceInfo(Record):
    """Bibliographic metadata of one publication, from ``sources.csv`` or the file itself."""

    source_id: str = Field(description="Short stable identifier, e.g. 'sims2021'.")
    title: str = Field("", description="Publication title.")
    authors: str = Field("", description="Authors, separated by semicolons.")
    year: str = Field("", description="Year of publication, or 'n.d.'.")
    venue: str = Field("", description="Journal, series or publisher.")
    doi: str = Field("", description="DOI without the resolver prefix.")
    url: str = Field("", description="Where the publication can be read.")
    licence: str = Field("", description="Licence as stated by the publisher.")
    design: str = Field("", description="Kind of study, e.g. 'realist review', 'qualitative study'.")
    country: str = Field("", description="Where the study is set, or 'international' for reviews of several.")

    @property
    def surnames(self) -> list[str]:
        """The authors' surnames in order, as :func:`author_surnames` reads them."""
        return author_surnames(self.authors)

    @property
    def first_author(self) -> str:
        """The first author's surname in lower case, as a question names it ("Sims et al."); "" for none."""
        return self.surnames[0].strip(",").lower() if self.surnames else ""

    @property
    def short_cite(self) -> str:
        """How a reader names the publication: "Sims et al. (2021)", "Fillingham & Weir (2014)"."""
        who = cite_authors(self.authors)
        if not who:
            return self.source_id
        return f"{who} ({self.year})" if self.year else who


def author_surnames(authors: str) -> list[str]:
    """The surnames of a semicolon-separated author list, in order ("Sims S; Fletcher S" -> ["Sims", "Fletcher"]).

    An author without initials is an organisation and keeps its whole name ("Social Care
    Institute for Excellence"), so its first word is not taken for a person's name.
    """
    names = []
    for author in authors.split(";"):
        family, initials = split_author(author)
        if family:
            names.append(family.split()[0] if initials else family)
    return names


def split_author(author: str) -> tuple[str, str]:
    """One author of a list as (family name, initials): "Neiva Ganga R" -> ("Neiva Ganga", "R").

    Initials are a last word of one capital and up to three more capitals, dots or hyphens; an
    author without them is an organisation and comes back whole with empty initials, so reference
    formats can keep it a literal name.
    """
    words = author.split()
    if len(words) > 1 and _INITIALS.fullmatch(words[-1]):
        return " ".join(words[:-1]), words[-1]
    return " ".join(words), ""


def cite_authors(authors: str) -> str:
    """An author list as a reader cites it: "Sims", "Fillingham & Weir", "Sims et al."; empty for none."""
    names = author_surnames(authors)
    if len(names) > 2:
        return f"{names[0]} et al."
    return " & ".join(names)


class EvidenceRecord(Record):
    """One coded context-mechanism-outcome configuration from a coded-evidence table."""

    record_id: str = Field(description="Identifier of the row, e.g. 'S07'.")
    component: str = Field(description="Leadership component, or 'general'.")
    context: str = Field("", description="The C of the CMO configuration.")
    mechanism: str = Field("", description="The M of the CMO configuration.")
    outcome: str = Field("", description="The O of the CMO configuration.")
    evidence_summary: str = Field("", description="Plain-language summary of the finding.")
    source_id: str = Field(description="Publication the record was coded from.")
    section: str = Field("", description="Section of that publication.")
    included_study: str = Field("", description="Primary study the review drew it from, if named.")


class FieldSpan(Record):
    """Where one field's value sits in a coded-evidence passage, labels excluded."""

    name: FieldName = Field(description="Record field.")
    start: int = Field(ge=0, description="Offset of the value in the passage (or segment) text.")
    end: int = Field(ge=0, description="Offset one past the value's end.")


class Segment(Record):
    """A span of a document's text with uniform metadata; passages never cross segments."""

    start: int = Field(ge=0, description="Character offset where the span starts in Document.text.")
    end: int = Field(ge=0, description="Character offset one past the span's end.")
    source_id: str = Field(description="Publication the span's facts come from.")
    section: str = Field("", description="Section heading the span sits under.")
    heading: str = Field(
        "", description="The file's own heading over the span, where a tag names the publication's section instead."
    )
    page: int | None = Field(None, ge=1, description="1-based page number, for paged formats.")
    tags: list[str] = Field(default_factory=list, description="'source_id §Section' tags of the span.")
    record: EvidenceRecord | None = Field(None, description="Coded-evidence row the span renders.")
    fields: list[FieldSpan] = Field(
        default_factory=list, description="Spans of the record's field values, offsets into Document.text."
    )


class Document(Record):
    """One ingested file: its full text, checksum and the segments that carry metadata."""

    doc_id: str = Field(description="Stable identifier derived from the file name.")
    path: str = Field(description="File name the document was read from.")
    kind: DocKind = Field(description="Format the document was read as.")
    checksum: str = Field(description="SHA-256 of the file's bytes.")
    text: str = Field(description="Full extracted text; passage offsets point into it.")
    segments: list[Segment] = Field(description="Metadata-bearing spans of the text.")


class Passage(Record):
    """The unit of retrieval and citation: an exact span of a document plus its metadata."""

    passage_id: str = Field(description="Content-derived id, stable across re-indexing.")
    doc_id: str = Field(description="Document the passage was cut from.")
    kind: DocKind = Field(description="Format of that document.")
    text: str = Field(description="The passage text, equal to Document.text[start:end].")
    start: int = Field(ge=0, description="Offset of the passage in Document.text.")
    end: int = Field(ge=0, description="Offset one past the passage's end.")
    source_id: str = Field(description="Publication the facts come from.")
    section: str = Field("", description="Section heading.")
    heading: str = Field("", description="The file's own heading over the passage, where it differs from section.")
    page: int | None = Field(None, description="1-based page number, for paged formats.")
    tags: list[str] = Field(default_factory=list, description="'source_id §Section' tags.")
    record: EvidenceRecord | None = Field(None, description="Coded-evidence row, if any.")
    fields: list[FieldSpan] = Field(
        default_factory=list, description="Spans of the record's field values, offsets into the passage text."
    )
    source: SourceInfo = Field(description="Bibliographic metadata of the publication.")

    @staticmethod
    def make_id(doc_id: str, start: int, text: str) -> str:
        """Derive a passage id from its content and position, so re-indexing is idempotent."""
        digest = hashlib.sha256(f"{doc_id}\x00{start}\x00{text}".encode()).hexdigest()
        return digest[:16]


class DocumentEntry(Record):
    """What the manifest remembers about one indexed document."""

    doc_id: str
    path: str
    kind: DocKind
    checksum: str
    n_passages: int


class SkippedFile(Record):
    """A file of the evidence folder that could not be indexed, remembered so an unchanged one is not retried."""

    path: str = Field(description="File name.")
    checksum: str = Field(description="Fingerprint of the file when it was tried (see index.builder._fingerprint).")
    problem: str = Field(description="The one-line error it gave.")


class Manifest(Record):
    """Describes how an index was made; loading compares it with the current settings."""

    format_version: int = Field(description="Layout version of the index folder.")
    icrag_version: str = Field(description="icrag version that wrote the index.")
    embedding_model: str = Field(description="Model that embedded the passages.")
    dimension: int = Field(description="Vector dimension.")
    settings: dict[str, object] = Field(description="Index-relevant settings, see INDEX_FIELDS.")
    settings_hash: str = Field(description="Hash of those settings.")
    documents: list[DocumentEntry] = Field(description="Indexed documents, sorted by doc_id.")
    sources: dict[str, SourceInfo] = Field(description="Bibliographic metadata by source_id.")
    n_passages: int = Field(description="Number of passages (and vectors).")
    skipped: list[SkippedFile] = Field(
        default_factory=list, description="Files of the evidence folder that could not be indexed, by name."
    )
    created_at: str = Field(description="UTC time the index was written.")
