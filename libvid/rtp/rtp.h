/*
 * rtp.h — RTP and RTCP packets, header extensions and the bundle demux.
 *
 * Private header of the libvid/rtp layer (static library vid-rtp). Pure
 * code: no I/O, no globals, no allocation. Parsers fill caller-owned "view"
 * structs whose pointers borrow the input buffer, so a view lives exactly
 * as long as the bytes it was parsed from. Builders write into a caller
 * buffer of stated capacity and return the number of bytes written or a
 * negative rtp_status. Every length read from the wire is checked against
 * the bytes actually present before it is used.
 *
 * Walkthrough:
 *
 *     rtp_packet pkt;
 *     if (rtp_parse(&pkt, buf, len) < 0)
 *         return;                        // drop: not a valid RTP packet
 *     char mid[RTP_MID_MAX + 1];
 *     if (rtp_ext_find_mid(&pkt, mid_id, mid, sizeof(mid)) == RTP_OK)
 *         ...;                           // pkt carries a=extmap mid
 *
 *     rtcp_iter it;
 *     rtcp_header h;
 *     if (rtcp_iter_init(&it, buf, len, 0) < 0)
 *         return;                        // drop the whole compound
 *     while (rtcp_iter_next(&it, &h) == 1) {
 *         if (h.pt == RTCP_PT_RTPFB && h.count == RTCP_FMT_NACK) ...
 *     }
 *
 * Standards: RFC 3550 (RTP, RTCP), RFC 8285 (header extensions), RFC 4585
 * (feedback: NACK, PLI), RFC 5104 (FIR), RFC 5506 (reduced-size RTCP),
 * RFC 5761 + RFC 7983 (demultiplexing), RFC 8843 (BUNDLE),
 * draft-alvestrand-rmcat-remb-03 (REMB),
 * draft-holmer-rmcat-transport-wide-cc-extensions-01 (transport-cc).
 */
#ifndef VID_RTP_H
#define VID_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------
 * Status codes. 0 is success; every failure is negative and has a name.
 */
typedef enum {
    RTP_OK = 0,
    RTP_ERR_TRUNCATED = -1, /* fewer bytes than the headers announce */
    RTP_ERR_VERSION = -2,   /* version field is not 2 */
    RTP_ERR_INVALID = -3,   /* a field holds a value the format forbids */
    RTP_ERR_NOSPACE = -4,   /* output buffer or array too small */
    RTP_ERR_NOT_FOUND = -5, /* no such extension / stream / SSRC */
    RTP_ERR_ARG = -6,       /* caller passed an invalid argument */
} rtp_status;

/**
 * Names a status code.
 * @param code an rtp_status value (any int is accepted).
 * @return a static string, never NULL.
 */
const char *rtp_strerror(int code);

/* ------------------------------------------------------------------------
 * RTP (RFC 3550 section 5.1)
 */
#define RTP_VERSION 2
#define RTP_HEADER_SIZE 12
#define RTP_MAX_CSRC 15

/* Header-extension profiles ("defined by profile" field). */
#define RTP_EXT_PROFILE_ONE_BYTE 0xBEDE
#define RTP_EXT_PROFILE_TWO_BYTE 0x1000 /* low 4 bits: appbits */
#define RTP_EXT_PROFILE_TWO_BYTE_MASK 0xFFF0

/**
 * A parsed RTP packet. After rtp_parse() every pointer borrows the parsed
 * buffer. For rtp_build() the caller fills the fields that the builder
 * lists; version is always written as 2.
 */
typedef struct {
    uint8_t version;      /* always 2 after a successful parse */
    bool padding;         /* P bit */
    bool extension;       /* X bit */
    uint8_t csrc_count;   /* 0..15 */
    bool marker;          /* M bit */
    uint8_t payload_type; /* 0..127 */
    uint16_t seq;
    uint32_t timestamp;
    uint32_t ssrc;
    uint32_t csrc[RTP_MAX_CSRC];
    /* Header extension (valid when extension is true). ext_len is the body
     * length in bytes (a multiple of 4, the 4-byte extension header not
     * included). */
    uint16_t ext_profile;
    const uint8_t *ext_data;
    size_t ext_len;
    /* Payload, padding removed. payload is never NULL after a parse. */
    const uint8_t *payload;
    size_t payload_len;
    /* Padding bytes including the final count byte: 0 when padding is
     * false, else 1..255. */
    uint8_t pad_len;
} rtp_packet;

