/*
 * transport-setup.c — time from offer to DTLS connected on loopback:
 * two libvid transports with our SDP offer/answer, versus two GStreamer
 * webrtcbin elements (bundle-policy=max-bundle), in the same process and
 * the same run, alternating.
 *
 * Ours: t0 just before the offerer's transport_new(); the offer and answer
 * are built, formatted and parsed with libvid/sdp, the transports gather
 * after their description is made and trickle candidates to each other
 * (queued until the far side has the remote description); the time ends
 * when both transports are SECURE (DTLS done, fingerprints checked, SRTP
 * keyed). Certificates exist before t0 (a device identity is persistent).
 *
 * webrtcbin: both elements are built, given a sendrecv audio (OPUS) and
 * video (VP8) transceiver and set PLAYING before t0; t0 is just before
 * "create-offer"; offer/answer go through set-local/remote-description
 * and candidates through "add-ice-candidate", all in process; the time
 * ends when both elements' "connection-state" is CONNECTED (ICE connected
 * and DTLS connected). UPnP is off on their libnice agents.
 *
 * Both gather host candidates (UDP and TCP) on 127.0.0.1 only (for
 * webrtcbin through nice_agent_add_local_address() on its agent;
 * --webrtcbin-all-interfaces lets it use every interface instead, as it
 * does by default). The first run of each is a warm-up and not counted
 * (libsrtp's self-tests, GStreamer plugin loading, certificate creation).
 *
 * Output: one line per run with --verbose, then
 *   setup ours n=<n> median_ms=<x> p90_ms=<y> ice_median_ms=<z>
 *   setup webrtcbin n=<n> median_ms=<x> p90_ms=<y> ice_median_ms=<z>
 *   setup ratio=<ours median / webrtcbin median>
 * Exit status 77 when webrtcbin or libnice's GStreamer elements are
 * missing, 1 when a run fails to connect.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <nice/agent.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "bench-common.h"
#include "sdp.h"
#include "transport.h"

#define RUN_TIMEOUT_US (10 * G_USEC_PER_SEC)
#define AUDIO_SSRC 0x0A0D1000u
#define VIDEO_SSRC 0x0B1D2000u

static bool verbose;
static bool webrtcbin_all_interfaces;

/* ====================================================================== */
/* Ours */

typedef struct ours_peer ours_peer;
struct ours_peer {
    transport *t;
    ours_peer *other;
    X509 *cert;
    EVP_PKEY *key;
    transport_state state;
    gint64 t_connected, t_secure;
    bool remote_set;   /* has the remote description (creds, fingerprint) */
    GPtrArray *queued; /* our candidates waiting for the far side; NULL
                        * entry = end-of-candidates */
};

static void deliver_candidate(ours_peer *to, const char *cand)
{
    if (cand == NULL)
        (void) transport_remote_candidates_done(to->t);
    else if (transport_add_remote_candidate(to->t, cand) != 0)
        fprintf(stderr, "transport-setup: candidate refused: %s\n", cand);
}

static void on_candidate(transport *t, const char *cand, void *ud)
{
    ours_peer *p = ud;
    (void) t;
    if (p->other->t != NULL && p->other->remote_set)
        deliver_candidate(p->other, cand);
    else
        g_ptr_array_add(p->queued, cand ? g_strdup(cand) : NULL);
}

static void on_state(transport *t, transport_state st, void *ud)
{
    ours_peer *p = ud;
    (void) t;
    p->state = st;
    if (st == TRANSPORT_STATE_CONNECTED && p->t_connected == 0)
        p->t_connected = g_get_monotonic_time();
    if (st == TRANSPORT_STATE_SECURE)
        p->t_secure = g_get_monotonic_time();
}

/* The far side @p now has our description: flush what we queued. */
static void remote_ready(ours_peer *p)
{
    p->remote_set = true;
    ours_peer *o = p->other;
    for (guint i = 0; i < o->queued->len; i++)
        deliver_candidate(p, g_ptr_array_index(o->queued, i));
    g_ptr_array_set_size(o->queued, 0);
}

static const char *const loopback[] = {"127.0.0.1", NULL};

