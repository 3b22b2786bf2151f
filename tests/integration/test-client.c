/*
 * test-client.c — the public vid_client API against a real
 * vid-signaling-server over real TLS on loopback (fixture: vid-test.h).
 *
 * Each test peer records the events it receives. A peer runs in one of the
 * two delivery modes of the event-loop contract: GMainContext mode (a
 * GSource on the test's context) or fd mode (the test polls
 * vid_client_get_fd() and calls vid_client_dispatch()). pump() drives both
 * and checks that every callback runs on the test's own thread.
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <vid/vid.h>

#include "vid-test.h"

#define TIMEOUT_MS 10000

/* Under AddressSanitizer: GCC 12's runtime misreads some dynamic TLS
 * blocks in its __tls_get_addr interceptor, which makes LeakSanitizer's
 * tracer crash at exit now and then ("Tracer caught signal 11") with no
 * leak found. Turning the interceptor off avoids it; ASAN_OPTIONS from the
 * environment still take precedence. Unused in other builds. */
const char *__asan_default_options(void);
__attribute__((used, visibility("default"))) const char *
__asan_default_options(void)
{
    return "intercept_tls_get_addr=0";
}

typedef struct {
    vid_event_type type;
    uint64_t request_id;
    int code;
    char *server_code;
    char *message;
    int retry_after;
    int will_reconnect;
    char *user;
    char *device;
    int online;
    char *fingerprint;
    char *call_id;
    char *sdp;
    char *reason;
    char *candidate;
    char *mid;
    int mline_index;
} rec_event;

typedef struct {
    const char *name;
    vid_client *client;
    gboolean fd_mode;
    GQueue events; /* rec_event* not yet taken */
    char *state_dir;
} peer;

static GMainContext *test_ctx;
static GThread *test_thread;
static vid_test_server *server;
static char *tmp_root;

static void rec_event_free(rec_event *e)
{
    if (e == NULL)
        return;
    g_free(e->server_code);
    g_free(e->message);
    g_free(e->user);
    g_free(e->device);
    g_free(e->fingerprint);
    g_free(e->call_id);
    g_free(e->sdp);
    g_free(e->reason);
    g_free(e->candidate);
    g_free(e->mid);
    g_free(e);
}

static void on_event(vid_client *c, const vid_event *ev, void *data)
{
    peer *p = data;
    rec_event *e = g_new0(rec_event, 1);

    /* The contract: events arrive on the application's thread. */
    g_assert_true(g_thread_self() == test_thread);
    g_assert_true(c == p->client);
    e->type = ev->type;
    e->request_id = ev->request_id;
    e->code = ev->code;
    e->server_code = g_strdup(ev->server_code);
    e->message = g_strdup(ev->message);
    e->retry_after = ev->retry_after;
    e->will_reconnect = ev->will_reconnect;
    e->user = g_strdup(ev->user);
    e->device = g_strdup(ev->device);
    e->online = ev->online;
    e->fingerprint = g_strdup(ev->fingerprint);
    e->call_id = g_strdup(ev->call_id);
    e->sdp = g_strdup(ev->sdp);
    e->reason = g_strdup(ev->reason);
    e->candidate = g_strdup(ev->candidate);
    e->mid = g_strdup(ev->mid);
    e->mline_index = ev->mline_index;
    if (g_test_verbose())
        g_printerr("  [%s] event %d code %d %s\n", p->name, ev->type, ev->code,
                   ev->message != NULL ? ev->message : "");
    g_queue_push_tail(&p->events, e);
}

static vid_client *new_client(const char *state_dir, const char *device,
                              const char *ca_file, gboolean fd_mode,
                              int reconnect)
{
    vid_client_options opts = VID_CLIENT_OPTIONS_INIT;
    vid_client *c = NULL;

    opts.server_url = vid_test_server_url(server);
    opts.ca_file = ca_file;
    opts.state_dir = state_dir;
    opts.device_name = device;
    opts.main_context = fd_mode ? NULL : test_ctx;
    opts.reconnect = reconnect;
    g_assert_cmpint(vid_client_new(&c, &opts), ==, VID_OK);
    g_assert_nonnull(c);
    return c;
}

static peer *peer_new_full(const char *name, const char *device,
                           gboolean fd_mode, const char *ca_file)
{
    peer *p = g_new0(peer, 1);

    p->name = name;
    p->fd_mode = fd_mode;
    g_queue_init(&p->events);
    p->state_dir = g_build_filename(tmp_root, name, device, NULL);
    p->client = new_client(p->state_dir, device, ca_file, fd_mode, 1);
    g_assert_cmpint(vid_client_set_event_callback(p->client, on_event, p), ==,
                    VID_OK);
    return p;
}

static peer *peer_new(const char *name, const char *device, gboolean fd_mode)
{
    return peer_new_full(name, device, fd_mode,
                         vid_test_server_ca_file(server));
}

static void peer_free(peer *p)
{
    if (p == NULL)
        return;
    vid_client_free(p->client);
    g_queue_clear_full(&p->events, (GDestroyNotify) rec_event_free);
    g_free(p->state_dir);
    g_free(p);
}

/* Deliver events to every peer for up to @ms milliseconds, or until
 * @until returns TRUE. */
/* One loop for both delivery modes, the way a non-GLib application
 * integrates a GMainContext: poll() the context's descriptors (where the
 * GMainContext-mode clients' GSources live) together with the descriptors
 * of the fd-mode clients, then dispatch both. */
static void pump(peer **peers, guint n, guint ms, gboolean (*until)(void *),
                 void *data)
{
    gint64 deadline = g_get_monotonic_time() + (gint64) ms * 1000;

    g_assert_true(g_main_context_acquire(test_ctx));
    for (;;) {
        GPollFD fds[64];
        gint nctx;
        guint nall;
        gint max_prio;
        gint timeout;
        gint64 left;

        if (until != NULL && until(data))
            break;
        left = deadline - g_get_monotonic_time();
        if (left <= 0)
            break;
        g_main_context_prepare(test_ctx, &max_prio);
        nctx = g_main_context_query(test_ctx, max_prio, &timeout, fds, 48);
        g_assert_cmpint(nctx, <=, 48);
        nall = (guint) nctx;
        for (guint i = 0; i < n; i++) {
            if (peers[i] != NULL && peers[i]->fd_mode) {
                fds[nall].fd = vid_client_get_fd(peers[i]->client);
                fds[nall].events = G_IO_IN;
                fds[nall].revents = 0;
                nall++;
            }
        }
        if (timeout < 0 || timeout > left / 1000 + 1)
            timeout = (gint) (left / 1000 + 1);
        g_poll(fds, nall, timeout);
        if (g_main_context_check(test_ctx, max_prio, fds, nctx))
            g_main_context_dispatch(test_ctx);
        for (guint i = 0, k = (guint) nctx; i < n; i++) {
            if (peers[i] == NULL || !peers[i]->fd_mode)
                continue;
            if (fds[k++].revents & G_IO_IN)
                g_assert_cmpint(vid_client_dispatch(peers[i]->client), >=, 0);
        }
    }
    g_main_context_release(test_ctx);
}

typedef struct {
    peer *p;
    vid_event_type type;
} wait_spec;

static gboolean has_event(void *data)
{
    wait_spec *w = data;

    for (GList *l = w->p->events.head; l != NULL; l = l->next) {
        if (((rec_event *) l->data)->type == w->type)
            return TRUE;
    }
    return FALSE;
}

/* Wait for the next event of @type on @p (events of other types before it
 * are dropped), pumping all of @others too. Fails the test on timeout. */
static rec_event *expect_within(peer *p, vid_event_type type, peer **all,
                                guint n, guint timeout_ms)
{
    wait_spec w = {p, type};

    pump(all, n, timeout_ms, has_event, &w);
    for (;;) {
        rec_event *e = g_queue_pop_head(&p->events);
        if (e == NULL)
            g_error("%s: no event of type %d within %u ms", p->name, type,
                    timeout_ms);
        if (e->type == type)
            return e;
        rec_event_free(e);
    }
}

