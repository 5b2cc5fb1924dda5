"""The designated-entity matcher: what it finds, where, and what it must never find."""

# Test texts use Arabic, Urdu and Cyrillic on purpose.
# ruff: noqa: RUF001, RUF003

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.classify.entities import EntityHit, EntityMatcher, load_entity_file
from bastion.errors import ConfigurationError


@pytest.fixture(scope="module")
def matcher() -> EntityMatcher:
    return EntityMatcher.from_file()


def _found(matcher: EntityMatcher, text: str) -> list[tuple[str, str]]:
    """(entity id, the original text it covers) for each hit."""
    return [(hit.entity_id, text[hit.start : hit.end]) for hit in matcher.find(text)]


# --- the bundled list ------------------------------------------------------------------------


def test_bundled_list_loads_and_covers_the_required_entities(matcher: EntityMatcher) -> None:
    data = load_entity_file()
    assert data.version == "2026.11.30" and data.schema_ == 1
    ids = {entity.id for entity in matcher.entities}
    required = {
        "isil", "isil-khorasan", "iswap", "al-qaida", "aqap", "aqim", "al-shabaab", "boko-haram",
        "hayat-tahrir-al-sham", "hamas", "hizballah", "lashkar-e-tayyiba", "jaish-e-mohammed",
        "tehrik-i-taliban-pakistan", "jnim", "the-base", "atomwaffen-division", "national-action",
        "sonnenkrieg-division", "feuerkrieg-division", "russian-imperial-movement",
        "nordic-resistance-movement", "pkk", "abu-sayyaf-group", "jemaah-islamiyah",
        "jamaah-ansharut-daulah", "amaq-news-agency", "al-hayat-media-center", "al-furqan-media",
        "al-naba", "dabiq", "rumiyah", "voice-of-khurasan", "inspire-magazine", "as-sahab",
        "al-malahem-media", "al-kataib-media", "ebaa-news-agency", "nashir-news-agency",
        "slogan-baqiya-wa-tatamadad",
    }  # fmt: skip
    assert required <= ids


def test_generic_religious_phrases_are_never_aliases(matcher: EntityMatcher) -> None:
    text = "Allahu akbar. لا إله إلا الله محمد رسول الله. Bismillah, inshallah. الله أكبر"
    assert matcher.find(text) == []


# --- scripts and offsets ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "entity", "covered"),
    [
        ("Reports say Daesh claimed it.", "isil", "Daesh"),
        ("أعلنت داعش مسؤوليتها عن الهجوم", "isil", "داعش"),
        ("Пресс-служба ИГИЛ сообщила об атаке", "isil", "ИГИЛ"),
        ("حکام نے لشکر طیبہ کے خلاف کارروائی کی", "lashkar-e-tayyiba", "لشکر طیبہ"),
        ("पुलिस ने जैश-ए-मोहम्मद के दो सदस्य पकड़े", "jaish-e-mohammed", "जैश-ए-मोहम्मद"),
        ("Le groupe État islamique a revendiqué", "isil", "État islamique"),
        ("Polisi menangkap anggota Jamaah Ansharut Daulah di Jawa", "jamaah-ansharut-daulah",
         "Jamaah Ansharut Daulah"),
    ],
)  # fmt: skip
def test_aliases_in_each_script_are_found_with_original_offsets(
    matcher: EntityMatcher, text: str, entity: str, covered: str
) -> None:
    [hit] = matcher.find(text)
    assert hit.entity_id == entity
    assert (hit.start, hit.end) == (text.index(covered), text.index(covered) + len(covered))


def test_disguised_aliases_are_found_and_offsets_cover_the_disguise(matcher: EntityMatcher) -> None:
    tatweel = "بيان من وكالة أعـــمـــاق اليوم"  # tatweel stretches inside the name
    harakat = "بيان من وَكالَةُ أَعْماق اليوم"  # vowel marks on the letters
    zero_width = "watch the Da\u200besh\u200d video"  # zero-width space and joiner inside
    lookalike = "new jihаdi video from Dаbiq"  # Cyrillic а (U+0430) disguised as Latin a
    decomposed = "E\u0301tat islamique revendique"  # e + combining acute accent
    cases = [
        (tatweel, "amaq-news-agency", "وكالة أعـــمـــاق"),
        (harakat, "amaq-news-agency", "وَكالَةُ أَعْماق"),
        (zero_width, "isil", "Da\u200besh"),
        (lookalike, "dabiq", "Dаbiq"),
        (decomposed, "isil", "E\u0301tat islamique"),
    ]
    for text, entity, covered in cases:
        assert _found(matcher, text) == [(entity, covered)], text


