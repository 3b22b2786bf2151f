/*
 * server.c — libwebsockets glue: TLS WebSocket vhost (vid.v1), admin HTTP
 * vhost, connections, frames, limits, login on the worker pool, timers and
 * signals. Routing itself is in router.c.
 */
#include "server.h"

#include <libwebsockets.h>
#include <openssl/ssl.h>
#include <sodium.h>
#include <string.h>
#include <sys/resource.h>
#include <uv.h>

#include "auth.h"
#include "db.h"
#include "ratelimit.h"
#include "log.h"
#include "metrics.h"
#include "proto.h"
#include "router.h"
#include "tls.h"
#include "turn.h"
#include "vid-version.h"

#define WS_CLOSE_TRY_AGAIN_LATER 1013
#define SHUTDOWN_GRACE_MS 2000
#define DISCARD_MAX (1024 * 1024)
/* lws allocates this per connection at the upgrade; frames arrive in chunks
 * of at most this size and are reassembled in handle_rx(). */
#define WS_RX_BUFFER 1024
/* lws 4.1 keeps LWS_WRITE_CLOSE private; its value is the one before PING. */
#define WS_WRITE_CLOSE ((enum lws_write_protocol)(LWS_WRITE_PING - 1))

typedef struct server server;

typedef struct outmsg {
    size_t len;
    unsigned char buf[]; /* LWS_PRE + len */
} outmsg;

typedef struct conn {
    server *srv;
    struct lws *wsi; /* NULL once closed */
    int refs;
    rsession *sess;
    GList all_link;
    GList login_link; /* in srv->awaiting_login while not logged in */
    gint64 connected_ms;
    gint64 last_rx_ms; /* keepalive: srv->all is ordered by this */
    bool ping_pending;
    bool ping_sent;
    token_bucket bucket;
    int rejected_in_row;
    GByteArray *rx; /* fragments of the message being received */
    bool rx_binary;
    size_t discarding; /* bytes of an oversize message skipped so far */
    bool login_running;
    bool counted_addr;
    GQueue out; /* outmsg* */
    size_t out_bytes;
    int close_code; /* != 0: close once the queue is flushed */
    bool close_sent;
    const char *close_reason;
    char addr[64];
} conn;

struct server {
    const server_config *cfg;
    uv_loop_t loop;
    struct lws_context *ctx;
    vss_db *db;
    router *router;
    throttle *throttle;
    metrics m;
    char dummy_hash[AUTH_HASH_MAX];
    GHashTable *per_addr; /* address -> open connection count */
    GQueue all;           /* conn*, every open connection */
    GQueue awaiting_login;
    lws_retry_bo_t no_validity; /* all zero: lws arms no validity timers */
    uv_timer_t tick;
    uv_timer_t shutdown_timer;
    uv_signal_t sigterm;
    uv_signal_t sigint;
    gint64 shutdown_started_ms;
    guint ticks;
    int logins_pending; /* password checks queued or running */
    bool stopping;
    bool destroyed;
};

typedef struct {
    conn *c;
} ws_pss;

typedef struct {
    char *body; /* LWS_PRE + body_len bytes */
    size_t body_len;
} admin_pss;

static gint64 now_ms(void)
{
    return g_get_monotonic_time() / 1000;
}

/* ---- connections ---- */

static conn *conn_ref(conn *c)
{
    c->refs++;
    return c;
}

static void conn_unref(conn *c)
{
    if (--c->refs > 0)
        return;
    g_free(c);
}

static void conn_drop_queue(conn *c)
{
    outmsg *m;
    while ((m = g_queue_pop_head(&c->out)) != NULL)
        g_free(m);
    c->out_bytes = 0;
}

static void conn_schedule_close(conn *c, int code, const char *reason)
{
    if (c->wsi == NULL || c->close_code != 0)
        return;
    c->close_code = code;
    c->close_reason = reason;
    lws_callback_on_writable(c->wsi);
}

/* One loop thread: a single staging buffer for direct writes. */
static unsigned char direct_buf[LWS_PRE + PROTO_MAX_FRAME];

static void conn_send_text(conn *c, const char *text, size_t len)
{
    outmsg *m;

    if (c->wsi == NULL || c->close_code != 0)
        return;
    if (c->out_bytes + len > c->srv->cfg->max_queue) {
        LOG_WARNING(c->addr, NULL, NULL, NULL,
                    "send queue over %zu bytes, closing a slow client",
                    c->srv->cfg->max_queue);
        conn_drop_queue(c);
        conn_schedule_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                            "send queue full");
        return;
    }
    if (g_queue_is_empty(&c->out) && !lws_partial_buffered(c->wsi) &&
        len <= sizeof direct_buf - LWS_PRE) {
        /* Nothing queued: write now instead of asking for a writeable
         * callback, which costs two epoll_ctl calls and a loop iteration
         * per message. lws buffers a truncated write itself. */
        memcpy(direct_buf + LWS_PRE, text, len);
        if (lws_write(c->wsi, direct_buf + LWS_PRE, len, LWS_WRITE_TEXT) <
            (int) len) {
            conn_drop_queue(c);
            c->close_code = LWS_CLOSE_STATUS_ABNORMAL_CLOSE;
            lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND,
                            LWS_TO_KILL_ASYNC);
        }
        return;
    }
    m = g_malloc(sizeof *m + LWS_PRE + len);
    m->len = len;
    memcpy(m->buf + LWS_PRE, text, len);
    g_queue_push_tail(&c->out, m);
    c->out_bytes += len;
    lws_callback_on_writable(c->wsi);
}

