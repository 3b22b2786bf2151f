/*
 * turntls.c — TURN over TLS for libnice. In RFC 5245 mode libnice 0.1.21
 * treats NICE_RELAY_TYPE_TURN_TLS as plain TCP (its TLS is a pseudo-SSL
 * for Google/OC2007 relays only), so a "turns:" URL would send credentials
 * in clear to a TLS port. Instead each turns: server gets a loopback
 * forwarder: libnice speaks TURN-over-TCP to 127.0.0.1:<port>, and we
 * splice that to a real, certificate-verified TLS connection (GIO, system
 * CAs or the policy's CA file) to the TURN server.
 */
#include <string.h>

#include <gio/gio.h>

#include "transport-private.h"

/* The last upstream error, shared with connections in flight (they may
 * finish after the proxy is gone). */
typedef struct {
    gint ref;
    char err[192];
} tls_status;

static tls_status *status_ref(tls_status *st)
{
    g_atomic_int_inc(&st->ref);
    return st;
}

static void status_unref(tls_status *st)
{
    if (g_atomic_int_dec_and_test(&st->ref))
        g_free(st);
}

struct turn_tls_proxy {
    GMainContext *ctx;
    tls_status *status;
    GSocket *listen;
    GSource *accept_src;
    char *host;
    unsigned port;
    GTlsDatabase *db; /* NULL = system default */
    GCancellable *cancel;
};

typedef struct {
    GSocketConnection *local;
    GMainContext *ctx;
    GCancellable *cancel;
    tls_status *status;
} pending_conn;

static void on_client_event(GSocketClient *client, GSocketClientEvent ev,
                            GSocketConnectable *conn, GIOStream *stream,
                            gpointer ud)
{
    (void) client;
    (void) conn;
    if (ev == G_SOCKET_CLIENT_TLS_HANDSHAKING && ud != NULL &&
        G_IS_TLS_CONNECTION(stream))
        g_tls_connection_set_database(G_TLS_CONNECTION(stream), ud);
}

static void splice_done(GObject *src, GAsyncResult *res, gpointer ud)
{
    (void) ud;
    g_io_stream_splice_finish(res, NULL);
    (void) src;
}

static void pending_free(pending_conn *p)
{
    g_clear_object(&p->local);
    g_clear_object(&p->cancel);
    g_main_context_unref(p->ctx);
    status_unref(p->status);
    g_free(p);
}

static void upstream_connected(GObject *src, GAsyncResult *res, gpointer ud)
{
    pending_conn *p = ud;
    GError *err = NULL;
    GSocketConnection *up =
        g_socket_client_connect_to_host_finish(G_SOCKET_CLIENT(src), res, &err);
    if (up == NULL) {
        if (!g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
            g_info("transport: TURN TLS connection failed: %s", err->message);
            g_snprintf(p->status->err, sizeof p->status->err,
                       "TURN over TLS: %s", err->message);
        }
        g_clear_error(&err);
        g_io_stream_close(G_IO_STREAM(p->local), NULL, NULL);
        pending_free(p);
        return;
    }
    g_main_context_push_thread_default(p->ctx);
    g_io_stream_splice_async(G_IO_STREAM(p->local), G_IO_STREAM(up),
                             G_IO_STREAM_SPLICE_CLOSE_STREAM1 |
                                 G_IO_STREAM_SPLICE_CLOSE_STREAM2,
                             G_PRIORITY_DEFAULT, p->cancel, splice_done, NULL);
    g_main_context_pop_thread_default(p->ctx);
    g_object_unref(up);
    pending_free(p);
}

