/* Rendering (appsrc -> videoconvert -> sink) and audio playout
 * (appsrc -> [webrtcechoprobe] -> audioconvert -> audioresample -> sink). */
#include "device-private.h"

#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>
#include <string.h>

struct device_video_out {
    dev_pipe pipe;
    GstElement *src;
    GstBufferPool *pool;
    GstVideoInfo info;
};

struct device_audio_out {
    dev_pipe pipe;
    GstElement *src;
    int channels;
    char *probe_name;
    guint64 samples; /* running time of the next push, in samples */
    bool timed;      /* samples set from the clock at the first push */
};

static gint probe_counter;

static void drop_all(GstElement **all, size_t n, GstElement *owned)
{
    for (size_t i = 0; i < n; i++) {
        if (all[i] == NULL)
            continue;
        if (all[i] == owned)
            gst_object_unref(all[i]);
        else
            gst_object_unref(gst_object_ref_sink(all[i]));
    }
}

int device_video_out_new(device_video_out **out,
                         const device_video_out_config *cfg, char *why,
                         size_t why_cap)
{
    GstElement *injected = cfg != NULL ? cfg->sink : NULL;
    int rc;
    if (out == NULL || cfg == NULL ||
        cfg->version != DEVICE_VIDEO_OUT_CONFIG_VERSION || cfg->width < 2 ||
        cfg->width > 8192 || cfg->height < 2 || cfg->height > 8192) {
        if (injected != NULL)
            gst_object_unref(gst_object_ref_sink(injected));
        return dev_fail(why, why_cap, DEVICE_EINVAL,
                        "bad video output configuration");
    }
    *out = NULL;
    rc = device_init(why, why_cap);
    if (rc != DEVICE_OK) {
        if (injected != NULL)
            gst_object_unref(gst_object_ref_sink(injected));
        return rc;
    }
    /* Headless: autovideosink would probe every sink, and DirectFB's
     * crashes the process without a display (seen on Debian 12). */
    if (injected == NULL && g_getenv("DISPLAY") == NULL &&
        g_getenv("WAYLAND_DISPLAY") == NULL)
        return dev_fail(why, why_cap, DEVICE_ENODEVICE,
                        "no display to render to (neither DISPLAY nor "
                        "WAYLAND_DISPLAY is set); take frames through a "
                        "callback instead");
    GstElement *sink = injected != NULL
                           ? gst_object_ref_sink(injected)
                           : dev_make("autovideosink", NULL, &rc, why, why_cap);
    if (sink != NULL && injected == NULL)
        gst_object_ref_sink(sink);
    GstElement *src = dev_make("appsrc", "src", &rc, why, why_cap);
    GstElement *conv = dev_make("videoconvert", NULL, &rc, why, why_cap);
    GstElement *all[] = {src, conv, sink};
    if (rc != DEVICE_OK) {
        drop_all(all, G_N_ELEMENTS(all), sink);
        return rc;
    }
    device_video_out *vo = g_new0(device_video_out, 1);
    dev_pipe_init(&vo->pipe, "vid-render", NULL, NULL);
    gst_video_info_set_format(&vo->info, GST_VIDEO_FORMAT_I420,
                              (guint) cfg->width, (guint) cfg->height);
    GstCaps *caps = gst_video_info_to_caps(&vo->info);
    g_object_set(src, "caps", caps, "format", GST_FORMAT_TIME, "is-live", TRUE,
                 "do-timestamp", TRUE, "max-buffers", (guint64) 2, "leaky-type",
                 2 /* downstream: drop the oldest */, NULL);
    /* Frames arrive already timed by the jitter buffer: show at once. */
    if (g_object_class_find_property(G_OBJECT_GET_CLASS(sink), "sync"))
        g_object_set(sink, "sync", FALSE, NULL);
    vo->pool = gst_video_buffer_pool_new();
    GstStructure *pc = gst_buffer_pool_get_config(vo->pool);
    gst_buffer_pool_config_set_params(pc, caps, (guint) vo->info.size, 2, 8);
    gst_buffer_pool_set_config(vo->pool, pc);
    gst_buffer_pool_set_active(vo->pool, TRUE);
    gst_caps_unref(caps);

    gst_bin_add_many(GST_BIN(vo->pipe.pipeline), src, conv, sink, NULL);
    gst_object_unref(sink);
    vo->src = src;
    if (!gst_element_link_many(src, conv, sink, NULL)) {
        device_video_out_free(vo);
        return dev_fail(why, why_cap, DEVICE_ENEGOTIATION,
                        "the video sink does not take converted video");
    }
    rc = dev_pipe_start(&vo->pipe, false, 0, why, why_cap);
    if (rc != DEVICE_OK) {
        device_video_out_free(vo);
        return rc;
    }
    *out = vo;
    return DEVICE_OK;
}

