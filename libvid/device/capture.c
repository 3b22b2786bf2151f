/* Camera and microphone capture: source -> convert -> appsink. */
#include "device-private.h"

#include <gst/app/gstappsink.h>
#include <gst/audio/audio.h>
#include <gst/video/video.h>
#include <string.h>

#define START_TIMEOUT_MS 5000

struct device_camera {
    dev_pipe pipe;
    device_video_cb cb;
    void *user_data;
    char *source_caps;
    GstVideoInfo info; /* negotiated I420 format (streaming thread) */
    GstCaps *last_caps;
    int width, height;
};

struct device_mic {
    dev_pipe pipe;
    device_audio_cb cb;
    void *user_data;
    int channels;
};

/* The element to capture from: the injected one, or the device's. */
static GstElement *source_for(device_kind kind, const char *device_id,
                              GstElement *injected, GstCaps **dev_caps, int *rc,
                              char *why, size_t why_cap)
{
    *dev_caps = NULL;
    if (injected != NULL)
        return gst_object_ref_sink(injected);
    GstDevice *dev = dev_find(kind, device_id, rc, why, why_cap);
    if (dev == NULL)
        return NULL;
    GstElement *src = gst_device_create_element(dev, NULL);
    *dev_caps = gst_device_get_caps(dev);
    if (src == NULL) {
        gchar *name = gst_device_get_display_name(dev);
        *rc = dev_fail(why, why_cap, DEVICE_EPLUGIN,
                       "the device \"%s\" has no capture element", name);
        g_free(name);
        g_clear_pointer(dev_caps, gst_caps_unref);
    } else {
        gst_object_ref_sink(src);
    }
    gst_object_unref(dev);
    return src;
}

/* What the source can produce: the device's caps, else a pad query. */
static GstCaps *source_caps(GstElement *src, GstCaps *dev_caps)
{
    if (dev_caps != NULL)
        return gst_caps_ref(dev_caps);
    GstPad *pad = gst_element_get_static_pad(src, "src");
    if (pad == NULL)
        return gst_caps_new_any();
    GstCaps *caps = gst_pad_query_caps(pad, NULL);
    gst_object_unref(pad);
    return caps;
}

/* Among the fixed sizes offered, the smallest at least as large as asked
 * with at least the rate asked (raw before MJPEG); else the smallest large
 * enough at any rate; else the largest. NULL if no fixed size is offered. */
static GstCaps *nearest_mode(GstCaps *offered, int w, int h, int fps,
                             bool *jpeg)
{
    int best = -1, best_class = -1;
    long best_area = 0;
    for (guint i = 0; i < gst_caps_get_size(offered); i++) {
        GstStructure *s = gst_caps_get_structure(offered, i);
        bool raw = gst_structure_has_name(s, "video/x-raw");
        int sw, sh, num = 0, den = 1;
        if ((!raw && !gst_structure_has_name(s, "image/jpeg")) ||
            !gst_structure_get_int(s, "width", &sw) ||
            !gst_structure_get_int(s, "height", &sh))
            continue;
        dev_max_rate(gst_structure_get_value(s, "framerate"), &num, &den);
        bool big = sw >= w && sh >= h;
        bool fast = den > 0 && (gint64) num >= (gint64) fps * den;
        /* class: 3 big+fast raw, 2 big+fast MJPEG, 1 big, 0 other */
        int cls = big && fast ? (raw ? 3 : 2) : big ? 1 : 0;
        long area = (long) sw * sh;
        bool better = cls > best_class ||
                      (cls == best_class &&
                       (cls > 0 ? area < best_area : area > best_area));
        if (better) {
            best = (int) i;
            best_class = cls;
            best_area = area;
        }
    }
    if (best < 0)
        return NULL;
    GstStructure *s = gst_caps_get_structure(offered, (guint) best);
    int sw, sh;
    gst_structure_get_int(s, "width", &sw);
    gst_structure_get_int(s, "height", &sh);
    *jpeg = gst_structure_has_name(s, "image/jpeg");
    GstCaps *want =
        gst_caps_new_simple(gst_structure_get_name(s), "width", G_TYPE_INT, sw,
                            "height", G_TYPE_INT, sh, NULL);
    GstCaps *with_rate = gst_caps_copy(want);
    gst_caps_set_simple(with_rate, "framerate", GST_TYPE_FRACTION, fps, 1,
                        NULL);
    if (gst_caps_can_intersect(with_rate, offered)) {
        gst_caps_unref(want);
        return with_rate;
    }
    gst_caps_unref(with_rate);
    return want;
}

