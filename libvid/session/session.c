/*
 * session.c — the media session: threads, pools and the network-thread
 * logic that joins media (codecs, synthetic sources), rtp (packets,
 * payloads, jitter buffers, NACK/RTX, rate control) and transport.
 * See session.h for the threading model.
 */
#include "session.h"

#include <string.h>

#include "playout.h"
#include "rtp.h"

#define OUT_PKTS 1024    /* encoded payloads on their way to the net */
#define PKT_PAYLOAD 1400 /* largest payload an out_pkt holds */
#define VIDEO_JOBS 8     /* assembled frames on their way to decode */
#define VIDEO_JOB_CAP (1u << 20)
#define AUDIO_JOBS 32
#define AUDIO_JOB_CAP 1500
#define SENDBUF 1500
#define RTCP_INTERVAL_US 1000000
#define HOUSEKEEP_US 10000
#define PLI_MIN_INTERVAL_US 300000
#define SRTP_OVERHEAD 16 /* GCM tag / HMAC-SHA1-80 + MKI-less trailer */
#define EXT_BLOCK 20     /* 4-byte extension header + 16 bytes of elements */
#define MAX_NACK 256
#define VIN_PICS 3    /* pushed pictures: one encoding, two waiting */
#define AIN_BLOCKS 10 /* pushed audio waiting: 200 ms */
#define AIN_CAP (AIN_BLOCKS * MEDIA_OPUS_FRAME)
/* muted video: one black picture a second */
#define BLACK_INTERVAL_US 1000000
#define CAPTURE_SANE_US (10 * G_USEC_PER_SEC)

enum { KIND_VIDEO = 1, KIND_AUDIO = 2 };

typedef struct {
    uint8_t kind;
    bool marker;
    bool keyframe;
    uint32_t ts;
    size_t len;
    uint8_t data[PKT_PAYLOAD];
} out_pkt;

typedef struct {
    rtp_jb_frame f;
    size_t cap;
    uint8_t *data;
} dec_job;

/* A fixed-capacity FIFO of pointers between threads: sized at creation
 * to hold a whole pool, so pushing never fails and never allocates
 * (GAsyncQueue allocates a list node per push). */
typedef struct {
    GMutex mu;
    GCond cond;
    void **slots;
    size_t cap, head, n;
} ring;

static ring *ring_new(size_t cap)
{
    ring *r = g_try_new0(ring, 1);
    if (r == NULL)
        return NULL;
    r->slots = g_try_new0(void *, cap);
    if (r->slots == NULL) {
        g_free(r);
        return NULL;
    }
    r->cap = cap;
    g_mutex_init(&r->mu);
    g_cond_init(&r->cond);
    return r;
}

static void ring_free(ring *r)
{
    if (r == NULL)
        return;
    g_mutex_clear(&r->mu);
    g_cond_clear(&r->cond);
    g_free(r->slots);
    g_free(r);
}

static void ring_push(ring *r, void *item)
{
    g_mutex_lock(&r->mu);
    if (r->n < r->cap) { /* always: the ring holds the whole pool */
        r->slots[(r->head + r->n) % r->cap] = item;
        r->n++;
        g_cond_signal(&r->cond);
    }
    g_mutex_unlock(&r->mu);
}

static void *take(ring *r)
{
    void *item = r->slots[r->head];
    r->head = (r->head + 1) % r->cap;
    r->n--;
    return item;
}

static void *ring_try_pop(ring *r)
{
    void *item = NULL;
    g_mutex_lock(&r->mu);
    if (r->n > 0)
        item = take(r);
    g_mutex_unlock(&r->mu);
    return item;
}

static void *ring_pop(ring *r)
{
    g_mutex_lock(&r->mu);
    while (r->n == 0)
        g_cond_wait(&r->cond, &r->mu);
    void *item = take(r);
    g_mutex_unlock(&r->mu);
    return item;
}

/* Pushed into a decode queue to stop its thread. */
static dec_job stop_job;

typedef struct {
    GSource base;
    media_session *s;
} pump_source;

struct media_session {
    media_session_config cfg;
    char video_mid[RTP_MID_MAX + 1], audio_mid[RTP_MID_MAX + 1];
    size_t max_payload;
    bool started;

    /* pools and queues */
    out_pkt *pkts;
    ring *pkt_free, *pkt_out;
    dec_job *vjobs, *ajobs;
    uint8_t *vjob_mem, *ajob_mem;
    ring *vjob_free, *vjob_todo, *ajob_free, *ajob_todo;

    /* threads */
    GThread *video_thread, *audio_thread, *vdec_thread, *adec_thread;
    GMutex stop_mu; /* also guards the external inputs below */
    GCond stop_cond;
    bool stopping;
    bool running; /* started: pushes are taken */

    /* external inputs (under stop_mu): a few pooled pictures (free stack
     * and FIFO of those waiting) and a ring of mono samples */
    GCond vin_cond, ain_cond;
    media_i420 vin_pics[VIN_PICS];
    int64_t vin_us[VIN_PICS];
    int vin_free[VIN_PICS], vin_ready[VIN_PICS];
    size_t vin_nfree, vin_nready;
    int16_t *ain;
    size_t ain_head, ain_n; /* ain_head: always a multiple of a block */
    int64_t ain_head_us;    /* capture time of the sample at ain_head */
    uint32_t ain_skipped;   /* blocks dropped since the last one taken */
    gint mute_audio, mute_video;
    media_i420 black;
    media_opus_enc *aenc_dtx; /* muted audio: silence with DTX */

    /* cross-thread requests */
    gint keyframe_req;     /* network -> video encoder */
    gint target_kbps;      /* network -> video encoder */
    gint audio_loss_pct;   /* network -> audio encoder */
    gint pli_wanted;       /* video decoder -> network */
    gint64 audio_start_us; /* set by the audio thread before its first push */

    /* codecs (owned by their threads once started) */
    media_vp8_enc *venc;
    media_vp8_dec *vdec;
    media_opus_enc *aenc;
    media_opus_dec *adec;
    media_i420 pic;

    /* network thread */
    pump_source *pump;
    uint8_t sendbuf[SENDBUF];
    uint8_t rtxbuf[SENDBUF];
    uint8_t rtcpbuf[SENDBUF];
    uint16_t video_seq, rtx_seq, audio_seq, twcc_seq;
    uint32_t video_ts_base, audio_ts_base;
    uint32_t video_packets, video_octets, audio_packets, audio_octets;
    rtp_rtx_cache *rtx;
    rtp_ratectl rc;
    rtp_demux demux;
    rtp_jb *vjb, *ajb;
    rtp_rx_stats vrx, arx;
    uint32_t remote_video_ssrc, remote_audio_ssrc;
    bool have_remote_video, have_remote_audio;
    int64_t last_video_rx_us, last_audio_rx_us, last_rtx_rx_us;
    uint32_t remote_rtx_ssrc;
    bool have_remote_rtx;
    bool fixed_video, fixed_rtx, fixed_audio; /* from the config */
    int64_t next_rtcp_us;
    /* lip sync: the peer's SRs and the last frame of each kind released */
    rtp_sync vsync, async;
    bool have_vplay, have_aplay;
    uint32_t vplay_ts, aplay_ts;
    int64_t vplay_us, aplay_us;
    int64_t video_extra_us, audio_extra_us;
    int64_t sync_sum_us; /* samples since the last adjustment */
    int sync_n;
    int64_t last_pli_us;
    int64_t rtt_us;
    bool (*send_filter)(const uint8_t *rtp, size_t len, void *ud);
    void *send_filter_ud;

    /* statistics, any thread, under stats_mu */
    GMutex stats_mu;
    media_session_stats st;
    rtp_rate rate_vsent, rate_asent, rate_vrecv, rate_arecv, rate_enc, rate_dec;
};

/* ---------------------------------------------------------------------- */
/* Network thread: sending                                                 */

static void wake_pump(media_session *s)
{
    g_source_set_ready_time(&s->pump->base, 0);
}

