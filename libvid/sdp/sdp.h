/*
 * sdp.h — WebRTC SDP offer/answer for one BUNDLEd, rtcp-muxed transport.
 *
 * Private to libvid (names sdp_*). Pure module: no I/O, no globals that
 * change; text is built and read with GstSDP (gstreamer-sdp-1.0), then every
 * field we rely on is checked here, because GstSDP itself accepts nearly
 * anything. Callers: the call layer (offer/answer) and the transport layer
 * (candidate strings). This module calls nothing above util.
 *
 * What we speak: one audio m-line (opus/48000/2, fmtp minptime=10;
 * useinbandfec=1) and one video m-line (VP8/90000), profile
 * UDP/TLS/RTP/SAVPF, rtcp-mux required, rtcp-rsize, rtcp-fb nack, nack pli,
 * ccm fir, goog-remb, transport-cc, header extensions mid, abs-send-time and
 * transport-wide-cc, one SSRC per m-line with cname and msid (video: plus
 * an RFC 4588 rtx pt and FID SSRC when sdp_local.video_rtx), ICE
 * ufrag/pwd, a sha-256 DTLS fingerprint and a=setup. Other m-lines of a
 * remote offer (data channels, a second video, ...) are answered with port 0.
 *
 * Walkthrough (error handling shortened):
 *
 *     sdp_local me = SDP_LOCAL_INIT;           // ufrag, pwd, fingerprint,
 *     ...                                      // ssrcs, cname, msid
 *     sdp_description *offer = NULL;
 *     sdp_error err;
 *     sdp_offer_new(&offer, &me, &err);        // random o= session id
 *     char *text = NULL;
 *     sdp_format(offer, &text, &err);          // -> call.invite
 *     ...
 *     sdp_description *answer = NULL;          // <- call.accept
 *     if (sdp_parse_answer(&answer, reply, strlen(reply), offer, &err))
 *         g_warning("%s: %s", sdp_status_name(err.code), err.message);
 *
 * The callee does sdp_parse_offer(), sdp_answer_new() and sdp_format().
 *
 * Hostile input: sdp_parse_offer()/sdp_parse_answer() reject text over
 * SDP_MAX_BYTES, lines over SDP_MAX_LINE, more than SDP_MAX_MEDIA m-lines,
 * more than SDP_MAX_CANDIDATES candidates or SDP_MAX_FORMATS payload types
 * per m-line, control bytes, and every missing or malformed piece of the
 * WebRTC transport (see sdp_status), each with its own code and a message
 * that names the m-line and the offending value.
 */
#ifndef VID_SDP_H
#define VID_SDP_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits on input (bytes / counts). */
#define SDP_MAX_BYTES 60000 /* == PROTO_MAX_SDP */
#define SDP_MAX_LINE 4096
#define SDP_MAX_MEDIA 16
#define SDP_MAX_CANDIDATES 64  /* per m-line */
#define SDP_MAX_FORMATS 64     /* payload types / rtpmaps per m-line */
#define SDP_MAX_ATTRIBUTES 512 /* a= lines per m-line or session */
#define SDP_MAX_FINGERPRINTS 8
#define SDP_MAX_MID 32    /* == protocol's mid limit */
#define SDP_MAX_UFRAG 256 /* RFC 8839: 4..256 ice-char */
#define SDP_MIN_UFRAG 4
#define SDP_MAX_PWD 256 /* RFC 8839: 22..256 ice-char */
#define SDP_MIN_PWD 22
#define SDP_MAX_TOKEN 64 /* msid ids */
#define SDP_MAX_CNAME 255
#define SDP_MAX_CANDIDATE_LEN 1024 /* == PROTO_MAX_CANDIDATE */
#define SDP_MAX_FOUNDATION 32
#define SDP_MAX_ADDRESS 253    /* IPv4, IPv6 or a DNS / mDNS name */
#define SDP_FINGERPRINT_LEN 32 /* sha-256 */

