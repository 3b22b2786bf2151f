/*
 * router.c — presence subscriptions and call routing (docs/protocol.md).
 */
#include "router.h"

#include "log.h"

#include <sodium.h>
#include <string.h>

typedef struct ruser {
    char *name;
    GPtrArray *sessions;    /* rsession*, online devices */
    GPtrArray *subscribers; /* rsession* */
} ruser;

struct rsession {
    void *owner;
    char *user;
    char *device;
    char *fingerprint;
    ruser *u;
    GPtrArray *subs;  /* ruser* subscribed to, NULL until first */
    GPtrArray *calls; /* rcall*, NULL until first */
};

typedef enum { CALL_RINGING, CALL_ACTIVE } call_state;

typedef struct rcall {
    char id[33];
    call_state state;
    rsession *caller;
    rsession *callee;   /* accepted device, NULL while ringing */
    GPtrArray *ringing; /* rsession*, callee devices still ringing */
    char *callee_user;
    gint64 created_ms;
} rcall;

struct router {
    router_ops ops;
    int ring_timeout_ms;
    GHashTable *users; /* name -> ruser */
    GHashTable *calls; /* id -> rcall */
    guint64 calls_routed;
};

router *router_new(const router_ops *ops, int ring_timeout_s)
{
    router *r = g_new0(router, 1);
    r->ops = *ops;
    r->ring_timeout_ms = ring_timeout_s * 1000;
    r->users = g_hash_table_new(g_str_hash, g_str_equal);
    r->calls = g_hash_table_new(g_str_hash, g_str_equal);
    return r;
}

void router_free(router *r)
{
    if (r == NULL)
        return;
    /* Sessions are freed by their connections first; what is left here
     * is only bookkeeping without owners. */
    g_warn_if_fail(g_hash_table_size(r->calls) == 0);
    g_hash_table_destroy(r->calls);
    g_hash_table_destroy(r->users);
    g_free(r);
}

guint router_call_count(const router *r)
{
    return g_hash_table_size(r->calls);
}

guint64 router_calls_routed(const router *r)
{
    return r->calls_routed;
}

static ruser *user_get(router *r, const char *name, bool create)
{
    ruser *u = g_hash_table_lookup(r->users, name);
    if (u == NULL && create) {
        u = g_new0(ruser, 1);
        u->name = g_strdup(name);
        u->sessions = g_ptr_array_new();
        u->subscribers = g_ptr_array_new();
        g_hash_table_insert(r->users, u->name, u);
    }
    return u;
}

static void user_maybe_free(router *r, ruser *u)
{
    if (u->sessions->len > 0 || u->subscribers->len > 0)
        return;
    g_hash_table_remove(r->users, u->name);
    g_ptr_array_free(u->sessions, TRUE);
    g_ptr_array_free(u->subscribers, TRUE);
    g_free(u->name);
    g_free(u);
}

rsession *router_session_new(void *owner)
{
    rsession *s = g_new0(rsession, 1);
    s->owner = owner;
    return s;
}

bool router_session_logged_in(const rsession *s)
{
    return s->user != NULL;
}

const char *router_session_user(const rsession *s)
{
    return s->user;
}

const char *router_session_device(const rsession *s)
{
    return s->device;
}

static void send_msg(router *r, rsession *s, json_t *msg)
{
    r->ops.send(s->owner, msg);
    json_decref(msg);
}

static json_t *presence_msg(const char *user, const rsession *dev, bool online)
{
    json_t *m = json_pack("{s:s, s:s, s:s}", "type", "presence", "user", user,
                          "status", online ? "online" : "offline");
    if (dev != NULL) {
        json_object_set_new(m, "device", json_string(dev->device));
        if (online)
            json_object_set_new(m, "fingerprint",
                                json_string(dev->fingerprint));
    }
    return m;
}

