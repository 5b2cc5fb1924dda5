"""Screening names against sanctions lists: a blocked in-memory index with explained scores.

A query is compared only with listed names that share a *key* with it: each strong token is
indexed by its consonant skeleton (``s:mhmd``), by the first three letters of the skeleton
(``k:bgd``, so a typo late in a long name still finds it) and, for Latin and Cyrillic tokens, by
its first four ASCII letters (``p:bagh``) and, if long, its first and last two (``e:badi``), for
typos the skeleton does not absorb. Keys held by a large share of the list (``s:mhmd`` in an
Arabic-name list) do not select candidates alone: the holders of two such skeletons together do
(Muhammad + Ali), and the holders of one only when nothing else is left. Candidates are ranked by
the rarity of the keys they share (log N / holders, like IDF; the skeleton, the one key that
works across scripts, counts double), then by how close their token count is to the query's;
at most ``SCORE_BUDGET`` of them are scored.

Scoring. Each query token is aligned with at most one listed token (greedily, best pair first, so
word order does not matter), with :func:`bastion.finance.names.token_similarity`:

* 1.0 when the ASCII forms are equal ("exact");
* if either side came from Arabic script (no short vowels written): 1.0 when the consonant
  skeletons are equal and the written long vowels fit ("skeleton"), 0.6 when they do not
  ("consonants"), else the fuzzy evidence of the skeletons' ratio;
* 0.95 when the skeletons are equal and the vowels fit (Tariq/Tarek, Husayn/Hussein,
  Мухаммед/Muhammad: "transliteration");
* else fuzzy evidence ``max(0, 1 - 2 * (1 - ratio))`` of the rapidfuzz ratio: one letter off in
  eight (ratio 0.875) keeps 0.75, a ratio of 0.7 is noise (Mahmoud/Muhammad 0.07).

Tokens whose digits differ never match. Pairs below 0.5 are not aligned. Strong tokens weigh 1.0,
weak ones (legal forms, stop-words, bin, initials) 0.2. The score is

    sum(similarity * (query weight + listed weight)) / (all query weights + all listed weights)

so every unmatched token, on either side, costs its weight: "Muhammad" against "Muhammad Yusuf
Ali" scores 2 / 4 = 0.50, against "Muhammad Yusuf" 0.67.

Memory: per name, the original string, one packed string of its tokens, and a few numpy ids; the
postings are one numpy array sorted by key (CSR offsets), never a Python object per occurrence.
"""

from __future__ import annotations

import math
import sys
from array import array
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from bastion.errors import InvalidInput
from bastion.finance.names import NameForm, NameToken, token_similarity, tokenize

MAX_TEXT_CHARS = 200_000
"""Longer texts are refused by :meth:`NameIndex.find_in_text` (split them first)."""
COMMON_KEY_SHARE = 0.01
"""A key held by more than this share of names (and more than ``COMMON_KEY_FLOOR``) is skipped."""
COMMON_KEY_FLOOR = 2_000
SCORE_BUDGET = 400
"""At most this many candidates are scored per query: those sharing the most tokens first."""
MIN_SINGLE_TOKEN_LETTERS = 6
"""A one-word listed name is looked for in a text only if it is at least this long."""
COMMON_WORDS = frozenset(
    {
        "people", "person", "public", "police", "nation", "national", "islamic", "islam",
        "muslim", "muslims", "allah", "brother", "brothers", "sister", "friend", "friends",
        "mujahid", "mujahideen", "martyr", "martyrs", "jihad", "jihadi", "company", "service",
        "services", "global", "united", "support", "charity", "relief", "foundation", "society",
        "center", "centre", "council", "school", "church", "mosque", "masjid", "hospital",
        "market", "bank", "trust", "money", "donate", "donation", "please", "thanks", "today",
        "tomorrow", "between", "against", "through", "always", "nothing", "something",
        "everyone", "government", "country", "freedom", "victory", "shabab", "student",
    }
)  # fmt: skip

