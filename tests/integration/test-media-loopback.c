/*
 * test-media-loopback: two media sessions over two libvid transports in
 * one process, on 127.0.0.1. The synthetic camera's frame numbers and
 * capture times are read back from the decoded pictures; the audio is
 * checked for continuity (every 20 ms accounted for: decoded, FEC or PLC).
 * Impairment comes from the transport's seeded drop hook and from the
 * session's send-filter test hook (for a keyframe lost on purpose).
 * In the external-source tests A's pictures and audio are pushed from a
 * thread of the test (as a camera's and a microphone's would be):
 * stamped synthetic pictures at 30 fps and stereo tone bursts in odd-sized
 * chunks. In the device test they come from libvid/device's capture
 * pipelines with the synthetic GStreamer sources injected (the same path
 * as a webcam and a microphone).
 *
 * Timings asserted are generous (2 cores, possibly loaded); measured
 * figures are printed with g_test_message (meson test -v).
 */
#include <string.h>
#include <sys/resource.h>

#include <glib-object.h>
#include <glib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "device.h"
#include "playout.h"
#include "rtp.h"
#include "session.h"
#include "transport.h"

#define CONNECT_US (20 * G_USEC_PER_SEC)

typedef struct fixture fixture;

/* What one side received, written by its decode threads. */
typedef struct {
    GMutex mu;
    uint64_t frames;
    uint64_t synth_bad;
    uint64_t out_of_order;
    bool have_frame;
    uint32_t last_frame_no;
    int64_t last_frame_us;
    GArray *delays_us; /* capture -> decoded, int64_t */
    uint64_t keyframes;
    int64_t last_keyframe_us;
    uint32_t last_keyframe_ts;
    uint64_t audio_frames, audio_concealed, audio_fec, audio_gaps;
    bool have_audio;
    uint32_t last_audio_ts;
    uint64_t black;        /* pictures without a stamp that are black */
    int64_t last_stamp_us; /* decoded_us of the last stamped picture */
    /* the encoded taps */
    uint64_t enc_video, enc_audio;
    int enc_first_key; /* -1: none yet */
} received;

/* Pushes stamped pictures (30 fps) and stereo audio in odd-sized chunks
 * into a session with external sources, from its own thread. */
typedef struct {
    media_session *s;
    GThread *thread;
    gint stop;
    uint32_t frames;
} pusher;

typedef struct {
    fixture *f;
    transport *t;
    X509 *cert;
    EVP_PKEY *key;
    char fp[128];
    transport_state state;
    media_session *s;
    received rx;
    void *other;
} peer;

struct fixture {
    GMainContext *ctx;
    peer a, b;
    bool external; /* A's sources are pushed by f->push */
    pusher push;
    bool device; /* A's sources are device_camera / device_mic */
    bool no_rtx; /* both sessions as after an SDP without RTX */
    device_camera *cam;
    device_mic *mic;
};

static void make_cert(X509 **cert, EVP_PKEY **key)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    g_assert_nonnull(k);
    X509 *x = X509_new();
    g_assert_nonnull(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), g_random_int_range(1, G_MAXINT));
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
                               (const unsigned char *) "vid-media-test", -1, -1,
                               0);
    X509_set_issuer_name(x, n);
    X509_set_pubkey(x, k);
    g_assert_cmpint(X509_sign(x, k, EVP_sha256()), >, 0);
    *cert = x;
    *key = k;
}

/* Runs the network context for @p us (the sessions' threads run anyway). */
static void pump(fixture *f, gint64 us)
{
    gint64 end = g_get_monotonic_time() + us;
    while (g_get_monotonic_time() < end) {
        GSource *s = g_timeout_source_new(5);
        g_source_set_dummy_callback(s);
        g_source_attach(s, f->ctx);
        g_main_context_iteration(f->ctx, TRUE);
        g_source_destroy(s);
        g_source_unref(s);
    }
}

static gboolean wait_for(fixture *f, gboolean (*cond)(fixture *), gint64 us)
{
    gint64 end = g_get_monotonic_time() + us;
    while (!cond(f)) {
        if (g_get_monotonic_time() > end)
            return FALSE;
        pump(f, 5000);
    }
    return TRUE;
}

static void on_candidate(transport *t, const char *cand, void *ud)
{
    (void) t;
    peer *p = ud;
    peer *o = p->other;
    if (cand == NULL)
        transport_remote_candidates_done(o->t);
    else
        g_assert_cmpint(transport_add_remote_candidate(o->t, cand), ==, 0);
}

static void on_state(transport *t, transport_state st, void *ud)
{
    (void) t;
    ((peer *) ud)->state = st;
}

static void on_packet(transport *t, bool is_rtcp, uint8_t *buf, size_t len,
                      void *ud)
{
    (void) t;
    peer *p = ud;
    if (p->s != NULL)
        media_session_receive(p->s, is_rtcp, buf, len);
}

static void on_video(const media_session_video_frame *vf, void *ud)
{
    received *r = &((peer *) ud)->rx;
    g_mutex_lock(&r->mu);
    r->frames++;
    const media_i420 *pic = vf->pic;
    const uint8_t *mid_y = pic->y + (size_t) (pic->height / 2) * pic->stride_y;
    const uint8_t *mid_u = pic->u + (size_t) (pic->height / 4) * pic->stride_u;
    bool black = !vf->synth_ok && ABS(mid_y[pic->width / 2] - 16) <= 4 &&
                 ABS(mid_y[pic->width / 4] - 16) <= 4 &&
                 ABS(mid_u[pic->width / 4] - 128) <= 4;
    if (black) {
        r->black++;
    } else if (!vf->synth_ok) {
        r->synth_bad++;
    } else {
        r->last_stamp_us = vf->decoded_us;
        if (r->have_frame && vf->frame_no <= r->last_frame_no)
            r->out_of_order++;
        r->have_frame = true;
        r->last_frame_no = vf->frame_no;
        int64_t d = vf->decoded_us - vf->capture_us;
        g_array_append_val(r->delays_us, d);
    }
    r->last_frame_us = vf->decoded_us;
    if (vf->keyframe) {
        r->keyframes++;
        r->last_keyframe_us = vf->decoded_us;
        r->last_keyframe_ts = vf->rtp_ts;
    }
    g_mutex_unlock(&r->mu);
}

static void on_encoded_video(const uint8_t *frame, size_t len, uint32_t rtp_ts,
                             bool keyframe, void *ud)
{
    received *r = &((peer *) ud)->rx;
    (void) rtp_ts;
    g_assert_nonnull(frame);
    g_assert_cmpuint(len, >, 0);
    g_mutex_lock(&r->mu);
    if (r->enc_first_key < 0)
        r->enc_first_key = keyframe;
    r->enc_video++;
    g_mutex_unlock(&r->mu);
}

