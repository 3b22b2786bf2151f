/*
 * transport.c — glue: ICE delivers datagrams, RFC 7983 sends DTLS to the
 * handshake and SRTP/SRTCP to libsrtp; the peer certificate is checked
 * against both expected fingerprints before any SRTP key exists.
 *
 * Everything runs on the caller's GMainContext. Entry points from the loop
 * (ICE signals, timers) go through enter()/leave() so that a callback may
 * call transport_free(): the free is then finished from an idle source and
 * no further callback runs.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "transport-private.h"

#define MAX_PACKET 1500
#define SAS_LABEL "EXTRACTOR-vid-sas"
#define SRTP_LABEL "EXTRACTOR-dtls_srtp"

typedef struct {
    transport *t;
    GSource *src;
    size_t len;
    uint8_t data[];
} delayed_pkt;

struct transport {
    GMainContext *ctx;
    transport_config cb; /* callbacks and user data */
    char **local_addrs;
    X509 *cert;
    EVP_PKEY *key;
    char local_fp[TRANSPORT_FP_LEN];
    char sdp_fp[TRANSPORT_FP_LEN];
    char reg_fp[TRANSPORT_FP_LEN];
    bool have_fps;
    ice_agent *ice;
    dtls_session *dtls;
    srtp_session *srtp;
    transport_state state;
    transport_failure failure;
    char detail[256];
    bool dtls_started; /* dtls_session_start() called (ICE connected) */
    bool dtls_touched; /* a DTLS datagram was fed to the session */
    size_t dtls_mtu;
    char *srtp_profiles;
    bool dtls_done; /* handshake done, fingerprint check pending/done */
    GSource *dtls_timer;
    uint8_t sas[TRANSPORT_SAS_SECRET_LEN];
    bool have_sas;
    transport_stats stats;
    int64_t t_gather;
    impair_state impair;
    GQueue delayed;
    void (*tap)(const uint8_t *, size_t, void *);
    void *tap_ud;
    int depth;
    bool doomed;
    bool free_scheduled;
    uint8_t sendbuf[MAX_PACKET + SRTP_SESSION_TRAILER];
    uint8_t recvbuf[MAX_PACKET + SRTP_SESSION_TRAILER];
};

static void destroy(transport *t);

const char *transport_failure_str(transport_failure f)
{
    switch (f) {
    case TRANSPORT_FAIL_NONE:
        return "no failure";
    case TRANSPORT_FAIL_ICE_NO_CANDIDATES:
        return "ICE: no usable candidates";
    case TRANSPORT_FAIL_ICE_CHECKS_FAILED:
        return "ICE: all connectivity checks failed";
    case TRANSPORT_FAIL_ICE_TURN_REFUSED:
        return "ICE: the TURN server refused us";
    case TRANSPORT_FAIL_ICE_TURN_UNREACHABLE:
        return "ICE: the TURN server is unreachable";
    case TRANSPORT_FAIL_ICE_CONSENT_LOST:
        return "ICE: consent lost (peer stopped answering)";
    case TRANSPORT_FAIL_DTLS:
        return "DTLS handshake failed";
    case TRANSPORT_FAIL_SECURITY:
        return "security error: peer certificate fingerprint mismatch";
    case TRANSPORT_FAIL_SRTP:
        return "SRTP setup failed";
    case TRANSPORT_FAIL_SRTP_KEY_EXPIRED:
        return "SRTP key hard limit reached";
    }
    return "unknown failure";
}

const char *transport_state_str(transport_state s)
{
    switch (s) {
    case TRANSPORT_STATE_NEW:
        return "new";
    case TRANSPORT_STATE_CHECKING:
        return "checking";
    case TRANSPORT_STATE_CONNECTED:
        return "connected";
    case TRANSPORT_STATE_SECURE:
        return "secure";
    case TRANSPORT_STATE_FAILED:
        return "failed";
    case TRANSPORT_STATE_CLOSED:
        return "closed";
    }
    return "unknown";
}

