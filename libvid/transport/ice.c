/*
 * ice.c — one libnice agent per call: RFC 5245 full mode, one stream with
 * one component (BUNDLE + rtcp-mux), trickle both ways, STUN/TURN from the
 * policy, relay-only filtering, port range, ICE-TCP, consent freshness,
 * restart, and the diagnosis of why ICE failed.
 *
 * Runs on the GMainContext given to ice_agent_new(); libnice emits its
 * signals there after dropping its lock, and so do our callbacks.
 */
#include <string.h>

#include <gio/gio.h>
#include <nice.h>

#include "transport-private.h"

#define ICE_COMPONENT 1

typedef struct {
    char host[256]; /* as in the URL (TLS verifies against it) */
    char ip[64];    /* what libnice talks to (127.0.0.1 for TLS) */
    unsigned port;  /* ditto (the forwarder's port for TLS) */
    bool tcp;
    bool tls;
    bool tls_failed;
    turn_tls_proxy *tls_proxy;
} turn_server;

struct ice_agent {
    NiceAgent *agent;
    guint stream;
    GMainContext *ctx;
    ice_callbacks cb;
    bool relay_only;
    bool gathering;
    bool local_done;
    bool remote_done;
    bool connected; /* since the last (re)start */
    bool failed;
    unsigned n_local;  /* candidates emitted (after the relay filter) */
    unsigned n_remote; /* remote candidates accepted */
    GPtrArray *local;  /* emitted candidate strings, for restarts */
    turn_server turn[TRANSPORT_MAX_TURN];
    size_t n_turn;
    char *turn_user, *turn_pass;
    turn_probe *probe;
    GSource *gather_watchdog;
};

/* libnice can leave gathering unfinished when a TURN-over-TCP connection
 * breaks (it never times the discovery out). Past this, we stop waiting. */
#define ICE_GATHER_WATCHDOG_S 30

static const char *cand_type_str(NiceCandidateType t)
{
    switch (t) {
    case NICE_CANDIDATE_TYPE_HOST:
        return "host";
    case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE:
        return "srflx";
    case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE:
        return "prflx";
    case NICE_CANDIDATE_TYPE_RELAYED:
        return "relay";
    default:
        return "unknown";
    }
}

/* Resolves @host to an IP literal (blocking for names: policy hosts are
 * resolved once per call, before gathering). */
static int resolve(const char *host, char *ip, size_t cap)
{
    if (g_hostname_is_ip_address(host)) {
        if (g_strlcpy(ip, host, cap) >= cap)
            return TRANSPORT_EINVAL;
        return TRANSPORT_OK;
    }
    GResolver *r = g_resolver_get_default();
    GError *err = NULL;
    GList *addrs = g_resolver_lookup_by_name(r, host, NULL, &err);
    g_object_unref(r);
    if (addrs == NULL) {
        g_info("transport: cannot resolve %s: %s", host,
               err ? err->message : "?");
        g_clear_error(&err);
        return TRANSPORT_EINVAL;
    }
    char *s = g_inet_address_to_string(addrs->data);
    size_t n = g_strlcpy(ip, s, cap);
    g_free(s);
    g_resolver_free_addresses(addrs);
    return n < cap ? TRANSPORT_OK : TRANSPORT_EINVAL;
}

static void fail(ice_agent *a, transport_failure reason, const char *detail)
{
    if (a->failed)
        return;
    a->failed = true;
    a->cb.status(ICE_STATUS_FAILED, reason, detail ? detail : "", a->cb.ud);
}

static void probe_done(transport_failure result, const char *detail, void *ud)
{
    ice_agent *a = ud;
    const char *tls_err = turn_tls_proxy_last_error(a->turn[0].tls_proxy);
    if (result != TRANSPORT_FAIL_NONE && tls_err[0] != '\0')
        detail = tls_err; /* says more than "connection closed" */
    if (result == TRANSPORT_FAIL_NONE)
        fail(a, TRANSPORT_FAIL_ICE_NO_CANDIDATES,
             "the TURN server allocates for us but libnice got no relayed "
             "candidate");
    else
        fail(a, result, detail);
}

