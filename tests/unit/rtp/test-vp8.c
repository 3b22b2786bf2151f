/*
 * Unit tests of the VP8 RTP payload (RFC 7741): descriptor byte vectors
 * and every truncation of them, the VP8 payload header, and the
 * packetizer -> depacketizer round trip across frame sizes and MTUs
 * (through the descriptor parser and through the jitter buffer's frame
 * assembler). Truncated inputs are parsed from heap copies of exactly
 * their length so ASan sees any overread.
 */
#include <glib.h>
#include <string.h>

#include "playout.h"

static int parse_exact(const uint8_t *bytes, size_t len, rtp_vp8_desc *d)
{
    uint8_t *copy = g_malloc(len > 0 ? len : 1);
    int rc;

    memcpy(copy, bytes, len);
    rc = rtp_vp8_desc_parse(d, copy, len);
    g_free(copy);
    return rc;
}

/* Every proper prefix of a valid payload must be refused. */
static void check_truncations(const uint8_t *bytes, size_t desc_len)
{
    rtp_vp8_desc d;

    for (size_t n = 0; n <= desc_len; n++)
        g_assert_cmpint(parse_exact(bytes, n, &d), ==, RTP_ERR_TRUNCATED);
}

static void check_rebuild(const uint8_t *bytes, size_t desc_len,
                          const rtp_vp8_desc *d)
{
    uint8_t out[RTP_VP8_DESC_MAX];

    g_assert_cmpuint(rtp_vp8_desc_size(d), ==, desc_len);
    g_assert_cmpint(rtp_vp8_desc_build(out, sizeof(out), d), ==,
                    (int) desc_len);
    g_assert_cmpmem(out, desc_len, bytes, desc_len);
    g_assert_cmpint(rtp_vp8_desc_build(out, desc_len - 1, d), ==,
                    RTP_ERR_NOSPACE);
}

static void test_desc_minimal(void)
{
    /* X=0 N=0 S=1 PID=0, one byte of VP8 data */
    static const uint8_t b[] = {0x10, 0xaa};
    rtp_vp8_desc d;

    g_assert_cmpint(parse_exact(b, sizeof(b), &d), ==, 1);
    g_assert_true(d.start);
    g_assert_false(d.non_reference);
    g_assert_cmpuint(d.partition, ==, 0);
    g_assert_false(d.has_picture_id || d.has_tl0picidx || d.has_tid ||
                   d.has_keyidx);
    check_truncations(b, 1);
    check_rebuild(b, 1, &d);
}

static void test_desc_short_picture_id(void)
{
    /* RFC 7741 section 4.2 with the R bit set (receivers ignore it):
     * X=1 R=1 N=0 S=1 PID=0 | I=1 | M=0 PictureID=17 | data */
    static const uint8_t b[] = {0xd0, 0x80, 0x11, 0x00};
    static const uint8_t clean[] = {0x90, 0x80, 0x11};
    rtp_vp8_desc d;

    g_assert_cmpint(parse_exact(b, sizeof(b), &d), ==, 3);
    g_assert_true(d.start);
    g_assert_true(d.has_picture_id);
    g_assert_false(d.long_picture_id);
    g_assert_cmpuint(d.picture_id, ==, 17);
    check_truncations(b, 3);
    /* Rebuilt, the reserved bit is written as zero. */
    check_rebuild(clean, 3, &d);
}

static void test_desc_long_picture_id(void)
{
    /* X=1 S=1 | I=1 | M=1 PictureID=0x1234 (15 bits) | data */
    static const uint8_t b[] = {0x90, 0x80, 0x92, 0x34, 0x9d};
    rtp_vp8_desc d;

    g_assert_cmpint(parse_exact(b, sizeof(b), &d), ==, 4);
    g_assert_true(d.long_picture_id);
    g_assert_cmpuint(d.picture_id, ==, 0x1234);
    check_truncations(b, 4);
    check_rebuild(b, 4, &d);
}

