"""Evaluate: run a question set or score an answers file; metrics, charts and per-question drill-down."""

from __future__ import annotations

from html import escape

import streamlit as st

from app.ui_common import init_state, require_judge, require_pipeline, settings_from_env, shown_errors
from app.ui_eval import (
    RUN_MODE,
    SCORE_MODE,
    EvalRun,
    ScoreRun,
    line_missing_facts,
    line_unsupported,
    question_unsupported,
    run_question_set,
    score_answer_file,
    staged_upload,
)
from app.ui_render import label_text, passage_block, table_rows
from eval.metrics import SupportJudge
from rag.pipeline import Pipeline

BUNDLED_SET = "dev_questions.jsonl"
SCORE_COLUMNS = ("recall@5", "key facts", "support", "precision")
SCORE_FIELDS = ("citation_support", "citation_precision", "key_fact_recall")
_LIST_STYLE = "margin:.25rem 0 .75rem 1.25rem;padding:0"


def fmt(value: float | None, digits: int = 2) -> str:
    """A metric value for display; '–' where the metric does not apply."""
    return "–" if value is None else f"{value:.{digits}f}"


def text_list(items: list[str], empty: str) -> str:
    """Escaped items as an HTML list, or the message for none."""
    if not items:
        return f"<p>{escape(empty)}</p>"
    return f'<ul style="{_LIST_STYLE}">' + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ul>"


def metric_row(values: dict[str, str]) -> None:
    """A row of st.metric cells."""
    for cell, (name, value) in zip(st.columns(len(values)), values.items(), strict=True):
        cell.metric(name, value)


def downloads(files: dict[str, bytes], prefix: str) -> None:
    """A download button per report file (JSON, Markdown)."""
    kinds = {"report.json": "application/json", "report.md": "text/markdown"}
    row = st.container(horizontal=True)
    for name in (name for name in kinds if name in files):
        row.download_button(
            f"Download {name}",
            files[name],
            file_name=name,
            mime=kinds[name],
            key=f"{prefix}_download_{name}",
            on_click="ignore",
            icon=":material/download:",
        )


def charts(files: dict[str, bytes]) -> None:
    """The report's PNG charts side by side: the wide metric bars, then the latency boxes."""
    images = [files[name] for name in ("metrics.png", "latency.png") if name in files]
    for cell, image in zip(st.columns([3, 2]), images, strict=False):
        cell.image(image)


def show_run(run: EvalRun, pipeline: Pipeline, judge: SupportJudge) -> None:
    """Metrics, charts, the per-question table and one question in detail."""
    report = run.report
    r, a = report.retrieval, report.answers
    st.caption(f"{report.n_questions} questions from {report.questions_file} · settings {report.settings_hash}")
    metric_row(
        {
            "Recall@1": fmt(r.recall_at_1),
            "Recall@5": fmt(r.recall_at_5),
            "MRR@10": fmt(r.mrr_at_10),
            "nDCG@10": fmt(r.ndcg_at_10),
            "Latency p50": f"{fmt(report.latency_ms.p50, 0)} ms",
        }
    )
    metric_row(
        {
            "Key facts": fmt(a.key_fact_recall),
            "Citation support": fmt(a.citation_support),
            "Citation precision": fmt(a.citation_precision),
            "Abstention recall": fmt(a.abstention_recall),
            "False abstention": fmt(a.false_abstention_rate),
        }
    )
    if report.missing_gold:
        st.warning(label_text(f"Gold evidence not in the index for: {', '.join(report.missing_gold)}."))
    charts(run.files)
    downloads(run.files, "eval_run")
    st.subheader("Per question")
    st.dataframe(
        table_rows(
            {
                "id": q.id,
                "type": q.type,
                "recall@5": q.retrieval.recall_at_5,
                "key facts": q.key_fact_recall,
                "support": q.citation_support,
                "precision": q.citation_precision,
                "abstained": q.abstained,
                "answerable": q.answerable,
                "ms": round(q.latency_ms),
                "question": q.question,
            }
            for q in report.per_question
        ),
        key="eval_run_table",
        hide_index=True,
        column_config={name: st.column_config.NumberColumn(format="%.2f") for name in SCORE_COLUMNS},
    )
    by_id = {q.id: q for q in report.per_question}
    chosen = st.selectbox(
        "Look at one question",
        list(by_id),
        index=None,
        placeholder="Choose a question",
        format_func=lambda qid: f"{qid} — {by_id[qid].question}",
        key="eval_run_pick",
    )
    if chosen is None:
        return
    q = by_id[chosen]
    st.markdown(f"**{label_text(q.question)}**")
    st.html(passage_block(q.answer))
    found = sum(1 for pid in q.retrieved if pid in set(q.gold))
    st.caption(
        f"{'abstained' if q.abstained else 'answered'} · {'answerable' if q.answerable else 'not answerable'} · "
        f"gold passages in the top 10: {found} of {len(q.gold)}"
    )
    left, right = st.columns(2)
    with left:
        st.markdown("**Missed key facts**")
        st.html(text_list(q.facts_missing, "None: every key fact is in the answer."))
    with right:
        st.markdown("**Unsupported sentences**")
        with shown_errors(), st.spinner("Checking the answer's citations…"):
            missing = question_unsupported(pipeline, q.question, judge)
            st.html(text_list(missing, "None: every sentence is supported by its citations."))
        st.caption("Judged on the answer the pipeline gives now.")


