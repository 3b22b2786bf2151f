/*
 * Unit tests of libvid/rtp's RTCP code: compound iteration, SR, RR, SDES,
 * BYE, generic NACK, PLI, FIR, REMB and transport-cc. Byte vectors are
 * written out by hand with the fields explained; truncated input is always
 * parsed from a heap copy of exactly that many bytes so that ASan sees
 * any read past the end.
 */
#include <glib.h>
#include <string.h>

#include "rtp.h"

/* clang-format off */
/* ---- vectors ------------------------------------------------------------ */

/* Compound 1: SR with one report block, then SDES with a CNAME. */
static const uint8_t sr_sdes[] = {
    /* SR: V=2 P=0 RC=1, PT=200, length 12 words (52 bytes) */
    0x81, 0xc8, 0x00, 0x0c,
    0x11, 0x22, 0x33, 0x44, /* sender SSRC */
    0xe1, 0xf2, 0xa3, 0xb4, /* NTP seconds */
    0x80, 0x00, 0x00, 0x00, /* NTP fraction: .5 */
    0x00, 0x01, 0x5f, 0x90, /* RTP timestamp 90000 */
    0x00, 0x00, 0x00, 0x64, /* packet count 100 */
    0x00, 0x00, 0x27, 0x10, /* octet count 10000 */
    /* report block */
    0x55, 0x66, 0x77, 0x88, /* source SSRC */
    0x40, 0xff, 0xff, 0xfe, /* fraction lost 64/256, cumulative -2 */
    0x00, 0x01, 0x00, 0x10, /* extended highest seq: cycle 1, seq 16 */
    0x00, 0x00, 0x00, 0x20, /* jitter 32 */
    0xa3, 0xb4, 0x80, 0x00, /* LSR: middle 32 bits of the NTP time above */
    0x00, 0x01, 0x00, 0x00, /* DLSR: 1 s in 1/65536 s */
    /* SDES: V=2 P=0 SC=1, PT=202, length 4 words (20 bytes) */
    0x81, 0xca, 0x00, 0x04,
    0x11, 0x22, 0x33, 0x44, /* chunk SSRC */
    0x01, 0x09,             /* CNAME, 9 bytes */
    'u',  's',  'e',  'r',  '@', 'h', 'o', 's', 't',
    0x00, /* null item; 4+2+9+1 = 16 bytes, already 32-bit aligned */
};

/* Compound 2: RR with two report blocks, then BYE with a reason. */
static const uint8_t rr_bye[] = {
    /* RR: V=2 RC=2, PT=201, length 13 words (56 bytes) */
    0x82, 0xc9, 0x00, 0x0d,
    0x99, 0x88, 0x77, 0x66, /* sender SSRC */
    /* block 1: SSRC 1, no loss, highest seq 65535, jitter 5, no SR yet */
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x05,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    /* block 2: SSRC 2, fraction 255, cumulative 0x7fffff (largest
     * positive), highest seq 0x12345678, jitter 256, LSR 0xdeadbeef,
     * DLSR 0.5 s */
    0x00, 0x00, 0x00, 0x02, 0xff, 0x7f, 0xff, 0xff,
    0x12, 0x34, 0x56, 0x78, 0x00, 0x00, 0x01, 0x00,
    0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x80, 0x00,
    /* BYE: V=2 SC=1, PT=203, length 2 words (12 bytes) */
    0x81, 0xcb, 0x00, 0x02,
    0x99, 0x88, 0x77, 0x66, /* SSRC leaving */
    0x03, 'b',  'y',  'e',  /* reason length 3, "bye" */
};

/* Generic NACK (RFC 4585 6.2.1): two FCI entries. */
static const uint8_t nack[] = {
    0x81, 0xcd, 0x00, 0x04, /* FMT=1, PT=205, length 4 (20 bytes) */
    0x00, 0x00, 0x00, 0x01, /* sender SSRC */
    0x00, 0x00, 0x00, 0x02, /* media SSRC */
    0x03, 0xe8, 0x00, 0x05, /* PID 1000, BLP bits 0,2: 1001, 1003 */
    0xff, 0xff, 0x80, 0x01, /* PID 65535, bits 0,15: 0 and 15 (wrap) */
};

/* PLI (RFC 4585 6.3.1): no FCI. */
static const uint8_t pli[] = {
    0x81, 0xce, 0x00, 0x02, /* FMT=1, PT=206, length 2 (12 bytes) */
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
};

/* FIR (RFC 5104 4.3.1): media SSRC 0, one entry with seq nr 42. */
static const uint8_t fir[] = {
    0x84, 0xce, 0x00, 0x04, /* FMT=4, PT=206, length 4 (20 bytes) */
    0x00, 0x00, 0x00, 0x01, /* sender SSRC */
    0x00, 0x00, 0x00, 0x00, /* media SSRC: unused, 0 */
    0x00, 0x00, 0x00, 0x02, /* SSRC the request is for */
    0x2a, 0x00, 0x00, 0x00, /* seq nr 42, reserved */
};

/* REMB, the vector of libwebrtc's remb_unittest.cc: 3 SSRCs, exponent 1
 * and mantissa 0x3fb93, i.e. 522022 bps. */
static const uint8_t remb[] = {
    0x8f, 0xce, 0x00, 0x07, /* FMT=15 (AFB), PT=206, length 7 (32 bytes) */
    0x12, 0x34, 0x56, 0x78, /* sender SSRC */
    0x00, 0x00, 0x00, 0x00, /* media SSRC: 0 */
    'R',  'E',  'M',  'B',
    0x03,                   /* number of SSRCs */
    0x07,                   /* exponent 000001, mantissa bits 17..16: 11 */
    0xfb, 0x93,             /* mantissa bits 15..0 */
    0x23, 0x45, 0x67, 0x89, /* SSRC feedback x 3 */
    0x23, 0x45, 0x67, 0x8a,
    0x23, 0x45, 0x67, 0x8b,
};

/* transport-cc: 20 packets from base seq 0xfffe (wrapping), three chunk
 * kinds. Statuses per packet index:
 *   0..2  run-length chunk, symbol 1 (small delta), run 3
 *   3..9  two-bit vector: 2,0,1,0,0,0,0
 *   10..19 one-bit vector: 1,1,0,0,0,0,0,0,0,1 (+4 unused zero bits)
 * Received: 0,1,2 (small), 3 (large), 5, 10, 11, 19 (small). */
static const uint8_t twcc[] = {
    0x8f, 0xcd, 0x00, 0x08, /* FMT=15, PT=205, length 8 (36 bytes) */
    0x01, 0x02, 0x03, 0x04, /* sender SSRC */
    0x05, 0x06, 0x07, 0x08, /* media SSRC */
    0xff, 0xfe, 0x00, 0x14, /* base seq 65534, status count 20 */
    0x00, 0x00, 0x10, 0x07, /* reference time 16 (x 64 ms), fb count 7 */
    0x20, 0x03,             /* 0 01 0000000000011: run of 3, symbol 1 */
    0xe1, 0x00,             /* 1 1 10 00 01 00 00 00 00: 2,0,1,0,0,0,0 */
    0xb0, 0x10,             /* 1 0 11000000010000: 1,1,0*7,1,0*4 */
    0x04, 0x00, 0xff,       /* deltas 0..2: 1 ms, 0, 63.75 ms */
    0xff, 0xfc,             /* delta 3: large, -4 (-1 ms) */
    0x10, 0x01, 0x02, 0x03, /* deltas 5, 10, 11, 19 */
    0x00,                   /* zero padding to 32 bits */
};

