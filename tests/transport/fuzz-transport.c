/*
 * fuzz-transport.c — libFuzzer target for the transport layer's pure
 * parsers of untrusted text and bytes: the candidate-line check that
 * guards libnice, ICE server URLs, fingerprints, the RFC 7983 classifier
 * and DTLS record packing. The first byte picks the parser.
 */
#include <stdlib.h>
#include <string.h>

#include "transport-private.h"

static void sink(const uint8_t *buf, size_t len, void *ud)
{
    size_t *total = ud;
    if (len == 0 || buf == NULL)
        abort();
    *total += len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t which = data[0] % 5;
    data++;
    size--;
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    switch (which) {
    case 0: {
        unsigned comp = 0;
        if (transport_candidate_check(s, &comp) == 0 &&
            (comp == 0 || comp > 256))
            abort();
        break;
    }
    case 1: {
        bool turn, tls, tcp;
        char host[256];
        unsigned port = 0;
        if (transport_parse_ice_url(s, &turn, &tls, &tcp, host, sizeof host,
                                    &port) == 0 &&
            (port == 0 || port > 65535 || host[0] == '\0'))
            abort();
        break;
    }
    case 2: {
        char out[TRANSPORT_FP_LEN];
        if (transport_fp_normalize(s, out, sizeof out) == 0 &&
            strlen(out) != TRANSPORT_FP_LEN - 1)
            abort();
        break;
    }
    case 3:
        (void) rtp_demux_classify(data, size);
        break;
    default: {
        size_t total = 0;
        int n = dtls_pack_records(data, size, 1200, sink, &total);
        if (n >= 0 && total != size)
            abort();
        break;
    }
    }
    free(s);
    return 0;
}
