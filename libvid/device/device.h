/*
 * libvid/device: cameras, microphones and speakers through GStreamer.
 *
 * Internal API of the device layer (not exported from libvid.so). Owns:
 * enumeration and hotplug (GstDeviceMonitor), camera capture to I420,
 * microphone capture to 48 kHz S16, rendering (autovideosink or an
 * injected sink), audio playout, echo cancellation (webrtcdsp +
 * webrtcechoprobe) and recording received VP8 + Opus to WebM without
 * re-encoding. Frames cross into the library through appsink and back
 * through appsrc. It uses media.h only for the I420 view.
 *
 * Walkthrough (error handling shortened):
 *
 *   char why[256];
 *   device_camera_config cc = DEVICE_CAMERA_CONFIG_INIT;
 *   cc.width = 640; cc.height = 480; cc.fps = 30;   // device_id NULL: first
 *   device_camera *cam;
 *   int rc = device_camera_new(&cam, &cc, on_frame, app, why, sizeof why);
 *   if (rc == DEVICE_ENODEVICE) puts(why);           // "no camera found ..."
 *   rc = device_camera_start(cam, why, sizeof why);  // first frame or error
 *   ...                                              // on_frame(pic, t, app)
 *   device_camera_free(cam);
 *
 * Threading: capture callbacks run on a GStreamer streaming thread, one at
 * a time per object, with no lock of ours held; the pictures and samples
 * they get live for the callback only. Monitor events run on the
 * GMainContext given to device_monitor_new(). The _push functions may be
 * called from any one thread per object. Start/stop/free from the thread
 * that created the object, never from its own callback.
 */
#ifndef VID_DEVICE_H
#define VID_DEVICE_H

#include <glib.h>
#include <gst/gst.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media.h"

/** Status codes of the device layer: 0 success, negative failure. Every
 *  failure also fills the caller's @c why buffer with a sentence. */
enum {
    DEVICE_OK = 0,
    DEVICE_EINVAL = -1,       /**< NULL, out of range or malformed argument */
    DEVICE_ENOMEM = -2,       /**< allocation failed */
    DEVICE_ENODEVICE = -3,    /**< no such device (or none of that kind) */
    DEVICE_EBUSY = -4,        /**< the device is in use by another program */
    DEVICE_ENEGOTIATION = -5, /**< the device cannot give the asked format */
    DEVICE_EPLUGIN = -6,      /**< a GStreamer element is not installed */
    DEVICE_EIO = -7,          /**< the device or file failed while running */
    DEVICE_ETIMEDOUT = -8,    /**< no data within the start timeout */
    DEVICE_ESTATE = -9,       /**< not possible in the current state */
};

/** Name of a DEVICE_* code, never NULL. */
const char *device_strerror(int code);

/** Initialise GStreamer once (thread-safe, idempotent).
 *  @return DEVICE_OK, DEVICE_EPLUGIN (gst_init failed) */
int device_init(char *why, size_t why_cap);

/** Stop the process-wide device monitor (started at the first listing or
 *  device_monitor_new()); for a clean exit after every device_monitor is
 *  freed. Listing again starts it again. */
void device_shutdown(void);

/* ------------------------------------------------------------------ */
/* Enumeration and hotplug                                             */

typedef enum {
    DEVICE_CAMERA = 1,
    DEVICE_MICROPHONE = 2,
    DEVICE_SPEAKER = 3,
} device_kind;

/** One size a camera offers, with its highest frame rate. */
typedef struct {
    int width, height;
    int fps_num, fps_den; /**< highest rate at this size */
    bool raw;             /**< offered as raw video */
    bool mjpeg;           /**< offered as MJPEG */
} device_video_mode;

/** A device; strings and arrays owned by the struct (device_info_clear). */
typedef struct {
    device_kind kind;
    char *name; /**< display name */
    char *id;   /**< stable id (/dev/video0, a PulseAudio/PipeWire node) */
    char *api;  /**< "v4l2", "pulse", "alsa", "pipewire", ... or "" */
    bool is_default;
    device_video_mode *modes; /**< cameras: sizes sorted large first */
    size_t n_modes;
    int rate_min, rate_max; /**< audio: sample rates (0 if unknown) */
    int channels_max;       /**< audio: channels (0 if unknown) */
} device_info;

