"""Listed names found inside posts, with offsets, and screening against a crowded list."""

from __future__ import annotations

import pytest

from bastion.errors import InvalidInput
from bastion.finance.name_index import MAX_TEXT_CHARS, NameIndex

LISTED = [
    "Abu Bakr al-Baghdadi",
    "Harakat al-Shabaab al-Mujahideen",
    "Hizballah",
    "Muhammad Yusuf",
    "Islamic State",
    "Boko Haram",
    "Al-Rashid Trust",
]


@pytest.fixture(scope="module")
def index() -> NameIndex:
    built = NameIndex()
    for number, name in enumerate(LISTED):
        built.add(number, 500 + number, name, kind="primary")
    built.add(99, 506, "Al Rasheed Trust", kind="alias")
    assert len(built) == len(LISTED) + 1
    return built


def found(index: NameIndex, text: str) -> list[tuple[str, str]]:
    """(listed name, the exact span of the text) of each match."""
    return [(m.listed_name, text[m.start or 0 : m.end or 0]) for m in index.find_in_text(text)]


def test_names_in_an_english_post_are_found_with_their_offsets(index: NameIndex) -> None:
    post = (
        "Send your zakat to the brothers of Harakat al-Shabaab al-Mujahideen today, "
        "as Sheikh Abu Bakr al-Baghdadi ordered."
    )
    assert found(index, post) == [
        ("Harakat al-Shabaab al-Mujahideen", "Harakat al-Shabaab al-Mujahideen"),
        ("Abu Bakr al-Baghdadi", "Abu Bakr al-Baghdadi"),
    ]


def test_names_in_an_arabic_post_are_found_with_their_offsets(index: NameIndex) -> None:
    post = "قال الشيخ أبو بكر البغدادي إن حركة الشباب المجاهدين تحتاج إلى دعمكم."
    assert found(index, post) == [
        ("Abu Bakr al-Baghdadi", "أبو بكر البغدادي"),
        ("Harakat al-Shabaab al-Mujahideen", "حركة الشباب المجاهدين"),
    ]


def test_a_cyrillic_post_and_a_one_word_organisation_are_found(index: NameIndex) -> None:
    post = "Перевод для Хизбалла и для Боко Харам, срочно."
    assert found(index, post) == [
        ("Hizballah", "Хизбалла"),
        ("Boko Haram", "Боко Харам"),
    ]


def test_each_match_is_explained_and_scored_against_the_threshold(index: NameIndex) -> None:
    [match] = index.find_in_text("Mohamed Yusuf will collect the money.", threshold=0.9)
    assert match.listed_name == "Muhammad Yusuf" and match.query == "Mohamed Yusuf"
    assert (match.start, match.end) == (0, 13)
    assert match.score >= 0.9 and "threshold 0.90" in match.explain_text()


def test_aliases_of_one_entity_are_reported_with_their_kind(index: NameIndex) -> None:
    matches = index.find_in_text("Give to Al Rashid Trust.")
    assert {(m.entity_id, m.kind) for m in matches} == {(506, "primary"), (506, "alias")}


@pytest.mark.parametrize(
    "text",
    [
        "Muhammad went to the market with his friend Yusuf.",  # words apart, not a name
        "The islamic community of the state met at noon.",  # common words
        "Baghdad is a city; Abu Dhabi is another.",
        "",
        "!!! ... ???",
        "\ud800\x00",
    ],
)
def test_texts_without_listed_names_find_nothing(index: NameIndex, text: str) -> None:
    assert index.find_in_text(text) == []


def test_an_oversized_text_is_refused_as_invalid_input(index: NameIndex) -> None:
    with pytest.raises(InvalidInput):
        index.find_in_text("word " * (MAX_TEXT_CHARS // 5 + 1))
    with pytest.raises(InvalidInput):
        index.find_in_text(b"bytes")  # type: ignore[arg-type]


def test_a_long_post_below_the_limit_is_scanned(index: NameIndex) -> None:
    filler = "news of the day and other words " * 3000
    post = filler + "Abu Bakr al-Baghdadi. " + filler
    [match] = index.find_in_text(post)
    assert post[match.start or 0 : match.end or 0] == "Abu Bakr al-Baghdadi"


def test_a_list_crowded_with_one_first_name_still_screens_precisely() -> None:
    crowded = NameIndex()
    # More holders of "Muhammad" and of "Ali" than the common-key limit: blocking skips those keys.
    for number in range(2500):
        crowded.add(number, number, f"Muhammad Ali Qadri{number:04d}")
    for number in range(2500, 5000):
        crowded.add(number, number, f"Muhammad Ali {chr(97 + number % 26)}zimov{number}")
    crowded.add(9001, 9001, "Muhammad Ali")
    crowded.add(9002, 9002, "Mohammed Zarqawi Ali")
    assert [m.name_id for m in crowded.screen("Muhammad Ali")] == [9001]
    assert crowded.screen("Zarqawi, Muhammad Ali")[0].name_id == 9002
    assert [m.name_id for m in crowded.screen("Muhammad Ali Qadri0042")] == [42]
