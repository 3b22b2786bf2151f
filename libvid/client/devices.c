/*
 * devices.c — vid_devices_list() and hotplug events
 * (vid_client_watch_devices()) on top of the device layer's GStreamer
 * device monitor.
 *
 * May call: device, util, GLib.
 */
#include "vid/vid.h"

#include <string.h>

#include "client/client-private.h"
#include "device.h"

#define WHY_SIZE 256

void client_device_from_info(vid_device *out, const device_info *in)
{
    memset(out, 0, sizeof *out);
    out->kind = (vid_device_kind) in->kind;
    out->id = g_strdup(in->id != NULL ? in->id : "");
    out->name = g_strdup(in->name != NULL ? in->name : "");
    out->is_default = in->is_default;
    if (in->n_modes > 0) {
        out->modes = g_new0(vid_video_mode, in->n_modes);
        out->n_modes = in->n_modes;
        for (size_t i = 0; i < in->n_modes; i++) {
            out->modes[i].width = in->modes[i].width;
            out->modes[i].height = in->modes[i].height;
            out->modes[i].fps_num = in->modes[i].fps_num;
            out->modes[i].fps_den = in->modes[i].fps_den;
        }
    }
}

void client_device_clear(vid_device *d)
{
    g_free(d->id);
    g_free(d->name);
    g_free(d->modes);
    memset(d, 0, sizeof *d);
}

VID_API int vid_devices_list(vid_device_kind kind, vid_device **out, size_t *n)
{
    device_info *list = NULL;
    size_t count = 0;
    char why[WHY_SIZE];
    int rc;

    if (out != NULL)
        *out = NULL;
    if (n != NULL)
        *n = 0;
    if (out == NULL || n == NULL)
        return client_set_error(NULL, VID_EINVAL, "out or n is NULL");
    if (kind != VID_DEVICE_CAMERA && kind != VID_DEVICE_MICROPHONE &&
        kind != VID_DEVICE_SPEAKER)
        return client_set_error(NULL, VID_EINVAL, "unknown device kind %d",
                                (int) kind);
    rc = device_list((device_kind) kind, &list, &count, why, sizeof why);
    if (rc != DEVICE_OK)
        return client_set_error(NULL,
                                rc == DEVICE_ENOMEM ? VID_ENOMEM : VID_EMEDIA,
                                "listing devices: %s", why);
    if (count > 0) {
        *out = g_new0(vid_device, count);
        for (size_t i = 0; i < count; i++)
            client_device_from_info(&(*out)[i], &list[i]);
    }
    *n = count;
    device_list_free(list, count);
    return VID_OK;
}

VID_API void vid_devices_free(vid_device *list, size_t n)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        client_device_clear(&list[i]);
    g_free(list);
}

/* Monitor callback, on the worker's context. */
static void on_device_event(device_event event, const device_info *info,
                            void *user_data)
{
    vid_client *c = user_data;
    vid_device d;
    vid_event ev;

    client_device_from_info(&d, info);
    memset(&ev, 0, sizeof ev);
    ev.type = event == DEVICE_ADDED ? VID_EVENT_DEVICE_ADDED
                                    : VID_EVENT_DEVICE_REMOVED;
    ev.mline_index = -1;
    ev.device_info = &d;
    client_emit(c, &ev);
    client_device_clear(&d);
}

typedef struct {
    vid_client *c;
    bool enable;
    int rc;
    char why[WHY_SIZE];
} watch_op;

static void do_watch(void *data)
{
    watch_op *op = data;
    vid_client *c = op->c;

    op->rc = VID_OK;
    if (!op->enable) {
        client_devices_stop(c);
        return;
    }
    if (c->monitor != NULL)
        return;
    if (device_monitor_new(&c->monitor, c->ctx, on_device_event, c, op->why,
                           sizeof op->why) != DEVICE_OK)
        op->rc = VID_EMEDIA;
}

VID_API int vid_client_watch_devices(vid_client *c, int enable)
{
    watch_op op;

    if (c == NULL)
        return VID_EINVAL;
    memset(&op, 0, sizeof op);
    op.c = c;
    op.enable = enable != 0;
    client_run_sync(c, do_watch, &op);
    if (op.rc != VID_OK)
        return client_set_error(c, op.rc, "device monitor: %s", op.why);
    return VID_OK;
}

void client_devices_stop(vid_client *c)
{
    device_monitor_free(c->monitor);
    c->monitor = NULL;
}