static rec_event *expect_among(peer *p, vid_event_type type, peer **all,
                               guint n)
{
    return expect_within(p, type, all, n, TIMEOUT_MS);
}

static rec_event *expect(peer *p, vid_event_type type)
{
    peer *all[] = {p};

    return expect_among(p, type, all, 1);
}

static rec_event *expect2(peer *p, vid_event_type type, peer *other)
{
    peer *all[] = {p, other};

    return expect_among(p, type, all, 2);
}

static void login_ok(peer *p, const char *user, const char *password)
{
    uint64_t id = 0;
    rec_event *e;

    g_assert_cmpint(vid_client_login(p->client, user, password, &id), ==,
                    VID_OK);
    g_assert_cmpuint(id, >, 0);
    e = expect(p, VID_EVENT_LOGGED_IN);
    g_assert_cmpuint(e->request_id, ==, id);
    g_assert_cmpstr(e->user, ==, user);
    g_assert_cmpstr(e->device, ==, vid_client_get_device_name(p->client));
    rec_event_free(e);
}

/* ---- tests ------------------------------------------------------------- */

static void test_login_ok(gconstpointer data)
{
    gboolean fd_mode = GPOINTER_TO_INT(data);
    peer *a = peer_new("alice", "laptop", fd_mode);
    vid_policy *pol = NULL;
    rec_event *e;

    g_assert_cmpint(vid_client_get_policy(a->client, &pol), ==, VID_ESTATE);
    g_assert_null(pol);
    g_assert_cmpint(vid_client_connect(a->client), ==, VID_OK);
    e = expect(a, VID_EVENT_CONNECTED);
    rec_event_free(e);
    login_ok(a, "alice", "alice-password");

    g_assert_cmpint(vid_client_get_policy(a->client, &pol), ==, VID_OK);
    g_assert_nonnull(pol);
    g_assert_true(pol->ice_transport_policy == VID_ICE_TRANSPORT_ALL ||
                  pol->ice_transport_policy == VID_ICE_TRANSPORT_RELAY);
    g_assert_cmpuint(pol->media_port_min, <=, pol->media_port_max);
    g_assert_cmpuint(pol->max_frame, ==, 65536);
    g_assert_cmpfloat(pol->rate, >, 0);
    g_assert_cmpuint(pol->burst, >, 0);
    vid_policy_free(pol);
    vid_policy_free(NULL);

    /* A second login on a logged-in client is a state error. */
    g_assert_cmpint(vid_client_login(a->client, "alice", "x", NULL), ==,
                    VID_ESTATE);
    g_assert_nonnull(strstr(vid_client_last_error(a->client), "logged in"));
    peer_free(a);
}

static void test_policy_from_config(void)
{
    /* A server with STUN/TURN and a port range: the client gets it all. */
    vid_test_server *s2;
    vid_test_server *saved = server;
    peer *a;
    vid_policy *pol = NULL;

    s2 = vid_test_server_start("[policy]\n"
                               "stun = stun:turn.example.org:3478\n"
                               "turn = turn:turn.example.org:3478?"
                               "transport=udp\n"
                               "turn_secret = s3cret\n"
                               "ice_transport_policy = relay\n"
                               "media_port_min = 50000\n"
                               "media_port_max = 50999\n");
    server = s2;
    vid_test_server_add_user(s2, "alice", "alice-password");
    a = peer_new("alice", "policy", FALSE);
    login_ok(a, "alice", "alice-password");
    g_assert_cmpint(vid_client_get_policy(a->client, &pol), ==, VID_OK);
    g_assert_cmpint(pol->ice_transport_policy, ==, VID_ICE_TRANSPORT_RELAY);
    g_assert_cmpuint(pol->media_port_min, ==, 50000);
    g_assert_cmpuint(pol->media_port_max, ==, 50999);
    g_assert_cmpuint(pol->n_ice_servers, >=, 1);
    {
        gboolean saw_turn = FALSE;
        for (size_t i = 0; i < pol->n_ice_servers; i++) {
            for (size_t j = 0; j < pol->ice_servers[i].n_urls; j++) {
                if (g_str_has_prefix(pol->ice_servers[i].urls[j], "turn:")) {
                    saw_turn = TRUE;
                    g_assert_nonnull(pol->ice_servers[i].username);
                    g_assert_nonnull(
                        strstr(pol->ice_servers[i].username, ":alice"));
                    g_assert_nonnull(pol->ice_servers[i].credential);
                }
            }
        }
        g_assert_true(saw_turn);
    }
    g_assert_cmpint(pol->credential_expires, >, (int64_t) time(NULL));
    vid_policy_free(pol);
    peer_free(a);
    server = saved;
    vid_test_server_stop(s2);
}

static void test_login_wrong_password(void)
{
    peer *a = peer_new("alice", "laptop", TRUE);
    uint64_t id = 0;
    rec_event *e;
    vid_policy *pol = NULL;

    g_assert_cmpint(vid_client_login(a->client, "alice", "wrong", &id), ==,
                    VID_OK);
    e = expect(a, VID_EVENT_LOGIN_FAILED);
    g_assert_cmpint(e->code, ==, VID_EAUTH);
    g_assert_cmpuint(e->request_id, ==, id);
    g_assert_cmpstr(e->server_code, ==, "bad_credentials");
    g_assert_nonnull(e->message);
    rec_event_free(e);
    g_assert_cmpint(vid_client_get_policy(a->client, &pol), ==, VID_ESTATE);
    /* Calls need a login. */
    g_assert_cmpint(vid_client_call_invite(a->client, "bob", "v=0\r\n", NULL),
                    ==, VID_ESTATE);
    /* The right password afterwards works on the same client. */
    login_ok(a, "alice", "alice-password");
    peer_free(a);
}

static void test_login_unknown_user(void)
{
    peer *a = peer_new("mallory", "laptop", FALSE);
    rec_event *e;

    g_assert_cmpint(vid_client_login(a->client, "mallory", "whatever", NULL),
                    ==, VID_OK);
    e = expect(a, VID_EVENT_LOGIN_FAILED);
    /* The server does not tell unknown users from wrong passwords. */
    g_assert_cmpint(e->code, ==, VID_EAUTH);
    rec_event_free(e);
    peer_free(a);
}

static void test_session_replaced(void)
{
    /* The same user and device logging in elsewhere closes this session;
     * the client must not fight back by reconnecting. */
    peer *first = peer_new("alice", "dup", TRUE);
    peer *second =
        peer_new_full("alice2", "dup", FALSE, vid_test_server_ca_file(server));
    rec_event *e;

    login_ok(first, "alice", "alice-password");
    login_ok(second, "alice", "alice-password");
    e = expect2(first, VID_EVENT_DISCONNECTED, second);
    g_assert_cmpint(e->code, ==, VID_EREPLACED);
    g_assert_false(e->will_reconnect);
    rec_event_free(e);
    pump(&first, 1, 1500, NULL, NULL);
    g_assert_cmpuint(g_queue_get_length(&first->events), ==, 0);
    peer_free(first);
    peer_free(second);
}

static void test_login_throttled(void)
{
    vid_test_server *saved = server;
    peer *a;
    rec_event *e = NULL;
    int attempts;

    server = vid_test_server_start(NULL);
    vid_test_server_add_user(server, "alice", "alice-password");
    a = peer_new("alice", "throttle", TRUE);
    for (attempts = 1; attempts <= 10; attempts++) {
        g_assert_cmpint(vid_client_login(a->client, "alice", "wrong", NULL), ==,
                        VID_OK);
        e = expect(a, VID_EVENT_LOGIN_FAILED);
        if (e->code == VID_ETHROTTLED)
            break;
        g_assert_cmpint(e->code, ==, VID_EAUTH);
        rec_event_free(e);
        e = NULL;
    }
    g_assert_nonnull(e);
    g_assert_cmpint(e->code, ==, VID_ETHROTTLED);
    g_assert_cmpstr(e->server_code, ==, "login_throttled");
    g_assert_cmpint(e->retry_after, >, 0);
    rec_event_free(e);
    /* Even the right password is refused while throttled. */
    g_assert_cmpint(
        vid_client_login(a->client, "alice", "alice-password", NULL), ==,
        VID_OK);
    e = expect(a, VID_EVENT_LOGIN_FAILED);
    g_assert_cmpint(e->code, ==, VID_ETHROTTLED);
    rec_event_free(e);
    peer_free(a);
    vid_test_server_stop(server);
    server = saved;
}

