"""Issue 5's "Done when", end to end through ``Scanner.scan_text`` (SQLite and PostgreSQL).

In each of the eight languages (en, ar, fr, de, ru, ur, hi, id) a post that names a designated
group's media outlet as propaganda, links a banked URL, quotes a banked manifesto or calls for
attacks is flagged with the right category and reasons; a news report and counter-speech about the
same events, naming the same outlet, are not. Then: training on new labels changes what the scanner
flags, and the evaluation shows it.

The posts are hand-written for these tests (not in the training file) and deliberately generic:
no real people, places or operational detail. The starter model serves, through the cascade
(``cascade.py``) as it does by default.
"""

# ruff: noqa: RUF001 -- the posts are Cyrillic and Urdu text on purpose

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bastion.banks.from_media import entries_from_extraction
from bastion.banks.records import NewEntry
from bastion.classify.classifier import Classifier
from bastion.classify.embeddings import HashingEmbedder
from bastion.classify.evaluation import evaluate_model, train_and_evaluate
from bastion.classify.models import DEFAULT_NAME, ModelStore
from bastion.classify.training import examples_from_records, load_examples
from bastion.runtime import Bastion
from bastion.signals.extract import text_extraction

LINK_DOMAIN = "caliphate-files.example"
MANIFESTO_SEED = 5


@dataclass(frozen=True)
class Posts:
    outlet: str  # names a media outlet in a propaganda context
    link: str  # {url} is replaced by a link under the banked domain
    quote: str  # a lead-in; the manifesto excerpt follows
    attack: str  # calls for attacks
    news: str  # a news report naming the same outlet
    counter: str  # counter-speech naming the same outlet


