/* Device enumeration and hotplug with GstDeviceMonitor. */
#include "device-private.h"

#include <stdlib.h>
#include <string.h>

/*
 * One GstDeviceMonitor for the whole process. GStreamer >= 1.22 gives each
 * device provider a single bus sync handler, owned by the last monitor that
 * added a filter for it: a second monitor (even a short-lived one made to
 * list devices) silently cuts the first off from hotplug messages. So all
 * listing and watching goes through this one, started at first use and
 * released by device_shutdown(). Each device_monitor is a listener; events
 * are forwarded to its GMainContext.
 */
struct device_monitor {
    GMainContext *context;
    device_event_cb cb;
    void *user_data;
    gint active; /* atomic: cleared by device_monitor_free() */
};

static GMutex shared_lock;
static GstDeviceMonitor *shared;
static GList *listeners; /* device_monitor* (rc boxes), under shared_lock */

static const char *const class_of[] = {
    [DEVICE_CAMERA] = "Video/Source",
    [DEVICE_MICROPHONE] = "Audio/Source",
    [DEVICE_SPEAKER] = "Audio/Sink",
};

bool dev_kind_of(GstDevice *dev, device_kind *kind)
{
    for (int k = DEVICE_CAMERA; k <= DEVICE_SPEAKER; k++) {
        if (gst_device_has_classes(dev, class_of[k])) {
            *kind = (device_kind) k;
            return true;
        }
    }
    return false;
}

void device_info_clear(device_info *info)
{
    if (info == NULL)
        return;
    g_free(info->name);
    g_free(info->id);
    g_free(info->api);
    g_free(info->modes);
    memset(info, 0, sizeof *info);
}

void device_list_free(device_info *list, size_t n)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        device_info_clear(&list[i]);
    g_free(list);
}

/* The highest frame rate a "framerate" field allows. */
bool dev_max_rate(const GValue *v, int *num, int *den)
{
    if (v == NULL)
        return false;
    if (GST_VALUE_HOLDS_FRACTION(v)) {
        *num = gst_value_get_fraction_numerator(v);
        *den = gst_value_get_fraction_denominator(v);
        return *den > 0;
    }
    if (GST_VALUE_HOLDS_FRACTION_RANGE(v))
        return dev_max_rate(gst_value_get_fraction_range_max(v), num, den);
    if (GST_VALUE_HOLDS_LIST(v)) {
        bool any = false;
        for (guint i = 0; i < gst_value_list_get_size(v); i++) {
            int n, d;
            if (dev_max_rate(gst_value_list_get_value(v, i), &n, &d) &&
                (!any || (gint64) n * *den > (gint64) *num * d)) {
                *num = n;
                *den = d;
                any = true;
            }
        }
        return any;
    }
    return false;
}

static void int_bounds(const GValue *v, int *lo, int *hi)
{
    if (v == NULL)
        return;
    if (G_VALUE_HOLDS_INT(v)) {
        int x = g_value_get_int(v);
        if (*lo == 0 || x < *lo)
            *lo = x;
        if (x > *hi)
            *hi = x;
    } else if (GST_VALUE_HOLDS_INT_RANGE(v)) {
        int a = gst_value_get_int_range_min(v);
        int b = gst_value_get_int_range_max(v);
        if (*lo == 0 || a < *lo)
            *lo = a;
        if (b > *hi)
            *hi = b;
    } else if (GST_VALUE_HOLDS_LIST(v)) {
        for (guint i = 0; i < gst_value_list_get_size(v); i++)
            int_bounds(gst_value_list_get_value(v, i), lo, hi);
    }
}

static int mode_cmp(const void *a, const void *b)
{
    const device_video_mode *x = a, *y = b;
    long ax = (long) x->width * x->height, ay = (long) y->width * y->height;
    return ax < ay ? 1 : ax > ay ? -1 : 0;
}