/* ---------------------------------------------------------------------- */

static void enter(transport *t)
{
    t->depth++;
}

static gboolean finish_free(gpointer ud)
{
    destroy(ud);
    return G_SOURCE_REMOVE;
}

static void leave(transport *t)
{
    if (--t->depth == 0 && t->doomed && !t->free_scheduled) {
        t->free_scheduled = true;
        GSource *s = g_idle_source_new();
        g_source_set_callback(s, finish_free, t, NULL);
        g_source_attach(s, t->ctx);
        g_source_unref(s);
    }
}

static bool terminal(const transport *t)
{
    return t->doomed || t->state == TRANSPORT_STATE_FAILED ||
           t->state == TRANSPORT_STATE_CLOSED;
}

static void set_state(transport *t, transport_state s)
{
    if (t->state == s || t->doomed)
        return;
    t->state = s;
    if (t->cb.on_state != NULL)
        t->cb.on_state(t, s, t->cb.user_data);
}

static void stop_dtls_timer(transport *t)
{
    if (t->dtls_timer != NULL) {
        g_source_destroy(t->dtls_timer);
        g_source_unref(t->dtls_timer);
        t->dtls_timer = NULL;
    }
}

static void drop_keys(transport *t)
{
    srtp_session_free(t->srtp);
    t->srtp = NULL;
    OPENSSL_cleanse(t->sas, sizeof t->sas);
    t->have_sas = false;
}

static void fail(transport *t, transport_failure f, const char *detail)
{
    if (terminal(t))
        return;
    t->failure = f;
    g_strlcpy(t->detail, detail ? detail : "", sizeof t->detail);
    stop_dtls_timer(t);
    drop_keys(t);
    g_info("transport %p failed: %s%s%s", (void *) t, transport_failure_str(f),
           t->detail[0] ? ": " : "", t->detail);
    set_state(t, TRANSPORT_STATE_FAILED);
}

/* ---------------------------------------------------------------------- */
/* Send path: every datagram (DTLS and SRTP) passes the impairment hook. */

static void wire_send(transport *t, const uint8_t *buf, size_t len)
{
    if (t->tap != NULL)
        t->tap(buf, len, t->tap_ud);
    (void) ice_agent_send(t->ice, buf, len);
}

static gboolean delayed_fire(gpointer ud)
{
    delayed_pkt *d = ud;
    transport *t = d->t;
    g_queue_remove(&t->delayed, d);
    enter(t);
    if (!terminal(t))
        wire_send(t, d->data, d->len);
    leave(t);
    g_source_unref(d->src);
    g_free(d);
    return G_SOURCE_REMOVE;
}

/* @return false if the impairment hook dropped it. */
static bool xmit(transport *t, const uint8_t *buf, size_t len)
{
    unsigned delay = 0;
    if (impair_next(&t->impair, &delay)) {
        t->stats.impair_dropped++;
        return false;
    }
    if (delay == 0) {
        wire_send(t, buf, len);
        return true;
    }
    delayed_pkt *d = g_malloc(sizeof *d + len);
    d->t = t;
    d->len = len;
    memcpy(d->data, buf, len);
    d->src = g_timeout_source_new(delay);
    g_source_set_callback(d->src, delayed_fire, d, NULL);
    g_source_attach(d->src, t->ctx);
    g_queue_push_tail(&t->delayed, d);
    t->stats.impair_delayed++;
    return true;
}

static void dtls_send(const uint8_t *buf, size_t len, void *ud)
{
    xmit(ud, buf, len);
}

/* ---------------------------------------------------------------------- */
/* DTLS */

static void handle_dtls(transport *t, dtls_result r);

static gboolean dtls_timer_fired(gpointer ud)
{
    transport *t = ud;
    enter(t);
    g_source_unref(t->dtls_timer);
    t->dtls_timer = NULL;
    if (!terminal(t))
        handle_dtls(t, dtls_session_handle_timeout(t->dtls));
    leave(t);
    return G_SOURCE_REMOVE;
}

