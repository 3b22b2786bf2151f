/*
 * libFuzzer target: RTCP compound packets and every message parser.
 *
 * The first input byte picks the compound rules (bit 0: reduced-size);
 * the rest is the datagram. Each packet goes to the parser of its type;
 * what parses is rebuilt, re-parsed and compared with the first view.
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

static uint8_t out[65536 * 4 + 64];
static rtcp_twcc_packet tw1[65536], tw2[65536];
static uint16_t seqs1[65536 * 17], seqs2[65536 * 17];
static rtcp_fir_entry fir1[32768], fir2[32768];

/* The one packet in the buffer a builder just wrote (@n bytes). */
static void reparse(int n, rtcp_header *h)
{
    rtcp_iter it;
    rtcp_header end;

    CHECK(n >= RTCP_HEADER_SIZE && (size_t) n <= sizeof(out));
    CHECK(rtcp_iter_init(&it, out, (size_t) n, RTCP_FLAG_REDUCED_SIZE) ==
          RTP_OK);
    CHECK(rtcp_iter_next(&it, h) == 1);
    CHECK(h->len == (size_t) n);
    CHECK(rtcp_iter_next(&it, &end) == 0);
}

static void fb_again(int n, rtcp_fb *fb)
{
    rtcp_header h;

    reparse(n, &h);
    CHECK(rtcp_fb_parse(fb, &h) == RTP_OK);
}

static int cmp_u16(const void *a, const void *b)
{
    return (int) *(const uint16_t *) a - (int) *(const uint16_t *) b;
}

/* Sorts and removes duplicates; returns the new count. */
static size_t set_of(uint16_t *v, size_t n)
{
    size_t k = 0;

    qsort(v, n, sizeof(*v), cmp_u16);
    for (size_t i = 0; i < n; i++) {
        if (k == 0 || v[k - 1] != v[i])
            v[k++] = v[i];
    }
    return k;
}

static void check_sdes(const rtcp_header *h)
{
    static rtcp_sdes a, b;
    rtcp_header h2;

    if (rtcp_sdes_parse(&a, h) != RTP_OK)
        return;
    reparse(rtcp_sdes_build(out, sizeof(out), &a), &h2);
    CHECK(rtcp_sdes_parse(&b, &h2) == RTP_OK);
    CHECK(a.chunk_count == b.chunk_count);
    for (unsigned c = 0; c < a.chunk_count; c++) {
        CHECK(a.chunks[c].ssrc == b.chunks[c].ssrc);
        CHECK(a.chunks[c].item_count == b.chunks[c].item_count);
        for (unsigned i = 0; i < a.chunks[c].item_count; i++) {
            const rtcp_sdes_item *x = &a.chunks[c].items[i];
            const rtcp_sdes_item *y = &b.chunks[c].items[i];

            CHECK(x->type == y->type && x->len == y->len);
            CHECK(x->len == 0 || memcmp(x->data, y->data, x->len) == 0);
        }
    }
}

static void check_bye(const rtcp_header *h)
{
    rtcp_bye a, b;
    rtcp_header h2;

    if (rtcp_bye_parse(&a, h) != RTP_OK)
        return;
    reparse(rtcp_bye_build(out, sizeof(out), &a), &h2);
    CHECK(rtcp_bye_parse(&b, &h2) == RTP_OK);
    CHECK(a.ssrc_count == b.ssrc_count);
    CHECK(memcmp(a.ssrcs, b.ssrcs, sizeof(a.ssrcs)) == 0);
    CHECK(a.has_reason == b.has_reason && a.reason_len == b.reason_len);
    CHECK(a.reason_len == 0 || memcmp(a.reason, b.reason, a.reason_len) == 0);
}

