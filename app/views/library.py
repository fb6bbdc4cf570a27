"""Library: what the index holds, how it was built, and adding or removing documents."""

from __future__ import annotations

import math
from collections import Counter

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from app.ui_common import embedder, error_message, forget_pipeline, init_state, pipeline, settings_from_env
from app.ui_render import label_text
from index.errors import IcragError
from index.library import UPLOADS_FOLDER, Library, SourcesMerge, Upload, is_sources_file
from index.loaders import SOURCES_FILE, SUPPORTED_SUFFIXES
from index.settings import Settings
from index.store import IndexStore
from rag.exports import table_rows

Notice = tuple[str, str]  # (level, message): level is "success", "warning" or "error"


def show_notices() -> None:
    """Messages about the last change, kept across the rerun that shows the changed index."""
    for level, message in st.session_state.lib_notices:
        getattr(st, level)(label_text(message))


def show_index(store: IndexStore) -> None:
    """Counts, the documents with their passages, the publications and the manifest."""
    manifest = store.manifest
    per_source = Counter(p.source_id for p in store.passages)
    records = sum(1 for p in store.passages if p.record is not None)
    cells = st.columns(4)
    cells[0].metric("Documents", len(manifest.documents))
    cells[1].metric("Passages", manifest.n_passages)
    cells[2].metric("Coded records", records)
    cells[3].metric("Publications", len(manifest.sources))
    st.subheader("Documents")
    st.dataframe(
        table_rows(
            {"document": e.doc_id, "type": e.kind, "passages": e.n_passages, "file": e.path, "sha256": e.checksum[:12]}
            for e in manifest.documents
        ),
        key="lib_documents",
        hide_index=True,
    )
    st.subheader("Publications")
    st.dataframe(
        table_rows(
            {
                "source": s.source_id,
                "authors": s.authors,
                "year": s.year,
                "title": s.title,
                "doi": s.doi,
                "passages": per_source[sid],
            }
            for sid, s in manifest.sources.items()
        ),
        key="lib_sources",
        hide_index=True,
        column_config={"title": st.column_config.TextColumn("title", width="large")},
    )
    with st.expander("Index manifest", key="lib_manifest"):
        st.caption(
            f"Built {manifest.created_at} by icrag {manifest.icrag_version} with {manifest.embedding_model} "
            f"(dimension {manifest.dimension}); index settings hash {manifest.settings_hash}."
        )
        st.json(manifest.model_dump(mode="json", exclude={"documents", "sources"}))


def add_files(settings: Settings, files: list[UploadedFile]) -> list[Notice]:
    """Add uploads one by one with a progress bar; one notice per file, so one bad file does not stop the others.

    Each file goes with the files of this batch accepted before it: they are indexed unchanged
    and not read again, and a file stored like one of them is refused instead of replacing it.
    """
    library = Library(settings, embedder(settings))
    notices: list[Notice] = []
    accepted: list[Upload] = []
    progress = st.progress(0.0, text="Adding documents…")
    # Publication details first, so documents uploaded with them are indexed citing them.
    for i, file in enumerate(sorted(files, key=lambda file: not is_sources_file(file.name))):
        step = f"({i + 1} of {len(files)})"
        upload = Upload(name=file.name, data=file.getvalue())
        try:
            if is_sources_file(file.name):
                progress.progress(i / len(files), text=f"Merging {file.name} and updating the index {step}…")
                merge = library.add_uploads([upload], role="app").sources
                notices.extend([sources_notice(file.name, merge)] if merge else [])
                continue
            progress.progress(i / len(files), text=f"Reading and embedding {file.name} {step}…")
            report = library.add_uploads([*accepted, upload], role="app").report
        except IcragError as exc:
            notices.append(("error", error_message(exc)))
            continue
        accepted.append(upload)
        if report is not None and report.written:
            passages = f"{report.n_embedded} passage{'' if report.n_embedded == 1 else 's'}"
            notices.append(("success", f"Added {', '.join(report.added)}: {passages}."))
        else:
            notices.append(("warning", f"{file.name} is already indexed unchanged."))
    progress.progress(1.0, text="Done.")
    return notices


def sources_notice(name: str, merge: SourcesMerge) -> Notice:
    """What a merged sources.csv changed, e.g. 'sources.csv: 2 publications added, 1 updated.'"""
    return ("success" if merge.changed else "warning", merge.summary(name))


def remove(settings: Settings, doc_id: str) -> list[Notice]:
    """Remove one document, and its file when it was uploaded; one notice."""
    try:
        report = Library(settings, embedder(settings)).remove([doc_id], role="app").report
    except IcragError as exc:
        return [("error", error_message(exc))]
    passages = report.n_passages if report is not None else 0
    return [("success", f"Removed {doc_id}; the index now has {passages} passages.")]


def apply(notices: list[Notice]) -> None:
    """Keep the notices, load the changed index and show it."""
    st.session_state.lib_notices = notices
    if any(level == "success" for level, _ in notices):
        forget_pipeline()
        st.rerun()


def render() -> None:
    """The Library page."""
    settings = settings_from_env()
    init_state(lib_notices=[])
    st.title("Library")
    st.caption(f"The evidence index at `{settings.index_dir}`: its documents, publications and how it was built.")
    notices = st.container()
    store: IndexStore | None = None
    try:
        store = pipeline(settings).store
    except IcragError as exc:
        st.error(label_text(str(exc)))
    if store is not None:
        show_index(store)

    st.subheader("Add documents")
    st.caption(
        f"PDF, HTML, Markdown, plain text, or a coded-evidence CSV/JSON (up to {settings.max_file_mb:g} MB each). "
        f"Files are kept in `{settings.data_dir / UPLOADS_FOLDER}` and re-indexed by `icrag index build`. "
        f"A `{SOURCES_FILE}` adds or updates publication details in `{settings.data_dir / SOURCES_FILE}`."
    )
    with st.form("lib_add_form", clear_on_submit=True, border=False):
        files = st.file_uploader(
            "Evidence files",
            type=[suffix.lstrip(".") for suffix in SUPPORTED_SUFFIXES],
            accept_multiple_files=True,
            key="lib_uploads",
            max_upload_size=max(1, math.ceil(settings.max_file_mb)),
        )
        add = st.form_submit_button("Add to the index", type="primary", key="lib_add", icon=":material/upload:")
    if add:
        if files:
            apply(add_files(settings, files))
        else:
            st.warning("Choose one or more files first.")

    if store is not None and store.manifest.documents:
        st.subheader("Remove a document")
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        doc_id = left.selectbox(
            "Document",
            [e.doc_id for e in store.manifest.documents],
            index=None,
            placeholder="Choose a document",
            key="lib_remove_doc",
        )
        if right.button("Remove", key="lib_remove", icon=":material/delete:", disabled=doc_id is None) and doc_id:
            apply(remove(settings, doc_id))
        st.caption("A removed file that still sits in the data folder comes back with the next `icrag index build`.")
    # Filled last, so the outcome of an action in this run shows at the top.
    with notices:
        show_notices()


render()