/* Every failure has a name; sdp_error.message says which line and why. */
typedef enum {
    SDP_OK = 0,
    SDP_ERR_INVALID_ARG,         /* NULL or bad local parameters */
    SDP_ERR_TOO_LARGE,           /* text over SDP_MAX_BYTES */
    SDP_ERR_LINE_TOO_LONG,       /* a line over SDP_MAX_LINE */
    SDP_ERR_SYNTAX,              /* not "x=value" lines, control bytes, bad
                                    v=/o=/m=/c= line, bad attribute value */
    SDP_ERR_TOO_MANY_MEDIA,      /* more than SDP_MAX_MEDIA m-lines */
    SDP_ERR_TOO_MANY_CANDIDATES, /* more than SDP_MAX_CANDIDATES */
    SDP_ERR_TOO_MANY_FORMATS,    /* payload types or rtpmaps */
    SDP_ERR_TOO_MANY_ATTRIBUTES, /* a= lines, fingerprints, ssrcs */
    SDP_ERR_MISSING_ICE,         /* no ice-ufrag or ice-pwd */
    SDP_ERR_BAD_ICE,             /* ice-ufrag/pwd length or characters */
    SDP_ERR_MISSING_FINGERPRINT, /* no a=fingerprint at all, or none with
                                    sha-256 */
    SDP_ERR_WEAK_FINGERPRINT,    /* only sha-1 (or md5) fingerprints */
    SDP_ERR_BAD_FINGERPRINT,     /* sha-256 value not 32 hex pairs */
    SDP_ERR_MISSING_RTCP_MUX,    /* an accepted m-line without a=rtcp-mux */
    SDP_ERR_BAD_SETUP,           /* a=setup missing, unknown, or wrong for
                                    the offer/answer role */
    SDP_ERR_BUNDLE,              /* several transports (no BUNDLE group, media
                                    outside it, differing ICE/DTLS values),
                                    unknown mid in the group */
    SDP_ERR_BAD_MID,             /* missing, duplicate or malformed a=mid */
    SDP_ERR_BAD_PROTO,           /* audio/video not UDP/TLS/RTP/SAVPF */
    SDP_ERR_BAD_PAYLOAD_TYPE,    /* pt outside 0..127, in 64..95 (RTCP), not
                                    in the m= line, duplicate rtpmap */
    SDP_ERR_NO_CODEC,            /* no m-line with opus/48000/2 or VP8/90000 */
    SDP_ERR_BAD_CANDIDATE,       /* a candidate string that breaks RFC 8839 */
    SDP_ERR_BAD_EXTMAP,          /* extmap id outside 1..14 (1..255 with
                                    extmap-allow-mixed), id reused */
    SDP_ERR_ANSWER_MISMATCH,     /* an answer that does not fit our offer */
    SDP_ERR_COUNT_
} sdp_status;

typedef struct {
    sdp_status code;
    char message[256];
} sdp_error;

/** Stable machine name of @p code, e.g. "weak_fingerprint". */
const char *sdp_status_name(sdp_status code);

typedef enum {
    SDP_MEDIA_AUDIO = 0,
    SDP_MEDIA_VIDEO,
    SDP_MEDIA_OTHER, /* application, text, ...: always rejected */
} sdp_media_kind;

typedef enum {
    SDP_DIR_SENDRECV = 0,
    SDP_DIR_SENDONLY,
    SDP_DIR_RECVONLY,
    SDP_DIR_INACTIVE,
} sdp_direction;

typedef enum {
    SDP_SETUP_ACTPASS = 0,
    SDP_SETUP_ACTIVE,
    SDP_SETUP_PASSIVE,
} sdp_setup;

/* rtcp-fb bits */
enum {
    SDP_FB_NACK = 1 << 0,
    SDP_FB_NACK_PLI = 1 << 1,
    SDP_FB_CCM_FIR = 1 << 2,
    SDP_FB_GOOG_REMB = 1 << 3,
    SDP_FB_TRANSPORT_CC = 1 << 4,
    SDP_FB_ALL = (1 << 5) - 1,
};

/* RTP header extensions we use; index into sdp_media.ext_id. */
typedef enum {
    SDP_EXT_MID = 0,       /* urn:ietf:params:rtp-hdrext:sdes:mid */
    SDP_EXT_ABS_SEND_TIME, /* webrtc.org abs-send-time */
    SDP_EXT_TWCC,          /* draft-holmer transport-wide-cc-01 */
    SDP_EXT_COUNT_
} sdp_ext;

/** URI of @p ext as written in a=extmap. */
const char *sdp_ext_uri(sdp_ext ext);

/* ---- ICE candidates (RFC 8839 section 5.1, RFC 6544 tcptype) ---- */

typedef enum {
    SDP_CAND_HOST = 0,
    SDP_CAND_SRFLX,
    SDP_CAND_PRFLX,
    SDP_CAND_RELAY,
} sdp_candidate_type;

typedef enum {
    SDP_TCPTYPE_NONE = 0, /* UDP candidates */
    SDP_TCPTYPE_ACTIVE,
    SDP_TCPTYPE_PASSIVE,
    SDP_TCPTYPE_SO,
} sdp_tcptype;

