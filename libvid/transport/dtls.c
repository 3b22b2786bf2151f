/*
 * dtls.c — DTLS 1.2 handshake and exporter over OpenSSL memory BIOs.
 * No sockets: records leave through the caller's send function, packed
 * into datagrams at record boundaries; the caller runs the retransmit
 * timer (dtls_session_timeout_ms / dtls_session_handle_timeout).
 */
#include <limits.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "transport-private.h"

#define DTLS_FIRST_TIMEOUT_US 100000u /* OpenSSL's default is 1 s */
#define DTLS_MAX_TIMEOUT_US 3000000u
#define DTLS_MAX_TIMEOUTS 8 /* ~100+200+...+3000 ms: about 12 s */

struct dtls_session {
    SSL_CTX *ctx;
    SSL *ssl;
    BIO *rbio, *wbio; /* owned by ssl */
    bool client;
    bool done;
    bool reported_done;
    bool failed;
    size_t mtu;
    unsigned timeouts;
    X509 *peer; /* reference taken at DONE */
    dtls_send_fn send;
    void *ud;
    char err[160];
};

/* Peer certificates are self-signed device identities: accept any here;
 * the fingerprint comparison happens before keys are installed. */
static int verify_accept(int preverify_ok, X509_STORE_CTX *store)
{
    (void) preverify_ok;
    (void) store;
    return 1;
}

static unsigned int timer_cb(SSL *ssl, unsigned int timer_us)
{
    (void) ssl;
    if (timer_us == 0)
        return DTLS_FIRST_TIMEOUT_US;
    unsigned int next = timer_us * 2;
    return next > DTLS_MAX_TIMEOUT_US ? DTLS_MAX_TIMEOUT_US : next;
}

static void set_err(dtls_session *s, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[120] = "";
    if (e != 0)
        ERR_error_string_n(e, buf, sizeof buf);
    g_snprintf(s->err, sizeof s->err, "%s%s%s", what, e ? ": " : "", buf);
    ERR_clear_error();
}

