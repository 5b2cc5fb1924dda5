"""Offline language identification on short posts."""

# The sample sentences are in many scripts on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import socket
from typing import Any

import pytest

from bastion.classify import langid
from bastion.classify.langid import LanguageGuess, detect_language, script_of

# Ordinary posts of 10-30 words, written for these tests (no TVEC content needed to test language).
SENTENCES = [
    ("en", "The city council met on Tuesday to discuss the new budget for schools and public "
           "transport in the coming year."),
    ("en", "Please remember to bring your passport and a printed copy of the booking when you "
           "check in at the airport."),
    ("ar", "اجتمع مجلس المدينة يوم الثلاثاء لمناقشة الميزانية الجديدة للمدارس والنقل العام في "
           "العام المقبل."),
    ("ar", "شاهدت المباراة الليلة الماضية مع أخي ولم نصدق كيف لعب الدفاع بشكل سيء للغاية."),
    ("fr", "Le conseil municipal s'est réuni mardi pour discuter du nouveau budget des écoles et "
           "des transports publics."),
    ("fr", "J'ai regardé le match hier soir avec mon frère et nous n'arrivions pas à croire à quel "
           "point la défense a mal joué."),
    ("de", "Der Stadtrat hat sich am Dienstag getroffen, um den neuen Haushalt für Schulen und den "
           "öffentlichen Nahverkehr zu besprechen."),
    ("de", "Bitte denken Sie daran, Ihren Reisepass und eine ausgedruckte Kopie der Buchung zum "
           "Flughafen mitzubringen."),
    ("ru", "Городской совет собрался во вторник, чтобы обсудить новый бюджет для школ и "
           "общественного транспорта."),
    ("ru", "Вчера вечером я смотрел матч с братом, и мы не могли поверить, как плохо играла "
           "защита."),
    ("ur", "شہر کی کونسل نے منگل کو اسکولوں اور پبلک ٹرانسپورٹ کے نئے بجٹ پر بات کرنے کے لیے "
           "اجلاس کیا۔"),
    ("ur", "میں نے کل رات اپنے بھائی کے ساتھ میچ دیکھا اور ہمیں یقین نہیں آیا کہ دفاع نے کتنا "
           "برا کھیلا۔"),
    ("hi", "नगर परिषद ने मंगलवार को स्कूलों और सार्वजनिक परिवहन के नए बजट पर चर्चा करने के "
           "लिए बैठक की।"),
    ("hi", "मैंने कल रात अपने भाई के साथ मैच देखा और हमें विश्वास नहीं हुआ कि रक्षा पंक्ति ने "
           "कितना खराब खेला।"),
    ("id", "Dewan kota bertemu pada hari Selasa untuk membahas anggaran baru untuk sekolah dan "
           "transportasi umum tahun depan."),
    ("id", "Saya menonton pertandingan tadi malam bersama kakak saya dan kami tidak percaya "
           "betapa buruknya pertahanan bermain."),
    ("ms", "Majlis bandaraya bermesyuarat pada hari Selasa untuk membincangkan belanjawan baharu "
           "bagi sekolah dan pengangkutan awam."),
    ("fa", "شورای شهر روز سه‌شنبه برای بررسی بودجه جدید مدارس و حمل و نقل عمومی تشکیل جلسه داد."),
    ("fa", "دیشب با برادرم مسابقه را تماشا کردم و باورمان نمی‌شد که دفاع چقدر بد بازی کرد."),
    ("es", "Anoche vi el partido con mi hermano y no podíamos creer lo mal que jugó la defensa."),
    ("en", "new video out tonight, share it before they take it down again"),
    ("ar", "نشر الفيديو الجديد الليلة شاركوه قبل أن يحذفوه مرة أخرى"),
    ("ru", "новое видео сегодня вечером, делитесь пока его снова не удалили"),
    ("ur", "آج رات نئی ویڈیو آئی ہے، ہٹائے جانے سے پہلے شیئر کریں"),
    ("hi", "आज रात नया वीडियो आया है, हटाए जाने से पहले शेयर करें"),
    ("id", "video baru malam ini, bagikan sebelum mereka menghapusnya lagi"),
]  # fmt: skip

SCRIPTS = {
    "en": "Latin", "fr": "Latin", "de": "Latin", "es": "Latin", "id": "Latin", "ms": "Latin",
    "ar": "Arabic", "ur": "Arabic", "fa": "Arabic", "ru": "Cyrillic", "hi": "Devanagari",
}  # fmt: skip


