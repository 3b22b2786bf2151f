/*
 * Unit tests of libvid/media: the synthetic camera/microphone, VP8 and
 * Opus called directly (keyframe on request, bitrate change, Opus PLC and
 * FEC, DTX) and argument checking.
 */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "media.h"

#define W 640
#define H 480
#define FPS 30

static void test_synth_video(void)
{
    media_i420 pic;
    g_assert_cmpint(media_i420_alloc(&pic, W, H), ==, MEDIA_OK);
    for (uint32_t n = 0; n < 5; n++) {
        int64_t t = (int64_t) 0x0123456789abLL + n * 33333;
        uint32_t rn = 0;
        int64_t rt = 0;
        g_assert_cmpint(media_synth_video_fill(&pic, n * 1000003u, t), ==,
                        MEDIA_OK);
        g_assert_cmpint(media_synth_read(&pic, &rn, &rt), ==, MEDIA_OK);
        g_assert_cmpuint(rn, ==, n * 1000003u);
        g_assert_cmpint(rt, ==, t);
    }
    /* Flip one data cell: the checksum must catch it. */
    for (int y = 16; y < 32; y++)
        for (int x = 48; x < 64; x++)
            pic.y[y * pic.stride_y + x] ^= 0xff;
    uint32_t rn;
    int64_t rt;
    g_assert_cmpint(media_synth_read(&pic, &rn, &rt), ==, MEDIA_ECORRUPT);
    /* Too small and NULL pictures. */
    media_i420 small = pic;
    small.width = 200;
    g_assert_cmpint(media_synth_video_fill(&small, 1, 1), ==, MEDIA_EINVAL);
    g_assert_cmpint(media_synth_read(NULL, &rn, &rt), ==, MEDIA_EINVAL);
    media_i420_free(&pic);
    media_i420_free(NULL);
}

static media_vp8_enc *new_encoder(int kbps)
{
    media_vp8_enc_config c = MEDIA_VP8_ENC_CONFIG_INIT;
    c.width = W;
    c.height = H;
    c.fps = FPS;
    c.bitrate_kbps = kbps;
    media_vp8_enc *enc = NULL;
    g_assert_cmpint(media_vp8_enc_new(&enc, &c), ==, MEDIA_OK);
    return enc;
}

/* Encode -> decode 3 s at 500 kbps; every frame reads back intact. */
static void test_vp8_round_trip(void)
{
    media_vp8_enc *enc = new_encoder(500);
    media_vp8_dec *dec = NULL;
    g_assert_cmpint(media_vp8_dec_new(&dec, 1), ==, MEDIA_OK);
    media_i420 pic;
    g_assert_cmpint(media_i420_alloc(&pic, W, H), ==, MEDIA_OK);
    size_t bytes = 0;
    int keys = 0;
    for (uint32_t n = 0; n < 3 * FPS; n++) {
        int64_t pts = (int64_t) n * 1000000 / FPS;
        int64_t cap = 5000000000LL + pts;
        g_assert_cmpint(media_synth_video_fill(&pic, n, cap), ==, MEDIA_OK);
        media_vp8_frame f;
        g_assert_cmpint(media_vp8_enc_encode(enc, &pic, pts, &f), ==, MEDIA_OK);
        g_assert_cmpuint(f.len, >, 0);
        g_assert_true(f.keyframe == media_vp8_is_keyframe(f.data, f.len));
        keys += f.keyframe;
        if (n == 0)
            g_assert_true(f.keyframe);
        bytes += f.len;
        media_i420 out;
        bool corrupt = true;
        g_assert_cmpint(
            media_vp8_dec_decode(dec, f.data, f.len, &out, &corrupt), ==,
            MEDIA_OK);
        g_assert_false(corrupt);
        g_assert_cmpint(out.width, ==, W);
        g_assert_cmpint(out.height, ==, H);
        uint32_t rn = 0;
        int64_t rt = 0;
        g_assert_cmpint(media_synth_read(&out, &rn, &rt), ==, MEDIA_OK);
        g_assert_cmpuint(rn, ==, n);
        g_assert_cmpint(rt, ==, cap);
    }
    g_assert_cmpint(keys, ==, 1);
    double kbps = bytes * 8.0 / 3.0 / 1000.0;
    g_test_message("3 s at 500 kbps target: %.0f kbps", kbps);
    g_assert_cmpfloat(kbps, <, 500 * 1.5);
    g_assert_cmpfloat(kbps, >, 500 * 0.5);
    media_i420_free(&pic);
    media_vp8_enc_free(enc);
    media_vp8_dec_free(dec);
}