/* Pick the caps to ask of the camera; *jpeg tells to decode MJPEG. */
static GstCaps *choose_caps(GstCaps *offered, int w, int h, int fps, bool *jpeg)
{
    static const char *const names[] = {"video/x-raw", "image/jpeg"};
    /* 1. the exact size and rate, raw first (no decoding cost). */
    for (int i = 0; i < 2; i++) {
        GstCaps *want = gst_caps_new_simple(
            names[i], "width", G_TYPE_INT, w, "height", G_TYPE_INT, h,
            "framerate", GST_TYPE_FRACTION, fps, 1, NULL);
        if (gst_caps_can_intersect(want, offered)) {
            *jpeg = i == 1;
            return want;
        }
        gst_caps_unref(want);
    }
    /* 2. the same size at any rate, 3. the nearest fixed mode, 4. anything
     * of either kind; the pipeline scales and drops or duplicates frames. */
    for (int i = 0; i < 2; i++) {
        GstCaps *want = gst_caps_new_simple(names[i], "width", G_TYPE_INT, w,
                                            "height", G_TYPE_INT, h, NULL);
        if (gst_caps_can_intersect(want, offered)) {
            *jpeg = i == 1;
            return want;
        }
        gst_caps_unref(want);
    }
    GstCaps *near = nearest_mode(offered, w, h, fps, jpeg);
    if (near != NULL)
        return near;
    for (int i = 0; i < 2; i++) {
        GstCaps *want = gst_caps_new_empty_simple(names[i]);
        if (gst_caps_can_intersect(want, offered)) {
            *jpeg = i == 1;
            return want;
        }
        gst_caps_unref(want);
    }
    return NULL;
}

static GstFlowReturn on_video_sample(GstAppSink *sink, gpointer data)
{
    device_camera *cam = data;
    GstSample *sample = gst_app_sink_pull_sample(sink);
    if (sample == NULL)
        return GST_FLOW_EOS;
    GstCaps *caps = gst_sample_get_caps(sample);
    GstBuffer *buf = gst_sample_get_buffer(sample);
    if (caps != NULL && caps != cam->last_caps) {
        if (!gst_video_info_from_caps(&cam->info, caps)) {
            gst_sample_unref(sample);
            return GST_FLOW_NOT_NEGOTIATED;
        }
        gst_caps_replace(&cam->last_caps, caps);
    }
    GstVideoFrame frame;
    if (buf != NULL && cam->last_caps != NULL &&
        gst_video_frame_map(&frame, &cam->info, buf, GST_MAP_READ)) {
        media_i420 pic = {
            .y = GST_VIDEO_FRAME_PLANE_DATA(&frame, 0),
            .u = GST_VIDEO_FRAME_PLANE_DATA(&frame, 1),
            .v = GST_VIDEO_FRAME_PLANE_DATA(&frame, 2),
            .stride_y = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0),
            .stride_u = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 1),
            .stride_v = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 2),
            .width = GST_VIDEO_FRAME_WIDTH(&frame),
            .height = GST_VIDEO_FRAME_HEIGHT(&frame),
        };
        int64_t t = dev_buffer_time_us(cam->pipe.pipeline, buf);
        if (cam->cb != NULL)
            cam->cb(&pic, t, cam->user_data);
        gst_video_frame_unmap(&frame);
        dev_pipe_data(&cam->pipe);
    }
    gst_sample_unref(sample);
    return GST_FLOW_OK;
}

