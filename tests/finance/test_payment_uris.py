"""Payment URIs (BIP-21, EIP-681...), BOLT-11 invoices and LNURLs."""

from __future__ import annotations

import pytest

from bastion.finance.payment_uris import (
    bech32_polymod,
    find_lightning,
    find_payment_uris,
    parse_bolt11,
    parse_lnurl,
)

# Examples of BOLT-11 ("Examples" section of 11-payment-encoding.md).
COFFEE = (
    "lnbc2500u1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4"
    "jsxqzpuaztrnwngzn3kdzw5hydlzf03qdgm2hdq27cqv3agm2awhz5se903vruatfhq77w3ls4evs3ch9zw97j25emudu"
    "pq63nyw24cg27h2rspfj9srp"
)
TESTNET = (
    "lntb20m1pvjluezhp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98klysy043l2ahrqspp5qqqsyqcyq5rqwzqfqqqs"
    "yqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqfpp3x9et2e20v6pu37c5d9vax37wxq72un98kmzzhznpurw9sgl2v0nklu2g4"
    "d0keph5t7tj9tcqd8rexnd07ux4uv2cjvcqwaxgj7v4uwn5wmypjd5n69z2xm3xgksg28nwht7f6zspwp3f9t"
)
PICO = (
    "lnbc9678785340p1pwmna7lpp5gc3xfm08u9qy06djf8dfflhugl6p7lgza6dsjxq454gxhj9t7a0sd8dgfkx7cmtwd68y"
    "etpd5s9xar0wfjn5gpc8qhrsdfq24f5ggrxdaezqsnvda3kkum5wfjkzmfqf3jkgem9wgsyuctwdus9xgrcyqcjcgpzgfs"
    "kx6eqf9hzqnteypzxz7fzypfhg6trddjhygrcyqezcgpzfysywmm5ypxxjemgw3hxjmn8yptk7untd9hxwg3q2d6xjcmtv"
    "4ezq7pqxgsxzmnyyqcjqmt0wfjjq6t5v4khxxqyjw5qcqp2rzjq0gxwkzc8w6323m55m4jyxcjwmy7stt9hwkwe2qxmy8z"
    "psgg7jcuwz87fcqqeuqqqyqqqqlgqqqqn3qq9qn07ytgrxxzad9hc4xt3mawjjt8znfv8xzscs7007v9gh9j569lencxa8"
    "xeujzkxs0uamak9aln6ez02uunw6rd2ht2sqe4hz8thcdagpleym0j"
)
BEANS = (
    "lnbc25m1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5vdhkven9v5sxyetpdeessp"
    "5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9q5sqqqqqqqqqqqqqqqpqsq67gye39hfg3zd8rgc80"
    "k32tvy9xk2xunwm5lzexnvpx6fd77en8qaq424dxgt56cag2dpt359k3ssyhetktkpqh24jqnjyw6uqd08sgptq44qu"
)
P2WSH_FALLBACK = (
    "lnbc20m1pvjluezhp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98klysy043l2ahrqspp5qqqsyqcyq5rqwzqfqqqsy"
    "qcyq5rqwzqfqqqsyqcyq5rqwzqfqypqfp4qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q28j0v3r"
    "wgy9pvjnd48ee2pl8xrpxysd5g44td63g6xcjcu003j3qe8878hluqlvl3km8rm92f5stamd3jw763n3hck0ct7p8wwj4"
    "63cql26ava"
)


def _corrupt(invoice: str) -> str:
    position = len(invoice) - 20
    replacement = "q" if invoice[position] != "q" else "p"
    return invoice[:position] + replacement + invoice[position + 1 :]


def _bech32_encode(hrp: str, payload: bytes) -> str:
    charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
    bits = "".join(f"{byte:08b}" for byte in payload)
    bits += "0" * (-len(bits) % 5)
    data = [int(bits[i : i + 5], 2) for i in range(0, len(bits), 5)]
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    polymod = bech32_polymod(expanded + data + [0] * 6) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(charset[d] for d in data + checksum)


