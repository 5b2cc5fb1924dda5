"""Fixtures for the signals tests: the shared reference data and some generated media.

Reference data (PDQ and vPDQ test vectors from facebook/ThreatExchange) lives in ``shared/testdata``
beside the checkout, never in the repository. ``BASTION_TESTDATA_DIR`` points elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bastion.demo.media import make_video

_BESIDE_CHECKOUT = Path(__file__).resolve().parents[3] / "shared" / "testdata"


@pytest.fixture(scope="session")
def testdata_dir() -> Path:
    configured = os.environ.get("BASTION_TESTDATA_DIR")
    folder = Path(configured) if configured else _BESIDE_CHECKOUT
    if not folder.is_dir():
        pytest.skip(
            f"reference test data not found at {folder} (the shared/testdata folder beside the "
            "checkout; set BASTION_TESTDATA_DIR to use another place)"
        )
    return folder


@pytest.fixture(scope="session")
def small_video() -> bytes:
    """Three seconds of 320x180 H.264 at 30 frames/s, with B-frames."""
    return make_video(11, seconds=3.0, fps=30, size=(320, 180))