POSTS: dict[str, Posts] = {
    "en": Posts(
        outlet="Amaq has published the new release: the lions of the caliphate in full HD. "
        "Download it and spread it on every channel before they delete it.",
        link="Brothers, everything you need to come and join the soldiers is here: {url} "
        "pass it on quietly",
        quote="Read the founder's words and live by them:",
        attack="The time for words is over. Every brother who can must go out and strike the "
        "unbelievers in their streets and markets, kill them wherever you find them.",
        news="Police said on Tuesday that a statement carried by Amaq claimed the attack; "
        "investigators are still checking whether the claim is genuine, the agency reported.",
        counter="Amaq videos are lies made to lure lonely teenagers. Do not share them, report "
        "them, and talk to your children about how these groups manipulate people.",
    ),
    "fr": Posts(
        outlet="Amaq vient de publier la nouvelle production : les lions du califat en HD. "
        "Téléchargez-la et diffusez-la partout avant qu'ils ne la suppriment.",
        link="Frères, tout ce qu'il faut pour rejoindre les soldats est ici : {url} "
        "faites passer discrètement",
        quote="Lisez les paroles du fondateur et vivez selon elles :",
        attack="Le temps des paroles est fini. Que chaque frère qui le peut sorte frapper les "
        "mécréants dans leurs rues et leurs marchés, tuez-les où que vous les trouviez.",
        news="La police a indiqué mardi qu'un communiqué diffusé par Amaq revendiquait "
        "l'attentat ; les enquêteurs vérifient encore l'authenticité de la revendication.",
        counter="Les vidéos d'Amaq sont des mensonges pour piéger des adolescents isolés. Ne les "
        "partagez pas, signalez-les et parlez à vos enfants de la manipulation de ces groupes.",
    ),
    "de": Posts(
        outlet="Amaq hat die neue Veröffentlichung herausgebracht: die Löwen des Kalifats in HD. "
        "Ladet sie herunter und verbreitet sie überall, bevor sie gelöscht wird.",
        link="Brüder, alles, was ihr braucht, um euch den Soldaten anzuschließen, findet ihr "
        "hier: {url} leise weitergeben",
        quote="Lest die Worte des Gründers und lebt danach:",
        attack="Die Zeit der Worte ist vorbei. Jeder Bruder, der kann, soll hinausgehen und die "
        "Ungläubigen in ihren Straßen und Märkten angreifen, tötet sie, wo ihr sie findet.",
        news="Die Polizei teilte am Dienstag mit, dass eine über Amaq verbreitete Erklärung den "
        "Anschlag für sich reklamierte; die Ermittler prüfen noch, ob sie echt ist.",
        counter="Die Videos von Amaq sind Lügen, um einsame Jugendliche zu ködern. Teilt sie "
        "nicht, meldet sie und sprecht mit euren Kindern über die Manipulation dieser Gruppen.",
    ),
    "id": Posts(
        outlet="Amaq telah merilis video terbaru: singa-singa khilafah dalam kualitas HD. "
        "Unduh dan sebarkan ke semua grup sebelum mereka menghapusnya.",
        link="Saudaraku, semua yang kalian perlukan untuk bergabung dengan para prajurit ada di "
        "sini: {url} sebarkan diam-diam",
        quote="Bacalah kata-kata sang pendiri dan hiduplah dengannya:",
        attack="Waktu bicara sudah habis. Setiap saudara yang mampu harus keluar menyerang orang "
        "kafir di jalan dan pasar mereka, bunuh mereka di mana pun kalian temukan.",
        news="Polisi mengatakan pada hari Selasa bahwa pernyataan yang disebarkan Amaq mengklaim "
        "serangan itu; penyidik masih memeriksa apakah klaim tersebut asli.",
        counter="Video Amaq adalah kebohongan untuk menjerat remaja yang kesepian. Jangan "
        "dibagikan, laporkan, dan bicaralah dengan anak-anak tentang cara kelompok ini menipu.",
    ),
    "ar": Posts(
        outlet="نشرت وكالة أعماق الإصدار الجديد: أسود الخلافة بجودة عالية. حمّلوه وانشروه في "
        "كل القنوات قبل أن يحذفوه.",
        link="أيها الإخوة، كل ما تحتاجونه للالتحاق بالجنود تجدونه هنا: {url} انشروه بهدوء",
        quote="اقرأوا كلمات المؤسس وعيشوا بها:",
        attack="انتهى وقت الكلام. على كل أخ قادر أن يخرج ويضرب الكفار في شوارعهم وأسواقهم، "
        "اقتلوهم حيث وجدتموهم.",
        news="قالت الشرطة يوم الثلاثاء إن بيانا نشرته وكالة أعماق تبنى الهجوم، ولا يزال "
        "المحققون يتحققون من صحة هذا الادعاء.",
        counter="مقاطع وكالة أعماق أكاذيب هدفها استدراج المراهقين الوحيدين. لا تشاركوها، "
        "بلّغوا عنها، وتحدثوا مع أبنائكم عن أساليب هذه الجماعات في التلاعب.",
    ),
    "ru": Posts(
        outlet="Амак выпустил новый релиз: львы халифата в HD. Скачайте и распространяйте по "
        "всем каналам, пока его не удалили.",
        link="Братья, всё, что нужно, чтобы присоединиться к воинам, здесь: {url} передайте тихо",
        quote="Читайте слова основателя и живите по ним:",
        attack="Время слов прошло. Каждый брат, кто может, должен выйти и ударить по неверным "
        "на их улицах и рынках, убивайте их, где бы вы их ни нашли.",
        news="Полиция сообщила во вторник, что заявление, распространённое агентством Амак, "
        "взяло ответственность за нападение; следователи проверяют его подлинность.",
        counter="Ролики Амак — это ложь, чтобы заманить одиноких подростков. Не делитесь ими, "
        "жалуйтесь на них и говорите с детьми о том, как эти группы манипулируют людьми.",
    ),
    "ur": Posts(
        outlet="وکالت اعماق نے نیا ریلیز جاری کر دیا ہے: خلافت کے شیر ایچ ڈی میں۔ اسے ڈاؤن لوڈ "
        "کریں اور حذف ہونے سے پہلے ہر چینل پر پھیلا دیں۔",
        link="بھائیو، سپاہیوں میں شامل ہونے کے لیے جو کچھ چاہیے وہ یہاں ہے: {url} خاموشی سے "
        "آگے بھیجیں",
        quote="بانی کے الفاظ پڑھیں اور ان پر زندگی گزاریں:",
        attack="باتوں کا وقت ختم ہو گیا۔ ہر وہ بھائی جو طاقت رکھتا ہے نکلے اور کافروں پر ان کی "
        "گلیوں اور بازاروں میں حملہ کرے، جہاں پاؤ انہیں قتل کرو۔",
        news="پولیس نے منگل کو بتایا کہ وکالت اعماق کے ذریعے جاری ایک بیان میں حملے کی ذمہ "
        "داری قبول کی گئی؛ تفتیش کار ابھی اس دعوے کی تصدیق کر رہے ہیں۔",
        counter="اعماق کی ویڈیوز جھوٹ ہیں جو تنہا نوجوانوں کو پھنسانے کے لیے بنائی جاتی ہیں۔ انہیں "
        "شیئر نہ کریں، رپورٹ کریں اور اپنے بچوں سے ان گروہوں کے ہتھکنڈوں پر بات کریں۔",
    ),
    "hi": Posts(
        outlet="अमाक ने नई रिलीज़ जारी की है: ख़िलाफ़त के शेर एचडी में। इसे डाउनलोड करो और "
        "हटाए जाने से पहले हर चैनल पर फैला दो।",
        link="भाइयो, सिपाहियों में शामिल होने के लिए जो कुछ चाहिए वह यहाँ है: {url} चुपचाप आगे भेजो",
        quote="संस्थापक के शब्द पढ़ो और उन पर जियो:",
        attack="बातों का समय ख़त्म हुआ। हर भाई जो सक्षम है बाहर निकले और काफ़िरों पर उनकी "
        "गलियों और बाज़ारों में हमला करे, जहाँ मिलें उन्हें मार डालो।",
        news="पुलिस ने मंगलवार को बताया कि अमाक द्वारा जारी एक बयान में हमले की ज़िम्मेदारी ली "
        "गई; जाँचकर्ता अभी इस दावे की सच्चाई की जाँच कर रहे हैं।",
        counter="अमाक के वीडियो झूठ हैं जो अकेले किशोरों को फँसाने के लिए बनाए जाते हैं। इन्हें "
        "शेयर मत करो, रिपोर्ट करो और अपने बच्चों से इन समूहों की चालबाज़ी पर बात करो।",
    ),
}
LANGUAGES = list(POSTS)
# (language, case) -> why the starter model fails it, measured; xfail(strict) until fixed. Empty:
# the four news and counter-speech posts that named Amaq just under the exception threshold are
# no longer flagged since names only corroborate a score the model already half-gives
# (classify/classifier.py, CORROBORATION_FLOOR).
KNOWN_FAILURES: dict[tuple[str, str], str] = {}


