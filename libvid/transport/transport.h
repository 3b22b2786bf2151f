/*
 * transport.h — one call's secure media path: ICE (libnice), DTLS 1.2
 * handshake and exporter (OpenSSL, memory BIOs), SRTP (libsrtp2) and the
 * RFC 7983 demultiplexing of the datagrams that share the one ICE
 * component (BUNDLE + rtcp-mux).
 *
 * Internal to libvid (no VID_API). The call layer owns one transport per
 * call and talks to it only from the thread that runs the GMainContext it
 * named in transport_config (the library's network thread). Every
 * callback runs on that context, with no transport lock held; callback
 * arguments live for the callback only.
 *
 * Walkthrough (error handling left out):
 *
 *     transport_policy pol = TRANSPORT_POLICY_INIT;
 *     pol.stun_url = "stun:192.0.2.1:3478";
 *     transport_config cfg = TRANSPORT_CONFIG_INIT;
 *     cfg.context = net_ctx;
 *     cfg.controlling = is_offerer;
 *     cfg.dtls_client = setup_is_active;      // a=setup:active => client
 *     cfg.cert = cert; cfg.key = key;         // device identity
 *     cfg.policy = &pol;
 *     cfg.on_candidate = send_trickle;        // "candidate:..." or NULL
 *     cfg.on_state = state_changed;
 *     cfg.on_packet = rtp_or_rtcp_arrived;
 *     transport *t;
 *     transport_new(&t, &cfg);
 *     transport_get_local_credentials(t, ufrag, sizeof ufrag, pwd, sizeof pwd);
 *     transport_gather(t);
 *     ... remote SDP arrives ...
 *     transport_set_remote_credentials(t, r_ufrag, r_pwd);
 *     transport_set_remote_fingerprints(t, sdp_fp, registered_fp);
 *     transport_add_remote_candidate(t, "candidate:1 1 UDP ...");
 *     transport_remote_candidates_done(t);
 *     ... on_state(TRANSPORT_STATE_SECURE) ...
 *     transport_send(t, rtp, len);
 *     transport_free(t);
 *
 * Layering: may call util, libnice, OpenSSL, libsrtp2 and GLib; nothing
 * above it (the RFC 7983 classifier here is its own, since rtp sits above
 * transport).
 */
#ifndef VID_TRANSPORT_H
#define VID_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

/* ------------------------------------------------------------------------
 * Status codes: 0 or one of these negative values.
 */
enum {
    TRANSPORT_OK = 0,
    TRANSPORT_EINVAL = -1,   /* NULL, malformed or too long argument */
    TRANSPORT_ENOMEM = -2,   /* allocation failed */
    TRANSPORT_ESTATE = -3,   /* not possible in the current state */
    TRANSPORT_ENOSPACE = -4, /* output buffer too small */
    TRANSPORT_EFAIL = -5,    /* a library below failed (message logged) */
    TRANSPORT_EDROPPED = -6, /* packet dropped (replay, auth, not secure) */
};

/** Where the transport stands. Only moves forward. An ICE restart does
 *  not change it: DTLS and SRTP carry over and media keeps flowing on the
 *  old pair while libnice checks the new candidates
 *  (TRANSPORT_EVENT_SELECTED_PAIR tells when the new pair is chosen). */
typedef enum {
    TRANSPORT_STATE_NEW = 0,
    TRANSPORT_STATE_CHECKING,  /* ICE connectivity checks running */
    TRANSPORT_STATE_CONNECTED, /* ICE has a selected pair; DTLS running */
    TRANSPORT_STATE_SECURE,    /* DTLS done, fingerprints match, SRTP keyed */
    TRANSPORT_STATE_FAILED,    /* terminal: see transport_get_failure() */
    TRANSPORT_STATE_CLOSED,    /* terminal: transport_close(), or the peer
                                * sent DTLS close_notify */
} transport_state;

