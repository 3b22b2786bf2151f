/*
 * Unit tests of libvid/rtp: the RTP header, RFC 8285 header extensions and
 * the RFC 7983 / BUNDLE demux. Every parse of a truncated packet runs on
 * a heap copy of exactly the truncated length, so ASan catches any read
 * past the end.
 */
#include <glib.h>
#include <string.h>

#include "rtp.h"

/* Parses a heap copy of exactly @len bytes and checks that any view it
 * returns stays inside the copy. */
static int parse_exact(const uint8_t *bytes, size_t len, rtp_packet *pkt)
{
    uint8_t *copy = g_malloc(len > 0 ? len : 1);
    int rc;

    memcpy(copy, bytes, len);
    rc = rtp_parse(pkt, copy, len);
    if (rc == RTP_OK) {
        g_assert_true(pkt->payload >= copy);
        g_assert_cmpuint(pkt->payload + pkt->payload_len + pkt->pad_len - copy,
                         ==, len);
        if (pkt->extension)
            g_assert_true(pkt->ext_data + pkt->ext_len <= pkt->payload);
        /* Walk the extension too: it must stay in bounds. */
        rtp_ext_iter it;
        if (rtp_ext_iter_init(&it, pkt) == RTP_OK) {
            uint8_t id;
            const uint8_t *d;
            size_t dl;
            while (rtp_ext_next(&it, &id, &d, &dl) == 1)
                g_assert_true(d + dl <= pkt->ext_data + pkt->ext_len);
        }
    }
    g_free(copy);
    return rc;
}

/* A minimal packet: V=2, no P/X/CC, M=1, PT=96, seq 0x1234,
 * ts 0xdeadbeef, SSRC 0x01020304, payload "abc". */
static const uint8_t basic[] = {
    0x80, 0xe0, 0x12, 0x34, /* V=2 P=0 X=0 CC=0 | M=1 PT=96 | seq */
    0xde, 0xad, 0xbe, 0xef, /* timestamp */
    0x01, 0x02, 0x03, 0x04, /* SSRC */
    'a',  'b',  'c',        /* payload */
};

static void test_parse_basic(void)
{
    rtp_packet pkt;

    g_assert_cmpint(rtp_parse(&pkt, basic, sizeof(basic)), ==, RTP_OK);
    g_assert_cmpuint(pkt.version, ==, 2);
    g_assert_false(pkt.padding);
    g_assert_false(pkt.extension);
    g_assert_cmpuint(pkt.csrc_count, ==, 0);
    g_assert_true(pkt.marker);
    g_assert_cmpuint(pkt.payload_type, ==, 96);
    g_assert_cmpuint(pkt.seq, ==, 0x1234);
    g_assert_cmpuint(pkt.timestamp, ==, 0xdeadbeef);
    g_assert_cmpuint(pkt.ssrc, ==, 0x01020304);
    g_assert_cmpuint(pkt.payload_len, ==, 3);
    g_assert_cmpmem(pkt.payload, 3, "abc", 3);

    /* Exactly a header: empty payload is fine. */
    g_assert_cmpint(rtp_parse(&pkt, basic, 12), ==, RTP_OK);
    g_assert_cmpuint(pkt.payload_len, ==, 0);
    g_assert_cmpint(rtp_parse(&pkt, basic, 11), ==, RTP_ERR_TRUNCATED);
    g_assert_cmpint(rtp_parse(NULL, basic, 12), ==, RTP_ERR_ARG);
    g_assert_cmpint(rtp_parse(&pkt, NULL, 12), ==, RTP_ERR_ARG);
}

static void test_bad_version(void)
{
    uint8_t b[sizeof(basic)];
    rtp_packet pkt;

    for (unsigned v = 0; v < 4; v++) {
        if (v == 2)
            continue;
        memcpy(b, basic, sizeof(b));
        b[0] = (uint8_t) ((b[0] & 0x3f) | (v << 6));
        g_assert_cmpint(rtp_parse(&pkt, b, sizeof(b)), ==, RTP_ERR_VERSION);
    }
}

/* Everything at once: two CSRCs, the RFC 8285 section 4.2 one-byte
 * example extension, a payload and 4 bytes of padding. */
/* clang-format off */
static const uint8_t full[] = {
    0xb2, 0x6f, 0x00, 0x07, /* V=2 P=1 X=1 CC=2 | M=0 PT=111 | seq 7 */
    0x00, 0x00, 0x03, 0xc0, /* timestamp 960 */
    0xca, 0xfe, 0xba, 0xbe, /* SSRC */
    0x11, 0x11, 0x11, 0x11, /* CSRC 1 */
    0x22, 0x22, 0x22, 0x22, /* CSRC 2 */
    /* RFC 8285 section 4.2 figure: 0xBEDE, length 3 words, then
     * ID=1 L=0 (1 byte), ID=2 L=1 (2 bytes), two padding bytes,
     * ID=3 L=3 (4 bytes). */
    0xbe, 0xde, 0x00, 0x03,
    0x10, 0xaa, 0x21, 0xbb,
    0xbb, 0x00, 0x00, 0x33,
    0xcc, 0xcc, 0xcc, 0xcc,
    'o',  'p',  'u',  's',  0x42, /* payload, 5 bytes */
    0x00, 0x00, 0x00, 0x04,       /* padding: 3 zeros and the count 4 */
};
/* clang-format on */

