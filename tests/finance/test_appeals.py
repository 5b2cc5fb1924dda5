"""Donation-appeal wording in several languages: strong phrases alone, generic charity words only
in numbers, word boundaries, Arabic spelling variants and joined prefixes, offsets into the post."""

from __future__ import annotations

import pytest

from bastion.finance.appeals import find_appeal


@pytest.mark.parametrize(
    ("post", "language"),
    [
        ("Brothers, SUPPORT THE MUJAHIDEEN with whatever you can", "en"),
        ("إخوة الإسلام، ادعموا المجاهدين بما تستطيعون", "ar"),
        ("من جهّز غازيًا فقد غزا", "ar"),  # harakat written in
        ("وجهزوا غازيا في سبيل الله", "ar"),  # "and" joined to the verb
        ("Помогите муджахидам, братья", "ru"),
        ("Équipez un combattant aujourd'hui", "fr"),
        ("Ayo bantu mujahidin dengan harta kalian", "id"),
        ("Bağış yapın ve mücahitlere destek olun", "tr"),
        ("مجاہدین کی مدد کریں", "ur"),
    ],
)
def test_strong_wording_is_an_appeal(post: str, language: str) -> None:
    found = find_appeal(post)
    assert found.appeal and found.language == language
    for phrase in found.phrases:
        assert post[phrase.start : phrase.end] == phrase.text


def test_charity_words_alone_are_not_an_appeal() -> None:
    many = find_appeal("Donate to our food bank: zakat, sadaqah and donations all welcome")
    assert many.score > 0.5 and not many.appeal  # however many, they stay charity words
    assert 0 < find_appeal("Please donate to our food bank").score < 0.5
    assert find_appeal("Donate now and support the mujahideen").appeal


def test_words_inside_other_words_do_not_count() -> None:
    assert find_appeal("the undonated goods and donations-free zone").phrases[0].text == (
        "donations"
    )
    assert find_appeal("predonate antidonate").score == 0.0
    assert find_appeal("").score == 0.0


def test_a_phrase_inside_a_longer_one_counts_once() -> None:
    found = find_appeal("ادعموا المجاهدين")
    assert [p.phrase for p in found.phrases] == ["ادعموا المجاهدين"]
    assert found.score == pytest.approx(0.8)


def test_offsets_survive_invisible_characters_and_decorations() -> None:
    post = "🙏 Support\u200b the mujahideen 🙏"
    found = find_appeal(post)
    [phrase] = found.phrases
    assert post[phrase.start : phrase.end] == phrase.text and phrase.text.startswith("Support")
