"""Retrieval and cited answering over an index."""
