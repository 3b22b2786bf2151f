/*
 * Unit tests of the jitter buffer, NACK generation and the
 * retransmission cache, driven by a deterministic simulation: a sender
 * packetizes synthetic VP8 frames (frame number and a pattern in the
 * bytes) at 30 fps into real RTP packets, keeps them in an rtp_rtx_cache
 * and answers RTCP NACK and PLI; a seeded network drops, delays and
 * reorders datagrams both ways; the receiver feeds an rtp_jb, sends the
 * NACKs and PLIs it asks for and checks every frame it releases (order,
 * bytes, keyframe rules). Time is simulated in 1 ms ticks.
 */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "playout.h"

#define TICK_US 1000
#define FRAME_US 33333
#define NET_CAP 8192
#define MTU 1200
#define MEDIA_SSRC 0x11223344u
#define RECV_SSRC 0x55667788u

/* ------------------------------------------------------------------------
 * A one-way network: datagrams with delivery times, seeded loss/jitter.
 */
typedef struct {
    int64_t at_us;
    uint64_t order;
    size_t len;
    uint8_t buf[MTU + 100];
} datagram;

typedef struct {
    datagram *q;
    size_t n;
    uint64_t sent;
    GRand *rand;
    double loss;       /* 0..1 */
    int64_t delay_us;  /* fixed one-way delay */
    int64_t jitter_us; /* extra uniform 0..jitter_us per datagram */
    int blackhole_seq; /* RTP seq never delivered (-1: none) */
    uint64_t dropped;
} net;

static void net_init(net *n, guint32 seed, double loss, int64_t delay_us,
                     int64_t jitter_us)
{
    memset(n, 0, sizeof(*n));
    n->q = g_new0(datagram, NET_CAP);
    n->rand = g_rand_new_with_seed(seed);
    n->loss = loss;
    n->delay_us = delay_us;
    n->jitter_us = jitter_us;
    n->blackhole_seq = -1;
}

static void net_clear(net *n)
{
    g_free(n->q);
    g_rand_free(n->rand);
}

static void net_send(net *n, const uint8_t *buf, size_t len, int64_t now_us)
{
    datagram *d;

    g_assert_cmpuint(len, <=, sizeof(n->q[0].buf));
    /* The very first datagram always arrives (the stream start). */
    if (n->loss > 0 && n->sent > 0 && g_rand_double(n->rand) < n->loss) {
        n->dropped++;
        return;
    }
    if (n->blackhole_seq >= 0 && len >= 12 && (buf[0] & 0xc0) == 0x80 &&
        buf[1] < 192 && ((buf[2] << 8) | buf[3]) == n->blackhole_seq)
        return;
    g_assert_cmpuint(n->n, <, NET_CAP);
    d = &n->q[n->n++];
    d->at_us = now_us + n->delay_us;
    if (n->jitter_us > 0)
        d->at_us += g_rand_int_range(n->rand, 0, (gint32) n->jitter_us + 1);
    d->order = n->sent++;
    d->len = len;
    memcpy(d->buf, buf, len);
}