static void test_desc_all_fields(void)
{
    /* X=1 N=1 S=1 PID=3 | I L T K | M=1 PictureID=0x7fff | TL0PICIDX=0x42
     * | TID=2 Y=1 KEYIDX=5 | data */
    static const uint8_t b[] = {0xb3, 0xf0, 0xff, 0xff, 0x42, 0xa5, 0x01};
    rtp_vp8_desc d;

    g_assert_cmpint(parse_exact(b, sizeof(b), &d), ==, 6);
    g_assert_true(d.non_reference);
    g_assert_true(d.start);
    g_assert_cmpuint(d.partition, ==, 3);
    g_assert_true(d.has_picture_id && d.long_picture_id);
    g_assert_cmpuint(d.picture_id, ==, 0x7fff);
    g_assert_true(d.has_tl0picidx);
    g_assert_cmpuint(d.tl0picidx, ==, 0x42);
    g_assert_true(d.has_tid);
    g_assert_cmpuint(d.tid, ==, 2);
    g_assert_true(d.layer_sync);
    g_assert_true(d.has_keyidx);
    g_assert_cmpuint(d.keyidx, ==, 5);
    check_truncations(b, 6);
    check_rebuild(b, 6, &d);
}

static void test_desc_tid_keyidx_alone(void)
{
    /* K only: the T/K byte carries KEYIDX, TID reads as 0. */
    static const uint8_t k[] = {0x80, 0x10, 0x1f, 0x00};
    /* T only: TID=3, Y=0; KEYIDX bits ignored. */
    static const uint8_t t[] = {0x00 | 0x80, 0x20, 0xc0, 0x00};
    /* L only (libwebrtc accepts it; so do we). */
    static const uint8_t l[] = {0x80, 0x40, 0x07, 0x00};
    rtp_vp8_desc d;

    g_assert_cmpint(parse_exact(k, sizeof(k), &d), ==, 3);
    g_assert_true(d.has_keyidx && !d.has_tid);
    g_assert_cmpuint(d.keyidx, ==, 31);
    g_assert_false(d.start);
    check_rebuild(k, 3, &d);

    g_assert_cmpint(parse_exact(t, sizeof(t), &d), ==, 3);
    g_assert_true(d.has_tid && !d.has_keyidx);
    g_assert_cmpuint(d.tid, ==, 3);
    g_assert_false(d.layer_sync);
    check_rebuild(t, 3, &d);

    g_assert_cmpint(parse_exact(l, sizeof(l), &d), ==, 3);
    g_assert_true(d.has_tl0picidx && !d.has_tid);
    g_assert_cmpuint(d.tl0picidx, ==, 7);
    check_rebuild(l, 3, &d);

    /* X byte with nothing set: legal, 2-byte descriptor. */
    static const uint8_t x0[] = {0x90, 0x00, 0x55};
    g_assert_cmpint(parse_exact(x0, sizeof(x0), &d), ==, 2);
}

static void test_desc_build_errors(void)
{
    rtp_vp8_desc d;
    uint8_t out[8];

    memset(&d, 0, sizeof(d));
    d.partition = 8;
    g_assert_cmpint(rtp_vp8_desc_build(out, sizeof(out), &d), ==, RTP_ERR_ARG);
    memset(&d, 0, sizeof(d));
    d.has_picture_id = true;
    d.picture_id = 0x80; /* 7 bits only */
    g_assert_cmpint(rtp_vp8_desc_build(out, sizeof(out), &d), ==, RTP_ERR_ARG);
    d.long_picture_id = true;
    g_assert_cmpint(rtp_vp8_desc_build(out, sizeof(out), &d), ==, 4);
    d.picture_id = 0x8000;
    g_assert_cmpint(rtp_vp8_desc_build(out, sizeof(out), &d), ==, RTP_ERR_ARG);
    memset(&d, 0, sizeof(d));
    d.has_tid = true;
    d.tid = 4;
    g_assert_cmpint(rtp_vp8_desc_build(out, sizeof(out), &d), ==, RTP_ERR_ARG);
    memset(&d, 0, sizeof(d));
    d.has_keyidx = true;
    d.keyidx = 32;
    g_assert_cmpint(rtp_vp8_desc_build(out, sizeof(out), &d), ==, RTP_ERR_ARG);
    g_assert_cmpint(rtp_vp8_desc_build(NULL, 8, &d), ==, RTP_ERR_ARG);
    g_assert_cmpint(rtp_vp8_desc_parse(NULL, out, 8), ==, RTP_ERR_ARG);
    g_assert_cmpint(rtp_vp8_desc_parse(&d, NULL, 8), ==, RTP_ERR_ARG);
}