static void announce(router *r, rsession *s, bool online)
{
    ruser *u = s->u;
    for (guint i = 0; i < u->subscribers->len; i++) {
        rsession *sub = u->subscribers->pdata[i];
        if (sub != s)
            send_msg(r, sub, presence_msg(u->name, s, online));
    }
}

/* ---- calls ---- */

static void session_add_call(rsession *s, rcall *c)
{
    if (s->calls == NULL)
        s->calls = g_ptr_array_new();
    g_ptr_array_add(s->calls, c);
}

static void session_remove_call(rsession *s, rcall *c)
{
    if (s != NULL && s->calls != NULL)
        g_ptr_array_remove_fast(s->calls, c);
}

static void call_free(router *r, rcall *c, const char *why)
{
    LOG_INFO(NULL, c->caller->user, c->caller->device, c->id,
             "call with %s ended: %s", c->callee_user, why);
    session_remove_call(c->caller, c);
    session_remove_call(c->callee, c);
    for (guint i = 0; i < c->ringing->len; i++)
        session_remove_call(c->ringing->pdata[i], c);
    g_hash_table_remove(r->calls, c->id);
    g_ptr_array_free(c->ringing, TRUE);
    g_free(c->callee_user);
    g_free(c);
}

static json_t *routed(const char *type, const rcall *c, const rsession *from)
{
    return json_pack("{s:s, s:s, s:s, s:s}", "type", type, "call", c->id,
                     "from", from->user, "from_device", from->device);
}

static json_t *cancel_msg(const rcall *c, const char *reason)
{
    return json_pack("{s:s, s:s, s:s}", "type", "call.cancel", "call", c->id,
                     "reason", reason);
}

/* Cancel every ringing device except @keep; empties the list. */
static void cancel_ringing(router *r, rcall *c, rsession *keep,
                           const char *reason)
{
    for (guint i = 0; i < c->ringing->len; i++) {
        rsession *d = c->ringing->pdata[i];
        if (d == keep)
            continue;
        send_msg(r, d, cancel_msg(c, reason));
        session_remove_call(d, c);
    }
    g_ptr_array_set_size(c->ringing, 0);
}

static rcall *call_new(router *r, rsession *caller, const char *to,
                       gint64 now_ms)
{
    rcall *c = g_new0(rcall, 1);
    unsigned char raw[16];

    do {
        randombytes_buf(raw, sizeof raw);
        sodium_bin2hex(c->id, sizeof c->id, raw, sizeof raw);
    } while (g_hash_table_contains(r->calls, c->id));
    c->state = CALL_RINGING;
    c->caller = caller;
    c->ringing = g_ptr_array_new();
    c->callee_user = g_strdup(to);
    c->created_ms = now_ms;
    g_hash_table_insert(r->calls, c->id, c);
    session_add_call(caller, c);
    return c;
}

static bool in_ringing(const rcall *c, const rsession *s)
{
    for (guint i = 0; i < c->ringing->len; i++) {
        if (c->ringing->pdata[i] == s)
            return true;
    }
    return false;
}