static int cmp_dgram(const void *a, const void *b)
{
    const datagram *x = a, *y = b;

    if (x->at_us != y->at_us)
        return x->at_us < y->at_us ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Moves the datagrams due at @now into @out (sorted); returns count. */
static size_t net_receive(net *n, int64_t now_us, datagram *out, size_t cap)
{
    size_t k = 0, i = 0;

    while (i < n->n) {
        if (n->q[i].at_us <= now_us) {
            g_assert_cmpuint(k, <, cap);
            out[k++] = n->q[i];
            n->q[i] = n->q[--n->n];
        } else {
            i++;
        }
    }
    qsort(out, k, sizeof(out[0]), cmp_dgram);
    return k;
}

/* ------------------------------------------------------------------------
 * Synthetic frames: byte 0 = VP8 frame tag P bit, bytes 1..4 = frame
 * number, then a pattern derived from the number.
 */
static size_t make_frame(uint8_t *f, uint32_t number, bool key, GRand *r)
{
    size_t len = key ? 15000 : (size_t) g_rand_int_range(r, 800, 6000);

    for (size_t i = 5; i < len; i++)
        f[i] = (uint8_t) (number * 13 + i * 3);
    f[0] = key ? 0x10 : 0x11;
    f[1] = (uint8_t) (number >> 24);
    f[2] = (uint8_t) (number >> 16);
    f[3] = (uint8_t) (number >> 8);
    f[4] = (uint8_t) number;
    return len;
}

static uint32_t check_frame(const uint8_t *f, size_t len, bool key)
{
    uint32_t number;

    g_assert_cmpuint(len, >=, 800);
    number = ((uint32_t) f[1] << 24) | ((uint32_t) f[2] << 16) |
             ((uint32_t) f[3] << 8) | f[4];
    g_assert_cmpuint(len, ==, key ? 15000 : len);
    g_assert_true(((f[0] & 1) == 0) == key);
    for (size_t i = 5; i < len; i++)
        g_assert_cmpuint(f[i], ==, (uint8_t) (number * 13 + i * 3));
    return number;
}

/* ------------------------------------------------------------------------
 * The call.
 */
typedef struct {
    /* inputs */
    guint32 seed;
    double loss;
    int64_t delay_us, jitter_us;
    int64_t duration_us;
    int blackhole_frame; /* frame whose 2nd packet is never delivered */
    /* results */
    uint32_t frames_sent;
    uint32_t frames_delivered;
    uint32_t keyframes_sent;
    uint32_t plis_received;
    uint32_t nacks_received;
    uint32_t retransmissions;
    int64_t max_latency_us;
    int64_t sum_latency_us;
    int64_t loss_time_us; /* when the black-holed packet was sent */
    int64_t resume_us;    /* first keyframe released after it */
    uint32_t gap_frames;  /* frames skipped in delivery */
    rtp_jb_stats jb;
} sim;

static void run_call(sim *s)
{
    net fwd, back;
    rtp_jb_config cfg;
    rtp_jb *jb;
    rtp_rtx_cache *cache;
    GRand *sizes = g_rand_new_with_seed(s->seed ^ 0x5a5a);
    uint8_t *frame = g_malloc(20000);
    uint8_t *out = g_malloc(20000);
    datagram *due = g_new(datagram, NET_CAP);
    int64_t capture_us[4096];
    uint16_t seq = 65500; /* wraps early */
    uint32_t number = 0;
    uint32_t last_delivered = 0;
    bool delivered_any = false;
    bool want_key = true;
    bool prev_frame_lost = false;

    net_init(&fwd, s->seed, s->loss, s->delay_us, s->jitter_us);
    net_init(&back, s->seed + 1, s->loss, s->delay_us, s->jitter_us);
    rtp_jb_config_init(&cfg, RTP_JB_VP8);
    g_assert_cmpint(rtp_jb_new(&jb, &cfg), ==, RTP_OK);
    rtp_jb_set_rtt(jb, 2 * s->delay_us + s->jitter_us);
    g_assert_cmpint(rtp_rtx_cache_new(&cache, 1024, MTU + 100, 0), ==, RTP_OK);
    s->loss_time_us = -1;
    s->resume_us = -1;

    for (int64_t now = 0; now < s->duration_us; now += TICK_US) {
        /* Sender: capture and send a frame every 33.3 ms. */
        if (now >= (int64_t) number * FRAME_US && number < 4096) {
            bool key = want_key;
            size_t len = make_frame(frame, number, key, sizes);
            rtp_vp8_packetizer p;
            uint8_t payload[MTU];
            bool last = false;
            int n, k = 0;

            want_key = false;
            capture_us[number] = now;
            g_assert_cmpint(rtp_vp8_packetizer_init(&p, frame, len, key,
                                                    (uint16_t) number, NULL,
                                                    MTU - 12),
                            ==, RTP_OK);
            while ((n = rtp_vp8_packetizer_next(&p, payload, sizeof(payload),
                                                &last)) > 0) {
                rtp_packet rp;
                uint8_t dgram[MTU + 100];
                int len2;

                memset(&rp, 0, sizeof(rp));
                rp.payload_type = 96;
                rp.marker = last;
                rp.seq = seq++;
                rp.timestamp = 12345 + number * 3000;
                rp.ssrc = MEDIA_SSRC;
                rp.payload = payload;
                rp.payload_len = (size_t) n;
                len2 = rtp_build(dgram, sizeof(dgram), &rp);
                g_assert_cmpint(len2, >, 0);
                g_assert_cmpint(
                    rtp_rtx_cache_put(cache, rp.seq, dgram, (size_t) len2, now),
                    ==, RTP_OK);
                if ((int) number == s->blackhole_frame && k == 1) {
                    fwd.blackhole_seq = rp.seq;
                    s->loss_time_us = now;
                }
                net_send(&fwd, dgram, (size_t) len2, now);
                k++;
            }
            g_assert_cmpint(n, ==, 0);
            if (key)
                s->keyframes_sent++;
            number++;
        }

        /* Sender: RTCP from the receiver. */
        size_t nd = net_receive(&back, now, due, NET_CAP);
        for (size_t i = 0; i < nd; i++) {
            rtcp_iter it;
            rtcp_header h;
            g_assert_cmpint(rtcp_iter_init(&it, due[i].buf, due[i].len,
                                           RTCP_FLAG_REDUCED_SIZE),
                            ==, RTP_OK);
            while (rtcp_iter_next(&it, &h) == 1) {
                rtcp_fb fb;
                g_assert_cmpint(rtcp_fb_parse(&fb, &h), ==, RTP_OK);
                g_assert_cmpuint(fb.media_ssrc, ==, MEDIA_SSRC);
                if (h.pt == RTCP_PT_PSFB && fb.fmt == RTCP_FMT_PLI) {
                    s->plis_received++;
                    want_key = true;
                } else if (h.pt == RTCP_PT_RTPFB && fb.fmt == RTCP_FMT_NACK) {
                    uint16_t seqs[256];
                    size_t ns;
                    g_assert_cmpint(rtcp_nack_parse(&fb, seqs, 256, &ns), ==,
                                    RTP_OK);
                    s->nacks_received++;
                    for (size_t j = 0; j < ns; j++) {
                        const uint8_t *data;
                        size_t dlen;
                        if (rtp_rtx_cache_get(cache, seqs[j], now,
                                              2 * s->delay_us / 2, &data,
                                              &dlen) == RTP_OK) {
                            net_send(&fwd, data, dlen, now);
                            s->retransmissions++;
                        }
                    }
                }
            }
        }

        /* Receiver: media. */
        nd = net_receive(&fwd, now, due, NET_CAP);
        for (size_t i = 0; i < nd; i++) {
            rtp_packet rp;
            int rc;
            g_assert_cmpint(rtp_parse(&rp, due[i].buf, due[i].len), ==, RTP_OK);
            rc = rtp_jb_insert(jb, &rp, now);
            g_assert_cmpint(rc, >=, 0);
            g_assert_cmpint(rc, !=, RTP_JB_RESET);
        }
        {
            uint16_t seqs[64];
            size_t ns = rtp_jb_nack_collect(jb, now, seqs, G_N_ELEMENTS(seqs));
            uint8_t fb[512];
            if (ns > 0) {
                int len = rtcp_nack_build(fb, sizeof(fb), RECV_SSRC, MEDIA_SSRC,
                                          seqs, ns);
                g_assert_cmpint(len, >, 0);
                net_send(&back, fb, (size_t) len, now);
            }
            if (rtp_jb_keyframe_needed(jb, now)) {
                int len = rtcp_pli_build(fb, sizeof(fb), RECV_SSRC, MEDIA_SSRC);
                g_assert_cmpint(len, >, 0);
                net_send(&back, fb, (size_t) len, now);
            }
        }
        for (;;) {
            rtp_jb_frame f;
            uint32_t got;
            int rc = rtp_jb_pop(jb, now, &f, out, 20000);
            int64_t latency;

            g_assert_cmpint(rc, >=, 0);
            if (rc == 0)
                break;
            got = check_frame(out, f.len, f.keyframe);
            g_assert_cmpuint(f.timestamp, ==, 12345 + got * 3000);
            g_assert_cmpuint(f.picture_id, ==, got & 0x7fff);
            g_assert_true(f.playout_us <= now);
            if (delivered_any) {
                /* In order; a gap only up to a keyframe. */
                g_assert_cmpuint(got, >, last_delivered);
                if (got != last_delivered + 1) {
                    g_assert_true(f.keyframe);
                    s->gap_frames += got - last_delivered - 1;
                    prev_frame_lost = true;
                }
            } else {
                g_assert_true(f.keyframe);
                g_assert_cmpuint(got, ==, 0);
            }
            if (prev_frame_lost && f.keyframe && s->resume_us < 0 &&
                s->loss_time_us >= 0)
                s->resume_us = now;
            delivered_any = true;
            last_delivered = got;
            s->frames_delivered++;
            latency = now - capture_us[got];
            s->sum_latency_us += latency;
            if (latency > s->max_latency_us)
                s->max_latency_us = latency;
        }
    }
    s->frames_sent = number;
    rtp_jb_get_stats(jb, &s->jb);
    g_test_message(
        "loss %.0f%% jitter %" G_GINT64_FORMAT
        " ms: sent %u delivered %u, gaps %u, nacks %u, "
        "retransmissions %u, recovered %" G_GUINT64_FORMAT
        ", plis %u, latency avg %.1f ms max %.1f ms, target "
        "%.1f ms, jitter %.1f ms",
        s->loss * 100, s->jitter_us / 1000, s->frames_sent, s->frames_delivered,
        s->gap_frames, s->nacks_received, s->retransmissions,
        s->jb.packets_recovered, s->plis_received,
        s->frames_delivered ? s->sum_latency_us / 1000.0 / s->frames_delivered
                            : 0.0,
        s->max_latency_us / 1000.0, s->jb.target_delay_us / 1000.0,
        s->jb.jitter_us / 1000.0);
    rtp_jb_free(jb);
    rtp_rtx_cache_free(cache);
    net_clear(&fwd);
    net_clear(&back);
    g_rand_free(sizes);
    g_free(frame);
    g_free(out);
    g_free(due);
}

static void sim_defaults(sim *s, guint32 seed)
{
    memset(s, 0, sizeof(*s));
    s->seed = seed;
    s->delay_us = 20000;
    s->duration_us = 20 * G_USEC_PER_SEC;
    s->blackhole_frame = -1;
}

/* Frames released up to the end, allowing for those still in flight. */
static void assert_all_delivered(const sim *s)
{
    g_assert_cmpuint(s->gap_frames, ==, 0);
    g_assert_cmpuint(s->frames_delivered + 15, >=, s->frames_sent);
    g_assert_cmpuint(s->plis_received, ==, 0);
    g_assert_cmpuint(s->keyframes_sent, ==, 1);
    g_assert_cmpuint(s->jb.frames_dropped, ==, 0);
}

static void test_clean_path(void)
{
    sim s;

    sim_defaults(&s, 1);
    run_call(&s);
    assert_all_delivered(&s);
    g_assert_cmpuint(s.nacks_received, ==, 0);
    /* Target at its floor; one-way 20 ms + 5 ms + at most a tick. */
    g_assert_cmpint(s.jb.target_delay_us, ==, 5000);
    g_assert_cmpint(s.jb.jitter_us, <, 500);
    g_assert_cmpint(s.max_latency_us, <=, 20000 + 5000 + TICK_US);
}

static void test_loss(gconstpointer data)
{
    double loss = GPOINTER_TO_INT(data) / 100.0;

    for (guint32 seed = 10; seed < 13; seed++) {
        sim s;
        sim_defaults(&s, seed);
        s.loss = loss;
        s.jitter_us = 5000; /* and reordering */
        run_call(&s);
        assert_all_delivered(&s);
        g_assert_cmpuint(s.retransmissions, >, 0);
        g_assert_cmpuint(s.jb.packets_recovered, >, 0);
        /* Recovered frames wait a few RTTs at most, never for a
         * keyframe. */
        g_assert_cmpint(s.max_latency_us, <, 450000);
    }
}

static void test_unrecoverable(void)
{
    sim s;

    sim_defaults(&s, 3);
    s.blackhole_frame = 100;
    run_call(&s);
    g_assert_cmpint(s.loss_time_us, >=, 0);
    g_assert_cmpuint(s.plis_received, >=, 1);
    g_assert_cmpuint(s.keyframes_sent, >=, 2);
    g_assert_cmpint(s.resume_us, >, s.loss_time_us);
    /* Keyframe on screen within 1 s of the loss. */
    g_assert_cmpint(s.resume_us - s.loss_time_us, <, G_USEC_PER_SEC);
    g_assert_cmpuint(s.gap_frames, >, 0);
    g_assert_cmpuint(s.gap_frames, <, 30);
    g_assert_cmpuint(s.jb.keyframe_requests, >=, 1);
    /* Everything else arrived. */
    g_assert_cmpuint(s.frames_delivered + s.gap_frames + 15, >=, s.frames_sent);
    g_test_message("loss to keyframe: %.0f ms",
                   (s.resume_us - s.loss_time_us) / 1000.0);
}

static void test_adaptive_delay(void)
{
    sim clean, jittery;

    sim_defaults(&clean, 4);
    clean.duration_us = 10 * G_USEC_PER_SEC;
    run_call(&clean);
    sim_defaults(&jittery, 4);
    jittery.duration_us = 10 * G_USEC_PER_SEC;
    jittery.jitter_us = 40000;
    run_call(&jittery);
    g_assert_cmpint(clean.jb.target_delay_us, <=, 6000);
    g_assert_cmpint(jittery.jb.target_delay_us, >, 20000);
    g_assert_cmpint(jittery.jb.target_delay_us, <=, 500000);
    g_assert_cmpint(jittery.jb.jitter_us, >, 5000);
    /* Still no loss of frames, just more delay. */
    assert_all_delivered(&jittery);
}

/* ------------------------------------------------------------------------
 * Direct tests of insert/pop corner cases.
 */
static void put(rtp_jb *jb, uint16_t seq, uint32_t ts, bool marker,
                const uint8_t *payload, size_t len, int64_t now, int expect)
{
    rtp_packet p;

    memset(&p, 0, sizeof(p));
    p.seq = seq;
    p.timestamp = ts;
    p.marker = marker;
    p.payload = payload;
    p.payload_len = len;
    g_assert_cmpint(rtp_jb_insert(jb, &p, now), ==, expect);
}

static void test_insert_corner_cases(void)
{
    rtp_jb_config cfg;
    rtp_jb *jb;
    rtp_jb_frame f;
    uint8_t out[64];
    /* S=1 PID=0, 15-bit picture id 1, keyframe tag byte */
    uint8_t key[] = {0x90, 0x80, 0x80, 0x01, 0x10, 'k'};
    uint8_t delta2[] = {0x90, 0x80, 0x80, 0x02, 0x11, 'd'};
    uint8_t delta4[] = {0x90, 0x80, 0x80, 0x03, 0x11, 'e'};
    uint8_t bad[] = {0x80, 0x80}; /* X, I, picture id missing */
    uint8_t big[1501];

    memset(big, 0x10, sizeof(big));
    rtp_jb_config_init(&cfg, RTP_JB_VP8);
    cfg.slots = 64;
    g_assert_cmpint(rtp_jb_new(&jb, &cfg), ==, RTP_OK);
    put(jb, 100, 9000, true, key, sizeof(key), 0, RTP_JB_INSERTED);
    put(jb, 100, 9000, true, key, sizeof(key), 0, RTP_JB_DUPLICATE);
    put(jb, 101, 12000, true, bad, sizeof(bad), 0, RTP_ERR_INVALID);
    put(jb, 101, 12000, true, big, sizeof(big), 0, RTP_ERR_NOSPACE);
    /* 101 is an empty padding packet, then picture 2 at 102 */
    put(jb, 101, 12000, false, NULL, 0, 33000, RTP_JB_INSERTED);
    put(jb, 102, 12000, true, delta2, sizeof(delta2), 33000, RTP_JB_INSERTED);
    g_assert_cmpint(rtp_jb_pop(jb, 1000000, &f, out, sizeof(out)), ==, 1);
    g_assert_true(f.keyframe);
    g_assert_cmpuint(f.len, ==, 2);
    g_assert_cmpmem(out, 2, "\x10k", 2);
    g_assert_cmpint(rtp_jb_pop(jb, 1000000, &f, out, sizeof(out)), ==, 1);
    g_assert_false(f.keyframe);
    g_assert_cmpuint(f.first_seq, ==, 102);
    g_assert_cmpint(rtp_jb_pop(jb, 1000000, &f, out, sizeof(out)), ==, 0);
    /* Already released. */
    put(jb, 100, 9000, true, key, sizeof(key), 0, RTP_JB_TOO_OLD);
    /* Padding lost between pictures 2 and 3 (seq 103): the picture ids
     * prove no frame was lost, so no keyframe is needed. */
    put(jb, 104, 15000, true, delta4, sizeof(delta4), 66000, RTP_JB_INSERTED);
    g_assert_cmpint(rtp_jb_pop(jb, 1000000, &f, out, sizeof(out)), ==, 1);
    g_assert_cmpuint(f.first_seq, ==, 104);
    g_assert_false(rtp_jb_keyframe_needed(jb, 1000000));
    /* Buffer too small: frame dropped, keyframe needed. */
    delta4[3] = 4;
    put(jb, 105, 18000, true, delta4, sizeof(delta4), 99000, RTP_JB_INSERTED);
    g_assert_cmpint(rtp_jb_pop(jb, 1000000, &f, out, 1), ==, RTP_ERR_NOSPACE);
    g_assert_true(rtp_jb_keyframe_needed(jb, 1000000));
    /* ... and asked again only after pli_interval. */
    g_assert_false(rtp_jb_keyframe_needed(jb, 1000000 + 100000));
    g_assert_true(rtp_jb_keyframe_needed(jb, 1000000 + 500000));
    /* A jump past the pool restarts the buffer once 3 packets in a row
     * confirm the new numbering. */
    put(jb, 105 + 1000, 30000, true, key, sizeof(key), 120000,
        RTP_JB_PROBATION);
    put(jb, 105 + 1000, 30000, true, key, sizeof(key), 120000,
        RTP_JB_DUPLICATE);
    delta2[3] = 2;
    put(jb, 105 + 1001, 33000, true, delta2, sizeof(delta2), 153000,
        RTP_JB_PROBATION);
    delta4[3] = 3;
    put(jb, 105 + 1002, 36000, true, delta4, sizeof(delta4), 186000,
        RTP_JB_RESET);
    g_assert_cmpint(rtp_jb_pop(jb, 2000000, &f, out, sizeof(out)), ==, 1);
    g_assert_true(f.keyframe);
    g_assert_cmpuint(f.first_seq, ==, 105 + 1000);
    g_assert_cmpint(rtp_jb_pop(jb, 2000000, &f, out, sizeof(out)), ==, 1);
    g_assert_cmpuint(f.first_seq, ==, 105 + 1001);
    g_assert_cmpint(rtp_jb_pop(jb, 2000000, &f, out, sizeof(out)), ==, 1);
    g_assert_cmpuint(f.first_seq, ==, 105 + 1002);
    g_assert_false(rtp_jb_keyframe_needed(jb, 3000000));
    g_assert_cmpint(rtp_jb_next_wakeup(jb, 3000000), ==, INT64_MAX);
    rtp_jb_free(jb);
    rtp_jb_free(NULL);

    /* Bad configurations. */
    rtp_jb_config_init(&cfg, RTP_JB_VP8);
    cfg.slots = 100;
    g_assert_cmpint(rtp_jb_new(&jb, &cfg), ==, RTP_ERR_ARG);
    g_assert_null(jb);
    rtp_jb_config_init(&cfg, RTP_JB_VP8);
    cfg.version = 99;
    g_assert_cmpint(rtp_jb_new(&jb, &cfg), ==, RTP_ERR_ARG);
    rtp_jb_config_init(&cfg, RTP_JB_VP8);
    cfg.max_delay_us = 1;
    g_assert_cmpint(rtp_jb_new(&jb, &cfg), ==, RTP_ERR_ARG);
}

static void test_start_with_delta(void)
{
    rtp_jb_config cfg;
    rtp_jb *jb;
    rtp_jb_frame f;
    uint8_t out[64];
    uint8_t delta[] = {0x10, 0x11, 'd'};
    uint8_t key[] = {0x10, 0x10, 'k'};

    /* Joining a stream mid-way: delta frames cannot be decoded, the
     * buffer drops them and asks for a keyframe. */
    rtp_jb_config_init(&cfg, RTP_JB_VP8);
    g_assert_cmpint(rtp_jb_new(&jb, &cfg), ==, RTP_OK);
    put(jb, 1, 3000, true, delta, sizeof(delta), 0, RTP_JB_INSERTED);
    g_assert_cmpint(rtp_jb_pop(jb, 100000, &f, out, sizeof(out)), ==, 0);
    g_assert_true(rtp_jb_keyframe_needed(jb, 100000));
    put(jb, 2, 6000, true, key, sizeof(key), 33000, RTP_JB_INSERTED);
    g_assert_cmpint(rtp_jb_pop(jb, 200000, &f, out, sizeof(out)), ==, 1);
    g_assert_true(f.keyframe);
    g_assert_cmpuint(f.timestamp, ==, 6000);
    rtp_jb_free(jb);
}

static void test_late_tail_after_give_up(void)
{
    rtp_jb_config cfg;
    rtp_jb *jb;
    rtp_jb_frame f;
    uint8_t out[64];
    uint8_t key1[] = {0x90, 0x80, 0x80, 0x01, 0x10, 'a'};
    uint8_t d2a[] = {0x90, 0x80, 0x80, 0x02, 0x11, 'b'};
    uint8_t d2c[] = {0x80, 0x80, 0x80, 0x02, 'c'};
    uint8_t key3[] = {0x90, 0x80, 0x80, 0x03, 0x10, 'd'};

    rtp_jb_config_init(&cfg, RTP_JB_VP8);
    g_assert_cmpint(rtp_jb_new(&jb, &cfg), ==, RTP_OK);
    put(jb, 1, 3000, true, key1, sizeof(key1), 0, RTP_JB_INSERTED);
    g_assert_cmpint(rtp_jb_pop(jb, 10000, &f, out, sizeof(out)), ==, 1);
    /* picture 2 = seqs 2, 3, 4; 3 and 4 are late */
    put(jb, 2, 6000, false, d2a, sizeof(d2a), 33000, RTP_JB_INSERTED);
    g_assert_cmpint(rtp_jb_pop(jb, 33000 + 5000 + 299000, &f, out, sizeof(out)),
                    ==, 0);
    /* given up 300 ms after its playout time */
    g_assert_cmpint(rtp_jb_pop(jb, 33000 + 5000 + 300000, &f, out, sizeof(out)),
                    ==, 0);
    g_assert_true(rtp_jb_keyframe_needed(jb, 338000));
    /* its tail arrives now, then a keyframe: the tail is not waited for */
    put(jb, 4, 6000, true, d2c, sizeof(d2c), 340000, RTP_JB_INSERTED);
    put(jb, 5, 9000, true, key3, sizeof(key3), 341000, RTP_JB_INSERTED);
    g_assert_cmpint(rtp_jb_pop(jb, 341000, &f, out, sizeof(out)), ==, 1);
    g_assert_true(f.keyframe);
    g_assert_cmpuint(f.first_seq, ==, 5);
    put(jb, 3, 6000, false, d2c, sizeof(d2c), 342000, RTP_JB_TOO_OLD);
    rtp_jb_free(jb);
}

/* ------------------------------------------------------------------------
 * Sequence-number jumps: a stray far-ahead packet is dropped, a genuine
 * restart of the sender's numbering is followed.
 */
static void vp8_one(uint8_t *b, uint16_t pid, bool key)
{
    b[0] = 0x90; /* X, S=1, PID=0 */
    b[1] = 0x80; /* I */
    b[2] = (uint8_t) (0x80 | (pid >> 8));
    b[3] = (uint8_t) pid;
    b[4] = key ? 0x10 : 0x11;
    b[5] = 'x';
}

static void test_stray_jump(void)
{
    rtp_jb_config cfg;
    rtp_jb *jb;
    rtp_jb_frame f;
    rtp_jb_stats st;
    uint8_t out[64], b[6];
    uint16_t seq = 40000;
    uint16_t pid = 0;
    uint32_t ts = 1000;
    int64_t now = 0;
    int released = 0;

    rtp_jb_config_init(&cfg, RTP_JB_VP8);
    g_assert_cmpint(rtp_jb_new(&jb, &cfg), ==, RTP_OK);
    for (int i = 0; i < 300; i++) {
        /* one packet per frame, keyframe every 30 */
        vp8_one(b, pid, i % 30 == 0);
        put(jb, seq, ts, true, b, sizeof(b), now, RTP_JB_INSERTED);
        if (i == 50 || i == 120) {
            /* a stray far ahead of the stream, once alone and once as a
             * pair: held, then dropped when the stream goes on */
            put(jb, (uint16_t) (seq + 20000), ts + 5, true, b, sizeof(b), now,
                RTP_JB_PROBATION);
            if (i == 120)
                put(jb, (uint16_t) (seq + 20001), ts + 5, true, b, sizeof(b),
                    now, RTP_JB_PROBATION);
        }
        if (i == 200) /* and one far behind */
            put(jb, (uint16_t) (seq - 9000), ts, true, b, sizeof(b), now,
                RTP_JB_PROBATION);
        while (rtp_jb_pop(jb, now, &f, out, sizeof(out)) == 1) {
            g_assert_cmpuint(f.first_seq, ==, (uint16_t) (40000 + released));
            released++;
        }
        seq++;
        pid = (pid + 1) & 0x7FFF;
        ts += 3000;
        now += 33333;
    }
    while (rtp_jb_pop(jb, now + 1000000, &f, out, sizeof(out)) == 1)
        released++;
    g_assert_cmpint(released, ==, 300);
    rtp_jb_get_stats(jb, &st);
    g_assert_cmpuint(st.packets_stray, ==, 4);
    g_assert_cmpuint(st.restarts, ==, 0);
    g_assert_cmpuint(st.frames_dropped, ==, 0);
    g_assert_false(rtp_jb_keyframe_needed(jb, now));

    /* Genuine restart: the sender jumps by 20000 and goes on (its first
     * frame a keyframe). Frames keep coming on the new numbering. */
    seq = (uint16_t) (seq + 20000);
    released = 0;
    for (int i = 0; i < 60; i++) {
        int expect = i < 2    ? RTP_JB_PROBATION
                     : i == 2 ? RTP_JB_RESET
                              : RTP_JB_INSERTED;
        vp8_one(b, pid, i % 30 == 0);
        put(jb, seq, ts, true, b, sizeof(b), now, expect);
        while (rtp_jb_pop(jb, now, &f, out, sizeof(out)) == 1) {
            if (released == 0)
                g_assert_true(f.keyframe);
            released++;
        }
        seq++;
        pid = (pid + 1) & 0x7FFF;
        ts += 3000;
        now += 33333;
    }
    while (rtp_jb_pop(jb, now + 1000000, &f, out, sizeof(out)) == 1)
        released++;
    g_assert_cmpint(released, ==, 60);
    rtp_jb_get_stats(jb, &st);
    g_assert_cmpuint(st.restarts, ==, 1);
    g_assert_cmpuint(st.packets_stray, ==, 4);
    rtp_jb_free(jb);
}

static void test_stray_jump_audio(void)
{
    rtp_jb_config cfg;
    rtp_jb *jb;
    rtp_jb_frame f;
    rtp_jb_stats st;
    uint8_t out[64];
    uint8_t pkt[] = {0x48, 0x80, 0x12, 0x34};
    uint16_t seq = 7;
    uint32_t ts = 0;
    int64_t now = 0;
    int released = 0;

    rtp_jb_config_init(&cfg, RTP_JB_OPUS);
    g_assert_cmpint(rtp_jb_new(&jb, &cfg), ==, RTP_OK);
    for (int i = 0; i < 200; i++) {
        put(jb, seq, ts, false, pkt, sizeof(pkt), now, RTP_JB_INSERTED);
        if (i == 100)
            put(jb, (uint16_t) (seq + 30000), ts, false, pkt, sizeof(pkt), now,
                RTP_JB_PROBATION);
        while (rtp_jb_pop(jb, now, &f, out, sizeof(out)) == 1) {
            g_assert_false(f.lost);
            released++;
        }
        seq++;
        ts += 960;
        now += 20000;
    }
    while (rtp_jb_pop(jb, now + 1000000, &f, out, sizeof(out)) == 1) {
        g_assert_false(f.lost);
        released++;
    }
    g_assert_cmpint(released, ==, 200);
    rtp_jb_get_stats(jb, &st);
    g_assert_cmpuint(st.packets_stray, ==, 1);
    rtp_jb_free(jb);
}

/* ------------------------------------------------------------------------
 * Audio: one Opus packet per frame, lost packets reported in place.
 */
static void test_audio(void)
{
    rtp_jb_config cfg;
    rtp_jb *jb;
    GRand *r = g_rand_new_with_seed(7);
    /* SILK WB 20 ms mono (config 9, code 0); frame byte: VAD=1, LBRR=1 */
    uint8_t fec_pkt[] = {0x48, 0xc0, 0x12, 0x34};
    uint8_t plain_pkt[] = {0x48, 0x80, 0x12, 0x34};
    bool sent[600];
    uint32_t expect_ts = 0;
    int lost = 0, lost_reported = 0, fec_reported = 0, delivered = 0;
    int64_t arrival[600];

    rtp_jb_config_init(&cfg, RTP_JB_OPUS);
    g_assert_cmpint(rtp_jb_new(&jb, &cfg), ==, RTP_OK);
    /* 12 s of 20 ms packets, 5% loss (never the first), jitter 0..10 ms,
     * no retransmission. Packets are inserted in arrival order. */
    for (int i = 0; i < 600; i++) {
        sent[i] = i == 0 || g_rand_double(r) >= 0.05;
        arrival[i] = i * 20000 + 30000 + g_rand_int_range(r, 0, 10001);
        if (!sent[i])
            lost++;
    }
    int order[600];
    for (int i = 0; i < 600; i++)
        order[i] = i;
    for (int i = 1; i < 600; i++) { /* insertion sort by arrival */
        int v = order[i], j = i - 1;
        while (j >= 0 && arrival[order[j]] > arrival[v]) {
            order[j + 1] = order[j];
            j--;
        }
        order[j + 1] = v;
    }
    int next = 0;
    for (int64_t now = 0; now < 12500000; now += 1000) {
        while (next < 600 && arrival[order[next]] <= now) {
            int i = order[next++];
            if (sent[i]) {
                rtp_packet p;
                memset(&p, 0, sizeof(p));
                p.seq = (uint16_t) (60000 + i);
                p.timestamp = (uint32_t) (i * 960);
                p.payload = (i % 2) ? fec_pkt : plain_pkt;
                p.payload_len = sizeof(fec_pkt);
                g_assert_cmpint(rtp_jb_insert(jb, &p, now), ==,
                                RTP_JB_INSERTED);
            }
        }
        rtp_jb_frame f;
        uint8_t out[16];
        int rc;
        while ((rc = rtp_jb_pop(jb, now, &f, out, sizeof(out))) == 1) {
            int i = (int) (f.timestamp / 960);
            g_assert_cmpuint(f.timestamp, ==, expect_ts);
            g_assert_cmpuint(f.first_seq, ==, (uint16_t) (60000 + i));
            g_assert_true(f.lost == !sent[i]);
            if (f.lost) {
                lost_reported++;
                /* the next packet carries FEC when it is odd and held */
                if (f.fec_available) {
                    fec_reported++;
                    g_assert_true((i + 1) % 2 == 1 && sent[i + 1]);
                }
            } else {
                g_assert_cmpuint(f.len, ==, 4);
                delivered++;
            }
            expect_ts += 960;
        }
        g_assert_cmpint(rc, ==, 0);
    }
    rtp_jb_stats st;
    rtp_jb_get_stats(jb, &st);
    g_test_message("audio: %d delivered, %d lost (%d with FEC), target %.1f "
                   "ms, jitter %.1f ms",
                   delivered, lost_reported, fec_reported,
                   st.target_delay_us / 1000.0, st.jitter_us / 1000.0);
    /* Every packet accounted for, in order, nothing late. */
    g_assert_cmpint(lost_reported, ==, lost);
    g_assert_cmpint(delivered + lost_reported, ==, 600);
    g_assert_cmpint(fec_reported, >, 0);
    g_assert_cmpuint(st.packets_lost, ==, (guint64) lost);
    g_assert_cmpint(st.target_delay_us, >=, 20000);
    g_assert_cmpint(st.target_delay_us, <, 60000);
    g_assert_false(rtp_jb_keyframe_needed(jb, 0));
    rtp_jb_free(jb);
    g_rand_free(r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/jitter/clean-path", test_clean_path);
    g_test_add_data_func("/jitter/loss-5", GINT_TO_POINTER(5), test_loss);
    g_test_add_data_func("/jitter/loss-10", GINT_TO_POINTER(10), test_loss);
    g_test_add_func("/jitter/unrecoverable", test_unrecoverable);
    g_test_add_func("/jitter/adaptive-delay", test_adaptive_delay);
    g_test_add_func("/jitter/corner-cases", test_insert_corner_cases);
    g_test_add_func("/jitter/start-with-delta", test_start_with_delta);
    g_test_add_func("/jitter/late-tail", test_late_tail_after_give_up);
    g_test_add_func("/jitter/audio", test_audio);
    g_test_add_func("/jitter/stray-jump", test_stray_jump);
    g_test_add_func("/jitter/stray-jump-audio", test_stray_jump_audio);
    return g_test_run();
}