typedef struct {
    char foundation[SDP_MAX_FOUNDATION + 1]; /* 1..32 ice-char */
    unsigned component;                      /* 1..256 */
    bool tcp;                                /* transport TCP, else UDP */
    uint32_t priority;                       /* 1..2^31-1 */
    char address[SDP_MAX_ADDRESS + 1];       /* IPv4, IPv6 or FQDN */
    bool address_is_ip;                      /* false: a (mDNS) name */
    uint16_t port;                           /* 1..65535 (0/9: TCP active) */
    sdp_candidate_type type;
    bool has_related; /* raddr/rport present */
    char related_address[SDP_MAX_ADDRESS + 1];
    uint16_t related_port;
    sdp_tcptype tcptype; /* NONE iff UDP */
    bool has_generation;
    uint32_t generation;
    char ufrag[SDP_MAX_UFRAG + 1]; /* "ufrag" extension, or "" */
} sdp_candidate;

/**
 * Parse one candidate, "candidate:..." with or without a leading "a=",
 * no trailing white space. Unknown extension attributes (network-id,
 * network-cost, ...) are syntax-checked (at most 8) and ignored.
 * @param out filled on success, undefined on failure
 * @return SDP_OK, SDP_ERR_INVALID_ARG (NULL), SDP_ERR_BAD_CANDIDATE
 */
sdp_status sdp_candidate_parse(sdp_candidate *out, const char *text, size_t len,
                               sdp_error *err);

/**
 * Write @p c as "candidate:..." (no "a="), NUL-terminated, into @p buf of
 * @p cap bytes. Returns the length written, or 0 if @p c is invalid or
 * does not fit (SDP_MAX_CANDIDATE_LEN + 1 always fits).
 */
size_t sdp_candidate_format(const sdp_candidate *c, char *buf, size_t cap);

/* ---- descriptions ---- */

typedef struct {
    sdp_media_kind kind;
    char media[16];     /* m= media token as received ("application") */
    char proto[32];     /* m= proto as received */
    char first_fmt[33]; /* first m= format (echoed when rejecting) */
    bool rejected;      /* port 0 in the text, or not usable by us */
    char mid[SDP_MAX_MID + 1];
    sdp_direction direction;
    bool bundle_only;
    /* The one codec we use on this m-line (valid unless rejected). */
    uint8_t pt;             /* payload type chosen from the offer */
    unsigned clock_rate;    /* 48000 or 90000 */
    unsigned channels;      /* 2 for opus, 0 for video */
    unsigned opus_minptime; /* 0 = absent */
    bool opus_useinbandfec;
    unsigned rtcp_fb; /* SDP_FB_* for pt */
    /* RFC 4588 retransmission (video): a=rtpmap:<rtx_pt> rtx/90000 with
     * a=fmtp:<rtx_pt> apt=<pt>; 0 = no RTX. When parsed: the offer's rtx
     * payload type whose apt is the chosen VP8 pt. */
    uint8_t rtx_pt;
    bool rtcp_mux;
    bool rtcp_rsize;
    uint8_t ext_id[SDP_EXT_COUNT_]; /* 0 = not negotiated */
    /* Media source (ours when built, the peer's when parsed). */
    bool has_ssrc;
    uint32_t ssrc;
    char cname[SDP_MAX_CNAME + 1];
    char msid_stream[SDP_MAX_TOKEN + 1];
    char msid_track[SDP_MAX_TOKEN + 1];
    /* The rtx stream's SSRC: a=ssrc-group:FID <ssrc> <rtx_ssrc>, both
     * listed with a=ssrc on the m-line. */
    bool has_rtx_ssrc;
    uint32_t rtx_ssrc;
    /* Candidates in the SDP itself (non-trickle or gathered early). */
    sdp_candidate *candidates; /* owned, n_candidates entries */
    unsigned n_candidates;
    bool end_of_candidates;
} sdp_media;

typedef enum {
    SDP_TYPE_OFFER = 0,
    SDP_TYPE_ANSWER,
} sdp_type;

/** A parsed or built offer/answer; one transport for all media. */
typedef struct {
    sdp_type type;
    uint64_t session_id; /* o= sess-id, < 2^63 */
    uint64_t session_version;
    char ice_ufrag[SDP_MAX_UFRAG + 1];
    char ice_pwd[SDP_MAX_PWD + 1];
    bool ice_trickle; /* a=ice-options:trickle */
    bool ice_lite;
    uint8_t fingerprint[SDP_FINGERPRINT_LEN]; /* sha-256 of the DTLS cert */
    sdp_setup setup;
    bool extmap_allow_mixed;
    unsigned n_media;
    sdp_media media[SDP_MAX_MEDIA];
} sdp_description;

/** Free @p d and its candidates; NULL is a no-op. */
void sdp_description_free(sdp_description *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sdp_description, sdp_description_free)