static void fill_modes(device_info *info, GstCaps *caps)
{
    GArray *modes = g_array_new(FALSE, TRUE, sizeof(device_video_mode));
    for (guint i = 0; i < gst_caps_get_size(caps); i++) {
        GstStructure *s = gst_caps_get_structure(caps, i);
        bool raw = gst_structure_has_name(s, "video/x-raw");
        bool jpeg = gst_structure_has_name(s, "image/jpeg");
        int w, h, num = 0, den = 1;
        if ((!raw && !jpeg) || !gst_structure_get_int(s, "width", &w) ||
            !gst_structure_get_int(s, "height", &h))
            continue; /* ranges (templates) and other formats: skip */
        dev_max_rate(gst_structure_get_value(s, "framerate"), &num, &den);
        device_video_mode *m = NULL;
        for (guint j = 0; j < modes->len; j++) {
            device_video_mode *o = &g_array_index(modes, device_video_mode, j);
            if (o->width == w && o->height == h)
                m = o;
        }
        if (m == NULL) {
            device_video_mode nm = {w, h, num, den, false, false};
            g_array_append_val(modes, nm);
            m = &g_array_index(modes, device_video_mode, modes->len - 1);
        } else if ((gint64) num * m->fps_den > (gint64) m->fps_num * den) {
            m->fps_num = num;
            m->fps_den = den;
        }
        m->raw |= raw;
        m->mjpeg |= jpeg;
    }
    info->n_modes = modes->len;
    info->modes = (device_video_mode *) (void *) g_array_free(modes, FALSE);
    if (info->n_modes == 0)
        g_clear_pointer(&info->modes, g_free);
    else
        qsort(info->modes, info->n_modes, sizeof *info->modes, mode_cmp);
}

static void fill_audio(device_info *info, GstCaps *caps)
{
    int rlo = 0, rhi = 0, clo = 0, chi = 0;
    for (guint i = 0; i < gst_caps_get_size(caps); i++) {
        GstStructure *s = gst_caps_get_structure(caps, i);
        int_bounds(gst_structure_get_value(s, "rate"), &rlo, &rhi);
        int_bounds(gst_structure_get_value(s, "channels"), &clo, &chi);
    }
    info->rate_min = rlo;
    info->rate_max = rhi;
    info->channels_max = chi;
}

void dev_info_fill(device_info *info, device_kind kind, GstDevice *dev)
{
    memset(info, 0, sizeof *info);
    info->kind = kind;
    info->name = gst_device_get_display_name(dev);
    if (info->name == NULL)
        info->name = g_strdup("");
    GstStructure *props = gst_device_get_properties(dev);
    static const char *const id_keys[] = {
        "api.v4l2.path", "device.path", "object.path", "node.name",
        "device.name",   "udev-probed", NULL};
    if (props != NULL) {
        for (int i = 0; id_keys[i] != NULL && info->id == NULL; i++) {
            const char *v = gst_structure_get_string(props, id_keys[i]);
            if (v != NULL && *v != '\0')
                info->id = g_strdup(v);
        }
        const char *api = gst_structure_get_string(props, "device.api");
        info->api = g_strdup(api != NULL ? api : "");
        gboolean def = FALSE;
        if (gst_structure_get_boolean(props, "is-default", &def))
            info->is_default = def;
        gst_structure_free(props);
    } else {
        info->api = g_strdup("");
    }
    if (info->id == NULL)
        info->id = g_strdup(info->name);
    GstCaps *caps = gst_device_get_caps(dev);
    if (caps != NULL) {
        if (kind == DEVICE_CAMERA)
            fill_modes(info, caps);
        else
            fill_audio(info, caps);
        gst_caps_unref(caps);
    }
}

typedef struct {
    device_monitor *listener; /* a reference */
    device_event event;
    GstDevice *dev;
} pending_event;

static gboolean dispatch_event(gpointer data)
{
    pending_event *pe = data;
    device_kind kind;
    if (g_atomic_int_get(&pe->listener->active) && pe->listener->cb != NULL &&
        dev_kind_of(pe->dev, &kind)) {
        device_info info;
        dev_info_fill(&info, kind, pe->dev);
        pe->listener->cb(pe->event, &info, pe->listener->user_data);
        device_info_clear(&info);
    }
    return G_SOURCE_REMOVE;
}