/* transport-cc as Chrome sends it (a capture published with Wireshark's
 * dissection in olivermichel/webrtc-analysis, test/include/data.h): sent
 * alone (reduced size) and padded with the RTCP P bit. */
static const uint8_t twcc_chrome[] = {
    0xaf, 0xcd, 0x00, 0x07, /* V=2 P=1 FMT=15, PT=205, length 7 (32) */
    0x00, 0x00, 0x00, 0x01, /* sender SSRC 1 */
    0xdd, 0x58, 0x6e, 0xb6, /* media SSRC */
    0x00, 0x01, 0x00, 0x09, /* base seq 1, status count 9 */
    0x5e, 0x91, 0x10, 0x00, /* reference time 6197520, fb count 0 */
    0x20, 0x09,             /* run of 9, symbol 1 (small delta) */
    0x1c, 0x0c, 0x2c, 0x38, /* deltas: 7, 3, 11, 14 ms */
    0x00, 0x04, 0x00, 0x08, /* 0, 1, 0, 2 ms */
    0x18,                   /* 6 ms */
    0x01,                   /* RTCP padding: 1 byte (the count itself) */
};
/* clang-format on */

/* ---- helpers ------------------------------------------------------------ */

/* Parses every packet of a compound with the parser of its type. */
static int parse_any(const rtcp_header *h)
{
    rtcp_sr sr;
    rtcp_rr rr;
    rtcp_sdes sdes;
    rtcp_bye bye;
    rtcp_fb fb;
    rtcp_remb rb;
    rtcp_twcc tw;
    static rtcp_twcc_packet tp[65536];
    uint16_t seqs[4096];
    rtcp_fir_entry fe[64];
    size_t n;
    int rc;

    switch (h->pt) {
    case RTCP_PT_SR:
        return rtcp_sr_parse(&sr, h);
    case RTCP_PT_RR:
        return rtcp_rr_parse(&rr, h);
    case RTCP_PT_SDES:
        return rtcp_sdes_parse(&sdes, h);
    case RTCP_PT_BYE:
        return rtcp_bye_parse(&bye, h);
    case RTCP_PT_RTPFB:
    case RTCP_PT_PSFB:
        rc = rtcp_fb_parse(&fb, h);
        if (rc < 0)
            return rc;
        if (fb.pt == RTCP_PT_RTPFB && fb.fmt == RTCP_FMT_NACK)
            return rtcp_nack_parse(&fb, seqs, G_N_ELEMENTS(seqs), &n);
        if (fb.pt == RTCP_PT_RTPFB && fb.fmt == RTCP_FMT_TWCC)
            return rtcp_twcc_parse(&fb, &tw, tp, G_N_ELEMENTS(tp));
        if (fb.pt == RTCP_PT_PSFB && fb.fmt == RTCP_FMT_FIR)
            return rtcp_fir_parse(&fb, fe, G_N_ELEMENTS(fe), &n);
        if (fb.pt == RTCP_PT_PSFB && fb.fmt == RTCP_FMT_AFB)
            return rtcp_remb_parse(&rb, &fb);
        return RTP_OK;
    default:
        return RTP_OK;
    }
}

/* Iterates a heap copy of exactly @len bytes; returns the iter status or
 * the first packet parser failure. */
static int parse_compound(const uint8_t *bytes, size_t len, unsigned flags)
{
    uint8_t *copy = g_malloc(len > 0 ? len : 1);
    rtcp_iter it;
    rtcp_header h;
    size_t total = 0;
    int rc;

    memcpy(copy, bytes, len);
    rc = rtcp_iter_init(&it, copy, len, flags);
    if (rc == RTP_OK) {
        while (rtcp_iter_next(&it, &h) == 1) {
            g_assert_true(h.data + h.len <= copy + len);
            g_assert_true(h.body + h.body_len <= h.data + h.len);
            total += h.len;
            rc = parse_any(&h);
            if (rc < 0)
                break;
        }
        if (rc == RTP_OK)
            g_assert_cmpuint(total, ==, len);
    }
    g_free(copy);
    return rc;
}

/* The one packet in @bytes as an rtcp_header. */
static void single(const uint8_t *bytes, size_t len, rtcp_header *h)
{
    rtcp_iter it;

    g_assert_cmpint(rtcp_iter_init(&it, bytes, len, RTCP_FLAG_REDUCED_SIZE), ==,
                    RTP_OK);
    g_assert_cmpint(rtcp_iter_next(&it, h), ==, 1);
    g_assert_cmpuint(h->len, ==, len);
}

/* ---- compound ----------------------------------------------------------- */

static void test_compound_sr_sdes(void)
{
    rtcp_iter it;
    rtcp_header h;
    rtcp_sr sr;
    rtcp_sdes sdes;
    const uint8_t *cname;
    size_t cname_len;

    g_assert_cmpint(rtcp_iter_init(&it, sr_sdes, sizeof(sr_sdes), 0), ==,
                    RTP_OK);
    g_assert_cmpint(rtcp_iter_next(&it, &h), ==, 1);
    g_assert_cmpuint(h.pt, ==, RTCP_PT_SR);
    g_assert_cmpuint(h.count, ==, 1);
    g_assert_cmpuint(h.len, ==, 52);
    g_assert_cmpint(rtcp_sr_parse(&sr, &h), ==, RTP_OK);
    g_assert_cmpuint(sr.ssrc, ==, 0x11223344);
    g_assert_cmpuint(sr.ntp, ==, 0xe1f2a3b480000000ull);
    g_assert_cmpuint(sr.rtp_ts, ==, 90000);
    g_assert_cmpuint(sr.packet_count, ==, 100);
    g_assert_cmpuint(sr.octet_count, ==, 10000);
    g_assert_cmpuint(sr.report_count, ==, 1);
    g_assert_cmpuint(sr.reports[0].ssrc, ==, 0x55667788);
    g_assert_cmpuint(sr.reports[0].fraction_lost, ==, 64);
    g_assert_cmpint(sr.reports[0].cumulative_lost, ==, -2);
    g_assert_cmpuint(sr.reports[0].ext_highest_seq, ==, 0x10010);
    g_assert_cmpuint(sr.reports[0].jitter, ==, 32);
    g_assert_cmpuint(sr.reports[0].lsr, ==, (uint32_t) (sr.ntp >> 16));
    g_assert_cmpuint(sr.reports[0].dlsr, ==, 65536);
    g_assert_cmpint(rtcp_rr_parse(NULL, &h), ==, RTP_ERR_ARG);

    g_assert_cmpint(rtcp_iter_next(&it, &h), ==, 1);
    g_assert_cmpuint(h.pt, ==, RTCP_PT_SDES);
    g_assert_cmpint(rtcp_sdes_parse(&sdes, &h), ==, RTP_OK);
    g_assert_cmpuint(sdes.chunk_count, ==, 1);
    g_assert_cmpuint(sdes.chunks[0].item_count, ==, 1);
    g_assert_cmpint(rtcp_sdes_find_cname(&sdes, 0x11223344, &cname, &cname_len),
                    ==, RTP_OK);
    g_assert_cmpmem(cname, cname_len, "user@host", 9);
    g_assert_cmpint(rtcp_sdes_find_cname(&sdes, 1, &cname, &cname_len), ==,
                    RTP_ERR_NOT_FOUND);
    g_assert_cmpint(rtcp_iter_next(&it, &h), ==, 0);
    g_assert_cmpint(rtcp_iter_next(&it, &h), ==, 0);
}