static void arm_dtls_timer(transport *t)
{
    stop_dtls_timer(t);
    if (terminal(t))
        return;
    long ms = dtls_session_timeout_ms(t->dtls);
    if (ms < 0)
        return;
    t->dtls_timer = g_timeout_source_new(ms > 0 ? (guint) ms : 1);
    g_source_set_callback(t->dtls_timer, dtls_timer_fired, t, NULL);
    g_source_attach(t->dtls_timer, t->ctx);
}

/* The check that makes the call end to end: before any key exists, the
 * certificate the peer proved it holds must be the one its SDP announced
 * and the one the server registered for its device. */
static void verify_and_key(transport *t)
{
    char peer_fp[TRANSPORT_FP_LEN];
    if (!t->dtls_done || !t->have_fps || t->srtp != NULL || terminal(t))
        return;
    X509 *peer = dtls_session_peer_cert(t->dtls);
    if (peer == NULL || transport_fp_of_cert(peer, peer_fp, sizeof peer_fp)) {
        fail(t, TRANSPORT_FAIL_SECURITY, "no usable peer certificate");
        return;
    }
    if (strcmp(peer_fp, t->sdp_fp) != 0) {
        fail(t, TRANSPORT_FAIL_SECURITY,
             "peer certificate does not match the SDP a=fingerprint");
        return;
    }
    if (strcmp(peer_fp, t->reg_fp) != 0) {
        fail(t, TRANSPORT_FAIL_SECURITY,
             "peer certificate does not match the fingerprint the server "
             "registered for its device");
        return;
    }
    dtls_srtp_profile prof = dtls_session_srtp_profile(t->dtls);
    size_t kl, sl;
    if (srtp_session_material_len(prof, &kl, &sl) != 0) {
        fail(t, TRANSPORT_FAIL_SRTP, "no SRTP profile was negotiated");
        return;
    }
    /* RFC 5764 4.2: client key | server key | client salt | server salt */
    uint8_t m[2 * SRTP_SESSION_MAX_KEY_SALT];
    uint8_t ck[SRTP_SESSION_MAX_KEY_SALT], sk[SRTP_SESSION_MAX_KEY_SALT];
    if (dtls_session_export(t->dtls, SRTP_LABEL, m, 2 * (kl + sl)) != 0) {
        fail(t, TRANSPORT_FAIL_SRTP, dtls_session_error(t->dtls));
        return;
    }
    memcpy(ck, m, kl);
    memcpy(ck + kl, m + 2 * kl, sl);
    memcpy(sk, m + kl, kl);
    memcpy(sk + kl, m + 2 * kl + sl, sl);
    bool client = t->cb.dtls_client;
    int rc = srtp_session_new(&t->srtp, prof, client ? ck : sk,
                              client ? sk : ck, kl + sl);
    OPENSSL_cleanse(m, sizeof m);
    OPENSSL_cleanse(ck, sizeof ck);
    OPENSSL_cleanse(sk, sizeof sk);
    if (rc != 0) {
        fail(t, TRANSPORT_FAIL_SRTP, "libsrtp2 refused the keys");
        return;
    }
    if (dtls_session_export(t->dtls, SAS_LABEL, t->sas, sizeof t->sas) != 0) {
        fail(t, TRANSPORT_FAIL_SRTP, dtls_session_error(t->dtls));
        return;
    }
    t->have_sas = true;
    t->stats.srtp_profile = prof == DTLS_SRTP_AEAD_AES_128_GCM
                                ? "AEAD_AES_128_GCM"
                                : "AES_CM_128_HMAC_SHA1_80";
    t->stats.dtls_connected_us = g_get_monotonic_time() - t->t_gather;
    set_state(t, TRANSPORT_STATE_SECURE);
}

