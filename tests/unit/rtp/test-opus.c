/*
 * Unit tests of the Opus payload helpers (RFC 7587 / RFC 6716 section 3):
 * TOC durations, the four frame packings with every truncation, the
 * validity rules, the LBRR (in-band FEC) flag; and, when libopus is
 * available, a cross-check against packets from the real encoder with
 * FEC on and off.
 */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "playout.h"

#ifdef HAVE_OPUS
#include <opus.h>
#endif

static int parse_exact(const uint8_t *b, size_t len, rtp_opus_info *info)
{
    uint8_t *copy = g_malloc(len > 0 ? len : 1);
    int rc;

    if (len > 0)
        memcpy(copy, b, len);
    rc = rtp_opus_parse(info, copy, len);
    if (rc == RTP_OK)
        g_assert_true(info->frame0 >= copy &&
                      info->frame0 + info->frame0_len <= copy + len);
    g_free(copy);
    return rc;
}

static void test_toc_durations(void)
{
    static const struct {
        uint8_t config;
        uint32_t samples;
        rtp_opus_mode mode;
    } v[] = {
        {0, 480, RTP_OPUS_SILK},    {1, 960, RTP_OPUS_SILK},
        {2, 1920, RTP_OPUS_SILK},   {3, 2880, RTP_OPUS_SILK},
        {11, 2880, RTP_OPUS_SILK},  {12, 480, RTP_OPUS_HYBRID},
        {13, 960, RTP_OPUS_HYBRID}, {15, 960, RTP_OPUS_HYBRID},
        {16, 120, RTP_OPUS_CELT},   {17, 240, RTP_OPUS_CELT},
        {18, 480, RTP_OPUS_CELT},   {31, 960, RTP_OPUS_CELT},
    };
    rtp_opus_info info;

    for (size_t i = 0; i < G_N_ELEMENTS(v); i++) {
        uint8_t p[3] = {(uint8_t) (v[i].config << 3), 0xaa, 0xbb};
        g_assert_cmpint(parse_exact(p, sizeof(p), &info), ==, RTP_OK);
        g_assert_cmpuint(info.config, ==, v[i].config);
        g_assert_cmpint(info.mode, ==, v[i].mode);
        g_assert_cmpuint(info.frame_count, ==, 1);
        g_assert_cmpuint(info.samples, ==, v[i].samples);
        g_assert_cmpuint(info.frame0_len, ==, 2);
        g_assert_cmpint(rtp_opus_samples(p, sizeof(p)), ==, (int) v[i].samples);
    }
    /* stereo bit */
    {
        uint8_t p[] = {(uint8_t) ((31 << 3) | 4), 1};
        g_assert_cmpint(parse_exact(p, sizeof(p), &info), ==, RTP_OK);
        g_assert_true(info.stereo);
    }
    /* RFC 7587 section 4.1: the clock is 48 kHz whatever the mode: a
     * 20 ms narrowband SILK packet advances the timestamp by 960. */
    {
        uint8_t p[] = {1 << 3, 0};
        g_assert_cmpint(rtp_opus_samples(p, sizeof(p)), ==, 960);
    }
    g_assert_cmpint(parse_exact(NULL, 0, &info), ==, RTP_ERR_TRUNCATED);
    g_assert_cmpint(rtp_opus_parse(NULL, (const uint8_t *) "x", 1), ==,
                    RTP_ERR_ARG);
}

