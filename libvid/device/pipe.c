/* Pipeline plumbing shared by capture, playout and recording. */
#include "device-private.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *device_strerror(int code)
{
    switch (code) {
    case DEVICE_OK:
        return "success";
    case DEVICE_EINVAL:
        return "invalid argument";
    case DEVICE_ENOMEM:
        return "out of memory";
    case DEVICE_ENODEVICE:
        return "no such device";
    case DEVICE_EBUSY:
        return "device busy";
    case DEVICE_ENEGOTIATION:
        return "format not supported by the device";
    case DEVICE_EPLUGIN:
        return "GStreamer element missing";
    case DEVICE_EIO:
        return "device or file failure";
    case DEVICE_ETIMEDOUT:
        return "device gave no data in time";
    case DEVICE_ESTATE:
        return "not possible in the current state";
    default:
        return "unknown device error";
    }
}

int dev_fail(char *why, size_t why_cap, int code, const char *fmt, ...)
{
    if (why != NULL && why_cap > 0) {
        va_list ap;
        va_start(ap, fmt);
        g_vsnprintf(why, why_cap, fmt, ap);
        va_end(ap);
    }
    return code;
}

static gsize init_done;
static int init_rc;
static char init_msg[256];

int device_init(char *why, size_t why_cap)
{
    if (g_once_init_enter(&init_done)) {
        GError *err = NULL;
        if (!gst_init_check(NULL, NULL, &err)) {
            init_rc = DEVICE_EPLUGIN;
            g_snprintf(init_msg, sizeof init_msg, "GStreamer cannot start: %s",
                       err != NULL ? err->message : "unknown reason");
            g_clear_error(&err);
        }
        g_once_init_leave(&init_done, 1);
    }
    if (init_rc != DEVICE_OK)
        return dev_fail(why, why_cap, init_rc, "%s", init_msg);
    return DEVICE_OK;
}

GstElement *dev_make(const char *factory, const char *name, int *rc, char *why,
                     size_t why_cap)
{
    GstElement *e = gst_element_factory_make(factory, name);
    if (e == NULL)
        *rc = dev_fail(why, why_cap, DEVICE_EPLUGIN,
                       "the GStreamer element \"%s\" is not installed "
                       "(GStreamer plugins base/good/bad)",
                       factory);
    return e;
}

static int code_of(GError *err, const char *debug)
{
    if (err->domain == GST_RESOURCE_ERROR) {
        switch (err->code) {
        case GST_RESOURCE_ERROR_BUSY:
            return DEVICE_EBUSY;
        case GST_RESOURCE_ERROR_NOT_FOUND:
        case GST_RESOURCE_ERROR_OPEN_READ:
        case GST_RESOURCE_ERROR_OPEN_WRITE:
        case GST_RESOURCE_ERROR_OPEN_READ_WRITE:
            return DEVICE_ENODEVICE;
        case GST_RESOURCE_ERROR_SETTINGS:
            return DEVICE_ENEGOTIATION;
        default:
            return DEVICE_EIO;
        }
    }
    if (err->domain == GST_CORE_ERROR &&
        (err->code == GST_CORE_ERROR_NEGOTIATION ||
         err->code == GST_CORE_ERROR_MISSING_PLUGIN))
        return err->code == GST_CORE_ERROR_NEGOTIATION ? DEVICE_ENEGOTIATION
                                                       : DEVICE_EPLUGIN;
    if (err->domain == GST_STREAM_ERROR &&
        (err->code == GST_STREAM_ERROR_FORMAT ||
         (debug != NULL && strstr(debug, "not-negotiated") != NULL)))
        return DEVICE_ENEGOTIATION;
    if (debug != NULL && strstr(debug, "not-negotiated") != NULL)
        return DEVICE_ENEGOTIATION;
    return DEVICE_EIO;
}

static GstBusSyncReply on_bus(GstBus *bus, GstMessage *msg, gpointer data)
{
    dev_pipe *p = data;
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
        GError *err = NULL;
        gchar *debug = NULL;
        gst_message_parse_error(msg, &err, &debug);
        int code = code_of(err, debug);
        char *text = g_strdup_printf("%s (from %s)", err->message,
                                     GST_OBJECT_NAME(msg->src));
        g_debug("device: %s [%s]", text, debug != NULL ? debug : "");
        bool first = false;
        g_mutex_lock(&p->lock);
        if (p->err == DEVICE_OK) {
            p->err = code;
            p->err_text = text;
            text = NULL;
            first = true;
        }
        g_cond_broadcast(&p->cond);
        g_mutex_unlock(&p->lock);
        if (first && p->on_error != NULL && p->started)
            p->on_error(code, p->err_text, p->user_data);
        g_free(text);
        g_free(debug);
        g_error_free(err);
    } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS) {
        g_mutex_lock(&p->lock);
        p->eos = true;
        g_cond_broadcast(&p->cond);
        g_mutex_unlock(&p->lock);
    }
    /* A sync handler that drops a message owns it. */
    gst_message_unref(msg);
    return GST_BUS_DROP;
}

