"""OFAC's SDN list in its legacy formats: ``sdn.xml`` and the ``sdn.csv`` family.

``sdn.xml`` (root ``sdnList``) has one self-contained ``sdnEntry`` per party; digital currency
addresses are ``idList/id`` rows whose ``idType`` is "Digital Currency Address - XBT".

``sdn.csv`` has no header row and twelve columns (ent_num, SDN_Name, SDN_Type, Program, Title,
Call_Sign, Vess_type, Tonnage, GRT, Vess_flag, Vess_owner, Remarks), "-0-" for empty, and is
often Windows-1252 rather than UTF-8 (decoded line by line: UTF-8, else Windows-1252, else
Latin-1, so one odd line never garbles the rest). Aliases are in ``alt.csv`` and addresses in
``add.csv`` beside it (read when present, keyed by ent_num: both are small). Digital currency
addresses exist only inside Remarks, written by hand, hence :func:`wallets_in_text`.
"""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from bastion.errors import SanctionsListInvalid, SanctionsListTooLarge
from bastion.finance.lists.records import (
    ALIAS,
    FORMER,
    OFAC_SDN,
    PRIMARY,
    WEAK_ALIAS,
    ListEntity,
    ListHeader,
    ListIdentifier,
    ListName,
    ListWallet,
)
from bastion.finance.lists.xml_stream import (
    Limits,
    XmlRecords,
    clean,
    parse_date,
    script_of,
    text_at,
)

XML_FORMAT: Final = "ofac_sdn_xml"
CSV_FORMAT: Final = "ofac_sdn_csv"
SDN_COLUMNS: Final = 12
EMPTY: Final = "-0-"
_SCHEMAS: Final = {
    "individual": "Person",
    "entity": "Organization",
    "vessel": "Vessel",
    "aircraft": "Airplane",
}
_AKA_KINDS: Final = {
    "a.k.a.": ALIAS,
    "aka": ALIAS,
    "f.k.a.": FORMER,
    "fka": FORMER,
    "n.k.a.": ALIAS,
}

# --- digital currency addresses in free text -----------------------------------------------------

# The label as OFAC writes it, and as it is mistyped: any case, any dash (or none, or a colon),
# spaces missing or doubled, an "alt." in front.
_WALLET_LABEL: Final = re.compile(
    r"(?:\balt\.\s*)?digital\s*currency\s*address\s*[-\u2010-\u2015:]*\s*", re.IGNORECASE
)
# Codes OFAC uses, to split a code glued to its address ("XBT1AbC...").
_KNOWN_CURRENCIES: Final = sorted(
    {
        "XBT", "ETH", "XMR", "LTC", "ZEC", "DASH", "BTG", "ETC", "BSV", "BCH", "XVG", "USDT",
        "XRP", "TRX", "ARB", "BSC", "USDC", "SOL", "BTC",
    },
    key=len,
    reverse=True,
)  # fmt: skip
_ADDRESS_PIECE: Final = re.compile(r"[A-Za-z0-9:]+")
_SURROUNDING: Final = " \t;.,:()[]\"'"


def wallets_in_text(text: str) -> list[ListWallet]:
    """Every "Digital Currency Address - XBT <address>" in ``text``, label quirks tolerated;
    an address the list split with a space is joined back."""
    wallets: list[ListWallet] = []
    labels = list(_WALLET_LABEL.finditer(text))
    for index, label in enumerate(labels):
        stop = labels[index + 1].start() if index + 1 < len(labels) else len(text)
        segment = text[label.end() : stop].split(";", 1)[0]
        tokens = segment.strip(_SURROUNDING).split()
        if not tokens:
            continue
        if len(tokens) >= 2 and len(tokens[0]) <= 6 and tokens[0].isalnum():
            currency, rest = tokens[0], tokens[1:]
        else:  # no space between code and address
            currency = next((c for c in _KNOWN_CURRENCIES if tokens[0].upper().startswith(c)), "")
            if not currency:
                continue
            rest = [tokens[0][len(currency) :], *tokens[1:]]
        pieces: list[str] = []
        for token in rest:
            token = token.strip(_SURROUNDING)
            if not _ADDRESS_PIECE.fullmatch(token):
                break
            pieces.append(token)
        address = "".join(pieces)
        if address and (currency, address) not in {(w.currency, w.address) for w in wallets}:
            wallets.append(ListWallet(currency, address))
    return wallets


