/*
 * libFuzzer target: ICE candidate strings (libvid/sdp).
 *
 * Whatever sdp_candidate_parse() accepts, sdp_candidate_format() must write
 * (never longer than the input), and the written string must parse back to
 * the same candidate and format to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sdp.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            abort();                                                           \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sdp_candidate c, c2;
    sdp_error err = {0};
    char buf[SDP_MAX_CANDIDATE_LEN + 1], buf2[SDP_MAX_CANDIDATE_LEN + 1];
    size_t n, n2;
    sdp_status st = sdp_candidate_parse(&c, (const char *) data, size, &err);

    if (st != SDP_OK) {
        CHECK(st == SDP_ERR_BAD_CANDIDATE && err.code == st);
        CHECK(err.message[0] != '\0');
        return 0;
    }
    n = sdp_candidate_format(&c, buf, sizeof(buf));
    CHECK(n > 0 && n <= size && buf[n] == '\0');
    CHECK(sdp_candidate_parse(&c2, buf, n, &err) == SDP_OK);
    CHECK(memcmp(&c, &c2, sizeof(c)) == 0);
    n2 = sdp_candidate_format(&c2, buf2, sizeof(buf2));
    CHECK(n2 == n && memcmp(buf, buf2, n) == 0);
    return 0;
}
