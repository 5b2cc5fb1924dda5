"""Partner hash programmes as feed sources: ThreatExchange, TAT, NCMEC, StopNCII and local files.

:func:`build_source` turns a partner, its decrypted credentials and one subscription into a
:class:`bastion.share.feeds.FeedSource`. Each programme's module speaks that programme's documented
API (as python-threatexchange's clients do) through ``_http.PartnerHttp``, which applies the
outbound address policy, the timeout and the page size cap.
Credentials are held by the source object only; no ``repr``, log line or error detail shows them.
"""

from __future__ import annotations

from bastion.errors import InvalidInput
from bastion.settings import Settings
from bastion.share.exchanges._http import PartnerHttp
from bastion.share.exchanges._pages import default_labels, need
from bastion.share.exchanges.files import FileSource, folder_of
from bastion.share.exchanges.ncmec import NcmecSource
from bastion.share.exchanges.stopncii import StopNciiSource
from bastion.share.exchanges.tat import TatSource
from bastion.share.exchanges.threatexchange import ThreatExchangeSource
from bastion.share.feeds import FeedSource
from bastion.share.partners import PartnerInfo, PartnerKind
from bastion.storage.share_models import SubscriptionRow

__all__ = [
    "FileSource",
    "NcmecSource",
    "StopNciiSource",
    "TatSource",
    "ThreatExchangeSource",
    "build_source",
]


def build_source(
    partner: PartnerInfo,
    credentials: dict[str, str],
    subscription: SubscriptionRow,
    settings: Settings,
) -> FeedSource:
    """The feed of ``subscription`` at ``partner``; InvalidInput if it cannot be configured."""
    labels = default_labels(partner.options)
    collection = subscription.remote_collection or ""
    kind = partner.kind
    if kind == PartnerKind.FILE:
        return FileSource(
            folder=folder_of(partner.url, partner.options),
            name=collection,
            labels=labels,
            default_type=str(partner.options.get("signal_type") or ""),
            settings=settings,
        )
    http = PartnerHttp(settings, kind.value)
    if kind == PartnerKind.THREATEXCHANGE:
        (token,) = need(credentials, "threatexchange", "access_token")
        return ThreatExchangeSource(
            http,
            base_url=partner.url,
            token=token,
            privacy_group=collection,
            labels=labels,
            settings=settings,
        )
    if kind == PartnerKind.TAT:
        username, password = need(credentials, "tat", "username", "password")
        return TatSource(
            http,
            base_url=partner.url,
            username=username,
            password=password,
            list_name=collection,
            labels=labels,
            settings=settings,
        )
    if kind == PartnerKind.NCMEC:
        username, password = need(credentials, "ncmec", "username", "password")
        return NcmecSource(
            http,
            base_url=partner.url,
            username=username,
            password=password,
            environment=collection,
            labels=labels,
            negative_reason=str(partner.options.get("negative_reason") or ""),
            settings=settings,
        )
    if kind == PartnerKind.STOPNCII:
        subscription_key, fetch_key = need(
            credentials, "stopncii", "subscription_key", "fetch_function_key"
        )
        return StopNciiSource(
            http,
            base_url=partner.url,
            subscription_key=subscription_key,
            fetch_key=fetch_key,
            feedback_key=credentials.get("feedback_function_key", ""),
            labels=labels,
            settings=settings,
        )
    raise InvalidInput(f"partners of kind {kind.value!r} are not hash programmes")