void device_info_clear(device_info *info);
/** Free an array from device_list() / device_monitor_list(); NULL-safe. */
void device_list_free(device_info *list, size_t n);

/**
 * List the devices of one kind present now (through the process-wide
 * monitor, see device_shutdown()). @p *out is NULL when none.
 * @return DEVICE_OK, DEVICE_EINVAL, DEVICE_EPLUGIN
 */
int device_list(device_kind kind, device_info **out, size_t *n, char *why,
                size_t why_cap);

typedef enum {
    DEVICE_ADDED = 1,
    DEVICE_REMOVED = 2,
} device_event;

/** Hotplug callback; @p info lives for the call only. */
typedef void (*device_event_cb)(device_event event, const device_info *info,
                                void *user_data);

typedef struct device_monitor device_monitor;

/**
 * Watch cameras, microphones and speakers. Events are dispatched on
 * @p context (NULL: the global default context); devices present at start
 * are not reported as events (use device_monitor_list()).
 * @return DEVICE_OK, DEVICE_EINVAL, DEVICE_ENOMEM, DEVICE_EPLUGIN
 */
int device_monitor_new(device_monitor **out, GMainContext *context,
                       device_event_cb cb, void *user_data, char *why,
                       size_t why_cap);
/** Stop watching; no callback runs after it returns. NULL-safe. */
void device_monitor_free(device_monitor *mon);
/** @return DEVICE_OK, DEVICE_EINVAL */
int device_monitor_list(device_monitor *mon, device_kind kind,
                        device_info **out, size_t *n);

/* ------------------------------------------------------------------ */
/* Capture                                                             */

/** Runtime failure after start (device unplugged, ...); streaming thread. */
typedef void (*device_error_cb)(int code, const char *why, void *user_data);

/** A captured picture: I420 of the requested size; @p capture_us is the
 *  capture time on the monotonic clock (g_get_monotonic_time()). */
typedef void (*device_video_cb)(const media_i420 *pic, int64_t capture_us,
                                void *user_data);

typedef struct {
    int version;           /**< DEVICE_CAMERA_CONFIG_VERSION */
    const char *device_id; /**< id or display name; NULL: first camera */
    int width, height;     /**< 16..4096, even */
    int fps;               /**< 1..120 */
    /** Use this source element instead of the device's (tests and demos:
     *  videotestsrc, or a bin with a "src" ghost pad). A floating
     *  reference is sunk; the camera owns it from the call on, also on
     *  failure. */
    GstElement *source;
    device_error_cb on_error; /**< optional */
} device_camera_config;

#define DEVICE_CAMERA_CONFIG_VERSION 1
#define DEVICE_CAMERA_CONFIG_INIT                                              \
    {                                                                          \
        DEVICE_CAMERA_CONFIG_VERSION, NULL, 640, 480, 30, NULL, NULL           \
    }

typedef struct device_camera device_camera;

/**
 * Build the capture pipeline: source -> (raw | MJPEG -> jpegdec) ->
 * videoconvert -> videoscale -> videorate -> I420 @p width x @p height at
 * @p fps -> appsink. Raw is used when the source offers the exact size
 * and rate, then MJPEG, else the nearest raw or MJPEG mode is scaled.
 * @return DEVICE_OK, DEVICE_EINVAL, DEVICE_ENODEVICE (no camera / unknown
 *         id), DEVICE_ENEGOTIATION (offers neither raw video nor MJPEG),
 *         DEVICE_EPLUGIN, DEVICE_ENOMEM
 */
int device_camera_new(device_camera **out, const device_camera_config *cfg,
                      device_video_cb cb, void *user_data, char *why,
                      size_t why_cap);
/**
 * Start and wait (up to 5 s) for the first picture or an error.
 * @return DEVICE_OK, DEVICE_EBUSY, DEVICE_ENODEVICE, DEVICE_ENEGOTIATION,
 *         DEVICE_EIO, DEVICE_ETIMEDOUT, DEVICE_ESTATE (already started)
 */
