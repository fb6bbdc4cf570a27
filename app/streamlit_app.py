"""Streamlit interface of icrag."""

from __future__ import annotations

import streamlit as st

from index.errors import IcragError
from index.settings import Settings
from index.store import IndexStore


@st.cache_resource(show_spinner="Loading the evidence index…")
def load_store(settings_json: str) -> IndexStore:
    """The index, loaded once per server process."""
    settings = Settings.model_validate_json(settings_json)
    return IndexStore.load(settings.index_dir, settings)


def main() -> None:
    """Render the library page."""
    st.set_page_config(page_title="icrag — integrated care evidence", layout="wide")
    st.title("icrag — evidence on leading integrated care")
    settings = Settings()
    try:
        store = load_store(settings.model_dump_json())
    except IcragError as exc:
        st.error(str(exc))
        return
    st.caption(f"{store.manifest.n_passages} passages from {len(store.manifest.documents)} documents")
    st.dataframe(
        [entry.model_dump() for entry in store.manifest.documents],
        hide_index=True,
        key="documents",
    )


main()
