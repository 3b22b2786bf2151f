/*
 * media-call.c — the media benchmarks of issue 4, in one process:
 *
 * 1. Capture-to-render delay of our two-session call: two media sessions
 *    (libvid/session) over two libvid transports on 127.0.0.1, synthetic
 *    camera 640x480@30 and microphone both ways. The delay is measured at
 *    the decoded-frame callback (on_video): decoded_us minus the capture
 *    time the synthetic camera wrote into the picture (same clock, same
 *    process). No renderer is attached, so display time is not included.
 *
 * 2. CPU per side: process CPU (getrusage, user + system) over the call,
 *    divided by the two sides, scaled to a minute. Then the same call made
 *    with two GStreamer webrtcbin elements: the same synthetic pictures and
 *    tone bursts pushed through appsrc at 30 fps / 20 ms, vp8enc with our
 *    encoder settings (deadline=1 realtime, cpu-used, CBR, error
 *    resilient, lag 0, one token partition, one thread, same bitrate),
 *    opusenc with ours (mono, 32 kbit/s, complexity 9, in-band FEC, no
 *    DTX; opusenc 1.22 has no loss-hint property, ours gives 5 %),
 * rtpvp8pay/rtpopuspay into webrtcbin (max-bundle, UPnP off, host candidates on
 * 127.0.0.1), and on the receive side rtpvp8depay ! vp8dec and rtpopusdepay !
 * opusdec into fakesinks whose handoff reads the synthetic stamp back (as our
 * on_video does). Our rate controller is pinned (min = start = max kbit/s) so
 * both send at the same bitrate. Each call runs the same duration; set-up is
 * not counted (a warm-up second is skipped).
 *
 * 3. VP8 1280x720@30 encoding on one core: our encoder (media_vp8_enc,
 *    the session's settings: MEDIA_VP8_ENC_CONFIG_INIT, one thread) on
 *    synthetic pictures, the thread pinned to CPU 0; CPU time per frame
 *    (CLOCK_THREAD_CPUTIME_ID) and frames per CPU second.
 *
 * Output (key=value lines, parsed by bench/run-media-bench.sh):
 *   delay ours frames=<n> p50_ms=<x> p95_ms=<y> max_ms=<z>
 *   delay webrtcbin frames=<n> p50_ms=<x> p95_ms=<y> max_ms=<z>
 *   cpu ours seconds=<wall> cpu_s=<cpu> per_side_s_per_min=<x>
 *   cpu webrtcbin seconds=<wall> cpu_s=<cpu> per_side_s_per_min=<x>
 *   cpu ratio=<ours / webrtcbin>
 *   floor per_side_s_per_min=<codec work alone> ...
 *   encode720 frames=<n> ms_per_frame=<x> fps_cpu=<y> worst_ms=<z>
 *       realtime=<yes|no>
 * Exit status 77 when webrtcbin or a needed GStreamer element is missing
 * (the encode figure is still printed), 1 when a call fails.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <nice/agent.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "bench-common.h"
#include "media.h"
#include "session.h"
#include "transport.h"

#define WIDTH 640
#define HEIGHT 480
#define FPS 30
#define CONNECT_US (20 * G_USEC_PER_SEC)
#define WARMUP_US (1 * G_USEC_PER_SEC)

static double call_seconds = 10;
static int video_kbps = 600;
static bool verbose;
static bool per_thread;
static bool lip_sync = true;

static double process_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double) ru.ru_utime.tv_sec + (double) ru.ru_stime.tv_sec +
           (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Per-thread CPU by thread name (/proc/self/task/<tid>/stat utime +
 * stime, in clock ticks), to attribute a call's CPU (--threads). */
typedef struct {
    GHashTable *ticks; /* tid -> guint64 ticks */
    GHashTable *names; /* tid -> comm */
} thread_snap;

static void thread_snap_take(thread_snap *t)
{
    t->ticks =
        g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    t->names =
        g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    GDir *d = g_dir_open("/proc/self/task", 0, NULL);
    if (d == NULL)
        return;
    const char *ent;
    while ((ent = g_dir_read_name(d)) != NULL) {
        char *path = g_strdup_printf("/proc/self/task/%s/stat", ent);
        char *text = NULL;
        if (g_file_get_contents(path, &text, NULL, NULL)) {
            char *lp = strchr(text, '('), *rp = strrchr(text, ')');
            if (lp != NULL && rp != NULL && rp > lp) {
                char **f = g_strsplit(rp + 2, " ", 0);
                /* after "(comm) ": state is field 3, utime 14, stime 15 */
                if (g_strv_length(f) > 12) {
                    guint64 *v = g_new(guint64, 1);
                    *v = g_ascii_strtoull(f[11], NULL, 10) +
                         g_ascii_strtoull(f[12], NULL, 10);
                    gpointer tid =
                        GINT_TO_POINTER((int) g_ascii_strtoll(ent, NULL, 10));
                    g_hash_table_insert(t->ticks, tid, v);
                    g_hash_table_insert(
                        t->names, tid,
                        g_strndup(lp + 1, (gsize) (rp - lp - 1)));
                }
                g_strfreev(f);
            }
            g_free(text);
        }
        g_free(path);
    }
    g_dir_close(d);
}

