/*
 * test-dtls-srtp.c — the DTLS state machine and the SRTP sessions without
 * any network: two dtls_sessions wired back to back through queues, the
 * 100 ms retransmit timer, the exporter, and libsrtp2 sessions keyed from
 * it (protect/unprotect, replay, tampering, wrong keys).
 */
#include <string.h>

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "transport-private.h"

static void make_cert(X509 **cert, EVP_PKEY **key)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    g_assert_nonnull(k);
    g_assert_nonnull(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
                               (const unsigned char *) "unit", -1, -1, 0);
    X509_set_issuer_name(x, n);
    X509_set_pubkey(x, k);
    g_assert_cmpint(X509_sign(x, k, EVP_sha256()), >, 0);
    *cert = x;
    *key = k;
}

typedef struct {
    GQueue q; /* GBytes datagrams waiting for the other side */
    unsigned sent;
} wire;

static void wire_send(const uint8_t *buf, size_t len, void *ud)
{
    wire *w = ud;
    g_assert_cmpuint(len, <=, 1200);
    g_queue_push_tail(&w->q, g_bytes_new(buf, len));
    w->sent++;
}

static dtls_result deliver(wire *w, dtls_session *to)
{
    dtls_result last = DTLS_CONTINUE;
    GBytes *b;
    while ((b = g_queue_pop_head(&w->q)) != NULL) {
        gsize n;
        const uint8_t *d = g_bytes_get_data(b, &n);
        g_assert_cmpint(rtp_demux_classify(d, n), ==, RTP_DGRAM_DTLS);
        dtls_result r = dtls_session_receive(to, d, n);
        if (r != DTLS_CONTINUE)
            last = r;
        g_bytes_unref(b);
    }
    return last;
}

typedef struct {
    X509 *cc, *sc;
    EVP_PKEY *ck, *sk;
    wire to_server, to_client;
    dtls_session *client, *server;
} pair;

static void pair_init(pair *p, const char *client_profiles)
{
    memset(p, 0, sizeof *p);
    make_cert(&p->cc, &p->ck);
    make_cert(&p->sc, &p->sk);
    g_assert_cmpint(dtls_session_new(&p->client, p->cc, p->ck, true, 1200,
                                     client_profiles, wire_send, &p->to_server),
                    ==, 0);
    g_assert_cmpint(dtls_session_new(&p->server, p->sc, p->sk, false, 1200,
                                     NULL, wire_send, &p->to_client),
                    ==, 0);
}

static void pair_clear(pair *p)
{
    dtls_session_free(p->client);
    dtls_session_free(p->server);
    g_queue_clear_full(&p->to_server.q, (GDestroyNotify) g_bytes_unref);
    g_queue_clear_full(&p->to_client.q, (GDestroyNotify) g_bytes_unref);
    X509_free(p->cc);
    X509_free(p->sc);
    EVP_PKEY_free(p->ck);
    EVP_PKEY_free(p->sk);
}

static void handshake(pair *p)
{
    bool cdone = false, sdone = false;
    g_assert_cmpint(dtls_session_start(p->server), ==, DTLS_CONTINUE);
    g_assert_cmpuint(p->to_client.sent, ==, 0); /* server waits */
    g_assert_cmpint(dtls_session_start(p->client), ==, DTLS_CONTINUE);
    for (int round = 0; round < 40 && !(cdone && sdone); round++) {
        dtls_result r = deliver(&p->to_server, p->server);
        g_assert_cmpint(r, !=, DTLS_FAILED);
        sdone |= r == DTLS_DONE;
        r = deliver(&p->to_client, p->client);
        g_assert_cmpint(r, !=, DTLS_FAILED);
        cdone |= r == DTLS_DONE;
        if (g_queue_is_empty(&p->to_server.q) &&
            g_queue_is_empty(&p->to_client.q) && !(cdone && sdone)) {
            /* Stalled (slow runs, e.g. valgrind, let OpenSSL's timers
             * expire mid-flight): run the retransmit timers, as the
             * transport does from its GSource. */
            for (int i = 0; i < 2; i++) {
                dtls_session *d = i ? p->server : p->client;
                long ms = dtls_session_timeout_ms(d);
                if (ms < 0)
                    continue;
                g_usleep((gulong) ms * 1000 + 1000);
                g_assert_cmpint(dtls_session_handle_timeout(d), !=,
                                DTLS_FAILED);
            }
        }
    }
    g_assert_true(cdone && sdone);
    g_assert_true(dtls_session_is_done(p->client));
    g_assert_true(dtls_session_is_done(p->server));
}

