/*
 * backoff.h — reconnect delays: exponential back-off with full jitter.
 *
 * Pure: no I/O, no globals. The caller owns the random state, so tests can
 * seed it and get the same sequence every time.
 */
#ifndef VID_BACKOFF_H
#define VID_BACKOFF_H

#include <stdint.h>

#define BACKOFF_BASE_MS 500u
#define BACKOFF_CAP_MS 30000u

/* splitmix64: the next 64 random bits from *state. */
uint64_t backoff_rng_next(uint64_t *state);

/* Upper bound of the delay before retry number @attempt (0 = first):
 * min(cap, base * 2^attempt), saturating. */
uint32_t backoff_ceiling_ms(unsigned int attempt, uint32_t base_ms,
                            uint32_t cap_ms);

/* Full jitter: a delay drawn uniformly from [0, ceiling], in ms. */
uint32_t backoff_delay_ms(unsigned int attempt, uint32_t base_ms,
                          uint32_t cap_ms, uint64_t *rng_state);

#endif /* VID_BACKOFF_H */