static void handle_dtls(transport *t, dtls_result r)
{
    switch (r) {
    case DTLS_CONTINUE:
        arm_dtls_timer(t);
        break;
    case DTLS_DONE:
        stop_dtls_timer(t);
        t->dtls_done = true;
        verify_and_key(t);
        break;
    case DTLS_FAILED:
        fail(t, TRANSPORT_FAIL_DTLS, dtls_session_error(t->dtls));
        break;
    case DTLS_CLOSED:
        stop_dtls_timer(t);
        drop_keys(t);
        set_state(t, TRANSPORT_STATE_CLOSED);
        break;
    }
}

/* ---------------------------------------------------------------------- */
/* Receive path */

static void receive(transport *t, const uint8_t *buf, size_t len)
{
    rtp_dgram_kind kind = rtp_demux_classify(buf, len);

    switch (kind) {
    case RTP_DGRAM_DTLS:
        t->dtls_touched = true;
        handle_dtls(t, dtls_session_receive(t->dtls, buf, len));
        return;
    case RTP_DGRAM_RTP:
    case RTP_DGRAM_RTCP:
        break;
    default:
        t->stats.dropped_unknown++;
        return;
    }
    bool rtcp = kind == RTP_DGRAM_RTCP;
    if (t->srtp == NULL || t->state != TRANSPORT_STATE_SECURE) {
        t->stats.dropped_not_secure++;
        return;
    }
    if (len > sizeof t->recvbuf) {
        t->stats.dropped_unknown++;
        return;
    }
    memcpy(t->recvbuf, buf, len);
    size_t n = len;
    srtp_session_verdict v =
        srtp_session_unprotect(t->srtp, rtcp, t->recvbuf, &n);
    unsigned ev = srtp_session_take_events(t->srtp);
    switch (v) {
    case SRTP_SESSION_OK:
        break;
    case SRTP_SESSION_REPLAY:
        t->stats.replays++;
        return;
    case SRTP_SESSION_AUTH_FAIL:
        t->stats.auth_failures++;
        return;
    default:
        t->stats.dropped_unknown++;
        return;
    }
    if (rtcp)
        t->stats.rtcp_received++;
    else
        t->stats.rtp_received++;
    if (ev & SRTP_SESSION_EV_HARD_LIMIT) {
        fail(t, TRANSPORT_FAIL_SRTP_KEY_EXPIRED, "inbound key exhausted");
        return;
    }
    if ((ev & SRTP_SESSION_EV_SOFT_LIMIT) && t->cb.on_event)
        t->cb.on_event(t, TRANSPORT_EVENT_REKEY_NEEDED, t->cb.user_data);
    if (t->cb.on_packet != NULL && !t->doomed)
        t->cb.on_packet(t, rtcp, t->recvbuf, n, t->cb.user_data);
}

/* ---------------------------------------------------------------------- */
/* ICE callbacks */

static void ice_candidate(const char *cand, void *ud)
{
    transport *t = ud;
    enter(t);
    if (!terminal(t) && t->cb.on_candidate != NULL)
        t->cb.on_candidate(t, cand, t->cb.user_data);
    leave(t);
}

static void on_ice_status(ice_status st, transport_failure reason,
                          const char *detail, void *ud)
{
    transport *t = ud;
    enter(t);
    if (terminal(t))
        goto out;
    switch (st) {
    case ICE_STATUS_CHECKING:
        if (t->state < TRANSPORT_STATE_CHECKING)
            set_state(t, TRANSPORT_STATE_CHECKING);
        break;
    case ICE_STATUS_CONNECTED:
        if (t->state < TRANSPORT_STATE_CONNECTED)
            set_state(t, TRANSPORT_STATE_CONNECTED);
        if (!terminal(t) && !t->dtls_started) {
            t->dtls_started = true;
            handle_dtls(t, dtls_session_start(t->dtls));
        }
        break;
    case ICE_STATUS_FAILED:
        fail(t, reason, detail);
        break;
    }
out:
    leave(t);
}

