/*
 * limits.c — token bucket: @rate tokens per second, at most @burst.
 */
#include "ratelimit.h"

void bucket_init(token_bucket *b, int burst, uint32_t now_ms)
{
    b->tokens = (float) burst;
    b->last_ms = now_ms;
}

bool bucket_take(token_bucket *b, double rate, int burst, uint32_t now_ms)
{
    uint32_t dt = now_ms - b->last_ms;
    double t = b->tokens + rate * (double) dt / 1000.0;

    if (t > burst)
        t = burst;
    b->last_ms = now_ms;
    if (t < 1.0) {
        b->tokens = (float) t;
        return false;
    }
    b->tokens = (float) (t - 1.0);
    return true;
}