/* Builds, filters, (stores,) protects and sends one RTP packet. */
static void send_rtp(media_session *s, const char *mid, uint8_t pt,
                     uint32_t ssrc, uint16_t seq, uint32_t ts, bool marker,
                     const uint8_t *payload, size_t len, bool store,
                     int64_t now)
{
    uint8_t ext[16];
    rtp_ext_writer w;
    rtp_packet p;
    memset(&p, 0, sizeof p);
    rtp_ext_writer_init(&w, ext, sizeof ext, false);
    if (s->cfg.mid_ext_id != 0)
        rtp_ext_writer_add(&w, s->cfg.mid_ext_id, (const uint8_t *) mid,
                           strlen(mid));
    if (s->cfg.abs_send_time_ext_id != 0) {
        uint8_t abs[RTP_ABS_SEND_TIME_LEN];
        rtp_abs_send_time_write(abs,
                                rtp_abs_send_time_from_ntp(
                                    rtp_ntp_from_unix_us(g_get_real_time())));
        rtp_ext_writer_add(&w, s->cfg.abs_send_time_ext_id, abs, sizeof abs);
    }
    if (s->cfg.twcc_ext_id != 0) {
        uint8_t tw[RTP_TWCC_SEQ_LEN];
        rtp_twcc_seq_write(tw, s->twcc_seq++);
        rtp_ext_writer_add(&w, s->cfg.twcc_ext_id, tw, sizeof tw);
    }
    if (w.len > 0 && rtp_ext_writer_finish(&w, &p) != RTP_OK)
        return;
    p.marker = marker;
    p.payload_type = pt;
    p.seq = seq;
    p.timestamp = ts;
    p.ssrc = ssrc;
    p.payload = payload;
    p.payload_len = len;
    int n = rtp_build(s->sendbuf, sizeof s->sendbuf, &p);
    if (n < 0)
        return;
    if (store)
        rtp_rtx_cache_put(s->rtx, seq, s->sendbuf, (size_t) n, now);
    if (s->send_filter != NULL &&
        !s->send_filter(s->sendbuf, (size_t) n, s->send_filter_ud))
        return;
    transport_send(s->cfg.transport, s->sendbuf, (size_t) n);
}

static void send_rtcp(media_session *s, const uint8_t *buf, size_t len)
{
    transport_send(s->cfg.transport, buf, len);
}

static uint32_t video_ts_at(media_session *s, int64_t mono_us)
{
    return s->video_ts_base + (uint32_t) (uint64_t) (mono_us * 9 / 100);
}

static void drain_out(media_session *s, int64_t now)
{
    out_pkt *op;
    while ((op = ring_try_pop(s->pkt_out)) != NULL) {
        if (op->kind == KIND_VIDEO) {
            send_rtp(s, s->video_mid, s->cfg.video_pt, s->cfg.video_ssrc,
                     s->video_seq, op->ts, op->marker, op->data, op->len,
                     !s->cfg.no_rtx, now);
            s->video_seq++;
            s->video_packets++;
            s->video_octets += (uint32_t) op->len;
            g_mutex_lock(&s->stats_mu);
            rtp_rate_add(&s->rate_vsent, now, op->len);
            g_mutex_unlock(&s->stats_mu);
        } else {
            send_rtp(s, s->audio_mid, s->cfg.audio_pt, s->cfg.audio_ssrc,
                     s->audio_seq, op->ts, op->marker, op->data, op->len, false,
                     now);
            s->audio_seq++;
            s->audio_packets++;
            s->audio_octets += (uint32_t) op->len;
            g_mutex_lock(&s->stats_mu);
            rtp_rate_add(&s->rate_asent, now, op->len);
            g_mutex_unlock(&s->stats_mu);
        }
        ring_push(s->pkt_free, op);
    }
}

/* RFC 4588: the original sequence number, then the original payload. */
static void retransmit(media_session *s, uint16_t seq, int64_t now)
{
    const uint8_t *data;
    size_t len;
    int64_t min_iv = s->rtt_us > 0 ? s->rtt_us : 10000;
    if (rtp_rtx_cache_get(s->rtx, seq, now, min_iv, &data, &len) != RTP_OK)
        return;
    rtp_packet p;
    if (rtp_parse(&p, data, len) != RTP_OK || p.payload_len + 2 > SENDBUF)
        return;
    s->rtxbuf[0] = (uint8_t) (seq >> 8);
    s->rtxbuf[1] = (uint8_t) seq;
    memcpy(s->rtxbuf + 2, p.payload, p.payload_len);
    send_rtp(s, s->video_mid, s->cfg.rtx_pt, s->cfg.rtx_ssrc, s->rtx_seq++,
             p.timestamp, p.marker, s->rtxbuf, p.payload_len + 2, false, now);
    g_mutex_lock(&s->stats_mu);
    s->st.retransmits_sent++;
    g_mutex_unlock(&s->stats_mu);
}

/* RR with no blocks in front of feedback, so the compound is a valid
 * RFC 3550 one for receivers that insist. */
static size_t put_empty_rr(media_session *s, uint8_t *buf, size_t cap)
{
    rtcp_rr rr;
    memset(&rr, 0, sizeof rr);
    rr.ssrc = s->cfg.video_ssrc;
    int n = rtcp_rr_build(buf, cap, &rr);
    return n > 0 ? (size_t) n : 0;
}

static void send_nack(media_session *s, const uint16_t *seqs, size_t n)
{
    size_t off = put_empty_rr(s, s->rtcpbuf, sizeof s->rtcpbuf);
    int k = rtcp_nack_build(s->rtcpbuf + off, sizeof s->rtcpbuf - off,
                            s->cfg.video_ssrc, s->remote_video_ssrc, seqs, n);
    if (off == 0 || k < 0)
        return;
    send_rtcp(s, s->rtcpbuf, off + (size_t) k);
    g_mutex_lock(&s->stats_mu);
    s->st.nacks_sent += n;
    g_mutex_unlock(&s->stats_mu);
}

static void send_pli(media_session *s, int64_t now)
{
    if (!s->have_remote_video || now - s->last_pli_us < PLI_MIN_INTERVAL_US)
        return;
    size_t off = put_empty_rr(s, s->rtcpbuf, sizeof s->rtcpbuf);
    int k = rtcp_pli_build(s->rtcpbuf + off, sizeof s->rtcpbuf - off,
                           s->cfg.video_ssrc, s->remote_video_ssrc);
    if (off == 0 || k < 0)
        return;
    s->last_pli_us = now;
    send_rtcp(s, s->rtcpbuf, off + (size_t) k);
    g_mutex_lock(&s->stats_mu);
    s->st.plis_sent++;
    g_mutex_unlock(&s->stats_mu);
}

/* SR for each stream we send (report blocks in the first), or one RR. */
static void send_reports(media_session *s, int64_t now)
{
    rtcp_sr sr;
    memset(&sr, 0, sizeof sr);
    size_t nb = 0;
    if (s->have_remote_video && s->vrx.started) {
        rtp_rx_stats_report(&s->vrx, now, &sr.reports[nb]);
        sr.reports[nb++].ssrc = s->remote_video_ssrc;
    }
    if (s->have_remote_audio && s->arx.started) {
        rtp_rx_stats_report(&s->arx, now, &sr.reports[nb]);
        sr.reports[nb++].ssrc = s->remote_audio_ssrc;
    }
    sr.report_count = (uint8_t) nb;
    uint64_t ntp = rtp_ntp_from_unix_us(g_get_real_time());
    size_t off = 0;
    int n;
    if (s->started && s->cfg.send_video) {
        sr.ssrc = s->cfg.video_ssrc;
        sr.ntp = ntp;
        sr.rtp_ts = video_ts_at(s, now);
        sr.packet_count = s->video_packets;
        sr.octet_count = s->video_octets;
        n = rtcp_sr_build(s->rtcpbuf, sizeof s->rtcpbuf, &sr);
    } else {
        rtcp_rr rr;
        memset(&rr, 0, sizeof rr);
        rr.ssrc = s->cfg.video_ssrc;
        rr.report_count = sr.report_count;
        memcpy(rr.reports, sr.reports, sizeof rr.reports);
        n = rtcp_rr_build(s->rtcpbuf, sizeof s->rtcpbuf, &rr);
    }
    if (n < 0)
        return;
    off = (size_t) n;
    /* written by the audio thread before its first packet was queued */
    int64_t astart = s->audio_packets > 0 ? s->audio_start_us : 0;
    if (s->started && s->cfg.send_audio && astart > 0) {
        rtcp_sr asr;
        memset(&asr, 0, sizeof asr);
        asr.ssrc = s->cfg.audio_ssrc;
        asr.ntp = ntp;
        asr.rtp_ts = s->audio_ts_base +
                     (uint32_t) (uint64_t) ((now - astart) * 48 / 1000);
        asr.packet_count = s->audio_packets;
        asr.octet_count = s->audio_octets;
        n = rtcp_sr_build(s->rtcpbuf + off, sizeof s->rtcpbuf - off, &asr);
        if (n > 0)
            off += (size_t) n;
    }
    send_rtcp(s, s->rtcpbuf, off);
}

/* ---------------------------------------------------------------------- */
/* Network thread: receiving                                               */

/* Lip sync (RFC 3550 6.4.1): from the peer's SRs, how much later video
 * plays relative to its capture than audio does, sampled at every video
 * frame released (with the last audio packet released). About once a
 * second the stream that plays early gets extra jitter-buffer delay, the
 * other none; each step corrects half the mean error, so the loop settles
 * despite the per-frame noise (encode time, network jitter). */