void dev_pipe_init(dev_pipe *p, const char *name, device_error_cb on_error,
                   void *user_data)
{
    memset(p, 0, sizeof *p);
    g_mutex_init(&p->lock);
    g_cond_init(&p->cond);
    p->pipeline = gst_pipeline_new(name);
    p->on_error = on_error;
    p->user_data = user_data;
    GstBus *bus = gst_element_get_bus(p->pipeline);
    gst_bus_set_sync_handler(bus, on_bus, p, NULL);
    gst_object_unref(bus);
}

void dev_pipe_clear(dev_pipe *p)
{
    if (p->pipeline == NULL)
        return;
    gst_element_set_state(p->pipeline, GST_STATE_NULL);
    GstBus *bus = gst_element_get_bus(p->pipeline);
    gst_bus_set_sync_handler(bus, NULL, NULL, NULL);
    gst_object_unref(bus);
    gst_object_unref(p->pipeline);
    p->pipeline = NULL;
    g_free(p->err_text);
    g_mutex_clear(&p->lock);
    g_cond_clear(&p->cond);
}

static int take_error(dev_pipe *p, char *why, size_t why_cap)
{
    /* Called with the lock held. */
    return dev_fail(why, why_cap, p->err, "%s",
                    p->err_text != NULL ? p->err_text : "pipeline failed");
}

int dev_pipe_start(dev_pipe *p, bool wait_data, int timeout_ms, char *why,
                   size_t why_cap)
{
    if (p->started)
        return dev_fail(why, why_cap, DEVICE_ESTATE, "already started");
    g_mutex_lock(&p->lock);
    p->err = DEVICE_OK;
    g_clear_pointer(&p->err_text, g_free);
    p->data_seen = false;
    p->eos = false;
    g_mutex_unlock(&p->lock);

    GstStateChangeReturn ret =
        gst_element_set_state(p->pipeline, GST_STATE_PLAYING);
    int rc = DEVICE_OK;
    g_mutex_lock(&p->lock);
    if (ret == GST_STATE_CHANGE_FAILURE) {
        if (p->err == DEVICE_OK) {
            p->err = DEVICE_EIO;
            p->err_text = g_strdup("the pipeline refused to start");
        }
        rc = take_error(p, why, why_cap);
    } else if (wait_data) {
        gint64 end = g_get_monotonic_time() + timeout_ms * 1000LL;
        while (!p->data_seen && p->err == DEVICE_OK)
            if (!g_cond_wait_until(&p->cond, &p->lock, end))
                break;
        if (p->err != DEVICE_OK)
            rc = take_error(p, why, why_cap);
        else if (!p->data_seen)
            rc = dev_fail(why, why_cap, DEVICE_ETIMEDOUT,
                          "no data from the device within %d ms", timeout_ms);
    } else if (p->err != DEVICE_OK) {
        rc = take_error(p, why, why_cap);
    }
    g_mutex_unlock(&p->lock);
    if (rc != DEVICE_OK) {
        gst_element_set_state(p->pipeline, GST_STATE_NULL);
        return rc;
    }
    p->started = true;
    return DEVICE_OK;
}

void dev_pipe_stop(dev_pipe *p)
{
    if (p->pipeline != NULL)
        gst_element_set_state(p->pipeline, GST_STATE_NULL);
    p->started = false;
}

void dev_pipe_data(dev_pipe *p)
{
    g_mutex_lock(&p->lock);
    if (!p->data_seen) {
        p->data_seen = true;
        g_cond_broadcast(&p->cond);
    }
    g_mutex_unlock(&p->lock);
}

int dev_pipe_wait_eos(dev_pipe *p, int timeout_ms, char *why, size_t why_cap)
{
    int rc = DEVICE_OK;
    gint64 end = g_get_monotonic_time() + timeout_ms * 1000LL;
    g_mutex_lock(&p->lock);
    while (!p->eos && p->err == DEVICE_OK)
        if (!g_cond_wait_until(&p->cond, &p->lock, end))
            break;
    if (p->err != DEVICE_OK)
        rc = take_error(p, why, why_cap);
    else if (!p->eos)
        rc = dev_fail(why, why_cap, DEVICE_ETIMEDOUT,
                      "the pipeline did not finish within %d ms", timeout_ms);
    g_mutex_unlock(&p->lock);
    return rc;
}

int dev_pipe_error(dev_pipe *p)
{
    g_mutex_lock(&p->lock);
    int rc = p->err;
    g_mutex_unlock(&p->lock);
    return rc;
}

int64_t dev_buffer_time_us(GstElement *pipeline, GstBuffer *buf)
{
    GstClockTime pts = GST_BUFFER_PTS(buf);
    GstClockTime base = gst_element_get_base_time(pipeline);
    GstClock *clock = gst_element_get_clock(pipeline);
    int64_t now = g_get_monotonic_time();
    if (clock == NULL || !GST_CLOCK_TIME_IS_VALID(pts))
        goto fallback;
    /* Running time + base time is the clock's time; convert to monotonic
     * by the clock's current offset (the system clock is monotonic, but
     * an audio sink may provide another). */
    GstClockTime clock_now = gst_clock_get_time(clock);
    gst_object_unref(clock);
    int64_t age_us = ((int64_t) clock_now - (int64_t) (base + pts)) / 1000;
    if (age_us < 0 || age_us > 10 * G_USEC_PER_SEC)
        return now;
    return now - age_us;
fallback:
    if (clock != NULL)
        gst_object_unref(clock);
    return now;
}