static void monitor_clear(gpointer data);

static void free_event(gpointer data)
{
    pending_event *pe = data;
    g_rc_box_release_full(pe->listener, monitor_clear);
    gst_object_unref(pe->dev);
    g_free(pe);
}

/* Streaming/provider thread: fan the message out to the listeners. */
static GstBusSyncReply on_shared_bus(GstBus *bus, GstMessage *msg,
                                     gpointer data)
{
    /* A sync handler that drops a message owns it. */
    GstMessageType t = GST_MESSAGE_TYPE(msg);
    GstDevice *dev = NULL;
    if (t == GST_MESSAGE_DEVICE_ADDED)
        gst_message_parse_device_added(msg, &dev);
    else if (t == GST_MESSAGE_DEVICE_REMOVED)
        gst_message_parse_device_removed(msg, &dev);
    gst_message_unref(msg);
    if (dev == NULL)
        return GST_BUS_DROP;
    g_mutex_lock(&shared_lock);
    for (GList *l = listeners; l != NULL; l = l->next) {
        device_monitor *mon = l->data;
        pending_event *pe = g_new0(pending_event, 1);
        pe->listener = g_rc_box_acquire(mon);
        pe->event =
            t == GST_MESSAGE_DEVICE_ADDED ? DEVICE_ADDED : DEVICE_REMOVED;
        pe->dev = gst_object_ref(dev);
        /* Always through a source: invoke() would run it here, on the
         * provider's thread, when nobody owns the context. */
        GSource *src = g_idle_source_new();
        g_source_set_priority(src, G_PRIORITY_DEFAULT);
        g_source_set_callback(src, dispatch_event, pe, free_event);
        g_source_attach(src, mon->context);
        g_source_unref(src);
    }
    g_mutex_unlock(&shared_lock);
    gst_object_unref(dev);
    return GST_BUS_DROP;
}

/* The shared monitor, created and started at first use (a new reference). */
static GstDeviceMonitor *shared_monitor(void)
{
    g_mutex_lock(&shared_lock);
    if (shared == NULL) {
        shared = gst_device_monitor_new();
        for (int k = DEVICE_CAMERA; k <= DEVICE_SPEAKER; k++)
            gst_device_monitor_add_filter(shared, class_of[k], NULL);
        GstBus *bus = gst_device_monitor_get_bus(shared);
        gst_bus_set_sync_handler(bus, on_shared_bus, NULL, NULL);
        gst_object_unref(bus);
        /* Fails when no provider can watch (no udev, no sound server):
         * listing still probes. */
        if (!gst_device_monitor_start(shared))
            g_debug("device: no device provider could start watching");
    }
    GstDeviceMonitor *m = gst_object_ref(shared);
    g_mutex_unlock(&shared_lock);
    return m;
}

void device_shutdown(void)
{
    g_mutex_lock(&shared_lock);
    GstDeviceMonitor *m = shared;
    shared = NULL;
    g_mutex_unlock(&shared_lock);
    if (m == NULL)
        return;
    gst_device_monitor_stop(m);
    GstBus *bus = gst_device_monitor_get_bus(m);
    gst_bus_set_sync_handler(bus, NULL, NULL, NULL);
    gst_object_unref(bus);
    gst_object_unref(m);
}

static int list_of(GstDeviceMonitor *m, device_kind kind, device_info **out,
                   size_t *n)
{
    GList *devs = gst_device_monitor_get_devices(m);
    GArray *arr = g_array_new(FALSE, TRUE, sizeof(device_info));
    for (GList *l = devs; l != NULL; l = l->next) {
        device_kind k;
        if (!dev_kind_of(l->data, &k) || k != kind)
            continue;
        device_info info;
        dev_info_fill(&info, kind, l->data);
        g_array_append_val(arr, info);
    }
    g_list_free_full(devs, gst_object_unref);
    *n = arr->len;
    *out = (device_info *) (void *) g_array_free(arr, FALSE);
    if (*n == 0)
        g_clear_pointer(out, g_free);
    return DEVICE_OK;
}

