/*
 * trust.c — short authentication string, safety number and the pins file
 * (trust on first use). See trust.h.
 */
#include "trust.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>

#define SAS_LABEL "vid-sas-v1"
#define SAFETY_LABEL "vid-safety-number-v1"
#define SAFETY_ITERATIONS 5200
#define NAME_MAX_LEN 64
/* "sha-256 " + 32 * "XX:" - 1 */
#define FP_LEN (8 + 32 * 3 - 1)

/* ---------------------------------------------------------------------- */
/* Hashing                                                                 */
/* ---------------------------------------------------------------------- */

/* One digest over up to three byte strings; returns 0 or -1. */
static int digest3(const EVP_MD *md, const void *a, size_t na, const void *b,
                   size_t nb, const void *c, size_t nc, unsigned char *out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok;

    if (ctx == NULL)
        return -1;
    ok = EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
         EVP_DigestUpdate(ctx, a, na) == 1 &&
         (nb == 0 || EVP_DigestUpdate(ctx, b, nb) == 1) &&
         (nc == 0 || EVP_DigestUpdate(ctx, c, nc) == 1) &&
         EVP_DigestFinal_ex(ctx, out, NULL) == 1;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : -1;
}

int identity_sas_format(const uint8_t secret[32], char *buf, size_t cap)
{
    /* The label with its terminating NUL separates it from the secret. */
    static const char label[] = SAS_LABEL;
    unsigned char h[32];
    uint32_t v;

    if (secret == NULL || buf == NULL || cap < IDENTITY_SAS_SIZE)
        return VID_EINVAL;
    if (digest3(EVP_sha256(), label, sizeof label, secret,
                IDENTITY_SAS_SECRET_LEN, NULL, 0, h) != 0)
        return VID_ENOMEM;
    /* 2^32 mod 10^6 = 967296: the bias of the modulo is below 2^-12. */
    v = ((uint32_t) h[0] << 24 | (uint32_t) h[1] << 16 | (uint32_t) h[2] << 8 |
         (uint32_t) h[3]) %
        1000000u;
    snprintf(buf, cap, "%03u %03u", (unsigned) (v / 1000),
             (unsigned) (v % 1000));
    return VID_OK;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int identity_fingerprint_decode(const char *fp, uint8_t out[32])
{
    if (fp == NULL || strncmp(fp, "sha-256 ", 8) != 0 || strlen(fp) != FP_LEN)
        return VID_EINVAL;
    for (int i = 0; i < 32; i++) {
        const char *p = fp + 8 + i * 3;
        int hi = hex_value(p[0]), lo = hex_value(p[1]);

        if (hi < 0 || lo < 0 || (i < 31 && p[2] != ':'))
            return VID_EINVAL;
        if (out != NULL)
            out[i] = (uint8_t) (hi << 4 | lo);
    }
    return VID_OK;
}

/* "sha-256 AB:..." from 32 bytes; @out holds FP_LEN + 1. */
static void fingerprint_encode(const uint8_t b[32], char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t pos = 8;

    memcpy(out, "sha-256 ", 8);
    for (int i = 0; i < 32; i++) {
        out[pos++] = hex[b[i] >> 4];
        out[pos++] = hex[b[i] & 0xf];
        if (i < 31)
            out[pos++] = ':';
    }
    out[pos] = '\0';
}

int identity_safety_number(const char *fp_a, const char *fp_b, char *buf,
                           size_t cap)
{
    static const char label[] = SAFETY_LABEL;
    uint8_t a[32], b[32], keys[64];
    unsigned char h[64];
    size_t pos = 0;

    if (buf == NULL || cap < IDENTITY_SAFETY_NUMBER_SIZE ||
        identity_fingerprint_decode(fp_a, a) != VID_OK ||
        identity_fingerprint_decode(fp_b, b) != VID_OK)
        return VID_EINVAL;
    /* Sorted, so the number does not depend on who computes it. */
    if (memcmp(a, b, 32) <= 0) {
        memcpy(keys, a, 32);
        memcpy(keys + 32, b, 32);
    } else {
        memcpy(keys, b, 32);
        memcpy(keys + 32, a, 32);
    }
    if (digest3(EVP_sha512(), label, sizeof label, keys, sizeof keys, NULL, 0,
                h) != 0)
        return VID_ENOMEM;
    for (int i = 1; i < SAFETY_ITERATIONS; i++) {
        if (digest3(EVP_sha512(), h, sizeof h, keys, sizeof keys, NULL, 0, h) !=
            0)
            return VID_ENOMEM;
    }
    for (int g = 0; g < 12; g++) {
        const unsigned char *c = h + g * 5;
        uint64_t v = (uint64_t) c[0] << 32 | (uint64_t) c[1] << 24 |
                     (uint64_t) c[2] << 16 | (uint64_t) c[3] << 8 |
                     (uint64_t) c[4];

        snprintf(buf + pos, cap - pos, g == 0 ? "%05u" : " %05u",
                 (unsigned) (v % 100000u));
        pos += g == 0 ? 5 : 6;
    }
    return VID_OK;
}

/* ---------------------------------------------------------------------- */
/* Pins file parser (pure)                                                 */
/* ---------------------------------------------------------------------- */

int identity_name_valid(const char *name)
{
    size_t n;

    if (name == NULL)
        return 0;
    n = strlen(name);
    if (n == 0 || n > NAME_MAX_LEN || name[0] == '.' || name[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok)
            return 0;
    }
    return 1;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/*
 * One line (without its '\n'; may hold NULs): NULL when it is a pin or
 * to be ignored (then *is_pin says which), else the reason it is corrupt.
 */
static const char *parse_line(const char *s, size_t n, char *user, char *device,
                              char *fp, int *is_pin)
{
    size_t i = 0, start, len;

    *is_pin = 0;
    if (memchr(s, '\0', n) != NULL)
        return "NUL byte";
    if (n > 0 && s[n - 1] == '\r')
        n--;
    while (i < n && is_blank(s[i]))
        i++;
    if (i == n || s[i] == '#')
        return NULL;

    start = i;
    while (i < n && !is_blank(s[i]))
        i++;
    len = i - start;
    if (len > NAME_MAX_LEN)
        return "user name too long";
    memcpy(user, s + start, len);
    user[len] = '\0';
    if (!identity_name_valid(user))
        return "invalid user name";

    while (i < n && is_blank(s[i]))
        i++;
    start = i;
    while (i < n && !is_blank(s[i]))
        i++;
    len = i - start;
    if (len == 0)
        return "no device name";
    if (len > NAME_MAX_LEN)
        return "device name too long";
    memcpy(device, s + start, len);
    device[len] = '\0';
    if (!identity_name_valid(device))
        return "invalid device name";

    while (i < n && is_blank(s[i]))
        i++;
    while (n > i && is_blank(s[n - 1]))
        n--;
    len = n - i;
    if (len == 0)
        return "no fingerprint";
    if (len != FP_LEN)
        return "malformed fingerprint";
    {
        char raw[FP_LEN + 1];
        uint8_t b[32];

        memcpy(raw, s + i, len);
        raw[len] = '\0';
        if (identity_fingerprint_decode(raw, b) != VID_OK)
            return "malformed fingerprint";
        fingerprint_encode(b, fp);
    }
    *is_pin = 1;
    return NULL;
}

size_t identity_pins_parse(const char *text, size_t len,
                           identity_pins_line_cb cb, identity_pins_bad_cb bad,
                           void *data)
{
    char user[NAME_MAX_LEN + 1], device[NAME_MAX_LEN + 1], fp[FP_LEN + 1];
    size_t pos = 0, line = 0, corrupt = 0;

    if (text == NULL)
        return 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl != NULL ? (size_t) (nl - (text + pos)) : len - pos;
        const char *why;
        int is_pin;

        line++;
        why = parse_line(text + pos, n, user, device, fp, &is_pin);
        if (why != NULL) {
            corrupt++;
            if (bad != NULL)
                bad(line, why, data);
        } else if (is_pin && cb != NULL) {
            cb(user, device, fp, data);
        }
        pos += n + (nl != NULL ? 1 : 0);
    }
    return corrupt;
}

/* ---------------------------------------------------------------------- */
/* Pins store                                                              */
/* ---------------------------------------------------------------------- */

struct identity_pins {
    GMutex lock;
    char *path;
    /* "user device" -> "sha-256 AB:..." (upper case); both owned */
    GHashTable *pins;
};

typedef struct {
    identity_pins *p;
    size_t duplicates;
} load_ctx;

static char *pin_key(const char *user, const char *device)
{
    /* A space cannot occur in a valid name, so the key is unambiguous. */
    return g_strconcat(user, " ", device, NULL);
}

static void load_line(const char *user, const char *device,
                      const char *fingerprint, void *data)
{
    load_ctx *ctx = data;
    char *key = pin_key(user, device);

    if (g_hash_table_contains(ctx->p->pins, key)) {
        /* We never write duplicates: keep the first, as a reader would. */
        g_warning("%s: second pin for %s's device %s ignored", ctx->p->path,
                  user, device);
        ctx->duplicates++;
        g_free(key);
        return;
    }
    g_hash_table_insert(ctx->p->pins, key, g_strdup(fingerprint));
}

static void load_bad(size_t line, const char *reason, void *data)
{
    load_ctx *ctx = data;

    g_warning("%s: line %zu skipped (%s); the other pins are loaded",
              ctx->p->path, line, reason);
}

void identity_pins_free(identity_pins *p)
{
    if (p == NULL)
        return;
    g_mutex_clear(&p->lock);
    g_free(p->path);
    if (p->pins != NULL)
        g_hash_table_unref(p->pins);
    g_free(p);
}

static void set_why(char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_why(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;

    if (why == NULL || cap == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
}

identity_pins *identity_pins_open(const char *state_dir, char *why, size_t cap)
{
    identity_pins *p;
    GStatBuf st;
    char *text = NULL;
    gsize len = 0;
    GError *error = NULL;
    load_ctx ctx = {0};

    if (state_dir == NULL || state_dir[0] == '\0') {
        set_why(why, cap, "no state directory given");
        return NULL;
    }
    if (g_stat(state_dir, &st) != 0) {
        set_why(why, cap, "state directory %s: %s", state_dir,
                g_strerror(errno));
        return NULL;
    }
    if (!S_ISDIR(st.st_mode)) {
        set_why(why, cap, "state directory %s is not a directory", state_dir);
        return NULL;
    }

    p = g_new0(identity_pins, 1);
    g_mutex_init(&p->lock);
    p->path = g_build_filename(state_dir, IDENTITY_PINS_FILE, NULL);
    p->pins = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

    if (g_stat(p->path, &st) != 0) {
        if (errno == ENOENT)
            return p; /* no pins yet */
        set_why(why, cap, "%s: %s", p->path, g_strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        set_why(why, cap, "%s is not a regular file", p->path);
        goto fail;
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        set_why(why, cap,
                "%s is writable by other users, who could change the keys "
                "we trust; check its content, then chmod 600 it",
                p->path);
        goto fail;
    }
    if (st.st_size > IDENTITY_PINS_MAX_FILE) {
        set_why(why, cap, "%s is too large (%lld bytes, at most %d)", p->path,
                (long long) st.st_size, IDENTITY_PINS_MAX_FILE);
        goto fail;
    }
    if (!g_file_get_contents(p->path, &text, &len, &error)) {
        /* Not an empty store: rewriting it would lose the pins. */
        set_why(why, cap, "cannot read %s: %s", p->path, error->message);
        g_error_free(error);
        goto fail;
    }
    ctx.p = p;
    identity_pins_parse(text, len, load_line, load_bad, &ctx);
    g_free(text);
    return p;

fail:
    identity_pins_free(p);
    return NULL;
}

static gint compare_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* Rewrite the file from the table, atomically; lock held. */
static int save_locked(identity_pins *p)
{
    GString *out = g_string_new("# libvid pinned peer keys: "
                                "user device fingerprint\n");
    GPtrArray *keys = g_ptr_array_new();
    GHashTableIter it;
    gpointer k, v;
    GError *error = NULL;
    int rc = VID_OK;

    /* Sorted: the file does not churn between saves. */
    g_hash_table_iter_init(&it, p->pins);
    while (g_hash_table_iter_next(&it, &k, NULL))
        g_ptr_array_add(keys, k);
    g_ptr_array_sort(keys, compare_str);
    for (guint i = 0; i < keys->len; i++) {
        v = g_hash_table_lookup(p->pins, keys->pdata[i]);
        g_string_append_printf(out, "%s %s\n", (const char *) keys->pdata[i],
                               (const char *) v);
    }
    if (!g_file_set_contents_full(p->path, out->str, (gssize) out->len,
                                  G_FILE_SET_CONTENTS_CONSISTENT |
                                      G_FILE_SET_CONTENTS_DURABLE,
                                  0600, &error)) {
        g_warning("cannot save pins: %s", error->message);
        g_error_free(error);
        rc = VID_EIO;
    }
    g_ptr_array_free(keys, TRUE);
    g_string_free(out, TRUE);
    return rc;
}

static int args_valid(identity_pins *p, const char *user, const char *device,
                      const char *fingerprint, uint8_t b[32])
{
    return p != NULL && identity_name_valid(user) &&
           identity_name_valid(device) &&
           identity_fingerprint_decode(fingerprint, b) == VID_OK;
}

identity_pin_status identity_pins_check(identity_pins *p, const char *user,
                                        const char *device,
                                        const char *fingerprint)
{
    uint8_t b[32];
    char fp[FP_LEN + 1];
    char *key;
    const char *old;
    identity_pin_status st;

    if (!args_valid(p, user, device, fingerprint, b))
        return IDENTITY_PIN_EINVAL;
    fingerprint_encode(b, fp);
    key = pin_key(user, device);
    g_mutex_lock(&p->lock);
    old = g_hash_table_lookup(p->pins, key);
    if (old != NULL) {
        st = strcmp(old, fp) == 0 ? IDENTITY_PIN_KNOWN : IDENTITY_PIN_CHANGED;
        g_free(key);
    } else {
        g_hash_table_insert(p->pins, key, g_strdup(fp));
        st = IDENTITY_PIN_NEW;
        if (save_locked(p) != VID_OK) {
            /* Keep memory and file alike: the pin is not kept. */
            g_hash_table_remove(p->pins, key);
            st = IDENTITY_PIN_EIO;
        }
    }
    g_mutex_unlock(&p->lock);
    return st;
}

int identity_pins_set(identity_pins *p, const char *user, const char *device,
                      const char *fingerprint)
{
    uint8_t b[32];
    char fp[FP_LEN + 1];
    char *key, *old = NULL;
    gpointer old_key = NULL, old_val = NULL;
    int rc;

    if (!args_valid(p, user, device, fingerprint, b))
        return VID_EINVAL;
    fingerprint_encode(b, fp);
    key = pin_key(user, device);
    g_mutex_lock(&p->lock);
    if (g_hash_table_steal_extended(p->pins, key, &old_key, &old_val)) {
        old = old_val;
        g_free(old_key);
    }
    g_hash_table_insert(p->pins, g_strdup(key), g_strdup(fp));
    rc = save_locked(p);
    if (rc != VID_OK) {
        /* Not saved: put the old pin back (or none). */
        if (old != NULL) {
            g_hash_table_insert(p->pins, g_strdup(key), old);
            old = NULL;
        } else {
            g_hash_table_remove(p->pins, key);
        }
    }
    g_mutex_unlock(&p->lock);
    g_free(old);
    g_free(key);
    return rc;
}

int identity_pins_get(identity_pins *p, const char *user, const char *device,
                      char *buf, size_t cap)
{
    char *key;
    const char *fp;
    int rc = VID_ENOTFOUND;

    if (p == NULL || buf == NULL || cap < FP_LEN + 1 ||
        !identity_name_valid(user) || !identity_name_valid(device))
        return VID_EINVAL;
    key = pin_key(user, device);
    g_mutex_lock(&p->lock);
    fp = g_hash_table_lookup(p->pins, key);
    if (fp != NULL) {
        g_strlcpy(buf, fp, cap);
        rc = VID_OK;
    }
    g_mutex_unlock(&p->lock);
    g_free(key);
    return rc;
}