static void check_fb(const rtcp_header *h)
{
    rtcp_fb fb, fb2;
    size_t n1 = 0, n2 = 0;

    if (rtcp_fb_parse(&fb, h) != RTP_OK)
        return;
    CHECK(fb.fci + fb.fci_len == h->body + h->body_len);
    if (fb.pt == RTCP_PT_RTPFB && fb.fmt == RTCP_FMT_NACK) {
        if (rtcp_nack_parse(&fb, seqs1, 65536 * 17, &n1) != RTP_OK)
            return;
        fb_again(rtcp_nack_build(out, sizeof(out), fb.sender_ssrc,
                                 fb.media_ssrc, seqs1, n1),
                 &fb2);
        CHECK(fb2.sender_ssrc == fb.sender_ssrc);
        CHECK(fb2.media_ssrc == fb.media_ssrc);
        CHECK(fb2.fci_len <= fb.fci_len);
        CHECK(rtcp_nack_parse(&fb2, seqs2, 65536 * 17, &n2) == RTP_OK);
        n1 = set_of(seqs1, n1);
        n2 = set_of(seqs2, n2);
        CHECK(n1 == n2 && memcmp(seqs1, seqs2, n1 * 2) == 0);
    } else if (fb.pt == RTCP_PT_RTPFB && fb.fmt == RTCP_FMT_TWCC) {
        rtcp_twcc a, b;

        if (rtcp_twcc_parse(&fb, &a, tw1, 65536) != RTP_OK)
            return;
        for (size_t i = 0; i < a.status_count; i++)
            CHECK(tw1[i].seq == (uint16_t) (a.base_seq + i));
        fb_again(rtcp_twcc_build(out, sizeof(out), fb.sender_ssrc,
                                 fb.media_ssrc, &a, tw1, a.status_count),
                 &fb2);
        CHECK(rtcp_twcc_parse(&fb2, &b, tw2, 65536) == RTP_OK);
        CHECK(memcmp(&a, &b, sizeof(a)) == 0);
        for (size_t i = 0; i < a.status_count; i++) {
            CHECK(tw1[i].seq == tw2[i].seq);
            CHECK((tw1[i].status == RTCP_TWCC_NOT_RECEIVED) ==
                  (tw2[i].status == RTCP_TWCC_NOT_RECEIVED));
            CHECK(tw1[i].delta == tw2[i].delta);
        }
    } else if (fb.pt == RTCP_PT_PSFB && fb.fmt == RTCP_FMT_PLI) {
        fb_again(
            rtcp_pli_build(out, sizeof(out), fb.sender_ssrc, fb.media_ssrc),
            &fb2);
        CHECK(fb2.fmt == RTCP_FMT_PLI && fb2.fci_len == 0);
        CHECK(fb.fci_len != 0 || memcmp(out, h->data, 12) == 0 || h->padding);
    } else if (fb.pt == RTCP_PT_PSFB && fb.fmt == RTCP_FMT_FIR) {
        if (rtcp_fir_parse(&fb, fir1, 32768, &n1) != RTP_OK)
            return;
        fb_again(rtcp_fir_build(out, sizeof(out), fb.sender_ssrc, fir1, n1),
                 &fb2);
        CHECK(rtcp_fir_parse(&fb2, fir2, 32768, &n2) == RTP_OK);
        CHECK(n1 == n2);
        for (size_t i = 0; i < n1; i++)
            CHECK(fir1[i].ssrc == fir2[i].ssrc &&
                  fir1[i].seq_nr == fir2[i].seq_nr);
    } else if (fb.pt == RTCP_PT_PSFB && fb.fmt == RTCP_FMT_AFB) {
        static rtcp_remb a, b;

        if (rtcp_remb_parse(&a, &fb) != RTP_OK)
            return;
        fb_again(rtcp_remb_build(out, sizeof(out), fb.sender_ssrc, &a), &fb2);
        CHECK(rtcp_remb_parse(&b, &fb2) == RTP_OK);
        CHECK(a.bitrate == b.bitrate && a.ssrc_count == b.ssrc_count);
        CHECK(memcmp(a.ssrcs, b.ssrcs, 4 * (size_t) a.ssrc_count) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rtcp_iter it;
    rtcp_header h, h2;
    unsigned flags;
    size_t total = 0;

    if (size < 1)
        return 0;
    flags = (data[0] & 1) ? RTCP_FLAG_REDUCED_SIZE : 0;
    data++;
    size--;
    if (rtcp_iter_init(&it, data, size, flags) != RTP_OK)
        return 0;
    while (rtcp_iter_next(&it, &h) == 1) {
        CHECK(h.data == data + total);
        CHECK(h.body + h.body_len <= h.data + h.len);
        total += h.len;
        switch (h.pt) {
        case RTCP_PT_SR: {
            static rtcp_sr a, b;

            if (rtcp_sr_parse(&a, &h) != RTP_OK)
                break;
            reparse(rtcp_sr_build(out, sizeof(out), &a), &h2);
            CHECK(rtcp_sr_parse(&b, &h2) == RTP_OK);
            CHECK(memcmp(&a, &b, sizeof(a)) == 0);
            break;
        }
        case RTCP_PT_RR: {
            static rtcp_rr a, b;

            if (rtcp_rr_parse(&a, &h) != RTP_OK)
                break;
            reparse(rtcp_rr_build(out, sizeof(out), &a), &h2);
            CHECK(rtcp_rr_parse(&b, &h2) == RTP_OK);
            CHECK(memcmp(&a, &b, sizeof(a)) == 0);
            break;
        }
        case RTCP_PT_SDES:
            check_sdes(&h);
            break;
        case RTCP_PT_BYE:
            check_bye(&h);
            break;
        case RTCP_PT_RTPFB:
        case RTCP_PT_PSFB:
            check_fb(&h);
            break;
        default:
            break;
        }
    }
    CHECK(total == size);
    return 0;
}