int device_camera_new(device_camera **out, const device_camera_config *cfg,
                      device_video_cb cb, void *user_data, char *why,
                      size_t why_cap)
{
    GstElement *injected = cfg != NULL ? cfg->source : NULL;
    int rc = DEVICE_OK;
    if (out == NULL || cfg == NULL ||
        cfg->version != DEVICE_CAMERA_CONFIG_VERSION || cfg->width < 16 ||
        cfg->width > 4096 || cfg->height < 16 || cfg->height > 4096 ||
        cfg->width % 2 != 0 || cfg->height % 2 != 0 || cfg->fps < 1 ||
        cfg->fps > 120) {
        if (injected != NULL)
            gst_object_unref(gst_object_ref_sink(injected));
        return dev_fail(why, why_cap, DEVICE_EINVAL,
                        "bad camera configuration (size 16..4096 even, "
                        "fps 1..120)");
    }
    *out = NULL;
    rc = device_init(why, why_cap);
    if (rc != DEVICE_OK) {
        if (injected != NULL)
            gst_object_unref(gst_object_ref_sink(injected));
        return rc;
    }
    GstCaps *dev_caps = NULL;
    GstElement *src = source_for(DEVICE_CAMERA, cfg->device_id, injected,
                                 &dev_caps, &rc, why, why_cap);
    if (src == NULL)
        return rc;
    GstCaps *offered = source_caps(src, dev_caps);
    bool jpeg = false;
    GstCaps *want =
        choose_caps(offered, cfg->width, cfg->height, cfg->fps, &jpeg);
    if (want == NULL) {
        gchar *s = gst_caps_to_string(offered);
        rc = dev_fail(why, why_cap, DEVICE_ENEGOTIATION,
                      "the camera offers neither raw video nor MJPEG: %s", s);
        g_free(s);
        gst_caps_unref(offered);
        if (dev_caps != NULL)
            gst_caps_unref(dev_caps);
        gst_object_unref(src);
        return rc;
    }
    gst_caps_unref(offered);
    if (dev_caps != NULL)
        gst_caps_unref(dev_caps);

    device_camera *cam = g_new0(device_camera, 1);
    cam->cb = cb;
    cam->user_data = user_data;
    cam->width = cfg->width;
    cam->height = cfg->height;
    cam->source_caps = gst_caps_to_string(want);
    dev_pipe_init(&cam->pipe, "vid-camera", cfg->on_error, user_data);

    GstElement *srcfilter = dev_make("capsfilter", NULL, &rc, why, why_cap);
    GstElement *dec =
        jpeg ? dev_make("jpegdec", NULL, &rc, why, why_cap) : NULL;
    GstElement *conv = dev_make("videoconvert", NULL, &rc, why, why_cap);
    GstElement *scale = dev_make("videoscale", NULL, &rc, why, why_cap);
    /* videorate holds a frame back to decide on duplicates: a frame
     * period of delay (measured 34 ms p50 at 30 fps), so only when the
     * camera cannot give the rate asked. */
    bool exact_rate =
        gst_structure_has_field(gst_caps_get_structure(want, 0), "framerate");
    GstElement *rate =
        exact_rate ? NULL : dev_make("videorate", NULL, &rc, why, why_cap);
    GstElement *outfilter = dev_make("capsfilter", NULL, &rc, why, why_cap);
    GstElement *sink = dev_make("appsink", "sink", &rc, why, why_cap);
    GstElement *all[] = {src,   srcfilter, dec,       conv,
                         scale, rate,      outfilter, sink};
    if (rc != DEVICE_OK) {
        gst_object_unref(src); /* ours, not floating */
        for (size_t i = 1; i < G_N_ELEMENTS(all); i++)
            if (all[i] != NULL)
                gst_object_unref(gst_object_ref_sink(all[i]));
        gst_caps_unref(want);
        device_camera_free(cam);
        return rc;
    }
    g_object_set(srcfilter, "caps", want, NULL);
    gst_caps_unref(want);
    GstCaps *i420 = gst_caps_new_simple(
        "video/x-raw", "format", G_TYPE_STRING, "I420", "width", G_TYPE_INT,
        cfg->width, "height", G_TYPE_INT, cfg->height, "framerate",
        GST_TYPE_FRACTION, cfg->fps, 1, "pixel-aspect-ratio", GST_TYPE_FRACTION,
        1, 1, NULL);
    g_object_set(outfilter, "caps", i420, NULL);
    gst_caps_unref(i420);
    /* Latest frame wins: a slow encoder must not build up delay. */
    g_object_set(sink, "sync", FALSE, "max-buffers", 1, "drop", TRUE,
                 "enable-last-sample", FALSE, NULL);
    GstAppSinkCallbacks cbs = {.new_sample = on_video_sample};
    gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cbs, cam, NULL);

    GstBin *bin = GST_BIN(cam->pipe.pipeline);
    for (size_t i = 0; i < G_N_ELEMENTS(all); i++)
        if (all[i] != NULL)
            gst_bin_add(bin, all[i]);
    gst_object_unref(src); /* the bin holds it now */
    bool linked = true;
    GstElement *prev = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(all) && linked; i++) {
        if (all[i] == NULL)
            continue;
        if (prev != NULL)
            linked = gst_element_link(prev, all[i]);
        prev = all[i];
    }
    if (!linked) {
        device_camera_free(cam);
        return dev_fail(why, why_cap, DEVICE_ENEGOTIATION,
                        "cannot link the camera to the converter");
    }
    *out = cam;
    return DEVICE_OK;
}

