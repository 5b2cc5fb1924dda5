"""extract_instruments on whole posts: languages, decoys, look-alike characters, hostile input."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.finance.extract import extract_instruments
from bastion.finance.findings import UNVERIFIED, VALID

BTC = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
BECH32 = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
TAPROOT = "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"
EVM = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
TRX = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
XMR = (
    "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQ"
    "BEP3A"
)
IBAN = "DE89 3704 0044 0532 0130 00"
ZWSP = "\u200b"


def _found(text: str) -> list[tuple[str, str]]:
    return [(item.scheme, item.value) for item in extract_instruments(text)]


def _check_offsets(text: str) -> None:
    for item in extract_instruments(text):
        assert item.raw == text[item.start : item.end]


POSTS = {
    "english": (
        f"Brothers, support the mujahideen! BTC: {BTC}\nETH/USDT (ERC20): {EVM}\n"
        f"Bank: IBAN {IBAN} BIC COBADEFFXXX. PayPal: https://paypal.me/SupportFund1"
    ),
    "arabic": (
        f"ادعموا إخوانكم المجاهدين. عنوان البيتكوين: {BECH32} \u060c"
        f" وللتبرع بالتيثر (TRC20): {TRX}. رمز السويفت: COBADEFFXXX"
    ),
    "french": (
        f"Soutenez nos frères ! Adresse Monero : {XMR}. Virement : {IBAN}. "
        "Cagnotte : https://www.gofundme.com/f/aide-aux-freres"
    ),
    "russian": (
        f"Братья, поддержите! Биткоин: {TAPROOT}. Перевод на номер +7 912 345-67-89 (Сбербанк)."
    ),
    "indonesian": (
        f"Dukung saudara kita! Kirim ke dompet: {BTC} atau bitcoin:{BECH32}?amount=0.01. "
        "Transfer pulsa ke 0812-3456-7890 via GoPay."
    ),
}
EXPECTED = {
    "english": [
        ("btc", BTC),
        ("evm", EVM.lower()),
        ("iban", "DE89370400440532013000"),
        ("bic", "COBADEFFXXX"),
        ("paypal", "supportfund1"),
    ],
    "arabic": [("btc", BECH32), ("trx", TRX), ("bic", "COBADEFFXXX")],
    "french": [("xmr", XMR), ("iban", "DE89370400440532013000"), ("gofundme", "aide-aux-freres")],
    "russian": [("btc", TAPROOT), ("phone", "+79123456789")],
    "indonesian": [("btc", BTC), ("btc", BECH32), ("phone", "+6281234567890")],
}


@pytest.mark.parametrize("language", sorted(POSTS))
def test_posts_in_several_languages(language: str) -> None:
    text = POSTS[language]
    assert _found(text) == EXPECTED[language]
    _check_offsets(text)
    for item in extract_instruments(text):
        assert not item.folded
        assert item.raw in item.evidence


def test_uri_and_its_address_are_one_finding() -> None:
    text = f"bitcoin:{BECH32}?amount=0.01&label=Fund"
    [found] = extract_instruments(text)
    assert (found.start, found.end) == (0, len(text))
    assert found.details["amount"] == "0.01"


@pytest.mark.parametrize(
    "decoy",
    [
        BTC[:-1] + "b",
        BECH32[:-1] + "5",
        TAPROOT[:10] + "q" + TAPROOT[11:],
        EVM[:5] + EVM[5].swapcase() + EVM[6:],
        TRX[:-1] + "u",
        XMR[:50] + ("2" if XMR[50] != "2" else "3") + XMR[51:],
        "DE89 3704 0044 0532 0130 01",
        "https://paypal.com/",
    ],
)
def test_decoys_with_one_wrong_character_are_not_found(decoy: str) -> None:
    assert extract_instruments(f"Send to {decoy} now") == []


def test_evm_in_one_case_is_unverified() -> None:
    [found] = extract_instruments(f"wallet {EVM.lower()}")
    assert found.status == UNVERIFIED
    [found] = extract_instruments(f"wallet {EVM}")
    assert found.status == VALID


def test_cyrillic_letters_in_a_bech32_address() -> None:
    # Cyrillic о, а, е in place of Latin o, a, e... here 'e' of "d6qej" and 'a' of "zarvary"
    written = BECH32.replace("qej", "q\u0435j").replace("zar", "z\u0430r")
    text = f"Адрес: {written} спасибо"
    [found] = extract_instruments(text)
    assert found.value == BECH32
    assert found.folded
    assert (found.start, found.end) == (7, 7 + len(written))
    assert found.raw == written


def test_full_width_and_zero_width_characters_in_addresses() -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in BTC)
    with_spaces = BTC[:10] + ZWSP + BTC[10:20] + "\u200c" + BTC[20:]
    text = f"{full_width} / {with_spaces} / {EVM[:2]}{ZWSP}{EVM[2:]}"
    found = extract_instruments(text)
    assert [(item.scheme, item.value, item.folded) for item in found] == [
        ("btc", BTC, True),
        ("btc", BTC, True),
        ("evm", EVM.lower(), True),
    ]
    assert found[1].raw == with_spaces
    assert found[1].start == len(full_width) + 3
    _check_offsets(text)


def test_arabic_indic_digits_in_an_iban() -> None:
    digits = str.maketrans(
        "0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669"
    )
    written = "SA03 8000 0000 6080 1016 7519".translate(digits).replace("\u0660\u0663", "03", 0)
    written = "SA" + written[2:]
    text = f"الحساب: {written} شكرا"
    [found] = extract_instruments(text)
    assert (found.scheme, found.value, found.folded) == ("iban", "SA0380000000608010167519", True)
    assert found.raw == written


def test_sha256_hex_and_40_hex_are_not_addresses() -> None:
    sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert extract_instruments(f"hash {sha} and {sha[:40]} and 0x{sha}") == []


def test_max_findings() -> None:
    text = " ".join([BTC] * 50)
    assert len(extract_instruments(text, max_findings=7)) == 7


# --- hostile input ---------------------------------------------------------------------------


def _quick(text: str, seconds: float = 5.0) -> None:
    started = time.perf_counter()
    extract_instruments(text)
    assert time.perf_counter() - started < seconds


def test_two_megabytes_of_base58_junk() -> None:
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    junk = "".join(alphabet[(i * 7919) % 58] for i in range(2_000_000))
    _quick(junk)
    spaced = " ".join(junk[i : i + 34] for i in range(0, 600_000, 34))
    _quick(spaced, 10.0)


def test_many_0x_prefixes_and_other_repetitions() -> None:
    _quick("0x" * 100_000)
    _quick("0x " * 100_000)
    _quick("bitcoin:" * 100_000)
    _quick("lnbc1" * 100_000)
    _quick("DE89 " * 100_000)
    _quick("paypal.me/" * 50_000)
    _quick("M-Pesa 0712 " * 50_000)
    _quick("$" * 100_000 + "cash app")


def test_mixed_scripts_surrogates_and_nul_bytes() -> None:
    text = ("\ud800abc\x00" + "а\u200bб\u202eв" + BTC + "\udfff") * 1000
    found = extract_instruments(text)
    assert all(item.raw == text[item.start : item.end] for item in found)
    _quick(text)


def test_max_chars_bounds_the_work() -> None:
    text = "x" * 100 + BTC
    assert extract_instruments(text, max_chars=50) == []


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_never_raises_and_raw_matches(text: str) -> None:
    for item in extract_instruments(text):
        assert item.raw == text[item.start : item.end]


_PIECES = st.sampled_from(
    [
        BTC,
        BECH32,
        EVM,
        TRX,
        IBAN,
        "bitcoin:",
        "?amount=1",
        ZWSP,
        "\u0430",
        "\uff11",
        " ",
        "paypal.me/x",
        "EVC",
        "0612345678",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(_PIECES, st.text(max_size=5)), max_size=12).map("".join))
def test_never_raises_on_address_like_text(text: str) -> None:
    for item in extract_instruments(text):
        assert item.raw == text[item.start : item.end]
        assert 0 <= item.start < item.end <= len(text)
