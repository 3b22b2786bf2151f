/*
 * Unit tests of the loss-based rate controller, the receiver statistics
 * (RFC 3550 A.3 loss, A.8 jitter, LSR/DLSR), RTT, rate counters and the
 * lip-sync mapping, against hand-computed values.
 */
#include <glib.h>
#include <string.h>

#include "playout.h"

#define S (G_USEC_PER_SEC)

static void test_ratectl_math(void)
{
    rtp_ratectl rc;

    g_assert_cmpint(rtp_ratectl_init(&rc, 100, 200, 300), ==, RTP_ERR_ARG);
    g_assert_cmpint(rtp_ratectl_init(&rc, 100, 0, 300), ==, RTP_ERR_ARG);
    g_assert_cmpint(rtp_ratectl_init(&rc, 400, 200, 300), ==, RTP_ERR_ARG);
    g_assert_cmpint(rtp_ratectl_init(&rc, 1000000, 100000, 2000000), ==,
                    RTP_OK);
    /* first report: no time has passed, nothing to add */
    g_assert_cmpuint(rtp_ratectl_on_report(&rc, 0, 0), ==, 1000000);
    /* 1 s without loss: +8 % */
    g_assert_cmpuint(rtp_ratectl_on_report(&rc, 0, S), ==, 1080000);
    /* 50 % loss: rate * (1 - 0.25) */
    g_assert_cmpuint(rtp_ratectl_on_report(&rc, 128, S + S / 2), ==, 810000);
    /* the same loss again within 300 ms + RTT (100 ms): held */
    g_assert_cmpuint(rtp_ratectl_on_report(&rc, 128, S + S / 2 + 300000), ==,
                     810000);
    /* 400 ms after the decrease: decreases again */
    g_assert_cmpuint(rtp_ratectl_on_report(&rc, 128, S + S / 2 + 400000), ==,
                     607500);
    /* 5 % (13/256): hold */
    g_assert_cmpuint(rtp_ratectl_on_report(&rc, 13, 3 * S), ==, 607500);
    /* 1.95 % (5/256) counts as no loss: 0.5 s -> +4 % */
    g_assert_cmpuint(rtp_ratectl_on_report(&rc, 5, 3 * S + S / 2), ==, 631800);
    /* 10.2 % (26/256): decrease by 5.1 % */
    g_assert_cmpuint(rtp_ratectl_on_report(&rc, 26, 4 * S), ==,
                     (uint32_t) (631800ull * (512 - 26) / 512));
}

static void test_ratectl_sustained_loss(void)
{
    rtp_ratectl rc;
    uint32_t prev, low;
    int64_t t = 0;

    g_assert_cmpint(rtp_ratectl_init(&rc, 1500000, 150000, 2500000), ==,
                    RTP_OK);
    rtp_ratectl_set_rtt(&rc, 50000);
    prev = rtp_ratectl_target(&rc);
    /* 10 s of 15 % loss, receiver reports every second */
    for (int i = 0; i < 10; i++) {
        uint32_t r = rtp_ratectl_on_report(&rc, 38, t);
        g_assert_cmpuint(r, <, prev);
        prev = r;
        t += S;
    }
    low = prev;
    g_assert_cmpuint(low, <, 750000);
    g_assert_cmpuint(low, >=, 150000);
    /* loss stops: climbs again, 8 %/s, up to the maximum */
    for (int i = 0; i < 10; i++) {
        uint32_t r = rtp_ratectl_on_report(&rc, 0, t);
        g_assert_cmpuint(r, >, prev);
        prev = r;
        t += S;
    }
    g_assert_cmpuint(prev, >, low * 2);
    for (int i = 0; i < 60; i++, t += S)
        prev = rtp_ratectl_on_report(&rc, 0, t);
    g_assert_cmpuint(prev, ==, 2500000);
    /* heavy loss never goes below the minimum */
    for (int i = 0; i < 60; i++, t += S)
        prev = rtp_ratectl_on_report(&rc, 255, t);
    g_assert_cmpuint(prev, ==, 150000);
    g_test_message("after 10 s of 15%% loss: %u b/s", low);
}

