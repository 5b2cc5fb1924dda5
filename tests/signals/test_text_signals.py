"""Text signals: formats and validation, and how edited copies, excerpts and unrelated text score.

Texts are generated here from small word lists (English, French, Russian, Arabic): neutral
filler in the shape of statements and news, never real propaganda. Running this module as a
script prints the throughput of ``text_signals`` on ~30-word posts.
"""

from __future__ import annotations

import base64
import hashlib
import random
import time

import numpy as np
import pytest

from bastion.errors import InvalidSignal
from bastion.signals.base import SignalType
from bastion.signals.text import (
    MAX_SHINGLES,
    MIN_QUERY_SHINGLES,
    TextMinHashSignal,
    TextSha256Signal,
    TextShinglesSignal,
    capped_unique_shingles,
    format_shingles,
    text_signals,
)
from bastion.signals.text_normalize import normalize_text

_VOCABULARY_TEXT = {
    "en": (
        "the of and to in our we they people nation city movement struggle future land history "
        "council order village river market road school family government truth world system "
        "leader message voice power great new old true free strong young final long dark "
        "builds defends calls remembers changes follows protects rejects demands writes carries "
        "opens finds leaves for against with beyond across within under about every that this"
    ),
    "fr": (
        "le la les de des et en notre nous ils peuple nation ville mouvement lutte avenir terre "
        "histoire conseil ordre village fleuve marché route école famille gouvernement vérité "
        "monde système chef message voix pouvoir grand nouveau vieux vrai libre fort jeune "
        "construit défend appelle rappelle change suit protège rejette demande écrit porte"
    ),
    "ru": (
        "и в на мы наш они народ город движение борьба будущее земля история совет порядок "
        "деревня река рынок дорога школа семья правительство правда мир система лидер "
        "послание голос сила великий новый старый свободный сильный молодой строит защищает "
        "зовёт помнит меняет следует охраняет отвергает требует пишет несёт для против"
    ),
    "ar": (
        "في من على إلى و نحن هم الشعب الأمة المدينة الحركة النضال المستقبل الأرض التاريخ "
        "المجلس النظام القرية النهر السوق الطريق المدرسة العائلة الحكومة الحقيقة العالم "
        "القائد الرسالة الصوت القوة كبير جديد قديم حر قوي شاب يبني يدافع يدعو يتذكر يغير "
        "يتبع يحمي يرفض يطالب يكتب يحمل"
    ),
}
VOCABULARY = {language: words.split() for language, words in _VOCABULARY_TEXT.items()}
_WEIGHTS = {
    lang: [1.0 / (rank + 2) for rank in range(len(words))] for lang, words in VOCABULARY.items()
}


def make_text(rng: random.Random, words: int, language: str = "en") -> str:
    """About ``words`` words of sentence-shaped filler in ``language``."""
    vocabulary, weights = VOCABULARY[language], _WEIGHTS[language]
    sentences: list[str] = []
    count = 0
    while count < words:
        length = rng.randint(8, 16)
        picked = rng.choices(vocabulary, weights=weights, k=length)
        sentences.append(" ".join(picked).capitalize() + rng.choice([".", ".", "!", "?", ","]))
        count += length
    return " ".join(sentences)


def edited(rng: random.Random, text: str, edits: int, language: str = "en") -> str:
    """``text`` with ``edits`` random word insertions, deletions or swaps of neighbours."""
    words = text.split()
    for _ in range(edits):
        where = rng.randrange(len(words))
        kind = rng.randrange(3)
        if kind == 0:
            words.insert(where, rng.choice(VOCABULARY[language]))
        elif kind == 1 and len(words) > 5:
            del words[where]
        else:
            other = min(len(words) - 1, where + 1)
            words[where], words[other] = words[other], words[where]
    return " ".join(words)


def signal_value(text: str, signal_type: str) -> str:
    found = [s.value for s in text_signals(text) if s.type == signal_type]
    assert len(found) == 1, f"{signal_type} missing"
    return found[0]


# --- what text_signals gives ------------------------------------------------------------------


def test_signals_of_a_text() -> None:
    text = "The Council, meeting today in the old city, calls for calm!"
    signals = text_signals(text)
    assert [s.type for s in signals] == ["text_sha256", "text_minhash", "text_shingles"]
    digest = hashlib.sha256(normalize_text(text).encode()).hexdigest()
    assert signals[0].value == digest
    assert signals[1].value.startswith("mh1:") and signals[2].value.startswith("sh1:")
    for signal in signals:
        assert signal.quality is None and signal.variant == ""