def test_fullwidth_and_ligature_forms_map_back_to_their_characters(matcher: EntityMatcher) -> None:
    fullwidth = "ＤＡＥＳＨ claims"  # NFKC folds fullwidth letters
    assert _found(matcher, fullwidth) == [("isil", "ＤＡＥＳＨ")]
    strasse = "Die Straße und Daesh"  # ß expands to two characters before the hit
    assert _found(matcher, strasse) == [("isil", "Daesh")]


def test_hit_carries_the_entry_and_its_designations(matcher: EntityMatcher) -> None:
    [hit] = matcher.find("Amaq News Agency said")
    assert isinstance(hit, EntityHit)
    assert (hit.kind, hit.parent, hit.matched_alias) == (
        "media_outlet",
        "isil",
        "Amaq News Agency",
    )
    assert hit.tvec == ("tvec1",)
    assert hit.designations_inherited
    assert ("UN", "QDe.115") in {(d.list, d.reference) for d in hit.designations}
    [org] = matcher.find("Boko Haram fighters")
    assert not org.designations_inherited
    assert {d.list for d in org.designations} == {"UN", "US-FTO", "UK"}


# --- word boundaries, acronyms, overlaps --------------------------------------------------------


def test_names_inside_longer_words_do_not_match(matcher: EntityMatcher) -> None:
    assert matcher.find("Hamasaki and Dabiqville and Daeshboard") == []
    assert matcher.find("the amaqiya festival") == []
    # punctuation around a name is a boundary
    assert _found(matcher, "#Daesh!") == [("isil", "Daesh")]


def test_the_english_word_is_never_matches_isis(matcher: EntityMatcher) -> None:
    assert matcher.find("This is what it is: is it?") == []
    assert matcher.find("THIS IS NOT A DRILL, IS IT CLEAR?") == []  # shouting: case means nothing
    assert matcher.find("Let me know. Jim and Ji went out.") == []
    assert matcher.find("ISLAND") == []
    assert _found(matcher, "Fighters loyal to IS took the town") == [("isil", "IS")]
    assert _found(matcher, "Police said LeT and JeM cells were active") == [
        ("lashkar-e-tayyiba", "LeT"),
        ("jaish-e-mohammed", "JeM"),
    ]


def test_exact_case_phrases(matcher: EntityMatcher) -> None:
    assert matcher.find("the base of the tower") == []
    assert _found(matcher, "members of The Base were arrested") == [("the-base", "The Base")]


def test_longest_alias_wins_and_adjacent_names_are_all_reported(matcher: EntityMatcher) -> None:
    text = "Islamic State Khorasan Province and al-Qaeda in the Arabian Peninsula"
    assert _found(matcher, text) == [
        ("isil-khorasan", "Islamic State Khorasan Province"),
        ("aqap", "al-Qaeda in the Arabian Peninsula"),
    ]
    assert _found(matcher, "ISIS Daesh ISIL") == [
        ("isil", "ISIS"),
        ("isil", "Daesh"),
        ("isil", "ISIL"),
    ]
    assert _found(matcher, "IS-K claimed it") == [("isil-khorasan", "IS-K")]


def test_slogans(matcher: EntityMatcher) -> None:
    assert _found(matcher, "Baqiya wa tatamadad!!") == [
        ("slogan-baqiya-wa-tatamadad", "Baqiya wa tatamadad")
    ]
    assert _found(matcher, "الدولة باقية وتتمدد") == [
        ("slogan-baqiya-wa-tatamadad", "باقية وتتمدد")
    ]


