"""Streamlit interface of icrag: the router that frames the four pages.

Run it with ``icrag app`` (or ``streamlit run app/streamlit_app.py``); it reads the same
``ICRAG_*`` settings as the command line.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app.ui_common import shown_errors

VIEWS = Path(__file__).with_name("views")

# Errors are shown by the pages as one-line messages; anything else must not leak a traceback.
st.set_option("client.showErrorDetails", "none")
st.set_option("client.toolbarMode", "viewer")  # no "Deploy" button: this is a local tool, not a hosted app
st.set_page_config(page_title="icrag · integrated care evidence", page_icon="📚", layout="wide")

page = st.navigation(
    [
        st.Page(VIEWS / "ask.py", title="Ask", icon=":material/question_answer:", default=True),
        st.Page(VIEWS / "evidence.py", title="Evidence", icon=":material/table_view:"),
        st.Page(VIEWS / "library.py", title="Library", icon=":material/library_books:"),
        st.Page(VIEWS / "evaluate.py", title="Evaluate", icon=":material/analytics:"),
    ],
    position="top",
)
with shown_errors():
    page.run()