static void test_vp8_keyframe_request(void)
{
    media_vp8_enc *enc = new_encoder(500);
    media_i420 pic;
    g_assert_cmpint(media_i420_alloc(&pic, W, H), ==, MEDIA_OK);
    GByteArray *delta = g_byte_array_new(), *key = g_byte_array_new();
    for (uint32_t n = 0; n < 40; n++) {
        media_synth_video_fill(&pic, n, n);
        if (n == 20 || n == 21 || n == 35)
            g_assert_cmpint(media_vp8_enc_request_keyframe(enc), ==, MEDIA_OK);
        media_vp8_frame f;
        g_assert_cmpint(
            media_vp8_enc_encode(enc, &pic, (int64_t) n * 33333, &f), ==,
            MEDIA_OK);
        bool want = n == 0 || n == 20 || n == 21 || n == 35;
        g_assert_cmpint(f.keyframe, ==, want);
        if (n == 10)
            g_byte_array_append(delta, f.data, (guint) f.len);
        if (n == 35)
            g_byte_array_append(key, f.data, (guint) f.len);
    }
    /* A fresh decoder (the receiver after loss) cannot start on a delta
     * frame, and can on the requested keyframe. */
    media_vp8_dec *dec = NULL;
    g_assert_cmpint(media_vp8_dec_new(&dec, 1), ==, MEDIA_OK);
    media_i420 out;
    bool corrupt;
    g_assert_cmpint(
        media_vp8_dec_decode(dec, delta->data, delta->len, &out, &corrupt), ==,
        MEDIA_ECORRUPT);
    g_assert_cmpint(
        media_vp8_dec_decode(dec, key->data, key->len, &out, &corrupt), ==,
        MEDIA_OK);
    uint32_t rn;
    int64_t rt;
    g_assert_cmpint(media_synth_read(&out, &rn, &rt), ==, MEDIA_OK);
    g_assert_cmpuint(rn, ==, 35);
    /* A truncated frame is refused or flagged corrupt, never silent. */
    int rc = media_vp8_dec_decode(dec, key->data, key->len / 3, &out, &corrupt);
    g_assert_true(rc == MEDIA_ECORRUPT || (rc == MEDIA_OK && corrupt));
    g_test_message("truncated keyframe: %s%s", media_strerror(rc),
                   rc == MEDIA_OK ? " (flagged corrupt)" : "");
    g_byte_array_unref(delta);
    g_byte_array_unref(key);
    media_i420_free(&pic);
    media_vp8_enc_free(enc);
    media_vp8_dec_free(dec);
}

/* Bytes produced over 2 s at 300 kbps, then 2 s after a change to 1200. */
static void test_vp8_bitrate_change(void)
{
    media_vp8_enc *enc = new_encoder(300);
    media_i420 pic;
    g_assert_cmpint(media_i420_alloc(&pic, W, H), ==, MEDIA_OK);
    size_t window[2] = {0, 0};
    uint32_t n = 0;
    for (int phase = 0; phase < 2; phase++) {
        if (phase == 1) {
            g_assert_cmpint(media_vp8_enc_set_bitrate(enc, 1200), ==, MEDIA_OK);
            g_assert_cmpint(media_vp8_enc_get_bitrate(enc), ==, 1200);
        }
        /* 1 s to settle, then 2 s measured. */
        for (int i = 0; i < 3 * FPS; i++, n++) {
            media_synth_video_fill(&pic, n, n);
            media_vp8_frame f;
            g_assert_cmpint(
                media_vp8_enc_encode(enc, &pic, (int64_t) n * 33333, &f), ==,
                MEDIA_OK);
            g_assert_false(n > 0 && f.keyframe);
            if (i >= FPS)
                window[phase] += f.len;
        }
    }
    double k0 = window[0] * 8 / 2000.0, k1 = window[1] * 8 / 2000.0;
    g_test_message("300 kbps target: %.0f kbps; 1200 kbps target: %.0f kbps",
                   k0, k1);
    g_assert_cmpfloat(k0, >, 300 * 0.7);
    g_assert_cmpfloat(k0, <, 300 * 1.3);
    g_assert_cmpfloat(k1, >, 1200 * 0.7);
    g_assert_cmpfloat(k1, <, 1200 * 1.3);
    g_assert_cmpint(media_vp8_enc_set_bitrate(enc, 10), ==, MEDIA_EINVAL);
    media_i420_free(&pic);
    media_vp8_enc_free(enc);
}

