/*
 * jitter.c — the jitter buffer: a fixed pool of packet slots indexed by
 * extended sequence number, frame assembly (VP8 per RFC 7741, Opus one
 * packet per frame), adaptive playout delay (RFC 3550 jitter estimate),
 * loss handling (NACK list, give-up deadline, keyframe wait) and audio
 * loss reporting. See playout.h for the model.
 */
#include <stdlib.h>
#include <string.h>

#include "playout.h"

#define BASE_WINDOW_US 1000000         /* min transit kept over 1..2 s */
#define SEQ_ORIGIN ((int64_t) 1 << 32) /* keeps extended numbers > 0 */
#define TS_ORIGIN ((int64_t) 1 << 40)
#define NACK_REORDER_MIN_US 5000
#define NACK_REORDER_MAX_US 50000
/* A jump in the sequence numbers (beyond the pool ahead, or more than
 * max(slots, FAR_BEHIND) behind) restarts the buffer only once
 * JB_PROBATION consecutive packets on the new numbering have arrived
 * (RFC 3550 appendix A.1); the first ones are held meanwhile. */
#define JB_PROBATION 3
#define FAR_BEHIND 3000

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

typedef struct {
    bool used;
    bool marker;
    bool frame_start; /* VP8: S=1 and PID=0; Opus: always */
    bool keyframe;    /* VP8 frame start whose frame tag has P=0 */
    bool padding;     /* empty payload: no media, only a sequence number */
    bool has_pid;
    bool long_pid;
    uint16_t picture_id;
    uint16_t data_off; /* descriptor length */
    uint16_t len;      /* payload length, descriptor included */
    int64_t ext_seq;
    int64_t ext_ts;
    uint32_t ts;
} jb_slot;

struct rtp_jb {
    rtp_jb_config cfg;
    size_t mask;
    jb_slot *slots;
    uint8_t *data;

    bool started;
    int64_t next_seq; /* first packet of the next frame to release */
    int64_t highest;  /* highest extended seq inserted */
    int64_t ts_ref;   /* last extended timestamp seen */
    bool moved;       /* next_seq has advanced at least once */

    /* playout clock */
    int64_t base_cur, base_prev, base_start_us;
    bool have_transit;
    int64_t last_transit;
    int64_t last_inorder_ts;
    int64_t jitter_q4; /* microseconds * 16 */

    /* audio: last released timestamp, for the timing of a lost packet */
    bool have_last;
    int64_t last_ext_ts;
    int64_t last_ext_seq;

    /* video: continuity */
    bool waiting_keyframe;
    bool pli_pending;
    int64_t last_pli_us;
    bool have_last_pid;
    bool last_long_pid;
    uint16_t last_pid;

    /* probation of a jump: packets held, oldest first */
    size_t prob_n;
    rtp_packet prob_pkt[JB_PROBATION - 1];
    uint8_t *prob_data; /* (JB_PROBATION - 1) * max_payload */

    rtp_nack nack;
    rtp_jb_stats stats;
};

void rtp_jb_config_init(rtp_jb_config *cfg, rtp_jb_kind kind)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->version = RTP_JB_CONFIG_VERSION;
    cfg->kind = kind;
    cfg->max_payload = 1500;
    cfg->jitter_factor = 3;
    cfg->pli_interval_us = 500000;
    if (kind == RTP_JB_OPUS) {
        cfg->clock_rate = RTP_OPUS_CLOCK_RATE;
        cfg->slots = 128;
        cfg->min_delay_us = 20000;
        cfg->max_delay_us = 400000;
        cfg->loss_timeout_us = 0;
    } else {
        cfg->clock_rate = RTP_VP8_CLOCK_RATE;
        cfg->slots = 1024;
        cfg->min_delay_us = 5000;
        cfg->max_delay_us = 500000;
        cfg->loss_timeout_us = 300000;
    }
}