static gboolean on_accept(GSocket *sock, GIOCondition cond, gpointer ud)
{
    turn_tls_proxy *px = ud;
    (void) cond;
    GError *err = NULL;
    GSocket *s = g_socket_accept(sock, NULL, &err);
    if (s == NULL) {
        g_clear_error(&err);
        return G_SOURCE_CONTINUE;
    }
    pending_conn *p = g_new0(pending_conn, 1);
    p->local = g_socket_connection_factory_create_connection(s);
    g_object_unref(s);
    p->ctx = g_main_context_ref(px->ctx);
    p->cancel = g_object_ref(px->cancel);
    p->status = status_ref(px->status);

    GSocketClient *c = g_socket_client_new();
    g_socket_client_set_tls(c, TRUE);
    g_socket_client_set_enable_proxy(c, FALSE);
    if (px->db != NULL)
        g_signal_connect_data(
            c, "event", G_CALLBACK(on_client_event), g_object_ref(px->db),
            (GClosureNotify) (void (*)(void)) g_object_unref, 0);
    g_main_context_push_thread_default(px->ctx);
    g_socket_client_connect_to_host_async(c, px->host, (guint16) px->port,
                                          px->cancel, upstream_connected, p);
    g_main_context_pop_thread_default(px->ctx);
    g_object_unref(c);
    return G_SOURCE_CONTINUE;
}

int turn_tls_proxy_new(turn_tls_proxy **out, GMainContext *ctx,
                       const char *host, unsigned port, const char *ca_file,
                       unsigned *local_port)
{
    if (out == NULL || ctx == NULL || host == NULL || local_port == NULL ||
        port == 0 || port > 65535)
        return TRANSPORT_EINVAL;
    *out = NULL;
    turn_tls_proxy *px = g_new0(turn_tls_proxy, 1);
    px->ctx = g_main_context_ref(ctx);
    px->host = g_strdup(host);
    px->port = port;
    px->cancel = g_cancellable_new();
    px->status = g_new0(tls_status, 1);
    px->status->ref = 1;
    int rc = TRANSPORT_EFAIL;
    GError *err = NULL;
    if (ca_file != NULL) {
        px->db = g_tls_file_database_new(ca_file, &err);
        if (px->db == NULL) {
            g_info("transport: TURN TLS CA file %s: %s", ca_file, err->message);
            g_clear_error(&err);
            rc = TRANSPORT_EINVAL;
            goto done;
        }
    }
    px->listen = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                              G_SOCKET_PROTOCOL_TCP, &err);
    if (px->listen == NULL)
        goto done;
    GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    GSocketAddress *sa = g_inet_socket_address_new(lo, 0);
    g_object_unref(lo);
    gboolean ok = g_socket_bind(px->listen, sa, FALSE, &err) &&
                  g_socket_listen(px->listen, &err);
    g_object_unref(sa);
    if (!ok)
        goto done;
    GSocketAddress *bound = g_socket_get_local_address(px->listen, &err);
    if (bound == NULL)
        goto done;
    *local_port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
    g_object_unref(bound);
    g_socket_set_blocking(px->listen, FALSE);
    px->accept_src = g_socket_create_source(px->listen, G_IO_IN, NULL);
    g_source_set_callback(px->accept_src,
                          (GSourceFunc) (void (*)(void)) on_accept, px, NULL);
    g_source_attach(px->accept_src, ctx);
    *out = px;
    px = NULL;
    rc = TRANSPORT_OK;
done:
    if (err != NULL) {
        g_info("transport: TURN TLS forwarder: %s", err->message);
        g_clear_error(&err);
    }
    turn_tls_proxy_free(px);
    return rc;
}

void turn_tls_proxy_free(turn_tls_proxy *px)
{
    if (px == NULL)
        return;
    g_cancellable_cancel(px->cancel);
    if (px->accept_src != NULL) {
        g_source_destroy(px->accept_src);
        g_source_unref(px->accept_src);
    }
    if (px->listen != NULL) {
        g_socket_close(px->listen, NULL);
        g_object_unref(px->listen);
    }
    g_clear_object(&px->db);
    g_clear_object(&px->cancel);
    status_unref(px->status);
    g_main_context_unref(px->ctx);
    g_free(px->host);
    g_free(px);
}

const char *turn_tls_proxy_last_error(const turn_tls_proxy *px)
{
    return px != NULL ? px->status->err : "";
}