static void test_vp8_args(void)
{
    media_vp8_enc_config c = MEDIA_VP8_ENC_CONFIG_INIT;
    media_vp8_enc *enc = (media_vp8_enc *) &c;
    g_assert_cmpint(media_vp8_enc_new(NULL, &c), ==, MEDIA_EINVAL);
    g_assert_cmpint(media_vp8_enc_new(&enc, NULL), ==, MEDIA_EINVAL);
    c.width = 641;
    g_assert_cmpint(media_vp8_enc_new(&enc, &c), ==, MEDIA_EINVAL);
    c = (media_vp8_enc_config) MEDIA_VP8_ENC_CONFIG_INIT;
    c.version = 99;
    g_assert_cmpint(media_vp8_enc_new(&enc, &c), ==, MEDIA_EINVAL);
    c = (media_vp8_enc_config) MEDIA_VP8_ENC_CONFIG_INIT;
    c.width = 320;
    c.height = 240;
    g_assert_cmpint(media_vp8_enc_new(&enc, &c), ==, MEDIA_OK);
    media_i420 pic;
    g_assert_cmpint(media_i420_alloc(&pic, W, H), ==, MEDIA_OK);
    media_vp8_frame f;
    /* Wrong size picture. */
    g_assert_cmpint(media_vp8_enc_encode(enc, &pic, 0, &f), ==, MEDIA_EINVAL);
    g_assert_cmpint(media_vp8_enc_encode(enc, NULL, 0, &f), ==, MEDIA_EINVAL);
    media_vp8_enc_free(enc);
    media_vp8_enc_free(NULL);

    media_vp8_dec *dec;
    g_assert_cmpint(media_vp8_dec_new(&dec, 0), ==, MEDIA_EINVAL);
    g_assert_cmpint(media_vp8_dec_new(&dec, 1), ==, MEDIA_OK);
    g_test_message("libvpx error concealment: %s",
                   media_vp8_dec_has_concealment(dec) ? "yes" : "no");
    media_i420 out;
    bool corrupt;
    static const uint8_t junk[] = {0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a,
                                   0x80, 0x02, 0xe0, 0x01, 0xff, 0xff};
    g_assert_cmpint(media_vp8_dec_decode(dec, junk, 0, &out, &corrupt), ==,
                    MEDIA_EINVAL);
    int rc = media_vp8_dec_decode(dec, junk, sizeof junk, &out, &corrupt);
    g_assert_true(rc == MEDIA_ECORRUPT || (rc == MEDIA_OK && corrupt));
    g_assert_false(media_vp8_is_keyframe(junk, 5));
    media_vp8_dec_free(dec);
    media_vp8_dec_free(NULL);
    media_i420_free(&pic);
    g_assert_cmpint(media_i420_alloc(&pic, 1, 10), ==, MEDIA_EINVAL);
}

/* ------------------------------------------------------------------ */

static media_opus_enc *new_opus(int channels, bool dtx, int loss)
{
    media_opus_enc_config c = MEDIA_OPUS_ENC_CONFIG_INIT;
    c.channels = channels;
    c.dtx = dtx;
    c.loss_pct = loss;
    media_opus_enc *enc = NULL;
    g_assert_cmpint(media_opus_enc_new(&enc, &c), ==, MEDIA_OK);
    return enc;
}

