/*
 * playout.h — media payloads and playout on top of rtp.h: VP8 (RFC 7741)
 * and Opus (RFC 7587) payloads, the jitter buffer, NACK generation and
 * the sender's retransmission cache, the loss-based rate controller,
 * receiver statistics and lip sync.
 *
 * Private header of the libvid/rtp layer (static library vid-rtp). Pure
 * code: no I/O, no threads, no clocks. Every function that depends on
 * time takes "now" in microseconds of one monotonic clock the caller
 * picks (any epoch; the same clock for every call on one object). The
 * objects that keep packets (rtp_jb, rtp_rtx_cache) allocate fixed pools
 * once in _new() and nothing afterwards; the others are plain structs the
 * owner embeds and initialises.
 *
 * Walkthrough (receiver of one VP8 stream):
 *
 *     rtp_jb_config cfg;
 *     rtp_jb_config_init(&cfg, RTP_JB_VP8);
 *     rtp_jb *jb;
 *     if (rtp_jb_new(&jb, &cfg) < 0) ...
 *     // for every RTP packet of the stream:
 *     rtp_jb_insert(jb, &pkt, now);
 *     // on a timer (every few ms) or after each insert:
 *     uint16_t seqs[64]; size_t n = rtp_jb_nack_collect(jb, now, seqs, 64);
 *     if (n) ... send rtcp_nack_build(seqs, n)
 *     if (rtp_jb_keyframe_needed(jb, now)) ... send rtcp_pli_build()
 *     rtp_jb_frame f;
 *     while (rtp_jb_pop(jb, now, &f, buf, sizeof(buf)) == 1)
 *         ... decode f.len bytes of buf (a whole VP8 frame)
 *     rtp_jb_free(jb);
 *
 * Sender of the same stream: rtp_vp8_packetizer splits each encoded frame;
 * every packet sent is also put into an rtp_rtx_cache; a NACK is answered
 * with rtp_rtx_cache_get(); RTCP receiver reports feed rtp_ratectl, whose
 * target bitrate goes to the encoder.
 *
 * Retransmission: the cache keeps whatever bytes the caller stores. The
 * media session (libvid/session) stores the plain RTP packet and answers
 * a NACK with an RFC 4588 RTX packet (own payload type and SSRC, original
 * sequence number in front of the payload): libsrtp refuses to protect one
 * index twice, so the very datagram cannot be sent again through the
 * transport. The receiver's SRTP replay window (1024) covers the NACK
 * history.
 */
#ifndef VID_RTP_PLAYOUT_H
#define VID_RTP_PLAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtp.h"

/* ------------------------------------------------------------------------
 * Sequence-number and time helpers
 */

/** Signed distance a - b between two 16-bit sequence numbers (RFC 1982). */
static inline int32_t rtp_seq_diff(uint16_t a, uint16_t b)
{
    return (int16_t) (uint16_t) (a - b);
}

/**
 * Extends a 16-bit sequence number to 64 bits next to @p ref, the
 * extended number of a nearby packet: the result is the value congruent
 * to @p seq mod 65536 closest to @p ref (ties go forward).
 */
int64_t rtp_seq_unwrap(int64_t ref, uint16_t seq);

/**
 * Extends a 32-bit RTP timestamp to 64 bits next to @p ref (closest value
 * congruent to @p ts mod 2^32).
 */
int64_t rtp_ts_unwrap(int64_t ref, uint32_t ts);

/* ------------------------------------------------------------------------
 * VP8 payload (RFC 7741)
 *
 *      0 1 2 3 4 5 6 7
 *     +-+-+-+-+-+-+-+-+
 *     |X|R|N|S|R| PID |  required
 *     +-+-+-+-+-+-+-+-+
 *  X: |I|L|T|K| RSV   |  present when X
 *  I: |M| PictureID   |  present when I; M=1: 15 bits, one more byte
 *  L: |   TL0PICIDX   |  present when L
 * T/K:|TID|Y| KEYIDX  |  present when T or K
 */
