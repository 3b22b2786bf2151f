/* Opus encoder and decoder on libopus: 48 kHz, 20 ms, VOIP (see media.h). */
#include "media.h"

#include <glib.h>
#include <limits.h>
#include <opus.h>
#include <stdlib.h>

struct media_opus_enc {
    OpusEncoder *st;
    int channels;
};

struct media_opus_dec {
    OpusDecoder *st;
    int channels;
};

static bool enc_config_valid(const media_opus_enc_config *c)
{
    return c->version == MEDIA_OPUS_ENC_CONFIG_VERSION &&
           (c->channels == 1 || c->channels == 2) && c->bitrate_bps >= 6000 &&
           c->bitrate_bps <= 510000 && c->loss_pct >= 0 && c->loss_pct <= 100 &&
           c->complexity >= 0 && c->complexity <= 10;
}

int media_opus_enc_new(media_opus_enc **out, const media_opus_enc_config *c)
{
    if (out == NULL || c == NULL || !enc_config_valid(c))
        return MEDIA_EINVAL;
    *out = NULL;
    media_opus_enc *e = calloc(1, sizeof *e);
    if (e == NULL)
        return MEDIA_ENOMEM;
    int err = 0;
    e->st = opus_encoder_create(MEDIA_OPUS_RATE, c->channels,
                                OPUS_APPLICATION_VOIP, &err);
    if (e->st == NULL || err != OPUS_OK) {
        g_warning("opus: encoder create failed: %s", opus_strerror(err));
        free(e);
        return err == OPUS_ALLOC_FAIL ? MEDIA_ENOMEM : MEDIA_ECODEC;
    }
    e->channels = c->channels;
    if (opus_encoder_ctl(e->st, OPUS_SET_BITRATE(c->bitrate_bps)) != OPUS_OK ||
        opus_encoder_ctl(e->st, OPUS_SET_INBAND_FEC(c->fec ? 1 : 0)) !=
            OPUS_OK ||
        opus_encoder_ctl(e->st, OPUS_SET_PACKET_LOSS_PERC(c->loss_pct)) !=
            OPUS_OK ||
        opus_encoder_ctl(e->st, OPUS_SET_DTX(c->dtx ? 1 : 0)) != OPUS_OK ||
        opus_encoder_ctl(e->st, OPUS_SET_COMPLEXITY(c->complexity)) !=
            OPUS_OK ||
        opus_encoder_ctl(e->st, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE)) !=
            OPUS_OK) {
        opus_encoder_destroy(e->st);
        free(e);
        return MEDIA_ECODEC;
    }
    *out = e;
    return MEDIA_OK;
}

void media_opus_enc_free(media_opus_enc *e)
{
    if (e == NULL)
        return;
    opus_encoder_destroy(e->st);
    free(e);
}

int media_opus_enc_encode(media_opus_enc *e, const int16_t *pcm, uint8_t *out,
                          size_t cap, size_t *out_len)
{
    if (e == NULL || pcm == NULL || out == NULL || out_len == NULL)
        return MEDIA_EINVAL;
    *out_len = 0;
    if (cap < 3)
        return MEDIA_ENOSPACE;
    opus_int32 max = cap > INT32_MAX ? INT32_MAX : (opus_int32) cap;
    opus_int32 n = opus_encode(e->st, pcm, MEDIA_OPUS_FRAME, out, max);
    if (n == OPUS_BUFFER_TOO_SMALL)
        return MEDIA_ENOSPACE;
    if (n < 0) {
        g_warning("opus: encode failed: %s", opus_strerror(n));
        return MEDIA_ECODEC;
    }
    *out_len = (size_t) n;
    return MEDIA_OK;
}

int media_opus_enc_set_bitrate(media_opus_enc *e, int bps)
{
    if (e == NULL || bps < 6000 || bps > 510000)
        return MEDIA_EINVAL;
    return opus_encoder_ctl(e->st, OPUS_SET_BITRATE(bps)) == OPUS_OK
               ? MEDIA_OK
               : MEDIA_ECODEC;
}

int media_opus_enc_set_loss(media_opus_enc *e, int pct)
{
    if (e == NULL || pct < 0 || pct > 100)
        return MEDIA_EINVAL;
    return opus_encoder_ctl(e->st, OPUS_SET_PACKET_LOSS_PERC(pct)) == OPUS_OK
               ? MEDIA_OK
               : MEDIA_ECODEC;
}

