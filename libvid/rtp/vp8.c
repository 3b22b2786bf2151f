/*
 * vp8.c — VP8 RTP payload (RFC 7741): payload descriptor, VP8 payload
 * header (RFC 6386 section 9.1) and the equal-size packetizer.
 */
#include <string.h>

#include "bytes.h"
#include "playout.h"

#define VP8_X 0x80
#define VP8_N 0x20
#define VP8_S 0x10
#define VP8_PID 0x07
#define VP8_I 0x80
#define VP8_L 0x40
#define VP8_T 0x20
#define VP8_K 0x10
#define VP8_M 0x80
#define VP8_Y 0x20

int rtp_vp8_desc_parse(rtp_vp8_desc *out, const uint8_t *payload, size_t len)
{
    size_t off = 0;
    uint8_t x;

    if (out == NULL || (payload == NULL && len > 0))
        return RTP_ERR_ARG;
    memset(out, 0, sizeof(*out));
    if (len < 1)
        return RTP_ERR_TRUNCATED;
    out->non_reference = (payload[0] & VP8_N) != 0;
    out->start = (payload[0] & VP8_S) != 0;
    out->partition = payload[0] & VP8_PID;
    off = 1;
    if (payload[0] & VP8_X) {
        if (len < off + 1)
            return RTP_ERR_TRUNCATED;
        x = payload[off++];
        out->has_picture_id = (x & VP8_I) != 0;
        out->has_tl0picidx = (x & VP8_L) != 0;
        out->has_tid = (x & VP8_T) != 0;
        out->has_keyidx = (x & VP8_K) != 0;
        if (out->has_picture_id) {
            if (len < off + 1)
                return RTP_ERR_TRUNCATED;
            if (payload[off] & VP8_M) {
                if (len < off + 2)
                    return RTP_ERR_TRUNCATED;
                out->long_picture_id = true;
                out->picture_id = rd16(payload + off) & 0x7FFF;
                off += 2;
            } else {
                out->picture_id = payload[off] & 0x7F;
                off += 1;
            }
        }
        if (out->has_tl0picidx) {
            if (len < off + 1)
                return RTP_ERR_TRUNCATED;
            out->tl0picidx = payload[off++];
        }
        if (out->has_tid || out->has_keyidx) {
            if (len < off + 1)
                return RTP_ERR_TRUNCATED;
            if (out->has_tid) {
                out->tid = payload[off] >> 6;
                out->layer_sync = (payload[off] & VP8_Y) != 0;
            }
            if (out->has_keyidx)
                out->keyidx = payload[off] & 0x1F;
            off += 1;
        }
    }
    /* RFC 7741 section 4.2: the descriptor is followed by VP8 data. */
    if (len <= off)
        return RTP_ERR_TRUNCATED;
    return (int) off;
}

size_t rtp_vp8_desc_size(const rtp_vp8_desc *d)
{
    size_t n = 1;

    if (d->has_picture_id || d->has_tl0picidx || d->has_tid || d->has_keyidx)
        n++;
    if (d->has_picture_id)
        n += d->long_picture_id ? 2 : 1;
    if (d->has_tl0picidx)
        n++;
    if (d->has_tid || d->has_keyidx)
        n++;
    return n;
}

int rtp_vp8_desc_build(uint8_t *buf, size_t cap, const rtp_vp8_desc *d)
{
    size_t n, off = 0;
    bool ext;

    if (buf == NULL || d == NULL)
        return RTP_ERR_ARG;
    if (d->partition > 7 || d->tid > 3 || d->keyidx > 31)
        return RTP_ERR_ARG;
    if (d->has_picture_id &&
        d->picture_id > (d->long_picture_id ? 0x7FFF : 0x7F))
        return RTP_ERR_ARG;
    n = rtp_vp8_desc_size(d);
    if (cap < n)
        return RTP_ERR_NOSPACE;
    ext = n > 1;
    buf[off++] = (uint8_t) ((ext ? VP8_X : 0) | (d->non_reference ? VP8_N : 0) |
                            (d->start ? VP8_S : 0) | d->partition);
    if (ext) {
        buf[off++] =
            (uint8_t) ((d->has_picture_id ? VP8_I : 0) |
                       (d->has_tl0picidx ? VP8_L : 0) |
                       (d->has_tid ? VP8_T : 0) | (d->has_keyidx ? VP8_K : 0));
    }
    if (d->has_picture_id) {
        if (d->long_picture_id) {
            wr16(buf + off, (uint16_t) (0x8000 | d->picture_id));
            off += 2;
        } else {
            buf[off++] = (uint8_t) d->picture_id;
        }
    }
    if (d->has_tl0picidx)
        buf[off++] = d->tl0picidx;
    if (d->has_tid || d->has_keyidx) {
        uint8_t b = 0;
        if (d->has_tid)
            b |= (uint8_t) ((d->tid << 6) | (d->layer_sync ? VP8_Y : 0));
        if (d->has_keyidx)
            b |= d->keyidx;
        buf[off++] = b;
    }
    return (int) off;
}