/**
 * Parses and checks an RTP packet: version 2, CSRC list, extension header
 * and padding must all fit in @p len; the padding count must be non-zero
 * and not larger than what follows the headers.
 * @param out receives the view; its pointers borrow @p buf.
 * @param buf the datagram; @param len its length in bytes.
 * @return RTP_OK, RTP_ERR_TRUNCATED, RTP_ERR_VERSION, RTP_ERR_INVALID
 *         (padding count 0 or too large), RTP_ERR_ARG (NULL pointer).
 */
int rtp_parse(rtp_packet *out, const uint8_t *buf, size_t len);

/**
 * Writes an RTP packet. Uses: padding + pad_len (1..255, the padding bytes
 * are zero followed by the count), extension + ext_profile/ext_data/ext_len
 * (ext_len a multiple of 4 and at most 4 * 65535), csrc_count (0..15) and
 * csrc, marker, payload_type (0..127), seq, timestamp, ssrc, payload and
 * payload_len (payload may be NULL when payload_len is 0).
 * @return bytes written (> 0), RTP_ERR_NOSPACE, RTP_ERR_ARG.
 */
int rtp_build(uint8_t *buf, size_t cap, const rtp_packet *pkt);

/* ------------------------------------------------------------------------
 * Header extensions (RFC 8285)
 *
 * One-byte form (profile 0xBEDE): ids 1..14, 1..16 data bytes.
 * Two-byte form (profile 0x100X): ids 1..255, 0..255 data bytes.
 */
#define RTP_EXT_ONE_BYTE_MAX_ID 14
#define RTP_EXT_ONE_BYTE_MAX_LEN 16
#define RTP_EXT_TWO_BYTE_MAX_LEN 255

typedef struct {
    const uint8_t *data;
    size_t len;
    size_t off;
    bool two_byte;
    bool done;
} rtp_ext_iter;

/**
 * Starts iterating the header extension elements of @p pkt.
 * @return RTP_OK; RTP_ERR_NOT_FOUND when the packet has no extension or
 *         one in a profile other than RFC 8285's two forms.
 */
int rtp_ext_iter_init(rtp_ext_iter *it, const rtp_packet *pkt);

/**
 * Next element. Padding bytes are skipped; in the one-byte form id 15
 * ends the walk (RFC 8285 section 4.2).
 * @param id receives the element id; @param data and @param len its body
 *        (borrowing the packet buffer; len may be 0 in the two-byte form).
 * @return 1 with an element, 0 at the end, RTP_ERR_TRUNCATED when an
 *         element runs past the extension block, RTP_ERR_INVALID for a
 *         one-byte element with id 0 and a non-zero length (the walk stops
 *         after either error).
 */
int rtp_ext_next(rtp_ext_iter *it, uint8_t *id, const uint8_t **data,
                 size_t *len);

/**
 * Finds the first element with @p id (1..255).
 * @return RTP_OK, RTP_ERR_NOT_FOUND, RTP_ERR_TRUNCATED or RTP_ERR_INVALID
 *         (malformed block before the element was found), RTP_ERR_ARG
 *         (id 0).
 */
int rtp_ext_find(const rtp_packet *pkt, uint8_t id, const uint8_t **data,
                 size_t *len);

/** Writes header extension elements into a caller buffer. */
typedef struct {
    uint8_t *buf;
    size_t cap;
    size_t len;
    bool two_byte;
} rtp_ext_writer;

/**
 * @param buf receives the extension body; @param cap its size.
 * @param two_byte selects the RFC 8285 two-byte form.
 */
void rtp_ext_writer_init(rtp_ext_writer *w, uint8_t *buf, size_t cap,
                         bool two_byte);

