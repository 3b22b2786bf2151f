/*
 * packet.c — RTP fixed header (RFC 3550 section 5.1) and header extensions
 * (RFC 8285): parse, build, and the mid / abs-send-time / transport-wide
 * sequence number elements.
 */
#include <limits.h>
#include <string.h>

#include "bytes.h"
#include "rtp.h"

const char *rtp_strerror(int code)
{
    switch (code) {
    case RTP_OK:
        return "success";
    case RTP_ERR_TRUNCATED:
        return "packet shorter than its headers announce";
    case RTP_ERR_VERSION:
        return "version is not 2";
    case RTP_ERR_INVALID:
        return "field value not allowed by the format";
    case RTP_ERR_NOSPACE:
        return "output buffer or array too small";
    case RTP_ERR_NOT_FOUND:
        return "not found";
    case RTP_ERR_ARG:
        return "invalid argument";
    default:
        return "unknown rtp status";
    }
}

int rtp_parse(rtp_packet *out, const uint8_t *buf, size_t len)
{
    size_t off = RTP_HEADER_SIZE;
    size_t end = len;

    if (out == NULL || buf == NULL)
        return RTP_ERR_ARG;
    memset(out, 0, sizeof(*out));
    if (len < RTP_HEADER_SIZE)
        return RTP_ERR_TRUNCATED;
    out->version = buf[0] >> 6;
    if (out->version != RTP_VERSION)
        return RTP_ERR_VERSION;
    out->padding = (buf[0] & 0x20) != 0;
    out->extension = (buf[0] & 0x10) != 0;
    out->csrc_count = buf[0] & 0x0f;
    out->marker = (buf[1] & 0x80) != 0;
    out->payload_type = buf[1] & 0x7f;
    out->seq = rd16(buf + 2);
    out->timestamp = rd32(buf + 4);
    out->ssrc = rd32(buf + 8);

    if (len - off < 4u * out->csrc_count)
        return RTP_ERR_TRUNCATED;
    for (unsigned i = 0; i < out->csrc_count; i++) {
        out->csrc[i] = rd32(buf + off);
        off += 4;
    }

    if (out->extension) {
        size_t words;

        if (len - off < 4)
            return RTP_ERR_TRUNCATED;
        out->ext_profile = rd16(buf + off);
        words = rd16(buf + off + 2);
        off += 4;
        if ((len - off) / 4 < words)
            return RTP_ERR_TRUNCATED;
        out->ext_data = buf + off;
        out->ext_len = words * 4;
        off += out->ext_len;
    }

    if (out->padding) {
        uint8_t pad;

        if (len == off)
            return RTP_ERR_TRUNCATED;
        pad = buf[len - 1];
        if (pad == 0 || pad > len - off)
            return RTP_ERR_INVALID;
        out->pad_len = pad;
        end = len - pad;
    }
    out->payload = buf + off;
    out->payload_len = end - off;
    return RTP_OK;
}

int rtp_build(uint8_t *buf, size_t cap, const rtp_packet *pkt)
{
    size_t need = RTP_HEADER_SIZE;
    size_t pad = 0;
    size_t off;

    if (buf == NULL || pkt == NULL)
        return RTP_ERR_ARG;
    if (pkt->csrc_count > RTP_MAX_CSRC || pkt->payload_type > 127)
        return RTP_ERR_ARG;
    if (pkt->payload_len > 0 && pkt->payload == NULL)
        return RTP_ERR_ARG;
    if (pkt->padding) {
        if (pkt->pad_len == 0)
            return RTP_ERR_ARG;
        pad = pkt->pad_len;
    }
    need += 4u * pkt->csrc_count;
    if (pkt->extension) {
        if (pkt->ext_len % 4 != 0 || pkt->ext_len / 4 > 0xffff)
            return RTP_ERR_ARG;
        if (pkt->ext_len > 0 && pkt->ext_data == NULL)
            return RTP_ERR_ARG;
        need += 4 + pkt->ext_len;
    }
    need += pad;
    if (pkt->payload_len > INT_MAX - need)
        return RTP_ERR_NOSPACE;
    need += pkt->payload_len;
    if (need > cap)
        return RTP_ERR_NOSPACE;

    buf[0] = (uint8_t) ((RTP_VERSION << 6) | (pkt->padding ? 0x20 : 0) |
                        (pkt->extension ? 0x10 : 0) | pkt->csrc_count);
    buf[1] = (uint8_t) ((pkt->marker ? 0x80 : 0) | pkt->payload_type);
    wr16(buf + 2, pkt->seq);
    wr32(buf + 4, pkt->timestamp);
    wr32(buf + 8, pkt->ssrc);
    off = RTP_HEADER_SIZE;
    for (unsigned i = 0; i < pkt->csrc_count; i++) {
        wr32(buf + off, pkt->csrc[i]);
        off += 4;
    }
    if (pkt->extension) {
        wr16(buf + off, pkt->ext_profile);
        wr16(buf + off + 2, (uint16_t) (pkt->ext_len / 4));
        off += 4;
        if (pkt->ext_len > 0)
            memmove(buf + off, pkt->ext_data, pkt->ext_len);
        off += pkt->ext_len;
    }
    if (pkt->payload_len > 0)
        memmove(buf + off, pkt->payload, pkt->payload_len);
    off += pkt->payload_len;
    if (pad > 0) {
        memset(buf + off, 0, pad - 1);
        buf[off + pad - 1] = (uint8_t) pad;
        off += pad;
    }
    return (int) off;
}

