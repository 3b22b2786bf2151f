/*
 * rtcp.c — RTCP compound packets (RFC 3550 section 6, RFC 5506) and the
 * SR, RR, SDES, BYE, generic NACK, PLI, FIR and REMB messages. The
 * transport-cc message lives in twcc.c.
 */
#include <limits.h>
#include <string.h>

#include "bytes.h"
#include "rtp.h"

/* Largest packet the 16-bit length field can describe. */
#define RTCP_MAX_PACKET (65536u * 4)

int rtcp_iter_init(rtcp_iter *it, const uint8_t *buf, size_t len,
                   unsigned flags)
{
    size_t off = 0;

    if (it == NULL || buf == NULL)
        return RTP_ERR_ARG;
    memset(it, 0, sizeof(*it));
    if (len < RTCP_HEADER_SIZE)
        return RTP_ERR_TRUNCATED;
    while (off < len) {
        size_t plen;
        uint8_t pt;

        if (len - off < RTCP_HEADER_SIZE)
            return RTP_ERR_TRUNCATED;
        if (buf[off] >> 6 != RTP_VERSION)
            return RTP_ERR_VERSION;
        pt = buf[off + 1];
        if (pt < 192 || pt > 223)
            return RTP_ERR_INVALID;
        if (off == 0 && !(flags & RTCP_FLAG_REDUCED_SIZE) && pt != RTCP_PT_SR &&
            pt != RTCP_PT_RR)
            return RTP_ERR_INVALID;
        plen = ((size_t) rd16(buf + off + 2) + 1) * 4;
        if (plen > len - off)
            return RTP_ERR_TRUNCATED;
        /* RFC 3550 pads only the last packet, but deployed stacks
         * (libwebrtc transport-cc) pad others too: accept padding on any
         * packet as long as its count fits inside that packet's body. */
        if (buf[off] & 0x20) {
            uint8_t pad = buf[off + plen - 1];

            if (pad == 0 || pad > plen - RTCP_HEADER_SIZE)
                return RTP_ERR_INVALID;
        }
        off += plen;
    }
    it->buf = buf;
    it->len = len;
    return RTP_OK;
}

int rtcp_iter_next(rtcp_iter *it, rtcp_header *out)
{
    const uint8_t *p;
    size_t pad = 0;

    if (it->buf == NULL || it->off >= it->len)
        return 0;
    p = it->buf + it->off;
    out->pt = p[1];
    out->count = p[0] & 0x1f;
    out->padding = (p[0] & 0x20) != 0;
    out->data = p;
    out->len = ((size_t) rd16(p + 2) + 1) * 4;
    if (out->padding)
        pad = p[out->len - 1];
    out->body = p + RTCP_HEADER_SIZE;
    out->body_len = out->len - RTCP_HEADER_SIZE - pad;
    it->off += out->len;
    return 1;
}

int rtcp_write_header(uint8_t *buf, uint8_t pt, uint8_t count, size_t len)
{
    if (buf == NULL || count > 31 || len < RTCP_HEADER_SIZE || len % 4 != 0 ||
        len > RTCP_MAX_PACKET)
        return RTP_ERR_ARG;
    buf[0] = (uint8_t) ((RTP_VERSION << 6) | count);
    buf[1] = pt;
    wr16(buf + 2, (uint16_t) (len / 4 - 1));
    return RTP_OK;
}

/* ---- SR / RR ----------------------------------------------------------- */

static void read_report(rtcp_report_block *rb, const uint8_t *p)
{
    uint32_t lost = rd24(p + 5);

    rb->ssrc = rd32(p);
    rb->fraction_lost = p[4];
    rb->cumulative_lost =
        (lost & 0x800000) ? (int32_t) lost - 0x1000000 : (int32_t) lost;
    rb->ext_highest_seq = rd32(p + 8);
    rb->jitter = rd32(p + 12);
    rb->lsr = rd32(p + 16);
    rb->dlsr = rd32(p + 20);
}