static void test_frame_info(void)
{
    /* Keyframe: tag P=0 ver=0 show=1 size=18, start code, 640x480 with
     * scale bits set (they are not part of the size). */
    static const uint8_t key[] = {0x50, 0x02, 0x00, 0x9d, 0x01,
                                  0x2a, 0x80, 0x42, 0xe0, 0x81};
    static const uint8_t delta[] = {0x31, 0x01, 0x00};
    uint8_t bad[sizeof(key)];
    rtp_vp8_frame_info fi;

    g_assert_cmpint(rtp_vp8_frame_info_parse(&fi, key, sizeof(key)), ==,
                    RTP_OK);
    g_assert_true(fi.keyframe);
    g_assert_true(fi.show_frame);
    g_assert_cmpuint(fi.version, ==, 0);
    g_assert_cmpuint(fi.first_partition_size, ==, 18);
    g_assert_cmpuint(fi.width, ==, 640);
    g_assert_cmpuint(fi.height, ==, 480);
    for (size_t n = 0; n < sizeof(key); n++)
        g_assert_cmpint(rtp_vp8_frame_info_parse(&fi, key, n), ==,
                        RTP_ERR_TRUNCATED);
    memcpy(bad, key, sizeof(key));
    bad[4] = 0x02;
    g_assert_cmpint(rtp_vp8_frame_info_parse(&fi, bad, sizeof(bad)), ==,
                    RTP_ERR_INVALID);

    g_assert_cmpint(rtp_vp8_frame_info_parse(&fi, delta, sizeof(delta)), ==,
                    RTP_OK);
    g_assert_false(fi.keyframe);
    g_assert_cmpuint(fi.version, ==, 0);
    g_assert_true(fi.show_frame);
    g_assert_cmpuint(fi.first_partition_size, ==, 9);
}

/* A synthetic frame: byte 0 carries the keyframe bit, the rest a
 * pattern from the seed. */
static uint8_t *make_frame(size_t len, bool key, uint32_t seed)
{
    uint8_t *f = g_malloc(len);

    for (size_t i = 0; i < len; i++)
        f[i] = (uint8_t) (seed * 31 + i * 7 + (i >> 8));
    f[0] = (uint8_t) ((f[0] & ~1u) | (key ? 0 : 1));
    return f;
}

/* Packetizes and depacketizes one frame; returns the packet count. */
static size_t round_trip(size_t len, size_t mtu, bool key, uint16_t pid,
                         rtp_jb *jb, uint16_t *seq, uint32_t ts)
{
    uint8_t *frame = make_frame(len, key, pid);
    uint8_t *back = g_malloc(len);
    uint8_t pkt[2000];
    rtp_vp8_packetizer p;
    size_t got = 0, count, room, min_sz = SIZE_MAX, max_sz = 0, i = 0;
    bool last = false;
    int n;

    g_assert_cmpint(
        rtp_vp8_packetizer_init(&p, frame, len, key, pid, NULL, mtu), ==,
        RTP_OK);
    count = rtp_vp8_packetizer_count(&p);
    room = mtu - 4; /* 15-bit picture id: 4 descriptor bytes */
    g_assert_cmpuint(count, ==, (len + room - 1) / room);
    while ((n = rtp_vp8_packetizer_next(&p, pkt, sizeof(pkt), &last)) > 0) {
        rtp_vp8_desc d;
        int dl = rtp_vp8_desc_parse(&d, pkt, (size_t) n);

        g_assert_cmpuint((size_t) n, <=, mtu);
        g_assert_cmpint(dl, ==, 4);
        g_assert_true(d.start == (i == 0));
        g_assert_cmpuint(d.partition, ==, 0);
        g_assert_true(d.has_picture_id && d.long_picture_id);
        g_assert_cmpuint(d.picture_id, ==, pid & 0x7fff);
        g_assert_false(d.non_reference);
        g_assert_true(last == (i + 1 == count));
        min_sz = MIN(min_sz, (size_t) n);
        max_sz = MAX(max_sz, (size_t) n);
        g_assert_cmpuint(got + (size_t) n - 4, <=, len);
        memcpy(back + got, pkt + 4, (size_t) n - 4);
        got += (size_t) n - 4;
        if (jb != NULL) {
            rtp_packet rp;
            memset(&rp, 0, sizeof(rp));
            rp.seq = (*seq)++;
            rp.timestamp = ts;
            rp.marker = last;
            rp.payload = pkt;
            rp.payload_len = (size_t) n;
            g_assert_cmpint(rtp_jb_insert(jb, &rp, 0), ==, RTP_JB_INSERTED);
        }
        i++;
    }
    g_assert_cmpint(n, ==, 0);
    g_assert_cmpuint(i, ==, count);
    g_assert_true(last);
    /* Equal-size fragmentation. */
    g_assert_cmpuint(max_sz - min_sz, <=, 1);
    g_assert_cmpmem(back, len, frame, len);

    if (jb != NULL) {
        rtp_jb_frame f;
        uint8_t *out = g_malloc(len + 16);
        /* Far in the future: everything due. */
        g_assert_cmpint(rtp_jb_pop(jb, INT64_C(1) << 40, &f, out, len + 16), ==,
                        1);
        g_assert_cmpuint(f.len, ==, len);
        g_assert_cmpmem(out, len, frame, len);
        g_assert_true(f.keyframe == key);
        g_assert_cmpuint(f.picture_id, ==, pid & 0x7fff);
        g_assert_cmpuint(f.timestamp, ==, ts);
        g_assert_cmpuint((uint16_t) (f.last_seq - f.first_seq) + 1u, ==, count);
        g_assert_cmpint(rtp_jb_pop(jb, INT64_C(1) << 40, &f, out, len + 16), ==,
                        0);
        g_free(out);
    }
    g_free(frame);
    g_free(back);
    return count;
}

