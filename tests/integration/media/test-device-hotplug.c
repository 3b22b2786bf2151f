/*
 * Hotplug and device-element capture with a fake camera: a GstDevice
 * provider registered in this process stands in for udev/V4L2, so the
 * monitor's add/remove events, the mode summary and capture through
 * gst_device_create_element() run the same code as with a real webcam.
 * (A separate program: the provider must not exist for the "no camera"
 * test in test-device.)
 */
#include <gst/gst.h>
#include <string.h>

#include "device.h"
#include "media.h"

/* ---- the fake camera device ---------------------------------------- */

typedef struct {
    GstDevice parent;
} VidFakeCamera;
typedef struct {
    GstDeviceClass parent_class;
} VidFakeCameraClass;

GType vid_fake_camera_get_type(void);
G_DEFINE_TYPE(VidFakeCamera, vid_fake_camera, GST_TYPE_DEVICE)

/* What a UVC camera's element gives: raw video, or MJPEG for a device
 * flagged "mjpeg". */
static GstElement *fake_create_element(GstDevice *dev, const gchar *name)
{
    if (g_object_get_data(G_OBJECT(dev), "mjpeg") != NULL) {
        GstElement *bin = gst_parse_bin_from_description(
            "videotestsrc is-live=true ! jpegenc", TRUE, NULL);
        if (bin != NULL && name != NULL)
            gst_object_set_name(GST_OBJECT(bin), name);
        return bin;
    }
    GstElement *e = gst_element_factory_make("videotestsrc", name);
    g_object_set(e, "is-live", TRUE, NULL);
    return e;
}

static void vid_fake_camera_class_init(VidFakeCameraClass *klass)
{
    GST_DEVICE_CLASS(klass)->create_element = fake_create_element;
}

static void vid_fake_camera_init(VidFakeCamera *self)
{
}

static GstDevice *fake_camera_new(const char *name, const char *path)
{
    GstCaps *caps = gst_caps_from_string(
        "video/x-raw, format=YUY2, width=640, height=480, "
        "framerate={ 30/1, 15/1 }; "
        "video/x-raw, format=YUY2, width=1280, height=720, framerate=10/1; "
        "image/jpeg, width=1280, height=720, framerate={ 30/1, 60/1 }; "
        "image/jpeg, width=640, height=480, framerate=30/1");
    GstStructure *props =
        gst_structure_new("props", "device.path", G_TYPE_STRING, path,
                          "device.api", G_TYPE_STRING, "v4l2", NULL);
    GstDevice *dev = g_object_new(vid_fake_camera_get_type(), "display-name",
                                  name, "device-class", "Video/Source", "caps",
                                  caps, "properties", props, NULL);
    gst_caps_unref(caps);
    gst_structure_free(props);
    return dev;
}

/* ---- the provider ---------------------------------------------------- */

typedef struct {
    GstDeviceProvider parent;
} VidFakeProvider;
typedef struct {
    GstDeviceProviderClass parent_class;
} VidFakeProviderClass;

GType vid_fake_provider_get_type(void);
G_DEFINE_TYPE(VidFakeProvider, vid_fake_provider, GST_TYPE_DEVICE_PROVIDER)

static GMutex plugged_lock;
static GList *plugged;             /* GstDevice*, the cameras "present" */
static GstDeviceProvider *running; /* the started instance */

static GList *fake_probe(GstDeviceProvider *provider)
{
    g_mutex_lock(&plugged_lock);
    GList *out = NULL;
    for (GList *l = plugged; l != NULL; l = l->next) {
        GstDevice *d = l->data;
        gchar *name = gst_device_get_display_name(d);
        GstStructure *p = gst_device_get_properties(d);
        out = g_list_append(out, fake_camera_new(name, gst_structure_get_string(
                                                           p, "device.path")));
        gst_structure_free(p);
        g_free(name);
    }
    g_mutex_unlock(&plugged_lock);
    return out;
}

static gboolean fake_start(GstDeviceProvider *provider)
{
    running = provider;
    return TRUE;
}

static void fake_stop(GstDeviceProvider *provider)
{
    if (running == provider)
        running = NULL;
}