#define RTP_VP8_CLOCK_RATE 90000
#define RTP_VP8_DESC_MAX 6 /* longest descriptor */
#define RTP_VP8_PICTURE_ID_MASK 0x7FFF
#define RTP_VP8_KEYFRAME_HEADER 10    /* frame tag + start code + size */
#define RTP_VP8_MAX_FRAME (16u << 20) /* largest frame packetized */

typedef struct {
    bool non_reference;   /* N: the frame is not used as a reference */
    bool start;           /* S: first packet of a VP8 partition */
    uint8_t partition;    /* PID: 0..7 */
    bool has_picture_id;  /* I */
    bool long_picture_id; /* M: 15-bit picture id (else 7-bit) */
    uint16_t picture_id;  /* 0..0x7F or 0..0x7FFF */
    bool has_tl0picidx;   /* L */
    uint8_t tl0picidx;
    bool has_tid;    /* T */
    uint8_t tid;     /* 0..3 */
    bool layer_sync; /* Y (only meaningful with T) */
    bool has_keyidx; /* K */
    uint8_t keyidx;  /* 0..31 */
} rtp_vp8_desc;

/**
 * Parses the payload descriptor at the start of an RTP payload. Reserved
 * bits are ignored (RFC 7741 section 4.2: receivers MUST ignore them).
 * @param out receives the fields; @param payload the RTP payload and
 *        @param len its length.
 * @return the descriptor length (1..6) on success; RTP_ERR_TRUNCATED when
 *         the announced fields do not fit or no VP8 data follows them
 *         (RFC 7741 requires at least one byte of payload), RTP_ERR_ARG.
 */
int rtp_vp8_desc_parse(rtp_vp8_desc *out, const uint8_t *payload, size_t len);

/** Bytes rtp_vp8_desc_build() writes for @p d (1..6). */
size_t rtp_vp8_desc_size(const rtp_vp8_desc *d);

/**
 * Writes a payload descriptor. The X byte is written when any of I, L, T
 * or K is set; the picture id takes two bytes when long_picture_id.
 * @return bytes written; RTP_ERR_NOSPACE; RTP_ERR_ARG (partition > 7,
 *         picture id beyond its 7 or 15 bits, tid > 3, keyidx > 31).
 */
int rtp_vp8_desc_build(uint8_t *buf, size_t cap, const rtp_vp8_desc *d);

/** What the first bytes of a VP8 frame say (RFC 6386 section 9.1). */
typedef struct {
    bool keyframe;   /* P bit of the frame tag is 0 */
    uint8_t version; /* 0..7 */
    bool show_frame;
    uint32_t first_partition_size; /* 19 bits */
    uint16_t width;                /* keyframes only: 14 bits */
    uint16_t height;               /* keyframes only: 14 bits */
} rtp_vp8_frame_info;

/**
 * Reads the VP8 payload header (the first bytes of the frame, which the
 * first packet of a frame carries right after its descriptor).
 * @return RTP_OK; RTP_ERR_TRUNCATED (fewer than 3 bytes, or fewer than 10
 *         for a keyframe); RTP_ERR_INVALID (keyframe without the
 *         9d 01 2a start code); RTP_ERR_ARG.
 */
int rtp_vp8_frame_info_parse(rtp_vp8_frame_info *out, const uint8_t *frame,
                             size_t len);

/**
 * Splits one encoded frame into RTP payloads of at most max_payload bytes
 * each (descriptor included), in equal-size fragments (sizes differ by at
 * most one byte; the larger ones come first). Every payload carries the
 * template's descriptor; the first has S=1, PID=0. The caller sets the
 * RTP marker on the packet for which _next() reports @p last.
 * The packetizer borrows @p frame until the last payload is written.
 */
typedef struct {
    const uint8_t *frame;
    size_t len;
    size_t off;
    rtp_vp8_desc desc;
    size_t desc_len;
    size_t count; /* payloads in total */
    size_t index; /* payloads written */
    size_t base;  /* fragment size */
    size_t extra; /* the first `extra` fragments are one byte larger */
} rtp_vp8_packetizer;