_EMPTY = np.zeros(0, dtype=np.int32)
STRONG_WEIGHT = 1.0
WEAK_WEIGHT = 0.2
MIN_ALIGNED = 0.5
"""Token pairs less similar than this are left unaligned (each side then counts as missing)."""


# --- scoring and its explanation ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TokenAlignment:
    """One query token aligned with one listed token."""

    query_token: str
    listed_token: str
    query_skeleton: str
    listed_skeleton: str
    similarity: float
    method: str  # "exact", "transliteration", "skeleton", "consonants" or "fuzzy"

    def describe(self) -> str:
        """``mohamed≈mhmd by consonant skeleton 1.00``: the pair as a moderator reads it."""
        sign = {"exact": "=", "fuzzy": "~"}.get(self.method, "≈")
        how = {
            "exact": "",
            "transliteration": " by transliteration (same consonants, vowels that fit)",
            "skeleton": " by consonant skeleton",
            "consonants": " by consonant skeleton, long vowels differ",
            "fuzzy": " fuzzy",
        }[self.method]
        return f"{self.query_token}{sign}{self.listed_token}{how} {self.similarity:.2f}"


@dataclass(frozen=True, slots=True)
class UnmatchedToken:
    """A token left without a partner; it costs its weight in the score."""

    token: str
    side: str  # "query" or "listed"
    weight: float


@dataclass(frozen=True, slots=True)
class MatchExplanation:
    """Why a listed name scored what it did, in terms a person can check."""

    query_normalised: str
    listed_normalised: str
    alignments: tuple[TokenAlignment, ...]
    unmatched: tuple[UnmatchedToken, ...]
    formula: str
    score: float
    threshold: float

    def text(self, query: str, listed: str) -> str:
        """One or two sentences for a moderator."""
        pairs = ", ".join(a.describe() for a in self.alignments) or "no token aligned"
        total = len(self.alignments) + sum(1 for u in self.unmatched if u.side == "query")
        verdict = "≥" if self.score >= self.threshold else "<"
        sentence = (
            f"'{query}' vs listed '{listed}' ({self.listed_normalised}): "
            f"{len(self.alignments)} of {total} query tokens match after normalisation "
            f"({pairs})"
        )
        if self.unmatched:
            missing = ", ".join(f"{u.side} '{u.token}' (-{u.weight:.1f})" for u in self.unmatched)
            sentence += f"; unmatched: {missing}"
        return f"{sentence}; score {self.score:.2f} {verdict} threshold {self.threshold:.2f}."


def _weight(token: NameToken) -> float:
    return WEAK_WEIGHT if token.weak else STRONG_WEIGHT


@dataclass(frozen=True, slots=True)
class Alignment:
    """The best pairing of two names' tokens and its score, before any explanation is written
    (most candidates fall short of the threshold and never need one)."""

    pairs: tuple[tuple[float, str, int, int], ...]  # (similarity, method, query i, listed j)
    gained: float
    total: float
    score: float


def align_forms(query: NameForm, listed: NameForm) -> Alignment:
    """Align the tokens of two names, best pairs first, and score them."""
    pairs = sorted(
        (
            (*token_similarity(q, t), i, j)
            for i, q in enumerate(query.tokens)
            for j, t in enumerate(listed.tokens)
        ),
        key=lambda pair: -pair[0],
    )
    used_query: set[int] = set()
    used_listed: set[int] = set()
    chosen: list[tuple[float, str, int, int]] = []
    gained = 0.0
    for similarity, method, i, j in pairs:
        if similarity < MIN_ALIGNED or i in used_query or j in used_listed:
            continue
        used_query.add(i)
        used_listed.add(j)
        gained += similarity * (_weight(query.tokens[i]) + _weight(listed.tokens[j]))
        chosen.append((similarity, method, i, j))
    total = sum(map(_weight, query.tokens)) + sum(map(_weight, listed.tokens))
    score = round(gained / total, 4) if total else 0.0
    return Alignment(tuple(chosen), gained, total, score)