/* Both sides' candidates are known: fail now if either side has none. */
static void check_candidates(ice_agent *a)
{
    if (a->failed || !a->local_done)
        return;
    if (a->n_local == 0) {
        if (a->n_turn > 0 && a->probe == NULL) {
            /* Ask the first TURN server why (UDP, TCP, or TLS through
             * its forwarder). */
            const turn_server *t = &a->turn[0];
            if (turn_probe_start(&a->probe, a->ctx, t->ip, t->port, t->tcp,
                                 a->turn_user ? a->turn_user : "",
                                 a->turn_pass ? a->turn_pass : "", probe_done,
                                 a) != 0)
                fail(a, TRANSPORT_FAIL_ICE_NO_CANDIDATES,
                     "no local candidate; TURN probe could not start");
        } else if (a->n_turn == 0) {
            fail(a, TRANSPORT_FAIL_ICE_NO_CANDIDATES,
                 a->relay_only ? "relay policy but no TURN server"
                               : "no local candidate");
        }
        return;
    }
    if (a->remote_done && a->n_remote == 0)
        fail(a, TRANSPORT_FAIL_ICE_NO_CANDIDATES, "the peer sent no candidate");
}

static void on_new_candidate(NiceAgent *agent, NiceCandidate *c, gpointer ud)
{
    ice_agent *a = ud;
    if (c->stream_id != a->stream || c->component_id != ICE_COMPONENT)
        return;
    if (a->relay_only && c->type != NICE_CANDIDATE_TYPE_RELAYED)
        return;
    gchar *sdp = nice_agent_generate_local_candidate_sdp(agent, c);
    if (sdp == NULL)
        return;
    const char *line = g_str_has_prefix(sdp, "a=") ? sdp + 2 : sdp;
    a->n_local++;
    g_ptr_array_add(a->local, g_strdup(line));
    a->cb.candidate(line, a->cb.ud);
    g_free(sdp);
}

static void stop_watchdog(ice_agent *a)
{
    if (a->gather_watchdog != NULL) {
        g_source_destroy(a->gather_watchdog);
        g_source_unref(a->gather_watchdog);
        a->gather_watchdog = NULL;
    }
}

static void on_gathering_done(NiceAgent *agent, guint stream, gpointer ud)
{
    ice_agent *a = ud;
    (void) agent;
    if (stream != a->stream || a->local_done)
        return;
    stop_watchdog(a);
    a->local_done = true;
    a->cb.candidate(NULL, a->cb.ud);
    check_candidates(a);
}

static void on_state(NiceAgent *agent, guint stream, guint comp, guint state,
                     gpointer ud)
{
    ice_agent *a = ud;
    (void) agent;
    if (stream != a->stream || comp != ICE_COMPONENT || a->failed)
        return;
    switch (state) {
    case NICE_COMPONENT_STATE_CONNECTING:
        a->cb.status(ICE_STATUS_CHECKING, TRANSPORT_FAIL_NONE, "", a->cb.ud);
        break;
    case NICE_COMPONENT_STATE_CONNECTED:
    case NICE_COMPONENT_STATE_READY:
        a->connected = true;
        a->cb.status(ICE_STATUS_CONNECTED, TRANSPORT_FAIL_NONE, "", a->cb.ud);
        break;
    case NICE_COMPONENT_STATE_FAILED:
        if (a->connected)
            fail(a, TRANSPORT_FAIL_ICE_CONSENT_LOST,
                 "the peer stopped answering consent checks");
        else if (a->n_local == 0 || a->n_remote == 0)
            check_candidates(a);
        else
            fail(a, TRANSPORT_FAIL_ICE_CHECKS_FAILED,
                 "every candidate pair failed its checks");
        break;
    default:
        break;
    }
}

static void on_selected_pair(NiceAgent *agent, guint stream, guint comp,
                             NiceCandidate *l, NiceCandidate *r, gpointer ud)
{
    ice_agent *a = ud;
    (void) agent;
    (void) l;
    (void) r;
    if (stream == a->stream && comp == ICE_COMPONENT && a->cb.selected_pair)
        a->cb.selected_pair(a->cb.ud);
}

static void on_recv(NiceAgent *agent, guint stream, guint comp, guint len,
                    gchar *buf, gpointer ud)
{
    ice_agent *a = ud;
    (void) agent;
    (void) stream;
    (void) comp;
    a->cb.recv((uint8_t *) buf, len, a->cb.ud);
}

/* A TLS connection to a turns: server failed (untrusted certificate,
 * refused, ...). libnice would wait for its TURN-over-TCP discovery for
 * ever; when relay-only and every TURN server is such a failed turns:
 * one, no relayed candidate can come: gathering is over. */
