/*
 * client.c — vid_client: the public API of the signaling client.
 *
 * Threads (DESIGN.md section 4):
 *  - the worker thread owns a private GMainContext, the sig_client (the
 *    libsoup session and WebSocket) and everything it touches;
 *  - public functions check and serialize their arguments on the caller's
 *    thread (so bad arguments fail at once, with nothing sent), then hand
 *    an "op" to the worker with g_main_context_invoke_full();
 *  - the worker turns what happens into owned event copies, queues them
 *    under `lock` and makes the eventfd readable; the application's thread
 *    pops them (vid_client_dispatch(), or a GSource on the application's
 *    GMainContext) and runs the callback with no lock held.
 *
 * Managed calls (vid_call_*): the worker owns at most one `call`
 * (libvid/call/) and the table of invites not answered yet. Messages of
 * those calls are routed to the call layer; their candidates and hang-ups
 * are not delivered as events, and VID_EVENT_CALL_ENDED closes each.
 * Public vid_call_* functions run synchronously on the worker
 * (client_run_sync), so that their result (a missing camera, an unknown
 * call id) is the function's return value.
 *
 * May call: call, device, signaling (sigclient, proto), identity, util,
 * GLib.
 */
#include "vid/vid.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>
#include <jansson.h>

#include "client/client-private.h"
#include "client/policy.h"
#include "signaling/proto.h"
#include "util/util.h"

/* An event with owned copies of its strings. */
typedef struct {
    vid_event ev;
} owned_event;

typedef enum {
    OP_CONNECT,
    OP_LOGIN,
    OP_SEND,
    OP_SUBSCRIBE,
    OP_STOP,
} op_kind;

typedef struct {
    vid_client *c;
    op_kind kind;
    json_int_t id;
    char *text;    /* OP_SEND, OP_SUBSCRIBE: serialized request */
    json_t *users; /* OP_SUBSCRIBE */
    char *user;    /* OP_LOGIN */
    char *password;
    char *forget; /* OP_SEND: call id the app now handles by hand */
} op;

static _Thread_local char tls_error[ERROR_SIZE];
/* Live clients: the last one to go stops the process-wide device monitor
 * (GStreamer's, started by device lookups), so nothing of it outlives the
 * library's use. */
static atomic_int live_clients;

static void client_destroy(vid_client *c);
static json_int_t next_id(void *data);

/* ---- errors ------------------------------------------------------------ */

#define set_error client_set_error

int client_set_error(vid_client *c, int code, const char *fmt, ...)
{
    va_list ap;
    char buf[ERROR_SIZE];

    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (c == NULL) {
        util_strlcpy(tls_error, buf, sizeof tls_error);
    } else {
        g_mutex_lock(&c->lock);
        util_strlcpy(c->last_error, buf, sizeof c->last_error);
        g_mutex_unlock(&c->lock);
    }
    return code;
}

VID_API const char *vid_client_last_error(const vid_client *client)
{
    static _Thread_local char copy[ERROR_SIZE];
    vid_client *c = (vid_client *) client;

    if (c == NULL)
        return tls_error;
    g_mutex_lock(&c->lock);
    util_strlcpy(copy, c->last_error, sizeof copy);
    g_mutex_unlock(&c->lock);
    return copy;
}

/* ---- events ------------------------------------------------------------ */

static void owned_event_free(owned_event *oe)
{
    vid_event *e = &oe->ev;

    g_free((char *) e->server_code);
    g_free((char *) e->message);
    g_free((char *) e->user);
    g_free((char *) e->device);
    g_free((char *) e->fingerprint);
    g_free((char *) e->call_id);
    g_free((char *) e->sdp);
    g_free((char *) e->reason);
    g_free((char *) e->candidate);
    g_free((char *) e->mid);
    g_free((char *) e->sas);
    g_free((char *) e->path);
    if (e->device_info != NULL) {
        client_device_clear((vid_device *) e->device_info);
        g_free((vid_device *) e->device_info);
    }
    g_free((vid_call_stats *) e->stats);
    g_free(oe);
}

static owned_event *event_new(vid_event_type type)
{
    owned_event *oe = g_new0(owned_event, 1);

    oe->ev.type = type;
    oe->ev.mline_index = -1;
    return oe;
}

static char *dup_field(const json_t *msg, const char *key)
{
    const char *s = json_string_value(json_object_get(msg, key));

    return s != NULL ? g_strdup(s) : NULL;
}

/* Worker thread: queue an event and wake the application. */
static void push_event(vid_client *c, owned_event *oe)
{
    uint64_t one = 1;
    ssize_t w;

    g_mutex_lock(&c->lock);
    g_queue_push_tail(&c->events, oe);
    g_mutex_unlock(&c->lock);
    do {
        w = write(c->efd, &one, sizeof one);
    } while (w < 0 && errno == EINTR);
    /* EAGAIN: the counter is saturated, so the fd is readable anyway. */
}

void client_emit(vid_client *c, const vid_event *ev)
{
    owned_event *oe = g_new0(owned_event, 1);
    vid_event *e = &oe->ev;

    *e = *ev;
    e->server_code = g_strdup(ev->server_code);
    e->message = g_strdup(ev->message);
    e->user = g_strdup(ev->user);
    e->device = g_strdup(ev->device);
    e->fingerprint = g_strdup(ev->fingerprint);
    e->call_id = g_strdup(ev->call_id);
    e->sdp = g_strdup(ev->sdp);
    e->reason = g_strdup(ev->reason);
    e->candidate = g_strdup(ev->candidate);
    e->mid = g_strdup(ev->mid);
    e->sas = g_strdup(ev->sas);
    e->path = g_strdup(ev->path);
    if (ev->device_info != NULL) {
        vid_device *d = g_new0(vid_device, 1);
        *d = *ev->device_info;
        d->id = g_strdup(ev->device_info->id);
        d->name = g_strdup(ev->device_info->name);
        d->modes = g_memdup2(ev->device_info->modes,
                             ev->device_info->n_modes * sizeof *d->modes);
        e->device_info = d;
    }
    if (ev->stats != NULL)
        e->stats = g_memdup2(ev->stats, sizeof *ev->stats);
    push_event(c, oe);
}

VID_API int vid_client_dispatch(vid_client *c)
{
    uint64_t v;
    guint n;
    int done = 0;
    ssize_t r;

    if (c == NULL)
        return VID_EINVAL;
    if (atomic_exchange(&c->dispatching, true))
        return 0; /* nested call from the callback */
    c->dispatch_thread = g_thread_self();
    do {
        r = read(c->efd, &v, sizeof v);
    } while (r < 0 && errno == EINTR);

    g_mutex_lock(&c->lock);
    n = g_queue_get_length(&c->events);
    g_mutex_unlock(&c->lock);
    /* Only what was queued on entry, so a busy worker cannot starve the
     * caller; later events left the fd readable. */
    for (guint i = 0; i < n; i++) {
        owned_event *oe;
        vid_event_cb cb;
        void *data;

        g_mutex_lock(&c->lock);
        oe = g_queue_pop_head(&c->events);
        cb = c->cb;
        data = c->cb_data;
        g_mutex_unlock(&c->lock);
        if (oe == NULL)
            break;
        if (cb != NULL)
            cb(c, &oe->ev, data);
        owned_event_free(oe);
        done++;
        if (c->free_pending) {
            /* The callback freed the client: do it now that it returned. */
            client_destroy(c);
            return done;
        }
    }
    c->dispatch_thread = NULL;
    atomic_store(&c->dispatching, false);
    return done;
}