int device_camera_start(device_camera *cam, char *why, size_t why_cap)
{
    if (cam == NULL)
        return dev_fail(why, why_cap, DEVICE_EINVAL, "camera is NULL");
    return dev_pipe_start(&cam->pipe, true, START_TIMEOUT_MS, why, why_cap);
}

int device_camera_stop(device_camera *cam)
{
    if (cam == NULL)
        return DEVICE_EINVAL;
    dev_pipe_stop(&cam->pipe);
    return DEVICE_OK;
}

void device_camera_free(device_camera *cam)
{
    if (cam == NULL)
        return;
    dev_pipe_clear(&cam->pipe);
    if (cam->last_caps != NULL)
        gst_caps_unref(cam->last_caps);
    g_free(cam->source_caps);
    g_free(cam);
}

const char *device_camera_source_caps(const device_camera *cam)
{
    return cam != NULL ? cam->source_caps : NULL;
}

/* ------------------------------------------------------------------ */

static GstFlowReturn on_audio_sample(GstAppSink *sink, gpointer data)
{
    device_mic *mic = data;
    GstSample *sample = gst_app_sink_pull_sample(sink);
    if (sample == NULL)
        return GST_FLOW_EOS;
    GstBuffer *buf = gst_sample_get_buffer(sample);
    GstMapInfo map;
    if (buf != NULL && gst_buffer_map(buf, &map, GST_MAP_READ)) {
        size_t frames = map.size / (sizeof(int16_t) * (size_t) mic->channels);
        int64_t t = dev_buffer_time_us(mic->pipe.pipeline, buf);
        if (frames > 0 && mic->cb != NULL)
            mic->cb((const int16_t *) (const void *) map.data, frames,
                    mic->channels, t, mic->user_data);
        gst_buffer_unmap(buf, &map);
        dev_pipe_data(&mic->pipe);
    }
    gst_sample_unref(sample);
    return GST_FLOW_OK;
}

