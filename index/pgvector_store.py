"""The index in PostgreSQL with pgvector: written by ``icrag index build``, read by every server.

Tables follow LangChain's PGVector layout (a collection table, an embedding table keyed by
collection, ``document`` text and ``cmetadata`` JSONB), with icrag's units beside it:

    icrag_pg_collection  one row per stored version: uuid, name, current, cmetadata (the manifest JSON)
    icrag_pg_document    the documents of a version (full text, for quotes in context)
    icrag_pg_embedding   passages: position, id, doc_id, source_id, document (text), cmetadata (the rest
                         of the Passage), embedding vector(d), tsv (generated tsvector, GIN index)
    icrag_pg_unit        sentences and word windows: position, passage_position, kind, span, role, embedding

Both vector columns have HNSW indexes over inner products (``vector_ip_ops``): index vectors are
normalised, so inner product is cosine, and it is what the FAISS index ranks by too.

A write is one transaction: the new version's rows go in under a new collection uuid, then it is
marked current and the version before the previous one is deleted. Readers see the old version or
the new one, never a mix, and a server that loaded the previous version keeps getting candidates
from it until the next write. Loading checks the stored manifest against the settings, as the
FAISS store does. The vector width is fixed when the tables are created; an index of another
width is refused.

psycopg is imported only here, and this module only when ``backend=pgvector``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field, ValidationError

from index.backend import Candidates, candidates_of
from index.errors import IcragError, IndexCorruptError, IndexMismatchError, IndexMissingError, InputError
from index.models import Document, Manifest, Passage, Record
from index.roles import ROLE_CODE
from index.settings import Settings
from index.store import IndexStore, check_compatible
from index.units import NO_ROLE, SENTENCE, WINDOW, Units, role_of

if TYPE_CHECKING:
    import psycopg

logger = logging.getLogger(__name__)

COLLECTION_TABLE = "icrag_pg_collection"
DOCUMENT_TABLE = "icrag_pg_document"
EMBEDDING_TABLE = "icrag_pg_embedding"
UNIT_TABLE = "icrag_pg_unit"
#: hnsw.iterative_scan, which keeps a filtered HNSW scan going until it has k rows, came in pgvector 0.8.
MIN_PGVECTOR = (0, 8)
#: Most question words sent to full-text search.
MAX_QUERY_TERMS = 64
_KIND_NAMES = {SENTENCE: "sentence", WINDOW: "window"}
_KIND_CODES = {name: code for code, name in _KIND_NAMES.items()}
_TERM = re.compile(r"[^\W_]+")


class WriteReport(Record):
    """What writing an index to PostgreSQL did."""

    where: str = Field(description="Server, database and collection written to (no password).")
    version: str = Field(description="Collection uuid of the version now current.")
    n_passages: int
    n_units: int
    seconds: float
    written: bool = Field(True, description="False when the stored version already was this index.")


def normalise_dsn(dsn: str) -> str:
    """A libpq connection string, with LangChain's ``postgresql+psycopg://`` scheme read as ``postgresql://``."""
    return re.sub(r"^postgres(ql)?\+psycopg[23]?://", "postgresql://", dsn.strip())


def describe_dsn(dsn: str) -> str:
    """Where a connection string points, without its password: 'PostgreSQL at host:port/db'."""
    parts = _dsn_parts(dsn)
    host = str(parts.get("host") or parts.get("hostaddr") or "localhost")
    port = str(parts.get("port") or 5432)
    return f"PostgreSQL at {host}:{port}/{parts.get('dbname') or parts.get('user') or 'postgres'}"