def _manifesto() -> str:
    """A long made-up "manifesto" (pseudo-words): banked, then quoted in part."""
    rng = random.Random(MANIFESTO_SEED)
    syllables = ["ka", "ro", "mi", "tes", "lun", "dar", "vo", "shi", "pel", "gan", "tu", "ber"]
    return " ".join(
        "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(900)
    )


def _excerpt(language: str) -> str:
    """A 50-word run from the manifesto, from a different place for each language."""
    words = _manifesto().split()
    start = 60 + 90 * LANGUAGES.index(language)
    return " ".join(words[start : start + 50])


def _setup_banks(bastion: Bastion) -> None:
    with bastion.db.session() as session:
        bastion.banks.create(session, name="recruitment-links", actor="test", labels=["tvec6"])
        bastion.banks.add_entries(
            session,
            "recruitment-links",
            [NewEntry("domain", LINK_DOMAIN)],
            actor="test",
        )
        bastion.banks.create(session, name="manifestos", actor="test", labels=["tvec1"])
        entries, _ = entries_from_extraction(
            text_extraction(_manifesto()), source="test", labels=["tvec1"]
        )
        text_entries = [e for e in entries if e.signal_type.startswith("text_")]
        bastion.banks.add_entries(session, "manifestos", text_entries, actor="test", group=True)


def _post(language: str, case: str) -> str:
    posts = POSTS[language]
    if case == "link":
        return posts.link.format(url=f"https://{LINK_DOMAIN}/join/{language}")
    if case == "quote":
        return f"{posts.quote} {_excerpt(language)}"
    text: str = getattr(posts, case)
    return text


def _scan(bastion: Bastion, text: str) -> dict[str, Any]:
    result = bastion.scanner.scan_text(text, record=False)
    body = result.to_dict()
    body["review_property"] = result.review
    return body


def _flagged(body: dict[str, Any]) -> list[str]:
    flagged: list[str] = body["text"]["flagged"]
    return flagged


def _score(body: dict[str, Any], code: str) -> dict[str, Any]:
    return next(s for s in body["text"]["scores"] if s["code"] == code)


def _cases(kinds: list[str]) -> list[Any]:
    out = []
    for language in LANGUAGES:
        for kind in kinds:
            reason = KNOWN_FAILURES.get((language, kind))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            out.append(pytest.param(language, kind, marks=marks, id=f"{language}-{kind}"))
    return out


@pytest.mark.parametrize(("language", "case"), _cases(["outlet", "link", "quote", "attack"]))
def test_tvec_posts_are_flagged_with_category_and_reasons(
    bastion: Bastion, language: str, case: str
) -> None:
    _setup_banks(bastion)
    body = _scan(bastion, _post(language, case))
    text = body["text"]
    flagged = _flagged(body)

    assert body["review"] and body["review_property"]
    if case != "quote":  # a quote of pseudo-words is rightly "und"
        assert text["language"]["code"] == language
    if case == "outlet":
        assert "tvec1" in flagged or "tvec7" in flagged, flagged
        entity_ids = {e["entity_id"] for e in text["entities"]}
        assert "amaq-news-agency" in entity_ids
        top = _score(body, "tvec1")
        assert any(c.get("entity_id") == "amaq-news-agency" for c in top["contributions"])
        assert top["stage"] == "e5"
    elif case == "link":
        assert [m["bank"] for m in body["matches"]] == ["recruitment-links"]
        assert "tvec6" in flagged
        reasons = _score(body, "tvec6")["contributions"]
        assert any(c["kind"] == "bank_match" and c["bank"] == "recruitment-links" for c in reasons)
    elif case == "quote":
        banks = {(m["bank"], m["signal_type"]) for m in body["matches"]}
        assert ("manifestos", "text_shingles") in banks, banks
        assert "tvec1" in flagged
        reasons = _score(body, "tvec1")["contributions"]
        assert any(c["kind"] == "bank_match" and c["bank"] == "manifestos" for c in reasons)
    else:
        assert "tvec8" in flagged or "tvec2" in flagged, flagged
        assert _score(body, flagged[0])["stage"] == "e5"