static gboolean on_app_source(gint fd, GIOCondition cond, gpointer data)
{
    vid_client_dispatch(data);
    return G_SOURCE_CONTINUE;
}

VID_API int vid_client_set_event_callback(vid_client *c, vid_event_cb cb,
                                          void *user_data)
{
    if (c == NULL)
        return VID_EINVAL;
    g_mutex_lock(&c->lock);
    c->cb = cb;
    c->cb_data = user_data;
    g_mutex_unlock(&c->lock);
    return VID_OK;
}

VID_API int vid_client_get_fd(vid_client *c)
{
    if (c == NULL)
        return VID_EINVAL;
    return c->efd;
}

/* ---- policy ------------------------------------------------------------ */

VID_API int vid_client_get_policy(vid_client *c, vid_policy **out)
{
    if (out != NULL)
        *out = NULL;
    if (c == NULL || out == NULL)
        return c == NULL ? VID_EINVAL : set_error(c, VID_EINVAL, "out is NULL");
    g_mutex_lock(&c->lock);
    if (c->policy != NULL)
        *out = client_policy_copy(c->policy);
    g_mutex_unlock(&c->lock);
    if (*out == NULL)
        return set_error(c, VID_ESTATE,
                         "no policy yet: the client has not logged in");
    return VID_OK;
}

/* ---- worker: managed calls --------------------------------------------- */

static bool is_recent(vid_client *c, const char *call_id)
{
    for (unsigned i = 0; i < RECENT_CALLS; i++)
        if (strcmp(c->recent[i], call_id) == 0)
            return true;
    return false;
}

static void remember_recent(vid_client *c, const char *call_id)
{
    if (call_id == NULL || call_id[0] == '\0')
        return;
    util_strlcpy(c->recent[c->recent_next], call_id, VID_CALL_ID_SIZE);
    c->recent_next = (c->recent_next + 1) % RECENT_CALLS;
}

/* call_host.send: validate, serialize and send a request of the call
 * layer; its answer (ack or error) is swallowed. */
static json_int_t host_send(void *ud, json_t *msg)
{
    vid_client *c = ud;
    proto_error perr;
    json_int_t id;
    char *text;

    if (msg == NULL)
        return VID_ENOMEM;
    id = next_id(c);
    json_object_set_new(msg, "id", json_integer(id));
    if (!proto_validate(msg, PROTO_TO_SERVER, NULL, &perr)) {
        g_warning("call: refusing to send an invalid message: %s",
                  perr.message);
        json_decref(msg);
        return VID_EINVAL;
    }
    text = proto_dump(msg, NULL);
    json_decref(msg);
    if (text == NULL)
        return VID_EINVAL;
    if (c->sc == NULL || !atomic_load(&c->logged_in)) {
        free(text);
        return VID_ESTATE;
    }
    g_hash_table_add(c->managed_reqs, g_memdup2(&id, sizeof id));
    sig_client_send(c->sc, text, id);
    free(text);
    return id;
}

static void host_emit(void *ud, const vid_event *ev)
{
    client_emit(ud, ev);
}

static gboolean free_call_idle(gpointer data)
{
    return G_SOURCE_REMOVE;
}

static void host_ended(void *ud, call *cl)
{
    vid_client *c = ud;
    GSource *src;

    remember_recent(c, call_get_id(cl));
    if (c->active == cl)
        c->active = NULL;
    /* Not from inside the call's own stack: free it from an idle source
     * (or when the context goes away). */
    src = g_idle_source_new();
    g_source_set_callback(src, free_call_idle, cl, (GDestroyNotify) call_free);
    g_source_attach(src, c->ctx);
    g_source_unref(src);
}

static call_host make_host(vid_client *c)
{
    call_host h;

    memset(&h, 0, sizeof h);
    h.context = c->ctx;
    h.client = c;
    h.id = c->id;
    h.pins = c->pins;
    h.send = host_send;
    h.emit = host_emit;
    h.ended = host_ended;
    h.ud = c;
    return h;
}

static vid_peer_identity pin_of(vid_client *c, const char *user,
                                const char *device, const char *fp)
{
    if (c->pins == NULL || user == NULL || device == NULL || fp == NULL)
        return VID_PEER_UNKNOWN;
    switch (identity_pins_check(c->pins, user, device, fp)) {
    case IDENTITY_PIN_NEW:
        return VID_PEER_NEW;
    case IDENTITY_PIN_KNOWN:
        return VID_PEER_KNOWN;
    case IDENTITY_PIN_CHANGED:
        return VID_PEER_CHANGED;
    default:
        return VID_PEER_UNKNOWN;
    }
}

static void end_invite(vid_client *c, call_invite *inv, vid_end_reason r,
                       int code, const char *message, const char *reason)
{
    vid_event ev;

    memset(&ev, 0, sizeof ev);
    ev.type = VID_EVENT_CALL_ENDED;
    ev.mline_index = -1;
    ev.call_id = inv->call_id;
    ev.user = inv->from;
    ev.device = inv->from_device;
    ev.end_reason = r;
    ev.code = code;
    ev.message = message;
    ev.reason = reason;
    client_emit(c, &ev);
    remember_recent(c, inv->call_id);
}

/* An incoming invite: delivered; kept for vid_call_answer(), or declined
 * "busy" at once when a managed call is running. */
static void on_invite(vid_client *c, const json_t *msg, owned_event *oe)
{
    call_invite *inv;
    json_t *m;

    oe->ev.peer_identity =
        pin_of(c, oe->ev.user, oe->ev.device, oe->ev.fingerprint);
    push_event(c, oe);
    if (c->active != NULL) {
        m = json_pack("{s:s,s:s,s:s}", "type", "call.reject", "call",
                      json_string_value(json_object_get(msg, "call")), "reason",
                      "busy");
        host_send(c, m);
        inv = g_new0(call_invite, 1);
        inv->call_id = dup_field(msg, "call");
        inv->from = dup_field(msg, "from");
        inv->from_device = dup_field(msg, "from_device");
        end_invite(c, inv, VID_END_BUSY, VID_EBUSY,
                   "declined: another call is active", "busy");
        call_invite_free(inv);
        return;
    }
    inv = g_new0(call_invite, 1);
    inv->call_id = dup_field(msg, "call");
    inv->from = dup_field(msg, "from");
    inv->from_device = dup_field(msg, "from_device");
    inv->fingerprint = dup_field(msg, "fingerprint");
    inv->sdp = dup_field(msg, "sdp");
    inv->candidates =
        g_ptr_array_new_with_free_func((GDestroyNotify) json_decref);
    g_hash_table_replace(c->invites, inv->call_id, inv);
}

/* Route a call message to a managed call or a pending invite. Returns
 * true when it was consumed (no raw event). */
static bool route_call_message(vid_client *c, proto_msg_type type,
                               const json_t *msg, owned_event *oe)
{
    const char *id = json_string_value(json_object_get(msg, "call"));
    call_invite *inv;

    if (id == NULL)
        return false;
    if (c->active != NULL && strcmp(call_get_id(c->active), id) == 0) {
        owned_event_free(oe);
        call_on_message(c->active, type, msg);
        return true;
    }
    inv = g_hash_table_lookup(c->invites, id);
    if (inv != NULL) {
        if (type == PROTO_MSG_CALL_CANDIDATE) {
            g_ptr_array_add(inv->candidates, json_deep_copy(msg));
            return false; /* delivered too */
        }
        if (type == PROTO_MSG_CALL_CANCEL || type == PROTO_MSG_CALL_HANGUP) {
            push_event(c, oe);
            g_hash_table_steal(c->invites, id);
            end_invite(c, inv, VID_END_CANCELLED, VID_OK,
                       "the call stopped ringing",
                       json_string_value(json_object_get(msg, "reason")));
            call_invite_free(inv);
            return true;
        }
        return false;
    }
    if (is_recent(c, id)) { /* a late message of an ended managed call */
        owned_event_free(oe);
        return true;
    }
    return false;
}