int rtp_jb_new(rtp_jb **out, const rtp_jb_config *cfg)
{
    rtp_jb *jb;

    if (out == NULL)
        return RTP_ERR_ARG;
    *out = NULL;
    if (cfg == NULL || cfg->version != RTP_JB_CONFIG_VERSION ||
        (cfg->kind != RTP_JB_VP8 && cfg->kind != RTP_JB_OPUS) ||
        cfg->clock_rate == 0 || cfg->clock_rate > 1000000 || cfg->slots < 16 ||
        cfg->slots > 32768 || (cfg->slots & (cfg->slots - 1)) != 0 ||
        cfg->max_payload == 0 || cfg->max_payload > 65535 ||
        cfg->min_delay_us < 0 || cfg->max_delay_us < cfg->min_delay_us ||
        cfg->loss_timeout_us < 0 || cfg->pli_interval_us < 0 ||
        cfg->jitter_factor > 100)
        return RTP_ERR_ARG;
    jb = calloc(1, sizeof(*jb));
    if (jb == NULL)
        return RTP_ERR_NOSPACE;
    jb->cfg = *cfg;
    jb->mask = cfg->slots - 1;
    jb->slots = calloc(cfg->slots, sizeof(*jb->slots));
    jb->data = malloc(cfg->slots * cfg->max_payload);
    jb->prob_data = malloc((JB_PROBATION - 1) * cfg->max_payload);
    if (jb->slots == NULL || jb->data == NULL || jb->prob_data == NULL) {
        rtp_jb_free(jb);
        return RTP_ERR_NOSPACE;
    }
    rtp_nack_init(&jb->nack);
    jb->waiting_keyframe = cfg->kind == RTP_JB_VP8;
    jb->last_pli_us = INT64_MIN;
    *out = jb;
    return RTP_OK;
}

void rtp_jb_free(rtp_jb *jb)
{
    if (jb == NULL)
        return;
    free(jb->slots);
    free(jb->data);
    free(jb->prob_data);
    free(jb);
}

static jb_slot *slot_at(rtp_jb *jb, int64_t ext)
{
    jb_slot *s = &jb->slots[(size_t) ext & jb->mask];

    return s->used && s->ext_seq == ext ? s : NULL;
}

static const uint8_t *slot_data(const rtp_jb *jb, const jb_slot *s)
{
    return jb->data + ((size_t) s->ext_seq & jb->mask) * jb->cfg.max_payload;
}

/* Frees the slots of [next_seq, to) and moves next_seq to @to. */
static void advance_to(rtp_jb *jb, int64_t to)
{
    if (to <= jb->next_seq)
        return;
    if (to - jb->next_seq >= (int64_t) jb->cfg.slots) {
        for (size_t i = 0; i < jb->cfg.slots; i++)
            if (jb->slots[i].used && jb->slots[i].ext_seq < to)
                jb->slots[i].used = false;
    } else {
        for (int64_t e = jb->next_seq; e < to; e++) {
            jb_slot *s = slot_at(jb, e);
            if (s != NULL)
                s->used = false;
        }
    }
    jb->next_seq = to;
    jb->moved = true;
    rtp_nack_forget_before(&jb->nack, (uint16_t) to);
}

static int64_t ts_to_us(const rtp_jb *jb, int64_t ext_ts)
{
    int64_t t = ext_ts - TS_ORIGIN;

    return (t / jb->cfg.clock_rate) * 1000000 +
           (t % jb->cfg.clock_rate) * 1000000 / jb->cfg.clock_rate;
}

static int64_t target_delay(const rtp_jb *jb)
{
    int64_t t = (int64_t) jb->cfg.jitter_factor * (jb->jitter_q4 / 16);

    return clamp64(t, jb->cfg.min_delay_us, jb->cfg.max_delay_us) +
           clamp64(jb->cfg.extra_delay_us, 0, jb->cfg.max_delay_us);
}

static int64_t playout_us(const rtp_jb *jb, int64_t ext_ts)
{
    int64_t base = jb->base_prev < jb->base_cur ? jb->base_prev : jb->base_cur;

    return ts_to_us(jb, ext_ts) + base + target_delay(jb);
}

static void reset(rtp_jb *jb, int64_t ext)
{
    int64_t rtt = jb->nack.rtt_us;

    for (size_t i = 0; i < jb->cfg.slots; i++)
        jb->slots[i].used = false;
    jb->next_seq = ext;
    jb->highest = ext;
    jb->prob_n = 0;
    rtp_nack_init(&jb->nack);
    rtp_nack_set_rtt(&jb->nack, rtt);
    jb->have_last = false;
    jb->have_transit = false; /* the sender may have restarted */
    if (jb->cfg.kind == RTP_JB_VP8) {
        jb->waiting_keyframe = true;
        jb->pli_pending = true;
        jb->have_last_pid = false;
    }
}

