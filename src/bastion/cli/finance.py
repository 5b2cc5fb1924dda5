"""``bastion finance ...``: payment instruments, sanctions lists, screening and FIU reports.

* ``extract`` finds crypto addresses, payment URIs, Lightning invoices, IBANs and BICs, payment
  links and mobile-money numbers in a text or file, each with its checksum status (exit 1 when
  any instrument was found, like ``bastion scan``);
* ``lists import|list|show|remove|export`` manage the official lists the operator downloads
  (nothing is fetched at run time); ``lists export`` writes FollowTheMoney JSON lines;
* ``screen`` screens a name or a wallet (exit 1 on a hit);
* ``entity`` shows one listed entity; ``bank`` turns a list's wallets into a shareable bank;
* ``report`` writes a case's evidence summary for a financial intelligence unit (JSON or PDF).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from bastion.cli.context import cli_actor, open_bastion
from bastion.cli.output import FormatOption, OutputFormat, print_json, print_record, print_rows
from bastion.errors import InvalidInput
from bastion.finance.batch_screen import items_from_csv, screen_batch
from bastion.finance.entities import bank_list_wallets, entity_details
from bastion.finance.extract import extract_instruments
from bastion.finance.ftm import export_list
from bastion.finance.reports import report_file, report_for_case
from bastion.finance.screening import screen_wallets
from bastion.signals.payment import CryptoAddressSignal

app = typer.Typer(help="Terrorist financing: instruments, sanctions lists, screening, reports.")
lists_app = typer.Typer(help="Sanctions lists: import the official files, list, remove, export.")
app.add_typer(lists_app, name="lists")

_INSTRUMENT_COLUMNS = ["kind", "scheme", "value", "status", "folded", "start", "end"]
_LIST_COLUMNS = ["id", "source", "published", "status", "entities", "names", "wallets", "format"]
_HIT_COLUMNS = ["match_kind", "score", "reference", "listed", "programs"]
MAX_EXTRACT_BYTES = 10 * 1024 * 1024


def _read_text(value: str | None, file: Path | None) -> str:
    if (value is None) == (file is None):
        raise InvalidInput("give either a text or --file", field="text")
    if file is None:
        return value or ""
    try:
        if file == Path("-"):
            data = sys.stdin.buffer.read(MAX_EXTRACT_BYTES + 1)
        else:
            with file.open("rb") as handle:
                data = handle.read(MAX_EXTRACT_BYTES + 1)
    except OSError as exc:
        raise InvalidInput(f"cannot read {file}: {exc.strerror}", field="file") from None
    if len(data) > MAX_EXTRACT_BYTES:
        raise InvalidInput(f"{file} is larger than {MAX_EXTRACT_BYTES} bytes", field="file")
    return data.decode("utf-8", errors="replace")


@app.command("extract")
def extract(
    text: Annotated[str | None, typer.Argument(help="The text (or use --file).")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="A text file; '-' reads stdin.")
    ] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Payment instruments in a text, validated; exit 1 when any was found."""
    found = extract_instruments(_read_text(text, file))
    records = [instrument.to_dict() for instrument in found]
    rows = [[record[c] for c in _INSTRUMENT_COLUMNS] for record in records]
    print_rows(fmt, _INSTRUMENT_COLUMNS, rows, document=records, empty="no payment instruments")
    raise typer.Exit(1 if found else 0)


