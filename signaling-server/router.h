/*
 * router.h — presence and call routing, independent of the transport.
 *
 * The router knows sessions (one per logged-in connection), the users they
 * belong to, presence subscriptions and calls. It talks to connections only
 * through router_ops, so it runs the same under libwebsockets (server.c)
 * and in unit tests. Single-threaded: the loop thread owns it.
 */
#ifndef VSS_ROUTER_H
#define VSS_ROUTER_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>

#include "proto.h"

typedef struct router router;
typedef struct rsession rsession;

typedef struct {
    /* Queue @msg (borrowed) to the connection that owns a session. */
    void (*send)(void *owner, const json_t *msg);
    /* Answer request @re with an error (PROTO_ERR_* code). */
    void (*error)(void *owner, json_int_t re, const char *code,
                  const char *message);
    /* The same user and device logged in elsewhere: send
     * session_replaced and close. The router detaches the session right
     * after this call. */
    void (*replaced)(void *owner);
    /* Does @user have an account? */
    bool (*user_exists)(void *data, const char *user);
    void *data;
} router_ops;

#define ROUTER_MAX_CALLS_PER_SESSION 32
#define ROUTER_MAX_SUBSCRIPTIONS 1024

router *router_new(const router_ops *ops, int ring_timeout_s);
void router_free(router *r);

/* A session for the connection @owner; not logged in yet. */
rsession *router_session_new(void *owner);
/* Log out (ending its calls with peer_disconnected, presence offline)
 * and free. NULL is a no-op. */
void router_session_free(router *r, rsession *s);

/* Bind @s to @user/@device with its registered @fingerprint, replacing
 * another session of the same user and device, and announce it. */
void router_login(router *r, rsession *s, const char *user, const char *device,
                  const char *fingerprint);
bool router_session_logged_in(const rsession *s);
const char *router_session_user(const rsession *s);
const char *router_session_device(const rsession *s);

/* Handle a validated presence.subscribe or call.* message from @s. */
void router_handle(router *r, rsession *s, proto_msg_type type,
                   const json_t *msg, json_int_t id, gint64 now_ms);

/* End invites unanswered for ring_timeout. */
void router_expire(router *r, gint64 now_ms);

guint router_call_count(const router *r);
guint64 router_calls_routed(const router *r);

#endif
