/* The synthetic camera and microphone as live GStreamer sources, so demos
 * and end-to-end tests run the capture path exactly as with a device. */
#include "device-private.h"

#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>

typedef struct {
    int width, height, fps;
    uint32_t n;
    gint64 start_us; /* monotonic time of frame 0 */
} video_state;

typedef struct {
    media_synth_audio synth;
    uint64_t n; /* 10 ms buffers pushed */
    gint64 start_us;
} audio_state;

/* Sleep until @due (monotonic µs); a live source must not run ahead. */
static void wait_until(gint64 due)
{
    gint64 now = g_get_monotonic_time();
    if (due > now)
        g_usleep((gulong) (due - now));
}

static void video_need_data(GstAppSrc *src, guint length, gpointer data)
{
    video_state *vs = data;
    if (vs->n == 0)
        vs->start_us = g_get_monotonic_time();
    wait_until(vs->start_us + (gint64) vs->n * G_USEC_PER_SEC / vs->fps);
    GstVideoInfo info;
    gst_video_info_set_format(&info, GST_VIDEO_FORMAT_I420, (guint) vs->width,
                              (guint) vs->height);
    GstBuffer *buf = gst_buffer_new_allocate(NULL, info.size, NULL);
    GstVideoFrame frame;
    if (buf == NULL ||
        !gst_video_frame_map(&frame, &info, buf, GST_MAP_WRITE)) {
        if (buf != NULL)
            gst_buffer_unref(buf);
        gst_app_src_end_of_stream(src);
        return;
    }
    media_i420 pic = {GST_VIDEO_FRAME_PLANE_DATA(&frame, 0),
                      GST_VIDEO_FRAME_PLANE_DATA(&frame, 1),
                      GST_VIDEO_FRAME_PLANE_DATA(&frame, 2),
                      GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0),
                      GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 1),
                      GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 2),
                      vs->width,
                      vs->height};
    media_synth_video_fill(&pic, vs->n, g_get_monotonic_time());
    gst_video_frame_unmap(&frame);
    GST_BUFFER_DURATION(buf) = GST_SECOND / (guint64) vs->fps;
    vs->n++;
    gst_app_src_push_buffer(src, buf); /* do-timestamp: now */
}

static void audio_need_data(GstAppSrc *src, guint length, gpointer data)
{
    audio_state *as = data;
    if (as->n == 0)
        as->start_us = g_get_monotonic_time();
    wait_until(as->start_us + (gint64) as->n * 10000);
    size_t frames = MEDIA_OPUS_RATE / 100;
    size_t bytes = frames * (size_t) as->synth.channels * sizeof(int16_t);
    GstBuffer *buf = gst_buffer_new_allocate(NULL, bytes, NULL);
    GstMapInfo map;
    if (buf == NULL || !gst_buffer_map(buf, &map, GST_MAP_WRITE)) {
        if (buf != NULL)
            gst_buffer_unref(buf);
        gst_app_src_end_of_stream(src);
        return;
    }
    media_synth_audio_fill(&as->synth, (int16_t *) (void *) map.data, frames);
    gst_buffer_unmap(buf, &map);
    GST_BUFFER_DURATION(buf) = 10 * GST_MSECOND;
    as->n++;
    gst_app_src_push_buffer(src, buf);
}

GstElement *device_synth_camera(int width, int height, int fps)
{
    if (width < MEDIA_SYNTH_MIN_WIDTH || height < MEDIA_SYNTH_MIN_HEIGHT ||
        width > 4096 || height > 4096 || width % 2 != 0 || height % 2 != 0 ||
        fps < 1 || fps > 120 || device_init(NULL, 0) != DEVICE_OK)
        return NULL;
    GstElement *src = gst_element_factory_make("appsrc", NULL);
    if (src == NULL)
        return NULL;
    video_state *vs = g_new0(video_state, 1);
    vs->width = width;
    vs->height = height;
    vs->fps = fps;
    GstCaps *caps = gst_caps_new_simple(
        "video/x-raw", "format", G_TYPE_STRING, "I420", "width", G_TYPE_INT,
        width, "height", G_TYPE_INT, height, "framerate", GST_TYPE_FRACTION,
        fps, 1, NULL);
    g_object_set(src, "caps", caps, "format", GST_FORMAT_TIME, "is-live", TRUE,
                 "do-timestamp", TRUE, "max-buffers", (guint64) 2, NULL);
    gst_caps_unref(caps);
    GstAppSrcCallbacks cbs = {.need_data = video_need_data};
    gst_app_src_set_callbacks(GST_APP_SRC(src), &cbs, vs, g_free);
    return src;
}

GstElement *device_synth_microphone(int channels, int period_ms)
{
    if (device_init(NULL, 0) != DEVICE_OK)
        return NULL;
    audio_state *as = g_new0(audio_state, 1);
    if (media_synth_audio_init(&as->synth, channels, period_ms) != MEDIA_OK) {
        g_free(as);
        return NULL;
    }
    GstElement *src = gst_element_factory_make("appsrc", NULL);
    if (src == NULL) {
        g_free(as);
        return NULL;
    }
    GstCaps *caps = gst_caps_new_simple(
        "audio/x-raw", "format", G_TYPE_STRING, "S16LE", "rate", G_TYPE_INT,
        MEDIA_OPUS_RATE, "channels", G_TYPE_INT, channels, "layout",
        G_TYPE_STRING, "interleaved", NULL);
    g_object_set(src, "caps", caps, "format", GST_FORMAT_TIME, "is-live", TRUE,
                 "do-timestamp", TRUE, "max-buffers", (guint64) 2, NULL);
    gst_caps_unref(caps);
    GstAppSrcCallbacks cbs = {.need_data = audio_need_data};
    gst_app_src_set_callbacks(GST_APP_SRC(src), &cbs, as, g_free);
    return src;
}