static void test_identity_change_refused(void)
{
    /* identity_change = reject: the same device with a new key (another
     * state directory) is refused with VID_EIDENTITY. */
    vid_test_server *saved = server;
    peer *a;
    peer *impostor;
    rec_event *e;

    server = vid_test_server_start("[server]\nidentity_change = reject\n");
    vid_test_server_add_user(server, "alice", "alice-password");
    a = peer_new("alice", "laptop-id", TRUE);
    login_ok(a, "alice", "alice-password");
    peer_free(a);
    impostor = peer_new("alice-other-key", "laptop-id", TRUE);
    g_assert_cmpint(
        vid_client_login(impostor->client, "alice", "alice-password", NULL), ==,
        VID_OK);
    e = expect(impostor, VID_EVENT_LOGIN_FAILED);
    g_assert_cmpint(e->code, ==, VID_EIDENTITY);
    g_assert_cmpstr(e->server_code, ==, "fingerprint_mismatch");
    rec_event_free(e);
    peer_free(impostor);
    vid_test_server_stop(server);
    server = saved;
}

static void test_tls_wrong_ca(void)
{
    /* Another peer's identity certificate is a valid PEM certificate that
     * did not sign the server's: the handshake must fail. */
    peer *other = peer_new("carol", "ca", TRUE);
    char *wrong_ca =
        g_build_filename(other->state_dir, "identity-cert.pem", NULL);
    peer *a = peer_new_full("alice", "tls", TRUE, wrong_ca);
    peer *sys = peer_new_full("alice", "tls-system", FALSE, NULL);
    rec_event *e;

    g_assert_cmpint(
        vid_client_login(a->client, "alice", "alice-password", NULL), ==,
        VID_OK);
    e = expect(a, VID_EVENT_DISCONNECTED);
    g_assert_cmpint(e->code, ==, VID_ETLS);
    g_assert_false(e->will_reconnect);
    g_assert_nonnull(strstr(e->message, "TLS"));
    rec_event_free(e);

    /* System CAs do not know the test server's self-signed certificate. */
    g_assert_cmpint(
        vid_client_login(sys->client, "alice", "alice-password", NULL), ==,
        VID_OK);
    e = expect(sys, VID_EVENT_DISCONNECTED);
    g_assert_cmpint(e->code, ==, VID_ETLS);
    rec_event_free(e);

    /* A CA file that is not PEM fails at once. */
    {
        vid_client_options opts = VID_CLIENT_OPTIONS_INIT;
        vid_client *c = (vid_client *) 0x1;
        char *bad = g_build_filename(tmp_root, "bad-ca.pem", NULL);
        g_assert_true(g_file_set_contents(bad, "junk", -1, NULL));
        opts.server_url = vid_test_server_url(server);
        opts.ca_file = bad;
        opts.state_dir = other->state_dir;
        g_assert_cmpint(vid_client_new(&c, &opts), ==, VID_ETLS);
        g_assert_null(c);
        g_assert_nonnull(strstr(vid_client_last_error(NULL), bad));
        g_free(bad);
    }
    peer_free(a);
    peer_free(sys);
    peer_free(other);
    g_free(wrong_ca);
}

static void test_presence(void)
{
    peer *a = peer_new("alice", "laptop", FALSE);
    peer *b = peer_new("bob", "phone", TRUE);
    const char *users[] = {"bob"};
    uint64_t id = 0;
    rec_event *e;

    login_ok(a, "alice", "alice-password");
    g_assert_cmpint(vid_client_subscribe_presence(a->client, users, 1, &id), ==,
                    VID_OK);
    g_assert_cmpuint(id, >, 0);
    e = expect(a, VID_EVENT_PRESENCE);
    g_assert_cmpstr(e->user, ==, "bob");
    g_assert_false(e->online);
    g_assert_null(e->device);
    rec_event_free(e);

    login_ok(b, "bob", "bob-password");
    e = expect2(a, VID_EVENT_PRESENCE, b);
    g_assert_cmpstr(e->user, ==, "bob");
    g_assert_true(e->online);
    g_assert_cmpstr(e->device, ==, "phone");
    g_assert_cmpstr(e->fingerprint, ==, vid_client_get_fingerprint(b->client));
    rec_event_free(e);

    peer_free(b);
    e = expect(a, VID_EVENT_PRESENCE);
    g_assert_cmpstr(e->user, ==, "bob");
    g_assert_cmpstr(e->device, ==, "phone");
    g_assert_false(e->online);
    rec_event_free(e);
    peer_free(a);
}

/* The whole call set-up between two clients. @data: TRUE puts the caller
 * in fd mode and the callee on the GMainContext, FALSE the reverse. */
static void test_call_flow(gconstpointer data)
{
    gboolean caller_fd = GPOINTER_TO_INT(data);
    peer *a = peer_new("alice", "laptop", caller_fd);
    peer *b = peer_new("bob", "phone", !caller_fd);
    const char *offer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=offer\r\n";
    const char *answer = "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=answer\r\n";
    const char *cand = "candidate:1 1 UDP 2122252543 192.0.2.1 50000 typ host";
    uint64_t invite_id = 0;
    char *call_id;
    rec_event *e;

    login_ok(a, "alice", "alice-password");
    login_ok(b, "bob", "bob-password");

    g_assert_cmpint(vid_client_call_invite(a->client, "bob", offer, &invite_id),
                    ==, VID_OK);
    e = expect2(a, VID_EVENT_CALL_CREATED, b);
    g_assert_cmpuint(e->request_id, ==, invite_id);
    g_assert_nonnull(e->call_id);
    call_id = g_strdup(e->call_id);
    rec_event_free(e);

    e = expect2(b, VID_EVENT_CALL_INVITE, a);
    g_assert_cmpstr(e->call_id, ==, call_id);
    g_assert_cmpstr(e->user, ==, "alice");
    g_assert_cmpstr(e->device, ==, "laptop");
    g_assert_cmpstr(e->fingerprint, ==, vid_client_get_fingerprint(a->client));
    g_assert_cmpstr(e->sdp, ==, offer);
    rec_event_free(e);

    g_assert_cmpint(vid_client_call_ringing(b->client, call_id, NULL), ==,
                    VID_OK);
    e = expect2(a, VID_EVENT_CALL_RINGING, b);
    g_assert_cmpstr(e->call_id, ==, call_id);
    g_assert_cmpstr(e->user, ==, "bob");
    g_assert_cmpstr(e->device, ==, "phone");
    rec_event_free(e);

    g_assert_cmpint(vid_client_call_accept(b->client, call_id, answer, NULL),
                    ==, VID_OK);
    e = expect2(a, VID_EVENT_CALL_ACCEPT, b);
    g_assert_cmpstr(e->call_id, ==, call_id);
    g_assert_cmpstr(e->sdp, ==, answer);
    g_assert_cmpstr(e->fingerprint, ==, vid_client_get_fingerprint(b->client));
    rec_event_free(e);

    g_assert_cmpint(
        vid_client_call_candidate(a->client, call_id, cand, "0", 0, NULL), ==,
        VID_OK);
    e = expect2(b, VID_EVENT_CALL_CANDIDATE, a);
    g_assert_cmpstr(e->call_id, ==, call_id);
    g_assert_cmpstr(e->candidate, ==, cand);
    g_assert_cmpstr(e->mid, ==, "0");
    g_assert_cmpint(e->mline_index, ==, 0);
    g_assert_cmpstr(e->user, ==, "alice");
    rec_event_free(e);

    /* Relay time caller -> server -> callee, one candidate at a time
     * (reported, not asserted: it depends on the machine). */
    {
        double ms[30];
        peer *both[] = {a, b};
        for (int i = 0; i < 30; i++) {
            gint64 t0 = g_get_monotonic_time();
            g_assert_cmpint(vid_client_call_candidate(a->client, call_id, cand,
                                                      "0", 0, NULL),
                            ==, VID_OK);
            e = expect_among(b, VID_EVENT_CALL_CANDIDATE, both, 2);
            ms[i] = (g_get_monotonic_time() - t0) / 1000.0;
            rec_event_free(e);
        }
        for (int i = 1; i < 30; i++) { /* insertion sort */
            double v = ms[i];
            int j = i - 1;
            for (; j >= 0 && ms[j] > v; j--)
                ms[j + 1] = ms[j];
            ms[j + 1] = v;
        }
        g_test_message("candidate relay through the server (%s caller): "
                       "p50 %.2f ms, max %.2f ms over 30",
                       caller_fd ? "fd-mode" : "context-mode", ms[15], ms[29]);
    }

    /* End of candidates, without mid/m-line. */
    g_assert_cmpint(
        vid_client_call_candidate(b->client, call_id, "", NULL, -1, NULL), ==,
        VID_OK);
    e = expect2(a, VID_EVENT_CALL_CANDIDATE, b);
    g_assert_cmpstr(e->candidate, ==, "");
    g_assert_null(e->mid);
    g_assert_cmpint(e->mline_index, ==, -1);
    rec_event_free(e);

    g_assert_cmpint(vid_client_call_hangup(a->client, call_id, "bye", NULL), ==,
                    VID_OK);
    e = expect2(b, VID_EVENT_CALL_HANGUP, a);
    g_assert_cmpstr(e->call_id, ==, call_id);
    g_assert_cmpstr(e->reason, ==, "bye");
    g_assert_cmpstr(e->user, ==, "alice");
    rec_event_free(e);

    /* The call is over: more messages for it are refused by id. */
    {
        uint64_t id = 0;
        g_assert_cmpint(vid_client_call_hangup(b->client, call_id, NULL, &id),
                        ==, VID_OK);
        e = expect2(b, VID_EVENT_ERROR, a);
        g_assert_cmpuint(e->request_id, ==, id);
        g_assert_cmpint(e->code, ==, VID_ENOCALL);
        rec_event_free(e);
    }
    g_free(call_id);
    peer_free(a);
    peer_free(b);
}

