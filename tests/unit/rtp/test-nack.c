/*
 * Unit tests of the NACK generator (which numbers, when, how often) and
 * the sender's retransmission cache (serves, rate-limits, evicts).
 */
#include <glib.h>
#include <string.h>

#include "playout.h"

static size_t collect(rtp_nack *n, int64_t now, uint16_t *seqs)
{
    return rtp_nack_collect(n, now, seqs, 64);
}

static void assert_seqs(const uint16_t *got, size_t n, const uint16_t *want,
                        size_t wn)
{
    g_assert_cmpuint(n, ==, wn);
    for (size_t i = 0; i < n; i++)
        g_assert_cmpuint(got[i], ==, want[i]);
}

static void test_generator_timing(void)
{
    rtp_nack n;
    uint16_t s[64];
    static const uint16_t all[] = {101, 102, 103, 104};
    static const uint16_t rest[] = {101, 103, 104};

    rtp_nack_init(&n);
    g_assert_cmpint(rtp_nack_on_packet(&n, 100, 0), ==, 0);
    g_assert_cmpint(rtp_nack_on_packet(&n, 105, 0), ==, 0);
    /* not before the reorder wait (5 ms) */
    g_assert_cmpuint(collect(&n, 4999, s), ==, 0);
    assert_seqs(s, collect(&n, 5000, s), all, 4);
    /* retry after max(1.25 * RTT, 20 ms); RTT guess 100 ms */
    g_assert_cmpuint(collect(&n, 5000 + 124999, s), ==, 0);
    rtp_nack_set_rtt(&n, 40000); /* retry now 50 ms */
    g_assert_cmpuint(collect(&n, 5000 + 49999, s), ==, 0);
    assert_seqs(s, collect(&n, 5000 + 50000, s), all, 4);
    /* 102 arrives (a retransmission): recovered, no longer asked */
    g_assert_cmpint(rtp_nack_on_packet(&n, 102, 60000), ==, 1);
    g_assert_cmpint(rtp_nack_on_packet(&n, 102, 60000), ==, 0);
    assert_seqs(s, collect(&n, 105000, s), rest, 3);
    /* a short RTT is floored at 20 ms */
    rtp_nack_set_rtt(&n, 1000);
    g_assert_cmpuint(collect(&n, 105000 + 19999, s), ==, 0);
    assert_seqs(s, collect(&n, 125000, s), rest, 3);
    /* forget before 104 (e.g. a keyframe at 104) */
    rtp_nack_forget_before(&n, 104);
    g_assert_cmpuint(n.n, ==, 1);
    g_assert_cmpuint(collect(&n, 145000, s), ==, 1);
    g_assert_cmpuint(s[0], ==, 104);
    /* cap on the output: the rest stays due */
    g_assert_cmpint(rtp_nack_on_packet(&n, 110, 145000), ==, 0);
    g_assert_cmpuint(rtp_nack_collect(&n, 150000, s, 2), ==, 2);
    g_assert_cmpuint(s[0], ==, 106);
    g_assert_cmpuint(s[1], ==, 107);
    {
        static const uint16_t want[] = {108, 109};
        assert_seqs(s, collect(&n, 150000, s), want, 2);
    }
}

static void test_generator_limits(void)
{
    rtp_nack n;
    uint16_t s[64];
    int64_t t = 0;

    /* retry limit */
    rtp_nack_init(&n);
    n.max_retries = 3;
    rtp_nack_set_rtt(&n, 16000); /* retry every 20 ms */
    rtp_nack_on_packet(&n, 10, 0);
    rtp_nack_on_packet(&n, 12, 0);
    for (int i = 0; i < 3; i++) {
        t = 5000 + i * 20000;
        g_assert_cmpuint(collect(&n, t, s), ==, 1);
        g_assert_cmpuint(s[0], ==, 11);
    }
    g_assert_cmpuint(collect(&n, t + 20000, s), ==, 0);
    g_assert_cmpuint(n.n, ==, 0);

    /* age limit (1 s) */
    rtp_nack_init(&n);
    rtp_nack_on_packet(&n, 10, 0);
    rtp_nack_on_packet(&n, 12, 0);
    g_assert_cmpuint(collect(&n, 1000001, s), ==, 0);
    g_assert_cmpuint(n.n, ==, 0);

    /* wrap-around */
    rtp_nack_init(&n);
    rtp_nack_on_packet(&n, 65534, 0);
    rtp_nack_on_packet(&n, 2, 0);
    {
        static const uint16_t want[] = {65535, 0, 1};
        assert_seqs(s, collect(&n, 5000, s), want, 3);
    }
    /* older and duplicate packets are not gaps */
    g_assert_cmpint(rtp_nack_on_packet(&n, 65000, 0), ==, 0);
    g_assert_cmpint(rtp_nack_on_packet(&n, 2, 0), ==, 0);
    g_assert_cmpuint(n.n, ==, 3);

    /* a gap beyond the list: cleared, overflow reported once */
    rtp_nack_init(&n);
    rtp_nack_on_packet(&n, 0, 0);
    rtp_nack_on_packet(&n, 2, 0);
    rtp_nack_on_packet(&n, 2 + RTP_NACK_MAX_SEQS + 2, 0);
    g_assert_cmpuint(n.n, ==, 0);
    g_assert_true(rtp_nack_take_overflow(&n));
    g_assert_false(rtp_nack_take_overflow(&n));

    /* gaps that fill the list: the oldest go, overflow */
    rtp_nack_init(&n);
    rtp_nack_on_packet(&n, 0, 0);
    rtp_nack_on_packet(&n, 301, 0); /* 300 missing */
    rtp_nack_on_packet(&n, 602, 0); /* 300 more: 88 oldest dropped */
    g_assert_cmpuint(n.n, ==, RTP_NACK_MAX_SEQS);
    g_assert_cmpuint(n.list[0].seq, ==, 1 + 88);
    g_assert_cmpuint(n.list[RTP_NACK_MAX_SEQS - 1].seq, ==, 601);
    g_assert_true(rtp_nack_take_overflow(&n));

    /* rtp_nack_add keeps the order */
    rtp_nack_init(&n);
    g_assert_cmpint(rtp_nack_add(&n, 5, 0), ==, RTP_ERR_ARG);
    rtp_nack_on_packet(&n, 20, 0);
    rtp_nack_on_packet(&n, 23, 0);
    g_assert_cmpint(rtp_nack_add(&n, 15, 0), ==, RTP_OK);
    g_assert_cmpint(rtp_nack_add(&n, 17, 0), ==, RTP_OK);
    g_assert_cmpint(rtp_nack_add(&n, 15, 0), ==, RTP_OK);
    g_assert_cmpint(rtp_nack_add(&n, 23, 0), ==, RTP_ERR_ARG);
    {
        static const uint16_t want[] = {15, 17, 21, 22};
        assert_seqs(s, collect(&n, 5000, s), want, 4);
    }
}