#define LIP_SYNC_MAX_US 300000
static void sync_sample(media_session *s)
{
    int64_t d;
    if (s->cfg.lip_sync && s->have_aplay &&
        rtp_sync_relative_delay(&s->async, s->aplay_ts, s->aplay_us, &s->vsync,
                                s->vplay_ts, s->vplay_us, &d) == RTP_OK) {
        s->sync_sum_us += d;
        s->sync_n++;
    }
}

static void lip_sync(media_session *s)
{
    if (s->sync_n < 5)
        return;
    /* d > 0: audio must play d later. Offset wanted: audio - video. */
    int64_t d = s->sync_sum_us / s->sync_n;
    s->sync_sum_us = 0;
    s->sync_n = 0;
    int64_t offset = s->audio_extra_us - s->video_extra_us + d / 2;
    offset = CLAMP(offset, -LIP_SYNC_MAX_US, LIP_SYNC_MAX_US);
    s->audio_extra_us = offset > 0 ? offset : 0;
    s->video_extra_us = offset < 0 ? -offset : 0;
    rtp_jb_set_extra_delay(s->ajb, s->audio_extra_us);
    rtp_jb_set_extra_delay(s->vjb, s->video_extra_us);
    g_mutex_lock(&s->stats_mu);
    s->st.av_offset_us = d;
    s->st.audio_sync_delay_us = s->audio_extra_us;
    s->st.video_sync_delay_us = s->video_extra_us;
    g_mutex_unlock(&s->stats_mu);
}

static void pop_frames(media_session *s, int64_t now)
{
    for (;;) {
        dec_job *j = ring_try_pop(s->vjob_free);
        if (j == NULL)
            break; /* decoder behind: frames wait in the buffer */
        int r = rtp_jb_pop(s->vjb, now, &j->f, j->data, j->cap);
        if (r == 1) {
            s->have_vplay = true;
            s->vplay_ts = j->f.timestamp;
            s->vplay_us = now;
            sync_sample(s);
            ring_push(s->vjob_todo, j);
            continue;
        }
        ring_push(s->vjob_free, j);
        if (r == 0)
            break;
    }
    for (;;) {
        dec_job *j = ring_try_pop(s->ajob_free);
        if (j == NULL)
            break;
        int r = rtp_jb_pop(s->ajb, now, &j->f, j->data, j->cap);
        if (r == 1) {
            if (!j->f.lost) {
                s->have_aplay = true;
                s->aplay_ts = j->f.timestamp;
                s->aplay_us = now;
            }
            ring_push(s->ajob_todo, j);
            continue;
        }
        ring_push(s->ajob_free, j);
        if (r == 0)
            break;
    }
}

static void feedback(media_session *s, int64_t now)
{
    if (!s->have_remote_video)
        return;
    uint16_t seqs[MAX_NACK];
    size_t n = rtp_jb_nack_collect(s->vjb, now, seqs, G_N_ELEMENTS(seqs));
    if (n > 0)
        send_nack(s, seqs, n);
    bool want = rtp_jb_keyframe_needed(s->vjb, now);
    if (g_atomic_int_compare_and_exchange(&s->pli_wanted, 1, 0))
        want = true;
    if (want)
        send_pli(s, now);
}

static void on_report_block(media_session *s, const rtcp_report_block *rb,
                            int64_t now)
{
    if (rb->ssrc == s->cfg.video_ssrc) {
        int64_t rtt;
        uint32_t now_c =
            rtp_ntp_compact(rtp_ntp_from_unix_us(g_get_real_time()));
        if (rtp_rtt_from_report(now_c, rb, &rtt) == RTP_OK) {
            s->rtt_us = rtt;
            rtp_ratectl_set_rtt(&s->rc, rtt);
            rtp_jb_set_rtt(s->vjb, rtt);
        }
        uint32_t bps = rtp_ratectl_on_report(&s->rc, rb->fraction_lost, now);
        g_atomic_int_set(&s->target_kbps, (gint) (bps / 1000));
        g_mutex_lock(&s->stats_mu);
        s->st.remote_loss = rb->fraction_lost / 256.0;
        s->st.rtt_us = s->rtt_us;
        s->st.target_bps = bps;
        g_mutex_unlock(&s->stats_mu);
    } else if (rb->ssrc == s->cfg.audio_ssrc) {
        g_atomic_int_set(&s->audio_loss_pct, rb->fraction_lost * 100 / 256);
    }
}

static void on_rtcp(media_session *s, const uint8_t *buf, size_t len,
                    int64_t now)
{
    rtcp_iter it;
    rtcp_header h;
    if (rtcp_iter_init(&it, buf, len, RTCP_FLAG_REDUCED_SIZE) != RTP_OK) {
        g_mutex_lock(&s->stats_mu);
        s->st.malformed++;
        g_mutex_unlock(&s->stats_mu);
        return;
    }
    while (rtcp_iter_next(&it, &h) == 1) {
        if (h.pt == RTCP_PT_SR) {
            rtcp_sr sr;
            if (rtcp_sr_parse(&sr, &h) != RTP_OK)
                continue;
            if (s->have_remote_video && sr.ssrc == s->remote_video_ssrc) {
                rtp_rx_stats_on_sr(&s->vrx, sr.ntp, now);
                rtp_sync_on_sr(&s->vsync, sr.ntp, sr.rtp_ts);
            } else if (s->have_remote_audio &&
                       sr.ssrc == s->remote_audio_ssrc) {
                rtp_rx_stats_on_sr(&s->arx, sr.ntp, now);
                rtp_sync_on_sr(&s->async, sr.ntp, sr.rtp_ts);
            }
            for (size_t i = 0; i < sr.report_count; i++)
                on_report_block(s, &sr.reports[i], now);
        } else if (h.pt == RTCP_PT_RR) {
            rtcp_rr rr;
            if (rtcp_rr_parse(&rr, &h) != RTP_OK)
                continue;
            for (size_t i = 0; i < rr.report_count; i++)
                on_report_block(s, &rr.reports[i], now);
        } else if (h.pt == RTCP_PT_RTPFB && h.count == RTCP_FMT_NACK) {
            rtcp_fb fb;
            uint16_t seqs[MAX_NACK];
            size_t n = 0;
            if (rtcp_fb_parse(&fb, &h) != RTP_OK ||
                fb.media_ssrc != s->cfg.video_ssrc ||
                rtcp_nack_parse(&fb, seqs, G_N_ELEMENTS(seqs), &n) != RTP_OK)
                continue;
            g_mutex_lock(&s->stats_mu);
            s->st.nacks_received += n;
            g_mutex_unlock(&s->stats_mu);
            for (size_t i = 0; i < n && !s->cfg.no_rtx; i++)
                retransmit(s, seqs[i], now);
        } else if (h.pt == RTCP_PT_PSFB &&
                   (h.count == RTCP_FMT_PLI || h.count == RTCP_FMT_FIR)) {
            rtcp_fb fb;
            if (rtcp_fb_parse(&fb, &h) != RTP_OK)
                continue;
            bool ours = fb.media_ssrc == s->cfg.video_ssrc;
            if (h.count == RTCP_FMT_FIR) {
                rtcp_fir_entry e[8];
                size_t n = 0;
                ours = false;
                if (rtcp_fir_parse(&fb, e, G_N_ELEMENTS(e), &n) == RTP_OK)
                    for (size_t i = 0; i < n; i++)
                        ours = ours || e[i].ssrc == s->cfg.video_ssrc;
            }
            if (!ours)
                continue;
            g_atomic_int_set(&s->keyframe_req, 1);
            g_mutex_lock(&s->stats_mu);
            s->st.plis_received++;
            g_mutex_unlock(&s->stats_mu);
        }
    }
}

/* The peer's SSRC of a stream: the first one seen; another is taken only
 * after the current one has been silent for SSRC_SWITCH_US (the peer
 * restarted its stream), so a stray packet cannot hijack the stream.
 * @return false: drop the packet. */
#define SSRC_SWITCH_US 1000000
static bool latch(media_session *s, bool *have, uint32_t *ssrc,
                  int64_t *last_us, bool fixed, uint32_t pkt_ssrc, int64_t now)
{
    if (*have && pkt_ssrc != *ssrc &&
        (fixed || now - *last_us < SSRC_SWITCH_US)) {
        g_mutex_lock(&s->stats_mu);
        s->st.malformed++;
        g_mutex_unlock(&s->stats_mu);
        return false;
    }
    if (!*have || pkt_ssrc != *ssrc) {
        *have = true;
        *ssrc = pkt_ssrc;
        if (ssrc == &s->remote_video_ssrc)
            rtp_rx_stats_init(&s->vrx, RTP_VP8_CLOCK_RATE);
        else if (ssrc == &s->remote_audio_ssrc)
            rtp_rx_stats_init(&s->arx, RTP_OPUS_CLOCK_RATE);
    }
    *last_us = now;
    return true;
}

