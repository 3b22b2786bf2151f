/*
 * libvid/media: codecs called directly and the synthetic test sources.
 *
 * Internal API of the media layer (not exported from libvid.so). Owns:
 * the VP8 encoder/decoder (libvpx, real-time), the Opus encoder/decoder
 * (libopus, 48 kHz, 20 ms), the I420 frame view shared with libvid/device,
 * and the synthetic camera and microphone used by tests and demos.
 * It calls nothing above it; it knows nothing of RTP or GStreamer.
 *
 * Walkthrough (errors ignored for brevity):
 *
 *   media_vp8_enc_config vc = MEDIA_VP8_ENC_CONFIG_INIT;
 *   vc.width = 640; vc.height = 480; vc.bitrate_kbps = 500;
 *   media_vp8_enc *enc; media_vp8_enc_new(&enc, &vc);
 *   media_vp8_dec *dec; media_vp8_dec_new(&dec, 1);
 *
 *   media_i420 in, out;                  // planes owned by the caller
 *   media_synth_video_fill(&in, frame_no, capture_us);
 *   media_vp8_frame pkt;                 // points into enc's buffer
 *   media_vp8_enc_encode(enc, &in, pts_us, &pkt);
 *   bool corrupt;
 *   media_vp8_dec_decode(dec, pkt.data, pkt.len, &out, &corrupt);
 *   uint32_t n; int64_t t;
 *   media_synth_read(&out, &n, &t);      // MEDIA_OK: n == frame_no
 *
 * Threading: every object belongs to one thread at a time (the capture
 * thread encodes, the decode thread decodes); nothing here locks.
 * Steady state allocates nothing: encoders and decoders own buffers sized
 * at creation.
 */
#ifndef VID_MEDIA_H
#define VID_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Status codes of the media layer: 0 success, negative failure. */
enum {
    MEDIA_OK = 0,
    MEDIA_EINVAL = -1,   /**< NULL, out of range or malformed argument */
    MEDIA_ENOMEM = -2,   /**< allocation failed */
    MEDIA_ENOSPACE = -3, /**< output buffer too small */
    MEDIA_ECODEC = -4,   /**< the codec library refused (message logged) */
    MEDIA_ECORRUPT = -5, /**< input cannot be decoded / read back */
};

/** Name of a MEDIA_* code, never NULL. */
const char *media_strerror(int code);

/**
 * A borrowed view of one I420 picture: Y plane width x height, U and V
 * planes (width+1)/2 x (height+1)/2. Who owns the planes is stated by the
 * function that fills or takes the view.
 */
typedef struct {
    uint8_t *y, *u, *v;
    int stride_y, stride_u, stride_v;
    int width, height;
} media_i420;

/**
 * Allocate one I420 picture in a single block; free with
 * media_i420_free(). Width and height 2..8192.
 * @return MEDIA_OK, MEDIA_EINVAL, MEDIA_ENOMEM
 */
int media_i420_alloc(media_i420 *out, int width, int height);
/** Free the planes of a picture from media_i420_alloc(); NULL-safe. */
void media_i420_free(media_i420 *pic);

/* ------------------------------------------------------------------ */
/* VP8 (libvpx)                                                        */

/** Encoder settings. Start from MEDIA_VP8_ENC_CONFIG_INIT. */
typedef struct {
    int version;      /**< MEDIA_VP8_ENC_CONFIG_VERSION */
    int width;        /**< 16..4096, even */
    int height;       /**< 16..4096, even */
    int fps;          /**< nominal frame rate, 1..120 */
    int bitrate_kbps; /**< target, 30..20000 */
    /** VP8E_SET_CPUUSED, -16..16. Real time: negative = fixed speed |n|,
     *  positive = libvpx picks the speed from the wall-clock time each
     *  frame took (budget (16 - n)/16 of a frame interval). */
    int cpu_used;
    int threads;     /**< encoder threads, 1..8 */
    int kf_max_dist; /**< frames between automatic keyframes, >= 1 */
} media_vp8_enc_config;

#define MEDIA_VP8_ENC_CONFIG_VERSION 1
/* cpu_used -6 (fixed speed 6, WebRTC's desktop setting): 3.4 ms CPU per
 * 640x480 frame and 7.1 ms per 1280x720 frame here, one thread (README). */
#define MEDIA_VP8_ENC_CONFIG_INIT                                              \
    {                                                                          \
        MEDIA_VP8_ENC_CONFIG_VERSION, 640, 480, 30, 500, -8, 1, 3000           \
    }

typedef struct media_vp8_enc media_vp8_enc;

/** One encoded frame; data points into the encoder and stays valid until
 *  the next call on that encoder. len 0 means the frame was dropped. */
