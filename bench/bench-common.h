/*
 * bench-common.h — what the benchmarks that measure webrtcbin as their
 * reference share: a throw-away DTLS certificate and an in-process
 * offer/answer between two webrtcbin elements.
 */
#ifndef VID_BENCH_COMMON_H
#define VID_BENCH_COMMON_H

#include <gst/gst.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

/** A self-signed ECDSA P-256 certificate valid for a day; exits with a
 *  message naming @prog when OpenSSL fails. */
void bench_make_cert(const char *prog, X509 **cert, EVP_PKEY **key);

typedef void (*wbpair_fail_fn)(void *ud, const char *why);

/** Two webrtcbin elements in one process: webrtc[0] offers, webrtc[1]
 *  answers. Borrowed; the struct must outlive the negotiation. */
typedef struct {
    GstElement *webrtc[2];
    wbpair_fail_fn fail; /* "webrtcbin gave no offer/answer"; any thread */
    void *ud;
} wbpair;

/** Give each element's ICE candidates to the other. */
void wbpair_link(wbpair *p);
/** create-offer on [0], set-local/-remote, create-answer on [1],
 *  set-local/-remote; the rest (ICE, DTLS) follows by itself. */
void wbpair_negotiate(wbpair *p);
/** Disconnect what wbpair_link() connected. */
void wbpair_unlink(wbpair *p);

#endif
