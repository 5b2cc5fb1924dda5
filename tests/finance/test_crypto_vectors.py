"""Crypto address validation against published test vectors and known-good addresses.

Segwit vectors are typed in from BIP-173 and BIP-350 (valid under BIP-350's rule: witness v0 with
bech32, v1+ with bech32m); EIP-55 vectors from EIP-55. Other chains: well-known addresses, and
addresses made by bip-utils' encoders from one fixed key (each chain's own version bytes).
"""

from __future__ import annotations

import pytest

from bastion.errors import InvalidSignal
from bastion.finance.crypto import (
    LIST_CURRENCY_CHAINS,
    classify_address,
    find_addresses,
    normalize_crypto_address,
)
from bastion.finance.crypto_chains import validate_evm, validate_segwit
from bastion.finance.findings import UNVERIFIED, VALID
from bastion.finance.payment_uris import _bech32_decode

# BIP-350, "valid segwit addresses" (the BIP-173 list as corrected for bech32m).
BIP350_VALID = [
    ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "btc", "mainnet", "0"),
    ("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", "btc", "testnet", "0"),
    (
        "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
        "btc",
        "mainnet",
        "1",
    ),
    ("BC1SW50QGDZ25J", "btc", "mainnet", "16"),
    ("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "btc", "mainnet", "2"),
    ("tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy", "btc", "testnet", "0"),
    ("tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c", "btc", "testnet", "1"),
    ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", "btc", "mainnet", "1"),
]

# BIP-350 "invalid segwit addresses", and BIP-173's invalid addresses.
BIP350_INVALID = [
    "tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
    "tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf",
    "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",
    "tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47",
    "bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",
    "BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",
    "bc1pw5dgrnzv",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",
    "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",
    "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf",
    "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j",
    "bc1gmk9yu",
]
BIP173_INVALID = [
    "tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty",
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",
    "BC13W508D6QEJXTDG4Y5R3ZARVARY0C5XW7KN40WF2",
    "bc1rw5uspcuh",
    "bc10w508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kw5rljs90",
    "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",
    "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7",
    "bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du",
    "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3pjxtptv",
    "bc1gmk9yu",
]
# Valid under BIP-173 (bech32 for every version) but not under BIP-350: v1+ with bech32.
BIP173_ONLY = [
    "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx",
    "BC1SW50QA3JX3S",
    "bc1zw508d6qejxtdg4y5r3zarvaryvg6kdaj",
]

# BIP-173 "valid bech32 strings" (the checksum alone), and BIP-350's valid bech32m strings that
# must fail a bech32 check.
BECH32_VALID = [
    "A12UEL5L",
    "a12uel5l",
    "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
    "11" + "q" * 82 + "c8247j",
    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    "?1ezyfcl",
]
BECH32M_VALID = [
    "A1LQFN3A",
    "a1lqfn3a",
    "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
    "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
    "?1v759aa",
]

# EIP-55: all caps and all lower have no checksum to verify; the others are checksummed.
EIP55_ONE_CASE = [
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0xde709f2102306220921060314715629080e2fb77",
    "0x27b1fdb04752bbc536007a920d24acb045561c26",
]
EIP55_CHECKSUMMED = [
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]

KNOWN_GOOD = [
    # Bitcoin: the genesis block's address; a P2SH address from BIP-13's era.
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "btc", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"),
    ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "btc", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"),
    # TRON: the USDT (TRC-20) contract address.
    ("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "trx", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"),
    # XRP Ledger: the genesis account.
    ("rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh", "xrp", "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh"),
    # CashAddr: the specification's example (1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu).
    (
        "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a",
        "bch",
        "qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a",
    ),
    (
        "qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a",
        "bch",
        "qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a",
    ),
    (
        "BITCOINCASH:QPM2QSZNHKS23Z7629MMS6S4CWEF74VCWVY22GDX6A",
        "bch",
        "qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a",
    ),
    # Monero: the Monero General Fund's donation address.
    (
        "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A",
        "xmr",
        "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A",
    ),
]

