/*
 * vid-test-ws.c — a raw vid.v1 WebSocket test client on libsoup-3.
 */
#include "vid-test.h"

#include <gio/gio.h>
#include <libsoup/soup.h>
#include <string.h>

#define CONNECT_TIMEOUT_MS 10000

struct vid_test_ws {
    GMainContext *ctx;
    SoupSession *session;
    SoupWebsocketConnection *conn;
    GQueue inbox; /* json_t* */
    gboolean closed;
    gushort close_code;
};

typedef struct {
    SoupWebsocketConnection *conn;
    GError *error;
    gboolean done;
} connect_wait;

static void connect_cb(GObject *src, GAsyncResult *res, gpointer data)
{
    connect_wait *w = data;
    w->conn = soup_session_websocket_connect_finish(SOUP_SESSION(src), res,
                                                    &w->error);
    w->done = TRUE;
}

static gboolean flag_cb(gpointer data)
{
    *(gboolean *) data = TRUE;
    return G_SOURCE_REMOVE;
}

static void on_message(SoupWebsocketConnection *c, gint type, GBytes *bytes,
                       gpointer data)
{
    vid_test_ws *ws = data;
    gsize len = 0;
    const char *p = g_bytes_get_data(bytes, &len);
    json_error_t e;
    json_t *msg;

    if (type != SOUP_WEBSOCKET_DATA_TEXT)
        g_error("the server sent a binary frame");
    msg = json_loadb(p, len, 0, &e);
    if (msg == NULL)
        g_error("the server sent text that is not JSON: %s (%.*s)", e.text,
                (int) MIN(len, 200), p);
    g_queue_push_tail(&ws->inbox, msg);
}

static void on_closed(SoupWebsocketConnection *c, gpointer data)
{
    vid_test_ws *ws = data;
    ws->closed = TRUE;
    ws->close_code = soup_websocket_connection_get_close_code(c);
}

/* Iterate until *cond or @timeout_ms; TRUE when *cond became true. */
static gboolean iterate_until(GMainContext *ctx, const gboolean *cond,
                              guint timeout_ms)
{
    gboolean timed_out = FALSE;
    GSource *t;

    if (*cond)
        return TRUE;
    t = g_timeout_source_new(timeout_ms);
    g_source_set_callback(t, flag_cb, &timed_out, NULL);
    g_source_attach(t, ctx);
    while (!*cond && !timed_out)
        g_main_context_iteration(ctx, TRUE);
    g_source_destroy(t);
    g_source_unref(t);
    return *cond;
}

vid_test_ws *vid_test_ws_connect(const char *url, const char *ca_file,
                                 GError **error)
{
    vid_test_ws *ws = g_new0(vid_test_ws, 1);
    const char *protocols[] = {"vid.v1", NULL};
    GTlsDatabase *db = NULL;
    SoupMessage *msg;
    connect_wait w = {0};
    GCancellable *cancel = g_cancellable_new();
    gboolean timed_out = FALSE;
    GSource *t;

    ws->ctx = g_main_context_ref_thread_default();
    ws->session = soup_session_new();
    if (ca_file != NULL) {
        db = g_tls_file_database_new(ca_file, error);
        if (db == NULL)
            goto fail;
        soup_session_set_tls_database(ws->session, db);
        g_object_unref(db);
    }
    msg = soup_message_new("GET", url);
    if (msg == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "bad URL %s", url);
        goto fail;
    }
    soup_session_websocket_connect_async(
        ws->session, msg, NULL, (char **) protocols, G_PRIORITY_DEFAULT, cancel,
        connect_cb, &w);
    g_object_unref(msg);
    t = g_timeout_source_new(CONNECT_TIMEOUT_MS);
    g_source_set_callback(t, flag_cb, &timed_out, NULL);
    g_source_attach(t, ws->ctx);
    while (!w.done) {
        if (timed_out)
            g_cancellable_cancel(cancel);
        g_main_context_iteration(ws->ctx, TRUE);
    }
    g_source_destroy(t);
    g_source_unref(t);
    if (w.conn == NULL) {
        g_propagate_error(error, w.error);
        goto fail;
    }
    ws->conn = w.conn;
    g_object_set(ws->conn, "max-incoming-payload-size", (guint64) 1 << 20,
                 "keepalive-interval", 0, NULL);
    g_signal_connect(ws->conn, "message", G_CALLBACK(on_message), ws);
    g_signal_connect(ws->conn, "closed", G_CALLBACK(on_closed), ws);
    g_object_unref(cancel);
    return ws;
fail:
    g_object_unref(cancel);
    vid_test_ws_free(ws);
    return NULL;
}

vid_test_ws *vid_test_ws_connect_server(vid_test_server *s)
{
    GError *err = NULL;
    vid_test_ws *ws = vid_test_ws_connect(vid_test_server_url(s),
                                          vid_test_server_ca_file(s), &err);
    if (ws == NULL)
        g_error("connect %s: %s", vid_test_server_url(s), err->message);
    return ws;
}

