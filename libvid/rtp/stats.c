/*
 * stats.c — receiver statistics (RFC 3550 appendix A.1, A.3, A.8), RTT
 * from report blocks, rate counters, lip-sync mapping and the sequence /
 * timestamp unwrapping helpers.
 */
#include <string.h>

#include "playout.h"

#define MAX_DROPOUT 3000
#define MAX_MISORDER 100
#define NTP_UNIX_OFFSET 2208988800LL /* 1900-01-01 to 1970-01-01, seconds */

int64_t rtp_seq_unwrap(int64_t ref, uint16_t seq)
{
    int64_t base = ref - (ref & 0xFFFF) + seq; /* same 65536 block */
    int64_t d = base - ref;

    if (d > 32768)
        base -= 65536;
    else if (d <= -32768)
        base += 65536;
    return base;
}

int64_t rtp_ts_unwrap(int64_t ref, uint32_t ts)
{
    int64_t base = ref - (ref & 0xFFFFFFFFLL) + ts;
    int64_t d = base - ref;

    if (d > 2147483648LL)
        base -= 4294967296LL;
    else if (d <= -2147483648LL)
        base += 4294967296LL;
    return base;
}

/* Microseconds to clock ticks without overflowing for large times. */
static int64_t us_to_ticks(int64_t us, uint32_t clock_rate)
{
    return (us / 1000000) * clock_rate + (us % 1000000) * clock_rate / 1000000;
}

void rtp_rx_stats_init(rtp_rx_stats *s, uint32_t clock_rate)
{
    memset(s, 0, sizeof(*s));
    s->clock_rate = clock_rate > 0 ? clock_rate : 90000;
}

static void init_seq(rtp_rx_stats *s, uint16_t seq)
{
    s->base_seq = seq;
    s->max_seq = seq;
    s->bad_seq = 0x10000 + 1; /* never equal to a 16-bit number */
    s->cycles = 0;
    s->received = 0;
    s->received_prior = 0;
    s->expected_prior = 0;
}

void rtp_rx_stats_on_packet(rtp_rx_stats *s, uint16_t seq, uint32_t ts,
                            int64_t arrival_us)
{
    uint16_t udelta;
    bool in_order = false;

    udelta = (uint16_t) (seq - s->max_seq);
    if (!s->started) {
        s->started = true;
        init_seq(s, seq);
        in_order = true;
    } else if (udelta < MAX_DROPOUT) {
        if (udelta != 0) {
            if (seq < s->max_seq)
                s->cycles += 0x10000;
            s->max_seq = seq;
            in_order = true;
        }
    } else if (udelta <= 0x10000 - MAX_MISORDER) {
        /* A very large jump: believe it only when the next packet
         * follows it (RFC 3550 A.1: the source restarted). */
        if (seq == s->bad_seq) {
            init_seq(s, seq);
            s->have_transit = false;
            in_order = true;
        } else {
            s->bad_seq = (uint32_t) ((seq + 1) & 0xFFFF);
            return;
        }
    }
    /* else duplicate or reordered: counted, no jitter sample */
    s->received++;

    if (in_order) {
        /* RFC 3550 A.8, on packets in sequence order only, so late
         * retransmissions do not count as jitter. */
        uint32_t arrival = (uint32_t) us_to_ticks(arrival_us, s->clock_rate);
        int64_t transit = (int64_t) (uint32_t) (arrival - ts);
        if (s->have_transit) {
            int32_t d = (int32_t) (uint32_t) (transit - s->transit);
            uint32_t ad = d < 0 ? (uint32_t) - (int64_t) d : (uint32_t) d;
            s->jitter_q4 += ad - ((s->jitter_q4 + 8) >> 4);
        }
        s->transit = transit;
        s->have_transit = true;
    }
}

void rtp_rx_stats_on_sr(rtp_rx_stats *s, uint64_t ntp, int64_t arrival_us)
{
    s->have_sr = true;
    s->sr_lsr = rtp_ntp_compact(ntp);
    s->sr_arrival_us = arrival_us;
}

static uint64_t expected(const rtp_rx_stats *s)
{
    uint64_t ext_max = (uint64_t) s->cycles + s->max_seq;
    return ext_max + 1 - s->base_seq;
}

int64_t rtp_rx_stats_lost(const rtp_rx_stats *s)
{
    if (!s->started)
        return 0;
    return (int64_t) expected(s) - (int64_t) s->received;
}

int64_t rtp_rx_stats_jitter_us(const rtp_rx_stats *s)
{
    return (int64_t) (s->jitter_q4 >> 4) * 1000000 / s->clock_rate;
}

void rtp_rx_stats_report(rtp_rx_stats *s, int64_t now_us,
                         rtcp_report_block *out)
{
    uint64_t exp, exp_int, rec_int;
    int64_t lost, lost_int;

    memset(out, 0, sizeof(*out));
    if (!s->started)
        return;
    exp = expected(s);
    lost = (int64_t) exp - (int64_t) s->received;
    if (lost > 0x7FFFFF)
        lost = 0x7FFFFF;
    else if (lost < -0x800000)
        lost = -0x800000;
    out->cumulative_lost = (int32_t) lost;
    exp_int = exp - s->expected_prior;
    rec_int = s->received - s->received_prior;
    s->expected_prior = exp;
    s->received_prior = s->received;
    lost_int = (int64_t) exp_int - (int64_t) rec_int;
    if (exp_int == 0 || lost_int <= 0)
        out->fraction_lost = 0;
    else
        out->fraction_lost = (uint8_t) (((uint64_t) lost_int << 8) / exp_int);
    out->ext_highest_seq = s->cycles + s->max_seq;
    out->jitter = s->jitter_q4 >> 4;
    if (s->have_sr) {
        int64_t d = now_us - s->sr_arrival_us;
        out->lsr = s->sr_lsr;
        out->dlsr = d > 0 ? (uint32_t) (d * 65536 / 1000000) : 0;
    }
}

