/*
 * Tests of libvid/device on this machine's real GStreamer: enumeration and
 * the "no camera" error, the capture path with injected fake sources (raw,
 * MJPEG, the synthetic camera through appsrc, an unusable source),
 * microphone capture with and without echo cancellation, rendering into an
 * injected sink, and WebM recording read back with GstDiscoverer and a
 * decoding pipeline.
 */
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/pbutils/pbutils.h>
#include <gst/video/video.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "device.h"
#include "media.h"

#define W 640
#define H 480

static void test_enumerate_no_camera(void)
{
    char why[256] = "";
    device_info *list = NULL;
    size_t n = 99;
    g_assert_cmpint(device_list(DEVICE_CAMERA, &list, &n, why, sizeof why), ==,
                    DEVICE_OK);
    for (size_t i = 0; i < n; i++)
        g_test_message("camera: %s (%s), %zu modes", list[i].name, list[i].id,
                       list[i].n_modes);
    size_t cameras = n;
    device_list_free(list, n);
    for (int k = DEVICE_MICROPHONE; k <= DEVICE_SPEAKER; k++) {
        g_assert_cmpint(
            device_list((device_kind) k, &list, &n, why, sizeof why), ==,
            DEVICE_OK);
        g_test_message("%zu %s(s)", n,
                       k == DEVICE_MICROPHONE ? "microphone" : "speaker");
        for (size_t i = 0; i < n; i++)
            g_test_message("  %s (%s) %d..%d Hz, %d ch", list[i].name,
                           list[i].id, list[i].rate_min, list[i].rate_max,
                           list[i].channels_max);
        device_list_free(list, n);
    }
    g_assert_cmpint(device_list(0, &list, &n, why, sizeof why), ==,
                    DEVICE_EINVAL);

    device_camera_config cc = DEVICE_CAMERA_CONFIG_INIT;
    device_camera *cam = NULL;
    int rc;
    if (cameras == 0) {
        rc = device_camera_new(&cam, &cc, NULL, NULL, why, sizeof why);
        g_test_message("asking for a camera: %s: %s", device_strerror(rc), why);
        g_assert_cmpint(rc, ==, DEVICE_ENODEVICE);
        g_assert_nonnull(strstr(why, "no camera found"));
        g_assert_null(cam);
    } else {
        g_test_message("this machine has a camera: the no-camera error is "
                       "checked with an unknown id only");
    }
    cc.device_id = "/dev/video-that-is-not-there";
    rc = device_camera_new(&cam, &cc, NULL, NULL, why, sizeof why);
    g_assert_cmpint(rc, ==, DEVICE_ENODEVICE);
    g_assert_nonnull(strstr(why, "no camera"));
    /* With no camera at all the message says so; else it names the id. */
    g_assert_true(strstr(why, cameras == 0 ? "no camera found"
                                           : "video-that-is-not-there"));
    /* Bad configuration. */
    cc = (device_camera_config) DEVICE_CAMERA_CONFIG_INIT;
    cc.width = 641;
    g_assert_cmpint(device_camera_new(&cam, &cc, NULL, NULL, why, sizeof why),
                    ==, DEVICE_EINVAL);
    device_camera_free(NULL);
}

/* ------------------------------------------------------------------ */

typedef struct {
    GMutex lock;
    int frames;
    int bad_size;
    int synth_ok, synth_bad;
    uint32_t last_no;
    bool in_order;
    int64_t last_t;
    bool times_monotonic;
    int64_t max_age_us;
} video_stats;

static void video_stats_init(video_stats *s)
{
    memset(s, 0, sizeof *s);
    g_mutex_init(&s->lock);
    s->in_order = true;
    s->times_monotonic = true;
}

static void on_frame(const media_i420 *pic, int64_t capture_us, void *data)
{
    video_stats *s = data;
    int64_t now = g_get_monotonic_time();
    g_mutex_lock(&s->lock);
    s->frames++;
    if (pic->width != W || pic->height != H)
        s->bad_size++;
    if (capture_us < s->last_t)
        s->times_monotonic = false;
    s->last_t = capture_us;
    if (now - capture_us > s->max_age_us)
        s->max_age_us = now - capture_us;
    uint32_t no;
    int64_t t;
    if (media_synth_read(pic, &no, &t) == MEDIA_OK) {
        if (s->synth_ok > 0 && no <= s->last_no)
            s->in_order = false;
        s->last_no = no;
        s->synth_ok++;
    } else {
        s->synth_bad++;
    }
    g_mutex_unlock(&s->lock);
}

static int wait_frames(video_stats *s, int want, int timeout_ms)
{
    gint64 end = g_get_monotonic_time() + timeout_ms * 1000LL;
    int got;
    do {
        g_usleep(10000);
        g_mutex_lock(&s->lock);
        got = s->frames;
        g_mutex_unlock(&s->lock);
    } while (got < want && g_get_monotonic_time() < end);
    return got;
}

static GstElement *parse_source(const char *desc)
{
    GError *err = NULL;
    GstElement *bin = gst_parse_bin_from_description(desc, TRUE, &err);
    g_assert_no_error(err);
    return bin;
}

