"""Text normalisation: every rule, idempotence, and the stable shingle hashes."""

# Look-alike characters are the subject of these tests.
# ruff: noqa: RUF001, RUF003

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.signals.text_normalize import (
    normalize_text,
    normalized_tokens,
    shingle_array,
    shingles,
)


def test_case_folding_and_compatibility_forms() -> None:
    assert normalize_text("Straße STRASSE") == "strasse strasse"
    assert normalize_text("ＦＵＬＬ　ｗｉｄｔｈ") == "full width"
    assert normalize_text("𝐁𝐨𝐥𝐝 𝕯𝖔𝖚𝖇𝖑𝖊") == "bold double"
    assert normalize_text("ﬁnal ①") == "final 1"


def test_whitespace_collapses_and_punctuation_becomes_space() -> None:
    assert normalize_text("  Hello,\tworld!\n\n  Again…  ") == "hello world again"
    assert normalize_text("«quoted» “curly” 'single' — dash – en-dash") == (
        "quoted curly single dash en dash"
    )
    # Apostrophes split words, whichever apostrophe was typed.
    assert normalize_text("don't") == normalize_text("don’t") == normalize_text("donʼt") == "don t"
    assert normalize_text("al-Qaeda al_qaeda") == "al qaeda al qaeda"
    assert normalize_text("$100 + 5 = 105%") == "100 5 105"
    assert normalize_text("!!! ... ???") == ""


def test_emoji_become_tokens_of_their_own() -> None:
    assert normalize_text("fire🔥now") == "fire 🔥 now"
    assert normalized_tokens("☝️victory") == ["☝", "victory"]  # the variation selector goes


def test_invisible_characters_are_removed_inside_words() -> None:
    hidden = "ji\u200bh\u200ca\u200dd \u202ejihad\u202c \u2066jihad\u2069 ji\u00adhad \ufeffjihad"
    assert normalize_text(hidden) == "jihad jihad jihad jihad jihad"
    assert normalize_text("ji\u2060had\u200e\u200f") == "jihad"


def test_arabic_spelling_variants_meet() -> None:
    # Alef forms, with and without hamza/madda/wasla.
    assert len({normalize_text(w) for w in ("إسلام", "أسلام", "اسلام", "آسلام", "ٱسلام")}) == 1
    # Teh marbuta and heh; alef maqsura and yeh; hamza on waw and yeh.
    assert normalize_text("مدرسة") == normalize_text("مدرسه")
    assert normalize_text("على") == normalize_text("علي")
    assert normalize_text("مؤمن") == normalize_text("مومن")
    assert normalize_text("رئيس") == normalize_text("رييس")
    # Harakat, superscript alef, tatweel and Quranic marks disappear.
    assert normalize_text("مُحَمَّدٌ") == normalize_text("محـــــمد") == "محمد"
    assert normalize_text("رَحْمٰن") == "رحمن"
    assert normalize_text("الله\u06d6") == "الله"
    # Persian/Urdu letters fold to the Arabic ones.
    assert normalize_text("کتاب") == normalize_text("كتاب")
    assert normalize_text("ایران") == normalize_text("ايران") == normalize_text("ایرانى")[:-1]
    assert normalize_text("ۀ ہ ھ") == "ه ه ه"
    # Presentation forms (NFKC) meet the ordinary letters.
    assert normalize_text("\ufefb") == normalize_text("لا")


def test_arabic_punctuation_becomes_space() -> None:
    assert normalize_text("نعم،لا؛ماذا؟") == "نعم لا ماذا"


def test_digits_of_every_script_become_ascii() -> None:
    assert normalize_text("٠١٢٣٤٥٦٧٨٩") == "0123456789"
    assert normalize_text("۰۱۲۳۴۵۶۷۸۹") == "0123456789"
    assert normalize_text("०१२३४५६७८९") == "0123456789"
    assert normalize_text("Ⅻ ²") == "xii 2"


def test_devanagari_nukta_is_dropped() -> None:
    precomposed, decomposed, plain = "\u095bमीन", "\u091c\u093cमीन", "\u091cमीन"
    assert normalize_text(precomposed) == normalize_text(decomposed) == normalize_text(plain)
    assert normalize_text("\u0929") == "\u0928"
    # Everything else in Devanagari is kept as it is.
    assert normalize_text("नमस्ते दुनिया") == "नमस्ते दुनिया"


def test_latin_words_with_cyrillic_or_greek_look_alikes_become_latin() -> None:
    assert normalize_text("jih\u0430d") == "jihad"  # Cyrillic а
    assert normalize_text("\u0441\u0430liphate") == "caliphate"  # Cyrillic с and а
    assert normalize_text("JIH\u0410D") == "jihad"  # capital Cyrillic А
    assert normalize_text("t\u03bfwer") == "tower"  # Greek ο
    assert normalize_text("ВОMBS") == "bombs"  # capitals by shape: В -> b, О -> o


def test_russian_and_greek_text_is_only_lower_cased() -> None:
    russian = "Террор — это Насилие, и Мы против него."
    assert normalize_text(russian) == "террор это насилие и мы против него"
    assert normalize_text("Ещё раз: СССР") == "ещё раз ссср"
    assert normalize_text("Καλημέρα κόσμε") == "καλημέρα κόσμε"
    # A Cyrillic word disguised with Latin look-alikes becomes Cyrillic.
    assert normalize_text("теppор") == "террор"


def test_mixed_words_without_look_alikes_are_left_alone() -> None:
    # ж has no Latin look-alike; the word is not folded either way.
    assert normalize_text("abcж") == "abcж"
    assert normalize_text("жжжq") == "жжжq"
    # ...but a mostly Cyrillic word with a Latin look-alike gets the Cyrillic letter.
    assert normalize_text("жжжa") == "жжж\u0430"


def test_accents_are_kept() -> None:
    assert normalize_text("Élève café") == "élève café"
    assert normalize_text("cafe\u0301") == "café"  # NFKC composes


@settings(max_examples=800, deadline=None)
@given(st.text())
def test_normalisation_is_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


_TRICKY = [
    *"abcopxyhkmt еорсхувнмтк αοιρ ѕіј",
    *"\u0301\u0308\u0306\u0654\u064e\u0670\u093c\u200b\u202e\ufe0f-'",
    *"ßİﬁǅΩς ا ج ز ْ",
    "\u1e97",
]


@settings(max_examples=800, deadline=None)
@given(st.lists(st.sampled_from(_TRICKY), max_size=14).map("".join))
def test_normalisation_is_idempotent_on_tricky_mixtures(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


def test_tokens_are_the_words_of_the_normalised_text() -> None:
    assert normalized_tokens("  One, TWO;three  ") == ["one", "two", "three"]
    assert normalized_tokens("...") == []


def test_shingles_are_stable_64_bit_hashes() -> None:
    # Pinned: these values are part of the stored text_minhash/text_shingles formats.
    assert shingles(["a", "b", "c", "d", "e", "f"]) == [350715243023732662, 7063894519516329304]
    assert shingles(["a"]) == [14958307749384151613]
    values = shingles(["the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"])
    assert len(values) == 5 and all(0 <= v < 2**64 for v in values)


def test_short_texts_are_one_shingle_and_order_matters() -> None:
    assert len(shingles(["one", "two", "three"])) == 1
    assert shingles(["one", "two", "three"]) != shingles(["three", "two", "one"])
    assert shingles([]) == []
    assert len(shingles(list("abcdef"), size=3)) == 4
    assert shingle_array(list("abcdef")).tolist() == shingles(list("abcdef"))
    with pytest.raises(ValueError, match="at least 1"):
        shingles(["a"], size=0)
