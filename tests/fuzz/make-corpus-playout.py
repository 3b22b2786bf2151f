#!/usr/bin/env python3
"""Writes the seed corpora of fuzz-vp8-depacketizer and fuzz-jitter
(tests/fuzz/corpus/{vp8-depacketizer,jitter}/); the record formats are
described at the top of each harness.

Run from anywhere: python3 tests/fuzz/make-corpus-playout.py
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def h(s):
    return bytes.fromhex(s.replace(" ", ""))


def vp8_desc(start, pid):
    # X=1 S=start PID=0 | I | M=1 15-bit picture id
    return bytes([0x90 if start else 0x80, 0x80, 0x80 | (pid >> 8),
                  pid & 0xFF])


KEY_HDR = h("50 02 00 9d 01 2a 80 02 e0 01")  # 640x480 keyframe header
DELTA_HDR = h("31 01 00")

VP8 = {
    # the RFC 7741 descriptor vectors of tests/unit/rtp/test-vp8.c
    "minimal": h("10 aa"),
    "short-picture-id": h("d0 80 11 00"),
    "long-picture-id": h("90 80 92 34 9d"),
    "all-fields": h("b3 f0 ff ff 42 a5 01"),
    "keyidx-only": h("80 10 1f 00"),
    "keyframe": vp8_desc(True, 1) + KEY_HDR + bytes(range(40)),
}


def run(payloads):
    """Records for the assembler: hdr = len | marker << 6 | next << 7."""
    out = b""
    for p, marker, new_frame in payloads:
        assert len(p) < 64
        out += bytes([len(p) | (0x40 if marker else 0) |
                      (0x80 if new_frame else 0)]) + p
    return out


key = KEY_HDR + bytes(range(60))
VP8["frame-run"] = run([
    (vp8_desc(True, 1) + key[:30], False, False),
    (vp8_desc(False, 1) + key[30:], True, True),
    (vp8_desc(True, 2) + DELTA_HDR + b"delta-2", True, True),
    (vp8_desc(True, 3) + DELTA_HDR + b"delta-3a", False, False),
    (b"", False, False),  # padding inside a frame's run
    (vp8_desc(False, 3) + b"delta-3b", True, True),
])


def rec(op, dseq, dts, dms, payload):
    return bytes([op, dseq & 0xFF, dts & 0xFF, dms & 0xFF,
                  len(payload)]) + payload


MARK, AUDIO, POP, NACK, PLI, RTT, RTX = 1, 2, 4, 8, 16, 32, 64
JITTER = {
    # keyframe in two packets, deltas, one reordered pair, a loss that is
    # retransmitted, NACK and PLI polling
    "video": b"".join([
        rec(0, 0, 0, 0, vp8_desc(True, 1) + key[:30]),
        rec(MARK, 1, 0, 1, vp8_desc(False, 1) + key[30:]),
        rec(MARK | NACK, 1, 4, 33, vp8_desc(True, 2) + DELTA_HDR + b"d2"),
        rec(MARK | NACK, 2, 4, 33, vp8_desc(True, 4) + DELTA_HDR + b"d4"),
        rec(MARK, -1, -4, 2, vp8_desc(True, 3) + DELTA_HDR + b"d3"),
        rec(NACK | PLI, 2, 8, 40, vp8_desc(True, 5) + DELTA_HDR + b"d5"),
        rec(MARK | NACK, 2, 0, 5, vp8_desc(False, 5) + b"tail"),
        rec(MARK | RTX | POP, 1, -0, 20, vp8_desc(False, 5) + b"mid"),
        rec(MARK | RTT | NACK | PLI, 1, 4, 200,
            vp8_desc(True, 6) + KEY_HDR + b"k6"),
    ]),
    # 20 ms Opus packets with a loss and a late packet
    "audio": b"".join(
        [rec(AUDIO | POP, 1, 1, 20, bytes([0xC0, i])) for i in range(6)]
        + [rec(AUDIO | POP, 2, 2, 40, b"\x40\x07")]
        + [rec(AUDIO | RTX, 1, -1, 5, b"\x80\x06")]
        + [rec(AUDIO | POP, 2, 2, 20, b"\x80\x08")]),
    # both at once, with a jump that resets the video buffer
    "mixed-reset": b"".join([
        rec(MARK, 0, 0, 0, vp8_desc(True, 9) + key[:20]),
        rec(AUDIO, 1, 1, 1, b"\xc0\x01"),
        rec(MARK, 100, 40, 10, vp8_desc(True, 10) + key[:20]),
        rec(AUDIO | POP, 1, 1, 20, b"\xc0\x02"),
    ]),
}


def write(name, seeds):
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    for k, v in seeds.items():
        with open(os.path.join(d, k), "wb") as f:
            f.write(v)


write("vp8-depacketizer", VP8)
write("jitter", JITTER)