static int ours_new(ours_peer *p, GMainContext *ctx, bool offerer)
{
    transport_config cfg = TRANSPORT_CONFIG_INIT;
    cfg.context = ctx;
    cfg.controlling = offerer;
    cfg.dtls_client = !offerer; /* answer says a=setup:active */
    cfg.cert = p->cert;
    cfg.key = p->key;
    cfg.local_addresses = loopback;
    cfg.on_candidate = on_candidate;
    cfg.on_state = on_state;
    cfg.user_data = p;
    return transport_new(&p->t, &cfg);
}

static int local_desc(ours_peer *p, sdp_local *l)
{
    *l = (sdp_local) SDP_LOCAL_INIT;
    char u[300], pw[300];
    if (transport_get_local_credentials(p->t, u, sizeof u, pw, sizeof pw) != 0)
        return -1;
    g_strlcpy(l->ice_ufrag, u, sizeof l->ice_ufrag);
    g_strlcpy(l->ice_pwd, pw, sizeof l->ice_pwd);
    unsigned int n = 0;
    if (X509_digest(p->cert, EVP_sha256(), l->fingerprint, &n) != 1 ||
        n != SDP_FINGERPRINT_LEN)
        return -1;
    l->audio_ssrc = AUDIO_SSRC ^ (uint32_t) (uintptr_t) p;
    l->video_ssrc = VIDEO_SSRC ^ (uint32_t) (uintptr_t) p;
    g_strlcpy(l->cname, "vidbench", sizeof l->cname);
    return 0;
}

static int take_remote(ours_peer *p, const sdp_description *d)
{
    char fp[8 + SDP_FINGERPRINT_LEN * 3];
    sdp_fingerprint_format(d->fingerprint, fp);
    if (transport_set_remote_credentials(p->t, d->ice_ufrag, d->ice_pwd) != 0 ||
        transport_set_remote_fingerprints(p->t, fp, fp) != 0)
        return -1;
    remote_ready(p);
    return 0;
}

static gboolean flag_timeout(gpointer ud)
{
    *(bool *) ud = true;
    return G_SOURCE_REMOVE;
}

/* One run; *ms and *ice_ms get offer -> both SECURE / both CONNECTED. */
static int run_ours(GMainContext *ctx, ours_peer *a, ours_peer *b, double *ms,
                    double *ice_ms)
{
    sdp_description *offer = NULL, *roffer = NULL, *answer = NULL,
                    *ranswer = NULL;
    char *otext = NULL, *atext = NULL;
    sdp_error err = {0};
    sdp_local la, lb;
    int rc = -1;
    bool timed_out = false;
    GSource *timer = NULL;
    a->state = b->state = TRANSPORT_STATE_NEW;
    a->t_connected = b->t_connected = a->t_secure = b->t_secure = 0;
    a->remote_set = b->remote_set = false;
    g_ptr_array_set_size(a->queued, 0);
    g_ptr_array_set_size(b->queued, 0);

    gint64 t0 = g_get_monotonic_time();
    /* Offerer: transport, offer, gather (trickle). */
    if (ours_new(a, ctx, true) != 0 || local_desc(a, &la) != 0 ||
        sdp_offer_new(&offer, &la, &err) != SDP_OK ||
        sdp_format(offer, &otext, &err) != SDP_OK ||
        transport_gather(a->t) != 0)
        goto out;
    /* Answerer: parse the offer, transport, answer, gather. */
    if (sdp_parse_offer(&roffer, otext, strlen(otext), &err) != SDP_OK ||
        ours_new(b, ctx, false) != 0 || take_remote(b, roffer) != 0 ||
        local_desc(b, &lb) != 0 ||
        sdp_answer_new(&answer, roffer, &lb, &err) != SDP_OK ||
        sdp_format(answer, &atext, &err) != SDP_OK ||
        transport_gather(b->t) != 0)
        goto out;
    /* Offerer: the answer decides its DTLS role. */
    if (sdp_parse_answer(&ranswer, atext, strlen(atext), offer, &err) !=
            SDP_OK ||
        transport_set_dtls_client(a->t, ranswer->setup == SDP_SETUP_PASSIVE) !=
            0 ||
        take_remote(a, ranswer) != 0)
        goto out;

    timer = g_timeout_source_new(RUN_TIMEOUT_US / 1000);
    g_source_set_callback(timer, flag_timeout, &timed_out, NULL);
    g_source_attach(timer, ctx);
    while (!(a->state == TRANSPORT_STATE_SECURE &&
             b->state == TRANSPORT_STATE_SECURE) &&
           a->state < TRANSPORT_STATE_FAILED &&
           b->state < TRANSPORT_STATE_FAILED && !timed_out)
        g_main_context_iteration(ctx, TRUE);
    if (a->state != TRANSPORT_STATE_SECURE ||
        b->state != TRANSPORT_STATE_SECURE) {
        fprintf(stderr, "transport-setup: ours not secure: %s (%s) / %s (%s)\n",
                transport_state_str(a->state),
                transport_failure_str(transport_get_failure(a->t)),
                transport_state_str(b->state),
                transport_failure_str(transport_get_failure(b->t)));
        goto out;
    }
    *ms = (double) (MAX(a->t_secure, b->t_secure) - t0) / 1000.0;
    *ice_ms = (double) (MAX(a->t_connected, b->t_connected) - t0) / 1000.0;
    rc = 0;
out:
    if (err.code != SDP_OK)
        fprintf(stderr, "transport-setup: sdp: %s: %s\n",
                sdp_status_name(err.code), err.message);
    if (timer != NULL) {
        g_source_destroy(timer);
        g_source_unref(timer);
    }
    transport_free(a->t);
    transport_free(b->t);
    a->t = b->t = NULL;
    /* let libnice finish closing its sockets */
    gint64 end = g_get_monotonic_time() + 30 * 1000;
    while (g_get_monotonic_time() < end)
        if (!g_main_context_iteration(ctx, FALSE))
            g_usleep(1000);
    g_free(otext);
    g_free(atext);
    sdp_description_free(offer);
    sdp_description_free(roffer);
    sdp_description_free(answer);
    sdp_description_free(ranswer);
    return rc;
}