/** Why a transport failed (TRANSPORT_STATE_FAILED). */
typedef enum {
    TRANSPORT_FAIL_NONE = 0,
    TRANSPORT_FAIL_ICE_NO_CANDIDATES,    /* one side had no usable candidate */
    TRANSPORT_FAIL_ICE_CHECKS_FAILED,    /* every candidate pair failed */
    TRANSPORT_FAIL_ICE_TURN_REFUSED,     /* relay answered 401/403/437/... */
    TRANSPORT_FAIL_ICE_TURN_UNREACHABLE, /* relay never answered */
    TRANSPORT_FAIL_ICE_CONSENT_LOST,     /* peer stopped answering (RFC 7675) */
    TRANSPORT_FAIL_DTLS,                 /* DTLS handshake failed / timed out */
    TRANSPORT_FAIL_SECURITY,             /* peer cert fingerprint mismatch */
    TRANSPORT_FAIL_SRTP,                 /* SRTP setup failed */
    TRANSPORT_FAIL_SRTP_KEY_EXPIRED,     /* SRTP hard key limit reached */
} transport_failure;

/** Text for a failure reason, e.g. "all ICE checks failed". Never NULL. */
const char *transport_failure_str(transport_failure f);
const char *transport_state_str(transport_state s);

/** Non-fatal events reported through on_event. */
typedef enum {
    TRANSPORT_EVENT_REKEY_NEEDED = 1, /* SRTP soft key limit reached */
    TRANSPORT_EVENT_SELECTED_PAIR,    /* ICE selected (or changed) a pair */
} transport_event;

/* ------------------------------------------------------------------------
 * Policy: the ICE part of the server's welcome.policy.
 */
#define TRANSPORT_MAX_TURN 8

typedef struct {
    int version; /* TRANSPORT_POLICY_VERSION */
    /** "stun:host[:port]" (host an IP literal or a name resolved once,
     *  blocking), or NULL. */
    const char *stun_url;
    /** "turn:host[:port][?transport=udp|tcp]" or "turns:host[:port]..."
     *  (TLS over TCP); n_turn_urls <= TRANSPORT_MAX_TURN. */
    const char *turn_urls[TRANSPORT_MAX_TURN];
    size_t n_turn_urls;
    const char *turn_username;   /* TURN REST "expiry:user" */
    const char *turn_credential; /* base64(HMAC-SHA1(secret, username)) */
    /** PEM file of CAs trusted for turns: servers; NULL = system CAs. The
     *  server's certificate must match the URL's host (name or IP). */
    const char *turn_tls_ca_file;
    bool relay_only;             /* ICE transport policy "relay" */
    unsigned port_min, port_max; /* media UDP port range; 0,0 = any */
    bool ice_udp;                /* default true */
    bool ice_tcp;                /* default true */
} transport_policy;

#define TRANSPORT_POLICY_VERSION 1
#define TRANSPORT_POLICY_INIT                                                  \
    {                                                                          \
        .version = TRANSPORT_POLICY_VERSION, .ice_udp = true, .ice_tcp = true  \
    }

typedef struct transport transport;

typedef struct {
    int version; /* TRANSPORT_CONFIG_VERSION */
    /** The network thread's context; borrowed, must outlive the
     *  transport. Required. */
    GMainContext *context;
    bool controlling; /* ICE role: true for the offerer */
    bool dtls_client; /* a=setup:active on our side */
    /** Our DTLS certificate and key (ECDSA P-256, anything else is
     *  TRANSPORT_EINVAL); the transport takes its own references.
     *  Required. */
    X509 *cert;
    EVP_PKEY *key;
    /** Copied by transport_new(); NULL means host candidates only. */
    const transport_policy *policy;
    /** NULL-terminated IP literals to gather host candidates on (copied),
     *  or NULL for every non-loopback interface (libnice's default). */
    const char *const *local_addresses;
    /** OpenSSL use_srtp list; NULL means
     *  "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80" (GCM preferred). */
    const char *srtp_profiles;
    /** Bound on each DTLS datagram; 0 means 1200. */
    size_t dtls_mtu;
    /** Trickle: @candidate is an SDP attribute value "candidate:..." or
     *  NULL for end-of-candidates. */
    void (*on_candidate)(transport *t, const char *candidate, void *ud);
    /** State changes; for FAILED, transport_get_failure() tells why. */
    void (*on_state)(transport *t, transport_state state, void *ud);
    /** A decrypted RTP (is_rtcp false) or RTCP packet. @buf may be
     *  modified by the callee but lives for the callback only. */
    void (*on_packet)(transport *t, bool is_rtcp, uint8_t *buf, size_t len,
                      void *ud);
    void (*on_event)(transport *t, transport_event ev, void *ud);
    void *user_data;
} transport_config;