static int check_reports(const rtcp_report_block *rbs, unsigned n)
{
    if (n > RTCP_MAX_REPORTS)
        return RTP_ERR_ARG;
    for (unsigned i = 0; i < n; i++) {
        if (rbs[i].cumulative_lost < -0x800000 ||
            rbs[i].cumulative_lost > 0x7fffff)
            return RTP_ERR_ARG;
    }
    return RTP_OK;
}

static void write_report(uint8_t *p, const rtcp_report_block *rb)
{
    wr32(p, rb->ssrc);
    p[4] = rb->fraction_lost;
    wr24(p + 5, (uint32_t) rb->cumulative_lost & 0xffffff);
    wr32(p + 8, rb->ext_highest_seq);
    wr32(p + 12, rb->jitter);
    wr32(p + 16, rb->lsr);
    wr32(p + 20, rb->dlsr);
}

int rtcp_sr_parse(rtcp_sr *out, const rtcp_header *h)
{
    const uint8_t *p;

    if (out == NULL || h == NULL)
        return RTP_ERR_ARG;
    memset(out, 0, sizeof(*out));
    if (h->pt != RTCP_PT_SR)
        return RTP_ERR_INVALID;
    if (h->body_len < 24 ||
        (h->body_len - 24) / RTCP_REPORT_BLOCK_SIZE < h->count)
        return RTP_ERR_TRUNCATED;
    p = h->body;
    out->ssrc = rd32(p);
    out->ntp = rd64(p + 4);
    out->rtp_ts = rd32(p + 12);
    out->packet_count = rd32(p + 16);
    out->octet_count = rd32(p + 20);
    out->report_count = h->count;
    for (unsigned i = 0; i < h->count; i++)
        read_report(&out->reports[i], p + 24 + i * RTCP_REPORT_BLOCK_SIZE);
    return RTP_OK;
}

int rtcp_rr_parse(rtcp_rr *out, const rtcp_header *h)
{
    if (out == NULL || h == NULL)
        return RTP_ERR_ARG;
    memset(out, 0, sizeof(*out));
    if (h->pt != RTCP_PT_RR)
        return RTP_ERR_INVALID;
    if (h->body_len < 4 ||
        (h->body_len - 4) / RTCP_REPORT_BLOCK_SIZE < h->count)
        return RTP_ERR_TRUNCATED;
    out->ssrc = rd32(h->body);
    out->report_count = h->count;
    for (unsigned i = 0; i < h->count; i++)
        read_report(&out->reports[i], h->body + 4 + i * RTCP_REPORT_BLOCK_SIZE);
    return RTP_OK;
}

int rtcp_sr_build(uint8_t *buf, size_t cap, const rtcp_sr *sr)
{
    size_t len;
    int rc;

    if (buf == NULL || sr == NULL)
        return RTP_ERR_ARG;
    rc = check_reports(sr->reports, sr->report_count);
    if (rc < 0)
        return rc;
    len = 4 + 24 + (size_t) sr->report_count * RTCP_REPORT_BLOCK_SIZE;
    if (len > cap)
        return RTP_ERR_NOSPACE;
    rtcp_write_header(buf, RTCP_PT_SR, sr->report_count, len);
    wr32(buf + 4, sr->ssrc);
    wr64(buf + 8, sr->ntp);
    wr32(buf + 16, sr->rtp_ts);
    wr32(buf + 20, sr->packet_count);
    wr32(buf + 24, sr->octet_count);
    for (unsigned i = 0; i < sr->report_count; i++)
        write_report(buf + 28 + i * RTCP_REPORT_BLOCK_SIZE, &sr->reports[i]);
    return (int) len;
}