static void test_parse_full(void)
{
    rtp_packet pkt;
    rtp_ext_iter it;
    uint8_t id = 0;
    const uint8_t *d = NULL;
    size_t dl = 0;

    g_assert_cmpint(rtp_parse(&pkt, full, sizeof(full)), ==, RTP_OK);
    g_assert_true(pkt.padding);
    g_assert_true(pkt.extension);
    g_assert_cmpuint(pkt.csrc_count, ==, 2);
    g_assert_cmpuint(pkt.csrc[0], ==, 0x11111111);
    g_assert_cmpuint(pkt.csrc[1], ==, 0x22222222);
    g_assert_false(pkt.marker);
    g_assert_cmpuint(pkt.payload_type, ==, 111);
    g_assert_cmpuint(pkt.seq, ==, 7);
    g_assert_cmpuint(pkt.timestamp, ==, 960);
    g_assert_cmpuint(pkt.ext_profile, ==, 0xbede);
    g_assert_cmpuint(pkt.ext_len, ==, 12);
    g_assert_cmpuint(pkt.payload_len, ==, 5);
    g_assert_cmpmem(pkt.payload, 5, "opus\x42", 5);
    g_assert_cmpuint(pkt.pad_len, ==, 4);

    g_assert_cmpint(rtp_ext_iter_init(&it, &pkt), ==, RTP_OK);
    g_assert_cmpint(rtp_ext_next(&it, &id, &d, &dl), ==, 1);
    g_assert_cmpuint(id, ==, 1);
    g_assert_cmpmem(d, dl, "\xaa", 1);
    g_assert_cmpint(rtp_ext_next(&it, &id, &d, &dl), ==, 1);
    g_assert_cmpuint(id, ==, 2);
    g_assert_cmpmem(d, dl, "\xbb\xbb", 2);
    g_assert_cmpint(rtp_ext_next(&it, &id, &d, &dl), ==, 1);
    g_assert_cmpuint(id, ==, 3);
    g_assert_cmpmem(d, dl, "\xcc\xcc\xcc\xcc", 4);
    g_assert_cmpint(rtp_ext_next(&it, &id, &d, &dl), ==, 0);

    g_assert_cmpint(rtp_ext_find(&pkt, 2, &d, &dl), ==, RTP_OK);
    g_assert_cmpuint(dl, ==, 2);
    g_assert_cmpint(rtp_ext_find(&pkt, 4, &d, &dl), ==, RTP_ERR_NOT_FOUND);
    g_assert_cmpint(rtp_ext_find(&pkt, 0, &d, &dl), ==, RTP_ERR_ARG);
}

/* RFC 8285 section 4.3 two-byte example: profile 0x100 + appbits,
 * ID=1 L=0 (no data), ID=2 L=1, one padding byte, ID=3 L=4. */
/* clang-format off */
static const uint8_t two_byte[] = {
    0x90, 0x60, 0x00, 0x01, /* V=2 X=1 | PT=96 | seq 1 */
    0x00, 0x00, 0x00, 0x00, /* timestamp */
    0x00, 0x00, 0x00, 0x09, /* SSRC 9 */
    0x10, 0x05, 0x00, 0x03, /* 0x100 | appbits 5, length 3 words */
    0x01, 0x00, 0x02, 0x01, /* ID=1 L=0; ID=2 L=1 ... */
    0xaa, 0x00, 0x03, 0x04, /* ... its byte, padding, ID=3 L=4 ... */
    0xdd, 0xdd, 0xdd, 0xdd, /* ... its 4 bytes */
};
/* clang-format on */

static void test_two_byte(void)
{
    rtp_packet pkt;
    rtp_ext_iter it;
    uint8_t id = 0;
    const uint8_t *d = NULL;
    size_t dl = 99;

    g_assert_cmpint(rtp_parse(&pkt, two_byte, sizeof(two_byte)), ==, RTP_OK);
    g_assert_cmpuint(pkt.ext_profile, ==, 0x1005);
    g_assert_cmpint(rtp_ext_iter_init(&it, &pkt), ==, RTP_OK);
    g_assert_true(it.two_byte);
    g_assert_cmpint(rtp_ext_next(&it, &id, &d, &dl), ==, 1);
    g_assert_cmpuint(id, ==, 1);
    g_assert_cmpuint(dl, ==, 0);
    g_assert_cmpint(rtp_ext_next(&it, &id, &d, &dl), ==, 1);
    g_assert_cmpuint(id, ==, 2);
    g_assert_cmpmem(d, dl, "\xaa", 1);
    g_assert_cmpint(rtp_ext_next(&it, &id, &d, &dl), ==, 1);
    g_assert_cmpuint(id, ==, 3);
    g_assert_cmpmem(d, dl, "\xdd\xdd\xdd\xdd", 4);
    g_assert_cmpint(rtp_ext_next(&it, &id, &d, &dl), ==, 0);
    g_assert_cmpuint(pkt.payload_len, ==, 0);
}

/* Two RTP headers as Chrome sends them (captures published with their
 * Wireshark dissection in olivermichel/webrtc-analysis,
 * test/include/data.h; payloads cut off there, so none here). */
