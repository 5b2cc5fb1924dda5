"""Import time of a full-size sanctions list file: Bastion's streamed readers against a DOM parse.

    OMP_NUM_THREADS=1 .venv/bin/python bench/finance_lists.py [--quick] [--parties 18000]
        [--profile-import]
    BASTION_BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \
        OMP_NUM_THREADS=1 .venv/bin/python bench/finance_lists.py

Generates, in a temporary folder, a full-size OFAC advanced XML (like the real SDN_ADVANCED.XML:
~100 MB, ~18,000 distinct parties, several hundred of them with digital currency addresses,
names in Latin, Arabic and Cyrillic script, documents, features and SanctionsEntries after the
parties) and a full-size UN consolidated list (~1,000 entries). For each file, in a fresh child
process each (so peak RSS is that run's own):

* Bastion: ``open_list(path)`` then every entity (for OFAC, two streamed passes);
* reference: ``xml.etree.ElementTree.parse`` of the whole file, then the same extraction run on
  the DOM (the readers' own record functions, so only the parsing strategy differs).

Prints entities/s, MB/s, seconds and peak RSS of both, and the ratios. lxml is not installed, so
the reference is the standard library's C-accelerated ElementTree.

Then the *full import* of the same OFAC file (``SanctionsLists.import_file``: hash, read, write
every entity, name and wallet in one transaction), in a fresh child process against a fresh
database: SQLite in a temporary folder, and PostgreSQL when ``BASTION_BENCH_POSTGRES_URL`` names
a server (a database ``bench_lists_<random>`` is created on it for the run and dropped after).
The migrations are applied before the clock starts. ``--profile-import`` also prints where the
import's time goes (cProfile, top functions by own time).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import multiprocessing as mp
import os
import pstats
import pyexpat
import random
import resource
import secrets
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from machine import describe

NS = "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/ADVANCED_XML"
ARABIC = "محمد عبد الله الحسن"
CYRILLIC = "Иван Петрович Соколов"


def _references() -> str:
    countries = "".join(
        f'<Country ID="{11000 + n}" ISO2="C{n}">Country {n}</Country>' for n in range(190)
    )
    doc_types = "".join(
        f'<IDRegDocType ID="{1570 + n}">Doc type {n}</IDRegDocType>' for n in range(100)
    )
    return (
        "<DateOfIssue><Year>2026</Year><Month>11</Month><Day>27</Day></DateOfIssue>"
        '<ReferenceValueSets><AliasTypeValues><AliasType ID="1400">A.K.A.</AliasType>'
        '<AliasType ID="1401">F.K.A.</AliasType><AliasType ID="1403">Name</AliasType>'
        f"</AliasTypeValues><CountryValues>{countries}</CountryValues>"
        '<FeatureTypeValues><FeatureType ID="8">Birthdate</FeatureType>'
        '<FeatureType ID="10">Nationality Country</FeatureType><FeatureType ID="25">Location'
        '</FeatureType><FeatureType ID="344">Digital Currency Address - XBT</FeatureType>'
        '<FeatureType ID="345">Digital Currency Address - ETH</FeatureType></FeatureTypeValues>'
        f"<IDRegDocTypeValues>{doc_types}</IDRegDocTypeValues>"
        '<NamePartTypeValues><NamePartType ID="1520">Last Name</NamePartType>'
        '<NamePartType ID="1521">First Name</NamePartType></NamePartTypeValues>'
        '<PartySubTypeValues><PartySubType ID="3" PartyTypeID="2">Unknown</PartySubType>'
        '<PartySubType ID="4" PartyTypeID="1">Unknown</PartySubType></PartySubTypeValues>'
        '<PartyTypeValues><PartyType ID="1">Individual</PartyType><PartyType ID="2">Entity'
        '</PartyType></PartyTypeValues><SanctionsTypeValues><SanctionsType ID="1">Program'
        '</SanctionsType></SanctionsTypeValues><ScriptValues><Script ID="215" ScriptCode="Latn">'
        'Latin</Script><Script ID="160" ScriptCode="Arab">Arabic</Script><Script ID="220" '
        'ScriptCode="Cyrl">Cyrillic</Script></ScriptValues></ReferenceValueSets>'
    )


def _name(alias_type: str, primary: bool, script: str, groups: tuple[int, int], text: str) -> str:
    first, _, last = text.rpartition(" ")
    return (
        f'<Alias FixedRef="1" AliasTypeID="{alias_type}" Primary="{str(primary).lower()}" '
        'LowQuality="false"><DocumentedName ID="1" FixedRef="1" DocNameStatusID="1">'
        f'<DocumentedNamePart><NamePartValue NamePartGroupID="{groups[0]}" ScriptID="{script}" '
        f'ScriptStatusID="1" Acronym="false">{last}</NamePartValue></DocumentedNamePart>'
        f'<DocumentedNamePart><NamePartValue NamePartGroupID="{groups[1]}" ScriptID="{script}" '
        f'ScriptStatusID="1" Acronym="false">{first or last}</NamePartValue></DocumentedNamePart>'
        "</DocumentedName></Alias>"
    )


def _party(number: int, rng: random.Random, wallets: bool) -> str:
    groups = (number * 10, number * 10 + 1)
    aliases = _name("1403", True, "215", groups, f"Person{number} SURNAME{number}")
    if number % 7 == 0:
        aliases += _name("1403", True, "160", groups, ARABIC)
    if number % 11 == 0:
        aliases += _name("1400", False, "220", groups, CYRILLIC)
    for extra in range(rng.randint(2, 6)):
        aliases += _name("1400", False, "215", groups, f"Alias{extra} NAME{number}")
    features = "".join(
        f'<Feature ID="{number}{k}" FeatureTypeID="{t}"><FeatureVersion ID="{number}{k}" '
        'ReliabilityID="1"><Comment/><DatePeriod CalendarTypeID="1" YearFixed="false" '
        'MonthFixed="false" DayFixed="false"><Start Approximate="false" YearFixed="false" '
        'MonthFixed="false" DayFixed="false"><From><Year>1970</Year><Month>1</Month><Day>1'
        "</Day></From><To><Year>1970</Year><Month>1</Month><Day>1</Day></To></Start>"
        '<End Approximate="false" YearFixed="false" MonthFixed="false" DayFixed="false"><From>'
        "<Year>1970</Year><Month>1</Month><Day>1</Day></From><To><Year>1970</Year><Month>1"
        '</Month><Day>1</Day></To></End></DatePeriod><VersionLocation LocationID="1"/>'
        f'</FeatureVersion><IdentityReference IdentityID="{number}" '
        'IdentityFeatureLinkTypeID="1"/></Feature>'
        for k, t in enumerate(("8", "10", "25", "25", "25", "25")[: rng.randint(3, 6)])
    )
    if wallets:
        features += "".join(
            f'<Feature ID="9{number}{k}" FeatureTypeID="{344 + k % 2}"><FeatureVersion ID="1" '
            f'ReliabilityID="1"><Comment/><VersionDetail DetailTypeID="1432">bc1q{number:08d}x{k}'
            "</VersionDetail></FeatureVersion></Feature>"
            for k in range(rng.randint(1, 4))
        )
    return (
        f'<DistinctParty FixedRef="{number}"><Comment/><Profile ID="{number}" '
        f'PartySubTypeID="{3 + number % 2}"><Identity ID="{number}" FixedRef="{number}" '
        f'Primary="true" False="false">{aliases}<NamePartGroups><MasterNamePartGroup>'
        f'<NamePartGroup ID="{groups[0]}" NamePartTypeID="1520"/></MasterNamePartGroup>'
        f'<MasterNamePartGroup><NamePartGroup ID="{groups[1]}" NamePartTypeID="1521"/>'
        f"</MasterNamePartGroup></NamePartGroups></Identity>{features}</Profile></DistinctParty>\n"
    )


def write_ofac(path: Path, parties: int, wallet_parties: int) -> None:
    rng = random.Random(7)
    with_wallets = set(rng.sample(range(1, parties + 1), wallet_parties))
    with path.open("w", encoding="utf-8") as out:
        out.write(
            f'<?xml version="1.0" encoding="utf-8"?>\n<Sanctions xmlns="{NS}">{_references()}'
        )
        out.write('<Locations><Location ID="1"><LocationCountry CountryID="11001"/></Location>')
        out.write("</Locations><IDRegDocuments>")
        for number in range(1, parties + 1):
            out.write(
                f'<IDRegDocument ID="{number}" IDRegDocTypeID="{1570 + number % 100}" '
                f'IdentityID="{number}" IssuedBy-CountryID="{11000 + number % 190}" '
                f'ValidityID="1"><IDRegistrationNo>P{number:09d}</IDRegistrationNo>'
                "</IDRegDocument>\n"
            )
        out.write("</IDRegDocuments><DistinctParties>")
        for number in range(1, parties + 1):
            out.write(_party(number, rng, number in with_wallets))
        out.write("</DistinctParties><ProfileRelationships/><SanctionsEntries>")
        for number in range(1, parties + 1):
            out.write(
                f'<SanctionsEntry ID="{number}" ProfileID="{number}" ListID="1550"><EntryEvent '
                'ID="1" EntryEventTypeID="1" LegalBasisID="1"><Comment/><Date CalendarTypeID="1">'
                "<Year>2015</Year><Month>3</Month><Day>2</Day></Date></EntryEvent>"
                '<SanctionsMeasure ID="1" SanctionsTypeID="1"><Comment>SDGT</Comment>'
                "</SanctionsMeasure></SanctionsEntry>\n"
            )
        out.write("</SanctionsEntries></Sanctions>\n")


def write_un(path: Path, entries: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n<CONSOLIDATED_LIST '
            'dateGenerated="2026-11-29T10:00:03.537Z"><INDIVIDUALS>'
        )
        for n in range(entries):
            out.write(
                f"<INDIVIDUAL><DATAID>{n}</DATAID><VERSIONNUM>1</VERSIONNUM><FIRST_NAME>ABDUL"
                f"</FIRST_NAME><SECOND_NAME>RAHMAN{n}</SECOND_NAME><UN_LIST_TYPE>Al-Qaida"
                f"</UN_LIST_TYPE><REFERENCE_NUMBER>QDi.{n:03d}</REFERENCE_NUMBER><LISTED_ON>"
                f"2001-01-25</LISTED_ON><NAME_ORIGINAL_SCRIPT>{ARABIC}</NAME_ORIGINAL_SCRIPT>"
                "<COMMENTS1>" + "Review pursuant to resolution 1822 (2008). " * 8 + "</COMMENTS1>"
                "<NATIONALITY><VALUE>Afghanistan</VALUE></NATIONALITY>"
                + "".join(
                    f"<INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>Alias {k} {n}"
                    "</ALIAS_NAME></INDIVIDUAL_ALIAS>"
                    for k in range(4)
                )
                + "<INDIVIDUAL_ADDRESS><COUNTRY>Afghanistan</COUNTRY></INDIVIDUAL_ADDRESS>"
                "<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><DATE>1961-04-01"
                "</DATE></INDIVIDUAL_DATE_OF_BIRTH><INDIVIDUAL_DOCUMENT><TYPE_OF_DOCUMENT>"
                f"Passport</TYPE_OF_DOCUMENT><NUMBER>OR{n}</NUMBER></INDIVIDUAL_DOCUMENT>"
                "</INDIVIDUAL>\n"
            )
        out.write("</INDIVIDUALS><ENTITIES/></CONSOLIDATED_LIST>\n")


# --- the two ways of reading ---------------------------------------------------------------------


def bastion_read(path: str) -> tuple[int, int]:
    from bastion.finance.lists.read import open_list

    reader = open_list(Path(path))
    entities = wallets = 0
    for entity in reader:
        entities += 1
        wallets += len(entity.wallets)
    return entities, wallets


def dom_read(path: str, kind: str) -> tuple[int, int]:
    """ET.parse of the whole file, then the readers' own record functions on the DOM."""
    from bastion.finance.lists import ofac_advanced, un
    from bastion.finance.lists.xml_stream import strip_namespaces

    root = ET.parse(path).getroot()
    strip_namespaces(root)
    entities = []
    if kind == "ofac":
        lookups = ofac_advanced._Lookups()
        for element in root.iter():
            tag = element.tag
            if tag == "ReferenceValueSets":
                ofac_advanced._add_reference_values(lookups, element)
            elif tag == "Location":
                country = element.find("LocationCountry")
                if country is not None:
                    name = lookups.value("Country", country.get("CountryID"))
                    lookups.location_countries[element.get("ID", "")] = name
            elif tag == "IDRegDocument":
                ofac_advanced._add_document(lookups, element)
            elif tag == "SanctionsEntry":
                ofac_advanced._add_sanctions_entry(lookups, element)
        for party in root.iter("DistinctParty"):
            entities.append(ofac_advanced._party_entity(lookups, party))
    else:
        entities = [
            un._entity(record) for record in root.iter() if record.tag in ("INDIVIDUAL", "ENTITY")
        ]
    return len(entities), sum(len(e.wallets) for e in entities if e is not None)


