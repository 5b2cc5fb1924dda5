"""``bastion model ...``: train, evaluate, list, activate and export text classifier versions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from bastion.classify.classifier import Classifier
from bastion.classify.embeddings import EMBEDDER_NAMES, get_embedder
from bastion.classify.evaluation import (
    CategoryMetrics,
    EvaluationReport,
    evaluate_model,
    train_and_evaluate,
)
from bastion.classify.models import (
    DEFAULT_NAME,
    ModelInfo,
    ModelStore,
    export_document,
    load_starter,
    parse_ref,
)
from bastion.classify.training import DEFAULT_SEED, load_examples
from bastion.cli.context import cli_actor, open_bastion
from bastion.cli.output import (
    FormatOption,
    OutputFormat,
    note,
    print_json,
    print_record,
    print_rows,
    print_table,
)
from bastion.errors import InvalidInput

app = typer.Typer(help="Text classifier models: train, evaluate, list, activate, export.")

JsonOption = Annotated[bool, typer.Option("--json", help="Same as --format json.")]
DataArgument = Annotated[
    Path, typer.Argument(help="CSV or JSONL with text, labels[, language, hard_negative, split].")
]


def _fmt(fmt: OutputFormat, as_json: bool) -> OutputFormat:
    return OutputFormat.JSON if as_json else fmt


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def _ci(interval: tuple[float, float] | list[float]) -> str:
    return f"{_pct(interval[0])}-{_pct(interval[1])}"


def info_record(info: ModelInfo) -> dict[str, Any]:
    return {
        "name": info.name,
        "version": info.version,
        "active": info.active,
        "embedder": info.embedder,
        "labels": info.labels,
        "created_by": info.created_by,
        "created_at": info.created_at,
    }


def _metric_row(m: CategoryMetrics) -> list[Any]:
    return [
        m.category, m.language, m.examples, m.support, _pct(m.precision), _ci(m.precision_ci),
        _pct(m.recall), _ci(m.recall_ci), _pct(m.f1), _ci(m.f1_ci),
    ]  # fmt: skip


def print_report(report: EvaluationReport, *, title: str) -> None:
    """Per-category and per-language metrics (percent, 95% intervals) as Rich tables."""
    columns = ["category", "language", "n", "support", "precision", "95% CI", "recall", "95% CI",
               "F1", "95% CI"]  # fmt: skip
    rows = [_metric_row(m) for m in report.categories if m.support or m.fp]
    print_table(columns, rows, title=f"{title}: {report.examples} held-out examples")
    hard = [
        [r.language, r.count, r.flagged, _pct(r.rate), _ci(r.ci)] for r in report.hard_negative_fpr
    ]
    print_table(
        ["language", "hard negatives", "flagged TVEC", "FPR %", "95% CI"],
        hard,
        title="false-positive rate on hard negatives (any of tvec1-tvec8 flagged)",
    )


@app.command("train")
def train(
    data: DataArgument,
    name: Annotated[str, typer.Option("--name", "-n", help="Model name.")] = DEFAULT_NAME,
    embedder: Annotated[
        str, typer.Option("--embedder", help=f"One of {', '.join(EMBEDDER_NAMES)}.")
    ] = "e5",
    activate: Annotated[
        bool, typer.Option("--activate", help="Make the new version the active one.")
    ] = False,
    test_fraction: Annotated[
        float, typer.Option(help="Held-out share when DATA has no split column.")
    ] = 0.2,
    seed: Annotated[int, typer.Option(help="Seed of the split and folds.")] = DEFAULT_SEED,
    fmt: FormatOption = OutputFormat.TABLE,
    as_json: JsonOption = False,
) -> None:
    """Train a new version on DATA, evaluate it on a held-out split, store it (audited)."""
    fmt = _fmt(fmt, as_json)
    if embedder not in EMBEDDER_NAMES:  # before reading DATA: fail fast on a typo
        raise InvalidInput(f"unknown embedder {embedder!r}; use one of {', '.join(EMBEDDER_NAMES)}")
    examples = load_examples(data)
    chosen = get_embedder(embedder)
    quiet = fmt is not OutputFormat.TABLE
    trained = train_and_evaluate(
        examples, chosen, test_fraction=test_fraction, seed=seed,
        progress=None if quiet else note,
    )  # fmt: skip
    with open_bastion() as bastion, bastion.db.session() as session:
        info = ModelStore(bastion.audit).save(
            session, name=name, spec=trained.spec, metrics=trained.metrics(),
            actor=cli_actor(), activate=activate,
        )  # fmt: skip
    if fmt is OutputFormat.JSON:
        print_json({"model": info_record(info), "metrics": trained.metrics()})
        return
    if fmt is OutputFormat.CSV:
        print_record(info_record(info), fmt)
        return
    print_report(trained.report, title=f"{info.ref} ({trained.train_examples} trained on)")
    note(f"stored {info.ref}" + (" (active)" if info.active else ""))


@app.command("evaluate")
def evaluate(
    data: DataArgument,
    model: Annotated[
        str | None,
        typer.Option(
            "--model", "-m", help="NAME[@VERSION]; default: the active model, else the starter."
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.TABLE,
    as_json: JsonOption = False,
) -> None:
    """Precision, recall, F1 per category and language (95% intervals); hard-negative FPR."""
    fmt = _fmt(fmt, as_json)
    examples = load_examples(data)
    with open_bastion() as bastion, bastion.db.session() as session:
        store = ModelStore(bastion.audit)
        if model is None:
            if store.active_id(session, DEFAULT_NAME) is None:
                info, spec = load_starter()
            else:
                info, spec = store.load(session, DEFAULT_NAME)
        else:
            info, spec = store.load(session, *parse_ref(model))
    report = evaluate_model(Classifier(spec, model_ref=info.ref), examples)
    if fmt is OutputFormat.TABLE:
        print_report(report, title=info.ref)
    elif fmt is OutputFormat.JSON:
        print_json({"model": info.ref, **report.to_json()})
    else:
        columns = ["category", "language", "examples", "support", "precision", "recall", "f1"]
        print_rows(fmt, columns, [[getattr(m, c) for c in columns] for m in report.categories],
                   document=None)  # fmt: skip


@app.command("list")
def list_models(
    name: Annotated[str | None, typer.Option("--name", "-n", help="Only this name.")] = None,
    fmt: FormatOption = OutputFormat.TABLE,
    as_json: JsonOption = False,
) -> None:
    """Every stored version; the active one per name is marked."""
    fmt = _fmt(fmt, as_json)
    with open_bastion() as bastion, bastion.db.session() as session:
        found = ModelStore(bastion.audit).list(session, name=name)
    records = [info_record(info) for info in found]
    columns = ["name", "version", "active", "embedder", "labels", "created_by", "created_at"]
    rows = [[record[c] for c in columns] for record in records]
    print_rows(fmt, columns, rows, document=records, empty="no stored models (the starter serves)")


@app.command("activate")
def activate(
    ref: Annotated[str, typer.Argument(help="NAME@VERSION")],
    fmt: FormatOption = OutputFormat.TABLE,
    as_json: JsonOption = False,
) -> None:
    """Switch the active version; scoring processes pick it up on their next request."""
    name, version = parse_ref(ref)
    if version is None:
        raise InvalidInput("activate needs NAME@VERSION")
    with open_bastion() as bastion, bastion.db.session() as session:
        info = ModelStore(bastion.audit).activate(session, name, version, actor=cli_actor())
    print_record(info_record(info), _fmt(fmt, as_json))


@app.command("export")
def export(
    ref: Annotated[str, typer.Argument(help="NAME[@VERSION]")],
    output: Annotated[Path, typer.Argument(help="JSON file to write (weights as JSON numbers).")],
) -> None:
    """Write a version as a JSON model file (the format of the shipped starter model)."""
    with open_bastion() as bastion, bastion.db.session() as session:
        info, spec = ModelStore(bastion.audit).load(session, *parse_ref(ref))
    document = export_document(info, spec)
    output.write_text(json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n")
    note(f"wrote {info.ref} to {output}")