static void test_compound_rr_bye(void)
{
    rtcp_iter it;
    rtcp_header h;
    rtcp_rr rr;
    rtcp_bye bye;

    g_assert_cmpint(rtcp_iter_init(&it, rr_bye, sizeof(rr_bye), 0), ==, RTP_OK);
    g_assert_cmpint(rtcp_iter_next(&it, &h), ==, 1);
    g_assert_cmpint(rtcp_rr_parse(&rr, &h), ==, RTP_OK);
    g_assert_cmpuint(rr.ssrc, ==, 0x99887766);
    g_assert_cmpuint(rr.report_count, ==, 2);
    g_assert_cmpuint(rr.reports[0].ssrc, ==, 1);
    g_assert_cmpint(rr.reports[0].cumulative_lost, ==, 0);
    g_assert_cmpuint(rr.reports[0].ext_highest_seq, ==, 0xffff);
    g_assert_cmpuint(rr.reports[1].fraction_lost, ==, 255);
    g_assert_cmpint(rr.reports[1].cumulative_lost, ==, 0x7fffff);
    g_assert_cmpuint(rr.reports[1].lsr, ==, 0xdeadbeef);
    g_assert_cmpint(rtcp_sr_parse(NULL, &h), ==, RTP_ERR_ARG);
    g_assert_cmpint(rtcp_iter_next(&it, &h), ==, 1);
    g_assert_cmpint(rtcp_bye_parse(&bye, &h), ==, RTP_OK);
    g_assert_cmpuint(bye.ssrc_count, ==, 1);
    g_assert_cmpuint(bye.ssrcs[0], ==, 0x99887766);
    g_assert_true(bye.has_reason);
    g_assert_cmpmem(bye.reason, bye.reason_len, "bye", 3);
    g_assert_cmpint(rtcp_iter_next(&it, &h), ==, 0);
}

static void test_compound_rules(void)
{
    uint8_t b[sizeof(rr_bye) + 8];
    rtcp_iter it;
    rtcp_header h;

    /* A lone PLI is only valid as reduced-size RTCP (RFC 5506). */
    g_assert_cmpint(rtcp_iter_init(&it, pli, sizeof(pli), 0), ==,
                    RTP_ERR_INVALID);
    g_assert_cmpint(
        rtcp_iter_init(&it, pli, sizeof(pli), RTCP_FLAG_REDUCED_SIZE), ==,
        RTP_OK);
    /* A compound may not start with SDES... */
    g_assert_cmpint(rtcp_iter_init(&it, sr_sdes + 52, 20, 0), ==,
                    RTP_ERR_INVALID);
    /* ...nor carry a bad version in a later packet. */
    memcpy(b, rr_bye, sizeof(rr_bye));
    b[56] = 0x41;
    g_assert_cmpint(rtcp_iter_init(&it, b, sizeof(rr_bye), 0), ==,
                    RTP_ERR_VERSION);
    /* Packet type outside 192..223 (an RTP packet, say). */
    memcpy(b, rr_bye, sizeof(rr_bye));
    b[57] = 96;
    g_assert_cmpint(rtcp_iter_init(&it, b, sizeof(rr_bye), 0), ==,
                    RTP_ERR_INVALID);
    /* Trailing bytes that do not form a whole header. */
    memcpy(b, rr_bye, sizeof(rr_bye));
    memset(b + sizeof(rr_bye), 0, 8);
    g_assert_cmpint(rtcp_iter_init(&it, b, sizeof(rr_bye) + 2, 0), ==,
                    RTP_ERR_TRUNCATED);
    /* A length field longer than the datagram. */
    memcpy(b, rr_bye, sizeof(rr_bye));
    b[59] = 3;
    g_assert_cmpint(rtcp_iter_init(&it, b, sizeof(rr_bye), 0), ==,
                    RTP_ERR_TRUNCATED);

    /* Padding: BYE with P=1 and 4 padding bytes (count 4). */
    static const uint8_t padded[] = {
        0x80, 0xc9, 0x00, 0x01, 0x00, 0x00, 0x00, 0x07, /* empty RR */
        0xa1, 0xcb, 0x00, 0x02, 0x00, 0x00, 0x00, 0x07, /* BYE, P=1 */
        0x00, 0x00, 0x00, 0x04,
    };
    rtcp_bye bye;
    g_assert_cmpint(rtcp_iter_init(&it, padded, sizeof(padded), 0), ==, RTP_OK);
    g_assert_cmpint(rtcp_iter_next(&it, &h), ==, 1);
    g_assert_cmpint(rtcp_iter_next(&it, &h), ==, 1);
    g_assert_true(h.padding);
    g_assert_cmpuint(h.body_len, ==, 4);
    g_assert_cmpint(rtcp_bye_parse(&bye, &h), ==, RTP_OK);
    g_assert_false(bye.has_reason);
    /* Padding count 0, or larger than the body. */
    memcpy(b, padded, sizeof(padded));
    b[19] = 0;
    g_assert_cmpint(rtcp_iter_init(&it, b, sizeof(padded), 0), ==,
                    RTP_ERR_INVALID);
    b[19] = 9;
    g_assert_cmpint(rtcp_iter_init(&it, b, sizeof(padded), 0), ==,
                    RTP_ERR_INVALID);
    b[19] = 8; /* the whole body is padding: allowed */
    g_assert_cmpint(rtcp_iter_init(&it, b, sizeof(padded), 0), ==, RTP_OK);

    g_assert_cmpint(rtcp_iter_init(&it, NULL, 8, 0), ==, RTP_ERR_ARG);
    g_assert_cmpint(rtcp_iter_init(&it, pli, 0, 0), ==, RTP_ERR_TRUNCATED);
}

/* Every strict prefix of every vector is refused (except one that ends
 * exactly between two packets of a compound, which is a shorter valid
 * compound), and no read leaves the prefix. */
