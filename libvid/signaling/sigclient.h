/*
 * sigclient — the signaling connection: one libsoup-3.0 WebSocket (TLS
 * verified, subprotocol vid.v1) to vid-signaling-server, login with the
 * device fingerprint, presence subscriptions that survive reconnects, and
 * reconnect with exponential back-off and full jitter (backoff.h).
 *
 * Threading: a sig_client belongs to the thread whose thread-default
 * GMainContext was current at sig_client_new(); every function must be
 * called there, and the event function is called there too.
 *
 * Every frame received is checked by proto_parse(PROTO_TO_CLIENT); every
 * frame sent has been checked by proto_validate(PROTO_TO_SERVER) by the
 * caller (sig_client_send) or here (login, subscribe).
 *
 * May call: util, proto, libsoup, GLib.
 */
#ifndef VID_SIGCLIENT_H
#define VID_SIGCLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include <gio/gio.h>
#include <jansson.h>

#include "proto.h"

typedef struct sig_client sig_client;

typedef enum {
    SIG_EV_CONNECTED,      /* WebSocket open */
    SIG_EV_LOGGED_IN,      /* msg = welcome, request_id = app's id or 0 */
    SIG_EV_LOGIN_FAILED,   /* code, server_code, message, retry_after */
    SIG_EV_DISCONNECTED,   /* code, message, will_reconnect, delay_ms */
    SIG_EV_REQUEST_FAILED, /* request_id (0: none), code, server_code,
                              message */
    SIG_EV_MESSAGE,        /* type, msg: ack (app requests), presence,
                              call.* */
} sig_event_kind;

typedef struct {
    sig_event_kind kind;
    int code;
    const char *server_code;
    const char *message;
    int retry_after;
    bool will_reconnect;
    unsigned int delay_ms;
    json_int_t request_id;
    proto_msg_type type;
    const json_t *msg; /* borrowed for the call */
} sig_event;

typedef void (*sig_event_fn)(void *user_data, const sig_event *ev);
/* Allocates request ids; must be callable from any thread. */
typedef json_int_t (*sig_id_fn)(void *user_data);

typedef struct {
    const char *url;         /* wss://... */
    GTlsDatabase *tls_db;    /* NULL: system CAs */
    const char *device;      /* this device's name */
    const char *fingerprint; /* this device's identity */
    bool reconnect;
    uint64_t rng_seed; /* jitter of the back-off */
    unsigned int connect_timeout_ms;
} sig_config;

/* Create (idle; nothing happens until connect or login). Strings copied. */
sig_client *sig_client_new(const sig_config *cfg, sig_event_fn fn,
                           sig_id_fn id_fn, void *user_data);

/* Close the connection (politely, code 1000), cancel everything, free.
 * No event is emitted. NULL is a no-op. */
void sig_client_free(sig_client *sc);

/* Start a polite shutdown: cancel a connection attempt and timers, send
 * a close frame (1000). No more events are emitted. Iterate the context
 * until sig_client_is_closed() (or a deadline), then sig_client_free(). */
void sig_client_begin_close(sig_client *sc);
bool sig_client_is_closed(const sig_client *sc);

/* Open the connection if it is not open or opening. */
void sig_client_connect(sig_client *sc);

/* Remember credentials and log in (connecting first when needed). The
 * answer carries @request_id. */
void sig_client_login(sig_client *sc, const char *user, const char *password,
                      json_int_t request_id);

/* Send one validated, serialized request whose "id" is @request_id.
 * Fails with SIG_EV_REQUEST_FAILED (VID_ECLOSED) when not logged in. */
void sig_client_send(sig_client *sc, const char *text, json_int_t request_id);

/* Remember @users (a JSON array of names) for re-subscription after a
 * reconnect, then send @text like sig_client_send(). */
void sig_client_subscribe(sig_client *sc, const json_t *users, const char *text,
                          json_int_t request_id);

bool sig_client_is_logged_in(const sig_client *sc);

/* Map a server error code (PROTO_ERR_*) to a VID_E* status. */
int sig_status_from_server_code(const char *code);

#endif /* VID_SIGCLIENT_H */