static void test_packetize_round_trip(void)
{
    static const size_t sizes[] = {1,    2,     3,      9,     10,   11,
                                   100,  1000,  1195,   1196,  1197, 4000,
                                   9999, 65536, 100000, 250000};
    static const size_t mtus[] = {5, 6, 7, 50, 300, 1000, 1200, 1400, 1500};
    rtp_jb_config cfg;
    rtp_jb *jb;
    uint16_t seq = 65000; /* wraps during the test */
    uint32_t ts = 0xfffff000u;
    uint16_t pid = 0x7ff0;
    size_t total = 0;

    rtp_jb_config_init(&cfg, RTP_JB_VP8);
    cfg.slots = 4096;
    g_assert_cmpint(rtp_jb_new(&jb, &cfg), ==, RTP_OK);
    for (size_t m = 0; m < G_N_ELEMENTS(mtus); m++) {
        for (size_t s = 0; s < G_N_ELEMENTS(sizes); s++) {
            size_t room = mtus[m] - 4;
            bool via_jb = (sizes[s] + room - 1) / room < 4000;
            if ((sizes[s] + room - 1) / room > 65535) {
                /* RTP cannot number that many packets in one frame. */
                rtp_vp8_packetizer p;
                uint8_t *f = make_frame(sizes[s], true, 0);
                g_assert_cmpint(rtp_vp8_packetizer_init(&p, f, sizes[s], true,
                                                        0, NULL, mtus[m]),
                                ==, RTP_ERR_NOSPACE);
                g_free(f);
                continue;
            }
            /* The first frame into the buffer must be a keyframe. */
            bool key = (s % 3) == 0 || total == 0;
            total += round_trip(sizes[s], mtus[m], key, pid, via_jb ? jb : NULL,
                                &seq, ts);
            if (via_jb) {
                ts += 3000;
                pid = (uint16_t) ((pid + 1) & 0x7fff);
            }
        }
    }
    g_assert_cmpuint(total, >, 100000);
    rtp_jb_free(jb);
}

static void test_packetizer_errors(void)
{
    uint8_t frame[100];
    uint8_t out[200];
    rtp_vp8_packetizer p;
    rtp_vp8_desc tmpl;
    bool last;

    memset(frame, 0, sizeof(frame)); /* P=0: keyframe */
    g_assert_cmpint(rtp_vp8_packetizer_init(&p, frame, 0, true, 1, NULL, 100),
                    ==, RTP_ERR_ARG);
    /* keyframe flag disagrees with the frame tag */
    g_assert_cmpint(
        rtp_vp8_packetizer_init(&p, frame, sizeof(frame), false, 1, NULL, 100),
        ==, RTP_ERR_ARG);
    /* no room after the 4-byte descriptor */
    g_assert_cmpint(
        rtp_vp8_packetizer_init(&p, frame, sizeof(frame), true, 1, NULL, 4), ==,
        RTP_ERR_ARG);
    /* bad template */
    memset(&tmpl, 0, sizeof(tmpl));
    tmpl.has_tid = true;
    tmpl.tid = 9;
    g_assert_cmpint(
        rtp_vp8_packetizer_init(&p, frame, sizeof(frame), true, 1, &tmpl, 100),
        ==, RTP_ERR_ARG);
    /* template without picture id: one-byte descriptor */
    memset(&tmpl, 0, sizeof(tmpl));
    tmpl.non_reference = true; /* forced off for a keyframe */
    g_assert_cmpint(
        rtp_vp8_packetizer_init(&p, frame, sizeof(frame), true, 1, &tmpl, 51),
        ==, RTP_OK);
    g_assert_cmpuint(rtp_vp8_packetizer_count(&p), ==, 2);
    /* too small a buffer: refused, nothing consumed */
    g_assert_cmpint(rtp_vp8_packetizer_next(&p, out, 50, &last), ==,
                    RTP_ERR_NOSPACE);
    g_assert_cmpint(rtp_vp8_packetizer_next(&p, out, sizeof(out), &last), ==,
                    51);
    g_assert_cmphex(out[0], ==, 0x10);
    g_assert_false(last);
    g_assert_cmpint(rtp_vp8_packetizer_next(&p, out, sizeof(out), &last), ==,
                    51);
    g_assert_cmphex(out[0], ==, 0x00);
    g_assert_true(last);
    g_assert_cmpint(rtp_vp8_packetizer_next(&p, out, sizeof(out), &last), ==,
                    0);
    /* more than 65535 packets */
    {
        uint8_t *big = g_malloc0(70000);
        g_assert_cmpint(
            rtp_vp8_packetizer_init(&p, big, 70000, true, 1, NULL, 5), ==,
            RTP_ERR_NOSPACE);
        g_free(big);
    }
}

