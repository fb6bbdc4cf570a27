"""Evaluate: run a question set or score an answers file; metrics, charts and per-question drill-down."""

from __future__ import annotations

from html import escape

import streamlit as st

from app.ui_common import (
    configured_pipeline,
    init_state,
    require_judge,
    require_pipeline,
    settings_from_env,
    shown_errors,
)
from app.ui_eval import (
    RUN_MODE,
    RUN_SETTINGS,
    SCORE_MODE,
    EvalRun,
    ScoreRun,
    compare_runs,
    line_missing_facts,
    line_unsupported,
    question_unsupported,
    run_question_set,
    score_answer_file,
    setting_bounds,
    staged_upload,
)
from app.ui_render import label_text, passage_block
from eval.metrics import SupportJudge
from index.settings import Settings
from rag.exports import spreadsheet_safe, table_rows
from rag.pipeline import Pipeline

BUNDLED_SETS = ("dev_questions.jsonl", "extra_dev_questions.jsonl")
UPLOAD = "Upload a JSONL file"
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
    # Rows are picked by position: ids may repeat (two systems' answers to q1) or clash with line numbers.
    scored = report.per_answer
    chosen = st.selectbox(
        "Look at one answer",
        range(len(scored)),
        index=None,
        placeholder="Choose an answer",
        format_func=lambda row: f"row {row + 1} · {scored[row].id} — {scored[row].question[:80]}",
        key="eval_score_pick",
    )
    if chosen is None:
        return
    line = run.lines[chosen]
    st.markdown(f"**{label_text(line.question)}**")
    st.html(passage_block(line.answer))
    left, right = st.columns(2)
    with left:
        by_reference = not line.key_facts and bool(line.reference)
        st.markdown("**Reference claims not in the answer**" if by_reference else "**Missed key facts**")
        with shown_errors():
            empty = "None." if line.key_facts or line.reference else "No key facts or reference given."
            st.html(text_list(line_missing_facts(line, judge), empty))
    with right:
        st.markdown("**Unsupported sentences**")
        with shown_errors():
            st.html(text_list(line_unsupported(line, judge, scored[chosen].abstained), "None."))


def run_settings(base: Settings) -> Settings:
    """The server's settings with the evaluator's changes for this run, within the bounds Settings sets."""
    values: dict[str, object] = {}
    with st.expander("Settings for this run"):
        for cell, (name, short) in zip(st.columns(len(RUN_SETTINGS)), RUN_SETTINGS.items(), strict=True):
            default = getattr(base, name)
            kind = type(default)
            low, high = setting_bounds(name)
            values[name] = cell.number_input(
                short,
                min_value=kind(low),
                max_value=kind(high),
                value=default,
                step=1 if kind is int else 0.05,
                help=Settings.model_fields[name].description,
                key=f"eval_setting_{name}",
            )
    return base.model_copy(update=values)


def clear_runs() -> None:
    """Start a new comparison: forget the session's runs."""
    st.session_state.eval_runs = []


def show_comparison(runs: list[EvalRun]) -> None:
    """The session's runs side by side, as ``icrag eval compare`` prints them, and a way to clear them."""
    st.subheader("Compare runs")
    st.caption("Every run of this session, oldest first; the rows are those of `icrag eval compare`.")
    rows = [{str(spreadsheet_safe(k)): v for k, v in row.items()} for row in compare_runs(runs)]
    st.dataframe(table_rows(rows), key="eval_compare_table", hide_index=True)
    st.button("Clear runs", key="eval_compare_clear", on_click=clear_runs, icon=":material/delete_sweep:")


def render() -> None:
    """The Evaluate page."""
    settings = settings_from_env()
    judge = require_judge(settings)
    init_state(eval_run=None, eval_runs=[], eval_score=None)

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
            # A failed scoring shows its error and keeps the previous results.
            with shown_errors(), st.spinner("Scoring answers…"), staged_upload(upload.name, upload.getvalue()) as path:
                st.session_state.eval_score = score_answer_file(path, judge, upload.name)
        if st.session_state.eval_score is not None:
            show_score(st.session_state.eval_score, judge)
        return

    pipeline = require_pipeline(settings)
    bundled = {f"Bundled set ({name})": settings.data_dir / name for name in BUNDLED_SETS}
    bundled = {label: path for label, path in bundled.items() if path.is_file()}
    source = st.radio("Questions", [*bundled, UPLOAD], key="eval_source", horizontal=True)
    upload = st.file_uploader("Question set", type=["jsonl"], key="eval_questions_file") if source == UPLOAD else None
    limit = st.columns(4)[0].number_input(
        "Only the first N questions (0 = all)", min_value=0, value=0, step=5, key="eval_limit"
    )
    chosen = run_settings(pipeline.settings)
    if st.button(
        "Run evaluation",
        type="primary",
        key="eval_run_go",
        disabled=source == UPLOAD and upload is None,
        help="Each question is answered and retrieved once; about a second a question on a laptop.",
    ):
        # A failed run shows its error and keeps the previous results.
        with shown_errors(), st.spinner("Answering every question and scoring the answers…"):
            run_pipeline = configured_pipeline(pipeline, chosen)
            if upload is not None:
                with staged_upload(upload.name, upload.getvalue()) as path:
                    run = run_question_set(path, run_pipeline, judge, upload.name, limit or None)
            else:
                run = run_question_set(bundled[source], run_pipeline, judge, str(bundled[source]), limit or None)
            st.session_state.eval_run = run
            st.session_state.eval_runs = [*st.session_state.eval_runs, run]
    if len(st.session_state.eval_runs) >= 2:
        show_comparison(st.session_state.eval_runs)
    if st.session_state.eval_run is not None:
        run = st.session_state.eval_run
        show_run(run, configured_pipeline(pipeline, run.settings), judge)


render()