/* Prints CPU seconds per thread name between @p a and @p b (threads that
 * ended in between are lost: take @p b before tearing the call down). */
static void thread_snap_report(const char *call, thread_snap *a, thread_snap *b,
                               double wall)
{
    GHashTable *sum =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, b->ticks);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        guint64 before = 0, *pb = g_hash_table_lookup(a->ticks, k);
        if (pb != NULL)
            before = *pb;
        const char *name = g_hash_table_lookup(b->names, k);
        double *acc = g_hash_table_lookup(sum, name);
        if (acc == NULL) {
            acc = g_new0(double, 1);
            g_hash_table_insert(sum, g_strdup(name), acc);
        }
        *acc +=
            (double) (*(guint64 *) v - before) / (double) sysconf(_SC_CLK_TCK);
    }
    g_hash_table_iter_init(&it, sum);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (*(double *) v > 0)
            printf("# threads %s %-16s %6.2f s CPU (%5.1f%% of a core)\n", call,
                   (const char *) k, *(double *) v, 100 * *(double *) v / wall);
    g_hash_table_unref(sum);
    for (int i = 0; i < 2; i++) {
        thread_snap *t = i ? b : a;
        g_hash_table_unref(t->ticks);
        g_hash_table_unref(t->names);
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile in ms of the delays (sorted in place). */
static double pct_ms(GArray *a, double q)
{
    if (a->len == 0)
        return -1;
    qsort(a->data, a->len, sizeof(int64_t), cmp_i64);
    size_t rank = (size_t) (q * (double) a->len + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > a->len)
        rank = a->len;
    return (double) g_array_index(a, int64_t, rank - 1) / 1000.0;
}

/* Delays (capture -> decoded) of one call, written by decode threads. */
typedef struct {
    GMutex mu;
    bool recording; /* past the warm-up */
    GArray *delays; /* int64_t us */
    uint64_t frames, bad;
} delays;

static void delays_add(delays *d, bool ok, int64_t capture_us, int64_t now)
{
    g_mutex_lock(&d->mu);
    if (d->recording) {
        d->frames++;
        if (!ok) {
            d->bad++;
        } else {
            int64_t v = now - capture_us;
            g_array_append_val(d->delays, v);
        }
    }
    g_mutex_unlock(&d->mu);
}

static void delays_print(delays *d, const char *name)
{
    g_mutex_lock(&d->mu);
    printf("delay %s frames=%" G_GUINT64_FORMAT " unreadable=%" G_GUINT64_FORMAT
           " p50_ms=%.1f p95_ms=%.1f max_ms=%.1f\n",
           name, d->frames, d->bad, pct_ms(d->delays, 0.5),
           pct_ms(d->delays, 0.95), pct_ms(d->delays, 1.0));
    g_mutex_unlock(&d->mu);
}

/* ====================================================================== */
/* Ours: two media sessions over two transports */

typedef struct ours_peer ours_peer;
struct ours_peer {
    transport *t;
    X509 *cert;
    EVP_PKEY *key;
    char fp[128];
    transport_state state;
    media_session *s;
    ours_peer *other;
    delays *rx;
};

static void pump(GMainContext *ctx, gint64 us)
{
    gint64 end = g_get_monotonic_time() + us;
    while (g_get_monotonic_time() < end) {
        GSource *s = g_timeout_source_new(5);
        g_source_set_dummy_callback(s);
        g_source_attach(s, ctx);
        g_main_context_iteration(ctx, TRUE);
        g_source_destroy(s);
        g_source_unref(s);
    }
}

static void on_candidate(transport *t, const char *cand, void *ud)
{
    (void) t;
    ours_peer *o = ((ours_peer *) ud)->other;
    if (cand == NULL)
        (void) transport_remote_candidates_done(o->t);
    else if (transport_add_remote_candidate(o->t, cand) != 0)
        fprintf(stderr, "media-call: candidate refused: %s\n", cand);
}

static void on_state(transport *t, transport_state st, void *ud)
{
    (void) t;
    ((ours_peer *) ud)->state = st;
}

static void on_packet(transport *t, bool is_rtcp, uint8_t *buf, size_t len,
                      void *ud)
{
    (void) t;
    ours_peer *p = ud;
    if (p->s != NULL)
        media_session_receive(p->s, is_rtcp, buf, len);
}

static void on_video(const media_session_video_frame *vf, void *ud)
{
    ours_peer *p = ud;
    delays_add(p->rx, vf->synth_ok, vf->capture_us, vf->decoded_us);
}

static const char *const loopback[] = {"127.0.0.1", NULL};

static int ours_peer_new(GMainContext *ctx, ours_peer *p, bool controlling)
{
    bench_make_cert("media-call", &p->cert, &p->key);
    transport_config cfg = TRANSPORT_CONFIG_INIT;
    cfg.context = ctx;
    cfg.controlling = controlling;
    cfg.dtls_client = !controlling;
    cfg.cert = p->cert;
    cfg.key = p->key;
    cfg.local_addresses = loopback;
    cfg.on_candidate = on_candidate;
    cfg.on_state = on_state;
    cfg.on_packet = on_packet;
    cfg.user_data = p;
    if (transport_new(&p->t, &cfg) != 0 ||
        transport_get_local_fingerprint(p->t, p->fp, sizeof p->fp) != 0)
        return -1;
    return 0;
}

static int ours_session_new(GMainContext *ctx, ours_peer *p)
{
    media_session_config mc = MEDIA_SESSION_CONFIG_INIT;
    mc.context = ctx;
    mc.transport = p->t;
    mc.width = WIDTH;
    mc.height = HEIGHT;
    mc.fps = FPS;
    mc.start_kbps = mc.min_kbps = mc.max_kbps = video_kbps;
    mc.audio_bps = 32000;
    mc.lip_sync = lip_sync;
    mc.on_video = on_video;
    mc.user_data = p;
    return media_session_new(&p->s, &mc);
}

static int run_ours(delays *rx, double *wall, double *cpu)
{
    int rc = -1;
    GMainContext *ctx = g_main_context_new();
    g_main_context_push_thread_default(ctx);
    ours_peer a = {0}, b = {0};
    a.other = &b;
    b.other = &a;
    a.rx = b.rx = rx;
    if (ours_peer_new(ctx, &a, true) != 0 ||
        ours_peer_new(ctx, &b, false) != 0) {
        fprintf(stderr, "media-call: transport_new failed\n");
        goto out;
    }
    char u[64], pw[64];
    if (transport_get_local_credentials(a.t, u, sizeof u, pw, sizeof pw) ||
        transport_set_remote_credentials(b.t, u, pw) ||
        transport_get_local_credentials(b.t, u, sizeof u, pw, sizeof pw) ||
        transport_set_remote_credentials(a.t, u, pw) ||
        transport_set_remote_fingerprints(a.t, b.fp, b.fp) ||
        transport_set_remote_fingerprints(b.t, a.fp, a.fp)) {
        fprintf(stderr, "media-call: cannot exchange credentials\n");
        goto out;
    }
    if (ours_session_new(ctx, &a) != 0 || ours_session_new(ctx, &b) != 0) {
        fprintf(stderr, "media-call: media_session_new failed\n");
        goto out;
    }
    if (transport_gather(a.t) != 0 || transport_gather(b.t) != 0)
        goto out;
    gint64 end = g_get_monotonic_time() + CONNECT_US;
    while (!(a.state == TRANSPORT_STATE_SECURE &&
             b.state == TRANSPORT_STATE_SECURE) &&
           a.state < TRANSPORT_STATE_FAILED &&
           b.state < TRANSPORT_STATE_FAILED && g_get_monotonic_time() < end)
        pump(ctx, 5000);
    if (a.state != TRANSPORT_STATE_SECURE ||
        b.state != TRANSPORT_STATE_SECURE) {
        fprintf(stderr, "media-call: our transports not secure: %s / %s\n",
                transport_state_str(a.state), transport_state_str(b.state));
        goto out;
    }
    if (media_session_start(a.s) != 0 || media_session_start(b.s) != 0)
        goto out;
    pump(ctx, WARMUP_US);
    g_mutex_lock(&rx->mu);
    rx->recording = true;
    g_mutex_unlock(&rx->mu);
    thread_snap ts0, ts1;
    if (per_thread)
        thread_snap_take(&ts0);
    double c0 = process_cpu();
    gint64 t0 = g_get_monotonic_time();
    pump(ctx, (gint64) (call_seconds * G_USEC_PER_SEC));
    *wall = (double) (g_get_monotonic_time() - t0) / 1e6;
    *cpu = process_cpu() - c0;
    if (per_thread) {
        thread_snap_take(&ts1);
        thread_snap_report("ours", &ts0, &ts1, *wall);
    }
    g_mutex_lock(&rx->mu);
    rx->recording = false;
    g_mutex_unlock(&rx->mu);
    if (verbose) {
        ours_peer *ps[2] = {&a, &b};
        for (int i = 0; i < 2; i++) {
            media_session_stats st;
            media_session_get_stats(ps[i]->s, &st);
            printf("# ours %c: sent %" G_GUINT64_FORMAT
                   " frames %.1f fps %" G_GUINT64_FORMAT
                   " kbit/s (target %u); decoded %" G_GUINT64_FORMAT
                   " (%dx%d) dropped %" G_GUINT64_FORMAT
                   "; jb %.1f ms; audio %" G_GUINT64_FORMAT
                   " kbit/s, decoded %" G_GUINT64_FORMAT
                   "; sync delay video %.1f ms audio %.1f ms\n",
                   i ? 'B' : 'A', st.frames_encoded, st.fps_sent,
                   st.video_bps_sent / 1000, st.target_bps / 1000,
                   st.frames_decoded, st.recv_width, st.recv_height,
                   st.frames_dropped, st.video_jb_delay_us / 1000.0,
                   st.audio_bps_sent / 1000, st.audio_frames_decoded,
                   st.video_sync_delay_us / 1000.0,
                   st.audio_sync_delay_us / 1000.0);
        }
    }
    rc = 0;
out:
    media_session_free(a.s);
    media_session_free(b.s);
    a.s = b.s = NULL;
    transport_free(a.t);
    transport_free(b.t);
    a.t = b.t = NULL;
    pump(ctx, 50000);
    X509_free(a.cert);
    X509_free(b.cert);
    EVP_PKEY_free(a.key);
    EVP_PKEY_free(b.key);
    g_main_context_pop_thread_default(ctx);
    g_main_context_unref(ctx);
    return rc;
}

/* ====================================================================== */
/* webrtcbin <-> webrtcbin with the same sources and settings */

typedef struct wb_call wb_call;
typedef struct {
    wb_call *call;
    int idx;
    GstElement *pipe, *webrtc, *vsrc, *asrc;
    GThread *feeder;
} wb_peer;

struct wb_call {
    wb_peer p[2];
    wbpair pair;
    GMutex lock;
    GCond cond;
    bool connected[2], failed, stop;
    char *why;
    delays *rx;
};

static void wb_fail(wb_call *c, const char *why)
{
    g_mutex_lock(&c->lock);
    if (!c->failed) {
        c->failed = true;
        c->why = g_strdup(why);
    }
    g_cond_broadcast(&c->cond);
    g_mutex_unlock(&c->lock);
}

/* Pushes the synthetic camera (30 fps) and microphone (20 ms) into the
 * appsrcs, paced on the monotonic clock as our session's threads pace
 * theirs; do-timestamp stamps the buffers with the running time. */
static gpointer feeder(gpointer ud)
{
    wb_peer *p = ud;
    wb_call *c = p->call;
    media_synth_audio syn;
    media_synth_audio_init(&syn, 1, 100);
    const gint64 vstep = G_USEC_PER_SEC / FPS, astep = 20000;
    gint64 start = g_get_monotonic_time();
    uint64_t vn = 0, an = 0;
    const gsize vsize = (gsize) WIDTH * HEIGHT * 3 / 2;
    for (;;) {
        g_mutex_lock(&c->lock);
        bool stop = c->stop;
        g_mutex_unlock(&c->lock);
        if (stop)
            break;
        gint64 nv = start + (gint64) vn * vstep;
        gint64 na = start + (gint64) an * astep;
        gint64 next = MIN(nv, na);
        gint64 now = g_get_monotonic_time();
        if (next > now)
            g_usleep((gulong) (next - now));
        if (nv <= na) {
            GstBuffer *buf = gst_buffer_new_allocate(NULL, vsize, NULL);
            GstMapInfo m;
            if (buf == NULL || !gst_buffer_map(buf, &m, GST_MAP_WRITE)) {
                wb_fail(c, "cannot allocate a video buffer");
                break;
            }
            media_i420 pic = {.y = m.data,
                              .u = m.data + WIDTH * HEIGHT,
                              .v = m.data + WIDTH * HEIGHT +
                                   (WIDTH / 2) * (HEIGHT / 2),
                              .stride_y = WIDTH,
                              .stride_u = WIDTH / 2,
                              .stride_v = WIDTH / 2,
                              .width = WIDTH,
                              .height = HEIGHT};
            media_synth_video_fill(&pic, (uint32_t) vn, g_get_monotonic_time());
            gst_buffer_unmap(buf, &m);
            if (gst_app_src_push_buffer(GST_APP_SRC(p->vsrc), buf) !=
                GST_FLOW_OK)
                break;
            vn++;
        } else {
            GstBuffer *buf =
                gst_buffer_new_allocate(NULL, MEDIA_OPUS_FRAME * 2, NULL);
            GstMapInfo m;
            if (buf == NULL || !gst_buffer_map(buf, &m, GST_MAP_WRITE)) {
                wb_fail(c, "cannot allocate an audio buffer");
                break;
            }
            media_synth_audio_fill(&syn, (int16_t *) m.data, MEDIA_OPUS_FRAME);
            gst_buffer_unmap(buf, &m);
            if (gst_app_src_push_buffer(GST_APP_SRC(p->asrc), buf) !=
                GST_FLOW_OK)
                break;
            an++;
        }
    }
    return NULL;
}

static void on_wb_conn_state(GObject *obj, GParamSpec *ps, gpointer ud)
{
    wb_peer *p = ud;
    (void) ps;
    GstWebRTCPeerConnectionState st;
    g_object_get(obj, "connection-state", &st, NULL);
    g_mutex_lock(&p->call->lock);
    if (st == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED)
        p->call->connected[p->idx] = true;
    if (st == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED && !p->call->failed) {
        p->call->failed = true;
        p->call->why = g_strdup("connection-state failed");
    }
    g_cond_broadcast(&p->call->cond);
    g_mutex_unlock(&p->call->lock);
}

static void on_handoff(GstElement *sink, GstBuffer *buf, GstPad *pad,
                       gpointer ud)
{
    (void) sink;
    (void) pad;
    wb_call *c = ud;
    GstMapInfo m;
    if (!gst_buffer_map(buf, &m, GST_MAP_READ))
        return;
    bool ok = false;
    uint32_t n = 0;
    int64_t cap = 0;
    if (m.size >= (gsize) WIDTH * HEIGHT * 3 / 2) {
        media_i420 pic = {.y = m.data,
                          .u = m.data + WIDTH * HEIGHT,
                          .v = m.data + WIDTH * HEIGHT +
                               (WIDTH / 2) * (HEIGHT / 2),
                          .stride_y = WIDTH,
                          .stride_u = WIDTH / 2,
                          .stride_v = WIDTH / 2,
                          .width = WIDTH,
                          .height = HEIGHT};
        ok = media_synth_read(&pic, &n, &cap) == MEDIA_OK;
    }
    gst_buffer_unmap(buf, &m);
    delays_add(c->rx, ok, cap, g_get_monotonic_time());
}

/* A received stream: depayloader ! decoder ! fakesink. */
static void on_wb_pad_added(GstElement *w, GstPad *pad, gpointer ud)
{
    wb_peer *p = ud;
    (void) w;
    if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC)
        return;
    GstCaps *caps = gst_pad_get_current_caps(pad);
    if (caps == NULL)
        caps = gst_pad_query_caps(pad, NULL);
    const GstStructure *s = gst_caps_get_structure(caps, 0);
    const char *enc = gst_structure_get_string(s, "encoding-name");
    const char *desc = NULL;
    bool video = false;
    if (enc != NULL && g_ascii_strcasecmp(enc, "VP8") == 0) {
        desc = "rtpvp8depay ! vp8dec threads=1 ! video/x-raw,format=I420 ! "
               "fakesink name=vsink sync=false signal-handoffs=true";
        video = true;
    } else if (enc != NULL && g_ascii_strcasecmp(enc, "OPUS") == 0) {
        desc = "rtpopusdepay ! opusdec ! fakesink sync=false";
    }
    gst_caps_unref(caps);
    if (desc == NULL) {
        wb_fail(p->call, "webrtcbin gave an unknown stream");
        return;
    }
    GError *err = NULL;
    GstElement *bin = gst_parse_bin_from_description(desc, TRUE, &err);
    if (bin == NULL) {
        wb_fail(p->call, err ? err->message : "cannot make a receive bin");
        g_clear_error(&err);
        return;
    }
    if (video) {
        GstElement *sink = gst_bin_get_by_name(GST_BIN(bin), "vsink");
        g_signal_connect(sink, "handoff", G_CALLBACK(on_handoff), p->call);
        gst_object_unref(sink);
    }
    gst_bin_add(GST_BIN(p->pipe), bin);
    gst_element_sync_state_with_parent(bin);
    GstPad *sinkpad = gst_element_get_static_pad(bin, "sink");
    if (gst_pad_link(pad, sinkpad) != GST_PAD_LINK_OK)
        wb_fail(p->call, "cannot link a received stream");
    gst_object_unref(sinkpad);
}