static void test_ratectl_remb(void)
{
    rtp_ratectl rc;
    int64_t t = 0;

    g_assert_cmpint(rtp_ratectl_init(&rc, 1000000, 100000, 2000000), ==,
                    RTP_OK);
    rtp_ratectl_on_remb(&rc, 300000);
    g_assert_cmpuint(rtp_ratectl_target(&rc), ==, 300000);
    for (int i = 0; i < 20; i++, t += S)
        g_assert_cmpuint(rtp_ratectl_on_report(&rc, 0, t), ==, 300000);
    /* REMB below the minimum: the minimum wins */
    rtp_ratectl_on_remb(&rc, 1000);
    g_assert_cmpuint(rtp_ratectl_target(&rc), ==, 100000);
    /* cleared: grows from where it was */
    rtp_ratectl_on_remb(&rc, 0);
    g_assert_cmpuint(rtp_ratectl_on_report(&rc, 0, t), ==, 108000);
}

/* ------------------------------------------------------------------------
 * Receiver statistics
 */
static void test_rx_jitter(void)
{
    rtp_rx_stats s;
    rtcp_report_block rb;

    /* 8 kHz, 20 ms packets; the third 10 ms (80 ticks) late:
     * D = 0, 80, -80 -> J = 0, 5, 9.6875 (RFC 3550 A.8 integer: 9). */
    rtp_rx_stats_init(&s, 8000);
    rtp_rx_stats_on_packet(&s, 0, 0, 0);
    rtp_rx_stats_on_packet(&s, 1, 160, 20000);
    rtp_rx_stats_on_packet(&s, 2, 320, 50000);
    g_assert_cmpuint(s.jitter_q4 >> 4, ==, 5);
    rtp_rx_stats_on_packet(&s, 3, 480, 60000);
    rtp_rx_stats_report(&s, 60000, &rb);
    g_assert_cmpuint(rb.jitter, ==, 9);
    g_assert_cmpint(rtp_rx_stats_jitter_us(&s), ==, 9 * 125);
    g_assert_cmpuint(rb.fraction_lost, ==, 0);
    g_assert_cmpint(rb.cumulative_lost, ==, 0);
    g_assert_cmpuint(rb.ext_highest_seq, ==, 3);
    g_assert_cmpuint(rb.lsr, ==, 0);
    g_assert_cmpuint(rb.dlsr, ==, 0);
    /* a late (reordered) packet is counted but gives no jitter sample */
    rtp_rx_stats_on_packet(&s, 2, 320, 900000);
    g_assert_cmpuint(s.jitter_q4 >> 4, ==, 9);
}

static void test_rx_loss(void)
{
    rtp_rx_stats s;
    rtcp_report_block rb;
    int64_t t = 0;

    rtp_rx_stats_init(&s, 90000);
    /* 0..9 without 4 and 7: 2 of 10 lost -> fraction 2*256/10 = 51 */
    for (uint16_t q = 0; q < 10; q++)
        if (q != 4 && q != 7)
            rtp_rx_stats_on_packet(&s, q, q * 3000u, t += 33333);
    rtp_rx_stats_report(&s, t, &rb);
    g_assert_cmpuint(rb.fraction_lost, ==, 51);
    g_assert_cmpint(rb.cumulative_lost, ==, 2);
    g_assert_cmpuint(rb.ext_highest_seq, ==, 9);
    g_assert_cmpint(rtp_rx_stats_lost(&s), ==, 2);
    /* 10..19 plus a duplicate of 15: 11 received for 10 expected:
     * the interval shows no loss, the total drops to 1 */
    for (uint16_t q = 10; q < 20; q++)
        rtp_rx_stats_on_packet(&s, q, q * 3000u, t += 33333);
    rtp_rx_stats_on_packet(&s, 15, 15 * 3000u, t);
    rtp_rx_stats_report(&s, t, &rb);
    g_assert_cmpuint(rb.fraction_lost, ==, 0);
    g_assert_cmpint(rb.cumulative_lost, ==, 1);
    /* an empty interval */
    rtp_rx_stats_report(&s, t, &rb);
    g_assert_cmpuint(rb.fraction_lost, ==, 0);
}

