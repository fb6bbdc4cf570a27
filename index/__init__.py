"""Ingestion, chunking, embedding and the on-disk FAISS index."""