void media_session_receive(media_session *s, bool is_rtcp, const uint8_t *buf,
                           size_t len)
{
    if (s == NULL || buf == NULL)
        return;
    int64_t now = g_get_monotonic_time();
    if (is_rtcp) {
        on_rtcp(s, buf, len, now);
        return;
    }
    rtp_packet p;
    int id;
    if (rtp_parse(&p, buf, len) != RTP_OK ||
        rtp_demux_route(&s->demux, &p, &id) != RTP_OK) {
        g_mutex_lock(&s->stats_mu);
        s->st.malformed++;
        g_mutex_unlock(&s->stats_mu);
        return;
    }
    bool video = id == 1;
    if (video && !s->cfg.no_rtx && p.payload_type == s->cfg.rtx_pt) {
        /* RTX: put the original packet back together (RFC 4588 4). */
        if (!s->have_remote_video || p.payload_len < 3 ||
            !latch(s, &s->have_remote_rtx, &s->remote_rtx_ssrc,
                   &s->last_rtx_rx_us, s->fixed_rtx, p.ssrc, now))
            return;
        p.seq = (uint16_t) (p.payload[0] << 8 | p.payload[1]);
        /* Only what we can have asked for: behind the highest sequence
         * number seen, within the NACK history (a stray far sequence
         * number would restart the jitter buffer). */
        int32_t behind = rtp_seq_diff(s->vrx.max_seq, p.seq);
        if (!s->vrx.started || behind < 0 || behind >= RTP_NACK_MAX_SEQS) {
            g_mutex_lock(&s->stats_mu);
            s->st.malformed++;
            g_mutex_unlock(&s->stats_mu);
            return;
        }
        p.payload += 2;
        p.payload_len -= 2;
        p.payload_type = s->cfg.video_pt;
        p.ssrc = s->remote_video_ssrc;
        rtp_jb_insert(s->vjb, &p, now);
        g_mutex_lock(&s->stats_mu);
        s->st.rtx_received++;
        g_mutex_unlock(&s->stats_mu);
    } else if (video && p.payload_type == s->cfg.video_pt) {
        if (!latch(s, &s->have_remote_video, &s->remote_video_ssrc,
                   &s->last_video_rx_us, s->fixed_video, p.ssrc, now))
            return;
        /* Loss statistics (and so the rate controller) see the network
         * as it is: retransmissions are not counted here. */
        rtp_rx_stats_on_packet(&s->vrx, p.seq, p.timestamp, now);
        rtp_jb_insert(s->vjb, &p, now);
        g_mutex_lock(&s->stats_mu);
        rtp_rate_add(&s->rate_vrecv, now, p.payload_len);
        g_mutex_unlock(&s->stats_mu);
    } else if (!video && p.payload_type == s->cfg.audio_pt) {
        if (!latch(s, &s->have_remote_audio, &s->remote_audio_ssrc,
                   &s->last_audio_rx_us, s->fixed_audio, p.ssrc, now))
            return;
        rtp_rx_stats_on_packet(&s->arx, p.seq, p.timestamp, now);
        rtp_jb_insert(s->ajb, &p, now);
        g_mutex_lock(&s->stats_mu);
        rtp_rate_add(&s->rate_arecv, now, p.payload_len);
        g_mutex_unlock(&s->stats_mu);
    } else {
        g_mutex_lock(&s->stats_mu);
        s->st.malformed++;
        g_mutex_unlock(&s->stats_mu);
        return;
    }
    pop_frames(s, now);
}

/* The network thread's one source: sends what the encoders queued, runs
 * the jitter buffers, NACK/PLI and RTCP, and sleeps until the next due
 * time (or until an encoder wakes it). */
/* The jitter-buffer and RFC 3550 figures belong to the network thread:
 * it copies them into the shared stats on every pass. */
static void snapshot_stats(media_session *s)
{
    rtp_jb_stats vj, aj;
    rtp_jb_get_stats(s->vjb, &vj);
    rtp_jb_get_stats(s->ajb, &aj);
    int64_t lost = rtp_rx_stats_lost(&s->vrx) + rtp_rx_stats_lost(&s->arx);
    g_mutex_lock(&s->stats_mu);
    s->st.frames_dropped = vj.frames_dropped;
    s->st.video_jitter_us = vj.jitter_us;
    s->st.audio_jitter_us = aj.jitter_us;
    s->st.video_jb_delay_us = vj.target_delay_us;
    s->st.audio_jb_delay_us = aj.target_delay_us;
    s->st.packets_received = s->vrx.received + s->arx.received;
    s->st.packets_lost = lost > 0 ? (uint64_t) lost : 0;
    g_mutex_unlock(&s->stats_mu);
}

