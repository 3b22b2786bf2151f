/*
 * ratectl.c — loss-based sender rate control (draft-ietf-rmcat-gcc-02
 * section 6) with a REMB cap. Deterministic: time comes from the caller.
 */
#include <string.h>

#include "playout.h"

#define LOSS_LOW 5                 /* 5/256 = 1.95 %: below 2 % -> increase */
#define LOSS_HIGH 26               /* 26/256 = 10.2 %: above 10 % -> decrease */
#define INCREASE_PERMILLE_PER_S 80 /* 8 % per second */
#define MIN_INCREASE_BPS 1000
#define DECREASE_HOLD_US 300000 /* plus one RTT */

int rtp_ratectl_init(rtp_ratectl *rc, uint32_t start_bps, uint32_t min_bps,
                     uint32_t max_bps)
{
    if (rc == NULL || min_bps == 0 || min_bps > start_bps ||
        start_bps > max_bps)
        return RTP_ERR_ARG;
    memset(rc, 0, sizeof(*rc));
    rc->bitrate = start_bps;
    rc->min_bps = min_bps;
    rc->max_bps = max_bps;
    rc->rtt_us = 100000;
    return RTP_OK;
}

static uint32_t clamp_rate(const rtp_ratectl *rc, uint64_t v)
{
    uint64_t hi = rc->max_bps;

    if (rc->remb_bps > 0 && rc->remb_bps < hi)
        hi = rc->remb_bps;
    if (hi < rc->min_bps)
        hi = rc->min_bps;
    if (v > hi)
        v = hi;
    if (v < rc->min_bps)
        v = rc->min_bps;
    return (uint32_t) v;
}

uint32_t rtp_ratectl_on_report(rtp_ratectl *rc, uint8_t fraction_lost,
                               int64_t now_us)
{
    int64_t dt;

    if (!rc->started) {
        rc->started = true;
        rc->last_report_us = now_us;
        rc->last_decrease_us = INT64_MIN;
    }
    dt = now_us - rc->last_report_us;
    if (dt < 0)
        dt = 0;
    if (dt > 1000000)
        dt = 1000000; /* a long silence is not a licence to jump */
    rc->last_report_us = now_us;

    if (fraction_lost <= LOSS_LOW) {
        uint64_t inc = (uint64_t) rc->bitrate * INCREASE_PERMILLE_PER_S *
                       (uint64_t) dt / 1000 / 1000000;
        if (dt > 0 && inc < MIN_INCREASE_BPS)
            inc = MIN_INCREASE_BPS;
        rc->bitrate = clamp_rate(rc, (uint64_t) rc->bitrate + inc);
    } else if (fraction_lost >= LOSS_HIGH) {
        if (rc->last_decrease_us == INT64_MIN ||
            now_us - rc->last_decrease_us >= DECREASE_HOLD_US + rc->rtt_us) {
            /* rate * (1 - 0.5 * loss), loss = fraction / 256 */
            uint64_t v = (uint64_t) rc->bitrate * (512 - fraction_lost) / 512;
            rc->bitrate = clamp_rate(rc, v);
            rc->last_decrease_us = now_us;
        }
    }
    /* 2..10 %: hold */
    return rtp_ratectl_target(rc);
}

void rtp_ratectl_on_remb(rtp_ratectl *rc, uint64_t bps)
{
    rc->remb_bps = bps > UINT32_MAX ? UINT32_MAX : (uint32_t) bps;
    /* GCC: the sender estimate never exceeds the receiver's. */
    rc->bitrate = clamp_rate(rc, rc->bitrate);
}

void rtp_ratectl_set_rtt(rtp_ratectl *rc, int64_t rtt_us)
{
    if (rtt_us >= 0)
        rc->rtt_us = rtt_us;
}

uint32_t rtp_ratectl_target(const rtp_ratectl *rc)
{
    return clamp_rate(rc, rc->bitrate);
}