/**
 * @param tmpl descriptor fields for every packet (picture id, TL0PICIDX,
 *        TID...; start and partition are set by the packetizer). NULL
 *        means a 15-bit picture id @p picture_id and nothing else.
 * @param keyframe the frame is a keyframe: N is forced to 0; checked
 *        against the frame tag's P bit.
 * @param max_payload bytes available per RTP payload (path MTU minus IP,
 *        UDP, RTP, extension and SRTP overhead); must exceed the
 *        descriptor.
 * @return RTP_OK; RTP_ERR_ARG (empty frame or larger than
 *         RTP_VP8_MAX_FRAME, max_payload too small, bad
 *         template, @p keyframe disagrees with the frame tag);
 *         RTP_ERR_NOSPACE (more than 65535 packets needed).
 */
int rtp_vp8_packetizer_init(rtp_vp8_packetizer *p, const uint8_t *frame,
                            size_t len, bool keyframe, uint16_t picture_id,
                            const rtp_vp8_desc *tmpl, size_t max_payload);

/** Number of payloads the frame is split into. */
size_t rtp_vp8_packetizer_count(const rtp_vp8_packetizer *p);

/**
 * Writes the next payload.
 * @param last set to true for the frame's last payload (RTP marker).
 * @return bytes written (> 0); 0 when all payloads were written;
 *         RTP_ERR_NOSPACE (@p cap below the payload size; the packetizer
 *         does not advance); RTP_ERR_ARG (NULL pointer).
 */
int rtp_vp8_packetizer_next(rtp_vp8_packetizer *p, uint8_t *buf, size_t cap,
                            bool *last);

/* ------------------------------------------------------------------------
 * Opus payload (RFC 7587): one Opus packet (RFC 6716) per RTP payload,
 * RTP clock always 48 kHz whatever the encoder's sampling rate.
 */
#define RTP_OPUS_CLOCK_RATE 48000
#define RTP_OPUS_MAX_FRAMES 48

typedef enum {
    RTP_OPUS_SILK = 0,
    RTP_OPUS_HYBRID = 1,
    RTP_OPUS_CELT = 2,
} rtp_opus_mode;

typedef struct {
    uint8_t config; /* TOC config 0..31 */
    rtp_opus_mode mode;
    bool stereo;                /* TOC s bit */
    uint8_t frame_count;        /* 1..48 */
    uint32_t samples_per_frame; /* at 48 kHz: 120..2880 */
    uint32_t samples;           /* frame_count * samples_per_frame */
    const uint8_t *frame0;      /* first frame, borrows the payload */
    size_t frame0_len;          /* may be 0 (DTX / lost frame) */
} rtp_opus_info;

/**
 * Parses the TOC and frame lengths of an Opus packet and checks the
 * RFC 6716 section 3.4 rules R1..R7 (length, frame sizes, 120 ms cap,
 * padding).
 * @return RTP_OK; RTP_ERR_TRUNCATED (empty, or lengths past the end);
 *         RTP_ERR_INVALID (breaks one of the rules); RTP_ERR_ARG.
 */
int rtp_opus_parse(rtp_opus_info *out, const uint8_t *payload, size_t len);

/**
 * Duration of an Opus payload in RTP timestamp units (48 kHz samples),
 * which is also how far the next packet's timestamp advances.
 * @return samples (> 0) or a negative rtp_status from rtp_opus_parse().
 */
int rtp_opus_samples(const uint8_t *payload, size_t len);

/**
 * Whether the packet carries in-band FEC (SILK LBRR data for the previous
 * packet), read from the LBRR flag(s) in the first bits of the first
 * frame's SILK layer (RFC 6716 section 4.2.3). Always false in CELT-only
 * mode and for an empty first frame. Use it to decide whether a lost
 * packet can be rebuilt with opus_decode(..., decode_fec=1) from the next
 * one; without FEC, let the decoder conceal (PLC).
 * @return 1 yes, 0 no, or a negative rtp_status (malformed packet).
 */
