"""Folding look-alikes to ASCII, and mapping offsets back to the original text."""

from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st

from bastion.finance.fold import fold_text

ZWSP = "\u200b"


def test_ascii_text_is_returned_as_is() -> None:
    folded = fold_text("send 1A1z to me")
    assert folded.text == "send 1A1z to me"
    assert folded.changed == []
    assert not folded.was_folded(0, 4)


def test_cyrillic_greek_and_armenian_lookalikes_fold() -> None:
    # Cyrillic a e o p c x y, capitals B M T H K; Greek Omicron and Iota; Armenian oh
    text = (
        "\u0430\u0435\u043e\u0440\u0441\u0445\u0443 \u0412\u041c\u0422\u041d\u041a"
        " \u039f\u0399 \u0585"
    )
    assert fold_text(text).text == "aeopcxy BMTHK OI o"


def test_full_width_mathematical_and_other_script_digits_fold() -> None:
    full_width = "\uff21\uff22\uff23\uff11\uff12\uff13"  # ＡＢＣ１２３
    mathematical = "\U0001d7cf\U0001d400"  # bold 1, bold A
    arabic_indic = "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669"
    persian = "\u06f0\u06f1\u06f2\u06f3\u06f4\u06f5\u06f6\u06f7\u06f8\u06f9"
    devanagari = "\u0967\u0968"
    folded = fold_text(f"{full_width} {mathematical} {arabic_indic} {persian} {devanagari}")
    assert folded.text == "ABC123 1A 0123456789 0123456789 12"


def test_invisible_characters_are_removed_and_offsets_map_back() -> None:
    invisible = "\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u202a\u202c\u2066\u2069\u00ad"
    text = f"{ZWSP}ab{invisible}cd{ZWSP}"
    folded = fold_text(text)
    assert folded.text == "abcd"
    assert [folded.to_original(i) for i in range(4)] == [1, 2, 15, 16]
    # A span keeps the invisible characters inside it, not those after it.
    assert folded.original_span(0, 4) == (1, 17)
    assert text[1:17].replace(ZWSP, "").startswith("ab")
    assert folded.was_folded(0, 4)
    assert not folded.was_folded(0, 2)


def test_changed_lists_original_spans() -> None:
    text = "ab\u0441d\u200b\u200be"
    assert fold_text(text).changed == [(2, 3), (4, 6)]


def test_arabic_and_russian_words_keep_their_other_letters() -> None:
    text = "\u0645\u0631\u062d\u0628\u0430 \u043f\u0440\u0438\u0432\u0435\u0442"  # Arabic, Russian
    folded = fold_text(text).text
    assert "\u0645\u0631\u062d\u0628" in folded
    assert "\u043f" in folded and "\u0438" in folded and "\u0432" in folded


def test_folding_is_fast() -> None:
    text = "Привет мир, отправьте пожертвование. مرحبا بالعالم hello world " * 40_000
    started = time.perf_counter()
    fold_text(text)
    assert time.perf_counter() - started < 2.0


@given(st.text())
def test_offsets_always_map_into_the_original(text: str) -> None:
    folded = fold_text(text)
    previous = -1
    for index in range(len(folded.text)):
        original = folded.to_original(index)
        assert previous < original < len(text)
        previous = original
    begin, end = folded.original_span(0, len(folded.text))
    assert 0 <= begin <= end <= len(text)
