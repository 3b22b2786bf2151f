/*
 * auth.c — Argon2id hashing and per-account / per-address throttling.
 */
#include "auth.h"

#include <string.h>

bool auth_init(void)
{
    return sodium_init() >= 0;
}

bool auth_hash(pwhash_level level, const char *password,
               char out[AUTH_HASH_MAX])
{
    unsigned long long ops;
    size_t mem;

    switch (level) {
    case PWHASH_MODERATE:
        ops = crypto_pwhash_OPSLIMIT_MODERATE;
        mem = crypto_pwhash_MEMLIMIT_MODERATE;
        break;
    case PWHASH_MIN:
        ops = crypto_pwhash_OPSLIMIT_MIN;
        mem = crypto_pwhash_MEMLIMIT_MIN;
        break;
    default:
        ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
        mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
        break;
    }
    return crypto_pwhash_str_alg(out, password, strlen(password), ops, mem,
                                 crypto_pwhash_ALG_ARGON2ID13) == 0;
}

bool auth_verify(const char *hash, const char *password)
{
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

typedef struct {
    int failures;
    gint64 last_ms;
    gint64 locked_until_ms;
} account_entry;

typedef struct {
    int failures;
    gint64 window_start_ms;
} address_entry;

struct throttle {
    throttle_params p;
    GHashTable *accounts;  /* name -> account_entry */
    GHashTable *addresses; /* address -> address_entry */
};

throttle *throttle_new(const throttle_params *p)
{
    throttle *t = g_new0(throttle, 1);
    t->p = *p;
    t->accounts =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    t->addresses =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    return t;
}

void throttle_free(throttle *t)
{
    if (t == NULL)
        return;
    g_hash_table_destroy(t->accounts);
    g_hash_table_destroy(t->addresses);
    g_free(t);
}

static int secs_until(gint64 until_ms, gint64 now_ms)
{
    gint64 s = (until_ms - now_ms + 999) / 1000;
    return s < 1 ? 1 : (int) s;
}

int throttle_check(throttle *t, const char *user, const char *addr,
                   gint64 now_ms)
{
    int wait = 0;
    account_entry *a = g_hash_table_lookup(t->accounts, user);
    address_entry *d = g_hash_table_lookup(t->addresses, addr);

    if (a != NULL && a->locked_until_ms > now_ms)
        wait = secs_until(a->locked_until_ms, now_ms);
    if (d != NULL && d->failures >= t->p.address_max_failures) {
        gint64 end = d->window_start_ms + t->p.address_window * 1000LL;
        if (end > now_ms)
            wait = MAX(wait, secs_until(end, now_ms));
    }
    return wait;
}

void throttle_failure(throttle *t, const char *user, const char *addr,
                      gint64 now_ms)
{
    account_entry *a = g_hash_table_lookup(t->accounts, user);
    address_entry *d = g_hash_table_lookup(t->addresses, addr);

    if (a == NULL) {
        a = g_new0(account_entry, 1);
        g_hash_table_insert(t->accounts, g_strdup(user), a);
    } else if (a->locked_until_ms <= now_ms &&
               now_ms - a->last_ms > t->p.account_backoff_max * 1000LL) {
        /* A long quiet period forgives old failures. */
        a->failures = 0;
    }
    a->failures++;
    a->last_ms = now_ms;
    if (a->failures >= t->p.account_max_failures) {
        int extra = MIN(a->failures - t->p.account_max_failures, 20);
        gint64 backoff = (gint64) t->p.account_backoff << extra;
        backoff = MIN(backoff, (gint64) t->p.account_backoff_max);
        a->locked_until_ms = now_ms + backoff * 1000;
    }

    if (d == NULL) {
        d = g_new0(address_entry, 1);
        d->window_start_ms = now_ms;
        g_hash_table_insert(t->addresses, g_strdup(addr), d);
    } else if (now_ms - d->window_start_ms >= t->p.address_window * 1000LL) {
        d->failures = 0;
        d->window_start_ms = now_ms;
    }
    d->failures++;
}

void throttle_success(throttle *t, const char *user)
{
    g_hash_table_remove(t->accounts, user);
}

void throttle_prune(throttle *t, gint64 now_ms)
{
    GHashTableIter it;
    gpointer v;

    g_hash_table_iter_init(&it, t->accounts);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        account_entry *a = v;
        if (a->locked_until_ms <= now_ms &&
            now_ms - a->last_ms > t->p.account_backoff_max * 1000LL)
            g_hash_table_iter_remove(&it);
    }
    g_hash_table_iter_init(&it, t->addresses);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        address_entry *d = v;
        if (now_ms - d->window_start_ms >= t->p.address_window * 1000LL)
            g_hash_table_iter_remove(&it);
    }
}

guint throttle_size(throttle *t)
{
    return g_hash_table_size(t->accounts) + g_hash_table_size(t->addresses);
}