/* ====================================================================== */
/* webrtcbin <-> webrtcbin */

typedef struct wb_run wb_run;
typedef struct {
    wb_run *run;
    GstElement *pipe, *webrtc;
    int idx; /* 0 offerer, 1 answerer */
} wb_peer;

struct wb_run {
    wb_peer p[2];
    wbpair pair;
    GMutex lock;
    GCond cond;
    gint64 t_conn[2], t_ice[2];
    bool failed;
    char *why;
};

static void wb_fail(wb_run *r, const char *why)
{
    g_mutex_lock(&r->lock);
    if (!r->failed) {
        r->failed = true;
        r->why = g_strdup(why);
    }
    g_cond_broadcast(&r->cond);
    g_mutex_unlock(&r->lock);
}

static void on_conn_state(GObject *obj, GParamSpec *ps, gpointer ud)
{
    wb_peer *p = ud;
    (void) ps;
    GstWebRTCPeerConnectionState st;
    g_object_get(obj, "connection-state", &st, NULL);
    gint64 now = g_get_monotonic_time();
    g_mutex_lock(&p->run->lock);
    if (st == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED &&
        p->run->t_conn[p->idx] == 0)
        p->run->t_conn[p->idx] = now;
    if (st == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED && !p->run->failed) {
        p->run->failed = true;
        p->run->why = g_strdup("connection-state failed");
    }
    g_cond_broadcast(&p->run->cond);
    g_mutex_unlock(&p->run->lock);
}

static void on_ice_state(GObject *obj, GParamSpec *ps, gpointer ud)
{
    wb_peer *p = ud;
    (void) ps;
    GstWebRTCICEConnectionState st;
    g_object_get(obj, "ice-connection-state", &st, NULL);
    gint64 now = g_get_monotonic_time();
    g_mutex_lock(&p->run->lock);
    if ((st == GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED ||
         st == GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED) &&
        p->run->t_ice[p->idx] == 0)
        p->run->t_ice[p->idx] = now;
    g_mutex_unlock(&p->run->lock);
}

static void wb_fail_cb(void *ud, const char *why)
{
    wb_fail(ud, why);
}