#define TRANSPORT_CONFIG_VERSION 1
#define TRANSPORT_CONFIG_INIT                                                  \
    {                                                                          \
        .version = TRANSPORT_CONFIG_VERSION                                    \
    }

/**
 * Creates the transport and its ICE agent (not gathering yet).
 * @return 0, TRANSPORT_EINVAL (missing context/cert/key, bad policy URL,
 *         unknown version), TRANSPORT_EFAIL (OpenSSL/libnice setup).
 */
int transport_new(transport **out, const transport_config *cfg);

/** Closes sockets, wipes keys, frees. NULL is a no-op. No callback runs
 *  after it returns. May be called from inside a transport callback: the
 *  rest of the teardown then runs from an idle source on the context (so
 *  the context must keep being iterated). TURN allocations are released
 *  asynchronously on the context (nice_agent_close_async). */
void transport_free(transport *t);

/** Our ICE ufrag/pwd (change after transport_restart_ice()).
 *  @return 0, TRANSPORT_ENOSPACE, TRANSPORT_EINVAL. */
int transport_get_local_credentials(transport *t, char *ufrag, size_t ucap,
                                    char *pwd, size_t pcap);

/** Our certificate's fingerprint "sha-256 AB:CD:..." (for a=fingerprint).
 *  @return 0, TRANSPORT_ENOSPACE (needs 104 bytes). */
int transport_get_local_fingerprint(transport *t, char *buf, size_t cap);

/** Starts gathering; candidates arrive through on_candidate.
 *  @return 0, TRANSPORT_ESTATE (already gathering), TRANSPORT_EFAIL. */
int transport_gather(transport *t);

/** @return 0, TRANSPORT_EINVAL (NULL, empty or > 256 bytes). */
int transport_set_remote_credentials(transport *t, const char *ufrag,
                                     const char *pwd);

/**
 * The fingerprints the peer certificate must match before any SRTP key is
 * installed: the SDP a=fingerprint and the one the server registered for
 * the peer device, both "sha-256 AB:CD:..." (case-insensitive). If DTLS
 * completes first, the check (and so keying) waits for this call; media
 * is dropped meanwhile. May be replaced until the keys are installed.
 * @return 0, TRANSPORT_EINVAL (not sha-256 or malformed).
 */
int transport_set_remote_fingerprints(transport *t, const char *sdp_fp,
                                      const char *registered_fp);

/** Changes the DTLS role chosen in transport_config.dtls_client, e.g. when
 *  the answer to our offer says a=setup:passive (we are then the client).
 *  @return 0, TRANSPORT_ESTATE (DTLS already started), TRANSPORT_EFAIL. */
int transport_set_dtls_client(transport *t, bool client);

/** A trickled remote candidate: "candidate:..." with or without "a=",
 *  at most 512 bytes. Component-2 (RTCP) candidates are accepted and
 *  ignored (rtcp-mux). Host names (e.g. mDNS ".local") are not resolved:
 *  EINVAL. @return 0, TRANSPORT_EINVAL (unparsable), TRANSPORT_ESTATE. */
int transport_add_remote_candidate(transport *t, const char *candidate);

/** The peer sent end-of-candidates. @return 0, TRANSPORT_ESTATE. */
int transport_remote_candidates_done(transport *t);

