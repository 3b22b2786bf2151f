/* VP8 encoder and decoder on libvpx, real-time settings (see media.h). */
#include "media.h"

#include <glib.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <vpx/vp8cx.h>
#include <vpx/vp8dx.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vpx_encoder.h>

struct media_vp8_enc {
    vpx_codec_ctx_t ctx;
    vpx_codec_enc_cfg_t cfg;
    vpx_image_t img; /* describes the caller's planes; no buffer of its own */
    int fps;
    bool want_key;
    uint8_t *buf; /* encoded frame, capacity cap */
    size_t cap;
};

struct media_vp8_dec {
    vpx_codec_ctx_t ctx;
    bool concealment;
    bool have_key;
};

const char *media_strerror(int code)
{
    switch (code) {
    case MEDIA_OK:
        return "success";
    case MEDIA_EINVAL:
        return "invalid argument";
    case MEDIA_ENOMEM:
        return "out of memory";
    case MEDIA_ENOSPACE:
        return "output buffer too small";
    case MEDIA_ECODEC:
        return "codec library failure";
    case MEDIA_ECORRUPT:
        return "corrupt or undecodable data";
    default:
        return "unknown media error";
    }
}

int media_i420_alloc(media_i420 *out, int width, int height)
{
    if (out == NULL || width < 2 || height < 2 || width > 8192 || height > 8192)
        return MEDIA_EINVAL;
    int cw = (width + 1) / 2, ch = (height + 1) / 2;
    size_t ysize = (size_t) width * height, csize = (size_t) cw * ch;
    uint8_t *mem = malloc(ysize + 2 * csize);
    if (mem == NULL)
        return MEDIA_ENOMEM;
    out->y = mem;
    out->u = mem + ysize;
    out->v = mem + ysize + csize;
    out->stride_y = width;
    out->stride_u = out->stride_v = cw;
    out->width = width;
    out->height = height;
    return MEDIA_OK;
}

void media_i420_free(media_i420 *pic)
{
    if (pic == NULL)
        return;
    free(pic->y);
    memset(pic, 0, sizeof *pic);
}

static bool enc_config_valid(const media_vp8_enc_config *c)
{
    return c->version == MEDIA_VP8_ENC_CONFIG_VERSION && c->width >= 16 &&
           c->width <= 4096 && c->height >= 16 && c->height <= 4096 &&
           c->width % 2 == 0 && c->height % 2 == 0 && c->fps >= 1 &&
           c->fps <= 120 && c->bitrate_kbps >= 30 && c->bitrate_kbps <= 20000 &&
           c->cpu_used >= -16 && c->cpu_used <= 16 && c->threads >= 1 &&
           c->threads <= 8 && c->kf_max_dist >= 1;
}

#define CTRL(ctx, id, val)                                                     \
    do {                                                                       \
        if (vpx_codec_control(ctx, id, val) != VPX_CODEC_OK) {                 \
            g_warning("vp8: control " #id " failed: %s",                       \
                      vpx_codec_error_detail(ctx));                            \
            goto fail;                                                         \
        }                                                                      \
    } while (0)