static void wb_fail_cb(void *ud, const char *why)
{
    wb_fail(ud, why);
}

static int wb_peer_new(wb_call *c, int idx)
{
    wb_peer *p = &c->p[idx];
    p->call = c;
    p->idx = idx;
    char *desc = g_strdup_printf(
        "webrtcbin name=w bundle-policy=max-bundle "
        "appsrc name=vsrc is-live=true format=time do-timestamp=true "
        "caps=video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1 ! "
        "queue max-size-buffers=2 ! "
        "vp8enc deadline=1 cpu-used=%d threads=1 end-usage=cbr "
        "target-bitrate=%d error-resilient=default lag-in-frames=0 "
        "token-partitions=0 keyframe-max-dist=3000 dropframe-threshold=0 "
        "undershoot=100 overshoot=15 buffer-initial-size=500 "
        "buffer-optimal-size=600 buffer-size=1000 min-quantizer=2 "
        "max-quantizer=56 noise-sensitivity=0 static-threshold=1 "
        "max-intra-bitrate=300 auto-alt-ref=false ! "
        "rtpvp8pay pt=96 mtu=1200 picture-id-mode=15-bit ! "
        "application/x-rtp,media=video,encoding-name=VP8,payload=96 ! w. "
        "appsrc name=asrc is-live=true format=time do-timestamp=true "
        "caps=audio/x-raw,format=S16LE,layout=interleaved,rate=48000,"
        "channels=1 ! queue max-size-buffers=2 ! "
        "opusenc bitrate=32000 complexity=9 inband-fec=true "
        "dtx=false frame-size=20 ! "
        "rtpopuspay pt=111 mtu=1200 ! "
        "application/x-rtp,media=audio,encoding-name=OPUS,payload=111 ! w.",
        WIDTH, HEIGHT, FPS,
        ((media_vp8_enc_config) MEDIA_VP8_ENC_CONFIG_INIT).cpu_used,
        video_kbps * 1000);
    GError *err = NULL;
    p->pipe = gst_parse_launch(desc, &err);
    g_free(desc);
    if (p->pipe == NULL || err != NULL) {
        fprintf(stderr, "media-call: webrtcbin pipeline: %s\n",
                err ? err->message : "?");
        g_clear_error(&err);
        return -1;
    }
    p->webrtc = gst_bin_get_by_name(GST_BIN(p->pipe), "w");
    p->vsrc = gst_bin_get_by_name(GST_BIN(p->pipe), "vsrc");
    p->asrc = gst_bin_get_by_name(GST_BIN(p->pipe), "asrc");
    GObject *ice = NULL, *agent = NULL;
    g_object_get(p->webrtc, "ice-agent", &ice, NULL);
    if (ice != NULL &&
        g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "agent"))
        g_object_get(ice, "agent", &agent, NULL);
    if (agent == NULL) {
        g_clear_object(&ice);
        fprintf(stderr, "media-call: webrtcbin has no libnice agent\n");
        return -1;
    }
    g_object_set(agent, "upnp", FALSE, NULL);
    NiceAddress addr;
    nice_address_init(&addr);
    bool ok = nice_address_set_from_string(&addr, "127.0.0.1") &&
              nice_agent_add_local_address(NICE_AGENT(agent), &addr);
    g_clear_object(&agent);
    g_clear_object(&ice);
    if (!ok)
        return -1;
    g_signal_connect(p->webrtc, "notify::connection-state",
                     G_CALLBACK(on_wb_conn_state), p);
    g_signal_connect(p->webrtc, "pad-added", G_CALLBACK(on_wb_pad_added), p);
    if (gst_element_set_state(p->pipe, GST_STATE_PLAYING) ==
        GST_STATE_CHANGE_FAILURE) {
        fprintf(stderr, "media-call: webrtcbin pipeline does not play\n");
        return -1;
    }
    return 0;
}