static void test_rx_wrap_and_restart(void)
{
    rtp_rx_stats s;
    rtcp_report_block rb;

    rtp_rx_stats_init(&s, 90000);
    for (uint32_t i = 0; i < 12; i++)
        rtp_rx_stats_on_packet(&s, (uint16_t) (65530 + i), i * 3000, i * 1000);
    rtp_rx_stats_report(&s, 0, &rb);
    g_assert_cmpuint(rb.ext_highest_seq, ==, 65536 + 5);
    g_assert_cmpint(rb.cumulative_lost, ==, 0);
    /* a jump of 20000 is believed only when the next packet follows */
    rtp_rx_stats_on_packet(&s, 20000, 0, 20000);
    rtp_rx_stats_report(&s, 0, &rb);
    g_assert_cmpuint(rb.ext_highest_seq, ==, 65536 + 5);
    rtp_rx_stats_on_packet(&s, 20001, 3000, 21000);
    rtp_rx_stats_report(&s, 0, &rb);
    g_assert_cmpuint(rb.ext_highest_seq, ==, 20001);
    g_assert_cmpint(rb.cumulative_lost, ==, 0);
}

static void test_lsr_dlsr_rtt(void)
{
    rtp_rx_stats s;
    rtcp_report_block rb;
    int64_t rtt;

    rtp_rx_stats_init(&s, 90000);
    rtp_rx_stats_on_packet(&s, 1, 0, 0);
    rtp_rx_stats_on_sr(&s, UINT64_C(0x0001234567890000), 1000000);
    rtp_rx_stats_report(&s, 1500000, &rb);
    g_assert_cmphex(rb.lsr, ==, 0x23456789);
    g_assert_cmpuint(rb.dlsr, ==, 32768); /* 0.5 s in 1/65536 s */

    /* The sender's side: A = LSR + DLSR + 50 ms (3277 / 65536 s). */
    memset(&rb, 0, sizeof(rb));
    rb.lsr = 0x10000000;
    rb.dlsr = 0x8000;
    g_assert_cmpint(rtp_rtt_from_report(0x10000000 + 0x8000 + 3277, &rb, &rtt),
                    ==, RTP_OK);
    g_assert_cmpint(rtt, ==, 3277 * G_GINT64_CONSTANT(1000000) / 65536);
    g_assert_cmpint(rtt, ==, 50003);
    /* wraps in 32 bits */
    rb.lsr = 0xffffff00;
    rb.dlsr = 0x100;
    g_assert_cmpint(rtp_rtt_from_report(0x00000100, &rb, &rtt), ==, RTP_OK);
    g_assert_cmpint(rtt, ==, 256 * G_GINT64_CONSTANT(1000000) / 65536);
    rb.lsr = 0;
    g_assert_cmpint(rtp_rtt_from_report(5, &rb, &rtt), ==, RTP_ERR_NOT_FOUND);
    rb.lsr = 1000;
    rb.dlsr = 1000;
    g_assert_cmpint(rtp_rtt_from_report(1500, &rb, &rtt), ==, RTP_ERR_INVALID);

    /* NTP from Unix time */
    g_assert_cmphex(rtp_ntp_from_unix_us(0), ==, UINT64_C(2208988800) << 32);
    g_assert_cmphex(rtp_ntp_from_unix_us(1500000), ==,
                    (UINT64_C(2208988801) << 32) | 0x80000000u);
    g_assert_cmphex(rtp_ntp_compact(UINT64_C(0x0001234567890000)), ==,
                    0x23456789);
}

