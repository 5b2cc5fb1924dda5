"""Names written in Latin, Arabic or Cyrillic script match the listed name, and decoys do not."""

from __future__ import annotations

import pytest

from bastion.errors import InvalidInput
from bastion.finance.name_index import NameIndex, NameMatch
from bastion.finance.names import NameForm, skeleton

# (listed name, how an analyst or a post writes it): people and organisations, across scripts.
CROSS_SCRIPT = [
    ("Abu Bakr al-Baghdadi", "أبو بكر البغدادي"),
    ("Abu Bakr al-Baghdadi", "Абу Бакр аль-Багдади"),
    ("أبو بكر البغدادي", "Abubakar Al Bagdadi"),
    ("Ayman al-Zawahiri", "أيمن الظواهري"),
    ("Ayman al-Zawahiri", "Айман аз-Завахири"),
    ("Hasan Nasrallah", "حسن نصر الله"),
    ("Hassan Nasrallah", "Хасан Насралла"),
    ("Harakat al-Shabaab al-Mujahideen", "حركة الشباب المجاهدين"),
    ("Al-Shabaab", "الشباب"),
    ("Al-Shabaab", "Аль-Шабааб"),
    ("Jabhat al-Nusra", "جبهة النصرة"),
    ("Jabhat al-Nusra", "Джабхат ан-Нусра"),
    ("Harakat al-Muqawama al-Islamiya", "حركة المقاومة الإسلامية"),
    ("Hizballah", "حزب الله"),
    ("Hezbollah", "Хезболла"),
    ("ad-Dawla al-Islamiya", "الدولة الإسلامية"),
    ("Ansar Allah", "أنصار الله"),
    ("Boko Haram", "بوكو حرام"),
    ("Boko Haram", "Боко Харам"),
    ("Tehrik-i-Taliban Pakistan", "تحریک طالبان پاکستان"),
    ("Muhammad Yusuf", "محمد يوسف"),
    ("Mohammed Yusuf", "Мухаммед Юсуф"),
    ("Khalid Sheikh Mohammed", "Халид Шейх Мухаммед"),
    ("Osama bin Laden", "أسامة بن لادن"),
    ("Usama bin Ladin", "Усама бен Ладен"),
    ("Abdul Rahman Yasin", "عبد الرحمن ياسين"),
    ("Abdurrahman Yasin", "Абдурахман Ясин"),
    ("Ibrahim Awad Ibrahim al-Badri", "إبراهيم عواد إبراهيم البدري"),
    ("Shamil Basayev", "Шамиль Басаев"),
    ("Dokka Umarov", "Доку Умаров"),
]


def names(matches: list[NameMatch]) -> list[str]:
    return [match.listed_name for match in matches]


@pytest.fixture(scope="module")
def sanctions() -> NameIndex:
    index = NameIndex()
    listed = [
        *sorted({listed for listed, _ in CROSS_SCRIPT}),
        "Muhammad Yusuf Ali",
        "Muhammad Yunus",
        "Ahmad Shah Massoud",
        "Al-Rashid Trust",
        "Islamic State",
    ]
    for number, name in enumerate(listed):
        schema = "Organization" if name in ("Al-Rashid Trust", "Islamic State") else "Person"
        index.add(number, 1000 + number, name, schema=schema)
    index.freeze()
    return index


@pytest.mark.parametrize(("listed", "written"), CROSS_SCRIPT)
def test_a_name_in_another_script_finds_the_listed_name(
    sanctions: NameIndex, listed: str, written: str
) -> None:
    matches = sanctions.screen(written)
    assert listed in [m.listed_name for m in matches]
    assert all(m.score >= 0.85 for m in matches)


@pytest.mark.parametrize(
    "spelling", ["Muhammad", "Mohammed", "Mohamed", "Mohammad", "محمد", "Мухаммед", "Muḥammad"]
)
def test_transliterations_of_muhammad_share_one_skeleton(spelling: str) -> None:
    assert skeleton(spelling) == "mhmd"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Abd al-Rahman", "Abdul Rahman"),
        ("Abdurrahman", "عبد الرحمن"),
        ("Abdullah", "Abd Allah"),
        ("Abdallah", "عبد الله"),
        ("Abou Hamza", "Abu Hamza"),
        ("el-Masri", "al-Masri"),
        ("Sheikh Yusuf", "Yusuf"),
        ("Dr. Ayman", "Ayman"),
        ("مُحَمَّد", "محمد"),  # harakat
        ("محـــمد", "محمد"),  # tatweel
        ("إبراهيم", "ابراهيم"),  # hamza on alef
    ],
)
def test_particles_titles_and_marks_normalise_to_the_same_tokens(first: str, second: str) -> None:
    def keys(name: str) -> list[str]:
        return [token.skeleton for token in NameForm.parse(name).tokens]

    assert keys(first) == keys(second)
    if first.isascii() and second.isascii():
        assert NameForm.parse(first).ascii == NameForm.parse(second).ascii


def test_legal_forms_are_weak_tokens_that_barely_change_the_score(sanctions: NameIndex) -> None:
    form = NameForm.parse("The Al-Rashid Trust Company Ltd")
    assert [t.text for t in form.strong] == ["rashid", "trust"]
    [match] = sanctions.screen("Al Rashid Trust Ltd")
    assert match.listed_name == "Al-Rashid Trust" and match.score >= 0.9


def test_given_and_family_name_swapped_still_match(sanctions: NameIndex) -> None:
    matches = sanctions.screen("al-Baghdadi, Abu Bakr")
    assert "Abu Bakr al-Baghdadi" in [m.listed_name for m in matches]
    assert min(m.score for m in matches) >= 0.95
    assert sanctions.screen("Nasrallah Hassan")[0].listed_name == "Hassan Nasrallah"


