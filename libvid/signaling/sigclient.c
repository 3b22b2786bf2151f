/*
 * sigclient.c — WebSocket signaling connection with login, presence
 * re-subscription and reconnect. See sigclient.h.
 */
#include "sigclient.h"

#include <stdio.h>
#include <string.h>

#include <libsoup/soup.h>

#include "backoff.h"
#include "util/util.h"
#include "vid-version.h"

#define SUBSCRIBE_CHUNK PROTO_MAX_SUBSCRIBE
#define CLOSE_NORMAL 1000
#define CLOSE_GOING_AWAY 1001
/* We ping the server every KEEPALIVE_S seconds; a connection that brings
 * nothing (no frame, no pong) for DEAD_AFTER_S seconds is dead (laptop
 * resumed, NAT binding gone) and is dropped and reconnected. */
#define KEEPALIVE_S 20
#define DEAD_AFTER_S 60

typedef enum {
    ST_IDLE,       /* no connection, none wanted */
    ST_CONNECTING, /* WebSocket handshake running */
    ST_OPEN,       /* WebSocket open (logged in or not) */
    ST_WAIT_RETRY, /* waiting for the back-off timer */
} conn_state;

struct sig_client {
    GMainContext *ctx;
    SoupSession *session;
    char *url;
    char *device;
    char *fingerprint;
    bool reconnect;
    unsigned int connect_timeout_ms;
    sig_event_fn fn;
    sig_id_fn id_fn;
    void *ud;

    conn_state state;
    bool stopping; /* sig_client_begin_close() was called */
    SoupWebsocketConnection *ws;
    GCancellable *cancel;
    SoupMessage *connect_msg; /* the handshake in flight (borrowed) */
    GSource *timeout_source;  /* connect timeout */
    GSource *retry_source;    /* back-off timer */
    GSource *liveness_source; /* checks last_rx while open */
    gint64 last_rx;           /* monotonic time of the last frame/pong */
    bool timed_out;
    unsigned int attempt;
    uint64_t rng;

    /* Credentials, kept for re-login until a login fails. */
    char *user;
    char *password;
    json_int_t login_wire_id; /* id of the login in flight, 0: none */
    json_int_t login_app_id;  /* the app's id for an explicit login */
    bool logged_in;

    GHashTable *subscribed;   /* user name -> NULL (set) */
    GHashTable *internal_ids; /* gint64* -> NULL: our own requests */

    /* Why the server is about to close us (from an error frame). */
    int pending_close_code;
    char *pending_close_message;
    bool pending_no_retry;
    char *ws_error; /* last "error" signal message */
};

static void start_connect(sig_client *sc);
static gboolean on_retry_timer(gpointer data);

static void emit(sig_client *sc, const sig_event *ev)
{
    sc->fn(sc->ud, ev);
}

static void emit_simple(sig_client *sc, sig_event_kind kind, int code,
                        const char *server_code, const char *message,
                        json_int_t request_id)
{
    sig_event ev = {0};

    ev.kind = kind;
    ev.code = code;
    ev.server_code = server_code;
    ev.message = message;
    ev.request_id = request_id;
    emit(sc, &ev);
}

int sig_status_from_server_code(const char *code)
{
    static const struct {
        const char *code;
        int status;
    } map[] = {
        {PROTO_ERR_BAD_JSON, VID_EPROTO},
        {PROTO_ERR_BAD_MESSAGE, VID_EPROTO},
        {PROTO_ERR_UNKNOWN_TYPE, VID_EPROTO},
        {PROTO_ERR_TOO_LARGE, VID_EPROTO},
        {PROTO_ERR_RATE_LIMITED, VID_ERATE},
        {PROTO_ERR_NOT_LOGGED_IN, VID_ESTATE},
        {PROTO_ERR_ALREADY_LOGGED_IN, VID_ESTATE},
        {PROTO_ERR_BAD_CREDENTIALS, VID_EAUTH},
        {PROTO_ERR_LOGIN_THROTTLED, VID_ETHROTTLED},
        {PROTO_ERR_FINGERPRINT_MISMATCH, VID_EIDENTITY},
        {PROTO_ERR_SESSION_REPLACED, VID_EREPLACED},
        {PROTO_ERR_UNKNOWN_USER, VID_ENOTFOUND},
        {PROTO_ERR_CALLEE_OFFLINE, VID_EOFFLINE},
        {PROTO_ERR_SELF_CALL, VID_EINVAL},
        {PROTO_ERR_NOT_IN_CALL, VID_ENOCALL},
        {PROTO_ERR_BAD_STATE, VID_ESTATE},
        {PROTO_ERR_TOO_MANY_CONNECTIONS, VID_ERATE},
        {PROTO_ERR_SHUTTING_DOWN, VID_ECLOSED},
        {PROTO_ERR_INTERNAL, VID_ESERVER},
    };

    if (code == NULL)
        return VID_EPROTO;
    for (size_t i = 0; i < G_N_ELEMENTS(map); i++) {
        if (strcmp(map[i].code, code) == 0)
            return map[i].status;
    }
    return VID_EPROTO;
}

