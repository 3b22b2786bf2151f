/*
 * trust.h — deciding whether the peer device is the one we think it is.
 *
 * Three tools, from the cheapest to the strongest, all on top of the
 * DTLS fingerprint check (the certificate the peer shows in the DTLS
 * handshake must hash to the fingerprint in its SDP and registered with
 * the server; libvid/transport/):
 *
 *  - pins (trust on first use, like SSH's known_hosts): the first key seen
 *    for a user's device is remembered in <state_dir>/known_peers; a later
 *    different key is reported as CHANGED and NOT replaced until the user
 *    says so (identity_pins_set()).
 *  - the short authentication string (SAS), "123 456", derived from the
 *    DTLS session itself: both ends read it aloud; equal strings prove no
 *    one relays the DTLS session, even a server that lied about keys.
 *  - the safety number: 60 digits from both devices' keys, the same on
 *    both devices; compared once in person it authenticates every later
 *    call between the two devices.
 *
 * Pure apart from the pins file; OpenSSL EVP for hashing, GLib for files.
 * May call: OpenSSL, GLib.
 */
#ifndef VID_IDENTITY_TRUST_H
#define VID_IDENTITY_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "vid/vid.h"

/* Label of the RFC 5705 exporter whose 32 bytes feed identity_sas_format()
 * (the call layer exports them from the DTLS session). */
#define IDENTITY_SAS_EXPORTER_LABEL "EXTRACTOR-vid-sas"
#define IDENTITY_SAS_SECRET_LEN 32
/* "123 456" + NUL */
#define IDENTITY_SAS_SIZE 8
/* 12 groups of 5 digits, 11 spaces, NUL */
#define IDENTITY_SAFETY_NUMBER_SIZE 72
/* Name of the pins file in the state directory. */
#define IDENTITY_PINS_FILE "known_peers"
/* A pins file larger than this is refused (it would hold ~100 000 pins). */
#define IDENTITY_PINS_MAX_FILE (16 * 1024 * 1024)

/*
 * Short authentication string of a DTLS session: "DDD DDD", 6 decimal
 * digits.
 *
 * @p secret is the 32-byte RFC 5705 exporter output (label
 * IDENTITY_SAS_EXPORTER_LABEL, no context) of the DTLS session, equal on
 * both ends only when both ends share the one session, i.e. when nobody
 * terminates DTLS in the middle. The digits are SHA-256("vid-sas-v1" NUL
 * secret), first 4 bytes big-endian, modulo 10^6: about 19.9 bits.
 *
 * Why 20 bits are enough: a man in the middle runs two DTLS sessions, one
 * with each end, and cannot choose either exporter value (both depend on
 * the peers' fresh randoms and the ECDHE shares), so it has one try per
 * call at making the two strings equal: a 1 in 10^6 chance, and a failed
 * try is seen by the people comparing. That is unlike a safety number,
 * which an attacker can grind offline against, hence its 60 digits.
 *
 * @param secret  the 32 exporter bytes
 * @param buf     receives the string, NUL-terminated
 * @param cap     capacity of @p buf, at least IDENTITY_SAS_SIZE
 * @return VID_OK, VID_EINVAL (NULL argument, @p cap too small),
 *         VID_ENOMEM (OpenSSL could not allocate)
 */
int identity_sas_format(const uint8_t secret[32], char *buf, size_t cap);

/*
 * Safety number of two devices: 60 digits in 12 groups of 5 separated by
 * single spaces; the same for (a, b) and (b, a).
 *
 * Derivation (version 1): decode both fingerprints to their 32 bytes, sort
 * the two byte strings (lo <= hi by memcmp), then
 *     h = SHA-512("vid-safety-number-v1" NUL lo hi)
 *     repeat 5199 times: h = SHA-512(h lo hi)
 * and cut the first 60 bytes of h into 12 chunks of 5 bytes; each chunk,
 * a 40-bit big-endian number, modulo 100000 gives one group of 5 digits.
 * The iteration (as in Signal's numeric fingerprint) makes each guess of
 * an attacker grinding keys for a matching number cost 5200 hashes.
 *
 * @param fp_a, fp_b  fingerprints "sha-256 AB:CD:..." (32 bytes; hex
 *                    digits in either case)
 * @param buf         receives the number, NUL-terminated
 * @param cap         capacity of @p buf, at least
 *                    IDENTITY_SAFETY_NUMBER_SIZE
 * @return VID_OK, VID_EINVAL (malformed fingerprint, NULL, @p cap too
 *         small), VID_ENOMEM
 */
