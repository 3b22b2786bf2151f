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
    GTlsDatabase *db;             /* NULL = system default */
    GCancellable *cancel;         /* splices (established connections) */
    GCancellable *connect_cancel; /* TLS connections being made */
    void (*on_fail)(void *ud);
    void *ud;
};

typedef struct {
    GSocketConnection *local;
    GMainContext *ctx;
    GCancellable *cancel;         /* for the splice */
    GCancellable *connect_cancel; /* for the TLS connect */
    tls_status *status;
    void (*on_fail)(void *ud); /* only while cancel is not cancelled */
    void *ud;
    char *host; /* owned */
    unsigned port;
    GTlsDatabase *db; /* NULL = system default */
} pending_conn;

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
    g_clear_object(&p->connect_cancel);
    g_clear_object(&p->db);
    g_free(p->host);
    g_main_context_unref(p->ctx);
    status_unref(p->status);
    g_free(p);
}

static void connect_failed(pending_conn *p, GError *err)
{
    if (!g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        g_info("transport: TURN TLS connection failed: %s", err->message);
        g_snprintf(p->status->err, sizeof p->status->err, "TURN over TLS: %s",
                   err->message);
    }
    g_io_stream_close(G_IO_STREAM(p->local), NULL, NULL);
    /* The proxy cancels connect_cancel before it goes: alive here. */
    if (!g_cancellable_is_cancelled(p->connect_cancel) && p->on_fail != NULL)
        p->on_fail(p->ud);
    pending_free(p);
}

static void handshake_done(GObject *src, GAsyncResult *res, gpointer ud)
{
    pending_conn *p = ud;
    GError *err = NULL;
    GTlsConnection *tls = G_TLS_CONNECTION(src);
    if (!g_tls_connection_handshake_finish(tls, res, &err)) {
        connect_failed(p, err);
        g_error_free(err);
        g_object_unref(tls);
        return;
    }
    g_main_context_push_thread_default(p->ctx);
    g_io_stream_splice_async(G_IO_STREAM(p->local), G_IO_STREAM(tls),
                             G_IO_STREAM_SPLICE_CLOSE_STREAM1 |
                                 G_IO_STREAM_SPLICE_CLOSE_STREAM2,
                             G_PRIORITY_DEFAULT, p->cancel, splice_done, NULL);
    g_main_context_pop_thread_default(p->ctx);
    g_object_unref(tls);
    pending_free(p);
}

static void tcp_connected(GObject *src, GAsyncResult *res, gpointer ud)
{
    pending_conn *p = ud;
    GError *err = NULL;
    GSocketConnection *up =
        g_socket_client_connect_to_host_finish(G_SOCKET_CLIENT(src), res, &err);
    if (up == NULL) {
        connect_failed(p, err);
        g_error_free(err);
        return;
    }
    /* TLS by hand (not GSocketClient's): we pick the trust database and
     * the identity checked is the URL's host. */
    GSocketConnectable *id = g_network_address_new(p->host, (guint16) p->port);
    GIOStream *tls = g_tls_client_connection_new(G_IO_STREAM(up), id, &err);
    g_object_unref(id);
    g_object_unref(up);
    if (tls == NULL) {
        connect_failed(p, err);
        g_error_free(err);
        return;
    }
    if (p->db != NULL)
        g_tls_connection_set_database(G_TLS_CONNECTION(tls), p->db);
    g_main_context_push_thread_default(p->ctx);
    g_tls_connection_handshake_async(G_TLS_CONNECTION(tls), G_PRIORITY_DEFAULT,
                                     p->connect_cancel, handshake_done, p);
    g_main_context_pop_thread_default(p->ctx);
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
    p->connect_cancel = g_object_ref(px->connect_cancel);
    p->status = status_ref(px->status);
    p->on_fail = px->on_fail;
    p->ud = px->ud;

    p->host = g_strdup(px->host);
    p->port = px->port;
    p->db = px->db != NULL ? g_object_ref(px->db) : NULL;

    GSocketClient *c = g_socket_client_new();
    g_socket_client_set_enable_proxy(c, FALSE);
    g_main_context_push_thread_default(px->ctx);
    g_socket_client_connect_to_host_async(c, px->host, (guint16) px->port,
                                          px->connect_cancel, tcp_connected, p);
    g_main_context_pop_thread_default(px->ctx);
    g_object_unref(c);
    return G_SOURCE_CONTINUE;
}

int turn_tls_proxy_new(turn_tls_proxy **out, GMainContext *ctx,
                       const char *host, unsigned port, const char *ca_file,
                       void (*on_fail)(void *ud), void *ud,
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
    px->connect_cancel = g_cancellable_new();
    px->on_fail = on_fail;
    px->ud = ud;
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

void turn_tls_proxy_stop_accepting(turn_tls_proxy *px)
{
    if (px == NULL)
        return;
    g_cancellable_cancel(px->connect_cancel);
    if (px->accept_src != NULL) {
        g_source_destroy(px->accept_src);
        g_source_unref(px->accept_src);
        px->accept_src = NULL;
    }
    if (px->listen != NULL) {
        g_socket_close(px->listen, NULL);
        g_clear_object(&px->listen);
    }
}

void turn_tls_proxy_free(turn_tls_proxy *px)
{
    if (px == NULL)
        return;
    turn_tls_proxy_stop_accepting(px);
    g_cancellable_cancel(px->cancel);
    g_clear_object(&px->db);
    g_clear_object(&px->cancel);
    g_clear_object(&px->connect_cancel);
    status_unref(px->status);
    g_main_context_unref(px->ctx);
    g_free(px->host);
    g_free(px);
}

const char *turn_tls_proxy_last_error(const turn_tls_proxy *px)
{
    return px != NULL ? px->status->err : "";
}