/**
 * Append a copy of @p c to @p m (offer/answer building, or to remember
 * trickled candidates). @return SDP_OK, SDP_ERR_TOO_MANY_CANDIDATES
 */
sdp_status sdp_media_add_candidate(sdp_media *m, const sdp_candidate *c,
                                   sdp_error *err);

/* ---- local parameters ---- */

#define SDP_LOCAL_VERSION 1
/** What we put in an offer or answer. Zero means "default" where noted. */
typedef struct {
    unsigned version;                         /* SDP_LOCAL_VERSION */
    char ice_ufrag[SDP_MAX_UFRAG + 1];        /* required, 4..256 ice-char */
    char ice_pwd[SDP_MAX_PWD + 1];            /* required, 22..256 ice-char */
    uint8_t fingerprint[SDP_FINGERPRINT_LEN]; /* required (not all zero) */
    uint64_t session_id; /* 0: random 63-bit (offers only) */
    bool audio;          /* offer an audio m-line (mid "0") */
    bool video;          /* offer a video m-line (mid "1") */
    sdp_direction audio_direction;
    sdp_direction video_direction;
    uint32_t audio_ssrc; /* required when sending audio (non-zero) */
    uint32_t video_ssrc;
    char cname[SDP_MAX_CNAME + 1];       /* required when sending */
    char stream_id[SDP_MAX_TOKEN + 1];   /* msid stream; "" = "-" */
    char audio_track[SDP_MAX_TOKEN + 1]; /* msid track; "" = "audio" */
    char video_track[SDP_MAX_TOKEN + 1]; /* "" = "video" */
    uint8_t opus_pt;                     /* our offer's pt; 0 = 111 */
    uint8_t vp8_pt;                      /* 0 = 96 */
    bool video_rtx;          /* offer/accept RFC 4588 RTX for video */
    uint8_t rtx_pt;          /* our offer's rtx pt; 0 = 97 */
    uint32_t video_rtx_ssrc; /* required when sending video with RTX */
} sdp_local;
#define SDP_LOCAL_INIT                                                         \
    {                                                                          \
        .version = SDP_LOCAL_VERSION, .audio = true, .video = true,            \
    }

/**
 * Build our offer (setup actpass, BUNDLE of all m-lines, trickle).
 * @param out the new description; free with sdp_description_free()
 * @return SDP_OK, SDP_ERR_INVALID_ARG (message names the bad field)
 */
sdp_status sdp_offer_new(sdp_description **out, const sdp_local *local,
                         sdp_error *err);

/**
 * Parse and check a remote offer, choose per m-line what we support
 * (payload types taken from the offer, in the offer's order of preference)
 * and mark the rest rejected.
 * @param text SDP of @p len bytes, need not be NUL-terminated
 * @return SDP_OK or any SDP_ERR_* of input checking; SDP_ERR_NO_CODEC if
 *         no m-line carries opus/48000/2 or VP8/90000
 */
sdp_status sdp_parse_offer(sdp_description **out, const char *text, size_t len,
                           sdp_error *err);

/**
 * Our answer to @p offer (from sdp_parse_offer()): same m-lines in the same
 * order, unsupported ones with port 0, the offer's payload types and
 * extension ids, rtcp-fb the intersection, setup active if the offer said
 * actpass or passive, passive if it said active. Directions are the
 * intersection of @p local's wishes and the offer's.
 * @return SDP_OK, SDP_ERR_INVALID_ARG
 */
sdp_status sdp_answer_new(sdp_description **out, const sdp_description *offer,
                          const sdp_local *local, sdp_error *err);

/**
 * Parse and check a remote answer against @p our_offer: same m-line count,
 * kinds and mids, payload types we offered, setup active or passive,
 * BUNDLE group within ours, extension ids as offered, directions allowed.
 * @return SDP_OK, any input-checking SDP_ERR_*, SDP_ERR_ANSWER_MISMATCH
 */
sdp_status sdp_parse_answer(sdp_description **out, const char *text, size_t len,
                            const sdp_description *our_offer, sdp_error *err);

/**
 * Write @p d as SDP text (CRLF lines) with GstSDP.
 * @param out NUL-terminated text, free with g_free()
 * @return SDP_OK, SDP_ERR_INVALID_ARG
 */
sdp_status sdp_format(const sdp_description *d, char **out, sdp_error *err);

/** "sha-256 AB:CD:..." (103 bytes + NUL) for @p fp into @p buf. */
void sdp_fingerprint_format(const uint8_t fp[SDP_FINGERPRINT_LEN],
                            char buf[8 + SDP_FINGERPRINT_LEN * 3]);

#endif