static void run_camera(GstElement *source, const char *expect_caps_prefix,
                       bool expect_synth)
{
    char why[256] = "";
    video_stats s;
    video_stats_init(&s);
    device_camera_config cc = DEVICE_CAMERA_CONFIG_INIT;
    cc.source = source;
    device_camera *cam = NULL;
    int rc = device_camera_new(&cam, &cc, on_frame, &s, why, sizeof why);
    g_assert_cmpstr(why, ==, "");
    g_assert_cmpint(rc, ==, DEVICE_OK);
    g_test_message("source caps chosen: %s", device_camera_source_caps(cam));
    g_assert_true(
        g_str_has_prefix(device_camera_source_caps(cam), expect_caps_prefix));
    rc = device_camera_start(cam, why, sizeof why);
    g_assert_cmpstr(why, ==, "");
    g_assert_cmpint(rc, ==, DEVICE_OK);
    g_assert_cmpint(device_camera_start(cam, why, sizeof why), ==,
                    DEVICE_ESTATE);
    int got = wait_frames(&s, 20, 5000);
    g_assert_cmpint(device_camera_stop(cam), ==, DEVICE_OK);
    g_mutex_lock(&s.lock);
    g_test_message("%d frames, %d synthetic OK, %d not, oldest %.1f ms", got,
                   s.synth_ok, s.synth_bad, s.max_age_us / 1000.0);
    g_assert_cmpint(s.frames, >=, 20);
    g_assert_cmpint(s.bad_size, ==, 0);
    g_assert_true(s.times_monotonic);
    /* Frames are fresh (valgrind slows MJPEG coding ~50x). */
    g_assert_cmpint(s.max_age_us, <,
                    (g_getenv("VID_UNDER_VALGRIND") != NULL ? 30 : 2) *
                        G_USEC_PER_SEC);
    if (expect_synth) {
        g_assert_cmpint(s.synth_bad, ==, 0);
        g_assert_true(s.in_order);
    }
    g_mutex_unlock(&s.lock);
    /* Restart after stop works. */
    g_assert_cmpint(device_camera_start(cam, why, sizeof why), ==, DEVICE_OK);
    device_camera_free(cam);
    g_mutex_clear(&s.lock);
}

static void test_camera_raw(void)
{
    run_camera(parse_source("videotestsrc is-live=true pattern=ball"),
               "video/x-raw, width=(int)640, height=(int)480", false);
}

static void test_camera_mjpeg(void)
{
    /* A camera offering only MJPEG at 640x480@30: decoded by jpegdec. */
    run_camera(parse_source("videotestsrc is-live=true ! video/x-raw,"
                            "width=640,height=480,framerate=30/1 ! jpegenc"),
               "image/jpeg, width=(int)640", false);
}

static void test_camera_scaled(void)
{
    /* Only 320x240@15 raw: scaled up and rate-converted to 640x480@30. */
    run_camera(parse_source("videotestsrc is-live=true ! capsfilter "
                            "caps=video/x-raw,width=320,height=240,"
                            "framerate=15/1"),
               "video/x-raw", false);
}

/* The synthetic camera as a GStreamer source (appsrc, need-data). */
typedef struct {
    media_i420 pic;
    uint32_t n;
} synth_src;

static void on_need_data(GstAppSrc *src, guint length, gpointer data)
{
    synth_src *ss = data;
    media_synth_video_fill(&ss->pic, ss->n, g_get_monotonic_time());
    gsize size = (gsize) W * H * 3 / 2;
    GstBuffer *buf = gst_buffer_new_memdup(ss->pic.y, size);
    GST_BUFFER_PTS(buf) = gst_util_uint64_scale(ss->n, GST_SECOND, 30);
    GST_BUFFER_DURATION(buf) = GST_SECOND / 30;
    ss->n++;
    gst_app_src_push_buffer(src, buf);
}

static void test_camera_synthetic(void)
{
    synth_src ss = {.n = 0};
    g_assert_cmpint(media_i420_alloc(&ss.pic, W, H), ==, MEDIA_OK);
    GstElement *src = gst_element_factory_make("appsrc", NULL);
    GstCaps *caps = gst_caps_from_string(
        "video/x-raw,format=I420,width=640,height=480,framerate=30/1");
    g_object_set(src, "caps", caps, "format", GST_FORMAT_TIME, "is-live", FALSE,
                 NULL);
    gst_caps_unref(caps);
    GstAppSrcCallbacks cbs = {.need_data = on_need_data};
    gst_app_src_set_callbacks(GST_APP_SRC(src), &cbs, &ss, NULL);
    run_camera(src, "video/x-raw, width=(int)640", true);
    media_i420_free(&ss.pic);
}

/* The library's synthetic camera through the camera path: every frame
 * intact, consecutive, and young when it reaches the callback. */
typedef struct {
    GMutex lock;
    int ok, bad, gaps;
    uint32_t last;
    int64_t delays[64];
    int n_delays;
} live_stats;