static void test_call_reject_and_errors(void)
{
    peer *a = peer_new("alice", "laptop", TRUE);
    peer *b = peer_new("bob", "phone", FALSE);
    uint64_t id = 0;
    rec_event *e;
    char *call_id;

    login_ok(a, "alice", "alice-password");

    /* Callee offline, unknown callee, calling yourself. */
    g_assert_cmpint(vid_client_call_invite(a->client, "bob", "v=0\r\n", &id),
                    ==, VID_OK);
    e = expect(a, VID_EVENT_ERROR);
    g_assert_cmpuint(e->request_id, ==, id);
    g_assert_cmpint(e->code, ==, VID_EOFFLINE);
    g_assert_cmpstr(e->server_code, ==, "callee_offline");
    rec_event_free(e);
    g_assert_cmpint(
        vid_client_call_invite(a->client, "nosuchuser", "v=0\r\n", &id), ==,
        VID_OK);
    e = expect(a, VID_EVENT_ERROR);
    g_assert_cmpuint(e->request_id, ==, id);
    g_assert_cmpint(e->code, ==, VID_ENOTFOUND);
    rec_event_free(e);

    /* Reject. */
    login_ok(b, "bob", "bob-password");
    g_assert_cmpint(vid_client_call_invite(a->client, "bob", "v=0\r\n", &id),
                    ==, VID_OK);
    e = expect2(b, VID_EVENT_CALL_INVITE, a);
    call_id = g_strdup(e->call_id);
    rec_event_free(e);
    g_assert_cmpint(vid_client_call_reject(b->client, call_id, "busy", NULL),
                    ==, VID_OK);
    e = expect2(a, VID_EVENT_CALL_REJECT, b);
    g_assert_cmpstr(e->call_id, ==, call_id);
    g_assert_cmpstr(e->reason, ==, "busy");
    g_assert_cmpstr(e->user, ==, "bob");
    rec_event_free(e);

    /* A well-formed id that is not ours. */
    g_assert_cmpint(vid_client_call_ringing(
                        a->client, "0123456789abcdef0123456789abcdef", &id),
                    ==, VID_OK);
    e = expect(a, VID_EVENT_ERROR);
    g_assert_cmpuint(e->request_id, ==, id);
    g_assert_cmpint(e->code, ==, VID_ENOCALL);
    rec_event_free(e);
    g_free(call_id);
    peer_free(a);
    peer_free(b);
}

static void test_second_device_cancel(void)
{
    peer *a = peer_new("alice", "laptop", TRUE);
    peer *b1 = peer_new("bob", "phone", FALSE);
    peer *b2 = peer_new("bob", "tablet", TRUE);
    peer *all[] = {a, b1, b2};
    rec_event *e;
    char *call_id;

    login_ok(a, "alice", "alice-password");
    login_ok(b1, "bob", "bob-password");
    login_ok(b2, "bob", "bob-password");
    g_assert_cmpint(vid_client_call_invite(a->client, "bob", "v=0\r\n", NULL),
                    ==, VID_OK);
    e = expect_among(b1, VID_EVENT_CALL_INVITE, all, 3);
    call_id = g_strdup(e->call_id);
    rec_event_free(e);
    e = expect_among(b2, VID_EVENT_CALL_INVITE, all, 3);
    g_assert_cmpstr(e->call_id, ==, call_id);
    rec_event_free(e);
    g_assert_cmpint(
        vid_client_call_accept(b1->client, call_id, "v=0\r\n", NULL), ==,
        VID_OK);
    e = expect_among(b2, VID_EVENT_CALL_CANCEL, all, 3);
    g_assert_cmpstr(e->call_id, ==, call_id);
    g_assert_cmpstr(e->reason, ==, "answered_elsewhere");
    rec_event_free(e);
    e = expect_among(a, VID_EVENT_CALL_ACCEPT, all, 3);
    g_assert_cmpstr(e->device, ==, "phone");
    rec_event_free(e);
    g_free(call_id);
    peer_free(a);
    peer_free(b1);
    peer_free(b2);
}

static void test_reconnect(void)
{
    peer *a = peer_new("alice", "laptop", FALSE);
    peer *b;
    const char *users[] = {"bob"};
    rec_event *e;
    gint64 t0;

    login_ok(a, "alice", "alice-password");
    g_assert_cmpint(vid_client_subscribe_presence(a->client, users, 1, NULL),
                    ==, VID_OK);
    e = expect(a, VID_EVENT_PRESENCE);
    g_assert_false(e->online);
    rec_event_free(e);

    t0 = g_get_monotonic_time();
    vid_test_server_restart(server);
    e = expect(a, VID_EVENT_DISCONNECTED);
    g_assert_true(e->will_reconnect);
    g_assert_cmpuint(e->code, !=, VID_OK);
    rec_event_free(e);
    /* Back-off with full jitter: the retries before the server is up
     * again sum to at most 0.5 + 1 + 2 + 4 + 8 + 16 s (slow under
     * sanitizers or valgrind). */
    e = expect_within(a, VID_EVENT_LOGGED_IN, &a, 1, 45000);
    g_assert_cmpuint(e->request_id, ==, 0); /* automatic */
    g_assert_cmpstr(e->user, ==, "alice");
    rec_event_free(e);
    if (g_test_verbose())
        g_printerr("  re-logged in %.0f ms after the restart began\n",
                   (g_get_monotonic_time() - t0) / 1000.0);

    /* The presence subscription was renewed: bob (who still exists after
     * the restart) coming online is seen. */
    b = peer_new("bob", "phone", TRUE);
    login_ok(b, "bob", "bob-password");
    for (;;) {
        e = expect2(a, VID_EVENT_PRESENCE, b);
        if (e->online)
            break;
        rec_event_free(e); /* the renewed subscription's "offline" */
    }
    g_assert_cmpstr(e->user, ==, "bob");
    g_assert_cmpstr(e->device, ==, "phone");
    rec_event_free(e);
    peer_free(b);
    peer_free(a);
}

