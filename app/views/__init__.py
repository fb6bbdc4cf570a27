"""The app's pages, one Streamlit script each, run by ``st.navigation`` from ``app/streamlit_app.py``.

The folder is not called ``pages``: Streamlit would serve a ``pages/`` folder beside the entry
script as pages of their own, without the router that frames them.
"""
