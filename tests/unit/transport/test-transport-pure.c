/*
 * test-transport-pure.c — the transport layer's pure helpers: seeded
 * impairment, fingerprint text, ICE server URLs and
 * DTLS record packing. No network.
 */
#include <string.h>

#include <glib.h>

#include "transport-private.h"

static void run_impair(uint64_t seed, unsigned *out, size_t n)
{
    impair_state st;
    transport_impairment cfg = {.seed = seed,
                                .drop_pct = 20,
                                .delay_ms = 5,
                                .reorder_pct = 10,
                                .reorder_ms = 30};
    g_assert_cmpint(impair_configure(&st, &cfg), ==, 0);
    for (size_t i = 0; i < n; i++) {
        unsigned d;
        out[i] = impair_next(&st, &d) ? G_MAXUINT : d;
    }
}

static void test_impair(void)
{
    unsigned a[2000], b[2000], c[2000];
    run_impair(42, a, G_N_ELEMENTS(a));
    run_impair(42, b, G_N_ELEMENTS(b));
    run_impair(43, c, G_N_ELEMENTS(c));
    g_assert_cmpmem(a, sizeof a, b, sizeof b); /* same seed, same fates */
    g_assert_true(memcmp(a, c, sizeof a) != 0);
    unsigned drops = 0, late = 0, plain = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(a); i++) {
        if (a[i] == G_MAXUINT)
            drops++;
        else if (a[i] == 35)
            late++;
        else if (a[i] == 5)
            plain++;
        else
            g_assert_not_reached();
    }
    /* 20 % and 8 % (10 % of the 80 % kept), loosely. */
    g_assert_cmpuint(drops, >, 300);
    g_assert_cmpuint(drops, <, 500);
    g_assert_cmpuint(late, >, 90);
    g_assert_cmpuint(late, <, 250);
    g_assert_cmpuint(drops + late + plain, ==, 2000);

    impair_state st;
    unsigned d = 99;
    g_assert_cmpint(impair_configure(&st, NULL), ==, 0);
    g_assert_false(impair_next(&st, &d));
    g_assert_cmpuint(d, ==, 0);
    transport_impairment bad = {.drop_pct = 101};
    g_assert_cmpint(impair_configure(&st, &bad), ==, TRANSPORT_EINVAL);
    bad = (transport_impairment){.delay_ms = 10001};
    g_assert_cmpint(impair_configure(&st, &bad), ==, TRANSPORT_EINVAL);
    /* seed 0 still works (the generator must not stick at zero) */
    transport_impairment z = {.seed = 0, .drop_pct = 50};
    g_assert_cmpint(impair_configure(&st, &z), ==, 0);
    unsigned dropped = 0;
    for (int i = 0; i < 1000; i++)
        dropped += impair_next(&st, &d);
    g_assert_cmpuint(dropped, >, 350);
    g_assert_cmpuint(dropped, <, 650);
}

