/*
 * libFuzzer target: the VP8 payload (RFC 7741) and the frame assembler.
 *
 * 1. The whole input as one RTP payload: the descriptor parse must stay
 *    in bounds, rebuild to the same bytes (reserved bits cleared) and the
 *    VP8 payload header parse must not overread.
 * 2. The input as a frame: packetized at an MTU taken from the input,
 *    every payload parses back and the fragments reassemble to the frame.
 * 3. The input as a run of payloads (1-byte length + flags, then bytes)
 *    with consecutive sequence numbers into a small VP8 jitter buffer:
 *    everything it releases is bounded by the caller's buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "playout.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            abort();                                                           \
    } while (0)

static uint8_t frame_out[65536 + 64];

static void one_payload(const uint8_t *data, size_t size)
{
    rtp_vp8_desc d;
    rtp_vp8_frame_info fi;
    uint8_t out[RTP_VP8_DESC_MAX];
    int n = rtp_vp8_desc_parse(&d, data, size);

    if (n < 0)
        return;
    CHECK(n >= 1 && n <= RTP_VP8_DESC_MAX && (size_t) n < size);
    (void) rtp_vp8_frame_info_parse(&fi, data + n, size - (size_t) n);
    if (n == 2 && (data[1] & 0xf0) == 0) {
        /* An X byte with nothing in it is rebuilt without it. */
        CHECK(rtp_vp8_desc_size(&d) == 1);
        CHECK(rtp_vp8_desc_build(out, sizeof(out), &d) == 1);
        CHECK(out[0] == (data[0] & 0x37));
        return;
    }
    CHECK(rtp_vp8_desc_size(&d) == (size_t) n);
    CHECK(rtp_vp8_desc_build(out, sizeof(out), &d) == n);
    /* Same bytes except the reserved bits (both R in byte 0, RSV in X). */
    CHECK((out[0] & 0xb7) == (data[0] & 0xb7) && (out[0] & 0x48) == 0);
    if (n > 1)
        CHECK(out[1] == (data[1] & 0xf0));
    for (int i = 2; i < n; i++) {
        if (i == n - 1 && (d.has_tid || d.has_keyidx)) {
            uint8_t mask =
                (uint8_t) ((d.has_tid ? 0xe0 : 0) | (d.has_keyidx ? 0x1f : 0));
            CHECK(out[i] == (data[i] & mask));
        } else {
            CHECK(out[i] == data[i]);
        }
    }
}

static void packetize(const uint8_t *data, size_t size)
{
    rtp_vp8_packetizer p;
    uint8_t pkt[300];
    size_t mtu, got = 0;
    bool last = false;
    int n;

    if (size < 2)
        return;
    mtu = 5 + data[0]; /* 5..260 */
    data++;
    size--;
    if (rtp_vp8_packetizer_init(&p, data, size, (data[0] & 1) == 0,
                                (uint16_t) size, NULL, mtu) != RTP_OK)
        return;
    while ((n = rtp_vp8_packetizer_next(&p, pkt, sizeof(pkt), &last)) > 0) {
        rtp_vp8_desc d;
        int dl = rtp_vp8_desc_parse(&d, pkt, (size_t) n);
        CHECK(dl == 4 && (size_t) n <= mtu);
        CHECK(d.start == (got == 0));
        CHECK(got + (size_t) (n - dl) <= size);
        CHECK(memcmp(pkt + dl, data + got, (size_t) (n - dl)) == 0);
        got += (size_t) (n - dl);
    }
    CHECK(n == 0 && last && got == size);
}

static void assemble(const uint8_t *data, size_t size)
{
    rtp_jb_config cfg;
    rtp_jb *jb;
    rtp_jb_frame f;
    uint16_t seq = 0xfff0;
    uint32_t ts = 0;
    int64_t now = 0;
    size_t off = 0;

    rtp_jb_config_init(&cfg, RTP_JB_VP8);
    cfg.slots = 64;
    cfg.max_payload = 256;
    if (rtp_jb_new(&jb, &cfg) != RTP_OK)
        return;
    while (off + 1 < size) {
        uint8_t hdr = data[off++];
        size_t len = hdr & 0x3f;
        rtp_packet pkt;
        int rc;

        if (len > size - off)
            len = size - off;
        memset(&pkt, 0, sizeof(pkt));
        pkt.seq = seq++;
        pkt.timestamp = ts;
        pkt.marker = (hdr & 0x40) != 0;
        pkt.payload = data + off;
        pkt.payload_len = len;
        if (hdr & 0x80) /* a new frame after this one */
            ts += 3000;
        rc = rtp_jb_insert(jb, &pkt, now);
        CHECK(rc >= RTP_JB_INSERTED || rc == RTP_ERR_INVALID);
        off += len;
        now += 1000;
        while ((rc = rtp_jb_pop(jb, now + 10000000, &f, frame_out,
                                sizeof(frame_out))) == 1)
            CHECK(f.len <= 64 * 256);
        CHECK(rc == 0);
    }
    rtp_jb_free(jb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one_payload(data, size);
    packetize(data, size);
    assemble(data, size);
    return 0;
}
