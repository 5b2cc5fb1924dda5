"""Bastion: find, share and act on terrorist and violent extremist content.

The public library API. Everything else is internal and may change between releases. Names load
on first use (PEP 562), so importing one small module such as ``bastion.errors`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bastion.errors import BastionError
    from bastion.runtime import Bastion
    from bastion.settings import Settings, get_settings
    from bastion.signals.base import ContentKind, HashLimits, Signal
    from bastion.signals.extract import Extraction, extract_signals, extract_signals_from_path

__all__ = [
    "Bastion",
    "BastionError",
    "ContentKind",
    "Extraction",
    "HashLimits",
    "Settings",
    "Signal",
    "extract_signals",
    "extract_signals_from_path",
    "get_settings",
]

__version__ = "0.1.0"

_HOMES = {
    "Bastion": "bastion.runtime",
    "BastionError": "bastion.errors",
    "ContentKind": "bastion.signals.base",
    "Extraction": "bastion.signals.extract",
    "HashLimits": "bastion.signals.base",
    "Settings": "bastion.settings",
    "Signal": "bastion.signals.base",
    "extract_signals": "bastion.signals.extract",
    "extract_signals_from_path": "bastion.signals.extract",
    "get_settings": "bastion.settings",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'bastion' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