static GSource *add_timeout(sig_client *sc, unsigned int ms, GSourceFunc fn)
{
    GSource *s = g_timeout_source_new(ms);

    g_source_set_callback(s, fn, sc, NULL);
    g_source_attach(s, sc->ctx);
    return s;
}

static void drop_source(GSource **s)
{
    if (*s != NULL) {
        g_source_destroy(*s);
        g_source_unref(*s);
        *s = NULL;
    }
}

static void wipe_credentials(sig_client *sc)
{
    if (sc->password != NULL) {
        util_wipe(sc->password, strlen(sc->password));
        g_free(sc->password);
        sc->password = NULL;
    }
}

static void clear_pending_close(sig_client *sc)
{
    sc->pending_close_code = 0;
    sc->pending_no_retry = false;
    g_clear_pointer(&sc->pending_close_message, g_free);
    g_clear_pointer(&sc->ws_error, g_free);
}

static void release_ws(sig_client *sc)
{
    drop_source(&sc->liveness_source);
    if (sc->ws != NULL) {
        g_signal_handlers_disconnect_by_data(sc->ws, sc);
        if (soup_websocket_connection_get_state(sc->ws) ==
            SOUP_WEBSOCKET_STATE_OPEN)
            soup_websocket_connection_close(sc->ws, CLOSE_NORMAL, NULL);
        g_clear_object(&sc->ws);
    }
}

/* The connection is gone (or never came up): tell the app, and schedule a
 * reconnect when we have credentials to log in again with. */
static void connection_lost(sig_client *sc, int code, const char *message,
                            bool allow_retry)
{
    sig_event ev = {0};
    bool retry;
    unsigned int delay = 0;

    release_ws(sc);
    drop_source(&sc->timeout_source);
    if (sc->cancel != NULL) {
        g_cancellable_cancel(sc->cancel);
        g_clear_object(&sc->cancel);
    }
    sc->logged_in = false;
    sc->login_wire_id = 0;
    g_hash_table_remove_all(sc->internal_ids);

    retry = sc->reconnect && allow_retry && sc->password != NULL;
    if (retry) {
        delay = backoff_delay_ms(sc->attempt, BACKOFF_BASE_MS, BACKOFF_CAP_MS,
                                 &sc->rng);
        if (sc->attempt < 64)
            sc->attempt++;
        sc->state = ST_WAIT_RETRY;
    } else {
        sc->state = ST_IDLE;
        sc->login_app_id = 0;
    }

    ev.kind = SIG_EV_DISCONNECTED;
    ev.code = code;
    ev.message = message;
    ev.will_reconnect = retry;
    ev.delay_ms = delay;
    emit(sc, &ev);
    clear_pending_close(sc);

    /* The timer is armed after the event so that the app learns about
     * the drop before the next attempt, even with a zero delay. */
    if (retry)
        sc->retry_source = add_timeout(sc, delay, on_retry_timer);
}

static gboolean on_retry_timer(gpointer data)
{
    sig_client *sc = data;

    g_clear_pointer(&sc->retry_source, g_source_unref);
    if (sc->state == ST_WAIT_RETRY)
        start_connect(sc);
    return G_SOURCE_REMOVE;
}

static bool send_text(sig_client *sc, const char *text)
{
    if (sc->ws == NULL || soup_websocket_connection_get_state(sc->ws) !=
                              SOUP_WEBSOCKET_STATE_OPEN)
        return false;
    soup_websocket_connection_send_text(sc->ws, text);
    return true;
}