static void handle_invite(router *r, rsession *s, const json_t *msg,
                          json_int_t id, gint64 now_ms)
{
    const char *to = json_string_value(json_object_get(msg, "to"));
    const char *sdp = json_string_value(json_object_get(msg, "sdp"));
    ruser *u;
    rcall *c;
    json_t *ack;

    if (strcmp(to, s->user) == 0) {
        r->ops.error(s->owner, id, PROTO_ERR_SELF_CALL,
                     "you cannot call your own user");
        return;
    }
    if (s->calls != NULL && s->calls->len >= ROUTER_MAX_CALLS_PER_SESSION) {
        r->ops.error(s->owner, id, PROTO_ERR_BAD_STATE,
                     "too many calls on this device");
        return;
    }
    u = user_get(r, to, false);
    if (u == NULL || u->sessions->len == 0) {
        if (!r->ops.user_exists(r->ops.data, to)) {
            r->ops.error(s->owner, id, PROTO_ERR_UNKNOWN_USER, "no such user");
            return;
        }
        g_autofree char *m = g_strdup_printf("%s has no device online", to);
        r->ops.error(s->owner, id, PROTO_ERR_CALLEE_OFFLINE, m);
        return;
    }
    c = call_new(r, s, to, now_ms);
    ack = proto_ack_new(id);
    json_object_set_new(ack, "call", json_string(c->id));
    send_msg(r, s, ack);
    for (guint i = 0; i < u->sessions->len; i++) {
        rsession *d = u->sessions->pdata[i];
        json_t *m = routed("call.invite", c, s);
        json_object_set_new(m, "fingerprint", json_string(s->fingerprint));
        json_object_set_new(m, "sdp", json_string(sdp));
        g_ptr_array_add(c->ringing, d);
        session_add_call(d, c);
        send_msg(r, d, m);
    }
    r->calls_routed++;
    LOG_INFO(NULL, s->user, s->device, c->id, "call to %s rings %u devices", to,
             c->ringing->len);
}

static void handle_call(router *r, rsession *s, proto_msg_type type,
                        const json_t *msg, json_int_t id)
{
    const char *call_id = json_string_value(json_object_get(msg, "call"));
    rcall *c = g_hash_table_lookup(r->calls, call_id);
    bool is_caller, is_callee, is_ringing;
    const char *reason;
    json_t *m;

    is_caller = c != NULL && c->caller == s;
    is_callee = c != NULL && c->callee == s;
    is_ringing = c != NULL && in_ringing(c, s);
    if (!is_caller && !is_callee && !is_ringing) {
        r->ops.error(s->owner, id, PROTO_ERR_NOT_IN_CALL,
                     "no such call on this device");
        return;
    }

    switch (type) {
    case PROTO_MSG_CALL_RINGING:
        if (!is_ringing || c->state != CALL_RINGING)
            goto bad_state;
        send_msg(r, s, proto_ack_new(id));
        send_msg(r, c->caller, routed("call.ringing", c, s));
        return;

    case PROTO_MSG_CALL_ACCEPT:
        if (!is_ringing || c->state != CALL_RINGING)
            goto bad_state;
        c->state = CALL_ACTIVE;
        c->callee = s;
        cancel_ringing(r, c, s, "answered_elsewhere");
        LOG_INFO(NULL, s->user, s->device, c->id, "call accepted");
        send_msg(r, s, proto_ack_new(id));
        m = routed("call.accept", c, s);
        json_object_set_new(m, "fingerprint", json_string(s->fingerprint));
        json_object_set(m, "sdp", json_object_get(msg, "sdp"));
        send_msg(r, c->caller, m);
        return;

    case PROTO_MSG_CALL_REJECT:
        if (!is_ringing || c->state != CALL_RINGING)
            goto bad_state;
        reason = json_string_value(json_object_get(msg, "reason"));
        cancel_ringing(r, c, s, "rejected_elsewhere");
        session_remove_call(s, c);
        send_msg(r, s, proto_ack_new(id));
        m = routed("call.reject", c, s);
        json_object_set_new(m, "reason", json_string(reason));
        send_msg(r, c->caller, m);
        call_free(r, c, "rejected");
        return;

    case PROTO_MSG_CALL_CANDIDATE: {
        static const char *const fields[] = {"candidate", "mid", "mline_index"};
        GPtrArray *to = g_ptr_array_new();
        if (is_caller && c->state == CALL_RINGING) {
            for (guint i = 0; i < c->ringing->len; i++)
                g_ptr_array_add(to, c->ringing->pdata[i]);
        } else if (is_caller) {
            g_ptr_array_add(to, c->callee);
        } else if (is_callee) {
            g_ptr_array_add(to, c->caller);
        } else {
            g_ptr_array_free(to, TRUE);
            goto bad_state; /* ringing device before its accept */
        }
        send_msg(r, s, proto_ack_new(id));
        m = routed("call.candidate", c, s);
        for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
            json_t *v = json_object_get(msg, fields[i]);
            if (v != NULL)
                json_object_set(m, fields[i], v);
        }
        for (guint i = 0; i < to->len; i++)
            r->ops.send(((rsession *) to->pdata[i])->owner, m);
        json_decref(m);
        g_ptr_array_free(to, TRUE);
        return;
    }

    case PROTO_MSG_CALL_HANGUP:
        if (!is_caller && !is_callee)
            goto bad_state; /* a ringing device declines with reject */
        reason = json_string_value(json_object_get(msg, "reason"));
        send_msg(r, s, proto_ack_new(id));
        if (c->state == CALL_RINGING) {
            cancel_ringing(r, c, NULL, "caller_hangup");
        } else {
            m = routed("call.hangup", c, s);
            if (reason != NULL)
                json_object_set_new(m, "reason", json_string(reason));
            send_msg(r, is_caller ? c->callee : c->caller, m);
        }
        call_free(r, c, "hangup");
        return;

    default:
        break;
    }