static void test_fingerprint(void)
{
    const char *good = "sha-256 "
                       "ab:cd:ef:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:"
                       "ab:cd:ef:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";
    char out[TRANSPORT_FP_LEN];
    g_assert_cmpint(transport_fp_normalize(good, out, sizeof out), ==, 0);
    g_assert_cmpstr(out, ==,
                    "sha-256 "
                    "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:"
                    "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89");
    char upper[128];
    g_strlcpy(upper, good, sizeof upper);
    memcpy(upper, "SHA-256", 7);
    g_assert_cmpint(transport_fp_normalize(upper, out, sizeof out), ==, 0);
    g_assert_cmpint(transport_fp_normalize(good, out, 50), ==,
                    TRANSPORT_ENOSPACE);
    const char *bad[] = {
        NULL,
        "",
        "sha-1 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01",
        "sha-256",
        "sha-256 AB:CD",
        "sha-256 "
        "ab:cd:ef:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:"
        "ab:cd:ef:01:23:45:67:89:AB:CD:EF:01:23:45:67:8g",
        "sha-256 "
        "ab-cd:ef:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:"
        "ab:cd:ef:01:23:45:67:89:AB:CD:EF:01:23:45:67:89",
        "sha-256 "
        "ab:cd:ef:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:"
        "ab:cd:ef:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:00",
        "sha-256x"
        "ab:cd:ef:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:"
        "ab:cd:ef:01:23:45:67:89:AB:CD:EF:01:23:45:67:89",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
        g_assert_cmpint(transport_fp_normalize(bad[i], out, sizeof out), ==,
                        TRANSPORT_EINVAL);
}

static void test_urls(void)
{
    bool turn, tls, tcp;
    char host[64];
    unsigned port;
    g_assert_cmpint(transport_parse_ice_url("stun:127.0.0.1:3478", &turn, &tls,
                                            &tcp, host, sizeof host, &port),
                    ==, 0);
    g_assert_false(turn);
    g_assert_cmpstr(host, ==, "127.0.0.1");
    g_assert_cmpuint(port, ==, 3478);
    g_assert_cmpint(transport_parse_ice_url("turn:relay.example?transport=tcp",
                                            &turn, &tls, &tcp, host,
                                            sizeof host, &port),
                    ==, 0);
    g_assert_true(turn && tcp && !tls);
    g_assert_cmpstr(host, ==, "relay.example");
    g_assert_cmpuint(port, ==, 3478);
    g_assert_cmpint(transport_parse_ice_url("turns:[::1]:443?transport=tcp",
                                            &turn, &tls, &tcp, host,
                                            sizeof host, &port),
                    ==, 0);
    g_assert_true(turn && tcp && tls);
    g_assert_cmpstr(host, ==, "::1");
    g_assert_cmpuint(port, ==, 443);
    g_assert_cmpint(transport_parse_ice_url("turns:h", &turn, &tls, &tcp, host,
                                            sizeof host, &port),
                    ==, 0);
    g_assert_cmpuint(port, ==, 5349);
    const char *bad[] = {
        "http://x",
        "stun:",
        "stun:h:0",
        "stun:h:65536",
        "stun:h:12a",
        "stun:h?transport=udp",
        "turn:h?transport=sctp",
        "turns:h?transport=udp",
        "turn:[::1",
        "turn:[::1]x",
        "turn::3478",
        "turn:h:123456",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
        g_assert_cmpint(transport_parse_ice_url(bad[i], &turn, &tls, &tcp, host,
                                                sizeof host, &port),
                        ==, TRANSPORT_EINVAL);
    g_assert_cmpint(transport_parse_ice_url("stun:averyveryverylonghostname",
                                            &turn, &tls, &tcp, host, 8, &port),
                    ==, TRANSPORT_EINVAL);
}

typedef struct {
    size_t lens[16];
    size_t n;
} sent_log;

static void log_send(const uint8_t *buf, size_t len, void *ud)
{
    sent_log *l = ud;
    (void) buf;
    g_assert_cmpuint(l->n, <, G_N_ELEMENTS(l->lens));
    l->lens[l->n++] = len;
}

static size_t put_record(uint8_t *p, size_t body)
{
    memset(p, 0, 13);
    p[0] = 22;
    p[11] = (uint8_t) (body >> 8);
    p[12] = (uint8_t) body;
    return 13 + body;
}

static void test_pack(void)
{
    uint8_t buf[4000] = {0};
    size_t off = 0;
    off += put_record(buf + off, 500);  /* 513 */
    off += put_record(buf + off, 500);  /* 513 -> 1026 */
    off += put_record(buf + off, 300);  /* 313: would exceed 1200 */
    off += put_record(buf + off, 1500); /* bigger than the MTU: alone */
    off += put_record(buf + off, 10);
    sent_log l = {0};
    g_assert_cmpint(dtls_pack_records(buf, off, 1200, log_send, &l), ==, 4);
    g_assert_cmpuint(l.lens[0], ==, 1026);
    g_assert_cmpuint(l.lens[1], ==, 313);
    g_assert_cmpuint(l.lens[2], ==, 1513);
    g_assert_cmpuint(l.lens[3], ==, 23);
    /* truncated header / body */
    l.n = 0;
    g_assert_cmpint(dtls_pack_records(buf, 12, 1200, log_send, &l), ==,
                    TRANSPORT_EINVAL);
    g_assert_cmpint(dtls_pack_records(buf, 100, 1200, log_send, &l), ==,
                    TRANSPORT_EINVAL);
    g_assert_cmpint(dtls_pack_records(buf, 0, 1200, log_send, &l), ==, 0);
}

static void test_srtp_lengths(void)
{
    size_t k, s;
    g_assert_cmpint(
        srtp_session_material_len(DTLS_SRTP_AEAD_AES_128_GCM, &k, &s), ==, 0);
    g_assert_cmpuint(k + s, ==, 28);
    g_assert_cmpint(
        srtp_session_material_len(DTLS_SRTP_AES128_CM_SHA1_80, &k, &s), ==, 0);
    g_assert_cmpuint(k + s, ==, 30);
    g_assert_cmpint(srtp_session_material_len(DTLS_SRTP_NONE, &k, &s), ==,
                    TRANSPORT_EINVAL);
}

static void test_candidates(void)
{
    const char *good[] = {
        "candidate:1 1 UDP 2013266431 127.0.0.1 43497 typ host",
        "a=candidate:2 1 TCP 1015022079 127.0.0.1 9 typ host tcptype active",
        "candidate:842163049 1 udp 1677729535 198.51.100.7 61665 typ srflx "
        "raddr 10.0.0.2 rport 61665 generation 0 ufrag EsAw network-cost 999",
        "candidate:3 1 UDP 16777215 ::1 50000 typ relay raddr ::1 rport 1",
        "candidate:abc+/ 256 udp 1 127.0.0.1 0 typ prflx",
    };
    unsigned comp = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
        g_assert_cmpint(transport_candidate_check(good[i], &comp), ==, 0);
        g_assert_cmpuint(comp, >=, 1);
    }
    g_assert_cmpint(transport_candidate_check(good[4], &comp), ==, 0);
    g_assert_cmpuint(comp, ==, 256);
    const char *bad[] = {
        NULL,
        "",
        "candidate:",
        "cand:1 1 UDP 1 127.0.0.1 1 typ host",
        "candidate:1 1 UDP 1 127.0.0.1 99999 typ host",
        "candidate:1 0 UDP 1 127.0.0.1 1 typ host",
        "candidate:1 257 UDP 1 127.0.0.1 1 typ host",
        "candidate:1 1 SCTP 1 127.0.0.1 1 typ host",
        "candidate:1 1 UDP 0 127.0.0.1 1 typ host",
        "candidate:1 1 UDP 4294967296 127.0.0.1 1 typ host",
        "candidate:1 1 UDP -5 127.0.0.1 1 typ host",
        "candidate:1 1 UDP 1 abcd.local 1 typ host",
        "candidate:1 1 UDP 1 127.0.0.1 1 type host",
        "candidate:1 1 UDP 1 127.0.0.1 1 typ bogus",
        "candidate:1 1 UDP 1 127.0.0.1 1 typ host raddr",
        "candidate:1 1 UDP 1 127.0.0.1 1 typ host raddr x.y rport 1",
        "candidate:1 1 UDP 1 127.0.0.1 1 typ host rport 70000 raddr ::1",
        "candidate:1 1 TCP 1 127.0.0.1 1 typ host tcptype sideways",
        "candidate:1 1 UDP 1 127.0.0.1 1 typ host  generation 0",
        "candidate:f@o 1 UDP 1 127.0.0.1 1 typ host",
        "candidate:123456789012345678901234567890123 1 UDP 1 127.0.0.1 1 "
        "typ host",
        "candidate:1 1 UDP 1 127.0.0.1 1 typ host x \x01",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
        g_assert_cmpint(transport_candidate_check(bad[i], NULL), ==,
                        TRANSPORT_EINVAL);
    /* too long */
    char big[600];
    memset(big, '1', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    memcpy(big, "candidate:", 10);
    g_assert_cmpint(transport_candidate_check(big, NULL), ==, TRANSPORT_EINVAL);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/transport/pure/impair", test_impair);
    g_test_add_func("/transport/pure/fingerprint", test_fingerprint);
    g_test_add_func("/transport/pure/urls", test_urls);
    g_test_add_func("/transport/pure/dtls-pack", test_pack);
    g_test_add_func("/transport/pure/srtp-lengths", test_srtp_lengths);
    g_test_add_func("/transport/pure/candidates", test_candidates);
    return g_test_run();
}