static void on_live_frame(const media_i420 *pic, int64_t capture_us, void *data)
{
    live_stats *s = data;
    int64_t now = g_get_monotonic_time();
    uint32_t no;
    int64_t t;
    int rc = media_synth_read(pic, &no, &t);
    g_mutex_lock(&s->lock);
    if (rc == MEDIA_OK) {
        if (s->ok > 0 && no != s->last + 1)
            s->gaps++;
        s->last = no;
        s->ok++;
        if (s->n_delays < 64)
            s->delays[s->n_delays++] = now - t;
    } else {
        s->bad++;
    }
    g_mutex_unlock(&s->lock);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

static void test_camera_synthetic_live(void)
{
    char why[256] = "";
    live_stats s = {0};
    g_mutex_init(&s.lock);
    g_assert_null(device_synth_camera(100, 100, 30));
    device_camera_config cc = DEVICE_CAMERA_CONFIG_INIT;
    cc.source = device_synth_camera(W, H, 30);
    g_assert_nonnull(cc.source);
    device_camera *cam = NULL;
    g_assert_cmpint(
        device_camera_new(&cam, &cc, on_live_frame, &s, why, sizeof why), ==,
        DEVICE_OK);
    g_assert_cmpint(device_camera_start(cam, why, sizeof why), ==, DEVICE_OK);
    g_usleep(1500000);
    device_camera_free(cam);
    bool vg = g_getenv("VID_UNDER_VALGRIND") != NULL;
    g_assert_cmpint(s.bad, ==, 0);
    g_assert_cmpint(s.ok, >=, vg ? 3 : 20); /* ~45 at 30 fps */
    qsort(s.delays, (size_t) s.n_delays, sizeof s.delays[0], cmp_i64);
    int64_t p50 = s.delays[s.n_delays / 2];
    g_test_message("%d frames, %d gaps; source to callback p50 %.2f ms, "
                   "max %.2f ms",
                   s.ok, s.gaps, p50 / 1000.0,
                   s.delays[s.n_delays - 1] / 1000.0);
    /* A busy machine may drop a frame at the appsink (latest wins). */
    g_assert_cmpint(s.gaps, <=, 3);
    g_assert_cmpint(
        p50, <, (g_getenv("VID_UNDER_VALGRIND") != NULL ? 2000 : 100) * 1000);
    g_mutex_clear(&s.lock);
}

/* The library's synthetic microphone through the microphone path. */
typedef struct {
    GMutex lock;
    media_synth_audio_detector det;
    int bursts, out_of_order, next_tone;
} mic_bursts;

static void on_synth_audio(const int16_t *pcm, size_t frames, int channels,
                           int64_t capture_us, void *data)
{
    mic_bursts *m = data;
    media_synth_burst b[4];
    g_mutex_lock(&m->lock);
    int n = media_synth_audio_detect(&m->det, pcm, frames, b, 4);
    for (int i = 0; i < n; i++) {
        if (m->bursts > 0 && b[i].tone != m->next_tone)
            m->out_of_order++;
        m->next_tone = (b[i].tone + 1) % MEDIA_SYNTH_TONES;
        m->bursts++;
    }
    g_mutex_unlock(&m->lock);
}

static void test_mic_synthetic_live(void)
{
    char why[256] = "";
    mic_bursts m = {0};
    g_mutex_init(&m.lock);
    media_synth_audio_detector_init(&m.det, 1);
    g_assert_null(device_synth_microphone(3, 100));
    device_mic_config mc = DEVICE_MIC_CONFIG_INIT;
    mc.source = device_synth_microphone(1, 100);
    device_mic *mic = NULL;
    g_assert_cmpint(
        device_mic_new(&mic, &mc, on_synth_audio, &m, why, sizeof why), ==,
        DEVICE_OK);
    g_assert_cmpint(device_mic_start(mic, why, sizeof why), ==, DEVICE_OK);
    g_usleep(1500000);
    device_mic_free(mic);
    g_test_message("%d bursts, %d out of order", m.bursts, m.out_of_order);
    g_assert_cmpint(m.bursts, >=,
                    g_getenv("VID_UNDER_VALGRIND") != NULL ? 3 : 10);
    g_assert_cmpint(m.out_of_order, ==, 0);
    g_mutex_clear(&m.lock);
}

static void test_camera_unusable(void)
{
    char why[256] = "";
    device_camera_config cc = DEVICE_CAMERA_CONFIG_INIT;
    cc.source = gst_element_factory_make("audiotestsrc", NULL);
    device_camera *cam = NULL;
    int rc = device_camera_new(&cam, &cc, on_frame, NULL, why, sizeof why);
    g_test_message("%s: %s", device_strerror(rc), why);
    g_assert_cmpint(rc, ==, DEVICE_ENEGOTIATION);
    g_assert_null(cam);
}

/* ------------------------------------------------------------------ */

typedef struct {
    GMutex lock;
    int calls;
    size_t frames;
    size_t bad_chunk;
    double energy;
} audio_stats;

static void on_audio(const int16_t *pcm, size_t frames, int channels,
                     int64_t capture_us, void *data)
{
    audio_stats *s = data;
    g_mutex_lock(&s->lock);
    s->calls++;
    s->frames += frames;
    if (frames != 480)
        s->bad_chunk++;
    for (size_t i = 0; i < frames * (size_t) channels; i++)
        s->energy += (double) pcm[i] * pcm[i];
    g_mutex_unlock(&s->lock);
}

static void run_mic(int channels, bool echo_cancel, const char *probe)
{
    char why[256] = "";
    audio_stats s = {0};
    g_mutex_init(&s.lock);
    device_mic_config mc = DEVICE_MIC_CONFIG_INIT;
    mc.channels = channels;
    mc.echo_cancel = echo_cancel;
    mc.echo_probe_name = probe;
    mc.noise_suppression = echo_cancel;
    mc.gain_control = echo_cancel;
    mc.source = parse_source("audiotestsrc is-live=true freq=440 "
                             "samplesperbuffer=441 ! "
                             "capsfilter caps=audio/x-raw,rate=44100");
    device_mic *mic = NULL;
    int rc = device_mic_new(&mic, &mc, on_audio, &s, why, sizeof why);
    g_assert_cmpstr(why, ==, "");
    g_assert_cmpint(rc, ==, DEVICE_OK);
    rc = device_mic_start(mic, why, sizeof why);
    g_assert_cmpstr(why, ==, "");
    g_assert_cmpint(rc, ==, DEVICE_OK);
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    for (;;) {
        g_usleep(50000);
        g_mutex_lock(&s.lock);
        int calls = s.calls;
        g_mutex_unlock(&s.lock);
        if (calls >= 20 || g_get_monotonic_time() > end)
            break;
    }
    g_assert_cmpint(device_mic_stop(mic), ==, DEVICE_OK);
    device_mic_free(mic);
    g_test_message("%d ch%s: %d callbacks, %zu samples, energy %.3g", channels,
                   echo_cancel ? " + webrtcdsp" : "", s.calls, s.frames,
                   s.energy);
    g_assert_cmpint(s.calls, >=, 10);
    g_assert_cmpuint(s.bad_chunk, ==, 0); /* 10 ms at 48 kHz every time */
    g_assert_cmpfloat(s.energy, >, 0);
    g_mutex_clear(&s.lock);
}

static void test_mic(void)
{
    run_mic(1, false, NULL);
    run_mic(2, false, NULL);
    char why[256];
    device_mic *mic;
    device_mic_config mc = DEVICE_MIC_CONFIG_INIT;
    mc.channels = 3;
    g_assert_cmpint(device_mic_new(&mic, &mc, on_audio, NULL, why, sizeof why),
                    ==, DEVICE_EINVAL);
    device_info *list;
    size_t n;
    device_list(DEVICE_MICROPHONE, &list, &n, why, sizeof why);
    device_list_free(list, n);
    if (n == 0) {
        mc = (device_mic_config) DEVICE_MIC_CONFIG_INIT;
        int rc = device_mic_new(&mic, &mc, on_audio, NULL, why, sizeof why);
        g_test_message("asking for a microphone: %s", why);
        g_assert_cmpint(rc, ==, DEVICE_ENODEVICE);
        g_assert_nonnull(strstr(why, "no microphone found"));
    }
}

/* Playout through an echo probe (into a fake sink) while the microphone
 * runs webrtcdsp against that probe. */
static gpointer feed_speaker(gpointer data)
{
    device_audio_out *ao = data;
    media_synth_audio synth;
    media_synth_audio_init(&synth, 1, 100);
    int16_t pcm[480];
    gint64 next = g_get_monotonic_time();
    for (int i = 0; i < 80; i++) { /* 800 ms at real-time pace */
        media_synth_audio_fill(&synth, pcm, 480);
        g_assert_cmpint(device_audio_out_push(ao, pcm, 480), ==, DEVICE_OK);
        next += 10000;
        gint64 now = g_get_monotonic_time();
        if (next > now)
            g_usleep((gulong) (next - now));
    }
    return NULL;
}

static void test_echo_cancel(void)
{
    char why[256] = "";
    device_audio_out_config ac = DEVICE_AUDIO_OUT_CONFIG_INIT;
    ac.echo_probe = true;
    ac.sink = parse_source("fakesink sync=true");
    device_audio_out *ao = NULL;
    int rc = device_audio_out_new(&ao, &ac, why, sizeof why);
    g_assert_cmpstr(why, ==, "");
    g_assert_cmpint(rc, ==, DEVICE_OK);
    g_assert_nonnull(device_audio_out_probe_name(ao));
    GThread *th = g_thread_new("speaker", feed_speaker, ao);
    run_mic(1, true, device_audio_out_probe_name(ao));
    g_thread_join(th);
    g_assert_cmpint(device_audio_out_push(ao, NULL, 480), ==, DEVICE_EINVAL);
    device_audio_out_free(ao);
    device_audio_out_free(NULL);
}

/* ------------------------------------------------------------------ */

/* Echo return loss enhancement: what the "speaker" plays (an appsink
 * after the echo probe) comes straight back into the "microphone" (an
 * appsrc before webrtcdsp). After convergence the microphone's output must
 * be much quieter than the echo that went in. */
typedef struct {
    device_audio_out *ao;
    GstElement *spk; /* appsink: the speaker */
    GstElement *mic; /* appsrc: the microphone */
    gint stop;
    GMutex lock;
    double in_energy[8], out_energy[8]; /* per second */
    gint64 t0;
} echo_rig;

static gpointer echo_far_end(gpointer data)
{
    echo_rig *r = data;
    guint32 seed = 7;
    int16_t pcm[480];
    gint64 next = g_get_monotonic_time();
    while (!g_atomic_int_get(&r->stop)) {
        /* Speech-like: noise bursts of 200 ms every 300 ms. */
        gint64 ms = (next - r->t0) / 1000;
        bool on = ms % 300 < 200;
        for (int i = 0; i < 480; i++) {
            seed = seed * 1103515245u + 12345u;
            int v = (int) ((seed >> 16) & 0x7fff) - 16384;
            pcm[i] = on ? (int16_t) (v / 2) : 0;
        }
        device_audio_out_push(r->ao, pcm, 480);
        next += 10000;
        gint64 now = g_get_monotonic_time();
        if (next > now)
            g_usleep((gulong) (next - now));
    }
    return NULL;
}

static gpointer echo_path(gpointer data)
{
    echo_rig *r = data;
    while (!g_atomic_int_get(&r->stop)) {
        GstSample *s = gst_app_sink_try_pull_sample(GST_APP_SINK(r->spk),
                                                    100 * GST_MSECOND);
        if (s == NULL)
            continue;
        GstBuffer *in = gst_sample_get_buffer(s);
        GstMapInfo map;
        if (gst_buffer_map(in, &map, GST_MAP_READ)) {
            int sec = (int) ((g_get_monotonic_time() - r->t0) / 1000000);
            double e = 0;
            const int16_t *x = (const int16_t *) (const void *) map.data;
            for (size_t i = 0; i < map.size / 2; i++)
                e += (double) x[i] * x[i];
            g_mutex_lock(&r->lock);
            if (sec >= 0 && sec < 8)
                r->in_energy[sec] += e;
            g_mutex_unlock(&r->lock);
            GstBuffer *out = gst_buffer_new_memdup(map.data, map.size);
            gst_buffer_unmap(in, &map);
            gst_app_src_push_buffer(GST_APP_SRC(r->mic), out);
        }
        gst_sample_unref(s);
    }
    return NULL;
}

static void on_echo_mic(const int16_t *pcm, size_t frames, int channels,
                        int64_t capture_us, void *data)
{
    echo_rig *r = data;
    int sec = (int) ((g_get_monotonic_time() - r->t0) / 1000000);
    double e = 0;
    for (size_t i = 0; i < frames; i++)
        e += (double) pcm[i] * pcm[i];
    g_mutex_lock(&r->lock);
    if (sec >= 0 && sec < 8)
        r->out_energy[sec] += e;
    g_mutex_unlock(&r->lock);
}

static void test_echo_erle(void)
{
    if (g_getenv("VID_UNDER_VALGRIND") != NULL) {
        g_test_skip("real-time echo measurement: meaningless under valgrind");
        return;
    }
    char why[256] = "";
    echo_rig r = {0};
    g_mutex_init(&r.lock);
    device_audio_out_config ac = DEVICE_AUDIO_OUT_CONFIG_INIT;
    ac.echo_probe = true;
    r.spk = gst_element_factory_make("appsink", NULL);
    g_object_set(r.spk, "sync", TRUE, NULL);
    gst_object_ref(r.spk);
    ac.sink = r.spk;
    g_assert_cmpint(device_audio_out_new(&r.ao, &ac, why, sizeof why), ==,
                    DEVICE_OK);

    device_mic_config mc = DEVICE_MIC_CONFIG_INIT;
    mc.echo_cancel = true;
    /* The canceller alone: gain control raises the residue, noise
     * suppression works on this noise-like signal too. */
    mc.echo_probe_name = device_audio_out_probe_name(r.ao);
    r.mic = gst_element_factory_make("appsrc", NULL);
    GstCaps *caps = gst_caps_from_string(
        "audio/x-raw,format=S16LE,rate=48000,channels=1,layout=interleaved");
    g_object_set(r.mic, "caps", caps, "format", GST_FORMAT_TIME, "is-live",
                 TRUE, "do-timestamp", TRUE, NULL);
    gst_caps_unref(caps);
    gst_object_ref(r.mic);
    mc.source = r.mic;
    device_mic *mic = NULL;
    g_assert_cmpint(device_mic_new(&mic, &mc, on_echo_mic, &r, why, sizeof why),
                    ==, DEVICE_OK);
    r.t0 = g_get_monotonic_time();
    GThread *far = g_thread_new("far-end", echo_far_end, &r);
    GThread *path = g_thread_new("echo-path", echo_path, &r);
    g_assert_cmpint(device_mic_start(mic, why, sizeof why), ==, DEVICE_OK);
    g_usleep(6 * G_USEC_PER_SEC);
    g_atomic_int_set(&r.stop, 1);
    g_thread_join(far);
    g_thread_join(path);
    device_mic_free(mic);
    device_audio_out_free(r.ao);
    gst_object_unref(r.spk);
    gst_object_unref(r.mic);
    double in = 0, out = 0;
    for (int s = 0; s < 6; s++) {
        double erle = 10 * log10((r.in_energy[s] + 1) / (r.out_energy[s] + 1));
        g_test_message("second %d: echo in %.3g, microphone out %.3g: "
                       "%.1f dB less",
                       s, r.in_energy[s], r.out_energy[s], erle);
        if (s >= 2) {
            in += r.in_energy[s];
            out += r.out_energy[s];
        }
    }
    /* Seconds 2..5, after convergence: measured 8.7-16.7 dB with our
     * settings; webrtcdsp's defaults give 1.9 dB, no canceller 0. */
    double erle = 10 * log10((in + 1) / (out + 1));
    g_test_message("echo return loss enhancement: %.1f dB", erle);
    g_assert_cmpfloat(erle, >, 6.0);
    g_mutex_clear(&r.lock);
}

/* Default outputs on this headless machine: clear errors, no crash
 * (autovideosink probing DirectFB without a display kills the process). */
static void test_default_outputs(void)
{
    char why[256] = "";
    device_info *list;
    size_t speakers;
    device_list(DEVICE_SPEAKER, &list, &speakers, why, sizeof why);
    device_list_free(list, speakers);
    device_audio_out_config ac = DEVICE_AUDIO_OUT_CONFIG_INIT;
    device_audio_out *ao = NULL;
    int rc = device_audio_out_new(&ao, &ac, why, sizeof why);
    g_test_message("default speaker: %s: %s", device_strerror(rc), why);
    if (speakers == 0) {
        g_assert_cmpint(rc, ==, DEVICE_ENODEVICE);
        g_assert_nonnull(strstr(why, "no speaker"));
    }
    device_audio_out_free(ao);
    if (g_getenv("DISPLAY") == NULL && g_getenv("WAYLAND_DISPLAY") == NULL) {
        device_video_out_config vc = DEVICE_VIDEO_OUT_CONFIG_INIT;
        device_video_out *vo = NULL;
        rc = device_video_out_new(&vo, &vc, why, sizeof why);
        g_test_message("default window: %s: %s", device_strerror(rc), why);
        g_assert_cmpint(rc, ==, DEVICE_ENODEVICE);
        g_assert_nonnull(strstr(why, "no display"));
        g_assert_null(vo);
    }
}

static void test_render(void)
{
    char why[256] = "";
    device_video_out_config vc = DEVICE_VIDEO_OUT_CONFIG_INIT;
    GstElement *sink = gst_element_factory_make("appsink", NULL);
    g_object_set(sink, "sync", FALSE, "max-buffers", 100, NULL);
    gst_object_ref(sink); /* keep one to pull from */
    vc.sink = sink;
    device_video_out *vo = NULL;
    int rc = device_video_out_new(&vo, &vc, why, sizeof why);
    g_assert_cmpstr(why, ==, "");
    g_assert_cmpint(rc, ==, DEVICE_OK);
    media_i420 pic;
    g_assert_cmpint(media_i420_alloc(&pic, W, H), ==, MEDIA_OK);
    /* One at a time: the renderer keeps only the 2 newest pictures. */
    for (uint32_t n = 0; n < 10; n++) {
        media_synth_video_fill(&pic, n, 1000 + n);
        g_assert_cmpint(device_video_out_push(vo, &pic), ==, DEVICE_OK);
        GstSample *sample =
            gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 2 * GST_SECOND);
        g_assert_nonnull(sample);
        GstVideoInfo info;
        g_assert_true(
            gst_video_info_from_caps(&info, gst_sample_get_caps(sample)));
        GstVideoFrame frame;
        g_assert_true(gst_video_frame_map(
            &frame, &info, gst_sample_get_buffer(sample), GST_MAP_READ));
        media_i420 got = {GST_VIDEO_FRAME_PLANE_DATA(&frame, 0),
                          GST_VIDEO_FRAME_PLANE_DATA(&frame, 1),
                          GST_VIDEO_FRAME_PLANE_DATA(&frame, 2),
                          GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0),
                          GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 1),
                          GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 2),
                          GST_VIDEO_FRAME_WIDTH(&frame),
                          GST_VIDEO_FRAME_HEIGHT(&frame)};
        uint32_t no;
        int64_t t;
        g_assert_cmpint(media_synth_read(&got, &no, &t), ==, MEDIA_OK);
        g_assert_cmpuint(no, ==, n);
        gst_video_frame_unmap(&frame);
        gst_sample_unref(sample);
    }
    media_i420 small;
    g_assert_cmpint(media_i420_alloc(&small, 320, 240), ==, MEDIA_OK);
    g_assert_cmpint(device_video_out_push(vo, &small), ==, DEVICE_EINVAL);
    media_i420_free(&small);
    media_i420_free(&pic);
    device_video_out_free(vo);
    gst_object_unref(sink);
}