/* Classifies the payload into @s (not yet marked used). */
static int classify(rtp_jb *jb, const rtp_packet *pkt, jb_slot *s)
{
    memset(s, 0, sizeof(*s));
    if (pkt->payload_len == 0) {
        s->padding = true;
        return RTP_OK;
    }
    if (jb->cfg.kind == RTP_JB_VP8) {
        rtp_vp8_desc d;
        int n = rtp_vp8_desc_parse(&d, pkt->payload, pkt->payload_len);
        if (n < 0)
            return RTP_ERR_INVALID;
        s->data_off = (uint16_t) n;
        s->frame_start = d.start && d.partition == 0;
        s->keyframe = s->frame_start && (pkt->payload[n] & 1) == 0;
        s->has_pid = d.has_picture_id;
        s->long_pid = d.long_picture_id;
        s->picture_id = d.picture_id;
    } else {
        rtp_opus_info info;
        if (rtp_opus_parse(&info, pkt->payload, pkt->payload_len) < 0)
            return RTP_ERR_INVALID;
        s->frame_start = true;
    }
    return RTP_OK;
}

static void update_clock(rtp_jb *jb, int64_t ext_ts, bool new_frame,
                         int64_t now_us)
{
    int64_t transit = now_us - ts_to_us(jb, ext_ts);

    if (!jb->have_transit) {
        jb->base_cur = jb->base_prev = transit;
        jb->base_start_us = now_us;
    } else if (now_us - jb->base_start_us >= BASE_WINDOW_US) {
        jb->base_prev = jb->base_cur;
        jb->base_cur = transit;
        jb->base_start_us = now_us;
    } else if (transit < jb->base_cur) {
        jb->base_cur = transit;
    }
    if (new_frame) {
        if (jb->have_transit) {
            int64_t d = transit - jb->last_transit;
            if (d < 0)
                d = -d;
            /* J += (|D| - J) / 16, J kept scaled by 16 */
            jb->jitter_q4 += d - (jb->jitter_q4 + 8) / 16;
            /* Wait for reordered packets about as long as the jitter
             * says they may be late before asking for them. */
            jb->nack.reorder_us =
                clamp64(2 * (jb->jitter_q4 / 16), NACK_REORDER_MIN_US,
                        NACK_REORDER_MAX_US);
        }
        jb->last_transit = transit;
        jb->last_inorder_ts = ext_ts;
    }
    jb->have_transit = true;
}

/* Whether @p ext is a jump away from the stream: beyond the pool ahead
 * of the next frame, or far behind what was seen. */
static bool is_jump(const rtp_jb *jb, int64_t ext)
{
    int64_t behind = (int64_t) jb->cfg.slots > FAR_BEHIND
                         ? (int64_t) jb->cfg.slots
                         : FAR_BEHIND;

    return ext - jb->next_seq >= (int64_t) jb->cfg.slots ||
           jb->highest - ext >= behind;
}

/* A packet that jumps (is_jump()). Held until JB_PROBATION consecutive
 * ones have arrived; then the buffer restarts at the first of them and
 * the held ones are inserted.
 * @return RTP_JB_PROBATION (held), RTP_JB_DUPLICATE, or RTP_JB_RESET
 *         (confirmed: the caller inserts @p pkt itself). */