/* Tone bursts through Opus: every burst found, in order, on time. */
static void test_opus_synth_bursts(void)
{
    for (int ch = 1; ch <= 2; ch++) {
        media_opus_enc *enc = new_opus(ch, true, 0);
        media_opus_dec *dec = NULL;
        g_assert_cmpint(media_opus_dec_new(&dec, ch), ==, MEDIA_OK);
        media_synth_audio src;
        g_assert_cmpint(media_synth_audio_init(&src, ch, 100), ==, MEDIA_OK);
        media_synth_audio_detector det;
        media_synth_audio_detector_init(&det, ch);
        int16_t in[MEDIA_OPUS_FRAME * 2], out[5760 * 2];
        uint8_t pkt[MEDIA_OPUS_MAX_PACKET];
        int bursts = 0, dtx = 0;
        for (int i = 0; i < 150; i++) { /* 3 s */
            media_synth_audio_fill(&src, in, MEDIA_OPUS_FRAME);
            size_t len;
            g_assert_cmpint(
                media_opus_enc_encode(enc, in, pkt, sizeof pkt, &len), ==,
                MEDIA_OK);
            int n;
            if (len <= 2) {
                dtx++; /* not sent: the receiver conceals */
                n = media_opus_dec_conceal(dec, NULL, 0, out, 5760);
            } else {
                n = media_opus_dec_decode(dec, pkt, len, out, 5760);
            }
            g_assert_cmpint(n, ==, MEDIA_OPUS_FRAME);
            media_synth_burst b[4];
            int got = media_synth_audio_detect(&det, out, (size_t) n, b, 4);
            for (int k = 0; k < got; k++, bursts++) {
                g_assert_cmpint(b[k].tone, ==, bursts % MEDIA_SYNTH_TONES);
                /* Burst k starts at k * 4800; Opus delays by 6.5 ms
                 * (312 samples) plus the onset detection. */
                int64_t lag = (int64_t) b[k].onset - (int64_t) bursts * 4800;
                g_assert_cmpint(lag, >=, 300);
                g_assert_cmpint(lag, <=, 400);
            }
        }
        g_test_message("%d channel(s): %d bursts, %d DTX packets", ch, bursts,
                       dtx);
        g_assert_cmpint(bursts, >=, 29);
        g_assert_cmpuint(src.counter, ==, 30);
        media_opus_enc_free(enc);
        media_opus_dec_free(dec);
    }
}

/* A voice-like signal: 12 harmonics of a pitch that changes every 20 ms,
 * syllable-rate (3 Hz) amplitude modulation, a little noise. SILK's VAD
 * marks the loud half of each syllable active, and only active frames
 * carry FEC. */
static void voice_like(int16_t *pcm, int frame, uint32_t *seed)
{
    static const float hz[] = {120, 150, 135, 170, 140, 110, 160, 125};
    float f = hz[frame % 8];
    for (int i = 0; i < MEDIA_OPUS_FRAME; i++) {
        float t = (float) (frame * MEDIA_OPUS_FRAME + i) / MEDIA_OPUS_RATE;
        float v = 0;
        for (int h = 1; h <= 12; h++)
            v += sinf(6.2831853f * f * (float) h * t) / (float) h;
        float am = 0.55f - 0.45f * cosf(6.2831853f * 3 * t);
        *seed = *seed * 1103515245u + 12345u;
        float noise = (float) ((*seed >> 16) & 0x7fff) / 32768.0f - 0.5f;
        pcm[i] = (int16_t) ((v * am + 0.1f * noise) * 5000);
    }
}

static double correlation(const int16_t *a, const int16_t *b, int n)
{
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < n; i++) {
        ab += (double) a[i] * b[i];
        aa += (double) a[i] * a[i];
        bb += (double) b[i] * b[i];
    }
    return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0;
}