int rtcp_rr_build(uint8_t *buf, size_t cap, const rtcp_rr *rr)
{
    size_t len;
    int rc;

    if (buf == NULL || rr == NULL)
        return RTP_ERR_ARG;
    rc = check_reports(rr->reports, rr->report_count);
    if (rc < 0)
        return rc;
    len = 4 + 4 + (size_t) rr->report_count * RTCP_REPORT_BLOCK_SIZE;
    if (len > cap)
        return RTP_ERR_NOSPACE;
    rtcp_write_header(buf, RTCP_PT_RR, rr->report_count, len);
    wr32(buf + 4, rr->ssrc);
    for (unsigned i = 0; i < rr->report_count; i++)
        write_report(buf + 8 + i * RTCP_REPORT_BLOCK_SIZE, &rr->reports[i]);
    return (int) len;
}

/* ---- SDES -------------------------------------------------------------- */

int rtcp_sdes_parse(rtcp_sdes *out, const rtcp_header *h)
{
    size_t off = 0;

    if (out == NULL || h == NULL)
        return RTP_ERR_ARG;
    out->chunk_count = 0;
    if (h->pt != RTCP_PT_SDES)
        return RTP_ERR_INVALID;
    for (unsigned c = 0; c < h->count; c++) {
        rtcp_sdes_chunk *chunk = &out->chunks[c];
        size_t pad;

        if (h->body_len - off < 4)
            return RTP_ERR_TRUNCATED;
        chunk->ssrc = rd32(h->body + off);
        chunk->item_count = 0;
        off += 4;
        for (;;) {
            uint8_t type, ilen;

            if (off >= h->body_len)
                return RTP_ERR_TRUNCATED; /* no null item */
            type = h->body[off];
            if (type == RTCP_SDES_END) {
                off++;
                break;
            }
            if (h->body_len - off < 2)
                return RTP_ERR_TRUNCATED;
            ilen = h->body[off + 1];
            if (ilen > h->body_len - off - 2)
                return RTP_ERR_TRUNCATED;
            if (chunk->item_count == RTCP_SDES_MAX_ITEMS)
                return RTP_ERR_NOSPACE;
            chunk->items[chunk->item_count].type = type;
            chunk->items[chunk->item_count].len = ilen;
            chunk->items[chunk->item_count].data = h->body + off + 2;
            chunk->item_count++;
            off += 2 + (size_t) ilen;
        }
        /* Null octets up to the next 32-bit boundary. */
        pad = (4 - off % 4) % 4;
        if (pad > h->body_len - off)
            return RTP_ERR_TRUNCATED;
        off += pad;
        out->chunk_count = (uint8_t) (c + 1);
    }
    return RTP_OK;
}

static size_t sdes_chunk_size(const rtcp_sdes_chunk *chunk)
{
    size_t n = 4 + 1; /* SSRC and the null item */

    for (unsigned i = 0; i < chunk->item_count; i++)
        n += 2 + (size_t) chunk->items[i].len;
    return (n + 3) & ~(size_t) 3;
}

int rtcp_sdes_build(uint8_t *buf, size_t cap, const rtcp_sdes *sdes)
{
    size_t len = RTCP_HEADER_SIZE;
    size_t off;

    if (buf == NULL || sdes == NULL || sdes->chunk_count > RTCP_SDES_MAX_CHUNKS)
        return RTP_ERR_ARG;
    for (unsigned c = 0; c < sdes->chunk_count; c++) {
        const rtcp_sdes_chunk *chunk = &sdes->chunks[c];

        if (chunk->item_count > RTCP_SDES_MAX_ITEMS)
            return RTP_ERR_ARG;
        for (unsigned i = 0; i < chunk->item_count; i++) {
            if (chunk->items[i].type == RTCP_SDES_END ||
                (chunk->items[i].len > 0 && chunk->items[i].data == NULL))
                return RTP_ERR_ARG;
        }
        len += sdes_chunk_size(chunk);
    }
    if (len > cap)
        return RTP_ERR_NOSPACE;
    rtcp_write_header(buf, RTCP_PT_SDES, sdes->chunk_count, len);
    off = RTCP_HEADER_SIZE;
    for (unsigned c = 0; c < sdes->chunk_count; c++) {
        const rtcp_sdes_chunk *chunk = &sdes->chunks[c];
        size_t end = off + sdes_chunk_size(chunk);

        wr32(buf + off, chunk->ssrc);
        off += 4;
        for (unsigned i = 0; i < chunk->item_count; i++) {
            buf[off] = chunk->items[i].type;
            buf[off + 1] = chunk->items[i].len;
            if (chunk->items[i].len > 0)
                memmove(buf + off + 2, chunk->items[i].data,
                        chunk->items[i].len);
            off += 2 + (size_t) chunk->items[i].len;
        }
        memset(buf + off, 0, end - off); /* null item and padding */
        off = end;
    }
    return (int) len;
}

