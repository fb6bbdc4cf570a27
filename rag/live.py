"""The pipeline over whatever index is on disk now: a long-running server follows changes made elsewhere.

Several server processes share one index folder. A change through any of them (or through the
command line) swaps a whole new folder in; each process notices the new version on its next
request, at most :data:`CHECK_SECONDS` later, and loads it while the old pipeline keeps
answering. A load that fails (the folder is being swapped right now, or is damaged) keeps the
old pipeline and is tried again on a later request, so no request ever sees a half-written index.
"""

from __future__ import annotations

import logging
import threading
import time

from index.embedding import Embedder
from index.errors import IcragError, IndexMissingError
from index.settings import Settings
from index.store import index_version
from rag.pipeline import Pipeline

logger = logging.getLogger(__name__)

#: How often the index folder is checked for a new version, in seconds.
CHECK_SECONDS = 0.5


class LivePipeline:
    """Hands out the pipeline of the newest complete index version, reloading when the folder changes."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        # The pipeline and its version label, replaced together so a reader never pairs one with the other's.
        self._loaded: tuple[Pipeline, str] | None = None
        self._version: tuple[int, int, int] | None = None
        self._checked = 0.0
        self._problem: IcragError | None = None
        self._lock = threading.Lock()

    def versioned(self) -> tuple[Pipeline, str]:
        """The pipeline over the newest index with its version label (sent with every answer), taken together.

        IndexMissingError, or the load's error, when no index has been loaded.
        """
        now = time.monotonic()
        if now - self._checked >= CHECK_SECONDS or self._loaded is None:
            self.refresh()
        loaded = self._loaded
        if loaded is None:
            raise self._problem or IndexMissingError(f"no index at {self.settings.index_dir}")
        return loaded

    def refresh(self, force: bool = False) -> None:
        """Load the index if its version changed since the last load; one thread loads, the others carry on."""
        if not self._lock.acquire(blocking=self._loaded is None):
            return  # another request is loading; the old pipeline keeps answering meanwhile
        try:
            self._checked = time.monotonic()
            version = index_version(self.settings.index_dir)
            if version == self._version and self._loaded is not None and not force:
                return
            if version is None:
                if self._loaded is None:
                    self._problem = IndexMissingError(
                        f"no index at {self.settings.index_dir}; build one with `icrag index build`"
                    )
                return
            try:
                pipeline = Pipeline.load(self.settings, self.embedder)
            except IcragError as exc:
                logger.warning("index not reloaded, still answering from the loaded version: %s", exc)
                self._problem = exc
                return
            label = "-".join(str(part) for part in version)
            self._loaded = (pipeline, label)
            self._version, self._problem = version, None
            if index_version(self.settings.index_dir) != version:
                self._checked = 0.0  # swapped during the load: look again on the next request
            logger.info("loaded index version %s", label)
        finally:
            self._lock.release()