def test_trivial_respellings_give_identical_signals() -> None:
    plain = "The council meets today in the old city and calls for calm"
    respelled = "THE  COUNCIL—meets today, in the \u200bold c\u0456ty… and calls for calm!!!"
    assert text_signals(plain) == text_signals(respelled)


def test_empty_and_short_texts() -> None:
    assert text_signals("") == []
    assert text_signals("  ...  !!! ") == []
    assert [s.type for s in text_signals("two words")] == ["text_sha256"]
    assert [s.type for s in text_signals("now three words")] == [
        "text_sha256",
        "text_minhash",
        "text_shingles",
    ]


def test_values_are_canonical_and_normalise_to_themselves() -> None:
    text = make_text(random.Random(1), 80)
    for signal in text_signals(text):
        signal_type = {
            "text_sha256": TextSha256Signal,
            "text_minhash": TextMinHashSignal,
            "text_shingles": TextShinglesSignal,
        }[signal.type]
        assert signal_type.normalize(signal.value) == signal.value
        assert signal_type.normalize(f"  {signal.value}\n") == signal.value
    assert TextSha256Signal.normalize("AB" * 32) == "ab" * 32


def test_minhash_value_is_stable() -> None:
    # Pinned: a change here breaks every banked text_minhash value.
    value = signal_value("the quick brown fox jumps over the lazy dog", "text_minhash")
    assert hashlib.sha256(value.encode()).hexdigest()[:16] == _PINNED_MINHASH_DIGEST


_PINNED_MINHASH_DIGEST = "2b91d4cc62dc9e90"

_MINHASH_OK = signal_value("one two three four five six", "text_minhash")
_SHINGLES_OK = signal_value("one two three four five six", "text_shingles")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("signal_type", "value"),
    [
        (TextSha256Signal, "abc"),
        (TextSha256Signal, "g" * 64),
        (TextSha256Signal, "a" * 65),
        (TextMinHashSignal, _MINHASH_OK[4:]),  # no prefix
        (TextMinHashSignal, "mh2:" + _MINHASH_OK[4:]),
        (TextMinHashSignal, "mh1:" + _b64(bytes(508))),  # 127 values
        (TextMinHashSignal, "mh1:" + _b64(bytes(516))),
        (TextMinHashSignal, "mh1:" + "!" * 684),
        (TextMinHashSignal, _MINHASH_OK[:-2] + "=="),  # padding bits / wrong length
        (TextMinHashSignal, "mh1:"),
        (TextShinglesSignal, "sh1:"),  # no shingles
        (TextShinglesSignal, "sh1:" + _b64(bytes(12))),  # not whole uint64s
        (TextShinglesSignal, "sh1:" + _b64(np.array([5, 3], dtype="<u8").tobytes())),  # unsorted
        (TextShinglesSignal, "sh1:" + _b64(np.array([3, 3], dtype="<u8").tobytes())),  # repeated
        (TextShinglesSignal, "sh1:" + _b64(bytes(8 * (MAX_SHINGLES + 1)))),  # too many
        (TextShinglesSignal, "sh1:AAAAAAAAAAA"),  # not base64
        (TextShinglesSignal, _MINHASH_OK),  # the wrong type's value
        (TextMinHashSignal, _SHINGLES_OK),
    ],
)
def test_malformed_values_are_invalid_signals(signal_type: type[SignalType], value: str) -> None:
    with pytest.raises(InvalidSignal) as raised:
        signal_type.normalize(value)
    assert raised.value.code == "invalid_signal"


def test_non_strings_are_invalid_signals() -> None:
    for signal_type in (TextSha256Signal, TextMinHashSignal, TextShinglesSignal):
        with pytest.raises(InvalidSignal):
            signal_type.normalize(None)  # type: ignore[arg-type]


def test_shingles_are_capped_at_the_first_distinct_ones() -> None:
    hashes = np.arange(MAX_SHINGLES + 10, 0, -1, dtype=np.uint64)  # all distinct, descending
    capped = capped_unique_shingles(hashes)
    assert len(capped) == MAX_SHINGLES
    assert capped[0] == 11 and capped[-1] == MAX_SHINGLES + 10  # the first ones in text order
    assert TextShinglesSignal.normalize(format_shingles(capped)) == format_shingles(capped)