static void on_encoded_audio(const uint8_t *packet, size_t len, uint32_t rtp_ts,
                             void *ud)
{
    received *r = &((peer *) ud)->rx;
    (void) rtp_ts;
    g_assert_nonnull(packet);
    g_assert_cmpuint(len, >, 0);
    g_mutex_lock(&r->mu);
    r->enc_audio++;
    g_mutex_unlock(&r->mu);
}

static void on_audio(const media_session_audio_frame *af, void *ud)
{
    received *r = &((peer *) ud)->rx;
    g_mutex_lock(&r->mu);
    g_assert_cmpuint(af->frames, ==, MEDIA_OPUS_FRAME);
    if (r->have_audio && af->rtp_ts != r->last_audio_ts + MEDIA_OPUS_FRAME)
        r->audio_gaps++;
    r->have_audio = true;
    r->last_audio_ts = af->rtp_ts;
    r->audio_frames++;
    if (af->fec)
        r->audio_fec++;
    else if (af->concealed)
        r->audio_concealed++;
    g_mutex_unlock(&r->mu);
}

static const char *const loopback[] = {"127.0.0.1", NULL};

static void peer_new(fixture *f, peer *p, peer *other, bool controlling)
{
    p->f = f;
    p->other = other;
    g_mutex_init(&p->rx.mu);
    p->rx.delays_us = g_array_new(FALSE, FALSE, sizeof(int64_t));
    p->rx.enc_first_key = -1;
    make_cert(&p->cert, &p->key);
    transport_config cfg = TRANSPORT_CONFIG_INIT;
    cfg.context = f->ctx;
    cfg.controlling = controlling;
    cfg.dtls_client = !controlling;
    cfg.cert = p->cert;
    cfg.key = p->key;
    cfg.local_addresses = loopback;
    cfg.on_candidate = on_candidate;
    cfg.on_state = on_state;
    cfg.on_packet = on_packet;
    cfg.user_data = p;
    g_assert_cmpint(transport_new(&p->t, &cfg), ==, 0);
    g_assert_cmpint(transport_get_local_fingerprint(p->t, p->fp, sizeof p->fp),
                    ==, 0);
}

static void peer_clear(peer *p)
{
    media_session_free(p->s);
    p->s = NULL;
    transport_free(p->t);
    p->t = NULL;
    X509_free(p->cert);
    EVP_PKEY_free(p->key);
    g_array_unref(p->rx.delays_us);
    g_mutex_clear(&p->rx.mu);
}

static gboolean both_secure(fixture *f)
{
    return (f->a.state == TRANSPORT_STATE_SECURE &&
            f->b.state == TRANSPORT_STATE_SECURE) ||
           f->a.state >= TRANSPORT_STATE_FAILED ||
           f->b.state >= TRANSPORT_STATE_FAILED;
}

static void session_new(fixture *f, peer *p)
{
    media_session_config mc = MEDIA_SESSION_CONFIG_INIT;
    mc.context = f->ctx;
    mc.transport = p->t;
    mc.on_video = on_video;
    mc.on_audio = on_audio;
    mc.on_encoded_video = on_encoded_video;
    mc.on_encoded_audio = on_encoded_audio;
    mc.user_data = p;
    /* A knows B's SSRCs (as from B's SDP) and ignores any other; B learns
     * A's from the first packets. */
    bool is_a = p == &f->a;
    mc.external_video = mc.external_audio = is_a && f->external;
    mc.no_rtx = f->no_rtx;
    mc.video_ssrc = is_a ? 0xA0000001 : 0xB0000001;
    mc.rtx_ssrc = is_a ? 0xA0000002 : 0xB0000002;
    mc.audio_ssrc = is_a ? 0xA0000003 : 0xB0000003;
    if (is_a) {
        mc.remote_video_ssrc = 0xB0000001;
        mc.remote_rtx_ssrc = 0xB0000002;
        mc.remote_audio_ssrc = 0xB0000003;
    }
    g_assert_cmpint(media_session_new(&p->s, &mc), ==, 0);
}

static gpointer pusher_main(gpointer data)
{
    pusher *p = data;
    static const size_t chunks[] = {137, 480, 1001, 7, 2000, 333, 960, 1};
    media_i420 pic;
    g_assert_cmpint(media_i420_alloc(&pic, 640, 480), ==, 0);
    media_synth_audio syn;
    g_assert_cmpint(media_synth_audio_init(&syn, 2, 500), ==, 0);
    int16_t *pcm = g_new(int16_t, 2 * 2000);
    size_t ci = 0;
    uint64_t samples = 0;
    int64_t start = g_get_monotonic_time(), next_video = start;
    while (!g_atomic_int_get(&p->stop)) {
        int64_t now = g_get_monotonic_time();
        if (now >= next_video) {
            g_assert_cmpint(media_synth_video_fill(&pic, p->frames, now), ==,
                            0);
            g_assert_cmpint(media_session_push_video(p->s, &pic, now), ==, 0);
            p->frames++;
            next_video += G_USEC_PER_SEC / 30;
            if (next_video < now - 100000)
                next_video = now;
        }
        uint64_t due = (uint64_t) (now - start) * 48 / 1000;
        while (samples + chunks[ci] <= due) {
            size_t n = chunks[ci];
            ci = (ci + 1) % G_N_ELEMENTS(chunks);
            media_synth_audio_fill(&syn, pcm, n);
            g_assert_cmpint(
                media_session_push_audio(
                    p->s, pcm, n, 2, start + (int64_t) (samples * 1000 / 48)),
                ==, 0);
            samples += n;
        }
        g_usleep(2000);
    }
    g_free(pcm);
    media_i420_free(&pic);
    return NULL;
}

static void on_camera(const media_i420 *pic, int64_t capture_us, void *ud)
{
    g_assert_cmpint(media_session_push_video(ud, pic, capture_us), ==, 0);
}

static void on_microphone(const int16_t *pcm, size_t frames, int channels,
                          int64_t capture_us, void *ud)
{
    g_assert_cmpint(
        media_session_push_audio(ud, pcm, frames, channels, capture_us), ==, 0);
}

