"""One reader per evidence format; ``registry`` maps each file suffix to its kind and reader.

Readers turn a file's bytes into the document text and its metadata-bearing segments; checks
that apply to every file (size, emptiness, the source a file belongs to) live in ``index.loaders``.
"""