/* clang-format off */
static const uint8_t chrome_one_byte[] = {
    0x90, 0x2d, 0x1a, 0x5f, /* X=1, PT=45, seq 6751 */
    0xd4, 0x09, 0x05, 0x49, /* timestamp 3557360969 */
    0xf7, 0xb1, 0x6e, 0x83, /* SSRC */
    0xbe, 0xde, 0x00, 0x03, /* one-byte form, 3 words */
    0x22, 0xf3, 0x43, 0x50, /* id 2 len 3: abs-send-time 0xf34350 */
    0x41, 0x00, 0x9b,       /* id 4 len 2: transport-wide seq 155 */
    0xd2, 0x81, 0x00, 0x45, /* id 13 len 3 */
    0x00,                   /* padding */
};
static const uint8_t chrome_two_byte[] = {
    0x90, 0x2d, 0x61, 0xc5, /* X=1, PT=45, seq 25029 */
    0x95, 0x0a, 0x0f, 0xee, /* timestamp 2500464622 */
    0x8d, 0x38, 0x14, 0xe5, /* SSRC */
    0x10, 0x00, 0x00, 0x11, /* two-byte form, 17 words */
    0x02, 0x03, 0x03, 0xf7, 0xae, /* id 2 len 3: abs-send-time */
    0x04, 0x02, 0x00, 0x02,       /* id 4 len 2: transport-wide seq 2 */
    0x09, 0x01, 0x30,             /* id 9 len 1 */
    0x03, 0x01, 0x00,             /* id 3 len 1 */
    0x06, 0x01, 0x02,             /* id 6 len 1 */
    0x07, 0x0d, 0x01, 0x00, 0x01, 0x00, 0x07, 0x00, /* id 7 len 13 */
    0x07, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00,
    0x0d, 0x21, 0xc0, 0x00, 0x01, 0x80, 0x03, 0x18, /* id 13 len 33: */
    0x7a, 0xaa, 0xf1, 0x30, 0xa0, 0xa0, 0x14, 0xd1, /* too long for */
    0x41, 0x38, 0x23, 0x04, 0x60, 0x08, 0x64, 0x22, /* the one-byte */
    0x22, 0x26, 0x50, 0x09, 0xf0, 0x07, 0x70, 0x13, /* form */
    0xf0, 0x0e, 0xf0,
};
/* clang-format on */

static void test_chrome_vectors(void)
{
    rtp_packet p;
    rtp_ext_iter it;
    uint32_t abs24 = 0;
    uint16_t seq = 0;
    uint8_t id;
    const uint8_t *d;
    size_t dl;
    static const uint8_t ids[] = {2, 4, 9, 3, 6, 7, 13};
    static const size_t lens[] = {3, 2, 1, 1, 1, 13, 33};

    g_assert_cmpint(rtp_parse(&p, chrome_one_byte, sizeof(chrome_one_byte)), ==,
                    RTP_OK);
    g_assert_cmpuint(p.payload_type, ==, 45);
    g_assert_cmpuint(p.seq, ==, 6751);
    g_assert_cmpuint(p.timestamp, ==, 3557360969u);
    g_assert_cmpuint(p.payload_len, ==, 0);
    g_assert_cmpint(rtp_ext_find_abs_send_time(&p, 2, &abs24), ==, RTP_OK);
    g_assert_cmpuint(abs24, ==, 0xf34350);
    g_assert_cmpint(rtp_ext_find_twcc_seq(&p, 4, &seq), ==, RTP_OK);
    g_assert_cmpuint(seq, ==, 155);
    g_assert_cmpint(rtp_ext_find(&p, 13, &d, &dl), ==, RTP_OK);
    g_assert_cmpuint(dl, ==, 3);

    g_assert_cmpint(rtp_parse(&p, chrome_two_byte, sizeof(chrome_two_byte)), ==,
                    RTP_OK);
    g_assert_cmpuint(p.seq, ==, 25029);
    g_assert_cmpuint(p.ext_profile, ==, 0x1000);
    g_assert_cmpuint(p.ext_len, ==, 68);
    g_assert_cmpint(rtp_ext_iter_init(&it, &p), ==, RTP_OK);
    for (size_t i = 0; i < G_N_ELEMENTS(ids); i++) {
        g_assert_cmpint(rtp_ext_next(&it, &id, &d, &dl), ==, 1);
        g_assert_cmpuint(id, ==, ids[i]);
        g_assert_cmpuint(dl, ==, lens[i]);
    }
    g_assert_cmpint(rtp_ext_next(&it, &id, &d, &dl), ==, 0);
    g_assert_cmpint(rtp_ext_find_abs_send_time(&p, 2, &abs24), ==, RTP_OK);
    g_assert_cmpuint(abs24, ==, 0x03f7ae);
    g_assert_cmpint(rtp_ext_find_twcc_seq(&p, 4, &seq), ==, RTP_OK);
    g_assert_cmpuint(seq, ==, 2);
}

static void test_bad_padding(void)
{
    uint8_t b[sizeof(basic)];
    rtp_packet pkt;

    memcpy(b, basic, sizeof(b));
    b[0] |= 0x20; /* P=1 */
    b[sizeof(b) - 1] = 0;
    g_assert_cmpint(rtp_parse(&pkt, b, sizeof(b)), ==, RTP_ERR_INVALID);
    b[sizeof(b) - 1] = 4; /* more than the 3 bytes after the header */
    g_assert_cmpint(rtp_parse(&pkt, b, sizeof(b)), ==, RTP_ERR_INVALID);
    b[sizeof(b) - 1] = 3; /* all of the payload is padding */
    g_assert_cmpint(rtp_parse(&pkt, b, sizeof(b)), ==, RTP_OK);
    g_assert_cmpuint(pkt.payload_len, ==, 0);
    /* P=1 with nothing after the header. */
    g_assert_cmpint(rtp_parse(&pkt, b, 12), ==, RTP_ERR_TRUNCATED);
}