static double snr_db(const int16_t *ref, const int16_t *x, int n)
{
    double s = 0, e = 0;
    for (int i = 0; i < n; i++) {
        s += (double) ref[i] * ref[i];
        e += ((double) ref[i] - x[i]) * ((double) ref[i] - x[i]);
    }
    return 10 * log10((s + 1) / (e + 1));
}

/* Lose one packet: FEC from the next packet beats PLC. */
static void test_opus_plc_fec(void)
{
    enum { N = 60 };
    media_opus_enc *enc = new_opus(1, false, 20);
    static uint8_t pkts[N][MEDIA_OPUS_MAX_PACKET];
    size_t lens[N];
    int16_t in[MEDIA_OPUS_FRAME];
    uint32_t seed = 1;
    int with_fec = 0;
    for (int i = 0; i < N; i++) {
        voice_like(in, i, &seed);
        g_assert_cmpint(
            media_opus_enc_encode(enc, in, pkts[i], sizeof pkts[i], &lens[i]),
            ==, MEDIA_OK);
        with_fec += media_opus_has_fec(pkts[i], lens[i]);
    }
    g_test_message("%d of %d packets carry FEC", with_fec, N);
    /* Lose a packet whose successor carries FEC, after 20 packets. */
    int LOST = 20;
    while (LOST < N - 2 && !media_opus_has_fec(pkts[LOST + 1], lens[LOST + 1]))
        LOST++;
    g_assert_cmpint(LOST, <, N - 2);
    g_assert_false(media_opus_has_fec(NULL, 0));

    media_opus_dec *ref, *plc, *fec;
    g_assert_cmpint(media_opus_dec_new(&ref, 1), ==, MEDIA_OK);
    g_assert_cmpint(media_opus_dec_new(&plc, 1), ==, MEDIA_OK);
    g_assert_cmpint(media_opus_dec_new(&fec, 1), ==, MEDIA_OK);
    int16_t r[5760], p[5760], f[5760];
    for (int i = 0; i < LOST; i++) {
        g_assert_cmpint(media_opus_dec_decode(ref, pkts[i], lens[i], r, 5760),
                        ==, MEDIA_OPUS_FRAME);
        g_assert_cmpint(media_opus_dec_decode(plc, pkts[i], lens[i], p, 5760),
                        ==, MEDIA_OPUS_FRAME);
        g_assert_cmpint(media_opus_dec_decode(fec, pkts[i], lens[i], f, 5760),
                        ==, MEDIA_OPUS_FRAME);
    }
    /* Packet LOST never arrives. */
    g_assert_cmpint(media_opus_dec_decode(ref, pkts[LOST], lens[LOST], r, 5760),
                    ==, MEDIA_OPUS_FRAME);
    g_assert_cmpint(media_opus_dec_conceal(plc, NULL, 0, p, 5760), ==,
                    MEDIA_OPUS_FRAME);
    g_assert_cmpint(
        media_opus_dec_conceal(fec, pkts[LOST + 1], lens[LOST + 1], f, 5760),
        ==, MEDIA_OPUS_FRAME);
    double c_plc = correlation(r, p, MEDIA_OPUS_FRAME);
    double c_fec = correlation(r, f, MEDIA_OPUS_FRAME);
    double s_plc = snr_db(r, p, MEDIA_OPUS_FRAME);
    double s_fec = snr_db(r, f, MEDIA_OPUS_FRAME);
    g_test_message("lost frame vs. lossless decode: PLC corr %.3f SNR %.1f "
                   "dB; FEC corr %.3f SNR %.1f dB",
                   c_plc, s_plc, c_fec, s_fec);
    g_assert_cmpfloat(c_fec, >, 0.8);
    g_assert_cmpfloat(c_fec, >, c_plc);
    g_assert_cmpfloat(s_fec, >, s_plc + 3);
    /* PLC still produces sound, not silence. */
    double e = 0;
    for (int i = 0; i < MEDIA_OPUS_FRAME; i++)
        e += (double) p[i] * p[i];
    g_assert_cmpfloat(e, >, 0);
    /* Both go on decoding the next packet normally. */
    g_assert_cmpint(
        media_opus_dec_decode(fec, pkts[LOST + 1], lens[LOST + 1], f, 5760), ==,
        MEDIA_OPUS_FRAME);
    media_opus_enc_free(enc);
    media_opus_dec_free(ref);
    media_opus_dec_free(plc);
    media_opus_dec_free(fec);
}