static void wb_peer_free(wb_peer *p)
{
    if (p->pipe != NULL)
        gst_element_set_state(p->pipe, GST_STATE_NULL);
    if (p->webrtc != NULL) {
        g_signal_handlers_disconnect_by_data(p->webrtc, p);
        gst_object_unref(p->webrtc);
    }
    if (p->vsrc != NULL)
        gst_object_unref(p->vsrc);
    if (p->asrc != NULL)
        gst_object_unref(p->asrc);
    if (p->pipe != NULL)
        gst_object_unref(p->pipe);
    memset(p, 0, sizeof *p);
}

/* Error messages on a pipeline's bus fail the call. */
static bool bus_error(wb_call *c)
{
    for (int i = 0; i < 2; i++) {
        if (c->p[i].pipe == NULL)
            continue;
        GstBus *bus = gst_element_get_bus(c->p[i].pipe);
        GstMessage *m;
        while ((m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)) != NULL) {
            GError *e = NULL;
            gst_message_parse_error(m, &e, NULL);
            fprintf(stderr, "media-call: webrtcbin pipeline %d: %s\n", i,
                    e ? e->message : "?");
            wb_fail(c, "pipeline error");
            g_clear_error(&e);
            gst_message_unref(m);
        }
        gst_object_unref(bus);
    }
    g_mutex_lock(&c->lock);
    bool f = c->failed;
    g_mutex_unlock(&c->lock);
    return f;
}