static void test_rate_counter(void)
{
    rtp_rate r;
    int64_t t;

    rtp_rate_init(&r, S);
    /* 30 events of 1000 bytes per second for 2 s */
    for (t = 0; t < 2 * S; t += S / 30 + 1)
        rtp_rate_add(&r, t, 1000);
    g_assert_cmpuint(rtp_rate_events_milli(&r, t), >=, 29500);
    g_assert_cmpuint(rtp_rate_events_milli(&r, t), <=, 30500);
    g_assert_cmpuint(rtp_rate_bps(&r, t), >=, 236000);
    g_assert_cmpuint(rtp_rate_bps(&r, t), <=, 244000);
    /* silence: the window empties */
    g_assert_cmpuint(rtp_rate_events_milli(&r, t + 2 * S), ==, 0);
    g_assert_cmpuint(rtp_rate_bps(&r, t + 2 * S), ==, 0);
    /* just started: rate over the time seen so far */
    rtp_rate_init(&r, S);
    rtp_rate_add(&r, 0, 100);
    rtp_rate_add(&r, 250000, 100);
    g_assert_cmpuint(rtp_rate_events_milli(&r, 500000), ==, 4000);
}

/* ------------------------------------------------------------------------
 * Lip sync
 */
static uint64_t ntp_at(double secs)
{
    return (uint64_t) (secs * 4294967296.0);
}

static void test_lip_sync(void)
{
    rtp_sync a, v;
    int64_t us, delay;

    rtp_sync_init(&a, 48000);
    rtp_sync_init(&v, 90000);
    g_assert_cmpint(rtp_sync_capture_us(&a, 0, &us), ==, RTP_ERR_NOT_FOUND);
    /* SRs: audio ts 48000 at 1000 s, video ts 450000 at 1000.25 s */
    rtp_sync_on_sr(&a, ntp_at(1000.0), 48000);
    rtp_sync_on_sr(&v, ntp_at(1000.25), 450000);
    g_assert_cmpint(rtp_sync_capture_us(&a, 48000 + 480, &us), ==, RTP_OK);
    g_assert_cmpint(us, ==, G_GINT64_CONSTANT(1000010000));
    /* before the SR, also across the 32-bit wrap */
    g_assert_cmpint(rtp_sync_capture_us(&a, 48000 - 4800, &us), ==, RTP_OK);
    g_assert_cmpint(us, ==, G_GINT64_CONSTANT(999900000));
    rtp_sync_on_sr(&a, ntp_at(1000.0), 100);
    g_assert_cmpint(rtp_sync_capture_us(&a, (uint32_t) -380, &us), ==, RTP_OK);
    g_assert_cmpint(us, ==, G_GINT64_CONSTANT(1000000000) - 10000);
    rtp_sync_on_sr(&a, ntp_at(1000.0), 48000);

    /* Both captured at 1000.1 s: audio ts 48000 + 4800, video ts
     * 450000 - 0.15 * 90000. Audio plays at local 5.30 s, video at
     * 5.35 s: video is 50 ms later, so audio must wait 50 ms. */
    g_assert_cmpint(rtp_sync_relative_delay(&a, 48000 + 4800, 5300000, &v,
                                            450000 - 13500, 5350000, &delay),
                    ==, RTP_OK);
    g_assert_cmpint(delay, ==, 50000);
    /* The other way round. */
    g_assert_cmpint(rtp_sync_relative_delay(&a, 48000 + 4800, 5400000, &v,
                                            450000 - 13500, 5350000, &delay),
                    ==, RTP_OK);
    g_assert_cmpint(delay, ==, -50000);
    /* A stream without SR cannot be placed. */
    rtp_sync_init(&v, 90000);
    g_assert_cmpint(rtp_sync_relative_delay(&a, 0, 0, &v, 0, 0, &delay), ==,
                    RTP_ERR_NOT_FOUND);
}

/* Lip sync applied through two jitter buffers: the audio buffer's extra
 * delay moves its playout by the measured offset. */