int media_opus_dec_new(media_opus_dec **out, int channels)
{
    if (out == NULL || (channels != 1 && channels != 2))
        return MEDIA_EINVAL;
    *out = NULL;
    media_opus_dec *d = calloc(1, sizeof *d);
    if (d == NULL)
        return MEDIA_ENOMEM;
    int err = 0;
    d->st = opus_decoder_create(MEDIA_OPUS_RATE, channels, &err);
    if (d->st == NULL || err != OPUS_OK) {
        g_warning("opus: decoder create failed: %s", opus_strerror(err));
        free(d);
        return err == OPUS_ALLOC_FAIL ? MEDIA_ENOMEM : MEDIA_ECODEC;
    }
    d->channels = channels;
    *out = d;
    return MEDIA_OK;
}

void media_opus_dec_free(media_opus_dec *d)
{
    if (d == NULL)
        return;
    opus_decoder_destroy(d->st);
    free(d);
}

static int dec_result(int n)
{
    if (n == OPUS_BUFFER_TOO_SMALL)
        return MEDIA_ENOSPACE;
    if (n < 0)
        return MEDIA_ECORRUPT;
    return n;
}

int media_opus_dec_decode(media_opus_dec *d, const uint8_t *data, size_t len,
                          int16_t *pcm, size_t cap)
{
    if (d == NULL || data == NULL || len == 0 || len > MEDIA_OPUS_MAX_PACKET ||
        pcm == NULL)
        return MEDIA_EINVAL;
    int frame_cap = cap > 5760 ? 5760 : (int) cap;
    /* Check the duration first: opus_decode() fails on a short buffer
     * without telling why. */
    int need =
        opus_packet_get_nb_samples(data, (opus_int32) len, MEDIA_OPUS_RATE);
    if (need < 0)
        return MEDIA_ECORRUPT;
    if (need > frame_cap)
        return MEDIA_ENOSPACE;
    return dec_result(
        opus_decode(d->st, data, (opus_int32) len, pcm, frame_cap, 0));
}

int media_opus_dec_conceal(media_opus_dec *d, const uint8_t *next,
                           size_t next_len, int16_t *pcm, size_t cap)
{
    if (d == NULL || pcm == NULL || next_len > MEDIA_OPUS_MAX_PACKET ||
        (next != NULL && next_len == 0))
        return MEDIA_EINVAL;
    if (cap < MEDIA_OPUS_FRAME)
        return MEDIA_ENOSPACE;
    /* frame_size must be the lost duration: 20 ms. With fec=1 and a packet
     * without LBRR, libopus runs PLC itself. */
    if (next != NULL)
        return dec_result(opus_decode(d->st, next, (opus_int32) next_len, pcm,
                                      MEDIA_OPUS_FRAME, 1));
    return dec_result(opus_decode(d->st, NULL, 0, pcm, MEDIA_OPUS_FRAME, 0));
}

bool media_opus_has_fec(const uint8_t *data, size_t len)
{
    if (data == NULL || len == 0 || len > MEDIA_OPUS_MAX_PACKET)
        return false;
    /* libopus 1.3 has no opus_packet_has_lbrr(). The LBRR flag follows
     * the VAD flags as the first range-coded bits (p = 1/2 each), which
     * are the top bits of the first SILK frame's first byte (RFC 6716
     * 4.2.3-4.2.4; WebRTC reads it the same way). CELT-only: no FEC. */
    int config = data[0] >> 3;
    if (config >= 16)
        return false;
    int frame_samples =
        opus_packet_get_samples_per_frame(data, MEDIA_OPUS_RATE);
    int silk_frames = frame_samples > 960 ? frame_samples / 960 : 1;
    bool stereo = opus_packet_get_nb_channels(data) == 2;
    const unsigned char *frames[48];
    opus_int16 sizes[48];
    if (opus_packet_parse(data, (opus_int32) len, NULL, frames, sizes, NULL) <=
            0 ||
        sizes[0] == 0)
        return false;
    bool lbrr = (frames[0][0] >> (7 - silk_frames)) & 1;
    if (stereo)
        lbrr = lbrr || ((frames[0][0] >> (6 - 2 * silk_frames)) & 1);
    return lbrr;
}