static int run_webrtcbin(delays *rx, double *wall, double *cpu)
{
    wb_call *c = g_new0(wb_call, 1);
    g_mutex_init(&c->lock);
    g_cond_init(&c->cond);
    c->rx = rx;
    int rc = -1;
    if (wb_peer_new(c, 0) != 0 || wb_peer_new(c, 1) != 0)
        goto out;
    for (int i = 0; i < 2; i++)
        c->p[i].feeder = g_thread_new("wb-feeder", feeder, &c->p[i]);
    c->pair = (wbpair){{c->p[0].webrtc, c->p[1].webrtc}, wb_fail_cb, c};
    wbpair_link(&c->pair);
    wbpair_negotiate(&c->pair);
    gint64 deadline = g_get_monotonic_time() + CONNECT_US;
    g_mutex_lock(&c->lock);
    while (!(c->connected[0] && c->connected[1]) && !c->failed)
        if (!g_cond_wait_until(&c->cond, &c->lock, deadline))
            break;
    bool ok = c->connected[0] && c->connected[1] && !c->failed;
    g_mutex_unlock(&c->lock);
    if (!ok) {
        fprintf(stderr, "media-call: webrtcbin not connected: %s\n",
                c->why ? c->why : "timed out");
        goto out;
    }
    g_usleep(WARMUP_US);
    g_mutex_lock(&rx->mu);
    rx->recording = true;
    g_mutex_unlock(&rx->mu);
    thread_snap ts0, ts1;
    if (per_thread)
        thread_snap_take(&ts0);
    double c0 = process_cpu();
    gint64 t0 = g_get_monotonic_time();
    gint64 end = t0 + (gint64) (call_seconds * G_USEC_PER_SEC);
    while (g_get_monotonic_time() < end && !bus_error(c))
        g_usleep(100000);
    *wall = (double) (g_get_monotonic_time() - t0) / 1e6;
    *cpu = process_cpu() - c0;
    if (per_thread) {
        thread_snap_take(&ts1);
        thread_snap_report("webrtcbin", &ts0, &ts1, *wall);
    }
    g_mutex_lock(&rx->mu);
    rx->recording = false;
    g_mutex_unlock(&rx->mu);
    if (!bus_error(c))
        rc = 0;
out:
    g_mutex_lock(&c->lock);
    c->stop = true;
    g_mutex_unlock(&c->lock);
    for (int i = 0; i < 2; i++) {
        if (c->p[i].vsrc != NULL)
            gst_app_src_end_of_stream(GST_APP_SRC(c->p[i].vsrc));
        if (c->p[i].asrc != NULL)
            gst_app_src_end_of_stream(GST_APP_SRC(c->p[i].asrc));
        if (c->p[i].feeder != NULL)
            g_thread_join(c->p[i].feeder);
    }
    wbpair_unlink(&c->pair);
    wb_peer_free(&c->p[0]);
    wb_peer_free(&c->p[1]);
    g_mutex_clear(&c->lock);
    g_cond_clear(&c->cond);
    g_free(c->why);
    g_free(c);
    return rc;
}

