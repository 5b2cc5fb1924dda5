"""STIX patterns of the profile: which object path each signal type is compared on, and the
literal's escaping (``docs/stix-profile.md``, "Patterns"). Pure functions, no database.

:mod:`bastion.share.stix` builds and reads the objects around these patterns; this module is the
mapping between Bastion's signal types and STIX pattern paths, kept apart so each reads on its
own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from bastion.errors import StixUnsupported

# Signal type -> the object path its pattern compares.
_STANDARD_PATHS: Final[Mapping[str, str]] = {
    "md5": "file:hashes.MD5",
    "sha256": "file:hashes.'SHA-256'",
    "url": "url:value",
    "domain": "domain-name:value",
    "url_prefix": "x-bastion-url-prefix:value",
    # Payment instruments (docs/finance.md). The wallet, bank-account and phone-number types are
    # the observables other threat-intelligence platforms use for them (STIX 2.1 has none);
    # a wallet's literal is the bare address (its format names the chain again on import).
    "crypto_address": "cryptocurrency-wallet:value",
    "iban": "bank-account:iban",
    "phone": "phone-number:value",
    "bic": "x-bastion-bic:value",
    "payment_account": "x-bastion-payment-account:value",
}
# Other spellings of the same paths that producers use, accepted on import.
_PATH_ALIASES: Final[Mapping[str, str]] = {"cryptocurrency-wallet:address": "crypto_address"}
_CUSTOM_HASHED: Final = (
    "pdq",
    "vpdq",
    "chromaprint",
    "text_sha256",
    "text_minhash",
    "text_shingles",
)
PATTERN_PATHS: Final[Mapping[str, str]] = {
    **_STANDARD_PATHS,
    **{name: f"file:hashes.'x_bastion_{name}'" for name in _CUSTOM_HASHED},
}
# The version of the value format / algorithm each signal type's values are in.
ALGORITHM_VERSIONS: Final[Mapping[str, str]] = {
    "md5": "md5",
    "sha256": "sha256",
    "pdq": "pdq-1",
    "vpdq": "vpdq-1",
    "chromaprint": "cp1",
    "text_sha256": "text-normalize-1",
    "text_minhash": "mh1",
    "text_shingles": "sh1",
    "url": "url-canonical-1",
    "url_prefix": "url-canonical-1",
    "domain": "domain-1",
    "crypto_address": "crypto-address-1",
    "iban": "iban-1",
    "bic": "bic-1",
    "payment_account": "payment-account-1",
    "phone": "e164-1",
}
# One comparison of the profile: [<path> = '<string literal>'] (DOTALL: vPDQ values hold newlines).
_PATTERN_RE: Final = re.compile(
    r"\[\s*(?P<path>[a-z0-9-]+:[A-Za-z0-9_.'-]+)\s*=\s*'(?P<literal>(?:[^'\\]|\\['\\])*)'\s*\]",
    re.DOTALL,
)
_HASH_PATH_RE: Final = re.compile(r"file:hashes\.(?:'(?P<quoted>[A-Za-z0-9_-]+)'|(?P<bare>\w+))")
# Hash names (lower case) accepted on import, beyond the ones this profile writes.
_HASH_ALIASES: Final[Mapping[str, str]] = {
    "md5": "md5",
    "sha-256": "sha256",
    "pdq": "pdq",  # the bare name some hash-sharing tools use
    **{f"x_bastion_{name}": name for name in _CUSTOM_HASHED},
}


def escape_literal(value: str) -> str:
    """A STIX pattern string literal's body: backslashes and single quotes escaped."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _unescape_literal(body: str) -> str:
    return re.sub(r"\\(['\\])", r"\1", body)


def pattern_for(signal_type: str, value: str) -> str:
    """The STIX pattern for one signal; ``StixUnsupported`` for a type outside the profile."""
    path = PATTERN_PATHS.get(signal_type)
    if path is None:
        raise StixUnsupported(
            f"signal type {signal_type!r} has no STIX pattern in this profile",
            signal_type=signal_type,
        )
    if signal_type == "crypto_address":
        value = value.partition(":")[2] or value
    return f"[{path} = '{escape_literal(value)}']"


def parse_pattern(pattern: str) -> tuple[str, str]:
    """``(signal_type, raw value)`` of a pattern of this profile; ``StixUnsupported`` otherwise."""
    found = _PATTERN_RE.fullmatch(pattern.strip())
    if found is None:
        raise StixUnsupported(
            "pattern is not a single equality comparison of this profile "
            "([<object path> = '<value>'])"
        )
    path, value = found["path"], _unescape_literal(found["literal"])
    hashed = _HASH_PATH_RE.fullmatch(path)
    if hashed is not None:
        name = (hashed["quoted"] or hashed["bare"]).lower()
        signal_type = _HASH_ALIASES.get(name)
        if signal_type is None:
            raise StixUnsupported(f"hash {name!r} is not one Bastion matches", path=path)
        return signal_type, value
    for signal_type, known in _STANDARD_PATHS.items():
        if path == known:
            return signal_type, value
    if path in _PATH_ALIASES:
        return _PATH_ALIASES[path], value
    raise StixUnsupported(f"pattern path {path!r} is not in this profile", path=path)