int rtp_vp8_frame_info_parse(rtp_vp8_frame_info *out, const uint8_t *frame,
                             size_t len)
{
    uint32_t tag;

    if (out == NULL || (frame == NULL && len > 0))
        return RTP_ERR_ARG;
    memset(out, 0, sizeof(*out));
    if (len < 3)
        return RTP_ERR_TRUNCATED;
    /* Frame tag, little endian: P (bit 0), version (1..3), show_frame
     * (4), first_part_size (5..23). */
    tag = (uint32_t) frame[0] | ((uint32_t) frame[1] << 8) |
          ((uint32_t) frame[2] << 16);
    out->keyframe = (tag & 1) == 0;
    out->version = (uint8_t) ((tag >> 1) & 7);
    out->show_frame = ((tag >> 4) & 1) != 0;
    out->first_partition_size = tag >> 5;
    if (!out->keyframe)
        return RTP_OK;
    if (len < RTP_VP8_KEYFRAME_HEADER)
        return RTP_ERR_TRUNCATED;
    if (frame[3] != 0x9d || frame[4] != 0x01 || frame[5] != 0x2a)
        return RTP_ERR_INVALID;
    out->width = (uint16_t) ((frame[6] | (frame[7] << 8)) & 0x3FFF);
    out->height = (uint16_t) ((frame[8] | (frame[9] << 8)) & 0x3FFF);
    return RTP_OK;
}

int rtp_vp8_packetizer_init(rtp_vp8_packetizer *p, const uint8_t *frame,
                            size_t len, bool keyframe, uint16_t picture_id,
                            const rtp_vp8_desc *tmpl, size_t max_payload)
{
    size_t room;

    if (p == NULL || frame == NULL || len == 0 || len > RTP_VP8_MAX_FRAME)
        return RTP_ERR_ARG;
    memset(p, 0, sizeof(*p));
    if (tmpl != NULL) {
        p->desc = *tmpl;
    } else {
        p->desc.has_picture_id = true;
        p->desc.long_picture_id = true;
        p->desc.picture_id = picture_id & RTP_VP8_PICTURE_ID_MASK;
    }
    if (keyframe != ((frame[0] & 1) == 0))
        return RTP_ERR_ARG;
    if (keyframe)
        p->desc.non_reference = false;
    p->desc.start = true;
    p->desc.partition = 0;
    {
        /* Validate the template once. */
        uint8_t tmp[RTP_VP8_DESC_MAX];
        if (rtp_vp8_desc_build(tmp, sizeof(tmp), &p->desc) < 0)
            return RTP_ERR_ARG;
    }
    p->desc_len = rtp_vp8_desc_size(&p->desc);
    if (max_payload <= p->desc_len)
        return RTP_ERR_ARG;
    room = max_payload - p->desc_len;
    p->count = (len + room - 1) / room;
    if (p->count > 65535)
        return RTP_ERR_NOSPACE;
    p->base = len / p->count;
    p->extra = len % p->count;
    p->frame = frame;
    p->len = len;
    return RTP_OK;
}

size_t rtp_vp8_packetizer_count(const rtp_vp8_packetizer *p)
{
    return p->count;
}

int rtp_vp8_packetizer_next(rtp_vp8_packetizer *p, uint8_t *buf, size_t cap,
                            bool *last)
{
    size_t frag;
    int n;

    if (p == NULL || buf == NULL)
        return RTP_ERR_ARG;
    if (p->index >= p->count)
        return 0;
    frag = p->base + (p->index < p->extra ? 1 : 0);
    if (cap < p->desc_len + frag)
        return RTP_ERR_NOSPACE;
    p->desc.start = p->index == 0;
    n = rtp_vp8_desc_build(buf, cap, &p->desc);
    if (n < 0)
        return n;
    memcpy(buf + n, p->frame + p->off, frag);
    p->off += frag;
    p->index++;
    if (last != NULL)
        *last = p->index == p->count;
    return n + (int) frag;
}
