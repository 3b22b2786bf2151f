/*
 * transport-private.h — the pieces transport.c glues together. The pure
 * ones (demux, impairment, fingerprints, DTLS record packing) do no I/O
 * and are unit-tested in tests/unit/transport/.
 */
#ifndef VID_TRANSPORT_PRIVATE_H
#define VID_TRANSPORT_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>
#include <openssl/ssl.h>

#include "transport.h"

/* RFC 7983 demultiplexing is rtp_demux_classify() of the pure packet
 * library libvid/rtp/ (libc only), which the transport links: one
 * classifier for the whole library. */
#include "rtp.h"

/* ------------------------------------------------------------------------
 * Seeded impairment decisions (pure).
 */
typedef struct {
    transport_impairment cfg;
    uint64_t state;
    bool on;
} impair_state;

/** @p cfg NULL turns it off. @return 0, TRANSPORT_EINVAL (out of range). */
int impair_configure(impair_state *st, const transport_impairment *cfg);

/** For the next datagram: true to drop it; else *delay_ms is how long to
 *  hold it (0 = send now). Deterministic for a given seed. */
bool impair_next(impair_state *st, unsigned *delay_ms);

/* ------------------------------------------------------------------------
 * Fingerprints "sha-256 AB:CD:..." (pure apart from the X509 digest).
 */
#define TRANSPORT_FP_LEN 104 /* "sha-256 " + 32*3-1 + NUL */

/** Canonical form of @in (algorithm lowercase, hex uppercase), which must
 *  be sha-256 with 32 colon-separated bytes. @return 0, TRANSPORT_EINVAL,
 *  TRANSPORT_ENOSPACE. */
int transport_fp_normalize(const char *in, char *out, size_t cap);

/** @return 0, TRANSPORT_ENOSPACE, TRANSPORT_EFAIL. */
int transport_fp_of_cert(X509 *cert, char *out, size_t cap);

/* ------------------------------------------------------------------------
 * DTLS 1.2 over memory BIOs (no I/O: datagrams go out through @send,
 * timers are the caller's job via dtls_session_timeout_ms()).
 */
typedef struct dtls_session dtls_session;

typedef enum {
    DTLS_CONTINUE = 0, /* handshake in progress */
    DTLS_DONE,         /* handshake complete (reported once) */
    DTLS_FAILED,       /* fatal alert, bad record, or timeout */
    DTLS_CLOSED,       /* peer sent close_notify */
} dtls_result;

typedef enum {
    DTLS_SRTP_NONE = 0,
    DTLS_SRTP_AES128_CM_SHA1_80 = 1,
    DTLS_SRTP_AEAD_AES_128_GCM = 7,
} dtls_srtp_profile;

typedef void (*dtls_send_fn)(const uint8_t *buf, size_t len, void *ud);

/** @return 0, TRANSPORT_EINVAL, TRANSPORT_EFAIL. Takes its own
 *  references to @cert and @key. @mtu bounds each sent datagram. */
int dtls_session_new(dtls_session **out, X509 *cert, EVP_PKEY *key, bool client,
                     size_t mtu, const char *srtp_profiles, dtls_send_fn send,
                     void *ud);
void dtls_session_free(dtls_session *s);

/** The client sends its ClientHello; a server does nothing. */
dtls_result dtls_session_start(dtls_session *s);
dtls_result dtls_session_receive(dtls_session *s, const uint8_t *buf,
                                 size_t len);
/** Call when dtls_session_timeout_ms() elapsed. */
dtls_result dtls_session_handle_timeout(dtls_session *s);
/** Milliseconds until the retransmit timer fires, or -1 if none. */
long dtls_session_timeout_ms(dtls_session *s);
bool dtls_session_is_done(const dtls_session *s);
/** Borrowed; valid until the session is freed. NULL before DONE. */
X509 *dtls_session_peer_cert(dtls_session *s);
dtls_srtp_profile dtls_session_srtp_profile(dtls_session *s);
/** Keying material from the exporter. @return 0, TRANSPORT_EFAIL. */
int dtls_session_export(dtls_session *s, const char *label, uint8_t *out,
                        size_t len);
/** Last OpenSSL error text, "" if none. */
const char *dtls_session_error(const dtls_session *s);
/** Sends close_notify. */
void dtls_session_shutdown(dtls_session *s);

/** Splits @len bytes of concatenated DTLS records into datagrams of at
 *  most @mtu bytes at record boundaries (a record bigger than @mtu goes
 *  alone). Calls @send per datagram. @return number of datagrams or
 *  TRANSPORT_EINVAL if a record header is truncated. */
int dtls_pack_records(const uint8_t *buf, size_t len, size_t mtu,
                      dtls_send_fn send, void *ud);

/* ------------------------------------------------------------------------
 * SRTP sessions (libsrtp2): one outbound and one inbound context.
 */
typedef struct srtp_session srtp_session;

#define SRTP_SESSION_MAX_KEY_SALT 30
#define SRTP_SESSION_TRAILER 148 /* >= SRTP_MAX_TRAILER_LEN + 4 */

typedef enum {
    SRTP_SESSION_EV_SOFT_LIMIT = 1 << 0,
    SRTP_SESSION_EV_HARD_LIMIT = 1 << 1,
} srtp_session_events;

/** Initialises libsrtp2 once per process (thread-safe).
 *  @return 0, TRANSPORT_EFAIL. */
int srtp_session_global_init(void);

/** Key material layout per RFC 5764 section 4.2 for @profile, as
 *  exported with "EXTRACTOR-dtls_srtp". @return 0, TRANSPORT_EINVAL. */
int srtp_session_material_len(dtls_srtp_profile profile, size_t *key_len,
                              size_t *salt_len);

