/* Recording of received media: the encoded VP8 frames and Opus packets go
 * through appsrc into webmmux and a file, without decoding. */
#include "device-private.h"

#include <gst/app/gstappsrc.h>
#include <string.h>

#define FINISH_TIMEOUT_MS 5000

struct device_recorder {
    dev_pipe pipe;
    GstElement *vsrc, *asrc;
    int64_t t0; /* first timestamp of either track */
    bool have_t0;
    bool video_key; /* a keyframe has been pushed */
    bool finished;
};

int device_recorder_new(device_recorder **out,
                        const device_recorder_config *cfg, char *why,
                        size_t why_cap)
{
    int rc;
    if (out == NULL || cfg == NULL ||
        cfg->version != DEVICE_RECORDER_CONFIG_VERSION || cfg->path == NULL ||
        (!cfg->video && !cfg->audio) ||
        (cfg->video && (cfg->width < 2 || cfg->width > 16384 ||
                        cfg->height < 2 || cfg->height > 16384)) ||
        (cfg->audio && cfg->channels != 1 && cfg->channels != 2))
        return dev_fail(why, why_cap, DEVICE_EINVAL,
                        "bad recorder configuration (a path, at least one "
                        "track, sane size, 1 or 2 channels)");
    *out = NULL;
    rc = device_init(why, why_cap);
    if (rc != DEVICE_OK)
        return rc;
    GstElement *mux = dev_make("webmmux", NULL, &rc, why, why_cap);
    GstElement *sink = dev_make("filesink", NULL, &rc, why, why_cap);
    GstElement *vsrc =
        cfg->video ? dev_make("appsrc", "video", &rc, why, why_cap) : NULL;
    GstElement *asrc =
        cfg->audio ? dev_make("appsrc", "audio", &rc, why, why_cap) : NULL;
    GstElement *aparse =
        cfg->audio ? dev_make("opusparse", NULL, &rc, why, why_cap) : NULL;
    GstElement *all[] = {mux, sink, vsrc, asrc, aparse};
    if (rc != DEVICE_OK) {
        for (size_t i = 0; i < G_N_ELEMENTS(all); i++)
            if (all[i] != NULL)
                gst_object_unref(gst_object_ref_sink(all[i]));
        return rc;
    }
    device_recorder *rec = g_new0(device_recorder, 1);
    dev_pipe_init(&rec->pipe, "vid-recorder", NULL, NULL);
    g_object_set(sink, "location", cfg->path, "sync", FALSE, NULL);
    /* Not streamable: seek back at the end to write duration and cues. */
    g_object_set(mux, "streamable", FALSE, NULL);
    GstBin *bin = GST_BIN(rec->pipe.pipeline);
    for (size_t i = 0; i < G_N_ELEMENTS(all); i++)
        if (all[i] != NULL)
            gst_bin_add(bin, all[i]);
    bool ok = gst_element_link(mux, sink);
    if (vsrc != NULL) {
        GstCaps *caps =
            gst_caps_new_simple("video/x-vp8", "width", G_TYPE_INT, cfg->width,
                                "height", G_TYPE_INT, cfg->height, "framerate",
                                GST_TYPE_FRACTION, 0, 1, NULL);
        g_object_set(vsrc, "caps", caps, "format", GST_FORMAT_TIME, "max-bytes",
                     (guint64) 0, "block", FALSE, NULL);
        gst_caps_unref(caps);
        ok = ok && gst_element_link_pads(vsrc, "src", mux, "video_%u");
        rec->vsrc = vsrc;
    }
    if (asrc != NULL) {
        /* opusparse builds the OpusHead codec data webmmux needs. */
        GstCaps *caps = gst_caps_new_simple(
            "audio/x-opus", "rate", G_TYPE_INT, MEDIA_OPUS_RATE, "channels",
            G_TYPE_INT, cfg->channels, "channel-mapping-family", G_TYPE_INT, 0,
            NULL);
        g_object_set(asrc, "caps", caps, "format", GST_FORMAT_TIME, "max-bytes",
                     (guint64) 0, "block", FALSE, NULL);
        gst_caps_unref(caps);
        ok = ok && gst_element_link(asrc, aparse) &&
             gst_element_link_pads(aparse, "src", mux, "audio_%u");
        rec->asrc = asrc;
    }
    if (!ok) {
        device_recorder_free(rec);
        return dev_fail(why, why_cap, DEVICE_ENEGOTIATION,
                        "webmmux does not take VP8/Opus here");
    }
    rc = dev_pipe_start(&rec->pipe, false, 0, why, why_cap);
    if (rc != DEVICE_OK) {
        device_recorder_free(rec);
        if (rc == DEVICE_ENODEVICE)
            rc = DEVICE_EIO; /* filesink open failure: it is a file */
        return rc;
    }
    *out = rec;
    return DEVICE_OK;
}

