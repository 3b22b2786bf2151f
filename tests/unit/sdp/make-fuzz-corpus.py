#!/usr/bin/env python3
"""Writes the seed corpora tests/fuzz/corpus/sdp/ and .../candidate/ from
the samples in sdp-samples.h (fuzz-sdp: first byte 0 = remote offer,
1 = answer to our fixed offer).

Run from anywhere: python3 tests/unit/sdp/make-fuzz-corpus.py
"""
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "..", "fuzz", "corpus")


def samples():
    text = open(os.path.join(HERE, "sdp-samples.h")).read()
    out = {}
    for m in re.finditer(r"static const char (\w+)\[\] =\n((?:    \".*\"\n?)+);",
                         text):
        lines = re.findall(r'"(.*)"', m.group(2))
        body = "".join(lines).encode().decode("unicode_escape")
        out[m.group(1)] = body.encode("latin-1")
    return out


def write(kind, name, data):
    d = os.path.join(CORPUS, kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


s = samples()
write("sdp", "chrome-offer", b"\x00" + s["chrome_offer"])
write("sdp", "firefox-offer", b"\x00" + s["firefox_offer"])
write("sdp", "webrtcbin-offer", b"\x00" + s["webrtcbin_offer"])
write("sdp", "webrtcbin-answer", b"\x01" + s["webrtcbin_answer"])

CANDIDATES = {
    "host": "candidate:1 1 UDP 2122252543 192.0.2.1 50000 typ host",
    "srflx": "candidate:842163049 1 udp 1677729535 203.0.113.7 61000 typ "
             "srflx raddr 10.0.0.5 rport 51000 generation 0 ufrag kN4f "
             "network-id 1 network-cost 10",
    "relay": "a=candidate:3 1 UDP 41885439 198.51.100.2 3478 typ relay "
             "raddr 203.0.113.7 rport 61000",
    "tcp": "candidate:4 1 TCP 1518280447 192.0.2.1 9 typ host tcptype active",
    "ipv6": "candidate:7 2 UDP 2122262783 2001:db8::1 50001 typ host",
    "mdns": "candidate:8 1 UDP 2122260223 "
            "0a1b2c3d-4e5f-6789-abcd-ef0123456789.local 50002 typ host",
}
for name, c in CANDIDATES.items():
    write("candidate", name, c.encode())