def _dsn_parts(dsn: str) -> dict[str, Any]:
    """The parameters of a connection string; InputError when libpq cannot parse it."""
    try:
        from psycopg.conninfo import conninfo_to_dict
    except ImportError:
        raise IcragError("the pgvector backend needs the scale extra: pip install -e '.[scale]'") from None
    try:
        return conninfo_to_dict(normalise_dsn(dsn))
    except Exception:  # psycopg.ProgrammingError; also anything else libpq refuses to parse
        raise InputError(
            "ICRAG_PG_DSN", "not a PostgreSQL connection string (e.g. postgresql://user:password@host:5432/db)"
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


def _schema(dimension: int) -> list[str]:
    """CREATE statements of the tables and indexes, for vectors of one width."""
    return [
        f"""CREATE TABLE IF NOT EXISTS {COLLECTION_TABLE} (
            uuid uuid PRIMARY KEY,
            name text NOT NULL,
            current boolean NOT NULL DEFAULT false,
            cmetadata jsonb NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now())""",
        f"CREATE UNIQUE INDEX IF NOT EXISTS {COLLECTION_TABLE}_current ON {COLLECTION_TABLE} (name) WHERE current",
        f"""CREATE TABLE IF NOT EXISTS {DOCUMENT_TABLE} (
            collection_id uuid NOT NULL REFERENCES {COLLECTION_TABLE} (uuid) ON DELETE CASCADE,
            doc_id text NOT NULL,
            document text NOT NULL,
            cmetadata jsonb NOT NULL,
            PRIMARY KEY (collection_id, doc_id))""",
        f"""CREATE TABLE IF NOT EXISTS {EMBEDDING_TABLE} (
            collection_id uuid NOT NULL REFERENCES {COLLECTION_TABLE} (uuid) ON DELETE CASCADE,
            position integer NOT NULL,
            id text NOT NULL,
            doc_id text NOT NULL,
            source_id text NOT NULL,
            document text NOT NULL,
            cmetadata jsonb NOT NULL,
            embedding vector({dimension}) NOT NULL,
            tsv tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig,
                coalesce(cmetadata #>> '{{source,authors}}', '') || ' ' ||
                coalesce(cmetadata #>> '{{source,year}}', '') || ' ' ||
                coalesce(cmetadata #>> '{{source,title}}', '') || ' ' ||
                coalesce(cmetadata ->> 'section', '') || ' ' || document)) STORED,
            PRIMARY KEY (collection_id, position))""",
        f"""CREATE INDEX IF NOT EXISTS {EMBEDDING_TABLE}_hnsw ON {EMBEDDING_TABLE}
            USING hnsw (embedding vector_ip_ops)""",
        f"CREATE INDEX IF NOT EXISTS {EMBEDDING_TABLE}_tsv ON {EMBEDDING_TABLE} USING gin (tsv)",
        f"""CREATE TABLE IF NOT EXISTS {UNIT_TABLE} (
            collection_id uuid NOT NULL REFERENCES {COLLECTION_TABLE} (uuid) ON DELETE CASCADE,
            position integer NOT NULL,
            passage_position integer NOT NULL,
            kind text NOT NULL CHECK (kind IN ('sentence', 'window')),
            span_start integer NOT NULL,
            span_end integer NOT NULL,
            role text,
            embedding vector({dimension}) NOT NULL,
            PRIMARY KEY (collection_id, position))""",
        f"CREATE INDEX IF NOT EXISTS {UNIT_TABLE}_hnsw ON {UNIT_TABLE} USING hnsw (embedding vector_ip_ops)",
    ]


class PgVectorStore:
    """One collection of a PostgreSQL database: write an index there, load it back, search it."""

    def __init__(self, dsn: str, collection: str = "icrag") -> None:
        self.dsn = normalise_dsn(dsn)
        self.collection = collection
        self.where = f"{describe_dsn(self.dsn)} (collection '{collection}')"

    @classmethod
    def from_settings(cls, settings: Settings, collection: str | None = None) -> PgVectorStore:
        """The store the settings name; InputError when the pgvector backend has no DSN."""
        if settings.pg_dsn is None:
            raise InputError(
                "ICRAG_PG_DSN", "the pgvector backend needs a PostgreSQL connection string (ICRAG_BACKEND=pgvector)"
            )
        return cls(settings.pg_dsn.get_secret_value(), collection or settings.pg_collection)

    # --- connections --------------------------------------------------------------------

    def connect(self) -> psycopg.Connection[Any]:
        """A new autocommit connection with pgvector's types registered; one-line errors when it fails."""
        try:
            import psycopg
            from pgvector.psycopg import register_vector
            from psycopg.conninfo import make_conninfo
        except ImportError:
            raise IcragError("the pgvector backend needs the scale extra: pip install -e '.[scale]'") from None
        try:
            # A server that does not answer fails in seconds, unless the DSN says how long to wait.
            defaults: dict[str, Any] = {"connect_timeout": 10, "application_name": "icrag"}
            given = _dsn_parts(self.dsn)
            conninfo = make_conninfo(self.dsn, **{k: v for k, v in defaults.items() if k not in given})
            conn = psycopg.connect(conninfo, autocommit=True)
        except psycopg.Error as exc:
            raise IcragError(f"cannot connect to {describe_dsn(self.dsn)}: {_first_line(exc)}") from None
        try:
            with self.errors("checking pgvector"):
                row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
                if row is None:
                    conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
                    row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
            found = tuple(int(part) for part in re.findall(r"\d+", str(row[0] if row else "0"))[:2])
            if found < MIN_PGVECTOR:
                raise IcragError(f"{self.where} has pgvector {row[0] if row else '?'}; icrag needs 0.8 or newer")
            register_vector(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def errors(self, doing: str) -> Iterator[None]:
        """Turn a database error into one line naming the server and what was being done."""
        import psycopg

        try:
            yield
        except psycopg.errors.ReadOnlySqlTransaction:
            raise IcragError(f"{self.where} is read-only (a replica?); write the index to the primary") from None
        except psycopg.errors.UndefinedTable:
            raise IndexMissingError(
                f"no icrag tables in {self.where}; write an index there with ICRAG_BACKEND=pgvector icrag index build"
            ) from None
        except psycopg.Error as exc:
            raise IcragError(f"{self.where}: {doing} failed: {_first_line(exc)}") from None

    # --- writing ------------------------------------------------------------------------

    def write(self, store: IndexStore) -> WriteReport:
        """Store an index as the collection's current version, in one transaction."""
        started = time.perf_counter()
        dimension = store.manifest.dimension
        version = uuid.uuid4()
        with self.connect() as conn:
            self._ensure_schema(conn, dimension, store.manifest.embedding_model)
            with self.errors("writing the index"), conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"icrag:{self.collection}",))
                self._insert(conn, version, store)
                conn.execute(
                    f"DELETE FROM {COLLECTION_TABLE} WHERE name = %s AND NOT current AND uuid <> %s",
                    (self.collection, version),
                )
                conn.execute(
                    f"UPDATE {COLLECTION_TABLE} SET current = false WHERE name = %s AND current", (self.collection,)
                )
                conn.execute(f"UPDATE {COLLECTION_TABLE} SET current = true WHERE uuid = %s", (version,))
                for table in (DOCUMENT_TABLE, EMBEDDING_TABLE, UNIT_TABLE):
                    conn.execute(f"ANALYZE {table}")  # the planner's row counts, so it picks HNSW when it pays
        return WriteReport(
            where=self.where,
            version=str(version),
            n_passages=len(store.passages),
            n_units=len(store.units),
            seconds=time.perf_counter() - started,
        )

    def sync(self, store: IndexStore) -> WriteReport:
        """Write the index unless the collection's current version already is it (same manifest)."""
        started = time.perf_counter()
        current = self.current()
        if current is not None and current[1] == store.manifest:
            return WriteReport(
                where=self.where,
                version=str(current[0]),
                n_passages=len(store.passages),
                n_units=len(store.units),
                seconds=time.perf_counter() - started,
                written=False,
            )
        return self.write(store)

    def _ensure_schema(self, conn: psycopg.Connection[Any], dimension: int, model: str) -> None:
        """Create the tables for vectors of this width, or refuse when they hold another width."""
        with self.errors("creating the tables"), conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('icrag:schema', 0))")
            for statement in _schema(dimension):
                conn.execute(statement)
            row = conn.execute(
                "SELECT atttypmod FROM pg_attribute WHERE attrelid = %s::regclass AND attname = 'embedding'",
                (EMBEDDING_TABLE,),
            ).fetchone()
        stored = int(row[0]) if row else dimension
        if stored != dimension:
            raise IndexMismatchError(
                f"{self.where} stores {stored}-dimension vectors but model {model} gives {dimension}; "
                f"use another database, or drop the {COLLECTION_TABLE} tables there first"
            )

    def _insert(self, conn: psycopg.Connection[Any], version: uuid.UUID, store: IndexStore) -> None:
        """The rows of one version: collection, documents, passages and units (binary COPY)."""
        manifest = store.manifest.model_dump(mode="json")
        from psycopg.types.json import Jsonb

        conn.execute(
            f"INSERT INTO {COLLECTION_TABLE} (uuid, name, current, cmetadata) VALUES (%s, %s, false, %s)",
            (version, self.collection, Jsonb(manifest)),
        )
        with conn.cursor() as cur:
            with cur.copy(
                f"COPY {DOCUMENT_TABLE} (collection_id, doc_id, document, cmetadata) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["uuid", "text", "text", "jsonb"])
                for entry in store.manifest.documents:
                    document = store.documents[entry.doc_id]
                    copy.write_row(
                        (version, document.doc_id, document.text, document.model_dump(mode="json", exclude={"text"}))
                    )
            with cur.copy(
                f"COPY {EMBEDDING_TABLE} (collection_id, position, id, doc_id, source_id, document, cmetadata, "
                "embedding) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["uuid", "int4", "text", "text", "text", "text", "jsonb", "vector"])
                for position, passage in enumerate(store.passages):
                    copy.write_row(
                        (
                            version,
                            position,
                            passage.passage_id,
                            passage.doc_id,
                            passage.source_id,
                            passage.text,
                            passage.model_dump(mode="json", exclude={"text"}),
                            store.vectors[position],
                        )
                    )
            self._copy_units(cur, version, store)

    @staticmethod
    def _copy_units(cur: psycopg.Cursor[Any], version: uuid.UUID, store: IndexStore) -> None:
        units = store.units
        columns = (units.owner, units.kind, units.start, units.end, units.role)
        with cur.copy(
            f"COPY {UNIT_TABLE} (collection_id, position, passage_position, kind, span_start, span_end, role, "
            "embedding) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["uuid", "int4", "int4", "text", "int4", "int4", "text", "vector"])
            for row, (owner, kind, start, end, role) in enumerate(zip(*(c.tolist() for c in columns), strict=True)):
                role_name = role_of(role) if role != NO_ROLE else None
                copy.write_row((version, row, owner, _KIND_NAMES[kind], start, end, role_name, store.unit_vectors[row]))

    # --- reading ------------------------------------------------------------------------

    def current(self) -> tuple[uuid.UUID, Manifest] | None:
        """The current version's uuid and manifest, None when the collection (or the tables) do not exist."""
        with self.connect() as conn:
            try:
                with self.errors("reading the manifest"):
                    row = conn.execute(
                        f"SELECT uuid, cmetadata FROM {COLLECTION_TABLE} WHERE name = %s AND current",
                        (self.collection,),
                    ).fetchone()
            except IndexMissingError:
                return None
        return None if row is None else (row[0], self._manifest(row[1]))

    def _manifest(self, data: object) -> Manifest:
        try:
            return Manifest.model_validate(data)
        except ValidationError as exc:
            raise IndexCorruptError(f"{self.where}: unreadable manifest ({exc.error_count()} errors)") from None

    def load(self, settings: Settings) -> tuple[IndexStore, uuid.UUID]:
        """The current version in memory, from one snapshot; refused when built with other settings."""
        with self.connect() as conn:
            conn.isolation_level = _repeatable_read()
            conn.read_only = True
            with self.errors("loading the index"), conn.transaction():
                row = conn.execute(
                    f"SELECT uuid, cmetadata FROM {COLLECTION_TABLE} WHERE name = %s AND current", (self.collection,)
                ).fetchone()
                if row is None:
                    raise IndexMissingError(
                        f"no index in {self.where}; write one with ICRAG_BACKEND=pgvector icrag index build"
                    )
                version, manifest = row[0], self._manifest(row[1])
                check_compatible(manifest, settings, self.where)
                store = self._read(conn, version, manifest)
        return store, version

    def _read(self, conn: psycopg.Connection[Any], version: uuid.UUID, manifest: Manifest) -> IndexStore:
        """Every row of one version, checked for gaps and widths."""
        width = manifest.dimension
        with conn.cursor(binary=True) as cur:
            cur.execute(
                f"SELECT doc_id, document, cmetadata FROM {DOCUMENT_TABLE} WHERE collection_id = %s ORDER BY doc_id",
                (version,),
            )
            documents = [Document.model_validate({**meta, "text": text}) for _, text, meta in cur]
            cur.execute(
                f"SELECT position, document, cmetadata, embedding FROM {EMBEDDING_TABLE} "
                "WHERE collection_id = %s ORDER BY position",
                (version,),
            )
            rows = cur.fetchall()
            passages = [Passage.model_validate({**meta, "text": text}) for _, text, meta, _ in rows]
            vectors = _matrix([vector for *_, vector in rows], width)
            positions = [position for position, *_ in rows]
            cur.execute(
                f"SELECT position, passage_position, span_start, span_end, kind, role, embedding FROM {UNIT_TABLE} "
                "WHERE collection_id = %s ORDER BY position",
                (version,),
            )
            unit_rows = cur.fetchall()
        if positions != list(range(manifest.n_passages)) or [r[0] for r in unit_rows] != list(range(len(unit_rows))):
            raise IndexCorruptError(f"{self.where}: passages or units are missing; rebuild the index")
        table = np.array(
            [
                (owner, start, end, _KIND_CODES[kind], ROLE_CODE[role] if role is not None else NO_ROLE)
                for _, owner, start, end, kind, role, _ in unit_rows
            ],
            dtype=np.int64,
        ).reshape(-1, 5)
        units = Units.from_table(table)
        if len(units) and np.any(np.diff(units.owner) < 0):
            raise IndexCorruptError(f"{self.where}: units out of passage order; rebuild the index")
        unit_vectors = _matrix([r[-1] for r in unit_rows], width)
        return IndexStore(manifest, passages, vectors, {d.doc_id: d for d in documents}, unit_vectors, units)

    def open(self, settings: Settings) -> tuple[IndexStore, PgVectorBackend]:
        """The current version in memory and a backend searching that version in the database."""
        store, version = self.load(settings)
        return store, PgVectorBackend(self, version)


class PgVectorBackend:
    """Candidates from PostgreSQL: HNSW over passages and units, full-text search over passages.

    Thread-safe: each call takes a connection from a small pool of its own.
    """

    name = "pgvector"

    def __init__(self, pg: PgVectorStore, version: uuid.UUID) -> None:
        self.pg = pg
        self.version = version
        self._idle: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()
        self._closed = False

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None or conn.closed:
            conn = self.pg.connect()
        try:
            yield conn
        except BaseException:
            conn.close()  # its state is unknown after an error
            raise
        with self._lock:
            if self._closed:
                conn.close()
            else:
                self._idle.append(conn)

    def dense_candidates(self, query: np.ndarray, k: int, allowed: Sequence[int] | None = None) -> list[Candidates]:
        """The k nearest passages and the passages of the 2k nearest units (HNSW, iterative scans)."""
        vector = np.asarray(query, dtype=np.float32).reshape(-1)
        only = "" if allowed is None else "AND {column} = ANY(%(allowed)s)"
        params = {"q": vector, "c": self.version, "k": k, "units": 2 * k, "allowed": _int_list(allowed)}
        with self._connection() as conn, self.pg.errors("searching vectors"), conn.transaction():
            conn.execute(
                "SELECT set_config('hnsw.ef_search', %s, true), "
                "set_config('hnsw.iterative_scan', 'relaxed_order', true)",
                (str(min(1000, max(40, 2 * k))),),
            )
            passages = conn.execute(
                f"SELECT position, -(embedding <#> %(q)s) FROM {EMBEDDING_TABLE} WHERE collection_id = %(c)s "
                f"{only.format(column='position')} ORDER BY embedding <#> %(q)s LIMIT %(k)s",
                params,
            ).fetchall()
            units = conn.execute(
                f"SELECT passage_position, -(embedding <#> %(q)s) FROM {UNIT_TABLE} WHERE collection_id = %(c)s "
                f"{only.format(column='passage_position')} ORDER BY embedding <#> %(q)s LIMIT %(units)s",
                params,
            ).fetchall()
        return [candidates_of("passage", passages), candidates_of("unit", units)]

    def lexical_candidates(self, text: str, k: int, allowed: Sequence[int] | None = None) -> Candidates:
        """The k passages ranking best (ts_rank) on any of the question's words."""
        terms = list(dict.fromkeys(t.lower() for t in _TERM.findall(text)))[:MAX_QUERY_TERMS]
        if not terms:
            return Candidates(channel="lexical", positions=[], scores=[])
        only = "" if allowed is None else "AND position = ANY(%(allowed)s)"
        params = {"terms": " | ".join(terms), "c": self.version, "k": k, "allowed": _int_list(allowed)}
        with self._connection() as conn, self.pg.errors("searching text"):
            rows = conn.execute(
                f"SELECT position, ts_rank(tsv, query) FROM {EMBEDDING_TABLE}, "
                "to_tsquery('english'::regconfig, %(terms)s) AS query "
                f"WHERE collection_id = %(c)s AND tsv @@ query {only} ORDER BY 2 DESC, position LIMIT %(k)s",
                params,
            ).fetchall()
        return candidates_of("lexical", rows)

    def close(self) -> None:
        """Close the pooled connections."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def _repeatable_read() -> Any:
    from psycopg import IsolationLevel

    return IsolationLevel.REPEATABLE_READ


def _int_list(values: Sequence[int] | None) -> list[int] | None:
    return None if values is None else [int(v) for v in values]


def _array(vector: Any) -> np.ndarray:
    """A stored vector as float32 (pgvector's binary loader gives Vector objects, the text loader arrays)."""
    return np.asarray(vector.to_numpy() if hasattr(vector, "to_numpy") else vector, dtype=np.float32)


def _matrix(vectors: Sequence[Any], width: int) -> np.ndarray:
    """Stored vectors as one float32 matrix of the manifest's width."""
    if not vectors:
        return np.zeros((0, width), dtype=np.float32)
    matrix = np.ascontiguousarray(np.stack([_array(v) for v in vectors]), dtype=np.float32)
    if matrix.shape[1] != width:
        raise IndexCorruptError(f"stored vectors have {matrix.shape[1]} dimensions, the manifest says {width}")
    return matrix
