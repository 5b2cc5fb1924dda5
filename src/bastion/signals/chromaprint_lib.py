"""A ctypes binding to the system Chromaprint library (Debian/Ubuntu package ``libchromaprint1``).

Only the raw fingerprint is used: the 32-bit items Chromaprint computes, one every 1365 samples
at its internal rate of 11025 Hz (see :mod:`bastion.signals.audio`). The compressed, base64
"AcoustID" form is not, because matching needs the items themselves.

The library is loaded on first use, not at import, so Bastion starts (and hashes photos and
videos) on a machine without it; using audio fingerprinting there raises
:class:`ChromaprintUnavailable` with a stable code. A load failure is remembered: looking for the
library runs ``ldconfig`` and need not be repeated for every upload.

Thread safety: contexts share no state, so different threads may use different contexts at once.
Each context also serialises its own calls with a lock, so a context shared by mistake cannot
corrupt the library's memory (feeding it from two threads still mixes the audio, of course).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from types import TracebackType

import numpy as np

from bastion.errors import ConfigurationError

# chromaprint.h: CHROMAPRINT_ALGORITHM_TEST2, the default and the one AcoustID uses.
ALGORITHM_DEFAULT = 1
# Samples handed to one chromaprint_feed call; its size argument is a C int.
_FEED_CHUNK = 1 << 20

_UInt32Pointer = ctypes.POINTER(ctypes.c_uint32)


class ChromaprintUnavailable(ConfigurationError):
    """The Chromaprint shared library is missing: audio fingerprints cannot be computed here."""

    code = "audio_fingerprinting_unavailable"
    status = 503


def _declare(lib: ctypes.CDLL) -> None:
    """Give every function used its C signature, so ctypes neither truncates nor guesses."""
    context = ctypes.c_void_p
    lib.chromaprint_get_version.argtypes = []
    lib.chromaprint_get_version.restype = ctypes.c_char_p
    lib.chromaprint_new.argtypes = [ctypes.c_int]
    lib.chromaprint_new.restype = context
    lib.chromaprint_free.argtypes = [context]
    lib.chromaprint_free.restype = None
    lib.chromaprint_start.argtypes = [context, ctypes.c_int, ctypes.c_int]
    lib.chromaprint_start.restype = ctypes.c_int
    lib.chromaprint_feed.argtypes = [context, ctypes.c_void_p, ctypes.c_int]
    lib.chromaprint_feed.restype = ctypes.c_int
    lib.chromaprint_finish.argtypes = [context]
    lib.chromaprint_finish.restype = ctypes.c_int
    lib.chromaprint_get_raw_fingerprint.argtypes = [
        context,
        ctypes.POINTER(_UInt32Pointer),
        ctypes.POINTER(ctypes.c_int),
    ]
    lib.chromaprint_get_raw_fingerprint.restype = ctypes.c_int
    lib.chromaprint_clear_fingerprint.argtypes = [context]
    lib.chromaprint_clear_fingerprint.restype = ctypes.c_int
    lib.chromaprint_dealloc.argtypes = [ctypes.c_void_p]
    lib.chromaprint_dealloc.restype = None


class _Loader:
    """Finds and loads the library once; remembers a failure as well as a success."""

    def __init__(self, names: tuple[str | None, ...] | None = None) -> None:
        self._names = names
        self._lock = threading.Lock()
        self._library: ctypes.CDLL | None = None
        self._failure: str | None = None

    def _candidates(self) -> tuple[str | None, ...]:
        if self._names is not None:
            return self._names
        return (ctypes.util.find_library("chromaprint"), "libchromaprint.so.1")

    def library(self) -> ctypes.CDLL:
        with self._lock:
            if self._library is not None:
                return self._library
            if self._failure is None:
                self._library, self._failure = self._load()
            if self._library is None:
                raise ChromaprintUnavailable(
                    "audio fingerprinting unavailable: install libchromaprint1 "
                    f"(the Chromaprint library could not be loaded: {self._failure})"
                )
            return self._library

    def _load(self) -> tuple[ctypes.CDLL | None, str | None]:
        tried: list[str] = []
        last = "no library named chromaprint was found"
        for name in self._candidates():
            if not name or name in tried:
                continue
            tried.append(name)
            try:
                lib = ctypes.CDLL(name)
                # 1.4 (2016) added chromaprint_clear_fingerprint; older ones lack it.
                _declare(lib)
            except (OSError, AttributeError) as exc:
                last = str(exc)
                continue
            return lib, None
        return None, last


_LOADER = _Loader()


def chromaprint_available() -> bool:
    """Whether audio fingerprints can be computed in this process."""
    try:
        _LOADER.library()
    except ChromaprintUnavailable:
        return False
    return True


def require_chromaprint() -> None:
    """Raise :class:`ChromaprintUnavailable` unless audio fingerprints can be computed."""
    _LOADER.library()


def chromaprint_version() -> str:
    """The library's version, e.g. ``"1.5.1"``; raises :class:`ChromaprintUnavailable`."""
    version: bytes = _LOADER.library().chromaprint_get_version()
    return version.decode("ascii", "replace")


