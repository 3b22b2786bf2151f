/*
 * ratelimit.h — per-connection token bucket (pure, explicit clock).
 */
#ifndef VSS_LIMITS_H
#define VSS_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    float tokens;
    uint32_t last_ms; /* wraps after 49 days; differences stay right */
} token_bucket;

void bucket_init(token_bucket *b, int burst, uint32_t now_ms);

/* Take one token: true if the message may pass. */
bool bucket_take(token_bucket *b, double rate, int burst, uint32_t now_ms);

#endif
