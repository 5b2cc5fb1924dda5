"""Property: whatever bytes or text arrive, decoders answer with a BastionError or a result.

Random bytes alone mostly stop at sniffing, so each decoder is also fed a valid header (taken from
a real generated file) followed by random bytes, which reaches Pillow's and FFmpeg's parsers.
Each example has a deadline, and a watchdog turns a hang into a failure instead of a stuck run.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from types import FrameType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion.demo.media import make_photo, make_video
from bastion.errors import BastionError
from bastion.signals.base import HashLimits
from bastion.signals.extract import extract_signals
from bastion.signals.pdq import PdqSignal
from bastion.signals.registry import all_signal_types
from bastion.signals.video import VpdqSignal
from bastion.signals.vpdq_format import parse_vpdq

# Pillow warns (and carries on) about damaged EXIF blocks in random TIFF data.
pytestmark = pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")

FUZZ = settings(
    max_examples=80,
    deadline=timedelta(seconds=5),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
HANG_SECONDS = 30
LIMITS = HashLimits(max_image_pixels=4_000_000, max_video_pixels=2_000_000)


class Hang(BaseException):
    """Raised by the watchdog; a BaseException so no decoder error handler can swallow it."""


@contextmanager
def _watchdog(seconds: int) -> Iterator[None]:
    def expired(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _only_bastion_errors(call: Callable[[], object]) -> None:
    with _watchdog(HANG_SECONDS), suppress(BastionError):
        call()


def _jpeg_header() -> bytes:
    data = make_photo(61, size=(64, 48))
    start_of_scan = data.index(b"\xff\xda")
    return data[: start_of_scan + 2 + int.from_bytes(data[start_of_scan + 2 : start_of_scan + 4])]


def _mp4_header() -> bytes:
    # ftyp and a complete index (moov) first, then the start of the media data box.
    data = make_video(62, seconds=1.0, fps=10, size=(64, 48), faststart=True)
    return data[: data.index(b"mdat") + 4]


HEADERS = {
    "jpeg": _jpeg_header(),
    "png": make_photo(63, size=(32, 24), fmt="PNG")[:33],  # signature and IHDR
    "gif": make_photo(64, size=(32, 24), fmt="GIF")[:13],
    "webp": b"RIFF\x00\x10\x00\x00WEBPVP8 ",
    "tiff": b"II*\x00\x08\x00\x00\x00",
    "bmp": b"BM\x36\x10\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00",
    "mp4": _mp4_header(),
    "webm": b"\x1a\x45\xdf\xa3",
    "mpeg-ts": (b"\x47" + bytes(187)) * 3,
}
NAMES = st.sampled_from([None, "a.jpg", "a.png", "clip.mp4", "x.bin", "a.webm"])
TYPES = st.sampled_from([None, "image/jpeg", "video/mp4", "application/octet-stream"])
NOISE = st.binary(max_size=16384)


@FUZZ
@given(data=st.binary(max_size=2048), filename=NAMES, declared_type=TYPES)
def test_extract_signals_on_random_bytes(
    data: bytes, filename: str | None, declared_type: str | None
) -> None:
    _only_bastion_errors(
        lambda: extract_signals(data, filename=filename, declared_type=declared_type, limits=LIMITS)
    )


@pytest.mark.parametrize("header", sorted(HEADERS))
@FUZZ
@given(noise=NOISE)
def test_extract_signals_on_a_valid_header_and_random_bytes(header: str, noise: bytes) -> None:
    _only_bastion_errors(lambda: extract_signals(HEADERS[header] + noise, limits=LIMITS))


@pytest.mark.parametrize("header", ["jpeg", "png", "gif", "webp", "tiff", "bmp"])
@FUZZ
@given(noise=NOISE)
def test_pdq_hash_bytes(header: str, noise: bytes) -> None:
    _only_bastion_errors(lambda: PdqSignal.hash_bytes(HEADERS[header] + noise, LIMITS))
    _only_bastion_errors(lambda: PdqSignal.hash_bytes(noise, LIMITS))


@pytest.mark.parametrize("header", ["mp4", "webm", "mpeg-ts"])
@FUZZ
@given(noise=NOISE)
def test_vpdq_hash_bytes(header: str, noise: bytes) -> None:
    _only_bastion_errors(lambda: VpdqSignal.hash_bytes(HEADERS[header] + noise, LIMITS))
    _only_bastion_errors(lambda: VpdqSignal.hash_bytes(noise, LIMITS))


@FUZZ
@given(data=NOISE)
def test_every_bytes_hasher(data: bytes) -> None:
    for signal_type in all_signal_types():
        hash_bytes = getattr(signal_type, "hash_bytes", None)
        if hash_bytes is not None:
            _only_bastion_errors(lambda hasher=hash_bytes: hasher(data, LIMITS))


_HEX = "0123456789abcdefABCDEF"
_LINE = st.tuples(
    st.one_of(st.integers(-5, 10**13), st.text(max_size=5)),
    st.one_of(st.integers(-5, 200), st.text(max_size=4)),
    st.text(alphabet=_HEX, min_size=60, max_size=66),
    st.one_of(st.floats(allow_nan=True), st.text(max_size=6)),
).map(lambda fields: ",".join(str(field) for field in fields))


@FUZZ
@given(text=st.one_of(st.text(), st.lists(_LINE, max_size=5).map("\n".join)))
def test_vpdq_text_and_every_normalize(text: str) -> None:
    _only_bastion_errors(lambda: parse_vpdq(text))
    for signal_type in all_signal_types():
        _only_bastion_errors(lambda normalize=signal_type.normalize: normalize(text))
