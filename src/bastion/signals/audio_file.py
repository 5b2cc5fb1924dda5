"""Audio content (a song, a speech, a nasheed): its Chromaprint fingerprint and media facts.

Audio files (MP3, WAV, FLAC, Ogg, M4A...) and containers that turned out to hold audio but no
video (an MP4 or WebM of a song) are hashed here; :mod:`bastion.signals.extract` adds the exact
hashes. Unlike a video's soundtrack, which is a bonus next to its vPDQ, the fingerprint is all an
audio file has beyond exact hashes, so audio that cannot be decoded is an error
(``media_corrupt`` / ``media_unsupported``), as a video whose frames cannot be decoded is: the
caller asked for a media scan and must learn that none happened.

The content is still hashed, with exact hashes only and the reason in ``extra['audio_error']``,
when no fingerprint *can* exist:

* ``audio_fingerprinting_unavailable``: libchromaprint is not installed (the file is then only
  opened, to check that it holds an audio stream, not decoded);
* ``audio_too_short``: under 2.72 s of audio, too little for one Chromaprint item.
"""

from __future__ import annotations

import io
from pathlib import Path

import av

from bastion.errors import CorruptMedia
from bastion.signals.audio import AudioSource, audio_fingerprint
from bastion.signals.base import ContentKind, HashLimits, MediaInfo, Signal
from bastion.signals.chromaprint_lib import ChromaprintUnavailable, chromaprint_available
from bastion.signals.video import DECODE_ERRORS


def _probe(source: AudioSource, media: MediaInfo) -> bool:
    """Whether the file has an audio stream; fills in the facts its headers declare."""
    file = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    try:
        container = av.open(file, "r")
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise  # a path that cannot be read is the caller's problem, not bad media
    except DECODE_ERRORS as exc:
        raise CorruptMedia(f"the media could not be opened: {exc}") from exc
    try:
        if not container.streams.audio:
            return False
        stream = container.streams.audio[0]
        codec = stream.codec_context
        if codec is not None:
            media.extra["audio_codec"] = codec.name
            if codec.sample_rate:
                media.extra["audio_sample_rate"] = codec.sample_rate
        if stream.duration is not None and stream.time_base is not None:
            media.duration_seconds = round(float(stream.duration * stream.time_base), 3)
        elif container.duration is not None:
            media.duration_seconds = round(container.duration / av.time_base, 3)
        return True
    finally:
        container.close()


def hash_audio(
    source: bytes | Path, limits: HashLimits, *, fmt: str | None = None
) -> tuple[MediaInfo, list[Signal]] | None:
    """The media facts and ``chromaprint`` signal (if any) of audio content; ``None`` when the
    file has no audio stream at all (the caller decides what that is: a broken audio file, or
    a video container without any media).

    Audio past ``limits.max_video_seconds`` is not fingerprinted (``extra['audio_limited']``),
    as for a video's soundtrack; ``duration_seconds`` is then the audio that was.
    Raises ``CorruptMedia`` / ``UnsupportedMedia`` for audio that cannot be decoded.
    """
    media = MediaInfo(kind=ContentKind.AUDIO)
    if fmt:
        media.extra["format"] = fmt
    reason = "audio_fingerprinting_unavailable"
    if chromaprint_available():
        try:
            audio = audio_fingerprint(source, limits)
        except ChromaprintUnavailable:
            audio = None  # failed to load after all: hash without it
        else:
            reason = "audio_too_short"
        if audio is not None:
            media.duration_seconds = round(audio.seconds, 3)
            media.extra.update(audio.extra)
            return media, [audio.signal()]
    # No fingerprint: learn whether there is audio at all (a cheap look at the headers).
    if not _probe(source, media):
        return None
    media.extra["audio_error"] = reason
    return media, []
