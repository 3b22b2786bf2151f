/*
 * session.h — one call's media: the synthetic camera and microphone, or
 * pictures and audio pushed from real devices, encoded with VP8 and Opus,
 * packetized into RTP and
 * sent over a libvid transport; the peer's RTP put back in order by the
 * jitter buffers, repaired with NACK/RTX, PLI and Opus FEC/PLC, and
 * decoded to frame and audio callbacks. RTCP (SR, RR, NACK, PLI) runs the
 * loss recovery and the loss-based rate controller.
 *
 * Internal to libvid (no VID_API); the call layer owns one session per
 * call, next to its transport.
 *
 * Walkthrough (error handling left out):
 *
 *     media_session_config cfg = MEDIA_SESSION_CONFIG_INIT;
 *     cfg.context = net_ctx;               // the transport's context
 *     cfg.transport = t;                   // borrowed, SECURE or not yet
 *     cfg.on_video = show_frame;           // decode thread
 *     cfg.on_audio = play_pcm;             // audio decode thread
 *     cfg.external_video = true;           // else the synthetic camera
 *     cfg.external_audio = true;           // else the synthetic microphone
 *     cfg.on_encoded_video = record_vp8;   // optional, for WebM recording
 *     media_session *s;
 *     media_session_new(&s, &cfg);
 *     // from the transport's on_packet callback:
 *     media_session_receive(s, is_rtcp, buf, len);
 *     ... once the transport is SECURE:
 *     media_session_start(s);
 *     // from the camera's / microphone's threads:
 *     media_session_push_video(s, pic, capture_us);
 *     media_session_push_audio(s, pcm, frames, channels, capture_us);
 *     media_session_set_mute(s, false, true);  // any thread: black video
 *     ...
 *     media_session_stats st;
 *     media_session_get_stats(s, &st);
 *     media_session_free(s);
 *
 * Threads (DESIGN.md section 3):
 *   - the network thread runs cfg.context; it owns the transport, the RTP
 *     sequence numbers, the retransmission cache, the jitter buffers, the
 *     NACK/PLI/RTCP logic and the rate controller. media_session_new(),
 *     _start(), _receive() and _free() are called on it.
 *   - a video thread paces the synthetic camera, encodes VP8 and
 *     packetizes; with external_video it encodes each picture pushed (no
 *     clock of its own; when muted it wakes once a second for a black one);
 *   - an audio thread paces the synthetic microphone (20 ms) and encodes
 *     Opus; with external_audio it encodes each 20 ms block as the pushes
 *     complete it;
 *   - media_session_push_video(), _push_audio(), _set_mute(),
 *     _force_keyframe() and _get_stats() may be called from any thread
 *     (the camera's and the microphone's): they only copy into pooled
 *     buffers under a mutex, set atomics and signal;
 *   - a video decode thread and an audio decode thread call on_video and
 *     on_audio (and on_encoded_video / on_encoded_audio before decoding).
 * Packets and frames travel between them through fixed-size queues (a
 * mutex-and-condition ring of pointers) of buffers taken from pools made
 * in media_session_new(); nothing is allocated per packet once the
 * session runs. Keyframe requests and the target bitrate
 * reach the encoder through atomics.
 *
 * Retransmission uses an RFC 4588 RTX stream (own SSRC and payload type,
 * the original sequence number in front of the payload): the transport's
 * SRTP refuses to protect a sequence number twice, and a separate stream
 * also keeps the receiver's replay window intact.
 *
 * RTP header extensions (RFC 8285 one-byte form): mid, abs-send-time and
 * transport-wide sequence number on every packet, with the ids of the
 * config (as negotiated in the SDP).
 */
#ifndef VID_MEDIA_SESSION_H
#define VID_MEDIA_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "media.h"
#include "transport.h"

/** Status codes: 0 or one of these. */
enum {
    MEDIA_SESSION_OK = 0,
    MEDIA_SESSION_EINVAL = -1, /* NULL or out-of-range argument/config */
    MEDIA_SESSION_ENOMEM = -2, /* allocation failed */
    MEDIA_SESSION_ECODEC = -3, /* an encoder or decoder could not start */
    MEDIA_SESSION_ESTATE = -4, /* already started / not possible now */
};

/** A decoded picture, passed to on_video (lives for the callback only). */
typedef struct {
    const media_i420 *pic; /* the decoder's picture */
    uint32_t rtp_ts;
    bool keyframe;
    /** The synthetic camera's stamp read back from the picture: valid
     *  when synth_ok (capture_us is the sender's g_get_monotonic_time()). */
    bool synth_ok;
    uint32_t frame_no;
    int64_t capture_us;
    int64_t decoded_us; /* g_get_monotonic_time() after decoding */
} media_session_video_frame;

/** 20 ms of decoded audio, passed to on_audio (lives for the callback). */
typedef struct {
    const int16_t *pcm; /* interleaved */
    size_t frames;      /* samples per channel */
    int channels;
    uint32_t rtp_ts; /* of the packet this audio stands for */
    bool concealed;  /* the packet was lost: PLC */
    bool fec;        /* the packet was lost: rebuilt from the next one's FEC */
} media_session_audio_frame;