NEWS_WITHOUT_ENTITIES = [
    "The central bank held interest rates steady on Thursday, citing slowing inflation.",
    "Heavy rain caused flooding across the region; schools were closed as a precaution.",
    "The base rate is what it is, the minister said, and it is not going to change.",
    "Le gouvernement a présenté jeudi son projet de loi de finances pour l'année prochaine.",
    "Die Regierung hat am Donnerstag den Haushaltsentwurf für das kommende Jahr vorgestellt.",
    "أعلنت الحكومة عن خطة جديدة لدعم الشباب في سوق العمل هذا العام.",
    "قاعدة البيانات الجديدة تضم معلومات عن المدارس في المدينة.",
    "حکومت نے نوجوانوں کے لیے نئی اسکیم کا اعلان کیا ہے۔",
    "Правительство представило новый бюджет на следующий год.",
    "सरकार ने अगले साल के लिए नया बजट पेश किया।",
    "Pemerintah mengumumkan anggaran baru untuk tahun depan.",
    "Let's meet at the bus station; the island ferry leaves at noon.",
    "Fans celebrated as the national team inspired a comeback in the final minutes.",
]


@pytest.mark.parametrize("text", NEWS_WITHOUT_ENTITIES)
def test_news_that_names_no_entity_yields_nothing(matcher: EntityMatcher, text: str) -> None:
    assert matcher.find(text) == []


def test_empty_and_odd_input(matcher: EntityMatcher) -> None:
    assert matcher.find("") == []
    assert matcher.find("   \n\t ") == []
    assert matcher.find("🙂🙂 123 !!!") == []
    assert _found(matcher, "🙂Daesh🙂") == [("isil", "Daesh")]


# --- malformed files -----------------------------------------------------------------------------


def _write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "entities.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document), "utf-8")
    return path


def _entry(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": "example-group",
        "kind": "organisation",
        "name": "Example Group",
        "aliases": ["Example Group"],
        "parent": None,
        "designations": [],
        "sources": [],
        "tvec": [],
        "notes": "",
    }
    entry.update(overrides)
    return entry


def _document(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"schema": 1, "version": "2026.11.30", "entries": list(entries)}


def test_a_small_valid_file_loads_and_matches(tmp_path: Path) -> None:
    matcher = EntityMatcher.from_file(_write(tmp_path, _document(_entry())))
    assert matcher.version == "2026.11.30"
    assert _found(matcher, "the example group met") == [("example-group", "example group")]


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        ("{not json", "invalid JSON"),
        ({"schema": 1, "version": "2026.11.30"}, "entries"),
        ({"schema": 2, "version": "2026.11.30", "entries": []}, "schema 2"),
        (_document(_entry(kind="militia")), "kind"),
        (_document(_entry(aliases=[])), "aliases"),
        (_document(_entry(aliases=["EG"])), "case_sensitive_acronym"),
        (_document(_entry(aliases=["!!!"])), "punctuation"),
        (_document(_entry(), _entry()), "duplicate id"),
        (_document(_entry(kind="slogan", parent="nobody")), "parent"),
        (_document(_entry(tvec=["tvec9"])), "TVEC"),
        (_document(_entry(designations=[{"list": "XX", "date": "2020"}])), "list"),
        (_document(_entry(designations=[{"list": "UN", "date": "May 2020"}])), "date"),
        (_document(_entry(colour="red")), "colour"),
    ],
)
def test_malformed_files_are_a_clear_configuration_error(
    tmp_path: Path, document: Any, complaint: str
) -> None:
    path = _write(tmp_path, document)
    with pytest.raises(ConfigurationError) as caught:
        EntityMatcher.from_file(path)
    assert complaint in caught.value.detail
    assert str(path) in caught.value.detail


def test_a_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot be read"):
        load_entity_file(tmp_path / "absent.json")


_NOISE = st.text(
    alphabet=st.sampled_from(list("ab Zé-'’.,!?\n\u0301\u064e\u0640\u200bداعشیہ🙂ＡДа१ß")),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(before=_NOISE, after=_NOISE, disguise=st.sampled_from(["Daesh", "DA\u200bESH", "daesh"]))
def test_offsets_point_at_the_name_whatever_surrounds_it(
    matcher: EntityMatcher, before: str, after: str, disguise: str
) -> None:
    text = f"{before} {disguise} {after}"
    start = len(before) + 1
    assert ("isil", disguise) in _found(matcher, text)
    assert any(
        hit.start == start and hit.end == start + len(disguise) for hit in matcher.find(text)
    )
