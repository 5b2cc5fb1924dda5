"""Every signal type by its stable name.

Names are stored in the database and used in the API, so they are checked unique when this module
is imported: a clash is a programming error and must stop start-up, not corrupt banks.
"""

from __future__ import annotations

from bastion.errors import InvalidSignal
from bastion.signals.audio import ChromaprintSignal
from bastion.signals.base import SignalType
from bastion.signals.exact import Md5Signal, Sha256Signal
from bastion.signals.payment import (
    BicSignal,
    CryptoAddressSignal,
    IbanSignal,
    PaymentAccountSignal,
    PhoneSignal,
)
from bastion.signals.pdq import PdqSignal
from bastion.signals.text import TextMinHashSignal, TextSha256Signal, TextShinglesSignal
from bastion.signals.url import DomainSignal, UrlPrefixSignal, UrlSignal
from bastion.signals.video import VpdqSignal

_SIGNAL_TYPES: tuple[type[SignalType], ...] = (
    Md5Signal,
    Sha256Signal,
    PdqSignal,
    VpdqSignal,
    ChromaprintSignal,
    TextSha256Signal,
    TextMinHashSignal,
    TextShinglesSignal,
    UrlSignal,
    UrlPrefixSignal,
    DomainSignal,
    CryptoAddressSignal,
    IbanSignal,
    BicSignal,
    PaymentAccountSignal,
    PhoneSignal,
)


def _by_name(types: tuple[type[SignalType], ...]) -> dict[str, type[SignalType]]:
    found: dict[str, type[SignalType]] = {}
    for signal_type in types:
        if signal_type.name in found:
            raise RuntimeError(
                f"signal type name {signal_type.name!r} is used by both "
                f"{found[signal_type.name].__name__} and {signal_type.__name__}"
            )
        found[signal_type.name] = signal_type
    return found


_BY_NAME = _by_name(_SIGNAL_TYPES)


def get_signal_type(name: str) -> type[SignalType]:
    """The signal type called ``name``; ``InvalidSignal`` when there is none."""
    found = _BY_NAME.get(name) if isinstance(name, str) else None
    if found is None:
        known = ", ".join(sorted(_BY_NAME))
        raise InvalidSignal(
            f"unknown signal type {name!r}; known types: {known}",
            signal_type=name if isinstance(name, str) else None,
        )
    return found


def all_signal_types() -> list[type[SignalType]]:
    """Every registered signal type, in a stable order (exact hashes first)."""
    return list(_SIGNAL_TYPES)