def explain_alignment(
    query: NameForm, listed: NameForm, aligned: Alignment, threshold: float
) -> MatchExplanation:
    """The readable account of an alignment: token pairs, what was left over, the formula."""
    alignments = []
    for similarity, method, i, j in aligned.pairs:
        q, t = query.tokens[i], listed.tokens[j]
        alignments.append(
            TokenAlignment(q.text, t.text, q.skeleton, t.skeleton, similarity, method)
        )
    used_query = {i for _, _, i, _ in aligned.pairs}
    used_listed = {j for _, _, _, j in aligned.pairs}
    unmatched = [
        UnmatchedToken(q.text, "query", _weight(q))
        for i, q in enumerate(query.tokens)
        if i not in used_query
    ] + [
        UnmatchedToken(t.text, "listed", _weight(t))
        for j, t in enumerate(listed.tokens)
        if j not in used_listed
    ]
    formula = (
        f"sum(similarity x (query weight + listed weight)) / all weights = "
        f"{aligned.gained:.2f} / {aligned.total:.2f} = {aligned.score:.2f} (strong token weight "
        f"{STRONG_WEIGHT}, weak {WEAK_WEIGHT}, unaligned tokens add only to the denominator)"
    )
    return MatchExplanation(
        query.ascii,
        listed.ascii,
        tuple(alignments),
        tuple(unmatched),
        formula,
        aligned.score,
        threshold,
    )


def score_forms(query: NameForm, listed: NameForm, threshold: float) -> MatchExplanation:
    """Align the tokens of two names (best pairs first) and score them with an explanation."""
    return explain_alignment(query, listed, align_forms(query, listed), threshold)


@dataclass(frozen=True, slots=True)
class NameMatch:
    """A listed name that matched a query (or a span of a text), with its explanation."""

    name_id: int
    entity_id: int
    listed_name: str
    query: str
    score: float
    kind: str
    schema: str
    explanation: MatchExplanation
    start: int | None = None
    end: int | None = None

    def explain_text(self) -> str:
        """One or two sentences for a moderator."""
        return self.explanation.text(self.query, self.listed_name)


def _pack(tokens: tuple[NameToken, ...]) -> str:
    """Tokens as one compact string: ``text|skeleton|shape|flags`` separated by spaces."""
    return " ".join(
        f"{t.text}|{t.skeleton}|{t.shape}|{int(t.weak) + 2 * int(t.vowelless)}" for t in tokens
    )


def _unpack(packed: str) -> tuple[NameToken, ...]:
    tokens = []
    for part in packed.split(" "):
        text, key, shape, flags = part.split("|")
        tokens.append(NameToken(text, key, shape, flags in "13", flags in "23", 0, 0))
    return tuple(tokens)


def _keys(token: NameToken) -> list[str]:
    """The blocking keys of one strong token."""
    keys = ["s:" + token.skeleton]
    if len(token.skeleton) >= 4:
        keys.append("k:" + token.skeleton[:3])
    if not token.vowelless and len(token.text) >= 4:
        keys.append("p:" + token.text[:4])
    if not token.vowelless and len(token.text) >= 6:
        keys.append("e:" + token.text[:2] + token.text[-2:])  # a typo mid-word keeps both ends
    return keys


@dataclass
class _Building:
    """Postings gathered by :meth:`NameIndex.add` until :meth:`NameIndex.freeze`."""

    key_of_posting: array[int] = field(default_factory=lambda: array("i"))
    name_of_posting: array[int] = field(default_factory=lambda: array("i"))
    name_ids: array[int] = field(default_factory=lambda: array("q"))
    entity_ids: array[int] = field(default_factory=lambda: array("q"))
    kinds: array[int] = field(default_factory=lambda: array("B"))
    schemas: array[int] = field(default_factory=lambda: array("H"))
    strong_counts: array[int] = field(default_factory=lambda: array("B"))