static void test_packings(void)
{
    rtp_opus_info info;
    uint8_t big[1300];
    uint8_t p2[300];

    /* code 0: DTX (no frame data) is valid */
    {
        uint8_t p[] = {0x48};
        g_assert_cmpint(parse_exact(p, 1, &info), ==, RTP_OK);
        g_assert_cmpuint(info.frame0_len, ==, 0);
    }
    /* code 0, frame over 1275 bytes (R2) */
    memset(big, 0, sizeof(big));
    big[0] = 0x48;
    g_assert_cmpint(parse_exact(big, 1277, &info), ==, RTP_ERR_INVALID);
    g_assert_cmpint(parse_exact(big, 1276, &info), ==, RTP_OK);

    /* code 1: two equal frames; odd remainder breaks R3 */
    {
        uint8_t p[] = {0x49, 1, 2, 3, 4};
        g_assert_cmpint(parse_exact(p, 5, &info), ==, RTP_OK);
        g_assert_cmpuint(info.frame_count, ==, 2);
        g_assert_cmpuint(info.frame0_len, ==, 2);
        g_assert_cmpuint(info.samples, ==, 1920);
        g_assert_cmpint(parse_exact(p, 4, &info), ==, RTP_ERR_INVALID);
        g_assert_cmpint(parse_exact(p, 1, &info), ==, RTP_OK); /* 2 x 0 */
    }
    /* code 2: first length coded in one byte */
    {
        uint8_t p[] = {0x4a, 1, 0xf0, 2, 3};
        g_assert_cmpint(parse_exact(p, 5, &info), ==, RTP_OK);
        g_assert_cmpuint(info.frame0_len, ==, 1);
        /* (the copy is gone: look at the original) */
        g_assert_cmpint(rtp_opus_parse(&info, p, 5), ==, RTP_OK);
        g_assert_cmphex(info.frame0[0], ==, 0xf0);
        g_assert_cmpint(parse_exact(p, 1, &info), ==, RTP_ERR_TRUNCATED);
        g_assert_cmpint(parse_exact(p, 2, &info), ==, RTP_ERR_TRUNCATED);
        g_assert_cmpint(parse_exact(p, 3, &info), ==, RTP_OK); /* 1 + 0 */
    }
    /* code 2: two-byte length 252 + 4 * 0 = 252 */
    memset(p2, 0, sizeof(p2));
    p2[0] = 0x4a;
    p2[1] = 252;
    p2[2] = 0;
    g_assert_cmpint(parse_exact(p2, 3 + 252, &info), ==, RTP_OK);
    g_assert_cmpuint(info.frame0_len, ==, 252);
    g_assert_cmpint(parse_exact(p2, 3 + 251, &info), ==, RTP_ERR_TRUNCATED);
    g_assert_cmpint(parse_exact(p2, 2, &info), ==, RTP_ERR_TRUNCATED);
    p2[1] = 253;
    p2[2] = 1; /* 253 + 4 = 257 */
    g_assert_cmpint(parse_exact(p2, 3 + 257, &info), ==, RTP_OK);
    g_assert_cmpuint(info.frame0_len, ==, 257);

    /* code 3 CBR: three 20 ms frames of one byte */
    {
        uint8_t p[] = {0x4b, 0x03, 7, 8, 9};
        g_assert_cmpint(parse_exact(p, 5, &info), ==, RTP_OK);
        g_assert_cmpuint(info.frame_count, ==, 3);
        g_assert_cmpuint(info.samples, ==, 2880);
        g_assert_cmpuint(info.frame0_len, ==, 1);
        g_assert_cmpint(parse_exact(p, 4, &info), ==, RTP_ERR_INVALID);
        g_assert_cmpint(parse_exact(p, 1, &info), ==, RTP_ERR_TRUNCATED);
        p[1] = 0; /* M = 0 */
        g_assert_cmpint(parse_exact(p, 5, &info), ==, RTP_ERR_INVALID);
    }
    /* code 3: 120 ms cap (R5) */
    {
        uint8_t ok[] = {(3 << 3) | 3, 0x02, 1, 2};     /* 2 x 60 ms */
        uint8_t bad[] = {(3 << 3) | 3, 0x03, 1, 2, 3}; /* 3 x 60 ms */
        uint8_t celt[] = {(16 << 3) | 3, 48};          /* 48 x 2.5 ms */
        g_assert_cmpint(parse_exact(ok, sizeof(ok), &info), ==, RTP_OK);
        g_assert_cmpuint(info.samples, ==, 5760);
        g_assert_cmpint(parse_exact(bad, sizeof(bad), &info), ==,
                        RTP_ERR_INVALID);
        g_assert_cmpint(parse_exact(celt, sizeof(celt), &info), ==, RTP_OK);
        g_assert_cmpuint(info.frame_count, ==, 48);
        g_assert_cmpuint(info.frame0_len, ==, 0);
    }
    /* code 3 VBR with padding: M=2, pad 2, lengths 1 and (rest) 2 */
    {
        uint8_t p[] = {0x4b, 0xc2, 2, 1, 0xaa, 0xbb, 0xcc, 0, 0};
        g_assert_cmpint(parse_exact(p, sizeof(p), &info), ==, RTP_OK);
        g_assert_cmpuint(info.frame_count, ==, 2);
        g_assert_cmpuint(info.frame0_len, ==, 1);
        g_assert_cmpint(rtp_opus_parse(&info, p, sizeof(p)), ==, RTP_OK);
        g_assert_cmphex(info.frame0[0], ==, 0xaa);
        for (size_t n = 1; n < 6; n++)
            g_assert_cmpint(parse_exact(p, n, &info), <, 0);
        /* first frame longer than what precedes the padding */
        p[3] = 5;
        g_assert_cmpint(parse_exact(p, sizeof(p), &info), ==,
                        RTP_ERR_TRUNCATED);
    }
    /* padding length 255 means 254 and another length byte */
    {
        uint8_t p[2 + 2 + 254 + 1 + 1];
        memset(p, 0, sizeof(p));
        p[0] = 0x4b;
        p[1] = 0x41; /* p=1, M=1 */
        p[2] = 255;
        p[3] = 1; /* 254 + 1 */
        p[4] = 0x55;
        g_assert_cmpint(parse_exact(p, 4 + 1 + 255, &info), ==, RTP_OK);
        g_assert_cmpuint(info.frame0_len, ==, 1);
        g_assert_cmpint(parse_exact(p, 4 + 255, &info), ==, RTP_OK);
        g_assert_cmpuint(info.frame0_len, ==, 0);
        g_assert_cmpint(parse_exact(p, 4 + 254, &info), ==, RTP_ERR_TRUNCATED);
        g_assert_cmpint(parse_exact(p, 3, &info), ==, RTP_ERR_TRUNCATED);
    }
}

