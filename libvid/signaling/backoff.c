/*
 * backoff.c — exponential back-off with full jitter ("Exponential Backoff
 * And Jitter", AWS architecture blog): sleep = random(0, min(cap,
 * base * 2^attempt)). Spreads reconnecting clients after a server restart.
 */
#include "backoff.h"

uint64_t backoff_rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint32_t backoff_ceiling_ms(unsigned int attempt, uint32_t base_ms,
                            uint32_t cap_ms)
{
    uint64_t c = base_ms;

    for (unsigned int i = 0; i < attempt && c < cap_ms; i++)
        c *= 2;
    return c < cap_ms ? (uint32_t) c : cap_ms;
}

uint32_t backoff_delay_ms(unsigned int attempt, uint32_t base_ms,
                          uint32_t cap_ms, uint64_t *rng_state)
{
    uint64_t ceiling = backoff_ceiling_ms(attempt, base_ms, cap_ms);

    /* Modulo bias is at most ceiling / 2^64: negligible. */
    return (uint32_t) (backoff_rng_next(rng_state) % (ceiling + 1));
}
