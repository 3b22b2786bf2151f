/*
 * twcc.c — transport-wide congestion control feedback
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01 section 3.1):
 *
 *   base sequence number (16) | packet status count (16)
 *   reference time (24, signed, 64 ms) | feedback packet count (8)
 *   packet chunks (16 bits each) ... | receive deltas ... | zero padding
 *
 * A chunk is either a run (0 | symbol:2 | run length:13) or a status
 * vector (1 | 0 | 14 one-bit symbols) / (1 | 1 | 7 two-bit symbols).
 * Symbols: 0 not received, 1 received with a one-byte delta (0..255 x
 * 250 us), 2 received with a two-byte signed delta, 3 reserved.
 */
#include <string.h>

#include "bytes.h"
#include "rtp.h"

#define TWCC_RUN_MAX 0x1fff
#define TWCC_HEADER 8 /* FCI bytes before the first chunk */

/* Stores @sym for packet @i; returns RTP_ERR_INVALID for symbol 3. */
static int put_symbol(rtcp_twcc_packet *pkts, const rtcp_twcc *hdr, size_t i,
                      unsigned sym)
{
    if (sym == 3)
        return RTP_ERR_INVALID;
    pkts[i].seq = (uint16_t) (hdr->base_seq + i);
    pkts[i].status = (uint8_t) sym;
    pkts[i].delta = 0;
    return RTP_OK;
}

int rtcp_twcc_parse(const rtcp_fb *fb, rtcp_twcc *out, rtcp_twcc_packet *pkts,
                    size_t cap)
{
    size_t off = TWCC_HEADER;
    size_t count, i = 0;
    uint32_t ref;
    int rc;

    if (fb == NULL || out == NULL || (cap > 0 && pkts == NULL))
        return RTP_ERR_ARG;
    memset(out, 0, sizeof(*out));
    if (fb->pt != RTCP_PT_RTPFB || fb->fmt != RTCP_FMT_TWCC)
        return RTP_ERR_INVALID;
    if (fb->fci_len < TWCC_HEADER)
        return RTP_ERR_TRUNCATED;
    out->base_seq = rd16(fb->fci);
    out->status_count = rd16(fb->fci + 2);
    ref = rd24(fb->fci + 4);
    out->reference_time =
        (ref & 0x800000) ? (int32_t) ref - 0x1000000 : (int32_t) ref;
    out->fb_count = fb->fci[7];
    count = out->status_count;
    if (count == 0)
        return RTP_ERR_INVALID;
    if (count > cap)
        return RTP_ERR_NOSPACE;

    /* Packet chunks. */
    while (i < count) {
        uint16_t chunk;

        if (fb->fci_len - off < 2)
            return RTP_ERR_TRUNCATED;
        chunk = rd16(fb->fci + off);
        off += 2;
        if (!(chunk & 0x8000)) {
            unsigned sym = (chunk >> 13) & 0x3;
            size_t run = chunk & TWCC_RUN_MAX;

            for (size_t k = 0; k < run && i < count; k++, i++) {
                rc = put_symbol(pkts, out, i, sym);
                if (rc < 0)
                    return rc;
            }
        } else if (!(chunk & 0x4000)) {
            for (int bit = 13; bit >= 0 && i < count; bit--, i++) {
                rc = put_symbol(pkts, out, i, (chunk >> bit) & 0x1);
                if (rc < 0)
                    return rc;
            }
        } else {
            for (int shift = 12; shift >= 0 && i < count; shift -= 2, i++) {
                rc = put_symbol(pkts, out, i, (chunk >> shift) & 0x3);
                if (rc < 0)
                    return rc;
            }
        }
    }

    /* Receive deltas, one per received packet, in order. */
    for (i = 0; i < count; i++) {
        if (pkts[i].status == RTCP_TWCC_SMALL_DELTA) {
            if (fb->fci_len - off < 1)
                return RTP_ERR_TRUNCATED;
            pkts[i].delta = fb->fci[off];
            off += 1;
        } else if (pkts[i].status == RTCP_TWCC_LARGE_DELTA) {
            if (fb->fci_len - off < 2)
                return RTP_ERR_TRUNCATED;
            pkts[i].delta = (int16_t) rd16(fb->fci + off);
            off += 2;
        }
    }
    /* What remains is zero padding to the 32-bit boundary. */
    return RTP_OK;
}