static void test_handshake_and_exporter(void)
{
    pair p;
    pair_init(&p, NULL);
    g_assert_null(dtls_session_peer_cert(p.client));
    handshake(&p);
    /* Each side holds the other's certificate. */
    g_assert_cmpint(X509_cmp(dtls_session_peer_cert(p.client), p.sc), ==, 0);
    g_assert_cmpint(X509_cmp(dtls_session_peer_cert(p.server), p.cc), ==, 0);
    g_assert_cmpint(dtls_session_srtp_profile(p.client), ==,
                    DTLS_SRTP_AEAD_AES_128_GCM);
    g_assert_cmpint(dtls_session_srtp_profile(p.server), ==,
                    DTLS_SRTP_AEAD_AES_128_GCM);
    uint8_t a[56], b[56], c[32], d[32];
    g_assert_cmpint(
        dtls_session_export(p.client, "EXTRACTOR-dtls_srtp", a, sizeof a), ==,
        0);
    g_assert_cmpint(
        dtls_session_export(p.server, "EXTRACTOR-dtls_srtp", b, sizeof b), ==,
        0);
    g_assert_cmpmem(a, sizeof a, b, sizeof b);
    g_assert_cmpint(dtls_session_export(p.client, "EXTRACTOR-vid-sas", c, 32),
                    ==, 0);
    g_assert_cmpint(dtls_session_export(p.server, "EXTRACTOR-vid-sas", d, 32),
                    ==, 0);
    g_assert_cmpmem(c, 32, d, 32);
    g_assert_true(memcmp(a, c, 32) != 0); /* labels separate the values */
    g_assert_cmpint(dtls_session_timeout_ms(p.client), ==, -1);

    /* close_notify reaches the peer as DTLS_CLOSED. */
    dtls_session_shutdown(p.client);
    g_assert_cmpint(deliver(&p.to_server, p.server), ==, DTLS_CLOSED);
    pair_clear(&p);
}

static void test_retransmit_timer(void)
{
    pair p;
    pair_init(&p, NULL);
    g_assert_cmpint(dtls_session_start(p.client), ==, DTLS_CONTINUE);
    g_assert_cmpuint(p.to_server.sent, ==, 1);
    long ms = dtls_session_timeout_ms(p.client);
    /* At most 100 ms left (not OpenSSL's 1 s); only upper bounds are
     * asserted, a slow run may have used some of it already. */
    g_assert_cmpint(ms, >=, 0);
    g_assert_cmpint(ms, <=, 100);
    /* Lose the ClientHello; the timer resends it, doubling. */
    g_queue_clear_full(&p.to_server.q, (GDestroyNotify) g_bytes_unref);
    g_usleep((gulong) ms * 1000 + 2000);
    g_assert_cmpint(dtls_session_handle_timeout(p.client), ==, DTLS_CONTINUE);
    g_assert_cmpuint(p.to_server.sent, ==, 2);
    long ms2 = dtls_session_timeout_ms(p.client);
    g_assert_cmpint(ms2, >=, 0); /* doubled: at most 200 ms */
    g_assert_cmpint(ms2, <=, 200);
    /* The resent hello completes the handshake. */
    handshake(&p);
    pair_clear(&p);
}

static void test_garbage(void)
{
    pair p;
    pair_init(&p, NULL);
    uint8_t junk[40];
    memset(junk, 0x17, sizeof junk); /* application data, epoch junk */
    g_assert_cmpint(dtls_session_receive(p.server, junk, sizeof junk), !=,
                    DTLS_DONE);
    /* a real handshake still works afterwards */
    handshake(&p);
    pair_clear(&p);
}

static void test_cm_profile(void)
{
    pair p;
    pair_init(&p, "SRTP_AES128_CM_SHA1_80");
    handshake(&p);
    g_assert_cmpint(dtls_session_srtp_profile(p.server), ==,
                    DTLS_SRTP_AES128_CM_SHA1_80);
    pair_clear(&p);
}

/* A peer with an RSA certificate (GStreamer's DTLS elements make RSA
 * keys) must still be able to complete a handshake with us. */
static void test_rsa_peer(void)
{
    pair p;
    pair_init(&p, NULL);
    dtls_session_free(p.server);
    EVP_PKEY_free(p.sk);
    X509_free(p.sc);
    p.sk = EVP_RSA_gen(2048);
    g_assert_nonnull(p.sk);
    p.sc = X509_new();
    X509_set_version(p.sc, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(p.sc), 2);
    X509_gmtime_adj(X509_getm_notBefore(p.sc), -60);
    X509_gmtime_adj(X509_getm_notAfter(p.sc), 3600);
    X509_NAME *n = X509_get_subject_name(p.sc);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
                               (const unsigned char *) "rsa", -1, -1, 0);
    X509_set_issuer_name(p.sc, n);
    X509_set_pubkey(p.sc, p.sk);
    g_assert_cmpint(X509_sign(p.sc, p.sk, EVP_sha256()), >, 0);
    g_assert_cmpint(dtls_session_new(&p.server, p.sc, p.sk, false, 1200, NULL,
                                     wire_send, &p.to_client),
                    ==, 0);
    handshake(&p);
    g_assert_cmpint(X509_cmp(dtls_session_peer_cert(p.client), p.sc), ==, 0);
    pair_clear(&p);
}