static void remember_internal_id(sig_client *sc, json_int_t id)
{
    gint64 *key = g_new(gint64, 1);

    *key = id;
    g_hash_table_add(sc->internal_ids, key);
}

/* Send a request we built; failures here are bugs or out-of-memory. */
static bool send_built(sig_client *sc, json_t *msg)
{
    proto_error perr;
    char *text;
    bool ok;

    if (!proto_validate(msg, PROTO_TO_SERVER, NULL, &perr)) {
        g_warning("vid: refusing to send an invalid %s: %s",
                  json_string_value(json_object_get(msg, "type")),
                  perr.message);
        return false;
    }
    text = proto_dump(msg, NULL);
    if (text == NULL)
        return false;
    ok = send_text(sc, text);
    util_wipe(text, strlen(text)); /* may hold the password */
    free(text);
    return ok;
}

static void send_login(sig_client *sc)
{
    json_t *msg;
    json_int_t id;

    id = sc->login_app_id != 0 ? sc->login_app_id : sc->id_fn(sc->ud);
    msg = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s}", "type", "login",
                    "id", id, "user", sc->user, "password", sc->password,
                    "device", sc->device, "fingerprint", sc->fingerprint,
                    "client", "libvid " VID_VERSION);
    if (msg == NULL || !send_built(sc, msg)) {
        json_decref(msg);
        emit_simple(sc, SIG_EV_LOGIN_FAILED, VID_ENOMEM, NULL,
                    "could not build the login message", sc->login_app_id);
        sc->login_app_id = 0;
        return;
    }
    json_decref(msg);
    sc->login_wire_id = id;
}

/* After (re-)login: renew every presence subscription. */
static void resubscribe(sig_client *sc)
{
    GHashTableIter it;
    gpointer key;
    json_t *users = json_array();
    guint left = g_hash_table_size(sc->subscribed);

    g_hash_table_iter_init(&it, sc->subscribed);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        json_array_append_new(users, json_string(key));
        left--;
        if (json_array_size(users) == SUBSCRIBE_CHUNK || left == 0) {
            json_int_t id = sc->id_fn(sc->ud);
            json_t *msg =
                json_pack("{s:s, s:I, s:O}", "type", "presence.subscribe", "id",
                          id, "users", users);
            if (msg != NULL && send_built(sc, msg))
                remember_internal_id(sc, id);
            json_decref(msg);
            json_array_clear(users);
        }
    }
    json_decref(users);
}

static void handle_welcome(sig_client *sc, const json_t *msg, json_int_t re)
{
    sig_event ev = {0};

    if (re != sc->login_wire_id)
        return; /* stale */
    sc->logged_in = true;
    sc->login_wire_id = 0;
    sc->attempt = 0;
    ev.kind = SIG_EV_LOGGED_IN;
    ev.request_id = sc->login_app_id;
    ev.type = PROTO_MSG_WELCOME;
    ev.msg = msg;
    sc->login_app_id = 0;
    emit(sc, &ev);
    resubscribe(sc);
}

static void handle_error(sig_client *sc, const json_t *msg, json_int_t re)
{
    const char *code = json_string_value(json_object_get(msg, "code"));
    const char *text = json_string_value(json_object_get(msg, "message"));
    int status = sig_status_from_server_code(code);
    sig_event ev = {0};

    if (re != 0 && re == sc->login_wire_id) {
        ev.kind = SIG_EV_LOGIN_FAILED;
        ev.code = status;
        ev.server_code = code;
        ev.message = text;
        ev.request_id = sc->login_app_id;
        ev.retry_after =
            (int) json_integer_value(json_object_get(msg, "retry_after"));
        sc->login_wire_id = 0;
        sc->login_app_id = 0;
        /* Never retry a refused login by ourselves: wrong credentials
         * would only feed the server's throttling. */
        wipe_credentials(sc);
        emit(sc, &ev);
        return;
    }
    if (re != 0) {
        gint64 key = re;
        if (g_hash_table_remove(sc->internal_ids, &key)) {
            g_message("vid: server refused an automatic request: %s (%s)", text,
                      code);
            return;
        }
    }
    if (re == 0 && code != NULL &&
        (strcmp(code, PROTO_ERR_SESSION_REPLACED) == 0 ||
         strcmp(code, PROTO_ERR_SHUTTING_DOWN) == 0 ||
         strcmp(code, PROTO_ERR_TOO_MANY_CONNECTIONS) == 0)) {
        /* The server closes the connection next; report that reason. */
        sc->pending_close_code = status;
        g_free(sc->pending_close_message);
        sc->pending_close_message = g_strdup(text);
        sc->pending_no_retry = status == VID_EREPLACED;
        if (status == VID_EREPLACED)
            wipe_credentials(sc);
        return;
    }
    ev.kind = SIG_EV_REQUEST_FAILED;
    ev.code = status;
    ev.server_code = code;
    ev.message = text;
    ev.request_id = re;
    emit(sc, &ev);
}

