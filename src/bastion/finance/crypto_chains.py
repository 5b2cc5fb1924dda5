"""Validating one crypto address candidate by its chain's checksum, with bip-utils.

Each ``validate_*`` function takes an ASCII candidate (already folded) and returns a
:class:`ChainAddress` or None. Nothing here searches text; :mod:`bastion.finance.crypto` does.

Base58Check addresses are decoded once (``Base58Decoder.CheckDecode``) and told apart by their
version bytes, the same numbers bip-utils' per-coin decoders check:

=====  ==========================  =======================================
btc    ``1…`` 0x00, ``3…`` 0x05    testnet ``m``/``n`` 0x6f, ``2…`` 0xc4
ltc    ``L…`` 0x30, ``M…`` 0x32    (``3…`` litecoin P2SH reads as btc)
doge   ``D…`` 0x1e, ``A…``/``9…``  0x16
dash   ``X…`` 0x4c, ``7…`` 0x10
zec    ``t1…`` 0x1cb8, ``t3…`` 0x1cbd (two version bytes)
trx    ``T…`` 0x41
btg    ``G…`` 0x26, ``A…`` 0x17    (only with a list's ``BTG`` hint)
=====  ==========================  =======================================

Bech32 segwit addresses (``bc1``, ``tb1``, ``ltc1``, ``tltc1``) follow BIP-173 and BIP-350:
witness version 0 must use bech32, versions 1-16 bech32m (``SegwitBech32Decoder``), at most 90
characters, one case. CashAddr (Bitcoin Cash) is checked with ``BchP2PKHAddrDecoder`` /
``BchP2SHAddrDecoder``; canonical form lower-case *without* the ``bitcoincash:`` prefix
(``qpm2q…``), since the scheme ``bch`` already says which chain. Monero standard, subaddress and
integrated addresses are checked with the Monero base58 and Keccak checksum and the public keys
must be valid curve points. XRP uses the Ripple base58 alphabet (``XrpAddrDecoder``). EVM
addresses: EIP-55 mixed case must verify; all-lower or all-upper hex has no checksum to test
(status ``unverified``); the canonical value is lower-case.

Solana addresses (a base58 ed25519 public key) carry no checksum: any 32-byte base58 string
passes, so they are *not* looked for in running text (ordinary tokens and ids would come out as
addresses); :func:`validate_solana` is used only when a caller says the value is a Solana address
(a sanctions list's ``SOL``, an analyst banking one), and reports ``unverified``.
"""

from __future__ import annotations

import binascii
from typing import Final, NamedTuple

from bip_utils import (  # type: ignore[import-untyped]
    Base58ChecksumError,
    Base58Decoder,
    Base58XmrDecoder,
    BchP2PKHAddrDecoder,
    BchP2SHAddrDecoder,
    Bech32ChecksumError,
    EthAddrDecoder,
    Kekkak256,
    SegwitBech32Decoder,
    SolAddrDecoder,
    TrxAddrDecoder,
    XrpAddrDecoder,
)
from bip_utils.addr.eth_addr import _EthAddrUtils  # type: ignore[import-untyped]

from bastion.finance.findings import UNVERIFIED, VALID

__all__ = [
    "BASE58_CHARS",
    "ChainAddress",
    "validate_base58check",
    "validate_cashaddr",
    "validate_evm",
    "validate_monero",
    "validate_segwit",
    "validate_solana",
    "validate_xrp",
]

BASE58_CHARS: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_SET: Final = frozenset(BASE58_CHARS)
_RIPPLE_CHARS: Final = frozenset("rpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65jkm8oFqi1tuvAxyz")


# What bip-utils raises for a string that does not decode (its checksum errors are not
# ValueErrors).
_DECODE_ERRORS: Final = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    Base58ChecksumError,
    Bech32ChecksumError,
)


class ChainAddress(NamedTuple):
    scheme: str
    value: str
    status: str
    details: dict[str, str]


