/*
 * srtp-cost.c — per-packet cost of our SRTP send + receive path versus raw
 * libsrtp2 on the same packets, in one process, no sockets.
 *
 * "Ours" is what transport_send() and the receive path in
 * libvid/transport/transport.c do per RTP packet: the RFC 7983
 * classification (rtp_demux_classify()), the copy into the send buffer,
 * srtp_session_protect() and the key-limit event check; then on the far side
 * the classification, the copy into the receive buffer,
 * srtp_session_unprotect() and the event check. "Raw" is srtp_protect() +
 * srtp_unprotect() on a copy of the same packet with the same libsrtp policy
 * (profile, replay window). Both sender/receiver pairs are keyed with the same
 * random keys and advance the sequence number and timestamp by one packet each
 * time.
 *
 * Noise control: time is the thread's CPU time (CLOCK_THREAD_CPUTIME_ID),
 * so preemption by other processes does not count; batches of each
 * variant are interleaved (ours, raw, raw, ours, ...) within a repetition,
 * the median batch is taken per repetition, and the minimum of those
 * medians over the repetitions is reported.
 *
 * Output: one line per case,
 *   srtp <profile> <bytes> ours_ns=<x> raw_ns=<y> ratio=<x/y>
 * Exit status 1 if a packet did not round-trip (never a timing verdict).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>
#include <srtp2/srtp.h>

#include "rtp.h" /* rtp_demux_classify(): the RFC 7983 classifier */
#include "transport-private.h"

#define MAX_PKT 1500

typedef struct {
    const char *name;
    dtls_srtp_profile profile;
} profile_case;

static const profile_case profiles[] = {
    {"AEAD_AES_128_GCM", DTLS_SRTP_AEAD_AES_128_GCM},
    {"AES_CM_128_HMAC_SHA1_80", DTLS_SRTP_AES128_CM_SHA1_80},
};

/* The replay window our receive policy uses (libvid/transport/srtp.c). */
static unsigned long replay_window = 1024;

typedef struct {
    uint8_t src[MAX_PKT];
    size_t len;
    uint16_t seq;
    uint32_t ts;
} packet_gen;

static void gen_init(packet_gen *g, size_t len, uint8_t pt, uint32_t ssrc)
{
    memset(g, 0, sizeof *g);
    g->len = len;
    g->src[0] = 0x80;
    g->src[1] = pt;
    g->src[8] = (uint8_t) (ssrc >> 24);
    g->src[9] = (uint8_t) (ssrc >> 16);
    g->src[10] = (uint8_t) (ssrc >> 8);
    g->src[11] = (uint8_t) ssrc;
    for (size_t i = 12; i < len; i++)
        g->src[i] = (uint8_t) (i * 7 + 3);
    g->seq = 1000;
    g->ts = 5000;
}

static void gen_next(packet_gen *g)
{
    g->seq++;
    g->ts += 960;
    g->src[2] = (uint8_t) (g->seq >> 8);
    g->src[3] = (uint8_t) g->seq;
    g->src[4] = (uint8_t) (g->ts >> 24);
    g->src[5] = (uint8_t) (g->ts >> 16);
    g->src[6] = (uint8_t) (g->ts >> 8);
    g->src[7] = (uint8_t) g->ts;
}

/* ---- ours: the transport's path ---- */

typedef struct {
    srtp_session *snd, *rcv;
    packet_gen gen;
    uint8_t sendbuf[MAX_PKT + SRTP_SESSION_TRAILER];
    uint8_t recvbuf[MAX_PKT + SRTP_SESSION_TRAILER];
    uint64_t delivered, failed;
} ours_state;