static size_t rtp(uint8_t *b, uint16_t seq)
{
    memset(b, 0, 12);
    b[0] = 0x80;
    b[1] = 96;
    b[2] = (uint8_t) (seq >> 8);
    b[3] = (uint8_t) seq;
    b[11] = 0x42;
    memcpy(b + 12, "payload!", 8);
    return 20;
}

static void srtp_roundtrip(dtls_srtp_profile prof, size_t tag)
{
    size_t kl, sl;
    g_assert_cmpint(srtp_session_material_len(prof, &kl, &sl), ==, 0);
    uint8_t k1[30], k2[30];
    for (size_t i = 0; i < sizeof k1; i++) {
        k1[i] = (uint8_t) i;
        k2[i] = (uint8_t) (0xA0 + i);
    }
    srtp_session *a, *b, *wrong;
    g_assert_cmpint(srtp_session_new(&a, prof, k1, k2, kl + sl), ==, 0);
    g_assert_cmpint(srtp_session_new(&b, prof, k2, k1, kl + sl), ==, 0);
    g_assert_cmpint(srtp_session_new(&wrong, prof, k2, k2, kl + sl), ==, 0);
    srtp_session *bad = (srtp_session *) 1;
    g_assert_cmpint(srtp_session_new(&bad, prof, k2, k2, kl + sl - 1), ==,
                    TRANSPORT_EINVAL);
    g_assert_null(bad);
    uint8_t buf[20 + SRTP_SESSION_TRAILER], plain[20], copy[sizeof buf];
    size_t n = rtp(buf, 1);
    memcpy(plain, buf, n);
    g_assert_cmpint(srtp_session_protect(a, false, buf, &n, 25), ==,
                    TRANSPORT_ENOSPACE);
    g_assert_cmpint(srtp_session_protect(a, false, buf, &n, sizeof buf), ==, 0);
    g_assert_cmpuint(n, ==, 20 + tag);
    memcpy(copy, buf, n);
    size_t m = n;
    g_assert_cmpint(srtp_session_unprotect(wrong, false, copy, &m), ==,
                    SRTP_SESSION_AUTH_FAIL);
    memcpy(copy, buf, n);
    m = n;
    g_assert_cmpint(srtp_session_unprotect(b, false, copy, &m), ==,
                    SRTP_SESSION_OK);
    g_assert_cmpmem(copy, m, plain, sizeof plain);
    memcpy(copy, buf, n);
    m = n;
    g_assert_cmpint(srtp_session_unprotect(b, false, copy, &m), ==,
                    SRTP_SESSION_REPLAY);
    /* tampered */
    n = rtp(buf, 2);
    g_assert_cmpint(srtp_session_protect(a, false, buf, &n, sizeof buf), ==, 0);
    buf[14] ^= 1;
    g_assert_cmpint(srtp_session_unprotect(b, false, buf, &n), ==,
                    SRTP_SESSION_AUTH_FAIL);
    /* RTCP both ways */
    uint8_t rr[8 + SRTP_SESSION_TRAILER] = {0x80, 201, 0, 1, 1, 2, 3, 4};
    n = 8;
    g_assert_cmpint(srtp_session_protect(b, true, rr, &n, sizeof rr), ==, 0);
    g_assert_cmpuint(n, >, 8);
    g_assert_cmpint(srtp_session_unprotect(a, true, rr, &n), ==,
                    SRTP_SESSION_OK);
    g_assert_cmpuint(n, ==, 8);
    g_assert_cmpuint(srtp_session_take_events(a), ==, 0);
    srtp_session_free(a);
    srtp_session_free(b);
    srtp_session_free(wrong);
    srtp_session_free(NULL);
}

static void test_srtp_gcm(void)
{
    srtp_roundtrip(DTLS_SRTP_AEAD_AES_128_GCM, 16);
}

static void test_srtp_cm(void)
{
    srtp_roundtrip(DTLS_SRTP_AES128_CM_SHA1_80, 10);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/transport/dtls/handshake-exporter",
                    test_handshake_and_exporter);
    g_test_add_func("/transport/dtls/retransmit-timer", test_retransmit_timer);
    g_test_add_func("/transport/dtls/garbage", test_garbage);
    g_test_add_func("/transport/dtls/cm-profile", test_cm_profile);
    g_test_add_func("/transport/dtls/rsa-peer", test_rsa_peer);
    g_test_add_func("/transport/srtp/gcm", test_srtp_gcm);
    g_test_add_func("/transport/srtp/cm-sha1-80", test_srtp_cm);
    return g_test_run();
}