# version bytes -> (scheme, address type, network)
_BASE58_VERSIONS: Final[dict[bytes, tuple[str, str, str]]] = {
    b"\x00": ("btc", "p2pkh", "mainnet"),
    b"\x05": ("btc", "p2sh", "mainnet"),
    b"\x6f": ("btc", "p2pkh", "testnet"),
    b"\xc4": ("btc", "p2sh", "testnet"),
    b"\x30": ("ltc", "p2pkh", "mainnet"),
    b"\x32": ("ltc", "p2sh", "mainnet"),
    b"\x1e": ("doge", "p2pkh", "mainnet"),
    b"\x16": ("doge", "p2sh", "mainnet"),
    b"\x4c": ("dash", "p2pkh", "mainnet"),
    b"\x10": ("dash", "p2sh", "mainnet"),
    b"\x1c\xb8": ("zec", "p2pkh", "mainnet"),
    b"\x1c\xbd": ("zec", "p2sh", "mainnet"),
    b"\x41": ("trx", "account", "mainnet"),
}
# Chains whose base58 addresses share another chain's version bytes, or that have their own, read
# only when the caller names the chain.
_HINTED_VERSIONS: Final[dict[str, dict[bytes, tuple[str, str]]]] = {
    "btg": {b"\x26": ("p2pkh", "mainnet"), b"\x17": ("p2sh", "mainnet")},
    "bsv": {b"\x00": ("p2pkh", "mainnet"), b"\x05": ("p2sh", "mainnet")},
    "xvg": {b"\x1e": ("p2pkh", "mainnet"), b"\x21": ("p2sh", "mainnet")},
}
_SEGWIT_HRPS: Final = {
    "bc": ("btc", "mainnet"),
    "tb": ("btc", "testnet"),
    "ltc": ("ltc", "mainnet"),
    "tltc": ("ltc", "testnet"),
}


def validate_base58check(candidate: str, chain_hint: str | None = None) -> ChainAddress | None:
    """A Base58Check address of btc, ltc, doge, dash, zec or trx (btg, bsv, xvg with a hint)."""
    if not 25 <= len(candidate) <= 36 or not _BASE58_SET.issuperset(candidate):
        return None
    try:
        payload = Base58Decoder.CheckDecode(candidate)
    except _DECODE_ERRORS:
        return None
    if chain_hint in _HINTED_VERSIONS:
        if len(payload) != 21:
            return None
        hinted = _HINTED_VERSIONS[chain_hint].get(payload[:1])
        if hinted is None:
            return None
        return ChainAddress(
            chain_hint, candidate, VALID, {"address_type": hinted[0], "network": hinted[1]}
        )
    if len(payload) == 22:
        found = _BASE58_VERSIONS.get(payload[:2])
    elif len(payload) == 21:
        found = _BASE58_VERSIONS.get(payload[:1])
    else:
        return None
    if found is None:
        return None
    scheme, address_type, network = found
    if scheme == "trx":
        try:  # the same check through the chain's own decoder
            TrxAddrDecoder.DecodeAddr(candidate)
        except _DECODE_ERRORS:
            return None
    return ChainAddress(
        scheme, candidate, VALID, {"address_type": address_type, "network": network}
    )


def validate_xrp(candidate: str) -> ChainAddress | None:
    """An XRP Ledger classic address (``r…``, Ripple base58 alphabet)."""
    if not (25 <= len(candidate) <= 35 and candidate[0] == "r"):
        return None
    if not _RIPPLE_CHARS.issuperset(candidate):
        return None
    try:
        XrpAddrDecoder.DecodeAddr(candidate)
    except _DECODE_ERRORS:
        return None
    return ChainAddress("xrp", candidate, VALID, {"address_type": "account", "network": "mainnet"})


def validate_segwit(candidate: str) -> ChainAddress | None:
    """A bech32 (witness v0) or bech32m (v1+, taproot) segwit address; BIP-173 and BIP-350."""
    if len(candidate) > 90 or (candidate != candidate.lower() and candidate != candidate.upper()):
        return None
    lowered = candidate.lower()
    hrp = lowered[: lowered.rfind("1")]
    chain = _SEGWIT_HRPS.get(hrp)
    if chain is None:
        return None
    try:
        version, program = SegwitBech32Decoder.Decode(hrp, lowered)
    except _DECODE_ERRORS:
        return None
    if version == 0:
        address_type = "p2wpkh" if len(program) == 20 else "p2wsh"
    elif version == 1 and len(program) == 32:
        address_type = "p2tr"
    else:
        address_type = f"witness_v{version}"
    details = {"address_type": address_type, "network": chain[1], "witness_version": str(version)}
    return ChainAddress(chain[0], lowered, VALID, details)