/* ------------------------------------------------------------------ */

static void test_record(void)
{
    char why[256] = "";
    char *dir = g_dir_make_tmp("vid-rec-XXXXXX", NULL);
    char *path = g_build_filename(dir, "call.webm", NULL);
    device_recorder_config rc_cfg = DEVICE_RECORDER_CONFIG_INIT;
    rc_cfg.path = path;
    device_recorder *rec = NULL;
    int rc = device_recorder_new(&rec, &rc_cfg, why, sizeof why);
    g_assert_cmpstr(why, ==, "");
    g_assert_cmpint(rc, ==, DEVICE_OK);

    media_vp8_enc_config vc = MEDIA_VP8_ENC_CONFIG_INIT;
    media_vp8_enc *venc;
    g_assert_cmpint(media_vp8_enc_new(&venc, &vc), ==, MEDIA_OK);
    media_opus_enc_config oc = MEDIA_OPUS_ENC_CONFIG_INIT;
    oc.dtx = false;
    media_opus_enc *aenc;
    g_assert_cmpint(media_opus_enc_new(&aenc, &oc), ==, MEDIA_OK);
    media_synth_audio synth;
    media_synth_audio_init(&synth, 1, 100);
    media_i420 pic;
    g_assert_cmpint(media_i420_alloc(&pic, W, H), ==, MEDIA_OK);
    const int64_t base = 777000000; /* arbitrary clock origin */
    /* 3 s: 90 video frames (33.3 ms) and 150 audio packets (20 ms),
     * pushed interleaved in time order as a call would deliver them. */
    int v = 0, a = 0;
    while (v < 90 || a < 150) {
        int64_t tv = (int64_t) v * 1000000 / 30, ta = (int64_t) a * 20000;
        if (v < 90 && (a >= 150 || tv <= ta)) {
            media_synth_video_fill(&pic, (uint32_t) v, base + tv);
            media_vp8_frame f;
            g_assert_cmpint(media_vp8_enc_encode(venc, &pic, tv, &f), ==,
                            MEDIA_OK);
            g_assert_cmpint(device_recorder_push_video(rec, f.data, f.len,
                                                       base + tv, f.keyframe),
                            ==, DEVICE_OK);
            v++;
        } else {
            int16_t pcm[MEDIA_OPUS_FRAME];
            uint8_t pkt[MEDIA_OPUS_MAX_PACKET];
            size_t len;
            media_synth_audio_fill(&synth, pcm, MEDIA_OPUS_FRAME);
            g_assert_cmpint(
                media_opus_enc_encode(aenc, pcm, pkt, sizeof pkt, &len), ==,
                MEDIA_OK);
            g_assert_cmpint(
                device_recorder_push_audio(rec, pkt, len, base + ta), ==,
                DEVICE_OK);
            a++;
        }
    }
    rc = device_recorder_finish(rec, why, sizeof why);
    g_assert_cmpstr(why, ==, "");
    g_assert_cmpint(rc, ==, DEVICE_OK);
    g_assert_cmpint(device_recorder_push_audio(rec, (const uint8_t *) "x", 1,
                                               base + 4000000),
                    ==, DEVICE_ESTATE);
    device_recorder_free(rec);
    media_vp8_enc_free(venc);
    media_opus_enc_free(aenc);

    /* Read it back: streams and duration. */
    GError *err = NULL;
    GstDiscoverer *disc = gst_discoverer_new(10 * GST_SECOND, &err);
    g_assert_no_error(err);
    char *uri = gst_filename_to_uri(path, NULL);
    GstDiscovererInfo *info = gst_discoverer_discover_uri(disc, uri, &err);
    g_assert_no_error(err);
    g_assert_cmpint(gst_discoverer_info_get_result(info), ==,
                    GST_DISCOVERER_OK);
    GstClockTime dur = gst_discoverer_info_get_duration(info);
    g_test_message("recorded %s: duration %.3f s", path,
                   (double) dur / GST_SECOND);
    g_assert_cmpuint(dur, >=, 2900 * GST_MSECOND);
    g_assert_cmpuint(dur, <=, 3100 * GST_MSECOND);
    GList *vs = gst_discoverer_info_get_video_streams(info);
    GList *as = gst_discoverer_info_get_audio_streams(info);
    g_assert_cmpuint(g_list_length(vs), ==, 1);
    g_assert_cmpuint(g_list_length(as), ==, 1);
    GstDiscovererVideoInfo *vi = vs->data;
    g_assert_cmpuint(gst_discoverer_video_info_get_width(vi), ==, W);
    g_assert_cmpuint(gst_discoverer_video_info_get_height(vi), ==, H);
    GstCaps *vcaps = gst_discoverer_stream_info_get_caps(vs->data);
    GstCaps *acaps = gst_discoverer_stream_info_get_caps(as->data);
    g_assert_true(gst_structure_has_name(gst_caps_get_structure(vcaps, 0),
                                         "video/x-vp8"));
    g_assert_true(gst_structure_has_name(gst_caps_get_structure(acaps, 0),
                                         "audio/x-opus"));
    gst_caps_unref(vcaps);
    gst_caps_unref(acaps);
    gst_discoverer_stream_info_list_free(vs);
    gst_discoverer_stream_info_list_free(as);
    gst_discoverer_info_unref(info);
    g_object_unref(disc);

    /* Decode the video back: every frame, in order, synthetic data OK. */
    char *desc = g_strdup_printf(
        "filesrc location=\"%s\" ! matroskademux ! vp8dec ! videoconvert ! "
        "video/x-raw,format=I420 ! appsink name=out sync=false",
        path);
    GstElement *pipe = gst_parse_launch(desc, &err);
    g_assert_no_error(err);
    GstElement *out = gst_bin_get_by_name(GST_BIN(pipe), "out");
    gst_element_set_state(pipe, GST_STATE_PLAYING);
    uint32_t expect = 0;
    GstSample *sample;
    while ((sample = gst_app_sink_try_pull_sample(GST_APP_SINK(out),
                                                  5 * GST_SECOND)) != NULL) {
        GstVideoInfo vinfo;
        gst_video_info_from_caps(&vinfo, gst_sample_get_caps(sample));
        GstVideoFrame frame;
        g_assert_true(gst_video_frame_map(
            &frame, &vinfo, gst_sample_get_buffer(sample), GST_MAP_READ));
        media_i420 got = {GST_VIDEO_FRAME_PLANE_DATA(&frame, 0),
                          GST_VIDEO_FRAME_PLANE_DATA(&frame, 1),
                          GST_VIDEO_FRAME_PLANE_DATA(&frame, 2),
                          GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0),
                          GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 1),
                          GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 2),
                          GST_VIDEO_FRAME_WIDTH(&frame),
                          GST_VIDEO_FRAME_HEIGHT(&frame)};
        uint32_t no;
        int64_t t;
        g_assert_cmpint(media_synth_read(&got, &no, &t), ==, MEDIA_OK);
        g_assert_cmpuint(no, ==, expect);
        g_assert_cmpint(t, ==, base + (int64_t) no * 1000000 / 30);
        GstClockTime pts = GST_BUFFER_PTS(gst_sample_get_buffer(sample));
        g_assert_cmpint(llabs((gint64) pts - (gint64) no * GST_SECOND / 30), <,
                        2 * GST_MSECOND);
        expect++;
        gst_video_frame_unmap(&frame);
        gst_sample_unref(sample);
        if (gst_app_sink_is_eos(GST_APP_SINK(out)))
            break;
    }
    g_assert_cmpuint(expect, ==, 90);
    gst_element_set_state(pipe, GST_STATE_NULL);
    gst_object_unref(out);
    gst_object_unref(pipe);
    g_free(desc);

    /* An unwritable path is a clear error. */
    char *bad = g_build_filename(dir, "no-such-dir", "x.webm", NULL);
    rc_cfg.path = bad;
    rc = device_recorder_new(&rec, &rc_cfg, why, sizeof why);
    g_test_message("unwritable: %s: %s", device_strerror(rc), why);
    g_assert_cmpint(rc, ==, DEVICE_EIO);
    g_free(bad);
    rc_cfg.path = NULL;
    g_assert_cmpint(device_recorder_new(&rec, &rc_cfg, why, sizeof why), ==,
                    DEVICE_EINVAL);

    media_i420_free(&pic);
    g_unlink(path);
    g_rmdir(dir);
    g_free(uri);
    g_free(path);
    g_free(dir);
}