/* A sender in partition mode (RFC 7741 section 4.4): S=1 starts every
 * partition, PID counts them; only S=1 with PID=0 starts a frame. */
static void test_partitions_assemble(void)
{
    static const uint8_t p0a[] = {0x90, 0x80, 0x00, 0x10, 'a'};
    static const uint8_t p0b[] = {0x80, 0x80, 0x00, 'b'};
    static const uint8_t p1[] = {0x91, 0x80, 0x00, 'c'};
    static const uint8_t p2[] = {0x92, 0x80, 0x00, 'd', 'e'};
    static const uint8_t next[] = {0x90, 0x80, 0x01, 0x11, 'f'};
    const uint8_t *pl[] = {p0a, p0b, p1, p2, next};
    const size_t len[] = {sizeof(p0a), sizeof(p0b), sizeof(p1), sizeof(p2),
                          sizeof(next)};
    rtp_jb_config cfg;
    rtp_jb *jb;
    rtp_jb_frame f;
    uint8_t out[32];

    rtp_jb_config_init(&cfg, RTP_JB_VP8);
    g_assert_cmpint(rtp_jb_new(&jb, &cfg), ==, RTP_OK);
    for (size_t i = 0; i < 5; i++) {
        rtp_packet p;
        memset(&p, 0, sizeof(p));
        p.seq = (uint16_t) (7 + i);
        p.timestamp = i < 4 ? 100 : 3100;
        p.marker = i >= 3;
        p.payload = pl[i];
        p.payload_len = len[i];
        g_assert_cmpint(rtp_jb_insert(jb, &p, 0), ==, RTP_JB_INSERTED);
    }
    g_assert_cmpint(rtp_jb_pop(jb, 1000000, &f, out, sizeof(out)), ==, 1);
    g_assert_true(f.keyframe);
    g_assert_cmpuint(f.first_seq, ==, 7);
    g_assert_cmpuint(f.last_seq, ==, 10);
    g_assert_cmpmem(out, f.len,
                    "\x10"
                    "abcde",
                    6);
    g_assert_cmpint(rtp_jb_pop(jb, 1000000, &f, out, sizeof(out)), ==, 1);
    g_assert_false(f.keyframe);
    g_assert_cmpuint(f.picture_id, ==, 1);
    g_assert_cmpmem(out, f.len,
                    "\x11"
                    "f",
                    2);
    rtp_jb_free(jb);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vp8/desc/minimal", test_desc_minimal);
    g_test_add_func("/vp8/desc/short-picture-id", test_desc_short_picture_id);
    g_test_add_func("/vp8/desc/long-picture-id", test_desc_long_picture_id);
    g_test_add_func("/vp8/desc/all-fields", test_desc_all_fields);
    g_test_add_func("/vp8/desc/tid-keyidx-alone", test_desc_tid_keyidx_alone);
    g_test_add_func("/vp8/desc/build-errors", test_desc_build_errors);
    g_test_add_func("/vp8/frame-info", test_frame_info);
    g_test_add_func("/vp8/packetize/round-trip", test_packetize_round_trip);
    g_test_add_func("/vp8/packetize/errors", test_packetizer_errors);
    g_test_add_func("/vp8/partitions", test_partitions_assemble);
    return g_test_run();
}