static void on_ws_message(SoupWebsocketConnection *ws, gint type, GBytes *bytes,
                          gpointer data)
{
    sig_client *sc = data;
    json_t *msg = NULL;
    proto_msg_type mt;
    json_int_t unused;
    proto_error perr;
    gsize len;
    const char *buf;
    json_int_t re;

    sc->last_rx = g_get_monotonic_time();
    if (type != SOUP_WEBSOCKET_DATA_TEXT) {
        emit_simple(sc, SIG_EV_REQUEST_FAILED, VID_EPROTO, NULL,
                    "server sent a binary frame; ignored", 0);
        return;
    }
    buf = g_bytes_get_data(bytes, &len);
    if (!proto_parse(buf, len, PROTO_TO_CLIENT, &msg, &mt, &unused, &perr)) {
        char text[240];
        snprintf(text, sizeof text, "invalid frame from the server: %s",
                 perr.message);
        emit_simple(sc, SIG_EV_REQUEST_FAILED, VID_EPROTO, perr.code, text, 0);
        return;
    }
    re = json_integer_value(json_object_get(msg, "re"));
    switch (mt) {
    case PROTO_MSG_WELCOME:
        handle_welcome(sc, msg, re);
        break;
    case PROTO_MSG_ERROR:
        handle_error(sc, msg, re);
        break;
    case PROTO_MSG_ACK: {
        gint64 key = re;
        if (g_hash_table_remove(sc->internal_ids, &key))
            break;
    }
        /* fall through */
    default: {
        sig_event ev = {0};
        ev.kind = SIG_EV_MESSAGE;
        ev.type = mt;
        ev.msg = msg;
        ev.request_id = re;
        emit(sc, &ev);
        break;
    }
    }
    json_decref(msg);
}

static void on_ws_pong(SoupWebsocketConnection *ws, GBytes *message,
                       gpointer data)
{
    sig_client *sc = data;

    sc->last_rx = g_get_monotonic_time();
}

static gboolean on_liveness_check(gpointer data)
{
    sig_client *sc = data;
    char text[200];

    if (g_get_monotonic_time() - sc->last_rx <
        (gint64) DEAD_AFTER_S * G_USEC_PER_SEC)
        return G_SOURCE_CONTINUE;
    /* connection_lost() destroys this source: unref happens there. */
    snprintf(text, sizeof text,
             "no answer from %s for %d s: connection presumed dead", sc->url,
             DEAD_AFTER_S);
    connection_lost(sc, VID_ENETWORK, text, true);
    return G_SOURCE_REMOVE;
}

static void on_ws_error(SoupWebsocketConnection *ws, GError *error,
                        gpointer data)
{
    sig_client *sc = data;

    g_free(sc->ws_error);
    sc->ws_error = g_strdup(error->message);
}

static void on_ws_closed(SoupWebsocketConnection *ws, gpointer data)
{
    sig_client *sc = data;
    gushort close_code = soup_websocket_connection_get_close_code(ws);

    if (sc->stopping) {
        release_ws(sc);
        return;
    }
    const char *close_data = soup_websocket_connection_get_close_data(ws);
    char text[300];
    int code;
    bool retry = true;

    if (sc->pending_close_code != 0) {
        code = sc->pending_close_code;
        retry = !sc->pending_no_retry;
        snprintf(text, sizeof text, "%s",
                 sc->pending_close_message != NULL ? sc->pending_close_message
                                                   : vid_strerror(code));
    } else if (close_code == CLOSE_GOING_AWAY) {
        code = VID_ECLOSED;
        snprintf(text, sizeof text, "server closed the connection (%u%s%s)",
                 close_code, close_data != NULL && *close_data ? ": " : "",
                 close_data != NULL ? close_data : "");
    } else {
        code = VID_ENETWORK;
        if (sc->ws_error != NULL)
            snprintf(text, sizeof text, "connection to %s lost: %s", sc->url,
                     sc->ws_error);
        else
            snprintf(text, sizeof text,
                     "connection to %s lost (close code %u%s%s)", sc->url,
                     close_code, close_data != NULL && *close_data ? ": " : "",
                     close_data != NULL ? close_data : "");
    }
    connection_lost(sc, code, text, retry);
}