bad_state:
    r->ops.error(s->owner, id, PROTO_ERR_BAD_STATE,
                 "this message does not fit the call's state");
}

/* @s leaves: end or shrink each of its calls. */
static void end_calls_of(router *r, rsession *s)
{
    while (s->calls != NULL && s->calls->len > 0) {
        rcall *c = s->calls->pdata[s->calls->len - 1];
        json_t *m;

        if (c->caller == s) {
            if (c->state == CALL_RINGING) {
                cancel_ringing(r, c, NULL, "peer_disconnected");
            } else {
                m = routed("call.hangup", c, s);
                json_object_set_new(m, "reason",
                                    json_string("peer_disconnected"));
                send_msg(r, c->callee, m);
            }
            call_free(r, c, "caller disconnected");
        } else if (c->callee == s) {
            m = routed("call.hangup", c, s);
            json_object_set_new(m, "reason", json_string("peer_disconnected"));
            send_msg(r, c->caller, m);
            call_free(r, c, "callee disconnected");
        } else {
            /* One ringing device left; the call ends when none is. */
            g_ptr_array_remove_fast(c->ringing, s);
            session_remove_call(s, c);
            if (c->ringing->len == 0) {
                m = routed("call.hangup", c, s);
                json_object_set_new(m, "reason",
                                    json_string("peer_disconnected"));
                send_msg(r, c->caller, m);
                call_free(r, c, "no device left");
            }
        }
    }
}

void router_expire(router *r, gint64 now_ms)
{
    GHashTableIter it;
    gpointer v;
    GPtrArray *expired = NULL;

    g_hash_table_iter_init(&it, r->calls);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        rcall *c = v;
        if (c->state == CALL_RINGING &&
            now_ms - c->created_ms >= r->ring_timeout_ms) {
            if (expired == NULL)
                expired = g_ptr_array_new();
            g_ptr_array_add(expired, c);
        }
    }
    for (guint i = 0; expired != NULL && i < expired->len; i++) {
        rcall *c = expired->pdata[i];
        json_t *m =
            json_pack("{s:s, s:s, s:s, s:s}", "type", "call.hangup", "call",
                      c->id, "from", c->callee_user, "reason", "no_answer");
        send_msg(r, c->caller, m);
        cancel_ringing(r, c, NULL, "timeout");
        call_free(r, c, "no answer");
    }
    if (expired != NULL)
        g_ptr_array_free(expired, TRUE);
}

/* ---- presence ---- */