static void vid_fake_provider_class_init(VidFakeProviderClass *klass)
{
    GstDeviceProviderClass *dp = GST_DEVICE_PROVIDER_CLASS(klass);
    dp->probe = fake_probe;
    dp->start = fake_start;
    dp->stop = fake_stop;
    gst_device_provider_class_set_static_metadata(
        dp, "Fake camera provider", "Video/Source", "Fake UVC cameras",
        "libvid tests");
}

static void vid_fake_provider_init(VidFakeProvider *self)
{
}

/* ---- the test -------------------------------------------------------- */

typedef struct {
    int added, removed;
    device_info last;
} events;

static void on_event(device_event ev, const device_info *info, void *data)
{
    events *e = data;
    if (ev == DEVICE_ADDED)
        e->added++;
    else
        e->removed++;
    device_info_clear(&e->last);
    e->last.kind = info->kind;
    e->last.name = g_strdup(info->name);
    e->last.id = g_strdup(info->id);
    e->last.api = g_strdup(info->api);
    e->last.n_modes = info->n_modes;
    e->last.modes =
        g_memdup2(info->modes, info->n_modes * sizeof(device_video_mode));
}

static void iterate_until(GMainContext *ctx, const int *counter, int want)
{
    gint64 end = g_get_monotonic_time() + 3 * G_USEC_PER_SEC;
    while (*counter < want && g_get_monotonic_time() < end) {
        if (!g_main_context_iteration(ctx, FALSE))
            g_usleep(5000);
    }
}

static int frames;

static void on_frame(const media_i420 *pic, int64_t t, void *data)
{
    if (pic->width == 320 && pic->height == 240)
        g_atomic_int_inc(&frames);
}

