"""Deliberately broken media for tests: cut-off files, audio without video, absurd dimensions.

Hostile and damaged uploads are everyday input for a moderation service; these helpers make the
common shapes of them from the synthetic media in :mod:`bastion.demo.media`.
"""

from __future__ import annotations

import io

import av

from bastion.demo.media import add_audio_stream, write_tone

# ISO BMFF boxes on the way from the top level to the H.264 decoder configuration, and how many
# bytes of fields each has before its child boxes.
_AVCC_PATH = (
    (b"moov", 0),
    (b"trak", 0),
    (b"mdia", 0),
    (b"minf", 0),
    (b"stbl", 0),
    (b"stsd", 8),  # version/flags, entry count
    (b"avc1", 78),  # visual sample entry fields
    (b"avcC", 0),
)
# H.264 profiles whose SPS carries chroma format and bit depth fields.
_HIGH_PROFILES = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})


def make_audio_only(seconds: float = 2.0) -> bytes:
    """An MP4 with one AAC audio track and no video track."""
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        write_tone(container, add_audio_stream(container), seconds)
    return out.getvalue()


def truncate(data: bytes, keep: float = 0.5) -> bytes:
    """The first ``keep`` share of ``data``: an interrupted download or upload."""
    return data[: max(1, int(len(data) * keep))]


# --- absurd dimensions ---------------------------------------------------------------------------


class _Bits:
    """Reads an H.264 RBSP bit by bit, including Exp-Golomb codes."""

    def __init__(self, data: bytes) -> None:
        self.bits = "".join(f"{byte:08b}" for byte in data)
        self.at = 0

    def read(self, count: int) -> int:
        value = int(self.bits[self.at : self.at + count] or "0", 2)
        self.at += count
        return value

    def ue(self) -> int:
        zeros = 0
        while self.bits[self.at + zeros] == "0":
            zeros += 1
        self.at += zeros + 1
        return (1 << zeros) - 1 + self.read(zeros)

    def se(self) -> int:
        code = self.ue()
        return (code + 1) // 2 if code % 2 else -(code // 2)


def _ue(value: int) -> str:
    code = f"{value + 1:b}"
    return "0" * (len(code) - 1) + code


def _unescape(nal: bytes) -> bytes:
    return nal.replace(b"\x00\x00\x03", b"\x00\x00")


def _escape(rbsp: bytes) -> bytes:
    out = bytearray()
    zeros = 0
    for byte in rbsp:
        if zeros >= 2 and byte <= 3:
            out.append(3)  # emulation prevention: no start code inside a NAL unit
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def _resized_sps(sps: bytes, width: int, height: int) -> bytes:
    """An SPS NAL unit with its picture size in macroblocks replaced (progressive frames)."""
    bits = _Bits(_unescape(sps[1:]))
    profile = bits.read(8)
    bits.read(16)  # constraint flags, level
    bits.ue()  # seq_parameter_set_id
    if profile in _HIGH_PROFILES:
        if bits.ue() == 3:  # chroma_format_idc
            bits.read(1)
        bits.ue()
        bits.ue()  # bit depths
        bits.read(1)
        if bits.read(1):
            raise ValueError("SPS with scaling matrices is not supported")
    bits.ue()  # log2_max_frame_num_minus4
    poc_type = bits.ue()
    if poc_type == 0:
        bits.ue()
    elif poc_type == 1:
        bits.read(1)
        bits.se()
        bits.se()
        for _ in range(bits.ue()):
            bits.se()
    bits.ue()  # max_num_ref_frames
    bits.read(1)  # gaps_in_frame_num_value_allowed_flag
    head = bits.bits[: bits.at]
    bits.ue()
    bits.ue()  # the old width and height
    tail = bits.bits[bits.at :].rstrip("0")  # ends with the stop bit; re-padded below
    new = head + _ue((width + 15) // 16 - 1) + _ue((height + 15) // 16 - 1) + tail
    new += "0" * (-len(new) % 8)
    rbsp = int(new, 2).to_bytes(len(new) // 8, "big")
    return sps[:1] + _escape(rbsp)


def _new_avcc(avcc: bytes, width: int, height: int) -> bytes:
    length = int.from_bytes(avcc[6:8], "big")
    sps = _resized_sps(avcc[8 : 8 + length], width, height)
    return avcc[:6] + len(sps).to_bytes(2, "big") + sps + avcc[8 + length :]


def _rewrite(data: bytes, depth: int, width: int, height: int) -> bytes:
    """``data`` (a run of boxes) with the box at ``_AVCC_PATH[depth]`` rebuilt, sizes updated."""
    wanted, skip = _AVCC_PATH[depth]
    out = bytearray()
    at = 0
    while at + 8 <= len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        kind = data[at + 4 : at + 8]
        if size < 8 or at + size > len(data):
            raise ValueError("unsupported or broken MP4 box layout")
        box = data[at : at + size]
        if kind == wanted:
            payload = box[8:]
            if depth == len(_AVCC_PATH) - 1:
                payload = _new_avcc(payload, width, height)
            else:
                payload = payload[:skip] + _rewrite(payload[skip:], depth + 1, width, height)
            box = (len(payload) + 8).to_bytes(4, "big") + kind + payload
            if kind == b"avc1":
                dims = 8 + 24  # visual sample entry: width, height after 24 bytes of fields
                box = (
                    box[:dims]
                    + width.to_bytes(2, "big")
                    + height.to_bytes(2, "big")
                    + box[dims + 4 :]
                )
        out += box
        at += size
    return bytes(out)


def with_declared_dimensions(data: bytes, width: int, height: int) -> bytes:
    """An H.264 MP4 from :func:`bastion.demo.media.make_video` declaring ``width`` x ``height``.

    Both the container (sample entry) and the codec (sequence parameter set) are rewritten, as a
    hostile file would do to make a decoder allocate absurd frames. The index must come after the
    media data (the default, not ``faststart``), so no data offsets move.
    """
    if not (16 <= width <= 0xFFFF and 16 <= height <= 0xFFFF):
        raise ValueError("MP4 sample entries hold 16-bit dimensions")
    if data.find(b"moov") < data.find(b"mdat"):
        raise ValueError("the index (moov) must follow the media data (mdat)")
    return _rewrite(data, 0, width, height)