class ChromaprintContext:
    """One fingerprinting run, fed incrementally: ``start``, ``feed`` ..., ``finish``.

    ``take`` returns the items computed since the previous ``take`` (Chromaprint produces them
    in batches as its buffers fill), which is what a live stream needs; ``finish`` flushes the
    audio still buffered and returns every item not yet taken. ``start`` may be called again to
    begin a new run with the same context.
    """

    def __init__(self, algorithm: int = ALGORITHM_DEFAULT) -> None:
        self._lib = _LOADER.library()
        self._lock = threading.Lock()
        self._handle: int | None = self._lib.chromaprint_new(algorithm)
        if not self._handle:
            raise MemoryError("chromaprint_new failed")
        self._channels = 0

    def __enter__(self) -> ChromaprintContext:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        # Only frees what close() did not; never raises from the garbage collector.
        handle = getattr(self, "_handle", None)
        if handle:
            self._lib.chromaprint_free(handle)
            self._handle = None

    def close(self) -> None:
        """Free the native context; later calls raise ``ValueError``."""
        with self._lock:
            if self._handle:
                self._lib.chromaprint_free(self._handle)
            self._handle = None

    def _live(self) -> int:
        if not self._handle:
            raise ValueError("the Chromaprint context is closed")
        return self._handle

    def start(self, sample_rate: int, channels: int) -> None:
        """Begin a fingerprint of interleaved 16-bit audio at ``sample_rate`` Hz."""
        with self._lock:
            if not self._lib.chromaprint_start(self._live(), sample_rate, channels):
                raise ValueError(f"Chromaprint refused {sample_rate} Hz with {channels} channels")
            self._channels = channels

    def feed(self, samples: np.ndarray) -> None:
        """Feed interleaved int16 samples (any shape; their count must be whole frames)."""
        data = np.ascontiguousarray(samples, dtype=np.int16).reshape(-1)
        with self._lock:
            handle = self._live()
            if not self._channels:
                raise ValueError("start() must be called before feed()")
            if data.size % self._channels:
                raise ValueError(
                    f"{data.size} samples are not whole {self._channels}-channel frames"
                )
            step = _FEED_CHUNK - _FEED_CHUNK % self._channels
            for first in range(0, data.size, step):
                part = data[first : first + step]
                if not self._lib.chromaprint_feed(handle, part.ctypes.data, part.size):
                    raise ValueError("chromaprint_feed failed")

    def take(self) -> np.ndarray:
        """The raw items (uint32) computed since the last ``take``; possibly none."""
        with self._lock:
            return self._take(self._live())

    def finish(self) -> np.ndarray:
        """Flush the buffered audio and return the items not taken yet."""
        with self._lock:
            handle = self._live()
            if not self._channels:
                raise ValueError("start() must be called before finish()")
            if not self._lib.chromaprint_finish(handle):
                raise ValueError("chromaprint_finish failed")
            self._channels = 0
            return self._take(handle)

    def _take(self, handle: int) -> np.ndarray:
        pointer = _UInt32Pointer()
        size = ctypes.c_int(0)
        if not self._lib.chromaprint_get_raw_fingerprint(
            handle, ctypes.byref(pointer), ctypes.byref(size)
        ):
            raise ValueError("chromaprint_get_raw_fingerprint failed")
        try:
            if size.value <= 0 or not pointer:
                return np.zeros(0, dtype=np.uint32)
            items = np.ctypeslib.as_array(pointer, shape=(size.value,)).astype(np.uint32)
        finally:
            if pointer:
                self._lib.chromaprint_dealloc(pointer)
        self._lib.chromaprint_clear_fingerprint(handle)
        return items