int media_vp8_enc_new(media_vp8_enc **out, const media_vp8_enc_config *c)
{
    if (out == NULL || c == NULL || !enc_config_valid(c))
        return MEDIA_EINVAL;
    *out = NULL;
    media_vp8_enc *e = calloc(1, sizeof *e);
    if (e == NULL)
        return MEDIA_ENOMEM;
    /* A keyframe at q 2 is far below raw size; raw size is a safe bound. */
    e->cap = (size_t) c->width * c->height * 3 / 2 + 4096;
    e->buf = malloc(e->cap);
    if (e->buf == NULL) {
        free(e);
        return MEDIA_ENOMEM;
    }
    vpx_codec_enc_cfg_t *cfg = &e->cfg;
    if (vpx_codec_enc_config_default(vpx_codec_vp8_cx(), cfg, 0) !=
        VPX_CODEC_OK) {
        free(e->buf);
        free(e);
        return MEDIA_ECODEC;
    }
    cfg->g_w = (unsigned) c->width;
    cfg->g_h = (unsigned) c->height;
    cfg->g_threads = (unsigned) c->threads;
    cfg->g_timebase.num = 1;
    cfg->g_timebase.den = 1000000; /* pts in µs */
    cfg->g_error_resilient = VPX_ERROR_RESILIENT_DEFAULT;
    cfg->g_pass = VPX_RC_ONE_PASS;
    cfg->g_lag_in_frames = 0;
    cfg->rc_dropframe_thresh = 0;
    cfg->rc_resize_allowed = 0;
    cfg->rc_end_usage = VPX_CBR;
    cfg->rc_target_bitrate = (unsigned) c->bitrate_kbps;
    cfg->rc_min_quantizer = 2;
    cfg->rc_max_quantizer = 56;
    cfg->rc_undershoot_pct = 100;
    cfg->rc_overshoot_pct = 15;
    cfg->rc_buf_initial_sz = 500;
    cfg->rc_buf_optimal_sz = 600;
    cfg->rc_buf_sz = 1000;
    cfg->kf_mode = VPX_KF_AUTO;
    cfg->kf_min_dist = 0;
    cfg->kf_max_dist = (unsigned) c->kf_max_dist;
    cfg->ts_number_layers = 1; /* no temporal layers */
    cfg->ts_periodicity = 0;
    cfg->ts_rate_decimator[0] = 1;
    cfg->ts_target_bitrate[0] = (unsigned) c->bitrate_kbps;
    if (vpx_codec_enc_init(&e->ctx, vpx_codec_vp8_cx(), cfg, 0) !=
        VPX_CODEC_OK) {
        g_warning("vp8: encoder init failed: %s",
                  vpx_codec_error_detail(&e->ctx));
        free(e->buf);
        free(e);
        return MEDIA_ECODEC;
    }
    CTRL(&e->ctx, VP8E_SET_CPUUSED, c->cpu_used);
    CTRL(&e->ctx, VP8E_SET_TOKEN_PARTITIONS, (int) VP8_ONE_TOKENPARTITION);
    CTRL(&e->ctx, VP8E_SET_NOISE_SENSITIVITY, 0);
    CTRL(&e->ctx, VP8E_SET_STATIC_THRESHOLD, 1U);
    /* Cap keyframe size at 3 frames' budget: a PLI must not flood. */
    CTRL(&e->ctx, VP8E_SET_MAX_INTRA_BITRATE_PCT, 300U);
    CTRL(&e->ctx, VP8E_SET_ENABLEAUTOALTREF, 0U);

    vpx_img_wrap(&e->img, VPX_IMG_FMT_I420, (unsigned) c->width,
                 (unsigned) c->height, 1, e->buf /* replaced per frame */);
    e->fps = c->fps;
    *out = e;
    return MEDIA_OK;
fail:
    vpx_codec_destroy(&e->ctx);
    free(e->buf);
    free(e);
    return MEDIA_ECODEC;
}

void media_vp8_enc_free(media_vp8_enc *e)
{
    if (e == NULL)
        return;
    vpx_codec_destroy(&e->ctx);
    free(e->buf);
    free(e);
}

int media_vp8_enc_encode(media_vp8_enc *e, const media_i420 *pic,
                         int64_t pts_us, media_vp8_frame *out)
{
    if (e == NULL || pic == NULL || out == NULL || pic->y == NULL ||
        pic->u == NULL || pic->v == NULL || pic->width != (int) e->cfg.g_w ||
        pic->height != (int) e->cfg.g_h || pic->stride_y < pic->width ||
        pic->stride_u < (pic->width + 1) / 2 ||
        pic->stride_v < (pic->width + 1) / 2)
        return MEDIA_EINVAL;
    e->img.planes[VPX_PLANE_Y] = pic->y;
    e->img.planes[VPX_PLANE_U] = pic->u;
    e->img.planes[VPX_PLANE_V] = pic->v;
    e->img.stride[VPX_PLANE_Y] = pic->stride_y;
    e->img.stride[VPX_PLANE_U] = pic->stride_u;
    e->img.stride[VPX_PLANE_V] = pic->stride_v;

    vpx_enc_frame_flags_t flags = e->want_key ? VPX_EFLAG_FORCE_KF : 0;
    unsigned long duration = 1000000UL / (unsigned long) e->fps;
    if (vpx_codec_encode(&e->ctx, &e->img, pts_us, duration, flags,
                         VPX_DL_REALTIME) != VPX_CODEC_OK) {
        g_warning("vp8: encode failed: %s", vpx_codec_error_detail(&e->ctx));
        return MEDIA_ECODEC;
    }
    e->want_key = false;
    out->data = e->buf;
    out->len = 0;
    out->keyframe = false;
    out->pts_us = pts_us;
    vpx_codec_iter_t iter = NULL;
    const vpx_codec_cx_pkt_t *pkt;
    while ((pkt = vpx_codec_get_cx_data(&e->ctx, &iter)) != NULL) {
        if (pkt->kind != VPX_CODEC_CX_FRAME_PKT)
            continue;
        if (pkt->data.frame.sz > e->cap - out->len)
            return MEDIA_ENOSPACE; /* cannot happen: cap >= raw size */
        memcpy(e->buf + out->len, pkt->data.frame.buf, pkt->data.frame.sz);
        out->len += pkt->data.frame.sz;
        if (pkt->data.frame.flags & VPX_FRAME_IS_KEY)
            out->keyframe = true;
    }
    return MEDIA_OK;
}