static void conn_send(conn *c, const json_t *msg)
{
    size_t len = 0;
    char *text;

    if (c->wsi == NULL || c->close_code != 0)
        return;
#ifndef NDEBUG
    {
        proto_error err = {0};
        if (!proto_validate(msg, PROTO_TO_CLIENT, NULL, &err))
            g_critical("server built an invalid message: %s: %s", err.code,
                       err.message);
    }
#endif
    text = proto_dump(msg, &len);
    if (text == NULL)
        return;
    conn_send_text(c, text, len);
    free(text);
}

static void conn_error(conn *c, json_int_t re, const char *code,
                       const char *message)
{
    json_t *e = proto_error_new(re, code, message);
    metrics_reject(&c->srv->m, code);
    conn_send(c, e);
    json_decref(e);
}

static void conn_error_close(conn *c, int ws_code, const char *code,
                             const char *message)
{
    conn_error(c, 0, code, message);
    conn_schedule_close(c, ws_code, code);
}

/* ---- router glue ---- */

static void r_send(void *owner, const json_t *msg)
{
    conn_send(owner, msg);
}

static void r_error(void *owner, json_int_t re, const char *code,
                    const char *message)
{
    conn_error(owner, re, code, message);
}

static void r_replaced(void *owner)
{
    conn *c = owner;
    LOG_INFO(c->addr, router_session_user(c->sess), NULL, NULL,
             "session replaced by a new login of the same device");
    c->srv->m.sessions--;
    conn_error_close(c, LWS_CLOSE_STATUS_NORMAL, PROTO_ERR_SESSION_REPLACED,
                     "the same user and device logged in elsewhere");
}

static bool r_user_exists(void *data, const char *user)
{
    server *s = data;
    return db_user_exists(s->db, user);
}

/* ---- login ---- */

typedef struct {
    uv_work_t req;
    conn *c;
    json_int_t id;
    char *user;
    char *device;
    char *fingerprint;
    char *password;
    char *hash;
    bool known;
    bool ok;
} login_job;

static void login_work(uv_work_t *req)
{
    login_job *j = req->data;
    /* Unknown users are verified against a dummy hash: same cost. */
    j->ok = auth_verify(j->hash, j->password) && j->known;
}

static json_t *welcome_new(server *s, json_int_t re, const char *user,
                           const char *device)
{
    const server_config *cfg = s->cfg;
    json_t *servers = json_array();
    json_t *policy;
    json_t *rate;
    gint64 expires = g_get_real_time() / G_USEC_PER_SEC + cfg->turn_ttl;
    bool has_turn = cfg->turn_urls != NULL && cfg->turn_urls[0] != NULL;

    if (cfg->stun_urls != NULL && cfg->stun_urls[0] != NULL) {
        json_t *urls = json_array();
        for (int i = 0; cfg->stun_urls[i] != NULL; i++)
            json_array_append_new(urls, json_string(cfg->stun_urls[i]));
        json_array_append_new(servers, json_pack("{s:o}", "urls", urls));
    }
    if (has_turn) {
        json_t *urls = json_array();
        char *username = NULL;
        char *credential = NULL;
        for (int i = 0; cfg->turn_urls[i] != NULL; i++)
            json_array_append_new(urls, json_string(cfg->turn_urls[i]));
        if (turn_rest_credentials(cfg->turn_secret, user, expires, &username,
                                  &credential)) {
            json_array_append_new(servers, json_pack("{s:o, s:s, s:s}", "urls",
                                                     urls, "username", username,
                                                     "credential", credential));
        } else {
            json_decref(urls);
        }
        g_free(username);
        g_free(credential);
    }
    /* rate is an integer on the wire unless the admin set a fraction */
    rate = cfg->rate == (double) (json_int_t) cfg->rate
               ? json_integer((json_int_t) cfg->rate)
               : json_real(cfg->rate);
    policy = json_pack("{s:o, s:s, s:i, s:i, s:{s:i, s:o, s:i}}", "ice_servers",
                       servers, "ice_transport_policy",
                       cfg->relay_only ? "relay" : "all", "media_port_min",
                       cfg->media_port_min, "media_port_max",
                       cfg->media_port_max, "limits", "max_frame",
                       PROTO_MAX_FRAME, "rate", rate, "burst", cfg->burst);
    if (has_turn)
        json_object_set_new(policy, "credential_expires",
                            json_integer(expires));
    return json_pack("{s:s, s:I, s:s, s:s, s:s, s:o}", "type", "welcome", "re",
                     (json_int_t) re, "user", user, "device", device, "server",
                     "vid-signaling-server " VID_VERSION, "policy", policy);
}