static void describe_tls_flags(GTlsCertificateFlags f, char *out, size_t cap)
{
    out[0] = '\0';
    if (f & G_TLS_CERTIFICATE_UNKNOWN_CA)
        g_strlcat(out, "issuer not trusted (wrong or missing CA), ", cap);
    if (f & G_TLS_CERTIFICATE_BAD_IDENTITY)
        g_strlcat(out, "certificate does not match the host name, ", cap);
    if (f & G_TLS_CERTIFICATE_NOT_ACTIVATED)
        g_strlcat(out, "certificate not yet valid, ", cap);
    if (f & G_TLS_CERTIFICATE_EXPIRED)
        g_strlcat(out, "certificate expired, ", cap);
    if (f & G_TLS_CERTIFICATE_REVOKED)
        g_strlcat(out, "certificate revoked, ", cap);
    if (f & G_TLS_CERTIFICATE_INSECURE)
        g_strlcat(out, "insecure algorithm, ", cap);
    if (f & G_TLS_CERTIFICATE_GENERIC_ERROR)
        g_strlcat(out, "certificate error, ", cap);
    size_t n = strlen(out);
    if (n >= 2)
        out[n - 2] = '\0';
}

/* A TLS failure that retrying cannot fix: the server's certificate or the
 * handshake itself was refused. A connection closed in the middle of the
 * handshake (G_TLS_ERROR_NOT_TLS "non-properly terminated", EOF, MISC) is
 * what a stopping or restarting server does to the connections still in
 * its listen queue: a network failure, retried with back-off like one. */
static bool tls_error_is_final(const GError *error)
{
    if (error == NULL || error->domain != G_TLS_ERROR)
        return false;
    switch (error->code) {
    case G_TLS_ERROR_NOT_TLS:
    case G_TLS_ERROR_EOF:
    case G_TLS_ERROR_MISC:
        return false;
    default:
        return true;
    }
}