/**
 * Appends an element.
 * @param id one-byte form 1..14, two-byte form 1..255.
 * @param len one-byte form 1..16, two-byte form 0..255.
 * @return RTP_OK, RTP_ERR_NOSPACE, RTP_ERR_ARG (id or len out of range).
 */
int rtp_ext_writer_add(rtp_ext_writer *w, uint8_t id, const uint8_t *data,
                       size_t len);

/**
 * Pads the body with zero bytes to a multiple of 4 and fills @p pkt's
 * extension, ext_profile, ext_data (pointing at the writer's buffer) and
 * ext_len.
 * @return RTP_OK, RTP_ERR_NOSPACE (no room for padding), RTP_ERR_ARG.
 */
int rtp_ext_writer_finish(rtp_ext_writer *w, rtp_packet *pkt);

/* mid (RFC 8843 section 15.2): an RFC 4566 token, 1..16 bytes here. */
#define RTP_MID_MAX 16

/**
 * Reads the mid element with extension id @p id as a NUL-terminated
 * string.
 * @param out receives the string; @param cap at least len + 1.
 * @return RTP_OK, RTP_ERR_NOT_FOUND, RTP_ERR_INVALID (empty, longer than
 *         RTP_MID_MAX or not a token), RTP_ERR_NOSPACE, RTP_ERR_TRUNCATED.
 */
int rtp_ext_find_mid(const rtp_packet *pkt, uint8_t id, char *out, size_t cap);

/** True when @p mid[0..len) is a valid mid value (token, 1..16 bytes). */
bool rtp_mid_valid(const char *mid, size_t len);

/* abs-send-time: 24-bit 6.18 fixed-point seconds, 3 bytes. */
#define RTP_ABS_SEND_TIME_LEN 3

/** Converts a 64-bit NTP timestamp to abs-send-time (bits 14..37). */
uint32_t rtp_abs_send_time_from_ntp(uint64_t ntp);
/** Converts microseconds (any epoch) to abs-send-time, modulo 64 s. */
uint32_t rtp_abs_send_time_from_us(uint64_t us);
/** abs-send-time (24 bits) to microseconds within its 64 s window. */
uint64_t rtp_abs_send_time_to_us(uint32_t abs24);
/** Writes @p abs24 (low 24 bits used) into 3 bytes, network order. */
void rtp_abs_send_time_write(uint8_t out[RTP_ABS_SEND_TIME_LEN],
                             uint32_t abs24);
/**
 * Finds abs-send-time with extension id @p id.
 * @return RTP_OK, RTP_ERR_NOT_FOUND, RTP_ERR_INVALID (length not 3),
 *         RTP_ERR_TRUNCATED.
 */
int rtp_ext_find_abs_send_time(const rtp_packet *pkt, uint8_t id,
                               uint32_t *abs24);

/* transport-wide sequence number: 16 bits, 2 bytes. */
#define RTP_TWCC_SEQ_LEN 2

void rtp_twcc_seq_write(uint8_t out[RTP_TWCC_SEQ_LEN], uint16_t seq);
/**
 * Finds the transport-wide sequence number with extension id @p id.
 * @return RTP_OK, RTP_ERR_NOT_FOUND, RTP_ERR_INVALID (length not 2),
 *         RTP_ERR_TRUNCATED.
 */
int rtp_ext_find_twcc_seq(const rtp_packet *pkt, uint8_t id, uint16_t *seq);

/* ------------------------------------------------------------------------
 * RTCP compound packets (RFC 3550 section 6, RFC 5506)
 */
#define RTCP_HEADER_SIZE 4

#define RTCP_PT_SR 200
#define RTCP_PT_RR 201
#define RTCP_PT_SDES 202
#define RTCP_PT_BYE 203
#define RTCP_PT_APP 204
#define RTCP_PT_RTPFB 205 /* RFC 4585 transport-layer feedback */
#define RTCP_PT_PSFB 206  /* RFC 4585 payload-specific feedback */
#define RTCP_PT_XR 207