static void test_no_reconnect_after_bad_credentials(void)
{
    peer *a = peer_new("alice", "laptop", TRUE);
    rec_event *e;

    g_assert_cmpint(vid_client_login(a->client, "alice", "wrong", NULL), ==,
                    VID_OK);
    e = expect(a, VID_EVENT_LOGIN_FAILED);
    rec_event_free(e);
    vid_test_server_restart(server);
    e = expect(a, VID_EVENT_DISCONNECTED);
    g_assert_false(e->will_reconnect);
    rec_event_free(e);
    /* Nothing more happens. */
    pump(&a, 1, 1500, NULL, NULL);
    g_assert_cmpuint(g_queue_get_length(&a->events), ==, 0);
    peer_free(a);
}

static void test_bad_args(void)
{
    vid_client_options opts = VID_CLIENT_OPTIONS_INIT;
    vid_client *c = NULL;
    peer *a;
    char big[70000];
    const char *users[] = {"bob", NULL};
    const char *bad_users[] = {"bob", "bad name"};
    vid_policy *pol;
    uint64_t id = 42;
    char *dir = g_build_filename(tmp_root, "args", NULL);

    /* vid_client_new */
    g_assert_cmpint(vid_client_new(NULL, &opts), ==, VID_EINVAL);
    g_assert_cmpint(vid_client_new(&c, NULL), ==, VID_EINVAL);
    g_assert_cmpint(vid_client_new(&c, &opts), ==, VID_EINVAL); /* no URL */
    g_assert_nonnull(strstr(vid_client_last_error(NULL), "URL"));
    opts.server_url = "http://127.0.0.1/";
    g_assert_cmpint(vid_client_new(&c, &opts), ==, VID_EINVAL);
    g_assert_nonnull(strstr(vid_client_last_error(NULL), "wss://"));
    opts.server_url = "wss://";
    g_assert_cmpint(vid_client_new(&c, &opts), ==, VID_EINVAL);
    opts.server_url = vid_test_server_url(server);
    opts.device_name = "bad device";
    g_assert_cmpint(vid_client_new(&c, &opts), ==, VID_EINVAL);
    g_assert_nonnull(strstr(vid_client_last_error(NULL), "device"));
    opts.device_name = "dev";
    opts.version = 99;
    g_assert_cmpint(vid_client_new(&c, &opts), ==, VID_EVERSION);
    g_assert_null(c);
    g_assert_cmpint(vid_client_options_init(&opts, 99), ==, VID_EVERSION);
    g_assert_cmpint(vid_client_options_init(NULL, VID_CLIENT_OPTIONS_VERSION),
                    ==, VID_EINVAL);
    g_assert_cmpint(vid_client_options_init(&opts, VID_CLIENT_OPTIONS_VERSION),
                    ==, VID_OK);
    g_assert_cmpint(opts.reconnect, ==, 1);
    /* State dir that cannot be created. */
    opts.server_url = vid_test_server_url(server);
    opts.state_dir = "/proc/no/such/dir";
    g_assert_cmpint(vid_client_new(&c, &opts), ==, VID_EIO);
    g_assert_nonnull(strstr(vid_client_last_error(NULL), "/proc/no"));

    /* NULL client everywhere. */
    vid_client_free(NULL);
    g_assert_cmpint(vid_client_set_event_callback(NULL, NULL, NULL), ==,
                    VID_EINVAL);
    g_assert_cmpint(vid_client_get_fd(NULL), ==, VID_EINVAL);
    g_assert_cmpint(vid_client_dispatch(NULL), ==, VID_EINVAL);
    g_assert_cmpint(vid_client_connect(NULL), ==, VID_EINVAL);
    g_assert_cmpint(vid_client_login(NULL, "a", "b", NULL), ==, VID_EINVAL);
    g_assert_cmpint(vid_client_subscribe_presence(NULL, users, 1, NULL), ==,
                    VID_EINVAL);
    g_assert_cmpint(vid_client_call_invite(NULL, "a", "b", NULL), ==,
                    VID_EINVAL);
    g_assert_cmpint(vid_client_call_ringing(NULL, "ab", NULL), ==, VID_EINVAL);
    g_assert_cmpint(vid_client_call_accept(NULL, "ab", "s", NULL), ==,
                    VID_EINVAL);
    g_assert_cmpint(vid_client_call_reject(NULL, "ab", "busy", NULL), ==,
                    VID_EINVAL);
    g_assert_cmpint(vid_client_call_candidate(NULL, "ab", "c", NULL, 0, NULL),
                    ==, VID_EINVAL);
    g_assert_cmpint(vid_client_call_hangup(NULL, "ab", NULL, NULL), ==,
                    VID_EINVAL);
    g_assert_cmpint(vid_client_get_policy(NULL, &pol), ==, VID_EINVAL);
    g_assert_null(vid_client_get_fingerprint(NULL));
    g_assert_null(vid_client_get_device_name(NULL));
    g_assert_cmpstr(vid_strerror(VID_EAUTH), ==, "wrong user name or password");
    g_assert_cmpstr(vid_strerror(12345), ==, "unknown error");
    g_assert_cmpstr(vid_strerror(VID_OK), ==, "success");
    for (int code = 0; code >= VID_EVERSION; code--)
        g_assert_cmpstr(vid_strerror(code), !=, "unknown error");

    /* A real client, logged in, fed bad arguments: nothing is sent. */
    a = peer_new("alice", "args", TRUE);
    g_assert_true(
        g_str_has_prefix(vid_client_get_fingerprint(a->client), "sha-256 "));
    g_assert_cmpint(vid_client_login(a->client, NULL, "x", &id), ==,
                    VID_EINVAL);
    g_assert_cmpuint(id, ==, 0);
    g_assert_cmpint(vid_client_login(a->client, "alice", NULL, NULL), ==,
                    VID_EINVAL);
    g_assert_cmpint(vid_client_login(a->client, "al ice", "x", NULL), ==,
                    VID_EINVAL);
    g_assert_cmpint(vid_client_login(a->client, "alice", "", NULL), ==,
                    VID_EINVAL);
    g_assert_cmpint(vid_client_login(a->client, "alice", "\xff\xfe", NULL), ==,
                    VID_EINVAL);
    g_assert_cmpint(vid_client_get_policy(a->client, NULL), ==, VID_EINVAL);
    login_ok(a, "alice", "alice-password");

    g_assert_cmpint(vid_client_subscribe_presence(a->client, NULL, 1, NULL), ==,
                    VID_EINVAL);
    g_assert_cmpint(vid_client_subscribe_presence(a->client, users, 0, NULL),
                    ==, VID_EINVAL);
    g_assert_cmpint(vid_client_subscribe_presence(a->client, users, 2, NULL),
                    ==, VID_EINVAL);
    g_assert_cmpint(
        vid_client_subscribe_presence(a->client, bad_users, 2, NULL), ==,
        VID_EINVAL);
    g_assert_nonnull(strstr(vid_client_last_error(a->client), "users[1]"));
    g_assert_cmpint(
        vid_client_subscribe_presence(a->client, users, 100000, NULL), ==,
        VID_EINVAL);
    g_assert_cmpint(vid_client_call_invite(a->client, NULL, "v=0", NULL), ==,
                    VID_EINVAL);
    g_assert_cmpint(vid_client_call_invite(a->client, "bob", NULL, NULL), ==,
                    VID_EINVAL);
    g_assert_cmpint(vid_client_call_invite(a->client, "bob", "", NULL), ==,
                    VID_EINVAL);
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    g_assert_cmpint(vid_client_call_invite(a->client, "bob", big, NULL), ==,
                    VID_EINVAL);
    g_assert_nonnull(strstr(vid_client_last_error(a->client), "sdp"));
    g_assert_cmpint(vid_client_call_ringing(a->client, NULL, NULL), ==,
                    VID_EINVAL);
    g_assert_cmpint(vid_client_call_ringing(a->client, "NOT-HEX", NULL), ==,
                    VID_EINVAL);
    g_assert_nonnull(strstr(vid_client_last_error(a->client), "call"));
    g_assert_cmpint(vid_client_call_accept(a->client, "ab", NULL, NULL), ==,
                    VID_EINVAL);
    g_assert_cmpint(vid_client_call_reject(a->client, "ab", NULL, NULL), ==,
                    VID_EINVAL);
    g_assert_cmpint(vid_client_call_reject(a->client, "ab", big, NULL), ==,
                    VID_EINVAL);
    g_assert_cmpint(
        vid_client_call_candidate(a->client, "ab", NULL, NULL, 0, NULL), ==,
        VID_EINVAL);
    g_assert_cmpint(
        vid_client_call_candidate(a->client, "ab", "c", NULL, 256, NULL), ==,
        VID_EINVAL);
    g_assert_cmpint(
        vid_client_call_candidate(a->client, "ab", "c", NULL, -2, NULL), ==,
        VID_EINVAL);
    g_assert_cmpint(
        vid_client_call_candidate(a->client, "ab", "c", "", 0, NULL), ==,
        VID_EINVAL);
    g_assert_cmpint(vid_client_call_hangup(a->client, "ab", "", NULL), ==,
                    VID_EINVAL);
    /* None of this reached the server: no error events arrive. */
    pump(&a, 1, 500, NULL, NULL);
    g_assert_cmpuint(g_queue_get_length(&a->events), ==, 0);

    /* No callback: events are dropped, nothing crashes. */
    g_assert_cmpint(vid_client_set_event_callback(a->client, NULL, NULL), ==,
                    VID_OK);
    g_assert_cmpint(vid_client_call_hangup(a->client, "ab", NULL, NULL), ==,
                    VID_OK);
    g_usleep(200000);
    g_assert_cmpint(vid_client_dispatch(a->client), >=, 0);
    peer_free(a);
    g_free(dir);
}