# Made with bip-utils encoders from the public key of private key 0x0101...01.
ENCODED = [
    ("LWKNsGErA9XxsrKVPimDAbuRXjCyyazZtc", "ltc", "p2pkh"),
    ("MBYVK3S7GFvb2Dg2xB9F4JjxX2G7aoRhps", "ltc", "p2sh"),
    ("ltc1q0xcqpzrky6eff2g52qdye53xkk9jxkvrnx7nu7", "ltc", "p2wpkh"),
    ("DGEX9JsfNuCCA3ovxAmUSM1GCea1BpY4Et", "doge", "p2pkh"),
    ("9v5bk163PCx485mcGRpKUo7vtu3he8Tcvd", "doge", "p2sh"),
    ("XmnGSJav3CWVmzDv5U68k7XT9rRPqyavtE", "dash", "p2pkh"),
    ("7W3yqMJK88AoDUw67upQa3VD7sW3KsRsjQ", "dash", "p2sh"),
    ("t1Uy2cPMA3p5WDggEA1b32PwaaB2nfDssvp", "zec", "p2pkh"),
    ("t3NCx1VSHHTrkpMT2niy2NUbUSyrkNFLZno", "zec", "p2sh"),
    ("TCNkawTmcQgYSU8nP8cHswT1QPjharxJr7", "trx", "account"),
    ("rUaRcsApnVHudsdLD2mut2qCKWq6iLRT2D", "xrp", "account"),
    ("bitcoincash:qpumqqygwcnt999fz3gp5nxjy66ckg6esvls5sszem", "bch", "p2pkh"),
    (
        "49HjJN4ZbLjDFqe3Mus7mPZBE6Q27cRGtPLfyuNejGdYZhvke36zj1xGq5kDCbSCXbc5TLTR7vygzVDYTcgFURLaLe4Gdds",
        "xmr",
        "standard",
    ),
    (
        "89JZu9GXu4zavCrprHJBhqe93rCDYAXGS75C8qoi1DKuKQwCfbZMM3tHxwH5H7Mx5ZaTPoHrEcTBEXyKiHYt47L6Q8ar72s",
        "xmr",
        "subaddress",
    ),
    (
        "4JzQKAt4CcFDFqe3Mus7mPZBE6Q27cRGtPLfyuNejGdYZhvke36zj1xGq5kDCbSCXbc5TLTR7vygzVDYTcgFURLaWFAU45woUemHjHquiF",
        "xmr",
        "integrated",
    ),
]


@pytest.mark.parametrize(("address", "scheme", "network", "version"), BIP350_VALID)
def test_bip350_valid_segwit_addresses(
    address: str, scheme: str, network: str, version: str
) -> None:
    found = validate_segwit(address)
    assert found is not None
    assert (found.scheme, found.value, found.status) == (scheme, address.lower(), VALID)
    assert found.details["network"] == network
    assert found.details["witness_version"] == version


@pytest.mark.parametrize("address", BIP350_INVALID + BIP173_INVALID + BIP173_ONLY)
def test_invalid_segwit_addresses(address: str) -> None:
    assert validate_segwit(address) is None
    assert classify_address(address) is None
    assert find_addresses(f"send to {address} now") == []


@pytest.mark.parametrize("text", BECH32_VALID)
def test_bech32_checksum_vectors(text: str) -> None:
    assert _bech32_decode(text) is not None


@pytest.mark.parametrize("text", BECH32M_VALID)
def test_bech32m_strings_are_not_bech32(text: str) -> None:
    assert _bech32_decode(text) is None


@pytest.mark.parametrize("address", EIP55_CHECKSUMMED)
def test_eip55_checksummed_addresses_verify(address: str) -> None:
    found = validate_evm(address)
    assert found is not None
    assert (found.scheme, found.value, found.status) == ("evm", address.lower(), VALID)
    assert found.details["checksummed"] == address