static void test_monitor(void)
{
    char why[256] = "";
    GMainContext *ctx = g_main_context_new();
    device_monitor *mon = NULL;
    g_assert_cmpint(device_monitor_new(&mon, ctx, NULL, NULL, why, sizeof why),
                    ==, DEVICE_OK);
    device_info *list;
    size_t n;
    g_assert_cmpint(device_monitor_list(mon, DEVICE_CAMERA, &list, &n), ==,
                    DEVICE_OK);
    device_list_free(list, n);
    g_assert_cmpint(device_monitor_list(mon, 9, &list, &n), ==, DEVICE_EINVAL);
    while (g_main_context_iteration(ctx, FALSE))
        ;
    device_monitor_free(mon);
    device_monitor_free(NULL);
    g_main_context_unref(ctx);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    char why[256];
    if (device_init(why, sizeof why) != DEVICE_OK) {
        g_printerr("%s\n", why);
        return 1;
    }
    g_test_add_func("/device/enumerate-no-camera", test_enumerate_no_camera);
    g_test_add_func("/device/monitor", test_monitor);
    g_test_add_func("/device/camera/raw", test_camera_raw);
    g_test_add_func("/device/camera/mjpeg", test_camera_mjpeg);
    g_test_add_func("/device/camera/scaled", test_camera_scaled);
    g_test_add_func("/device/camera/synthetic", test_camera_synthetic);
    g_test_add_func("/device/camera/unusable", test_camera_unusable);
    g_test_add_func("/device/camera/synthetic-live",
                    test_camera_synthetic_live);
    g_test_add_func("/device/mic/synthetic-live", test_mic_synthetic_live);
    g_test_add_func("/device/mic", test_mic);
    g_test_add_func("/device/echo-cancel", test_echo_cancel);
    g_test_add_func("/device/echo-erle", test_echo_erle);
    g_test_add_func("/device/default-outputs", test_default_outputs);
    g_test_add_func("/device/render", test_render);
    g_test_add_func("/device/record", test_record);
    int rc = g_test_run();
    device_shutdown();
    gst_deinit();
    return rc;
}