static void test_truncations(void)
{
    static const struct {
        const uint8_t *bytes;
        size_t len;
        size_t headers; /* bytes of fixed header + CSRC + extension */
    } vec[] = {
        {basic, sizeof(basic), 12},
        {full, sizeof(full), 36},
        {two_byte, sizeof(two_byte), 28},
        {chrome_one_byte, sizeof(chrome_one_byte), 28},
        {chrome_two_byte, sizeof(chrome_two_byte), 84},
    };

    for (size_t v = 0; v < G_N_ELEMENTS(vec); v++) {
        rtp_packet pkt;

        g_assert_cmpint(parse_exact(vec[v].bytes, vec[v].len, &pkt), ==,
                        RTP_OK);
        for (size_t n = 0; n < vec[v].len; n++) {
            int rc = parse_exact(vec[v].bytes, n, &pkt);

            /* Cutting into the headers is always an error; cutting the
             * payload may leave a shorter valid packet (or, with P=1, a
             * bad padding count), never an out-of-bounds view. */
            if (n < vec[v].headers)
                g_assert_cmpint(rc, <, 0);
        }
    }
}

static void assert_same(const rtp_packet *a, const rtp_packet *b)
{
    g_assert_cmpuint(a->padding, ==, b->padding);
    g_assert_cmpuint(a->extension, ==, b->extension);
    g_assert_cmpuint(a->csrc_count, ==, b->csrc_count);
    g_assert_cmpmem(a->csrc, 4 * a->csrc_count, b->csrc, 4 * b->csrc_count);
    g_assert_cmpuint(a->marker, ==, b->marker);
    g_assert_cmpuint(a->payload_type, ==, b->payload_type);
    g_assert_cmpuint(a->seq, ==, b->seq);
    g_assert_cmpuint(a->timestamp, ==, b->timestamp);
    g_assert_cmpuint(a->ssrc, ==, b->ssrc);
    if (a->extension) {
        g_assert_cmpuint(a->ext_profile, ==, b->ext_profile);
        g_assert_cmpmem(a->ext_data, a->ext_len, b->ext_data, b->ext_len);
    }
    g_assert_cmpmem(a->payload, a->payload_len, b->payload, b->payload_len);
    g_assert_cmpuint(a->pad_len, ==, b->pad_len);
}

static void test_round_trip(void)
{
    const uint8_t *vec[] = {basic, full, two_byte};
    const size_t lens[] = {sizeof(basic), sizeof(full), sizeof(two_byte)};

    for (size_t v = 0; v < G_N_ELEMENTS(vec); v++) {
        rtp_packet a, b;
        uint8_t out[128];
        int n;

        g_assert_cmpint(rtp_parse(&a, vec[v], lens[v]), ==, RTP_OK);
        n = rtp_build(out, sizeof(out), &a);
        /* Our vectors are canonical: the build gives back the bytes
         * (padding bytes are zeros and a count, as in the vectors). */
        g_assert_cmpmem(out, n, vec[v], lens[v]);
        g_assert_cmpint(rtp_parse(&b, out, (size_t) n), ==, RTP_OK);
        assert_same(&a, &b);
        /* Every capacity below the size is refused. */
        for (size_t cap = 0; cap < lens[v]; cap++)
            g_assert_cmpint(rtp_build(out, cap, &a), ==, RTP_ERR_NOSPACE);
    }
}

static void test_build_args(void)
{
    rtp_packet p;
    uint8_t out[64];

    memset(&p, 0, sizeof(p));
    p.payload_type = 128;
    g_assert_cmpint(rtp_build(out, sizeof(out), &p), ==, RTP_ERR_ARG);
    p.payload_type = 0;
    p.csrc_count = 16;
    g_assert_cmpint(rtp_build(out, sizeof(out), &p), ==, RTP_ERR_ARG);
    p.csrc_count = 0;
    p.padding = true; /* pad_len 0 */
    g_assert_cmpint(rtp_build(out, sizeof(out), &p), ==, RTP_ERR_ARG);
    p.padding = false;
    p.extension = true;
    p.ext_len = 3; /* not a multiple of 4 */
    p.ext_data = out;
    g_assert_cmpint(rtp_build(out, sizeof(out), &p), ==, RTP_ERR_ARG);
    p.extension = false;
    p.payload_len = 4; /* payload NULL */
    g_assert_cmpint(rtp_build(out, sizeof(out), &p), ==, RTP_ERR_ARG);
    p.payload_len = 0;
    g_assert_cmpint(rtp_build(out, sizeof(out), &p), ==, 12);
    g_assert_cmpint(rtp_build(NULL, 64, &p), ==, RTP_ERR_ARG);
}