int rtp_opus_has_fec(const uint8_t *payload, size_t len);

/* ------------------------------------------------------------------------
 * NACK generator (receiver): which sequence numbers to request, how often.
 *
 * A gap in the sequence numbers puts every skipped number on the list. A
 * number is first requested after reorder_us (packets a little out of
 * order are not requested), then again every max(rtt * 5/4, min_retry_us)
 * until it arrives, max_retries requests were sent, or it falls more than
 * max_age_us / RTP_NACK_MAX_SEQS numbers behind.
 */
#define RTP_NACK_MAX_SEQS 512 /* missing numbers tracked at most */

typedef struct {
    uint16_t seq;
    uint8_t retries;
    int64_t first_us; /* when it was found missing */
    int64_t sent_us;  /* last request; INT64_MIN if never */
} rtp_nack_entry;

typedef struct {
    bool started;
    uint16_t highest;
    int64_t rtt_us;
    int64_t reorder_us;   /* default 5 ms */
    int64_t min_retry_us; /* default 20 ms */
    int64_t max_age_us;   /* default 1 s */
    uint8_t max_retries;  /* default 10 */
    size_t n;
    rtp_nack_entry list[RTP_NACK_MAX_SEQS]; /* ascending seq order */
    bool overflow; /* a gap overflowed the list since last asked */
} rtp_nack;

/** Initialises with the defaults above and an RTT guess of 100 ms. */
void rtp_nack_init(rtp_nack *n);

/** Sets the round-trip time used to space retries (from RTCP). */
void rtp_nack_set_rtt(rtp_nack *n, int64_t rtt_us);

/**
 * Records a received sequence number.
 * @return 1 if it was a missing packet (recovered), 0 otherwise.
 */
int rtp_nack_on_packet(rtp_nack *n, uint16_t seq, int64_t now_us);

/**
 * Marks @p seq, older than the highest number seen, as missing (for a
 * gap found behind the first packet of a stream, which may arrive late).
 * @return RTP_OK (also when already listed); RTP_ERR_ARG (not older
 *         than the highest, or nothing seen yet); RTP_ERR_NOSPACE (list
 *         full).
 */
int rtp_nack_add(rtp_nack *n, uint16_t seq, int64_t now_us);

/** Forgets every missing number before @p seq (e.g. after a keyframe). */
void rtp_nack_forget_before(rtp_nack *n, uint16_t seq);

/**
 * Collects the numbers due for a request now, ascending, and marks them
 * sent. Numbers past max_retries or max_age_us are dropped here.
 * @return how many were written to @p seqs (at most @p cap).
 */
size_t rtp_nack_collect(rtp_nack *n, int64_t now_us, uint16_t *seqs,
                        size_t cap);

/** True once after a gap larger than RTP_NACK_MAX_SEQS (ask for a
 * keyframe instead). */
bool rtp_nack_take_overflow(rtp_nack *n);

/* ------------------------------------------------------------------------
 * Retransmission cache (sender): the last N packets by sequence number.
 */
typedef struct rtp_rtx_cache rtp_rtx_cache;

/**
 * @param slots packets kept: a power of two, 16..32768.
 * @param max_len largest packet stored (bytes, 1..65535).
 * @param max_age_us packets older than this are not served (0: 1 s).
 * @return RTP_OK; RTP_ERR_ARG; RTP_ERR_NOSPACE (out of memory).
 */
int rtp_rtx_cache_new(rtp_rtx_cache **out, size_t slots, size_t max_len,
                      int64_t max_age_us);
void rtp_rtx_cache_free(rtp_rtx_cache *c);

/**
 * Stores a copy of a sent packet under @p seq, evicting the packet
 * @p slots numbers older.
 * @return RTP_OK; RTP_ERR_NOSPACE (longer than max_len: not stored);
 *         RTP_ERR_ARG (NULL pointer).
 */