static void login_finish(conn *c, login_job *j)
{
    server *s = c->srv;
    GError *err = NULL;
    char *old_fp = NULL;
    json_t *w;

    if (!j->ok) {
        throttle_failure(s->throttle, j->user, c->addr, now_ms());
        s->m.logins_failed++;
        LOG_INFO(c->addr, j->user, j->device, NULL, "login failed");
        conn_error(c, j->id, PROTO_ERR_BAD_CREDENTIALS,
                   "unknown user or wrong password");
        return;
    }
    if (!db_device_fingerprint(s->db, j->user, j->device, &old_fp, &err))
        goto internal;
    if (old_fp != NULL && strcmp(old_fp, j->fingerprint) != 0) {
        if (s->cfg->identity_reject) {
            LOG_WARNING(c->addr, j->user, j->device, NULL,
                        "login refused: device identity changed");
            conn_error(c, j->id, PROTO_ERR_FINGERPRINT_MISMATCH,
                       "this device is registered with another identity key");
            g_free(old_fp);
            return;
        }
        LOG_WARNING(c->addr, j->user, j->device, NULL,
                    "device identity changed; new fingerprint registered");
    }
    g_free(old_fp);
    if (!db_device_seen(s->db, j->user, j->device, j->fingerprint, &err))
        goto internal;
    throttle_success(s->throttle, j->user);
    if (c->login_link.data != NULL) {
        g_queue_unlink(&s->awaiting_login, &c->login_link);
        c->login_link.data = NULL;
    }
    router_login(s->router, c->sess, j->user, j->device, j->fingerprint);
    s->m.logins_ok++;
    s->m.sessions++;
    LOG_INFO(c->addr, j->user, j->device, NULL, "login ok");
    w = welcome_new(s, j->id, j->user, j->device);
    conn_send(c, w);
    json_decref(w);
    return;
internal:
    LOG_WARNING(c->addr, j->user, j->device, NULL, "login: %s", err->message);
    g_error_free(err);
    conn_error(c, j->id, PROTO_ERR_INTERNAL, "server database error");
}

static void login_after(uv_work_t *req, int status)
{
    login_job *j = req->data;
    conn *c = j->c;

    c->login_running = false;
    c->srv->logins_pending--;
    if (c->wsi != NULL && !c->srv->stopping && status == 0)
        login_finish(c, j);
    sodium_memzero(j->password, strlen(j->password));
    g_free(j->password);
    g_free(j->hash);
    g_free(j->user);
    g_free(j->device);
    g_free(j->fingerprint);
    g_free(j);
    conn_unref(c);
}

static void handle_login(conn *c, const json_t *msg, json_int_t id)
{
    server *s = c->srv;
    const char *user = json_string_value(json_object_get(msg, "user"));
    GError *err = NULL;
    char *hash = NULL;
    login_job *j;
    int wait;

    wait = throttle_check(s->throttle, user, c->addr, now_ms());
    if (wait > 0) {
        json_t *e = proto_error_new(id, PROTO_ERR_LOGIN_THROTTLED,
                                    "too many failed logins; try later");
        json_object_set_new(e, "retry_after", json_integer(wait));
        s->m.logins_throttled++;
        metrics_reject(&s->m, PROTO_ERR_LOGIN_THROTTLED);
        LOG_INFO(c->addr, user, NULL, NULL, "login throttled for %d s", wait);
        conn_send(c, e);
        json_decref(e);
        return;
    }
    if (s->logins_pending >= s->cfg->max_pending_logins) {
        json_t *e = proto_error_new(id, PROTO_ERR_LOGIN_THROTTLED,
                                    "the server is busy checking other "
                                    "logins; try again shortly");
        json_object_set_new(e, "retry_after", json_integer(1));
        s->m.logins_throttled++;
        metrics_reject(&s->m, PROTO_ERR_LOGIN_THROTTLED);
        conn_send(c, e);
        json_decref(e);
        return;
    }
    if (!db_user_hash(s->db, user, &hash, &err)) {
        LOG_WARNING(c->addr, user, NULL, NULL, "login: %s", err->message);
        g_error_free(err);
        conn_error(c, id, PROTO_ERR_INTERNAL, "server database error");
        return;
    }
    j = g_new0(login_job, 1);
    j->req.data = j;
    j->c = conn_ref(c);
    j->id = id;
    j->user = g_strdup(user);
    j->device = g_strdup(json_string_value(json_object_get(msg, "device")));
    j->fingerprint =
        g_strdup(json_string_value(json_object_get(msg, "fingerprint")));
    j->password = g_strdup(json_string_value(json_object_get(msg, "password")));
    j->known = hash != NULL;
    j->hash = hash != NULL ? hash : g_strdup(s->dummy_hash);
    c->login_running = true;
    s->logins_pending++;
    if (uv_queue_work(&s->loop, &j->req, login_work, login_after) != 0) {
        c->login_running = false;
        login_after(&j->req, -1);
        conn_error(c, id, PROTO_ERR_INTERNAL, "cannot queue the login");
    }
}