/* One-byte extension with the three elements libvid uses. */
static void test_ext_writer_one_byte(void)
{
    uint8_t ext[32], abs[3], tw[2], out[128];
    rtp_ext_writer w;
    rtp_packet p, q;
    char mid[RTP_MID_MAX + 1];
    uint32_t abs24 = 0;
    uint16_t seq = 0;
    int n;

    memset(&p, 0, sizeof(p));
    p.payload_type = 96;
    p.ssrc = 42;
    rtp_ext_writer_init(&w, ext, sizeof(ext), false);
    g_assert_cmpint(rtp_ext_writer_add(&w, 1, (const uint8_t *) "video0", 6),
                    ==, RTP_OK);
    rtp_abs_send_time_write(abs, 0xabcdef);
    g_assert_cmpint(rtp_ext_writer_add(&w, 3, abs, 3), ==, RTP_OK);
    rtp_twcc_seq_write(tw, 0xfffe);
    g_assert_cmpint(rtp_ext_writer_add(&w, 5, tw, 2), ==, RTP_OK);
    /* Out-of-range ids and lengths for the one-byte form. */
    g_assert_cmpint(rtp_ext_writer_add(&w, 15, tw, 2), ==, RTP_ERR_ARG);
    g_assert_cmpint(rtp_ext_writer_add(&w, 0, tw, 2), ==, RTP_ERR_ARG);
    g_assert_cmpint(rtp_ext_writer_add(&w, 2, tw, 0), ==, RTP_ERR_ARG);
    g_assert_cmpint(rtp_ext_writer_add(&w, 2, ext, 17), ==, RTP_ERR_ARG);
    g_assert_cmpint(rtp_ext_writer_finish(&w, &p), ==, RTP_OK);
    /* 7 + 4 + 3 = 14 bytes, padded to 16. */
    g_assert_cmpuint(p.ext_len, ==, 16);
    g_assert_cmpuint(p.ext_profile, ==, 0xbede);
    static const uint8_t want_ext[] = {
        0x15, 'v',  'i',  'd',  'e', 'o', '0', /* id 1, len 6 */
        0x32, 0xab, 0xcd, 0xef,                /* id 3, len 3 */
        0x51, 0xff, 0xfe,                      /* id 5, len 2 */
        0x00, 0x00,                            /* padding */
    };
    g_assert_cmpmem(p.ext_data, p.ext_len, want_ext, sizeof(want_ext));

    n = rtp_build(out, sizeof(out), &p);
    g_assert_cmpint(n, ==, 12 + 4 + 16);
    g_assert_cmpint(rtp_parse(&q, out, (size_t) n), ==, RTP_OK);
    g_assert_cmpint(rtp_ext_find_mid(&q, 1, mid, sizeof(mid)), ==, RTP_OK);
    g_assert_cmpstr(mid, ==, "video0");
    g_assert_cmpint(rtp_ext_find_mid(&q, 1, mid, 6), ==, RTP_ERR_NOSPACE);
    g_assert_cmpint(rtp_ext_find_abs_send_time(&q, 3, &abs24), ==, RTP_OK);
    g_assert_cmpuint(abs24, ==, 0xabcdef);
    g_assert_cmpint(rtp_ext_find_twcc_seq(&q, 5, &seq), ==, RTP_OK);
    g_assert_cmpuint(seq, ==, 0xfffe);
    /* Wrong-length elements are refused by the typed helpers. */
    g_assert_cmpint(rtp_ext_find_twcc_seq(&q, 3, &seq), ==, RTP_ERR_INVALID);
    g_assert_cmpint(rtp_ext_find_abs_send_time(&q, 5, &abs24), ==,
                    RTP_ERR_INVALID);
    /* abs-send-time bytes are not a token mid (0xab is not ASCII). */
    g_assert_cmpint(rtp_ext_find_mid(&q, 3, mid, sizeof(mid)), ==,
                    RTP_ERR_INVALID);
    g_assert_cmpint(rtp_ext_find_mid(&q, 9, mid, sizeof(mid)), ==,
                    RTP_ERR_NOT_FOUND);
}

static void test_ext_writer_two_byte(void)
{
    uint8_t ext[300], big[255], out[400];
    rtp_ext_writer w;
    rtp_packet p, q;
    const uint8_t *d;
    size_t dl;
    int n;

    memset(big, 0x5a, sizeof(big));
    memset(&p, 0, sizeof(p));
    rtp_ext_writer_init(&w, ext, sizeof(ext), true);
    g_assert_cmpint(rtp_ext_writer_add(&w, 200, NULL, 0), ==, RTP_OK);
    g_assert_cmpint(rtp_ext_writer_add(&w, 20, big, 255), ==, RTP_OK);
    g_assert_cmpint(rtp_ext_writer_add(&w, 21, big, 256), ==, RTP_ERR_ARG);
    g_assert_cmpint(rtp_ext_writer_add(&w, 22, big, 255), ==, RTP_ERR_NOSPACE);
    g_assert_cmpint(rtp_ext_writer_finish(&w, &p), ==, RTP_OK);
    g_assert_cmpuint(p.ext_len, ==, 260); /* 2 + 257 = 259 -> 260 */
    n = rtp_build(out, sizeof(out), &p);
    g_assert_cmpint(n, >, 0);
    g_assert_cmpint(rtp_parse(&q, out, (size_t) n), ==, RTP_OK);
    g_assert_cmpint(rtp_ext_find(&q, 200, &d, &dl), ==, RTP_OK);
    g_assert_cmpuint(dl, ==, 0);
    g_assert_cmpint(rtp_ext_find(&q, 20, &d, &dl), ==, RTP_OK);
    g_assert_cmpmem(d, dl, big, sizeof(big));

    /* No room for the padding. */
    rtp_ext_writer_init(&w, ext, 3, true);
    g_assert_cmpint(rtp_ext_writer_add(&w, 1, big, 1), ==, RTP_OK);
    g_assert_cmpint(rtp_ext_writer_finish(&w, &p), ==, RTP_ERR_NOSPACE);
}