/* device_camera / device_mic with the synthetic sources, pushing into A. */
static void start_devices(fixture *f)
{
    char why[256] = "";
    g_assert_cmpint(device_init(why, sizeof why), ==, DEVICE_OK);
    device_camera_config cc = DEVICE_CAMERA_CONFIG_INIT;
    cc.source = device_synth_camera(640, 480, 30);
    g_assert_nonnull(cc.source);
    g_assert_cmpint(
        device_camera_new(&f->cam, &cc, on_camera, f->a.s, why, sizeof why), ==,
        DEVICE_OK);
    device_mic_config mc = DEVICE_MIC_CONFIG_INIT;
    mc.channels = 2;
    mc.source = device_synth_microphone(2, 500);
    g_assert_nonnull(mc.source);
    g_assert_cmpint(
        device_mic_new(&f->mic, &mc, on_microphone, f->a.s, why, sizeof why),
        ==, DEVICE_OK);
    g_assert_cmpint(device_camera_start(f->cam, why, sizeof why), ==,
                    DEVICE_OK);
    g_assert_cmpint(device_mic_start(f->mic, why, sizeof why), ==, DEVICE_OK);
}

static void fixture_setup(fixture *f, gconstpointer data)
{
    (void) data;
    bool external = f->external, device = f->device, no_rtx = f->no_rtx;
    memset(f, 0, sizeof *f);
    f->external = external || device;
    f->device = device;
    f->no_rtx = no_rtx;
    f->ctx = g_main_context_new();
    g_main_context_push_thread_default(f->ctx);
    peer_new(f, &f->a, &f->b, true);
    peer_new(f, &f->b, &f->a, false);
    char u[64], pw[64];
    g_assert_cmpint(
        transport_get_local_credentials(f->a.t, u, sizeof u, pw, sizeof pw), ==,
        0);
    g_assert_cmpint(transport_set_remote_credentials(f->b.t, u, pw), ==, 0);
    g_assert_cmpint(
        transport_get_local_credentials(f->b.t, u, sizeof u, pw, sizeof pw), ==,
        0);
    g_assert_cmpint(transport_set_remote_credentials(f->a.t, u, pw), ==, 0);
    g_assert_cmpint(transport_set_remote_fingerprints(f->a.t, f->b.fp, f->b.fp),
                    ==, 0);
    g_assert_cmpint(transport_set_remote_fingerprints(f->b.t, f->a.fp, f->a.fp),
                    ==, 0);
    session_new(f, &f->a);
    session_new(f, &f->b);
    g_assert_cmpint(transport_gather(f->a.t), ==, 0);
    g_assert_cmpint(transport_gather(f->b.t), ==, 0);
    g_assert_true(wait_for(f, both_secure, CONNECT_US));
    g_assert_cmpint(f->a.state, ==, TRANSPORT_STATE_SECURE);
    g_assert_cmpint(f->b.state, ==, TRANSPORT_STATE_SECURE);
    g_assert_cmpint(media_session_start(f->a.s), ==, 0);
    g_assert_cmpint(media_session_start(f->b.s), ==, 0);
    g_assert_cmpint(media_session_start(f->a.s), ==, MEDIA_SESSION_ESTATE);
    if (f->device) {
        start_devices(f);
    } else if (f->external) {
        f->push.s = f->a.s;
        f->push.thread = g_thread_new("test-push", pusher_main, &f->push);
    }
}

/* The same with RTX off on both sides. */
static void fixture_setup_no_rtx(fixture *f, gconstpointer data)
{
    f->no_rtx = true;
    fixture_setup(f, data);
}

/* The same with A's camera and microphone from libvid/device. */
static void fixture_setup_device(fixture *f, gconstpointer data)
{
    f->device = true;
    fixture_setup(f, data);
}

/* The same with A's camera and microphone pushed from the test. */
static void fixture_setup_external(fixture *f, gconstpointer data)
{
    f->external = true;
    fixture_setup(f, data);
}