static bool have_elements(void)
{
    const char *need[] = {
        "webrtcbin", "nicesrc",   "nicesink",    "dtlssrtpenc", "dtlssrtpdec",
        "rtpbin",    "appsrc",    "vp8enc",      "vp8dec",      "opusenc",
        "opusdec",   "rtpvp8pay", "rtpvp8depay", "rtpopuspay",  "rtpopusdepay",
        "fakesink",  "queue"};
    for (size_t i = 0; i < G_N_ELEMENTS(need); i++) {
        GstElementFactory *f = gst_element_factory_find(need[i]);
        if (f == NULL) {
            fprintf(stderr, "media-call: GStreamer element %s missing\n",
                    need[i]);
            return false;
        }
        gst_object_unref(f);
    }
    return true;
}

/* The codec work of one side of the call alone, on this thread, for
 * @p seconds of media: synthetic picture fill, VP8 encode (the session's
 * settings at the call's bitrate), VP8 decode and stamp read-back, Opus
 * encode (the session's settings) and decode of the tone bursts. Both
 * calls do this work with the same libraries and settings, so it is the
 * floor under either's CPU per side; what is above it is the rest of the
 * stack (threads, queues, RTP, SRTP, ICE, jitter buffer). */
static int codec_floor(double seconds)
{
    media_vp8_enc_config vc = MEDIA_VP8_ENC_CONFIG_INIT;
    vc.width = WIDTH;
    vc.height = HEIGHT;
    vc.fps = FPS;
    vc.bitrate_kbps = video_kbps;
    media_opus_enc_config oc = MEDIA_OPUS_ENC_CONFIG_INIT;
    oc.bitrate_bps = 32000;
    oc.dtx = false;
    media_vp8_enc *venc = NULL;
    media_vp8_dec *vdec = NULL;
    media_opus_enc *aenc = NULL;
    media_opus_dec *adec = NULL;
    media_i420 pic = {0}, out;
    int rc = -1;
    if (media_vp8_enc_new(&venc, &vc) != MEDIA_OK ||
        media_vp8_dec_new(&vdec, 1) != MEDIA_OK ||
        media_opus_enc_new(&aenc, &oc) != MEDIA_OK ||
        media_opus_dec_new(&adec, 1) != MEDIA_OK ||
        media_i420_alloc(&pic, WIDTH, HEIGHT) != MEDIA_OK) {
        fprintf(stderr, "media-call: codecs for the floor failed\n");
        goto out;
    }
    media_synth_audio syn;
    media_synth_audio_init(&syn, 1, 100);
    static int16_t pcm[MEDIA_OPUS_FRAME], dec[5760];
    uint8_t pkt[MEDIA_OPUS_MAX_PACKET];
    int vframes = (int) (seconds * FPS), aframes = (int) (seconds * 50);
    double v0 = thread_cpu();
    for (int i = 0; i < vframes; i++) {
        media_vp8_frame f;
        bool corrupt;
        uint32_t n;
        int64_t cap;
        media_synth_video_fill(&pic, (uint32_t) i, g_get_monotonic_time());
        if (media_vp8_enc_encode(venc, &pic, (int64_t) i * 33333, &f) !=
                MEDIA_OK ||
            (f.len > 0 && (media_vp8_dec_decode(vdec, f.data, f.len, &out,
                                                &corrupt) != MEDIA_OK ||
                           media_synth_read(&out, &n, &cap) != MEDIA_OK))) {
            fprintf(stderr, "media-call: floor: VP8 round trip failed\n");
            goto out;
        }
    }
    double vcpu = thread_cpu() - v0;
    double a0 = thread_cpu();
    for (int i = 0; i < aframes; i++) {
        size_t len = 0;
        media_synth_audio_fill(&syn, pcm, MEDIA_OPUS_FRAME);
        if (media_opus_enc_encode(aenc, pcm, pkt, sizeof pkt, &len) !=
                MEDIA_OK ||
            media_opus_dec_decode(adec, pkt, len, dec, G_N_ELEMENTS(dec)) <=
                0) {
            fprintf(stderr, "media-call: floor: Opus round trip failed\n");
            goto out;
        }
    }
    double acpu = thread_cpu() - a0;
    printf("floor per_side_s_per_min=%.2f video_s_per_min=%.2f "
           "audio_s_per_min=%.2f vp8_ms_per_frame=%.2f\n",
           (vcpu + acpu) / seconds * 60, vcpu / seconds * 60,
           acpu / seconds * 60, vcpu * 1000 / vframes);
    rc = 0;
out:
    media_i420_free(&pic);
    media_vp8_enc_free(venc);
    media_vp8_dec_free(vdec);
    media_opus_enc_free(aenc);
    media_opus_dec_free(adec);
    return rc;
}