/* ---- worker: signaling events -> queued vid events --------------------- */

static void on_sig_message(vid_client *c, proto_msg_type type,
                           const json_t *msg, json_int_t re)
{
    owned_event *oe = NULL;
    const json_t *mline;

    if (type == PROTO_MSG_ACK && g_hash_table_remove(c->managed_reqs, &re) &&
        (c->active == NULL ||
         call_get_invite_request(c->active) != (uint64_t) re) &&
        (c->abandoned_invite == 0 || c->abandoned_invite != (uint64_t) re))
        return; /* the call layer's own request (not the invite of a call
                 * hung up before its id came: that one is ended below) */
    switch (type) {
    case PROTO_MSG_ACK:
        if (json_object_get(msg, "call") == NULL)
            return; /* plain ack: nothing to report */
        if (c->active != NULL &&
            call_get_invite_request(c->active) == (uint64_t) re) {
            call_on_created(c->active,
                            json_string_value(json_object_get(msg, "call")));
            return;
        }
        if (c->abandoned_invite != 0 && c->abandoned_invite == (uint64_t) re) {
            /* Hung up before the id came: end it at the server too. */
            c->abandoned_invite = 0;
            host_send(c,
                      json_pack("{s:s,s:s,s:s}", "type", "call.hangup", "call",
                                json_string_value(json_object_get(msg, "call")),
                                "reason", "caller_hangup"));
            remember_recent(c, json_string_value(json_object_get(msg, "call")));
            return;
        }
        oe = event_new(VID_EVENT_CALL_CREATED);
        oe->ev.request_id = (uint64_t) re;
        break;
    case PROTO_MSG_PRESENCE:
        oe = event_new(VID_EVENT_PRESENCE);
        oe->ev.online =
            strcmp(json_string_value(json_object_get(msg, "status")),
                   "online") == 0;
        break;
    case PROTO_MSG_CALL_INVITE:
        oe = event_new(VID_EVENT_CALL_INVITE);
        break;
    case PROTO_MSG_CALL_RINGING:
        oe = event_new(VID_EVENT_CALL_RINGING);
        break;
    case PROTO_MSG_CALL_ACCEPT:
        oe = event_new(VID_EVENT_CALL_ACCEPT);
        break;
    case PROTO_MSG_CALL_REJECT:
        oe = event_new(VID_EVENT_CALL_REJECT);
        break;
    case PROTO_MSG_CALL_CANCEL:
        oe = event_new(VID_EVENT_CALL_CANCEL);
        break;
    case PROTO_MSG_CALL_CANDIDATE:
        oe = event_new(VID_EVENT_CALL_CANDIDATE);
        break;
    case PROTO_MSG_CALL_HANGUP:
        oe = event_new(VID_EVENT_CALL_HANGUP);
        break;
    default:
        return;
    }
    /* proto_parse() checked every field's type and size already. */
    oe->ev.user = dup_field(msg, type == PROTO_MSG_PRESENCE ? "user" : "from");
    oe->ev.device =
        dup_field(msg, type == PROTO_MSG_PRESENCE ? "device" : "from_device");
    oe->ev.fingerprint = dup_field(msg, "fingerprint");
    oe->ev.call_id = dup_field(msg, "call");
    oe->ev.sdp = dup_field(msg, "sdp");
    oe->ev.reason = dup_field(msg, "reason");
    oe->ev.candidate = dup_field(msg, "candidate");
    oe->ev.mid = dup_field(msg, "mid");
    mline = json_object_get(msg, "mline_index");
    if (json_is_integer(mline))
        oe->ev.mline_index = (int) json_integer_value(mline);
    if (type == PROTO_MSG_CALL_INVITE) {
        on_invite(c, msg, oe);
        return;
    }
    /* Consumed: route_call_message() queued or freed @oe. */
    if (type != PROTO_MSG_ACK && type != PROTO_MSG_PRESENCE &&
        route_call_message(c, type, msg, oe))
        return;
    push_event(c, oe);
}

static const char *nz_str(const char *s)
{
    return s != NULL ? s : "";
}

/* Our server connection dropped: the server ends our calls, and so do we. */
static void drop_calls(vid_client *c)
{
    GHashTableIter it;
    gpointer v;

    if (c->active != NULL)
        call_on_disconnected(c->active);
    g_hash_table_iter_init(&it, c->invites);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        end_invite(c, v, VID_END_NETWORK_LOST, VID_ENETWORK,
                   "the connection to the server was lost", NULL);
        g_hash_table_iter_remove(&it);
    }
    c->abandoned_invite = 0;
}

static void on_sig_event(void *data, const sig_event *se)
{
    vid_client *c = data;
    owned_event *oe;

    switch (se->kind) {
    case SIG_EV_CONNECTED:
        push_event(c, event_new(VID_EVENT_CONNECTED));
        return;
    case SIG_EV_LOGGED_IN: {
        vid_policy *p =
            client_policy_from_json(json_object_get(se->msg, "policy"));
        vid_policy *old;
        g_mutex_lock(&c->lock);
        old = c->policy;
        c->policy = p;
        g_mutex_unlock(&c->lock);
        vid_policy_free(old);
        atomic_store(&c->logged_in, true);
        oe = event_new(VID_EVENT_LOGGED_IN);
        oe->ev.request_id = (uint64_t) se->request_id;
        oe->ev.user = dup_field(se->msg, "user");
        oe->ev.device = dup_field(se->msg, "device");
        push_event(c, oe);
        return;
    }
    case SIG_EV_LOGIN_FAILED:
        oe = event_new(VID_EVENT_LOGIN_FAILED);
        oe->ev.retry_after = se->retry_after;
        break;
    case SIG_EV_DISCONNECTED:
        atomic_store(&c->logged_in, false);
        drop_calls(c);
        oe = event_new(VID_EVENT_DISCONNECTED);
        oe->ev.will_reconnect = se->will_reconnect;
        oe->ev.reconnect_delay_ms = se->delay_ms;
        break;
    case SIG_EV_REQUEST_FAILED:
        if (c->active != NULL && se->request_id != 0 &&
            call_get_invite_request(c->active) == (uint64_t) se->request_id &&
            call_get_id(c->active)[0] == '\0') {
            g_hash_table_remove(c->managed_reqs, &se->request_id);
            call_on_invite_failed(c->active, se->code, se->server_code,
                                  se->message);
            return;
        }
        if (g_hash_table_remove(c->managed_reqs, &se->request_id)) {
            g_debug("call layer request %" G_GINT64_FORMAT " failed: %s",
                    (gint64) se->request_id, nz_str(se->message));
            return;
        }
        oe = event_new(VID_EVENT_ERROR);
        break;
    case SIG_EV_MESSAGE:
        on_sig_message(c, se->type, se->msg, se->request_id);
        return;
    default:
        return;
    }
    oe->ev.code = se->code;
    oe->ev.request_id = (uint64_t) se->request_id;
    oe->ev.server_code = g_strdup(se->server_code);
    oe->ev.message =
        g_strdup(se->message != NULL ? se->message : vid_strerror(se->code));
    push_event(c, oe);
}