static void on_connected(GObject *source, GAsyncResult *res, gpointer data)
{
    SoupMessage *msg = data;
    sig_client *sc;
    GError *error = NULL;
    SoupWebsocketConnection *ws;
    const char *proto;
    char text[400];

    ws = soup_session_websocket_connect_finish(SOUP_SESSION(source), res,
                                               &error);
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        /* Either sig_client_free() (sc may be gone: touch nothing) or
         * our connect timeout, which says so in the message's data. */
        sc = g_object_get_data(G_OBJECT(msg), "vid-sig-client");
        if (sc != NULL && sc->stopping) {
            g_object_set_data(G_OBJECT(msg), "vid-sig-client", NULL);
            sc->connect_msg = NULL;
            g_clear_object(&sc->cancel);
        } else if (sc != NULL) {
            g_object_set_data(G_OBJECT(msg), "vid-sig-client", NULL);
            sc->connect_msg = NULL;
            snprintf(text, sizeof text, "connecting to %s timed out", sc->url);
            connection_lost(sc, VID_ETIMEDOUT, text, true);
        }
        g_error_free(error);
        g_object_unref(msg);
        return;
    }
    sc = g_object_get_data(G_OBJECT(msg), "vid-sig-client");
    g_object_set_data(G_OBJECT(msg), "vid-sig-client", NULL);
    sc->connect_msg = NULL;
    g_clear_object(&sc->cancel);
    drop_source(&sc->timeout_source);

    if (ws == NULL) {
        GTlsCertificateFlags flags =
            soup_message_get_tls_peer_certificate_errors(msg);
        if (flags != 0 || tls_error_is_final(error)) {
            char why[200];
            describe_tls_flags(flags, why, sizeof why);
            snprintf(text, sizeof text, "TLS failed with %s: %s%s%s", sc->url,
                     why[0] != '\0' ? why : error->message,
                     why[0] != '\0' ? " — " : "",
                     why[0] != '\0' ? error->message : "");
            g_error_free(error);
            g_object_unref(msg);
            connection_lost(sc, VID_ETLS, text, false);
            return;
        }
        if (error->domain == G_TLS_ERROR)
            snprintf(text, sizeof text,
                     "connection to %s cut during the TLS handshake: %s",
                     sc->url, error->message);
        else if (soup_message_get_status(msg) != 0 &&
                 soup_message_get_status(msg) !=
                     SOUP_STATUS_SWITCHING_PROTOCOLS)
            snprintf(text, sizeof text,
                     "cannot open a WebSocket to %s: HTTP %u %s (%s)", sc->url,
                     soup_message_get_status(msg),
                     soup_message_get_reason_phrase(msg) != NULL
                         ? soup_message_get_reason_phrase(msg)
                         : "",
                     error->message);
        else
            snprintf(text, sizeof text, "cannot connect to %s: %s", sc->url,
                     error->message);
        g_error_free(error);
        g_object_unref(msg);
        connection_lost(sc, VID_ENETWORK, text, true);
        return;
    }
    g_object_unref(msg);

    sc->ws = ws;
    sc->state = ST_OPEN;
    soup_websocket_connection_set_max_incoming_payload_size(ws,
                                                            PROTO_MAX_FRAME);
    g_signal_connect(ws, "message", G_CALLBACK(on_ws_message), sc);
    g_signal_connect(ws, "error", G_CALLBACK(on_ws_error), sc);
    g_signal_connect(ws, "closed", G_CALLBACK(on_ws_closed), sc);
    g_signal_connect(ws, "pong", G_CALLBACK(on_ws_pong), sc);
    soup_websocket_connection_set_keepalive_interval(ws, KEEPALIVE_S);
    sc->last_rx = g_get_monotonic_time();
    sc->liveness_source = add_timeout(sc, 5000, on_liveness_check);

    proto = soup_websocket_connection_get_protocol(ws);
    if (proto == NULL || strcmp(proto, PROTO_SUBPROTOCOL) != 0) {
        snprintf(text, sizeof text,
                 "%s does not speak the %s protocol (offered %s)", sc->url,
                 PROTO_SUBPROTOCOL, proto != NULL ? proto : "none");
        connection_lost(sc, VID_EPROTO, text, false);
        return;
    }
    emit_simple(sc, SIG_EV_CONNECTED, VID_OK, NULL, NULL, 0);
    /* The event callback runs inline: it cannot have freed us (the client
     * layer only queues), but state may have changed. */
    if (sc->state == ST_OPEN && sc->password != NULL &&
        sc->login_wire_id == 0 && !sc->logged_in)
        send_login(sc);
}

static gboolean on_connect_timeout(gpointer data)
{
    sig_client *sc = data;

    g_clear_pointer(&sc->timeout_source, g_source_unref);
    /* on_connected() sees the cancellation and reports the timeout. */
    if (sc->cancel != NULL)
        g_cancellable_cancel(sc->cancel);
    return G_SOURCE_REMOVE;
}

static void start_connect(sig_client *sc)
{
    SoupMessage *msg;
    char *protocols[] = {(char *) PROTO_SUBPROTOCOL, NULL};
    char text[300];

    drop_source(&sc->retry_source);
    clear_pending_close(sc);
    msg = soup_message_new(SOUP_METHOD_GET, sc->url);
    if (msg == NULL) {
        snprintf(text, sizeof text, "invalid server URL %s", sc->url);
        connection_lost(sc, VID_EINVAL, text, false);
        return;
    }
    sc->state = ST_CONNECTING;
    sc->cancel = g_cancellable_new();
    g_object_set_data(G_OBJECT(msg), "vid-sig-client", sc);
    sc->connect_msg = msg;
    sc->timeout_source =
        add_timeout(sc, sc->connect_timeout_ms, on_connect_timeout);
    soup_session_websocket_connect_async(sc->session, msg, NULL, protocols,
                                         G_PRIORITY_DEFAULT, sc->cancel,
                                         on_connected, msg);
}