static void tls_failed(void *ud)
{
    ice_agent *a = ud;
    for (size_t i = 0; i < a->n_turn; i++)
        if (a->turn[i].tls_proxy != NULL &&
            turn_tls_proxy_last_error(a->turn[i].tls_proxy)[0] != '\0')
            a->turn[i].tls_failed = true;
    if (!a->relay_only || a->local_done || !a->gathering)
        return;
    for (size_t i = 0; i < a->n_turn; i++)
        if (!a->turn[i].tls_failed)
            return;
    on_gathering_done(a->agent, a->stream, a);
}

int ice_agent_new(ice_agent **out, GMainContext *ctx, bool controlling,
                  const transport_policy *policy,
                  const char *const *local_addresses, const ice_callbacks *cb)
{
    if (out == NULL || ctx == NULL || cb == NULL || cb->candidate == NULL ||
        cb->status == NULL || cb->recv == NULL)
        return TRANSPORT_EINVAL;
    *out = NULL;
    transport_policy defpol = TRANSPORT_POLICY_INIT;
    if (policy == NULL)
        policy = &defpol;
    if (policy->n_turn_urls > TRANSPORT_MAX_TURN ||
        (policy->port_min > policy->port_max) || policy->port_max > 65535 ||
        (!policy->ice_udp && !policy->ice_tcp))
        return TRANSPORT_EINVAL;

    ice_agent *a = g_new0(ice_agent, 1);
    a->ctx = ctx;
    a->cb = *cb;
    a->relay_only = policy->relay_only;
    a->local = g_ptr_array_new_with_free_func(g_free);
    int rc = TRANSPORT_EINVAL;

    char stun_ip[64] = "";
    unsigned stun_port = 0;
    if (policy->stun_url != NULL) {
        bool is_turn, tls, tcp;
        char host[256];
        if (transport_parse_ice_url(policy->stun_url, &is_turn, &tls, &tcp,
                                    host, sizeof host, &stun_port) != 0 ||
            is_turn || resolve(host, stun_ip, sizeof stun_ip) != 0) {
            g_info("transport: bad STUN URL");
            goto done;
        }
    }
    for (size_t i = 0; i < policy->n_turn_urls; i++) {
        bool is_turn;
        turn_server *t = &a->turn[a->n_turn];
        if (transport_parse_ice_url(policy->turn_urls[i], &is_turn, &t->tls,
                                    &t->tcp, t->host, sizeof t->host,
                                    &t->port) != 0 ||
            !is_turn ||
            (!t->tls && resolve(t->host, t->ip, sizeof t->ip) != 0)) {
            g_info("transport: bad TURN URL %s",
                   policy->turn_urls[i] ? policy->turn_urls[i] : "(null)");
            goto done;
        }
        a->n_turn++;
        if (t->tls) {
            unsigned lport = 0;
            int prc = turn_tls_proxy_new(&t->tls_proxy, ctx, t->host, t->port,
                                         policy->turn_tls_ca_file, tls_failed,
                                         a, &lport);
            if (prc != 0) {
                rc = prc;
                goto done;
            }
            g_strlcpy(t->ip, "127.0.0.1", sizeof t->ip);
            t->port = lport;
        }
    }
    if (a->n_turn > 0 &&
        (policy->turn_username == NULL || policy->turn_credential == NULL)) {
        g_info("transport: TURN servers without credentials");
        goto done;
    }
    a->turn_user = g_strdup(policy->turn_username);
    a->turn_pass = g_strdup(policy->turn_credential);

    rc = TRANSPORT_EFAIL;
    NiceAgentOption opts =
        NICE_AGENT_OPTION_ICE_TRICKLE | NICE_AGENT_OPTION_CONSENT_FRESHNESS;
    a->agent = nice_agent_new_full(ctx, NICE_COMPATIBILITY_RFC5245, opts);
    if (a->agent == NULL)
        goto done;
    g_object_set(a->agent, "controlling-mode", controlling,
                 "keepalive-conncheck", TRUE, "ice-udp", policy->ice_udp,
                 "ice-tcp", policy->ice_tcp, "force-relay", policy->relay_only,
                 "upnp", FALSE,
                 /* 200+400+...+3200 ms: a dead pair fails in ~6 s. */
                 "stun-max-retransmissions", 5,
                 /* Ta = 5 ms, the RFC 8445 section 14.2 minimum (libnice
                  * defaults to 20): one stream with one component keeps
                  * the check rate low, and on loopback it cuts gather ->
                  * ICE connected from ~64 ms to ~19 ms. */
                 "stun-pacing-timer", 5, NULL);
    if (stun_ip[0] != '\0')
        g_object_set(a->agent, "stun-server", stun_ip, "stun-server-port",
                     stun_port, NULL);
    if (local_addresses != NULL) {
        for (size_t i = 0; local_addresses[i] != NULL; i++) {
            NiceAddress addr;
            nice_address_init(&addr);
            if (!nice_address_set_from_string(&addr, local_addresses[i]) ||
                !nice_agent_add_local_address(a->agent, &addr)) {
                g_info("transport: bad local address %s", local_addresses[i]);
                rc = TRANSPORT_EINVAL;
                goto done;
            }
        }
    }
    a->stream = nice_agent_add_stream(a->agent, 1);
    if (a->stream == 0)
        goto done;
    if (policy->port_min > 0)
        nice_agent_set_port_range(a->agent, a->stream, ICE_COMPONENT,
                                  policy->port_min, policy->port_max);
    for (size_t i = 0; i < a->n_turn; i++) {
        const turn_server *t = &a->turn[i];
        /* TLS goes through our forwarder, so libnice speaks plain TCP. */
        NiceRelayType type =
            t->tcp ? NICE_RELAY_TYPE_TURN_TCP : NICE_RELAY_TYPE_TURN_UDP;
        if (!nice_agent_set_relay_info(a->agent, a->stream, ICE_COMPONENT,
                                       t->ip, t->port, a->turn_user,
                                       a->turn_pass, type))
            goto done;
    }
    g_signal_connect(a->agent, "new-candidate-full",
                     G_CALLBACK(on_new_candidate), a);
    g_signal_connect(a->agent, "candidate-gathering-done",
                     G_CALLBACK(on_gathering_done), a);
    g_signal_connect(a->agent, "component-state-changed", G_CALLBACK(on_state),
                     a);
    g_signal_connect(a->agent, "new-selected-pair-full",
                     G_CALLBACK(on_selected_pair), a);
    if (!nice_agent_attach_recv(a->agent, a->stream, ICE_COMPONENT, ctx,
                                on_recv, a))
        goto done;
    *out = a;
    a = NULL;
    rc = TRANSPORT_OK;
done:
    ice_agent_free(a);
    return rc;
}

