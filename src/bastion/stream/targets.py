"""Which stream sources the API may open, checked before anything connects.

A stream URL is opened by FFmpeg inside the server, so an API caller who could name any URL could
make the server connect anywhere (the internal network, a cloud metadata address) or read its
files. The API therefore accepts only the streaming schemes, refuses hosts that are or resolve to
private, loopback or link-local addresses unless ``BASTION_STREAM_ALLOW_PRIVATE`` says the media
servers are internal, and plays files only from ``BASTION_STREAM_FILES_DIR``. FFmpeg resolves the
name again when it connects; the check refuses names that point inside at the time of asking,
which is what a caller controls. `bastion watch` is run by the operator and is not held to this.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from bastion.errors import UrlBlocked
from bastion.ingest.address_policy import blocked_reason, system_resolver
from bastion.settings import Settings

STREAM_SCHEMES: Final = frozenset({"rtmp", "rtmps", "rtsp", "rtsps", "http", "https", "srt"})
_DEFAULT_PORTS: Final = {
    "rtmp": 1935,
    "rtmps": 443,
    "rtsp": 554,
    "rtsps": 322,
    "http": 80,
    "https": 443,
    "srt": 9000,
}
MAX_SOURCE_LENGTH: Final = 4096


@dataclass(frozen=True, slots=True)
class CheckedSource:
    target: str  # what open_source gets: the URL, or an absolute file path
    is_file: bool


def _check_file(text: str, settings: Settings) -> CheckedSource:
    if settings.stream_files_dir is None:
        raise UrlBlocked(
            "file sources are refused: set BASTION_STREAM_FILES_DIR to a folder of videos the "
            "API may play as live streams"
        )
    root = settings.stream_files_dir.resolve()
    path = Path(text.removeprefix("file://"))
    resolved = (path if path.is_absolute() else root / path).resolve()
    if not resolved.is_relative_to(root):
        raise UrlBlocked("file sources must lie inside BASTION_STREAM_FILES_DIR")
    return CheckedSource(str(resolved), True)


def check_stream_source(text: str, settings: Settings) -> CheckedSource:
    """Validate a source named through the API; ``UrlBlocked`` says why it is refused."""
    text = text.strip()
    if not text or len(text) > MAX_SOURCE_LENGTH:
        raise UrlBlocked(f"a source is 1-{MAX_SOURCE_LENGTH} characters")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in text):
        raise UrlBlocked("the source contains control characters")
    if "://" not in text or text.startswith("file://"):
        return _check_file(text, settings)
    try:
        parts = urlsplit(text)
        port = parts.port
        host = (parts.hostname or "").lower()
    except ValueError:
        raise UrlBlocked("the stream URL is malformed") from None
    scheme = parts.scheme.lower()
    if scheme not in STREAM_SCHEMES:
        allowed = ", ".join(sorted(STREAM_SCHEMES))
        raise UrlBlocked(f"streams are watched over {allowed}", scheme=scheme[:32])
    if not host:
        raise UrlBlocked("the stream URL has no host")
    if settings.stream_allow_private:
        return CheckedSource(text, False)
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            addresses = system_resolver(host, port or _DEFAULT_PORTS[scheme])
        except (OSError, UnicodeError):
            addresses = []  # FFmpeg will report the unknown host as fetch_failed when it tries
    for address in addresses:
        reason = blocked_reason(address)
        if reason is not None:
            raise UrlBlocked(
                f"host {host} is or resolves to an address that is not allowed: {reason}; set "
                "BASTION_STREAM_ALLOW_PRIVATE=true if your media servers are internal",
                host=host,
            )
    return CheckedSource(text, False)
