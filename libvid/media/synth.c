/* Synthetic camera and microphone for tests and demos (see media.h). */
#include "media.h"

#include <math.h>
#include <string.h>

#define CELL 16
#define GRID_COLS 16
#define GRID_ROWS 8
#define BLACK 16
#define WHITE 235

static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static uint32_t hash2(uint32_t x, uint32_t y)
{
    uint32_t h = x * 0x9e3779b1u ^ y * 0x85ebca77u;
    h ^= h >> 15;
    h *= 0x2c1b3c6du;
    h ^= h >> 12;
    return h;
}

static bool pic_valid(const media_i420 *p)
{
    return p != NULL && p->y != NULL && p->u != NULL && p->v != NULL &&
           p->width >= MEDIA_SYNTH_MIN_WIDTH &&
           p->height >= MEDIA_SYNTH_MIN_HEIGHT && p->width <= 8192 &&
           p->height <= 8192 && p->stride_y >= p->width &&
           p->stride_u >= (p->width + 1) / 2 &&
           p->stride_v >= (p->width + 1) / 2;
}

static void encode_payload(uint8_t bytes[16], uint32_t frame_no,
                           int64_t capture_us)
{
    uint64_t t = (uint64_t) capture_us;
    for (int i = 0; i < 4; i++)
        bytes[i] = (uint8_t) (frame_no >> (24 - 8 * i));
    for (int i = 0; i < 8; i++)
        bytes[4 + i] = (uint8_t) (t >> (56 - 8 * i));
    uint32_t crc = crc32_ieee(bytes, 12);
    for (int i = 0; i < 4; i++)
        bytes[12 + i] = (uint8_t) (crc >> (24 - 8 * i));
}

int media_synth_video_fill(media_i420 *p, uint32_t frame_no, int64_t capture_us)
{
    if (!pic_valid(p))
        return MEDIA_EINVAL;
    /* Background: 8x8 blocks of noise scrolling 2 px per frame over a
     * slow gradient; the chroma drifts. */
    uint32_t f = frame_no;
    for (int y = 0; y < p->height; y++) {
        uint8_t *row = p->y + (size_t) y * p->stride_y;
        for (int x = 0; x < p->width; x++) {
            uint32_t h = hash2(((uint32_t) x + 2 * f) >> 3, (uint32_t) y >> 3);
            row[x] = (uint8_t) (40 + (h & 127) + ((x + y) >> 4) % 48);
        }
    }
    int cw = (p->width + 1) / 2, ch = (p->height + 1) / 2;
    for (int y = 0; y < ch; y++) {
        uint8_t *u = p->u + (size_t) y * p->stride_u;
        uint8_t *v = p->v + (size_t) y * p->stride_v;
        for (int x = 0; x < cw; x++) {
            u[x] = (uint8_t) (96 + ((x + f) & 63));
            v[x] = (uint8_t) (96 + ((y + 2 * f) & 63));
        }
    }
    /* The data cells, macroblock aligned. */
    uint8_t bytes[16];
    encode_payload(bytes, frame_no, capture_us);
    for (int bit = 0; bit < GRID_COLS * GRID_ROWS; bit++) {
        int on = (bytes[bit / 8] >> (7 - bit % 8)) & 1;
        int cx = (bit % GRID_COLS) * CELL, cy = (bit / GRID_COLS) * CELL;
        for (int y = cy; y < cy + CELL; y++)
            memset(p->y + (size_t) y * p->stride_y + cx, on ? WHITE : BLACK,
                   CELL);
        for (int y = cy / 2; y < (cy + CELL) / 2; y++) {
            memset(p->u + (size_t) y * p->stride_u + cx / 2, 128, CELL / 2);
            memset(p->v + (size_t) y * p->stride_v + cx / 2, 128, CELL / 2);
        }
    }
    return MEDIA_OK;
}

int media_synth_read(const media_i420 *p, uint32_t *frame_no,
                     int64_t *capture_us)
{
    if (!pic_valid(p) || frame_no == NULL || capture_us == NULL)
        return MEDIA_EINVAL;
    uint8_t bytes[16] = {0};
    for (int bit = 0; bit < GRID_COLS * GRID_ROWS; bit++) {
        int cx = (bit % GRID_COLS) * CELL, cy = (bit / GRID_COLS) * CELL;
        unsigned sum = 0;
        /* The centre 8x8 of the cell: edges may bleed after coding. */
        for (int y = cy + 4; y < cy + 12; y++)
            for (int x = cx + 4; x < cx + 12; x++)
                sum += p->y[(size_t) y * p->stride_y + x];
        if (sum / 64 > (BLACK + WHITE) / 2)
            bytes[bit / 8] |= (uint8_t) (1u << (7 - bit % 8));
    }
    uint32_t crc = 0;
    for (int i = 0; i < 4; i++)
        crc = crc << 8 | bytes[12 + i];
    if (crc != crc32_ieee(bytes, 12))
        return MEDIA_ECORRUPT;
    uint32_t n = 0;
    uint64_t t = 0;
    for (int i = 0; i < 4; i++)
        n = n << 8 | bytes[i];
    for (int i = 0; i < 8; i++)
        t = t << 8 | bytes[4 + i];
    *frame_no = n;
    *capture_us = (int64_t) t;
    return MEDIA_OK;
}