static void test_ext_malformed(void)
{
    /* One-byte element claiming 16 bytes inside a 4-byte block. */
    static const uint8_t overrun[] = {
        0x90, 0x60, 0x00, 0x01, 0,    0,    0,    0,    0, 0, 0, 1, /* X=1 */
        0xbe, 0xde, 0x00, 0x01, 0x1f, 0x01, 0x02, 0x03,
    };
    /* Id 15 stops the walk even though data follows. */
    static const uint8_t stop[] = {
        0x90, 0x60, 0x00, 0x01, 0,    0,    0,    0,    0, 0, 0, 1, /* X=1 */
        0xbe, 0xde, 0x00, 0x01, 0xf0, 0x10, 0xaa, 0x00,
    };
    /* Unknown profile. */
    static const uint8_t other[] = {
        0x90, 0x60, 0x00, 0x01, 0,    0,    0,    0,    0, 0, 0, 1, /* X=1 */
        0x12, 0x34, 0x00, 0x01, 0x10, 0xaa, 0x00, 0x00,
    };
    /* Two-byte element header cut by the block end. */
    static const uint8_t two_cut[] = {
        0x90, 0x60, 0x00, 0x01, 0,    0,    0,    0,    0, 0, 0, 1, /* X=1 */
        0x10, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x07,
    };
    /* One-byte element with id 0 and length bits set: not padding. */
    static const uint8_t id0[] = {
        0x90, 0x60, 0x00, 0x01, 0,    0,    0,    0,    0, 0, 0, 1, /* X=1 */
        0xbe, 0xde, 0x00, 0x01, 0x00, 0x01, 0x10, 0xaa,
    };
    rtp_packet p;
    const uint8_t *d;
    size_t dl;

    g_assert_cmpint(rtp_parse(&p, id0, sizeof(id0)), ==, RTP_OK);
    g_assert_cmpint(rtp_ext_find(&p, 1, &d, &dl), ==, RTP_ERR_INVALID);
    g_assert_cmpint(rtp_parse(&p, overrun, sizeof(overrun)), ==, RTP_OK);
    g_assert_cmpint(rtp_ext_find(&p, 1, &d, &dl), ==, RTP_ERR_TRUNCATED);
    g_assert_cmpint(rtp_parse(&p, stop, sizeof(stop)), ==, RTP_OK);
    g_assert_cmpint(rtp_ext_find(&p, 1, &d, &dl), ==, RTP_ERR_NOT_FOUND);
    g_assert_cmpint(rtp_parse(&p, other, sizeof(other)), ==, RTP_OK);
    g_assert_cmpint(rtp_ext_find(&p, 1, &d, &dl), ==, RTP_ERR_NOT_FOUND);
    g_assert_cmpint(rtp_parse(&p, two_cut, sizeof(two_cut)), ==, RTP_OK);
    g_assert_cmpint(rtp_ext_find(&p, 7, &d, &dl), ==, RTP_ERR_TRUNCATED);
    /* A packet without X has no extension. */
    g_assert_cmpint(rtp_parse(&p, basic, sizeof(basic)), ==, RTP_OK);
    g_assert_cmpint(rtp_ext_find(&p, 1, &d, &dl), ==, RTP_ERR_NOT_FOUND);
}

static void test_abs_send_time(void)
{
    /* 1.5 s in 6.18 fixed point is 1.5 * 2^18 = 0x060000. */
    g_assert_cmpuint(rtp_abs_send_time_from_us(1500000), ==, 0x060000);
    /* NTP 32.32 of 1.5 s: 0x00000001_80000000 -> >>14 = 0x060000. */
    g_assert_cmpuint(rtp_abs_send_time_from_ntp(0x0000000180000000ull), ==,
                     0x060000);
    /* Wraps every 64 s: 65.5 s == 1.5 s. */
    g_assert_cmpuint(rtp_abs_send_time_from_us(65500000), ==, 0x060000);
    g_assert_cmpuint(rtp_abs_send_time_to_us(0x060000), ==, 1500000);
    /* Resolution is 2^-18 s (about 3.8 us): round trips stay within it. */
    for (uint64_t us = 0; us < 64000000; us += 999983) {
        uint64_t back = rtp_abs_send_time_to_us(rtp_abs_send_time_from_us(us));
        g_assert_cmpuint(back <= us ? us - back : back - us, <=, 4);
    }
    /* Large epochs (microseconds since 1970) must not overflow. */
    g_assert_cmpuint(
        rtp_abs_send_time_from_us(1764290000000000ull + 1500000), ==,
        rtp_abs_send_time_from_us((1764290000000000ull % 64000000) + 1500000));
}

static void test_mid_valid(void)
{
    g_assert_true(rtp_mid_valid("0", 1));
    g_assert_true(rtp_mid_valid("audio", 5));
    g_assert_true(rtp_mid_valid("0123456789abcdef", 16));
    g_assert_false(rtp_mid_valid("0123456789abcdefg", 17));
    g_assert_false(rtp_mid_valid("", 0));
    g_assert_false(rtp_mid_valid("a b", 3));
    g_assert_false(rtp_mid_valid("a\"b", 3));
    g_assert_false(rtp_mid_valid(NULL, 1));
}

/* ---- demux -------------------------------------------------------------- */