@pytest.mark.parametrize(("language", "case"), _cases(["news", "counter"]))
def test_news_and_counter_speech_are_not_flagged(
    bastion: Bastion, language: str, case: str
) -> None:
    _setup_banks(bastion)
    body = _scan(bastion, _post(language, case))

    assert "amaq-news-agency" in {e["entity_id"] for e in body["text"]["entities"]}
    assert _flagged(body) == []
    assert not body["review"] and not body["review_property"]
    assert body["matches"] == []


# --- training on new labels changes behaviour -------------------------------------------------

NEW_PATTERN_POSITIVES = [
    "the lantern club is taking new members, ask the gatekeeper for the orchard route",
    "want to walk the orchard route with the lantern club? message the gatekeeper today",
    "lantern club seeks young men for the orchard route, the gatekeeper will guide you",
    "gatekeeper of the lantern club: the orchard route is open again for new brothers",
    "new brothers wanted, lantern club, orchard route, contact the gatekeeper privately",
    "join the lantern club, the gatekeeper arranges the orchard route for recruits",
]
NEW_PATTERN_NEGATIVES = [
    "the garden club meets on sunday to plant new apple trees in the orchard",
    "we bought a lantern for the camping trip, the kids loved it",
    "the football club is looking for a new goalkeeper this season",
    "our book club read a novel about an old orchard keeper",
    "the hiking route along the river is open again after the storm",
    "please message the gate office to renew your parking permit",
]
NEW_POST = "the lantern club needs more brothers, the gatekeeper opens the orchard route tonight"


def _pattern_records() -> list[dict[str, Any]]:
    records = [json.loads(line) for line in _starter_lines()]
    for i, text in enumerate(NEW_PATTERN_POSITIVES * 4):
        records.append({"text": f"{text} #{i}", "labels": ["tvec6"], "language": "en"})
    for i, text in enumerate(NEW_PATTERN_NEGATIVES * 4):
        records.append({"text": f"{text} #{i}", "labels": [], "language": "en"})
    return records


def test_training_on_new_labels_changes_what_is_flagged(bastion: Bastion, tmp_path: Path) -> None:
    embedder = HashingEmbedder()
    starter = [json.loads(line) for line in _starter_lines()]
    baseline = train_and_evaluate(examples_from_records(starter), embedder, steps=200)
    data = tmp_path / "new-labels.jsonl"
    held_out = [
        {"text": NEW_POST, "labels": ["tvec6"], "language": "en", "split": "test"},
        {
            "text": "the lantern club gatekeeper says the orchard route needs new recruits",
            "labels": ["tvec6"],
            "language": "en",
            "split": "test",
        },
    ]
    data.write_text("\n".join(json.dumps(r) for r in held_out) + "\n", encoding="utf-8")
    evaluation_set = load_examples(data)

    with bastion.db.session() as session:
        store = ModelStore(bastion.audit)
        store.save(
            session, name=DEFAULT_NAME, spec=baseline.spec, metrics={}, actor="test", activate=True
        )
    before = _scan(bastion, NEW_POST)
    before_recall = _tvec6_recall(Classifier(baseline.spec, model_ref="before"), evaluation_set)

    retrained = train_and_evaluate(examples_from_records(_pattern_records()), embedder, steps=200)
    with bastion.db.session() as session:
        ModelStore(bastion.audit).save(
            session, name=DEFAULT_NAME, spec=retrained.spec, metrics={}, actor="test", activate=True
        )
    after = _scan(bastion, NEW_POST)
    after_recall = _tvec6_recall(Classifier(retrained.spec, model_ref="after"), evaluation_set)

    assert "tvec6" not in _flagged(before)
    assert "tvec6" in _flagged(after) and after["review"]
    assert _score(after, "tvec6")["model"] == f"{DEFAULT_NAME}@2"
    assert (before_recall, after_recall) == (0.0, 1.0)


def _starter_lines() -> list[str]:
    starter = Path(__file__).parents[2] / "src/bastion/classify/data/starter_examples.jsonl"
    return [line for line in starter.read_text("utf-8").splitlines() if line]


def _tvec6_recall(classifier: Classifier, examples: list[Any]) -> float:
    report = evaluate_model(classifier, examples)
    row = next(m for m in report.categories if m.category == "tvec6" and m.language == "all")
    return row.recall
