"""The shape every sanctions list reader yields, whatever the list's own format.

Names follow the FollowTheMoney model where it fits (``schema`` is an FtM schema name; ``Person``,
``Organization``, ``LegalEntity``, ``Vessel``, ``Airplane``), so entities can be exported as FtM
and compared across lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Final

# Stable source ids (stored; used in the API and CLI).
OFAC_SDN: Final = "ofac_sdn"
UN_SC: Final = "un_sc"
UK_SL: Final = "uk_sl"
EU_FSF: Final = "eu_fsf"
SOURCES: Final = (OFAC_SDN, UN_SC, UK_SL, EU_FSF)

# Kinds of name.
PRIMARY: Final = "primary"
ALIAS: Final = "alias"  # a.k.a., strong
WEAK_ALIAS: Final = "weak_alias"  # OFAC "weak" a.k.a. / UN "low quality": reported, scored lower
FORMER: Final = "former"  # f.k.a.


@dataclass(frozen=True, slots=True)
class ListName:
    """One name of an entity as the list writes it (any script)."""

    name: str
    kind: str = PRIMARY
    script: str = ""  # ISO 15924 when the list says (``Arab``, ``Cyrl``), else ""
    language: str = ""


@dataclass(frozen=True, slots=True)
class ListIdentifier:
    """A document or registration number (passport, national id, IMO number, tax id...)."""

    type: str
    value: str
    country: str = ""


@dataclass(frozen=True, slots=True)
class ListWallet:
    """A digital currency address as the list gives it: ``currency`` is the list's own code
    (OFAC ``XBT``, ``ETH``, ``USDT``...), ``address`` as written (not yet validated)."""

    currency: str
    address: str


@dataclass(slots=True)
class ListEntity:
    """One designated person, organisation, vessel or aircraft."""

    source: str
    external_id: str  # the list's own id (OFAC uid, UN reference number, UK/EU ids)
    schema: str  # FtM schema name
    names: list[ListName]
    identifiers: list[ListIdentifier] = field(default_factory=list)
    wallets: list[ListWallet] = field(default_factory=list)
    programs: list[str] = field(default_factory=list)  # sanctions programmes / regimes
    listed_on: date | None = None
    birth_dates: list[str] = field(default_factory=list)  # as written: "1971", "1971-05-03"
    nationalities: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)  # addresses' countries
    remarks: str = ""

    @property
    def caption(self) -> str:
        """The name shown for the entity: its first primary name."""
        for name in self.names:
            if name.kind == PRIMARY:
                return name.name
        return self.names[0].name if self.names else self.external_id


@dataclass(frozen=True, slots=True)
class ListHeader:
    """What the file says about itself: which list, published when."""

    source: str
    format: str  # e.g. "ofac_advanced_xml", "ofac_sdn_xml", "ofac_sdn_csv", "un_xml", ...
    published: date | None
    version: str = ""  # the list's own label, e.g. a publish id