# --- sdn.xml -------------------------------------------------------------------------------------


def read_xml_header(path: Path, limits: Limits | None = None) -> ListHeader:
    records = XmlRecords(
        path,
        frozenset({"publshInformation", "publishInformation"}),
        limits=limits,
        stop_after=frozenset({"publshInformation", "publishInformation", "sdnEntry"}),
    )
    for element in records:
        published = parse_date(element.findtext("Publish_Date"), day_first=False)
        return ListHeader(OFAC_SDN, XML_FORMAT, published, text_at(element, "Record_Count"))
    return ListHeader(OFAC_SDN, XML_FORMAT, None)


def read_xml_entities(path: Path, limits: Limits | None = None) -> Iterator[ListEntity]:
    for number, entry in enumerate(XmlRecords(path, frozenset({"sdnEntry"}), limits=limits), 1):
        uid = text_at(entry, "uid")
        if not uid:
            raise SanctionsListInvalid(f"sdnEntry record {number} has no uid", record=number)
        yield _xml_entity(entry, uid)


def _full_name(first: str, last: str) -> str:
    return clean(f"{first} {last}")


def _xml_entity(entry: ET.Element, uid: str) -> ListEntity:
    sdn_type = text_at(entry, "sdnType").lower()
    entity = ListEntity(
        source=OFAC_SDN,
        external_id=uid,
        schema=_SCHEMAS.get(sdn_type, "LegalEntity"),
        names=[],
        remarks=text_at(entry, "remarks"),
    )
    primary = _full_name(text_at(entry, "firstName"), text_at(entry, "lastName"))
    if primary:
        entity.names.append(ListName(primary, PRIMARY, script_of(primary)))
    for aka in entry.iterfind("akaList/aka"):
        name = _full_name(text_at(aka, "firstName"), text_at(aka, "lastName"))
        if not name:
            continue
        kind = _AKA_KINDS.get(text_at(aka, "type").lower(), ALIAS)
        if kind == ALIAS and text_at(aka, "category").lower() == "weak":
            kind = WEAK_ALIAS
        entity.names.append(ListName(name, kind, script_of(name)))
    entity.programs = [
        p for p in (clean(e.text) for e in entry.iterfind("programList/program")) if p
    ]
    for item in entry.iterfind("idList/id"):
        id_type, number = text_at(item, "idType"), text_at(item, "idNumber")
        if not number:
            continue
        if _WALLET_LABEL.match(id_type):
            currency = _WALLET_LABEL.sub("", id_type, count=1).strip() or id_type
            entity.wallets.append(ListWallet(currency, number.strip(_SURROUNDING)))
        else:
            entity.identifiers.append(ListIdentifier(id_type, number, text_at(item, "idCountry")))
    for wallet in wallets_in_text(entity.remarks):
        if wallet not in entity.wallets:
            entity.wallets.append(wallet)
    entity.birth_dates = [
        d for d in (text_at(e, "dateOfBirth") for e in entry.iterfind("dateOfBirthList/*")) if d
    ]
    for path, target in (
        ("nationalityList/nationality", entity.nationalities),
        ("citizenshipList/citizenship", entity.nationalities),
        ("addressList/address", entity.countries),
    ):
        for element in entry.iterfind(path):
            country = text_at(element, "country")
            if country and country not in target:
                target.append(country)
    return entity


# --- sdn.csv -------------------------------------------------------------------------------------


def _decoded_lines(path: Path, limits: Limits) -> Iterator[str]:
    """The file's lines as text, each decoded on its own (UTF-8, Windows-1252, Latin-1)."""
    total = 0
    with path.open("rb") as stream:
        for number, raw in enumerate(stream, start=1):
            total += len(raw)
            if len(raw) > limits.max_record_bytes:
                raise SanctionsListTooLarge(
                    f"line {number} is longer than {limits.max_record_bytes:,} bytes",
                    record=number,
                    limit=limits.max_record_bytes,
                )
            if b"\x00" in raw:
                raise SanctionsListInvalid(
                    f"line {number} holds NUL bytes: not a text CSV (UTF-16 or binary?)",
                    line=number,
                    record=number,
                )
            for encoding in ("utf-8", "cp1252"):
                try:
                    yield raw.decode(encoding)
                    break
                except UnicodeDecodeError:
                    continue
            else:
                yield raw.decode("latin-1")