static json_int_t next_id(void *data)
{
    vid_client *c = data;

    return (json_int_t) atomic_fetch_add(&c->next_id, 1);
}

/* ---- worker: ops ------------------------------------------------------- */

static void op_free(gpointer data)
{
    op *o = data;

    if (o->password != NULL) {
        util_wipe(o->password, strlen(o->password));
        g_free(o->password);
    }
    g_free(o->user);
    g_free(o->forget);
    g_free(o->text);
    json_decref(o->users);
    g_free(o);
}

static gboolean op_run(gpointer data)
{
    op *o = data;
    vid_client *c = o->c;

    switch (o->kind) {
    case OP_CONNECT:
        sig_client_connect(c->sc);
        break;
    case OP_LOGIN:
        sig_client_login(c->sc, o->user, o->password, o->id);
        break;
    case OP_SEND:
        if (o->forget != NULL)
            g_hash_table_remove(c->invites, o->forget);
        sig_client_send(c->sc, o->text, o->id);
        break;
    case OP_SUBSCRIBE:
        sig_client_subscribe(c->sc, o->users, o->text, o->id);
        break;
    case OP_STOP:
        /* Hang up a managed call, so that the peer hears of it at once
         * and every device and thread of the call is released here. */
        if (c->active != NULL)
            call_hangup(c->active, NULL);
        g_hash_table_remove_all(c->invites);
        client_devices_stop(c);
        g_main_loop_quit(c->loop);
        break;
    }
    return G_SOURCE_REMOVE;
}

static void submit(vid_client *c, op *o)
{
    o->c = c;
    g_main_context_invoke_full(c->ctx, G_PRIORITY_DEFAULT, op_run, o, op_free);
}

static gboolean keep_waking(gpointer data)
{
    return G_SOURCE_CONTINUE;
}

static gpointer worker_main(gpointer data)
{
    vid_client *c = data;
    sig_config cfg = {0};
    gint64 deadline;
    GSource *wake;

    g_main_context_push_thread_default(c->ctx);
    cfg.url = c->url;
    cfg.tls_db = c->tls_db;
    cfg.device = c->device;
    cfg.fingerprint = identity_fingerprint(c->id);
    cfg.reconnect = c->reconnect;
    cfg.rng_seed = (uint64_t) g_random_int() << 32 | g_random_int();
    c->sc = sig_client_new(&cfg, on_sig_event, next_id, c);
    g_main_loop_run(c->loop);

    /* Close politely: wait (at most 1 s) for the server's close frame so
     * that libsoup releases the connection, then free. */
    sig_client_begin_close(c->sc);
    wake = g_timeout_source_new(20);
    g_source_set_callback(wake, keep_waking, NULL, NULL);
    g_source_attach(wake, c->ctx);
    deadline = g_get_monotonic_time() + 1000 * 1000;
    while (!sig_client_is_closed(c->sc) && g_get_monotonic_time() < deadline)
        g_main_context_iteration(c->ctx, TRUE);
    g_source_destroy(wake);
    g_source_unref(wake);
    sig_client_free(c->sc);
    c->sc = NULL;

    /* Let libsoup release what it still holds. */
    deadline = g_get_monotonic_time() + 200 * 1000;
    while (g_main_context_pending(c->ctx) && g_get_monotonic_time() < deadline)
        g_main_context_iteration(c->ctx, FALSE);
    g_main_context_pop_thread_default(c->ctx);
    return NULL;
}

/* ---- create / free ----------------------------------------------------- */

VID_API int vid_client_options_init(vid_client_options *opts,
                                    unsigned int version)
{
    vid_client_options def = VID_CLIENT_OPTIONS_INIT;

    if (opts == NULL)
        return set_error(NULL, VID_EINVAL, "opts is NULL");
    if (version != VID_CLIENT_OPTIONS_VERSION)
        return set_error(NULL, VID_EVERSION,
                         "options version %u is not supported (this library "
                         "knows %d)",
                         version, VID_CLIENT_OPTIONS_VERSION);
    *opts = def;
    return VID_OK;
}

/* A host name (ASCII letters, digits, '.', '-', '_', at most 253) or an
 * IP literal. On failure @p why names the first bad byte. */
static bool host_valid(const char *host, char *why, size_t cap)
{
    size_t len = strlen(host);

    if (g_hostname_is_ip_address(host))
        return true;
    if (len > 253) {
        snprintf(why, cap, "server URL host is %zu bytes long (at most 253)",
                 len);
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char) host[i];
        if (g_ascii_isalnum(ch) || ch == '.' || ch == '-' || ch == '_')
            continue;
        snprintf(why, cap,
                 "server URL host has a character not allowed in a host "
                 "name or IP address (byte 0x%02x at offset %zu): use "
                 "letters, digits, '.', '-' (an international name in its "
                 "xn-- form) or an IP address",
                 ch, i);
        return false;
    }
    return true;
}

static bool url_valid(const char *url, char *why, size_t cap)
{
    GUri *uri;
    bool ok;
    char *shown;

    if (g_ascii_strncasecmp(url, "wss://", 6) != 0) {
        shown = g_strescape(url, NULL);
        snprintf(why, cap, "server URL \"%.200s\" must start with wss://",
                 shown);
        g_free(shown);
        return false;
    }
    /* No IDN conversion: a non-ASCII host is refused below rather than
     * silently checked in a form the connection does not use. */
    uri = g_uri_parse(url, G_URI_FLAGS_NON_DNS, NULL);
    ok = uri != NULL && g_uri_get_host(uri) != NULL &&
         g_uri_get_host(uri)[0] != '\0';
    if (!ok) {
        shown = g_strescape(url, NULL);
        snprintf(why, cap, "server URL \"%.200s\" is not a valid URL", shown);
        g_free(shown);
    } else {
        ok = host_valid(g_uri_get_host(uri), why, cap);
    }
    if (uri != NULL)
        g_uri_unref(uri);
    return ok;
}

static char *default_device_name(void)
{
    const char *host = g_get_host_name();
    char *name = g_strndup(host, strcspn(host, "."));

    if (!proto_name_valid(name)) {
        g_free(name);
        name = g_strdup("device");
    }
    return name;
}

static void client_destroy(vid_client *c)
{
    if (c->thread != NULL) {
        op *o = g_new0(op, 1);
        o->kind = OP_STOP;
        submit(c, o);
        g_thread_join(c->thread);
    }
    if (c->loop != NULL)
        g_main_loop_unref(c->loop);
    if (c->ctx != NULL)
        g_main_context_unref(c->ctx); /* frees ops never run */
    if (c->invites != NULL)
        g_hash_table_unref(c->invites);
    if (c->managed_reqs != NULL)
        g_hash_table_unref(c->managed_reqs);
    identity_pins_free(c->pins);
    if (c->app_source != NULL) {
        g_source_destroy(c->app_source);
        g_source_unref(c->app_source);
    }
    if (c->app_ctx != NULL)
        g_main_context_unref(c->app_ctx);
    g_queue_clear_full(&c->events, (GDestroyNotify) owned_event_free);
    vid_policy_free(c->policy);
    if (c->efd >= 0)
        close(c->efd);
    identity_free(c->id);
    g_clear_object(&c->tls_db);
    g_free(c->url);
    g_free(c->device);
    g_free(c->state_dir);
    g_mutex_clear(&c->lock);
    g_free(c);
    if (atomic_fetch_sub(&live_clients, 1) == 1)
        device_shutdown();
}