/* ------------------------------------------------------------------ */

#define BURST 960 /* 20 ms */
#define RAMP 48   /* 1 ms fade in and out */
#define AMPLITUDE 12000.0f
#define THRESHOLD 2000
#define SKIP 48    /* analysis starts after the ramp */
#define WINDOW 480 /* 10 ms Goertzel window */
#define QUIET 240  /* 5 ms below threshold re-arms the detector */

static float tone_hz(int k)
{
    return 500.0f + 250.0f * (float) k;
}

int media_synth_audio_init(media_synth_audio *s, int channels, int period_ms)
{
    if (s == NULL || (channels != 1 && channels != 2) || period_ms < 40 ||
        period_ms > 10000)
        return MEDIA_EINVAL;
    memset(s, 0, sizeof *s);
    s->channels = channels;
    s->period_samples = period_ms * (MEDIA_OPUS_RATE / 1000);
    return MEDIA_OK;
}

void media_synth_audio_fill(media_synth_audio *s, int16_t *pcm, size_t frames)
{
    if (s == NULL || pcm == NULL)
        return;
    const float two_pi = 6.28318530718f;
    for (size_t i = 0; i < frames; i++, s->pos++) {
        uint64_t idx = s->pos / (uint64_t) s->period_samples;
        int p = (int) (s->pos % (uint64_t) s->period_samples);
        float v = 0.0f;
        if (p < BURST) {
            if (p == 0)
                s->counter = (uint32_t) idx + 1;
            float gain = 1.0f;
            if (p < RAMP)
                gain = (float) p / RAMP;
            else if (p >= BURST - RAMP)
                gain = (float) (BURST - p) / RAMP;
            int k = (int) (idx % MEDIA_SYNTH_TONES);
            v = AMPLITUDE * gain *
                sinf(two_pi * tone_hz(k) * (float) p / MEDIA_OPUS_RATE);
        }
        for (int c = 0; c < s->channels; c++)
            pcm[i * (size_t) s->channels + (size_t) c] = (int16_t) lrintf(v);
    }
}

void media_synth_audio_detector_init(media_synth_audio_detector *d,
                                     int channels)
{
    if (d == NULL)
        return;
    memset(d, 0, sizeof *d);
    d->channels = channels == 2 ? 2 : 1;
}

static int classify(const float *w)
{
    int best = 0;
    float best_p = -1.0f;
    for (int k = 0; k < MEDIA_SYNTH_TONES; k++) {
        float coeff =
            2.0f * cosf(6.28318530718f * tone_hz(k) / MEDIA_OPUS_RATE);
        float s1 = 0, s2 = 0;
        for (int i = 0; i < WINDOW; i++) {
            float s0 = w[i] + coeff * s1 - s2;
            s2 = s1;
            s1 = s0;
        }
        float power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
        if (power > best_p) {
            best_p = power;
            best = k;
        }
    }
    return best;
}

enum { ARMED, COLLECT, WAIT_QUIET };

int media_synth_audio_detect(media_synth_audio_detector *d, const int16_t *pcm,
                             size_t frames, media_synth_burst *out, int cap)
{
    if (d == NULL || pcm == NULL || out == NULL || cap < 0)
        return 0;
    int found = 0;
    for (size_t i = 0; i < frames; i++, d->pos++) {
        int x = pcm[i * (size_t) d->channels];
        if (d->channels == 2)
            x = (x + pcm[i * 2 + 1]) / 2;
        int loud = x > THRESHOLD || x < -THRESHOLD;
        switch (d->state) {
        case ARMED:
            if (loud) {
                d->onset = d->pos;
                d->n = 0;
                d->state = COLLECT;
            }
            break;
        case COLLECT:
            if (d->pos >= d->onset + SKIP)
                d->win[d->n++] = (float) x;
            if (d->n == WINDOW) {
                if (found < cap) {
                    out[found].tone = classify(d->win);
                    out[found].onset = d->onset;
                    found++;
                }
                d->quiet_run = 0;
                d->state = WAIT_QUIET;
            }
            break;
        default:
            d->quiet_run = loud ? 0 : d->quiet_run + 1;
            if (d->quiet_run >= QUIET)
                d->state = ARMED;
            break;
        }
    }
    return found;
}
