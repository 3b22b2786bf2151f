/* Unit tests of the reconnect back-off (libvid/signaling/backoff.c). */
#include <glib.h>

#include "backoff.h"

static void test_ceiling(void)
{
    g_assert_cmpuint(backoff_ceiling_ms(0, 500, 30000), ==, 500);
    g_assert_cmpuint(backoff_ceiling_ms(1, 500, 30000), ==, 1000);
    g_assert_cmpuint(backoff_ceiling_ms(5, 500, 30000), ==, 16000);
    g_assert_cmpuint(backoff_ceiling_ms(6, 500, 30000), ==, 30000);
    /* Huge attempt counts saturate instead of overflowing. */
    g_assert_cmpuint(backoff_ceiling_ms(1000, 500, 30000), ==, 30000);
    g_assert_cmpuint(backoff_ceiling_ms(UINT32_MAX, 500, 30000), ==, 30000);
    g_assert_cmpuint(backoff_ceiling_ms(0, 50000, 30000), ==, 30000);
}

static void test_bounds(void)
{
    uint64_t rng = 42;

    for (unsigned int attempt = 0; attempt < 40; attempt++) {
        uint32_t ceiling =
            backoff_ceiling_ms(attempt, BACKOFF_BASE_MS, BACKOFF_CAP_MS);
        for (int i = 0; i < 1000; i++) {
            uint32_t d = backoff_delay_ms(attempt, BACKOFF_BASE_MS,
                                          BACKOFF_CAP_MS, &rng);
            g_assert_cmpuint(d, <=, ceiling);
        }
    }
}

static void test_seeded_sequence_repeats(void)
{
    uint64_t a = 7, b = 7, c = 8;
    int same_as_other_seed = 0;

    for (unsigned int i = 0; i < 100; i++) {
        uint32_t da = backoff_delay_ms(i % 10, 500, 30000, &a);
        uint32_t db = backoff_delay_ms(i % 10, 500, 30000, &b);
        uint32_t dc = backoff_delay_ms(i % 10, 500, 30000, &c);
        g_assert_cmpuint(da, ==, db);
        same_as_other_seed += da == dc;
    }
    g_assert_cmpint(same_as_other_seed, <, 10);
}

/* Full jitter: uniform over [0, ceiling]. With 100,000 draws at the cap,
 * the mean is 15 s within 1 % and every tenth of the range is used. */
static void test_full_jitter_distribution(void)
{
    uint64_t rng = 12345;
    const int n = 100000;
    double sum = 0;
    int bucket[10] = {0};

    for (int i = 0; i < n; i++) {
        uint32_t d = backoff_delay_ms(20, 500, 30000, &rng);
        sum += d;
        bucket[d * 10 / 30001]++;
    }
    g_assert_cmpfloat(sum / n, >, 15000 * 0.99);
    g_assert_cmpfloat(sum / n, <, 15000 * 1.01);
    for (int i = 0; i < 10; i++) {
        g_assert_cmpint(bucket[i], >, n / 10 * 0.95);
        g_assert_cmpint(bucket[i], <, n / 10 * 1.05);
    }
}

static void test_first_retry_is_quick(void)
{
    uint64_t rng = 99;

    /* The first retry after a server restart comes within 0.5 s. */
    for (int i = 0; i < 1000; i++)
        g_assert_cmpuint(
            backoff_delay_ms(0, BACKOFF_BASE_MS, BACKOFF_CAP_MS, &rng), <=,
            500);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/backoff/ceiling", test_ceiling);
    g_test_add_func("/backoff/bounds", test_bounds);
    g_test_add_func("/backoff/seeded", test_seeded_sequence_repeats);
    g_test_add_func("/backoff/distribution", test_full_jitter_distribution);
    g_test_add_func("/backoff/first-retry", test_first_retry_is_quick);
    return g_test_run();
}
