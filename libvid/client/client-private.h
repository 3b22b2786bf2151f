/*
 * client-private.h — what the files of the client layer share: the
 * vid_client struct, event queueing and running code on the worker.
 */
#ifndef VID_CLIENT_PRIVATE_H
#define VID_CLIENT_PRIVATE_H

#include <stdatomic.h>
#include <stdbool.h>

#include <gio/gio.h>

#include "call/call.h"
#include "device.h"
#include "identity/identity.h"
#include "identity/trust.h"
#include "signaling/sigclient.h"
#include "vid/vid.h"

#define ERROR_SIZE 512
/* Ids of managed calls that ended, remembered so that their late
 * candidates and hang-ups are swallowed, not delivered as events. */
#define RECENT_CALLS 16

struct vid_client {
    /* Immutable after vid_client_new(). */
    char *url;
    char *device;
    char *state_dir;
    identity *id;
    identity_pins *pins; /* thread-safe */
    GTlsDatabase *tls_db;
    bool reconnect;
    int efd;
    GMainContext *app_ctx;
    GSource *app_source;

    /* Worker thread. */
    GMainContext *ctx;
    GMainLoop *loop;
    GThread *thread;
    sig_client *sc; /* worker only */
    /* Managed calls (worker only). */
    call *active;
    GHashTable *invites;      /* call id -> call_invite*, not answered */
    GHashTable *managed_reqs; /* request ids sent by the call layer */
    char recent[RECENT_CALLS][VID_CALL_ID_SIZE];
    unsigned recent_next;
    uint64_t abandoned_invite; /* hung up before the call id came */
    device_monitor *monitor;   /* vid_client_watch_devices() */

    /* Shared; under lock. */
    GMutex lock;
    GQueue events;
    vid_event_cb cb;
    void *cb_data;
    char last_error[ERROR_SIZE];
    vid_policy *policy;

    atomic_uint_fast64_t next_id;
    atomic_bool logged_in;
    atomic_bool dispatching;
    GThread *dispatch_thread; /* the thread inside vid_client_dispatch() */
    bool free_pending;        /* vid_client_free() from the callback */
};

/* Record @fmt as the client's (or, with NULL, the thread's) last error;
 * returns @code. */
int client_set_error(vid_client *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Worker: queue a deep copy of @ev and wake the application. */
void client_emit(vid_client *c, const vid_event *ev);

/* Run @fn(@data) on the worker and wait for it (directly when called on
 * the worker). */
void client_run_sync(vid_client *c, void (*fn)(void *data), void *data);

/* Worker: stop the device monitor (client shutdown). */
void client_devices_stop(vid_client *c);

/* Convert a device of the device layer into @out (owned strings). */
void client_device_from_info(vid_device *out, const device_info *in);
void client_device_clear(vid_device *d);

#endif /* VID_CLIENT_PRIVATE_H */