# --- distances ---------------------------------------------------------------------------------


@pytest.mark.parametrize("language", sorted(VOCABULARY))
def test_edited_copies_are_near_and_unrelated_texts_far(language: str) -> None:
    rng = random.Random(f"near-{language}")
    threshold = TextMinHashSignal.default_threshold
    for _ in range(20):
        original = make_text(rng, 150, language)
        copy = edited(rng, original, 3, language)
        assert (
            TextMinHashSignal.distance(
                signal_value(original, "text_minhash"), signal_value(copy, "text_minhash")
            )
            <= threshold
        )
        other = make_text(rng, 150, language)
        assert (
            TextMinHashSignal.distance(
                signal_value(original, "text_minhash"), signal_value(other, "text_minhash")
            )
            >= 85
        )
    same = signal_value(original, "text_minhash")
    assert TextMinHashSignal.distance(same, same) == 0


def test_minhash_distance_grows_with_edits_and_tolerates_reordering() -> None:
    rng = random.Random("edits")
    original = make_text(rng, 300)
    base = signal_value(original, "text_minhash")
    medians = []
    for edits in (0, 2, 8, 30):
        distances = [
            TextMinHashSignal.distance(
                base, signal_value(edited(rng, original, edits), "text_minhash")
            )
            for _ in range(9)
        ]
        medians.append(sorted(distances)[4])
    assert medians[0] == 0 and medians == sorted(medians) and medians[-1] > 50
    sentences = original.split(". ")
    rng.shuffle(sentences)
    shuffled = signal_value(". ".join(sentences), "text_minhash")
    assert TextMinHashSignal.distance(base, shuffled) <= TextMinHashSignal.default_threshold


def test_an_excerpt_is_contained_but_far_in_jaccard() -> None:
    rng = random.Random("excerpt")
    book = make_text(rng, 5000)
    words = book.split()
    excerpt = " ".join(words[2000:2060])
    book_shingles = signal_value(book, "text_shingles")
    assert TextShinglesSignal.distance(signal_value(excerpt, "text_shingles"), book_shingles) == 0
    lightly_edited = edited(rng, excerpt, 1)
    assert (
        TextShinglesSignal.distance(signal_value(lightly_edited, "text_shingles"), book_shingles)
        <= TextShinglesSignal.default_threshold
    )
    # Containment is one-way: the book is not contained in the excerpt...
    assert TextShinglesSignal.distance(book_shingles, signal_value(excerpt, "text_shingles")) > 90
    # ...and in Jaccard terms the excerpt is nothing like the book (why containment exists).
    assert (
        TextMinHashSignal.distance(
            signal_value(excerpt, "text_minhash"), signal_value(book, "text_minhash")
        )
        > 90
    )
    unrelated = make_text(rng, 60)
    assert TextShinglesSignal.distance(signal_value(unrelated, "text_shingles"), book_shingles) > 50


def test_queries_too_short_for_containment_are_at_the_maximum_distance() -> None:
    words = make_text(random.Random("short"), 400).split()
    bank = signal_value(" ".join(words), "text_shingles")
    short = " ".join(words[100 : 100 + MIN_QUERY_SHINGLES + 3])  # MIN_QUERY_SHINGLES - 1 shingles
    long_enough = " ".join(words[100 : 100 + MIN_QUERY_SHINGLES + 4])
    assert TextShinglesSignal.distance(signal_value(short, "text_shingles"), bank) == 100
    assert TextShinglesSignal.distance(signal_value(long_enough, "text_shingles"), bank) == 0


# --- throughput (not a test: run this module as a script) -----------------------------------------


def posts_per_second(posts: int = 3000, words: int = 30) -> float:
    """``normalize_text`` + ``text_signals`` of generated ~30-word posts per second, one core."""
    rng = random.Random("bench")
    texts = [make_text(rng, words, rng.choice(sorted(VOCABULARY))) for _ in range(posts)]
    start = time.perf_counter()
    for text in texts:
        text_signals(text)
    return posts / (time.perf_counter() - start)


if __name__ == "__main__":
    print(f"text_signals: {posts_per_second():,.0f} posts of ~30 words per second")