uint64_t rtp_ntp_from_unix_us(int64_t unix_us)
{
    uint64_t secs = (uint64_t) (unix_us / 1000000 + NTP_UNIX_OFFSET);
    uint64_t frac = ((uint64_t) (unix_us % 1000000) << 32) / 1000000;

    return (secs << 32) | frac;
}

static int64_t ntp_to_us(uint64_t ntp)
{
    return (int64_t) (ntp >> 32) * 1000000 +
           (int64_t) (((ntp & 0xFFFFFFFFu) * 1000000) >> 32);
}

int rtp_rtt_from_report(uint32_t now_compact, const rtcp_report_block *rb,
                        int64_t *rtt_us)
{
    int32_t v;

    if (rb == NULL || rtt_us == NULL)
        return RTP_ERR_ARG;
    if (rb->lsr == 0)
        return RTP_ERR_NOT_FOUND;
    v = (int32_t) (now_compact - rb->lsr - rb->dlsr);
    if (v < 0)
        return RTP_ERR_INVALID;
    *rtt_us = (int64_t) v * 1000000 / 65536;
    return RTP_OK;
}

/* ------------------------------------------------------------------------
 * Rate counter
 */
void rtp_rate_init(rtp_rate *r, int64_t window_us)
{
    memset(r, 0, sizeof(*r));
    r->bucket_us = window_us / RTP_RATE_BUCKETS;
    if (r->bucket_us <= 0)
        r->bucket_us = 1;
}

static int64_t origin_us(const rtp_rate *r)
{
    return r->start_us - (int64_t) r->filled * r->bucket_us;
}

static void advance(rtp_rate *r, int64_t now_us)
{
    int64_t k;

    if (!r->started) {
        r->started = true;
        r->start_us = now_us;
        r->filled = 0;
        return;
    }
    if (now_us < r->start_us + r->bucket_us)
        return;
    k = (now_us - r->start_us) / r->bucket_us;
    if (k >= RTP_RATE_BUCKETS) {
        memset(r->events, 0, sizeof(r->events));
        memset(r->bytes, 0, sizeof(r->bytes));
    } else {
        for (int64_t i = 0; i < k; i++) {
            r->head = (r->head + 1) % RTP_RATE_BUCKETS;
            r->events[r->head] = 0;
            r->bytes[r->head] = 0;
        }
    }
    r->start_us += k * r->bucket_us;
    r->filled += (size_t) (k < RTP_RATE_BUCKETS ? k : RTP_RATE_BUCKETS);
    if (r->filled > RTP_RATE_BUCKETS - 1)
        r->filled = RTP_RATE_BUCKETS - 1;
}

void rtp_rate_add(rtp_rate *r, int64_t now_us, size_t bytes)
{
    advance(r, now_us);
    r->events[r->head]++;
    r->bytes[r->head] += bytes;
}

/* Length of the window that the buckets cover at @now_us. */
static int64_t window(rtp_rate *r, int64_t now_us)
{
    int64_t w;

    advance(r, now_us);
    w = now_us - origin_us(r);
    return w > 0 ? w : 1;
}

uint64_t rtp_rate_events_milli(rtp_rate *r, int64_t now_us)
{
    uint64_t sum = 0;
    int64_t w = window(r, now_us);

    for (size_t i = 0; i < RTP_RATE_BUCKETS; i++)
        sum += r->events[i];
    return sum * 1000 * 1000000 / (uint64_t) w;
}

uint64_t rtp_rate_bps(rtp_rate *r, int64_t now_us)
{
    uint64_t sum = 0;
    int64_t w = window(r, now_us);

    for (size_t i = 0; i < RTP_RATE_BUCKETS; i++)
        sum += r->bytes[i];
    return sum * 8 * 1000000 / (uint64_t) w;
}

/* ------------------------------------------------------------------------
 * Lip sync
 */
void rtp_sync_init(rtp_sync *s, uint32_t clock_rate)
{
    memset(s, 0, sizeof(*s));
    s->clock_rate = clock_rate > 0 ? clock_rate : 90000;
}

void rtp_sync_on_sr(rtp_sync *s, uint64_t ntp, uint32_t rtp_ts)
{
    s->valid = true;
    s->ntp = ntp;
    s->rtp_ts = rtp_ts;
}

int rtp_sync_capture_us(const rtp_sync *s, uint32_t ts, int64_t *out_us)
{
    int32_t d;

    if (s == NULL || out_us == NULL)
        return RTP_ERR_ARG;
    if (!s->valid)
        return RTP_ERR_NOT_FOUND;
    d = (int32_t) (ts - s->rtp_ts);
    *out_us = ntp_to_us(s->ntp) + (int64_t) d * 1000000 / s->clock_rate;
    return RTP_OK;
}

int rtp_sync_relative_delay(const rtp_sync *audio, uint32_t audio_ts,
                            int64_t audio_playout_us, const rtp_sync *video,
                            uint32_t video_ts, int64_t video_playout_us,
                            int64_t *out_us)
{
    int64_t ac, vc;
    int rc;

    if (out_us == NULL)
        return RTP_ERR_ARG;
    rc = rtp_sync_capture_us(audio, audio_ts, &ac);
    if (rc < 0)
        return rc;
    rc = rtp_sync_capture_us(video, video_ts, &vc);
    if (rc < 0)
        return rc;
    *out_us = (video_playout_us - vc) - (audio_playout_us - ac);
    return RTP_OK;
}
