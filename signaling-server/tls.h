/*
 * tls.h — the self-signed certificate used when no cert/key is configured.
 */
#ifndef VSS_TLS_H
#define VSS_TLS_H

#include <glib.h>
#include <stdbool.h>

/* Make sure @cert_path and @key_path exist: when either is missing,
 * generate an ECDSA P-256 key (file mode 0600) and a self-signed
 * certificate (CA:TRUE, SAN DNS:localhost, IP:127.0.0.1, IP:::1 and
 * @hostname when not NULL), valid 10 years. */
bool tls_ensure_self_signed(const char *cert_path, const char *key_path,
                            const char *hostname, GError **error);

#endif