typedef struct {
    int version; /* MEDIA_SESSION_CONFIG_VERSION */
    /** The network thread's context (the transport's). Required. */
    GMainContext *context;
    /** Borrowed; must outlive the session. Required. */
    transport *transport;
    bool send_video, send_audio; /* default both */
    int width, height, fps;      /* camera (synthetic or pushed), 640x480@30 */
    int start_kbps, min_kbps, max_kbps; /* VP8, default 600, 100, 2000 */
    int audio_bps;                      /* Opus, default 32000 */
    /** 0 picks random ones. */
    uint32_t video_ssrc, rtx_ssrc, audio_ssrc;
    uint8_t video_pt, rtx_pt, audio_pt; /* default 96, 97, 111 */
    /** The SDP negotiated no RTX (sdp_media.rtx_pt 0 on either side):
     *  nothing is sent or accepted on rtx_pt (then ignored); NACKs are
     *  still sent and counted when received, but a lost packet cannot be
     *  resent (SRTP protects a sequence number once), so the peer
     *  recovers with PLI. Default false. */
    bool no_rtx;
    /** The peer's SSRCs when the SDP names them (a=ssrc, the RTX one from
     *  a=ssrc-group:FID); then packets from any other SSRC are dropped.
     *  0: the first SSRC seen is taken, and another only after it has
     *  been silent for a second. */
    uint32_t remote_video_ssrc, remote_rtx_ssrc, remote_audio_ssrc;
    const char *video_mid, *audio_mid; /* default "1", "0" (copied) */
    /** RFC 8285 ids 1..14 (0: not sent). Default 1, 2, 3. */
    uint8_t mid_ext_id, abs_send_time_ext_id, twcc_ext_id;
    size_t mtu; /* RTP packet bound, default 1200 */
    /** Delay audio or video (whichever plays early) to keep them in sync
     *  from the peer's sender reports (adjusted about once a second). */
    bool lip_sync;
    /** Called on the video decode thread for every decoded picture. */
    void (*on_video)(const media_session_video_frame *f, void *ud);
    /** Called on the audio decode thread every 20 ms of audio (while the
     *  peer mutes its audio, only for its rare DTX comfort-noise packets). */
    void (*on_audio)(const media_session_audio_frame *f, void *ud);
    /** true: pictures / audio come from media_session_push_video() /
     *  _push_audio() (a real camera / microphone) instead of the built-in
     *  synthetic camera / microphone. Default false. With external_video
     *  width and height are the size of the pictures pushed (16..4096,
     *  even) and fps only the encoder's nominal rate. */
    bool external_video, external_audio;
    /** Optional: each received complete VP8 frame as the jitter buffer
     *  assembled it, on the video decode thread just before it is decoded
     *  (for recording). @frame lives for the call only. */
    void (*on_encoded_video)(const uint8_t *frame, size_t len, uint32_t rtp_ts,
                             bool keyframe, void *ud);
    /** Optional: each received Opus packet (not for lost ones), on the
     *  audio decode thread before it is decoded. */
    void (*on_encoded_audio)(const uint8_t *packet, size_t len, uint32_t rtp_ts,
                             void *ud);
    void *user_data;
} media_session_config;

#define MEDIA_SESSION_CONFIG_VERSION 1
#define MEDIA_SESSION_CONFIG_INIT                                              \
    {                                                                          \
        .version = MEDIA_SESSION_CONFIG_VERSION, .send_video = true,           \
        .send_audio = true, .lip_sync = true                                   \
    }

typedef struct media_session media_session;

/**
 * Creates the codecs, pools, jitter buffers and the network-thread
 * source; no thread runs and nothing is sent before media_session_start().
 * Call on the network thread.
 * @return MEDIA_SESSION_OK, MEDIA_SESSION_EINVAL, MEDIA_SESSION_ENOMEM,
 *         MEDIA_SESSION_ECODEC
 */
int media_session_new(media_session **out, const media_session_config *cfg);

/** Starts the capture/encode and decode threads (the transport should be
 *  SECURE: packets sent before are lost). @return MEDIA_SESSION_OK,
 *  MEDIA_SESSION_ESTATE (already started), MEDIA_SESSION_EINVAL */
int media_session_start(media_session *s);

/** Feeds a packet from the transport's on_packet (network thread). @buf
 *  is read during the call only. Malformed packets are counted and
 *  dropped. */
void media_session_receive(media_session *s, bool is_rtcp, const uint8_t *buf,
                           size_t len);

/** Stops the threads (waits for them) and frees; NULL is a no-op. Call on
 *  the network thread; no callback runs after it returns. */
void media_session_free(media_session *s);

/** Asks our encoder for a keyframe (as a received PLI would). Any thread. */
void media_session_force_keyframe(media_session *s);