static int wb_peer_new(wb_run *r, int idx)
{
    wb_peer *p = &r->p[idx];
    p->run = r;
    p->idx = idx;
    p->pipe = gst_pipeline_new(NULL);
    p->webrtc = gst_element_factory_make("webrtcbin", NULL);
    if (p->pipe == NULL || p->webrtc == NULL)
        return -1;
    g_object_set(p->webrtc, "bundle-policy",
                 GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, NULL);
    gst_bin_add(GST_BIN(p->pipe), p->webrtc);
    GObject *ice = NULL, *agent = NULL;
    g_object_get(p->webrtc, "ice-agent", &ice, NULL);
    if (ice != NULL &&
        g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "agent"))
        g_object_get(ice, "agent", &agent, NULL);
    if (agent == NULL) {
        g_clear_object(&ice);
        return -1;
    }
    g_object_set(agent, "upnp", FALSE, NULL);
    if (!webrtcbin_all_interfaces) {
        NiceAddress addr;
        nice_address_init(&addr);
        if (!nice_address_set_from_string(&addr, "127.0.0.1") ||
            !nice_agent_add_local_address(NICE_AGENT(agent), &addr)) {
            g_clear_object(&agent);
            g_clear_object(&ice);
            return -1;
        }
    }
    g_clear_object(&agent);
    g_clear_object(&ice);
    const char *caps_text[] = {
        "application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,"
        "payload=111",
        "application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,"
        "payload=96"};
    for (int i = 0; i < 2; i++) {
        GstCaps *caps = gst_caps_from_string(caps_text[i]);
        GstWebRTCRTPTransceiver *tr = NULL;
        g_signal_emit_by_name(p->webrtc, "add-transceiver",
                              GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV,
                              caps, &tr);
        gst_caps_unref(caps);
        if (tr == NULL)
            return -1;
        gst_object_unref(tr);
    }
    g_signal_connect(p->webrtc, "notify::connection-state",
                     G_CALLBACK(on_conn_state), p);
    g_signal_connect(p->webrtc, "notify::ice-connection-state",
                     G_CALLBACK(on_ice_state), p);
    if (gst_element_set_state(p->pipe, GST_STATE_PLAYING) ==
        GST_STATE_CHANGE_FAILURE)
        return -1;
    gst_element_get_state(p->pipe, NULL, NULL, GST_CLOCK_TIME_NONE);
    return 0;
}

static void wb_peer_free(wb_peer *p)
{
    if (p->pipe != NULL) {
        gst_element_set_state(p->pipe, GST_STATE_NULL);
        if (p->webrtc != NULL)
            g_signal_handlers_disconnect_by_data(p->webrtc, p);
        gst_object_unref(p->pipe);
    } else if (p->webrtc != NULL) {
        gst_object_unref(p->webrtc);
    }
    p->pipe = p->webrtc = NULL;
}

static int run_webrtcbin(double *ms, double *ice_ms)
{
    wb_run *r = g_new0(wb_run, 1);
    g_mutex_init(&r->lock);
    g_cond_init(&r->cond);
    int rc = -1;
    if (wb_peer_new(r, 0) != 0 || wb_peer_new(r, 1) != 0) {
        fprintf(stderr, "transport-setup: cannot set up webrtcbin\n");
        goto out;
    }
    r->pair = (wbpair){{r->p[0].webrtc, r->p[1].webrtc}, wb_fail_cb, r};
    wbpair_link(&r->pair);
    gint64 t0 = g_get_monotonic_time();
    wbpair_negotiate(&r->pair);
    gint64 deadline = t0 + RUN_TIMEOUT_US;
    g_mutex_lock(&r->lock);
    while (!(r->t_conn[0] && r->t_conn[1]) && !r->failed)
        if (!g_cond_wait_until(&r->cond, &r->lock, deadline))
            break;
    bool ok = r->t_conn[0] && r->t_conn[1] && !r->failed;
    if (ok) {
        *ms = (double) (MAX(r->t_conn[0], r->t_conn[1]) - t0) / 1000.0;
        *ice_ms = r->t_ice[0] && r->t_ice[1]
                      ? (double) (MAX(r->t_ice[0], r->t_ice[1]) - t0) / 1000.0
                      : -1;
    } else {
        fprintf(stderr, "transport-setup: webrtcbin not connected: %s\n",
                r->why ? r->why : "timed out");
    }
    g_mutex_unlock(&r->lock);
    rc = ok ? 0 : -1;
out:
    wbpair_unlink(&r->pair);
    wb_peer_free(&r->p[0]);
    wb_peer_free(&r->p[1]);
    g_mutex_clear(&r->lock);
    g_cond_clear(&r->cond);
    g_free(r->why);
    g_free(r);
    return rc;
}

/* ====================================================================== */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

/* Median and nearest-rank 90th percentile of @p v (sorted in place). */
static void stats(double *v, size_t n, double *med, double *p90)
{
    qsort(v, n, sizeof *v, cmp_double);
    *med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    size_t rank = (size_t) ((90 * n + 99) / 100); /* ceil(0.9 n) */
    *p90 = v[rank > 0 ? rank - 1 : 0];
}