static int probation(rtp_jb *jb, const rtp_packet *pkt, int64_t now_us)
{
    rtp_packet *held;
    size_t n;

    if (jb->prob_n > 0) {
        uint16_t last = jb->prob_pkt[jb->prob_n - 1].seq;
        if (rtp_seq_diff(pkt->seq, last) <= 0 &&
            rtp_seq_diff(pkt->seq, jb->prob_pkt[0].seq) >= 0)
            return RTP_JB_DUPLICATE;
        if (pkt->seq != (uint16_t) (last + 1)) {
            /* Not the run held: those were strays, this may start one. */
            jb->stats.packets_stray += jb->prob_n;
            jb->prob_n = 0;
        }
    }
    if (jb->prob_n + 1 < JB_PROBATION) {
        held = &jb->prob_pkt[jb->prob_n];
        *held = *pkt;
        held->ext_data = NULL;
        held->ext_len = 0;
        held->extension = false;
        held->payload = jb->prob_data + jb->prob_n * jb->cfg.max_payload;
        if (pkt->payload_len > 0)
            memcpy(jb->prob_data + jb->prob_n * jb->cfg.max_payload,
                   pkt->payload, pkt->payload_len);
        jb->prob_n++;
        return RTP_JB_PROBATION;
    }
    n = jb->prob_n;
    reset(jb, rtp_seq_unwrap(jb->highest, jb->prob_pkt[0].seq)); /* prob_n 0 */
    jb->stats.restarts++;
    for (size_t i = 0; i < n; i++)
        (void) rtp_jb_insert(jb, &jb->prob_pkt[i], now_us);
    return RTP_JB_RESET;
}

int rtp_jb_insert(rtp_jb *jb, const rtp_packet *pkt, int64_t now_us)
{
    jb_slot tmp, *s;
    int64_t ext, ext_ts;
    bool in_order;
    int rc, result = RTP_JB_INSERTED;

    if (jb == NULL || pkt == NULL ||
        (pkt->payload == NULL && pkt->payload_len > 0))
        return RTP_ERR_ARG;
    if (pkt->payload_len > jb->cfg.max_payload)
        return RTP_ERR_NOSPACE;
    rc = classify(jb, pkt, &tmp);
    if (rc < 0)
        return rc;

    if (!jb->started) {
        jb->started = true;
        ext = SEQ_ORIGIN + pkt->seq;
        jb->next_seq = jb->highest = ext;
        jb->ts_ref = TS_ORIGIN + pkt->timestamp;
        in_order = true;
    } else {
        ext = rtp_seq_unwrap(jb->highest, pkt->seq);
        in_order = ext > jb->highest;
    }
    if (is_jump(jb, ext)) {
        rc = probation(jb, pkt, now_us);
        if (rc != RTP_JB_RESET)
            return rc;
        /* Confirmed: the buffer restarted at the first packet held and
         * holds them all; this one goes in like any other. */
        ext = rtp_seq_unwrap(jb->highest, pkt->seq);
        in_order = true;
        result = RTP_JB_RESET;
    } else if (jb->prob_n > 0 && in_order) {
        /* The stream goes on where it was: what was held were strays. */
        jb->stats.packets_stray += jb->prob_n;
        jb->prob_n = 0;
    }
    if (rtp_nack_on_packet(&jb->nack, pkt->seq, now_us) == 1)
        jb->stats.packets_recovered++;
    if (ext < jb->next_seq) {
        /* Before anything left the buffer, an earlier packet (the start
         * of a stream arrives reordered too) moves the start back. */
        if (jb->moved || jb->highest - ext >= (int64_t) jb->cfg.slots)
            return RTP_JB_TOO_OLD;
        for (int64_t e = ext + 1; e < jb->next_seq; e++)
            if (slot_at(jb, e) == NULL)
                (void) rtp_nack_add(&jb->nack, (uint16_t) e, now_us);
        jb->next_seq = ext;
    }
    s = &jb->slots[(size_t) ext & jb->mask];
    if (s->used && s->ext_seq == ext)
        return RTP_JB_DUPLICATE;

    ext_ts = rtp_ts_unwrap(jb->ts_ref, pkt->timestamp);
    jb->ts_ref = ext_ts;
    *s = tmp;
    s->used = true;
    s->marker = pkt->marker;
    s->len = (uint16_t) pkt->payload_len;
    s->ext_seq = ext;
    s->ext_ts = ext_ts;
    s->ts = pkt->timestamp;
    if (pkt->payload_len > 0)
        memcpy(jb->data + ((size_t) ext & jb->mask) * jb->cfg.max_payload,
               pkt->payload, pkt->payload_len);
    if (ext > jb->highest)
        jb->highest = ext;
    if (!s->padding)
        update_clock(jb, ext_ts,
                     in_order &&
                         (!jb->have_transit || ext_ts != jb->last_inorder_ts),
                     now_us);
    return result;
}