static void ours_one(ours_state *o)
{
    gen_next(&o->gen);
    const uint8_t *buf = o->gen.src;
    size_t len = o->gen.len;
    /* transport_send() */
    rtp_dgram_kind k = rtp_demux_classify(buf, len);
    if (k != RTP_DGRAM_RTP && k != RTP_DGRAM_RTCP) {
        o->failed++;
        return;
    }
    bool rtcp = k == RTP_DGRAM_RTCP;
    memcpy(o->sendbuf, buf, len);
    size_t n = len;
    int rc =
        srtp_session_protect(o->snd, rtcp, o->sendbuf, &n, sizeof o->sendbuf);
    unsigned ev = srtp_session_take_events(o->snd);
    if (rc != 0 || ev != 0) {
        o->failed++;
        return;
    }
    /* receive() on the far side, with the datagram ICE handed over */
    rtp_dgram_kind kind = rtp_demux_classify(o->sendbuf, n);
    switch (kind) {
    case RTP_DGRAM_RTP:
    case RTP_DGRAM_RTCP:
        break;
    default:
        o->failed++;
        return;
    }
    bool in_rtcp = kind == RTP_DGRAM_RTCP;
    memcpy(o->recvbuf, o->sendbuf, n);
    size_t m = n;
    srtp_session_verdict v =
        srtp_session_unprotect(o->rcv, in_rtcp, o->recvbuf, &m);
    ev = srtp_session_take_events(o->rcv);
    if (v != SRTP_SESSION_OK || ev != 0 || m != len) {
        o->failed++;
        return;
    }
    o->delivered++;
}

/* ---- raw libsrtp2 ---- */

typedef struct {
    srtp_t snd, rcv;
    packet_gen gen;
    uint8_t buf[MAX_PKT + SRTP_MAX_TRAILER_LEN];
    uint64_t delivered, failed;
} raw_state;

static void raw_one(raw_state *r)
{
    gen_next(&r->gen);
    memcpy(r->buf, r->gen.src, r->gen.len);
    int n = (int) r->gen.len;
    if (srtp_protect(r->snd, r->buf, &n) != srtp_err_status_ok) {
        r->failed++;
        return;
    }
    if (srtp_unprotect(r->rcv, r->buf, &n) != srtp_err_status_ok ||
        n != (int) r->gen.len) {
        r->failed++;
        return;
    }
    r->delivered++;
}

static int raw_create(srtp_t *out, dtls_srtp_profile profile, uint8_t *key,
                      bool outbound)
{
    srtp_policy_t pol;
    memset(&pol, 0, sizeof pol);
    if (profile == DTLS_SRTP_AEAD_AES_128_GCM) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
    } else {
        srtp_crypto_policy_set_rtp_default(&pol.rtp);
        srtp_crypto_policy_set_rtcp_default(&pol.rtcp);
    }
    pol.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
    pol.key = key;
    pol.window_size = outbound ? 0 : replay_window;
    return srtp_create(out, &pol) == srtp_err_status_ok ? 0 : -1;
}

/* ---- timing ---- */

/* The thread's CPU time, not wall time: on a loaded machine a batch that
 * is preempted would otherwise count the other process's time. */
static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

typedef struct {
    unsigned reps, batches, batch;
} plan;