VID_API int vid_client_new(vid_client **out, const vid_client_options *opts)
{
    vid_client *c;
    char why[ERROR_SIZE];
    int rc;

    if (out == NULL)
        return set_error(NULL, VID_EINVAL, "out is NULL");
    *out = NULL;
    if (opts == NULL)
        return set_error(NULL, VID_EINVAL, "opts is NULL");
    if (opts->version != VID_CLIENT_OPTIONS_VERSION)
        return set_error(NULL, VID_EVERSION,
                         "options version %u is not supported (use "
                         "VID_CLIENT_OPTIONS_INIT)",
                         opts->version);
    if (opts->server_url == NULL)
        return set_error(NULL, VID_EINVAL, "no server URL given");
    if (!url_valid(opts->server_url, why, sizeof why))
        return set_error(NULL, VID_EINVAL, "%s", why);
    if (opts->device_name != NULL && !proto_name_valid(opts->device_name))
        return set_error(NULL, VID_EINVAL,
                         "device name \"%.80s\" is invalid: use 1-64 of "
                         "A-Z a-z 0-9 . _ - (not starting with . or -)",
                         opts->device_name);

    c = g_new0(vid_client, 1);
    atomic_fetch_add(&live_clients, 1);
    g_mutex_init(&c->lock);
    g_queue_init(&c->events);
    c->efd = -1;
    atomic_init(&c->next_id, 1);
    atomic_init(&c->logged_in, false);
    atomic_init(&c->dispatching, false);
    c->url = g_strdup(opts->server_url);
    c->device = opts->device_name != NULL ? g_strdup(opts->device_name)
                                          : default_device_name();
    c->state_dir = opts->state_dir != NULL
                       ? g_strdup(opts->state_dir)
                       : g_build_filename(g_get_user_state_dir(), "vid", NULL);
    c->reconnect = opts->reconnect != 0;

    if (opts->ca_file != NULL) {
        GError *error = NULL;
        c->tls_db = g_tls_file_database_new(opts->ca_file, &error);
        if (c->tls_db == NULL) {
            set_error(NULL, VID_ETLS, "cannot use CA file %s: %s",
                      opts->ca_file, error->message);
            g_error_free(error);
            rc = VID_ETLS;
            goto fail;
        }
    }
    rc = identity_load_or_create(c->state_dir, &c->id, NULL, why, sizeof why);
    if (rc != VID_OK) {
        set_error(NULL, rc, "device identity: %s", why);
        goto fail;
    }
    c->pins = identity_pins_open(c->state_dir, why, sizeof why);
    if (c->pins == NULL) {
        rc = set_error(NULL, VID_EIDENTITY, "pinned peer keys: %s", why);
        goto fail;
    }
    c->invites = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                       (GDestroyNotify) call_invite_free);
    c->managed_reqs =
        g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    c->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (c->efd < 0) {
        rc = set_error(NULL, VID_EIO, "eventfd: %s", g_strerror(errno));
        goto fail;
    }
    if (opts->main_context != NULL) {
        c->app_ctx = g_main_context_ref(opts->main_context);
        c->app_source = g_unix_fd_source_new(c->efd, G_IO_IN);
        g_source_set_callback(c->app_source, G_SOURCE_FUNC(on_app_source), c,
                              NULL);
        g_source_attach(c->app_source, c->app_ctx);
    }
    c->ctx = g_main_context_new();
    c->loop = g_main_loop_new(c->ctx, FALSE);
    c->thread = g_thread_try_new("vid-client", worker_main, c, NULL);
    if (c->thread == NULL) {
        rc = set_error(NULL, VID_ENOMEM, "cannot start the worker thread");
        goto fail;
    }
    *out = c;
    return VID_OK;
fail:
    client_destroy(c);
    return rc;
}

VID_API void vid_client_free(vid_client *c)
{
    if (c == NULL)
        return;
    if (atomic_load(&c->dispatching) && c->dispatch_thread == g_thread_self()) {
        c->free_pending = true; /* from the callback: after it returns */
        return;
    }
    client_destroy(c);
}

VID_API const char *vid_client_get_fingerprint(const vid_client *c)
{
    return c != NULL ? identity_fingerprint(c->id) : NULL;
}

VID_API const char *vid_client_get_device_name(const vid_client *c)
{
    return c != NULL ? c->device : NULL;
}

/* ---- requests ---------------------------------------------------------- */

VID_API int vid_client_connect(vid_client *c)
{
    op *o;

    if (c == NULL)
        return VID_EINVAL;
    o = g_new0(op, 1);
    o->kind = OP_CONNECT;
    submit(c, o);
    return VID_OK;
}

VID_API int vid_client_login(vid_client *c, const char *user,
                             const char *password, uint64_t *request_id)
{
    op *o;
    size_t plen;

    if (request_id != NULL)
        *request_id = 0;
    if (c == NULL)
        return VID_EINVAL;
    if (user == NULL || !proto_name_valid(user))
        return set_error(c, VID_EINVAL,
                         "user name is %s: use 1-64 of A-Z a-z 0-9 . _ - "
                         "(not starting with . or -)",
                         user == NULL ? "NULL" : "invalid");
    if (password == NULL)
        return set_error(c, VID_EINVAL, "password is NULL");
    plen = strlen(password);
    if (plen == 0 || plen > PROTO_MAX_PASSWORD)
        return set_error(c, VID_EINVAL, "password must be 1-%d bytes",
                         PROTO_MAX_PASSWORD);
    if (!g_utf8_validate(password, (gssize) plen, NULL))
        return set_error(c, VID_EINVAL, "password is not valid UTF-8");
    if (atomic_load(&c->logged_in))
        return set_error(c, VID_ESTATE, "already logged in");
    o = g_new0(op, 1);
    o->kind = OP_LOGIN;
    o->id = next_id(c);
    o->user = g_strdup(user);
    o->password = g_strdup(password);
    if (request_id != NULL)
        *request_id = (uint64_t) o->id;
    submit(c, o);
    return VID_OK;
}

/* Validate @msg (stolen) as a request, serialize it and queue it. */
static int send_request_forget(vid_client *c, json_t *msg, op_kind kind,
                               uint64_t *request_id, const char *forget)
{
    proto_error perr;
    json_int_t id;
    char *text;
    op *o;

    if (msg == NULL)
        return set_error(c, VID_ENOMEM, "out of memory");
    id = next_id(c);
    json_object_set_new(msg, "id", json_integer(id));
    if (!proto_validate(msg, PROTO_TO_SERVER, NULL, &perr)) {
        json_decref(msg);
        return set_error(c, VID_EINVAL, "%s", perr.message);
    }
    text = proto_dump(msg, NULL);
    if (text == NULL) {
        json_decref(msg);
        return set_error(c, VID_EINVAL, "message larger than %d bytes",
                         PROTO_MAX_FRAME);
    }
    if (!atomic_load(&c->logged_in)) {
        free(text);
        json_decref(msg);
        return set_error(c, VID_ESTATE, "not logged in");
    }
    o = g_new0(op, 1);
    o->kind = kind;
    o->id = id;
    o->text = g_strdup(text);
    o->forget = g_strdup(forget);
    free(text);
    if (kind == OP_SUBSCRIBE)
        o->users = json_incref(json_object_get(msg, "users"));
    json_decref(msg);
    if (request_id != NULL)
        *request_id = (uint64_t) id;
    submit(c, o);
    return VID_OK;
}