static gboolean pump_dispatch(GSource *src, GSourceFunc cb, gpointer ud)
{
    (void) cb;
    (void) ud;
    media_session *s = ((pump_source *) src)->s;
    int64_t now = g_get_monotonic_time();
    drain_out(s, now);
    pop_frames(s, now);
    feedback(s, now);
    snapshot_stats(s);
    if (now >= s->next_rtcp_us) {
        send_reports(s, now);
        lip_sync(s);
        /* 0.75..1.25 s (RFC 3550 6.3.1 randomisation) */
        s->next_rtcp_us = now + RTCP_INTERVAL_US * 3 / 4 +
                          g_random_int_range(0, RTCP_INTERVAL_US / 2);
    }
    int64_t next = now + HOUSEKEEP_US;
    next = MIN(next, s->next_rtcp_us);
    next = MIN(next, rtp_jb_next_wakeup(s->vjb, now));
    next = MIN(next, rtp_jb_next_wakeup(s->ajb, now));
    g_source_set_ready_time(src, MAX(next, now));
    /* Packets queued between the first drain and the line above may have
     * had their wake-up overwritten: send them now. */
    drain_out(s, g_get_monotonic_time());
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs pump_funcs = {NULL, NULL, pump_dispatch, NULL, NULL, NULL};

/* ---------------------------------------------------------------------- */
/* Capture + encode threads                                                */

/* Sleeps until @p until (monotonic µs); false when the session stops. */
static bool wait_until(media_session *s, int64_t until)
{
    bool run;
    g_mutex_lock(&s->stop_mu);
    while (!s->stopping && g_get_monotonic_time() < until)
        g_cond_wait_until(&s->stop_cond, &s->stop_mu, until);
    run = !s->stopping;
    g_mutex_unlock(&s->stop_mu);
    return run;
}

/* The video encoder's state, on the video thread. */
typedef struct {
    int kbps;
    uint16_t picture_id;
    bool have_last;
    int64_t last_pts;
    uint32_t last_ts;
} venc_state;

/* Encodes one picture and queues its packets for the network thread. */
static void encode_picture(media_session *s, venc_state *vs,
                           const media_i420 *pic, int64_t capture)
{
    int want = g_atomic_int_get(&s->target_kbps);
    want = CLAMP(want, s->cfg.min_kbps, s->cfg.max_kbps);
    if (want != vs->kbps && media_vp8_enc_set_bitrate(s->venc, want) == 0)
        vs->kbps = want;
    if (g_atomic_int_compare_and_exchange(&s->keyframe_req, 1, 0))
        media_vp8_enc_request_keyframe(s->venc);
    /* Pushed capture times may repeat or step back: the encoder's pts
     * and the RTP timestamps must increase. */
    if (vs->have_last && capture <= vs->last_pts)
        capture = vs->last_pts + 1;
    uint32_t ts = video_ts_at(s, capture);
    if (vs->have_last && (int32_t) (ts - vs->last_ts) <= 0)
        ts = vs->last_ts + 1;
    media_vp8_frame ef;
    if (media_vp8_enc_encode(s->venc, pic, capture, &ef) != 0 || ef.len == 0)
        return;
    vs->have_last = true;
    vs->last_pts = capture;
    vs->last_ts = ts;
    rtp_vp8_packetizer pz;
    if (rtp_vp8_packetizer_init(&pz, ef.data, ef.len, ef.keyframe,
                                vs->picture_id, NULL,
                                s->max_payload) == RTP_OK) {
        for (;;) {
            out_pkt *op = ring_try_pop(s->pkt_free);
            if (op == NULL)
                break; /* network thread far behind: frame lost */
            bool last = false;
            int n =
                rtp_vp8_packetizer_next(&pz, op->data, sizeof op->data, &last);
            if (n <= 0) {
                ring_push(s->pkt_free, op);
                break;
            }
            op->kind = KIND_VIDEO;
            op->len = (size_t) n;
            op->marker = last;
            op->keyframe = ef.keyframe;
            op->ts = ts;
            ring_push(s->pkt_out, op);
        }
        wake_pump(s);
    }
    vs->picture_id = (vs->picture_id + 1) & RTP_VP8_PICTURE_ID_MASK;
    g_mutex_lock(&s->stats_mu);
    s->st.frames_encoded++;
    if (ef.keyframe)
        s->st.keyframes_sent++;
    rtp_rate_add(&s->rate_enc, capture, ef.len);
    g_mutex_unlock(&s->stats_mu);
}

/* external_video: encodes what media_session_push_video() queued, the
 * newest last; when muted, a black picture a second. */
static void video_external(media_session *s, venc_state *vs)
{
    int64_t next_black = 0;
    g_mutex_lock(&s->stop_mu);
    while (!s->stopping) {
        int64_t now = g_get_monotonic_time();
        if (g_atomic_int_get(&s->mute_video)) {
            while (s->vin_nready > 0) /* pushed before the mute */
                s->vin_free[s->vin_nfree++] = s->vin_ready[--s->vin_nready];
            if (now < next_black) {
                g_cond_wait_until(&s->vin_cond, &s->stop_mu, next_black);
                continue;
            }
            next_black = now + BLACK_INTERVAL_US;
            g_mutex_unlock(&s->stop_mu);
            encode_picture(s, vs, &s->black, now);
            g_mutex_lock(&s->stop_mu);
            continue;
        }
        next_black = 0;
        if (s->vin_nready == 0) {
            g_cond_wait(&s->vin_cond, &s->stop_mu);
            continue;
        }
        int i = s->vin_ready[0];
        s->vin_nready--;
        memmove(s->vin_ready, s->vin_ready + 1,
                s->vin_nready * sizeof s->vin_ready[0]);
        int64_t capture = s->vin_us[i];
        g_mutex_unlock(&s->stop_mu);
        encode_picture(s, vs, &s->vin_pics[i], capture);
        g_mutex_lock(&s->stop_mu);
        s->vin_free[s->vin_nfree++] = i;
    }
    g_mutex_unlock(&s->stop_mu);
}

static gpointer video_main(gpointer data)
{
    media_session *s = data;
    venc_state vs;
    memset(&vs, 0, sizeof vs);
    vs.picture_id = (uint16_t) g_random_int_range(0, 0x8000);
    vs.kbps = media_vp8_enc_get_bitrate(s->venc);
    if (s->cfg.external_video) {
        video_external(s, &vs);
        return NULL;
    }
    /* the synthetic camera, paced at the frame rate */
    int64_t interval = 1000000 / s->cfg.fps;
    int64_t next = g_get_monotonic_time();
    int64_t next_black = 0;
    uint32_t frame_no = 0;
    while (wait_until(s, next)) {
        int64_t capture = g_get_monotonic_time();
        if (g_atomic_int_get(&s->mute_video)) {
            if (capture >= next_black) {
                encode_picture(s, &vs, &s->black, capture);
                next_black = capture + BLACK_INTERVAL_US;
            }
        } else {
            media_synth_video_fill(&s->pic, frame_no, capture);
            encode_picture(s, &vs, &s->pic, capture);
            next_black = 0;
        }
        frame_no++;
        next += interval;
        int64_t now = g_get_monotonic_time();
        if (next < now - interval)
            next = now; /* fell behind (loaded machine): do not burst */
    }
    return NULL;
}

/* The audio encoder's state, on the audio thread. */
typedef struct {
    int loss;
    bool gap; /* the last block was not sent (DTX): marker on the next */
} aenc_state;

static const int16_t silence[MEDIA_OPUS_FRAME];

/* Encodes block @p n (20 ms) and queues it; muted: silence through the
 * DTX encoder, whose "nothing to send" packets are not sent. */
static void encode_audio(media_session *s, aenc_state *as, const int16_t *pcm,
                         uint32_t n)
{
    int want = g_atomic_int_get(&s->audio_loss_pct);
    if (want != as->loss) {
        media_opus_enc_set_loss(s->aenc, MAX(want, 5));
        as->loss = want;
    }
    bool muted = g_atomic_int_get(&s->mute_audio) != 0;
    out_pkt *op = ring_try_pop(s->pkt_free);
    size_t len = 0;
    if (op == NULL)
        return;
    if (media_opus_enc_encode(muted ? s->aenc_dtx : s->aenc,
                              muted ? silence : pcm, op->data, sizeof op->data,
                              &len) == 0 &&
        len > (muted ? 2u : 0u)) {
        op->kind = KIND_AUDIO;
        op->len = len;
        op->marker = n == 0 || as->gap;
        op->keyframe = false;
        op->ts = s->audio_ts_base + n * MEDIA_OPUS_FRAME;
        ring_push(s->pkt_out, op);
        wake_pump(s);
        as->gap = false;
    } else {
        ring_push(s->pkt_free, op);
        as->gap = true;
    }
}

/* external_audio: encodes each 20 ms block media_session_push_audio()
 * completes; timestamps count blocks from the first one's capture time
 * and move on when the pushes had a gap of more than 200 ms. */
static void audio_external(media_session *s, aenc_state *as)
{
    int16_t pcm[MEDIA_OPUS_FRAME];
    bool first = true;
    int64_t start = 0;
    uint32_t n = 0;
    g_mutex_lock(&s->stop_mu);
    for (;;) {
        while (!s->stopping && s->ain_n < MEDIA_OPUS_FRAME)
            g_cond_wait(&s->ain_cond, &s->stop_mu);
        if (s->stopping)
            break;
        memcpy(pcm, s->ain + s->ain_head, sizeof pcm);
        s->ain_head = (s->ain_head + MEDIA_OPUS_FRAME) % AIN_CAP;
        s->ain_n -= MEDIA_OPUS_FRAME;
        int64_t block_us = s->ain_head_us;
        s->ain_head_us += 20000;
        uint32_t skipped = s->ain_skipped;
        s->ain_skipped = 0;
        g_mutex_unlock(&s->stop_mu);
        if (first) {
            start = block_us;
            s->audio_start_us = start; /* before the first packet queued */
            first = false;
        } else {
            n += 1 + skipped;
            if (block_us - (start + (int64_t) n * 20000) > 200000)
                n = (uint32_t) ((block_us - start) / 20000);
        }
        encode_audio(s, as, pcm, n);
        g_mutex_lock(&s->stop_mu);
    }
    g_mutex_unlock(&s->stop_mu);
}

static gpointer audio_main(gpointer data)
{
    media_session *s = data;
    aenc_state as = {-1, false};
    if (s->cfg.external_audio) {
        audio_external(s, &as);
        return NULL;
    }
    /* the synthetic microphone, paced at 20 ms */
    media_synth_audio syn;
    media_synth_audio_init(&syn, 1, 500);
    int16_t pcm[MEDIA_OPUS_FRAME];
    int64_t start = g_get_monotonic_time();
    s->audio_start_us = start;
    uint32_t n = 0;
    while (wait_until(s, start + (int64_t) n * 20000)) {
        media_synth_audio_fill(&syn, pcm, MEDIA_OPUS_FRAME);
        encode_audio(s, &as, pcm, n);
        n++;
        if (start + (int64_t) n * 20000 < g_get_monotonic_time() - 200000) {
            /* far behind: skip ahead (the timestamps keep counting) */
            n = (uint32_t) ((g_get_monotonic_time() - start) / 20000);
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------------- */
/* Decode threads                                                          */

static gpointer vdec_main(gpointer data)
{
    media_session *s = data;
    for (;;) {
        dec_job *j = ring_pop(s->vjob_todo);
        if (j == &stop_job)
            break;
        if (s->cfg.on_encoded_video != NULL)
            s->cfg.on_encoded_video(j->data, j->f.len, j->f.timestamp,
                                    j->f.keyframe, s->cfg.user_data);
        media_i420 pic;
        bool corrupt = false;
        int r =
            media_vp8_dec_decode(s->vdec, j->data, j->f.len, &pic, &corrupt);
        int64_t now = g_get_monotonic_time();
        if (r != 0 || corrupt)
            g_atomic_int_set(&s->pli_wanted, 1);
        if (r == 0) {
            media_session_video_frame vf;
            memset(&vf, 0, sizeof vf);
            vf.pic = &pic;
            vf.rtp_ts = j->f.timestamp;
            vf.keyframe = j->f.keyframe;
            vf.synth_ok =
                media_synth_read(&pic, &vf.frame_no, &vf.capture_us) == 0;
            vf.decoded_us = now;
            g_mutex_lock(&s->stats_mu);
            s->st.frames_decoded++;
            if (j->f.keyframe)
                s->st.keyframes_decoded++;
            s->st.recv_width = pic.width;
            s->st.recv_height = pic.height;
            rtp_rate_add(&s->rate_dec, now, j->f.len);
            g_mutex_unlock(&s->stats_mu);
            if (s->cfg.on_video != NULL)
                s->cfg.on_video(&vf, s->cfg.user_data);
        } else {
            g_mutex_lock(&s->stats_mu);
            s->st.decode_errors++;
            g_mutex_unlock(&s->stats_mu);
        }
        ring_push(s->vjob_free, j);
    }
    return NULL;
}

static void emit_audio(media_session *s, const int16_t *pcm, int frames,
                       uint32_t ts, bool concealed, bool fec)
{
    if (frames <= 0)
        return;
    g_mutex_lock(&s->stats_mu);
    if (fec)
        s->st.audio_frames_fec++;
    else if (concealed)
        s->st.audio_frames_concealed++;
    else
        s->st.audio_frames_decoded++;
    g_mutex_unlock(&s->stats_mu);
    if (s->cfg.on_audio == NULL)
        return;
    media_session_audio_frame af = {pcm, (size_t) frames, 1,
                                    ts,  concealed,       fec};
    s->cfg.on_audio(&af, s->cfg.user_data);
}

static gpointer adec_main(gpointer data)
{
    media_session *s = data;
    static const size_t cap = 5760;
    int16_t *pcm = g_new(int16_t, cap);
    bool pending = false; /* a lost packet waits for the next one's FEC */
    uint32_t pending_ts = 0;
    for (;;) {
        dec_job *j = ring_pop(s->ajob_todo);
        if (j == &stop_job)
            break;
        if (pending &&
            (j->f.lost || j->f.timestamp != pending_ts + MEDIA_OPUS_FRAME)) {
            int n = media_opus_dec_conceal(s->adec, NULL, 0, pcm, cap);
            emit_audio(s, pcm, n, pending_ts, true, false);
            pending = false;
        }
        if (j->f.lost) {
            if (j->f.fec_available) {
                pending = true;
                pending_ts = j->f.timestamp;
            } else {
                int n = media_opus_dec_conceal(s->adec, NULL, 0, pcm, cap);
                emit_audio(s, pcm, n, j->f.timestamp, true, false);
            }
        } else {
            if (s->cfg.on_encoded_audio != NULL)
                s->cfg.on_encoded_audio(j->data, j->f.len, j->f.timestamp,
                                        s->cfg.user_data);
            if (pending) {
                bool fec = media_opus_has_fec(j->data, j->f.len);
                int n = media_opus_dec_conceal(s->adec, j->data, j->f.len, pcm,
                                               cap);
                emit_audio(s, pcm, n, pending_ts, true, fec);
                pending = false;
            }
            int n = media_opus_dec_decode(s->adec, j->data, j->f.len, pcm, cap);
            if (n > 0) {
                emit_audio(s, pcm, n, j->f.timestamp, false, false);
            } else {
                n = media_opus_dec_conceal(s->adec, NULL, 0, pcm, cap);
                emit_audio(s, pcm, n, j->f.timestamp, true, false);
            }
        }
        ring_push(s->ajob_free, j);
    }
    g_free(pcm);
    return NULL;
}

/* ---------------------------------------------------------------------- */
/* Life cycle                                                              */

static uint32_t random_ssrc(void)
{
    uint32_t v;
    do
        v = g_random_int();
    while (v == 0);
    return v;
}

static int check_config(const media_session_config *c)
{
    if (c->version != MEDIA_SESSION_CONFIG_VERSION || c->context == NULL ||
        c->transport == NULL)
        return MEDIA_SESSION_EINVAL;
    /* the synthetic camera needs room for its stamp; VP8 takes 16x16 */
    int min_w = c->external_video ? 16 : MEDIA_SYNTH_MIN_WIDTH;
    int min_h = c->external_video ? 16 : MEDIA_SYNTH_MIN_HEIGHT;
    if (c->width < min_w || c->width > 4096 || c->height < min_h ||
        c->height > 4096 || (c->width & 1) || (c->height & 1) || c->fps < 1 ||
        c->fps > 120)
        return MEDIA_SESSION_EINVAL;
    if (c->min_kbps < 30 || c->max_kbps > 20000 ||
        c->min_kbps > c->start_kbps || c->start_kbps > c->max_kbps)
        return MEDIA_SESSION_EINVAL;
    if (c->video_pt > 127 || c->rtx_pt > 127 || c->audio_pt > 127 ||
        c->video_pt == c->audio_pt ||
        (!c->no_rtx && (c->video_pt == c->rtx_pt || c->rtx_pt == c->audio_pt)))
        return MEDIA_SESSION_EINVAL;
    if (c->mid_ext_id > 14 || c->abs_send_time_ext_id > 14 ||
        c->twcc_ext_id > 14)
        return MEDIA_SESSION_EINVAL;
    if (!rtp_mid_valid(c->video_mid, strlen(c->video_mid)) ||
        !rtp_mid_valid(c->audio_mid, strlen(c->audio_mid)) ||
        strcmp(c->video_mid, c->audio_mid) == 0)
        return MEDIA_SESSION_EINVAL;
    if (c->mtu < 300 || c->mtu > SENDBUF)
        return MEDIA_SESSION_EINVAL;
    return MEDIA_SESSION_OK;
}

int media_session_new(media_session **out, const media_session_config *cfg)
{
    if (out == NULL || cfg == NULL)
        return MEDIA_SESSION_EINVAL;
    *out = NULL;
    media_session_config c = *cfg;
#define DEF(f, v)                                                              \
    if (c.f == 0)                                                              \
    c.f = (v)
    DEF(width, 640);
    DEF(height, 480);
    DEF(fps, 30);
    DEF(start_kbps, 600);
    DEF(min_kbps, 100);
    DEF(max_kbps, 2000);
    DEF(audio_bps, 32000);
    DEF(video_pt, 96);
    DEF(rtx_pt, 97);
    DEF(audio_pt, 111);
    DEF(video_mid, "1");
    DEF(audio_mid, "0");
    DEF(mtu, 1200);
#undef DEF
    if (cfg->mid_ext_id == 0 && cfg->abs_send_time_ext_id == 0 &&
        cfg->twcc_ext_id == 0) {
        c.mid_ext_id = 1;
        c.abs_send_time_ext_id = 2;
        c.twcc_ext_id = 3;
    }
    int rc = check_config(&c);
    if (rc != 0)
        return rc;

    media_session *s = g_new0(media_session, 1);
    s->cfg = c;
    g_strlcpy(s->video_mid, c.video_mid, sizeof s->video_mid);
    g_strlcpy(s->audio_mid, c.audio_mid, sizeof s->audio_mid);
    s->cfg.video_mid = s->video_mid;
    s->cfg.audio_mid = s->audio_mid;
    if (s->cfg.video_ssrc == 0)
        s->cfg.video_ssrc = random_ssrc();
    if (s->cfg.rtx_ssrc == 0)
        s->cfg.rtx_ssrc = random_ssrc();
    if (s->cfg.audio_ssrc == 0)
        s->cfg.audio_ssrc = random_ssrc();
    s->max_payload = c.mtu - RTP_HEADER_SIZE - EXT_BLOCK - SRTP_OVERHEAD - 2;
    g_mutex_init(&s->stop_mu);
    g_cond_init(&s->stop_cond);
    g_cond_init(&s->vin_cond);
    g_cond_init(&s->ain_cond);
    g_mutex_init(&s->stats_mu);
    s->video_seq = (uint16_t) g_random_int();
    s->rtx_seq = (uint16_t) g_random_int();
    s->audio_seq = (uint16_t) g_random_int();
    s->video_ts_base = g_random_int();
    s->audio_ts_base = g_random_int();
    s->rtt_us = -1;
    s->st.rtt_us = -1;
    g_atomic_int_set(&s->target_kbps, c.start_kbps);
    g_atomic_int_set(&s->audio_loss_pct, 5);

    rc = MEDIA_SESSION_ENOMEM;
    s->pkts = g_try_new0(out_pkt, OUT_PKTS);
    s->vjobs = g_try_new0(dec_job, VIDEO_JOBS);
    s->ajobs = g_try_new0(dec_job, AUDIO_JOBS);
    s->vjob_mem = g_try_malloc((size_t) VIDEO_JOBS * VIDEO_JOB_CAP);
    s->ajob_mem = g_try_malloc((size_t) AUDIO_JOBS * AUDIO_JOB_CAP);
    if (s->pkts == NULL || s->vjobs == NULL || s->ajobs == NULL ||
        s->vjob_mem == NULL || s->ajob_mem == NULL)
        goto fail;
    s->pkt_free = ring_new(OUT_PKTS);
    s->pkt_out = ring_new(OUT_PKTS);
    s->vjob_free = ring_new(VIDEO_JOBS);
    s->vjob_todo = ring_new(VIDEO_JOBS + 1); /* + the stop job */
    s->ajob_free = ring_new(AUDIO_JOBS);
    s->ajob_todo = ring_new(AUDIO_JOBS + 1);
    if (s->pkt_free == NULL || s->pkt_out == NULL || s->vjob_free == NULL ||
        s->vjob_todo == NULL || s->ajob_free == NULL || s->ajob_todo == NULL)
        goto fail;
    for (size_t i = 0; i < OUT_PKTS; i++)
        ring_push(s->pkt_free, &s->pkts[i]);
    for (size_t i = 0; i < VIDEO_JOBS; i++) {
        s->vjobs[i].data = s->vjob_mem + i * VIDEO_JOB_CAP;
        s->vjobs[i].cap = VIDEO_JOB_CAP;
        ring_push(s->vjob_free, &s->vjobs[i]);
    }
    for (size_t i = 0; i < AUDIO_JOBS; i++) {
        s->ajobs[i].data = s->ajob_mem + i * AUDIO_JOB_CAP;
        s->ajobs[i].cap = AUDIO_JOB_CAP;
        ring_push(s->ajob_free, &s->ajobs[i]);
    }

    rtp_jb_config jc;
    rtp_jb_config_init(&jc, RTP_JB_VP8);
    if (rtp_jb_new(&s->vjb, &jc) != RTP_OK)
        goto fail;
    rtp_jb_config_init(&jc, RTP_JB_OPUS);
    if (rtp_jb_new(&s->ajb, &jc) != RTP_OK)
        goto fail;
    if (rtp_rtx_cache_new(&s->rtx, 1024, SENDBUF, 1000000) != RTP_OK)
        goto fail;
    rtp_ratectl_init(&s->rc, (uint32_t) c.start_kbps * 1000,
                     (uint32_t) c.min_kbps * 1000,
                     (uint32_t) c.max_kbps * 1000);
    s->st.target_bps = (uint32_t) c.start_kbps * 1000;
    rtp_demux_init(&s->demux, c.mid_ext_id);
    uint8_t apt[1] = {c.audio_pt};
    uint8_t vpts[2] = {c.video_pt, c.rtx_pt};
    if (rtp_demux_add_stream(&s->demux, 0, s->audio_mid, apt, 1) != RTP_OK ||
        rtp_demux_add_stream(&s->demux, 1, s->video_mid, vpts,
                             c.no_rtx ? 1 : 2) != RTP_OK) {
        rc = MEDIA_SESSION_EINVAL;
        goto fail;
    }
    rtp_rx_stats_init(&s->vrx, RTP_VP8_CLOCK_RATE);
    rtp_rx_stats_init(&s->arx, RTP_OPUS_CLOCK_RATE);
    s->fixed_video = s->have_remote_video = c.remote_video_ssrc != 0;
    s->remote_video_ssrc = c.remote_video_ssrc;
    s->fixed_rtx = s->have_remote_rtx = c.remote_rtx_ssrc != 0 && !c.no_rtx;
    s->remote_rtx_ssrc = c.remote_rtx_ssrc;
    s->fixed_audio = s->have_remote_audio = c.remote_audio_ssrc != 0;
    s->remote_audio_ssrc = c.remote_audio_ssrc;
    if ((s->fixed_video &&
         rtp_demux_bind_ssrc(&s->demux, c.remote_video_ssrc, 1) != RTP_OK) ||
        (s->fixed_rtx &&
         rtp_demux_bind_ssrc(&s->demux, c.remote_rtx_ssrc, 1) != RTP_OK) ||
        (s->fixed_audio &&
         rtp_demux_bind_ssrc(&s->demux, c.remote_audio_ssrc, 0) != RTP_OK)) {
        rc = MEDIA_SESSION_EINVAL;
        goto fail;
    }
    rtp_sync_init(&s->vsync, RTP_VP8_CLOCK_RATE);
    rtp_sync_init(&s->async, RTP_OPUS_CLOCK_RATE);
    rtp_rate_init(&s->rate_vsent, 1000000);
    rtp_rate_init(&s->rate_asent, 1000000);
    rtp_rate_init(&s->rate_vrecv, 1000000);
    rtp_rate_init(&s->rate_arecv, 1000000);
    rtp_rate_init(&s->rate_enc, 1000000);
    rtp_rate_init(&s->rate_dec, 1000000);

    rc = MEDIA_SESSION_ECODEC;
    media_vp8_enc_config vc = MEDIA_VP8_ENC_CONFIG_INIT;
    vc.width = c.width;
    vc.height = c.height;
    vc.fps = c.fps;
    vc.bitrate_kbps = c.start_kbps;
    if (c.send_video && media_vp8_enc_new(&s->venc, &vc) != 0)
        goto fail;
    if (c.send_video && !c.external_video &&
        media_i420_alloc(&s->pic, c.width, c.height) != 0)
        goto fail;
    if (c.send_video && media_i420_alloc(&s->black, c.width, c.height) != 0)
        goto fail;
    if (c.send_video) {
        for (int y = 0; y < c.height; y++)
            memset(s->black.y + (size_t) y * (size_t) s->black.stride_y, 16,
                   (size_t) c.width);
        for (int y = 0; y < (c.height + 1) / 2; y++) {
            memset(s->black.u + (size_t) y * (size_t) s->black.stride_u, 128,
                   (size_t) (c.width + 1) / 2);
            memset(s->black.v + (size_t) y * (size_t) s->black.stride_v, 128,
                   (size_t) (c.width + 1) / 2);
        }
    }
    if (c.send_video && c.external_video) {
        for (int i = 0; i < VIN_PICS; i++) {
            if (media_i420_alloc(&s->vin_pics[i], c.width, c.height) != 0)
                goto fail;
            s->vin_free[s->vin_nfree++] = i;
        }
    }
    if (media_vp8_dec_new(&s->vdec, 1) != 0)
        goto fail;
    media_opus_enc_config oc = MEDIA_OPUS_ENC_CONFIG_INIT;
    oc.bitrate_bps = c.audio_bps;
    oc.dtx = false; /* a packet every 20 ms: gaps then mean loss */
    if (c.send_audio && media_opus_enc_new(&s->aenc, &oc) != 0)
        goto fail;
    oc.dtx = true; /* muted: a comfort-noise packet every 400 ms */
    if (c.send_audio && media_opus_enc_new(&s->aenc_dtx, &oc) != 0)
        goto fail;
    if (c.send_audio && c.external_audio) {
        s->ain = g_try_new0(int16_t, AIN_CAP);
        if (s->ain == NULL) {
            rc = MEDIA_SESSION_ENOMEM;
            goto fail;
        }
    }
    if (media_opus_dec_new(&s->adec, 1) != 0)
        goto fail;
    s->st.width = c.send_video ? c.width : 0;
    s->st.height = c.send_video ? c.height : 0;

    s->pump = (pump_source *) g_source_new(&pump_funcs, sizeof(pump_source));
    s->pump->s = s;
    g_source_set_priority(&s->pump->base, G_PRIORITY_HIGH);
    g_source_set_name(&s->pump->base, "vid-media-session");
    s->next_rtcp_us = g_get_monotonic_time() + RTCP_INTERVAL_US / 2;
    g_source_set_ready_time(&s->pump->base, s->next_rtcp_us);
    g_source_attach(&s->pump->base, c.context);
    *out = s;
    return MEDIA_SESSION_OK;

fail:
    media_session_free(s);
    return rc;
}

int media_session_start(media_session *s)
{
    if (s == NULL)
        return MEDIA_SESSION_EINVAL;
    if (s->started)
        return MEDIA_SESSION_ESTATE;
    s->started = true;
    g_mutex_lock(&s->stop_mu);
    s->running = true;
    g_mutex_unlock(&s->stop_mu);
    s->vdec_thread = g_thread_new("vid-vdec", vdec_main, s);
    s->adec_thread = g_thread_new("vid-adec", adec_main, s);
    if (s->cfg.send_video)
        s->video_thread = g_thread_new("vid-venc", video_main, s);
    if (s->cfg.send_audio)
        s->audio_thread = g_thread_new("vid-aenc", audio_main, s);
    return MEDIA_SESSION_OK;
}

void media_session_free(media_session *s)
{
    if (s == NULL)
        return;
    g_mutex_lock(&s->stop_mu);
    s->stopping = true;
    g_cond_broadcast(&s->stop_cond);
    g_cond_broadcast(&s->vin_cond);
    g_cond_broadcast(&s->ain_cond);
    g_mutex_unlock(&s->stop_mu);
    if (s->video_thread != NULL)
        g_thread_join(s->video_thread);
    if (s->audio_thread != NULL)
        g_thread_join(s->audio_thread);
    if (s->vdec_thread != NULL) {
        ring_push(s->vjob_todo, &stop_job);
        g_thread_join(s->vdec_thread);
    }
    if (s->adec_thread != NULL) {
        ring_push(s->ajob_todo, &stop_job);
        g_thread_join(s->adec_thread);
    }
    if (s->pump != NULL) {
        g_source_destroy(&s->pump->base);
        g_source_unref(&s->pump->base);
    }
    ring_free(s->pkt_free);
    ring_free(s->pkt_out);
    ring_free(s->vjob_free);
    ring_free(s->vjob_todo);
    ring_free(s->ajob_free);
    ring_free(s->ajob_todo);
    g_free(s->pkts);
    g_free(s->vjobs);
    g_free(s->ajobs);
    g_free(s->vjob_mem);
    g_free(s->ajob_mem);
    rtp_jb_free(s->vjb);
    rtp_jb_free(s->ajb);
    rtp_rtx_cache_free(s->rtx);
    media_vp8_enc_free(s->venc);
    media_vp8_dec_free(s->vdec);
    media_opus_enc_free(s->aenc);
    media_opus_dec_free(s->adec);
    media_opus_enc_free(s->aenc_dtx);
    media_i420_free(&s->pic);
    media_i420_free(&s->black);
    for (int i = 0; i < VIN_PICS; i++)
        media_i420_free(&s->vin_pics[i]);
    g_free(s->ain);
    g_mutex_clear(&s->stop_mu);
    g_cond_clear(&s->stop_cond);
    g_cond_clear(&s->vin_cond);
    g_cond_clear(&s->ain_cond);
    g_mutex_clear(&s->stats_mu);
    g_free(s);
}

void media_session_force_keyframe(media_session *s)
{
    if (s != NULL)
        g_atomic_int_set(&s->keyframe_req, 1);
}

static int64_t sane_capture(int64_t capture_us)
{
    int64_t now = g_get_monotonic_time();
    if (capture_us <= 0 || capture_us > now + CAPTURE_SANE_US ||
        capture_us < now - CAPTURE_SANE_US)
        return now;
    return capture_us;
}

static void copy_plane(uint8_t *dst, int dst_stride, const uint8_t *src,
                       int src_stride, int w, int h)
{
    for (int y = 0; y < h; y++)
        memcpy(dst + (size_t) y * (size_t) dst_stride,
               src + (size_t) y * (size_t) src_stride, (size_t) w);
}

int media_session_push_video(media_session *s, const media_i420 *pic,
                             int64_t capture_us)
{
    if (s == NULL || pic == NULL)
        return MEDIA_SESSION_EINVAL;
    if (!s->cfg.external_video || !s->cfg.send_video)
        return MEDIA_SESSION_ESTATE;
    int w = s->cfg.width, h = s->cfg.height, cw = (w + 1) / 2;
    if (pic->y == NULL || pic->u == NULL || pic->v == NULL || pic->width != w ||
        pic->height != h || pic->stride_y < w || pic->stride_u < cw ||
        pic->stride_v < cw)
        return MEDIA_SESSION_EINVAL;
    capture_us = sane_capture(capture_us);
    bool dropped = false;
    int slot = -1;
    g_mutex_lock(&s->stop_mu);
    if (g_atomic_int_get(&s->mute_video)) {
        /* muted: black pictures go out instead; this one is not needed */
    } else if (!s->running || s->stopping) {
        dropped = true;
    } else if (s->vin_nfree > 0) {
        slot = s->vin_free[--s->vin_nfree];
    } else if (s->vin_nready > 0) {
        /* the encoder is behind: the oldest waiting picture makes room */
        slot = s->vin_ready[0];
        s->vin_nready--;
        memmove(s->vin_ready, s->vin_ready + 1,
                s->vin_nready * sizeof s->vin_ready[0]);
        dropped = true;
    } else {
        dropped = true; /* every buffer is being filled by other pushers */
    }
    g_mutex_unlock(&s->stop_mu);
    if (slot >= 0) {
        media_i420 *d = &s->vin_pics[slot];
        copy_plane(d->y, d->stride_y, pic->y, pic->stride_y, w, h);
        copy_plane(d->u, d->stride_u, pic->u, pic->stride_u, cw, (h + 1) / 2);
        copy_plane(d->v, d->stride_v, pic->v, pic->stride_v, cw, (h + 1) / 2);
        g_mutex_lock(&s->stop_mu);
        s->vin_us[slot] = capture_us;
        s->vin_ready[s->vin_nready++] = slot;
        g_cond_signal(&s->vin_cond);
        g_mutex_unlock(&s->stop_mu);
    }
    g_mutex_lock(&s->stats_mu);
    s->st.frames_pushed++;
    if (dropped)
        s->st.frames_push_dropped++;
    g_mutex_unlock(&s->stats_mu);
    return MEDIA_SESSION_OK;
}

int media_session_push_audio(media_session *s, const int16_t *pcm,
                             size_t frames, int channels, int64_t capture_us)
{
    if (s == NULL || (pcm == NULL && frames > 0) || channels < 1 ||
        channels > 8)
        return MEDIA_SESSION_EINVAL;
    if (!s->cfg.external_audio || !s->cfg.send_audio)
        return MEDIA_SESSION_ESTATE;
    if (frames == 0)
        return MEDIA_SESSION_OK;
    capture_us = sane_capture(capture_us);
    uint64_t dropped = 0;
    g_mutex_lock(&s->stop_mu);
    if (!s->running || s->stopping) {
        dropped = frames;
    } else {
        if (s->ain_n == 0)
            s->ain_head_us = capture_us;
        for (size_t i = 0; i < frames; i++) {
            if (s->ain_n == AIN_CAP) {
                /* the encoder is behind: drop the oldest block */
                s->ain_head = (s->ain_head + MEDIA_OPUS_FRAME) % AIN_CAP;
                s->ain_n -= MEDIA_OPUS_FRAME;
                s->ain_head_us += 20000;
                s->ain_skipped++;
                dropped += MEDIA_OPUS_FRAME;
            }
            const int16_t *in = pcm + i * (size_t) channels;
            int32_t sum = 0;
            for (int c = 0; c < channels; c++)
                sum += in[c];
            s->ain[(s->ain_head + s->ain_n) % AIN_CAP] =
                (int16_t) (sum / channels);
            s->ain_n++;
        }
        if (s->ain_n >= MEDIA_OPUS_FRAME)
            g_cond_signal(&s->ain_cond);
    }
    g_mutex_unlock(&s->stop_mu);
    g_mutex_lock(&s->stats_mu);
    s->st.audio_samples_pushed += frames;
    s->st.audio_samples_push_dropped += dropped;
    g_mutex_unlock(&s->stats_mu);
    return MEDIA_SESSION_OK;
}

void media_session_set_mute(media_session *s, bool audio, bool video)
{
    if (s == NULL)
        return;
    g_atomic_int_set(&s->mute_audio, audio ? 1 : 0);
    g_atomic_int_set(&s->mute_video, video ? 1 : 0);
    g_mutex_lock(&s->stats_mu);
    s->st.audio_muted = audio;
    s->st.video_muted = video;
    g_mutex_unlock(&s->stats_mu);
    /* the external video thread: a black picture now, or back to pushes */
    g_mutex_lock(&s->stop_mu);
    g_cond_broadcast(&s->vin_cond);
    g_mutex_unlock(&s->stop_mu);
}

void media_session_get_stats(media_session *s, media_session_stats *out)
{
    if (s == NULL || out == NULL)
        return;
    int64_t now = g_get_monotonic_time();
    g_mutex_lock(&s->stats_mu);
    *out = s->st;
    out->fps_sent = rtp_rate_events_milli(&s->rate_enc, now) / 1000.0;
    out->fps_decoded = rtp_rate_events_milli(&s->rate_dec, now) / 1000.0;
    out->video_bps_sent = rtp_rate_bps(&s->rate_vsent, now);
    out->audio_bps_sent = rtp_rate_bps(&s->rate_asent, now);
    out->video_bps_received = rtp_rate_bps(&s->rate_vrecv, now);
    out->audio_bps_received = rtp_rate_bps(&s->rate_arecv, now);
    g_mutex_unlock(&s->stats_mu);
}

void media_session_test_set_send_filter(media_session *s,
                                        bool (*filter)(const uint8_t *rtp,
                                                       size_t len, void *ud),
                                        void *ud)
{
    if (s == NULL)
        return;
    s->send_filter = filter;
    s->send_filter_ud = ud;
}