def show_score(run: ScoreRun, judge: SupportJudge) -> None:
    """Metrics, chart, the per-answer table and one answer in detail."""
    report = run.report
    s = report.answers
    st.caption(f"{report.n_answers} answers from {report.answers_file}")
    metric_row(
        {
            "Key facts": fmt(s.key_fact_recall),
            "Citation support": fmt(s.citation_support),
            "Citation precision": fmt(s.citation_precision),
            "Abstained": fmt(s.abstained),
        }
    )
    charts(run.files)
    downloads(run.files, "eval_score")
    st.subheader("Per answer")
    st.dataframe(
        table_rows(a.model_dump() for a in report.per_answer),
        key="eval_score_table",
        hide_index=True,
        column_config={name: st.column_config.NumberColumn(format="%.2f") for name in SCORE_FIELDS},
    )
    scored = {a.id: a for a in report.per_answer}
    lines = {line.id: line for line in run.lines}
    chosen = st.selectbox(
        "Look at one answer",
        list(scored),
        index=None,
        placeholder="Choose an answer",
        format_func=lambda aid: f"{aid} — {scored[aid].question}",
        key="eval_score_pick",
    )
    if chosen is None:
        return
    line = lines[chosen]
    st.markdown(f"**{label_text(line.question)}**")
    st.html(passage_block(line.answer))
    left, right = st.columns(2)
    with left:
        st.markdown("**Missed key facts**")
        st.html(text_list(line_missing_facts(line), "None (or no key facts given)."))
    with right:
        st.markdown("**Unsupported sentences**")
        with shown_errors():
            st.html(text_list(line_unsupported(line, judge, scored[chosen].abstained), "None."))


def render() -> None:
    """The Evaluate page."""
    settings = settings_from_env()
    pipeline = require_pipeline(settings)
    judge = require_judge(settings)
    init_state(eval_run=None, eval_score=None)
    bundled = settings.data_dir / BUNDLED_SET

    st.title("Evaluate")
    st.caption(
        "Measure retrieval, key facts, citation support and abstention on a question set, "
        "or score answers written by any system. The same metrics as `icrag eval run` and `icrag eval score`; "
        f"citation support is judged by the {judge.name} judge."
    )
    mode = st.segmented_control("Task", [RUN_MODE, SCORE_MODE], default=RUN_MODE, key="eval_mode")
    if mode == SCORE_MODE:
        st.caption(
            "JSONL, one answer a line: question, answer (with [n] markers), contexts, and key_facts or reference "
            "(RAGAS names user_input, response, retrieved_contexts also work); or answers as "
            "`icrag ask --json` writes them, one after another."
        )
        upload = st.file_uploader("Answers file", type=["jsonl", "json"], key="eval_answers_file")
        if st.button("Score answers", type="primary", key="eval_score_go", disabled=upload is None) and upload:
            st.session_state.eval_score = None
            with shown_errors(), st.spinner("Scoring answers…"), staged_upload(upload.name, upload.getvalue()) as path:
                st.session_state.eval_score = score_answer_file(path, judge, upload.name)
        if st.session_state.eval_score is not None:
            show_score(st.session_state.eval_score, judge)
        return

    sources = [f"Bundled set ({bundled.name})", "Upload a JSONL file"] if bundled.is_file() else ["Upload a JSONL file"]
    source = st.radio("Questions", sources, key="eval_source", horizontal=True)
    upload = None
    if source.startswith("Upload"):
        upload = st.file_uploader("Question set", type=["jsonl"], key="eval_questions_file")
    limit = st.columns(4)[0].number_input(
        "Only the first N questions (0 = all)", min_value=0, value=0, step=5, key="eval_limit"
    )
    ready = upload is not None or not source.startswith("Upload")
    if st.button(
        "Run evaluation",
        type="primary",
        key="eval_run_go",
        disabled=not ready,
        help="Each question is answered and retrieved once; about a second a question on a laptop.",
    ):
        st.session_state.eval_run = None
        with shown_errors(), st.spinner("Answering every question and scoring the answers…"):
            if upload is not None:
                with staged_upload(upload.name, upload.getvalue()) as path:
                    st.session_state.eval_run = run_question_set(path, pipeline, judge, upload.name, limit or None)
            else:
                st.session_state.eval_run = run_question_set(bundled, pipeline, judge, str(bundled), limit or None)
    if st.session_state.eval_run is not None:
        show_run(st.session_state.eval_run, pipeline, judge)


render()