static int send_request(vid_client *c, json_t *msg, op_kind kind,
                        uint64_t *request_id)
{
    return send_request_forget(c, msg, kind, request_id, NULL);
}

/* Add a string field; NULL @value is a caller error, bad UTF-8 too. */
static int add_string(vid_client *c, json_t *msg, const char *key,
                      const char *value)
{
    json_t *s;

    if (value == NULL)
        return set_error(c, VID_EINVAL, "%s is NULL", key);
    s = json_string(value);
    if (s == NULL)
        return set_error(c, VID_EINVAL, "%s is not valid UTF-8", key);
    json_object_set_new(msg, key, s);
    return VID_OK;
}

static json_t *new_request(const char *type)
{
    return json_pack("{s:s}", "type", type);
}

VID_API int vid_client_subscribe_presence(vid_client *c,
                                          const char *const *users,
                                          size_t n_users, uint64_t *request_id)
{
    json_t *msg;
    json_t *arr;

    if (request_id != NULL)
        *request_id = 0;
    if (c == NULL)
        return VID_EINVAL;
    if (users == NULL || n_users == 0 || n_users > PROTO_MAX_SUBSCRIBE)
        return set_error(c, VID_EINVAL, "users must be an array of 1-%d names",
                         PROTO_MAX_SUBSCRIBE);
    msg = new_request("presence.subscribe");
    arr = json_array();
    if (msg == NULL || arr == NULL) {
        json_decref(msg);
        json_decref(arr);
        return set_error(c, VID_ENOMEM, "out of memory");
    }
    json_object_set_new(msg, "users", arr);
    for (size_t i = 0; i < n_users; i++) {
        if (users[i] == NULL || !proto_name_valid(users[i])) {
            json_decref(msg);
            return set_error(c, VID_EINVAL,
                             "users[%zu] is %s: use 1-64 of A-Z a-z 0-9 . _ -",
                             i, users[i] == NULL ? "NULL" : "not a valid name");
        }
        json_array_append_new(arr, json_string(users[i]));
    }
    return send_request(c, msg, OP_SUBSCRIBE, request_id);
}

/* Common start of call requests: a message of @type for @call_id. */
static int call_request(vid_client *c, const char *type, const char *call_id,
                        json_t **out)
{
    json_t *msg;
    int rc;

    *out = NULL;
    msg = new_request(type);
    if (msg == NULL)
        return set_error(c, VID_ENOMEM, "out of memory");
    rc = add_string(c, msg, "call", call_id);
    if (rc != VID_OK) {
        json_decref(msg);
        return rc;
    }
    *out = msg;
    return VID_OK;
}

VID_API int vid_client_call_invite(vid_client *c, const char *to,
                                   const char *sdp, uint64_t *request_id)
{
    json_t *msg;
    int rc;

    if (request_id != NULL)
        *request_id = 0;
    if (c == NULL)
        return VID_EINVAL;
    msg = new_request("call.invite");
    if (msg == NULL)
        return set_error(c, VID_ENOMEM, "out of memory");
    rc = add_string(c, msg, "to", to);
    if (rc == VID_OK)
        rc = add_string(c, msg, "sdp", sdp);
    if (rc != VID_OK) {
        json_decref(msg);
        return rc;
    }
    return send_request(c, msg, OP_SEND, request_id);
}

/* Send a call message: "call" plus at most one string field @key, left
 * out when @value is NULL and @optional. */
static int send_call(vid_client *c, const char *type, const char *call_id,
                     const char *key, const char *value, bool optional,
                     uint64_t *request_id)
{
    json_t *msg;
    int rc;

    if (request_id != NULL)
        *request_id = 0;
    if (c == NULL)
        return VID_EINVAL;
    rc = call_request(c, type, call_id, &msg);
    if (rc == VID_OK && key != NULL && !(optional && value == NULL))
        rc = add_string(c, msg, key, value);
    if (rc != VID_OK) {
        json_decref(msg);
        return rc;
    }
    /* An invite answered by hand is no longer the library's to end. */
    return send_request_forget(c, msg, OP_SEND, request_id,
                               strcmp(type, "call.ringing") != 0 ? call_id
                                                                 : NULL);
}

VID_API int vid_client_call_ringing(vid_client *c, const char *call_id,
                                    uint64_t *request_id)
{
    return send_call(c, "call.ringing", call_id, NULL, NULL, true, request_id);
}

VID_API int vid_client_call_accept(vid_client *c, const char *call_id,
                                   const char *sdp, uint64_t *request_id)
{
    return send_call(c, "call.accept", call_id, "sdp", sdp, false, request_id);
}

VID_API int vid_client_call_reject(vid_client *c, const char *call_id,
                                   const char *reason, uint64_t *request_id)
{
    return send_call(c, "call.reject", call_id, "reason", reason, false,
                     request_id);
}

VID_API int vid_client_call_candidate(vid_client *c, const char *call_id,
                                      const char *candidate, const char *mid,
                                      int mline_index, uint64_t *request_id)
{
    json_t *msg;
    int rc;

    if (request_id != NULL)
        *request_id = 0;
    if (c == NULL)
        return VID_EINVAL;
    if (mline_index < -1 || mline_index > 255)
        return set_error(c, VID_EINVAL, "mline_index must be -1 or 0-255");
    rc = call_request(c, "call.candidate", call_id, &msg);
    if (rc == VID_OK)
        rc = add_string(c, msg, "candidate", candidate);
    if (rc == VID_OK && mid != NULL)
        rc = add_string(c, msg, "mid", mid);
    if (rc != VID_OK) {
        json_decref(msg);
        return rc;
    }
    if (mline_index >= 0)
        json_object_set_new(msg, "mline_index", json_integer(mline_index));
    return send_request(c, msg, OP_SEND, request_id);
}

VID_API int vid_client_call_hangup(vid_client *c, const char *call_id,
                                   const char *reason, uint64_t *request_id)
{
    return send_call(c, "call.hangup", call_id, "reason", reason, true,
                     request_id);
}

/* ---- managed calls ----------------------------------------------------- */

typedef struct {
    void (*fn)(void *data);
    void *data;
    GMutex m;
    GCond cv;
    bool done;
} sync_op;

static gboolean sync_run(gpointer data)
{
    sync_op *s = data;

    s->fn(s->data);
    g_mutex_lock(&s->m);
    s->done = true;
    g_cond_signal(&s->cv);
    g_mutex_unlock(&s->m);
    return G_SOURCE_REMOVE;
}

void client_run_sync(vid_client *c, void (*fn)(void *data), void *data)
{
    sync_op s;

    if (g_thread_self() == c->thread) {
        fn(data);
        return;
    }
    s.fn = fn;
    s.data = data;
    s.done = false;
    g_mutex_init(&s.m);
    g_cond_init(&s.cv);
    g_main_context_invoke(c->ctx, sync_run, &s);
    g_mutex_lock(&s.m);
    while (!s.done)
        g_cond_wait(&s.cv, &s.m);
    g_mutex_unlock(&s.m);
    g_mutex_clear(&s.m);
    g_cond_clear(&s.cv);
}

VID_API int vid_call_options_init(vid_call_options *opts, unsigned int version)
{
    vid_call_options def = VID_CALL_OPTIONS_INIT;

    if (opts == NULL)
        return set_error(NULL, VID_EINVAL, "opts is NULL");
    if (version != VID_CALL_OPTIONS_VERSION)
        return set_error(NULL, VID_EVERSION,
                         "call options version %u is not supported (this "
                         "library knows %d)",
                         version, VID_CALL_OPTIONS_VERSION);
    *opts = def;
    return VID_OK;
}