void vid_test_ws_free(vid_test_ws *ws)
{
    json_t *m;

    if (ws == NULL)
        return;
    if (ws->conn != NULL) {
        g_signal_handlers_disconnect_by_data(ws->conn, ws);
        if (soup_websocket_connection_get_state(ws->conn) ==
            SOUP_WEBSOCKET_STATE_OPEN) {
            gboolean closed = FALSE;
            gulong h = g_signal_connect_swapped(ws->conn, "closed",
                                                G_CALLBACK(flag_cb), &closed);
            soup_websocket_connection_close(ws->conn,
                                            SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
            iterate_until(ws->ctx, &closed, 2000);
            g_signal_handler_disconnect(ws->conn, h);
        }
        g_object_unref(ws->conn);
    }
    while ((m = g_queue_pop_head(&ws->inbox)) != NULL)
        json_decref(m);
    if (ws->session != NULL)
        g_object_unref(ws->session);
    /* Let libsoup finish its cleanup sources. */
    while (g_main_context_iteration(ws->ctx, FALSE))
        ;
    g_main_context_unref(ws->ctx);
    g_free(ws);
}

void vid_test_ws_send_text(vid_test_ws *ws, const char *text)
{
    vid_test_ws_send_raw(ws, text, strlen(text));
}

void vid_test_ws_send_raw(vid_test_ws *ws, const void *data, gsize len)
{
    GBytes *b = g_bytes_new(data, len);
    g_assert_false(ws->closed);
    soup_websocket_connection_send_message(ws->conn, SOUP_WEBSOCKET_DATA_TEXT,
                                           b);
    g_bytes_unref(b);
}

void vid_test_ws_send_binary(vid_test_ws *ws, const void *data, gsize len)
{
    g_assert_false(ws->closed);
    soup_websocket_connection_send_binary(ws->conn, data, len);
}

void vid_test_ws_send_json(vid_test_ws *ws, json_t *msg)
{
    char *text = json_dumps(msg, JSON_COMPACT);
    g_assert_nonnull(text);
    vid_test_ws_send_text(ws, text);
    free(text);
    json_decref(msg);
}

typedef struct {
    vid_test_ws *ws;
    gboolean ready;
} recv_wait;

json_t *vid_test_ws_recv(vid_test_ws *ws, guint timeout_ms)
{
    gboolean timed_out = FALSE;
    GSource *t;

    if (!g_queue_is_empty(&ws->inbox))
        return g_queue_pop_head(&ws->inbox);
    t = g_timeout_source_new(timeout_ms);
    g_source_set_callback(t, flag_cb, &timed_out, NULL);
    g_source_attach(t, ws->ctx);
    while (g_queue_is_empty(&ws->inbox) && !timed_out && !ws->closed)
        g_main_context_iteration(ws->ctx, TRUE);
    g_source_destroy(t);
    g_source_unref(t);
    return g_queue_pop_head(&ws->inbox);
}

json_t *vid_test_ws_expect(vid_test_ws *ws, const char *type, guint timeout_ms)
{
    json_t *m = vid_test_ws_recv(ws, timeout_ms);
    char *text;

    if (m == NULL)
        g_error("expected a %s message, got %s", type,
                ws->closed ? "a closed connection" : "nothing (timeout)");
    if (g_strcmp0(vid_test_json_str(m, "type"), type) != 0) {
        text = json_dumps(m, JSON_COMPACT);
        g_error("expected a %s message, got %s", type, text);
    }
    return m;
}

json_t *vid_test_ws_expect_error(vid_test_ws *ws, const char *code,
                                 guint timeout_ms)
{
    json_t *m = vid_test_ws_expect(ws, "error", timeout_ms);
    if (g_strcmp0(vid_test_json_str(m, "code"), code) != 0) {
        char *text = json_dumps(m, JSON_COMPACT);
        g_error("expected error %s, got %s", code, text);
    }
    return m;
}

void vid_test_ws_expect_silence(vid_test_ws *ws, guint ms)
{
    json_t *m = vid_test_ws_recv(ws, ms);
    if (m != NULL) {
        char *text = json_dumps(m, JSON_COMPACT);
        g_error("expected no message, got %s", text);
    }
}

gboolean vid_test_ws_wait_closed(vid_test_ws *ws, guint timeout_ms,
                                 gushort *code)
{
    gboolean ok = iterate_until(ws->ctx, &ws->closed, timeout_ms);
    if (ok && code != NULL)
        *code = ws->close_code;
    return ok;
}

gboolean vid_test_ws_is_closed(vid_test_ws *ws)
{
    return ws->closed;
}

guint vid_test_ws_pending(vid_test_ws *ws)
{
    return g_queue_get_length(&ws->inbox);
}

json_t *vid_test_ws_login(vid_test_ws *ws, json_int_t id, const char *user,
                          const char *password, const char *device,
                          const char *fingerprint)
{
    vid_test_ws_send_json(ws, json_pack("{s:s, s:I, s:s, s:s, s:s, s:s}",
                                        "type", "login", "id", id, "user", user,
                                        "password", password, "device", device,
                                        "fingerprint", fingerprint));
    return vid_test_ws_recv(ws, 20000);
}

vid_test_ws *vid_test_ws_login_server(vid_test_server *s, const char *user,
                                      const char *password, const char *device,
                                      guint fp_seed)
{
    vid_test_ws *ws = vid_test_ws_connect_server(s);
    g_autofree char *fp = vid_test_fingerprint(fp_seed);
    json_t *m = vid_test_ws_login(ws, 1, user, password, device, fp);

    if (m == NULL || g_strcmp0(vid_test_json_str(m, "type"), "welcome") != 0)
        g_error("login %s/%s: no welcome (%s)", user, device,
                m ? json_dumps(m, JSON_COMPACT) : "nothing");
    json_decref(m);
    return ws;
}

const char *vid_test_json_str(const json_t *msg, const char *key)
{
    return json_string_value(json_object_get(msg, key));
}

json_int_t vid_test_json_int(const json_t *msg, const char *key)
{
    return json_integer_value(json_object_get(msg, key));
}
