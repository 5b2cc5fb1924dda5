"""Fixtures of the loopback stream tests (real ffmpeg, nginx-rtmp and HTTP on loopback)."""

from __future__ import annotations

import pytest

from tests.stream import loopback


@pytest.fixture
def loopback_tools() -> None:
    """ffmpeg, nginx and its RTMP module: the test skips without them (fails in CI)."""
    loopback.require_tools()


@pytest.fixture(scope="module")
def clip() -> bytes:
    """The banked clip of the loopback tests (modules with their own ``clip`` override it)."""
    return loopback.clip_video()