static int check_call_options(vid_client *c, const vid_call_options *o)
{
    if (o->version != VID_CALL_OPTIONS_VERSION)
        return set_error(c, VID_EVERSION,
                         "call options version %u is not supported (use "
                         "VID_CALL_OPTIONS_INIT)",
                         o->version);
    if (o->width < 256 || o->width > 4096 || o->width % 2 != 0 ||
        o->height < 128 || o->height > 4096 || o->height % 2 != 0)
        return set_error(c, VID_EINVAL,
                         "width x height %d x %d: use even sizes from "
                         "256 x 128 to 4096 x 4096",
                         o->width, o->height);
    if (o->fps < 1 || o->fps > 60)
        return set_error(c, VID_EINVAL, "fps %d: use 1-60", o->fps);
    if (o->video_kbps < 30 || o->video_kbps > 20000 || o->max_video_kbps < 30 ||
        o->max_video_kbps > 20000)
        return set_error(c, VID_EINVAL,
                         "video_kbps %d / max_video_kbps %d: use 30-20000",
                         o->video_kbps, o->max_video_kbps);
    if (o->record_path != NULL && o->record_path[0] == '\0')
        return set_error(c, VID_EINVAL, "record_path is empty");
    return VID_OK;
}

typedef struct {
    vid_client *c;
    const char *peer;
    const char *call_id;
    const char *reason;
    const vid_call_options *opts;
    uint64_t request_id;
    bool mute_audio, mute_video;
    vid_call_stats *stats;
    char *buf;
    size_t cap;
    int rc;
    char why[ERROR_SIZE];
} call_op;

/* Run @fn with @cop on the worker and report its failure as the client's
 * last error: the tail of every synchronous vid_call_*() function. */
static int run_call_op(vid_client *c, void (*fn)(void *data), call_op *cop)
{
    cop->c = c;
    client_run_sync(c, fn, cop);
    if (cop->rc != VID_OK)
        return set_error(c, cop->rc, "%s", cop->why);
    return VID_OK;
}

static void do_place(void *data)
{
    call_op *cop = data;
    vid_client *c = cop->c;
    vid_policy *pol = NULL;
    call_host h = make_host(c);

    if (c->active != NULL) {
        cop->rc = VID_EBUSY;
        snprintf(cop->why, sizeof cop->why, "a call is already active");
        return;
    }
    if (c->sc == NULL || !sig_client_is_logged_in(c->sc)) {
        cop->rc = VID_ESTATE;
        snprintf(cop->why, sizeof cop->why, "not logged in");
        return;
    }
    g_mutex_lock(&c->lock);
    if (c->policy != NULL)
        pol = client_policy_copy(c->policy);
    g_mutex_unlock(&c->lock);
    cop->rc = call_place(&c->active, &h, pol, cop->peer, cop->opts,
                         &cop->request_id, cop->why, sizeof cop->why);
    vid_policy_free(pol);
}

VID_API int vid_call_place(vid_client *c, const char *peer,
                           const vid_call_options *opts, uint64_t *request_id)
{
    vid_call_options def = VID_CALL_OPTIONS_INIT;
    call_op cop;
    int rc;

    if (request_id != NULL)
        *request_id = 0;
    if (c == NULL)
        return VID_EINVAL;
    if (peer == NULL || !proto_name_valid(peer))
        return set_error(c, VID_EINVAL,
                         "peer is %s: use 1-64 of A-Z a-z 0-9 . _ -",
                         peer == NULL ? "NULL" : "not a valid user name");
    if (opts == NULL)
        opts = &def;
    rc = check_call_options(c, opts);
    if (rc != VID_OK)
        return rc;
    if (!atomic_load(&c->logged_in))
        return set_error(c, VID_ESTATE, "not logged in");
    memset(&cop, 0, sizeof cop);
    cop.peer = peer;
    cop.opts = opts;
    rc = run_call_op(c, do_place, &cop);
    if (rc != VID_OK)
        return rc;
    if (request_id != NULL)
        *request_id = cop.request_id;
    return VID_OK;
}

static void do_answer(void *data)
{
    call_op *cop = data;
    vid_client *c = cop->c;
    call_invite *inv = g_hash_table_lookup(c->invites, cop->call_id);
    call_host h = make_host(c);
    vid_policy *pol = NULL;
    vid_end_reason why_end;
    json_t *m;

    if (inv == NULL) {
        cop->rc = VID_ENOCALL;
        snprintf(cop->why, sizeof cop->why, "no ringing call %.40s",
                 cop->call_id);
        return;
    }
    if (c->active != NULL) {
        cop->rc = VID_EBUSY;
        snprintf(cop->why, sizeof cop->why, "a call is already active");
        return;
    }
    g_mutex_lock(&c->lock);
    if (c->policy != NULL)
        pol = client_policy_copy(c->policy);
    g_mutex_unlock(&c->lock);
    cop->rc = call_answer(&c->active, &h, pol, inv, cop->opts, cop->why,
                          sizeof cop->why);
    vid_policy_free(pol);
    if (cop->rc == VID_OK) {
        g_hash_table_remove(c->invites, cop->call_id);
        return;
    }
    if (cop->rc != VID_EPROTO && cop->rc != VID_EIDENTITY)
        return; /* devices: the invite still rings; try again or reject */
    /* An unusable offer or a refused key: decline and end. */
    why_end =
        cop->rc == VID_EPROTO ? VID_END_PROTOCOL : VID_END_IDENTITY_MISMATCH;
    m = json_pack("{s:s,s:s,s:s}", "type", "call.reject", "call", inv->call_id,
                  "reason",
                  cop->rc == VID_EPROTO ? "bad_sdp" : "identity_mismatch");
    host_send(c, m);
    g_hash_table_steal(c->invites, cop->call_id);
    end_invite(c, inv, why_end, cop->rc, cop->why, NULL);
    call_invite_free(inv);
}

static int check_call_id(vid_client *c, const char *call_id)
{
    if (call_id == NULL)
        return set_error(c, VID_EINVAL, "call_id is NULL");
    if (strlen(call_id) != VID_CALL_ID_SIZE - 1 ||
        strspn(call_id, "0123456789abcdef") != VID_CALL_ID_SIZE - 1)
        return set_error(c, VID_EINVAL,
                         "call_id \"%.40s\" is not 32 lower-case hex digits",
                         call_id);
    return VID_OK;
}

VID_API int vid_call_answer(vid_client *c, const char *call_id,
                            const vid_call_options *opts)
{
    vid_call_options def = VID_CALL_OPTIONS_INIT;
    call_op cop;
    int rc;

    if (c == NULL)
        return VID_EINVAL;
    rc = check_call_id(c, call_id);
    if (rc != VID_OK)
        return rc;
    if (opts == NULL)
        opts = &def;
    rc = check_call_options(c, opts);
    if (rc != VID_OK)
        return rc;
    memset(&cop, 0, sizeof cop);
    cop.call_id = call_id;
    cop.opts = opts;
    return run_call_op(c, do_answer, &cop);
}