static bool have_elements(void)
{
    const char *need[] = {"webrtcbin",   "nicesrc",     "nicesink",
                          "dtlssrtpenc", "dtlssrtpdec", "rtpbin"};
    for (size_t i = 0; i < G_N_ELEMENTS(need); i++) {
        GstElementFactory *f = gst_element_factory_find(need[i]);
        if (f == NULL) {
            fprintf(stderr, "transport-setup: GStreamer element %s missing\n",
                    need[i]);
            return false;
        }
        gst_object_unref(f);
    }
    return true;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: transport-setup [-n RUNS] [--verbose] "
            "[--webrtcbin-all-interfaces]\n"
            "  -n RUNS   counted runs of each, alternating (default 20)\n");
}

int main(int argc, char **argv)
{
    unsigned runs = 20;
    gst_init(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
            char *end = NULL;
            errno = 0;
            unsigned long v = strtoul(argv[++i], &end, 10);
            if (errno != 0 || end == argv[i] || *end != '\0' || v == 0 ||
                v > 10000) {
                fprintf(stderr, "transport-setup: -n needs 1..10000\n");
                return 2;
            }
            runs = (unsigned) v;
        } else if (strcmp(argv[i], "--verbose") == 0) {
            verbose = true;
        } else if (strcmp(argv[i], "--webrtcbin-all-interfaces") == 0) {
            webrtcbin_all_interfaces = true;
        } else {
            usage();
            return 2;
        }
    }
    if (!have_elements())
        return 77;

    GMainContext *ctx = g_main_context_new();
    g_main_context_push_thread_default(ctx);
    ours_peer a = {0}, b = {0};
    a.other = &b;
    b.other = &a;
    a.queued = g_ptr_array_new_with_free_func(g_free);
    b.queued = g_ptr_array_new_with_free_func(g_free);
    bench_make_cert("transport-setup", &a.cert, &a.key);
    bench_make_cert("transport-setup", &b.cert, &b.key);

    double *ours = g_new0(double, runs), *ours_ice = g_new0(double, runs);
    double *wb = g_new0(double, runs), *wb_ice = g_new0(double, runs);
    int status = 0;
    /* Run 0 of each is the warm-up; then alternate which goes first. */
    for (unsigned i = 0; i <= runs && status == 0; i++) {
        for (int k = 0; k < 2 && status == 0; k++) {
            bool do_ours = (k == 0) == (i % 2 == 0);
            double ms = 0, ice_ms = 0;
            int rc = do_ours ? run_ours(ctx, &a, &b, &ms, &ice_ms)
                             : run_webrtcbin(&ms, &ice_ms);
            if (rc != 0) {
                status = 1;
                break;
            }
            if (verbose)
                printf("# run %u%s %s: %.1f ms (ICE %.1f ms)\n", i,
                       i == 0 ? " (warm-up)" : "",
                       do_ours ? "ours" : "webrtcbin", ms, ice_ms);
            if (i == 0)
                continue;
            if (do_ours) {
                ours[i - 1] = ms;
                ours_ice[i - 1] = ice_ms;
            } else {
                wb[i - 1] = ms;
                wb_ice[i - 1] = ice_ms;
            }
        }
    }
    if (status == 0) {
        double om, o90, oim, oi90, wm, w90, wim, wi90;
        stats(ours, runs, &om, &o90);
        stats(ours_ice, runs, &oim, &oi90);
        stats(wb, runs, &wm, &w90);
        stats(wb_ice, runs, &wim, &wi90);
        printf(
            "setup ours n=%u median_ms=%.1f p90_ms=%.1f ice_median_ms=%.1f\n",
            runs, om, o90, oim);
        printf("setup webrtcbin n=%u median_ms=%.1f p90_ms=%.1f "
               "ice_median_ms=%.1f\n",
               runs, wm, w90, wim);
        printf("setup ratio=%.3f\n", om / wm);
    }
    g_free(ours);
    g_free(ours_ice);
    g_free(wb);
    g_free(wb_ice);
    g_ptr_array_unref(a.queued);
    g_ptr_array_unref(b.queued);
    X509_free(a.cert);
    X509_free(b.cert);
    EVP_PKEY_free(a.key);
    EVP_PKEY_free(b.key);
    g_main_context_pop_thread_default(ctx);
    g_main_context_unref(ctx);
    return status;
}