int media_vp8_enc_request_keyframe(media_vp8_enc *e)
{
    if (e == NULL)
        return MEDIA_EINVAL;
    e->want_key = true;
    return MEDIA_OK;
}

int media_vp8_enc_set_bitrate(media_vp8_enc *e, int kbps)
{
    if (e == NULL || kbps < 30 || kbps > 20000)
        return MEDIA_EINVAL;
    e->cfg.rc_target_bitrate = (unsigned) kbps;
    e->cfg.ts_target_bitrate[0] = (unsigned) kbps;
    if (vpx_codec_enc_config_set(&e->ctx, &e->cfg) != VPX_CODEC_OK) {
        g_warning("vp8: bitrate change failed: %s",
                  vpx_codec_error_detail(&e->ctx));
        return MEDIA_ECODEC;
    }
    return MEDIA_OK;
}

int media_vp8_enc_get_bitrate(const media_vp8_enc *e)
{
    return e != NULL ? (int) e->cfg.rc_target_bitrate : MEDIA_EINVAL;
}

int media_vp8_dec_new(media_vp8_dec **out, int threads)
{
    if (out == NULL || threads < 1 || threads > 8)
        return MEDIA_EINVAL;
    *out = NULL;
    media_vp8_dec *d = calloc(1, sizeof *d);
    if (d == NULL)
        return MEDIA_ENOMEM;
    vpx_codec_dec_cfg_t cfg = {.threads = (unsigned) threads};
    vpx_codec_flags_t flags = 0;
    if (vpx_codec_get_caps(vpx_codec_vp8_dx()) &
        VPX_CODEC_CAP_ERROR_CONCEALMENT) {
        flags |= VPX_CODEC_USE_ERROR_CONCEALMENT;
        d->concealment = true;
    }
    if (vpx_codec_dec_init(&d->ctx, vpx_codec_vp8_dx(), &cfg, flags) !=
        VPX_CODEC_OK) {
        g_warning("vp8: decoder init failed: %s",
                  vpx_codec_error_detail(&d->ctx));
        free(d);
        return MEDIA_ECODEC;
    }
    *out = d;
    return MEDIA_OK;
}

void media_vp8_dec_free(media_vp8_dec *d)
{
    if (d == NULL)
        return;
    vpx_codec_destroy(&d->ctx);
    free(d);
}

bool media_vp8_dec_has_concealment(const media_vp8_dec *d)
{
    return d != NULL && d->concealment;
}

bool media_vp8_is_keyframe(const uint8_t *data, size_t len)
{
    /* RFC 6386 9.1: P bit 0 = keyframe, then start code 9d 01 2a. */
    return data != NULL && len >= 10 && (data[0] & 1) == 0 && data[3] == 0x9d &&
           data[4] == 0x01 && data[5] == 0x2a;
}

int media_vp8_dec_decode(media_vp8_dec *d, const uint8_t *data, size_t len,
                         media_i420 *pic, bool *corrupt)
{
    if (d == NULL || data == NULL || len == 0 || len > UINT_MAX ||
        pic == NULL || corrupt == NULL)
        return MEDIA_EINVAL;
    memset(pic, 0, sizeof *pic);
    *corrupt = false;
    bool key = media_vp8_is_keyframe(data, len);
    if (!key && !d->have_key)
        return MEDIA_ECORRUPT; /* nothing to predict from */
    if (vpx_codec_decode(&d->ctx, data, (unsigned) len, NULL, 0) !=
        VPX_CODEC_OK) {
        g_debug("vp8: decode failed: %s", vpx_codec_error_detail(&d->ctx));
        return MEDIA_ECORRUPT;
    }
    if (key)
        d->have_key = true;
    int bad = 0;
    if (vpx_codec_control(&d->ctx, VP8D_GET_FRAME_CORRUPTED, &bad) ==
            VPX_CODEC_OK &&
        bad)
        *corrupt = true;
    vpx_codec_iter_t iter = NULL;
    vpx_image_t *img = vpx_codec_get_frame(&d->ctx, &iter);
    if (img == NULL)
        return MEDIA_ECORRUPT; /* an invisible frame; we never send those */
    pic->y = img->planes[VPX_PLANE_Y];
    pic->u = img->planes[VPX_PLANE_U];
    pic->v = img->planes[VPX_PLANE_V];
    pic->stride_y = img->stride[VPX_PLANE_Y];
    pic->stride_u = img->stride[VPX_PLANE_U];
    pic->stride_v = img->stride[VPX_PLANE_V];
    pic->width = (int) img->d_w;
    pic->height = (int) img->d_h;
    return MEDIA_OK;
}