static void ice_recv(uint8_t *buf, size_t len, void *ud)
{
    transport *t = ud;
    enter(t);
    if (!terminal(t))
        receive(t, buf, len);
    leave(t);
}

static void ice_selected(void *ud)
{
    transport *t = ud;
    enter(t);
    if (!terminal(t) && t->cb.on_event != NULL)
        t->cb.on_event(t, TRANSPORT_EVENT_SELECTED_PAIR, t->cb.user_data);
    leave(t);
}

/* ---------------------------------------------------------------------- */
/* API */

int transport_new(transport **out, const transport_config *cfg)
{
    if (out == NULL)
        return TRANSPORT_EINVAL;
    *out = NULL;
    if (cfg == NULL || cfg->version != TRANSPORT_CONFIG_VERSION ||
        cfg->context == NULL || cfg->cert == NULL || cfg->key == NULL)
        return TRANSPORT_EINVAL;
    if (cfg->policy != NULL && cfg->policy->version != TRANSPORT_POLICY_VERSION)
        return TRANSPORT_EINVAL;
    char group[32] = "";
    size_t glen = 0;
    if (EVP_PKEY_get_base_id(cfg->key) != EVP_PKEY_EC ||
        EVP_PKEY_get_group_name(cfg->key, group, sizeof group, &glen) != 1 ||
        strcmp(group, "prime256v1") != 0) {
        g_info("transport: the DTLS key must be ECDSA (P-256)");
        return TRANSPORT_EINVAL;
    }
    if (srtp_session_global_init() != 0)
        return TRANSPORT_EFAIL;
    transport *t = g_new0(transport, 1);
    int rc;
    t->ctx = cfg->context;
    t->cb = *cfg;
    t->cb.policy = NULL;
    t->cb.local_addresses = NULL;
    t->cb.srtp_profiles = NULL;
    t->stats.dtls_connected_us = -1;
    g_queue_init(&t->delayed);
    if (cfg->local_addresses != NULL)
        t->local_addrs = g_strdupv((char **) cfg->local_addresses);
    X509_up_ref(cfg->cert);
    t->cert = cfg->cert;
    EVP_PKEY_up_ref(cfg->key);
    t->key = cfg->key;
    rc = transport_fp_of_cert(t->cert, t->local_fp, sizeof t->local_fp);
    if (rc != 0)
        goto done;
    t->dtls_mtu = cfg->dtls_mtu ? cfg->dtls_mtu : 1200;
    t->srtp_profiles = g_strdup(cfg->srtp_profiles);
    rc = dtls_session_new(&t->dtls, t->cert, t->key, cfg->dtls_client,
                          t->dtls_mtu, t->srtp_profiles, dtls_send, t);
    if (rc != 0)
        goto done;
    ice_callbacks icb = {
        .candidate = ice_candidate,
        .status = on_ice_status,
        .recv = ice_recv,
        .selected_pair = ice_selected,
        .ud = t,
    };
    rc = ice_agent_new(&t->ice, t->ctx, cfg->controlling, cfg->policy,
                       (const char *const *) t->local_addrs, &icb);
    if (rc != 0)
        goto done;
    *out = t;
    t = NULL;
done:
    if (t != NULL)
        destroy(t);
    return rc;
}

static void destroy(transport *t)
{
    stop_dtls_timer(t);
    delayed_pkt *d;
    while ((d = g_queue_pop_head(&t->delayed)) != NULL) {
        g_source_destroy(d->src);
        g_source_unref(d->src);
        g_free(d);
    }
    ice_agent_free(t->ice);
    drop_keys(t);
    dtls_session_free(t->dtls);
    if (t->cert != NULL)
        X509_free(t->cert);
    if (t->key != NULL)
        EVP_PKEY_free(t->key);
    g_strfreev(t->local_addrs);
    g_free(t->srtp_profiles);
    OPENSSL_cleanse(t, sizeof *t);
    g_free(t);
}

