/*
 * srtp.c — libsrtp2 sessions keyed from the DTLS exporter: one outbound
 * (ssrc_any_outbound) and one inbound (ssrc_any_inbound) context, replay
 * protection with a 1024-packet window, key-limit events recorded and
 * handed to the caller after the call into libsrtp returns.
 */
#include <string.h>

#include <srtp2/srtp.h>

#include "transport-private.h"

struct srtp_session {
    srtp_t tx;
    srtp_t rx;
    unsigned events; /* srtp_session_events raised by the handler */
};

static void event_handler(srtp_event_data_t *data)
{
    srtp_session *s = srtp_get_user_data(data->session);
    if (s == NULL)
        return;
    switch (data->event) {
    case event_key_soft_limit:
        s->events |= SRTP_SESSION_EV_SOFT_LIMIT;
        break;
    case event_key_hard_limit:
    case event_packet_index_limit:
        s->events |= SRTP_SESSION_EV_HARD_LIMIT;
        break;
    default:
        break;
    }
}

static gpointer init_once(gpointer unused)
{
    (void) unused;
    srtp_err_status_t st = srtp_init();
    if (st == srtp_err_status_ok)
        srtp_install_event_handler(event_handler);
    return GINT_TO_POINTER(st == srtp_err_status_ok ? 1 : -1);
}

int srtp_session_global_init(void)
{
    static GOnce once = G_ONCE_INIT;
    /* srtp_init() runs libsrtp's cipher self-tests (tens of ms): done once
     * per process, before the first handshake needs it. */
    if (GPOINTER_TO_INT(g_once(&once, init_once, NULL)) != 1)
        return TRANSPORT_EFAIL;
    return TRANSPORT_OK;
}

int srtp_session_material_len(dtls_srtp_profile profile, size_t *key_len,
                              size_t *salt_len)
{
    switch (profile) {
    case DTLS_SRTP_AEAD_AES_128_GCM:
        *key_len = 16;
        *salt_len = 12;
        return TRANSPORT_OK;
    case DTLS_SRTP_AES128_CM_SHA1_80:
        *key_len = 16;
        *salt_len = 14;
        return TRANSPORT_OK;
    default:
        return TRANSPORT_EINVAL;
    }
}

static int make_ctx(srtp_t *out, dtls_srtp_profile profile,
                    const uint8_t *key_salt, bool outbound, void *user)
{
    srtp_policy_t pol;
    memset(&pol, 0, sizeof pol);
    if (profile == DTLS_SRTP_AEAD_AES_128_GCM) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
    } else {
        srtp_crypto_policy_set_rtp_default(&pol.rtp);
        srtp_crypto_policy_set_rtcp_default(&pol.rtcp);
    }
    pol.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
    pol.key = (unsigned char *) key_salt;
    /* Receive: a 1024-packet replay window (libsrtp's default is 128), so
     * video packets that arrive late but still in time for the jitter
     * buffer (and NACK retransmissions) are not dropped as replays. */
    pol.window_size = outbound ? 0 : 1024;
    pol.allow_repeat_tx = 0;
    pol.next = NULL;
    if (srtp_create(out, &pol) != srtp_err_status_ok)
        return TRANSPORT_EFAIL;
    srtp_set_user_data(*out, user);
    return TRANSPORT_OK;
}

int srtp_session_new(srtp_session **out, dtls_srtp_profile profile,
                     const uint8_t *tx, const uint8_t *rx, size_t key_salt_len)
{
    size_t kl, sl;
    if (out == NULL || tx == NULL || rx == NULL)
        return TRANSPORT_EINVAL;
    *out = NULL;
    if (srtp_session_material_len(profile, &kl, &sl) != 0 ||
        key_salt_len != kl + sl)
        return TRANSPORT_EINVAL;
    if (srtp_session_global_init() != 0)
        return TRANSPORT_EFAIL;
    srtp_session *s = g_new0(srtp_session, 1);
    if (make_ctx(&s->tx, profile, tx, true, s) != 0 ||
        make_ctx(&s->rx, profile, rx, false, s) != 0) {
        srtp_session_free(s);
        return TRANSPORT_EFAIL;
    }
    *out = s;
    return TRANSPORT_OK;
}

void srtp_session_free(srtp_session *s)
{
    if (s == NULL)
        return;
    if (s->tx != NULL)
        srtp_dealloc(s->tx);
    if (s->rx != NULL)
        srtp_dealloc(s->rx);
    g_free(s);
}

int srtp_session_protect(srtp_session *s, bool rtcp, uint8_t *buf, size_t *len,
                         size_t cap)
{
    if (*len > INT32_MAX || cap < *len + SRTP_SESSION_TRAILER)
        return TRANSPORT_ENOSPACE;
    int n = (int) *len;
    srtp_err_status_t st =
        rtcp ? srtp_protect_rtcp(s->tx, buf, &n) : srtp_protect(s->tx, buf, &n);
    if (st != srtp_err_status_ok)
        return TRANSPORT_EFAIL;
    *len = (size_t) n;
    return TRANSPORT_OK;
}

srtp_session_verdict srtp_session_unprotect(srtp_session *s, bool rtcp,
                                            uint8_t *buf, size_t *len)
{
    if (*len > INT32_MAX)
        return SRTP_SESSION_OTHER;
    int n = (int) *len;
    srtp_err_status_t st = rtcp ? srtp_unprotect_rtcp(s->rx, buf, &n)
                                : srtp_unprotect(s->rx, buf, &n);
    switch (st) {
    case srtp_err_status_ok:
        *len = (size_t) n;
        return SRTP_SESSION_OK;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
        return SRTP_SESSION_REPLAY;
    case srtp_err_status_auth_fail:
        return SRTP_SESSION_AUTH_FAIL;
    default:
        return SRTP_SESSION_OTHER;
    }
}

unsigned srtp_session_take_events(srtp_session *s)
{
    unsigned ev = s->events;
    s->events = 0;
    return ev;
}
