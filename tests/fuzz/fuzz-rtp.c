/*
 * libFuzzer target: RTP packets and RFC 8285 header extensions.
 *
 * Parses arbitrary bytes; when the parse succeeds, rebuilds the packet,
 * parses the rebuilt bytes and checks that both views agree (and that the
 * bytes are identical when there is no padding, whose content the parser
 * does not keep). The extension block is re-encoded element by element
 * with rtp_ext_writer and must read back the same elements.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtp.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            abort();                                                           \
    } while (0)

static uint8_t out[70000 * 4];
static uint8_t ext_out[65536 * 4];

static void same_packet(const rtp_packet *a, const rtp_packet *b)
{
    CHECK(a->version == b->version);
    CHECK(a->padding == b->padding && a->pad_len == b->pad_len);
    CHECK(a->extension == b->extension);
    CHECK(a->csrc_count == b->csrc_count);
    CHECK(memcmp(a->csrc, b->csrc, sizeof(a->csrc)) == 0);
    CHECK(a->marker == b->marker && a->payload_type == b->payload_type);
    CHECK(a->seq == b->seq && a->timestamp == b->timestamp);
    CHECK(a->ssrc == b->ssrc);
    if (a->extension) {
        CHECK(a->ext_profile == b->ext_profile && a->ext_len == b->ext_len);
        CHECK(a->ext_len == 0 ||
              memcmp(a->ext_data, b->ext_data, a->ext_len) == 0);
    }
    CHECK(a->payload_len == b->payload_len);
    CHECK(a->payload_len == 0 ||
          memcmp(a->payload, b->payload, a->payload_len) == 0);
}

/* Re-encodes the extension elements and compares the two walks. */
static void ext_round_trip(const rtp_packet *pkt)
{
    rtp_ext_iter it, it2;
    rtp_ext_writer w;
    rtp_packet copy;
    uint8_t id, id2;
    const uint8_t *d, *d2;
    size_t dl, dl2;
    size_t written = 0;
    int rc, rc2;

    if (rtp_ext_iter_init(&it, pkt) != RTP_OK)
        return;
    memset(&copy, 0, sizeof(copy));
    rtp_ext_writer_init(&w, ext_out, sizeof(ext_out), it.two_byte);
    while ((rc = rtp_ext_next(&it, &id, &d, &dl)) == 1) {
        CHECK(d >= pkt->ext_data && d + dl <= pkt->ext_data + pkt->ext_len);
        CHECK(rtp_ext_writer_add(&w, id, d, dl) == RTP_OK);
        written++;
    }
    CHECK(rtp_ext_writer_finish(&w, &copy) == RTP_OK);
    CHECK(copy.ext_len <= pkt->ext_len);
    if (written == 0)
        return;
    CHECK(rtp_ext_iter_init(&it, pkt) == RTP_OK);
    CHECK(rtp_ext_iter_init(&it2, &copy) == RTP_OK);
    for (size_t i = 0; i < written; i++) {
        rc = rtp_ext_next(&it, &id, &d, &dl);
        rc2 = rtp_ext_next(&it2, &id2, &d2, &dl2);
        CHECK(rc == 1 && rc2 == 1);
        CHECK(id == id2 && dl == dl2);
        CHECK(dl == 0 || memcmp(d, d2, dl) == 0);
    }
    CHECK(rtp_ext_next(&it2, &id2, &d2, &dl2) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rtp_packet pkt, again;
    char mid[RTP_MID_MAX + 1];
    uint32_t abs24;
    uint16_t seq;
    int n;

    if (size > sizeof(out) || rtp_parse(&pkt, data, size) != RTP_OK)
        return 0;
    CHECK(pkt.payload >= data &&
          pkt.payload + pkt.payload_len + pkt.pad_len == data + size);

    /* The typed helpers on every id must stay in bounds. */
    for (unsigned id = 1; id < 16; id++) {
        if (rtp_ext_find_mid(&pkt, (uint8_t) id, mid, sizeof(mid)) == RTP_OK)
            CHECK(rtp_mid_valid(mid, strlen(mid)));
        (void) rtp_ext_find_abs_send_time(&pkt, (uint8_t) id, &abs24);
        (void) rtp_ext_find_twcc_seq(&pkt, (uint8_t) id, &seq);
    }
    ext_round_trip(&pkt);

    n = rtp_build(out, sizeof(out), &pkt);
    CHECK(n > 0 && (size_t) n == size);
    CHECK(rtp_parse(&again, out, (size_t) n) == RTP_OK);
    same_packet(&pkt, &again);
    if (!pkt.padding)
        CHECK(memcmp(out, data, size) == 0);
    /* One byte less never fits. */
    CHECK(rtp_build(out, size - 1, &pkt) == RTP_ERR_NOSPACE);
    return 0;
}