int device_video_out_push(device_video_out *vo, const media_i420 *pic)
{
    if (vo == NULL || pic == NULL || pic->y == NULL || pic->u == NULL ||
        pic->v == NULL || pic->width != (int) GST_VIDEO_INFO_WIDTH(&vo->info) ||
        pic->height != (int) GST_VIDEO_INFO_HEIGHT(&vo->info))
        return DEVICE_EINVAL;
    if (dev_pipe_error(&vo->pipe) != DEVICE_OK)
        return DEVICE_EIO;
    GstBuffer *buf = NULL;
    if (gst_buffer_pool_acquire_buffer(vo->pool, &buf, NULL) != GST_FLOW_OK)
        return DEVICE_EIO;
    GstVideoFrame frame;
    if (!gst_video_frame_map(&frame, &vo->info, buf, GST_MAP_WRITE)) {
        gst_buffer_unref(buf);
        return DEVICE_EIO;
    }
    const uint8_t *planes[3] = {pic->y, pic->u, pic->v};
    int strides[3] = {pic->stride_y, pic->stride_u, pic->stride_v};
    for (int p = 0; p < 3; p++) {
        uint8_t *dst = GST_VIDEO_FRAME_PLANE_DATA(&frame, p);
        int dstride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, p);
        int w = GST_VIDEO_FRAME_COMP_WIDTH(&frame, p);
        int h = GST_VIDEO_FRAME_COMP_HEIGHT(&frame, p);
        for (int y = 0; y < h; y++)
            memcpy(dst + (size_t) y * dstride,
                   planes[p] + (size_t) y * strides[p], (size_t) w);
    }
    gst_video_frame_unmap(&frame);
    GstFlowReturn ret = gst_app_src_push_buffer(GST_APP_SRC(vo->src), buf);
    return ret == GST_FLOW_OK ? DEVICE_OK : DEVICE_EIO;
}

void device_video_out_free(device_video_out *vo)
{
    if (vo == NULL)
        return;
    dev_pipe_clear(&vo->pipe);
    if (vo->pool != NULL) {
        gst_buffer_pool_set_active(vo->pool, FALSE);
        gst_object_unref(vo->pool);
    }
    g_free(vo);
}

/* ------------------------------------------------------------------ */

/* The element autoaudiosink/autovideosink settled on: "fakesink" means it
 * found no usable device. NULL if @auto_sink is not such a bin. */
static char *auto_child_factory(GstElement *auto_sink)
{
    if (!GST_IS_BIN(auto_sink))
        return NULL;
    char *name = NULL;
    GstIterator *it = gst_bin_iterate_elements(GST_BIN(auto_sink));
    GValue item = G_VALUE_INIT;
    if (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
        GstElementFactory *f =
            gst_element_get_factory(GST_ELEMENT(g_value_get_object(&item)));
        if (f != NULL)
            name = g_strdup(GST_OBJECT_NAME(f));
        g_value_reset(&item);
    }
    g_value_unset(&item);
    gst_iterator_free(it);
    return name;
}