static int push(device_recorder *rec, GstElement *src, const uint8_t *data,
                size_t len, int64_t pts_us, int64_t dur_us, bool delta)
{
    if (rec->finished)
        return DEVICE_ESTATE;
    if (dev_pipe_error(&rec->pipe) != DEVICE_OK)
        return DEVICE_EIO;
    if (!rec->have_t0) {
        rec->t0 = pts_us;
        rec->have_t0 = true;
    }
    if (pts_us < rec->t0)
        return DEVICE_EINVAL; /* before the start of the file */
    GstBuffer *buf = gst_buffer_new_memdup(data, len);
    GST_BUFFER_PTS(buf) = (GstClockTime) (pts_us - rec->t0) * GST_USECOND;
    GST_BUFFER_DTS(buf) = GST_BUFFER_PTS(buf);
    if (dur_us > 0)
        GST_BUFFER_DURATION(buf) = (GstClockTime) dur_us * GST_USECOND;
    if (delta)
        GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
    return gst_app_src_push_buffer(GST_APP_SRC(src), buf) == GST_FLOW_OK
               ? DEVICE_OK
               : DEVICE_EIO;
}

int device_recorder_push_video(device_recorder *rec, const uint8_t *frame,
                               size_t len, int64_t pts_us, bool keyframe)
{
    if (rec == NULL || rec->vsrc == NULL || frame == NULL || len == 0)
        return DEVICE_EINVAL;
    /* A file must start with a keyframe to be playable. */
    if (!rec->video_key && !keyframe)
        return DEVICE_OK;
    rec->video_key = true;
    return push(rec, rec->vsrc, frame, len, pts_us, 0, !keyframe);
}

int device_recorder_push_audio(device_recorder *rec, const uint8_t *packet,
                               size_t len, int64_t pts_us)
{
    if (rec == NULL || rec->asrc == NULL || packet == NULL || len == 0 ||
        len > MEDIA_OPUS_MAX_PACKET)
        return DEVICE_EINVAL;
    return push(rec, rec->asrc, packet, len, pts_us, 20000, false);
}

int device_recorder_finish(device_recorder *rec, char *why, size_t why_cap)
{
    if (rec == NULL)
        return dev_fail(why, why_cap, DEVICE_EINVAL, "recorder is NULL");
    if (rec->finished)
        return dev_fail(why, why_cap, DEVICE_ESTATE, "already finished");
    rec->finished = true;
    if (rec->vsrc != NULL)
        gst_app_src_end_of_stream(GST_APP_SRC(rec->vsrc));
    if (rec->asrc != NULL)
        gst_app_src_end_of_stream(GST_APP_SRC(rec->asrc));
    int rc = dev_pipe_wait_eos(&rec->pipe, FINISH_TIMEOUT_MS, why, why_cap);
    dev_pipe_stop(&rec->pipe);
    return rc;
}

void device_recorder_free(device_recorder *rec)
{
    if (rec == NULL)
        return;
    if (!rec->finished && rec->pipe.started)
        device_recorder_finish(rec, NULL, 0);
    dev_pipe_clear(&rec->pipe);
    g_free(rec);
}