/* ------------------------------------------------------------------------
 * Release planning: what the next step is and when it is due. pop()
 * carries a plan out when it is due; next_wakeup() reports its time.
 */
typedef enum {
    PLAN_WAIT,        /* nothing to do until more packets arrive */
    PLAN_SKIP,        /* drop [next_seq, to): padding or an empty gap */
    PLAN_RELEASE,     /* frame [next_seq, to) */
    PLAN_DROP,        /* complete frame [next_seq, to) that cannot decode */
    PLAN_GIVE_UP,     /* incomplete frame(s): skip to @to, need a keyframe */
    PLAN_SKIP_TO_KEY, /* frames lost, but a keyframe at @to is complete */
    PLAN_LOST,        /* audio: next_seq is lost */
} plan_kind;

typedef struct {
    plan_kind kind;
    int64_t to;
    int64_t at_us;
    int64_t ext_ts; /* PLAN_LOST: estimated timestamp */
    int64_t later;  /* PLAN_LOST: the next packet held */
} plan;

/* End (exclusive) of the complete frame starting at @start, or 0. */
static int64_t frame_end(rtp_jb *jb, int64_t start)
{
    jb_slot *first = slot_at(jb, start);

    if (first == NULL)
        return 0;
    for (int64_t e = start; e <= jb->highest; e++) {
        jb_slot *s = slot_at(jb, e);
        if (s == NULL || s->padding || s->ext_ts != first->ext_ts)
            return 0;
        if (e > start && s->frame_start)
            return 0;
        if (s->marker)
            return e + 1;
    }
    return 0;
}

static bool pid_follows(const rtp_jb *jb, const jb_slot *s)
{
    uint16_t mask;

    if (!jb->have_last_pid || !s->has_pid || s->long_pid != jb->last_long_pid)
        return false;
    mask = s->long_pid ? 0x7FFF : 0x7F;
    return s->picture_id == ((jb->last_pid + 1) & mask);
}

static void plan_video(rtp_jb *jb, plan *p)
{
    int64_t ns = jb->next_seq, first = -1, e;
    jb_slot *s = slot_at(jb, ns);

    if (s != NULL && s->padding) {
        p->kind = PLAN_SKIP;
        p->to = ns + 1;
        p->at_us = INT64_MIN;
        return;
    }
    if (s != NULL && s->frame_start) {
        e = frame_end(jb, ns);
        if (e > 0) {
            p->to = e;
            if (jb->waiting_keyframe && !s->keyframe) {
                p->kind = PLAN_DROP;
                p->at_us = INT64_MIN;
            } else {
                p->kind = PLAN_RELEASE;
                p->at_us = playout_us(jb, s->ext_ts);
            }
            return;
        }
    }
    if (s != NULL && !s->frame_start && jb->moved) {
        /* The tail of a frame whose start is behind us (given up): it
         * can never decode, so do not wait for it. */
        for (e = ns + 1; e <= jb->highest; e++) {
            jb_slot *t = slot_at(jb, e);
            if (t == NULL || t->padding || t->frame_start)
                break;
        }
        p->kind = PLAN_SKIP;
        p->to = e;
        p->at_us = INT64_MIN;
        return;
    }
    /* Stuck: the next frame is incomplete or its start is missing. */
    for (e = ns; e <= jb->highest; e++) {
        jb_slot *t = slot_at(jb, e);
        if (t != NULL && !t->padding) {
            first = e;
            break;
        }
    }
    if (first < 0) {
        p->kind = PLAN_WAIT;
        return;
    }
    s = slot_at(jb, first);
    if (first > ns && s->frame_start && pid_follows(jb, s) &&
        frame_end(jb, first) > 0) {
        /* Only padding was lost between two consecutive pictures. */
        p->kind = PLAN_SKIP;
        p->to = first;
        p->at_us = INT64_MIN;
        return;
    }
    p->kind = PLAN_GIVE_UP;
    p->at_us = playout_us(jb, s->ext_ts) + jb->cfg.loss_timeout_us;
    p->to = jb->highest + 1;
    for (e = ns + 1; e <= jb->highest; e++) {
        jb_slot *t = slot_at(jb, e);
        if (t != NULL && t->frame_start && t->ext_ts != s->ext_ts) {
            p->to = e;
            break;
        }
    }
    /* A complete keyframe further on makes waiting pointless: jump to
     * it now (what a PLI is for). */
    for (e = p->to; e <= jb->highest; e++) {
        jb_slot *t = slot_at(jb, e);
        if (t != NULL && t->keyframe && frame_end(jb, e) > 0) {
            p->kind = PLAN_SKIP_TO_KEY;
            p->to = e;
            p->at_us = INT64_MIN;
            break;
        }
    }
}