static void test_lip_sync_jb(void)
{
    rtp_jb_config ac, vc;
    rtp_jb *ajb, *vjb;
    rtp_sync as, vs;
    rtp_packet p;
    rtp_jb_frame af, vf;
    uint8_t opus[] = {0xf8, 0xff, 0xfe}; /* CELT 20 ms */
    uint8_t vp8[] = {0x10, 0x10, 0x00};  /* keyframe */
    uint8_t buf[16];
    int64_t delay;

    rtp_jb_config_init(&ac, RTP_JB_OPUS);
    rtp_jb_config_init(&vc, RTP_JB_VP8);
    g_assert_cmpint(rtp_jb_new(&ajb, &ac), ==, RTP_OK);
    g_assert_cmpint(rtp_jb_new(&vjb, &vc), ==, RTP_OK);
    rtp_sync_init(&as, 48000);
    rtp_sync_init(&vs, 90000);
    /* Captured together at sender time 100 s. */
    rtp_sync_on_sr(&as, ntp_at(100.0), 1000);
    rtp_sync_on_sr(&vs, ntp_at(100.0), 5000);
    /* Audio arrives at 10 ms, video (bigger, slower path) at 70 ms. */
    memset(&p, 0, sizeof(p));
    p.seq = 1;
    p.timestamp = 1000;
    p.payload = opus;
    p.payload_len = sizeof(opus);
    g_assert_cmpint(rtp_jb_insert(ajb, &p, 10000), ==, RTP_JB_INSERTED);
    p.timestamp = 5000;
    p.payload = vp8;
    p.payload_len = sizeof(vp8);
    p.marker = true;
    g_assert_cmpint(rtp_jb_insert(vjb, &p, 70000), ==, RTP_JB_INSERTED);
    g_assert_cmpint(rtp_jb_pop(ajb, S, &af, buf, sizeof(buf)), ==, 1);
    g_assert_cmpint(rtp_jb_pop(vjb, S, &vf, buf, sizeof(buf)), ==, 1);
    /* audio: 10 + 20 (min delay); video: 70 + 5 */
    g_assert_cmpint(af.playout_us, ==, 30000);
    g_assert_cmpint(vf.playout_us, ==, 75000);
    g_assert_cmpint(rtp_sync_relative_delay(&as, af.timestamp, af.playout_us,
                                            &vs, vf.timestamp, vf.playout_us,
                                            &delay),
                    ==, RTP_OK);
    g_assert_cmpint(delay, ==, 45000);
    /* Delay audio by that much: the next audio frame plays in step. */
    rtp_jb_set_extra_delay(ajb, delay);
    p.seq = 2;
    p.timestamp = 1000 + 960;
    p.payload = opus;
    p.payload_len = sizeof(opus);
    p.marker = false;
    g_assert_cmpint(rtp_jb_insert(ajb, &p, 30000), ==, RTP_JB_INSERTED);
    g_assert_cmpint(rtp_jb_pop(ajb, S, &af, buf, sizeof(buf)), ==, 1);
    /* 20 ms later in media time, 45 ms later in playout than before */
    g_assert_cmpint(af.playout_us, ==, 30000 + 20000 + 45000);
    rtp_jb_free(ajb);
    rtp_jb_free(vjb);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ratectl/math", test_ratectl_math);
    g_test_add_func("/ratectl/sustained-loss", test_ratectl_sustained_loss);
    g_test_add_func("/ratectl/remb", test_ratectl_remb);
    g_test_add_func("/stats/jitter", test_rx_jitter);
    g_test_add_func("/stats/loss", test_rx_loss);
    g_test_add_func("/stats/wrap-restart", test_rx_wrap_and_restart);
    g_test_add_func("/stats/lsr-dlsr-rtt", test_lsr_dlsr_rtt);
    g_test_add_func("/stats/rate", test_rate_counter);
    g_test_add_func("/sync/capture-time", test_lip_sync);
    g_test_add_func("/sync/jitter-buffers", test_lip_sync_jb);
    return g_test_run();
}
