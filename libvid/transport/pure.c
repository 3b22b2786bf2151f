/*
 * pure.c — the transport's pure helpers: seeded impairment decisions,
 * fingerprint text, ICE server URLs, DTLS record packing. No I/O, no
 * globals. (RFC 7983 classification: rtp_demux_classify() in libvid/rtp.)
 */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "transport-private.h"

static uint64_t xorshift64(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

int impair_configure(impair_state *st, const transport_impairment *cfg)
{
    if (st == NULL)
        return TRANSPORT_EINVAL;
    if (cfg == NULL) {
        memset(st, 0, sizeof *st);
        return TRANSPORT_OK;
    }
    if (cfg->drop_pct > 100 || cfg->reorder_pct > 100 ||
        cfg->delay_ms > 10000 || cfg->reorder_ms > 10000)
        return TRANSPORT_EINVAL;
    st->cfg = *cfg;
    /* xorshift must not start at 0; mix the seed (splitmix64 step). */
    uint64_t z = cfg->seed + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    st->state = z != 0 ? z : 1;
    st->on = cfg->drop_pct > 0 || cfg->delay_ms > 0 ||
             (cfg->reorder_pct > 0 && cfg->reorder_ms > 0);
    return TRANSPORT_OK;
}

bool impair_next(impair_state *st, unsigned *delay_ms)
{
    *delay_ms = 0;
    if (st == NULL || !st->on)
        return false;
    /* Always draw twice so one packet's fate does not shift the stream
     * of decisions depending on the configuration. */
    unsigned drop_roll = (unsigned) (xorshift64(&st->state) % 100);
    unsigned reorder_roll = (unsigned) (xorshift64(&st->state) % 100);
    if (drop_roll < st->cfg.drop_pct)
        return true;
    *delay_ms = st->cfg.delay_ms;
    if (reorder_roll < st->cfg.reorder_pct)
        *delay_ms += st->cfg.reorder_ms;
    return false;
}

/* ---------------------------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int transport_fp_normalize(const char *in, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    if (in == NULL || out == NULL)
        return TRANSPORT_EINVAL;
    if (g_ascii_strncasecmp(in, "sha-256", 7) != 0 || in[7] != ' ')
        return TRANSPORT_EINVAL;
    const char *p = in + 8;
    while (*p == ' ')
        p++;
    if (strlen(p) != 32 * 3 - 1)
        return TRANSPORT_EINVAL;
    if (cap < TRANSPORT_FP_LEN)
        return TRANSPORT_ENOSPACE;
    memcpy(out, "sha-256 ", 8);
    char *o = out + 8;
    for (int i = 0; i < 32; i++) {
        int hi = hexval(p[3 * i]), lo = hexval(p[3 * i + 1]);
        if (hi < 0 || lo < 0)
            return TRANSPORT_EINVAL;
        if (i < 31 && p[3 * i + 2] != ':')
            return TRANSPORT_EINVAL;
        *o++ = hex[hi];
        *o++ = hex[lo];
        if (i < 31)
            *o++ = ':';
    }
    *o = '\0';
    return TRANSPORT_OK;
}

int transport_fp_of_cert(X509 *cert, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (cert == NULL || out == NULL)
        return TRANSPORT_EINVAL;
    if (cap < TRANSPORT_FP_LEN)
        return TRANSPORT_ENOSPACE;
    if (X509_digest(cert, EVP_sha256(), md, &n) != 1 || n != 32)
        return TRANSPORT_EFAIL;
    memcpy(out, "sha-256 ", 8);
    char *o = out + 8;
    for (unsigned i = 0; i < n; i++) {
        *o++ = hex[md[i] >> 4];
        *o++ = hex[md[i] & 15];
        if (i + 1 < n)
            *o++ = ':';
    }
    *o = '\0';
    return TRANSPORT_OK;
}

/* ---------------------------------------------------------------------- */

int transport_parse_ice_url(const char *url, bool *is_turn, bool *tls,
                            bool *tcp, char *host, size_t hcap, unsigned *port)
{
    if (url == NULL || host == NULL || hcap == 0)
        return TRANSPORT_EINVAL;
    const char *p;
    *tls = false;
    *tcp = false;
    if (strncmp(url, "stun:", 5) == 0) {
        *is_turn = false;
        p = url + 5;
    } else if (strncmp(url, "turn:", 5) == 0) {
        *is_turn = true;
        p = url + 5;
    } else if (strncmp(url, "turns:", 6) == 0) {
        *is_turn = true;
        *tls = true;
        *tcp = true;
        p = url + 6;
    } else {
        return TRANSPORT_EINVAL;
    }
    const char *q = strchr(p, '?');
    size_t hp_len = q != NULL ? (size_t) (q - p) : strlen(p);
    const char *hs = p, *he, *colon = NULL;
    if (hp_len == 0)
        return TRANSPORT_EINVAL;
    if (*p == '[') {
        he = memchr(p, ']', hp_len);
        if (he == NULL)
            return TRANSPORT_EINVAL;
        hs = p + 1;
        if (he + 1 < p + hp_len) {
            if (he[1] != ':')
                return TRANSPORT_EINVAL;
            colon = he + 1;
        }
    } else {
        colon = memchr(p, ':', hp_len);
        he = colon != NULL ? colon : p + hp_len;
    }
    size_t hl = (size_t) (he - hs);
    if (hl == 0 || hl >= hcap)
        return TRANSPORT_EINVAL;
    memcpy(host, hs, hl);
    host[hl] = '\0';
    *port = *tls ? 5349 : 3478;
    if (colon != NULL) {
        const char *ps = colon + 1, *pe = p + hp_len;
        unsigned v = 0;
        if (ps == pe || pe - ps > 5)
            return TRANSPORT_EINVAL;
        for (const char *c = ps; c < pe; c++) {
            if (*c < '0' || *c > '9')
                return TRANSPORT_EINVAL;
            v = v * 10 + (unsigned) (*c - '0');
        }
        if (v == 0 || v > 65535)
            return TRANSPORT_EINVAL;
        *port = v;
    }
    if (q != NULL) {
        if (!*is_turn)
            return TRANSPORT_EINVAL;
        if (strcmp(q, "?transport=udp") == 0) {
            if (*tls)
                return TRANSPORT_EINVAL;
        } else if (strcmp(q, "?transport=tcp") == 0) {
            *tcp = true;
        } else {
            return TRANSPORT_EINVAL;
        }
    }
    return TRANSPORT_OK;
}

/* ---------------------------------------------------------------------- */

int dtls_pack_records(const uint8_t *buf, size_t len, size_t mtu,
                      dtls_send_fn send, void *ud)
{
    size_t start = 0, off = 0;
    int n = 0;
    while (off < len) {
        if (len - off < 13)
            return TRANSPORT_EINVAL;
        size_t rlen = 13 + (((size_t) buf[off + 11] << 8) | buf[off + 12]);
        if (rlen > len - off)
            return TRANSPORT_EINVAL;
        if (off > start && off + rlen - start > mtu) {
            send(buf + start, off - start, ud);
            n++;
            start = off;
        }
        off += rlen;
    }
    if (off > start) {
        send(buf + start, off - start, ud);
        n++;
    }
    return n;
}

/* ---------------------------------------------------------------------- */
/* ICE candidate attribute (RFC 8839 section 5.1), checked before libnice
 * sees it: libnice's parser truncates out-of-range numbers. */

static bool parse_uint(const char *s, guint64 max, guint64 *out)
{
    guint64 v = 0;
    if (s == NULL || *s == '\0' || strlen(s) > 10)
        return false;
    for (const char *c = s; *c != '\0'; c++) {
        if (*c < '0' || *c > '9')
            return false;
        v = v * 10 + (guint64) (*c - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

static bool ice_chars(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!g_ascii_isalnum(s[i]) && s[i] != '+' && s[i] != '/')
            return false;
    return true;
}

int transport_candidate_check(const char *cand, unsigned *component)
{
    if (cand == NULL)
        return TRANSPORT_EINVAL;
    if (strncmp(cand, "a=", 2) == 0)
        cand += 2;
    if (strncmp(cand, "candidate:", 10) != 0 || strlen(cand) > 512)
        return TRANSPORT_EINVAL;
    int rc = TRANSPORT_EINVAL;
    gchar **tok = g_strsplit(cand + 10, " ", 64);
    guint n = g_strv_length(tok);
    guint64 v;
    if (n < 8 || n >= 64 || (n - 8) % 2 != 0)
        goto done;
    if (!ice_chars(tok[0], 32))
        goto done; /* foundation */
    if (!parse_uint(tok[1], 256, &v) || v == 0)
        goto done;
    if (component != NULL)
        *component = (unsigned) v;
    if (g_ascii_strcasecmp(tok[2], "udp") != 0 &&
        g_ascii_strcasecmp(tok[2], "tcp") != 0)
        goto done;
    if (!parse_uint(tok[3], G_MAXUINT32, &v) || v == 0)
        goto done;
    if (!g_hostname_is_ip_address(tok[4]))
        goto done; /* no names (mDNS) */
    if (!parse_uint(tok[5], 65535, &v))
        goto done;
    if (strcmp(tok[6], "typ") != 0)
        goto done;
    if (strcmp(tok[7], "host") != 0 && strcmp(tok[7], "srflx") != 0 &&
        strcmp(tok[7], "prflx") != 0 && strcmp(tok[7], "relay") != 0)
        goto done;
    for (guint i = 8; i + 1 < n; i += 2) {
        const char *k = tok[i], *val = tok[i + 1];
        if (strcmp(k, "raddr") == 0) {
            if (!g_hostname_is_ip_address(val))
                goto done;
        } else if (strcmp(k, "rport") == 0) {
            if (!parse_uint(val, 65535, &v))
                goto done;
        } else if (strcmp(k, "tcptype") == 0) {
            if (strcmp(val, "active") != 0 && strcmp(val, "passive") != 0 &&
                strcmp(val, "so") != 0)
                goto done;
        } else {
            /* extension: byte-string name and value, no controls */
            if (*k == '\0' || *val == '\0' || strlen(k) > 64 ||
                strlen(val) > 256)
                goto done;
            for (const char *c = val; *c; c++)
                if ((unsigned char) *c < 0x21 || *c == 0x7f)
                    goto done;
        }
    }
    rc = TRANSPORT_OK;
done:
    g_strfreev(tok);
    return rc;
}