void transport_free(transport *t)
{
    if (t == NULL || t->doomed)
        return;
    t->doomed = true;
    if (t->depth == 0)
        destroy(t);
    /* else: leave() finishes it from an idle source. */
}

int transport_get_local_credentials(transport *t, char *ufrag, size_t ucap,
                                    char *pwd, size_t pcap)
{
    if (t == NULL || ufrag == NULL || pwd == NULL)
        return TRANSPORT_EINVAL;
    return ice_agent_get_credentials(t->ice, ufrag, ucap, pwd, pcap);
}

int transport_get_local_fingerprint(transport *t, char *buf, size_t cap)
{
    if (t == NULL || buf == NULL)
        return TRANSPORT_EINVAL;
    if (g_strlcpy(buf, t->local_fp, cap) >= cap)
        return TRANSPORT_ENOSPACE;
    return TRANSPORT_OK;
}

int transport_gather(transport *t)
{
    if (t == NULL)
        return TRANSPORT_EINVAL;
    if (terminal(t))
        return TRANSPORT_ESTATE;
    t->t_gather = g_get_monotonic_time();
    enter(t);
    int rc = ice_agent_gather(t->ice);
    leave(t);
    return rc;
}

int transport_set_remote_credentials(transport *t, const char *ufrag,
                                     const char *pwd)
{
    if (t == NULL)
        return TRANSPORT_EINVAL;
    if (terminal(t))
        return TRANSPORT_ESTATE;
    return ice_agent_set_remote_credentials(t->ice, ufrag, pwd);
}

int transport_set_remote_fingerprints(transport *t, const char *sdp_fp,
                                      const char *registered_fp)
{
    char a[TRANSPORT_FP_LEN], b[TRANSPORT_FP_LEN];
    if (t == NULL || transport_fp_normalize(sdp_fp, a, sizeof a) != 0 ||
        transport_fp_normalize(registered_fp, b, sizeof b) != 0)
        return TRANSPORT_EINVAL;
    if (terminal(t))
        return TRANSPORT_ESTATE;
    if (t->srtp != NULL)
        return TRANSPORT_ESTATE; /* already verified and keyed */
    memcpy(t->sdp_fp, a, sizeof a);
    memcpy(t->reg_fp, b, sizeof b);
    t->have_fps = true;
    enter(t);
    verify_and_key(t);
    leave(t);
    return TRANSPORT_OK;
}

int transport_set_dtls_client(transport *t, bool client)
{
    if (t == NULL)
        return TRANSPORT_EINVAL;
    if (terminal(t) || t->dtls_started || t->dtls_touched)
        return TRANSPORT_ESTATE;
    if (client == t->cb.dtls_client)
        return TRANSPORT_OK;
    dtls_session *d = NULL;
    int rc = dtls_session_new(&d, t->cert, t->key, client, t->dtls_mtu,
                              t->srtp_profiles, dtls_send, t);
    if (rc != 0)
        return rc;
    dtls_session_free(t->dtls);
    t->dtls = d;
    t->cb.dtls_client = client;
    return TRANSPORT_OK;
}

int transport_add_remote_candidate(transport *t, const char *candidate)
{
    if (t == NULL || candidate == NULL)
        return TRANSPORT_EINVAL;
    if (terminal(t))
        return TRANSPORT_ESTATE;
    enter(t);
    int rc = ice_agent_add_remote_candidate(t->ice, candidate);
    leave(t);
    return rc;
}

int transport_remote_candidates_done(transport *t)
{
    if (t == NULL)
        return TRANSPORT_EINVAL;
    if (terminal(t))
        return TRANSPORT_ESTATE;
    enter(t);
    int rc = ice_agent_remote_done(t->ice);
    leave(t);
    return rc;
}

int transport_restart_ice(transport *t)
{
    if (t == NULL)
        return TRANSPORT_EINVAL;
    if (terminal(t))
        return TRANSPORT_ESTATE;
    enter(t);
    int rc = ice_agent_restart(t->ice);
    leave(t);
    return rc;
}