/* Feedback message types (FMT, carried in the count field). */
#define RTCP_FMT_NACK 1  /* RTPFB generic NACK */
#define RTCP_FMT_TWCC 15 /* RTPFB transport-wide congestion control */
#define RTCP_FMT_PLI 1   /* PSFB picture loss indication */
#define RTCP_FMT_FIR 4   /* PSFB full intra request */
#define RTCP_FMT_AFB 15  /* PSFB application layer feedback (REMB) */

/* rtcp_iter_init() flags. */
#define RTCP_FLAG_REDUCED_SIZE 0x1 /* RFC 5506: first packet may be any */

/** One packet of a compound; pointers borrow the compound buffer. */
typedef struct {
    uint8_t pt;          /* packet type, 192..223 */
    uint8_t count;       /* RC / SC / FMT field, 0..31 */
    bool padding;        /* P bit (only the last packet may set it) */
    const uint8_t *data; /* whole packet, header included */
    size_t len;          /* (length field + 1) * 4 */
    const uint8_t *body; /* after the 4-byte header, padding removed */
    size_t body_len;
} rtcp_header;

typedef struct {
    const uint8_t *buf;
    size_t len;
    size_t off;
} rtcp_iter;

/**
 * Checks a whole compound packet before any of it is used (RFC 3550
 * appendix A.2): every header has version 2, every length field fits and
 * the lengths add up to @p len exactly, only the last packet may be
 * padded (count 1..body length), and the first packet is SR or RR unless
 * @p flags has RTCP_FLAG_REDUCED_SIZE. Packet types must be 192..223.
 * @return RTP_OK, RTP_ERR_TRUNCATED, RTP_ERR_VERSION, RTP_ERR_INVALID,
 *         RTP_ERR_ARG.
 */
int rtcp_iter_init(rtcp_iter *it, const uint8_t *buf, size_t len,
                   unsigned flags);

/**
 * Next packet of a compound accepted by rtcp_iter_init().
 * @return 1 with a packet in @p out, 0 at the end.
 */
int rtcp_iter_next(rtcp_iter *it, rtcp_header *out);

/**
 * Writes a 4-byte common header for a packet of @p len bytes (a multiple
 * of 4, at least 4) into @p buf. Used by the builders; exposed for APP.
 * @return RTP_OK, RTP_ERR_ARG.
 */
int rtcp_write_header(uint8_t *buf, uint8_t pt, uint8_t count, size_t len);

/* --- SR / RR ---------------------------------------------------------- */
#define RTCP_MAX_REPORTS 31
#define RTCP_REPORT_BLOCK_SIZE 24

typedef struct {
    uint32_t ssrc;
    uint8_t fraction_lost;
    int32_t cumulative_lost; /* 24-bit signed: -8388608..8388607 */
    uint32_t ext_highest_seq;
    uint32_t jitter;
    uint32_t lsr;  /* middle 32 bits of the last SR's NTP time */
    uint32_t dlsr; /* delay since last SR, 1/65536 s */
} rtcp_report_block;

/** Sender report; report_count blocks are valid. */
typedef struct {
    uint32_t ssrc;
    uint64_t ntp; /* 32.32 fixed point */
    uint32_t rtp_ts;
    uint32_t packet_count;
    uint32_t octet_count;
    uint8_t report_count;
    rtcp_report_block reports[RTCP_MAX_REPORTS];
} rtcp_sr;

/** Receiver report; report_count blocks are valid. */
typedef struct {
    uint32_t ssrc;
    uint8_t report_count;
    rtcp_report_block reports[RTCP_MAX_REPORTS];
} rtcp_rr;

/**
 * @return RTP_OK, RTP_ERR_TRUNCATED (body shorter than its report count
 *         needs), RTP_ERR_INVALID (not an SR). Bytes after the report
 *         blocks (profile-specific extensions) are ignored.
 */