typedef struct {
    const uint8_t *data;
    size_t len;
    bool keyframe;
    int64_t pts_us;
} media_vp8_frame;

/**
 * Create a real-time VP8 encoder: CBR, lag 0, error resilient, one token
 * partition, no temporal layers, no frame dropping.
 * @return MEDIA_OK, MEDIA_EINVAL (bad config, *out NULL), MEDIA_ENOMEM,
 *         MEDIA_ECODEC
 */
int media_vp8_enc_new(media_vp8_enc **out, const media_vp8_enc_config *cfg);
/** NULL-safe. */
void media_vp8_enc_free(media_vp8_enc *enc);
/**
 * Encode one picture (same size as configured). The picture is read
 * during the call only.
 * @return MEDIA_OK, MEDIA_EINVAL (wrong size / NULL), MEDIA_ECODEC
 */
int media_vp8_enc_encode(media_vp8_enc *enc, const media_i420 *pic,
                         int64_t pts_us, media_vp8_frame *out);
/** The next encoded frame is a keyframe (PLI/FIR). @return MEDIA_OK,
 *  MEDIA_EINVAL */
int media_vp8_enc_request_keyframe(media_vp8_enc *enc);
/** Change the target bitrate from the next frame on.
 *  @return MEDIA_OK, MEDIA_EINVAL (outside 30..20000), MEDIA_ECODEC */
int media_vp8_enc_set_bitrate(media_vp8_enc *enc, int kbps);
/** Current target in kbit/s. */
int media_vp8_enc_get_bitrate(const media_vp8_enc *enc);

typedef struct media_vp8_dec media_vp8_dec;

/** @param threads 1..8. Error concealment is enabled when libvpx was built
 *  with it (Debian's is not); media_vp8_dec_has_concealment() tells.
 *  @return MEDIA_OK, MEDIA_EINVAL, MEDIA_ENOMEM, MEDIA_ECODEC */
int media_vp8_dec_new(media_vp8_dec **out, int threads);
void media_vp8_dec_free(media_vp8_dec *dec);
bool media_vp8_dec_has_concealment(const media_vp8_dec *dec);
/**
 * Decode one complete VP8 frame. On MEDIA_OK *pic views the decoder's
 * picture (valid until the next call); *corrupt tells that libvpx flagged
 * the frame corrupt (a reference was missing): show it or not, but ask the
 * sender for a keyframe. A delta frame before any keyframe is MEDIA_ECORRUPT.
 * @return MEDIA_OK, MEDIA_EINVAL, MEDIA_ECORRUPT (undecodable: request a
 *         keyframe)
 */
int media_vp8_dec_decode(media_vp8_dec *dec, const uint8_t *data, size_t len,
                         media_i420 *pic, bool *corrupt);
/** true when a VP8 payload (RFC 6386 frame tag) starts a keyframe. */
bool media_vp8_is_keyframe(const uint8_t *data, size_t len);

/* ------------------------------------------------------------------ */
/* Opus (libopus), 48 kHz, 20 ms frames                                */

#define MEDIA_OPUS_RATE 48000
#define MEDIA_OPUS_FRAME 960 /**< samples per channel in 20 ms */
#define MEDIA_OPUS_MAX_PACKET 1275

typedef struct {
    int version;     /**< MEDIA_OPUS_ENC_CONFIG_VERSION */
    int channels;    /**< 1 or 2 */
    int bitrate_bps; /**< 6000..510000 */
    int loss_pct;    /**< expected packet loss 0..100 (FEC strength) */
    bool fec;        /**< in-band FEC */
    bool dtx;        /**< discontinuous transmission */
    int complexity;  /**< 0..10 */
} media_opus_enc_config;

#define MEDIA_OPUS_ENC_CONFIG_VERSION 1
#define MEDIA_OPUS_ENC_CONFIG_INIT                                             \
    {                                                                          \
        MEDIA_OPUS_ENC_CONFIG_VERSION, 1, 32000, 5, true, true, 9              \
    }

typedef struct media_opus_enc media_opus_enc;

/** VOIP application. @return MEDIA_OK, MEDIA_EINVAL, MEDIA_ENOMEM,
 *  MEDIA_ECODEC */
int media_opus_enc_new(media_opus_enc **out, const media_opus_enc_config *cfg);
void media_opus_enc_free(media_opus_enc *enc);
/**
 * Encode 20 ms (MEDIA_OPUS_FRAME samples per channel, interleaved).
 * @param out, cap  output buffer and its capacity (MEDIA_OPUS_MAX_PACKET
 *                  is always enough)
 * @param out_len   bytes written; 1 or 2 bytes mean DTX silence that need
 *                  not be sent (RFC 7587 section 3.1.3)
 * @return MEDIA_OK, MEDIA_EINVAL, MEDIA_ENOSPACE, MEDIA_ECODEC
 */