/**
 * Hands one camera picture to the video encoder (cfg.external_video). Any
 * thread (the camera's); never blocks on the encoder and allocates
 * nothing: the picture (the configured width x height; read during the
 * call only) is copied into one of a few pooled buffers. When the encoder
 * is behind, the oldest picture waiting is replaced (counted in
 * frames_push_dropped), so the newest is always encoded next. Pictures
 * pushed before media_session_start() are dropped (counted), those pushed
 * while video is muted are ignored. @capture_us is the capture time on
 * the g_get_monotonic_time() clock (it becomes the RTP timestamp and so
 * drives lip sync); 0 or a time more than 10 s away means "now".
 * Stop pushing before media_session_free().
 * @return MEDIA_SESSION_OK, MEDIA_SESSION_EINVAL (NULL, wrong size or
 *         strides), MEDIA_SESSION_ESTATE (not external_video / not
 *         send_video)
 */
int media_session_push_video(media_session *s, const media_i420 *pic,
                             int64_t capture_us);

/**
 * Hands microphone audio to the audio encoder (cfg.external_audio): 48 kHz
 * S16 interleaved, @frames samples per channel (any number), @channels
 * 1..8 (mixed down to the encoder's mono). Any thread. The samples are
 * re-blocked into 20 ms frames; the audio thread encodes each one as soon
 * as it is complete. Up to 200 ms wait; beyond that the oldest 20 ms
 * blocks are dropped (counted in audio_samples_push_dropped, and the RTP
 * timestamps skip them). @capture_us: capture time of the first sample
 * (monotonic clock; 0 or more than 10 s away: now); it anchors the RTP
 * timestamps (a gap of more than 200 ms in the pushes moves them on).
 * Samples pushed before media_session_start() are dropped (counted).
 * @return MEDIA_SESSION_OK, MEDIA_SESSION_EINVAL, MEDIA_SESSION_ESTATE
 *         (not external_audio / not send_audio)
 */
int media_session_push_audio(media_session *s, const int16_t *pcm,
                             size_t frames, int channels, int64_t capture_us);

/**
 * Mutes or unmutes what we send (synthetic and external sources alike).
 * Any thread. Muted audio encodes silence with Opus DTX: only a
 * comfort-noise packet about every 400 ms goes out (a few bytes a second;
 * the sequence numbers stay contiguous, so the peer sees no loss). Muted
 * video sends a black picture once a second, so the peer's picture goes
 * black instead of freezing; unmuting resumes with the next picture.
 */
void media_session_set_mute(media_session *s, bool audio, bool video);

typedef struct {
    /* send side */
    int width, height;       /* sent */
    double fps_sent;         /* frames encoded per second (1 s) */
    uint64_t video_bps_sent; /* RTP bits per second (1 s) */
    uint64_t audio_bps_sent;
    uint32_t target_bps; /* rate controller */
    uint64_t frames_encoded, keyframes_sent;
    uint64_t nacks_received; /* sequence numbers asked for */
    uint64_t retransmits_sent;
    uint64_t plis_received; /* PLI + FIR */
    double remote_loss;     /* fraction_lost of the last RR, 0..1 */
    int64_t rtt_us;         /* -1 until known */
    /* receive side */
    int recv_width, recv_height;
    double fps_decoded; /* (1 s) */
    uint64_t video_bps_received;
    uint64_t audio_bps_received;
    uint64_t frames_decoded, frames_dropped, keyframes_decoded;
    uint64_t decode_errors;
    uint64_t nacks_sent; /* sequence numbers requested */
    uint64_t plis_sent;
    uint64_t packets_received, packets_lost; /* video + audio, RFC 3550 */
    uint64_t rtx_received;
    int64_t video_jitter_us, audio_jitter_us;
    int64_t video_jb_delay_us, audio_jb_delay_us;
    uint64_t audio_frames_decoded, audio_frames_concealed, audio_frames_fec;
    uint64_t malformed; /* packets dropped as unparsable/unknown */
    /* external sources and mute */
    uint64_t frames_pushed;        /* media_session_push_video() accepted */
    uint64_t frames_push_dropped;  /* replaced before encoding / too early */
    uint64_t audio_samples_pushed; /* per channel, 48 kHz */
    uint64_t audio_samples_push_dropped;
    bool audio_muted, video_muted;
    /* lip sync: last measured (video - audio) playout-minus-capture
     * difference, and the extra delay each buffer got to cancel it */
    int64_t av_offset_us, audio_sync_delay_us, video_sync_delay_us;
} media_session_stats;

/** A snapshot of the counters. Any thread. */
void media_session_get_stats(media_session *s, media_session_stats *out);

/* Test hook ---------------------------------------------------------------
 * Called on the network thread with every plain RTP packet (RTX included)
 * just before it is protected and sent; returning false drops it. */
void media_session_test_set_send_filter(media_session *s,
                                        bool (*filter)(const uint8_t *rtp,
                                                       size_t len, void *ud),
                                        void *ud);

#endif /* VID_MEDIA_SESSION_H */