static void test_fec_flag(void)
{
    /* SILK WB 20 ms mono: bit 7 VAD, bit 6 LBRR */
    uint8_t p[] = {0x48, 0xc0, 0};

    g_assert_cmpint(rtp_opus_has_fec(p, 3), ==, 1);
    p[1] = 0x80;
    g_assert_cmpint(rtp_opus_has_fec(p, 3), ==, 0);
    p[1] = 0x40;
    g_assert_cmpint(rtp_opus_has_fec(p, 3), ==, 1);
    /* 40 ms (two SILK frames): VAD VAD LBRR */
    p[0] = 2 << 3;
    p[1] = 0x20;
    g_assert_cmpint(rtp_opus_has_fec(p, 3), ==, 1);
    p[1] = 0xc0;
    g_assert_cmpint(rtp_opus_has_fec(p, 3), ==, 0);
    /* 60 ms: three VAD flags, LBRR at bit 4 */
    p[0] = 3 << 3;
    p[1] = 0x10;
    g_assert_cmpint(rtp_opus_has_fec(p, 3), ==, 1);
    p[1] = 0xe0;
    g_assert_cmpint(rtp_opus_has_fec(p, 3), ==, 0);
    /* stereo 20 ms: mid VAD, mid LBRR, side VAD, side LBRR */
    p[0] = 0x48 | 4;
    p[1] = 0x10;
    g_assert_cmpint(rtp_opus_has_fec(p, 3), ==, 1);
    p[1] = 0xa0;
    g_assert_cmpint(rtp_opus_has_fec(p, 3), ==, 0);
    /* hybrid 20 ms uses SILK too */
    p[0] = 13 << 3;
    p[1] = 0x40;
    g_assert_cmpint(rtp_opus_has_fec(p, 3), ==, 1);
    /* CELT-only never carries LBRR */
    p[0] = 31 << 3;
    p[1] = 0xff;
    g_assert_cmpint(rtp_opus_has_fec(p, 3), ==, 0);
    /* empty first frame (DTX) */
    p[0] = 0x48;
    g_assert_cmpint(rtp_opus_has_fec(p, 1), ==, 0);
    /* malformed */
    g_assert_cmpint(rtp_opus_has_fec(p, 0), ==, RTP_ERR_TRUNCATED);
}