int identity_safety_number(const char *fp_a, const char *fp_b, char *buf,
                           size_t cap);

/*
 * Parse a fingerprint "sha-256 AB:CD:..." (hex in either case) into its 32
 * bytes. Returns VID_OK or VID_EINVAL. @p out may be NULL (validate only).
 */
int identity_fingerprint_decode(const char *fp, uint8_t out[32]);

/* Non-zero when @p name is a valid user or device name of the protocol:
 * 1-64 of A-Z a-z 0-9 . _ -, not starting with '.' or '-' (the rule of
 * proto_name_valid(), libvid/signaling/proto.c). */
int identity_name_valid(const char *name);

/* --- pins (trust on first use) --------------------------------------- */

typedef struct identity_pins identity_pins;

/*
 * Result of identity_pins_check(). The two negative values are the
 * failures (they also make the enum a signed type, so `< 0` works).
 */
typedef enum {
    IDENTITY_PIN_EINVAL = VID_EINVAL, /* bad argument */
    IDENTITY_PIN_EIO = VID_EIO,       /* the pins file could not be written */
    IDENTITY_PIN_NEW = 1,             /* first contact: pinned and saved now */
    IDENTITY_PIN_KNOWN,               /* matches the pin */
    IDENTITY_PIN_CHANGED, /* differs from the pin; the old pin is kept */
} identity_pin_status;

/*
 * Open the pins of @p state_dir (file IDENTITY_PINS_FILE, one line per
 * pin: "user device sha-256 AB:..."; blank lines and lines starting with
 * '#' are ignored). A missing file is an empty store (the file is created
 * mode 0600 on the first change). A corrupt line is skipped with a
 * g_warning naming the file and line; the other pins load, and the
 * skipped line is dropped the next time the file is rewritten.
 *
 * Fails (NULL, message in @p why) when @p state_dir is not an existing
 * directory, or the file exists but cannot be read, is larger than
 * IDENTITY_PINS_MAX_FILE, or is writable by other users (then anybody
 * could change our pins).
 *
 * The store is thread-safe; every change rewrites the file atomically
 * (temporary file + rename, mode 0600).
 *
 * @return the store (identity_pins_free()) or NULL
 */
identity_pins *identity_pins_open(const char *state_dir, char *why, size_t cap);

/*
 * Compare @p fingerprint with the pin of @p user / @p device.
 *
 * @return IDENTITY_PIN_NEW (no pin: @p fingerprint is now pinned and
 *         saved), IDENTITY_PIN_KNOWN, IDENTITY_PIN_CHANGED (the pin is
 *         kept), IDENTITY_PIN_EINVAL (NULL, invalid name or fingerprint),
 *         IDENTITY_PIN_EIO (a new pin could not be saved; it is not kept
 *         in memory either)
 */
identity_pin_status identity_pins_check(identity_pins *p, const char *user,
                                        const char *device,
                                        const char *fingerprint);

/*
 * Pin @p fingerprint for @p user / @p device, replacing any old pin (the
 * user compared the safety number and trusts the new key).
 *
 * @return VID_OK, VID_EINVAL, VID_EIO (not saved; the old pin stays)
 */
int identity_pins_set(identity_pins *p, const char *user, const char *device,
                      const char *fingerprint);

/*
 * The pinned fingerprint of @p user / @p device copied to @p buf
 * ("sha-256 AB:...", @p cap >= 104).
 * @return VID_OK, VID_ENOTFOUND (no pin), VID_EINVAL
 */
int identity_pins_get(identity_pins *p, const char *user, const char *device,
                      char *buf, size_t cap);

/* Free the store; NULL is a no-op. Nothing is written. */
void identity_pins_free(identity_pins *p);

/*
 * The pins-file parser, pure (no I/O) so it can be fuzzed. Calls @p cb for
 * each valid pin line in order, with the fingerprint normalised to upper
 * case; for each corrupt line calls @p bad (may be NULL) with its 1-based
 * line number and the reason. @p text need not be NUL-terminated; a NUL
 * byte inside a line makes that line corrupt.
 *
 * @return the number of corrupt lines (0 when all are good)
 */
typedef void (*identity_pins_line_cb)(const char *user, const char *device,
                                      const char *fingerprint, void *data);
typedef void (*identity_pins_bad_cb)(size_t line, const char *reason,
                                     void *data);
size_t identity_pins_parse(const char *text, size_t len,
                           identity_pins_line_cb cb, identity_pins_bad_cb bad,
                           void *data);

#endif /* VID_IDENTITY_TRUST_H */
