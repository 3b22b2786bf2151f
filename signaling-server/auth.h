/*
 * auth.h — Argon2id password hashing (libsodium) and login throttling.
 *
 * Hashing and verifying are slow on purpose: the server calls them on
 * libuv's worker pool only (server.c), the admin subcommands directly.
 * The throttle is pure bookkeeping with an explicit clock (unit-tested).
 */
#ifndef VSS_AUTH_H
#define VSS_AUTH_H

#include <glib.h>
#include <stdbool.h>
#include <sodium.h>

#include "config.h"

#define AUTH_HASH_MAX crypto_pwhash_STRBYTES

/* Initialise libsodium; false when it cannot be. */
bool auth_init(void);

/* Hash @password with the Argon2id cost of @level into @out. */
bool auth_hash(pwhash_level level, const char *password,
               char out[AUTH_HASH_MAX]);

/* Verify @password against an encoded hash (cost read from the hash). */
bool auth_verify(const char *hash, const char *password);

typedef struct {
    int account_max_failures;
    int account_backoff;     /* s */
    int account_backoff_max; /* s */
    int address_max_failures;
    int address_window; /* s */
} throttle_params;

typedef struct throttle throttle;

throttle *throttle_new(const throttle_params *p);
void throttle_free(throttle *t);

/* 0 when @user from @addr may try to log in now, else the number of
 * seconds to wait (>= 1). @now_ms: monotonic milliseconds. */
int throttle_check(throttle *t, const char *user, const char *addr,
                   gint64 now_ms);
void throttle_failure(throttle *t, const char *user, const char *addr,
                      gint64 now_ms);
void throttle_success(throttle *t, const char *user);
/* Forget entries with nothing left to enforce. */
void throttle_prune(throttle *t, gint64 now_ms);
guint throttle_size(throttle *t);

#endif