int rtcp_sr_parse(rtcp_sr *out, const rtcp_header *h);
int rtcp_rr_parse(rtcp_rr *out, const rtcp_header *h);
/** @return bytes written, RTP_ERR_NOSPACE, RTP_ERR_ARG (count > 31). */
int rtcp_sr_build(uint8_t *buf, size_t cap, const rtcp_sr *sr);
int rtcp_rr_build(uint8_t *buf, size_t cap, const rtcp_rr *rr);

/* --- SDES -------------------------------------------------------------- */
#define RTCP_SDES_END 0
#define RTCP_SDES_CNAME 1
#define RTCP_SDES_MAX_CHUNKS 31
#define RTCP_SDES_MAX_ITEMS 8 /* per chunk: one of each type 1..8 */

typedef struct {
    uint8_t type; /* 1..255 */
    uint8_t len;
    const uint8_t *data; /* borrows the packet; not NUL-terminated */
} rtcp_sdes_item;

typedef struct {
    uint32_t ssrc;
    uint8_t item_count;
    rtcp_sdes_item items[RTCP_SDES_MAX_ITEMS];
} rtcp_sdes_chunk;

typedef struct {
    uint8_t chunk_count;
    rtcp_sdes_chunk chunks[RTCP_SDES_MAX_CHUNKS];
} rtcp_sdes;

/**
 * Parses SDES chunks: each is an SSRC, items, a null item and zero
 * padding to a 32-bit boundary.
 * @return RTP_OK, RTP_ERR_TRUNCATED, RTP_ERR_INVALID (not SDES, missing
 *         terminator, fewer chunks than the count field says),
 *         RTP_ERR_NOSPACE (a chunk with more than RTCP_SDES_MAX_ITEMS).
 */
int rtcp_sdes_parse(rtcp_sdes *out, const rtcp_header *h);
/** @return bytes written, RTP_ERR_NOSPACE, RTP_ERR_ARG. */
int rtcp_sdes_build(uint8_t *buf, size_t cap, const rtcp_sdes *sdes);
/**
 * Finds the CNAME of @p ssrc in a parsed SDES.
 * @return RTP_OK, RTP_ERR_NOT_FOUND.
 */
int rtcp_sdes_find_cname(const rtcp_sdes *sdes, uint32_t ssrc,
                         const uint8_t **cname, size_t *len);

/* --- BYE --------------------------------------------------------------- */
typedef struct {
    uint8_t ssrc_count;
    uint32_t ssrcs[31];
    bool has_reason;
    uint8_t reason_len;
    const uint8_t *reason; /* borrows the packet; not NUL-terminated */
} rtcp_bye;

/** @return RTP_OK, RTP_ERR_TRUNCATED, RTP_ERR_INVALID. */
int rtcp_bye_parse(rtcp_bye *out, const rtcp_header *h);
/** @return bytes written, RTP_ERR_NOSPACE, RTP_ERR_ARG. */
int rtcp_bye_build(uint8_t *buf, size_t cap, const rtcp_bye *bye);

/* --- Feedback (RFC 4585 section 6.1) ------------------------------------ */
typedef struct {
    uint8_t pt;  /* RTCP_PT_RTPFB or RTCP_PT_PSFB */
    uint8_t fmt; /* feedback message type */
    uint32_t sender_ssrc;
    uint32_t media_ssrc;
    const uint8_t *fci; /* feedback control information */
    size_t fci_len;
} rtcp_fb;

/** @return RTP_OK, RTP_ERR_TRUNCATED, RTP_ERR_INVALID (not RTPFB/PSFB). */
int rtcp_fb_parse(rtcp_fb *out, const rtcp_header *h);

/**
 * Generic NACK: expands every PID/BLP pair into sequence numbers, in
 * packet order (PID first, then BLP bits from least significant).
 * @param seqs receives up to @p cap numbers; @param n their count.
 * @return RTP_OK, RTP_ERR_INVALID (not a NACK or FCI not a multiple of
 *         4), RTP_ERR_NOSPACE.
 */