int device_mic_new(device_mic **out, const device_mic_config *cfg,
                   device_audio_cb cb, void *user_data, char *why,
                   size_t why_cap)
{
    GstElement *injected = cfg != NULL ? cfg->source : NULL;
    int rc = DEVICE_OK;
    if (out == NULL || cfg == NULL ||
        cfg->version != DEVICE_MIC_CONFIG_VERSION ||
        (cfg->channels != 1 && cfg->channels != 2)) {
        if (injected != NULL)
            gst_object_unref(gst_object_ref_sink(injected));
        return dev_fail(why, why_cap, DEVICE_EINVAL,
                        "bad microphone configuration (channels 1 or 2)");
    }
    *out = NULL;
    rc = device_init(why, why_cap);
    if (rc != DEVICE_OK) {
        if (injected != NULL)
            gst_object_unref(gst_object_ref_sink(injected));
        return rc;
    }
    GstCaps *dev_caps = NULL;
    GstElement *src = source_for(DEVICE_MICROPHONE, cfg->device_id, injected,
                                 &dev_caps, &rc, why, why_cap);
    if (src == NULL)
        return rc;
    if (dev_caps != NULL)
        gst_caps_unref(dev_caps);

    device_mic *mic = g_new0(device_mic, 1);
    mic->cb = cb;
    mic->user_data = user_data;
    mic->channels = cfg->channels;
    dev_pipe_init(&mic->pipe, "vid-microphone", cfg->on_error, user_data);

    GstElement *conv = dev_make("audioconvert", NULL, &rc, why, why_cap);
    GstElement *res = dev_make("audioresample", NULL, &rc, why, why_cap);
    GstElement *filter = dev_make("capsfilter", NULL, &rc, why, why_cap);
    bool want_dsp =
        cfg->echo_cancel || cfg->noise_suppression || cfg->gain_control;
    GstElement *dsp =
        want_dsp ? dev_make("webrtcdsp", NULL, &rc, why, why_cap) : NULL;
    GstElement *split = dev_make("audiobuffersplit", NULL, &rc, why, why_cap);
    GstElement *sink = dev_make("appsink", "sink", &rc, why, why_cap);
    GstElement *all[] = {src, conv, res, filter, dsp, split, sink};
    if (rc != DEVICE_OK) {
        gst_object_unref(src); /* ours, not floating */
        for (size_t i = 1; i < G_N_ELEMENTS(all); i++)
            if (all[i] != NULL)
                gst_object_unref(gst_object_ref_sink(all[i]));
        device_mic_free(mic);
        return rc;
    }
    GstCaps *s16 = gst_caps_new_simple(
        "audio/x-raw", "format", G_TYPE_STRING, "S16LE", "rate", G_TYPE_INT,
        MEDIA_OPUS_RATE, "channels", G_TYPE_INT, cfg->channels, "layout",
        G_TYPE_STRING, "interleaved", NULL);
    g_object_set(filter, "caps", s16, NULL);
    gst_caps_unref(s16);
    if (dsp != NULL) {
        /* Delay-agnostic on, extended filter off, high suppression.
         * Echo reduction measured here (test-device /device/echo-erle,
         * seconds 2-5 of 6): webrtcdsp's defaults 1.9 dB; high
         * suppression alone 4.6 dB; with the extended filter 3.4 dB;
         * delay-agnostic + high suppression 8.7-16.7 dB. */
        g_object_set(dsp, "echo-cancel", cfg->echo_cancel, "delay-agnostic",
                     TRUE, "extended-filter", FALSE, "echo-suppression-level",
                     2 /* high */, "noise-suppression", cfg->noise_suppression,
                     "gain-control", cfg->gain_control, NULL);
        if (cfg->echo_cancel)
            g_object_set(dsp, "probe",
                         cfg->echo_probe_name != NULL ? cfg->echo_probe_name
                                                      : "vid-echo-probe-0",
                         NULL);
    }
    g_object_set(split, "output-buffer-duration", 1, 100, NULL);
    g_object_set(sink, "sync", FALSE, "enable-last-sample", FALSE, NULL);
    GstAppSinkCallbacks cbs = {.new_sample = on_audio_sample};
    gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cbs, mic, NULL);

    GstBin *bin = GST_BIN(mic->pipe.pipeline);
    for (size_t i = 0; i < G_N_ELEMENTS(all); i++)
        if (all[i] != NULL)
            gst_bin_add(bin, all[i]);
    gst_object_unref(src);
    bool linked = dsp != NULL ? gst_element_link_many(src, conv, res, filter,
                                                      dsp, split, sink, NULL)
                              : gst_element_link_many(src, conv, res, filter,
                                                      split, sink, NULL);
    if (!linked) {
        device_mic_free(mic);
        return dev_fail(why, why_cap, DEVICE_ENEGOTIATION,
                        "cannot link the microphone to the converter");
    }
    *out = mic;
    return DEVICE_OK;
}

int device_mic_start(device_mic *mic, char *why, size_t why_cap)
{
    if (mic == NULL)
        return dev_fail(why, why_cap, DEVICE_EINVAL, "microphone is NULL");
    return dev_pipe_start(&mic->pipe, true, START_TIMEOUT_MS, why, why_cap);
}

int device_mic_stop(device_mic *mic)
{
    if (mic == NULL)
        return DEVICE_EINVAL;
    dev_pipe_stop(&mic->pipe);
    return DEVICE_OK;
}

void device_mic_free(device_mic *mic)
{
    if (mic == NULL)
        return;
    dev_pipe_clear(&mic->pipe);
    g_free(mic);
}