static void agent_closed(GObject *src, GAsyncResult *res, gpointer ud)
{
    (void) src;
    (void) res;
    g_ptr_array_unref(ud);
}

void ice_agent_free(ice_agent *a)
{
    if (a == NULL)
        return;
    turn_probe_free(a->probe);
    stop_watchdog(a);
    /* TLS forwarders live until libnice has released its allocations. */
    GPtrArray *proxies =
        g_ptr_array_new_with_free_func((GDestroyNotify) turn_tls_proxy_free);
    for (size_t i = 0; i < a->n_turn; i++) {
        if (a->turn[i].tls_proxy != NULL) {
            turn_tls_proxy_stop_accepting(a->turn[i].tls_proxy);
            g_ptr_array_add(proxies, a->turn[i].tls_proxy);
        }
    }
    if (a->agent != NULL) {
        g_signal_handlers_disconnect_by_data(a->agent, a);
        if (a->stream != 0)
            nice_agent_attach_recv(a->agent, a->stream, ICE_COMPONENT, a->ctx,
                                   NULL, NULL);
        /* Releases TURN allocations; the task keeps the agent alive until
         * the relay answered (or timed out) on the agent's context. */
        nice_agent_close_async(a->agent, agent_closed, proxies);
        proxies = NULL;
        g_object_unref(a->agent);
    }
    if (proxies != NULL)
        g_ptr_array_unref(proxies);
    g_ptr_array_unref(a->local);
    g_free(a->turn_user);
    if (a->turn_pass != NULL) {
        memset(a->turn_pass, 0, strlen(a->turn_pass));
        g_free(a->turn_pass);
    }
    g_free(a);
}

static gboolean gather_watchdog_fired(gpointer ud)
{
    ice_agent *a = ud;
    g_info("transport: libnice did not finish gathering in %d s",
           ICE_GATHER_WATCHDOG_S);
    on_gathering_done(a->agent, a->stream, a);
    return G_SOURCE_REMOVE;
}

int ice_agent_gather(ice_agent *a)
{
    if (a->gathering)
        return TRANSPORT_ESTATE;
    a->gathering = true;
    a->gather_watchdog = g_timeout_source_new_seconds(ICE_GATHER_WATCHDOG_S);
    g_source_set_callback(a->gather_watchdog, gather_watchdog_fired, a, NULL);
    g_source_attach(a->gather_watchdog, a->ctx);
    if (!nice_agent_gather_candidates(a->agent, a->stream)) {
        fail(a, TRANSPORT_FAIL_ICE_NO_CANDIDATES,
             "libnice could not gather (no usable interface or port)");
        return TRANSPORT_EFAIL;
    }
    return TRANSPORT_OK;
}