static void do_reject(void *data)
{
    call_op *cop = data;
    vid_client *c = cop->c;
    call_invite *inv = g_hash_table_lookup(c->invites, cop->call_id);
    json_t *m;

    if (inv == NULL) {
        cop->rc = VID_ENOCALL;
        snprintf(cop->why, sizeof cop->why, "no ringing call %.40s",
                 cop->call_id);
        return;
    }
    m = json_pack("{s:s,s:s,s:s}", "type", "call.reject", "call", inv->call_id,
                  "reason", cop->reason);
    host_send(c, m);
    g_hash_table_steal(c->invites, cop->call_id);
    end_invite(c, inv, VID_END_REJECTED, VID_OK, "declined", cop->reason);
    call_invite_free(inv);
    cop->rc = VID_OK;
}

VID_API int vid_call_reject(vid_client *c, const char *call_id,
                            const char *reason)
{
    call_op cop;
    int rc;

    if (c == NULL)
        return VID_EINVAL;
    rc = check_call_id(c, call_id);
    if (rc != VID_OK)
        return rc;
    if (reason == NULL)
        reason = "declined";
    if (reason[0] == '\0' || strlen(reason) > 64 ||
        !g_utf8_validate(reason, -1, NULL))
        return set_error(c, VID_EINVAL,
                         "reason must be 1-64 bytes of UTF-8 text");
    for (const char *p = reason; *p != '\0'; p++)
        if ((unsigned char) *p < 0x20 || *p == 0x7f)
            return set_error(c, VID_EINVAL, "reason must be printable text");
    memset(&cop, 0, sizeof cop);
    cop.call_id = call_id;
    cop.reason = reason;
    return run_call_op(c, do_reject, &cop);
}

/* The managed call @id (worker), or NULL with cop->rc = VID_ENOCALL. */
static call *find_call(call_op *cop)
{
    call *cl = cop->c->active;

    if (cl == NULL || call_is_ended(cl) ||
        strcmp(call_get_id(cl), cop->call_id) != 0) {
        cop->rc = VID_ENOCALL;
        snprintf(cop->why, sizeof cop->why, "no managed call %.40s",
                 cop->call_id);
        return NULL;
    }
    cop->rc = VID_OK;
    return cl;
}

static void do_hangup(void *data)
{
    call_op *cop = data;
    vid_client *c = cop->c;
    call *cl = c->active;

    if (cop->call_id != NULL) {
        cl = find_call(cop);
    } else if (cl == NULL || call_is_ended(cl)) {
        cop->rc = VID_ENOCALL;
        snprintf(cop->why, sizeof cop->why, "no managed call");
        cl = NULL;
    }
    if (cl == NULL)
        return;
    /* Placed but not created yet: hang up at the server when the id
     * comes. */
    if (call_get_id(cl)[0] == '\0')
        c->abandoned_invite = call_get_invite_request(cl);
    call_hangup(cl, NULL);
    cop->rc = VID_OK;
}

VID_API int vid_call_hangup(vid_client *c, const char *call_id)
{
    call_op cop;
    int rc;

    if (c == NULL)
        return VID_EINVAL;
    if (call_id != NULL) {
        rc = check_call_id(c, call_id);
        if (rc != VID_OK)
            return rc;
    }
    memset(&cop, 0, sizeof cop);
    cop.call_id = call_id;
    return run_call_op(c, do_hangup, &cop);
}

static void do_mute(void *data)
{
    call_op *cop = data;
    call *cl = find_call(cop);

    if (cl != NULL)
        call_set_mute(cl, cop->mute_audio, cop->mute_video);
}

VID_API int vid_call_set_mute(vid_client *c, const char *call_id,
                              int mute_audio, int mute_video)
{
    call_op cop;
    int rc;

    if (c == NULL)
        return VID_EINVAL;
    rc = check_call_id(c, call_id);
    if (rc != VID_OK)
        return rc;
    memset(&cop, 0, sizeof cop);
    cop.call_id = call_id;
    cop.mute_audio = mute_audio != 0;
    cop.mute_video = mute_video != 0;
    return run_call_op(c, do_mute, &cop);
}

static void do_stats(void *data)
{
    call_op *cop = data;
    call *cl = find_call(cop);

    if (cl != NULL)
        call_get_stats(cl, cop->stats);
}

VID_API int vid_call_get_stats(vid_client *c, const char *call_id,
                               vid_call_stats *out)
{
    call_op cop;
    int rc;

    if (c == NULL)
        return VID_EINVAL;
    if (out == NULL)
        return set_error(c, VID_EINVAL, "out is NULL");
    memset(out, 0, sizeof *out);
    rc = check_call_id(c, call_id);
    if (rc != VID_OK)
        return rc;
    memset(&cop, 0, sizeof cop);
    cop.call_id = call_id;
    cop.stats = out;
    return run_call_op(c, do_stats, &cop);
}

static void do_sas(void *data)
{
    call_op *cop = data;
    call *cl = find_call(cop);

    if (cl == NULL)
        return;
    cop->rc = call_get_sas(cl, cop->buf, cop->cap);
    if (cop->rc != VID_OK)
        snprintf(cop->why, sizeof cop->why, "the call is not connected yet");
}

VID_API int vid_call_get_sas(vid_client *c, const char *call_id, char *buf,
                             size_t cap)
{
    call_op cop;
    int rc;

    if (c == NULL)
        return VID_EINVAL;
    if (buf == NULL || cap < VID_SAS_SIZE)
        return set_error(c, VID_EINVAL, "buf must hold %d bytes", VID_SAS_SIZE);
    buf[0] = '\0';
    rc = check_call_id(c, call_id);
    if (rc != VID_OK)
        return rc;
    memset(&cop, 0, sizeof cop);
    cop.call_id = call_id;
    cop.buf = buf;
    cop.cap = cap;
    return run_call_op(c, do_sas, &cop);
}

VID_API int vid_client_get_safety_number(vid_client *c,
                                         const char *peer_fingerprint,
                                         char *buf, size_t cap)
{
    int rc;

    if (c == NULL)
        return VID_EINVAL;
    if (buf == NULL || cap < VID_SAFETY_NUMBER_SIZE)
        return set_error(c, VID_EINVAL, "buf must hold %d bytes",
                         VID_SAFETY_NUMBER_SIZE);
    buf[0] = '\0';
    if (peer_fingerprint == NULL ||
        identity_fingerprint_decode(peer_fingerprint, NULL) != VID_OK)
        return set_error(c, VID_EINVAL,
                         "peer_fingerprint must be \"sha-256 AB:CD:...\" "
                         "(32 hex pairs)");
    rc = identity_safety_number(identity_fingerprint(c->id), peer_fingerprint,
                                buf, cap);
    if (rc != VID_OK)
        return set_error(c, rc, "safety number: %s", vid_strerror(rc));
    return VID_OK;
}

VID_API int vid_client_trust_peer(vid_client *c, const char *user,
                                  const char *device, const char *fingerprint)
{
    int rc;

    if (c == NULL)
        return VID_EINVAL;
    if (user == NULL || !proto_name_valid(user) || device == NULL ||
        !proto_name_valid(device))
        return set_error(c, VID_EINVAL,
                         "user and device must be 1-64 of A-Z a-z 0-9 . _ -");
    if (fingerprint == NULL ||
        identity_fingerprint_decode(fingerprint, NULL) != VID_OK)
        return set_error(c, VID_EINVAL,
                         "fingerprint must be \"sha-256 AB:CD:...\"");
    rc = identity_pins_set(c->pins, user, device, fingerprint);
    if (rc != VID_OK)
        return set_error(c, rc, "the pin could not be saved: %s",
                         vid_strerror(rc));
    return VID_OK;
}