static void plan_audio(rtp_jb *jb, plan *p)
{
    int64_t ns = jb->next_seq;
    jb_slot *s = slot_at(jb, ns);

    if (s != NULL && s->padding) {
        p->kind = PLAN_SKIP;
        p->to = ns + 1;
        p->at_us = INT64_MIN;
        return;
    }
    if (s != NULL) {
        p->kind = PLAN_RELEASE;
        p->to = ns + 1;
        p->at_us = playout_us(jb, s->ext_ts);
        return;
    }
    for (int64_t e = ns + 1; e <= jb->highest; e++) {
        jb_slot *t = slot_at(jb, e);
        if (t == NULL || t->padding)
            continue;
        p->kind = PLAN_LOST;
        p->to = ns + 1;
        p->later = e;
        if (jb->have_last && e > jb->last_ext_seq &&
            t->ext_ts >= jb->last_ext_ts)
            p->ext_ts = jb->last_ext_ts + (t->ext_ts - jb->last_ext_ts) *
                                              (ns - jb->last_ext_seq) /
                                              (e - jb->last_ext_seq);
        else
            p->ext_ts = t->ext_ts;
        p->at_us = playout_us(jb, p->ext_ts);
        return;
    }
    p->kind = PLAN_WAIT;
}

static void make_plan(rtp_jb *jb, plan *p)
{
    memset(p, 0, sizeof(*p));
    p->kind = PLAN_WAIT;
    if (!jb->started || jb->next_seq > jb->highest)
        return;
    if (jb->cfg.kind == RTP_JB_VP8)
        plan_video(jb, p);
    else
        plan_audio(jb, p);
}

static void need_keyframe(rtp_jb *jb)
{
    jb->waiting_keyframe = true;
    jb->pli_pending = true;
}

/* Copies frame [from, to) into @buf; returns its length or NOSPACE. */
static int copy_frame(rtp_jb *jb, int64_t from, int64_t to, uint8_t *buf,
                      size_t cap, size_t *len)
{
    size_t total = 0;

    for (int64_t e = from; e < to; e++) {
        jb_slot *s = slot_at(jb, e);
        if (s == NULL)
            return RTP_ERR_INVALID;
        total += (size_t) (s->len - s->data_off);
    }
    if (total > cap || (buf == NULL && total > 0))
        return RTP_ERR_NOSPACE;
    total = 0;
    for (int64_t e = from; e < to; e++) {
        jb_slot *s = slot_at(jb, e);
        size_t n = s != NULL ? (size_t) (s->len - s->data_off) : 0;
        if (n > 0)
            memcpy(buf + total, slot_data(jb, s) + s->data_off, n);
        total += n;
    }
    *len = total;
    return RTP_OK;
}

