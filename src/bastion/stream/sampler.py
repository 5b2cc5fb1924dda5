"""Which frames of a live stream to hash, hashing them cheaply, and a governor that keeps up.

Sampling: a frame is hashed when it is the first, in stream time, of its 1/rate-second slot
(as ``hash_video`` samples), at ``target_rate`` (default once a second) unless the governor
lowered it.

Reduced resolution: a frame is scaled by swscale inside the same ``reformat`` call that converts
it to RGB, so its long side is at most ``max_side`` pixels. PDQ reduces every picture to 64x64
anyway, and colour conversion plus the luma filter - most of the per-frame work after decoding -
shrink with the pixel count. But PDQ's box filter is sized from the input, so a smaller input is
not free. Measured against the native-size hash of :mod:`bastion.signals.video` on demo videos
(``make_video`` seeds 1-4, 30 frames each, frames of quality >= 50; bits: mean / p95 / max; thread
CPU for scaling, conversion and PDQ per frame):

==========  =====================  =====================
long side   1280x720 source        640x360 source
==========  =====================  =====================
native      0 / 0 / 0, 7.1 ms      0 / 0 / 0, 1.9 ms
480 (used)  5.5 / 10 / 12, 2.0 ms  4.9 / 8 / 12, 1.4 ms
360         9.7 / 16 / 18, 1.5 ms  12.6 / 18 / 24, 1.0 ms
==========  =====================  =====================

360 would spend up to 24 of the 31-bit threshold before any re-encoding or overlay of a copy;
480 keeps the mean cost near 5 bits for a 3.5x saving on HD. Bilinear, area and bicubic scaling
gave the same distances within 0.1 bit; swscale's fast bilinear lost 1-3 bits more.

Governor: the watcher reports after each frame how far behind live it is (``observe``). Past
``max_lag_seconds`` the rate is halved (down to ``min_rate``), at most once per two sampling
intervals so the last cut can take effect first; past twice that bound frames are not hashed at
all until the lag is back under the bound (catching up beats hashing stale frames). After
``recover_seconds`` of stream time with the lag under a quarter of the bound the rate doubles
back towards the target. Every change is visible in :class:`SamplerStatus`, so an operator sees
"sampling 0.25/s, 3.2 s behind" instead of a watcher silently drifting.

Decoding, not hashing, is most of the cost (see :mod:`bastion.stream.source`), so a watcher can
fall behind even when it hashes nothing. The governor then asks for keyframes only
(``decode_mode`` "keyframes", about a tenth of the decode cost; a live stream has a keyframe
every 1-4 s) when

* it is still past the bound two sampling intervals after reaching ``min_rate``, or
* it is past twice the bound (hashing nothing) and has been past the bound for
  ``2 * max_lag_seconds`` of stream time.

Keyframes are few, so while on them every keyframe is hashed, up to ``target_rate``. Once the lag
has stayed under a quarter of the bound for the hold time (``recover_seconds`` at first) full
decoding resumes at ``min_rate`` (the source switches at the next keyframe) and the rate climbs
as above. A return to full decoding that falls behind again within ``recover_seconds`` doubles
the hold (up to 8 times): a machine that cannot decode the stream settles on keyframes, reported,
instead of drifting behind live.

Confirmation: when a sampled frame matches a banked entry, the watcher calls :meth:`confirm` and
the sampler takes frames at :data:`CONFIRM_RATE` (2 a second) for :data:`CONFIRM_SECONDS`, so the
temporal evidence (3 frames spanning at least a second) completes one second after the first
match instead of two, and one frame that fails to match (motion blur, a cut) costs half a second,
not a whole one. Never while behind live or on keyframes: confirmation must not cost the
governor its margin.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from av.video.frame import VideoFrame
from av.video.reformatter import Colorspace, Interpolation

from bastion.signals.pdq_numpy import hash_from_coefficients, luma_from_rgb, pdq_coefficients
from bastion.signals.video_variants import mirror_hash

DecodeMode = Literal["full", "keyframes"]

DEFAULT_RATE = 1.0
CONFIRM_RATE = 2.0  # frames a second while a first match is being confirmed
CONFIRM_SECONDS = 3.0
_MAX_HOLD_FACTOR = 8  # the longest hold before full decoding is tried again, in recover_seconds
MAX_SIDE = 480
# The same conversion as bastion.signals.video.frame_to_rgb (accurate rounding, BT.601), so a
# frame's hash differs from the banked one only by the scaling.
_RGB_FLAGS = Interpolation.BILINEAR | Interpolation.ACCURATE_RND


@dataclass(frozen=True, slots=True)
class FrameHash:
    """A sampled frame's PDQ and the PDQ of its mirror image (``mirror`` is "" for a frame
    too small or flat to have DCT coefficients, whose ``quality`` is 0 anyway)."""

    seconds: float
    pdq: str
    mirror: str
    quality: int


@dataclass(frozen=True, slots=True)
class SamplerStatus:
    target_rate: float
    current_rate: float
    lag_seconds: float
    frames_sampled: int
    frames_skipped: int  # not hashed because the watcher was too far behind live
    cpu_seconds_per_frame: float  # thread CPU per hashed frame: scaling, conversion, PDQ
    decode_mode: DecodeMode = "full"  # "keyframes": the governor cut decoding to keyframes only
    keyframe_switches: int = 0  # how many times the governor fell back to keyframes only


def reduced_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """Width and height with the long side at most ``max_side``, aspect kept, even values."""
    scale = min(1.0, max_side / max(width, height))
    if scale >= 1.0:
        return width, height
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def hash_frame(frame: VideoFrame, seconds: float, max_side: int = MAX_SIDE) -> FrameHash:
    """PDQ and mirror PDQ of a decoded frame scaled to at most ``max_side`` pixels a side."""
    width, height = reduced_size(frame.width, frame.height, max_side)
    rgb = frame.reformat(
        width=width,
        height=height,
        format="rgb24",
        src_colorspace=Colorspace.ITU601,
        interpolation=_RGB_FLAGS,
        threads=1,
    ).to_ndarray()
    found = pdq_coefficients(luma_from_rgb(rgb))
    if found is None:
        return FrameHash(round(seconds, 3), "0" * 64, "", 0)
    coefficients, quality = found
    return FrameHash(
        round(seconds, 3), hash_from_coefficients(coefficients), mirror_hash(coefficients), quality
    )


class Sampler:
    """Picks frames by timestamp, hashes them, and lowers its rate when the stream runs away."""

    def __init__(
        self,
        target_rate: float = DEFAULT_RATE,
        *,
        max_side: int = MAX_SIDE,
        max_lag_seconds: float = 2.0,
        min_rate: float = 0.125,
        recover_seconds: float = 30.0,
        cpu_clock: Callable[[], float] = time.thread_time,
    ) -> None:
        if target_rate <= 0 or min_rate <= 0 or min_rate > target_rate:
            raise ValueError("rates must be positive, min_rate at most target_rate")
        self.target_rate = target_rate
        self.rate = target_rate
        self.max_side = max_side
        self.max_lag = max_lag_seconds
        self.min_rate = min_rate
        self.recover_seconds = recover_seconds
        self._cpu_clock = cpu_clock
        self._last_slot = -1
        self._slot_rate = target_rate  # slots are numbered at this rate (renumbered on change)
        self._lag = 0.0
        self._catching_up = False
        self._changed_at = -math.inf  # stream time of the last rate change
        self._calm_since: float | None = None
        self._behind_since: float | None = None  # stream time the lag last went past the bound
        self.decode_mode: DecodeMode = "full"
        self._hold = recover_seconds  # calm stream time on keyframes before full decoding again
        self._full_since = -math.inf  # stream time full decoding last resumed
        self._switches = 0
        self._sampled = 0
        self._skipped = 0
        self._cpu = 0.0
        self._confirm_until = -math.inf  # stream time a confirmation burst ends
        self._last_taken = -math.inf  # stream time of the last frame taken

    def _slot(self, seconds: float) -> int:
        return math.floor(seconds * self.rate + 1e-9)

    def _set_rate(self, rate: float, seconds: float) -> None:
        self.rate = rate
        self._changed_at = seconds
        # Renumber so the next frame at or past the current slot's end is taken at the new rate.
        self._last_slot = self._slot(seconds) if self._last_slot >= 0 else -1

    def _decoding_bound(self, seconds: float) -> bool:
        """Behind live although hashing was cut as far as it goes: decoding is the bottleneck."""
        if self._behind_since is None:
            return False
        behind = seconds - self._behind_since
        at_floor = self.rate <= self.min_rate and (
            min(behind, seconds - self._changed_at) >= 2 / self.rate
        )
        stuck = self._catching_up and behind >= 2 * self.max_lag
        return at_floor or stuck

    def _to_keyframes(self, seconds: float) -> None:
        if seconds - self._full_since < self.recover_seconds:
            # Full decoding did not hold: wait longer before the next try.
            self._hold = min(self._hold * 2, _MAX_HOLD_FACTOR * self.recover_seconds)
        self.decode_mode = "keyframes"
        self._switches += 1
        self._set_rate(self.target_rate, seconds)  # keyframes are sparse: hash each of them

    def _to_full(self, seconds: float) -> None:
        self.decode_mode = "full"
        self._full_since = seconds
        self._set_rate(self.min_rate, seconds)

    def observe(self, seconds: float, lag_seconds: float) -> None:
        """The watcher's lag behind live when it got to the frame at stream time ``seconds``."""
        self._lag = lag_seconds
        if lag_seconds > 2 * self.max_lag:
            self._catching_up = True
        elif lag_seconds <= self.max_lag:
            self._catching_up = False
        if lag_seconds <= self.max_lag:
            self._behind_since = None
        elif self._behind_since is None:
            self._behind_since = seconds
        if self.decode_mode == "full" and seconds - self._full_since >= self.recover_seconds:
            self._hold = self.recover_seconds  # full decoding held: forget earlier failures
        if lag_seconds > self.max_lag:
            self._calm_since = None
            if self.decode_mode == "full" and self._decoding_bound(seconds):
                self._to_keyframes(seconds)
            elif (
                self.decode_mode == "full"
                and self.rate > self.min_rate
                and seconds - self._changed_at >= 2 / self.rate
            ):
                self._set_rate(max(self.min_rate, self.rate / 2), seconds)
            return
        on_keyframes = self.decode_mode == "keyframes"
        if lag_seconds > self.max_lag / 4 or (self.rate >= self.target_rate and not on_keyframes):
            self._calm_since = None
            return
        if self._calm_since is None:
            self._calm_since = seconds
        elif on_keyframes:
            if seconds - self._calm_since >= self._hold:
                self._to_full(seconds)
                self._calm_since = seconds
        elif seconds - self._calm_since >= self.recover_seconds:
            self._set_rate(min(self.target_rate, self.rate * 2), seconds)
            self._calm_since = seconds

    def confirm(self, seconds: float) -> None:
        """A frame at ``seconds`` matched: sample faster for a while (see the module notes)."""
        if self.rate < CONFIRM_RATE:
            self._confirm_until = seconds + CONFIRM_SECONDS

    def _confirming(self, seconds: float) -> bool:
        return (
            seconds < self._confirm_until
            and self.decode_mode == "full"
            and self._lag <= self.max_lag
            and seconds - self._last_taken >= 1 / CONFIRM_RATE - 1e-9
        )

    def wanted(self, seconds: float) -> bool:
        """Whether the frame at ``seconds`` is to be hashed (call once per frame, in order)."""
        slot = self._slot(seconds)
        if slot > self._last_slot:
            self._last_slot = slot
        elif not self._confirming(seconds):
            return False
        if self._catching_up:
            self._skipped += 1
            return False
        self._last_taken = seconds
        return True

    def hash(self, frame: VideoFrame, seconds: float) -> FrameHash:
        started = self._cpu_clock()
        found = hash_frame(frame, seconds, self.max_side)
        self._cpu += self._cpu_clock() - started
        self._sampled += 1
        return found

    def status(self) -> SamplerStatus:
        return SamplerStatus(
            target_rate=self.target_rate,
            current_rate=self.rate,
            lag_seconds=round(self._lag, 3),
            frames_sampled=self._sampled,
            frames_skipped=self._skipped,
            cpu_seconds_per_frame=self._cpu / self._sampled if self._sampled else 0.0,
            decode_mode=self.decode_mode,
            keyframe_switches=self._switches,
        )