/* ---- frames ---- */

static void handle_frame(conn *c, const char *data, size_t len, bool binary)
{
    server *s = c->srv;
    const server_config *cfg = s->cfg;
    json_t *msg = NULL;
    proto_msg_type type = PROTO_MSG_UNKNOWN;
    json_int_t id = 0;
    proto_error err = {0};

    s->m.messages++;
    if (!bucket_take(&c->bucket, cfg->rate, cfg->burst, (uint32_t) now_ms())) {
        if (++c->rejected_in_row >= cfg->flood_close) {
            LOG_INFO(c->addr, router_session_user(c->sess), NULL, NULL,
                     "closing a flooding connection");
            conn_error_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                             PROTO_ERR_RATE_LIMITED,
                             "message flood: closing the connection");
        } else {
            conn_error(c, 0, PROTO_ERR_RATE_LIMITED,
                       "too many messages; this one was dropped");
        }
        return;
    }
    c->rejected_in_row = 0;
    if (binary) {
        conn_error(c, 0, PROTO_ERR_BAD_JSON,
                   "binary frames are not accepted; send JSON text");
        return;
    }
    if (!proto_parse(data, len, PROTO_TO_SERVER, &msg, &type, &id, &err)) {
        conn_error(c, id, err.code, err.message);
        return;
    }
    if (!router_session_logged_in(c->sess)) {
        if (type != PROTO_MSG_LOGIN)
            conn_error(c, id, PROTO_ERR_NOT_LOGGED_IN, "log in first");
        else if (c->login_running)
            conn_error(c, id, PROTO_ERR_ALREADY_LOGGED_IN,
                       "a login is already in progress");
        else
            handle_login(c, msg, id);
    } else if (type == PROTO_MSG_LOGIN) {
        conn_error(c, id, PROTO_ERR_ALREADY_LOGGED_IN,
                   "this connection is logged in");
    } else {
        router_handle(s->router, c->sess, type, msg, id, now_ms());
    }
    json_decref(msg);
}

static void handle_rx(conn *c, struct lws *wsi, const char *in, size_t len)
{
    bool final = lws_is_final_fragment(wsi);
    bool binary = lws_frame_is_binary(wsi);
    bool in_message = c->rx != NULL && c->rx->len > 0;

    if (c->close_code != 0)
        return;
    if (c->discarding > 0) {
        /* Read the rest of an oversize message before closing, so that
         * the peer is reading when the error and the close frame come. */
        c->discarding += len;
        if (final || c->discarding > DISCARD_MAX)
            conn_schedule_close(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                                PROTO_ERR_TOO_LARGE);
        return;
    }
    if (!in_message && final) {
        if (len > PROTO_MAX_FRAME)
            goto too_large;
        handle_frame(c, in, len, binary);
        return;
    }
    if (!in_message)
        c->rx_binary = binary;
    if ((in_message ? c->rx->len : 0) + len > PROTO_MAX_FRAME)
        goto too_large;
    if (c->rx == NULL)
        c->rx = g_byte_array_sized_new((guint) MAX(len * 2, 1024));
    g_byte_array_append(c->rx, (const guint8 *) in, (guint) len);
    if (final) {
        handle_frame(c, (const char *) c->rx->data, c->rx->len, c->rx_binary);
        /* Idle connections keep no receive buffer. */
        g_byte_array_unref(c->rx);
        c->rx = NULL;
    }
    return;
too_large:
    if (c->rx != NULL) {
        g_byte_array_unref(c->rx);
        c->rx = NULL;
    }
    c->srv->m.messages++;
    conn_error(c, 0, PROTO_ERR_TOO_LARGE, "frames are limited to 65536 bytes");
    c->discarding = len;
    if (final)
        conn_schedule_close(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                            PROTO_ERR_TOO_LARGE);
}