int device_camera_start(device_camera *cam, char *why, size_t why_cap);
/** Stop; no callback runs after it returns. @return DEVICE_OK,
 *  DEVICE_EINVAL */
int device_camera_stop(device_camera *cam);
void device_camera_free(device_camera *cam);
/** The caps chosen at the source ("image/jpeg, width=..."); borrowed,
 *  valid until free. NULL before device_camera_new() succeeded. */
const char *device_camera_source_caps(const device_camera *cam);

/** Captured audio: @p frames samples per channel, interleaved S16 at
 *  48 kHz, 10 ms per call. */
typedef void (*device_audio_cb)(const int16_t *pcm, size_t frames, int channels,
                                int64_t capture_us, void *user_data);

typedef struct {
    int version;           /**< DEVICE_MIC_CONFIG_VERSION */
    const char *device_id; /**< id or display name; NULL: first microphone */
    int channels;          /**< 1 or 2 */
    /** Echo cancellation (webrtcdsp, delay-agnostic mode). The far end
     *  comes from the device_audio_out made with echo_probe = true: its
     *  probe name in echo_probe_name (NULL: "vid-echo-probe-0"). */
    bool echo_cancel;
    const char *echo_probe_name;
    bool noise_suppression; /**< webrtcdsp noise suppression */
    /** webrtcdsp adaptive gain. It also raises what the echo canceller
     *  left over, so the echo reduction measured is lower with it. */
    bool gain_control;
    GstElement *source; /**< injected source, as for the camera */
    device_error_cb on_error;
} device_mic_config;

#define DEVICE_MIC_CONFIG_VERSION 1
#define DEVICE_MIC_CONFIG_INIT                                                 \
    {                                                                          \
        DEVICE_MIC_CONFIG_VERSION, NULL, 1, false, NULL, false, false, NULL,   \
            NULL                                                               \
    }

typedef struct device_mic device_mic;

/** @return as device_camera_new() */
int device_mic_new(device_mic **out, const device_mic_config *cfg,
                   device_audio_cb cb, void *user_data, char *why,
                   size_t why_cap);
/** @return as device_camera_start() */
int device_mic_start(device_mic *mic, char *why, size_t why_cap);
int device_mic_stop(device_mic *mic);
void device_mic_free(device_mic *mic);

/**
 * The synthetic camera (media_synth_video_fill: frame number and capture
 * time in the picture) as a live source paced at @p fps, for
 * device_camera_config.source: demos and end-to-end tests run the same
 * capture path as with a webcam. At least 256x128, even sizes.
 * @return a floating reference, or NULL on bad arguments
 */
GstElement *device_synth_camera(int width, int height, int fps);
/**
 * The synthetic microphone (numbered tone bursts every @p period_ms,
 * media_synth_audio) as a live 48 kHz S16 source in 10 ms buffers, for
 * device_mic_config.source. @return a floating reference, or NULL
 */
GstElement *device_synth_microphone(int channels, int period_ms);

/* ------------------------------------------------------------------ */
/* Rendering and playout                                               */

typedef struct {
    int version;       /**< DEVICE_VIDEO_OUT_CONFIG_VERSION */
    int width, height; /**< of the pictures pushed */
    GstElement *sink;  /**< NULL: autovideosink; else sunk and owned */
    const char *title; /**< window title hint, may be NULL */
} device_video_out_config;

#define DEVICE_VIDEO_OUT_CONFIG_VERSION 1
#define DEVICE_VIDEO_OUT_CONFIG_INIT                                           \
    {                                                                          \
        DEVICE_VIDEO_OUT_CONFIG_VERSION, 640, 480, NULL, NULL                  \
    }

typedef struct device_video_out device_video_out;

/** appsrc -> videoconvert -> sink, started at once.
 *  @return DEVICE_OK, DEVICE_EINVAL, DEVICE_EPLUGIN, DEVICE_ENODEVICE (no
 *          display), DEVICE_EIO */
int device_video_out_new(device_video_out **out,
                         const device_video_out_config *cfg, char *why,
                         size_t why_cap);