static void test_truncations(void)
{
    static const struct {
        const uint8_t *bytes;
        size_t len;
        unsigned flags;
        size_t boundary; /* end of the first packet of a compound */
    } vec[] = {
        {sr_sdes, sizeof(sr_sdes), 0, 52},
        {rr_bye, sizeof(rr_bye), 0, 56},
        {nack, sizeof(nack), RTCP_FLAG_REDUCED_SIZE, 0},
        {pli, sizeof(pli), RTCP_FLAG_REDUCED_SIZE, 0},
        {fir, sizeof(fir), RTCP_FLAG_REDUCED_SIZE, 0},
        {remb, sizeof(remb), RTCP_FLAG_REDUCED_SIZE, 0},
        {twcc, sizeof(twcc), RTCP_FLAG_REDUCED_SIZE, 0},
        {twcc_chrome, sizeof(twcc_chrome), RTCP_FLAG_REDUCED_SIZE, 0},
    };

    for (size_t v = 0; v < G_N_ELEMENTS(vec); v++) {
        g_assert_cmpint(parse_compound(vec[v].bytes, vec[v].len, vec[v].flags),
                        ==, RTP_OK);
        for (size_t n = 0; n < vec[v].len; n++) {
            int rc = parse_compound(vec[v].bytes, n, vec[v].flags);

            if (n > 0 && n == vec[v].boundary)
                g_assert_cmpint(rc, ==, RTP_OK);
            else
                g_assert_cmpint(rc, <, 0);
        }
    }
}

/* The length field itself lies low: each packet is cut to k words and
 * its length field set to match, so the iterator accepts it and the
 * message parser has to notice. */
static void test_short_length_fields(void)
{
    static const struct {
        const uint8_t *bytes;
        size_t len;
        bool must_fail; /* every shorter form is malformed */
    } vec[] = {
        {sr_sdes, 52, true},         /* SR: count says one block */
        {sr_sdes + 52, 20, true},    /* SDES: terminator needed */
        {rr_bye, 56, true},          /* RR: two blocks */
        {rr_bye + 56, 12, false},    /* BYE: without the reason is valid */
        {nack, sizeof(nack), false}, /* fewer entries are valid... */
        {pli, sizeof(pli), true},    {fir, sizeof(fir), true},
        {remb, sizeof(remb), true},  {twcc, sizeof(twcc), true},
    };

    for (size_t v = 0; v < G_N_ELEMENTS(vec); v++) {
        for (size_t words = 1; words < vec[v].len / 4; words++) {
            uint8_t *copy = g_memdup2(vec[v].bytes, words * 4);
            rtcp_iter it;
            rtcp_header h;
            int rc;

            copy[2] = 0;
            copy[3] = (uint8_t) (words - 1);
            g_assert_cmpint(
                rtcp_iter_init(&it, copy, words * 4, RTCP_FLAG_REDUCED_SIZE),
                ==, RTP_OK);
            g_assert_cmpint(rtcp_iter_next(&it, &h), ==, 1);
            rc = parse_any(&h);
            if (vec[v].must_fail)
                g_assert_cmpint(rc, <, 0);
            g_free(copy);
        }
    }
}

/* ---- SR / RR / SDES / BYE round trips ----------------------------------- */

static void test_sr_rr_build(void)
{
    rtcp_header h;
    rtcp_sr sr, sr2;
    rtcp_rr rr, rr2;
    uint8_t out[2048];
    int n;

    single(sr_sdes, 52, &h);
    g_assert_cmpint(rtcp_sr_parse(&sr, &h), ==, RTP_OK);
    n = rtcp_sr_build(out, sizeof(out), &sr);
    g_assert_cmpmem(out, n, sr_sdes, 52);
    g_assert_cmpint(rtcp_sr_build(out, 51, &sr), ==, RTP_ERR_NOSPACE);

    single(rr_bye, 56, &h);
    g_assert_cmpint(rtcp_rr_parse(&rr, &h), ==, RTP_OK);
    n = rtcp_rr_build(out, sizeof(out), &rr);
    g_assert_cmpmem(out, n, rr_bye, 56);

    /* 31 blocks, the most an RC field holds. */
    memset(&sr, 0, sizeof(sr));
    sr.ssrc = 5;
    sr.report_count = 31;
    for (int i = 0; i < 31; i++) {
        sr.reports[i].ssrc = (uint32_t) i + 100;
        sr.reports[i].cumulative_lost = -0x800000 + i;
        sr.reports[i].jitter = (uint32_t) i * 7;
    }
    n = rtcp_sr_build(out, sizeof(out), &sr);
    g_assert_cmpint(n, ==, 28 + 31 * 24);
    single(out, (size_t) n, &h);
    g_assert_cmpint(rtcp_sr_parse(&sr2, &h), ==, RTP_OK);
    g_assert_cmpmem(&sr, sizeof(sr), &sr2, sizeof(sr2));
    sr.report_count = 32;
    g_assert_cmpint(rtcp_sr_build(out, sizeof(out), &sr), ==, RTP_ERR_ARG);
    sr.report_count = 1;
    sr.reports[0].cumulative_lost = 0x800000;
    g_assert_cmpint(rtcp_sr_build(out, sizeof(out), &sr), ==, RTP_ERR_ARG);

    memset(&rr, 0, sizeof(rr));
    rr.ssrc = 77;
    n = rtcp_rr_build(out, sizeof(out), &rr);
    g_assert_cmpint(n, ==, 8);
    single(out, (size_t) n, &h);
    g_assert_cmpint(rtcp_rr_parse(&rr2, &h), ==, RTP_OK);
    g_assert_cmpuint(rr2.ssrc, ==, 77);
    g_assert_cmpuint(rr2.report_count, ==, 0);
}