/** @p tx / @p rx are master key || master salt. @return 0,
 *  TRANSPORT_EINVAL, TRANSPORT_EFAIL. */
int srtp_session_new(srtp_session **out, dtls_srtp_profile profile,
                     const uint8_t *tx, const uint8_t *rx, size_t key_salt_len);
void srtp_session_free(srtp_session *s);

/** In place; @cap must be >= *len + SRTP_SESSION_TRAILER.
 *  @return 0, TRANSPORT_ENOSPACE, TRANSPORT_EFAIL. */
int srtp_session_protect(srtp_session *s, bool rtcp, uint8_t *buf, size_t *len,
                         size_t cap);

typedef enum {
    SRTP_SESSION_OK = 0,
    SRTP_SESSION_REPLAY,
    SRTP_SESSION_AUTH_FAIL,
    SRTP_SESSION_OTHER,
} srtp_session_verdict;

/** In place. */
srtp_session_verdict srtp_session_unprotect(srtp_session *s, bool rtcp,
                                            uint8_t *buf, size_t *len);

/** Key-limit events raised since the last call (bitmask), then cleared. */
unsigned srtp_session_take_events(srtp_session *s);

/* ------------------------------------------------------------------------
 * ICE (libnice, RFC 5245 full mode, one stream, one component, trickle).
 */
typedef struct ice_agent ice_agent;

typedef enum {
    ICE_STATUS_CHECKING = 1,
    ICE_STATUS_CONNECTED, /* a pair works; may still change */
    ICE_STATUS_FAILED,    /* see the reason argument */
} ice_status;

typedef struct {
    void (*candidate)(const char *cand, void *ud); /* NULL = end */
    void (*status)(ice_status st, transport_failure reason, const char *detail,
                   void *ud);
    void (*recv)(uint8_t *buf, size_t len, void *ud);
    void (*selected_pair)(void *ud);
    void *ud;
} ice_callbacks;

/** @p local_addresses: NULL-terminated IP literals to gather on, or NULL
 *  for every interface. @return 0, TRANSPORT_EINVAL, TRANSPORT_EFAIL. */
int ice_agent_new(ice_agent **out, GMainContext *ctx, bool controlling,
                  const transport_policy *policy,
                  const char *const *local_addresses, const ice_callbacks *cb);
void ice_agent_free(ice_agent *a);
int ice_agent_gather(ice_agent *a);
int ice_agent_get_credentials(ice_agent *a, char *ufrag, size_t ucap, char *pwd,
                              size_t pcap);
int ice_agent_set_remote_credentials(ice_agent *a, const char *ufrag,
                                     const char *pwd);
int ice_agent_add_remote_candidate(ice_agent *a, const char *cand);
int ice_agent_remote_done(ice_agent *a);
int ice_agent_restart(ice_agent *a);
/** @return bytes sent or -1 (no pair yet / would block). */
int ice_agent_send(ice_agent *a, const uint8_t *buf, size_t len);
int ice_agent_selected_pair(ice_agent *a, const char **local_type,
                            const char **remote_type, const char **proto);

/* TURN diagnosis: one Allocate exchange (with the long-term credential
 * retry) against a TURN server over UDP, run when ICE has no relayed
 * candidate. Result through @done on @ctx: TRANSPORT_FAIL_NONE (the relay
 * allocated), TRANSPORT_FAIL_ICE_TURN_REFUSED (error response; @detail has
 * the code) or TRANSPORT_FAIL_ICE_TURN_UNREACHABLE. */
typedef struct turn_probe turn_probe;
typedef void (*turn_probe_done)(transport_failure result, const char *detail,
                                void *ud);
int turn_probe_start(turn_probe **out, GMainContext *ctx, const char *ip,
                     unsigned port, bool tcp, const char *username,
                     const char *password, turn_probe_done done, void *ud);
void turn_probe_free(turn_probe *p);

/* TURN over TLS: a loopback TCP forwarder to a verified TLS connection
 * (libnice has no real TLS for TURN in RFC 5245 mode). @ca_file NULL uses
 * the system CAs. @on_fail runs (on @ctx) each time a TLS connection to
 * the server fails, never after turn_tls_proxy_free(). @local_port gets the
 * loopback port to give libnice as a TURN-over-TCP server. @return 0,
 * TRANSPORT_EINVAL, TRANSPORT_EFAIL. */
typedef struct turn_tls_proxy turn_tls_proxy;
int turn_tls_proxy_new(turn_tls_proxy **out, GMainContext *ctx,
                       const char *host, unsigned port, const char *ca_file,
                       void (*on_fail)(void *ud), void *ud,
                       unsigned *local_port);
void turn_tls_proxy_free(turn_tls_proxy *px);
/** No new connections, abandons those being made (and no more on_fail);
 *  established ones keep flowing until turn_tls_proxy_free(). */
void turn_tls_proxy_stop_accepting(turn_tls_proxy *px);
/** Why the last TLS connection to the server failed, or "". */
const char *turn_tls_proxy_last_error(const turn_tls_proxy *px);

/** Validates an SDP candidate attribute ("candidate:..." with or without
 *  "a=", at most 512 bytes, IP literal addresses only) and gives its
 *  component. Pure. @return 0 or TRANSPORT_EINVAL. */
int transport_candidate_check(const char *cand, unsigned *component);

/** Parses "turn[s]:host[:port][?transport=udp|tcp]". @return 0 or
 *  TRANSPORT_EINVAL; @host gets the host (brackets removed). */
int transport_parse_ice_url(const char *url, bool *is_turn, bool *tls,
                            bool *tcp, char *host, size_t hcap, unsigned *port);

#endif /* VID_TRANSPORT_PRIVATE_H */
