"""What the extractors find: one :class:`Instrument` per payment identifier in a text.

Every extractor in :mod:`bastion.finance` returns these, so the scan pipeline, the API and the
reports see one shape. Offsets are code-point offsets into the text as it was given (before any
folding of look-alike characters), so the UI can highlight exactly what the poster wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

# Kinds of instrument (stable: stored with findings, used in the API).
CRYPTO_ADDRESS: Final = "crypto_address"
LIGHTNING: Final = "lightning"  # a BOLT-11 invoice or an LNURL
IBAN: Final = "iban"
BIC: Final = "bic"
PAYMENT_LINK: Final = "payment_link"
PHONE: Final = "phone"
KINDS: Final = (CRYPTO_ADDRESS, LIGHTNING, IBAN, BIC, PAYMENT_LINK, PHONE)

# How far a value was verified.
VALID: Final = "valid"  # its checksum (or the platform's handle rules) holds
# Well-formed but carrying no checksum that could be tested: an all-lowercase (or all-upper)
# EVM address, a phone number only plausible for its country. Never to be read as "invalid".
UNVERIFIED: Final = "unverified"

# Characters of context kept on each side of a finding, as its evidence.
EVIDENCE_CHARS: Final = 80


@dataclass(frozen=True, slots=True)
class Instrument:
    """One payment identifier found in a text.

    ``scheme``: the chain for crypto (``btc``, ``evm``, ``trx``, ``ltc``, ``xmr``, ``bch``,
    ``dash``, ``zec``, ``xrp``, ``doge``...), ``iban``/``bic``, the platform id for a payment link
    (``paypal``, ``gofundme``...), ``lightning``, or ``phone``. ``value`` is the canonical form,
    the one banks store (see :attr:`signal_value`). ``raw`` is the text exactly as written, at
    ``start``:``end`` of the original text. ``folded`` is true when look-alike characters had to
    be folded to read it: a strong sign someone tried to hide it from filters.
    """

    kind: str
    scheme: str
    value: str
    raw: str
    start: int
    end: int
    status: str = VALID
    folded: bool = False
    evidence: str = ""
    details: dict[str, str] = field(default_factory=dict)

    @property
    def signal_type(self) -> str:
        """The signal type a bank stores this instrument as."""
        return {
            CRYPTO_ADDRESS: "crypto_address",
            LIGHTNING: "crypto_address",
            IBAN: "iban",
            BIC: "bic",
            PAYMENT_LINK: "payment_account",
            PHONE: "phone",
        }[self.kind]

    @property
    def signal_value(self) -> str:
        """The value a bank stores: ``scheme:value`` where a value alone is ambiguous."""
        if self.kind in (CRYPTO_ADDRESS, LIGHTNING, PAYMENT_LINK):
            return f"{self.scheme}:{self.value}"
        return self.value

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "scheme": self.scheme,
            "value": self.value,
            "raw": self.raw,
            "start": self.start,
            "end": self.end,
            "status": self.status,
            "folded": self.folded,
            "evidence": self.evidence,
            "details": dict(self.details),
            "signal": {"type": self.signal_type, "value": self.signal_value},
        }


def evidence_around(text: str, start: int, end: int, chars: int = EVIDENCE_CHARS) -> str:
    """The text around ``start``:``end``, cut at ``chars`` on each side, with ``…`` where cut."""
    left = max(0, start - chars)
    right = min(len(text), end + chars)
    prefix = "…" if left > 0 else ""
    suffix = "…" if right < len(text) else ""
    return f"{prefix}{text[left:right]}{suffix}"
