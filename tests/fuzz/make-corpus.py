#!/usr/bin/env python3
"""Writes the seed corpora in tests/fuzz/corpus/ from the byte vectors of
tests/unit/rtp (see the comments there for what each field means).

Run from anywhere: python3 tests/fuzz/make-corpus.py
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def h(s):
    return bytes.fromhex(s.replace(" ", ""))


RTP = {
    # Chrome's headers (see tests/unit/rtp/test-rtp.c)
    "chrome-one-byte": h("902d1a5f d4090549 f7b16e83 bede0003"
                         "22f34350 41009bd2 81004500"),
    "chrome-two-byte": h("902d61c5 950a0fee 8d3814e5 10000011"
                         "020303f7 ae040200 02090130 03010006"
                         "0102070d 01000100 07000700 0a000000"
                         "000d21c0 00018003 187aaaf1 30a0a014"
                         "d1413823 04600864 22222650 09f00770"
                         "13f00ef0"),
    # V=2 M=1 PT=96 seq 0x1234, payload "abc"
    "basic": h("80e01234 deadbeef 01020304") + b"abc",
    # P=1 X=1 CC=2, RFC 8285 4.2 one-byte extension, 4 padding bytes
    "full": h("b26f0007 000003c0 cafebabe 11111111 22222222"
              "bede0003 10aa21bb bb000033 cccccccc") + b"opus\x42"
    + h("00000004"),
    # RFC 8285 4.3 two-byte extension
    "two-byte": h("90600001 00000000 00000009 10050003"
                  "01000201 aa000304 dddddddd"),
    # mid "video0" (id 1), abs-send-time (id 3), transport-cc seq (id 5)
    "mid-abs-twcc": h("90600001 00000000 0000002a bede0004"
                      "15766964 656f3032 abcdef51 fffe0000") + b"vp8",
}

SR_SDES = h("81c8000c 11223344 e1f2a3b4 80000000 00015f90 00000064"
            "00002710 55667788 40fffffe 00010010 00000020 a3b48000"
            "00010000 81ca0004 11223344 0109") + b"user@host" + b"\x00"
RR_BYE = h("82c9000d 99887766 00000001 00000000 0000ffff 00000005"
           "00000000 00000000 00000002 ff7fffff 12345678 00000100"
           "deadbeef 00008000 81cb0002 99887766 03") + b"bye"
NACK = h("81cd0004 00000001 00000002 03e80005 ffff8001")
PLI = h("81ce0002 00000001 00000002")
FIR = h("84ce0004 00000001 00000000 00000002 2a000000")
REMB = h("8fce0007 12345678 00000000") + b"REMB" + h(
    "0307fb93 23456789 2345678a 2345678b")
TWCC = h("8fcd0008 01020304 05060708 fffe0014 00001007"
         "2003e100 b0100400 ffff fc10010203 00")
# Chrome's transport-cc (P bit padding), see tests/unit/rtp/test-rtcp.c
TWCC_CHROME = h("afcd0007 00000001 dd586eb6 00010009 5e911000"
                "20091c0c 2c380004 00081801")
EMPTY_RR = h("80c90001 00000007")

# fuzz-rtcp: first byte bit 0 = reduced-size rules.
RTCP = {
    "sr-sdes": b"\x00" + SR_SDES,
    "rr-bye": b"\x00" + RR_BYE,
    "nack": b"\x01" + NACK,
    "pli": b"\x01" + PLI,
    "fir": b"\x01" + FIR,
    "remb": b"\x01" + REMB,
    "twcc": b"\x01" + TWCC,
    "twcc-chrome": b"\x01" + TWCC_CHROME,
    "rr-remb-twcc-pli": b"\x00" + EMPTY_RR + REMB + TWCC + PLI,
}

STUN = h("00010000 2112a442 000102030405060708090a0b")
DTLS = h("16fefd00 00000000 00000000 10") + bytes(16)


def frames(*dgrams):
    out = b""
    for d in dgrams:
        assert len(d) < 256
        out += bytes([len(d)]) + d
    return out


# fuzz-demux: first byte = mid extension id, then [len][datagram]...
DEMUX = {
    "mid-then-ssrc": b"\x01" + frames(RTP["mid-abs-twcc"],
                                      b"\x80\x60"
                                      + RTP["mid-abs-twcc"][2:12]
                                      + b"payload"),
    "mixed": b"\x01" + frames(STUN, DTLS, RTP["basic"], SR_SDES, NACK,
                              RTP["full"], PLI),
    "pt-only": b"\x00" + frames(RTP["basic"], RTP["two-byte"],
                                EMPTY_RR + REMB),
}


def write(target, files):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


write("rtp", RTP)
write("rtcp", RTCP)
write("demux", DEMUX)