int rtp_rtx_cache_put(rtp_rtx_cache *c, uint16_t seq, const uint8_t *data,
                      size_t len, int64_t now_us);

/**
 * Serves a NACKed sequence number. A packet is resent at most once per
 * @p min_interval_us (pass the RTT: a second NACK sooner was sent before
 * the first retransmission could arrive).
 * @param data receives a pointer into the cache, valid until the next
 *        _put() or _free(); @param len its length.
 * @return RTP_OK; RTP_ERR_NOT_FOUND (never stored, evicted or too old);
 *         RTP_ERR_INVALID (resent less than min_interval_us ago).
 */
int rtp_rtx_cache_get(rtp_rtx_cache *c, uint16_t seq, int64_t now_us,
                      int64_t min_interval_us, const uint8_t **data,
                      size_t *len);

/* ------------------------------------------------------------------------
 * Jitter buffer
 *
 * Keeps the packets of one stream in a fixed pool, puts them back in
 * order, assembles frames (VP8: S=1/PID=0 to marker over contiguous
 * sequence numbers; Opus: one packet per frame) and releases them at
 * their playout time:
 *
 *     playout = ts_us + base + target
 *
 * where ts_us is the frame's RTP timestamp in microseconds, base the
 * smallest arrival - ts_us seen over the last ~2 s (the fastest transit)
 * and target = clamp(min_delay_us, max_delay_us, jitter_factor * J)
 *              + extra_delay_us (lip sync; 0..max_delay_us),
 * J being the RFC 3550 interarrival-jitter estimate, taken over the
 * first packet of each frame that arrives in order. A complete frame
 * that arrives after its playout time is released at once (in order).
 *
 * The NACK generator waits 2 * J (5..50 ms) before asking for a missing
 * packet, so ordinary reordering is not requested.
 *
 * Video: a frame that is still incomplete loss_timeout_us after its
 * playout time is given up; frames after it that are not keyframes are
 * dropped (they reference the lost one) until a keyframe is complete;
 * meanwhile rtp_jb_keyframe_needed() asks for one (PLI) every
 * pli_interval_us. A gap that the 15-bit picture ids show held no frame
 * (picture id of the next frame = last + 1) is skipped without a
 * keyframe. Audio: a missing packet is reported as lost (conceal it, or
 * decode the next packet's FEC) as soon as its estimated playout time
 * passes and a later packet is present.
 */
typedef enum {
    RTP_JB_VP8 = 0,
    RTP_JB_OPUS = 1,
} rtp_jb_kind;

typedef struct {
    int version; /* RTP_JB_CONFIG_VERSION */
    rtp_jb_kind kind;
    uint32_t clock_rate;     /* 90000 video, 48000 audio */
    size_t slots;            /* packets kept: power of two 16..32768 */
    size_t max_payload;      /* largest payload stored */
    int64_t min_delay_us;    /* target floor */
    int64_t max_delay_us;    /* target ceiling */
    int64_t extra_delay_us;  /* added to the target (lip sync) */
    uint32_t jitter_factor;  /* k: target = clamp(k * J) + extra */
    int64_t loss_timeout_us; /* video: wait for retransmissions */
    int64_t pli_interval_us; /* video: repeat the keyframe request */
} rtp_jb_config;

#define RTP_JB_CONFIG_VERSION 1

/**
 * Defaults. Video: 90 kHz, 1024 slots of 1500 bytes, delay 5..500 ms,
 * k = 3, loss timeout 300 ms, PLI every 500 ms. Audio: 48 kHz, 128 slots
 * of 1500 bytes, delay 20..400 ms, k = 3.
 */
void rtp_jb_config_init(rtp_jb_config *cfg, rtp_jb_kind kind);

typedef struct rtp_jb rtp_jb;

/**
 * @return RTP_OK; RTP_ERR_ARG (bad config or version); RTP_ERR_NOSPACE
 *         (out of memory).
 */
int rtp_jb_new(rtp_jb **out, const rtp_jb_config *cfg);
void rtp_jb_free(rtp_jb *jb);

