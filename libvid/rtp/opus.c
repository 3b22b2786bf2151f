/*
 * opus.c — Opus RTP payload (RFC 7587): the Opus packet structure of
 * RFC 6716 section 3 (TOC byte, frame packing codes 0..3, the R1..R7
 * validity rules), durations at the 48 kHz RTP clock and the in-band FEC
 * (LBRR) flag of the SILK layer.
 */
#include <string.h>

#include "playout.h"

#define OPUS_MAX_FRAME_BYTES 1275 /* R2 */
#define OPUS_MAX_SAMPLES 5760     /* 120 ms at 48 kHz (R5) */

static uint32_t samples_per_frame(uint8_t config)
{
    static const uint32_t silk[4] = {480, 960, 1920, 2880};
    static const uint32_t celt[4] = {120, 240, 480, 960};

    if (config < 12)
        return silk[config & 3];
    if (config < 16)
        return (config & 1) ? 960 : 480;
    return celt[config & 3];
}

/* Reads a frame length (RFC 6716 section 3.2.1) at *off. */
static int read_length(const uint8_t *p, size_t len, size_t *off, size_t *out)
{
    if (*off >= len)
        return RTP_ERR_TRUNCATED;
    if (p[*off] < 252) {
        *out = p[*off];
        *off += 1;
        return RTP_OK;
    }
    if (*off + 1 >= len)
        return RTP_ERR_TRUNCATED;
    *out = (size_t) p[*off] + 4 * (size_t) p[*off + 1];
    *off += 2;
    return RTP_OK;
}

int rtp_opus_parse(rtp_opus_info *out, const uint8_t *payload, size_t len)
{
    uint8_t toc;
    size_t off = 1, frame0 = 0, rest;
    int rc;

    if (out == NULL || (payload == NULL && len > 0))
        return RTP_ERR_ARG;
    memset(out, 0, sizeof(*out));
    if (len < 1) /* R1 */
        return RTP_ERR_TRUNCATED;
    toc = payload[0];
    out->config = toc >> 3;
    out->mode = out->config < 12   ? RTP_OPUS_SILK
                : out->config < 16 ? RTP_OPUS_HYBRID
                                   : RTP_OPUS_CELT;
    out->stereo = (toc & 0x04) != 0;
    out->samples_per_frame = samples_per_frame(out->config);

    switch (toc & 3) {
    case 0: /* one frame */
        out->frame_count = 1;
        frame0 = len - 1;
        if (frame0 > OPUS_MAX_FRAME_BYTES) /* R2 */
            return RTP_ERR_INVALID;
        break;
    case 1: /* two frames of equal size */
        out->frame_count = 2;
        if ((len - 1) % 2 != 0) /* R3 */
            return RTP_ERR_INVALID;
        frame0 = (len - 1) / 2;
        if (frame0 > OPUS_MAX_FRAME_BYTES)
            return RTP_ERR_INVALID;
        break;
    case 2: /* two frames, the first length coded */
        out->frame_count = 2;
        rc = read_length(payload, len, &off, &frame0); /* R4 */
        if (rc < 0)
            return rc;
        if (frame0 > len - off)
            return RTP_ERR_TRUNCATED;
        if (frame0 > OPUS_MAX_FRAME_BYTES ||
            len - off - frame0 > OPUS_MAX_FRAME_BYTES)
            return RTP_ERR_INVALID;
        break;
    default: { /* code 3: arbitrary number of frames */
        uint8_t fc;
        size_t pad = 0, m;
        bool vbr;

        if (len < 2) /* R6 */
            return RTP_ERR_TRUNCATED;
        fc = payload[1];
        off = 2;
        vbr = (fc & 0x80) != 0;
        m = fc & 0x3F;
        if (m == 0 || m * out->samples_per_frame > OPUS_MAX_SAMPLES) /* R5 */
            return RTP_ERR_INVALID;
        out->frame_count = (uint8_t) m;
        if (fc & 0x40) { /* padding length, 255 meaning 254 and more */
            uint8_t b;
            do {
                if (off >= len)
                    return RTP_ERR_TRUNCATED;
                b = payload[off++];
                pad += b == 255 ? 254 : b;
            } while (b == 255);
        }
        if (pad > len - off) /* R6/R7 */
            return RTP_ERR_TRUNCATED;
        rest = len - off - pad;
        if (vbr) {
            size_t sum = 0, fl;
            for (size_t i = 0; i + 1 < m; i++) {
                rc = read_length(payload, off + rest, &off, &fl);
                if (rc < 0)
                    return rc;
                rest = len - pad - off;
                if (fl > OPUS_MAX_FRAME_BYTES)
                    return RTP_ERR_INVALID;
                if (i == 0)
                    frame0 = fl;
                sum += fl;
                if (sum > rest)
                    return RTP_ERR_TRUNCATED;
            }
            if (rest - sum > OPUS_MAX_FRAME_BYTES)
                return RTP_ERR_INVALID;
            if (m == 1)
                frame0 = rest;
        } else {
            if (rest % m != 0) /* R6 */
                return RTP_ERR_INVALID;
            frame0 = rest / m;
            if (frame0 > OPUS_MAX_FRAME_BYTES)
                return RTP_ERR_INVALID;
        }
        break;
    }
    }
    out->samples = out->frame_count * out->samples_per_frame;
    out->frame0 = payload + off;
    out->frame0_len = frame0;
    return RTP_OK;
}

int rtp_opus_samples(const uint8_t *payload, size_t len)
{
    rtp_opus_info info;
    int rc = rtp_opus_parse(&info, payload, len);

    if (rc < 0)
        return rc;
    return (int) info.samples;
}

int rtp_opus_has_fec(const uint8_t *payload, size_t len)
{
    rtp_opus_info info;
    unsigned silk_frames, b;
    int rc = rtp_opus_parse(&info, payload, len);

    if (rc < 0)
        return rc;
    if (info.mode == RTP_OPUS_CELT || info.frame0_len == 0)
        return 0;
    /* The SILK layer of an Opus frame starts with one VAD flag per SILK
     * frame (20 ms each; a 10 ms frame has one) and then the LBRR flag,
     * for the mid channel and, in stereo, again for the side channel
     * (RFC 6716 section 4.2.3). They are coded with probability 1/2 each
     * at the very start of the range coder, so they are the top bits of
     * the first byte. */
    silk_frames =
        info.samples_per_frame > 960 ? info.samples_per_frame / 960 : 1;
    b = info.frame0[0];
    if ((b >> (7 - silk_frames)) & 1)
        return 1;
    if (info.stereo && ((b >> (6 - 2 * silk_frames)) & 1))
        return 1;
    return 0;
}