int dtls_session_new(dtls_session **out, X509 *cert, EVP_PKEY *key, bool client,
                     size_t mtu, const char *srtp_profiles, dtls_send_fn send,
                     void *ud)
{
    if (out == NULL || cert == NULL || key == NULL || send == NULL || mtu < 256)
        return TRANSPORT_EINVAL;
    *out = NULL;
    dtls_session *s = g_new0(dtls_session, 1);
    s->client = client;
    s->mtu = mtu;
    s->send = send;
    s->ud = ud;
    int rc = TRANSPORT_EFAIL;

    s->ctx = SSL_CTX_new(DTLS_method());
    if (s->ctx == NULL)
        goto done;
    if (SSL_CTX_set_min_proto_version(s->ctx, DTLS1_2_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(s->ctx, DTLS1_2_VERSION) != 1)
        goto done;
    if (SSL_CTX_use_certificate(s->ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey(s->ctx, key) != 1 ||
        SSL_CTX_check_private_key(s->ctx) != 1) {
        rc = TRANSPORT_EINVAL;
        goto done;
    }
    /* Forward-secret suites only. Our certificate is ECDSA, but a peer's
     * may be RSA (GStreamer's DTLS elements make RSA keys), so the RSA
     * suites must be offered too or that handshake fails. */
    if (SSL_CTX_set_cipher_list(s->ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:"
                                        "ECDHE-RSA-AES128-GCM-SHA256:"
                                        "ECDHE-ECDSA-AES256-GCM-SHA384:"
                                        "ECDHE-RSA-AES256-GCM-SHA384:"
                                        "ECDHE-ECDSA-CHACHA20-POLY1305:"
                                        "ECDHE-RSA-CHACHA20-POLY1305:"
                                        "ECDHE-ECDSA-AES128-SHA:"
                                        "ECDHE-RSA-AES128-SHA") != 1)
        goto done;
    /* Note: returns 0 on success. */
    if (SSL_CTX_set_tlsext_use_srtp(
            s->ctx, srtp_profiles != NULL
                        ? srtp_profiles
                        : "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80") !=
        0) {
        rc = TRANSPORT_EINVAL;
        goto done;
    }
    SSL_CTX_set_verify(s->ctx,
                       SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       verify_accept);
    SSL_CTX_set_read_ahead(s->ctx, 1);

    s->ssl = SSL_new(s->ctx);
    if (s->ssl == NULL)
        goto done;
    s->rbio = BIO_new(BIO_s_mem());
    s->wbio = BIO_new(BIO_s_mem());
    if (s->rbio == NULL || s->wbio == NULL) {
        BIO_free(s->rbio);
        BIO_free(s->wbio);
        s->rbio = s->wbio = NULL;
        goto done;
    }
    BIO_set_mem_eof_return(s->rbio, -1);
    BIO_set_mem_eof_return(s->wbio, -1);
    SSL_set_bio(s->ssl, s->rbio, s->wbio);
    /* No tickets (nothing resumes a DTLS-SRTP session; it only grows the
     * last flight), no renegotiation. */
    SSL_set_options(s->ssl, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET |
                                SSL_OP_NO_RENEGOTIATION);
    SSL_set_mtu(s->ssl, (long) (mtu - 28)); /* minus IP + UDP */
    DTLS_set_timer_cb(s->ssl, timer_cb);
    if (client)
        SSL_set_connect_state(s->ssl);
    else
        SSL_set_accept_state(s->ssl);
    *out = s;
    s = NULL;
    rc = TRANSPORT_OK;
done:
    if (s != NULL) {
        if (rc == TRANSPORT_EFAIL || rc == TRANSPORT_EINVAL)
            set_err(s, "DTLS setup");
        g_info("transport: %s", s->err);
        dtls_session_free(s);
    }
    return rc;
}

void dtls_session_free(dtls_session *s)
{
    if (s == NULL)
        return;
    if (s->peer != NULL)
        X509_free(s->peer);
    if (s->ssl != NULL)
        SSL_free(s->ssl); /* frees the BIOs */
    if (s->ctx != NULL)
        SSL_CTX_free(s->ctx);
    g_free(s);
}

static void flush(dtls_session *s)
{
    char *data = NULL;
    long n = BIO_get_mem_data(s->wbio, &data);
    if (n > 0 && data != NULL) {
        if (dtls_pack_records((const uint8_t *) data, (size_t) n, s->mtu,
                              s->send, s->ud) < 0)
            g_warning("transport: OpenSSL wrote a truncated DTLS record");
    }
    (void) BIO_reset(s->wbio);
}

static dtls_result step(dtls_session *s)
{
    if (s->failed)
        return DTLS_FAILED;
    if (!s->done) {
        ERR_clear_error();
        int r = SSL_do_handshake(s->ssl);
        flush(s);
        if (r == 1) {
            s->done = true;
            s->peer = SSL_get1_peer_certificate(s->ssl);
            if (s->peer == NULL) {
                g_strlcpy(s->err, "peer sent no certificate", sizeof s->err);
                s->failed = true;
                return DTLS_FAILED;
            }
        } else {
            int e = SSL_get_error(s->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                return DTLS_CONTINUE;
            set_err(s, "DTLS handshake");
            s->failed = true;
            return DTLS_FAILED;
        }
    }
    /* Drain application data and alerts (we carry none). */
    uint8_t junk[256];
    for (;;) {
        ERR_clear_error();
        int r = SSL_read(s->ssl, junk, sizeof junk);
        if (r > 0)
            continue;
        int e = SSL_get_error(s->ssl, r);
        if (e == SSL_ERROR_ZERO_RETURN) {
            flush(s);
            return DTLS_CLOSED;
        }
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            set_err(s, "DTLS read");
            flush(s);
            s->failed = true;
            return DTLS_FAILED;
        }
        break;
    }
    flush(s);
    if (!s->reported_done) {
        s->reported_done = true;
        return DTLS_DONE;
    }
    return DTLS_CONTINUE;
}

dtls_result dtls_session_start(dtls_session *s)
{
    if (!s->client)
        return DTLS_CONTINUE;
    return step(s);
}

dtls_result dtls_session_receive(dtls_session *s, const uint8_t *buf,
                                 size_t len)
{
    if (s->failed)
        return DTLS_FAILED;
    if (len > INT_MAX || BIO_write(s->rbio, buf, (int) len) != (int) len) {
        g_strlcpy(s->err, "DTLS input rejected", sizeof s->err);
        return DTLS_CONTINUE; /* drop it; not fatal */
    }
    return step(s);
}

dtls_result dtls_session_handle_timeout(dtls_session *s)
{
    if (s->failed)
        return DTLS_FAILED;
    if (s->done)
        return DTLS_CONTINUE;
    if (++s->timeouts > DTLS_MAX_TIMEOUTS) {
        g_strlcpy(s->err, "DTLS handshake timed out", sizeof s->err);
        s->failed = true;
        return DTLS_FAILED;
    }
    int r = DTLSv1_handle_timeout(s->ssl);
    flush(s);
    if (r < 0) {
        set_err(s, "DTLS retransmit");
        s->failed = true;
        return DTLS_FAILED;
    }
    return DTLS_CONTINUE;
}

long dtls_session_timeout_ms(dtls_session *s)
{
    struct timeval tv;
    if (s->done || s->failed)
        return -1;
    if (DTLSv1_get_timeout(s->ssl, &tv) != 1)
        return -1;
    return (long) tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
}

bool dtls_session_is_done(const dtls_session *s)
{
    return s->done && !s->failed;
}

X509 *dtls_session_peer_cert(dtls_session *s)
{
    return s->done ? s->peer : NULL;
}

dtls_srtp_profile dtls_session_srtp_profile(dtls_session *s)
{
    if (!s->done)
        return DTLS_SRTP_NONE;
    SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(s->ssl);
    if (p == NULL)
        return DTLS_SRTP_NONE;
    switch (p->id) {
    case SRTP_AEAD_AES_128_GCM:
        return DTLS_SRTP_AEAD_AES_128_GCM;
    case SRTP_AES128_CM_SHA1_80:
        return DTLS_SRTP_AES128_CM_SHA1_80;
    default:
        return DTLS_SRTP_NONE;
    }
}

int dtls_session_export(dtls_session *s, const char *label, uint8_t *out,
                        size_t len)
{
    if (!s->done || s->failed || label == NULL || out == NULL)
        return TRANSPORT_ESTATE;
    if (SSL_export_keying_material(s->ssl, out, len, label, strlen(label), NULL,
                                   0, 0) != 1) {
        set_err(s, "DTLS exporter");
        return TRANSPORT_EFAIL;
    }
    return TRANSPORT_OK;
}

const char *dtls_session_error(const dtls_session *s)
{
    return s->err;
}

void dtls_session_shutdown(dtls_session *s)
{
    if (s->done && !s->failed) {
        ERR_clear_error();
        (void) SSL_shutdown(s->ssl);
        flush(s);
    }
}
