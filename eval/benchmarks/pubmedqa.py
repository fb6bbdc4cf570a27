"""PubMedQA (expert-labelled part): 1,000 abstracts; gold = the question's own abstract.

PubMedQA stores an abstract in two parts: ``CONTEXTS`` (every section but the conclusion) and
``LONG_ANSWER`` (the conclusion). The benchmark indexes whole abstracts, as a search over
PubMed would see them; ``conclusions=False`` indexes only the contexts, the harder setting in
which PubMedQA hands an abstract to a reader that must reach the conclusion itself.
"""

from __future__ import annotations

from pathlib import Path

from eval.benchmarks.common import BenchData, BenchQuestion, data_file, passages_of, read_json, text_document
from index.errors import InputError
from index.settings import Settings

DATA_FILE = "ori_pqal.json"
#: Longer than any abstract, so each abstract is one passage.
PASSAGE_CHARS = 4000


def load(path: Path, settings: Settings, docs: int | None = None, conclusions: bool = True) -> BenchData:
    """The benchmark over the first ``docs`` abstracts (all by default), one question each.

    The question is the paper's title rewritten as a question. With ``conclusions=False`` an
    abstract is indexed without its conclusion, which is PubMedQA's reference answer.
    """
    file = data_file(path, DATA_FILE)
    items = read_json(file)
    if not isinstance(items, dict):
        raise InputError(file, "expected a JSON object keyed by PMID")
    if not items:
        raise InputError(file, "no abstracts (expected a JSON object keyed by PMID)")
    settings = settings.model_copy(update={"chunk_size": PASSAGE_CHARS, "chunk_overlap": 0})
    documents, sources, questions = [], {}, []
    for pmid, item in list(items.items())[:docs] if docs else items.items():
        try:
            parts = [str(c) for c in item["CONTEXTS"]]
            question = str(item["QUESTION"])
            if conclusions and item.get("LONG_ANSWER"):
                parts.append(str(item["LONG_ANSWER"]))
            text = "\n\n".join(parts)
        except (KeyError, TypeError) as exc:
            raise InputError(file, f"PMID {pmid} lacks CONTEXTS or QUESTION ({exc})") from None
        document, source = text_document(f"pubmed-{pmid}", text)
        documents.append(document)
        sources[source.source_id] = source
        questions.append((pmid, question, document.doc_id))
    passages = passages_of(documents, settings, sources)
    indexed = {p.doc_id for p in passages}
    return BenchData(
        name="pubmedqa" if conclusions else "pubmedqa-contexts",
        settings=settings,
        unit="document",
        documents=documents,
        passages=passages,
        sources=sources,
        questions=[BenchQuestion(id=pmid, question=q, gold=[d]) for pmid, q, d in questions if d in indexed],
        skipped=[pmid for pmid, _, d in questions if d not in indexed],
    )