@lists_app.command("import")
def import_list(
    path: Annotated[Path, typer.Argument(help="The list file as downloaded.", exists=True)],
    format: Annotated[
        str | None,
        typer.Option(
            help="ofac_advanced_xml, ofac_sdn_xml, ofac_sdn_csv, un_xml, uk_xml, eu_xml "
            "(default: detected)."
        ),
    ] = None,
    bank: Annotated[
        str | None, typer.Option(help="Also put the list's wallets into this bank.")
    ] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Import a list file (streamed; all or nothing). A newer version supersedes the active one."""
    with open_bastion() as bastion, bastion.db.session() as session:
        outcome = bastion.lists.import_path(session, path, actor=cli_actor(), format=format)
        info = outcome.info
        record: dict[str, object] = {**info.to_dict(), "new": outcome.new}
        if outcome.rescreen is not None:
            record["rescreen_hits"] = outcome.rescreen.hits
            record["rescreen_cases"] = outcome.rescreen.cases
        if bank:
            added = bank_list_wallets(
                session, bastion.banks, source=info.source, bank=bank, actor=cli_actor()
            )
            record["bank"] = bank
            record["bank_added"] = len(added.added)
    print_record(record, fmt)


@lists_app.command("list")
def list_lists(
    all_versions: Annotated[bool, typer.Option("--all", help="Also superseded versions.")] = False,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Imported lists, newest first (active ones only unless --all)."""
    with open_bastion() as bastion, bastion.db.session() as session:
        infos = bastion.sanctions.list(session, include_superseded=all_versions)
    records = [info.to_dict() for info in infos]
    rows = [[record[c] for c in _LIST_COLUMNS] for record in records]
    print_rows(fmt, _LIST_COLUMNS, rows, document=records, empty="no sanctions lists imported")


@lists_app.command("show")
def show_list(
    list_id: Annotated[int, typer.Argument(help="The list version's id.")],
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """One imported list version."""
    with open_bastion() as bastion, bastion.db.session() as session:
        info = bastion.sanctions.get(session, list_id)
    print_record(info.to_dict(), fmt)


@lists_app.command("remove")
def remove_list(list_id: Annotated[int, typer.Argument(help="The list version's id.")]) -> None:
    """Delete a wrong import (the previous version becomes active again)."""
    with open_bastion() as bastion, bastion.db.session() as session:
        bastion.sanctions.remove(session, list_id, actor=cli_actor())
    typer.echo(f"removed sanctions list {list_id}")


@lists_app.command("export")
def export(
    list_id: Annotated[int, typer.Argument(help="The list version's id.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default stdout).")
    ] = None,
) -> None:
    """A list version as FollowTheMoney entities, one JSON object per line."""
    with open_bastion() as bastion, bastion.db.session() as session:
        info = bastion.sanctions.get(session, list_id)
        handle = output.open("w", encoding="utf-8") if output else sys.stdout
        try:
            for entity in export_list(session, list_id, info.source):
                handle.write(json.dumps(entity, ensure_ascii=False) + "\n")
        finally:
            if output:
                handle.close()


@app.command("screen")
def screen(
    name: Annotated[str | None, typer.Argument(help="A person's or organisation's name.")] = None,
    wallet: Annotated[
        str | None, typer.Option(help="A crypto address (any chain, or scheme:address).")
    ] = None,
    threshold: Annotated[
        float | None, typer.Option(help="Least name score, 0.5-1 (default setting).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 10,
    birth_year: Annotated[
        int | None,
        typer.Option(min=1800, max=2100, help="The person's birth year: corroborated hits first."),
    ] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Screen a name or a wallet against the active lists; exit 1 on a hit."""
    if (name is None) == (wallet is None):
        raise InvalidInput("give either a name or --wallet", field="name")
    with open_bastion() as bastion, bastion.db.session() as session:
        if wallet is not None:
            hits = screen_wallets(session, [CryptoAddressSignal.normalize(wallet)])
        else:
            cutoff = threshold if threshold is not None else bastion.settings.finance_name_threshold
            if not 0.5 <= cutoff <= 1.0:
                raise InvalidInput("threshold is between 0.5 and 1", field="threshold")
            hits = bastion.scanner.finance.names.screen(
                session, name or "", threshold=cutoff, limit=limit, birth_year=birth_year
            )
    records = [hit.to_dict() for hit in hits]
    if fmt == OutputFormat.TABLE:
        for hit in hits:
            typer.echo(f"{hit.score:.2f}  {hit.reference}\n      {hit.explanation}")
        if not hits:
            typer.echo("no hit")
    else:
        rows = [
            [r["match_kind"], r["score"], r["reference"], r["listed"], r["entity"]["programs"]]
            for r in records
        ]
        print_rows(fmt, _HIT_COLUMNS, rows, document=records, empty="no hit")
    raise typer.Exit(1 if hits else 0)


@app.command("screen-file")
def screen_file(
    path: Annotated[
        Path, typer.Argument(help="CSV with a header: name and/or wallet, optional id.")
    ],
    threshold: Annotated[
        float | None, typer.Option(help="Least name score, 0.5-1 (default setting).")
    ] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Screen every row of a CSV file (at most 10,000); exit 1 when any row has a hit."""
    text = _read_text(None, path)
    items = items_from_csv(text)
    with open_bastion() as bastion, bastion.db.session() as session:
        cutoff = threshold if threshold is not None else bastion.settings.finance_name_threshold
        if not 0.5 <= cutoff <= 1.0:
            raise InvalidInput("threshold is between 0.5 and 1", field="threshold")
        results = screen_batch(session, bastion.scanner.finance.names, items, threshold=cutoff)
    records = [result.to_dict() for result in results]
    rows = [
        [
            result.item.id,
            result.item.name or result.item.wallet,
            result.hits[0].reference if result.hits else "",
            f"{result.hits[0].score:.2f}" if result.hits else "",
            result.error.code if result.error else "",
        ]
        for result in results
    ]
    columns = ["id", "screened", "best hit", "score", "error"]
    print_rows(fmt, columns, rows, document=records, empty="no rows")
    raise typer.Exit(1 if any(result.hits for result in results) else 0)


@app.command("entity")
def entity(
    entity_id: Annotated[int, typer.Argument(help="The listed entity's id.")],
) -> None:
    """One listed entity: names in every script, identifiers, wallets, hits (JSON)."""
    with open_bastion() as bastion, bastion.db.session() as session:
        print_json(entity_details(session, entity_id))


@app.command("bank")
def bank(
    source: Annotated[str, typer.Argument(help="ofac_sdn, un_sc, uk_sl or eu_fsf.")],
    bank_name: Annotated[str, typer.Option("--bank", help="The bank to fill.")],
    tlp: Annotated[str, typer.Option(help="Marking if the bank is created.")] = "green",
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Put the valid wallets of a list's active version into a bank (shareable over TAXII)."""
    with open_bastion() as bastion, bastion.db.session() as session:
        report = bank_list_wallets(
            session, bastion.banks, source=source, bank=bank_name, actor=cli_actor(), tlp=tlp
        )
    print_record(
        {"bank": bank_name, "added": len(report.added), "duplicates": report.duplicates}, fmt
    )


@app.command("report")
def report(
    case_id: Annotated[int, typer.Argument(help="The case.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.")],
    pdf: Annotated[bool, typer.Option("--pdf", help="PDF instead of JSON.")] = False,
    tlp: Annotated[str, typer.Option(help="Marking printed on the report.")] = "amber",
) -> None:
    """A case's evidence summary for a financial intelligence unit (audited)."""
    with open_bastion() as bastion, bastion.db.session() as session:
        document = report_for_case(
            session,
            bastion.cases,
            bastion.audit,
            case_id,
            actor=cli_actor(),
            data_dir=bastion.settings.data_dir,
            tlp=tlp,
            form="pdf" if pdf else "json",
        )
    output.write_bytes(report_file(document, "pdf" if pdf else "json")[0])
    typer.echo(f"wrote {output} (report sha256 {document['report_sha256']})")