static void test_free_while_busy(void)
{
    /* Free while connecting, while logged in with traffic queued, and
     * with undelivered events: no crash, no leak (run under valgrind). */
    for (int round = 0; round < 3; round++) {
        peer *a = peer_new("alice", "busy", round == 1);
        const char *users[] = {"bob"};
        g_assert_cmpint(
            vid_client_login(a->client, "alice", "alice-password", NULL), ==,
            VID_OK);
        if (round >= 1) {
            rec_event *e = expect(a, VID_EVENT_LOGGED_IN);
            rec_event_free(e);
            g_assert_cmpint(
                vid_client_subscribe_presence(a->client, users, 1, NULL), ==,
                VID_OK);
            for (int i = 0; i < 5; i++)
                vid_client_call_invite(a->client, "bob", "v=0\r\n", NULL);
        }
        if (round == 2)
            g_usleep(300000); /* events wait, undelivered */
        peer_free(a);
    }
}

/* ---- a hostile server ---------------------------------------------------
 * A WebSocket server written with plain GIO on its own thread (TLS with the
 * fixture's certificate, hand-made handshake and frames), so it can send
 * what a real server never does. It answers a login with frames that
 * proto_parse() must reject — each one reported as a VID_EPROTO error,
 * without a crash — then a valid welcome and presence, then a frame over
 * 64 KiB that must end the connection. */

typedef struct {
    GSocketListener *listener;
    GCancellable *cancel;
    GTlsCertificate *cert;
    GThread *thread;
    gboolean speak_vid;
    gboolean cut;  /* close every connection before the TLS handshake */
    gint accepted; /* connections accepted so far (atomic) */
    char *url;
} hostile;

static void ws_send(GOutputStream *out, guint8 opcode, const void *data,
                    gsize len)
{
    guint8 head[10];
    gsize n = 0;

    head[n++] = 0x80 | opcode; /* FIN, unmasked (server to client) */
    if (len < 126) {
        head[n++] = (guint8) len;
    } else if (len < 65536) {
        head[n++] = 126;
        head[n++] = (guint8) (len >> 8);
        head[n++] = (guint8) len;
    } else {
        head[n++] = 127;
        for (int i = 7; i >= 0; i--)
            head[n++] = (guint8) ((guint64) len >> (8 * i));
    }
    g_output_stream_write_all(out, head, n, NULL, NULL, NULL);
    g_output_stream_write_all(out, data, len, NULL, NULL, NULL);
}

static void ws_text(GOutputStream *out, const char *text)
{
    ws_send(out, 0x1, text, strlen(text));
}

/* Read one (masked) client frame; returns its opcode, -1 on EOF/error. */
static int ws_read(GInputStream *in, GCancellable *cancel, GByteArray *data)
{
    guint8 h[2], mask[4], ext[8];
    guint64 len;
    gsize got;

    if (!g_input_stream_read_all(in, h, 2, &got, cancel, NULL) || got != 2)
        return -1;
    len = h[1] & 0x7f;
    if (len == 126 || len == 127) {
        gsize n = len == 126 ? 2 : 8;
        if (!g_input_stream_read_all(in, ext, n, &got, cancel, NULL) ||
            got != n)
            return -1;
        len = 0;
        for (gsize i = 0; i < n; i++)
            len = len << 8 | ext[i];
    }
    if (len > 1 << 20 ||
        !g_input_stream_read_all(in, mask, 4, &got, cancel, NULL) || got != 4)
        return -1;
    g_byte_array_set_size(data, (guint) len);
    if (!g_input_stream_read_all(in, data->data, len, &got, cancel, NULL) ||
        got != len)
        return -1;
    for (guint64 i = 0; i < len; i++)
        data->data[i] ^= mask[i % 4];
    return h[0] & 0x0f;
}

static void hostile_script(GOutputStream *out, json_int_t id)
{
    static const guint8 bin[] = {0, 1, 2};
    char *welcome;
    char *big;

    ws_text(out, "this is not JSON");
    ws_text(out, "[1,2,3]");
    ws_text(out, "{\"type\":\"welcome\"}");
    ws_text(out, "{\"type\":\"no.such.type\"}");
    /* A type only clients may send. */
    ws_text(out, "{\"type\":\"login\",\"id\":1,\"user\":\"a\",\"password\":"
                 "\"b\",\"device\":\"c\",\"fingerprint\":\"d\"}");
    /* Call id with non-hex characters, bad fingerprint. */
    ws_text(out, "{\"type\":\"call.invite\",\"call\":\"XYZ!\",\"from\":"
                 "\"bob\",\"from_device\":\"p\",\"fingerprint\":\"sha-1 00\","
                 "\"sdp\":\"v=0\"}");
    ws_text(out, "{\"type\":\"presence\",\"user\":\"bob\",\"status\":"
                 "\"maybe\"}");
    ws_text(out, "{\"type\":\"call.hangup\",\"call\":\"ab\",\"reason\":7}");
    ws_send(out, 0x2, bin, sizeof bin);
    /* Then a valid welcome with a policy full of garbage, and presence. */
    welcome = g_strdup_printf(
        "{\"type\":\"welcome\",\"re\":%" JSON_INTEGER_FORMAT
        ",\"user\":\"alice\",\"device\":\"hostile\","
        "\"policy\":{\"ice_servers\":\"x\",\"media_port_min\":\"y\","
        "\"limits\":null}}",
        id);
    ws_text(out, welcome);
    g_free(welcome);
    ws_text(out,
            "{\"type\":\"presence\",\"user\":\"bob\",\"status\":\"offline\"}");
    /* Finally a frame over 64 KiB: the client must drop the connection. */
    big = g_malloc(70001);
    memset(big, ' ', 70000);
    big[0] = '{';
    big[69999] = '}';
    big[70000] = '\0';
    ws_text(out, big);
    g_free(big);
}