static void test_sdes_build(void)
{
    rtcp_header h;
    rtcp_sdes s, s2;
    uint8_t out[512];
    int n;

    single(sr_sdes + 52, 20, &h);
    g_assert_cmpint(rtcp_sdes_parse(&s, &h), ==, RTP_OK);
    n = rtcp_sdes_build(out, sizeof(out), &s);
    g_assert_cmpmem(out, n, sr_sdes + 52, 20);

    /* Two chunks; the first needs 3 padding bytes. */
    memset(&s, 0, sizeof(s));
    s.chunk_count = 2;
    s.chunks[0].ssrc = 1;
    s.chunks[0].item_count = 2;
    s.chunks[0].items[0] = (rtcp_sdes_item){1, 4, (const uint8_t *) "abcd"};
    s.chunks[0].items[1] = (rtcp_sdes_item){6, 2, (const uint8_t *) "vi"};
    s.chunks[1].ssrc = 2; /* no items: SSRC and a null word */
    n = rtcp_sdes_build(out, sizeof(out), &s);
    /* 4 + (4 + 6 + 4 + 1 -> 16) + (4 + 1 -> 8) */
    g_assert_cmpint(n, ==, 28);
    single(out, (size_t) n, &h);
    g_assert_cmpint(rtcp_sdes_parse(&s2, &h), ==, RTP_OK);
    g_assert_cmpuint(s2.chunk_count, ==, 2);
    g_assert_cmpuint(s2.chunks[0].item_count, ==, 2);
    g_assert_cmpmem(s2.chunks[0].items[1].data, s2.chunks[0].items[1].len, "vi",
                    2);
    g_assert_cmpuint(s2.chunks[1].ssrc, ==, 2);
    g_assert_cmpuint(s2.chunks[1].item_count, ==, 0);
    for (int cap = 0; cap < n; cap++)
        g_assert_cmpint(rtcp_sdes_build(out, (size_t) cap, &s), ==,
                        RTP_ERR_NOSPACE);
    s.chunks[0].items[0].type = 0;
    g_assert_cmpint(rtcp_sdes_build(out, sizeof(out), &s), ==, RTP_ERR_ARG);

    /* Nine items in a chunk exceed the bounded view. */
    static const uint8_t nine[] = {
        0x81, 0xca, 0x00, 0x05, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x02, 0x00,
        0x02, 0x00, 0x02, 0x00, 0x02, 0x00, 0x02, 0x00, 0x02, 0x00, 0x02, 0x00,
    };
    static const uint8_t nine_end[] = {0x02, 0x00, 0x00, 0x00};
    uint8_t b[28];
    memcpy(b, nine, sizeof(nine));
    memcpy(b + sizeof(nine), nine_end, sizeof(nine_end));
    b[3] = 0x06;
    single(b, sizeof(b), &h);
    g_assert_cmpint(rtcp_sdes_parse(&s2, &h), ==, RTP_ERR_NOSPACE);
}

static void test_bye_build(void)
{
    rtcp_header h;
    rtcp_bye b, b2;
    uint8_t out[512];
    int n;

    single(rr_bye + 56, 12, &h);
    g_assert_cmpint(rtcp_bye_parse(&b, &h), ==, RTP_OK);
    n = rtcp_bye_build(out, sizeof(out), &b);
    g_assert_cmpmem(out, n, rr_bye + 56, 12);

    memset(&b, 0, sizeof(b));
    b.ssrc_count = 2;
    b.ssrcs[0] = 1;
    b.ssrcs[1] = 2;
    n = rtcp_bye_build(out, sizeof(out), &b);
    g_assert_cmpint(n, ==, 12);
    single(out, (size_t) n, &h);
    g_assert_cmpint(rtcp_bye_parse(&b2, &h), ==, RTP_OK);
    g_assert_false(b2.has_reason);
    g_assert_cmpuint(b2.ssrcs[1], ==, 2);

    b.has_reason = true;
    b.reason = (const uint8_t *) "call ended";
    b.reason_len = 10;
    n = rtcp_bye_build(out, sizeof(out), &b);
    g_assert_cmpint(n, ==, 12 + 12); /* 1 + 10 -> 12 */
    single(out, (size_t) n, &h);
    g_assert_cmpint(rtcp_bye_parse(&b2, &h), ==, RTP_OK);
    g_assert_cmpmem(b2.reason, b2.reason_len, "call ended", 10);

    /* A reason length past the packet. */
    out[12] = 12;
    single(out, (size_t) n, &h);
    g_assert_cmpint(rtcp_bye_parse(&b2, &h), ==, RTP_ERR_TRUNCATED);
}

/* ---- feedback ----------------------------------------------------------- */

static void test_nack(void)
{
    rtcp_header h;
    rtcp_fb fb;
    uint16_t seqs[64];
    size_t n = 0;
    uint8_t out[256];
    int len;

    single(nack, sizeof(nack), &h);
    g_assert_cmpint(rtcp_fb_parse(&fb, &h), ==, RTP_OK);
    g_assert_cmpuint(fb.sender_ssrc, ==, 1);
    g_assert_cmpuint(fb.media_ssrc, ==, 2);
    g_assert_cmpint(rtcp_nack_parse(&fb, seqs, G_N_ELEMENTS(seqs), &n), ==,
                    RTP_OK);
    static const uint16_t want[] = {1000, 1001, 1003, 65535, 0, 15};
    g_assert_cmpmem(seqs, n * 2, want, sizeof(want));
    g_assert_cmpint(rtcp_nack_parse(&fb, seqs, 5, &n), ==, RTP_ERR_NOSPACE);

    /* The builder folds the same list into the same two entries. */
    len = rtcp_nack_build(out, sizeof(out), 1, 2, want, G_N_ELEMENTS(want));
    g_assert_cmpmem(out, len, nack, sizeof(nack));
    for (size_t cap = 0; cap < sizeof(nack); cap++)
        g_assert_cmpint(rtcp_nack_build(out, cap, 1, 2, want, 6), ==,
                        RTP_ERR_NOSPACE);

    /* 17 apart needs a second entry; a descending list is kept faithful;
     * duplicates collapse. */
    static const uint16_t list[] = {10, 27, 27, 5, 10, 11};
    len = rtcp_nack_build(out, sizeof(out), 1, 2, list, G_N_ELEMENTS(list));
    /* 10 | 27 | 5 (+bits for 10, 11 -> diffs 5, 6) */
    static const uint8_t want_fci[] = {
        0x00, 0x0a, 0x00, 0x00, 0x00, 0x1b, 0x00, 0x00, 0x00, 0x05, 0x00, 0x30,
    };
    g_assert_cmpint(len, ==, 12 + 12);
    g_assert_cmpmem(out + 12, 12, want_fci, sizeof(want_fci));
    g_assert_cmpint(rtcp_nack_build(out, sizeof(out), 1, 2, list, 0), ==,
                    RTP_ERR_ARG);

    /* FCI not a whole number of entries. */
    single(pli, sizeof(pli), &h);
    g_assert_cmpint(rtcp_fb_parse(&fb, &h), ==, RTP_OK);
    g_assert_cmpint(rtcp_nack_parse(&fb, seqs, 64, &n), ==, RTP_ERR_INVALID);
}

static void test_pli_fir(void)
{
    rtcp_header h;
    rtcp_fb fb;
    rtcp_fir_entry fe[4];
    size_t n = 0;
    uint8_t out[64];
    int len;

    single(pli, sizeof(pli), &h);
    g_assert_cmpint(rtcp_fb_parse(&fb, &h), ==, RTP_OK);
    g_assert_cmpuint(fb.pt, ==, RTCP_PT_PSFB);
    g_assert_cmpuint(fb.fmt, ==, RTCP_FMT_PLI);
    g_assert_cmpuint(fb.fci_len, ==, 0);
    len = rtcp_pli_build(out, sizeof(out), 1, 2);
    g_assert_cmpmem(out, len, pli, sizeof(pli));
    g_assert_cmpint(rtcp_pli_build(out, 11, 1, 2), ==, RTP_ERR_NOSPACE);

    single(fir, sizeof(fir), &h);
    g_assert_cmpint(rtcp_fb_parse(&fb, &h), ==, RTP_OK);
    g_assert_cmpint(rtcp_fir_parse(&fb, fe, 4, &n), ==, RTP_OK);
    g_assert_cmpuint(n, ==, 1);
    g_assert_cmpuint(fe[0].ssrc, ==, 2);
    g_assert_cmpuint(fe[0].seq_nr, ==, 42);
    g_assert_cmpint(rtcp_fir_parse(&fb, fe, 0, &n), ==, RTP_ERR_NOSPACE);
    len = rtcp_fir_build(out, sizeof(out), 1, fe, 1);
    g_assert_cmpmem(out, len, fir, sizeof(fir));
    g_assert_cmpint(rtcp_fir_build(out, sizeof(out), 1, fe, 0), ==,
                    RTP_ERR_ARG);

    /* A FIR is not a NACK, and an RR is not feedback. */
    g_assert_cmpint(rtcp_nack_parse(&fb, NULL, 0, &n), ==, RTP_ERR_INVALID);
    single(rr_bye, 56, &h);
    g_assert_cmpint(rtcp_fb_parse(&fb, &h), ==, RTP_ERR_INVALID);
}