@pytest.mark.parametrize("address", EIP55_ONE_CASE)
def test_one_case_evm_addresses_are_unverified(address: str) -> None:
    found = validate_evm(address)
    assert found is not None
    assert found.status == UNVERIFIED
    assert found.value == "0x" + address[2:].lower()


@pytest.mark.parametrize("address", EIP55_CHECKSUMMED)
def test_wrong_mixed_case_is_not_an_address(address: str) -> None:
    # Flip the case of one letter: the EIP-55 checksum no longer holds.
    index = next(i for i, char in enumerate(address) if i > 1 and char.isalpha())
    broken = address[:index] + address[index].swapcase() + address[index + 1 :]
    assert validate_evm(broken) is None


@pytest.mark.parametrize(("address", "scheme", "value"), KNOWN_GOOD)
def test_known_good_addresses(address: str, scheme: str, value: str) -> None:
    assert normalize_crypto_address(address) == (scheme, value, VALID)


@pytest.mark.parametrize(("address", "scheme", "address_type"), ENCODED)
def test_encoded_addresses_of_each_chain(address: str, scheme: str, address_type: str) -> None:
    token = address.removeprefix("bitcoincash:")
    found = classify_address(token)
    assert found is not None
    assert (found.scheme, found.details["address_type"]) == (scheme, address_type)


@pytest.mark.parametrize(
    ("address", "_scheme", "_type"), ENCODED + [(a, s, "") for a, s, _ in KNOWN_GOOD]
)
def test_one_changed_character_is_refused(address: str, _scheme: str, _type: str) -> None:
    token = address.removeprefix("bitcoincash:").removeprefix("BITCOINCASH:")
    position = len(token) // 2
    replacement = "2" if token[position] != "2" else "3"
    broken = token[:position] + replacement + token[position + 1 :]
    assert classify_address(broken) is None


def test_testnet_addresses_say_so() -> None:
    found = classify_address("mrcNu71ztWjAQA6ww9kHiW3zBWSQidHXTQ")
    assert found is not None and found.details["network"] == "testnet"


def test_hex_hashes_and_words_are_not_addresses() -> None:
    sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    text = (
        f"sha256 {sha256} and {sha256[:40]} (40 hex without 0x) and 0x{sha256} "
        "antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis "
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAedXX x1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
    )
    assert find_addresses(text) == []


def test_list_currency_codes() -> None:
    assert LIST_CURRENCY_CHAINS["XBT"] == "btc"
    assert normalize_crypto_address("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "ETH")[0] == "evm"
    assert (
        normalize_crypto_address("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "USDT")[0] == "evm"
    )
    assert normalize_crypto_address("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "USDT")[0] == "trx"
    assert normalize_crypto_address("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "BSV")[0] == "bsv"
    assert normalize_crypto_address("GUwM2BFy4LuChWvd9XS2KMBZEgdYuvqqVj", "BTG") == (
        "btg",
        "GUwM2BFy4LuChWvd9XS2KMBZEgdYuvqqVj",
        VALID,
    )
    assert normalize_crypto_address("DGEX9JsfNuCCA3ovxAmUSM1GCea1BpY4Et", "XVG")[0] == "xvg"
    assert (
        normalize_crypto_address("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "NEWCOIN")[0]
        == "btc"
    )
    sol = normalize_crypto_address("11111111111111111111111111111111", "SOL")
    assert sol == ("sol", "11111111111111111111111111111111", UNVERIFIED)


def test_hint_contradicting_the_format_is_refused() -> None:
    with pytest.raises(InvalidSignal):
        normalize_crypto_address("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "ETH")
    with pytest.raises(InvalidSignal):
        normalize_crypto_address("not an address")
    with pytest.raises(InvalidSignal):
        normalize_crypto_address("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb")