static void handle_subscribe(router *r, rsession *s, const json_t *msg,
                             json_int_t id)
{
    json_t *users = json_object_get(msg, "users");
    size_t i;
    json_t *v;
    GPtrArray *added = g_ptr_array_new();

    if (s->subs == NULL)
        s->subs = g_ptr_array_new();
    if (s->subs->len + json_array_size(users) > ROUTER_MAX_SUBSCRIPTIONS) {
        r->ops.error(s->owner, id, PROTO_ERR_BAD_MESSAGE,
                     "too many presence subscriptions on one connection");
        g_ptr_array_free(added, TRUE);
        return;
    }
    json_array_foreach(users, i, v)
    {
        ruser *u = user_get(r, json_string_value(v), true);
        if (!g_ptr_array_find(s->subs, u, NULL)) {
            g_ptr_array_add(s->subs, u);
            g_ptr_array_add(u->subscribers, s);
        }
        if (!g_ptr_array_find(added, u, NULL))
            g_ptr_array_add(added, u);
    }
    send_msg(r, s, proto_ack_new(id));
    for (guint k = 0; k < added->len; k++) {
        ruser *u = added->pdata[k];
        if (u->sessions->len == 0)
            send_msg(r, s, presence_msg(u->name, NULL, false));
        for (guint j = 0; j < u->sessions->len; j++)
            send_msg(r, s, presence_msg(u->name, u->sessions->pdata[j], true));
    }
    g_ptr_array_free(added, TRUE);
}

void router_handle(router *r, rsession *s, proto_msg_type type,
                   const json_t *msg, json_int_t id, gint64 now_ms)
{
    switch (type) {
    case PROTO_MSG_PRESENCE_SUBSCRIBE:
        handle_subscribe(r, s, msg, id);
        break;
    case PROTO_MSG_CALL_INVITE:
        handle_invite(r, s, msg, id, now_ms);
        break;
    case PROTO_MSG_CALL_RINGING:
    case PROTO_MSG_CALL_ACCEPT:
    case PROTO_MSG_CALL_REJECT:
    case PROTO_MSG_CALL_CANDIDATE:
    case PROTO_MSG_CALL_HANGUP:
        handle_call(r, s, type, msg, id);
        break;
    default:
        r->ops.error(s->owner, id, PROTO_ERR_UNKNOWN_TYPE,
                     "not a message a client may send");
        break;
    }
}

/* ---- sessions ---- */

/* Detach @s: end its calls, drop subscriptions, leave its user. */
static void detach(router *r, rsession *s, bool announce_offline)
{
    end_calls_of(r, s);
    if (s->calls != NULL) {
        g_ptr_array_free(s->calls, TRUE);
        s->calls = NULL;
    }
    if (s->subs != NULL) {
        for (guint i = 0; i < s->subs->len; i++) {
            ruser *u = s->subs->pdata[i];
            g_ptr_array_remove_fast(u->subscribers, s);
            if (u != s->u)
                user_maybe_free(r, u);
        }
        g_ptr_array_free(s->subs, TRUE);
        s->subs = NULL;
    }
    if (s->u != NULL) {
        ruser *u = s->u;
        g_ptr_array_remove_fast(u->sessions, s);
        if (announce_offline)
            announce(r, s, false);
        s->u = NULL;
        user_maybe_free(r, u);
    }
    g_clear_pointer(&s->user, g_free);
    g_clear_pointer(&s->device, g_free);
    g_clear_pointer(&s->fingerprint, g_free);
}

void router_login(router *r, rsession *s, const char *user, const char *device,
                  const char *fingerprint)
{
    ruser *u = user_get(r, user, true);

    for (guint i = 0; i < u->sessions->len; i++) {
        rsession *old = u->sessions->pdata[i];
        if (strcmp(old->device, device) == 0) {
            r->ops.replaced(old->owner);
            detach(r, old, false);
            break;
        }
    }
    /* detach() may have freed u if nothing else referenced it. */
    u = user_get(r, user, true);
    s->user = g_strdup(user);
    s->device = g_strdup(device);
    s->fingerprint = g_strdup(fingerprint);
    s->u = u;
    g_ptr_array_add(u->sessions, s);
    announce(r, s, true);
}

void router_session_free(router *r, rsession *s)
{
    if (s == NULL)
        return;
    detach(r, s, true);
    g_free(s);
}