@pytest.mark.parametrize(
    ("invoice", "network", "amount_btc", "amount_msat"),
    [
        (COFFEE, "mainnet", "0.0025", "250000000"),
        (TESTNET, "testnet", "0.02", "2000000000"),
        (PICO, "mainnet", "0.00967878534", "967878534"),
        (BEANS, "mainnet", "0.025", "2500000000"),
        (BEANS.upper(), "mainnet", "0.025", "2500000000"),
        (P2WSH_FALLBACK, "mainnet", "0.02", "2000000000"),
    ],
)
def test_bolt11_examples(invoice: str, network: str, amount_btc: str, amount_msat: str) -> None:
    details = parse_bolt11(invoice)
    assert details is not None
    assert details["network"] == network
    assert details["amount_btc"] == amount_btc
    assert details["amount_msat"] == amount_msat
    assert details["timestamp"] in ("1496314658", "1572468703")


@pytest.mark.parametrize("invoice", [COFFEE, TESTNET, PICO, BEANS, P2WSH_FALLBACK])
def test_corrupted_checksum_is_refused(invoice: str) -> None:
    assert parse_bolt11(_corrupt(invoice)) is None
    assert find_lightning(f"pay {_corrupt(invoice)} now") == []


def test_mixed_case_invoice_is_refused() -> None:
    assert parse_bolt11(BEANS[:10] + BEANS[10:].upper()) is None


def test_invoices_found_in_text_with_and_without_prefix() -> None:
    text = f"Donate: lightning:{COFFEE}, or {BEANS}."
    found = find_lightning(text)
    assert [(item.scheme, item.value) for item in found] == [
        ("lightning", COFFEE),
        ("lightning", BEANS),
    ]
    assert text[found[0].start : found[0].end] == f"lightning:{COFFEE}"
    assert text[found[1].start : found[1].end] == BEANS


def test_lnurl_decodes_to_its_url() -> None:
    url = (
        "https://service.com/api?q=3fc3645b439ce8e7f2553a69e5267081d96dcd340693afabe04be7b0ccd178df"
    )
    lnurl = _bech32_encode("lnurl", url.encode()).upper()
    assert len(lnurl) > 90
    assert parse_lnurl(lnurl) == {"url": url}
    assert parse_lnurl(_corrupt(lnurl.lower())) is None
    found = find_lightning(f"Support: {lnurl}")
    assert found and found[0].details["url"] == url and found[0].details["type"] == "lnurl"


def test_bip21_uri() -> None:
    text = (
        "Send to bitcoin:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa?amount=0.05&label=Brothers%20Fund"
        "&message=For%20the%20cause. Thanks"
    )
    [uri] = find_payment_uris(text)
    assert (uri.scheme, uri.value, uri.kind) == (
        "btc",
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
        "crypto_address",
    )
    assert uri.details["amount"] == "0.05"
    assert uri.details["label"] == "Brothers Fund"
    assert uri.details["message"] == "For the cause"
    assert text[uri.start : uri.end].endswith("For%20the%20cause")


def test_eip681_uri() -> None:
    text = "ethereum:0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed@1?value=2.014e18 please"
    [uri] = find_payment_uris(text)
    assert (uri.scheme, uri.value) == ("evm", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")
    assert uri.details["chain_id"] == "1"
    assert uri.details["value"] == "2.014e18"
    pay = find_payment_uris("ethereum:pay-0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed/transfer?x=1")
    assert pay and pay[0].details["function"] == "transfer"


@pytest.mark.parametrize(
    ("uri", "scheme"),
    [
        ("litecoin:LWKNsGErA9XxsrKVPimDAbuRXjCyyazZtc?amount=1", "ltc"),
        ("dogecoin:DGEX9JsfNuCCA3ovxAmUSM1GCea1BpY4Et", "doge"),
        ("bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a?amount=0.1", "bch"),
        ("tron:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "trx"),
        (
            "monero:44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
            "?tx_amount=1.5&recipient_name=Fund",
            "xmr",
        ),
    ],
)
def test_other_uris(uri: str, scheme: str) -> None:
    [found] = find_payment_uris(f"({uri})")
    assert found.scheme == scheme
    assert found.start == 1 and found.end == len(uri) + 1


def test_uri_with_a_wrong_address_or_the_wrong_chain_is_not_reported() -> None:
    assert find_payment_uris("bitcoin:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb?amount=1") == []
    assert find_payment_uris("litecoin:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa") == []