int rtcp_nack_parse(const rtcp_fb *fb, uint16_t *seqs, size_t cap, size_t *n);
/**
 * Builds a generic NACK for @p n sequence numbers. Each number within 16
 * after the current PID is folded into its BLP, so an ascending list
 * gives the fewest entries; any order is encoded faithfully.
 * @return bytes written, RTP_ERR_NOSPACE, RTP_ERR_ARG (n 0 or too many).
 */
int rtcp_nack_build(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
                    uint32_t media_ssrc, const uint16_t *seqs, size_t n);

/** PLI has no FCI. @return bytes written (12), RTP_ERR_NOSPACE. */
int rtcp_pli_build(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
                   uint32_t media_ssrc);

typedef struct {
    uint32_t ssrc;
    uint8_t seq_nr;
} rtcp_fir_entry;

/**
 * @return RTP_OK, RTP_ERR_INVALID (not a FIR, FCI not a multiple of 8 or
 *         empty), RTP_ERR_NOSPACE.
 */
int rtcp_fir_parse(const rtcp_fb *fb, rtcp_fir_entry *entries, size_t cap,
                   size_t *n);
/** Media SSRC is written as 0 (RFC 5104 section 4.3.1.1).
 * @return bytes written, RTP_ERR_NOSPACE, RTP_ERR_ARG. */
int rtcp_fir_build(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
                   const rtcp_fir_entry *entries, size_t n);

/* REMB: PSFB/AFB with identifier "REMB". */
#define RTCP_REMB_MAX_SSRCS 255

typedef struct {
    uint64_t bitrate; /* bits per second: mantissa << exponent */
    uint8_t ssrc_count;
    uint32_t ssrcs[RTCP_REMB_MAX_SSRCS];
} rtcp_remb;

/**
 * @return RTP_OK, RTP_ERR_NOT_FOUND (an AFB that is not REMB),
 *         RTP_ERR_TRUNCATED, RTP_ERR_INVALID (not AFB; bitrate beyond 64
 *         bits).
 */
int rtcp_remb_parse(rtcp_remb *out, const rtcp_fb *fb);
/** Encodes the bitrate with the smallest exponent (rounding down).
 * @return bytes written, RTP_ERR_NOSPACE. */
int rtcp_remb_build(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
                    const rtcp_remb *remb);

/* transport-cc feedback. Deltas are in units of 250 us. */
#define RTCP_TWCC_NOT_RECEIVED 0
#define RTCP_TWCC_SMALL_DELTA 1 /* received, delta 0..255 in one byte */
#define RTCP_TWCC_LARGE_DELTA 2 /* received, delta -32768..32767, 2 bytes */

typedef struct {
    uint16_t base_seq;
    uint16_t status_count;
    int32_t reference_time; /* 24-bit signed, multiples of 64 ms */
    uint8_t fb_count;
} rtcp_twcc;

typedef struct {
    uint16_t seq;
    uint8_t status; /* RTCP_TWCC_* */
    int32_t delta;  /* 250 us units; 0 when not received */
} rtcp_twcc_packet;

/**
 * Parses transport-cc feedback into @p pkts (status_count entries, in
 * sequence order from base_seq). Status-vector chunks may describe more
 * packets than remain (the extras are ignored, as libwebrtc does).
 * @return RTP_OK, RTP_ERR_TRUNCATED (chunks or deltas missing),
 *         RTP_ERR_INVALID (not transport-cc, status count 0, reserved
 *         symbol), RTP_ERR_NOSPACE (cap < status_count).
 */
int rtcp_twcc_parse(const rtcp_fb *fb, rtcp_twcc *out, rtcp_twcc_packet *pkts,
                    size_t cap);
/**
 * Builds transport-cc feedback for @p n packets (n = status_count; the
 * seq of pkts[i] is taken to be base_seq + i). A packet counts as
 * received when status is not RTCP_TWCC_NOT_RECEIVED; the builder picks
 * the small or large encoding from the delta and the chunk types itself.
 * @return bytes written, RTP_ERR_NOSPACE, RTP_ERR_ARG (n 0 or > 65535,
 *         delta outside -32768..32767, reference time outside 24 bits).
 */