int rtp_jb_pop(rtp_jb *jb, int64_t now_us, rtp_jb_frame *out, uint8_t *buf,
               size_t cap)
{
    plan p;

    if (jb == NULL || out == NULL)
        return RTP_ERR_ARG;
    for (;;) {
        make_plan(jb, &p);
        if (p.kind == PLAN_WAIT || p.at_us > now_us)
            return 0;
        switch (p.kind) {
        case PLAN_SKIP:
            advance_to(jb, p.to);
            break;
        case PLAN_DROP:
            jb->stats.frames_dropped++;
            jb->pli_pending = true;
            advance_to(jb, p.to);
            break;
        case PLAN_GIVE_UP:
            jb->stats.frames_dropped++;
            need_keyframe(jb);
            advance_to(jb, p.to);
            break;
        case PLAN_SKIP_TO_KEY:
            jb->stats.frames_dropped++;
            advance_to(jb, p.to);
            break;
        case PLAN_LOST:
            memset(out, 0, sizeof(*out));
            out->lost = true;
            out->timestamp = (uint32_t) (p.ext_ts - TS_ORIGIN);
            out->first_seq = out->last_seq = (uint16_t) jb->next_seq;
            out->playout_us = p.at_us;
            {
                jb_slot *next = slot_at(jb, p.later);
                out->fec_available =
                    next != NULL && p.later == jb->next_seq + 1 &&
                    rtp_opus_has_fec(slot_data(jb, next), next->len) == 1;
            }
            jb->have_last = true;
            jb->last_ext_ts = p.ext_ts;
            jb->last_ext_seq = jb->next_seq;
            jb->stats.packets_lost++;
            advance_to(jb, p.to);
            return 1;
        case PLAN_RELEASE: {
            jb_slot *s = slot_at(jb, jb->next_seq);
            jb_slot *last = slot_at(jb, p.to - 1);
            size_t len = 0;
            int rc;

            if (s == NULL || last == NULL) /* cannot happen: planned */
                return RTP_ERR_INVALID;

            memset(out, 0, sizeof(*out));
            out->timestamp = s->ts;
            out->first_seq = (uint16_t) jb->next_seq;
            out->last_seq = (uint16_t) (p.to - 1);
            out->keyframe = s->keyframe;
            out->has_picture_id = s->has_pid;
            out->picture_id = s->picture_id;
            out->playout_us = p.at_us;
            jb->have_last = true;
            jb->last_ext_ts = last->ext_ts;
            jb->last_ext_seq = p.to - 1;
            if (jb->cfg.kind == RTP_JB_VP8) {
                jb->have_last_pid = s->has_pid;
                jb->last_long_pid = s->long_pid;
                jb->last_pid = s->picture_id;
            }
            rc = copy_frame(jb, jb->next_seq, p.to, buf, cap, &len);
            advance_to(jb, p.to);
            if (rc < 0) {
                jb->stats.frames_dropped++;
                if (jb->cfg.kind == RTP_JB_VP8)
                    need_keyframe(jb);
                return rc;
            }
            out->len = len;
            if (out->keyframe) {
                jb->waiting_keyframe = false;
                jb->pli_pending = false;
            }
            jb->stats.frames_released++;
            return 1;
        }
        default:
            return 0;
        }
    }
}

int64_t rtp_jb_next_wakeup(rtp_jb *jb, int64_t now_us)
{
    plan p;

    if (jb == NULL)
        return INT64_MAX;
    make_plan(jb, &p);
    if (p.kind == PLAN_WAIT)
        return INT64_MAX;
    return p.at_us < now_us ? now_us : p.at_us;
}

size_t rtp_jb_nack_collect(rtp_jb *jb, int64_t now_us, uint16_t *seqs,
                           size_t cap)
{
    if (jb == NULL || (seqs == NULL && cap > 0))
        return 0;
    if (rtp_nack_take_overflow(&jb->nack) && jb->cfg.kind == RTP_JB_VP8)
        jb->pli_pending = true; /* frames will be lost: ask early */
    return rtp_nack_collect(&jb->nack, now_us, seqs, cap);
}

bool rtp_jb_keyframe_needed(rtp_jb *jb, int64_t now_us)
{
    if (jb == NULL || jb->cfg.kind != RTP_JB_VP8)
        return false;
    if (rtp_nack_take_overflow(&jb->nack))
        jb->pli_pending = true; /* frames will be lost: ask early */
    if (!jb->pli_pending)
        return false;
    if (jb->last_pli_us != INT64_MIN &&
        now_us - jb->last_pli_us < jb->cfg.pli_interval_us)
        return false;
    jb->last_pli_us = now_us;
    jb->stats.keyframe_requests++;
    return true;
}

void rtp_jb_set_rtt(rtp_jb *jb, int64_t rtt_us)
{
    if (jb != NULL)
        rtp_nack_set_rtt(&jb->nack, rtt_us);
}

void rtp_jb_set_extra_delay(rtp_jb *jb, int64_t extra_us)
{
    if (jb != NULL)
        jb->cfg.extra_delay_us = extra_us;
}

void rtp_jb_get_stats(const rtp_jb *jb, rtp_jb_stats *out)
{
    *out = jb->stats;
    out->target_delay_us = target_delay(jb);
    out->jitter_us = jb->jitter_q4 / 16;
}