static void fixture_teardown(fixture *f, gconstpointer data)
{
    (void) data;
    if (f->push.thread != NULL) { /* stop pushing before the free */
        g_atomic_int_set(&f->push.stop, 1);
        g_thread_join(f->push.thread);
    }
    device_camera_free(f->cam); /* no callback runs after these */
    device_mic_free(f->mic);
    peer_clear(&f->a);
    peer_clear(&f->b);
    pump(f, 50000);
    g_main_context_pop_thread_default(f->ctx);
    g_main_context_unref(f->ctx);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

static double percentile_ms(GArray *a, double q)
{
    if (a->len == 0)
        return -1;
    int64_t *v = g_memdup2(a->data, a->len * sizeof(int64_t));
    qsort(v, a->len, sizeof *v, cmp_i64);
    size_t i = (size_t) (q * (a->len - 1) + 0.5);
    double r = v[i] / 1000.0;
    g_free(v);
    return r;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void report(const char *name, peer *sender, peer *receiver)
{
    media_session_stats ss, rs;
    media_session_get_stats(sender->s, &ss);
    media_session_get_stats(receiver->s, &rs);
    received *r = &receiver->rx;
    g_mutex_lock(&r->mu);
    g_test_message(
        "%s: sent %" G_GUINT64_FORMAT " frames (%" G_GUINT64_FORMAT
        " key, %.1f fps, %" G_GUINT64_FORMAT " kbit/s, target %u kbit/s), "
        "decoded %" G_GUINT64_FORMAT
        " (%dx%d, %.1f fps, dropped %" G_GUINT64_FORMAT
        ", bad %" G_GUINT64_FORMAT ", out of order %" G_GUINT64_FORMAT
        "), capture->decoded p50 %.1f ms p95 %.1f ms; "
        "NACKed %" G_GUINT64_FORMAT ", RTX %" G_GUINT64_FORMAT
        ", PLI %" G_GUINT64_FORMAT "; rtt %.1f ms, jitter %.1f ms, jb %.1f ms; "
        "audio %" G_GUINT64_FORMAT " frames (%" G_GUINT64_FORMAT
        " PLC, %" G_GUINT64_FORMAT " FEC, %" G_GUINT64_FORMAT
        " gaps); A/V offset %.1f ms (sync delay audio %.1f, video %.1f ms)",
        name, ss.frames_encoded, ss.keyframes_sent, ss.fps_sent,
        ss.video_bps_sent / 1000, ss.target_bps / 1000, r->frames,
        rs.recv_width, rs.recv_height, rs.fps_decoded, rs.frames_dropped,
        r->synth_bad, r->out_of_order, percentile_ms(r->delays_us, 0.5),
        percentile_ms(r->delays_us, 0.95), rs.nacks_sent, rs.rtx_received,
        rs.plis_sent, ss.rtt_us / 1000.0, rs.video_jitter_us / 1000.0,
        rs.video_jb_delay_us / 1000.0, r->audio_frames, r->audio_concealed,
        r->audio_fec, r->audio_gaps, rs.av_offset_us / 1000.0,
        rs.audio_sync_delay_us / 1000.0, rs.video_sync_delay_us / 1000.0);
    g_mutex_unlock(&r->mu);
}

/* Frames arrived in order and intact, at least @p min_share of those sent;
 * audio without gaps. */
static void check_direction(peer *sender, peer *receiver, double min_share,
                            double seconds)
{
    media_session_stats ss;
    media_session_get_stats(sender->s, &ss);
    received *r = &receiver->rx;
    g_mutex_lock(&r->mu);
    g_assert_cmpuint(r->synth_bad, ==, 0);
    g_assert_cmpuint(r->out_of_order, ==, 0);
    g_assert_cmpuint(ss.frames_encoded, >, 0);
    g_assert_cmpfloat((double) r->frames, >=,
                      min_share * (double) ss.frames_encoded);
    g_assert_cmpuint(r->audio_gaps, ==, 0);
    /* 50 per second; allow for start-up and a loaded machine */
    g_assert_cmpfloat((double) r->audio_frames, >=, 50 * seconds * 0.8);
    g_mutex_unlock(&r->mu);
}

static void test_clean(fixture *f, gconstpointer data)
{
    (void) data;
    double cpu0 = cpu_seconds();
    gint64 t0 = g_get_monotonic_time();
    pump(f, 5 * G_USEC_PER_SEC);
    double wall = (g_get_monotonic_time() - t0) / 1e6;
    double cpu = cpu_seconds() - cpu0;
    report("A->B clean", &f->a, &f->b);
    report("B->A clean", &f->b, &f->a);
    g_test_message("CPU: %.2f s for %.2f s of a two-way call with both "
                   "sides in this process (%.0f%% of one core; %.1f CPU s "
                   "per minute per side)",
                   cpu, wall, 100 * cpu / wall, cpu / wall * 60 / 2);
    check_direction(&f->a, &f->b, 0.9, 5);
    check_direction(&f->b, &f->a, 0.9, 5);
    media_session_stats st;
    media_session_get_stats(f->b.s, &st);
    g_assert_cmpint(st.recv_width, ==, 640);
    g_assert_cmpint(st.recv_height, ==, 480);
    g_assert_cmpuint(st.frames_decoded, >, 0);
    media_session_get_stats(f->a.s, &st);
    g_assert_cmpint(st.rtt_us, >=, 0); /* RTT known from the RRs */
    g_assert_cmpuint(st.keyframes_sent, >=, 1);
    /* Lip sync has measured and corrected the A/V offset (the audio
     * buffer's 20 ms floor against video's 5 ms). */
    peer *rx[2] = {&f->a, &f->b};
    for (int i = 0; i < 2; i++) {
        media_session_get_stats(rx[i]->s, &st);
        g_assert_cmpint(st.av_offset_us, !=, 0);
        g_assert_cmpint(ABS(st.av_offset_us), <, 40000);
    }
}

static void impair(fixture *f, unsigned pct, uint64_t seed)
{
    transport_impairment imp = {.seed = seed, .drop_pct = pct};
    g_assert_cmpint(transport_set_impairment(f->a.t, pct ? &imp : NULL), ==, 0);
    imp.seed = seed * 7 + 1;
    g_assert_cmpint(transport_set_impairment(f->b.t, pct ? &imp : NULL), ==, 0);
}

static void test_loss(fixture *f, gconstpointer data)
{
    unsigned pct = GPOINTER_TO_UINT(data);
    impair(f, pct, 42 + pct);
    pump(f, 6 * G_USEC_PER_SEC);
    char name[64];
    g_snprintf(name, sizeof name, "A->B %u%% loss", pct);
    report(name, &f->a, &f->b);
    g_snprintf(name, sizeof name, "B->A %u%% loss", pct);
    report(name, &f->b, &f->a);
    /* Video keeps flowing thanks to NACK; audio is complete (PLC/FEC). */
    check_direction(&f->a, &f->b, 0.75, 6);
    check_direction(&f->b, &f->a, 0.75, 6);
    peer *rx[2] = {&f->a, &f->b};
    for (int i = 0; i < 2; i++) {
        media_session_stats st;
        media_session_get_stats(rx[i]->s, &st);
        g_assert_cmpuint(st.nacks_sent, >, 0);
        g_assert_cmpuint(st.rtx_received, >, 0);
        g_mutex_lock(&rx[i]->rx.mu);
        g_assert_cmpuint(rx[i]->rx.audio_concealed + rx[i]->rx.audio_fec, >, 0);
        /* frames still arriving at the end */
        g_assert_cmpint(g_get_monotonic_time() - rx[i]->rx.last_frame_us, <,
                        G_USEC_PER_SEC);
        g_mutex_unlock(&rx[i]->rx.mu);
    }
    media_session_stats st;
    media_session_get_stats(f->a.s, &st);
    g_assert_cmpuint(st.nacks_received, >, 0);
    g_assert_cmpuint(st.retransmits_sent, >, 0);
}

/* Drops every packet (and retransmission) of one keyframe of A's. */
typedef struct {
    gint armed;    /* drop the next keyframe */
    gint dropping; /* its timestamp is set */
    uint32_t ts;
    gint64 dropped_at; /* first packet dropped */
    unsigned dropped, dropped_rtx;
} kf_dropper;

static bool drop_keyframe(const uint8_t *buf, size_t len, void *ud)
{
    kf_dropper *d = ud;
    rtp_packet p;
    if (rtp_parse(&p, buf, len) != RTP_OK)
        return true;
    if (p.payload_type != 96 && p.payload_type != 97)
        return true;
    if (g_atomic_int_get(&d->dropping) && p.timestamp == d->ts) {
        if (p.payload_type == 97)
            d->dropped_rtx++;
        else
            d->dropped++;
        return false;
    }
    if (p.payload_type != 96 || !g_atomic_int_get(&d->armed))
        return true;
    rtp_vp8_desc desc;
    int n = rtp_vp8_desc_parse(&desc, p.payload, p.payload_len);
    if (n < 0 || !desc.start || desc.partition != 0)
        return true;
    rtp_vp8_frame_info fi;
    if (rtp_vp8_frame_info_parse(&fi, p.payload + n, p.payload_len - n) !=
            RTP_OK ||
        !fi.keyframe)
        return true;
    d->ts = p.timestamp;
    d->dropped_at = g_get_monotonic_time();
    d->dropped++;
    g_atomic_int_set(&d->armed, 0);
    g_atomic_int_set(&d->dropping, 1);
    return false;
}

static void test_keyframe_loss(fixture *f, gconstpointer data)
{
    (void) data;
    pump(f, 1500000);
    kf_dropper d = {0};
    media_session_test_set_send_filter(f->a.s, drop_keyframe, &d);
    media_session_stats before_b, before_a;
    media_session_get_stats(f->b.s, &before_b);
    media_session_get_stats(f->a.s, &before_a);
    g_atomic_int_set(&d.armed, 1);
    media_session_force_keyframe(f->a.s);
    gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (!g_atomic_int_get(&d.dropping) && g_get_monotonic_time() < end)
        pump(f, 5000);
    g_assert_true(g_atomic_int_get(&d.dropping));
    /* Wait for the next keyframe on screen. */
    gint64 kf_us = 0;
    end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (g_get_monotonic_time() < end) {
        pump(f, 5000);
        g_mutex_lock(&f->b.rx.mu);
        if (f->b.rx.last_keyframe_us > d.dropped_at &&
            f->b.rx.last_keyframe_ts != d.ts)
            kf_us = f->b.rx.last_keyframe_us;
        g_mutex_unlock(&f->b.rx.mu);
        if (kf_us != 0)
            break;
    }
    pump(f, 500000);
    media_session_test_set_send_filter(f->a.s, NULL, NULL);
    media_session_stats after_b, after_a;
    media_session_get_stats(f->b.s, &after_b);
    media_session_get_stats(f->a.s, &after_a);
    report("A->B keyframe lost", &f->a, &f->b);
    g_test_message(
        "keyframe (%u packets and %u retransmissions dropped) -> "
        "next keyframe decoded after %.0f ms; PLIs sent %" G_GUINT64_FORMAT
        ", received %" G_GUINT64_FORMAT,
        d.dropped, d.dropped_rtx,
        kf_us ? (kf_us - d.dropped_at) / 1000.0 : -1.0,
        after_b.plis_sent - before_b.plis_sent,
        after_a.plis_received - before_a.plis_received);
    g_assert_cmpint(kf_us, !=, 0);
    g_assert_cmpuint(after_b.plis_sent, >, before_b.plis_sent);
    g_assert_cmpuint(after_a.plis_received, >, before_a.plis_received);
    g_assert_cmpint(kf_us - d.dropped_at, <=, G_USEC_PER_SEC);
    g_mutex_lock(&f->b.rx.mu);
    g_assert_cmpuint(f->b.rx.out_of_order, ==, 0);
    g_assert_cmpuint(f->b.rx.synth_bad, ==, 0);
    g_mutex_unlock(&f->b.rx.mu);
}

static uint32_t target(peer *p)
{
    media_session_stats st;
    media_session_get_stats(p->s, &st);
    return st.target_bps;
}

static void test_rate(fixture *f, gconstpointer data)
{
    (void) data;
    pump(f, 3 * G_USEC_PER_SEC);
    uint32_t start = target(&f->a);
    impair(f, 15, 1234);
    uint32_t low = start;
    /* ~10 receiver reports, ~15 % of them lost too; each that arrives
     * with more than 10 % loss takes 1 - loss/2 off (RTCP intervals
     * with fewer losses only hold the rate). */
    for (int i = 0; i < 20; i++) {
        pump(f, 500000);
        low = MIN(low, target(&f->a));
    }
    impair(f, 0, 0);
    uint32_t end_loss = target(&f->a);
    uint32_t high = end_loss;
    for (int i = 0; i < 24; i++) {
        pump(f, 500000);
        high = MAX(high, target(&f->a));
    }
    g_test_message("target bitrate: %u kbit/s before, %u at the lowest "
                   "during 10 s of 15%% loss, %u at its end, %u after 12 s "
                   "clean",
                   start / 1000, low / 1000, end_loss / 1000, high / 1000);
    report("A->B after rate test", &f->a, &f->b);
    g_assert_cmpuint(low, <, start * 0.9);
    g_assert_cmpuint(high, >, low * 1.3);
}

/* Bad configurations are refused; junk from the network is counted and
 * dropped while the call goes on. */
static void test_bad_input(fixture *f, gconstpointer data)
{
    (void) data;
    media_session *s = NULL;
    media_session_config mc = MEDIA_SESSION_CONFIG_INIT;
    g_assert_cmpint(media_session_new(NULL, &mc), ==, MEDIA_SESSION_EINVAL);
    g_assert_cmpint(media_session_new(&s, NULL), ==, MEDIA_SESSION_EINVAL);
    g_assert_cmpint(media_session_new(&s, &mc), ==, MEDIA_SESSION_EINVAL);
    g_assert_null(s);
    mc.context = f->ctx;
    mc.transport = f->a.t;
    media_session_config bad = mc;
    bad.version = 99;
    g_assert_cmpint(media_session_new(&s, &bad), ==, MEDIA_SESSION_EINVAL);
    bad = mc;
    bad.width = 641;
    g_assert_cmpint(media_session_new(&s, &bad), ==, MEDIA_SESSION_EINVAL);
    bad = mc;
    bad.width = 64; /* below the synthetic camera's minimum */
    g_assert_cmpint(media_session_new(&s, &bad), ==, MEDIA_SESSION_EINVAL);
    bad = mc;
    bad.rtx_pt = 111; /* the audio payload type */
    g_assert_cmpint(media_session_new(&s, &bad), ==, MEDIA_SESSION_EINVAL);
    bad = mc;
    bad.video_pt = 200;
    g_assert_cmpint(media_session_new(&s, &bad), ==, MEDIA_SESSION_EINVAL);
    bad = mc;
    bad.video_mid = "has space";
    g_assert_cmpint(media_session_new(&s, &bad), ==, MEDIA_SESSION_EINVAL);
    bad = mc;
    bad.start_kbps = 50000;
    g_assert_cmpint(media_session_new(&s, &bad), ==, MEDIA_SESSION_EINVAL);
    bad = mc;
    bad.mid_ext_id = 15;
    g_assert_cmpint(media_session_new(&s, &bad), ==, MEDIA_SESSION_EINVAL);
    g_assert_null(s);
    g_assert_cmpint(media_session_start(NULL), ==, MEDIA_SESSION_EINVAL);
    media_session_free(NULL);
    media_session_receive(NULL, false, (const uint8_t *) "x", 1);

    /* Junk, truncated and unknown packets into a running session (whose
     * streams are established: a stray SSRC must not take them over). */
    pump(f, G_USEC_PER_SEC);
    GRand *rnd = g_rand_new_with_seed(7);
    uint8_t buf[1500];
    for (int i = 0; i < 2000; i++) {
        size_t len = (size_t) g_rand_int_range(rnd, 0, sizeof buf);
        for (size_t k = 0; k < len; k++)
            buf[k] = (uint8_t) g_rand_int(rnd);
        if (len > 1 && i % 2 == 0)
            buf[0] = 0x80; /* RTP version 2: reaches the parsers */
        if (len > 2 && i % 4 == 0)
            buf[1] = (uint8_t) g_rand_int_range(rnd, 200, 207); /* RTCP */
        bool rtcp = len > 1 && buf[1] >= 192 && buf[1] <= 223;
        media_session_receive(i % 3 == 0 ? f->a.s : f->b.s, rtcp, buf, len);
    }
    g_rand_free(rnd);
    pump(f, 3 * G_USEC_PER_SEC);
    media_session_stats st;
    media_session_get_stats(f->b.s, &st);
    g_assert_cmpuint(st.malformed, >, 0);
    media_session_get_stats(f->a.s, &st);
    g_assert_cmpuint(st.malformed, >, 0);
    report("A->B after junk", &f->a, &f->b);
    report("B->A after junk", &f->b, &f->a);
    check_direction(&f->a, &f->b, 0.8, 3);
    check_direction(&f->b, &f->a, 0.8, 3);
}

/* The encoded taps saw every frame/packet the receiver decoded, and the
 * first video frame was a keyframe. */
static void check_taps(peer *receiver)
{
    media_session_stats st;
    media_session_get_stats(receiver->s, &st);
    received *r = &receiver->rx;
    g_mutex_lock(&r->mu);
    g_test_message(
        "taps: %" G_GUINT64_FORMAT " VP8 frames (decoded %" G_GUINT64_FORMAT
        "), %" G_GUINT64_FORMAT " Opus packets (decoded %" G_GUINT64_FORMAT
        "), first frame key %d",
        r->enc_video, st.frames_decoded, r->enc_audio, st.audio_frames_decoded,
        r->enc_first_key);
    g_assert_cmpint(r->enc_first_key, ==, 1);
    g_assert_cmpuint(st.frames_decoded, >, 0);
    /* a tap runs before its decode: at most a few ahead */
    g_assert_cmpuint(r->enc_video, >=, st.frames_decoded);
    g_assert_cmpuint(r->enc_video, <=,
                     st.frames_decoded + st.decode_errors + 3);
    g_assert_cmpuint(r->enc_audio, >=, st.audio_frames_decoded);
    g_assert_cmpuint(r->enc_audio, <=, st.audio_frames_decoded + 3);
    g_mutex_unlock(&r->mu);
}

/* A's camera and microphone pushed from the test's thread: the stamped
 * pictures arrive intact and in order, the audio (pushed in odd-sized
 * stereo chunks) is decoded, not concealed. Wrong pushes are refused. */
static void test_external(fixture *f, gconstpointer data)
{
    (void) data;
    pump(f, 4 * G_USEC_PER_SEC);
    report("A->B external", &f->a, &f->b);
    report("B->A synthetic", &f->b, &f->a);
    check_direction(&f->a, &f->b, 0.9, 4);
    check_direction(&f->b, &f->a, 0.9, 4);
    media_session_stats sa, sb;
    media_session_get_stats(f->a.s, &sa);
    media_session_get_stats(f->b.s, &sb);
    g_test_message(
        "A pushed %" G_GUINT64_FORMAT " pictures (%" G_GUINT64_FORMAT
        " dropped, %" G_GUINT64_FORMAT " encoded), %" G_GUINT64_FORMAT
        " audio samples (%" G_GUINT64_FORMAT " dropped); B decoded "
        "%" G_GUINT64_FORMAT " audio frames (%" G_GUINT64_FORMAT " PLC)",
        sa.frames_pushed, sa.frames_push_dropped, sa.frames_encoded,
        sa.audio_samples_pushed, sa.audio_samples_push_dropped,
        sb.audio_frames_decoded, sb.audio_frames_concealed);
    g_assert_cmpuint(sa.frames_pushed, >=, 4 * 30 * 3 / 4);
    g_assert_cmpuint(sa.frames_push_dropped, <=, sa.frames_pushed / 10);
    g_assert_cmpuint(sa.frames_encoded, >=,
                     (sa.frames_pushed - sa.frames_push_dropped) * 9 / 10);
    g_assert_cmpuint(sa.audio_samples_pushed, >=, 48000 * 4 * 3 / 4);
    g_assert_cmpuint(sa.audio_samples_push_dropped, <=,
                     sa.audio_samples_pushed / 10);
    g_assert_cmpint(sb.recv_width, ==, 640);
    g_assert_cmpuint(sb.audio_frames_decoded, >=, 50 * 4 * 7 / 10);
    g_assert_cmpuint(sb.audio_frames_concealed, <=,
                     sb.audio_frames_decoded / 10);
    check_taps(&f->b);
    check_taps(&f->a);

    /* wrong pushes */
    media_i420 small, pic;
    g_assert_cmpint(media_i420_alloc(&small, 320, 240), ==, 0);
    g_assert_cmpint(media_i420_alloc(&pic, 640, 480), ==, 0);
    g_assert_cmpint(media_synth_video_fill(&pic, 0, 0), ==, 0);
    int16_t pcm[960] = {0};
    g_assert_cmpint(media_session_push_video(f->a.s, &small, 0), ==,
                    MEDIA_SESSION_EINVAL);
    g_assert_cmpint(media_session_push_video(f->a.s, NULL, 0), ==,
                    MEDIA_SESSION_EINVAL);
    g_assert_cmpint(media_session_push_video(NULL, &pic, 0), ==,
                    MEDIA_SESSION_EINVAL);
    media_i420 bad = pic;
    bad.stride_y = 100;
    g_assert_cmpint(media_session_push_video(f->a.s, &bad, 0), ==,
                    MEDIA_SESSION_EINVAL);
    g_assert_cmpint(media_session_push_video(f->b.s, &pic, 0), ==,
                    MEDIA_SESSION_ESTATE);
    g_assert_cmpint(media_session_push_audio(f->b.s, pcm, 960, 1, 0), ==,
                    MEDIA_SESSION_ESTATE);
    g_assert_cmpint(media_session_push_audio(f->a.s, pcm, 960, 0, 0), ==,
                    MEDIA_SESSION_EINVAL);
    g_assert_cmpint(media_session_push_audio(f->a.s, pcm, 96, 9, 0), ==,
                    MEDIA_SESSION_EINVAL);
    g_assert_cmpint(media_session_push_audio(f->a.s, NULL, 960, 1, 0), ==,
                    MEDIA_SESSION_EINVAL);
    g_assert_cmpint(media_session_push_audio(NULL, pcm, 960, 1, 0), ==,
                    MEDIA_SESSION_EINVAL);

    /* A session not started drops what is pushed (and counts it). */
    media_session_config mc = MEDIA_SESSION_CONFIG_INIT;
    mc.context = f->ctx;
    mc.transport = f->a.t;
    mc.external_video = mc.external_audio = true;
    media_session *c = NULL;
    g_assert_cmpint(media_session_new(&c, &mc), ==, 0);
    g_assert_cmpint(media_session_push_video(c, &pic, 0), ==, 0);
    g_assert_cmpint(media_session_push_audio(c, pcm, 960, 1, 0), ==, 0);
    media_session_stats sc;
    media_session_get_stats(c, &sc);
    g_assert_cmpuint(sc.frames_pushed, ==, 1);
    g_assert_cmpuint(sc.frames_push_dropped, ==, 1);
    g_assert_cmpuint(sc.audio_samples_pushed, ==, 960);
    g_assert_cmpuint(sc.audio_samples_push_dropped, ==, 960);
    media_session_free(c);
    media_i420_free(&small);
    media_i420_free(&pic);

    /* One second of audio in one push: 200 ms are kept, the rest dropped
     * (counted); the audio goes on. */
    int16_t *second = g_new0(int16_t, 48000);
    media_session_get_stats(f->a.s, &sa);
    media_session_get_stats(f->b.s, &sb);
    g_assert_cmpint(media_session_push_audio(f->a.s, second, 48000, 1, 0), ==,
                    0);
    g_free(second);
    pump(f, G_USEC_PER_SEC);
    media_session_stats sa2, sb2;
    media_session_get_stats(f->a.s, &sa2);
    media_session_get_stats(f->b.s, &sb2);
    g_test_message("1 s pushed at once: %" G_GUINT64_FORMAT
                   " samples dropped; B decoded %" G_GUINT64_FORMAT
                   " audio frames in the next second",
                   sa2.audio_samples_push_dropped -
                       sa.audio_samples_push_dropped,
                   sb2.audio_frames_decoded - sb.audio_frames_decoded);
    g_assert_cmpuint(sa2.audio_samples_push_dropped -
                         sa.audio_samples_push_dropped,
                     >=, 48000 - 9600);
    g_assert_cmpuint(sb2.audio_frames_decoded - sb.audio_frames_decoded, >=,
                     30);
}

typedef struct {
    uint64_t black, frames, audio_decoded;
    int64_t last_stamp_us;
} rx_snap;

static rx_snap snap(peer *p)
{
    media_session_stats st;
    media_session_get_stats(p->s, &st);
    g_mutex_lock(&p->rx.mu);
    rx_snap r = {p->rx.black, p->rx.frames, st.audio_frames_decoded,
                 p->rx.last_stamp_us};
    g_mutex_unlock(&p->rx.mu);
    return r;
}

/* Mute both sides (A pushed, B synthetic): black pictures at about 1 fps
 * and almost no audio; unmute: stamped pictures and audio again. */
static void test_mute(fixture *f, gconstpointer data)
{
    (void) data;
    peer *tx[2] = {&f->a, &f->b}, *rx[2] = {&f->b, &f->a};
    media_session_stats before[2], muted[2], after[2];
    rx_snap r0[2], r1[2], r2[2];
    pump(f, 2 * G_USEC_PER_SEC);
    for (int i = 0; i < 2; i++)
        media_session_get_stats(tx[i]->s, &before[i]);
    for (int i = 0; i < 2; i++)
        media_session_set_mute(tx[i]->s, true, true);
    gint64 muted_at = g_get_monotonic_time();
    for (int i = 0; i < 2; i++)
        r0[i] = snap(rx[i]);
    pump(f, 2500000);
    for (int i = 0; i < 2; i++) {
        media_session_get_stats(tx[i]->s, &muted[i]);
        r1[i] = snap(rx[i]);
    }
    media_session_stats rm;
    media_session_get_stats(f->b.s, &rm);
    for (int i = 0; i < 2; i++)
        media_session_set_mute(tx[i]->s, false, false);
    gint64 unmuted_at = g_get_monotonic_time();
    pump(f, 2500000);
    for (int i = 0; i < 2; i++) {
        media_session_get_stats(tx[i]->s, &after[i]);
        r2[i] = snap(rx[i]);
    }
    for (int i = 0; i < 2; i++) {
        g_test_message(
            "%s: video %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT
            " (muted) -> %" G_GUINT64_FORMAT " bit/s, audio %" G_GUINT64_FORMAT
            " -> %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT
            " bit/s; receiver: %" G_GUINT64_FORMAT
            " pictures (%" G_GUINT64_FORMAT
            " black) while muted, audio frames decoded %" G_GUINT64_FORMAT
            " muted, %" G_GUINT64_FORMAT " after",
            i == 0 ? "A (pushed)" : "B (synthetic)", before[i].video_bps_sent,
            muted[i].video_bps_sent, after[i].video_bps_sent,
            before[i].audio_bps_sent, muted[i].audio_bps_sent,
            after[i].audio_bps_sent, r1[i].frames - r0[i].frames,
            r1[i].black - r0[i].black,
            r1[i].audio_decoded - r0[i].audio_decoded,
            r2[i].audio_decoded - r1[i].audio_decoded);
        g_assert_true(muted[i].audio_muted && muted[i].video_muted);
        g_assert_false(after[i].audio_muted || after[i].video_muted);
        /* muted: a black picture a second, DTX audio */
        g_assert_cmpuint(muted[i].video_bps_sent, <,
                         before[i].video_bps_sent / 10);
        g_assert_cmpuint(muted[i].audio_bps_sent, <,
                         before[i].audio_bps_sent / 10);
        g_assert_cmpuint(r1[i].black - r0[i].black, >=, 2);
        g_assert_cmpuint(r1[i].frames - r0[i].frames, <=,
                         (r1[i].black - r0[i].black) + 15);
        g_assert_cmpint(r1[i].last_stamp_us, <, muted_at + 500000);
        g_assert_cmpuint(r1[i].audio_decoded - r0[i].audio_decoded, <, 50);
        /* unmuted: stamped pictures and real audio again */
        g_assert_cmpint(r2[i].last_stamp_us, >, unmuted_at);
        g_assert_cmpuint(after[i].video_bps_sent, >,
                         muted[i].video_bps_sent * 5);
        g_assert_cmpuint(after[i].audio_bps_sent, >,
                         before[i].audio_bps_sent / 2);
        g_assert_cmpuint(r2[i].audio_decoded - r1[i].audio_decoded, >=,
                         50 * 2 * 6 / 10);
        g_mutex_lock(&rx[i]->rx.mu);
        g_assert_cmpuint(rx[i]->rx.out_of_order, ==, 0);
        g_assert_cmpuint(rx[i]->rx.synth_bad, ==, 0);
        g_mutex_unlock(&rx[i]->rx.mu);
    }
    g_assert_cmpfloat(rm.fps_decoded, <=, 3);
}

/* A's camera and microphone through libvid/device's capture pipelines
 * (synthetic GStreamer sources, 640x480@30, stereo 10 ms buffers). */
static void test_device(fixture *f, gconstpointer data)
{
    (void) data;
    pump(f, 3 * G_USEC_PER_SEC);
    report("A->B devices", &f->a, &f->b);
    report("B->A synthetic", &f->b, &f->a);
    /* GStreamer's capture threads share the two cores with both calls
     * (and ASan in CI): a little more slack than the other tests */
    check_direction(&f->a, &f->b, 0.8, 3);
    check_direction(&f->b, &f->a, 0.8, 3);
    media_session_stats sa, sb;
    media_session_get_stats(f->a.s, &sa);
    media_session_get_stats(f->b.s, &sb);
    g_test_message("A pushed %" G_GUINT64_FORMAT " pictures (%" G_GUINT64_FORMAT
                   " dropped), %" G_GUINT64_FORMAT
                   " audio samples (%" G_GUINT64_FORMAT
                   " dropped); B decoded %" G_GUINT64_FORMAT
                   " audio frames (%" G_GUINT64_FORMAT " PLC)",
                   sa.frames_pushed, sa.frames_push_dropped,
                   sa.audio_samples_pushed, sa.audio_samples_push_dropped,
                   sb.audio_frames_decoded, sb.audio_frames_concealed);
    g_assert_cmpuint(sa.frames_pushed, >=, 3 * 30 * 3 / 4);
    g_assert_cmpuint(sa.audio_samples_pushed, >=, 48000 * 3 * 3 / 4);
    g_assert_cmpuint(sb.audio_frames_decoded, >=, 50 * 3 * 7 / 10);
    g_assert_cmpuint(sb.audio_frames_concealed, <=,
                     sb.audio_frames_decoded / 10);
    g_mutex_lock(&f->b.rx.mu);
    g_assert_cmpuint(f->b.rx.frames, >=, 3 * 30 * 3 / 4);
    g_mutex_unlock(&f->b.rx.mu);
}

/* Counts what A sends that is neither VP8 (96) nor Opus (111). */
static bool count_other_pt(const uint8_t *buf, size_t len, void *ud)
{
    rtp_packet p;
    if (rtp_parse(&p, buf, len) == RTP_OK && p.payload_type != 96 &&
        p.payload_type != 111)
        g_atomic_int_inc((gint *) ud);
    return true;
}

/* RTX not negotiated: with 5 % loss NACKs still go out but nothing is
 * resent (nor sent on the RTX payload type); video recovers through PLI
 * and keyframes (slowly: lost keyframes are not repaired), audio through
 * FEC/PLC; after the loss, pictures flow again. */
static void test_no_rtx(fixture *f, gconstpointer data)
{
    (void) data;
    gint other = 0;
    media_session_test_set_send_filter(f->a.s, count_other_pt, &other);
    impair(f, 5, 99);
    pump(f, 4 * G_USEC_PER_SEC);
    impair(f, 0, 0);
    gint64 clean_at = g_get_monotonic_time();
    pump(f, G_USEC_PER_SEC);
    media_session_test_set_send_filter(f->a.s, NULL, NULL);
    report("A->B 5% loss, no RTX", &f->a, &f->b);
    report("B->A 5% loss, no RTX", &f->b, &f->a);
    g_assert_cmpint(g_atomic_int_get(&other), ==, 0);
    peer *p[2] = {&f->a, &f->b};
    for (int i = 0; i < 2; i++) {
        media_session_stats st, sent;
        media_session_get_stats(p[i]->s, &st);
        media_session_get_stats(p[1 - i]->s, &sent);
        g_assert_cmpuint(st.nacks_sent, >, 0);
        g_assert_cmpuint(st.nacks_received, >, 0);
        g_assert_cmpuint(st.retransmits_sent, ==, 0);
        g_assert_cmpuint(st.rtx_received, ==, 0);
        g_assert_cmpuint(st.plis_sent, >, 0);
        received *r = &p[i]->rx;
        g_mutex_lock(&r->mu);
        g_assert_cmpuint(r->synth_bad, ==, 0);
        g_assert_cmpuint(r->out_of_order, ==, 0);
        g_assert_cmpuint(r->audio_gaps, ==, 0);
        g_assert_cmpuint(r->frames, >, 0);
        g_assert_cmpuint(sent.frames_encoded, >, r->frames);
        /* pictures again once the loss stopped */
        g_assert_cmpint(r->last_stamp_us, >, clean_at);
        g_mutex_unlock(&r->mu);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/media-loopback/clean", fixture, NULL, fixture_setup,
               test_clean, fixture_teardown);
    g_test_add("/media-loopback/loss-5", fixture, GUINT_TO_POINTER(5),
               fixture_setup, test_loss, fixture_teardown);
    g_test_add("/media-loopback/loss-10", fixture, GUINT_TO_POINTER(10),
               fixture_setup, test_loss, fixture_teardown);
    g_test_add("/media-loopback/keyframe-loss", fixture, NULL, fixture_setup,
               test_keyframe_loss, fixture_teardown);
    g_test_add("/media-loopback/rate", fixture, NULL, fixture_setup, test_rate,
               fixture_teardown);
    g_test_add("/media-loopback/bad-input", fixture, NULL, fixture_setup,
               test_bad_input, fixture_teardown);
    g_test_add("/media-loopback/external", fixture, NULL,
               fixture_setup_external, test_external, fixture_teardown);
    g_test_add("/media-loopback/mute", fixture, NULL, fixture_setup_external,
               test_mute, fixture_teardown);
    g_test_add("/media-loopback/device", fixture, NULL, fixture_setup_device,
               test_device, fixture_teardown);
    g_test_add("/media-loopback/no-rtx", fixture, NULL, fixture_setup_no_rtx,
               test_no_rtx, fixture_teardown);
    return g_test_run();
}