def _child(how: str, path: str, kind: str, out: Any) -> None:
    began = time.perf_counter()
    counts = bastion_read(path) if how == "bastion" else dom_read(path, kind)
    seconds = time.perf_counter() - began
    out.put((counts, seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def measure(how: str, path: Path, kind: str, rounds: int) -> tuple[tuple[int, int], float, float]:
    """Best time of ``rounds`` fresh child processes, and the peak RSS (MiB) of the best one."""
    context = mp.get_context("spawn")
    best: tuple[tuple[int, int], float, float] | None = None
    for _ in range(rounds):
        queue = context.Queue()
        child = context.Process(target=_child, args=(how, str(path), kind, queue))
        child.start()
        result = queue.get(timeout=1800)
        child.join()
        if best is None or result[1] < best[1]:
            best = result
    assert best is not None
    return best


# --- full import into a database -------------------------------------------------------------


def _import_child(path: str, database_url: str, profile: bool, out: Any) -> None:
    """One import into a fresh database (SQLite under a temporary data_dir unless a URL is
    given); reports counts, seconds and peak RSS (MiB) of this process."""
    from bastion.runtime import Bastion
    from bastion.settings import Settings

    with tempfile.TemporaryDirectory(prefix="bench-lists-db-") as data_dir:
        bastion = Bastion.from_settings(
            Settings(data_dir=Path(data_dir), database_url=database_url)
        )
        profiler = cProfile.Profile() if profile else None
        began = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        with bastion.db.session() as session:
            info, _new = bastion.sanctions.import_file(session, Path(path), actor="bench")
        if profiler is not None:
            profiler.disable()
        seconds = time.perf_counter() - began
        report = ""
        if profiler is not None:
            text = io.StringIO()
            stats = pstats.Stats(profiler, stream=text)
            stats.sort_stats("cumulative").print_stats(25)
            stats.sort_stats("tottime").print_stats(15)
            report = text.getvalue()
        bastion.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.put(((info.entities, info.names, info.wallets), seconds, rss, report))


def measure_import(
    path: Path, database_url: str, profile: bool
) -> tuple[tuple[int, int, int], float, float, str]:
    context = mp.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_import_child, args=(str(path), database_url, profile, queue))
    child.start()
    result: tuple[tuple[int, int, int], float, float, str] = queue.get(timeout=3600)
    child.join()
    return result


def _postgres_database(server_url: str, name: str, create: bool) -> str:
    """Create (or drop) database ``name`` on the server; the SQLAlchemy URL of it."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        if create:
            connection.execute(f'CREATE DATABASE "{name}"')
        else:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return url.set(database=name).render_as_string(hide_password=False)


def import_rows(
    path: Path, profile: bool
) -> list[tuple[str, tuple[tuple[int, int, int], float, float, str]]]:
    """The full import into SQLite, and into PostgreSQL when configured."""
    rows = [("SQLite (file in a temp dir)", measure_import(path, "", profile))]
    server = os.environ.get("BASTION_BENCH_POSTGRES_URL", "")
    if server:
        name = f"bench_lists_{secrets.token_hex(4)}"
        url = _postgres_database(server, name, create=True)
        try:
            rows.append((f"PostgreSQL ({name})", measure_import(path, url, profile)))
        finally:
            _postgres_database(server, name, create=False)
    return rows


def print_imports(path: Path, profile: bool) -> None:
    size_mb = path.stat().st_size / 1e6
    print(f"\nfull import of {path.name} ({size_mb:.1f} MB) through SanctionsLists.import_file")
    rows = import_rows(path, profile)
    print("| database | entities | names | wallets | s | entities/s | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, ((entities, names, wallets), seconds, rss, _report) in rows:
        print(
            f"| {label} | {entities:,} | {names:,} | {wallets:,} | {seconds:.2f} | "
            f"{entities / seconds:,.0f} | {rss:.0f} |"
        )
    for label, (*_, report) in rows:
        if report:
            print(f"\nprofile of the import into {label}:\n{report}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a 10x smaller OFAC file, 1 round")
    parser.add_argument("--parties", type=int, default=18_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile-import", action="store_true", help="cProfile the imports")
    parser.add_argument("--skip-read", action="store_true", help="only the database imports")
    args = parser.parse_args()
    parties = args.parties // 10 if args.quick else args.parties
    rounds = 1 if args.quick else args.rounds
    print(describe(f"stdlib ElementTree (C accelerator), {pyexpat.EXPAT_VERSION}"), flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-lists-") as folder:
        ofac, un_file = Path(folder) / "SDN_ADVANCED.XML", Path(folder) / "consolidated.xml"
        began = time.perf_counter()
        write_ofac(ofac, parties, max(1, parties * 600 // 18_000))
        write_un(un_file, 1_000)
        print(f"generated in {time.perf_counter() - began:.1f} s", flush=True)
        for kind, path in (("ofac", ofac), ("un", un_file)) if not args.skip_read else ():
            size_mb = path.stat().st_size / 1e6
            print(f"\n{path.name}: {size_mb:.1f} MB, best of {rounds}", flush=True)
            rows = {how: measure(how, path, kind, rounds) for how in ("bastion", "dom")}
            if rows["bastion"][0] != rows["dom"][0]:
                sys.exit(f"disagreement: {rows}")
            print("| reader | entities | wallets | s | entities/s | MB/s | peak RSS MiB |")
            print("|---|---:|---:|---:|---:|---:|---:|")
            for how, ((entities, wallets), seconds, rss) in rows.items():
                label = (
                    "Bastion open_list (streamed)" if how == "bastion" else "ET.parse + extraction"
                )
                print(
                    f"| {label} | {entities:,} | {wallets:,} | {seconds:.2f} | "
                    f"{entities / seconds:,.0f} | {size_mb / seconds:.1f} | {rss:.0f} |"
                )
            (_, b_s, b_rss), (_, d_s, d_rss) = rows["bastion"], rows["dom"]
            print(f"time Bastion/DOM: {b_s / d_s:.2f}x; peak RSS Bastion/DOM: {b_rss / d_rss:.2f}x")
        print_imports(ofac, args.profile_import)
    print(
        "\ncommand: OMP_NUM_THREADS=1 .venv/bin/python bench/finance_lists.py "
        + " ".join(sys.argv[1:])
    )


if __name__ == "__main__":
    main()
