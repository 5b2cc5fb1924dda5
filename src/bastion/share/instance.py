"""This instance as a STIX producer: its stable name and ``identity`` object.

The name is the fingerprint of the instance's signing key, so the identity id (and every id
derived from it: indicators, sightings, opinions) stays the same across restarts and replicas
that share the key, and changes only if the key does.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from bastion.share import stix
from bastion.share.signing import InstanceIdentity


@dataclass(frozen=True, slots=True)
class Instance:
    name: str  # stable: this instance's signing-key fingerprint
    identity: dict[str, Any]

    @property
    def producer(self) -> str:
        return str(self.identity["id"])


@lru_cache(maxsize=8)
def this_instance(data_dir: Path) -> Instance:
    """The instance whose key lives in ``data_dir`` (created on first use)."""
    fingerprint = InstanceIdentity.load_or_create(data_dir).fingerprint
    name = f"Bastion instance {fingerprint[:16]}"
    return Instance(name=fingerprint, identity=stix.identity(name, instance=fingerprint))