/* ---- header extensions ------------------------------------------------ */

int rtp_ext_iter_init(rtp_ext_iter *it, const rtp_packet *pkt)
{
    if (it == NULL || pkt == NULL)
        return RTP_ERR_ARG;
    memset(it, 0, sizeof(*it));
    it->done = true;
    if (!pkt->extension || pkt->ext_data == NULL)
        return RTP_ERR_NOT_FOUND;
    if (pkt->ext_profile == RTP_EXT_PROFILE_ONE_BYTE)
        it->two_byte = false;
    else if ((pkt->ext_profile & RTP_EXT_PROFILE_TWO_BYTE_MASK) ==
             RTP_EXT_PROFILE_TWO_BYTE)
        it->two_byte = true;
    else
        return RTP_ERR_NOT_FOUND;
    it->data = pkt->ext_data;
    it->len = pkt->ext_len;
    it->done = false;
    return RTP_OK;
}

int rtp_ext_next(rtp_ext_iter *it, uint8_t *id, const uint8_t **data,
                 size_t *len)
{
    while (!it->done && it->off < it->len) {
        uint8_t b = it->data[it->off];
        size_t elen;

        if (b == 0) { /* padding, both forms */
            it->off++;
            continue;
        }
        if (!it->two_byte) {
            if (b >> 4 == 15) { /* reserved id: stop processing */
                it->done = true;
                return 0;
            }
            if (b >> 4 == 0) { /* id 0 is only valid as a 0x00 pad */
                it->done = true;
                return RTP_ERR_INVALID;
            }
            *id = b >> 4;
            elen = (size_t) (b & 0x0f) + 1;
            it->off++;
        } else {
            if (it->len - it->off < 2) {
                it->done = true;
                return RTP_ERR_TRUNCATED;
            }
            *id = b;
            elen = it->data[it->off + 1];
            it->off += 2;
        }
        if (elen > it->len - it->off) {
            it->done = true;
            return RTP_ERR_TRUNCATED;
        }
        *data = it->data + it->off;
        *len = elen;
        it->off += elen;
        return 1;
    }
    it->done = true;
    return 0;
}

int rtp_ext_find(const rtp_packet *pkt, uint8_t id, const uint8_t **data,
                 size_t *len)
{
    rtp_ext_iter it;
    uint8_t eid = 0;
    const uint8_t *edata = NULL;
    size_t elen = 0;
    int rc;

    if (id == 0 || data == NULL || len == NULL)
        return RTP_ERR_ARG;
    rc = rtp_ext_iter_init(&it, pkt);
    if (rc < 0)
        return rc;
    while ((rc = rtp_ext_next(&it, &eid, &edata, &elen)) == 1) {
        if (eid == id) {
            *data = edata;
            *len = elen;
            return RTP_OK;
        }
    }
    return rc < 0 ? rc : RTP_ERR_NOT_FOUND;
}

void rtp_ext_writer_init(rtp_ext_writer *w, uint8_t *buf, size_t cap,
                         bool two_byte)
{
    w->buf = buf;
    w->cap = buf != NULL ? cap : 0;
    w->len = 0;
    w->two_byte = two_byte;
}

int rtp_ext_writer_add(rtp_ext_writer *w, uint8_t id, const uint8_t *data,
                       size_t len)
{
    size_t hdr = w->two_byte ? 2 : 1;

    if (id == 0 || (len > 0 && data == NULL))
        return RTP_ERR_ARG;
    if (!w->two_byte && (id > RTP_EXT_ONE_BYTE_MAX_ID || len == 0 ||
                         len > RTP_EXT_ONE_BYTE_MAX_LEN))
        return RTP_ERR_ARG;
    if (w->two_byte && len > RTP_EXT_TWO_BYTE_MAX_LEN)
        return RTP_ERR_ARG;
    if (w->cap - w->len < hdr + len)
        return RTP_ERR_NOSPACE;
    if (w->two_byte) {
        w->buf[w->len] = id;
        w->buf[w->len + 1] = (uint8_t) len;
    } else {
        w->buf[w->len] = (uint8_t) ((id << 4) | (len - 1));
    }
    w->len += hdr;
    if (len > 0)
        memcpy(w->buf + w->len, data, len);
    w->len += len;
    return RTP_OK;
}