/** Copy @p pic (configured size) into a pooled buffer and show it at
 *  once (no clock sync: the jitter buffer already timed it).
 *  @return DEVICE_OK, DEVICE_EINVAL, DEVICE_EIO (the sink failed) */
int device_video_out_push(device_video_out *vo, const media_i420 *pic);
void device_video_out_free(device_video_out *vo);

typedef struct {
    int version;           /**< DEVICE_AUDIO_OUT_CONFIG_VERSION */
    const char *device_id; /**< NULL: the default speaker (autoaudiosink) */
    int channels;          /**< 1 or 2 */
    bool echo_probe;       /**< feed echo cancellation (webrtcechoprobe) */
    GstElement *sink;      /**< injected sink, sunk and owned */
} device_audio_out_config;

#define DEVICE_AUDIO_OUT_CONFIG_VERSION 1
#define DEVICE_AUDIO_OUT_CONFIG_INIT                                           \
    {                                                                          \
        DEVICE_AUDIO_OUT_CONFIG_VERSION, NULL, 1, false, NULL                  \
    }

typedef struct device_audio_out device_audio_out;

/** appsrc -> [webrtcechoprobe] -> audioconvert -> audioresample -> sink.
 *  @return DEVICE_OK, DEVICE_EINVAL, DEVICE_ENODEVICE (no speaker),
 *          DEVICE_EBUSY, DEVICE_EPLUGIN, DEVICE_EIO */
int device_audio_out_new(device_audio_out **out,
                         const device_audio_out_config *cfg, char *why,
                         size_t why_cap);
/** Queue @p frames samples per channel (48 kHz S16 interleaved).
 *  @return DEVICE_OK, DEVICE_EINVAL, DEVICE_EIO */
int device_audio_out_push(device_audio_out *ao, const int16_t *pcm,
                          size_t frames);
/** Name of the echo probe to give device_mic_config; NULL without one. */
const char *device_audio_out_probe_name(const device_audio_out *ao);
void device_audio_out_free(device_audio_out *ao);

/* ------------------------------------------------------------------ */
/* Recording                                                           */

typedef struct {
    int version;       /**< DEVICE_RECORDER_CONFIG_VERSION */
    const char *path;  /**< WebM file to write (replaced) */
    bool video;        /**< a VP8 track */
    int width, height; /**< VP8 size */
    bool audio;        /**< an Opus track */
    int channels;      /**< Opus channels, 1 or 2 */
} device_recorder_config;

#define DEVICE_RECORDER_CONFIG_VERSION 1
#define DEVICE_RECORDER_CONFIG_INIT                                            \
    {                                                                          \
        DEVICE_RECORDER_CONFIG_VERSION, NULL, true, 640, 480, true, 1          \
    }

typedef struct device_recorder device_recorder;

/** Encoded VP8 and Opus as received -> webmmux -> file, no re-encoding.
 *  @return DEVICE_OK, DEVICE_EINVAL, DEVICE_EPLUGIN, DEVICE_EIO (file) */
int device_recorder_new(device_recorder **out,
                        const device_recorder_config *cfg, char *why,
                        size_t why_cap);
/** One complete VP8 frame; timestamps on any monotonic µs clock shared by
 *  both tracks. @return DEVICE_OK, DEVICE_EINVAL, DEVICE_ESTATE, DEVICE_EIO */
int device_recorder_push_video(device_recorder *rec, const uint8_t *frame,
                               size_t len, int64_t pts_us, bool keyframe);
/** One Opus packet of 20 ms. @return as push_video */
int device_recorder_push_audio(device_recorder *rec, const uint8_t *packet,
                               size_t len, int64_t pts_us);
/** Finish the file (EOS, index written; waits up to 5 s).
 *  @return DEVICE_OK, DEVICE_EIO, DEVICE_ETIMEDOUT, DEVICE_ESTATE */
int device_recorder_finish(device_recorder *rec, char *why, size_t why_cap);
/** Frees; an unfinished file is finished first. NULL-safe. */
void device_recorder_free(device_recorder *rec);

#endif
