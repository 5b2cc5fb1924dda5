"""Name normalisation for sanctions screening: any script to comparable ASCII tokens and keys.

Sanctions lists and the content Bastion reads write the same person in Latin, Arabic and Cyrillic
script, each with several transliterations (Muhammad / Mohammed / محمد / Мухаммед). A plain
string comparison misses most of these, so every name becomes a :class:`NameForm`: its tokens in
ASCII (readable in an explanation) and, per token, a *consonant skeleton* that is the same for
the usual transliterations of one name.

The pipeline, per name:

1. NFKC, case-fold; drop control, format and lone-surrogate characters.
2. Strip diacritics and combining marks (Arabic harakat, tatweel, Latin accents; Cyrillic й and ё
   keep their identity) and unify Arabic letter variants (أ إ آ ٱ → ا, ة → ه, ى → ي, ؤ → و,
   ئ → ي, Persian ک ی → ك ي).
3. Split into words (apostrophes inside a word are dropped: Sa'id → said), transliterate Arabic
   with a one-letter-per-letter table and anything else with anyascii.
4. Particles: the Arabic article (al-, el-, ال, and the assimilated ad-/ar-/as-/an-... before a
   hyphen) is dropped; abu/abou/abo/ابو joins the next word (Abu Bakr → abubakr); abd/abdul/
   abdel/عبد join the next word in one canonical spelling (Abd al-Rahman, Abdul Rahman,
   Abdurrahman, Абдурахман → abdalrahman); a standalone Allah joins the previous word (Nasr
   Allah → nasrallah, like the usual Latin spelling); bin/ibn/ben/بن become the weak token
   ``bin`` (lists and posts often leave it out). Persian ezafe (Tehrik-e-Taliban) is dropped.
5. Honorifics and titles (sheikh, mullah, dr, haji, mr, الشيخ, шейх...) are removed, unless
   nothing else would be left.
6. Organisation legal forms and stop-words (ltd, llc, co, company, the, of, organization...) and
   single letters are kept but marked *weak*: they count little in a score and are never used to
   find candidates, because "Al-Rashid Trust Ltd" and "Al Rashid Trust" are the same name.

The skeleton (see :func:`skeleton_classes`): letters map to classes that merge what
transliterations confuse (k/q/c, kh/h/х, j/dj/dzh/zh, sh/s/th/ts, dh/z/ظ/ذ, ph/f, p/b), vowels
are dropped (Arabic script writes none), so are the semivowels w/v/y after the first letter (و
and ي are long vowels as often as consonants), one final h goes (ة and the Latin -ah/-at
endings), and doubled letters collapse. Muhammad, Mohammed, Mohamed, محمد and Мухаммед all give
``mhmd``. It is the blocking key of :mod:`bastion.finance.name_index`.

The skeleton alone merges too much (Mahmoud and Muhammad are both ``mhmd``), so each token also
has a *shape*: the skeleton with each vowel run kept as a set of classes A, I, U and E (e, the
schwa of most transliterations, fits any vowel). :func:`token_similarity` calls two Latin or
Cyrillic tokens transliterations of each other when their shapes fit (Tariq/Tarek ``tArIk`` and
``tArEk``; Mahmoud ``mAhmUd`` does not fit Muhammad ``mUhAmAd``). Arabic script writes only long
vowels, so there a missing vowel fits anything but a written one must fit (قيفان is Qayfan or
Qifan, not Qafan).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass

from anyascii import anyascii
from rapidfuzz import fuzz

from bastion.errors import InvalidInput

MAX_NAME_CHARS = 1_000
"""Longer input is not a name; :meth:`NameForm.parse` refuses it rather than scoring noise."""


def _mark_class() -> str:
    """A regex character class of every combining mark (category M*) in the BMP, and tatweel."""
    marks = [chr(c) for c in range(0x300, 0x10000) if unicodedata.category(chr(c)).startswith("M")]
    return "[" + "".join(re.escape(ch) for ch in marks) + "\u0640]"


_MARKS = re.compile(_mark_class())
# Control, format (zero-width joiners, bidi marks), surrogates, private use: never part of a name.
_JUNK = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ud800-\udfff]")
# Cyrillic letters that NFD would decompose: protect them so й stays й (not и).
_PROTECT = str.maketrans({"й": "\ue000", "ё": "\ue001"})
_UNPROTECT = str.maketrans({"\ue000": "й", "\ue001": "ё"})
_ARABIC_UNIFY = str.maketrans(
    {"ٱ": "ا", "ة": "ه", "ى": "ي", "ی": "ي", "ک": "ك", "ۀ": "ه", "ې": "ي", "ﻻ": "لا"}
)
# A word: letters, digits and the marks between them; apostrophes inside a word are kept for now.
_WORD = re.compile(
    r"[^\W_](?:[\w\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u0640'’ʼʻ`]*[^\W_])?"
)
_APOSTROPHES = re.compile("['’ʼʻ`]")

_ARABIC_ASCII = str.maketrans(
    {
        "ا": "a", "ب": "b", "ت": "t", "ث": "th", "ج": "j", "ح": "h", "خ": "kh", "د": "d",
        "ذ": "dh", "ر": "r", "ز": "z", "س": "s", "ش": "sh", "ص": "s", "ض": "d", "ط": "t",
        "ظ": "z", "ع": "", "غ": "gh", "ف": "f", "ق": "q", "ك": "k", "ل": "l", "م": "m",
        "ن": "n", "ه": "h", "و": "w", "ي": "y", "ء": "", "پ": "p", "چ": "ch", "ژ": "zh",
        "گ": "g",
    }
)  # fmt: skip
# Skeleton classes, one per letter. Vowels are upper case: A, I, U and E (e is a schwa in most
# transliterations, so it fits any vowel); "w"/"y" are semivowels (consonants only when first).
# Ayin and hamza count as vowels: Latin writes them so (Omar عمر, Awad عواد, Ali علي).
_ARABIC_CLASSES = str.maketrans(
    {
        "ا": "A", "ب": "b", "ت": "t", "ث": "s", "ج": "j", "ح": "h", "خ": "h", "د": "d",
        "ذ": "z", "ر": "r", "ز": "z", "س": "s", "ش": "s", "ص": "s", "ض": "d", "ط": "t",
        "ظ": "z", "ع": "E", "غ": "g", "ف": "f", "ق": "k", "ك": "k", "ل": "l", "م": "m",
        "ن": "n", "ه": "h", "و": "w", "ي": "y", "ء": "E", "پ": "b", "چ": "c", "ژ": "j",
        "گ": "g",
    }
)  # fmt: skip
_CYRILLIC_CLASSES = str.maketrans(
    {
        "а": "A", "б": "b", "в": "w", "г": "g", "д": "d", "е": "E", "ё": "yU", "ж": "j",
        "з": "z", "и": "I", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "U",
        "п": "b", "р": "r", "с": "s", "т": "t", "у": "U", "ф": "f", "х": "h", "ц": "s",
        "ч": "c", "ш": "s", "щ": "s", "ъ": "", "ы": "I", "ь": "", "э": "E", "ю": "yU",
        "я": "yA", "і": "I", "ї": "I", "є": "E", "ґ": "g", "ў": "U",
    }
)  # fmt: skip
_LATIN_DIGRAPHS = re.compile("dzh|dj|zh|kh|gh|ph|sh|ch|th|dh|ts|tz|ck|x")
_LATIN_DIGRAPH_CLASS = {
    "dzh": "j", "dj": "j", "zh": "j", "kh": "h", "gh": "g", "ph": "f", "sh": "s", "ch": "c",
    "th": "s", "dh": "z", "ts": "s", "tz": "s", "ck": "k", "x": "ks",
}  # fmt: skip
_LATIN_CLASSES = str.maketrans(
    {"a": "A", "e": "E", "i": "I", "o": "U", "u": "U", "v": "w", "c": "k", "q": "k",
     "p": "b"}
)  # fmt: skip
_ARABIC_LETTER = re.compile("[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
_CYRILLIC_LETTER = re.compile("[\u0400-\u04ff]")
_LATIN_LETTER = re.compile("[a-z]")
_VOWEL_CLASSES = frozenset("AEIU")

ARTICLES = frozenset({"al", "el", "ul", "il"})
# The article assimilated to a "sun letter" (ad-Din, ash-Shabaab, an-Nusra): only before a hyphen,
# because "an", "as" or "at" on their own are ordinary words.
SUN_ARTICLES = frozenset(
    {
        "ad", "ar", "as", "ash", "at", "az", "an", "ath", "adh", "ed", "er", "es", "esh", "et",
        "ez", "en", "un", "ud", "ur", "us", "ut", "uz",
    }
)  # fmt: skip
ABU = frozenset({"abu", "abou", "abo", "aboo", "abi", "bw", "abw"})
BIN = frozenset({"bin", "ibn", "bn", "abn", "ben"})
BINT = frozenset({"bint", "binti", "bnt"})
ALLAH = frozenset({"allah", "ullah", "ollah", "ellah", "llah", "allakh", "alla", "ulla"})
# abd, or abd + vowel + l / an assimilated doubled consonant (Abdullah, Abdurrahman) + the rest.
# fmt: off
_ABD = re.compile(
    r"^abd(?:(?P<pre>(?:ou|[aeiou])?(?:l|(?P<c>[b-df-hj-np-tv-z])(?=(?P=c)))"
    # Russian spelling writes the assimilated article once: Абдурахман, Abdurakhman.
    r"|(?:ou|[aeiou])(?=[rsztdn][a-z]{3}))(?P<rest>.*))?$"
)
# fmt: on
# Arabic-script titles as transliterated here (الشيخ, ملا, الحاج, دكتور, مولانا, مولوي).
ARABIC_HONORIFICS = frozenset({"shykh", "mla", "haj", "hj", "dktwr", "mwlana", "mwlwy"})
LATIN_HONORIFICS = frozenset(
    {
        "sheikh", "shaykh", "shaikh", "sheik", "shaik", "sheykh", "shykh", "shekh", "mullah",
        "mulla", "mula", "dr", "doctor", "doktor", "dktwr", "haji", "hajji",
        "hadji", "hajj", "hj", "khadzhi", "hadzhi", "alhaj", "alhajj", "mr", "mrs", "ms", "miss",
        "mister", "sir",
        "prof", "professor", "maulana", "mawlana", "mwlana", "maulvi", "mawlawi", "molvi", "mawlvi",
        "ustad", "ustadh", "ustaz", "sayyed", "hazrat", "gen", "general", "col", "colonel",
        "capt", "captain", "lt", "maj", "major", "mme", "mlle", "herr", "frau", "gospodin",
    }
)  # fmt: skip
WEAK_WORDS = frozenset(
    {
        "ltd", "llc", "llp", "lp", "plc", "inc", "co", "corp", "corporation", "company", "gmbh",
        "ag", "sa", "sarl", "sas", "spa", "srl", "bv", "nv", "oy", "ab", "as", "pte", "pty",
        "limited", "ooo", "zao", "oao", "pao", "jsc", "ojsc", "cjsc", "fze", "fzco", "fzc", "est",
        "establishment", "the", "of", "and", "for", "in", "on", "de", "la", "le", "du", "des",
        "del", "da", "di", "y", "et", "und", "wa", "w", "organization", "organisation", "org",
        "group", "holding", "holdings", "trading", "international", "intl",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class NameToken:
    """One comparable word of a name.

    ``text`` is ASCII (what an explanation shows), ``skeleton`` the transliteration-robust key,
    ``shape`` the skeleton with each vowel group kept as its vowel classes (Tarek ``tArEk``),
    ``weak`` marks legal forms and stop-words, ``vowelless`` that it came from Arabic script (so
    its vowels are unknown and a skeleton match is as good as an exact one). ``start``/``end``
    delimit the words it came from in the original string.
    """

    text: str
    skeleton: str
    shape: str
    weak: bool
    vowelless: bool
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class NameForm:
    """A name as screened: the original string and its tokens (weak ones included)."""

    original: str
    tokens: tuple[NameToken, ...]

    @classmethod
    def parse(cls, name: str, *, limit: int = MAX_NAME_CHARS) -> NameForm:
        """Normalise ``name``; :class:`InvalidInput` if it is not a string, too long or wordless."""
        if not isinstance(name, str):
            raise InvalidInput("a name must be a string", got=type(name).__name__)
        if len(name) > limit:
            raise InvalidInput(f"a name is at most {limit} characters", length=len(name))
        tokens = tokenize(name)
        if not tokens:
            raise InvalidInput("the name has no letters or digits to compare")
        return cls(name, tuple(tokens))

    @property
    def strong(self) -> tuple[NameToken, ...]:
        """The tokens that identify the name (not weak)."""
        return tuple(token for token in self.tokens if not token.weak)

    @property
    def ascii(self) -> str:
        """The normalised name, tokens joined by spaces."""
        return " ".join(token.text for token in self.tokens)


@dataclass(slots=True)
class _Word:
    """A word of the input before particles are resolved (internal)."""

    text: str
    classes: str
    vowelless: bool
    start: int
    end: int
    hyphen_after: bool
    joinable_after: bool


def clean(text: str) -> str:
    """NFKC, case-fold, marks and invisible characters removed, Arabic variants unified.

    Offsets matter to :func:`tokenize`, so this is applied per word, never to a whole text.
    """
    text = _JUNK.sub("", text)
    text = unicodedata.normalize("NFKC", text).casefold().translate(_PROTECT)
    text = _MARKS.sub("", unicodedata.normalize("NFD", text))
    # NFD split أ into ا + hamza above (now removed); recompose what is left (Latin, Cyrillic).
    return unicodedata.normalize("NFC", text).translate(_UNPROTECT).translate(_ARABIC_UNIFY)


def _latin_classes(ascii_word: str) -> str:
    """Skeleton classes of a Latin word: digraphs first (kh → h), then single letters."""
    if len(ascii_word) >= 5 and ascii_word.endswith("at"):
        ascii_word = ascii_word[:-1] + "h"  # Jabhat, Harakat: the Arabic ة, as Jabha, Haraka
    merged = _LATIN_DIGRAPHS.sub(lambda m: _LATIN_DIGRAPH_CLASS[m.group(0)], ascii_word)
    return merged.translate(_LATIN_CLASSES)


def _word_forms(word: str) -> tuple[str, str, bool]:
    """(ASCII text, skeleton classes, vowelless) of one cleaned word."""
    if _ARABIC_LETTER.search(word):
        text = anyascii(word.translate(_ARABIC_ASCII))
        classes = anyascii(word.translate(_ARABIC_CLASSES))
        # An initial alef only carries a hamza (a, i or u); a final ي is often ى (a) or i.
        if word.startswith("ا"):
            classes = "E" + classes[1:]
        if word.endswith("ي") and len(word) > 2:
            classes = classes[:-1] + "E"
        return _ascii_only(text), _ascii_only(classes, keep_upper=True), True
    # A word mixing Latin and Cyrillic letters is a look-alike trick: read it as Latin.
    if _CYRILLIC_LETTER.search(word) and not _LATIN_LETTER.search(word):
        text = _ascii_only(anyascii(word))
        # дж is one sound (j); a final -ат after a long word is the Arabic ة, as in Latin.
        letters = word.replace("дж", "ж")
        if len(letters) >= 5 and letters.endswith("ат"):
            letters = letters[:-1] + "х"
        classes = _ascii_only(anyascii(letters.translate(_CYRILLIC_CLASSES)), keep_upper=True)
        return text, classes, False
    text = _ascii_only(anyascii(word))
    return text, _latin_classes(text), False


def _ascii_only(text: str, *, keep_upper: bool = False) -> str:
    """Lower-case letters and digits only (``V`` kept in class strings)."""
    if not keep_upper:
        text = text.lower()
    return "".join(ch for ch in text if ch.isascii() and (ch.isalnum()))


def skeleton_classes(classes: str, *, keep_vowels: bool = False) -> str:
    """The consonant skeleton from class letters: final h, vowels, later semivowels, doubles.

    With ``keep_vowels`` each run of vowels (and later semivowels, w as U, y as I) stays as the
    sorted set of its vowel classes: the shape (Husayn ``hUsAIn``, Hussein ``hUsEIn``).
    """
    if len(classes) > 2 and classes.endswith("h"):
        classes = classes[:-1]
    out: list[str] = []
    run: set[str] = set()
    for position, ch in enumerate(classes):
        if ch in _VOWEL_CLASSES or (ch in "wy" and position > 0):
            run.add({"w": "U", "y": "I"}.get(ch, ch))
            continue
        if run and keep_vowels:
            out.append("".join(sorted(run)))
        elif out and out[-1] == ch:
            continue
        run = set()
        out.append(ch)
    if run and keep_vowels:
        out.append("".join(sorted(run)))
    return "".join(out)


def skeleton(word: str) -> str:
    """The consonant skeleton of one word in any script (``Mohammed`` → ``mhmd``)."""
    _, classes, _ = _word_forms(clean(word))
    return skeleton_classes(classes) or _ascii_only(classes.lower())


# Arabic particles written as one word: (ASCII text, skeleton classes).
_ARABIC_PARTICLES = {
    "الله": ("allah", "EllEh"),
    "ابو": ("abu", "EbU"),
    "ابي": ("abu", "EbU"),
    "ابا": ("abu", "EbU"),
    "بن": ("bin", "bIn"),
    "ابن": ("bin", "bIn"),
    "عبد": ("abd", "Ebd"),
}


def _arabic_word(word: _Word, raw: str) -> None:
    """Rewrite an Arabic-script word: its particles spelled as in Latin, the article ال dropped."""
    if raw in _ARABIC_PARTICLES:
        word.text, word.classes = _ARABIC_PARTICLES[raw]
    elif raw.startswith("ال") and len(raw) >= 4:
        word.text, word.classes, _ = _word_forms(raw[2:])


def _words(text: str) -> list[_Word]:
    """The words of ``text`` with offsets, ASCII text and skeleton classes."""
    words: list[_Word] = []
    # Invisible characters become tatweel (a word character that clean() removes), so that
    # "Bagh<ZWJ>dadi" stays one word and offsets into the original text stay exact.
    text = _JUNK.sub("\u0640", text)
    matches = list(_WORD.finditer(text))
    for index, match in enumerate(matches):
        raw = clean(_APOSTROPHES.sub("", match.group(0)))
        if not raw:
            continue
        gap = text[match.end() : matches[index + 1].start()] if index + 1 < len(matches) else "."
        stripped = gap.strip()
        word = _Word(
            text="",
            classes="",
            vowelless=False,
            start=match.start(),
            end=match.end(),
            hyphen_after=stripped in ("-", "‐", "–"),
            # Particles only join across spaces or a hyphen, never across a sentence or comma.
            joinable_after=stripped in ("", "-", "‐", "–"),
        )
        word.text, word.classes, word.vowelless = _word_forms(raw)
        if word.vowelless:
            _arabic_word(word, raw)
        words.append(word)
    return [word for word in words if word.text]


def _join(first: _Word, second: _Word, text: str, classes: str) -> _Word:
    return _Word(
        text,
        classes,
        first.vowelless or second.vowelless,
        first.start,
        second.end,
        second.hyphen_after,
        second.joinable_after,
    )


def _forward_join(word: _Word, following: _Word) -> _Word | None:
    """``word`` joined with the (already resolved) next word if it is abu or abd, else None."""
    abd = _ABD.match(word.text)
    if word.text in ABU:
        return _join(word, following, "abu" + following.text, "EbU" + following.classes)
    if abd is None or abd.group("rest"):
        return None
    if following.text in ALLAH:  # Abd Allah, عبد الله: like the one-word Abdallah
        return _join(word, following, "abdallah", "EbdEllEh")
    return _join(word, following, "abdal" + following.text, "EbdEl" + following.classes)


def _resolve_particles(words: list[_Word]) -> list[_Word]:
    """Drop articles and ezafe, join abu/abd with the next word and Allah with the previous one.

    Right to left, so chains resolve: Abu Abd al-Rahman → abu + (abd + rahman).
    """
    resolved: list[_Word] = []  # in reverse order
    for index in range(len(words) - 1, -1, -1):
        word = words[index]
        following = resolved[-1] if resolved and word.joinable_after else None
        if following is not None and (
            word.text in ARTICLES or (word.text in SUN_ARTICLES and word.hyphen_after)
        ):
            continue
        if following is not None and word.text in ("e", "i") and word.hyphen_after and index:
            continue  # Persian ezafe: Tehrik-e-Taliban
        if word.text in BIN and (word.text != "ben" or index > 0):
            word.text, word.classes = "bin", "bIn"  # kept as a weak word: often left out
        elif word.text in BINT:
            word.text, word.classes = "bint", "bInt"
        joined = _forward_join(word, following) if following is not None else None
        if joined is not None:
            resolved[-1] = joined
            continue
        abd = _ABD.match(word.text)
        if abd is not None and abd.group("rest"):
            # One-word Abdullah, Abdulaziz, Abdurrahman: the canonical abdal + name.
            rest = abd.group("rest")
            word.text, word.classes = "abdal" + rest, "EbdEl" + _latin_classes(rest)
        resolved.append(word)
    out: list[_Word] = []
    for word in reversed(resolved):
        if word.text in ALLAH and out and out[-1].joinable_after:
            previous = out.pop()
            word = _join(previous, word, previous.text + "allah", previous.classes + "EllEh")
        out.append(word)
    return out


def tokenize(text: str) -> list[NameToken]:
    """The name tokens of ``text`` with offsets into it; honorifics dropped, weak words marked."""
    words = _resolve_particles(_words(text))
    kept = [
        word
        for word in words
        if word.text not in (ARABIC_HONORIFICS if word.vowelless else LATIN_HONORIFICS)
    ]
    if not any(word.text not in WEAK_WORDS for word in kept):
        kept = words  # only titles: "Sheikh" alone is still something to compare
    tokens: list[NameToken] = []
    for word in kept:
        key = skeleton_classes(word.classes) or word.text
        shape = skeleton_classes(word.classes, keep_vowels=True) or word.text
        weak = (
            word.text in WEAK_WORDS
            or word.text in ("bin", "bint")
            or (len(word.text) == 1 and not word.text.isdigit())
        )
        tokens.append(
            NameToken(
                sys.intern(word.text),
                sys.intern(key),
                sys.intern(shape),
                weak,
                word.vowelless,
                word.start,
                word.end,
            )
        )
    return tokens


# --- comparing two tokens ---------------------------------------------------------------------

TRANSLITERATION = 0.95
"""Same consonants, vowels that fit: Tariq/Tarek, Husayn/Hussein, Мухаммед/Muhammad."""
LONG_VOWELS_DIFFER = 0.6
"""Same consonants but the long vowels Arabic script writes do not fit (قيفان, Qayfan, vs Qafan)."""
_SEGMENTS = re.compile("[AEIU]+|[^AEIU]")


def _fuzzy(ratio: float) -> float:
    """A rapidfuzz ratio as evidence: one letter off in eight (0.875) keeps 0.75, 0.7 is noise."""
    return max(0.0, 1.0 - 2.0 * (1.0 - ratio))


def _digits(text: str) -> str:
    if text.isalpha():  # nearly every token: one C call instead of a loop over its letters
        return ""
    return "".join(ch for ch in text if ch.isdigit())


def _gaps(shape: str, *, collapse: bool = False) -> tuple[list[str], list[str]]:
    """Consonants of a shape and the vowel run before, between and after them.

    With ``collapse`` a consonant repeated across a vowel counts once (خنن, khnn, and Khanan),
    the vowels between the two going to the gap after it.
    """
    consonants: list[str] = []
    gaps = [""]
    for segment in _SEGMENTS.findall(shape):
        if segment[0] in "AEIU":
            gaps[-1] = "".join(sorted(set(gaps[-1] + segment)))
        elif collapse and consonants and consonants[-1] == segment:
            continue
        else:
            consonants.append(segment)
            gaps.append("")
    return consonants, gaps


def _vowels_fit(first: NameToken, second: NameToken) -> bool:
    """Whether two tokens' vowels can be transliterations of each other.

    Vowel runs fit when they share a class or one holds the schwa-like E; any two final vowels
    fit. Where a token came from Arabic script only its long vowels are written, so a gap without
    a vowel there fits anything but another Arabic-script long vowel.
    """
    first_consonants, first_gaps = _gaps(first.shape)
    second_consonants, second_gaps = _gaps(second.shape)
    if first_consonants != second_consonants and first.vowelless != second.vowelless:
        # Arabic script writes no vowel between a doubled consonant: Khanan is خنن.
        first_consonants, first_gaps = _gaps(first.shape, collapse=second.vowelless)
        second_consonants, second_gaps = _gaps(second.shape, collapse=first.vowelless)
    if first_consonants != second_consonants:
        return False
    last = len(first_gaps) - 1
    for position, (one, two) in enumerate(zip(first_gaps, second_gaps, strict=True)):
        if one and two and position == last:
            continue  # final vowels follow grammar and dialect: Doku/Dokka, Usama/Usamu
        if not one or not two:
            # A vowel only one side writes fits if the other side is Arabic script (short vowel).
            if (one and not second.vowelless) or (two and not first.vowelless):
                return False
            if (one or two) and first.vowelless and second.vowelless:
                return False  # both Arabic script: a long vowel written on one side only
            continue
        if not _runs_fit(one, two, first.vowelless, second.vowelless):
            return False
    return True


def _runs_fit(one: str, two: str, one_arabic: bool, two_arabic: bool) -> bool:
    """Whether two vowel runs can be one vowel; E (a schwa, or ayin and hamza) fits most."""
    if set(one) & set(two):
        return True
    if one_arabic != two_arabic:
        # A long vowel written in Arabic script is transliterated faithfully: و is u or o, not
        # the e of a Latin spelling (محمود is Mahmoud, not Mohammed); ا and ي may be e.
        arabic, latin = (one, two) if one_arabic else (two, one)
        return "E" in arabic or ("E" in latin and bool(set(arabic) & {"A", "I"}))
    return "E" in one or "E" in two


def token_similarity(query: NameToken, listed: NameToken) -> tuple[float, str]:
    """(similarity in [0, 1], method) of two tokens.

    ``exact`` 1.0 for equal ASCII forms. If either side is Arabic script: ``skeleton`` 1.0 for
    equal skeletons whose written long vowels fit, ``consonants`` 0.6 if they do not, else fuzzy
    evidence from the skeletons. Otherwise ``transliteration`` 0.95 (or the ratio, if higher)
    for equal skeletons with vowels that fit, else ``fuzzy`` evidence from the ASCII ratio.
    Tokens whose digits differ score 0.
    """
    if query.text == listed.text:
        return 1.0, "exact"
    if _digits(query.text) != _digits(listed.text):
        return 0.0, "fuzzy"  # "17 November" is not "18 November", however alike they look
    if query.vowelless or listed.vowelless:
        # Arabic script writes no short vowels: compare consonants, then the long vowels.
        if query.skeleton == listed.skeleton:
            if _vowels_fit(query, listed):
                return 1.0, "skeleton"
            return LONG_VOWELS_DIFFER, "consonants"
        if min(len(query.skeleton), len(listed.skeleton)) < 4:
            return 0.0, "fuzzy"  # two or three consonants one letter apart are other names
        return _fuzzy(fuzz.ratio(query.skeleton, listed.skeleton) / 100.0), "fuzzy"
    ratio = fuzz.ratio(query.text, listed.text) / 100.0
    if query.skeleton == listed.skeleton and _vowels_fit(query, listed):
        return max(TRANSLITERATION, ratio), "transliteration"
    return _fuzzy(ratio), "fuzzy"