static void test_remb(void)
{
    rtcp_header h;
    rtcp_fb fb;
    rtcp_remb r, r2;
    uint8_t out[1200];
    int len;

    single(remb, sizeof(remb), &h);
    g_assert_cmpint(rtcp_fb_parse(&fb, &h), ==, RTP_OK);
    g_assert_cmpint(rtcp_remb_parse(&r, &fb), ==, RTP_OK);
    g_assert_cmpuint(r.bitrate, ==, 0x3fb93 * 2);
    g_assert_cmpuint(r.bitrate, ==, 522022);
    g_assert_cmpuint(r.ssrc_count, ==, 3);
    g_assert_cmpuint(r.ssrcs[0], ==, 0x23456789);
    g_assert_cmpuint(r.ssrcs[2], ==, 0x2345678b);
    len = rtcp_remb_build(out, sizeof(out), 0x12345678, &r);
    g_assert_cmpmem(out, len, remb, sizeof(remb));

    /* Bitrates beyond 32 bits (libwebrtc's 0x3fb93 << 30 case). */
    r.bitrate = (uint64_t) 0x3fb93 << 30;
    len = rtcp_remb_build(out, sizeof(out), 1, &r);
    g_assert_cmpuint(out[17] >> 2, ==, 30);
    single(out, (size_t) len, &h);
    g_assert_cmpint(rtcp_fb_parse(&fb, &h), ==, RTP_OK);
    g_assert_cmpint(rtcp_remb_parse(&r2, &fb), ==, RTP_OK);
    g_assert_cmpuint(r2.bitrate, ==, r.bitrate);
    /* The largest value rounds down to an 18-bit mantissa. */
    r.bitrate = UINT64_MAX;
    r.ssrc_count = 255;
    for (int i = 0; i < 255; i++)
        r.ssrcs[i] = (uint32_t) i;
    len = rtcp_remb_build(out, sizeof(out), 1, &r);
    g_assert_cmpint(len, ==, 20 + 4 * 255);
    single(out, (size_t) len, &h);
    g_assert_cmpint(rtcp_fb_parse(&fb, &h), ==, RTP_OK);
    g_assert_cmpint(rtcp_remb_parse(&r2, &fb), ==, RTP_OK);
    g_assert_cmpuint(r2.bitrate, ==, (uint64_t) 0x3ffff << 46);
    g_assert_cmpmem(r2.ssrcs, 4 * 255, r.ssrcs, 4 * 255);
    /* Exponent 63 with mantissa 2 does not fit in 64 bits. */
    out[17] = (uint8_t) (63 << 2);
    out[18] = 0;
    out[19] = 2;
    g_assert_cmpint(rtcp_remb_parse(&r2, &fb), ==, RTP_ERR_INVALID);
    out[19] = 1;
    g_assert_cmpint(rtcp_remb_parse(&r2, &fb), ==, RTP_OK);
    g_assert_cmpuint(r2.bitrate, ==, (uint64_t) 1 << 63);
    /* Other AFB messages are not REMB. */
    out[12] = 'X';
    g_assert_cmpint(rtcp_remb_parse(&r2, &fb), ==, RTP_ERR_NOT_FOUND);
    /* SSRC count past the packet. */
    single(remb, sizeof(remb), &h);
    memcpy(out, remb, sizeof(remb));
    out[16] = 4;
    single(out, sizeof(remb), &h);
    g_assert_cmpint(rtcp_fb_parse(&fb, &h), ==, RTP_OK);
    g_assert_cmpint(rtcp_remb_parse(&r2, &fb), ==, RTP_ERR_TRUNCATED);
}

/* ---- transport-cc ------------------------------------------------------- */

static void assert_twcc_equal(const rtcp_twcc_packet *a,
                              const rtcp_twcc_packet *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        g_assert_cmpuint(a[i].seq, ==, b[i].seq);
        g_assert_cmpuint(a[i].status == RTCP_TWCC_NOT_RECEIVED, ==,
                         b[i].status == RTCP_TWCC_NOT_RECEIVED);
        g_assert_cmpint(a[i].delta, ==, b[i].delta);
    }
}

static void test_twcc_vector(void)
{
    rtcp_header h;
    rtcp_fb fb;
    rtcp_twcc hdr, hdr2;
    rtcp_twcc_packet p[32], p2[32];
    uint8_t out[128];
    int len;

    single(twcc, sizeof(twcc), &h);
    g_assert_cmpint(rtcp_fb_parse(&fb, &h), ==, RTP_OK);
    g_assert_cmpint(rtcp_twcc_parse(&fb, &hdr, p, G_N_ELEMENTS(p)), ==, RTP_OK);
    g_assert_cmpuint(hdr.base_seq, ==, 0xfffe);
    g_assert_cmpuint(hdr.status_count, ==, 20);
    g_assert_cmpint(hdr.reference_time, ==, 16);
    g_assert_cmpuint(hdr.fb_count, ==, 7);
    static const uint8_t want_status[20] = {1, 1, 1, 2, 0, 1, 0, 0, 0, 0,
                                            1, 1, 0, 0, 0, 0, 0, 0, 0, 1};
    static const int32_t want_delta[20] = {4, 0, 255, -4, 0, 16, 0, 0, 0, 0,
                                           1, 2, 0,   0,  0, 0,  0, 0, 0, 3};
    for (int i = 0; i < 20; i++) {
        g_assert_cmpuint(p[i].seq, ==, (uint16_t) (0xfffe + i));
        g_assert_cmpuint(p[i].status, ==, want_status[i]);
        g_assert_cmpint(p[i].delta, ==, want_delta[i]);
    }
    g_assert_cmpint(rtcp_twcc_parse(&fb, &hdr, p, 19), ==, RTP_ERR_NOSPACE);

    /* The builder picks its own chunks: 3 small, 1 large and 3 more fit
     * one two-bit vector (1,1,1,2,0,1,0), the 13 left one one-bit
     * vector (0,0,0,1,1,0*7,1); then the same 9 bytes of deltas and 3
     * bytes of padding: 36 bytes, like the hand-made vector. */
    len =
        rtcp_twcc_build(out, sizeof(out), 0x01020304, 0x05060708, &hdr, p, 20);
    static const uint8_t want_chunks[] = {
        0xd5, 0x84, /* 1 1 01 01 01 10 00 01 00 */
        0x86, 0x02, /* 1 0 0001100000000 1, one unused bit */
    };
    g_assert_cmpint(len, ==, 36);
    g_assert_cmpmem(out + 20, 4, want_chunks, sizeof(want_chunks));
    g_assert_cmpmem(out + 24, 9, twcc + 26, 9);
    single(out, (size_t) len, &h);
    g_assert_cmpint(rtcp_fb_parse(&fb, &h), ==, RTP_OK);
    g_assert_cmpint(rtcp_twcc_parse(&fb, &hdr2, p2, G_N_ELEMENTS(p2)), ==,
                    RTP_OK);
    g_assert_cmpmem(&hdr, sizeof(hdr), &hdr2, sizeof(hdr2));
    assert_twcc_equal(p, p2, 20);
    for (int cap = 0; cap < len; cap++)
        g_assert_cmpint(rtcp_twcc_build(out, (size_t) cap, 1, 2, &hdr, p, 20),
                        ==, RTP_ERR_NOSPACE);
}

