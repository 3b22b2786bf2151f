/*
 * media-speed: VP8 encode speed of the synthetic camera at 640x480@30 and
 * 1280x720@30 on one core for several cpu-used values, and Opus encode
 * cost per 20 ms frame. Prints figures; passes no judgement.
 *   media-speed [seconds-of-video]
 */
#include <glib.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "media.h"

/* CPU time of this thread: the figure holds on a busy machine too. */
static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void vp8_speed(int w, int h, int kbps, int cpu_used, int frames)
{
    media_vp8_enc_config c = MEDIA_VP8_ENC_CONFIG_INIT;
    c.width = w;
    c.height = h;
    c.bitrate_kbps = kbps;
    c.cpu_used = cpu_used;
    c.threads = 1;
    media_vp8_enc *enc;
    if (media_vp8_enc_new(&enc, &c) != MEDIA_OK) {
        fprintf(stderr, "encoder init failed\n");
        exit(1);
    }
    media_i420 *pics = g_new0(media_i420, frames);
    for (int i = 0; i < frames; i++) {
        media_i420_alloc(&pics[i], w, h);
        media_synth_video_fill(&pics[i], (uint32_t) i, i);
    }
    size_t bytes = 0;
    gint64 worst = 0, t0 = g_get_monotonic_time();
    double c0 = cpu_seconds();
    for (int i = 0; i < frames; i++) {
        gint64 f0 = g_get_monotonic_time();
        media_vp8_frame f;
        media_vp8_enc_encode(enc, &pics[i], (int64_t) i * 33333, &f);
        gint64 dt = g_get_monotonic_time() - f0;
        if (dt > worst)
            worst = dt;
        bytes += f.len;
    }
    double secs = (double) (g_get_monotonic_time() - t0) / 1e6;
    double cpu = cpu_seconds() - c0;
    printf("vp8 %4dx%-4d %5d kbps cpu-used %3d: %6.1f fps per CPU second "
           "(%5.2f ms CPU/frame; wall %6.1f fps, worst %5.1f ms), %5.0f kbps\n",
           w, h, kbps, cpu_used, frames / cpu, cpu * 1000 / frames,
           frames / secs, (double) worst / 1000.0,
           (double) bytes * 8.0 / (frames / 30.0) / 1000);
    for (int i = 0; i < frames; i++)
        media_i420_free(&pics[i]);
    g_free(pics);
    media_vp8_enc_free(enc);
}

int main(int argc, char **argv)
{
    int secs = argc > 1 ? (int) g_ascii_strtoll(argv[1], NULL, 10) : 5;
    if (secs < 1 || secs > 60)
        secs = 5;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
        perror("sched_setaffinity (continuing)");
    /* Negative: fixed speed |n|; positive: libvpx adapts the speed to the
     * wall-clock time frames take (budget (16 - n)/16 of an interval). */
    static const int speeds[] = {4, 6, 8, 10, 12, 16, -6, -8, -12};
    for (size_t s = 0; s < G_N_ELEMENTS(speeds); s++)
        vp8_speed(640, 480, 800, speeds[s], 30 * secs);
    for (size_t s = 0; s < G_N_ELEMENTS(speeds); s++)
        vp8_speed(1280, 720, 1500, speeds[s], 30 * secs);

    media_opus_enc_config oc = MEDIA_OPUS_ENC_CONFIG_INIT;
    media_opus_enc *oenc;
    media_opus_enc_new(&oenc, &oc);
    media_synth_audio src;
    media_synth_audio_init(&src, 1, 100);
    enum { N = 1500 }; /* 30 s of audio */
    static int16_t pcm[N][MEDIA_OPUS_FRAME];
    for (int i = 0; i < N; i++)
        media_synth_audio_fill(&src, pcm[i], MEDIA_OPUS_FRAME);
    uint8_t pkt[MEDIA_OPUS_MAX_PACKET];
    double c0 = cpu_seconds();
    for (int i = 0; i < N; i++) {
        size_t len;
        media_opus_enc_encode(oenc, pcm[i], pkt, sizeof pkt, &len);
    }
    double us = (cpu_seconds() - c0) * 1e6 / N;
    printf("opus mono 32 kbit/s complexity 9 FEC DTX: %.1f us per 20 ms "
           "frame (%.2f%% of one core)\n",
           us, us / 200.0);
    media_opus_enc_free(oenc);
    return 0;
}