int rtp_ext_writer_finish(rtp_ext_writer *w, rtp_packet *pkt)
{
    size_t padded = (w->len + 3) & ~(size_t) 3;

    if (pkt == NULL)
        return RTP_ERR_ARG;
    if (padded > w->cap)
        return RTP_ERR_NOSPACE;
    if (padded / 4 > 0xffff)
        return RTP_ERR_NOSPACE;
    memset(w->buf + w->len, 0, padded - w->len);
    w->len = padded;
    pkt->extension = padded > 0;
    pkt->ext_profile =
        w->two_byte ? RTP_EXT_PROFILE_TWO_BYTE : RTP_EXT_PROFILE_ONE_BYTE;
    pkt->ext_data = w->buf;
    pkt->ext_len = padded;
    return RTP_OK;
}

/* RFC 4566 token-char: %x21 / %x23-27 / %x2A-2B / %x2D-2E / %x30-39 /
 * %x41-5A / %x5E-7E */
static bool token_char(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2a || c == 0x2b ||
           c == 0x2d || c == 0x2e || (c >= 0x30 && c <= 0x39) ||
           (c >= 0x41 && c <= 0x5a) || (c >= 0x5e && c <= 0x7e);
}

bool rtp_mid_valid(const char *mid, size_t len)
{
    if (mid == NULL || len == 0 || len > RTP_MID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!token_char((unsigned char) mid[i]))
            return false;
    }
    return true;
}

int rtp_ext_find_mid(const rtp_packet *pkt, uint8_t id, char *out, size_t cap)
{
    const uint8_t *data = NULL;
    size_t len = 0;
    int rc;

    if (out == NULL || cap == 0)
        return RTP_ERR_ARG;
    out[0] = '\0';
    rc = rtp_ext_find(pkt, id, &data, &len);
    if (rc < 0)
        return rc;
    if (!rtp_mid_valid((const char *) data, len))
        return RTP_ERR_INVALID;
    if (len + 1 > cap)
        return RTP_ERR_NOSPACE;
    memcpy(out, data, len);
    out[len] = '\0';
    return RTP_OK;
}

uint32_t rtp_abs_send_time_from_ntp(uint64_t ntp)
{
    /* 32.32 -> 6.18: drop the low 14 fraction bits, keep 24 bits. */
    return (uint32_t) (ntp >> 14) & 0xffffff;
}

uint32_t rtp_abs_send_time_from_us(uint64_t us)
{
    uint64_t secs = us / 1000000;
    uint64_t frac = ((us % 1000000) << 18) / 1000000;

    return (uint32_t) ((secs << 18) | frac) & 0xffffff;
}

uint64_t rtp_abs_send_time_to_us(uint32_t abs24)
{
    uint64_t v = abs24 & 0xffffff;

    return (v * 1000000 + (1u << 17)) >> 18;
}

void rtp_abs_send_time_write(uint8_t out[RTP_ABS_SEND_TIME_LEN], uint32_t abs24)
{
    wr24(out, abs24 & 0xffffff);
}

int rtp_ext_find_abs_send_time(const rtp_packet *pkt, uint8_t id,
                               uint32_t *abs24)
{
    const uint8_t *data = NULL;
    size_t len = 0;
    int rc;

    if (abs24 == NULL)
        return RTP_ERR_ARG;
    rc = rtp_ext_find(pkt, id, &data, &len);
    if (rc < 0)
        return rc;
    if (len != RTP_ABS_SEND_TIME_LEN)
        return RTP_ERR_INVALID;
    *abs24 = rd24(data);
    return RTP_OK;
}

void rtp_twcc_seq_write(uint8_t out[RTP_TWCC_SEQ_LEN], uint16_t seq)
{
    wr16(out, seq);
}

int rtp_ext_find_twcc_seq(const rtp_packet *pkt, uint8_t id, uint16_t *seq)
{
    const uint8_t *data = NULL;
    size_t len = 0;
    int rc;

    if (seq == NULL)
        return RTP_ERR_ARG;
    rc = rtp_ext_find(pkt, id, &data, &len);
    if (rc < 0)
        return rc;
    if (len != RTP_TWCC_SEQ_LEN)
        return RTP_ERR_INVALID;
    *seq = rd16(data);
    return RTP_OK;
}