def _rows(path: Path, limits: Limits, columns: int) -> Iterator[tuple[int, list[str]]]:
    """CSV rows with exactly ``columns`` fields, "-0-" blanked; a ragged row is an error."""
    reader = csv.reader(_decoded_lines(path, limits), strict=True)
    try:
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip("\x1a \t\r\n")):
                continue  # blank line, or the DOS end-of-file mark OFAC leaves at the end
            if len(row) != columns:
                raise SanctionsListInvalid(
                    f"{path.name}: record at line {reader.line_num} has {len(row)} fields, "
                    f"expected {columns}",
                    record=reader.line_num,
                    line=reader.line_num,
                )
            yield reader.line_num, ["" if clean(cell) == EMPTY else clean(cell) for cell in row]
    except csv.Error as error:
        raise SanctionsListInvalid(
            f"{path.name}: malformed CSV at line {reader.line_num}: {error}",
            record=reader.line_num,
            line=reader.line_num,
        ) from None


def _beside(path: Path, name: str) -> Path | None:
    """``alt.csv``/``add.csv`` next to ``sdn.csv``, matching its case (ALT.CSV)."""
    for candidate in (name, name.upper()):
        beside = path.with_name(candidate)
        if beside != path and beside.is_file():
            return beside
    return None


def read_csv_header(path: Path, limits: Limits | None = None) -> ListHeader:
    """The CSV says nothing of itself: no publication date."""
    return ListHeader(OFAC_SDN, CSV_FORMAT, None)


def _person_order(name: str) -> str:
    """ "ABU ALI, Hassan" -> "Hassan ABU ALI", as the XML formats give the name."""
    last, comma, first = name.partition(",")
    if comma and "," not in first and first.strip():
        return clean(f"{first} {last}")
    return name


def read_csv_entities(path: Path, limits: Limits | None = None) -> Iterator[ListEntity]:
    limits = limits or Limits()
    aliases: dict[str, list[ListName]] = {}
    alt = _beside(path, "alt.csv")
    if alt is not None:
        for _, (ent_num, _alt_num, alt_type, alt_name, alt_remarks) in _rows(alt, limits, 5):
            if not alt_name:
                continue
            kind = _AKA_KINDS.get(alt_type.lower(), ALIAS)
            if kind == ALIAS and "weak" in alt_remarks.lower():
                kind = WEAK_ALIAS
            aliases.setdefault(ent_num, []).append(ListName(alt_name, kind, script_of(alt_name)))
    countries: dict[str, list[str]] = {}
    add = _beside(path, "add.csv")
    if add is not None:
        for _, row in _rows(add, limits, 6):
            if row[4]:
                countries.setdefault(row[0], []).append(row[4])
    for line, row in _rows(path, limits, SDN_COLUMNS):
        yield _csv_entity(line, row, aliases, countries)


def _csv_entity(
    line: int, row: list[str], aliases: dict[str, list[ListName]], countries: dict[str, list[str]]
) -> ListEntity:
    ent_num, name, sdn_type, program = row[0], row[1], row[2].lower(), row[3]
    if not ent_num.isdigit() or not name:
        raise SanctionsListInvalid(
            f"record at line {line} has no numeric ent_num or no SDN_Name", record=line, line=line
        )
    remarks = row[11]
    if sdn_type == "individual":
        schema, name = "Person", _person_order(name)
    else:
        schema = _SCHEMAS.get(sdn_type, "LegalEntity") if sdn_type else "Organization"
    alias_names = aliases.get(ent_num, [])
    if schema == "Person":
        alias_names = [ListName(_person_order(a.name), a.kind, a.script) for a in alias_names]
    return ListEntity(
        source=OFAC_SDN,
        external_id=ent_num,
        schema=schema,
        names=[ListName(name, PRIMARY, script_of(name)), *alias_names],
        wallets=wallets_in_text(remarks),
        programs=[p.strip(" []") for p in re.split(r"\]\s*\[", program) if p.strip(" []")],
        birth_dates=[clean(d) for d in re.findall(r"\bDOB ([^;]+)", remarks)],
        nationalities=[clean(n) for n in re.findall(r"\bnationality ([^;]+)", remarks)],
        countries=list(dict.fromkeys(countries.get(ent_num, []))),
        remarks=remarks,
        identifiers=_csv_identifiers(row),
    )


def _csv_identifiers(row: list[str]) -> list[ListIdentifier]:
    call_sign = row[5]
    return [ListIdentifier("Call Sign", call_sign)] if call_sign else []