static void hostile_serve(hostile *h, GIOStream *tls)
{
    GInputStream *in = g_io_stream_get_input_stream(tls);
    GOutputStream *out = g_io_stream_get_output_stream(tls);
    GString *req = g_string_new(NULL);
    GByteArray *frame = g_byte_array_new();
    const char *key;
    char *key_value = NULL;
    char *accept = NULL;
    char *resp;
    int op;

    /* The HTTP upgrade request, up to the empty line. */
    while (!g_str_has_suffix(req->str, "\r\n\r\n") && req->len < 8192) {
        char c;
        gsize got;
        if (!g_input_stream_read_all(in, &c, 1, &got, h->cancel, NULL) ||
            got != 1)
            goto done;
        g_string_append_c(req, c);
    }
    key = strstr(req->str, "Sec-WebSocket-Key: ");
    if (key == NULL)
        goto done;
    key += strlen("Sec-WebSocket-Key: ");
    key_value = g_strndup(key, strcspn(key, "\r\n"));
    {
        GChecksum *sha1 = g_checksum_new(G_CHECKSUM_SHA1);
        guint8 digest[20];
        gsize dlen = sizeof digest;
        g_checksum_update(sha1, (const guchar *) key_value, -1);
        g_checksum_update(
            sha1, (const guchar *) "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", -1);
        g_checksum_get_digest(sha1, digest, &dlen);
        g_checksum_free(sha1);
        accept = g_base64_encode(digest, dlen);
    }
    resp = g_strdup_printf(
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: %s\r\n%s\r\n",
        accept, h->speak_vid ? "Sec-WebSocket-Protocol: vid.v1\r\n" : "");
    g_output_stream_write_all(out, resp, strlen(resp), NULL, h->cancel, NULL);
    g_free(resp);

    while ((op = ws_read(in, h->cancel, frame)) >= 0) {
        if (op == 0x8) { /* close: answer it, done */
            ws_send(out, 0x8, frame->data, frame->len > 2 ? 2 : frame->len);
            break;
        }
        if (op == 0x9) { /* ping */
            ws_send(out, 0xA, frame->data, frame->len);
            continue;
        }
        if (op == 0x1) {
            json_t *login =
                json_loadb((const char *) frame->data, frame->len, 0, NULL);
            json_int_t id = json_integer_value(json_object_get(login, "id"));
            json_decref(login);
            if (id > 0)
                hostile_script(out, id);
        }
    }
done:
    g_free(key_value);
    g_free(accept);
    g_string_free(req, TRUE);
    g_byte_array_free(frame, TRUE);
}

static gpointer hostile_main(gpointer data)
{
    hostile *h = data;

    for (;;) {
        GSocketConnection *conn =
            g_socket_listener_accept(h->listener, NULL, h->cancel, NULL);
        GIOStream *tls;

        if (conn == NULL)
            break; /* cancelled */
        g_atomic_int_inc(&h->accepted);
        if (h->cut) {
            g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
            g_object_unref(conn);
            continue;
        }
        tls = g_tls_server_connection_new(G_IO_STREAM(conn), h->cert, NULL);
        if (tls != NULL &&
            g_tls_connection_handshake(G_TLS_CONNECTION(tls), h->cancel, NULL))
            hostile_serve(h, tls);
        if (tls != NULL) {
            g_io_stream_close(tls, NULL, NULL);
            g_object_unref(tls);
        }
        g_object_unref(conn);
    }
    return NULL;
}

static hostile *hostile_new(gboolean speak_vid)
{
    hostile *h = g_new0(hostile, 1);
    char *dir = g_path_get_dirname(vid_test_server_ca_file(server));
    char *key = g_build_filename(dir, "key.pem", NULL);
    GError *error = NULL;
    GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    GSocketAddress *addr = g_inet_socket_address_new(lo, 0);
    GSocketAddress *bound = NULL;

    /* The fixture's certificate (SAN 127.0.0.1) and key, so the client
     * trusts us with the fixture's CA file. */
    h->cert = g_tls_certificate_new_from_files(vid_test_server_ca_file(server),
                                               key, &error);
    g_assert_no_error(error);
    h->speak_vid = speak_vid;
    h->cancel = g_cancellable_new();
    h->listener = g_socket_listener_new();
    g_assert_true(g_socket_listener_add_address(
        h->listener, addr, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
        &bound, &error));
    g_assert_no_error(error);
    h->url = g_strdup_printf(
        "wss://127.0.0.1:%u/",
        g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound)));
    h->thread = g_thread_new("hostile-server", hostile_main, h);
    g_object_unref(bound);
    g_object_unref(addr);
    g_object_unref(lo);
    g_free(key);
    g_free(dir);
    return h;
}

static void hostile_free(hostile *h)
{
    g_cancellable_cancel(h->cancel);
    g_thread_join(h->thread);
    g_socket_listener_close(h->listener);
    g_object_unref(h->listener);
    g_object_unref(h->cancel);
    g_object_unref(h->cert);
    g_free(h->url);
    g_free(h);
}

static peer *peer_at_full(const char *name, const char *url, gboolean fd_mode,
                          int reconnect)
{
    peer *p = g_new0(peer, 1);
    vid_client_options opts = VID_CLIENT_OPTIONS_INIT;

    p->name = name;
    p->fd_mode = fd_mode;
    g_queue_init(&p->events);
    p->state_dir = g_build_filename(tmp_root, name, NULL);
    opts.server_url = url;
    opts.ca_file = vid_test_server_ca_file(server);
    opts.state_dir = p->state_dir;
    opts.device_name = "hostile";
    opts.main_context = fd_mode ? NULL : test_ctx;
    opts.reconnect = reconnect;
    g_assert_cmpint(vid_client_new(&p->client, &opts), ==, VID_OK);
    vid_client_set_event_callback(p->client, on_event, p);
    return p;
}

static peer *peer_at(const char *name, const char *url, gboolean fd_mode)
{
    return peer_at_full(name, url, fd_mode, 0);
}

static void test_hostile_server(void)
{
    hostile *h = hostile_new(TRUE);
    peer *a = peer_at("alice-hostile", h->url, TRUE);
    vid_policy *pol = NULL;
    int proto_errors = 0;
    gboolean logged_in = FALSE, presence = FALSE;
    rec_event *e;

    g_assert_cmpint(vid_client_login(a->client, "alice", "pw", NULL), ==,
                    VID_OK);
    for (;;) {
        e = expect(a, VID_EVENT_ERROR);
        g_assert_cmpint(e->code, ==, VID_EPROTO);
        g_assert_cmpuint(e->request_id, ==, 0);
        g_assert_nonnull(e->message);
        proto_errors++;
        rec_event_free(e);
        if (proto_errors == 9)
            break;
    }
    /* What was valid got through, in order. */
    e = expect(a, VID_EVENT_LOGGED_IN);
    logged_in = TRUE;
    rec_event_free(e);
    g_assert_cmpint(vid_client_get_policy(a->client, &pol), ==, VID_OK);
    g_assert_cmpuint(pol->n_ice_servers, ==, 0);
    g_assert_cmpuint(pol->media_port_min, ==, 0);
    vid_policy_free(pol);
    e = expect(a, VID_EVENT_PRESENCE);
    presence = TRUE;
    g_assert_cmpstr(e->user, ==, "bob");
    rec_event_free(e);
    /* The oversize frame ends the connection. */
    e = expect(a, VID_EVENT_DISCONNECTED);
    g_assert_cmpint(e->code, !=, VID_OK);
    rec_event_free(e);
    g_assert_true(logged_in && presence);
    peer_free(a);
    hostile_free(h);
}