int ice_agent_get_credentials(ice_agent *a, char *ufrag, size_t ucap, char *pwd,
                              size_t pcap)
{
    gchar *u = NULL, *p = NULL;
    if (!nice_agent_get_local_credentials(a->agent, a->stream, &u, &p))
        return TRANSPORT_EFAIL;
    int rc = TRANSPORT_OK;
    if (g_strlcpy(ufrag, u, ucap) >= ucap || g_strlcpy(pwd, p, pcap) >= pcap)
        rc = TRANSPORT_ENOSPACE;
    g_free(u);
    g_free(p);
    return rc;
}

int ice_agent_set_remote_credentials(ice_agent *a, const char *ufrag,
                                     const char *pwd)
{
    if (ufrag == NULL || pwd == NULL || ufrag[0] == '\0' || pwd[0] == '\0' ||
        strlen(ufrag) > 256 || strlen(pwd) > 256)
        return TRANSPORT_EINVAL;
    if (!nice_agent_set_remote_credentials(a->agent, a->stream, ufrag, pwd))
        return TRANSPORT_EFAIL;
    return TRANSPORT_OK;
}

int ice_agent_add_remote_candidate(ice_agent *a, const char *cand)
{
    unsigned comp = 0;
    if (transport_candidate_check(cand, &comp) != 0)
        return TRANSPORT_EINVAL;
    if (a->failed)
        return TRANSPORT_ESTATE;
    if (comp != ICE_COMPONENT)
        return TRANSPORT_OK; /* rtcp-mux: RTCP candidates have no use */
    char *line = g_str_has_prefix(cand, "a=") ? g_strdup(cand)
                                              : g_strconcat("a=", cand, NULL);
    NiceCandidate *c =
        nice_agent_parse_remote_candidate_sdp(a->agent, a->stream, line);
    g_free(line);
    if (c == NULL)
        return TRANSPORT_EINVAL;
    if (c->component_id != ICE_COMPONENT) {
        /* rtcp-mux: an RTCP (component 2) candidate has no use here. */
        nice_candidate_free(c);
        return TRANSPORT_OK;
    }
    GSList l = {.data = c, .next = NULL};
    int n = nice_agent_set_remote_candidates(a->agent, a->stream, ICE_COMPONENT,
                                             &l);
    nice_candidate_free(c);
    if (n < 1)
        return TRANSPORT_EINVAL;
    a->n_remote++;
    return TRANSPORT_OK;
}

int ice_agent_remote_done(ice_agent *a)
{
    if (a->failed)
        return TRANSPORT_ESTATE;
    a->remote_done = true;
    nice_agent_peer_candidate_gathering_done(a->agent, a->stream);
    check_candidates(a);
    return TRANSPORT_OK;
}

int ice_agent_restart(ice_agent *a)
{
    if (a->failed)
        return TRANSPORT_ESTATE;
    if (!nice_agent_restart_stream(a->agent, a->stream))
        return TRANSPORT_EFAIL;
    a->connected = false;
    a->remote_done = false;
    a->n_remote = 0;
    /* Our candidates stay; signal them again with the new credentials. */
    for (guint i = 0; i < a->local->len; i++)
        a->cb.candidate(g_ptr_array_index(a->local, i), a->cb.ud);
    if (a->local_done)
        a->cb.candidate(NULL, a->cb.ud);
    return TRANSPORT_OK;
}

int ice_agent_send(ice_agent *a, const uint8_t *buf, size_t len)
{
    if (a->failed || len > G_MAXUINT)
        return -1;
    return nice_agent_send(a->agent, a->stream, ICE_COMPONENT, (guint) len,
                           (const gchar *) buf);
}

int ice_agent_selected_pair(ice_agent *a, const char **local_type,
                            const char **remote_type, const char **proto)
{
    NiceCandidate *l = NULL, *r = NULL;
    if (!nice_agent_get_selected_pair(a->agent, a->stream, ICE_COMPONENT, &l,
                                      &r))
        return TRANSPORT_ESTATE;
    if (local_type)
        *local_type = cand_type_str(l->type);
    if (remote_type)
        *remote_type = cand_type_str(r->type);
    if (proto)
        *proto = l->transport == NICE_CANDIDATE_TRANSPORT_UDP ? "udp" : "tcp";
    return TRANSPORT_OK;
}