int media_opus_enc_encode(media_opus_enc *enc, const int16_t *pcm, uint8_t *out,
                          size_t cap, size_t *out_len);
/** @return MEDIA_OK, MEDIA_EINVAL, MEDIA_ECODEC */
int media_opus_enc_set_bitrate(media_opus_enc *enc, int bps);
/** Expected loss 0..100 from RTCP. @return MEDIA_OK, MEDIA_EINVAL,
 *  MEDIA_ECODEC */
int media_opus_enc_set_loss(media_opus_enc *enc, int pct);

typedef struct media_opus_dec media_opus_dec;

/** @param channels 1 or 2 (output layout). @return MEDIA_OK,
 *  MEDIA_EINVAL, MEDIA_ENOMEM, MEDIA_ECODEC */
int media_opus_dec_new(media_opus_dec **out, int channels);
void media_opus_dec_free(media_opus_dec *dec);
/**
 * Decode one packet into @p pcm (capacity @p cap samples per channel;
 * 5760 holds any packet). @return samples per channel (> 0),
 * MEDIA_EINVAL, MEDIA_ENOSPACE, MEDIA_ECORRUPT
 */
int media_opus_dec_decode(media_opus_dec *dec, const uint8_t *data, size_t len,
                          int16_t *pcm, size_t cap);
/**
 * Produce the 20 ms that a lost packet carried. With @p next (the packet
 * after the lost one) its in-band FEC is decoded; without it, or when it
 * carries none, packet loss concealment runs.
 * @return samples per channel (MEDIA_OPUS_FRAME), MEDIA_EINVAL,
 *         MEDIA_ENOSPACE, MEDIA_ECORRUPT
 */
int media_opus_dec_conceal(media_opus_dec *dec, const uint8_t *next,
                           size_t next_len, int16_t *pcm, size_t cap);
/** true when @p data carries in-band FEC (LBRR) for the previous frame. */
bool media_opus_has_fec(const uint8_t *data, size_t len);

/* ------------------------------------------------------------------ */
/* Synthetic camera and microphone                                     */

/*
 * Video: a 16 x 8 grid of 16x16-pixel cells at the top-left corner, one
 * bit per cell (black 16 / white 235 in Y, neutral chroma), macroblock
 * aligned so VP8 keeps them: 32-bit frame number, 64-bit capture time
 * (monotonic µs), CRC-32 of those 12 bytes. The rest of the picture is a
 * moving textured pattern that gives the encoder real work.
 */
#define MEDIA_SYNTH_MIN_WIDTH 256
#define MEDIA_SYNTH_MIN_HEIGHT 128

/** Fill @p pic (caller's planes, at least 256x128).
 *  @return MEDIA_OK, MEDIA_EINVAL */
int media_synth_video_fill(media_i420 *pic, uint32_t frame_no,
                           int64_t capture_us);
/** Read back what media_synth_video_fill() wrote.
 *  @return MEDIA_OK, MEDIA_EINVAL, MEDIA_ECORRUPT (checksum mismatch) */
int media_synth_read(const media_i420 *pic, uint32_t *frame_no,
                     int64_t *capture_us);

/*
 * Audio: every period_ms a 20 ms tone burst starts, silence between. The
 * burst's frequency encodes a counter mod 8 (500 + 250*k Hz), so a
 * receiver checks order and finds each burst's onset (capture-to-render
 * delay) with media_synth_audio_detector.
 */
#define MEDIA_SYNTH_TONES 8

typedef struct {
    int channels;
    int period_samples;
    uint64_t pos;     /* samples per channel generated so far */
    uint32_t counter; /* bursts started so far */
} media_synth_audio;

/** @param period_ms 40..10000. @return MEDIA_OK, MEDIA_EINVAL */
int media_synth_audio_init(media_synth_audio *s, int channels, int period_ms);
/** Generate @p frames samples per channel (interleaved) at 48 kHz. */
void media_synth_audio_fill(media_synth_audio *s, int16_t *pcm, size_t frames);

/** One detected burst: counter mod 8 and the sample (per channel, from
 *  the first sample the detector saw) where it starts. */
typedef struct {
    int tone;
    uint64_t onset;
} media_synth_burst;

typedef struct {
    int channels;
    uint64_t pos;
    int state;
    int quiet_run;
    uint64_t onset;
    int n;
    float win[480];
} media_synth_audio_detector;

void media_synth_audio_detector_init(media_synth_audio_detector *d,
                                     int channels);
/**
 * Feed decoded samples; writes up to @p cap bursts found into @p out.
 * @return the number of bursts written (>= 0)
 */
int media_synth_audio_detect(media_synth_audio_detector *d, const int16_t *pcm,
                             size_t frames, media_synth_burst *out, int cap);

#endif