static void test_hotplug(void)
{
    char why[256] = "";
    GMainContext *ctx = g_main_context_new();
    events ev = {0};
    device_monitor *mon = NULL;
    g_assert_cmpint(
        device_monitor_new(&mon, ctx, on_event, &ev, why, sizeof why), ==,
        DEVICE_OK);
    g_assert_nonnull(running);
    device_info *list;
    size_t n;
    g_assert_cmpint(device_monitor_list(mon, DEVICE_CAMERA, &list, &n), ==,
                    DEVICE_OK);
    g_assert_cmpuint(n, ==, 0);

    /* Plug a camera in. */
    GstDevice *cam_dev = fake_camera_new("Fake UVC Camera", "/dev/fake0");
    g_mutex_lock(&plugged_lock);
    plugged = g_list_append(plugged, gst_object_ref(cam_dev));
    g_mutex_unlock(&plugged_lock);
    gst_device_provider_device_add(running, cam_dev);
    iterate_until(ctx, &ev.added, 1);
    g_assert_cmpint(ev.added, ==, 1);
    g_assert_cmpint(ev.last.kind, ==, DEVICE_CAMERA);
    g_assert_cmpstr(ev.last.name, ==, "Fake UVC Camera");
    g_assert_cmpstr(ev.last.id, ==, "/dev/fake0");
    g_assert_cmpstr(ev.last.api, ==, "v4l2");
    /* Modes: 1280x720 (raw 10 fps, MJPEG up to 60) then 640x480. */
    g_assert_cmpuint(ev.last.n_modes, ==, 2);
    g_assert_cmpint(ev.last.modes[0].width, ==, 1280);
    g_assert_cmpint(ev.last.modes[0].fps_num / ev.last.modes[0].fps_den, ==,
                    60);
    g_assert_true(ev.last.modes[0].raw && ev.last.modes[0].mjpeg);
    g_assert_cmpint(ev.last.modes[1].width, ==, 640);
    g_assert_cmpint(ev.last.modes[1].fps_num / ev.last.modes[1].fps_den, ==,
                    30);

    g_assert_cmpint(device_monitor_list(mon, DEVICE_CAMERA, &list, &n), ==,
                    DEVICE_OK);
    g_assert_cmpuint(n, ==, 1);
    g_assert_cmpstr(list[0].id, ==, "/dev/fake0");
    device_list_free(list, n);

    /* Capture from it by id through gst_device_create_element(). The
     * device offers 640x480 raw at 30 fps: the raw path is chosen. */
    device_camera_config cc = DEVICE_CAMERA_CONFIG_INIT;
    cc.device_id = "/dev/fake0";
    cc.width = 320;
    cc.height = 240;
    cc.fps = 30;
    device_camera *cam = NULL;
    int rc = device_camera_new(&cam, &cc, on_frame, NULL, why, sizeof why);
    g_assert_cmpstr(why, ==, "");
    g_assert_cmpint(rc, ==, DEVICE_OK);
    g_test_message("caps asked of the fake camera: %s",
                   device_camera_source_caps(cam));
    g_assert_cmpstr(device_camera_source_caps(cam), ==,
                    "video/x-raw, width=(int)640, height=(int)480, "
                    "framerate=(fraction)30/1");
    g_assert_cmpint(device_camera_start(cam, why, sizeof why), ==, DEVICE_OK);
    gint64 end = g_get_monotonic_time() + 3 * G_USEC_PER_SEC;
    while (g_atomic_int_get(&frames) < 10 && g_get_monotonic_time() < end)
        g_usleep(10000);
    device_camera_free(cam);
    g_assert_cmpint(g_atomic_int_get(&frames), >=, 10);
    /* By display name too. 1280x720@30 is offered as MJPEG only (raw
     * is 10 fps there): MJPEG is chosen and decoded. */
    g_object_set_data(G_OBJECT(cam_dev), "mjpeg", GINT_TO_POINTER(1));
    cc.device_id = "Fake UVC Camera";
    cc.width = 1280;
    cc.height = 720;
    rc = device_camera_new(&cam, &cc, on_frame, NULL, why, sizeof why);
    g_assert_cmpstr(why, ==, "");
    g_assert_cmpint(rc, ==, DEVICE_OK);
    g_assert_cmpstr(device_camera_source_caps(cam), ==,
                    "image/jpeg, width=(int)1280, height=(int)720, "
                    "framerate=(fraction)30/1");
    g_assert_cmpint(device_camera_start(cam, why, sizeof why), ==, DEVICE_OK);
    device_camera_free(cam);
    g_object_set_data(G_OBJECT(cam_dev), "mjpeg", NULL);
    /* An unknown id names the id. */
    cc.device_id = "/dev/video7";
    g_assert_cmpint(
        device_camera_new(&cam, &cc, on_frame, NULL, why, sizeof why), ==,
        DEVICE_ENODEVICE);
    g_test_message("%s", why);
    g_assert_nonnull(strstr(why, "/dev/video7"));

    /* Unplug it. */
    g_mutex_lock(&plugged_lock);
    plugged = g_list_remove(plugged, cam_dev);
    g_mutex_unlock(&plugged_lock);
    gst_object_unref(cam_dev); /* the list's reference */
    gst_device_provider_device_remove(running, cam_dev);
    iterate_until(ctx, &ev.removed, 1);
    g_assert_cmpint(ev.removed, ==, 1);
    g_assert_cmpstr(ev.last.id, ==, "/dev/fake0");
    g_assert_cmpint(device_monitor_list(mon, DEVICE_CAMERA, &list, &n), ==,
                    DEVICE_OK);
    g_assert_cmpuint(n, ==, 0);
    cc.device_id = NULL;
    g_assert_cmpint(
        device_camera_new(&cam, &cc, on_frame, NULL, why, sizeof why), ==,
        DEVICE_ENODEVICE);

    device_monitor_free(mon);
    device_info_clear(&ev.last);
    while (g_main_context_iteration(ctx, FALSE))
        ;
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
    if (!gst_device_provider_register(NULL, "vidfakecameraprovider",
                                      GST_RANK_PRIMARY,
                                      vid_fake_provider_get_type())) {
        g_printerr("cannot register the fake provider\n");
        return 1;
    }
    g_test_add_func("/device/hotplug", test_hotplug);
    int rc = g_test_run();
    device_shutdown();
    gst_deinit();
    return rc;
}