/** ICE restart: new local credentials (read them again), the local
 *  candidates are emitted again, remote ones must be trickled again.
 *  DTLS and SRTP keep running. @return 0, TRANSPORT_ESTATE. */
int transport_restart_ice(transport *t);

/**
 * Protects and sends one RTP or RTCP packet (told apart by the second
 * byte, RFC 5761). @buf is not modified.
 * @return 0, TRANSPORT_ESTATE (not SECURE), TRANSPORT_EINVAL (RTP < 12,
 *         RTCP < 8 bytes, or
 *         > 1500), TRANSPORT_EFAIL (protect failed), TRANSPORT_EDROPPED
 *         (the impairment hook dropped it).
 */
int transport_send(transport *t, const uint8_t *buf, size_t len);

/** Ends the transport without failure (hangup): sends DTLS close_notify,
 *  wipes the keys, state CLOSED. The peer's transport goes CLOSED when the
 *  close_notify arrives. */
void transport_close(transport *t);

transport_state transport_get_state(const transport *t);
transport_failure transport_get_failure(const transport *t);

/** A human-readable detail for the failure (e.g. the TURN error code), or
 *  "" ; lives until the transport is freed. */
const char *transport_get_failure_detail(const transport *t);

#define TRANSPORT_SAS_SECRET_LEN 32
/** 32 bytes from the DTLS exporter, label "EXTRACTOR-vid-sas", for the
 *  short authentication string. @return 0, TRANSPORT_ESTATE (not SECURE). */
int transport_get_sas_secret(transport *t,
                             uint8_t out[TRANSPORT_SAS_SECRET_LEN]);

typedef struct {
    uint64_t rtp_sent, rtcp_sent;
    uint64_t rtp_received, rtcp_received; /* delivered after unprotect */
    uint64_t replays;                     /* srtp replay_fail/replay_old */
    uint64_t auth_failures;               /* srtp auth_fail */
    uint64_t dropped_not_secure;          /* RTP before keys were installed */
    uint64_t dropped_unknown;             /* not DTLS/RTP/RTCP per RFC 7983 */
    uint64_t impair_dropped, impair_delayed;
    const char *srtp_profile;  /* "AEAD_AES_128_GCM", ... or NULL */
    int64_t dtls_connected_us; /* gather -> SECURE, or -1 */
} transport_stats;

void transport_get_stats(const transport *t, transport_stats *out);

/** Candidate types of the selected pair, "host", "srflx", "prflx" or
 *  "relay" and the transport "udp"/"tcp". @return 0, TRANSPORT_ESTATE. */
int transport_get_selected_pair(transport *t, const char **local_type,
                                const char **remote_type, const char **proto);

/* ------------------------------------------------------------------------
 * Deterministic impairment at the send path (tests; off by default).
 * Every outgoing datagram draws from a seeded xorshift generator: dropped
 * with probability drop_pct, else delayed by delay_ms, plus reorder_ms
 * more with probability reorder_pct (so later packets overtake it).
 */
typedef struct {
    uint64_t seed;
    unsigned drop_pct;    /* 0..100 */
    unsigned delay_ms;    /* 0..10000 */
    unsigned reorder_pct; /* 0..100 */
    unsigned reorder_ms;  /* 0..10000 */
} transport_impairment;

/** @p imp NULL turns it off. @return 0, TRANSPORT_EINVAL. */
int transport_set_impairment(transport *t, const transport_impairment *imp);

/* Test hooks ------------------------------------------------------------- */

/** Called with every datagram just before it is handed to ICE (after SRTP
 *  protect). */
void transport_test_set_send_tap(transport *t,
                                 void (*tap)(const uint8_t *buf, size_t len,
                                             void *ud),
                                 void *ud);

/** Feeds @buf into the receive path as if ICE had delivered it. */
void transport_test_inject(transport *t, const uint8_t *buf, size_t len);

#endif /* VID_TRANSPORT_H */