int rtcp_sdes_find_cname(const rtcp_sdes *sdes, uint32_t ssrc,
                         const uint8_t **cname, size_t *len)
{
    if (sdes == NULL || cname == NULL || len == NULL)
        return RTP_ERR_ARG;
    for (unsigned c = 0; c < sdes->chunk_count; c++) {
        const rtcp_sdes_chunk *chunk = &sdes->chunks[c];

        if (chunk->ssrc != ssrc)
            continue;
        for (unsigned i = 0; i < chunk->item_count; i++) {
            if (chunk->items[i].type == RTCP_SDES_CNAME) {
                *cname = chunk->items[i].data;
                *len = chunk->items[i].len;
                return RTP_OK;
            }
        }
    }
    return RTP_ERR_NOT_FOUND;
}

/* ---- BYE --------------------------------------------------------------- */

int rtcp_bye_parse(rtcp_bye *out, const rtcp_header *h)
{
    size_t off;

    if (out == NULL || h == NULL)
        return RTP_ERR_ARG;
    memset(out, 0, sizeof(*out));
    if (h->pt != RTCP_PT_BYE)
        return RTP_ERR_INVALID;
    if (h->body_len / 4 < h->count)
        return RTP_ERR_TRUNCATED;
    out->ssrc_count = h->count;
    for (unsigned i = 0; i < h->count; i++)
        out->ssrcs[i] = rd32(h->body + 4 * i);
    off = 4 * (size_t) h->count;
    if (off < h->body_len) {
        uint8_t rlen = h->body[off];

        if (rlen > h->body_len - off - 1)
            return RTP_ERR_TRUNCATED;
        out->has_reason = true;
        out->reason_len = rlen;
        out->reason = h->body + off + 1;
    }
    return RTP_OK;
}

int rtcp_bye_build(uint8_t *buf, size_t cap, const rtcp_bye *bye)
{
    size_t len;
    size_t off;

    if (buf == NULL || bye == NULL || bye->ssrc_count > 31)
        return RTP_ERR_ARG;
    if (bye->has_reason && bye->reason_len > 0 && bye->reason == NULL)
        return RTP_ERR_ARG;
    len = RTCP_HEADER_SIZE + 4 * (size_t) bye->ssrc_count;
    if (bye->has_reason)
        len += (1 + (size_t) bye->reason_len + 3) & ~(size_t) 3;
    if (len > cap)
        return RTP_ERR_NOSPACE;
    rtcp_write_header(buf, RTCP_PT_BYE, bye->ssrc_count, len);
    off = RTCP_HEADER_SIZE;
    for (unsigned i = 0; i < bye->ssrc_count; i++) {
        wr32(buf + off, bye->ssrcs[i]);
        off += 4;
    }
    if (bye->has_reason) {
        buf[off] = bye->reason_len;
        if (bye->reason_len > 0)
            memmove(buf + off + 1, bye->reason, bye->reason_len);
        off += 1 + (size_t) bye->reason_len;
        memset(buf + off, 0, len - off);
    }
    return (int) len;
}

/* ---- feedback ---------------------------------------------------------- */