/* rtp_jb_insert() results (>= 0). */
#define RTP_JB_INSERTED 0
#define RTP_JB_DUPLICATE 1 /* already held or already released */
#define RTP_JB_TOO_OLD 2   /* belongs to a frame already released/dropped */
#define RTP_JB_RESET 3     /* jump confirmed: buffer restarted */
#define RTP_JB_PROBATION 4 /* jump: held until confirmed (see below) */

/**
 * Inserts one RTP packet of the stream (payload copied into the pool).
 *
 * A jump in the sequence numbers (beyond the pool ahead of the next
 * frame, or max(slots, 3000) behind the highest seen) is put on
 * probation (RFC 3550 appendix A.1): the buffer restarts on the new
 * numbering only when 3 consecutive packets on it have arrived (the
 * first two are held and returned RTP_JB_PROBATION; the third returns
 * RTP_JB_RESET and all three are in the buffer). An in-order packet of
 * the current stream, or a packet that does not continue the run, drops
 * the held ones as strays (counted in packets_stray), so a single stray
 * cannot stall the stream.
 * @return RTP_JB_* (>= 0); RTP_ERR_NOSPACE (payload larger than
 *         max_payload); RTP_ERR_INVALID (malformed VP8 descriptor, or an
 *         Opus payload that is not an Opus packet); RTP_ERR_ARG.
 */
int rtp_jb_insert(rtp_jb *jb, const rtp_packet *pkt, int64_t now_us);

typedef struct {
    uint32_t timestamp;
    uint16_t first_seq;
    uint16_t last_seq;
    size_t len;          /* bytes written to the caller's buffer */
    bool keyframe;       /* video */
    uint16_t picture_id; /* video, when has_picture_id */
    bool has_picture_id;
    bool lost;          /* audio: nothing arrived for this packet */
    bool fec_available; /* audio, lost: the next packet is held and
                           carries FEC; decode it with decode_fec=1 */
    int64_t playout_us; /* when it was due */
} rtp_jb_frame;

/**
 * Releases the next frame whose playout time has come.
 * @param buf receives the frame (VP8: the whole frame, descriptors
 *        removed; Opus: the packet; nothing for a lost audio packet),
 *        @param cap its capacity.
 * @return 1 with a frame in @p out; 0 when nothing is due;
 *         RTP_ERR_NOSPACE (@p cap too small: that frame is dropped, a
 *         video buffer then waits for a keyframe; the next call goes
 *         on); RTP_ERR_ARG (NULL pointer).
 */
int rtp_jb_pop(rtp_jb *jb, int64_t now_us, rtp_jb_frame *out, uint8_t *buf,
               size_t cap);

/**
 * Earliest time at which rtp_jb_pop() may have something, or INT64_MAX
 * if it waits for packets (to arm a timer).
 */
int64_t rtp_jb_next_wakeup(rtp_jb *jb, int64_t now_us);

/** Sequence numbers to NACK now (see rtp_nack_collect()). */
size_t rtp_jb_nack_collect(rtp_jb *jb, int64_t now_us, uint16_t *seqs,
                           size_t cap);

/**
 * True when the caller should send a PLI now: a video frame was given up
 * (or a gap overflowed the NACK list) and no keyframe has arrived since;
 * repeated every pli_interval_us while that lasts.
 */
bool rtp_jb_keyframe_needed(rtp_jb *jb, int64_t now_us);

/** Sets the RTT (NACK spacing). */
void rtp_jb_set_rtt(rtp_jb *jb, int64_t rtt_us);

/** Changes extra_delay_us (lip sync); takes effect for the next frames. */
void rtp_jb_set_extra_delay(rtp_jb *jb, int64_t extra_us);