def test_one_letter_off_in_a_long_name_still_matches(sanctions: NameIndex) -> None:
    assert "Abu Bakr al-Baghdadi" in names(sanctions.screen("Abu Bakr al-Baghdadj"))
    assert names(sanctions.screen("Ayman al-Zawahri")) == ["Ayman al-Zawahiri"]
    assert names(sanctions.screen("Harakat al-Shabab al-Mujahidin")) == [
        "Harakat al-Shabaab al-Mujahideen"
    ]


@pytest.mark.parametrize(
    "decoy",
    [
        "Muhammad",  # a first name alone is not a listed person
        "محمد",
        "Muhammad Rahimi",  # another person sharing a common first name
        "Mohammed Hassan Ahmed",
        "Mahmoud Yusuf",  # same consonants as Muhammad, another name
        "محمود يوسف",
        "Ayman Nour",
        "Hasan Rouhani",
        "Islamic Relief",  # common words
        "The Company",
        "Abu Hamza",
    ],
)
def test_decoys_sharing_common_parts_do_not_match(sanctions: NameIndex, decoy: str) -> None:
    assert sanctions.screen(decoy) == []


def test_a_lone_first_name_scores_well_below_the_threshold(sanctions: NameIndex) -> None:
    scores = {m.listed_name: m.score for m in sanctions.screen("Muhammad", threshold=0.3)}
    assert max(scores.values()) <= 0.7
    assert scores["Muhammad Yusuf Ali"] == 0.5  # 2 of 4 token weights aligned


def test_the_threshold_is_honoured(sanctions: NameIndex) -> None:
    loose = sanctions.screen("Muhammad Yusuf Alim", threshold=0.5)
    strict = sanctions.screen("Muhammad Yusuf Alim", threshold=0.99)
    assert loose and all(m.score >= 0.5 for m in loose)
    assert all(m.score >= 0.99 for m in strict)
    assert len(strict) < len(loose)


def test_limit_and_schema_filter_the_results(sanctions: NameIndex) -> None:
    assert len(sanctions.screen("Muhammad Yusuf", threshold=0.3, limit=2)) == 2
    assert sanctions.screen("Al-Rashid Trust", schema="Person") == []
    assert sanctions.screen("Al-Rashid Trust", schema="Organization")[0].entity_id >= 1000


def test_the_explanation_names_tokens_scores_and_threshold(sanctions: NameIndex) -> None:
    matches = sanctions.screen("Mohamed Yusuf", threshold=0.9)
    assert {"Muhammad Yusuf", "Mohammed Yusuf"} <= set(names(matches))
    match = next(m for m in matches if m.listed_name == "Muhammad Yusuf")
    explanation = match.explanation
    pairs = {(a.query_token, a.listed_token): a for a in explanation.alignments}
    assert pairs[("mohamed", "muhammad")].query_skeleton == "mhmd"
    assert pairs[("yusuf", "yusuf")].similarity == 1.0
    assert explanation.threshold == 0.9 and "/" in explanation.formula
    text = match.explain_text()
    assert "'Mohamed Yusuf'" in text and "'Muhammad Yusuf'" in text
    assert "yusuf=yusuf 1.00" in text and "threshold 0.90" in text
    assert f"{match.score:.2f}" in text


def test_the_explanation_shows_what_was_left_unmatched(sanctions: NameIndex) -> None:
    scores = sanctions.screen("Muhammad Yusuf", threshold=0.5)
    longer = next(m for m in scores if m.listed_name == "Muhammad Yusuf Ali")
    assert [(u.token, u.side) for u in longer.explanation.unmatched] == [("ali", "listed")]
    assert "unmatched: listed 'ali'" in longer.explain_text()


def test_arabic_script_explanation_says_how_the_tokens_were_compared(
    sanctions: NameIndex,
) -> None:
    matches = sanctions.screen("محمد يوسف")
    match = next(m for m in matches if m.listed_name == "Muhammad Yusuf")
    assert match.score == 1.0
    assert "mhmd≈muhammad by consonant skeleton 1.00" in match.explain_text()


@pytest.mark.parametrize(
    "hostile",
    ["", "   ", "!!! ---", "\x00\x01\x02", "\ud800\udfff", "x" * 1_000_000, "ـــ", "\u200f\u200e"],
)
def test_unusable_names_raise_invalid_input_only(sanctions: NameIndex, hostile: str) -> None:
    with pytest.raises(InvalidInput):
        sanctions.screen(hostile)
    with pytest.raises(InvalidInput):
        NameIndex().add(1, 1, hostile)


def test_odd_but_usable_input_is_screened_without_error(sanctions: NameIndex) -> None:
    for odd in [
        "Abu\x00 Bakr\u200f al-Bagh\ud800dadi",  # control, bidi mark, lone surrogate
        "أبو Bakr Багдади",  # three scripts in one name
        "ABU BAKR AL-BAGHDADI!!!",
        "𝔸𝕓𝕦 𝔹𝕒𝕜𝕣 𝕒𝕝-𝔹𝕒𝕘𝕙𝕕𝕒𝕕𝕚",  # mathematical letters (NFKC)
        "Abu Bakr al-Bаghdаdi",  # Cyrillic а inside a Latin word
    ]:
        matches = sanctions.screen(odd)
        assert "Abu Bakr al-Baghdadi" in names(matches), odd


def test_bad_arguments_raise_invalid_input(sanctions: NameIndex) -> None:
    with pytest.raises(InvalidInput):
        sanctions.screen("Boko Haram", threshold=1.5)
    with pytest.raises(InvalidInput):
        sanctions.screen("Boko Haram", limit=0)
    with pytest.raises(InvalidInput):
        sanctions.screen(None)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        sanctions.add(99, 99, "Late Addition")  # frozen