static int run_case(const profile_case *pc, size_t bytes, const plan *p,
                    double *ours_ns, double *raw_ns)
{
    size_t kl, sl;
    if (srtp_session_material_len(pc->profile, &kl, &sl) != 0)
        return -1;
    uint8_t k1[SRTP_SESSION_MAX_KEY_SALT], k2[SRTP_SESSION_MAX_KEY_SALT];
    for (size_t i = 0; i < sizeof k1; i++) {
        k1[i] = (uint8_t) g_random_int();
        k2[i] = (uint8_t) g_random_int();
    }
    uint8_t pt = bytes <= 200 ? 111 : 96;
    ours_state *o = g_new0(ours_state, 1);
    raw_state *r = g_new0(raw_state, 1);
    gen_init(&o->gen, bytes, pt, 0x11223344);
    gen_init(&r->gen, bytes, pt, 0x11223344);
    int rc = -1;
    /* Sender keyed with k1, receiver's inbound key k1 (tx/rx swapped). */
    if (srtp_session_new(&o->snd, pc->profile, k1, k2, kl + sl) != 0 ||
        srtp_session_new(&o->rcv, pc->profile, k2, k1, kl + sl) != 0 ||
        raw_create(&r->snd, pc->profile, k1, true) != 0 ||
        raw_create(&r->rcv, pc->profile, k1, false) != 0) {
        fprintf(stderr, "srtp-cost: could not create SRTP contexts for %s\n",
                pc->name);
        goto out;
    }
    /* Warm up (and check both round-trip). */
    for (unsigned i = 0; i < p->batch; i++) {
        ours_one(o);
        raw_one(r);
    }
    double *om = g_new(double, p->reps), *rm = g_new(double, p->reps);
    double *ob = g_new(double, p->batches), *rb = g_new(double, p->batches);
    for (unsigned rep = 0; rep < p->reps; rep++) {
        for (unsigned b = 0; b < p->batches; b++) {
            /* alternate which goes first */
            for (int which = 0; which < 2; which++) {
                bool do_ours = (which == 0) == (b % 2 == 0);
                double t0 = now_ns();
                if (do_ours)
                    for (unsigned i = 0; i < p->batch; i++)
                        ours_one(o);
                else
                    for (unsigned i = 0; i < p->batch; i++)
                        raw_one(r);
                double dt = (now_ns() - t0) / p->batch;
                if (do_ours)
                    ob[b] = dt;
                else
                    rb[b] = dt;
            }
        }
        om[rep] = median(ob, p->batches);
        rm[rep] = median(rb, p->batches);
    }
    *ours_ns = om[0];
    *raw_ns = rm[0];
    for (unsigned rep = 1; rep < p->reps; rep++) {
        if (om[rep] < *ours_ns)
            *ours_ns = om[rep];
        if (rm[rep] < *raw_ns)
            *raw_ns = rm[rep];
    }
    g_free(om);
    g_free(rm);
    g_free(ob);
    g_free(rb);
    if (o->failed != 0 || r->failed != 0) {
        fprintf(stderr,
                "srtp-cost: %s %zu B: %" G_GUINT64_FORMAT
                " of our packets and %" G_GUINT64_FORMAT
                " raw ones did not round-trip\n",
                pc->name, bytes, o->failed, r->failed);
        goto out;
    }
    rc = 0;
out:
    srtp_session_free(o->snd);
    srtp_session_free(o->rcv);
    if (r->snd != NULL)
        srtp_dealloc(r->snd);
    if (r->rcv != NULL)
        srtp_dealloc(r->rcv);
    g_free(o);
    g_free(r);
    return rc;
}

static int parse_uint(const char *s, unsigned *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v == 0 || v > 100000000)
        return -1;
    *out = (unsigned) v;
    return 0;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: srtp-cost [--reps N] [--batches N] [--batch N] "
            "[--quick]\n"
            "  --reps N     repetitions; min of their medians (default 7)\n"
            "  --batches N  batches per variant per repetition (default 11)\n"
            "  --batch N    packets per batch (default 5000)\n"
            "  --quick      --reps 3 --batches 5 --batch 1000\n");
}

int main(int argc, char **argv)
{
    plan p = {7, 11, 5000};
    for (int i = 1; i < argc; i++) {
        unsigned *dst = NULL;
        if (strcmp(argv[i], "--reps") == 0)
            dst = &p.reps;
        else if (strcmp(argv[i], "--batches") == 0)
            dst = &p.batches;
        else if (strcmp(argv[i], "--batch") == 0)
            dst = &p.batch;
        else if (strcmp(argv[i], "--quick") == 0) {
            p = (plan){3, 5, 1000};
            continue;
        } else {
            usage();
            return 2;
        }
        if (i + 1 >= argc || parse_uint(argv[i + 1], dst) != 0) {
            fprintf(stderr, "srtp-cost: %s needs a positive integer\n",
                    argv[i]);
            return 2;
        }
        i++;
    }
    if (srtp_session_global_init() != 0) {
        fprintf(stderr, "srtp-cost: srtp_init failed\n");
        return 1;
    }
    printf("# srtp-cost: %u reps x %u batches x %u packets per variant; "
           "CPU ns per packet (protect + unprotect), min of per-rep medians\n",
           p.reps, p.batches, p.batch);
    const size_t sizes[] = {1200, 160};
    int status = 0;
    for (size_t pi = 0; pi < G_N_ELEMENTS(profiles); pi++) {
        for (size_t si = 0; si < G_N_ELEMENTS(sizes); si++) {
            double ours, raw;
            if (run_case(&profiles[pi], sizes[si], &p, &ours, &raw) != 0) {
                status = 1;
                continue;
            }
            printf("srtp %s %zu ours_ns=%.1f raw_ns=%.1f ratio=%.3f\n",
                   profiles[pi].name, sizes[si], ours, raw, ours / raw);
            fflush(stdout);
        }
    }
    return status;
}