int rtcp_twcc_build(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
                    uint32_t media_ssrc, const rtcp_twcc *hdr,
                    const rtcp_twcc_packet *pkts, size_t n);

/* ------------------------------------------------------------------------
 * Demultiplexing (RFC 7983, RFC 5761, RFC 8843)
 */
typedef enum {
    RTP_DGRAM_UNKNOWN = 0,  /* drop */
    RTP_DGRAM_STUN,         /* first byte 0..3 */
    RTP_DGRAM_ZRTP,         /* 16..19 */
    RTP_DGRAM_DTLS,         /* 20..63 */
    RTP_DGRAM_TURN_CHANNEL, /* 64..79 */
    RTP_DGRAM_RTP,          /* 128..191, second byte not 192..223 */
    RTP_DGRAM_RTCP,         /* 128..191, second byte 192..223 */
} rtp_dgram_kind;

/**
 * Classifies a datagram by its first byte (RFC 7983 section 7) and, for
 * RTP/RTCP, its second (RFC 5761 section 4). Datagrams shorter than the
 * smallest valid header of their kind are RTP_DGRAM_UNKNOWN.
 */
rtp_dgram_kind rtp_demux_classify(const uint8_t *buf, size_t len);

#define RTP_DEMUX_MAX_STREAMS 16
#define RTP_DEMUX_MAX_SSRCS 64

/**
 * Maps SSRCs of a BUNDLE group to the caller's stream ids. Embed it in the
 * owning object and call rtp_demux_init(); it allocates nothing.
 */
typedef struct {
    uint8_t mid_ext_id; /* 0: the peer does not send mid */
    size_t n_streams;
    struct {
        int id;
        char mid[RTP_MID_MAX + 1];
        uint64_t pt_mask[2]; /* payload types 0..127 */
    } streams[RTP_DEMUX_MAX_STREAMS];
    size_t n_ssrcs;
    struct {
        uint32_t ssrc;
        size_t stream; /* index into streams */
    } ssrcs[RTP_DEMUX_MAX_SSRCS];
} rtp_demux;

/** @param mid_ext_id the negotiated mid extmap id, 0 if none. */
void rtp_demux_init(rtp_demux *d, uint8_t mid_ext_id);

/**
 * Adds a stream (an m-line of the bundle).
 * @param id the caller's stream id; @param mid its mid (may be NULL);
 * @param pts its payload types (0..127), @param n_pts their count.
 * @return RTP_OK, RTP_ERR_NOSPACE, RTP_ERR_ARG (duplicate id or mid,
 *         invalid mid or payload type).
 */
int rtp_demux_add_stream(rtp_demux *d, int id, const char *mid,
                         const uint8_t *pts, size_t n_pts);

/**
 * Binds @p ssrc to stream @p id (from a=ssrc or after routing); rebinds
 * an SSRC already known.
 * @return RTP_OK, RTP_ERR_NOT_FOUND (no such stream), RTP_ERR_NOSPACE.
 */
int rtp_demux_bind_ssrc(rtp_demux *d, uint32_t ssrc, int id);

/**
 * Looks up the stream of an SSRC (e.g. the media SSRC of RTCP feedback).
 * @return RTP_OK, RTP_ERR_NOT_FOUND.
 */
int rtp_demux_lookup_ssrc(const rtp_demux *d, uint32_t ssrc, int *id);

/**
 * Routes an RTP packet (RFC 8843 section 9.2, simplified): a mid element
 * names the stream and (re)binds the SSRC; otherwise a known SSRC decides;
 * otherwise a payload type that belongs to exactly one stream decides and
 * binds the SSRC. A malformed extension block counts as "no mid". When
 * the SSRC table is full, routing still works but nothing new is learned.
 * @return RTP_OK with @p id set; RTP_ERR_NOT_FOUND (unknown mid, or no
 *         rule matched: drop the packet); RTP_ERR_INVALID (a mid element
 *         that is not a 1..16 byte token: drop the packet).
 */
int rtp_demux_route(rtp_demux *d, const rtp_packet *pkt, int *id);

#endif /* VID_RTP_H */