int transport_send(transport *t, const uint8_t *buf, size_t len)
{
    if (t == NULL || buf == NULL || len < 8 || len > MAX_PACKET)
        return TRANSPORT_EINVAL;
    if (t->state != TRANSPORT_STATE_SECURE || t->srtp == NULL || t->doomed)
        return TRANSPORT_ESTATE;
    rtp_dgram_kind k = rtp_demux_classify(buf, len);
    if (k != RTP_DGRAM_RTP && k != RTP_DGRAM_RTCP)
        return TRANSPORT_EINVAL;
    bool rtcp = k == RTP_DGRAM_RTCP;
    memcpy(t->sendbuf, buf, len);
    size_t n = len;
    int rc =
        srtp_session_protect(t->srtp, rtcp, t->sendbuf, &n, sizeof t->sendbuf);
    unsigned ev = srtp_session_take_events(t->srtp);
    if (rc != 0)
        return TRANSPORT_EFAIL;
    if (rtcp)
        t->stats.rtcp_sent++;
    else
        t->stats.rtp_sent++;
    enter(t);
    bool sent = xmit(t, t->sendbuf, n);
    if (ev & SRTP_SESSION_EV_HARD_LIMIT)
        fail(t, TRANSPORT_FAIL_SRTP_KEY_EXPIRED, "outbound key exhausted");
    else if ((ev & SRTP_SESSION_EV_SOFT_LIMIT) && t->cb.on_event)
        t->cb.on_event(t, TRANSPORT_EVENT_REKEY_NEEDED, t->cb.user_data);
    leave(t);
    return sent ? TRANSPORT_OK : TRANSPORT_EDROPPED;
}

void transport_close(transport *t)
{
    if (t == NULL || terminal(t))
        return;
    enter(t);
    dtls_session_shutdown(t->dtls);
    stop_dtls_timer(t);
    drop_keys(t);
    set_state(t, TRANSPORT_STATE_CLOSED);
    leave(t);
}

transport_state transport_get_state(const transport *t)
{
    return t != NULL ? t->state : TRANSPORT_STATE_FAILED;
}

transport_failure transport_get_failure(const transport *t)
{
    return t != NULL ? t->failure : TRANSPORT_FAIL_NONE;
}

const char *transport_get_failure_detail(const transport *t)
{
    return t != NULL ? t->detail : "";
}

int transport_get_sas_secret(transport *t,
                             uint8_t out[TRANSPORT_SAS_SECRET_LEN])
{
    if (t == NULL || out == NULL)
        return TRANSPORT_EINVAL;
    if (!t->have_sas || t->state != TRANSPORT_STATE_SECURE)
        return TRANSPORT_ESTATE;
    memcpy(out, t->sas, TRANSPORT_SAS_SECRET_LEN);
    return TRANSPORT_OK;
}

void transport_get_stats(const transport *t, transport_stats *out)
{
    if (t == NULL || out == NULL)
        return;
    *out = t->stats;
}

int transport_get_selected_pair(transport *t, const char **local_type,
                                const char **remote_type, const char **proto)
{
    if (t == NULL)
        return TRANSPORT_EINVAL;
    return ice_agent_selected_pair(t->ice, local_type, remote_type, proto);
}

int transport_set_impairment(transport *t, const transport_impairment *imp)
{
    if (t == NULL)
        return TRANSPORT_EINVAL;
    return impair_configure(&t->impair, imp);
}

void transport_test_set_send_tap(transport *t,
                                 void (*tap)(const uint8_t *, size_t, void *),
                                 void *ud)
{
    if (t == NULL)
        return;
    t->tap = tap;
    t->tap_ud = ud;
}

void transport_test_inject(transport *t, const uint8_t *buf, size_t len)
{
    if (t == NULL || buf == NULL)
        return;
    enter(t);
    if (!terminal(t))
        receive(t, buf, len);
    leave(t);
}