static void test_wrong_subprotocol(void)
{
    /* A WebSocket server that does not speak vid.v1. */
    hostile *h = hostile_new(FALSE);
    peer *a = peer_at("alice-proto", h->url, FALSE);
    rec_event *e;

    g_assert_cmpint(vid_client_login(a->client, "alice", "pw", NULL), ==,
                    VID_OK);
    e = expect(a, VID_EVENT_DISCONNECTED);
    g_assert_cmpint(e->code, ==, VID_EPROTO);
    g_assert_false(e->will_reconnect);
    g_assert_nonnull(strstr(e->message, "vid.v1"));
    rec_event_free(e);
    peer_free(a);
    hostile_free(h);
}

static void test_handshake_cut(void)
{
    /* A server that closes the connection before the TLS handshake ends,
     * as a stopping or restarting server does to connections in its
     * listen queue: a transient network failure, retried, not a TLS
     * verdict on the server's certificate. */
    hostile *h = hostile_new(TRUE);
    peer *a;
    rec_event *e;

    h->cut = TRUE;
    a = peer_at_full("alice-cut", h->url, TRUE, 1);
    g_assert_cmpint(vid_client_login(a->client, "alice", "pw", NULL), ==,
                    VID_OK);
    e = expect(a, VID_EVENT_DISCONNECTED);
    if (g_test_verbose())
        g_printerr("  cut: code %d, %s\n", e->code, e->message);
    g_assert_true(e->will_reconnect);
    g_assert_cmpint(e->code, !=, VID_ETLS);
    rec_event_free(e);
    /* And it keeps trying. */
    e = expect(a, VID_EVENT_DISCONNECTED);
    g_assert_true(e->will_reconnect);
    rec_event_free(e);
    g_assert_cmpint(g_atomic_int_get(&h->accepted), >=, 2);
    peer_free(a);
    hostile_free(h);
}

typedef struct {
    int events;
    gboolean freed;
} free_cb_state;

static void free_on_login(vid_client *c, const vid_event *ev, void *data)
{
    free_cb_state *st = data;

    g_assert_false(st->freed); /* nothing after the free */
    st->events++;
    if (ev->type == VID_EVENT_LOGGED_IN) {
        vid_client_free(c);
        st->freed = TRUE;
    }
}

/* vid_client_free() from inside the callback, in both delivery modes. */
static void test_free_from_callback(gconstpointer data)
{
    gboolean fd_mode = GPOINTER_TO_INT(data);
    char *dir = g_build_filename(tmp_root, "cbfree", NULL);
    vid_client *c =
        new_client(dir, "cbfree", vid_test_server_ca_file(server), fd_mode, 1);
    free_cb_state st = {0};
    gint64 deadline = g_get_monotonic_time() + TIMEOUT_MS * 1000;

    vid_client_set_event_callback(c, free_on_login, &st);
    g_assert_cmpint(vid_client_login(c, "alice", "alice-password", NULL), ==,
                    VID_OK);
    while (!st.freed && g_get_monotonic_time() < deadline) {
        if (fd_mode) {
            struct pollfd pfd = {vid_client_get_fd(c), POLLIN, 0};
            if (poll(&pfd, 1, 10) > 0)
                vid_client_dispatch(c);
        } else {
            g_main_context_iteration(test_ctx, FALSE);
            g_usleep(2000);
        }
    }
    g_assert_true(st.freed);
    /* The context holds no source of the freed client any more. */
    for (int i = 0; i < 20; i++)
        g_main_context_iteration(test_ctx, FALSE);
    g_free(dir);
}

typedef struct {
    vid_client *client;
    uint64_t ids[20];
} thread_calls;

static gpointer call_from_thread(gpointer data)
{
    thread_calls *tc = data;

    for (int i = 0; i < 20; i++)
        g_assert_cmpint(vid_client_call_invite(tc->client, "nosuchuser",
                                               "v=0\r\n", &tc->ids[i]),
                        ==, VID_OK);
    return NULL;
}

static void test_calls_from_other_thread(void)
{
    /* Public functions called on another thread while this one
     * dispatches: every request is answered, on this thread (on_event
     * asserts the thread), with its own request id. */
    peer *a = peer_new("alice", "threads", TRUE);
    thread_calls tc = {0};
    GThread *t;

    login_ok(a, "alice", "alice-password");
    tc.client = a->client;
    t = g_thread_new("caller", call_from_thread, &tc);
    g_thread_join(t);
    for (int i = 0; i < 20; i++) {
        rec_event *e = expect(a, VID_EVENT_ERROR);
        g_assert_cmpint(e->code, ==, VID_ENOTFOUND);
        g_assert_cmpuint(e->request_id, ==, tc.ids[i]);
        rec_event_free(e);
    }
    peer_free(a);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    test_ctx = g_main_context_new();
    /* Thread-default too, so that the hostile SoupServer's connections
     * live on it. */
    g_main_context_push_thread_default(test_ctx);
    test_thread = g_thread_self();
    tmp_root = g_dir_make_tmp("vid-test-client-XXXXXX", NULL);
    g_assert_nonnull(tmp_root);
    server = vid_test_server_start(NULL);
    vid_test_server_add_user(server, "alice", "alice-password");
    vid_test_server_add_user(server, "bob", "bob-password");

    g_test_add_data_func("/client/login/ok-context", GINT_TO_POINTER(FALSE),
                         test_login_ok);
    g_test_add_data_func("/client/login/ok-fd", GINT_TO_POINTER(TRUE),
                         test_login_ok);
    g_test_add_func("/client/login/wrong-password", test_login_wrong_password);
    g_test_add_func("/client/login/unknown-user", test_login_unknown_user);
    g_test_add_func("/client/login/policy", test_policy_from_config);
    g_test_add_func("/client/login/session-replaced", test_session_replaced);
    g_test_add_func("/client/login/throttled", test_login_throttled);
    g_test_add_func("/client/login/identity-change-refused",
                    test_identity_change_refused);
    g_test_add_func("/client/tls/wrong-ca", test_tls_wrong_ca);
    g_test_add_func("/client/proto/hostile-server", test_hostile_server);
    g_test_add_func("/client/proto/wrong-subprotocol", test_wrong_subprotocol);
    g_test_add_func("/client/reconnect/handshake-cut", test_handshake_cut);
    g_test_add_func("/client/presence", test_presence);
    g_test_add_data_func("/client/call/flow-caller-fd", GINT_TO_POINTER(TRUE),
                         test_call_flow);
    g_test_add_data_func("/client/call/flow-caller-context",
                         GINT_TO_POINTER(FALSE), test_call_flow);
    g_test_add_func("/client/call/reject-and-errors",
                    test_call_reject_and_errors);
    g_test_add_func("/client/call/second-device-cancel",
                    test_second_device_cancel);
    g_test_add_func("/client/reconnect/server-restart", test_reconnect);
    g_test_add_func("/client/reconnect/not-after-bad-credentials",
                    test_no_reconnect_after_bad_credentials);
    g_test_add_func("/client/api/bad-args", test_bad_args);
    g_test_add_func("/client/api/free-while-busy", test_free_while_busy);
    g_test_add_data_func("/client/api/free-from-callback-fd",
                         GINT_TO_POINTER(TRUE), test_free_from_callback);
    g_test_add_data_func("/client/api/free-from-callback-context",
                         GINT_TO_POINTER(FALSE), test_free_from_callback);
    g_test_add_func("/client/api/calls-from-other-thread",
                    test_calls_from_other_thread);
    rc = g_test_run();

    vid_test_server_stop(server);
    /* Idle GIO worker threads (TLS handshakes) exit now rather than while
     * LeakSanitizer inspects the process at exit. */
    g_thread_pool_stop_unused_threads();
    g_usleep(100000);
    {
        char *argv_rm[] = {"rm", "-rf", tmp_root, NULL};
        g_spawn_sync(NULL, argv_rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                     NULL, NULL, NULL);
    }
    g_free(tmp_root);
    g_main_context_pop_thread_default(test_ctx);
    g_main_context_unref(test_ctx);
    return rc;
}
