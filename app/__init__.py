"""User interfaces: the `icrag` command line and the Streamlit app."""