static void test_cache_serve_and_evict(void)
{
    rtp_rtx_cache *c;
    const uint8_t *d;
    size_t len;
    uint8_t pkt[100];

    g_assert_cmpint(rtp_rtx_cache_new(&c, 100, 1500, 0), ==, RTP_ERR_ARG);
    g_assert_null(c);
    g_assert_cmpint(rtp_rtx_cache_new(&c, 8, 1500, 0), ==, RTP_ERR_ARG);
    g_assert_cmpint(rtp_rtx_cache_new(&c, 16, 0, 0), ==, RTP_ERR_ARG);
    g_assert_cmpint(rtp_rtx_cache_new(&c, 16, 70000, 0), ==, RTP_ERR_ARG);
    g_assert_cmpint(rtp_rtx_cache_new(NULL, 16, 100, 0), ==, RTP_ERR_ARG);
    rtp_rtx_cache_free(NULL);

    g_assert_cmpint(rtp_rtx_cache_new(&c, 16, 100, 1000000), ==, RTP_OK);
    /* never stored */
    g_assert_cmpint(rtp_rtx_cache_get(c, 5, 0, 0, &d, &len), ==,
                    RTP_ERR_NOT_FOUND);
    /* 65530 .. 65535, 0 .. 9: wraps */
    for (int i = 0; i < 16; i++) {
        uint16_t seq = (uint16_t) (65530 + i);
        memset(pkt, seq & 0xff, sizeof(pkt));
        g_assert_cmpint(rtp_rtx_cache_put(c, seq, pkt, 10 + (size_t) i, 0), ==,
                        RTP_OK);
    }
    for (int i = 0; i < 16; i++) {
        uint16_t seq = (uint16_t) (65530 + i);
        g_assert_cmpint(rtp_rtx_cache_get(c, seq, 1000, 0, &d, &len), ==,
                        RTP_OK);
        g_assert_cmpuint(len, ==, 10 + (size_t) i);
        for (size_t k = 0; k < len; k++)
            g_assert_cmpuint(d[k], ==, seq & 0xff);
    }
    /* resent less than min_interval ago: refused, then allowed */
    g_assert_cmpint(rtp_rtx_cache_get(c, 3, 20000, 40000, &d, &len), ==,
                    RTP_ERR_INVALID);
    g_assert_cmpint(rtp_rtx_cache_get(c, 3, 41000, 40000, &d, &len), ==,
                    RTP_OK);
    /* one more packet evicts the oldest (65530) but not 65531 */
    memset(pkt, 0xee, sizeof(pkt));
    g_assert_cmpint(rtp_rtx_cache_put(c, 10, pkt, 50, 2000), ==, RTP_OK);
    g_assert_cmpint(rtp_rtx_cache_get(c, 65530, 3000, 0, &d, &len), ==,
                    RTP_ERR_NOT_FOUND);
    g_assert_cmpint(rtp_rtx_cache_get(c, 10, 3000, 0, &d, &len), ==, RTP_OK);
    g_assert_cmpuint(len, ==, 50);
    g_assert_cmpuint(d[49], ==, 0xee);
    g_assert_cmpint(rtp_rtx_cache_get(c, 65531, 3000, 0, &d, &len), ==, RTP_OK);
    /* a number 16 behind maps to the same slot: not confused */
    g_assert_cmpint(
        rtp_rtx_cache_get(c, (uint16_t) (10 - 16), 3000, 0, &d, &len), ==,
        RTP_ERR_NOT_FOUND);
    /* too large to store */
    g_assert_cmpint(rtp_rtx_cache_put(c, 11, pkt, 101, 3000), ==,
                    RTP_ERR_NOSPACE);
    /* too old to be worth sending (max age 1 s) */
    g_assert_cmpint(rtp_rtx_cache_get(c, 10, 2000 + 1000000, 0, &d, &len), ==,
                    RTP_OK);
    g_assert_cmpint(rtp_rtx_cache_get(c, 10, 2000 + 1000001, 0, &d, &len), ==,
                    RTP_ERR_NOT_FOUND);
    rtp_rtx_cache_free(c);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/nack/generator/timing", test_generator_timing);
    g_test_add_func("/nack/generator/limits", test_generator_limits);
    g_test_add_func("/nack/cache/serve-evict", test_cache_serve_and_evict);
    return g_test_run();
}
