/*
 * identity — the device's persistent identity: an ECDSA P-256 key and a
 * self-signed X.509 certificate, created on first use in the state
 * directory and loaded afterwards. The certificate is the device's DTLS
 * certificate; its SHA-256 fingerprint is what the server registers and
 * what peers pin.
 *
 * Files: <dir>/identity-key.pem and <dir>/identity-cert.pem, mode 0600;
 * <dir> is created mode 0700. A key file readable by group or others is
 * refused.
 *
 * May call: util, OpenSSL, GLib.
 */
#ifndef VID_IDENTITY_H
#define VID_IDENTITY_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "vid/vid.h"

#define IDENTITY_KEY_FILE "identity-key.pem"
#define IDENTITY_CERT_FILE "identity-cert.pem"
#define IDENTITY_LOCK_FILE "identity.lock"
/* "sha-256 " + 32 * "XX:" - 1 + NUL */
#define IDENTITY_FINGERPRINT_SIZE (8 + 32 * 3)

typedef struct identity identity;

/*
 * Load the identity from @dir, or create it there when neither file
 * exists.
 *
 * @param dir      state directory (created mode 0700 if missing)
 * @param out      receives the identity (identity_free())
 * @param created  set to 1 when a new identity was made, else 0; may be NULL
 * @param err      receives a readable message on failure
 * @return VID_OK, VID_EIDENTITY (corrupt file, key/cert mismatch, unsafe
 *         mode, only one of the two files), VID_EIO (cannot create or
 *         write), VID_ENOMEM
 */
int identity_load_or_create(const char *dir, identity **out, int *created,
                            char *err, size_t err_cap);

void identity_free(identity *id);

/* "sha-256 AB:CD:..." — borrowed, lives as long as @id. */
const char *identity_fingerprint(const identity *id);

/* Borrowed OpenSSL objects for the DTLS layer. */
EVP_PKEY *identity_key(const identity *id);
X509 *identity_certificate(const identity *id);

/* Fingerprint of any certificate in the RFC 8122 form; @out must hold
 * IDENTITY_FINGERPRINT_SIZE bytes. Returns 0 or -1. */
int identity_cert_fingerprint(X509 *cert, char *out, size_t cap);

#endif /* VID_IDENTITY_H */
