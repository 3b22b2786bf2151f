/*
 * nack.c — receiver-side NACK generation (RFC 4585 generic NACK: which
 * sequence numbers to request and when) and the sender's retransmission
 * cache that answers them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "playout.h"

void rtp_nack_init(rtp_nack *n)
{
    memset(n, 0, sizeof(*n));
    n->rtt_us = 100000;
    n->reorder_us = 5000;
    n->min_retry_us = 20000;
    n->max_age_us = 1000000;
    n->max_retries = 10;
}

void rtp_nack_set_rtt(rtp_nack *n, int64_t rtt_us)
{
    if (rtt_us > 0)
        n->rtt_us = rtt_us;
}

static void remove_at(rtp_nack *n, size_t i)
{
    memmove(&n->list[i], &n->list[i + 1], (n->n - i - 1) * sizeof(n->list[0]));
    n->n--;
}

int rtp_nack_on_packet(rtp_nack *n, uint16_t seq, int64_t now_us)
{
    int32_t d;

    if (!n->started) {
        n->started = true;
        n->highest = seq;
        return 0;
    }
    d = rtp_seq_diff(seq, n->highest);
    if (d > 0) {
        size_t gap = (size_t) d - 1;
        if (gap > RTP_NACK_MAX_SEQS) {
            /* Too many to recover one by one: start over. */
            n->n = 0;
            n->overflow = true;
        } else if (gap > 0) {
            if (n->n + gap > RTP_NACK_MAX_SEQS) {
                size_t drop = n->n + gap - RTP_NACK_MAX_SEQS;
                memmove(&n->list[0], &n->list[drop],
                        (n->n - drop) * sizeof(n->list[0]));
                n->n -= drop;
                n->overflow = true;
            }
            for (size_t i = 1; i <= gap; i++) {
                rtp_nack_entry *e = &n->list[n->n++];
                e->seq = (uint16_t) (n->highest + i);
                e->retries = 0;
                e->first_us = now_us;
                e->sent_us = INT64_MIN;
            }
        }
        n->highest = seq;
        return 0;
    }
    for (size_t i = 0; i < n->n; i++) {
        if (n->list[i].seq == seq) {
            remove_at(n, i);
            return 1;
        }
    }
    return 0;
}

int rtp_nack_add(rtp_nack *n, uint16_t seq, int64_t now_us)
{
    size_t pos = 0;

    if (!n->started || rtp_seq_diff(seq, n->highest) >= 0)
        return RTP_ERR_ARG;
    while (pos < n->n && rtp_seq_diff(n->list[pos].seq, seq) < 0)
        pos++;
    if (pos < n->n && n->list[pos].seq == seq)
        return RTP_OK;
    if (n->n == RTP_NACK_MAX_SEQS) {
        n->overflow = true;
        return RTP_ERR_NOSPACE;
    }
    memmove(&n->list[pos + 1], &n->list[pos],
            (n->n - pos) * sizeof(n->list[0]));
    n->list[pos].seq = seq;
    n->list[pos].retries = 0;
    n->list[pos].first_us = now_us;
    n->list[pos].sent_us = INT64_MIN;
    n->n++;
    return RTP_OK;
}

void rtp_nack_forget_before(rtp_nack *n, uint16_t seq)
{
    size_t keep = 0;

    for (size_t i = 0; i < n->n; i++) {
        if (rtp_seq_diff(n->list[i].seq, seq) >= 0)
            n->list[keep++] = n->list[i];
    }
    n->n = keep;
}

size_t rtp_nack_collect(rtp_nack *n, int64_t now_us, uint16_t *seqs, size_t cap)
{
    int64_t retry = n->rtt_us + n->rtt_us / 4;
    size_t out = 0, i = 0;

    if (retry < n->min_retry_us)
        retry = n->min_retry_us;
    while (i < n->n) {
        rtp_nack_entry *e = &n->list[i];
        bool due;

        if (now_us - e->first_us > n->max_age_us ||
            (e->retries >= n->max_retries &&
             (e->sent_us == INT64_MIN || now_us - e->sent_us >= retry))) {
            remove_at(n, i);
            continue;
        }
        if (e->sent_us == INT64_MIN)
            due = now_us - e->first_us >= n->reorder_us;
        else
            due = e->retries < n->max_retries && now_us - e->sent_us >= retry;
        if (due && out < cap) {
            seqs[out++] = e->seq;
            e->retries++;
            e->sent_us = now_us;
        }
        i++;
    }
    return out;
}

bool rtp_nack_take_overflow(rtp_nack *n)
{
    bool o = n->overflow;

    n->overflow = false;
    return o;
}

/* ------------------------------------------------------------------------
 * Retransmission cache
 */
typedef struct {
    bool used;
    uint16_t seq;
    uint16_t len;
    int64_t stored_us;
    int64_t resent_us;
} rtx_slot;

struct rtp_rtx_cache {
    size_t mask;
    size_t max_len;
    int64_t max_age_us;
    rtx_slot *slots;
    uint8_t *data; /* (mask + 1) * max_len bytes */
};

int rtp_rtx_cache_new(rtp_rtx_cache **out, size_t slots, size_t max_len,
                      int64_t max_age_us)
{
    rtp_rtx_cache *c;

    if (out == NULL)
        return RTP_ERR_ARG;
    *out = NULL;
    if (slots < 16 || slots > 32768 || (slots & (slots - 1)) != 0 ||
        max_len == 0 || max_len > 65535 || max_age_us < 0)
        return RTP_ERR_ARG;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return RTP_ERR_NOSPACE;
    c->mask = slots - 1;
    c->max_len = max_len;
    c->max_age_us = max_age_us > 0 ? max_age_us : 1000000;
    c->slots = calloc(slots, sizeof(*c->slots));
    c->data = malloc(slots * max_len);
    if (c->slots == NULL || c->data == NULL) {
        rtp_rtx_cache_free(c);
        return RTP_ERR_NOSPACE;
    }
    *out = c;
    return RTP_OK;
}

void rtp_rtx_cache_free(rtp_rtx_cache *c)
{
    if (c == NULL)
        return;
    free(c->slots);
    free(c->data);
    free(c);
}

int rtp_rtx_cache_put(rtp_rtx_cache *c, uint16_t seq, const uint8_t *data,
                      size_t len, int64_t now_us)
{
    rtx_slot *s;

    if (c == NULL || (data == NULL && len > 0))
        return RTP_ERR_ARG;
    if (len > c->max_len)
        return RTP_ERR_NOSPACE;
    s = &c->slots[seq & c->mask];
    s->used = true;
    s->seq = seq;
    s->len = (uint16_t) len;
    s->stored_us = now_us;
    s->resent_us = INT64_MIN;
    if (len > 0)
        memcpy(c->data + (seq & c->mask) * c->max_len, data, len);
    return RTP_OK;
}

int rtp_rtx_cache_get(rtp_rtx_cache *c, uint16_t seq, int64_t now_us,
                      int64_t min_interval_us, const uint8_t **data,
                      size_t *len)
{
    rtx_slot *s;

    if (c == NULL || data == NULL || len == NULL)
        return RTP_ERR_ARG;
    s = &c->slots[seq & c->mask];
    if (!s->used || s->seq != seq || now_us - s->stored_us > c->max_age_us)
        return RTP_ERR_NOT_FOUND;
    if (s->resent_us != INT64_MIN && now_us - s->resent_us < min_interval_us)
        return RTP_ERR_INVALID;
    s->resent_us = now_us;
    *data = c->data + (seq & c->mask) * c->max_len;
    *len = s->len;
    return RTP_OK;
}