int device_list(device_kind kind, device_info **out, size_t *n, char *why,
                size_t why_cap)
{
    if (out == NULL || n == NULL || kind < DEVICE_CAMERA ||
        kind > DEVICE_SPEAKER)
        return dev_fail(why, why_cap, DEVICE_EINVAL, "bad argument");
    *out = NULL;
    *n = 0;
    int rc = device_init(why, why_cap);
    if (rc != DEVICE_OK)
        return rc;
    GstDeviceMonitor *m = shared_monitor();
    rc = list_of(m, kind, out, n);
    gst_object_unref(m);
    return rc;
}

GstDevice *dev_find(device_kind kind, const char *id, int *rc, char *why,
                    size_t why_cap)
{
    static const char *const what[] = {[DEVICE_CAMERA] = "camera",
                                       [DEVICE_MICROPHONE] = "microphone",
                                       [DEVICE_SPEAKER] = "speaker"};
    GstDeviceMonitor *m = shared_monitor();
    GList *devs = gst_device_monitor_get_devices(m);
    GstDevice *found = NULL;
    int count = 0;
    for (GList *l = devs; l != NULL && found == NULL; l = l->next) {
        device_kind k;
        if (!dev_kind_of(l->data, &k) || k != kind)
            continue;
        count++;
        if (id == NULL) {
            found = gst_object_ref(l->data);
            break;
        }
        device_info info;
        dev_info_fill(&info, kind, l->data);
        if (g_strcmp0(info.id, id) == 0 || g_strcmp0(info.name, id) == 0)
            found = gst_object_ref(l->data);
        device_info_clear(&info);
    }
    g_list_free_full(devs, gst_object_unref);
    gst_object_unref(m);
    if (found == NULL) {
        if (count == 0)
            *rc = dev_fail(why, why_cap, DEVICE_ENODEVICE,
                           "no %s found: the device monitor lists no %s "
                           "device",
                           what[kind], class_of[kind]);
        else
            *rc = dev_fail(why, why_cap, DEVICE_ENODEVICE,
                           "no %s with id or name \"%s\" (%d other%s present)",
                           what[kind], id, count, count == 1 ? "" : "s");
    }
    return found;
}

int device_monitor_new(device_monitor **out, GMainContext *context,
                       device_event_cb cb, void *user_data, char *why,
                       size_t why_cap)
{
    if (out == NULL)
        return dev_fail(why, why_cap, DEVICE_EINVAL, "out is NULL");
    *out = NULL;
    int rc = device_init(why, why_cap);
    if (rc != DEVICE_OK)
        return rc;
    GstDeviceMonitor *m = shared_monitor();
    gst_object_unref(m); /* the shared one lives until device_shutdown() */
    device_monitor *mon = g_rc_box_new0(device_monitor);
    mon->context = context != NULL
                       ? g_main_context_ref(context)
                       : g_main_context_ref(g_main_context_default());
    mon->cb = cb;
    mon->user_data = user_data;
    mon->active = 1;
    g_mutex_lock(&shared_lock);
    listeners = g_list_prepend(listeners, mon);
    g_mutex_unlock(&shared_lock);
    *out = mon;
    return DEVICE_OK;
}

static void monitor_clear(gpointer data)
{
    device_monitor *mon = data;
    g_main_context_unref(mon->context);
}

void device_monitor_free(device_monitor *mon)
{
    if (mon == NULL)
        return;
    g_mutex_lock(&shared_lock);
    listeners = g_list_remove(listeners, mon);
    g_mutex_unlock(&shared_lock);
    g_atomic_int_set(&mon->active, 0);
    g_rc_box_release_full(mon, monitor_clear);
}

int device_monitor_list(device_monitor *mon, device_kind kind,
                        device_info **out, size_t *n)
{
    if (mon == NULL || out == NULL || n == NULL || kind < DEVICE_CAMERA ||
        kind > DEVICE_SPEAKER)
        return DEVICE_EINVAL;
    GstDeviceMonitor *m = shared_monitor();
    int rc = list_of(m, kind, out, n);
    gst_object_unref(m);
    return rc;
}