int device_audio_out_new(device_audio_out **out,
                         const device_audio_out_config *cfg, char *why,
                         size_t why_cap)
{
    GstElement *injected = cfg != NULL ? cfg->sink : NULL;
    int rc;
    if (out == NULL || cfg == NULL ||
        cfg->version != DEVICE_AUDIO_OUT_CONFIG_VERSION ||
        (cfg->channels != 1 && cfg->channels != 2)) {
        if (injected != NULL)
            gst_object_unref(gst_object_ref_sink(injected));
        return dev_fail(why, why_cap, DEVICE_EINVAL,
                        "bad audio output configuration (channels 1 or 2)");
    }
    *out = NULL;
    rc = device_init(why, why_cap);
    if (rc != DEVICE_OK) {
        if (injected != NULL)
            gst_object_unref(gst_object_ref_sink(injected));
        return rc;
    }
    GstElement *sink = NULL;
    if (injected != NULL) {
        sink = gst_object_ref_sink(injected);
    } else if (cfg->device_id != NULL) {
        GstDevice *dev =
            dev_find(DEVICE_SPEAKER, cfg->device_id, &rc, why, why_cap);
        if (dev == NULL)
            return rc;
        sink = gst_device_create_element(dev, NULL);
        gst_object_unref(dev);
        if (sink == NULL)
            return dev_fail(why, why_cap, DEVICE_EPLUGIN,
                            "the speaker \"%s\" has no playout element",
                            cfg->device_id);
        gst_object_ref_sink(sink);
    } else {
        sink = dev_make("autoaudiosink", NULL, &rc, why, why_cap);
        if (sink == NULL)
            return rc;
        gst_object_ref_sink(sink);
    }
    GstElement *src = dev_make("appsrc", "src", &rc, why, why_cap);
    GstElement *probe =
        cfg->echo_probe ? dev_make("webrtcechoprobe", NULL, &rc, why, why_cap)
                        : NULL;
    GstElement *conv = dev_make("audioconvert", NULL, &rc, why, why_cap);
    GstElement *res = dev_make("audioresample", NULL, &rc, why, why_cap);
    GstElement *all[] = {src, probe, conv, res, sink};
    if (rc != DEVICE_OK) {
        drop_all(all, G_N_ELEMENTS(all), sink);
        return rc;
    }
    device_audio_out *ao = g_new0(device_audio_out, 1);
    ao->channels = cfg->channels;
    dev_pipe_init(&ao->pipe, "vid-playout", NULL, NULL);
    GstCaps *caps = gst_caps_new_simple(
        "audio/x-raw", "format", G_TYPE_STRING, "S16LE", "rate", G_TYPE_INT,
        MEDIA_OPUS_RATE, "channels", G_TYPE_INT, cfg->channels, "layout",
        G_TYPE_STRING, "interleaved", NULL);
    g_object_set(src, "caps", caps, "format", GST_FORMAT_TIME, "is-live", TRUE,
                 "do-timestamp", FALSE, NULL);
    gst_caps_unref(caps);
    if (probe != NULL) {
        ao->probe_name = g_strdup_printf("vid-echo-probe-%d",
                                         g_atomic_int_add(&probe_counter, 1));
        gst_object_set_name(GST_OBJECT(probe), ao->probe_name);
    }
    GstBin *bin = GST_BIN(ao->pipe.pipeline);
    for (size_t i = 0; i < G_N_ELEMENTS(all); i++)
        if (all[i] != NULL)
            gst_bin_add(bin, all[i]);
    gst_object_unref(sink);
    ao->src = src;
    bool linked = probe != NULL
                      ? gst_element_link_many(src, probe, conv, res, sink, NULL)
                      : gst_element_link_many(src, conv, res, sink, NULL);
    if (!linked) {
        device_audio_out_free(ao);
        return dev_fail(why, why_cap, DEVICE_ENEGOTIATION,
                        "the audio sink does not take converted audio");
    }
    rc = dev_pipe_start(&ao->pipe, false, 0, why, why_cap);
    if (rc != DEVICE_OK) {
        device_audio_out_free(ao);
        return rc;
    }
    if (injected == NULL && cfg->device_id == NULL) {
        char *chosen = auto_child_factory(sink);
        bool none = chosen == NULL || strcmp(chosen, "fakesink") == 0;
        g_free(chosen);
        if (none) {
            device_audio_out_free(ao);
            return dev_fail(why, why_cap, DEVICE_ENODEVICE,
                            "no speaker: autoaudiosink found no usable "
                            "audio output");
        }
    }
    *out = ao;
    return DEVICE_OK;
}

int device_audio_out_push(device_audio_out *ao, const int16_t *pcm,
                          size_t frames)
{
    if (ao == NULL || pcm == NULL || frames == 0 || frames > 48000)
        return DEVICE_EINVAL;
    if (dev_pipe_error(&ao->pipe) != DEVICE_OK)
        return DEVICE_EIO;
    size_t bytes = frames * (size_t) ao->channels * sizeof(int16_t);
    GstBuffer *buf = gst_buffer_new_allocate(NULL, bytes, NULL);
    if (buf == NULL)
        return DEVICE_ENOMEM;
    gst_buffer_fill(buf, 0, pcm, bytes);
    /* Contiguous timestamps from the first push: the sink's clock slaving
     * absorbs drift; a gap would be heard as a click. */
    if (!ao->timed) {
        ao->timed = true;
        GstClock *clock = gst_element_get_clock(ao->pipe.pipeline);
        if (clock != NULL) {
            GstClockTime now = gst_clock_get_time(clock) -
                               gst_element_get_base_time(ao->pipe.pipeline);
            ao->samples =
                gst_util_uint64_scale(now, MEDIA_OPUS_RATE, GST_SECOND);
            gst_object_unref(clock);
        }
    }
    GST_BUFFER_PTS(buf) =
        gst_util_uint64_scale(ao->samples, GST_SECOND, MEDIA_OPUS_RATE);
    GST_BUFFER_DURATION(buf) =
        gst_util_uint64_scale(frames, GST_SECOND, MEDIA_OPUS_RATE);
    ao->samples += frames;
    GstFlowReturn ret = gst_app_src_push_buffer(GST_APP_SRC(ao->src), buf);
    return ret == GST_FLOW_OK ? DEVICE_OK : DEVICE_EIO;
}

const char *device_audio_out_probe_name(const device_audio_out *ao)
{
    return ao != NULL ? ao->probe_name : NULL;
}

void device_audio_out_free(device_audio_out *ao)
{
    if (ao == NULL)
        return;
    dev_pipe_clear(&ao->pipe);
    g_free(ao->probe_name);
    g_free(ao);
}