static void test_twcc_malformed(void)
{
    uint8_t b[sizeof(twcc)];
    rtcp_header h;
    rtcp_fb fb;
    rtcp_twcc hdr;
    rtcp_twcc_packet p[64];

    /* Reserved symbol 3 in a run. */
    memcpy(b, twcc, sizeof(b));
    b[20] = 0x60;
    single(b, sizeof(b), &h);
    g_assert_cmpint(rtcp_fb_parse(&fb, &h), ==, RTP_OK);
    g_assert_cmpint(rtcp_twcc_parse(&fb, &hdr, p, 64), ==, RTP_ERR_INVALID);
    /* Status count 0. */
    memcpy(b, twcc, sizeof(b));
    b[14] = b[15] = 0;
    single(b, sizeof(b), &h);
    g_assert_cmpint(rtcp_fb_parse(&fb, &h), ==, RTP_OK);
    g_assert_cmpint(rtcp_twcc_parse(&fb, &hdr, p, 64), ==, RTP_ERR_INVALID);
    /* Status count 60: the chunks run out. */
    memcpy(b, twcc, sizeof(b));
    b[15] = 60;
    single(b, sizeof(b), &h);
    g_assert_cmpint(rtcp_fb_parse(&fb, &h), ==, RTP_OK);
    g_assert_cmpint(rtcp_twcc_parse(&fb, &hdr, p, 64), ==, RTP_ERR_TRUNCATED);
    /* All 20 as large deltas: 40 bytes of deltas are not there. */
    memcpy(b, twcc, sizeof(b));
    b[20] = 0x40;
    b[21] = 20;
    single(b, sizeof(b), &h);
    g_assert_cmpint(rtcp_fb_parse(&fb, &h), ==, RTP_OK);
    g_assert_cmpint(rtcp_twcc_parse(&fb, &hdr, p, 64), ==, RTP_ERR_TRUNCATED);
    /* Negative reference time. */
    memcpy(b, twcc, sizeof(b));
    b[16] = 0xff;
    b[17] = 0xff;
    b[18] = 0xfe;
    single(b, sizeof(b), &h);
    g_assert_cmpint(rtcp_fb_parse(&fb, &h), ==, RTP_OK);
    g_assert_cmpint(rtcp_twcc_parse(&fb, &hdr, p, 64), ==, RTP_OK);
    g_assert_cmpint(hdr.reference_time, ==, -2);
}

static void test_twcc_chrome(void)
{
    static const int32_t want_ms_x4[9] = {28, 12, 44, 56, 0, 4, 0, 8, 24};
    rtcp_iter it;
    rtcp_header h;
    rtcp_fb fb;
    rtcp_twcc hdr;
    rtcp_twcc_packet p[9];

    /* Alone it is only valid as reduced-size RTCP. */
    g_assert_cmpint(rtcp_iter_init(&it, twcc_chrome, sizeof(twcc_chrome), 0),
                    ==, RTP_ERR_INVALID);
    single(twcc_chrome, sizeof(twcc_chrome), &h);
    g_assert_true(h.padding);
    g_assert_cmpuint(h.body_len, ==, 27);
    g_assert_cmpint(rtcp_fb_parse(&fb, &h), ==, RTP_OK);
    g_assert_cmpuint(fb.media_ssrc, ==, 0xdd586eb6);
    g_assert_cmpint(rtcp_twcc_parse(&fb, &hdr, p, 9), ==, RTP_OK);
    g_assert_cmpuint(hdr.base_seq, ==, 1);
    g_assert_cmpuint(hdr.status_count, ==, 9);
    g_assert_cmpint(hdr.reference_time, ==, 6197520);
    g_assert_cmpuint(hdr.fb_count, ==, 0);
    for (int i = 0; i < 9; i++) {
        g_assert_cmpuint(p[i].seq, ==, (uint16_t) (1 + i));
        g_assert_cmpuint(p[i].status, ==, RTCP_TWCC_SMALL_DELTA);
        g_assert_cmpint(p[i].delta, ==, want_ms_x4[i]); /* 250 us units */
    }
    /* Our builder writes the same chunk and deltas, zero-padded instead
     * of P-bit padded. */
    uint8_t out[64];
    int n = rtcp_twcc_build(out, sizeof(out), 1, 0xdd586eb6, &hdr, p, 9);
    g_assert_cmpint(n, ==, 32);
    g_assert_cmpmem(out + 4, 27, twcc_chrome + 4, 27);
    g_assert_cmpuint(out[0], ==, 0x8f);
    g_assert_cmpuint(out[31], ==, 0);
}