int rtcp_fb_parse(rtcp_fb *out, const rtcp_header *h)
{
    if (out == NULL || h == NULL)
        return RTP_ERR_ARG;
    memset(out, 0, sizeof(*out));
    if (h->pt != RTCP_PT_RTPFB && h->pt != RTCP_PT_PSFB)
        return RTP_ERR_INVALID;
    if (h->body_len < 8)
        return RTP_ERR_TRUNCATED;
    out->pt = h->pt;
    out->fmt = h->count;
    out->sender_ssrc = rd32(h->body);
    out->media_ssrc = rd32(h->body + 4);
    out->fci = h->body + 8;
    out->fci_len = h->body_len - 8;
    return RTP_OK;
}

/* Writes the header and both SSRCs of a feedback message of @len bytes. */
static void write_fb_header(uint8_t *buf, uint8_t pt, uint8_t fmt, size_t len,
                            uint32_t sender, uint32_t media)
{
    rtcp_write_header(buf, pt, fmt, len);
    wr32(buf + 4, sender);
    wr32(buf + 8, media);
}

int rtcp_nack_parse(const rtcp_fb *fb, uint16_t *seqs, size_t cap, size_t *n)
{
    size_t count = 0;

    if (fb == NULL || n == NULL || (cap > 0 && seqs == NULL))
        return RTP_ERR_ARG;
    *n = 0;
    if (fb->pt != RTCP_PT_RTPFB || fb->fmt != RTCP_FMT_NACK ||
        fb->fci_len == 0 || fb->fci_len % 4 != 0)
        return RTP_ERR_INVALID;
    for (size_t off = 0; off < fb->fci_len; off += 4) {
        uint16_t pid = rd16(fb->fci + off);
        uint16_t blp = rd16(fb->fci + off + 2);

        if (count == cap)
            return RTP_ERR_NOSPACE;
        seqs[count++] = pid;
        for (unsigned bit = 0; bit < 16; bit++) {
            if (!(blp & (1u << bit)))
                continue;
            if (count == cap)
                return RTP_ERR_NOSPACE;
            seqs[count++] = (uint16_t) (pid + bit + 1);
        }
    }
    *n = count;
    return RTP_OK;
}

int rtcp_nack_build(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
                    uint32_t media_ssrc, const uint16_t *seqs, size_t n)
{
    size_t off = 12;
    size_t entry = 0;
    uint16_t pid = 0;
    uint16_t blp = 0;
    bool have = false;

    if (buf == NULL || seqs == NULL || n == 0)
        return RTP_ERR_ARG;
    if (cap < 12)
        return RTP_ERR_NOSPACE;
    for (size_t i = 0; i < n; i++) {
        uint16_t diff = (uint16_t) (seqs[i] - pid);

        if (have && diff == 0)
            continue;
        if (have && diff <= 16) {
            blp |= (uint16_t) (1u << (diff - 1));
        } else {
            if (cap - off < 4 || off + 4 > RTCP_MAX_PACKET)
                return RTP_ERR_NOSPACE;
            entry = off;
            off += 4;
            pid = seqs[i];
            blp = 0;
            have = true;
        }
        wr16(buf + entry, pid);
        wr16(buf + entry + 2, blp);
    }
    write_fb_header(buf, RTCP_PT_RTPFB, RTCP_FMT_NACK, off, sender_ssrc,
                    media_ssrc);
    return (int) off;
}

int rtcp_pli_build(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
                   uint32_t media_ssrc)
{
    if (buf == NULL)
        return RTP_ERR_ARG;
    if (cap < 12)
        return RTP_ERR_NOSPACE;
    write_fb_header(buf, RTCP_PT_PSFB, RTCP_FMT_PLI, 12, sender_ssrc,
                    media_ssrc);
    return 12;
}