/* ====================================================================== */
/* VP8 1280x720@30 on one core */

static int encode720(double seconds)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
        perror("media-call: sched_setaffinity (continuing unpinned)");
    media_vp8_enc_config c = MEDIA_VP8_ENC_CONFIG_INIT;
    c.width = 1280;
    c.height = 720;
    c.fps = 30;
    c.bitrate_kbps = 1500;
    c.threads = 1;
    media_vp8_enc *enc;
    if (media_vp8_enc_new(&enc, &c) != MEDIA_OK) {
        fprintf(stderr, "media-call: VP8 encoder 1280x720 failed\n");
        return -1;
    }
    int frames = (int) (seconds * 30);
    if (frames < 30)
        frames = 30;
    /* Pictures made beforehand: only encoding is timed. Ten distinct
     * pictures cycled would repeat content; each frame is its own. */
    media_i420 *pics = g_new0(media_i420, frames);
    for (int i = 0; i < frames; i++) {
        if (media_i420_alloc(&pics[i], 1280, 720) != MEDIA_OK) {
            fprintf(stderr, "media-call: out of memory\n");
            exit(1);
        }
        media_synth_video_fill(&pics[i], (uint32_t) i, (int64_t) i * 33333);
    }
    size_t bytes = 0;
    double worst = 0;
    double c0 = thread_cpu();
    for (int i = 0; i < frames; i++) {
        double f0 = thread_cpu();
        media_vp8_frame f;
        if (media_vp8_enc_encode(enc, &pics[i], (int64_t) i * 33333, &f) !=
            MEDIA_OK) {
            fprintf(stderr, "media-call: encode failed\n");
            exit(1);
        }
        double dt = thread_cpu() - f0;
        if (dt > worst)
            worst = dt;
        bytes += f.len;
    }
    double cpu = thread_cpu() - c0;
    double fps = frames / cpu;
    printf("encode720 frames=%d cpu_used=%d ms_per_frame=%.2f fps_cpu=%.1f "
           "worst_ms=%.1f kbps=%.0f realtime=%s\n",
           frames, c.cpu_used, cpu * 1000 / frames, fps, worst * 1000,
           (double) bytes * 8.0 / (frames / 30.0) / 1000,
           fps >= 30 ? "yes" : "no");
    for (int i = 0; i < frames; i++)
        media_i420_free(&pics[i]);
    g_free(pics);
    media_vp8_enc_free(enc);
    return 0;
}

