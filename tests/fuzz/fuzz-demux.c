/*
 * libFuzzer target: RFC 7983 classification and the BUNDLE SSRC table.
 *
 * Input: a sequence of datagrams, each as [length:1][bytes]. Every
 * datagram is classified; RTP ones are parsed, round-tripped and routed
 * through one demux table that learns across the sequence; RTCP ones are
 * iterated and their SSRCs looked up. Invariants: classification agrees
 * with the parsers, the table never holds a duplicate SSRC or grows past
 * its bound, and a routed packet's SSRC then looks up to the same stream
 * (unless the table was full).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtp.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            abort();                                                           \
    } while (0)

static void check_table(const rtp_demux *d)
{
    CHECK(d->n_ssrcs <= RTP_DEMUX_MAX_SSRCS);
    for (size_t i = 0; i < d->n_ssrcs; i++) {
        CHECK(d->ssrcs[i].stream < d->n_streams);
        for (size_t j = i + 1; j < d->n_ssrcs; j++)
            CHECK(d->ssrcs[i].ssrc != d->ssrcs[j].ssrc);
    }
}

static void one_rtp(rtp_demux *d, const uint8_t *p, size_t len)
{
    static uint8_t out[512];
    rtp_packet pkt, again;
    size_t before = d->n_ssrcs;
    int id = -1, id2 = -1;
    int rc, n;

    rc = rtp_parse(&pkt, p, len);
    CHECK(rc != RTP_ERR_VERSION && rc != RTP_ERR_ARG);
    if (rc != RTP_OK)
        return;
    n = rtp_build(out, sizeof(out), &pkt);
    CHECK(n == (int) len);
    CHECK(rtp_parse(&again, out, (size_t) n) == RTP_OK);
    CHECK(again.ssrc == pkt.ssrc && again.payload_len == pkt.payload_len);

    rc = rtp_demux_route(d, &pkt, &id);
    CHECK(rc == RTP_OK || rc == RTP_ERR_NOT_FOUND || rc == RTP_ERR_INVALID);
    if (rc == RTP_OK) {
        CHECK(id >= 1 && id <= 4);
        if (rtp_demux_lookup_ssrc(d, pkt.ssrc, &id2) == RTP_OK)
            CHECK(id2 == id);
        else
            CHECK(before == RTP_DEMUX_MAX_SSRCS);
    }
    check_table(d);
}

static void one_rtcp(const rtp_demux *d, const uint8_t *p, size_t len)
{
    rtcp_iter it;
    rtcp_header h;
    int id;
    int rc;

    rc = rtcp_iter_init(&it, p, len, RTCP_FLAG_REDUCED_SIZE);
    CHECK(rc != RTP_ERR_ARG);
    if (rc != RTP_OK)
        return;
    while (rtcp_iter_next(&it, &h) == 1) {
        rtcp_fb fb;

        if (rtcp_fb_parse(&fb, &h) == RTP_OK)
            (void) rtp_demux_lookup_ssrc(d, fb.media_ssrc, &id);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t audio[] = {111, 0, 8};
    static const uint8_t video[] = {96, 97, 98};
    static const uint8_t rtx[] = {97, 99};
    rtp_demux d;
    size_t off = 0;

    if (size < 1)
        return 0;
    /* The first byte picks the negotiated mid extension id (0: none). */
    rtp_demux_init(&d, data[0] % 16);
    CHECK(rtp_demux_add_stream(&d, 1, "a", audio, sizeof(audio)) == RTP_OK);
    CHECK(rtp_demux_add_stream(&d, 2, "v", video, sizeof(video)) == RTP_OK);
    CHECK(rtp_demux_add_stream(&d, 3, "1", rtx, sizeof(rtx)) == RTP_OK);
    CHECK(rtp_demux_add_stream(&d, 4, NULL, NULL, 0) == RTP_OK);
    off = 1;

    while (off < size) {
        size_t len = data[off++];
        const uint8_t *p = data + off;
        rtp_dgram_kind kind;

        if (len > size - off)
            len = size - off;
        off += len;
        kind = rtp_demux_classify(p, len);
        switch (kind) {
        case RTP_DGRAM_RTP:
            CHECK(len >= RTP_HEADER_SIZE && p[0] >> 6 == 2);
            CHECK(p[1] < 192 || p[1] > 223);
            one_rtp(&d, p, len);
            break;
        case RTP_DGRAM_RTCP:
            CHECK(len >= 8 && p[0] >> 6 == 2);
            CHECK(p[1] >= 192 && p[1] <= 223);
            one_rtcp(&d, p, len);
            break;
        case RTP_DGRAM_STUN:
            CHECK(len >= 20 && p[0] <= 3);
            break;
        case RTP_DGRAM_DTLS:
            CHECK(len >= 13 && p[0] >= 20 && p[0] <= 63);
            break;
        case RTP_DGRAM_UNKNOWN: {
            /* Never a valid RTP packet that the classifier missed,
             * except one whose second byte says RTCP. */
            rtp_packet pkt;

            if (len >= 2 && p[1] >= 192 && p[1] <= 223)
                break;
            CHECK(rtp_parse(&pkt, p, len) != RTP_OK || p[0] < 128 ||
                  p[0] > 191);
            break;
        }
        default:
            break;
        }
    }
    return 0;
}