/* Many packets with a deterministic mix of losses and delta sizes. */
static void test_twcc_large(void)
{
    static rtcp_twcc_packet p[5000], p2[5000];
    static uint8_t out[65536];
    rtcp_twcc hdr = {
        .base_seq = 65000, .reference_time = -100, .fb_count = 255};
    rtcp_twcc hdr2;
    rtcp_header h;
    rtcp_fb fb;
    uint32_t x = 12345;
    int len;

    for (size_t i = 0; i < G_N_ELEMENTS(p); i++) {
        x = x * 1103515245 + 12345;
        p[i].seq = (uint16_t) (hdr.base_seq + i);
        /* Long runs now and then, to exercise run-length chunks. */
        if ((i / 200) % 3 == 1) {
            p[i].status = RTCP_TWCC_NOT_RECEIVED;
            p[i].delta = 0;
        } else if ((x >> 16) % 10 == 0) {
            p[i].status = RTCP_TWCC_NOT_RECEIVED;
            p[i].delta = 0;
        } else if ((x >> 16) % 10 == 1) {
            p[i].status = RTCP_TWCC_LARGE_DELTA;
            p[i].delta = (int32_t) ((x >> 8) % 65536) - 32768;
        } else {
            p[i].status = RTCP_TWCC_SMALL_DELTA;
            p[i].delta = (int32_t) ((x >> 8) % 256);
        }
    }
    len = rtcp_twcc_build(out, sizeof(out), 1, 2, &hdr, p, G_N_ELEMENTS(p));
    g_assert_cmpint(len, >, 0);
    g_assert_cmpint(len % 4, ==, 0);
    single(out, (size_t) len, &h);
    g_assert_cmpint(rtcp_fb_parse(&fb, &h), ==, RTP_OK);
    g_assert_cmpint(rtcp_twcc_parse(&fb, &hdr2, p2, G_N_ELEMENTS(p2)), ==,
                    RTP_OK);
    g_assert_cmpuint(hdr2.status_count, ==, G_N_ELEMENTS(p));
    g_assert_cmpint(hdr2.reference_time, ==, -100);
    assert_twcc_equal(p, p2, G_N_ELEMENTS(p));

    /* Argument checks. */
    p[0].status = RTCP_TWCC_LARGE_DELTA;
    p[0].delta = 40000;
    g_assert_cmpint(rtcp_twcc_build(out, sizeof(out), 1, 2, &hdr, p, 10), ==,
                    RTP_ERR_ARG);
    p[0].delta = 0;
    hdr.reference_time = 0x800000;
    g_assert_cmpint(rtcp_twcc_build(out, sizeof(out), 1, 2, &hdr, p, 10), ==,
                    RTP_ERR_ARG);
    hdr.reference_time = 0;
    g_assert_cmpint(rtcp_twcc_build(out, sizeof(out), 1, 2, &hdr, p, 0), ==,
                    RTP_ERR_ARG);
}

/* A compound is the builders' outputs back to back: RR, SDES, REMB, NACK
 * and transport-cc, then iterated and parsed again. */
static void test_compound_build(void)
{
    uint8_t buf[1500];
    size_t off = 0;
    int n;
    rtcp_rr rr = {.ssrc = 0x1111, .report_count = 1};
    rtcp_sdes sdes = {.chunk_count = 1};
    rtcp_remb rb = {.bitrate = 1500000, .ssrc_count = 2, .ssrcs = {0xa, 0xb}};
    static const uint16_t lost[] = {100, 101, 140};
    rtcp_twcc tw = {.base_seq = 7, .reference_time = 1, .fb_count = 2};
    rtcp_twcc_packet tp[3] = {
        {7, RTCP_TWCC_SMALL_DELTA, 10},
        {8, RTCP_TWCC_NOT_RECEIVED, 0},
        {9, RTCP_TWCC_LARGE_DELTA, -300},
    };
    rtcp_iter it;
    rtcp_header h;
    rtcp_fb fb;
    unsigned seen = 0;

    rr.reports[0].ssrc = 0xa;
    rr.reports[0].cumulative_lost = -1;
    sdes.chunks[0].ssrc = 0x1111;
    sdes.chunks[0].item_count = 1;
    sdes.chunks[0].items[0] =
        (rtcp_sdes_item){RTCP_SDES_CNAME, 6, (const uint8_t *) "caller"};

    n = rtcp_rr_build(buf + off, sizeof(buf) - off, &rr);
    g_assert_cmpint(n, >, 0);
    off += (size_t) n;
    n = rtcp_sdes_build(buf + off, sizeof(buf) - off, &sdes);
    g_assert_cmpint(n, >, 0);
    off += (size_t) n;
    n = rtcp_remb_build(buf + off, sizeof(buf) - off, 0x1111, &rb);
    g_assert_cmpint(n, >, 0);
    off += (size_t) n;
    n = rtcp_nack_build(buf + off, sizeof(buf) - off, 0x1111, 0xa, lost, 3);
    g_assert_cmpint(n, >, 0);
    off += (size_t) n;
    n = rtcp_twcc_build(buf + off, sizeof(buf) - off, 0x1111, 0xa, &tw, tp, 3);
    g_assert_cmpint(n, >, 0);
    off += (size_t) n;

    g_assert_cmpint(rtcp_iter_init(&it, buf, off, 0), ==, RTP_OK);
    while (rtcp_iter_next(&it, &h) == 1) {
        g_assert_cmpint(parse_any(&h), ==, RTP_OK);
        if (rtcp_fb_parse(&fb, &h) == RTP_OK) {
            if (fb.pt == RTCP_PT_PSFB && fb.fmt == RTCP_FMT_AFB) {
                rtcp_remb r;
                g_assert_cmpint(rtcp_remb_parse(&r, &fb), ==, RTP_OK);
                /* 1500000 needs exponent 3: 187500 << 3, exact. */
                g_assert_cmpuint(r.bitrate, ==, 1500000);
            } else if (fb.fmt == RTCP_FMT_NACK) {
                uint16_t seqs[8];
                size_t k = 0;
                g_assert_cmpint(rtcp_nack_parse(&fb, seqs, 8, &k), ==, RTP_OK);
                g_assert_cmpuint(k, ==, 3);
                g_assert_cmpuint(fb.fci_len, ==, 8); /* 140 is 40 away */
            } else if (fb.pt == RTCP_PT_RTPFB && fb.fmt == RTCP_FMT_TWCC) {
                rtcp_twcc t2;
                rtcp_twcc_packet p2[3];
                g_assert_cmpint(rtcp_twcc_parse(&fb, &t2, p2, 3), ==, RTP_OK);
                g_assert_cmpint(p2[2].delta, ==, -300);
                g_assert_cmpuint(p2[1].status, ==, RTCP_TWCC_NOT_RECEIVED);
            }
        }
        seen++;
    }
    g_assert_cmpuint(seen, ==, 5);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtcp/compound-sr-sdes", test_compound_sr_sdes);
    g_test_add_func("/rtcp/compound-rr-bye", test_compound_rr_bye);
    g_test_add_func("/rtcp/compound-rules", test_compound_rules);
    g_test_add_func("/rtcp/compound-build", test_compound_build);
    g_test_add_func("/rtcp/truncations", test_truncations);
    g_test_add_func("/rtcp/short-length-fields", test_short_length_fields);
    g_test_add_func("/rtcp/sr-rr-build", test_sr_rr_build);
    g_test_add_func("/rtcp/sdes-build", test_sdes_build);
    g_test_add_func("/rtcp/bye-build", test_bye_build);
    g_test_add_func("/rtcp/nack", test_nack);
    g_test_add_func("/rtcp/pli-fir", test_pli_fir);
    g_test_add_func("/rtcp/remb", test_remb);
    g_test_add_func("/rtcp/twcc-vector", test_twcc_vector);
    g_test_add_func("/rtcp/twcc-malformed", test_twcc_malformed);
    g_test_add_func("/rtcp/twcc-chrome", test_twcc_chrome);
    g_test_add_func("/rtcp/twcc-large", test_twcc_large);
    return g_test_run();
}
