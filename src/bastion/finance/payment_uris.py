"""Payment URIs (BIP-21 and its kin, EIP-681) and Lightning invoices and LNURLs.

* ``bitcoin:ADDR?amount=…&label=…&message=…`` (BIP-21) and the same form for ``litecoin:``,
  ``dogecoin:``, ``monero:`` (``tx_amount``, ``recipient_name``, ``tx_description``),
  ``bitcoincash:`` and ``tron:``; ``ethereum:[pay-]0x…[@chain][/function]?value=…`` (EIP-681).
  The address inside is validated like any other (:func:`bastion.finance.crypto.classify_address`);
  a URI whose address fails is not reported. Query parameters go into ``details``.
* BOLT-11 invoices (``lnbc…``, ``lntb…``, ``lnbcrt…``, ``lntbs…``, optionally ``lightning:``):
  their bech32 checksum is verified here with the BIP-173 polymod (invoices are longer than the
  90 characters bech32 libraries accept); the amount of the human-readable part is parsed.
* LNURL (``lnurl1…``): bech32 with the same checksum; the URL it encodes goes to
  ``details["url"]``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Final, NamedTuple
from urllib.parse import parse_qsl

from bastion.finance.crypto import classify_address
from bastion.finance.crypto_chains import ChainAddress

__all__ = [
    "FoundUri",
    "bech32_polymod",
    "find_lightning",
    "find_payment_uris",
    "parse_bolt11",
    "parse_lightning",
    "parse_lnurl",
]

_CHARSET: Final = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_CHARSET_INDEX: Final = {char: index for index, char in enumerate(_CHARSET)}
_GENERATOR: Final = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_BECH32_CONST: Final = 1
_MAX_INVOICE: Final = 7089  # the longest string a QR code holds: past it, not an invoice


class FoundUri(NamedTuple):
    start: int  # offsets into the text searched
    end: int
    kind: str  # "crypto_address" or "lightning"
    scheme: str
    value: str
    status: str
    details: dict[str, str]


def bech32_polymod(values: list[int]) -> int:
    """The BIP-173 checksum polynomial over ``values`` (5-bit groups)."""
    check = 1
    for value in values:
        top = check >> 25
        check = (check & 0x1FFFFFF) << 5 ^ value
        for bit in range(5):
            if (top >> bit) & 1:
                check ^= _GENERATOR[bit]
    return check


def _bech32_decode(text: str) -> tuple[str, list[int]] | None:
    """(hrp, data without checksum) of a bech32 (not bech32m) string of any length, or None."""
    if text != text.lower() and text != text.upper():
        return None
    lowered = text.lower()
    separator = lowered.rfind("1")
    if separator < 1 or separator + 7 > len(lowered):
        return None
    hrp = lowered[:separator]
    try:
        data = [_CHARSET_INDEX[char] for char in lowered[separator + 1 :]]
    except KeyError:
        return None
    expanded = [ord(char) >> 5 for char in hrp] + [0] + [ord(char) & 31 for char in hrp]
    if bech32_polymod(expanded + data) != _BECH32_CONST:
        return None
    return hrp, data[:-6]


def _from_5bit(data: list[int]) -> bytes | None:
    accumulator = bits = 0
    out = bytearray()
    for value in data:
        accumulator = (accumulator << 5) | value
        bits += 5
        while bits >= 8:
            bits -= 8
            out.append((accumulator >> bits) & 0xFF)
    if bits >= 5 or (accumulator & ((1 << bits) - 1)):
        return None
    return bytes(out)


_BOLT11_HRP: Final = re.compile(r"ln(bcrt|bc|tbs|tb|sb)(?:(\d+)([munp])?)?")
_NETWORKS: Final = {
    "bc": "mainnet",
    "tb": "testnet",
    "tbs": "signet",
    "bcrt": "regtest",
    "sb": "simnet",
}
_MULTIPLIERS: Final = {
    "m": Decimal("0.001"),
    "u": Decimal("0.000001"),
    "n": Decimal("0.000000001"),
    "p": Decimal("0.000000000001"),
}


def parse_bolt11(invoice: str) -> dict[str, str] | None:
    """Details of a BOLT-11 invoice whose checksum holds (network, amount), else None."""
    if len(invoice) > _MAX_INVOICE:
        return None
    decoded = _bech32_decode(invoice)
    if decoded is None:
        return None
    hrp, data = decoded
    matched = _BOLT11_HRP.fullmatch(hrp)
    # timestamp (7 groups) and signature (104 groups) at least
    if matched is None or len(data) < 7 + 104:
        return None
    currency, digits, multiplier = matched.groups()
    details = {"network": _NETWORKS[currency], "currency_prefix": currency}
    if digits is not None:
        if digits.startswith("0"):
            return None
        amount = Decimal(digits) * _MULTIPLIERS[multiplier] if multiplier else Decimal(digits)
        msat = amount * Decimal(100_000_000_000)
        if msat != msat.to_integral_value():
            return None  # a pico amount that is not whole millisatoshis
        details["amount_btc"] = format(amount.normalize(), "f")
        details["amount_msat"] = str(int(msat))
    timestamp = 0
    for value in data[:7]:
        timestamp = timestamp * 32 + value
    details["timestamp"] = str(timestamp)
    return details


def parse_lnurl(text: str) -> dict[str, str] | None:
    """``{"url": ...}`` of an LNURL (bech32, hrp ``lnurl``) whose checksum holds, else None."""
    if len(text) > _MAX_INVOICE:
        return None
    decoded = _bech32_decode(text)
    if decoded is None or decoded[0] != "lnurl":
        return None
    payload = _from_5bit(decoded[1])
    if payload is None:
        return None
    try:
        url = payload.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not url.lower().startswith(("https://", "http://")) or not url.isprintable():
        return None
    return {"url": url}


def parse_lightning(token: str) -> tuple[str, dict[str, str]] | None:
    """(canonical lower-case value, details) of a BOLT-11 invoice or LNURL, else None."""
    head = token[:5].lower()
    if head == "lnurl":
        details = parse_lnurl(token)
        if details is not None:
            details["type"] = "lnurl"
    elif head.startswith("ln"):
        details = parse_bolt11(token)
        if details is not None:
            details["type"] = "bolt11"
    else:
        return None
    return None if details is None else (token.lower(), details)


# A long letters-and-digits run starting with "ln": invoices and LNURLs, delimited like addresses.
_LIGHTNING_TOKEN: Final = re.compile(r"(?<![0-9A-Za-z])[lL][nN][0-9A-Za-z]{60,}")


def find_lightning(text: str) -> list[FoundUri]:
    """Every BOLT-11 invoice and LNURL in ``text`` (a ``lightning:`` prefix is taken in)."""
    found: list[FoundUri] = []
    for match in _LIGHTNING_TOKEN.finditer(text):
        if match.end() < len(text) and text[match.end()].isascii() and text[match.end()].isalnum():
            continue
        found_one = lightning_at(text, match.start(), match.end())
        if found_one is not None:
            found.append(found_one)
    return found


def lightning_at(text: str, start: int, end: int) -> FoundUri | None:
    """The Lightning finding for the token ``text[start:end]``, with its ``lightning:`` prefix."""
    parsed = parse_lightning(text[start:end])
    if parsed is None:
        return None
    value, details = parsed
    if start >= 10 and text[start - 10 : start].lower() == "lightning:":
        start -= 10
    return FoundUri(start, end, "lightning", "lightning", value, "valid", details)


# --- BIP-21 / EIP-681 ------------------------------------------------------------------------

_URI_SCHEMES: Final = {
    "bitcoin": "btc",
    "litecoin": "ltc",
    "dogecoin": "doge",
    "monero": "xmr",
    "bitcoincash": "bch",
    "ethereum": "evm",
    "tron": "trx",
    "dash": "dash",
    "zcash": "zec",
    "ripple": "xrp",
}
_URI: Final = re.compile(
    r"(?<![0-9A-Za-z])(bitcoin|litecoin|dogecoin|monero|bitcoincash|ethereum|tron|dash|zcash"
    r"|ripple|lightning):(?://)?([^\s<>\"'`\u00ab\u00bb\u201c\u201d]{14,2048})",
    re.IGNORECASE,
)
_TRAILING: Final = ".,;:!?)]}*'\u060c\u061b\u061f\u06d4\u3001\u3002"
# Query parameters kept in details, by their names in BIP-21, EIP-681 and Monero's URI scheme.
_KEPT: Final = (
    "amount",
    "label",
    "message",
    "value",
    "gas",
    "gasLimit",
    "gasPrice",
    "tx_amount",
    "tx_description",
    "recipient_name",
    "dt",
    "memo",
    "lightning",
)


def find_payment_uris(text: str) -> list[FoundUri]:
    """Payment URIs in ``text`` whose address validates; offsets cover the whole URI."""
    found: list[FoundUri] = []
    for match in _URI.finditer(text):
        body = match.group(2).rstrip(_TRAILING)
        end = match.start(2) + len(body)
        uri_scheme = match.group(1).lower()
        if uri_scheme == "lightning":
            token = re.match(r"[0-9A-Za-z]+", body)
            if token is not None:
                item = lightning_at(text, match.start(2), match.start(2) + token.end())
                if item is not None:
                    found.append(item._replace(start=match.start()))
            continue
        parsed = _parse_uri(uri_scheme, body)
        if parsed is not None:
            scheme, value, status, details = parsed
            found.append(
                FoundUri(match.start(), end, "crypto_address", scheme, value, status, details)
            )
    return found


def _parse_uri(uri_scheme: str, body: str) -> ChainAddress | None:
    target, _, query = body.partition("?")
    details: dict[str, str] = {"uri_scheme": uri_scheme}
    if uri_scheme == "ethereum":
        target = target.removeprefix("pay-")
        target, _, function = target.partition("/")
        target, _, chain_id = target.partition("@")
        if chain_id:
            details["chain_id"] = chain_id
        if function:
            details["function"] = function
    elif uri_scheme == "bitcoincash":
        target = "bitcoincash:" + target
    address = _address(target)
    if address is None or (
        _URI_SCHEMES[uri_scheme] != address.scheme
        and not (uri_scheme == "bitcoincash" and address.scheme == "btc")
    ):
        return None
    for name, value in parse_qsl(query, keep_blank_values=False)[:32]:
        if name in _KEPT and name not in details:
            details[name] = value[:500]
    return ChainAddress(address.scheme, address.value, address.status, details | address.details)


def _address(target: str) -> ChainAddress | None:
    if target.lower().startswith("bitcoincash:"):
        body = target[12:]
        if len(body) == 42 and body.isalnum():
            return classify_address(body)
        return classify_address(body) if body.isascii() and body.isalnum() else None
    if not (target.isascii() and target.isalnum()):
        return None
    return classify_address(target)
