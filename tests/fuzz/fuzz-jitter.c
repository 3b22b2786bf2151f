/*
 * libFuzzer target: the jitter buffer (video and audio) and the NACK
 * generator behind it, fed a sequence of packets and calls from the
 * input. Each record is
 *
 *   op (1) | seq delta (1, signed) | ts delta (1, signed, x 750) |
 *   time delta (1, ms) | len (1) | payload (len bytes)
 *
 * op bit 0: marker; bit 1: audio buffer (payload gets a valid Opus TOC
 * in front so it reaches the buffer); bit 2: pop before inserting;
 * bit 3: collect NACKs; bit 4: ask for a keyframe; bit 5: change the
 * RTT and the extra delay; bit 6: the packet is a retransmission of an
 * older number (seq delta counts back from the highest).
 *
 * Invariants: no crash or overread (ASan); frames come out with
 * increasing extended sequence numbers and fit the caller's buffer;
 * NACK lists are ascending and bounded.
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

static uint8_t out[64 * 300];

typedef struct {
    rtp_jb *jb;
    int64_t last_seq; /* extended first_seq of the last frame, -1 none */
    int64_t ref;
} stream;

static void drain(stream *s, int64_t now)
{
    rtp_jb_frame f;
    int rc;

    while ((rc = rtp_jb_pop(s->jb, now, &f, out, sizeof(out))) == 1) {
        int64_t ext = rtp_seq_unwrap(s->ref, f.first_seq);
        CHECK(f.len <= sizeof(out));
        CHECK(f.playout_us <= now);
        if (s->last_seq >= 0)
            CHECK(ext > s->last_seq);
        else
            ext = rtp_seq_unwrap(1 << 20, f.first_seq);
        s->last_seq = ext;
        s->ref = ext;
    }
    /* NOSPACE cannot happen: out holds the whole pool */
    CHECK(rc == 0);
    CHECK(rtp_jb_next_wakeup(s->jb, now) >= now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rtp_jb_config cfg;
    stream st[2];
    uint16_t seq[2] = {65500, 100}, hi[2] = {65500, 100};
    uint32_t ts[2] = {0, 0};
    uint8_t payload[300];
    int64_t now = 0;
    size_t off = 0;

    for (int k = 0; k < 2; k++) {
        rtp_jb_config_init(&cfg, k == 0 ? RTP_JB_VP8 : RTP_JB_OPUS);
        cfg.slots = 64;
        cfg.max_payload = 300;
        if (rtp_jb_new(&st[k].jb, &cfg) != RTP_OK)
            abort();
        st[k].last_seq = -1;
        st[k].ref = 1 << 20;
    }
    while (off + 5 <= size) {
        uint8_t op = data[off];
        int k = (op >> 1) & 1;
        stream *s = &st[k];
        size_t len = data[off + 4];
        rtp_packet pkt;
        int rc;

        now += data[off + 3] * 1000;
        if (op & 0x40) {
            seq[k] = (uint16_t) (hi[k] - (uint8_t) data[off + 1]);
        } else {
            seq[k] = (uint16_t) (seq[k] + (int8_t) data[off + 1]);
            if (rtp_seq_diff(seq[k], hi[k]) > 0)
                hi[k] = seq[k];
        }
        ts[k] += (uint32_t) ((int8_t) data[off + 2] * 750);
        off += 5;
        if (len > size - off)
            len = size - off;
        if (len > 290)
            len = 290;
        if (k == 1) { /* SILK 20 ms, code 0: any body up to 1275 is valid */
            payload[0] = 0x48;
            memcpy(payload + 1, data + off, len);
        } else {
            memcpy(payload, data + off, len);
        }
        off += len;

        if (op & 0x04)
            drain(s, now);
        if (op & 0x20) {
            rtp_jb_set_rtt(s->jb, (int64_t) data[off - len - 1] * 2000);
            rtp_jb_set_extra_delay(s->jb, (int64_t) (op & 0x80) * 1000);
        }
        memset(&pkt, 0, sizeof(pkt));
        pkt.seq = seq[k];
        pkt.timestamp = ts[k];
        pkt.marker = (op & 1) != 0;
        pkt.payload = payload;
        pkt.payload_len = k == 1 ? len + 1 : len;
        rc = rtp_jb_insert(s->jb, &pkt, now);
        CHECK(rc >= 0 || rc == RTP_ERR_INVALID);
        if (rc == RTP_JB_RESET) /* order restarts with the buffer */
            s->last_seq = -1;
        if (op & 0x08) {
            uint16_t seqs[RTP_NACK_MAX_SEQS];
            size_t n = rtp_jb_nack_collect(s->jb, now, seqs, 100);
            CHECK(n <= 100);
            for (size_t i = 1; i < n; i++)
                CHECK(rtp_seq_diff(seqs[i], seqs[i - 1]) > 0);
        }
        if (op & 0x10)
            (void) rtp_jb_keyframe_needed(s->jb, now);
        drain(s, now);
    }
    for (int k = 0; k < 2; k++) {
        rtp_jb_stats stats;
        drain(&st[k], now + 100000000);
        rtp_jb_get_stats(st[k].jb, &stats);
        CHECK(stats.target_delay_us >= 0);
        rtp_jb_free(st[k].jb);
    }
    return 0;
}
