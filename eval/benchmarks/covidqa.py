"""COVID-QA (deepset, SQuAD format): 98 virology papers; gold = passages overlapping the answer span.

The annotated span also scores answers: whether an answer, or its first sentence, contains it.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, TypeAdapter, ValidationError

from eval.benchmarks.common import BenchData, BenchQuestion, data_file, passages_of, read_json, text_document
from eval.jsonl import first_error
from index.errors import InputError
from index.models import Document, Record, SourceInfo
from index.settings import Settings

DATA_FILE = "200423_covidQA.json"
#: Passages of about 200 words (mean 207 with icrag's sentence-aware chunker on this corpus).
PASSAGE_CHARS = 1900
#: An answer's character offset in its article, as SQuAD gives it.
_ANSWER_START: TypeAdapter[int] = TypeAdapter(int)


class Article(Record):
    """One paper: the whole text is a single SQuAD context."""

    document_id: int
    context: str


class SpanQuestion(Record):
    """A question with the character span of its annotated answer in its article."""

    id: str
    question: str
    document_id: int
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    answer: str = Field(description="The annotated answer span.")


def read_covidqa(path: Path) -> tuple[list[Article], list[SpanQuestion]]:
    """Articles and questions of the COVID-QA file, in file order."""
    file = data_file(path, DATA_FILE)
    articles: list[Article] = []
    questions: list[SpanQuestion] = []
    try:
        for entry in read_json(file)["data"]:
            for paragraph in entry["paragraphs"]:
                article = Article(document_id=paragraph["document_id"], context=paragraph["context"])
                articles.append(article)
                for qa in paragraph["qas"]:
                    answer = qa["answers"][0]
                    start = _ANSWER_START.validate_python(answer["answer_start"])
                    questions.append(
                        SpanQuestion(
                            id=str(qa["id"]),
                            question=qa["question"],
                            document_id=article.document_id,
                            start=start,
                            end=start + len(answer["text"]),
                            answer=answer["text"],
                        )
                    )
    except ValidationError as exc:
        field, message = first_error(exc)
        where = {"record": "answer_start", "start": "answer_start"}.get(field, field)  # record: the bare offset
        raise InputError(file, f"not a SQuAD-format COVID-QA file ({where}: {message})") from None
    except (KeyError, IndexError, TypeError) as exc:
        raise InputError(file, f"not a SQuAD-format COVID-QA file ({type(exc).__name__}: {exc})") from None
    if not articles:
        raise InputError(file, "no articles (expected SQuAD-format data with paragraphs)")
    if not questions:
        raise InputError(file, "no questions in any article")
    return articles, questions


def bench_settings(settings: Settings) -> Settings:
    """The settings COVID-QA passages are cut with."""
    return settings.model_copy(update={"chunk_size": PASSAGE_CHARS, "chunk_overlap": 0})


def doc_id(document_id: int) -> str:
    """The document id of an article in the benchmark's index."""
    return f"covidqa-{document_id}"


def to_documents(articles: list[Article]) -> tuple[list[Document], dict[str, SourceInfo]]:
    """One text document per article, titled by its first line."""
    made = [text_document(doc_id(a.document_id), a.context, a.context.split("\n", 1)[0].strip()) for a in articles]
    return [d for d, _ in made], {s.source_id: s for _, s in made}


def load(path: Path, settings: Settings, docs: int | None = None) -> BenchData:
    """The benchmark over the first ``docs`` articles (all by default) and their questions."""
    articles, questions = read_covidqa(path)
    articles = articles[:docs] if docs else articles
    settings = bench_settings(settings)
    documents, sources = to_documents(articles)
    passages = passages_of(documents, settings, sources)
    by_doc: dict[str, list[tuple[int, int, str]]] = {}
    for p in passages:
        by_doc.setdefault(p.doc_id, []).append((p.start, p.end, p.passage_id))
    kept = {doc_id(a.document_id) for a in articles}
    bench_questions, skipped = [], []
    for q in questions:
        if doc_id(q.document_id) not in kept:
            continue
        gold = [pid for start, end, pid in by_doc.get(doc_id(q.document_id), []) if start < q.end and q.start < end]
        if gold:
            bench_questions.append(BenchQuestion(id=q.id, question=q.question, gold=gold, answer=q.answer))
        else:
            skipped.append(q.id)
    return BenchData(
        name="covidqa",
        settings=settings,
        unit="passage",
        documents=documents,
        passages=passages,
        sources=sources,
        questions=bench_questions,
        skipped=skipped,
    )