/* ====================================================================== */

static void usage(void)
{
    fprintf(stderr,
            "usage: media-call [-t SECONDS] [--kbps N] [--verbose] "
            "[--threads] [--no-lip-sync] [--no-webrtcbin]\n"
            "  -t SECONDS  length of each call (default 10, 2..600)\n"
            "  --kbps N    VP8 bitrate of both calls (default 600)\n"
            "  --threads   CPU per thread name of each call\n"
            "  --no-lip-sync  our sessions do not delay video to audio\n");
}

static bool parse_num(const char *s, double lo, double hi, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = g_ascii_strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    bool with_webrtcbin = true;
    gst_init(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        double v;
        if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
            if (!parse_num(argv[++i], 2, 600, &v)) {
                fprintf(stderr, "media-call: -t needs 2..600 seconds\n");
                return 2;
            }
            call_seconds = v;
        } else if (strcmp(argv[i], "--kbps") == 0 && i + 1 < argc) {
            if (!parse_num(argv[++i], 100, 5000, &v)) {
                fprintf(stderr, "media-call: --kbps needs 100..5000\n");
                return 2;
            }
            video_kbps = (int) v;
        } else if (strcmp(argv[i], "--verbose") == 0) {
            verbose = true;
        } else if (strcmp(argv[i], "--no-lip-sync") == 0) {
            lip_sync = false;
        } else if (strcmp(argv[i], "--threads") == 0) {
            per_thread = true;
        } else if (strcmp(argv[i], "--no-webrtcbin") == 0) {
            with_webrtcbin = false;
        } else {
            usage();
            return 2;
        }
    }
    if (with_webrtcbin && !have_elements())
        with_webrtcbin = false;

    delays ours_rx = {0}, wb_rx = {0};
    g_mutex_init(&ours_rx.mu);
    g_mutex_init(&wb_rx.mu);
    ours_rx.delays = g_array_new(FALSE, FALSE, sizeof(int64_t));
    wb_rx.delays = g_array_new(FALSE, FALSE, sizeof(int64_t));
    int status = 0;
    double ow = 0, oc = 0, ww = 0, wc = 0;
    if (run_ours(&ours_rx, &ow, &oc) != 0) {
        status = 1;
    } else {
        delays_print(&ours_rx, "ours");
        printf("cpu ours seconds=%.2f cpu_s=%.2f per_side_s_per_min=%.2f "
               "kbps=%d\n",
               ow, oc, oc / ow * 60 / 2, video_kbps);
        fflush(stdout);
    }
    if (status == 0 && with_webrtcbin) {
        if (run_webrtcbin(&wb_rx, &ww, &wc) != 0) {
            status = 1;
        } else {
            delays_print(&wb_rx, "webrtcbin");
            printf("cpu webrtcbin seconds=%.2f cpu_s=%.2f "
                   "per_side_s_per_min=%.2f kbps=%d\n",
                   ww, wc, wc / ww * 60 / 2, video_kbps);
            printf("cpu ratio=%.3f\n", (oc / ow) / (wc / ww));
        }
        fflush(stdout);
    }
    if (status == 0 && codec_floor(call_seconds) != 0)
        status = 1;
    if (encode720(call_seconds) != 0)
        status = 1;
    g_array_unref(ours_rx.delays);
    g_array_unref(wb_rx.delays);
    g_mutex_clear(&ours_rx.mu);
    g_mutex_clear(&wb_rx.mu);
    if (status == 0 && !with_webrtcbin)
        return 77;
    return status;
}
