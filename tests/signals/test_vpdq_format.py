"""The vPDQ line format: what other tools write parses, what Bastion writes is canonical."""

from __future__ import annotations

import pytest

from bastion.errors import InvalidSignal
from bastion.signals.video import VpdqSignal
from bastion.signals.vpdq_format import VpdqFrame, format_vpdq, parse_vpdq

HASH_A = "e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c"
HASH_B = "c0f11178372c6aaccddea259648fbfd62f434c89c9e99b249772be216c8d055c"
TEXT = f"0,100,{HASH_A},0.000\n30,87,{HASH_B},1.000"


def test_parse_and_format_round_trip() -> None:
    frames = parse_vpdq(TEXT)
    assert frames == [VpdqFrame(0, 100, HASH_A, 0.0), VpdqFrame(30, 87, HASH_B, 1.0)]
    assert format_vpdq(frames) == TEXT


def test_reference_tool_output_is_accepted_and_made_canonical() -> None:
    # CRLF, upper-case hex, a trailing newline, seconds with more decimals.
    messy = f"\r\n0,100,{HASH_A.upper()},0.0000\r\n30,87,{HASH_B},1.00049\r\n"
    assert VpdqSignal.normalize(messy) == TEXT


def test_seconds_are_written_with_three_decimals() -> None:
    assert format_vpdq([VpdqFrame(1, 50, HASH_A, 1 / 30)]) == f"1,50,{HASH_A},0.033"


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (f"0,100,{HASH_A}", 1, "fields"),
        (f"0,100,{HASH_A},0.000\nx,100,{HASH_B},1.0", 2, "frame number"),
        (f"0,101,{HASH_A},0.000", 1, "quality"),
        (f"0,-1,{HASH_A},0.000", 1, "quality"),
        (f"0,100,{HASH_A[:-1]},0.000", 1, "64 hex"),
        (f"0,100,{HASH_A[:-1]}g,0.000", 1, "64 hex"),
        (f"0,100,{HASH_A},nan", 1, "seconds"),
        (f"0,100,{HASH_A},1e3", 1, "seconds"),
        (f"0,100,{HASH_A},-1.0", 1, "seconds"),
        (f"5,100,{HASH_A},0.000\n5,100,{HASH_B},0.100", 2, "does not follow"),
        (f"\n\n0,100,{HASH_A},0.000\n\n1,100,{HASH_B},0.1", 4, "fields"),
    ],
)
def test_bad_lines_name_their_line_number(text: str, line: int, fragment: str) -> None:
    with pytest.raises(InvalidSignal) as caught:
        parse_vpdq(text)
    assert caught.value.context["line"] == line
    assert f"line {line}" in caught.value.detail
    assert fragment in caught.value.detail


@pytest.mark.parametrize("text", ["", "   \n\n  "])
def test_no_frames_is_invalid(text: str) -> None:
    with pytest.raises(InvalidSignal, match="no frames"):
        parse_vpdq(text)


def test_a_non_string_value_is_invalid() -> None:
    with pytest.raises(InvalidSignal):
        parse_vpdq(b"0,100,x,0.0")  # type: ignore[arg-type]