static void conn_established(server *s, struct lws *wsi, ws_pss *pss)
{
    conn *c = g_new0(conn, 1);
    guint n;

    c->srv = s;
    c->wsi = wsi;
    c->refs = 1;
    c->sess = router_session_new(c);
    c->connected_ms = now_ms();
    c->last_rx_ms = c->connected_ms;
    bucket_init(&c->bucket, s->cfg->burst, (uint32_t) c->connected_ms);
    {
        /* Idle TLS connections keep no OpenSSL record buffers. */
        SSL *ssl = lws_get_ssl(wsi);
        if (ssl != NULL)
            SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
    }
    if (lws_get_peer_simple(wsi, c->addr, sizeof c->addr) == NULL)
        g_strlcpy(c->addr, "?", sizeof c->addr);
    pss->c = c;
    c->all_link.data = c;
    g_queue_push_tail_link(&s->all, &c->all_link);
    c->login_link.data = c;
    g_queue_push_tail_link(&s->awaiting_login, &c->login_link);
    s->m.connections++;

    n = GPOINTER_TO_UINT(g_hash_table_lookup(s->per_addr, c->addr)) + 1;
    g_hash_table_insert(s->per_addr, g_strdup(c->addr), GUINT_TO_POINTER(n));
    c->counted_addr = true;
    if (s->stopping) {
        conn_error_close(c, LWS_CLOSE_STATUS_GOINGAWAY, PROTO_ERR_SHUTTING_DOWN,
                         "the server is stopping");
    } else if ((int) n > s->cfg->max_per_address) {
        LOG_INFO(c->addr, NULL, NULL, NULL,
                 "connection refused: %u from this address", n);
        conn_error_close(c, WS_CLOSE_TRY_AGAIN_LATER,
                         PROTO_ERR_TOO_MANY_CONNECTIONS,
                         "too many connections from your address");
    }
}

static void conn_closed(server *s, ws_pss *pss)
{
    conn *c = pss->c;

    if (c == NULL)
        return;
    pss->c = NULL;
    if (router_session_logged_in(c->sess))
        s->m.sessions--;
    router_session_free(s->router, c->sess);
    c->sess = NULL;
    c->wsi = NULL;
    g_queue_unlink(&s->all, &c->all_link);
    if (c->login_link.data != NULL)
        g_queue_unlink(&s->awaiting_login, &c->login_link);
    c->login_link.data = NULL;
    if (c->counted_addr) {
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(s->per_addr, c->addr));
        if (n <= 1)
            g_hash_table_remove(s->per_addr, c->addr);
        else
            g_hash_table_insert(s->per_addr, g_strdup(c->addr),
                                GUINT_TO_POINTER(n - 1));
    }
    if (c->rx != NULL)
        g_byte_array_unref(c->rx);
    c->rx = NULL;
    conn_drop_queue(c);
    s->m.connections--;
    conn_unref(c);
}

/* Any frame from the peer: it is alive. Keeps srv->all ordered by
 * last_rx_ms (least recently active first), O(1). */
static void conn_activity(conn *c)
{
    server *s = c->srv;

    c->last_rx_ms = now_ms();
    c->ping_sent = false;
    if (s->all.tail != &c->all_link) {
        g_queue_unlink(&s->all, &c->all_link);
        g_queue_push_tail_link(&s->all, &c->all_link);
    }
}