def validate_cashaddr(candidate: str) -> ChainAddress | None:
    """A Bitcoin Cash CashAddr, with or without the ``bitcoincash:`` prefix, one case."""
    if candidate != candidate.lower() and candidate != candidate.upper():
        return None
    lowered = candidate.lower()
    body = lowered.removeprefix("bitcoincash:")
    if len(body) != 42 or body[0] not in "qp":
        return None
    address = f"bitcoincash:{body}"
    decoder, address_type = (
        (BchP2PKHAddrDecoder, "p2pkh") if body[0] == "q" else (BchP2SHAddrDecoder, "p2sh")
    )
    try:
        decoder.DecodeAddr(
            address, hrp="bitcoincash", net_ver=b"\x00" if body[0] == "q" else b"\x08"
        )
    except _DECODE_ERRORS:
        return None
    return ChainAddress(
        "bch", body, VALID, {"address_type": address_type, "network": "mainnet", "uri": address}
    )


def validate_evm(candidate: str) -> ChainAddress | None:
    """``0x`` + 40 hex: EIP-55 mixed case verified, one-case hex unverified, wrong case None."""
    if len(candidate) != 42 or candidate[:2] not in ("0x", "0X"):
        return None
    digits = candidate[2:]
    try:
        binascii.unhexlify(digits)
    except (binascii.Error, ValueError):
        return None
    checksummed = "0x" + _EthAddrUtils.ChecksumEncode(digits.lower())
    details = {"checksummed": checksummed}
    if digits == digits.lower() or digits == digits.upper():
        return ChainAddress("evm", "0x" + digits.lower(), UNVERIFIED, details)
    try:
        EthAddrDecoder.DecodeAddr("0x" + digits)
    except _DECODE_ERRORS:
        return None
    return ChainAddress("evm", "0x" + digits.lower(), VALID, details)


# Monero network bytes: standard address, subaddress, integrated address (mainnet).
_XMR_KINDS: Final = {b"\x12": "standard", b"\x2a": "subaddress", b"\x13": "integrated"}


def validate_monero(candidate: str) -> ChainAddress | None:
    """A Monero standard (``4…``), subaddress (``8…``) or integrated address (106 characters).

    Checked as Monero defines an address: Monero's block base58, the network byte, and the
    Keccak-256 checksum (4 bytes) over the rest. The two public keys inside are not decompressed
    onto the curve (bip-utils' decoders do, at 30 times the cost): the checksum already tells a
    real address from a mistyped one, as it does for every other chain here.
    """
    if len(candidate) not in (95, 106) or not _BASE58_SET.issuperset(candidate):
        return None
    try:
        raw = bytes(Base58XmrDecoder.Decode(candidate))
    except _DECODE_ERRORS:
        return None
    size = 1 + 64 + 4 if len(candidate) == 95 else 1 + 64 + 8 + 4
    kind = _XMR_KINDS.get(raw[:1])
    if len(raw) != size or kind is None or (kind == "integrated") != (len(candidate) == 106):
        return None
    if bytes(Kekkak256.QuickDigest(raw[:-4]))[:4] != raw[-4:]:
        return None
    details = {"network": "mainnet", "address_type": kind}
    if kind == "integrated":
        details["payment_id"] = raw[65:73].hex()
    return ChainAddress("xmr", candidate, VALID, details)


def validate_solana(candidate: str) -> ChainAddress | None:
    """A base58 32-byte ed25519 public key. No checksum exists: always ``unverified``."""
    if not 32 <= len(candidate) <= 44 or not _BASE58_SET.issuperset(candidate):
        return None
    try:
        SolAddrDecoder.DecodeAddr(candidate)
    except _DECODE_ERRORS:
        return None
    return ChainAddress("sol", candidate, UNVERIFIED, {"address_type": "account"})
