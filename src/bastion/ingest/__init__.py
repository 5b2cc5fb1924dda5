"""Ingest: turn what arrives (uploads, URLs, text, streams, partner feeds) into content.

URL fetching is guarded: see :mod:`bastion.ingest.url_fetch`.
"""

from bastion.ingest.url_fetch import FetchedContent, FetchPolicy, fetch_url

__all__ = ["FetchPolicy", "FetchedContent", "fetch_url"]