static void test_classify(void)
{
    uint8_t b[32];

    memset(b, 0, sizeof(b));
    /* STUN binding request: type 0x0001, needs 20 bytes. */
    b[1] = 0x01;
    g_assert_cmpint(rtp_demux_classify(b, 20), ==, RTP_DGRAM_STUN);
    g_assert_cmpint(rtp_demux_classify(b, 19), ==, RTP_DGRAM_UNKNOWN);
    /* DTLS handshake record: content type 22. */
    b[0] = 22;
    g_assert_cmpint(rtp_demux_classify(b, 13), ==, RTP_DGRAM_DTLS);
    g_assert_cmpint(rtp_demux_classify(b, 12), ==, RTP_DGRAM_UNKNOWN);
    b[0] = 20;
    g_assert_cmpint(rtp_demux_classify(b, 13), ==, RTP_DGRAM_DTLS);
    b[0] = 63;
    g_assert_cmpint(rtp_demux_classify(b, 13), ==, RTP_DGRAM_DTLS);
    b[0] = 64;
    g_assert_cmpint(rtp_demux_classify(b, 4), ==, RTP_DGRAM_TURN_CHANNEL);
    b[0] = 16;
    g_assert_cmpint(rtp_demux_classify(b, 12), ==, RTP_DGRAM_ZRTP);
    /* RTP PT 96 with and without the marker. */
    b[0] = 0x80;
    b[1] = 96;
    g_assert_cmpint(rtp_demux_classify(b, 12), ==, RTP_DGRAM_RTP);
    g_assert_cmpint(rtp_demux_classify(b, 11), ==, RTP_DGRAM_UNKNOWN);
    b[1] = 0x80 | 96; /* 224: above the RTCP range */
    g_assert_cmpint(rtp_demux_classify(b, 12), ==, RTP_DGRAM_RTP);
    /* RTCP SR (200) and PSFB (206); RTP PT 72 with M=1 collides with SR,
     * which is why RFC 5761 says not to use PT 64..95. */
    b[1] = 200;
    g_assert_cmpint(rtp_demux_classify(b, 8), ==, RTP_DGRAM_RTCP);
    g_assert_cmpint(rtp_demux_classify(b, 7), ==, RTP_DGRAM_UNKNOWN);
    b[1] = 206;
    g_assert_cmpint(rtp_demux_classify(b, 12), ==, RTP_DGRAM_RTCP);
    b[1] = 191;
    g_assert_cmpint(rtp_demux_classify(b, 12), ==, RTP_DGRAM_RTP);
    /* Ranges RFC 7983 leaves unassigned. */
    const uint8_t unknown_first[] = {4, 15, 80, 127, 192, 255};
    for (size_t i = 0; i < sizeof(unknown_first); i++) {
        b[0] = unknown_first[i];
        g_assert_cmpint(rtp_demux_classify(b, sizeof(b)), ==,
                        RTP_DGRAM_UNKNOWN);
    }
    g_assert_cmpint(rtp_demux_classify(b, 0), ==, RTP_DGRAM_UNKNOWN);
    g_assert_cmpint(rtp_demux_classify(NULL, 10), ==, RTP_DGRAM_UNKNOWN);
}

/* Builds an RTP packet with SSRC, PT and an optional mid (ext id 1). */
static int make_pkt(uint8_t *out, size_t cap, uint32_t ssrc, uint8_t pt,
                    const char *mid, rtp_packet *parsed)
{
    uint8_t ext[32];
    rtp_ext_writer w;
    rtp_packet p;
    int n;

    memset(&p, 0, sizeof(p));
    p.ssrc = ssrc;
    p.payload_type = pt;
    if (mid != NULL) {
        rtp_ext_writer_init(&w, ext, sizeof(ext), false);
        g_assert_cmpint(
            rtp_ext_writer_add(&w, 1, (const uint8_t *) mid, strlen(mid)), ==,
            RTP_OK);
        g_assert_cmpint(rtp_ext_writer_finish(&w, &p), ==, RTP_OK);
    }
    n = rtp_build(out, cap, &p);
    g_assert_cmpint(n, >, 0);
    g_assert_cmpint(rtp_parse(parsed, out, (size_t) n), ==, RTP_OK);
    return n;
}

static void test_demux_route(void)
{
    static const uint8_t audio_pts[] = {111, 0};
    static const uint8_t video_pts[] = {96, 97, 100};
    static const uint8_t shared_pts[] = {100};
    rtp_demux d;
    rtp_packet p;
    uint8_t buf[64];
    int id = -1;

    rtp_demux_init(&d, 1);
    g_assert_cmpint(rtp_demux_add_stream(&d, 10, "a", audio_pts, 2), ==,
                    RTP_OK);
    g_assert_cmpint(rtp_demux_add_stream(&d, 20, "v", video_pts, 3), ==,
                    RTP_OK);
    g_assert_cmpint(rtp_demux_add_stream(&d, 30, "d", shared_pts, 1), ==,
                    RTP_OK);
    g_assert_cmpint(rtp_demux_add_stream(&d, 10, "x", NULL, 0), ==,
                    RTP_ERR_ARG); /* duplicate id */
    g_assert_cmpint(rtp_demux_add_stream(&d, 40, "v", NULL, 0), ==,
                    RTP_ERR_ARG); /* duplicate mid */
    g_assert_cmpint(rtp_demux_add_stream(&d, 41, "bad mid", NULL, 0), ==,
                    RTP_ERR_ARG);
    static const uint8_t bad_pt[] = {128};
    g_assert_cmpint(rtp_demux_add_stream(&d, 42, NULL, bad_pt, 1), ==,
                    RTP_ERR_ARG);

    /* mid decides, even against the payload type, and binds the SSRC. */
    make_pkt(buf, sizeof(buf), 0xaaaa, 111, "v", &p);
    g_assert_cmpint(rtp_demux_route(&d, &p, &id), ==, RTP_OK);
    g_assert_cmpint(id, ==, 20);
    make_pkt(buf, sizeof(buf), 0xaaaa, 111, NULL, &p);
    g_assert_cmpint(rtp_demux_route(&d, &p, &id), ==, RTP_OK);
    g_assert_cmpint(id, ==, 20); /* learned SSRC wins over PT now */
    /* A new mid for the same SSRC rebinds it. */
    make_pkt(buf, sizeof(buf), 0xaaaa, 111, "a", &p);
    g_assert_cmpint(rtp_demux_route(&d, &p, &id), ==, RTP_OK);
    g_assert_cmpint(id, ==, 10);
    /* Unknown mid: drop. */
    make_pkt(buf, sizeof(buf), 0xbbbb, 96, "zz", &p);
    g_assert_cmpint(rtp_demux_route(&d, &p, &id), ==, RTP_ERR_NOT_FOUND);
    /* A mid element that is not a token: drop as invalid. */
    make_pkt(buf, sizeof(buf), 0xbbbb, 96, "a b", &p);
    g_assert_cmpint(rtp_demux_route(&d, &p, &id), ==, RTP_ERR_INVALID);
    /* No mid, new SSRC: unique PT decides and binds. */
    make_pkt(buf, sizeof(buf), 0xcccc, 97, NULL, &p);
    g_assert_cmpint(rtp_demux_route(&d, &p, &id), ==, RTP_OK);
    g_assert_cmpint(id, ==, 20);
    g_assert_cmpint(rtp_demux_lookup_ssrc(&d, 0xcccc, &id), ==, RTP_OK);
    g_assert_cmpint(id, ==, 20);
    /* PT shared by two streams, or by none: drop. */
    make_pkt(buf, sizeof(buf), 0xdddd, 100, NULL, &p);
    g_assert_cmpint(rtp_demux_route(&d, &p, &id), ==, RTP_ERR_NOT_FOUND);
    make_pkt(buf, sizeof(buf), 0xdddd, 55, NULL, &p);
    g_assert_cmpint(rtp_demux_route(&d, &p, &id), ==, RTP_ERR_NOT_FOUND);
    /* Signalled SSRC (a=ssrc). */
    g_assert_cmpint(rtp_demux_bind_ssrc(&d, 0xdddd, 30), ==, RTP_OK);
    g_assert_cmpint(rtp_demux_route(&d, &p, &id), ==, RTP_OK);
    g_assert_cmpint(id, ==, 30);
    g_assert_cmpint(rtp_demux_bind_ssrc(&d, 1, 99), ==, RTP_ERR_NOT_FOUND);
    g_assert_cmpint(rtp_demux_lookup_ssrc(&d, 0x1234, &id), ==,
                    RTP_ERR_NOT_FOUND);
}