#ifdef HAVE_OPUS
/* Encodes 4 s of a voice-like signal at 24 kb/s (libopus 1.3 codes
 * LBRR only from about 20 kb/s up at this loss percentage); returns how many
 * packets carry the LBRR flag, cross-checking durations and frame counts. */
static int encode_count_fec(bool fec, int *packets)
{
    int err;
    OpusEncoder *enc =
        opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
    opus_int16 pcm[960];
    unsigned char out[1500];
    int with = 0;

    g_assert_cmpint(err, ==, OPUS_OK);
    opus_encoder_ctl(enc, OPUS_SET_BITRATE(24000));
    opus_encoder_ctl(enc, OPUS_SET_INBAND_FEC(fec ? 1 : 0));
    opus_encoder_ctl(enc, OPUS_SET_PACKET_LOSS_PERC(20));
    opus_encoder_ctl(enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
    *packets = 0;
    for (int f = 0; f < 200; f++) {
        for (int i = 0; i < 960; i++) {
            double t = (f * 960 + i) / 48000.0;
            /* a vowel-ish harmonic stack, amplitude-modulated */
            double v = 0;
            for (int h = 1; h < 8; h++)
                v += sin(2 * G_PI * 140 * h * t) / h;
            v *= 0.5 + 0.5 * sin(2 * G_PI * 3 * t);
            pcm[i] = (opus_int16) (v * 6000);
        }
        int n = opus_encode(enc, pcm, 960, out, sizeof(out));
        g_assert_cmpint(n, >, 0);
        rtp_opus_info info;
        g_assert_cmpint(rtp_opus_parse(&info, out, (size_t) n), ==, RTP_OK);
        g_assert_cmpint(info.frame_count, ==,
                        opus_packet_get_nb_frames(out, n));
        g_assert_cmpint((int) info.samples, ==,
                        opus_packet_get_nb_samples(out, n, 48000));
        g_assert_cmpint(rtp_opus_samples(out, (size_t) n), ==, 960);
        int r = rtp_opus_has_fec(out, (size_t) n);
        g_assert_cmpint(r, >=, 0);
        with += r;
        (*packets)++;
    }
    opus_encoder_destroy(enc);
    return with;
}

static void test_real_encoder(void)
{
    int packets, on, off;

    on = encode_count_fec(true, &packets);
    off = encode_count_fec(false, &packets);
    g_test_message("libopus %s: %d of %d packets with LBRR (FEC on), %d "
                   "(FEC off)",
                   opus_get_version_string(), on, packets, off);
    g_assert_cmpint(off, ==, 0);
    g_assert_cmpint(on, >, packets / 2);
}
#endif

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/opus/toc-durations", test_toc_durations);
    g_test_add_func("/opus/packings", test_packings);
    g_test_add_func("/opus/fec-flag", test_fec_flag);
#ifdef HAVE_OPUS
    g_test_add_func("/opus/real-encoder", test_real_encoder);
#endif
    return g_test_run();
}