typedef struct {
    int64_t target_delay_us; /* current target */
    int64_t jitter_us;       /* RFC 3550 estimate J */
    uint64_t frames_released;
    uint64_t frames_dropped;    /* given up, or waiting for a keyframe */
    uint64_t packets_lost;      /* audio packets reported lost */
    uint64_t packets_recovered; /* missing packets that arrived later */
    uint64_t keyframe_requests;
    uint64_t packets_stray; /* jumps dropped after probation */
    uint64_t restarts;      /* jumps confirmed: buffer restarted */
} rtp_jb_stats;

void rtp_jb_get_stats(const rtp_jb *jb, rtp_jb_stats *out);

/* ------------------------------------------------------------------------
 * Loss-based sender rate controller (GCC, draft-ietf-rmcat-gcc-02
 * section 6), fed by RTCP receiver reports:
 *   loss < 2 %:  increase by 8 % per second since the last update
 *   2..10 %:     hold
 *   loss > 10 %: rate *= 1 - 0.5 * loss, at most once per
 *                (300 ms + RTT) so one loss burst reported twice counts
 *                once.
 * The result is bounded to [min, max] and capped by the last REMB.
 */
typedef struct {
    uint32_t bitrate; /* loss-based estimate, bits/s */
    uint32_t min_bps;
    uint32_t max_bps;
    uint32_t remb_bps; /* 0: no REMB */
    int64_t rtt_us;
    int64_t last_report_us;
    int64_t last_decrease_us;
    bool started;
} rtp_ratectl;

/**
 * @param start_bps initial rate; @param min_bps and @param max_bps bounds
 *        (0 < min <= start <= max).
 * @return RTP_OK, RTP_ERR_ARG.
 */
int rtp_ratectl_init(rtp_ratectl *rc, uint32_t start_bps, uint32_t min_bps,
                     uint32_t max_bps);

/**
 * Feeds the fraction_lost (0..255, 8-bit fixed point) of a receiver
 * report block about our stream.
 * @return the new target (bits/s).
 */
uint32_t rtp_ratectl_on_report(rtp_ratectl *rc, uint8_t fraction_lost,
                               int64_t now_us);

/** A REMB from the receiver (bits/s; 0 clears the cap). */
void rtp_ratectl_on_remb(rtp_ratectl *rc, uint64_t bps);
void rtp_ratectl_set_rtt(rtp_ratectl *rc, int64_t rtt_us);
/** Current target: min(loss-based, REMB), within [min, max]. */
uint32_t rtp_ratectl_target(const rtp_ratectl *rc);

/* ------------------------------------------------------------------------
 * Receiver statistics (RFC 3550 appendix A.3 and A.8) and RTT.
 */
typedef struct {
    uint32_t clock_rate;
    bool started;
    uint16_t max_seq;
    uint32_t cycles; /* shifted count of wraps (<< 16) */
    uint32_t base_seq;
    uint32_t bad_seq;
    uint32_t probation;
    uint64_t received;
    uint64_t expected_prior;
    uint64_t received_prior;
    /* jitter in timestamp units, scaled by 16 (RFC 3550 A.8) */
    uint32_t jitter_q4;
    bool have_transit;
    int64_t transit;
    /* last SR from this source */
    bool have_sr;
    uint32_t sr_lsr; /* middle 32 bits of its NTP time */
    int64_t sr_arrival_us;
} rtp_rx_stats;

void rtp_rx_stats_init(rtp_rx_stats *s, uint32_t clock_rate);

/**
 * Counts a received packet (retransmissions included). Sequence tracking
 * per RFC 3550 A.1 without the probation period: the first packet starts
 * the count; a jump of 3000 or more is believed when the next packet
 * follows it. Jitter samples come from packets in sequence order only.
 */
void rtp_rx_stats_on_packet(rtp_rx_stats *s, uint16_t seq, uint32_t ts,
                            int64_t arrival_us);

/** Records an SR from the source (for LSR/DLSR). */
void rtp_rx_stats_on_sr(rtp_rx_stats *s, uint64_t ntp, int64_t arrival_us);

/**
 * Fills a report block (ssrc left to the caller) and starts a new
 * interval for fraction_lost.
 */
