"""Crypto addresses in text: candidates by one regex, each validated by its chain's checksum.

Finding is one pass of ``[0-9A-Za-z]{25,}`` over the folded text: every address format is a run
of ASCII letters and digits at least 25 long (bech32's separator ``1`` included), and a run is
taken whole, so an address is only found when it stands alone, delimited by anything that is not
an ASCII letter or digit; a longer word, a hash or a 64-hex string is one longer run and never
an address. Each run is sent by its shape (first characters, length) to one validator of
:mod:`bastion.finance.crypto_chains`; nothing is reported that its checksum did not confirm,
except EVM addresses written in one case (status ``unverified``: they have no checksum).

``normalize_crypto_address`` does the same for one value whose chain may be named, as sanctions
lists and analysts do; :data:`LIST_CURRENCY_CHAINS` maps the lists' currency codes to schemes.
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

from bastion.errors import InvalidSignal
from bastion.finance.crypto_chains import (
    ChainAddress,
    validate_base58check,
    validate_cashaddr,
    validate_evm,
    validate_monero,
    validate_segwit,
    validate_solana,
    validate_xrp,
)

__all__ = [
    "LIST_CURRENCY_CHAINS",
    "SCHEMES",
    "FoundAddress",
    "classify_address",
    "find_addresses",
    "normalize_crypto_address",
]

SCHEMES: Final = frozenset(
    {"btc", "evm", "trx", "ltc", "xmr", "bch", "dash", "zec", "xrp", "doge", "btg", "bsv", "xvg"}
    | {"sol"}
)

# Sanctions-list currency codes (OFAC's "Digital Currency Address - <code>" and the like) to
# schemes. None: a token on several chains, the address format decides.
LIST_CURRENCY_CHAINS: Final[dict[str, str | None]] = {
    "XBT": "btc",
    "BTC": "btc",
    "ETH": "evm",
    "ETC": "evm",
    "ARB": "evm",
    "BSC": "evm",
    "BNB": "evm",
    "MATIC": "evm",
    "XMR": "xmr",
    "LTC": "ltc",
    "ZEC": "zec",
    "DASH": "dash",
    "BTG": "btg",
    "BSV": "bsv",
    "BCH": "bch",
    "XVG": "xvg",
    "XRP": "xrp",
    "TRX": "trx",
    "DOGE": "doge",
    "SOL": "sol",
    "USDT": None,
    "USDC": None,
}

# A run of ASCII letters and digits long enough to be an address (the shortest, a base58 P2PKH,
# is 25). Matched runs are maximal, so the run is the whole delimited token.
_TOKEN: Final = re.compile(r"[0-9A-Za-z]{25,}")
_MAX_ADDRESS: Final = 106  # a Monero integrated address; segwit is at most 90


class FoundAddress(NamedTuple):
    start: int  # offsets into the text searched (the folded text)
    end: int
    address: ChainAddress


def classify_address(token: str) -> ChainAddress | None:
    """The chain address ``token`` is (ASCII, whole), or None; no chain named."""
    size = len(token)
    if size > _MAX_ADDRESS or size < 25:
        return None
    first = token[0]
    if first == "0":
        return validate_evm(token) if size == 42 and token[1] in "xX" else None
    head = token[:5].lower()
    if head.startswith(("bc1", "tb1", "ltc1", "tltc1")):
        return validate_segwit(token)
    if size == 42 and first in "qpQP":
        return validate_cashaddr(token)
    if size in (95, 106):
        return validate_monero(token) if first in "48" else None
    if size > 36:
        return None
    if first == "r":
        return validate_xrp(token)
    return validate_base58check(token)


def find_addresses(text: str) -> list[FoundAddress]:
    """Every valid (or unverified EVM) address in ``text``, delimited, in order."""
    found: list[FoundAddress] = []
    for match in _TOKEN.finditer(text):
        token = match.group()
        if len(token) > _MAX_ADDRESS:
            continue
        address = classify_address(token)
        if address is not None:
            found.append(FoundAddress(match.start(), match.end(), address))
    return found


def _scheme_for_hint(chain_hint: str | None) -> str | None:
    if chain_hint is None:
        return None
    hint = chain_hint.strip()
    if hint.lower() in SCHEMES:
        return hint.lower()
    return LIST_CURRENCY_CHAINS.get(hint.upper())


def normalize_crypto_address(value: str, chain_hint: str | None = None) -> tuple[str, str, str]:
    """(scheme, canonical value, status) of one address, or ``InvalidSignal``.

    ``chain_hint`` is a scheme (``btc``, ``evm``...) or a sanctions list's currency code (``XBT``,
    ``ETH``, ``USDT``...; see :data:`LIST_CURRENCY_CHAINS`); unknown hints and tokens that live
    on several chains let the format decide. A hint that contradicts the format is an error,
    except the chains that share bitcoin's formats: ``bsv``, ``bch`` (legacy ``1…``/``3…``
    addresses), ``ltc`` (legacy ``3…``), ``xvg`` (``D…``, as dogecoin).
    """
    if not isinstance(value, str):
        raise InvalidSignal("a crypto address must be a string", signal_type="crypto_address")
    token = value.strip()
    scheme = _scheme_for_hint(chain_hint)
    if token.lower().startswith("bitcoincash:"):
        result = validate_cashaddr(token)
    elif scheme in ("btg", "bsv", "xvg"):
        result = validate_base58check(token, scheme)
        if result is None and scheme == "bsv":
            result = validate_cashaddr(token)
    elif scheme == "sol":
        result = validate_solana(token)
    else:
        result = classify_address(token) if token.isascii() and token.isalnum() else None
    if result is None:
        raise InvalidSignal(
            f"not a valid crypto address{f' for {chain_hint}' if chain_hint else ''}: {value!r}",
            signal_type="crypto_address",
        )
    if scheme is not None and result.scheme != scheme:
        relabel = (result.scheme == "btc" and scheme in ("bch", "bsv", "ltc")) or (
            result.scheme == "doge" and scheme == "xvg"
        )
        if scheme == "bsv" and result.scheme == "bch":
            relabel = True
        if not relabel:
            raise InvalidSignal(
                f"{value!r} is a {result.scheme} address, not {chain_hint}",
                signal_type="crypto_address",
            )
        return scheme, result.value, result.status
    return result.scheme, result.value, result.status