sig_client *sig_client_new(const sig_config *cfg, sig_event_fn fn,
                           sig_id_fn id_fn, void *user_data)
{
    sig_client *sc = g_new0(sig_client, 1);

    sc->ctx = g_main_context_ref_thread_default();
    sc->session =
        soup_session_new_with_options("user-agent", "libvid/" VID_VERSION,
                                      "timeout", 0, "idle-timeout", 0, NULL);
    if (cfg->tls_db != NULL)
        soup_session_set_tls_database(sc->session, cfg->tls_db);
    sc->url = g_strdup(cfg->url);
    sc->device = g_strdup(cfg->device);
    sc->fingerprint = g_strdup(cfg->fingerprint);
    sc->reconnect = cfg->reconnect;
    sc->rng = cfg->rng_seed;
    sc->connect_timeout_ms =
        cfg->connect_timeout_ms != 0 ? cfg->connect_timeout_ms : 15000;
    sc->fn = fn;
    sc->id_fn = id_fn;
    sc->ud = user_data;
    sc->state = ST_IDLE;
    sc->subscribed =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    sc->internal_ids =
        g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    return sc;
}

void sig_client_free(sig_client *sc)
{
    if (sc == NULL)
        return;
    drop_source(&sc->retry_source);
    drop_source(&sc->timeout_source);
    if (sc->cancel != NULL) {
        /* on_connected() will find no client attached and touch nothing. */
        if (sc->connect_msg != NULL)
            g_object_set_data(G_OBJECT(sc->connect_msg), "vid-sig-client",
                              NULL);
        sc->connect_msg = NULL;
        g_cancellable_cancel(sc->cancel);
        g_clear_object(&sc->cancel);
    }
    release_ws(sc);
    g_clear_object(&sc->session);
    wipe_credentials(sc);
    clear_pending_close(sc);
    g_free(sc->user);
    g_free(sc->url);
    g_free(sc->device);
    g_free(sc->fingerprint);
    g_hash_table_unref(sc->subscribed);
    g_hash_table_unref(sc->internal_ids);
    g_main_context_unref(sc->ctx);
    g_free(sc);
}

void sig_client_begin_close(sig_client *sc)
{
    sc->stopping = true;
    drop_source(&sc->retry_source);
    drop_source(&sc->timeout_source);
    if (sc->cancel != NULL)
        g_cancellable_cancel(sc->cancel);
    if (sc->ws != NULL) {
        if (soup_websocket_connection_get_state(sc->ws) ==
            SOUP_WEBSOCKET_STATE_OPEN)
            soup_websocket_connection_close(sc->ws, CLOSE_NORMAL, NULL);
        else if (soup_websocket_connection_get_state(sc->ws) ==
                 SOUP_WEBSOCKET_STATE_CLOSED)
            release_ws(sc);
    }
}

bool sig_client_is_closed(const sig_client *sc)
{
    return sc->ws == NULL && sc->connect_msg == NULL;
}

void sig_client_connect(sig_client *sc)
{
    if (sc->state == ST_IDLE || sc->state == ST_WAIT_RETRY)
        start_connect(sc);
}

void sig_client_login(sig_client *sc, const char *user, const char *password,
                      json_int_t request_id)
{
    if (sc->logged_in || sc->login_wire_id != 0) {
        emit_simple(sc, SIG_EV_LOGIN_FAILED, VID_ESTATE, NULL,
                    sc->logged_in ? "already logged in"
                                  : "a login is already in progress",
                    request_id);
        return;
    }
    wipe_credentials(sc);
    g_free(sc->user);
    sc->user = g_strdup(user);
    sc->password = g_strdup(password);
    sc->login_app_id = request_id;
    switch (sc->state) {
    case ST_OPEN:
        send_login(sc);
        break;
    case ST_IDLE:
    case ST_WAIT_RETRY:
        sc->attempt = 0;
        start_connect(sc);
        break;
    case ST_CONNECTING:
        break; /* sent when the connection opens */
    }
}

void sig_client_send(sig_client *sc, const char *text, json_int_t request_id)
{
    if (!sc->logged_in || !send_text(sc, text))
        emit_simple(sc, SIG_EV_REQUEST_FAILED, VID_ECLOSED, NULL,
                    "not sent: not logged in to the server (connection "
                    "closed?)",
                    request_id);
}

void sig_client_subscribe(sig_client *sc, const json_t *users, const char *text,
                          json_int_t request_id)
{
    size_t i;
    json_t *u;

    json_array_foreach(users, i, u)
    {
        g_hash_table_add(sc->subscribed, g_strdup(json_string_value(u)));
    }
    sig_client_send(sc, text, request_id);
}

bool sig_client_is_logged_in(const sig_client *sc)
{
    return sc->logged_in;
}