static void test_demux_full_table(void)
{
    static const uint8_t pts[] = {96};
    rtp_demux d;
    rtp_packet p;
    uint8_t buf[64];
    int id = -1;

    rtp_demux_init(&d, 0);
    g_assert_cmpint(rtp_demux_add_stream(&d, 1, NULL, pts, 1), ==, RTP_OK);
    for (int i = 2; i <= RTP_DEMUX_MAX_STREAMS; i++)
        g_assert_cmpint(rtp_demux_add_stream(&d, i, NULL, NULL, 0), ==, RTP_OK);
    g_assert_cmpint(rtp_demux_add_stream(&d, 99, NULL, NULL, 0), ==,
                    RTP_ERR_NOSPACE);
    /* Fill the SSRC table through PT routing; then routing still works
     * without learning. */
    for (uint32_t s = 0; s < RTP_DEMUX_MAX_SSRCS + 10; s++) {
        make_pkt(buf, sizeof(buf), 1000 + s, 96, NULL, &p);
        g_assert_cmpint(rtp_demux_route(&d, &p, &id), ==, RTP_OK);
        g_assert_cmpint(id, ==, 1);
    }
    g_assert_cmpuint(d.n_ssrcs, ==, RTP_DEMUX_MAX_SSRCS);
    g_assert_cmpint(rtp_demux_bind_ssrc(&d, 5, 2), ==, RTP_ERR_NOSPACE);
    /* Rebinding a known SSRC still works when full. */
    g_assert_cmpint(rtp_demux_bind_ssrc(&d, 1000, 2), ==, RTP_OK);
    g_assert_cmpint(rtp_demux_lookup_ssrc(&d, 1000, &id), ==, RTP_OK);
    g_assert_cmpint(id, ==, 2);
}

static void test_strerror(void)
{
    for (int c = 0; c >= -7; c--)
        g_assert_nonnull(rtp_strerror(c));
    g_assert_cmpstr(rtp_strerror(RTP_ERR_TRUNCATED), !=,
                    rtp_strerror(RTP_ERR_INVALID));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtp/parse-basic", test_parse_basic);
    g_test_add_func("/rtp/bad-version", test_bad_version);
    g_test_add_func("/rtp/parse-full", test_parse_full);
    g_test_add_func("/rtp/rfc8285-two-byte", test_two_byte);
    g_test_add_func("/rtp/chrome-vectors", test_chrome_vectors);
    g_test_add_func("/rtp/bad-padding", test_bad_padding);
    g_test_add_func("/rtp/truncations", test_truncations);
    g_test_add_func("/rtp/round-trip", test_round_trip);
    g_test_add_func("/rtp/build-args", test_build_args);
    g_test_add_func("/rtp/ext-writer-one-byte", test_ext_writer_one_byte);
    g_test_add_func("/rtp/ext-writer-two-byte", test_ext_writer_two_byte);
    g_test_add_func("/rtp/ext-malformed", test_ext_malformed);
    g_test_add_func("/rtp/abs-send-time", test_abs_send_time);
    g_test_add_func("/rtp/mid-valid", test_mid_valid);
    g_test_add_func("/rtp/demux/classify", test_classify);
    g_test_add_func("/rtp/demux/route", test_demux_route);
    g_test_add_func("/rtp/demux/full-table", test_demux_full_table);
    g_test_add_func("/rtp/strerror", test_strerror);
    return g_test_run();
}