@pytest.mark.parametrize(("language", "text"), SENTENCES)
def test_short_posts_in_each_language(language: str, text: str) -> None:
    guess = detect_language(text)
    expected = "id" if language == "ms" else language  # one code for Indonesian and Malay
    assert guess.code == expected
    assert guess.script == SCRIPTS[language]
    assert not guess.romanised
    assert guess.candidates[0][0] == expected
    assert 0.0 < guess.confidence <= 1.0


def test_candidates_are_best_first_and_use_two_letter_codes() -> None:
    guess = detect_language("Wo ist das Treffen morgen, und wer kommt noch mit uns dahin?")
    scores = [score for _, score in guess.candidates]
    assert scores == sorted(scores, reverse=True)
    assert all(code != "ms" for code, _ in guess.candidates)


def test_arabic_script_letters_break_ties_between_urdu_persian_and_arabic() -> None:
    # Short phrases on which the model alone is unsure; the Urdu letters ے and ں decide.
    assert detect_language("کل میٹنگ کہاں ہے").code == "ur"
    assert detect_language("وہ اس کی قیمت چکائیں گے").code == "ur"
    assert detect_language("جلسه فردا کجاست دوستان").code == "fa"
    assert detect_language("سوف يدفعون الثمن غالية").code == "ar"


@pytest.mark.parametrize(
    ("text", "code", "candidates"),
    [
        ("inshallah bhai jihad ke liye", "und", {"ur", "hi"}),
        ("kya haal hai bhai, sab theek hai?", "und", {"ur", "hi"}),
        ("yalla akhi wallah", "ar", {"ar"}),
        ("ana 3arabi w enta? khalas", "ar", {"ar"}),
    ],
)
def test_romanised_urdu_hindi_and_arabic_are_flagged(
    text: str, code: str, candidates: set[str]
) -> None:
    guess = detect_language(text)
    assert guess.script == "Latin" and guess.romanised
    assert guess.code == code
    assert candidates <= {candidate for candidate, _ in guess.candidates}


@pytest.mark.parametrize(
    "text",
    [
        "Pergi ke pasar dengan ibu dan adik",  # Indonesian "ke" is not romanised Hindi
        "Ana y María van a la playa este fin de semana",  # a name, not Arabizi
        "The meeting is at the community centre on Friday evening",
    ],
)
def test_latin_languages_with_lookalike_words_are_not_romanised(text: str) -> None:
    assert not detect_language(text).romanised


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("", "none"),
        ("   \n\t ", "none"),
        ("12345 678 90", "none"),
        ("🙂🙂🔥🔥 !!!", "none"),
        ("ok", "Latin"),
        ("ISIS", "Latin"),
        ("داعش", "Arabic"),
        ("https://example.org/a/very/long/path @someone #tag", "none"),
    ],
)
def test_empty_short_and_symbol_only_input_is_undetermined(text: str, script: str) -> None:
    guess = detect_language(text)
    assert guess == LanguageGuess("und", 0.0, script, False, [])


def test_emoji_and_links_do_not_change_the_language() -> None:
    text = "🔥🔥 Der Stadtrat hat heute den neuen Haushalt beschlossen https://example.org/x 🔥"
    assert detect_language(text).code == "de"


def test_mixed_script_text_reports_the_majority_script() -> None:
    script, counts = script_of("Breaking: مجلس المدينة يناقش الميزانية الجديدة اليوم")
    assert script == "Arabic"
    assert counts["Latin"] == len("Breaking") and counts["Arabic"] > counts["Latin"]
    assert script_of("Ελληνικά γράμματα")[0] == "other"


def test_detection_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("language identification tried to open a network connection")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    langid._detector.cache_clear()  # load the model again, with the network cut
    try:
        assert detect_language("Bitte bringen Sie morgen Ihren Reisepass mit.").code == "de"
        assert detect_language("اجتمع مجلس المدينة يوم الثلاثاء").code == "ar"
    finally:
        langid._detector.cache_clear()


def test_romanised_candidates_are_best_first() -> None:
    guess = detect_language("kya haal hai bhai, sab theek hai?")
    scores = [score for _, score in guess.candidates]
    assert scores == sorted(scores, reverse=True)
