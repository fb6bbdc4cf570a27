"""The app tests' tiny evidence base with planted markup, its fixtures and the helpers that drive the pages.

Eight passages: four Markdown sections of one review (one quoting ``<script>`` and an
``<img onerror>``), three coded-evidence records and their bibliographic record, so every
page has something to show and an embedding run stays a few seconds. The browser and
concurrency tests import the corpus from here.

Loaded with ``pytest_plugins = ["fixtures_app"]`` for one tiny real index per module and a copy
per test: the app builds ``Settings()`` from the environment like the command line, so each test
points ``ICRAG_*`` variables at its own copy of the module's index; the session's model does all
the embedding. The AppTest helpers (``open_page``, ``ask``, ``upload``) drive the pages in-process.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from helpers import REPO_ROOT, write_files
from streamlit.testing.v1 import AppTest

from index.builder import IndexBuilder
from index.embedding import Embedder
from index.settings import Settings

SCRIPT = "<script>window.__xss=1</script>"
IMAGE = '<img src=x onerror="window.__xss=2">'

REVIEW_MD = f"""# Leading integrated care

## Shared purpose
Leaders of integrated care teams build a shared purpose across health and social care organisations.
They spend time on relationships before structures.

## Working with power
Working with power means leaders notice how funding and status shape which partners are heard in joint decisions.
One workshop handout pasted a web page that read {SCRIPT} and {IMAGE} word for word.

## Workforce
Managers who planned rotas four weeks ahead reduced short-notice shift changes and kept more district nurses.

## Methods
The review team searched four databases in 2020 and included 36 papers after screening.
"""

EVIDENCE_CSV = (
    "record_id,component,context,mechanism,outcome,evidence_summary,source_id,section,included_study\n"
    "R1,inspiring intent to work together,Integrated care teams across health and social care,"
    "Leaders invest time in relationships before structures,A shared purpose across organisations,"
    '"Leaders build a shared purpose by spending time on relationships first.",smith2021,Shared purpose,\n'
    "R2,working with power,Joint decisions between partners of unequal standing,"
    "Leaders notice how funding and status shape who is heard,Partners with less power are heard,"
    '"Working with power means noticing how funding and status shape whose voice counts.",smith2021,'
    "Working with power,\n"
    "R3,general,Community nursing services,Managers plan rotas four weeks ahead,"
    'Fewer short-notice shift changes,"Planning rotas ahead kept more district nurses.",smith2021,Workforce,\n'
)

SOURCES_CSV = (
    "source_id,authors,year,title,venue,doi,url,licence\n"
    'smith2021,"Smith J; Jones K; Patel R",2021,"Leading integrated care: a realist review",'
    "Journal of Integrated Care,10.1234/jic.2021.7,,CC BY 4.0\n"
)

ANSWERABLE = "How do leaders of integrated care build a shared purpose?"
#: The issue's abstention example: nothing in the corpus is about the US Veterans Health Administration.
UNANSWERABLE = "What did these reviews find about leading integrated care in the US Veterans Health Administration?"

QUESTIONS = [
    {
        "id": "q1",
        "question": ANSWERABLE,
        "answer": "By spending time on relationships before structures.",
        "key_facts": ["shared purpose", "relationships before structures"],
        "support": ["R1", "smith2021 §Shared purpose"],
        "type": "cmo",
        "persona": "policymaker",
    },
    {
        "id": "q2",
        "question": UNANSWERABLE,
        "answer": "NOT_IN_CORPUS",
        "type": "unanswerable",
        "persona": "evaluator",
    },
]


def write_corpus(data_dir: Path) -> None:
    """The evidence files and the bundled-style question set, written into a data folder."""
    write_files(
        data_dir,
        {
            "smith2021.md": REVIEW_MD,
            "evidence.csv": EVIDENCE_CSV,
            "sources.csv": SOURCES_CSV,
            "dev_questions.jsonl": "".join(json.dumps(q) + "\n" for q in QUESTIONS),
        },
    )


def build_corpus_index(root: Path, cache_dir: Path, embedder: Embedder) -> Settings:
    """Write the corpus under ``root/data`` and index it into ``root/index``; the settings used."""
    settings = Settings(index_dir=root / "index", data_dir=root / "data", cache_dir=cache_dir, show_progress=False)
    write_corpus(settings.data_dir)
    IndexBuilder(settings, embedder=embedder).build()
    return settings


APP = REPO_ROOT / "app" / "streamlit_app.py"
#: The first run loads the index and warms the model; later runs take well under a second.
RUN_TIMEOUT = 120


def open_page(page: str | None = None) -> AppTest:
    """The app after its first run, switched to a page when one is named."""
    at = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT).run()
    if page is not None:
        at.switch_page(f"views/{page}.py").run()
    assert not at.exception, at.exception
    return at


def ask(at: AppTest, question: str) -> AppTest:
    """Type a question on the Ask page and submit it."""
    at.text_input(key="ask_question").set_value(question)
    at.button(key="ask_submit").click().run()
    assert not at.exception, at.exception
    return at


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    """Add one file on the Library page."""
    at.file_uploader(key="lib_uploads").set_value((name, data, "application/octet-stream"))
    at.button(key="lib_add").click().run()
    assert not at.exception, at.exception
    return at


def plain(markdown: str) -> str:
    """Text of a message whose Markdown syntax the app escaped with backslashes."""
    return re.sub(r"\\(.)", r"\1", markdown)


def errors(at: AppTest) -> list[str]:
    """The page's error messages as plain text."""
    return [plain(e.value) for e in at.error]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path, embedder: Embedder) -> Path:
    """The tiny evidence base and its index, built once per module; tests use copies."""
    root = tmp_path_factory.mktemp("app-corpus")
    build_corpus_index(root, cache_dir, embedder)
    return root


@pytest.fixture
def settings(
    corpus: Path, tmp_path: Path, cache_dir: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """This test's copy of the index and data, named to the app through ICRAG_* variables."""
    root = tmp_path / "app"
    shutil.copytree(corpus, root)
    monkeypatch.setenv("ICRAG_INDEX_DIR", str(root / "index"))
    monkeypatch.setenv("ICRAG_DATA_DIR", str(root / "data"))
    monkeypatch.setenv("ICRAG_CACHE_DIR", str(cache_dir))
    monkeypatch.setenv("ICRAG_SHOW_PROGRESS", "false")
    monkeypatch.setattr("app.ui_common.Embedder", lambda _settings: embedder)
    return Settings()