static unsigned symbol_of(const rtcp_twcc_packet *p)
{
    if (p->status == RTCP_TWCC_NOT_RECEIVED)
        return RTCP_TWCC_NOT_RECEIVED;
    if (p->delta >= 0 && p->delta <= 255)
        return RTCP_TWCC_SMALL_DELTA;
    return RTCP_TWCC_LARGE_DELTA;
}

/* Room check that also keeps the packet within the 16-bit length. */
static bool room(size_t cap, size_t off, size_t need)
{
    return cap >= off && cap - off >= need && off + need <= 65536u * 4;
}

int rtcp_twcc_build(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
                    uint32_t media_ssrc, const rtcp_twcc *hdr,
                    const rtcp_twcc_packet *pkts, size_t n)
{
    size_t off = 12 + TWCC_HEADER;
    size_t i = 0;
    size_t padded;

    if (buf == NULL || hdr == NULL || pkts == NULL || n == 0 || n > 0xffff)
        return RTP_ERR_ARG;
    if (hdr->reference_time < -0x800000 || hdr->reference_time > 0x7fffff)
        return RTP_ERR_ARG;
    for (size_t k = 0; k < n; k++) {
        if (pkts[k].status != RTCP_TWCC_NOT_RECEIVED &&
            (pkts[k].delta < -32768 || pkts[k].delta > 32767))
            return RTP_ERR_ARG;
    }
    if (!room(cap, 0, off))
        return RTP_ERR_NOSPACE;

    /* Packet chunks: a run when it is long (or ends the list), else a
     * one-bit vector when the next 14 need no large delta, else a run of
     * at least 7, else a two-bit vector. */
    while (i < n) {
        unsigned sym = symbol_of(&pkts[i]);
        size_t run = 1;
        size_t left = n - i;
        size_t window = left < 14 ? left : 14;
        bool large = false;
        uint16_t chunk;

        while (i + run < n && run < TWCC_RUN_MAX &&
               symbol_of(&pkts[i + run]) == sym)
            run++;
        for (size_t k = 0; k < window; k++) {
            if (symbol_of(&pkts[i + k]) == RTCP_TWCC_LARGE_DELTA)
                large = true;
        }
        if (run >= 14 || run == left || (large && run >= 7)) {
            chunk = (uint16_t) ((sym << 13) | run);
            i += run;
        } else if (!large) {
            chunk = 0x8000;
            for (size_t k = 0; k < window; k++)
                chunk |= (uint16_t) (symbol_of(&pkts[i + k]) << (13 - k));
            i += window;
        } else {
            size_t w7 = left < 7 ? left : 7;

            chunk = 0xc000;
            for (size_t k = 0; k < w7; k++)
                chunk |= (uint16_t) (symbol_of(&pkts[i + k]) << (12 - 2 * k));
            i += w7;
        }
        if (!room(cap, off, 2))
            return RTP_ERR_NOSPACE;
        wr16(buf + off, chunk);
        off += 2;
    }

    /* Receive deltas. */
    for (i = 0; i < n; i++) {
        unsigned sym = symbol_of(&pkts[i]);

        if (sym == RTCP_TWCC_SMALL_DELTA) {
            if (!room(cap, off, 1))
                return RTP_ERR_NOSPACE;
            buf[off++] = (uint8_t) pkts[i].delta;
        } else if (sym == RTCP_TWCC_LARGE_DELTA) {
            if (!room(cap, off, 2))
                return RTP_ERR_NOSPACE;
            wr16(buf + off, (uint16_t) (int16_t) pkts[i].delta);
            off += 2;
        }
    }
    padded = (off + 3) & ~(size_t) 3;
    if (!room(cap, off, padded - off))
        return RTP_ERR_NOSPACE;
    memset(buf + off, 0, padded - off);

    rtcp_write_header(buf, RTCP_PT_RTPFB, RTCP_FMT_TWCC, padded);
    wr32(buf + 4, sender_ssrc);
    wr32(buf + 8, media_ssrc);
    wr16(buf + 12, hdr->base_seq);
    wr16(buf + 14, (uint16_t) n);
    wr24(buf + 16, (uint32_t) hdr->reference_time & 0xffffff);
    buf[19] = hdr->fb_count;
    return (int) padded;
}