class NameIndex:
    """Listed names, blocked by token keys, screened with explained scores.

    ``add`` every name, then ``freeze`` (``screen`` freezes on first use; freeze before sharing
    the index between threads). Adding after freezing raises :class:`InvalidInput`: build a new
    index when a list changes. A frozen index is only read, so threads may screen concurrently.
    """

    def __init__(self) -> None:
        self._key_ids: dict[str, int] = {}
        self._originals: list[str] = []
        self._packed: list[str] = []
        self._kind_names: list[str] = []
        self._schema_names: list[str] = []
        self._building: _Building | None = _Building()
        self._offsets: npt.NDArray[np.int64] = np.zeros(1, dtype=np.int64)
        self._postings: npt.NDArray[np.int32] = _EMPTY
        self._name_ids: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self._entity_ids: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self._kinds: npt.NDArray[np.uint8] = np.zeros(0, dtype=np.uint8)
        self._schemas: npt.NDArray[np.uint16] = np.zeros(0, dtype=np.uint16)
        self._strong_counts: npt.NDArray[np.uint8] = np.zeros(0, dtype=np.uint8)
        self._common_limit = COMMON_KEY_FLOOR

    def __len__(self) -> int:
        return len(self._originals)

    @staticmethod
    def _code(table: list[str], value: str, limit: int) -> int:
        if value not in table:
            if len(table) >= limit:
                raise InvalidInput("too many distinct kinds or schemas", limit=limit)
            table.append(sys.intern(value))
        return table.index(value)

    def add(
        self, name_id: int, entity_id: int, name: str, *, kind: str = "primary", schema: str = ""
    ) -> None:
        """Index one listed name; :class:`InvalidInput` if it has nothing to compare."""
        building = self._building
        if building is None:
            raise InvalidInput("the name index is frozen; build a new one to add names")
        form = NameForm.parse(name)
        position = len(self._originals)
        strong = form.strong or form.tokens
        for token in strong:
            for key in _keys(token):
                key_id = self._key_ids.setdefault(key, len(self._key_ids))
                building.key_of_posting.append(key_id)
                building.name_of_posting.append(position)
        self._originals.append(name)
        self._packed.append(_pack(form.tokens))
        building.name_ids.append(name_id)
        building.entity_ids.append(entity_id)
        building.kinds.append(self._code(self._kind_names, kind, 255))
        building.schemas.append(self._code(self._schema_names, schema, 65_535))
        building.strong_counts.append(min(len(strong), 255))

    def freeze(self) -> None:
        """Sort postings by key into one array with offsets; idempotent."""
        building = self._building
        if building is None:
            return
        keys = np.frombuffer(building.key_of_posting, dtype=np.int32).astype(np.int64)
        names = np.frombuffer(building.name_of_posting, dtype=np.int32).astype(np.int64)
        # One posting per (key, name): a name repeating a token must not count twice.
        pairs = np.unique(keys * (len(self._originals) + 1) + names)
        sorted_keys = pairs // (len(self._originals) + 1)
        self._postings = (pairs % (len(self._originals) + 1)).astype(np.int32)
        counts = np.bincount(sorted_keys, minlength=len(self._key_ids))
        self._offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self._name_ids = np.array(building.name_ids, dtype=np.int64)
        self._entity_ids = np.array(building.entity_ids, dtype=np.int64)
        self._kinds = np.array(building.kinds, dtype=np.uint8)
        self._schemas = np.array(building.schemas, dtype=np.uint16)
        self._strong_counts = np.array(building.strong_counts, dtype=np.uint8)
        self._common_limit = max(COMMON_KEY_FLOOR, int(len(self) * COMMON_KEY_SHARE))
        self._building = None

    # --- candidates ---------------------------------------------------------------------------

    def _posting(self, key: str) -> npt.NDArray[np.int32]:
        key_id = self._key_ids.get(key)
        if key_id is None:
            return _EMPTY
        return self._postings[self._offsets[key_id] : self._offsets[key_id + 1]]

    def _token_hits(self, token: NameToken) -> npt.NDArray[np.int32]:
        """Names sharing a rare-enough key with ``token`` (none if all its keys are common)."""
        postings = [self._posting(key) for key in _keys(token)]
        rare = [p for p in postings if 0 < len(p) <= self._common_limit]
        return np.unique(np.concatenate(rare)) if rare else _EMPTY

    def _rarity(self, posting: npt.NDArray[np.int32]) -> float:
        return math.log((len(self) + 1) / (len(posting) + 1))

    def _candidates(
        self,
        tokens: tuple[NameToken, ...],
        query_strong: int,
        threshold: float,
        schema_code: int | None = None,
    ) -> npt.NDArray[np.int32]:
        """Positions worth scoring, those sharing the rarest keys with the query first."""
        rare: list[tuple[npt.NDArray[np.int32], float]] = []
        common: list[tuple[npt.NDArray[np.int32], float]] = []
        common_skeletons: list[npt.NDArray[np.int32]] = []
        for token in tokens:
            for key in _keys(token):
                posting = self._posting(key)
                if not len(posting):
                    continue
                # Rarity (log N / holders, as IDF for words); the skeleton, the one key that
                # works across scripts, counts double.
                weight = self._rarity(posting) * (2.0 if key.startswith("s:") else 1.0)
                if len(posting) <= self._common_limit:
                    rare.append((posting, weight))
                else:
                    common.append((posting, weight))
                    if key.startswith("s:"):
                        common_skeletons.append(posting)
        if len(common_skeletons) >= 2:
            # Names holding two common skeletons together (Muhammad + Ali, or an Arabic-script
            # name whose short skeletons are all common) are candidates in their own right.
            common_skeletons.sort(key=len)
            both = np.intersect1d(common_skeletons[0], common_skeletons[1], assume_unique=True)
            rare.append(
                (both, self._rarity(common_skeletons[0]) + self._rarity(common_skeletons[1]))
            )
        elif not rare and common_skeletons:
            rare.append((common_skeletons[0], 1.0))  # a single common token: "Muhammad"
        if not rare:
            return _EMPTY
        positions, inverse = np.unique(np.concatenate([p for p, _ in rare]), return_inverse=True)
        weights = np.concatenate([np.full(len(p), w) for p, w in rare])
        scores = np.bincount(inverse, weights=weights)
        positions = positions.astype(np.int32)
        keep = self._reachable(positions, query_strong, threshold)
        if schema_code is not None:
            keep &= self._schemas[positions] == schema_code
        positions, scores = positions[keep], scores[keep]
        if len(positions) > SCORE_BUDGET:
            # Common keys still rank: a candidate sharing "Muhammad" as well comes first.
            for posting, weight in common:
                if len(posting) <= 20 * self._common_limit:
                    scores = scores + np.isin(positions, posting, assume_unique=True) * weight
            # Ties go to names as long as the query (the only order left when all keys are common).
            length_gap = np.abs(self._strong_counts[positions].astype(np.int64) - query_strong)
            order = np.lexsort((length_gap, -scores))[:SCORE_BUDGET]
            positions = positions[order]
        return positions

    # --- screening ------------------------------------------------------------------------------

    def _match(
        self, position: int, query: str, form: NameForm, threshold: float
    ) -> NameMatch | None:
        listed = NameForm(self._originals[position], _unpack(self._packed[position]))
        aligned = align_forms(form, listed)
        if aligned.score < threshold:
            return None
        explanation = explain_alignment(form, listed, aligned, threshold)
        return NameMatch(
            name_id=int(self._name_ids[position]),
            entity_id=int(self._entity_ids[position]),
            listed_name=self._originals[position],
            query=query,
            score=explanation.score,
            kind=self._kind_names[int(self._kinds[position])],
            schema=self._schema_names[int(self._schemas[position])],
            explanation=explanation,
        )

    def _reachable(
        self, positions: npt.NDArray[np.int32], query_strong: int, threshold: float
    ) -> npt.NDArray[np.bool_]:
        """Which names could reach the threshold given their number of strong tokens alone."""
        listed = self._strong_counts[positions].astype(np.float64)
        best = 2 * np.minimum(listed, query_strong) / (listed + query_strong)
        # Slack for weak tokens, which add a little to both sides of the fraction.
        return np.asarray(best + 0.05 >= threshold)

    def screen(
        self, query: str, *, threshold: float = 0.85, limit: int = 10, schema: str | None = None
    ) -> list[NameMatch]:
        """Listed names scoring at least ``threshold`` against ``query``, best first."""
        if not 0.0 <= threshold <= 1.0 or limit < 1:
            raise InvalidInput("threshold must be within [0, 1] and limit at least 1")
        form = NameForm.parse(query)
        self.freeze()
        strong = form.strong or form.tokens
        code = None
        if schema is not None:
            if schema not in self._schema_names:
                return []
            code = self._schema_names.index(schema)
        positions = self._candidates(strong, len(strong), threshold, code)
        matches = [
            match
            for position in positions.tolist()
            if (match := self._match(position, query, form, threshold)) is not None
        ]
        matches.sort(key=lambda m: (-m.score, m.name_id))
        return matches[:limit]

    def find_in_text(
        self, text: str, *, threshold: float = 0.92, max_candidates: int = 200
    ) -> list[NameMatch]:
        """Listed names written inside ``text`` (spans of 1-5 name tokens), with offsets.

        A span is tried against a listed name only when two of its tokens share keys with that
        name, or, for one-word names (organisations), when the word is long and not a common
        word. ``max_candidates`` caps the names scored per starting word.
        """
        if not isinstance(text, str):
            raise InvalidInput("text must be a string", got=type(text).__name__)
        if len(text) > MAX_TEXT_CHARS:
            raise InvalidInput(f"text is at most {MAX_TEXT_CHARS} characters", length=len(text))
        if not 0.0 <= threshold <= 1.0 or max_candidates < 1:
            raise InvalidInput("threshold must be within [0, 1] and max_candidates at least 1")
        self.freeze()
        tokens = [token for token in tokenize(text) if not token.weak]
        hits: dict[str, npt.NDArray[np.int32]] = {}
        for token in tokens:
            if token.text not in hits:
                hits[token.text] = self._token_hits(token)
        best: dict[tuple[int, int, int], NameMatch] = {}
        for start in range(len(tokens)):
            for match in self._matches_from(tokens, start, hits, threshold, max_candidates, text):
                slot = (match.name_id, match.start or 0, match.end or 0)
                if slot not in best or best[slot].score < match.score:
                    best[slot] = match
        return sorted(best.values(), key=lambda m: (m.start or 0, -m.score, m.name_id))

    def _matches_from(
        self,
        tokens: list[NameToken],
        start: int,
        hits: dict[str, npt.NDArray[np.int32]],
        threshold: float,
        max_candidates: int,
        text: str,
    ) -> list[NameMatch]:
        """Matches of spans beginning at ``tokens[start]``."""
        first = hits[tokens[start].text]
        if not len(first):
            return []
        window = tokens[start + 1 : start + 5]
        others = [hits[token.text] for token in window if len(hits[token.text])]
        multi = np.intersect1d(first, np.concatenate(others)) if others else _EMPTY
        multi = multi[self._strong_counts[multi] >= 2]
        single = _EMPTY
        head = tokens[start]
        long_enough = len(head.skeleton) >= 3 and len(head.text) >= MIN_SINGLE_TOKEN_LETTERS
        if long_enough and head.text not in COMMON_WORDS:
            single = first[self._strong_counts[first] == 1]
        candidates = np.concatenate([multi, single])[:max_candidates]
        matches: list[NameMatch] = []
        for position in candidates.tolist():
            size = int(self._strong_counts[position])
            span = tokens[start : start + size]
            if len(span) < size:
                continue
            begin, end = span[0].start, span[-1].end
            form = NameForm(text[begin:end], tuple(span))
            match = self._match(position, text[begin:end], form, threshold)
            if match is not None:
                matches.append(_with_span(match, begin, end))
        return matches


def _with_span(match: NameMatch, start: int, end: int) -> NameMatch:
    return NameMatch(
        match.name_id,
        match.entity_id,
        match.listed_name,
        match.query,
        match.score,
        match.kind,
        match.schema,
        match.explanation,
        start,
        end,
    )
