/* Shared helpers of libvid/device (not for other layers). */
#ifndef VID_DEVICE_PRIVATE_H
#define VID_DEVICE_PRIVATE_H

#include "device.h"

/* Write a sentence into why (may be NULL / 0); returns code. */
int dev_fail(char *why, size_t why_cap, int code, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

/* gst_element_factory_make with a clear DEVICE_EPLUGIN message. */
GstElement *dev_make(const char *factory, const char *name, int *rc, char *why,
                     size_t why_cap);

/* A pipeline with a bus sync handler that records the first error and
 * wakes a waiter; data_seen is set by the owner's sink callback. */
typedef struct {
    GstElement *pipeline;
    GMutex lock;
    GCond cond;
    bool data_seen;
    bool eos;
    int err;        /* DEVICE_* of the first error, 0 if none */
    char *err_text; /* its message */
    device_error_cb on_error;
    void *user_data;
    bool started;
} dev_pipe;

void dev_pipe_init(dev_pipe *p, const char *name, device_error_cb on_error,
                   void *user_data);
void dev_pipe_clear(dev_pipe *p);
/* Go to PLAYING. wait_data: wait (timeout_ms) for dev_pipe_data() or an
 * error. Returns DEVICE_*; stops the pipeline again on failure. */
int dev_pipe_start(dev_pipe *p, bool wait_data, int timeout_ms, char *why,
                   size_t why_cap);
void dev_pipe_stop(dev_pipe *p);
/* Called from a streaming thread when data reached the sink. */
void dev_pipe_data(dev_pipe *p);
/* Wait for EOS after sending it (recorder). */
int dev_pipe_wait_eos(dev_pipe *p, int timeout_ms, char *why, size_t why_cap);
/* The current error, if any (DEVICE_OK otherwise). */
int dev_pipe_error(dev_pipe *p);

/* Find a device by kind and id or display name (NULL: first of kind).
 * Returns a new reference or NULL with ENODEVICE/EPLUGIN in *rc. */
GstDevice *dev_find(device_kind kind, const char *id, int *rc, char *why,
                    size_t why_cap);
/* Fill info from a GstDevice (the kind must already be known). */
void dev_info_fill(device_info *info, device_kind kind, GstDevice *dev);
bool dev_kind_of(GstDevice *dev, device_kind *kind);
/* The highest rate a "framerate" value (fraction, range, list) allows. */
bool dev_max_rate(const GValue *v, int *num, int *den);

/* Monotonic µs of a buffer's capture, from the pipeline's clock. */
int64_t dev_buffer_time_us(GstElement *pipeline, GstBuffer *buf);

#endif
