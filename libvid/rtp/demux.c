/*
 * demux.c — what a datagram on the bundled 5-tuple is (RFC 7983, RFC 5761)
 * and which stream of the BUNDLE group an RTP packet belongs to (RFC 8843
 * section 9.2, simplified to mid, then SSRC, then a unique payload type).
 */
#include <string.h>

#include "rtp.h"

/* Smallest valid header of each kind. */
#define STUN_HEADER 20
#define DTLS_RECORD_HEADER 13
#define TURN_CHANNEL_HEADER 4
#define ZRTP_HEADER 12
#define RTCP_MIN 8 /* an RR without report blocks */

rtp_dgram_kind rtp_demux_classify(const uint8_t *buf, size_t len)
{
    uint8_t b;

    if (buf == NULL || len == 0)
        return RTP_DGRAM_UNKNOWN;
    b = buf[0];
    if (b <= 3)
        return len >= STUN_HEADER ? RTP_DGRAM_STUN : RTP_DGRAM_UNKNOWN;
    if (b >= 16 && b <= 19)
        return len >= ZRTP_HEADER ? RTP_DGRAM_ZRTP : RTP_DGRAM_UNKNOWN;
    if (b >= 20 && b <= 63)
        return len >= DTLS_RECORD_HEADER ? RTP_DGRAM_DTLS : RTP_DGRAM_UNKNOWN;
    if (b >= 64 && b <= 79)
        return len >= TURN_CHANNEL_HEADER ? RTP_DGRAM_TURN_CHANNEL
                                          : RTP_DGRAM_UNKNOWN;
    if (b >= 128 && b <= 191) {
        if (len < 2)
            return RTP_DGRAM_UNKNOWN;
        if (buf[1] >= 192 && buf[1] <= 223)
            return len >= RTCP_MIN ? RTP_DGRAM_RTCP : RTP_DGRAM_UNKNOWN;
        return len >= RTP_HEADER_SIZE ? RTP_DGRAM_RTP : RTP_DGRAM_UNKNOWN;
    }
    return RTP_DGRAM_UNKNOWN;
}

void rtp_demux_init(rtp_demux *d, uint8_t mid_ext_id)
{
    memset(d, 0, sizeof(*d));
    d->mid_ext_id = mid_ext_id;
}

static int stream_index(const rtp_demux *d, int id, size_t *idx)
{
    for (size_t i = 0; i < d->n_streams; i++) {
        if (d->streams[i].id == id) {
            *idx = i;
            return RTP_OK;
        }
    }
    return RTP_ERR_NOT_FOUND;
}

int rtp_demux_add_stream(rtp_demux *d, int id, const char *mid,
                         const uint8_t *pts, size_t n_pts)
{
    size_t idx = 0;
    size_t mid_len = 0;

    if (d == NULL || (n_pts > 0 && pts == NULL))
        return RTP_ERR_ARG;
    if (stream_index(d, id, &idx) == RTP_OK)
        return RTP_ERR_ARG;
    if (mid != NULL) {
        mid_len = strnlen(mid, RTP_MID_MAX + 1);
        if (!rtp_mid_valid(mid, mid_len))
            return RTP_ERR_ARG;
        for (size_t i = 0; i < d->n_streams; i++) {
            if (strcmp(d->streams[i].mid, mid) == 0)
                return RTP_ERR_ARG;
        }
    }
    for (size_t i = 0; i < n_pts; i++) {
        if (pts[i] > 127)
            return RTP_ERR_ARG;
    }
    if (d->n_streams == RTP_DEMUX_MAX_STREAMS)
        return RTP_ERR_NOSPACE;
    idx = d->n_streams++;
    memset(&d->streams[idx], 0, sizeof(d->streams[idx]));
    d->streams[idx].id = id;
    if (mid_len > 0)
        memcpy(d->streams[idx].mid, mid, mid_len);
    for (size_t i = 0; i < n_pts; i++)
        d->streams[idx].pt_mask[pts[i] / 64] |= (uint64_t) 1 << (pts[i] % 64);
    return RTP_OK;
}

static bool ssrc_slot(const rtp_demux *d, uint32_t ssrc, size_t *slot)
{
    for (size_t i = 0; i < d->n_ssrcs; i++) {
        if (d->ssrcs[i].ssrc == ssrc) {
            *slot = i;
            return true;
        }
    }
    return false;
}

/* Binds @ssrc to the stream at index @idx. */
static int bind_index(rtp_demux *d, uint32_t ssrc, size_t idx)
{
    size_t slot = 0;

    if (!ssrc_slot(d, ssrc, &slot)) {
        if (d->n_ssrcs == RTP_DEMUX_MAX_SSRCS)
            return RTP_ERR_NOSPACE;
        slot = d->n_ssrcs++;
        d->ssrcs[slot].ssrc = ssrc;
    }
    d->ssrcs[slot].stream = idx;
    return RTP_OK;
}

int rtp_demux_bind_ssrc(rtp_demux *d, uint32_t ssrc, int id)
{
    size_t idx = 0;

    if (d == NULL)
        return RTP_ERR_ARG;
    if (stream_index(d, id, &idx) < 0)
        return RTP_ERR_NOT_FOUND;
    return bind_index(d, ssrc, idx);
}

int rtp_demux_lookup_ssrc(const rtp_demux *d, uint32_t ssrc, int *id)
{
    size_t slot = 0;

    if (d == NULL || id == NULL)
        return RTP_ERR_ARG;
    if (!ssrc_slot(d, ssrc, &slot))
        return RTP_ERR_NOT_FOUND;
    *id = d->streams[d->ssrcs[slot].stream].id;
    return RTP_OK;
}

int rtp_demux_route(rtp_demux *d, const rtp_packet *pkt, int *id)
{
    size_t slot = 0;
    size_t match = 0;
    size_t matches = 0;
    uint8_t pt;

    if (d == NULL || pkt == NULL || id == NULL)
        return RTP_ERR_ARG;

    /* 1. A mid element names the stream and (re)binds the SSRC. A
     * malformed extension block is treated as carrying no mid. */
    if (d->mid_ext_id != 0) {
        const uint8_t *data = NULL;
        size_t len = 0;

        if (rtp_ext_find(pkt, d->mid_ext_id, &data, &len) == RTP_OK) {
            if (!rtp_mid_valid((const char *) data, len))
                return RTP_ERR_INVALID;
            for (size_t i = 0; i < d->n_streams; i++) {
                if (strlen(d->streams[i].mid) == len &&
                    memcmp(d->streams[i].mid, data, len) == 0) {
                    (void) bind_index(d, pkt->ssrc, i); /* full: no learn */
                    *id = d->streams[i].id;
                    return RTP_OK;
                }
            }
            return RTP_ERR_NOT_FOUND;
        }
    }

    /* 2. A known SSRC. */
    if (ssrc_slot(d, pkt->ssrc, &slot)) {
        *id = d->streams[d->ssrcs[slot].stream].id;
        return RTP_OK;
    }

    /* 3. A payload type that exactly one stream uses. */
    pt = pkt->payload_type & 0x7f;
    for (size_t i = 0; i < d->n_streams; i++) {
        if (d->streams[i].pt_mask[pt / 64] & ((uint64_t) 1 << (pt % 64))) {
            match = i;
            matches++;
        }
    }
    if (matches != 1)
        return RTP_ERR_NOT_FOUND;
    (void) bind_index(d, pkt->ssrc, match);
    *id = d->streams[match].id;
    return RTP_OK;
}