void rtp_rx_stats_report(rtp_rx_stats *s, int64_t now_us,
                         rtcp_report_block *out);

/** Current jitter in microseconds. */
int64_t rtp_rx_stats_jitter_us(const rtp_rx_stats *s);
/** Packets lost so far (expected - received; may be negative). */
int64_t rtp_rx_stats_lost(const rtp_rx_stats *s);

/** NTP 32.32 from microseconds since the Unix epoch. */
uint64_t rtp_ntp_from_unix_us(int64_t unix_us);
/** The middle 32 bits of an NTP time (RTCP LSR format, 16.16). */
static inline uint32_t rtp_ntp_compact(uint64_t ntp)
{
    return (uint32_t) (ntp >> 16);
}

/**
 * Round-trip time from a report block about our stream (RFC 3550
 * section 6.4.1): A - LSR - DLSR.
 * @param now_compact the compact NTP time the report arrived.
 * @return RTP_OK with @p rtt_us; RTP_ERR_NOT_FOUND (LSR 0: no SR yet);
 *         RTP_ERR_INVALID (negative result: clocks or report are off).
 */
int rtp_rtt_from_report(uint32_t now_compact, const rtcp_report_block *rb,
                        int64_t *rtt_us);

/** Events and bytes per second over a sliding window of whole buckets. */
#define RTP_RATE_BUCKETS 10
typedef struct {
    int64_t bucket_us; /* window = RTP_RATE_BUCKETS * bucket_us */
    int64_t start_us;  /* start of the newest bucket */
    bool started;
    uint32_t events[RTP_RATE_BUCKETS];
    uint64_t bytes[RTP_RATE_BUCKETS];
    size_t head;
    size_t filled; /* whole buckets behind the newest, 0..9 */
} rtp_rate;

/** @param window_us averaging window (e.g. 1 s); 10 buckets. */
void rtp_rate_init(rtp_rate *r, int64_t window_us);
/** Counts one event (a frame, a packet) of @p bytes. */
void rtp_rate_add(rtp_rate *r, int64_t now_us, size_t bytes);
/** Events per second over the window ending at @p now_us (x1000). */
uint64_t rtp_rate_events_milli(rtp_rate *r, int64_t now_us);
/** Bits per second over the window ending at @p now_us. */
uint64_t rtp_rate_bps(rtp_rate *r, int64_t now_us);

/* ------------------------------------------------------------------------
 * Lip sync: maps a stream's RTP timestamps to the sender's NTP clock from
 * its last sender report (RFC 3550 section 6.4.1).
 */
typedef struct {
    uint32_t clock_rate;
    bool valid;
    uint64_t ntp;    /* last SR */
    uint32_t rtp_ts; /* last SR */
} rtp_sync;

void rtp_sync_init(rtp_sync *s, uint32_t clock_rate);
void rtp_sync_on_sr(rtp_sync *s, uint64_t ntp, uint32_t rtp_ts);

/**
 * The sender-clock capture time of @p ts, in microseconds on the NTP
 * time line (seconds since 1900), extrapolated from the last SR.
 * @return RTP_OK; RTP_ERR_NOT_FOUND (no SR yet); RTP_ERR_ARG.
 */
int rtp_sync_capture_us(const rtp_sync *s, uint32_t ts, int64_t *out_us);

/**
 * How much later video plays relative to its capture than audio does:
 * (video_playout - video_capture) - (audio_playout - audio_capture).
 * Positive: audio should play that much later (add it to the audio
 * buffer's extra delay, rtp_jb_set_extra_delay(), or take it off the
 * video buffer's); negative: the same the other way round.
 * @return RTP_OK; RTP_ERR_NOT_FOUND (either stream has had no SR).
 */
int rtp_sync_relative_delay(const rtp_sync *audio, uint32_t audio_ts,
                            int64_t audio_playout_us, const rtp_sync *video,
                            uint32_t video_ts, int64_t video_playout_us,
                            int64_t *out_us);

#endif /* VID_RTP_PLAYOUT_H */