int rtcp_fir_parse(const rtcp_fb *fb, rtcp_fir_entry *entries, size_t cap,
                   size_t *n)
{
    size_t count;

    if (fb == NULL || n == NULL || (cap > 0 && entries == NULL))
        return RTP_ERR_ARG;
    *n = 0;
    if (fb->pt != RTCP_PT_PSFB || fb->fmt != RTCP_FMT_FIR || fb->fci_len == 0 ||
        fb->fci_len % 8 != 0)
        return RTP_ERR_INVALID;
    count = fb->fci_len / 8;
    if (count > cap)
        return RTP_ERR_NOSPACE;
    for (size_t i = 0; i < count; i++) {
        entries[i].ssrc = rd32(fb->fci + 8 * i);
        entries[i].seq_nr = fb->fci[8 * i + 4];
    }
    *n = count;
    return RTP_OK;
}

int rtcp_fir_build(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
                   const rtcp_fir_entry *entries, size_t n)
{
    size_t len;

    if (buf == NULL || entries == NULL || n == 0 ||
        n > (RTCP_MAX_PACKET - 12) / 8)
        return RTP_ERR_ARG;
    len = 12 + 8 * n;
    if (len > cap)
        return RTP_ERR_NOSPACE;
    write_fb_header(buf, RTCP_PT_PSFB, RTCP_FMT_FIR, len, sender_ssrc, 0);
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = buf + 12 + 8 * i;

        wr32(p, entries[i].ssrc);
        p[4] = entries[i].seq_nr;
        p[5] = p[6] = p[7] = 0;
    }
    return (int) len;
}

/* ---- REMB -------------------------------------------------------------- */

int rtcp_remb_parse(rtcp_remb *out, const rtcp_fb *fb)
{
    unsigned num, exp;
    uint64_t mantissa;

    if (out == NULL || fb == NULL)
        return RTP_ERR_ARG;
    out->bitrate = 0;
    out->ssrc_count = 0;
    if (fb->pt != RTCP_PT_PSFB || fb->fmt != RTCP_FMT_AFB)
        return RTP_ERR_INVALID;
    if (fb->fci_len < 4 || memcmp(fb->fci, "REMB", 4) != 0)
        return RTP_ERR_NOT_FOUND;
    if (fb->fci_len < 8)
        return RTP_ERR_TRUNCATED;
    num = fb->fci[4];
    exp = fb->fci[5] >> 2;
    mantissa = ((uint64_t) (fb->fci[5] & 0x03) << 16) | rd16(fb->fci + 6);
    if ((fb->fci_len - 8) / 4 < num)
        return RTP_ERR_TRUNCATED;
    if (exp > 46 && (mantissa >> (64 - exp)) != 0)
        return RTP_ERR_INVALID; /* does not fit in 64 bits */
    out->bitrate = mantissa << exp;
    out->ssrc_count = (uint8_t) num;
    for (unsigned i = 0; i < num; i++)
        out->ssrcs[i] = rd32(fb->fci + 8 + 4 * i);
    return RTP_OK;
}

int rtcp_remb_build(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
                    const rtcp_remb *remb)
{
    unsigned exp = 0;
    uint64_t mantissa;
    size_t len;

    if (buf == NULL || remb == NULL)
        return RTP_ERR_ARG;
    len = 12 + 8 + 4 * (size_t) remb->ssrc_count;
    if (len > cap)
        return RTP_ERR_NOSPACE;
    while ((remb->bitrate >> exp) > 0x3ffff)
        exp++;
    mantissa = remb->bitrate >> exp;
    write_fb_header(buf, RTCP_PT_PSFB, RTCP_FMT_AFB, len, sender_ssrc, 0);
    memcpy(buf + 12, "REMB", 4);
    buf[16] = remb->ssrc_count;
    buf[17] = (uint8_t) ((exp << 2) | (unsigned) (mantissa >> 16));
    wr16(buf + 18, (uint16_t) mantissa);
    for (unsigned i = 0; i < remb->ssrc_count; i++)
        wr32(buf + 20 + 4 * i, remb->ssrcs[i]);
    return (int) len;
}
