"""Name screening: names screened per second against a list of 1 M generated names, and recall.

    OMP_NUM_THREADS=1 .venv/bin/python bench/finance_names.py [--names 1000000] \
        [--queries 2000] [--reference-queries 40] [--quick]

1. Generate ``--names`` plausible listed names (persons: given name, optional father's name with
   bin/ibn, family name; organisations: a movement word, a name, a legal form), each written in
   Latin (several transliterations), Arabic or Cyrillic script, from name-part tables and
   synthetic syllable family names. Seeded: every run lists the same names.
2. Build ``bastion.finance.name_index.NameIndex`` over them: build time and peak RSS.
3. Screen ``--queries`` queries, half planted (a listed name re-written in another script or
   transliteration, sometimes with one letter changed in a long word or the words reordered),
   half unlisted (fresh names from the same tables): names/s, and recall of the planted ones
   (the listed entity among the results at threshold 0.85); hits on unlisted queries are counted,
   split into those whose top hit reads the same after transliteration (every token pair exact,
   transliteration or skeleton: the small generated tables make such namesakes common) and those
   leaning on a fuzzy token pair.
4. The reference: ``rapidfuzz.process.extract(query, all_normalised_names,
   scorer=fuzz.token_sort_ratio, limit=10)`` brute force over every listed name normalised with
   anyascii and lower case, on ``--reference-queries`` of the same queries (planted and unlisted
   alternately): queries/s and recall (the planted name in its top 10 with score >= 85).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import time
from datetime import UTC, datetime

from anyascii import anyascii
from machine import describe
from rapidfuzz import __version__ as rapidfuzz_version
from rapidfuzz import fuzz, process

from bastion.finance.name_index import NameIndex

# (Latin spellings, Arabic, Cyrillic) of common given names: transliterations a list really holds.
GIVEN = [
    (["Muhammad", "Mohammed", "Mohamed", "Mohammad"], "محمد", "Мухаммед"),
    (["Ahmad", "Ahmed"], "أحمد", "Ахмед"),
    (["Ali"], "علي", "Али"),
    (["Hasan", "Hassan"], "حسن", "Хасан"),
    (["Husayn", "Hussein", "Husain"], "حسين", "Хусейн"),
    (["Umar", "Omar"], "عمر", "Умар"),
    (["Usama", "Osama"], "أسامة", "Усама"),
    (["Yusuf", "Youssef", "Yousef"], "يوسف", "Юсуф"),
    (["Ibrahim", "Ebrahim"], "إبراهيم", "Ибрагим"),
    (["Khalid", "Khaled"], "خالد", "Халид"),
    (["Abdullah", "Abdallah", "Abd Allah"], "عبد الله", "Абдулла"),
    (["Abdul Rahman", "Abdurrahman", "Abd al-Rahman"], "عبد الرحمن", "Абдурахман"),
    (["Abdulaziz", "Abdel Aziz"], "عبد العزيز", "Абдулазиз"),
    (["Mustafa", "Mostafa"], "مصطفى", "Мустафа"),
    (["Mahmud", "Mahmoud"], "محمود", "Махмуд"),
    (["Saeed", "Said", "Sa'id"], "سعيد", "Саид"),
    (["Jamal", "Gamal"], "جمال", "Джамал"),
    (["Tariq", "Tarek"], "طارق", "Тарик"),
    (["Bilal"], "بلال", "Билал"),
    (["Hamza", "Hamzah"], "حمزة", "Хамза"),
    (["Anwar"], "أنور", "Анвар"),
    (["Zaid", "Zayd"], "زيد", "Зейд"),
    (["Salim", "Saleem"], "سليم", "Салим"),
    (["Nasser", "Nasir"], "ناصر", "Насер"),
    (["Karim", "Kareem"], "كريم", "Карим"),
    (["Walid", "Waleed"], "وليد", "Валид"),
    (["Faisal", "Faysal"], "فيصل", "Фейсал"),
    (["Rashid", "Rasheed"], "رشيد", "Рашид"),
    (["Majid", "Majeed"], "ماجد", "Маджид"),
    (["Ayman", "Aiman"], "أيمن", "Айман"),
]
MOVEMENTS = [
    (["Harakat", "Harakah"], "حركة", "Харакат"),
    (["Jabhat", "Jabha"], "جبهة", "Джабхат"),
    (["Jamaat", "Jama'at"], "جماعة", "Джамаат"),
    (["Katibat", "Katiba"], "كتيبة", "Катибат"),
    (["Ansar"], "أنصار", "Ансар"),
    (["Liwa"], "لواء", "Лива"),
]
LEGAL = ["Trading LLC", "Ltd", "Company", "Foundation", "Exchange Co", "General Trading"]
# Syllables of synthetic family names: (Latin, Arabic, Cyrillic).
ONSETS = [("b", "ب", "б"), ("d", "د", "д"), ("f", "ف", "ф"), ("h", "ح", "х"), ("j", "ج", "дж"),
          ("k", "ك", "к"), ("kh", "خ", "х"), ("l", "ل", "л"), ("m", "م", "м"), ("n", "ن", "н"),
          ("q", "ق", "к"), ("r", "ر", "р"), ("s", "س", "с"), ("sh", "ش", "ш"), ("t", "ت", "т"),
          ("z", "ز", "з"), ("gh", "غ", "г"), ("w", "و", "в")]  # fmt: skip
VOWELS = [("a", "ا", "а"), ("i", "ي", "и"), ("u", "و", "у"), ("a", "", "а"), ("i", "", "и")]
CODAS = [("", "", ""), ("n", "ن", "н"), ("r", "ر", "р"), ("l", "ل", "л"), ("m", "م", "м")]


def _syllables(rng: random.Random, count: int) -> tuple[str, str, str]:
    latin, arabic, cyrillic = "", "", ""
    for index in range(count):
        onset, vowel = rng.choice(ONSETS), rng.choice(VOWELS)
        coda = rng.choice(CODAS) if index == count - 1 else ("", "", "")
        latin += onset[0] + vowel[0] + coda[0]
        arabic += onset[1] + vowel[1] + coda[1]
        cyrillic += onset[2] + vowel[2] + coda[2]
    return latin.capitalize(), arabic, cyrillic.capitalize()


def _family(rng: random.Random) -> tuple[list[str], str, str]:
    latin, arabic, cyrillic = _syllables(rng, rng.choice((2, 3, 3, 4)))
    if rng.random() < 0.5:  # al-Family
        return [f"al-{latin}", f"Al {latin}"], "ال" + arabic, f"аль-{cyrillic}"
    return [latin], arabic, cyrillic


Parts = list[tuple[list[str], str, str]]


def generate(rng: random.Random) -> tuple[str, Parts]:
    """(kind, parts) of one plausible person or organisation name."""
    if rng.random() < 0.8:
        parts: Parts = [rng.choice(GIVEN)]
        if rng.random() < 0.4:
            father = rng.choice(GIVEN)
            parts.append(([f"bin {s}" for s in father[0]], "بن " + father[1], "бин " + father[2]))
        parts.append(_family(rng))
        return "person", parts
    name = _family(rng)
    if rng.random() < 0.5:
        return "organisation", [rng.choice(MOVEMENTS), name]
    legal = rng.choice(LEGAL)
    return "organisation", [name, ([legal], legal, legal)]


def render(parts: Parts, script: str, rng: random.Random) -> str:
    if script == "arabic":
        return " ".join(part[1] for part in parts)
    if script == "cyrillic":
        return " ".join(part[2] for part in parts)
    return " ".join(rng.choice(part[0]) for part in parts)


def pick_script(rng: random.Random) -> str:
    return rng.choices(["latin", "arabic", "cyrillic"], weights=[60, 25, 15])[0]


def perturb(parts: Parts, listed_script: str, rng: random.Random) -> str:
    """The listed name as an analyst might type or find it."""
    script = rng.choice([s for s in ("latin", "arabic", "cyrillic") if s != listed_script])
    if listed_script == "latin" and rng.random() < 0.5:
        script = "latin"  # another Latin transliteration
    parts = list(parts)
    if len(parts) >= 2 and rng.random() < 0.2:
        parts = parts[1:] + parts[:1]  # family name first
    query = render(parts, script, rng)
    if script == "latin" and rng.random() < 0.3:
        words = [w for w in re.findall(r"[A-Za-z]{7,}", query)]
        if words:  # one letter changed in a long word
            word = rng.choice(words)
            at = rng.randrange(2, len(word))
            changed = word[:at] + rng.choice("aeioulnrst") + word[at + 1 :]
            query = query.replace(word, changed, 1)
    return query


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--names", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--reference-queries", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="100,000 names, 400 queries")
    args = parser.parse_args()
    if args.quick:
        args.names, args.queries, args.reference_queries = 100_000, 400, 20
    import numpy
    import rapidfuzz  # noqa: F401  (version printed below)

    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(describe(f"rapidfuzz {rapidfuzz_version}, numpy {numpy.__version__}"))
    print(f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")

    rng = random.Random(20261130)
    started = time.perf_counter()
    listed: list[tuple[str, Parts, str, str]] = []
    for _ in range(args.names):
        kind, parts = generate(rng)
        script = pick_script(rng)
        listed.append((kind, parts, script, render(parts, script, rng)))
    print(f"generated {len(listed):,} names in {time.perf_counter() - started:.1f} s; "
          f"RSS {rss_mib():.0f} MiB")  # fmt: skip

    rss_before = rss_mib()
    started = time.perf_counter()
    index = NameIndex()
    for position, (kind, _, _, name) in enumerate(listed):
        index.add(position, position, name, kind="primary", schema=kind)
    index.freeze()
    build = time.perf_counter() - started
    print(f"index built in {build:.1f} s ({len(index) / build:,.0f} names/s); peak RSS "
          f"{rss_mib():.0f} MiB (+{rss_mib() - rss_before:.0f} MiB for the index)")  # fmt: skip

    # Unlisted means no listed name has the same parts, in whatever script it is written.
    seen = {tuple(part[0][0] for part in parts) for _, parts, _, _ in listed}
    queries: list[tuple[str, int | None]] = []
    for number in range(args.queries):
        if number % 2 == 0:
            target = rng.randrange(len(listed))
            _, parts, script, _ = listed[target]
            queries.append((perturb(parts, script, rng), target))
        else:
            while True:
                _, parts = generate(rng)
                if tuple(part[0][0] for part in parts) not in seen:
                    break
            queries.append((render(parts, pick_script(rng), rng), None))

    started = time.perf_counter()
    results = [index.screen(query, threshold=0.85, limit=10) for query, _ in queries]
    elapsed = time.perf_counter() - started
    planted = [(r, t) for r, (_, t) in zip(results, queries, strict=True) if t is not None]
    found = sum(any(m.entity_id == t for m in r) for r, t in planted)
    unlisted = [r for r, (_, t) in zip(results, queries, strict=True) if t is None and r]
    unlisted_hits = len(unlisted)
    # A hit whose every token pair is exact or a transliteration is a listed name that reads the
    # same (the generated tables are small); a hit leaning on a fuzzy pair is a near miss.
    fuzzy_hits = sum(
        any(a.method == "fuzzy" for a in r[0].explanation.alignments) for r in unlisted
    )
    rate = len(queries) / elapsed
    print(f"Bastion NameIndex.screen: {len(queries):,} queries in {elapsed:.1f} s = "
          f"{rate:,.1f} names/s ({1000 / rate:.1f} ms each); recall of planted "
          f"{found}/{len(planted)} = {found / len(planted):.1%}; unlisted queries with a hit "
          f"{unlisted_hits}/{len(queries) - len(planted)} (top hit by transliteration-equivalent "
          f"tokens only: {unlisted_hits - fuzzy_hits}, with a fuzzy token: "
          f"{fuzzy_hits})")  # fmt: skip

    def normalise(text: str) -> str:
        return " ".join(re.findall(r"[a-z0-9]+", anyascii(text).lower()))

    started = time.perf_counter()
    all_normalised = [normalise(name) for _, _, _, name in listed]
    print(f"reference: {len(all_normalised):,} names normalised in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    sample = queries[: args.reference_queries]
    started = time.perf_counter()
    ref_found = ref_planted = ours_found = 0
    for query, target in sample:
        hits = process.extract(normalise(query), all_normalised, scorer=fuzz.token_sort_ratio,
                               limit=10)  # fmt: skip
        if target is not None:
            ref_planted += 1
            ref_found += any(key == target and score >= 85 for _, score, key in hits)
    ref_elapsed = time.perf_counter() - started
    ref_rate = len(sample) / ref_elapsed
    for result, (_, target) in zip(results[: len(sample)], sample, strict=True):
        ours_found += target is not None and any(m.entity_id == target for m in result)
    print(f"reference rapidfuzz.process.extract(token_sort_ratio) brute force: {len(sample)} "
          f"queries in {ref_elapsed:.1f} s = {ref_rate:.2f} names/s; recall of planted "
          f"{ref_found}/{ref_planted} (Bastion on the same queries "
          f"{ours_found}/{ref_planted})")  # fmt: skip
    print(f"speed ratio Bastion / reference: {rate / ref_rate:,.0f}x")
    print(f"peak RSS of the whole run {rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