static void test_opus_dtx_and_args(void)
{
    media_opus_enc *enc = new_opus(1, true, 5);
    int16_t silence[MEDIA_OPUS_FRAME] = {0};
    uint8_t pkt[MEDIA_OPUS_MAX_PACKET];
    int small = 0;
    for (int i = 0; i < 50; i++) {
        size_t len;
        g_assert_cmpint(
            media_opus_enc_encode(enc, silence, pkt, sizeof pkt, &len), ==,
            MEDIA_OK);
        small += len <= 2;
    }
    g_test_message("1 s of silence: %d of 50 packets are DTX", small);
    /* DTX starts after ~200 ms and refreshes every 400 ms. */
    g_assert_cmpint(small, >=, 35);
    g_assert_cmpint(media_opus_enc_set_bitrate(enc, 64000), ==, MEDIA_OK);
    g_assert_cmpint(media_opus_enc_set_bitrate(enc, 10), ==, MEDIA_EINVAL);
    g_assert_cmpint(media_opus_enc_set_loss(enc, 30), ==, MEDIA_OK);
    g_assert_cmpint(media_opus_enc_set_loss(enc, 101), ==, MEDIA_EINVAL);
    size_t len;
    g_assert_cmpint(media_opus_enc_encode(enc, silence, pkt, 2, &len), ==,
                    MEDIA_ENOSPACE);
    g_assert_cmpint(media_opus_enc_encode(NULL, silence, pkt, 2, &len), ==,
                    MEDIA_EINVAL);
    media_opus_enc_free(enc);
    media_opus_enc_free(NULL);

    media_opus_enc_config c = MEDIA_OPUS_ENC_CONFIG_INIT;
    c.channels = 3;
    g_assert_cmpint(media_opus_enc_new(&enc, &c), ==, MEDIA_EINVAL);

    media_opus_dec *dec;
    g_assert_cmpint(media_opus_dec_new(&dec, 0), ==, MEDIA_EINVAL);
    g_assert_cmpint(media_opus_dec_new(&dec, 1), ==, MEDIA_OK);
    int16_t out[5760];
    static const uint8_t bad[] = {0xff, 0xff, 0xff};
    g_assert_cmpint(media_opus_dec_decode(dec, bad, sizeof bad, out, 5760), ==,
                    MEDIA_ECORRUPT);
    static const uint8_t toc20[] = {0x08 << 3, 0x00, 0x00}; /* SILK 20 ms */
    g_assert_cmpint(media_opus_dec_decode(dec, toc20, sizeof toc20, out, 100),
                    ==, MEDIA_ENOSPACE);
    g_assert_cmpint(media_opus_dec_conceal(dec, NULL, 0, out, 100), ==,
                    MEDIA_ENOSPACE);
    g_assert_cmpint(media_opus_dec_conceal(dec, bad, 0, out, 5760), ==,
                    MEDIA_EINVAL);
    media_opus_dec_free(dec);
    media_opus_dec_free(NULL);
    g_assert_cmpstr(media_strerror(MEDIA_ECORRUPT), !=, media_strerror(12345));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/media/synth/video", test_synth_video);
    g_test_add_func("/media/vp8/round-trip", test_vp8_round_trip);
    g_test_add_func("/media/vp8/keyframe-request", test_vp8_keyframe_request);
    g_test_add_func("/media/vp8/bitrate-change", test_vp8_bitrate_change);
    g_test_add_func("/media/vp8/args", test_vp8_args);
    g_test_add_func("/media/opus/synth-bursts", test_opus_synth_bursts);
    g_test_add_func("/media/opus/plc-fec", test_opus_plc_fec);
    g_test_add_func("/media/opus/dtx-args", test_opus_dtx_and_args);
    return g_test_run();
}