static int conn_writeable(struct lws *wsi, conn *c)
{
    outmsg *m = g_queue_pop_head(&c->out);

    if (m != NULL) {
        int n = lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
        c->out_bytes -= m->len;
        g_free(m);
        if (n < 0)
            return -1;
        if (!g_queue_is_empty(&c->out) || c->close_code != 0)
            lws_callback_on_writable(wsi);
        return 0;
    }
    if (c->ping_pending && c->close_code == 0) {
        /* lws 4.1 does not pass a zero-length PONG to the callback, so
         * the ping carries a payload. */
        unsigned char pb[LWS_PRE + 4];
        memcpy(pb + LWS_PRE, "vid1", 4);
        c->ping_pending = false;
        if (lws_write(wsi, pb + LWS_PRE, 4, LWS_WRITE_PING) < 0)
            return -1;
        return 0;
    }
    if (c->close_code != 0 && !c->close_sent) {
        /* Send the close frame ourselves: with lws 4.1 on libuv, returning
         * -1 after lws_close_reason() drops the socket without it. The
         * peer's close echo ends the connection; a timeout is the
         * fallback. */
        unsigned char buf[LWS_PRE + 2 + 64];
        const char *r = c->close_reason ? c->close_reason : "";
        size_t rl = MIN(strlen(r), (size_t) 64);
        buf[LWS_PRE] = (unsigned char) (c->close_code >> 8);
        buf[LWS_PRE + 1] = (unsigned char) (c->close_code & 0xff);
        memcpy(buf + LWS_PRE + 2, r, rl);
        c->close_sent = true;
        if (lws_write(wsi, buf + LWS_PRE, 2 + rl, WS_WRITE_CLOSE) < 0)
            return -1;
        lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_ACK, 3);
        return 0;
    }
    return 0;
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason,
                       void *user, void *in, size_t len)
{
    struct lws_vhost *vh = lws_get_vhost(wsi);
    server *s = vh ? lws_get_vhost_user(vh) : NULL;
    ws_pss *pss = user;

    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
        conn_established(s, wsi, pss);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        if (pss->c != NULL) {
            conn_activity(pss->c);
            handle_rx(pss->c, wsi, in, len);
        }
        return 0;
    case LWS_CALLBACK_RECEIVE_PONG:
        if (pss->c != NULL)
            conn_activity(pss->c);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (pss->c == NULL)
            return 0;
        return conn_writeable(wsi, pss->c);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        /* The peer answers our close frame: do not send a second one. */
        if (pss->c != NULL && pss->c->close_sent)
            return -1;
        return 0;
    case LWS_CALLBACK_CLOSED:
        conn_closed(s, pss);
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ---- admin vhost ---- */

static int admin_callback(struct lws *wsi, enum lws_callback_reasons reason,
                          void *user, void *in, size_t len)
{
    struct lws_vhost *vh = lws_get_vhost(wsi);
    server *s = vh ? lws_get_vhost_user(vh) : NULL;
    admin_pss *pss = user;
    unsigned char hdr[LWS_PRE + 512];
    unsigned char *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof hdr;

    switch (reason) {
    case LWS_CALLBACK_HTTP: {
        const char *uri = in;
        unsigned int status = HTTP_STATUS_OK;
        const char *type = "text/plain; charset=utf-8";
        char *text;

        if (strcmp(uri, "/healthz") == 0) {
            text = g_strdup(s->stopping ? "stopping\n" : "ok\n");
            if (s->stopping)
                status = HTTP_STATUS_SERVICE_UNAVAILABLE;
        } else if (strcmp(uri, "/metrics") == 0) {
            s->m.calls_routed = router_calls_routed(s->router);
            text = metrics_render(&s->m);
            type = "text/plain; version=0.0.4; charset=utf-8";
        } else {
            text = g_strdup("not found\n");
            status = HTTP_STATUS_NOT_FOUND;
        }
        pss->body_len = strlen(text);
        pss->body = g_malloc(LWS_PRE + pss->body_len);
        memcpy(pss->body + LWS_PRE, text, pss->body_len);
        g_free(text);
        if (lws_add_http_common_headers(wsi, status, type, pss->body_len, &p,
                                        end) ||
            lws_finalize_write_http_header(wsi, start, &p, end))
            return 1;
        lws_callback_on_writable(wsi);
        return 0;
    }
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (pss->body == NULL)
            break;
        if (lws_write(wsi, (unsigned char *) pss->body + LWS_PRE, pss->body_len,
                      LWS_WRITE_HTTP_FINAL) != (int) pss->body_len)
            return 1;
        g_clear_pointer(&pss->body, g_free);
        if (lws_http_transaction_completed(wsi))
            return -1;
        return 0;
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_CLOSED_HTTP:
        if (pss != NULL)
            g_clear_pointer(&pss->body, g_free);
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols ws_protocols[] = {
    {PROTO_SUBPROTOCOL, ws_callback, sizeof(ws_pss), WS_RX_BUFFER, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static const struct lws_protocols admin_protocols[] = {
    {"http", admin_callback, sizeof(admin_pss), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- timers, signals, lifecycle ---- */

static void tick_cb(uv_timer_t *t)
{
    server *s = t->data;
    gint64 now = now_ms();
    conn *c;

    while ((c = g_queue_peek_head(&s->awaiting_login)) != NULL &&
           now - c->connected_ms >= s->cfg->login_timeout * 1000LL) {
        g_queue_unlink(&s->awaiting_login, &c->login_link);
        if (c->login_running) {
            /* Hashing still running: give it another period. */
            c->connected_ms = now;
            g_queue_push_tail_link(&s->awaiting_login, &c->login_link);
            continue;
        }
        c->login_link.data = NULL;
        LOG_INFO(c->addr, NULL, NULL, NULL, "login timeout");
        conn_schedule_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                            "login timeout");
    }
    /* Keepalive: walk the least recently active connections only. */
    for (GList *l = s->all.head; l != NULL; l = l->next) {
        conn *k = l->data;
        gint64 idle = now - k->last_rx_ms;
        if (idle < s->cfg->ping_interval * 1000LL)
            break;
        if (idle >= s->cfg->idle_timeout * 1000LL) {
            conn_schedule_close(k, LWS_CLOSE_STATUS_GOINGAWAY, "idle timeout");
        } else if (!k->ping_sent && k->wsi != NULL) {
            k->ping_sent = true;
            k->ping_pending = true;
            lws_callback_on_writable(k->wsi);
        }
    }
    router_expire(s->router, now);
    if (++s->ticks % 60 == 0)
        throttle_prune(s->throttle, now);
}

static void close_cb(uv_handle_t *h)
{
    (void) h;
}

static void finish_shutdown(server *s)
{
    if (s->destroyed)
        return;
    s->destroyed = true;
    uv_timer_stop(&s->tick);
    uv_timer_stop(&s->shutdown_timer);
    uv_signal_stop(&s->sigterm);
    uv_signal_stop(&s->sigint);
    uv_close((uv_handle_t *) &s->tick, close_cb);
    uv_close((uv_handle_t *) &s->shutdown_timer, close_cb);
    uv_close((uv_handle_t *) &s->sigterm, close_cb);
    uv_close((uv_handle_t *) &s->sigint, close_cb);
    lws_context_destroy(s->ctx);
}

static void shutdown_timer_cb(uv_timer_t *t)
{
    server *s = t->data;
    if (s->m.connections == 0 ||
        now_ms() - s->shutdown_started_ms >= SHUTDOWN_GRACE_MS)
        finish_shutdown(s);
}

static void signal_cb(uv_signal_t *h, int signum)
{
    server *s = h->data;

    if (s->stopping)
        return;
    s->stopping = true;
    s->shutdown_started_ms = now_ms();
    LOG_INFO(NULL, NULL, NULL, NULL,
             "signal %d: closing %" G_GINT64_FORMAT " connections", signum,
             s->m.connections);
    for (GList *l = s->all.head; l != NULL; l = l->next)
        conn_error_close(l->data, LWS_CLOSE_STATUS_GOINGAWAY,
                         PROTO_ERR_SHUTTING_DOWN, "the server is stopping");
    uv_timer_start(&s->shutdown_timer, shutdown_timer_cb, 20, 20);
}

static void lws_log_cb(int level, const char *line)
{
    g_autofree char *l = g_strchomp(g_strdup(line));
    if (level & LLL_ERR)
        LOG_WARNING(NULL, NULL, NULL, NULL, "lws: %s", l);
    else
        LOG_DEBUG(NULL, NULL, NULL, NULL, "lws: %s", l);
}

static void raise_fd_limit(unsigned int want)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur >= want)
        return;
    rl.rlim_cur = MIN((rlim_t) want, rl.rlim_max);
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
        LOG_WARNING(NULL, NULL, NULL, NULL,
                    "open file limit %lu is below max_connections",
                    (unsigned long) rl.rlim_cur);
}

static bool is_any(const char *addr)
{
    return addr == NULL || strcmp(addr, "0.0.0.0") == 0 ||
           strcmp(addr, "::") == 0 || strcmp(addr, "*") == 0;
}

static bool create_vhosts(server *s, const char *cert, const char *key)
{
    const server_config *cfg = s->cfg;
    struct lws_context_creation_info vi;

    memset(&vi, 0, sizeof vi);
    vi.vhost_name = "vid";
    vi.port = cfg->port;
    vi.iface = is_any(cfg->listen) ? NULL : cfg->listen;
    vi.protocols = ws_protocols;
    vi.user = s;
    vi.ssl_cert_filepath = cert;
    vi.ssl_private_key_filepath = key;
    /* Pings and the idle timeout are ours (tick_cb): lws 4.1 keeps all
     * timers in one sorted list, and a validity timer per connection makes
     * every insert walk all connections. NULL would select a built-in
     * 300 s policy, hence the all-zero one. */
    vi.retry_and_idle_policy = &s->no_validity;
    vi.options =
        LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE |
        LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    if (cfg->listen != NULL && strchr(cfg->listen, ':') == NULL &&
        !is_any(cfg->listen))
        vi.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    if (lws_create_vhost(s->ctx, &vi) == NULL) {
        g_printerr("vid-signaling-server: cannot listen on %s:%d (in use, "
                   "or bad certificate %s)\n",
                   cfg->listen ? cfg->listen : "*", cfg->port, cert);
        return false;
    }
    if (cfg->admin_port == 0)
        return true;
    memset(&vi, 0, sizeof vi);
    vi.vhost_name = "admin";
    vi.port = cfg->admin_port;
    vi.iface = is_any(cfg->admin_listen) ? NULL : cfg->admin_listen;
    vi.protocols = admin_protocols;
    vi.user = s;
    if (cfg->admin_listen != NULL && strchr(cfg->admin_listen, ':') == NULL &&
        !is_any(cfg->admin_listen))
        vi.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    if (lws_create_vhost(s->ctx, &vi) == NULL) {
        g_printerr("vid-signaling-server: cannot listen on admin address "
                   "%s:%d\n",
                   cfg->admin_listen ? cfg->admin_listen : "*",
                   cfg->admin_port);
        return false;
    }
    return true;
}

int server_run(const server_config *cfg)
{
    server *s = g_new0(server, 1);
    struct lws_context_creation_info info;
    void *foreign_loops[1];
    router_ops ops = {r_send, r_error, r_replaced, r_user_exists, s};
    throttle_params tp = {cfg->account_max_failures, cfg->account_backoff,
                          cfg->account_backoff_max, cfg->address_max_failures,
                          cfg->address_window};
    GError *err = NULL;
    g_autofree char *db_path = config_db_path(cfg);
    g_autofree char *cert = NULL;
    g_autofree char *key = NULL;
    const char *shown;
    int rc = 1;

    s->cfg = cfg;
    metrics_init(&s->m);
    s->per_addr = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if (!auth_init() || !auth_hash(cfg->pwhash, "dummy", s->dummy_hash)) {
        g_printerr("vid-signaling-server: libsodium failed\n");
        goto out;
    }
    if (g_mkdir_with_parents(cfg->state_dir, 0700) != 0) {
        g_printerr("vid-signaling-server: cannot create state dir %s: %s\n",
                   cfg->state_dir, g_strerror(errno));
        goto out;
    }
    if (cfg->cert_file != NULL) {
        cert = g_strdup(cfg->cert_file);
        key = g_strdup(cfg->key_file);
    } else {
        cert = g_build_filename(cfg->state_dir, "cert.pem", NULL);
        key = g_build_filename(cfg->state_dir, "key.pem", NULL);
        if (!tls_ensure_self_signed(cert, key, cfg->hostname, &err)) {
            g_printerr("vid-signaling-server: %s\n", err->message);
            g_error_free(err);
            goto out;
        }
    }
    s->db = db_open(db_path, &err);
    if (s->db == NULL) {
        g_printerr("vid-signaling-server: %s\n", err->message);
        g_error_free(err);
        goto out;
    }
    s->router = router_new(&ops, cfg->ring_timeout);
    s->throttle = throttle_new(&tp);

    raise_fd_limit((unsigned int) cfg->max_connections + 128);
    uv_loop_init(&s->loop);
    uv_timer_init(&s->loop, &s->tick);
    uv_timer_init(&s->loop, &s->shutdown_timer);
    uv_signal_init(&s->loop, &s->sigterm);
    uv_signal_init(&s->loop, &s->sigint);
    s->tick.data = s->shutdown_timer.data = s;
    s->sigterm.data = s->sigint.data = s;
    uv_signal_start(&s->sigterm, signal_cb, SIGTERM);
    uv_signal_start(&s->sigint, signal_cb, SIGINT);
    uv_timer_start(&s->tick, tick_cb, 1000, 1000);

    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_cb);
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_LIBUV |
                   LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    foreign_loops[0] = &s->loop;
    info.foreign_loops = foreign_loops;
    info.pcontext = &s->ctx;
    /* fd_limit_per_thread stays 0 (the process fd limit, raised above):
     * a smaller value makes lws 4.1 find the connection of every event by
     * a linear scan of all of them (wsi_from_fd). */
    info.count_threads = 1;
    info.timeout_secs = 10;
    info.retry_and_idle_policy = &s->no_validity;
    s->ctx = lws_create_context(&info);
    if (s->ctx == NULL) {
        g_printerr("vid-signaling-server: cannot create the libwebsockets "
                   "context (libuv event library plugin missing?)\n");
        finish_shutdown(s);
        uv_run(&s->loop, UV_RUN_DEFAULT);
        uv_loop_close(&s->loop);
        goto out;
    }
    if (!create_vhosts(s, cert, key)) {
        finish_shutdown(s);
        uv_run(&s->loop, UV_RUN_DEFAULT);
        lws_context_destroy(s->ctx);
        uv_loop_close(&s->loop);
        goto out;
    }

    shown = is_any(cfg->listen) ? (cfg->hostname ? cfg->hostname : "127.0.0.1")
                                : cfg->listen;
    if (cfg->admin_port != 0)
        g_print("vid-signaling-server: listening on wss://%s%s%s:%d/ "
                "(admin http://%s:%d/)\n",
                strchr(shown, ':') ? "[" : "", shown,
                strchr(shown, ':') ? "]" : "", cfg->port,
                is_any(cfg->admin_listen) ? "127.0.0.1" : cfg->admin_listen,
                cfg->admin_port);
    else
        g_print("vid-signaling-server: listening on wss://%s%s%s:%d/\n",
                strchr(shown, ':') ? "[" : "", shown,
                strchr(shown, ':') ? "]" : "", cfg->port);
    fflush(stdout);
    LOG_INFO(NULL, NULL, NULL, NULL,
             "ready: port %d, admin port %d, pwhash %s, database %s", cfg->port,
             cfg->admin_port, config_pwhash_name(cfg->pwhash), db_path);

    uv_run(&s->loop, UV_RUN_DEFAULT);
    lws_context_destroy(s->ctx); /* no-op once pcontext was cleared */
    if (uv_loop_close(&s->loop) != 0) {
        uv_run(&s->loop, UV_RUN_DEFAULT);
        uv_loop_close(&s->loop);
    }
    LOG_INFO(NULL, NULL, NULL, NULL, "stopped");
    rc = 0;
out:
    router_free(s->router);
    throttle_free(s->throttle);
    db_close(s->db);
    metrics_clear(&s->m);
    g_hash_table_destroy(s->per_addr);
    g_free(s);
    return rc;
}
