/*
 * sdp.c — WebRTC offer/answer: strict reading (a byte-level pre-scan, then
 * GstSDP, then a check of every field we use) and writing with GstSDP.
 */
#include "sdp-private.h"

#include <gst/sdp/sdp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define PROFILE "UDP/TLS/RTP/SAVPF"
#define MAX_SSRCS 32
#define MAX_EXT_ONE_BYTE 14

static const char *const status_names[SDP_ERR_COUNT_] = {
    [SDP_OK] = "ok",
    [SDP_ERR_INVALID_ARG] = "invalid_argument",
    [SDP_ERR_TOO_LARGE] = "too_large",
    [SDP_ERR_LINE_TOO_LONG] = "line_too_long",
    [SDP_ERR_SYNTAX] = "syntax",
    [SDP_ERR_TOO_MANY_MEDIA] = "too_many_media",
    [SDP_ERR_TOO_MANY_CANDIDATES] = "too_many_candidates",
    [SDP_ERR_TOO_MANY_FORMATS] = "too_many_formats",
    [SDP_ERR_TOO_MANY_ATTRIBUTES] = "too_many_attributes",
    [SDP_ERR_MISSING_ICE] = "missing_ice_credentials",
    [SDP_ERR_BAD_ICE] = "bad_ice_credentials",
    [SDP_ERR_MISSING_FINGERPRINT] = "missing_fingerprint",
    [SDP_ERR_WEAK_FINGERPRINT] = "weak_fingerprint",
    [SDP_ERR_BAD_FINGERPRINT] = "bad_fingerprint",
    [SDP_ERR_MISSING_RTCP_MUX] = "missing_rtcp_mux",
    [SDP_ERR_BAD_SETUP] = "bad_setup",
    [SDP_ERR_BUNDLE] = "bundle",
    [SDP_ERR_BAD_MID] = "bad_mid",
    [SDP_ERR_BAD_PROTO] = "bad_proto",
    [SDP_ERR_BAD_PAYLOAD_TYPE] = "bad_payload_type",
    [SDP_ERR_NO_CODEC] = "no_codec",
    [SDP_ERR_BAD_CANDIDATE] = "bad_candidate",
    [SDP_ERR_BAD_EXTMAP] = "bad_extmap",
    [SDP_ERR_ANSWER_MISMATCH] = "answer_mismatch",
};

static const char *const ext_uris[SDP_EXT_COUNT_] = {
    [SDP_EXT_MID] = "urn:ietf:params:rtp-hdrext:sdes:mid",
    [SDP_EXT_ABS_SEND_TIME] =
        "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    [SDP_EXT_TWCC] = ("http://www.ietf.org/id/"
                      "draft-holmer-rmcat-transport-wide-cc-extensions-01"),
};

static const char *const dir_names[] = {"sendrecv", "sendonly", "recvonly",
                                        "inactive"};
static const char *const setup_names[] = {"actpass", "active", "passive"};

const char *sdp_status_name(sdp_status code)
{
    if ((unsigned) code >= SDP_ERR_COUNT_)
        return "unknown";
    return status_names[code];
}

const char *sdp_ext_uri(sdp_ext ext)
{
    if ((unsigned) ext >= SDP_EXT_COUNT_)
        return NULL;
    return ext_uris[ext];
}

sdp_status sdp_set_error(sdp_error *err, sdp_status code, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return code;
    err->code = code;
    va_start(ap, fmt);
    g_vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return code;
}

void sdp_description_free(sdp_description *d)
{
    if (d == NULL)
        return;
    for (unsigned i = 0; i < SDP_MAX_MEDIA; i++)
        g_free(d->media[i].candidates);
    g_free(d);
}

sdp_status sdp_media_add_candidate(sdp_media *m, const sdp_candidate *c,
                                   sdp_error *err)
{
    if (m == NULL || c == NULL)
        return sdp_set_error(err, SDP_ERR_INVALID_ARG, "NULL argument");
    if (m->n_candidates >= SDP_MAX_CANDIDATES)
        return sdp_set_error(err, SDP_ERR_TOO_MANY_CANDIDATES,
                             "more than %d candidates on m-line mid \"%s\"",
                             SDP_MAX_CANDIDATES, m->mid);
    if (m->candidates == NULL)
        m->candidates = g_new(sdp_candidate, SDP_MAX_CANDIDATES);
    m->candidates[m->n_candidates++] = *c;
    return SDP_OK;
}

void sdp_fingerprint_format(const uint8_t fp[SDP_FINGERPRINT_LEN],
                            char buf[8 + SDP_FINGERPRINT_LEN * 3])
{
    static const char hex[] = "0123456789ABCDEF";
    char *p = buf;

    memcpy(p, "sha-256 ", 8);
    p += 8;
    for (unsigned i = 0; i < SDP_FINGERPRINT_LEN; i++) {
        *p++ = hex[fp[i] >> 4];
        *p++ = hex[fp[i] & 15];
        *p++ = i + 1 < SDP_FINGERPRINT_LEN ? ':' : '\0';
    }
}

/* ------------------------------------------------------------------ */
/* small lexical helpers                                               */

/* token-char of RFC 4566 (used for mids, msid ids, names). */
static bool token_char(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2a || c == 0x2b ||
           c == 0x2d || c == 0x2e || (c >= 0x30 && c <= 0x39) ||
           (c >= 0x41 && c <= 0x5a) || (c >= 0x5e && c <= 0x7e);
}

static bool token_ok(const char *s, size_t len, size_t max)
{
    if (len == 0 || len > max)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!token_char((unsigned char) s[i]))
            return false;
    }
    return true;
}

/* proto = token *("/" token) */
static bool proto_ok(const char *s, size_t len)
{
    if (len == 0 || len > 31 || s[0] == '/' || s[len - 1] == '/')
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '/' ? s[i + 1] == '/' : !token_char((unsigned char) s[i]))
            return false;
    }
    return true;
}

static bool visible_ok(const char *s, size_t len, size_t max)
{
    if (len == 0 || len > max)
        return false;
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char) s[i] < 0x21 || (unsigned char) s[i] > 0x7e)
            return false;
    }
    return true;
}

/* Copy a NUL-terminated string known to fit. */
static void copy_str(char *dst, size_t cap, const char *src)
{
    g_strlcpy(dst, src, cap);
}

/* Split @p s on single spaces into at most @p max tokens; fails on empty
 * tokens (double or edge spaces) or too many. */
static bool split_spaces(const char *s, const char **tok, size_t *tlen,
                         size_t max, size_t *n)
{
    size_t count = 0, len = strlen(s), start = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != ' ')
            continue;
        if (i == start || count == max)
            return false;
        tok[count] = s + start;
        tlen[count] = i - start;
        count++;
        start = i + 1;
    }
    *n = count;
    return true;
}

/* ------------------------------------------------------------------ */
/* byte-level pre-scan: sizes, counts and line shape before GstSDP      */

static sdp_status check_m_line(const char *p, size_t l, size_t line_no,
                               sdp_error *err)
{
    /* m=<media> <port> <proto> <fmt> ... */
    const char *tok[SDP_MAX_FORMATS + 4];
    size_t tlen[SDP_MAX_FORMATS + 4], n = 0;
    char buf[SDP_MAX_LINE + 1];
    uint64_t v;

    memcpy(buf, p + 2, l - 2);
    buf[l - 2] = '\0';
    if (!split_spaces(buf, tok, tlen, G_N_ELEMENTS(tok), &n)) {
        /* Either malformed spacing or too many formats. */
        size_t spaces = 0;
        for (size_t i = 0; buf[i] != '\0'; i++)
            spaces += buf[i] == ' ';
        if (spaces >= G_N_ELEMENTS(tok))
            return sdp_set_error(err, SDP_ERR_TOO_MANY_FORMATS,
                                 "line %zu: more than %d payload types on "
                                 "the m= line",
                                 line_no, SDP_MAX_FORMATS);
        return sdp_set_error(err, SDP_ERR_SYNTAX,
                             "line %zu: m= fields must be separated by "
                             "single spaces",
                             line_no);
    }
    if (n < 4)
        return sdp_set_error(err, SDP_ERR_SYNTAX,
                             "line %zu: m= line needs media, port, proto "
                             "and at least one format",
                             line_no);
    if (n - 3 > SDP_MAX_FORMATS)
        return sdp_set_error(err, SDP_ERR_TOO_MANY_FORMATS,
                             "line %zu: %zu payload types on the m= line, "
                             "limit %d",
                             line_no, n - 3, SDP_MAX_FORMATS);
    for (size_t i = 0; i < tlen[0]; i++) {
        if (!g_ascii_islower(tok[0][i]))
            return sdp_set_error(err, SDP_ERR_SYNTAX,
                                 "line %zu: bad media type", line_no);
    }
    if (tlen[0] > 15)
        return sdp_set_error(err, SDP_ERR_SYNTAX, "line %zu: bad media type",
                             line_no);
    if (memchr(tok[1], '/', tlen[1]) != NULL)
        return sdp_set_error(err, SDP_ERR_SYNTAX,
                             "line %zu: port ranges are not supported",
                             line_no);
    if (tlen[1] > 5 || !sdp_parse_uint(tok[1], tlen[1], 65535, &v))
        return sdp_set_error(err, SDP_ERR_SYNTAX, "line %zu: bad port \"%.*s\"",
                             line_no, (int) MIN(tlen[1], 16), tok[1]);
    if (!proto_ok(tok[2], tlen[2]))
        return sdp_set_error(err, SDP_ERR_SYNTAX,
                             "line %zu: bad transport protocol", line_no);
    for (size_t i = 3; i < n; i++) {
        if (!token_ok(tok[i], tlen[i], 32))
            return sdp_set_error(err, SDP_ERR_SYNTAX,
                                 "line %zu: bad format \"%.*s\"", line_no,
                                 (int) MIN(tlen[i], 16), tok[i]);
    }
    return SDP_OK;
}

static bool has_prefix(const char *p, size_t l, const char *lit)
{
    size_t n = strlen(lit);
    return l >= n && memcmp(p, lit, n) == 0;
}

static sdp_status prescan(const char *text, size_t len, sdp_error *err)
{
    size_t pos = 0, line_no = 0;
    unsigned n_media = 0, n_cand = 0, n_rtpmap = 0, n_attr = 0;
    bool blank = false, seen_t = false;
    sdp_status st;

    if (len > SDP_MAX_BYTES)
        return sdp_set_error(err, SDP_ERR_TOO_LARGE,
                             "SDP is %zu bytes, limit %d", len, SDP_MAX_BYTES);
    while (pos < len) {
        const char *p = text + pos;
        const char *nl = memchr(p, '\n', len - pos);
        size_t end = nl != NULL ? (size_t) (nl - text) : len;
        size_t l = end - pos;

        if (l > 0 && p[l - 1] == '\r')
            l--;
        line_no++;
        if (l > SDP_MAX_LINE)
            return sdp_set_error(err, SDP_ERR_LINE_TOO_LONG,
                                 "line %zu is %zu bytes, limit %d", line_no, l,
                                 SDP_MAX_LINE);
        for (size_t i = 0; i < l; i++) {
            unsigned char c = (unsigned char) p[i];
            if (c < 0x20 || c == 0x7f)
                return sdp_set_error(err, SDP_ERR_SYNTAX,
                                     "line %zu has control byte 0x%02x",
                                     line_no, c);
        }
        pos = end + 1;
        if (l == 0) {
            blank = true;
            continue;
        }
        if (blank)
            return sdp_set_error(err, SDP_ERR_SYNTAX,
                                 "empty line before line %zu", line_no);
        if (l < 2 || p[1] != '=' || !g_ascii_islower(p[0]))
            return sdp_set_error(err, SDP_ERR_SYNTAX,
                                 "line %zu is not <letter>=<value>", line_no);
        if (line_no == 1 && !(l == 3 && memcmp(p, "v=0", 3) == 0))
            return sdp_set_error(err, SDP_ERR_SYNTAX,
                                 "first line must be \"v=0\"");
        if (line_no == 2 && p[0] != 'o')
            return sdp_set_error(err, SDP_ERR_SYNTAX,
                                 "second line must be the o= line");
        if (p[0] == 't' && n_media == 0)
            seen_t = true;
        if (p[0] == 'm') {
            if (!seen_t)
                return sdp_set_error(err, SDP_ERR_SYNTAX,
                                     "no t= line before the first m= line");
            if (++n_media > SDP_MAX_MEDIA)
                return sdp_set_error(err, SDP_ERR_TOO_MANY_MEDIA,
                                     "more than %d m-lines", SDP_MAX_MEDIA);
            st = check_m_line(p, l, line_no, err);
            if (st != SDP_OK)
                return st;
            n_cand = n_rtpmap = n_attr = 0;
        } else if (p[0] == 'a') {
            if (++n_attr > SDP_MAX_ATTRIBUTES)
                return sdp_set_error(err, SDP_ERR_TOO_MANY_ATTRIBUTES,
                                     "more than %d a= lines in one section",
                                     SDP_MAX_ATTRIBUTES);
            if (has_prefix(p, l, "a=candidate:") &&
                ++n_cand > SDP_MAX_CANDIDATES)
                return sdp_set_error(
                    err, SDP_ERR_TOO_MANY_CANDIDATES,
                    "more than %d candidates in %s %d", SDP_MAX_CANDIDATES,
                    n_media ? "m-line" : "session", (int) n_media - 1);
            if (has_prefix(p, l, "a=rtpmap:") && ++n_rtpmap > SDP_MAX_FORMATS)
                return sdp_set_error(
                    err, SDP_ERR_TOO_MANY_FORMATS,
                    "more than %d rtpmaps in %s %d", SDP_MAX_FORMATS,
                    n_media ? "m-line" : "session", (int) n_media - 1);
        }
    }
    if (!g_utf8_validate(text, (gssize) len, NULL))
        return sdp_set_error(err, SDP_ERR_SYNTAX, "SDP is not valid UTF-8");
    if (line_no == 0 || len == 0)
        return sdp_set_error(err, SDP_ERR_SYNTAX, "empty SDP");
    if (!seen_t)
        return sdp_set_error(err, SDP_ERR_SYNTAX, "no t= line");
    return SDP_OK;
}

/* ------------------------------------------------------------------ */
/* reading                                                             */

typedef struct {
    uint8_t pt;
    bool has_rtpmap;
    char name[33];
    unsigned clock;
    unsigned channels;
    unsigned fb;
    bool fec;
    unsigned minptime;
    bool has_apt; /* rtx: fmtp apt= */
    uint8_t apt;
} fmt_info;

/* Transport attributes of one level (session or m-line). */
typedef struct {
    const char *ufrag;
    const char *pwd;
    unsigned n_fp;
    bool sha256;
    uint8_t fp[SDP_FINGERPRINT_LEN];
    bool weak;      /* a sha-1/md5/md2 fingerprint was seen */
    char other[16]; /* another hash seen (sha-512, ...) */
    int setup;      /* -1: none */
    bool trickle;
    bool direction_set;
    sdp_direction direction;
    bool allow_mixed;
} level_attrs;

typedef struct {
    fmt_info fmts[SDP_MAX_FORMATS];
    unsigned n_fmts;
    bool is_rtp;
    uint8_t ext_of_id[256]; /* 0 none, 1 + sdp_ext, 255 other URI */
    level_attrs lv;         /* resolved: media over session */
} media_scratch;

static void level_init(level_attrs *lv)
{
    memset(lv, 0, sizeof(*lv));
    lv->setup = -1;
}

static sdp_status read_fingerprint(level_attrs *lv, const char *value,
                                   const char *where, sdp_error *err)
{
    const char *sp = value != NULL ? strchr(value, ' ') : NULL;
    size_t hlen;
    uint8_t fp[SDP_FINGERPRINT_LEN];

    if (++lv->n_fp > SDP_MAX_FINGERPRINTS)
        return sdp_set_error(err, SDP_ERR_TOO_MANY_ATTRIBUTES,
                             "%s: more than %d fingerprints", where,
                             SDP_MAX_FINGERPRINTS);
    if (sp == NULL || sp == value)
        return sdp_set_error(err, SDP_ERR_BAD_FINGERPRINT,
                             "%s: fingerprint is not \"<hash> <value>\"",
                             where);
    hlen = (size_t) (sp - value);
    if (hlen == 7 && g_ascii_strncasecmp(value, "sha-256", 7) == 0) {
        const char *v = sp + 1;
        if (strlen(v) != SDP_FINGERPRINT_LEN * 3 - 1)
            return sdp_set_error(err, SDP_ERR_BAD_FINGERPRINT,
                                 "%s: sha-256 fingerprint must be 32 "
                                 "colon-separated hex bytes",
                                 where);
        for (unsigned i = 0; i < SDP_FINGERPRINT_LEN; i++) {
            int hi = g_ascii_xdigit_value(v[i * 3]);
            int lo = g_ascii_xdigit_value(v[i * 3 + 1]);
            char sep = v[i * 3 + 2];
            if (hi < 0 || lo < 0 || (i + 1 < SDP_FINGERPRINT_LEN && sep != ':'))
                return sdp_set_error(err, SDP_ERR_BAD_FINGERPRINT,
                                     "%s: sha-256 fingerprint must be 32 "
                                     "colon-separated hex bytes",
                                     where);
            fp[i] = (uint8_t) (hi << 4 | lo);
        }
        if (lv->sha256 && memcmp(fp, lv->fp, sizeof(fp)) != 0)
            return sdp_set_error(err, SDP_ERR_BAD_FINGERPRINT,
                                 "%s: two different sha-256 fingerprints",
                                 where);
        memcpy(lv->fp, fp, sizeof(fp));
        lv->sha256 = true;
    } else if ((hlen == 5 && g_ascii_strncasecmp(value, "sha-1", 5) == 0) ||
               (hlen == 3 && g_ascii_strncasecmp(value, "md5", 3) == 0) ||
               (hlen == 3 && g_ascii_strncasecmp(value, "md2", 3) == 0)) {
        lv->weak = true;
    } else if (token_ok(value, hlen, sizeof(lv->other) - 1)) {
        memcpy(lv->other, value, hlen);
        lv->other[hlen] = '\0';
    } else {
        return sdp_set_error(err, SDP_ERR_BAD_FINGERPRINT,
                             "%s: bad fingerprint hash name", where);
    }
    return SDP_OK;
}

/* Attributes allowed at both levels. Sets *handled when @p key is one. */
static sdp_status read_level_attr(level_attrs *lv, const char *key,
                                  const char *value, const char *where,
                                  bool *handled, sdp_error *err)
{
    *handled = true;
    if (strcmp(key, "ice-ufrag") == 0) {
        if (lv->ufrag != NULL)
            return sdp_set_error(err, SDP_ERR_BAD_ICE,
                                 "%s: ice-ufrag given twice", where);
        if (value == NULL || !sdp_ice_chars_ok(value, strlen(value),
                                               SDP_MIN_UFRAG, SDP_MAX_UFRAG))
            return sdp_set_error(err, SDP_ERR_BAD_ICE,
                                 "%s: ice-ufrag must be 4..256 of "
                                 "A-Z a-z 0-9 + /",
                                 where);
        lv->ufrag = value;
    } else if (strcmp(key, "ice-pwd") == 0) {
        if (lv->pwd != NULL)
            return sdp_set_error(err, SDP_ERR_BAD_ICE,
                                 "%s: ice-pwd given twice", where);
        if (value == NULL ||
            !sdp_ice_chars_ok(value, strlen(value), SDP_MIN_PWD, SDP_MAX_PWD))
            return sdp_set_error(err, SDP_ERR_BAD_ICE,
                                 "%s: ice-pwd must be 22..256 of "
                                 "A-Z a-z 0-9 + /",
                                 where);
        lv->pwd = value;
    } else if (strcmp(key, "fingerprint") == 0) {
        return read_fingerprint(lv, value, where, err);
    } else if (strcmp(key, "setup") == 0) {
        int s = -1;
        for (unsigned i = 0; value != NULL && i < G_N_ELEMENTS(setup_names);
             i++) {
            if (strcmp(value, setup_names[i]) == 0)
                s = (int) i;
        }
        if (s < 0)
            return sdp_set_error(err, SDP_ERR_BAD_SETUP,
                                 "%s: a=setup:%.32s is not actpass, active "
                                 "or passive",
                                 where, value != NULL ? value : "");
        if (lv->setup >= 0)
            return sdp_set_error(err, SDP_ERR_BAD_SETUP,
                                 "%s: a=setup given twice", where);
        lv->setup = s;
    } else if (strcmp(key, "ice-options") == 0) {
        const char *tok[16];
        size_t tlen[16], n = 0;
        if (value == NULL || !split_spaces(value, tok, tlen, 16, &n))
            return sdp_set_error(err, SDP_ERR_SYNTAX, "%s: bad ice-options",
                                 where);
        for (size_t i = 0; i < n; i++) {
            if (tlen[i] == 7 && memcmp(tok[i], "trickle", 7) == 0)
                lv->trickle = true;
        }
    } else if (strcmp(key, "extmap-allow-mixed") == 0) {
        lv->allow_mixed = true;
    } else {
        for (unsigned i = 0; i < G_N_ELEMENTS(dir_names); i++) {
            if (strcmp(key, dir_names[i]) == 0) {
                if (lv->direction_set)
                    return sdp_set_error(err, SDP_ERR_SYNTAX,
                                         "%s: more than one direction", where);
                lv->direction_set = true;
                lv->direction = (sdp_direction) i;
                return SDP_OK;
            }
        }
        *handled = false;
    }
    return SDP_OK;
}

static fmt_info *find_fmt(media_scratch *x, const char *value,
                          const char **rest, bool *wildcard)
{
    const char *sp = value != NULL ? strchr(value, ' ') : NULL;
    uint64_t v;

    if (sp == NULL)
        return NULL;
    *rest = sp + 1;
    if (wildcard != NULL) {
        *wildcard = sp - value == 1 && value[0] == '*';
        if (*wildcard)
            return &x->fmts[0];
    }
    if (!sdp_parse_uint(value, (size_t) (sp - value), 127, &v))
        return NULL;
    for (unsigned i = 0; i < x->n_fmts; i++) {
        if (x->fmts[i].pt == v)
            return &x->fmts[i];
    }
    return NULL;
}

static unsigned fb_bit(const char *s)
{
    if (strcmp(s, "nack") == 0)
        return SDP_FB_NACK;
    if (strcmp(s, "nack pli") == 0)
        return SDP_FB_NACK_PLI;
    if (strcmp(s, "ccm fir") == 0)
        return SDP_FB_CCM_FIR;
    if (strcmp(s, "goog-remb") == 0)
        return SDP_FB_GOOG_REMB;
    if (strcmp(s, "transport-cc") == 0)
        return SDP_FB_TRANSPORT_CC;
    return 0;
}

static sdp_status read_rtpmap(media_scratch *x, const char *value,
                              const char *where, sdp_error *err)
{
    const char *rest = NULL;
    fmt_info *f = find_fmt(x, value, &rest, NULL);
    const char *tok[3];
    size_t tlen[3], n = 0;
    uint64_t v;
    char buf[128];

    if (f == NULL)
        return sdp_set_error(err, SDP_ERR_BAD_PAYLOAD_TYPE,
                             "%s: rtpmap for a payload type not on the m= "
                             "line",
                             where);
    if (f->has_rtpmap)
        return sdp_set_error(err, SDP_ERR_BAD_PAYLOAD_TYPE,
                             "%s: two rtpmaps for payload type %u", where,
                             f->pt);
    if (strlen(rest) >= sizeof(buf))
        goto bad;
    copy_str(buf, sizeof(buf), rest);
    for (char *p = buf; *p != '\0'; p++) {
        if (*p == '/')
            *p = ' ';
    }
    if (!split_spaces(buf, tok, tlen, 3, &n) || n < 2)
        goto bad;
    if (!token_ok(tok[0], tlen[0], sizeof(f->name) - 1))
        goto bad;
    memcpy(f->name, tok[0], tlen[0]);
    f->name[tlen[0]] = '\0';
    if (!sdp_parse_uint(tok[1], tlen[1], 10000000, &v) || v == 0)
        goto bad;
    f->clock = (unsigned) v;
    f->channels = 1;
    if (n == 3) {
        if (!sdp_parse_uint(tok[2], tlen[2], 255, &v) || v == 0)
            goto bad;
        f->channels = (unsigned) v;
    }
    f->has_rtpmap = true;
    return SDP_OK;
bad:
    return sdp_set_error(err, SDP_ERR_SYNTAX,
                         "%s: bad rtpmap for payload type %u", where, f->pt);
}

static sdp_status read_fmtp(media_scratch *x, const char *value,
                            const char *where, sdp_error *err)
{
    const char *rest = NULL;
    fmt_info *f = find_fmt(x, value, &rest, NULL);
    g_auto(GStrv) params = NULL;

    if (f == NULL)
        return sdp_set_error(err, SDP_ERR_BAD_PAYLOAD_TYPE,
                             "%s: fmtp for a payload type not on the m= "
                             "line",
                             where);
    params = g_strsplit(rest, ";", 64);
    for (unsigned i = 0; params[i] != NULL; i++) {
        char *kv = g_strstrip(params[i]);
        char *eq = strchr(kv, '=');
        uint64_t v;
        if (eq == NULL)
            continue;
        *eq = '\0';
        if (strcmp(kv, "useinbandfec") == 0) {
            f->fec = strcmp(eq + 1, "1") == 0;
        } else if (strcmp(kv, "minptime") == 0) {
            if (!sdp_parse_uint(eq + 1, strlen(eq + 1), 120, &v))
                return sdp_set_error(err, SDP_ERR_SYNTAX, "%s: bad minptime",
                                     where);
            f->minptime = (unsigned) v;
        } else if (strcmp(kv, "apt") == 0) {
            if (!sdp_parse_uint(eq + 1, strlen(eq + 1), 127, &v))
                return sdp_set_error(err, SDP_ERR_BAD_PAYLOAD_TYPE,
                                     "%s: bad apt for payload type %u", where,
                                     f->pt);
            f->has_apt = true;
            f->apt = (uint8_t) v;
        }
    }
    return SDP_OK;
}

static sdp_status read_rtcp_fb(media_scratch *x, const char *value,
                               const char *where, sdp_error *err)
{
    const char *rest = NULL;
    bool wildcard = false;
    fmt_info *f = find_fmt(x, value, &rest, &wildcard);
    unsigned bit;

    if (f == NULL && !wildcard)
        return sdp_set_error(err, SDP_ERR_BAD_PAYLOAD_TYPE,
                             "%s: rtcp-fb for a payload type not on the m= "
                             "line",
                             where);
    bit = fb_bit(rest);
    if (wildcard) {
        for (unsigned i = 0; i < x->n_fmts; i++)
            x->fmts[i].fb |= bit;
    } else {
        f->fb |= bit;
    }
    return SDP_OK;
}

static sdp_status read_extmap(media_scratch *x, bool allow_mixed,
                              const char *value, const char *where,
                              sdp_error *err)
{
    const char *tok[4];
    size_t tlen[4], n = 0;
    uint64_t id;
    size_t idlen;
    const char *slash;
    unsigned max = allow_mixed ? 255 : MAX_EXT_ONE_BYTE;
    char uri[256];
    uint8_t code = 255;

    if (value == NULL || !split_spaces(value, tok, tlen, 4, &n) || n < 2)
        return sdp_set_error(err, SDP_ERR_BAD_EXTMAP,
                             "%s: extmap is not \"<id> <uri>\"", where);
    slash = memchr(tok[0], '/', tlen[0]);
    idlen = slash != NULL ? (size_t) (slash - tok[0]) : tlen[0];
    if (!sdp_parse_uint(tok[0], idlen, 255, &id) || id < 1 || id > max ||
        id == 15)
        return sdp_set_error(err, SDP_ERR_BAD_EXTMAP,
                             "%s: extmap id %.*s outside 1..%u", where,
                             (int) MIN(idlen, 8), tok[0], max);
    if (slash != NULL) {
        bool ok = false;
        for (unsigned i = 0; i < G_N_ELEMENTS(dir_names); i++) {
            size_t dl = strlen(dir_names[i]);
            if (tlen[0] - idlen - 1 == dl &&
                memcmp(slash + 1, dir_names[i], dl) == 0)
                ok = true;
        }
        if (!ok)
            return sdp_set_error(err, SDP_ERR_BAD_EXTMAP,
                                 "%s: bad extmap direction", where);
    }
    if (!visible_ok(tok[1], tlen[1], sizeof(uri) - 1))
        return sdp_set_error(err, SDP_ERR_BAD_EXTMAP, "%s: bad extmap URI",
                             where);
    if (x->ext_of_id[id] != 0)
        return sdp_set_error(err, SDP_ERR_BAD_EXTMAP,
                             "%s: extmap id %u used twice", where,
                             (unsigned) id);
    memcpy(uri, tok[1], tlen[1]);
    uri[tlen[1]] = '\0';
    for (unsigned e = 0; e < SDP_EXT_COUNT_; e++) {
        if (strcmp(uri, ext_uris[e]) == 0) {
            for (unsigned j = 1; j < 256; j++) {
                if (x->ext_of_id[j] == 1 + e)
                    return sdp_set_error(err, SDP_ERR_BAD_EXTMAP,
                                         "%s: extension %s mapped twice", where,
                                         uri);
            }
            code = (uint8_t) (1 + e);
        }
    }
    x->ext_of_id[id] = code;
    return SDP_OK;
}

typedef struct {
    uint32_t ssrc;
    char cname[SDP_MAX_CNAME + 1];
    char stream[SDP_MAX_TOKEN + 1];
    char track[SDP_MAX_TOKEN + 1];
} ssrc_info;

typedef struct {
    ssrc_info s[MAX_SSRCS];
    unsigned n;
    bool has_fid;
    uint32_t fid_primary;
    uint32_t fid_rtx;
} ssrc_table;

static bool read_msid(const char *v, char *stream, char *track)
{
    const char *tok[2];
    size_t tlen[2], n = 0;

    /* RFC 8830 says token-char, but webrtcbin puts '@' in its ids. */
    if (!split_spaces(v, tok, tlen, 2, &n) ||
        !visible_ok(tok[0], tlen[0], SDP_MAX_TOKEN) ||
        (n == 2 && !visible_ok(tok[1], tlen[1], SDP_MAX_TOKEN)))
        return false;
    memcpy(stream, tok[0], tlen[0]);
    stream[tlen[0]] = '\0';
    track[0] = '\0';
    if (n == 2) {
        memcpy(track, tok[1], tlen[1]);
        track[tlen[1]] = '\0';
    }
    return true;
}

static sdp_status read_ssrc(ssrc_table *t, const char *value, const char *where,
                            sdp_error *err)
{
    const char *sp = value != NULL ? strchr(value, ' ') : NULL;
    uint64_t v;
    ssrc_info *s = NULL;
    const char *attr;

    if (sp == NULL ||
        !sdp_parse_uint(value, (size_t) (sp - value), G_MAXUINT32, &v))
        return sdp_set_error(err, SDP_ERR_SYNTAX,
                             "%s: a=ssrc is not \"<ssrc> <attribute>\"", where);
    for (unsigned i = 0; i < t->n; i++) {
        if (t->s[i].ssrc == v)
            s = &t->s[i];
    }
    if (s == NULL) {
        if (t->n == MAX_SSRCS)
            return sdp_set_error(err, SDP_ERR_TOO_MANY_ATTRIBUTES,
                                 "%s: more than %d SSRCs", where, MAX_SSRCS);
        s = &t->s[t->n++];
        memset(s, 0, sizeof(*s));
        s->ssrc = (uint32_t) v;
    }
    attr = sp + 1;
    if (g_str_has_prefix(attr, "cname:")) {
        const char *c = attr + 6;
        if (!visible_ok(c, strlen(c), SDP_MAX_CNAME))
            return sdp_set_error(err, SDP_ERR_SYNTAX, "%s: bad cname", where);
        copy_str(s->cname, sizeof(s->cname), c);
    } else if (g_str_has_prefix(attr, "msid:")) {
        if (!read_msid(attr + 5, s->stream, s->track))
            return sdp_set_error(err, SDP_ERR_SYNTAX, "%s: bad ssrc msid",
                                 where);
    }
    return SDP_OK;
}

static sdp_status read_ssrc_group(ssrc_table *t, const char *value,
                                  const char *where, sdp_error *err)
{
    const char *tok[16];
    size_t tlen[16], n = 0;
    uint64_t v;

    if (value == NULL || !split_spaces(value, tok, tlen, 16, &n) || n < 2)
        return sdp_set_error(err, SDP_ERR_SYNTAX, "%s: bad ssrc-group", where);
    if (tlen[0] == 3 && memcmp(tok[0], "FID", 3) == 0 && n != 3)
        return sdp_set_error(err, SDP_ERR_SYNTAX,
                             "%s: ssrc-group FID needs two SSRCs (media, "
                             "RFC 4588 rtx), has %zu",
                             where, n - 1);
    for (size_t i = 1; i < n; i++) {
        if (!sdp_parse_uint(tok[i], tlen[i], G_MAXUINT32, &v))
            return sdp_set_error(err, SDP_ERR_SYNTAX, "%s: bad ssrc-group",
                                 where);
        if (i == 1 && tlen[0] == 3 && memcmp(tok[0], "FID", 3) == 0 &&
            !t->has_fid) {
            t->has_fid = true;
            t->fid_primary = (uint32_t) v;
            if (!sdp_parse_uint(tok[2], tlen[2], G_MAXUINT32, &v))
                return sdp_set_error(err, SDP_ERR_SYNTAX, "%s: bad ssrc-group",
                                     where);
            t->fid_rtx = (uint32_t) v;
        }
    }
    return SDP_OK;
}

/* c=IN IP4|IP6 <address>; GstSDP keeps whatever it was given. */
static bool connection_ok(const GstSDPConnection *c)
{
    return c->nettype != NULL && strcmp(c->nettype, "IN") == 0 &&
           c->addrtype != NULL &&
           (strcmp(c->addrtype, "IP4") == 0 ||
            strcmp(c->addrtype, "IP6") == 0) &&
           c->address != NULL && c->address[0] != '\0';
}

static sdp_media_kind kind_of(const char *media)
{
    if (strcmp(media, "audio") == 0)
        return SDP_MEDIA_AUDIO;
    if (strcmp(media, "video") == 0)
        return SDP_MEDIA_VIDEO;
    return SDP_MEDIA_OTHER;
}

/* Read one m-line: syntax of every attribute we know, plus what we keep. */
static sdp_status read_media(const GstSDPMedia *gm, unsigned idx,
                             const level_attrs *sess, sdp_media *m,
                             media_scratch *x, sdp_error *err)
{
    char where[64];
    level_attrs lv;
    ssrc_table ssrcs;
    sdp_status st;
    bool has_mid = false;
    const char *media = gst_sdp_media_get_media(gm);
    const char *proto = gst_sdp_media_get_proto(gm);
    guint n_fmts = gst_sdp_media_formats_len(gm);
    guint n_attrs = gst_sdp_media_attributes_len(gm);

    g_snprintf(where, sizeof(where), "m-line %u", idx);
    level_init(&lv);
    memset(&ssrcs, 0, sizeof(ssrcs));
    if (media == NULL || proto == NULL || n_fmts == 0 ||
        strlen(media) >= sizeof(m->media) || strlen(proto) >= sizeof(m->proto))
        return sdp_set_error(err, SDP_ERR_SYNTAX, "%s: bad m= line", where);
    if (n_fmts > SDP_MAX_FORMATS)
        return sdp_set_error(err, SDP_ERR_TOO_MANY_FORMATS,
                             "%s: more than %d payload types", where,
                             SDP_MAX_FORMATS);
    copy_str(m->media, sizeof(m->media), media);
    copy_str(m->proto, sizeof(m->proto), proto);
    copy_str(m->first_fmt, sizeof(m->first_fmt),
             gst_sdp_media_get_format(gm, 0));
    m->kind = kind_of(media);
    m->rejected = gst_sdp_media_get_port(gm) == 0;
    x->is_rtp = strstr(proto, "RTP/") != NULL;
    for (guint i = 0; i < gst_sdp_media_connections_len(gm); i++) {
        if (!connection_ok(gst_sdp_media_get_connection(gm, i)))
            return sdp_set_error(err, SDP_ERR_SYNTAX,
                                 "%s: c= line must be \"IN IP4|IP6 "
                                 "<address>\"",
                                 where);
    }

    if (x->is_rtp) {
        for (guint i = 0; i < n_fmts; i++) {
            const char *f = gst_sdp_media_get_format(gm, i);
            uint64_t v;
            if (!sdp_parse_uint(f, strlen(f), 255, &v) || v > 127)
                return sdp_set_error(err, SDP_ERR_BAD_PAYLOAD_TYPE,
                                     "%s: payload type \"%.8s\" is not "
                                     "0..127",
                                     where, f);
            if (v >= 64 && v <= 95)
                return sdp_set_error(err, SDP_ERR_BAD_PAYLOAD_TYPE,
                                     "%s: payload type %u collides with "
                                     "RTCP packet types (RFC 5761)",
                                     where, (unsigned) v);
            for (guint j = 0; j < i; j++) {
                if (x->fmts[j].pt == v)
                    return sdp_set_error(err, SDP_ERR_BAD_PAYLOAD_TYPE,
                                         "%s: payload type %u listed twice",
                                         where, (unsigned) v);
            }
            x->fmts[i].pt = (uint8_t) v;
        }
        x->n_fmts = n_fmts;
    }

    /* extmap-allow-mixed may come after the extmaps: look first. */
    lv.allow_mixed = sess->allow_mixed || gst_sdp_media_get_attribute_val(
                                              gm, "extmap-allow-mixed") != NULL;

    for (guint i = 0; i < n_attrs; i++) {
        const GstSDPAttribute *a = gst_sdp_media_get_attribute(gm, i);
        const char *key = a->key, *value = a->value;
        bool handled = false;

        if (key == NULL)
            continue;
        st = read_level_attr(&lv, key, value, where, &handled, err);
        if (st != SDP_OK)
            return st;
        if (handled)
            continue;
        st = SDP_OK;
        if (strcmp(key, "mid") == 0) {
            if (has_mid)
                return sdp_set_error(err, SDP_ERR_BAD_MID,
                                     "%s: a=mid given twice", where);
            if (value == NULL || !token_ok(value, strlen(value), SDP_MAX_MID))
                return sdp_set_error(err, SDP_ERR_BAD_MID,
                                     "%s: a=mid must be 1..%d token "
                                     "characters",
                                     where, SDP_MAX_MID);
            copy_str(m->mid, sizeof(m->mid), value);
            has_mid = true;
        } else if (strcmp(key, "rtcp-mux") == 0) {
            m->rtcp_mux = true;
        } else if (strcmp(key, "rtcp-rsize") == 0) {
            m->rtcp_rsize = true;
        } else if (strcmp(key, "bundle-only") == 0) {
            m->bundle_only = true;
        } else if (strcmp(key, "end-of-candidates") == 0) {
            m->end_of_candidates = true;
        } else if (strcmp(key, "candidate") == 0) {
            char buf[SDP_MAX_CANDIDATE_LEN + 16];
            sdp_candidate c;
            int l = g_snprintf(buf, sizeof(buf), "candidate:%s",
                               value != NULL ? value : "");
            if (l < 0 || (size_t) l >= sizeof(buf))
                return sdp_set_error(err, SDP_ERR_BAD_CANDIDATE,
                                     "%s: candidate too long", where);
            st = sdp_candidate_parse(&c, buf, (size_t) l, err);
            if (st != SDP_OK) {
                if (err != NULL) {
                    char msg[sizeof(err->message)];
                    copy_str(msg, sizeof(msg), err->message);
                    sdp_set_error(err, st, "%s: %s", where, msg);
                }
                return st;
            }
            st = sdp_media_add_candidate(m, &c, err);
            if (st != SDP_OK)
                return st;
        } else if (!x->is_rtp) {
            continue;
        } else if (strcmp(key, "rtpmap") == 0) {
            st = read_rtpmap(x, value, where, err);
        } else if (strcmp(key, "fmtp") == 0) {
            st = read_fmtp(x, value, where, err);
        } else if (strcmp(key, "rtcp-fb") == 0) {
            st = read_rtcp_fb(x, value, where, err);
        } else if (strcmp(key, "extmap") == 0) {
            st = read_extmap(x, lv.allow_mixed, value, where, err);
        } else if (strcmp(key, "ssrc") == 0) {
            st = read_ssrc(&ssrcs, value, where, err);
        } else if (strcmp(key, "ssrc-group") == 0) {
            st = read_ssrc_group(&ssrcs, value, where, err);
        } else if (strcmp(key, "msid") == 0) {
            if (value == NULL ||
                !read_msid(value, m->msid_stream, m->msid_track))
                return sdp_set_error(err, SDP_ERR_SYNTAX, "%s: bad a=msid",
                                     where);
        }
        if (st != SDP_OK)
            return st;
    }

    /* Resolve: the m-line's values override the session's. */
    x->lv = lv;
    if (lv.ufrag == NULL)
        x->lv.ufrag = sess->ufrag;
    if (lv.pwd == NULL)
        x->lv.pwd = sess->pwd;
    if (lv.n_fp == 0) {
        x->lv.n_fp = sess->n_fp;
        x->lv.sha256 = sess->sha256;
        x->lv.weak = sess->weak;
        memcpy(x->lv.fp, sess->fp, sizeof(x->lv.fp));
        copy_str(x->lv.other, sizeof(x->lv.other), sess->other);
    }
    if (lv.setup < 0)
        x->lv.setup = sess->setup;
    x->lv.trickle = lv.trickle || sess->trickle;
    if (!lv.direction_set) {
        x->lv.direction_set = sess->direction_set;
        x->lv.direction = sess->direction;
    }
    m->direction = x->lv.direction;
    if (m->bundle_only && m->rejected)
        m->rejected = false;

    /* An rtx payload type must name a payload type of this m-line. */
    for (unsigned i = 0; i < x->n_fmts; i++) {
        const fmt_info *f = &x->fmts[i];
        bool found = false;
        if (!f->has_rtpmap || g_ascii_strcasecmp(f->name, "rtx") != 0)
            continue;
        if (!f->has_apt)
            return sdp_set_error(err, SDP_ERR_BAD_PAYLOAD_TYPE,
                                 "%s: rtx payload type %u has no fmtp apt",
                                 where, f->pt);
        for (unsigned k = 0; k < x->n_fmts; k++)
            found = found || (k != i && x->fmts[k].pt == f->apt);
        if (!found)
            return sdp_set_error(err, SDP_ERR_BAD_PAYLOAD_TYPE,
                                 "%s: rtx payload type %u: apt=%u is not a "
                                 "payload type of the m-line",
                                 where, f->pt, f->apt);
    }
    /* An FID group pairs two SSRCs listed on this m-line. */
    if (ssrcs.has_fid) {
        bool prim = false, rtx = false;
        for (unsigned i = 0; i < ssrcs.n; i++) {
            prim = prim || ssrcs.s[i].ssrc == ssrcs.fid_primary;
            rtx = rtx || ssrcs.s[i].ssrc == ssrcs.fid_rtx;
        }
        if (!prim || !rtx || ssrcs.fid_primary == ssrcs.fid_rtx)
            return sdp_set_error(err, SDP_ERR_SYNTAX,
                                 "%s: ssrc-group FID %u %u: both SSRCs must "
                                 "be distinct a=ssrc of the m-line",
                                 where, (unsigned) ssrcs.fid_primary,
                                 (unsigned) ssrcs.fid_rtx);
        m->has_rtx_ssrc = true;
        m->rtx_ssrc = ssrcs.fid_rtx;
    }
    /* The primary SSRC: first of an FID group, else the first listed. */
    if (ssrcs.n > 0) {
        const ssrc_info *p = &ssrcs.s[0];
        for (unsigned i = 0; ssrcs.has_fid && i < ssrcs.n; i++) {
            if (ssrcs.s[i].ssrc == ssrcs.fid_primary)
                p = &ssrcs.s[i];
        }
        m->has_ssrc = true;
        m->ssrc = p->ssrc;
        copy_str(m->cname, sizeof(m->cname), p->cname);
        if (m->msid_stream[0] == '\0' && p->stream[0] != '\0') {
            copy_str(m->msid_stream, sizeof(m->msid_stream), p->stream);
            copy_str(m->msid_track, sizeof(m->msid_track), p->track);
        }
    }
    for (unsigned e = 0; e < SDP_EXT_COUNT_; e++) {
        for (unsigned id = 1; id < 256; id++) {
            if (x->ext_of_id[id] == 1 + e)
                m->ext_id[e] = (uint8_t) id;
        }
    }

    if (m->rejected)
        return SDP_OK;

    /* What every live m-line needs. */
    if (!has_mid)
        return sdp_set_error(err, SDP_ERR_BAD_MID, "%s has no a=mid", where);
    if (m->kind != SDP_MEDIA_OTHER) {
        if (strcmp(proto, PROFILE) != 0)
            return sdp_set_error(err, SDP_ERR_BAD_PROTO,
                                 "%s: protocol %.31s is not " PROFILE
                                 " (DTLS-SRTP with feedback)",
                                 where, proto);
        if (!m->rtcp_mux)
            return sdp_set_error(err, SDP_ERR_MISSING_RTCP_MUX,
                                 "%s (mid %s) has no a=rtcp-mux", where,
                                 m->mid);
    }
    if (m->bundle_only)
        return SDP_OK;
    if (x->lv.ufrag == NULL || x->lv.pwd == NULL)
        return sdp_set_error(err, SDP_ERR_MISSING_ICE,
                             "%s (mid %s) has no a=%s", where, m->mid,
                             x->lv.ufrag == NULL ? "ice-ufrag" : "ice-pwd");
    if (!x->lv.sha256) {
        if (x->lv.weak)
            return sdp_set_error(err, SDP_ERR_WEAK_FINGERPRINT,
                                 "%s (mid %s): only sha-1/md5 "
                                 "fingerprints; sha-256 is required",
                                 where, m->mid);
        if (x->lv.n_fp > 0)
            return sdp_set_error(err, SDP_ERR_MISSING_FINGERPRINT,
                                 "%s (mid %s): no sha-256 fingerprint "
                                 "(only %s)",
                                 where, m->mid, x->lv.other);
        return sdp_set_error(err, SDP_ERR_MISSING_FINGERPRINT,
                             "%s (mid %s) has no a=fingerprint", where, m->mid);
    }
    if (x->lv.setup < 0)
        return sdp_set_error(err, SDP_ERR_BAD_SETUP,
                             "%s (mid %s) has no a=setup", where, m->mid);
    return SDP_OK;
}

static sdp_status read_origin(const GstSDPMessage *msg, sdp_description *d,
                              sdp_error *err)
{
    const GstSDPOrigin *o = gst_sdp_message_get_origin(msg);
    uint64_t v;

    if (o == NULL || o->username == NULL || o->sess_id == NULL ||
        o->sess_version == NULL || o->nettype == NULL || o->addrtype == NULL ||
        o->addr == NULL)
        return sdp_set_error(err, SDP_ERR_SYNTAX, "incomplete o= line");
    if (!sdp_parse_uint(o->sess_id, strlen(o->sess_id), G_MAXUINT64, &v))
        return sdp_set_error(err, SDP_ERR_SYNTAX,
                             "o= session id is not a number");
    d->session_id = v;
    if (!sdp_parse_uint(o->sess_version, strlen(o->sess_version), G_MAXUINT64,
                        &v))
        return sdp_set_error(err, SDP_ERR_SYNTAX,
                             "o= session version is not a number");
    d->session_version = v;
    if (strcmp(o->nettype, "IN") != 0 ||
        (strcmp(o->addrtype, "IP4") != 0 && strcmp(o->addrtype, "IP6") != 0))
        return sdp_set_error(err, SDP_ERR_SYNTAX,
                             "o= line must be \"IN IP4\" or \"IN IP6\"");
    if (gst_sdp_message_get_connection(msg)->nettype != NULL &&
        !connection_ok(gst_sdp_message_get_connection(msg)))
        return sdp_set_error(err, SDP_ERR_SYNTAX,
                             "session c= line must be \"IN IP4|IP6 "
                             "<address>\"");
    if (gst_sdp_message_get_session_name(msg) == NULL)
        return sdp_set_error(err, SDP_ERR_SYNTAX, "no s= line");
    return SDP_OK;
}

/* One BUNDLE group covering every live m-line; the transport is the tag's
 * (the first mid of the group). */
static sdp_status check_bundle(const GstSDPMessage *msg, sdp_description *d,
                               media_scratch *x, sdp_error *err)
{
    const char *mids[SDP_MAX_MEDIA + 1];
    size_t mlen[SDP_MAX_MEDIA + 1], n = 0;
    bool in_group[SDP_MAX_MEDIA] = {false};
    unsigned n_live = 0, groups = 0;
    int tag = -1;

    for (guint i = 0; i < gst_sdp_message_attributes_len(msg); i++) {
        const GstSDPAttribute *a = gst_sdp_message_get_attribute(msg, i);
        if (a->key == NULL || strcmp(a->key, "group") != 0 ||
            a->value == NULL || !g_str_has_prefix(a->value, "BUNDLE"))
            continue;
        if (++groups > 1)
            return sdp_set_error(err, SDP_ERR_BUNDLE,
                                 "more than one BUNDLE group; one "
                                 "transport only");
        if (!split_spaces(a->value, mids, mlen, G_N_ELEMENTS(mids), &n) ||
            mlen[0] != 6)
            return sdp_set_error(err, SDP_ERR_BUNDLE,
                                 "bad a=group:BUNDLE line");
        for (size_t k = 1; k < n; k++) {
            int found = -1;
            for (unsigned i2 = 0; i2 < d->n_media; i2++) {
                if (strlen(d->media[i2].mid) == mlen[k] &&
                    memcmp(d->media[i2].mid, mids[k], mlen[k]) == 0)
                    found = (int) i2;
            }
            if (found < 0)
                return sdp_set_error(err, SDP_ERR_BUNDLE,
                                     "BUNDLE names mid \"%.*s\" that no "
                                     "m-line has",
                                     (int) MIN(mlen[k], 32), mids[k]);
            if (in_group[found])
                return sdp_set_error(err, SDP_ERR_BUNDLE,
                                     "BUNDLE names mid \"%.*s\" twice",
                                     (int) MIN(mlen[k], 32), mids[k]);
            if (d->media[found].rejected)
                return sdp_set_error(err, SDP_ERR_BUNDLE,
                                     "BUNDLE names rejected m-line %d", found);
            in_group[found] = true;
            if (tag < 0 && !d->media[found].bundle_only)
                tag = found;
        }
    }
    for (unsigned i = 0; i < d->n_media; i++) {
        if (d->media[i].rejected)
            continue;
        n_live++;
        if (tag < 0 && !d->media[i].bundle_only)
            tag = (int) i;
    }
    if (n_live == 0)
        return sdp_set_error(err, SDP_ERR_NO_CODEC,
                             "every m-line is rejected (port 0)");
    for (unsigned i = 0; i < d->n_media && n_live > 1; i++) {
        if (!d->media[i].rejected && !in_group[i])
            return sdp_set_error(err, SDP_ERR_BUNDLE,
                                 "m-line %u (mid %s) is not in the BUNDLE "
                                 "group; only one transport is supported",
                                 i, d->media[i].mid);
    }
    if (tag < 0)
        return sdp_set_error(err, SDP_ERR_BUNDLE,
                             "every bundled m-line is bundle-only");
    {
        const level_attrs *lv = &x[tag].lv;
        copy_str(d->ice_ufrag, sizeof(d->ice_ufrag), lv->ufrag);
        copy_str(d->ice_pwd, sizeof(d->ice_pwd), lv->pwd);
        memcpy(d->fingerprint, lv->fp, sizeof(d->fingerprint));
        d->setup = (sdp_setup) lv->setup;
        d->ice_trickle = lv->trickle;
    }
    return SDP_OK;
}

static sdp_status parse_common(sdp_description **out, media_scratch **outx,
                               const char *text, size_t len, sdp_type type,
                               sdp_error *err)
{
    GstSDPMessage *msg = NULL;
    sdp_description *d = NULL;
    media_scratch *x = NULL;
    char *copy = NULL;
    level_attrs sess;
    sdp_status st;

    if (out == NULL || text == NULL)
        return sdp_set_error(err, SDP_ERR_INVALID_ARG, "NULL argument");
    *out = NULL;
    st = prescan(text, len, err);
    if (st != SDP_OK)
        return st;

    /* GstSDP reads up to a NUL in some versions: give it one. */
    copy = g_strndup(text, len);
    gst_sdp_message_new(&msg);
    gst_sdp_message_parse_buffer((const guint8 *) copy, (guint) len, msg);

    d = g_new0(sdp_description, 1);
    d->type = type;
    x = g_new0(media_scratch, SDP_MAX_MEDIA);
    st = read_origin(msg, d, err);
    if (st != SDP_OK)
        goto done;

    level_init(&sess);
    for (guint i = 0; i < gst_sdp_message_attributes_len(msg); i++) {
        const GstSDPAttribute *a = gst_sdp_message_get_attribute(msg, i);
        bool handled = false;
        if (a->key == NULL)
            continue;
        st = read_level_attr(&sess, a->key, a->value, "session", &handled, err);
        if (st != SDP_OK)
            goto done;
        if (strcmp(a->key, "ice-lite") == 0)
            d->ice_lite = true;
    }
    d->extmap_allow_mixed = sess.allow_mixed;

    d->n_media = gst_sdp_message_medias_len(msg);
    if (d->n_media > SDP_MAX_MEDIA) {
        st = sdp_set_error(err, SDP_ERR_TOO_MANY_MEDIA, "more than %d m-lines",
                           SDP_MAX_MEDIA);
        goto done;
    }
    if (d->n_media == 0) {
        st = sdp_set_error(err, SDP_ERR_NO_CODEC, "SDP has no m-line");
        goto done;
    }
    for (unsigned i = 0; i < d->n_media; i++) {
        st = read_media(gst_sdp_message_get_media(msg, i), i, &sess,
                        &d->media[i], &x[i], err);
        if (st != SDP_OK)
            goto done;
        if (x[i].lv.allow_mixed)
            d->extmap_allow_mixed = true;
        /* mids are unique over all m-lines, rejected ones too (JSEP). */
        for (unsigned j = 0; j < i && d->media[i].mid[0] != '\0'; j++) {
            if (strcmp(d->media[i].mid, d->media[j].mid) == 0) {
                st = sdp_set_error(err, SDP_ERR_BAD_MID,
                                   "m-lines %u and %u share mid \"%s\"", j, i,
                                   d->media[i].mid);
                goto done;
            }
        }
    }
    st = check_bundle(msg, d, x, err);

done:
    gst_sdp_message_free(msg);
    g_free(copy);
    if (st != SDP_OK) {
        sdp_description_free(d);
        g_free(x);
        return st;
    }
    *out = d;
    *outx = x;
    return SDP_OK;
}

static bool is_opus(const fmt_info *f)
{
    return f->has_rtpmap && g_ascii_strcasecmp(f->name, "opus") == 0 &&
           f->clock == 48000 && f->channels == 2;
}

static bool is_vp8(const fmt_info *f)
{
    return f->has_rtpmap && g_ascii_strcasecmp(f->name, "VP8") == 0 &&
           f->clock == 90000 && f->channels == 1;
}

static const fmt_info *find_codec(const sdp_media *m, const media_scratch *x)
{
    for (unsigned i = 0; i < x->n_fmts; i++) {
        if (m->kind == SDP_MEDIA_AUDIO && is_opus(&x->fmts[i]))
            return &x->fmts[i];
        if (m->kind == SDP_MEDIA_VIDEO && is_vp8(&x->fmts[i]))
            return &x->fmts[i];
    }
    return NULL;
}

/* The RFC 4588 rtx payload type whose apt is the chosen codec, or 0. */
static uint8_t find_rtx(const sdp_media *m, const media_scratch *x)
{
    if (m->kind != SDP_MEDIA_VIDEO)
        return 0;
    for (unsigned i = 0; i < x->n_fmts; i++) {
        const fmt_info *f = &x->fmts[i];
        if (f->has_rtpmap && g_ascii_strcasecmp(f->name, "rtx") == 0 &&
            f->clock == m->clock_rate && f->has_apt && f->apt == m->pt)
            return f->pt;
    }
    return 0;
}

static void take_codec(sdp_media *m, const fmt_info *f)
{
    m->pt = f->pt;
    m->clock_rate = f->clock;
    m->channels = m->kind == SDP_MEDIA_AUDIO ? f->channels : 0;
    m->opus_minptime = f->minptime;
    m->opus_useinbandfec = f->fec;
    m->rtcp_fb = f->fb & SDP_FB_ALL;
}

sdp_status sdp_parse_offer(sdp_description **out, const char *text, size_t len,
                           sdp_error *err)
{
    sdp_description *d = NULL;
    media_scratch *x = NULL;
    bool have[2] = {false, false};
    sdp_status st;

    st = parse_common(&d, &x, text, len, SDP_TYPE_OFFER, err);
    if (st != SDP_OK)
        return st;
    for (unsigned i = 0; i < d->n_media; i++) {
        sdp_media *m = &d->media[i];
        const fmt_info *f;
        if (m->rejected)
            continue;
        if (m->kind == SDP_MEDIA_OTHER || have[m->kind]) {
            m->rejected = true;
            continue;
        }
        f = find_codec(m, &x[i]);
        if (f == NULL) {
            m->rejected = true;
            continue;
        }
        take_codec(m, f);
        m->rtx_pt = find_rtx(m, &x[i]);
        have[m->kind] = true;
    }
    g_free(x);
    if (!have[SDP_MEDIA_AUDIO] && !have[SDP_MEDIA_VIDEO]) {
        sdp_description_free(d);
        return sdp_set_error(err, SDP_ERR_NO_CODEC,
                             "offer has no usable codec: need opus/48000/2 "
                             "audio or VP8/90000 video");
    }
    *out = d;
    return SDP_OK;
}

static bool dir_sends(sdp_direction d)
{
    return d == SDP_DIR_SENDRECV || d == SDP_DIR_SENDONLY;
}

static bool dir_recvs(sdp_direction d)
{
    return d == SDP_DIR_SENDRECV || d == SDP_DIR_RECVONLY;
}

static sdp_direction dir_make(bool send, bool recv)
{
    if (send && recv)
        return SDP_DIR_SENDRECV;
    if (send)
        return SDP_DIR_SENDONLY;
    if (recv)
        return SDP_DIR_RECVONLY;
    return SDP_DIR_INACTIVE;
}

sdp_status sdp_parse_answer(sdp_description **out, const char *text, size_t len,
                            const sdp_description *ours, sdp_error *err)
{
    sdp_description *d = NULL;
    media_scratch *x = NULL;
    sdp_status st;
    unsigned live = 0;

    if (ours == NULL)
        return sdp_set_error(err, SDP_ERR_INVALID_ARG, "NULL offer");
    st = parse_common(&d, &x, text, len, SDP_TYPE_ANSWER, err);
    if (st != SDP_OK)
        return st;
#define MISMATCH(...)                                                          \
    do {                                                                       \
        st = sdp_set_error(err, SDP_ERR_ANSWER_MISMATCH, __VA_ARGS__);         \
        goto done;                                                             \
    } while (0)

    if (d->setup == SDP_SETUP_ACTPASS) {
        st = sdp_set_error(err, SDP_ERR_BAD_SETUP,
                           "an answer must say a=setup:active or passive, "
                           "not actpass");
        goto done;
    }
    if (d->n_media != ours->n_media)
        MISMATCH("answer has %u m-lines, our offer %u", d->n_media,
                 ours->n_media);
    for (unsigned i = 0; i < d->n_media; i++) {
        sdp_media *m = &d->media[i];
        const sdp_media *o = &ours->media[i];
        const fmt_info *f = NULL;

        if (m->kind != o->kind || strcmp(m->media, o->media) != 0)
            MISMATCH("m-line %u is %s in the answer, %s in our offer", i,
                     m->media, o->media);
        if (m->rejected)
            continue;
        if (o->rejected)
            MISMATCH("m-line %u: answer accepts what we rejected", i);
        if (strcmp(m->mid, o->mid) != 0)
            MISMATCH("m-line %u: answer mid \"%s\", offer mid \"%s\"", i,
                     m->mid, o->mid);
        for (unsigned k = 0; k < x[i].n_fmts; k++) {
            if (x[i].fmts[k].pt == o->pt)
                f = &x[i].fmts[k];
            else if (o->rtx_pt == 0 || x[i].fmts[k].pt != o->rtx_pt)
                MISMATCH("m-line %u: answer uses payload type %u that we "
                         "did not offer",
                         i, x[i].fmts[k].pt);
        }
        if (f == NULL || find_codec(m, &x[i]) != f)
            MISMATCH("m-line %u: answer lacks %s", i,
                     m->kind == SDP_MEDIA_AUDIO ? "opus/48000/2" : "VP8/90000");
        take_codec(m, f);
        m->rtx_pt = find_rtx(m, &x[i]);
        m->rtcp_fb &= o->rtcp_fb;
        m->rtcp_rsize = m->rtcp_rsize && o->rtcp_rsize;
        for (unsigned id = 1; id < 256; id++) {
            uint8_t e = x[i].ext_of_id[id];
            if (e == 0)
                continue;
            if (e == 255 || o->ext_id[e - 1] != id) {
                bool ours_id = false;
                for (unsigned k = 0; k < SDP_EXT_COUNT_; k++)
                    ours_id = ours_id || o->ext_id[k] == id;
                if (e != 255 || ours_id)
                    MISMATCH("m-line %u: answer maps extension id %u "
                             "differently from our offer",
                             i, id);
            }
        }
        if ((dir_sends(m->direction) && !dir_recvs(o->direction)) ||
            (dir_recvs(m->direction) && !dir_sends(o->direction)))
            MISMATCH("m-line %u: answer direction %s does not fit our %s", i,
                     dir_names[m->direction], dir_names[o->direction]);
        live++;
    }
    if (live == 0)
        st =
            sdp_set_error(err, SDP_ERR_NO_CODEC, "answer rejects every m-line");
#undef MISMATCH
done:
    g_free(x);
    if (st != SDP_OK) {
        sdp_description_free(d);
        return st;
    }
    *out = d;
    return SDP_OK;
}

/* ------------------------------------------------------------------ */
/* building                                                            */

static uint64_t random_session_id(void)
{
    uint64_t v = 0;
    while (v == 0)
        v = ((uint64_t) g_random_int() << 32 | g_random_int()) >> 1;
    return v;
}

static bool pt_ok(unsigned pt)
{
    return pt <= 127 && (pt < 64 || pt > 95);
}

static sdp_status check_local(const sdp_local *l, sdp_error *err)
{
    static const uint8_t zero[SDP_FINGERPRINT_LEN] = {0};

#define BAD(...) return sdp_set_error(err, SDP_ERR_INVALID_ARG, __VA_ARGS__)
    if (l == NULL)
        BAD("NULL local parameters");
    if (l->version != SDP_LOCAL_VERSION)
        BAD("sdp_local version %u, expected %d", l->version, SDP_LOCAL_VERSION);
    if (!sdp_ice_chars_ok(l->ice_ufrag,
                          strnlen(l->ice_ufrag, sizeof(l->ice_ufrag)),
                          SDP_MIN_UFRAG, SDP_MAX_UFRAG))
        BAD("ice_ufrag must be 4..256 of A-Z a-z 0-9 + /");
    if (!sdp_ice_chars_ok(l->ice_pwd, strnlen(l->ice_pwd, sizeof(l->ice_pwd)),
                          SDP_MIN_PWD, SDP_MAX_PWD))
        BAD("ice_pwd must be 22..256 of A-Z a-z 0-9 + /");
    if (memcmp(l->fingerprint, zero, sizeof(zero)) == 0)
        BAD("fingerprint is all zero");
    if (!l->audio && !l->video)
        BAD("neither audio nor video");
    if ((unsigned) l->audio_direction > SDP_DIR_INACTIVE ||
        (unsigned) l->video_direction > SDP_DIR_INACTIVE)
        BAD("bad direction");
    if ((l->audio && dir_sends(l->audio_direction) && l->audio_ssrc == 0) ||
        (l->video && dir_sends(l->video_direction) && l->video_ssrc == 0))
        BAD("an SSRC is needed for each sending m-line");
    if (l->audio && l->video && l->audio_ssrc != 0 &&
        l->audio_ssrc == l->video_ssrc)
        BAD("audio and video SSRC are equal");
    if (((l->audio && dir_sends(l->audio_direction)) ||
         (l->video && dir_sends(l->video_direction))) &&
        !visible_ok(l->cname, strnlen(l->cname, sizeof(l->cname)),
                    SDP_MAX_CNAME))
        BAD("cname must be 1..255 visible characters");
    if ((l->stream_id[0] != '\0' &&
         !token_ok(l->stream_id, strnlen(l->stream_id, sizeof(l->stream_id)),
                   SDP_MAX_TOKEN)) ||
        (l->audio_track[0] != '\0' &&
         !token_ok(l->audio_track,
                   strnlen(l->audio_track, sizeof(l->audio_track)),
                   SDP_MAX_TOKEN)) ||
        (l->video_track[0] != '\0' &&
         !token_ok(l->video_track,
                   strnlen(l->video_track, sizeof(l->video_track)),
                   SDP_MAX_TOKEN)))
        BAD("msid stream and track ids must be 1..64 token characters");
    if ((l->opus_pt != 0 && !pt_ok(l->opus_pt)) ||
        (l->vp8_pt != 0 && !pt_ok(l->vp8_pt)) ||
        (l->rtx_pt != 0 && !pt_ok(l->rtx_pt)))
        BAD("payload types must be 0..63 or 96..127");
    if (l->video_rtx &&
        (l->rtx_pt != 0 ? l->rtx_pt : 97) == (l->vp8_pt != 0 ? l->vp8_pt : 96))
        BAD("rtx payload type equals the VP8 payload type");
    if (l->video_rtx && dir_sends(l->video_direction) &&
        (l->video_rtx_ssrc == 0 || l->video_rtx_ssrc == l->video_ssrc ||
         l->video_rtx_ssrc == l->audio_ssrc))
        BAD("video_rtx_ssrc must be set and differ from the other SSRCs");
#undef BAD
    return SDP_OK;
}

static void fill_source(sdp_media *m, const sdp_local *l)
{
    bool audio = m->kind == SDP_MEDIA_AUDIO;
    const char *track = audio ? l->audio_track : l->video_track;

    if (!dir_sends(m->direction))
        return;
    m->has_ssrc = true;
    m->ssrc = audio ? l->audio_ssrc : l->video_ssrc;
    if (!audio && m->rtx_pt != 0) {
        m->has_rtx_ssrc = true;
        m->rtx_ssrc = l->video_rtx_ssrc;
    }
    copy_str(m->cname, sizeof(m->cname), l->cname);
    copy_str(m->msid_stream, sizeof(m->msid_stream),
             l->stream_id[0] != '\0' ? l->stream_id : "-");
    copy_str(m->msid_track, sizeof(m->msid_track),
             track[0] != '\0' ? track : (audio ? "audio" : "video"));
}

static void fill_transport(sdp_description *d, const sdp_local *l)
{
    copy_str(d->ice_ufrag, sizeof(d->ice_ufrag), l->ice_ufrag);
    copy_str(d->ice_pwd, sizeof(d->ice_pwd), l->ice_pwd);
    memcpy(d->fingerprint, l->fingerprint, sizeof(d->fingerprint));
    d->ice_trickle = true;
    d->session_id = l->session_id != 0 ? l->session_id : random_session_id();
    d->session_version = 1;
}

sdp_status sdp_offer_new(sdp_description **out, const sdp_local *l,
                         sdp_error *err)
{
    sdp_description *d;
    sdp_status st;

    if (out == NULL)
        return sdp_set_error(err, SDP_ERR_INVALID_ARG, "NULL out");
    *out = NULL;
    st = check_local(l, err);
    if (st != SDP_OK)
        return st;
    d = g_new0(sdp_description, 1);
    d->type = SDP_TYPE_OFFER;
    d->setup = SDP_SETUP_ACTPASS;
    fill_transport(d, l);
    for (int k = 0; k < 2; k++) {
        bool audio = k == 0;
        sdp_media *m;
        if (!(audio ? l->audio : l->video))
            continue;
        m = &d->media[d->n_media];
        m->kind = audio ? SDP_MEDIA_AUDIO : SDP_MEDIA_VIDEO;
        copy_str(m->media, sizeof(m->media), audio ? "audio" : "video");
        copy_str(m->proto, sizeof(m->proto), PROFILE);
        g_snprintf(m->mid, sizeof(m->mid), "%u", d->n_media);
        m->direction = audio ? l->audio_direction : l->video_direction;
        if (audio) {
            m->pt = l->opus_pt != 0 ? l->opus_pt : 111;
            m->clock_rate = 48000;
            m->channels = 2;
            m->opus_minptime = 10;
            m->opus_useinbandfec = true;
            m->rtcp_fb = SDP_FB_TRANSPORT_CC;
        } else {
            m->pt = l->vp8_pt != 0 ? l->vp8_pt : 96;
            m->clock_rate = 90000;
            if (l->video_rtx)
                m->rtx_pt = l->rtx_pt != 0 ? l->rtx_pt : 97;
            m->rtcp_fb = SDP_FB_ALL;
        }
        g_snprintf(m->first_fmt, sizeof(m->first_fmt), "%u", m->pt);
        m->rtcp_mux = true;
        m->rtcp_rsize = true;
        m->ext_id[SDP_EXT_MID] = 1;
        m->ext_id[SDP_EXT_ABS_SEND_TIME] = 2;
        m->ext_id[SDP_EXT_TWCC] = 3;
        fill_source(m, l);
        d->n_media++;
    }
    *out = d;
    return SDP_OK;
}

sdp_status sdp_answer_new(sdp_description **out, const sdp_description *off,
                          const sdp_local *l, sdp_error *err)
{
    sdp_description *d;
    sdp_status st;
    unsigned live = 0;

    if (out == NULL || off == NULL)
        return sdp_set_error(err, SDP_ERR_INVALID_ARG, "NULL argument");
    *out = NULL;
    if (off->type != SDP_TYPE_OFFER || off->n_media > SDP_MAX_MEDIA)
        return sdp_set_error(err, SDP_ERR_INVALID_ARG, "not an offer");
    st = check_local(l, err);
    if (st != SDP_OK)
        return st;
    d = g_new0(sdp_description, 1);
    d->type = SDP_TYPE_ANSWER;
    d->setup =
        off->setup == SDP_SETUP_ACTIVE ? SDP_SETUP_PASSIVE : SDP_SETUP_ACTIVE;
    d->extmap_allow_mixed = off->extmap_allow_mixed;
    fill_transport(d, l);
    d->n_media = off->n_media;
    for (unsigned i = 0; i < off->n_media; i++) {
        const sdp_media *o = &off->media[i];
        sdp_media *m = &d->media[i];
        bool audio = o->kind == SDP_MEDIA_AUDIO;
        sdp_direction want;

        m->kind = o->kind;
        copy_str(m->media, sizeof(m->media), o->media);
        copy_str(m->proto, sizeof(m->proto), o->proto);
        copy_str(m->first_fmt, sizeof(m->first_fmt), o->first_fmt);
        copy_str(m->mid, sizeof(m->mid), o->mid);
        m->rejected = o->rejected || o->kind == SDP_MEDIA_OTHER ||
                      !(audio ? l->audio : l->video);
        if (m->rejected)
            continue;
        want = audio ? l->audio_direction : l->video_direction;
        m->direction = dir_make(dir_sends(want) && dir_recvs(o->direction),
                                dir_recvs(want) && dir_sends(o->direction));
        m->pt = o->pt;
        m->clock_rate = o->clock_rate;
        m->channels = o->channels;
        m->rtx_pt = !audio && l->video_rtx ? o->rtx_pt : 0;
        if (audio) {
            m->opus_minptime = 10;
            m->opus_useinbandfec = true;
        }
        g_snprintf(m->first_fmt, sizeof(m->first_fmt), "%u", m->pt);
        m->rtcp_fb = o->rtcp_fb & SDP_FB_ALL;
        m->rtcp_mux = true;
        m->rtcp_rsize = o->rtcp_rsize;
        memcpy(m->ext_id, o->ext_id, sizeof(m->ext_id));
        fill_source(m, l);
        live++;
    }
    if (live == 0) {
        sdp_description_free(d);
        return sdp_set_error(err, SDP_ERR_NO_CODEC,
                             "nothing in the offer that we can answer");
    }
    *out = d;
    return SDP_OK;
}

static void add_attr(GstSDPMedia *m, const char *key, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

static void add_attr(GstSDPMedia *m, const char *key, const char *fmt, ...)
{
    va_list ap;
    char *v;

    va_start(ap, fmt);
    v = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    gst_sdp_media_add_attribute(m, key, v);
    g_free(v);
}

static sdp_status check_description(const sdp_description *d, sdp_error *err)
{
#define BAD(...) return sdp_set_error(err, SDP_ERR_INVALID_ARG, __VA_ARGS__)
    if (d->n_media == 0 || d->n_media > SDP_MAX_MEDIA)
        BAD("1..%d m-lines needed", SDP_MAX_MEDIA);
    if (!sdp_ice_chars_ok(d->ice_ufrag,
                          strnlen(d->ice_ufrag, sizeof(d->ice_ufrag)),
                          SDP_MIN_UFRAG, SDP_MAX_UFRAG) ||
        !sdp_ice_chars_ok(d->ice_pwd, strnlen(d->ice_pwd, sizeof(d->ice_pwd)),
                          SDP_MIN_PWD, SDP_MAX_PWD))
        BAD("bad ICE credentials");
    if ((unsigned) d->setup > SDP_SETUP_PASSIVE ||
        (d->type == SDP_TYPE_ANSWER && d->setup == SDP_SETUP_ACTPASS))
        BAD("bad setup role");
    for (unsigned i = 0; i < d->n_media; i++) {
        const sdp_media *m = &d->media[i];
        if (!token_ok(m->media, strnlen(m->media, sizeof(m->media)), 15) ||
            !proto_ok(m->proto, strnlen(m->proto, sizeof(m->proto))) ||
            !token_ok(m->first_fmt, strnlen(m->first_fmt, sizeof(m->first_fmt)),
                      32))
            BAD("m-line %u: bad media, proto or format", i);
        if (m->mid[0] != '\0' &&
            !token_ok(m->mid, strnlen(m->mid, sizeof(m->mid)), SDP_MAX_MID))
            BAD("m-line %u: bad mid", i);
        if (m->rejected)
            continue;
        if (m->kind == SDP_MEDIA_OTHER || m->mid[0] == '\0' || !pt_ok(m->pt) ||
            (unsigned) m->direction > SDP_DIR_INACTIVE ||
            m->n_candidates > SDP_MAX_CANDIDATES ||
            (m->rtx_pt != 0 && (m->kind != SDP_MEDIA_VIDEO ||
                                !pt_ok(m->rtx_pt) || m->rtx_pt == m->pt)) ||
            (m->has_rtx_ssrc &&
             (!m->has_ssrc || m->rtx_pt == 0 || m->rtx_ssrc == m->ssrc)))
            BAD("m-line %u: bad kind, mid, payload type, direction or "
                "candidates",
                i);
        for (unsigned e = 0; e < SDP_EXT_COUNT_; e++) {
            if (m->ext_id[e] == 15 ||
                (m->ext_id[e] > MAX_EXT_ONE_BYTE && !d->extmap_allow_mixed))
                BAD("m-line %u: bad extension id", i);
        }
        if (m->has_ssrc &&
            (!visible_ok(m->cname, strnlen(m->cname, sizeof(m->cname)),
                         SDP_MAX_CNAME) ||
             !token_ok(m->msid_stream,
                       strnlen(m->msid_stream, sizeof(m->msid_stream)),
                       SDP_MAX_TOKEN) ||
             !token_ok(m->msid_track,
                       strnlen(m->msid_track, sizeof(m->msid_track)),
                       SDP_MAX_TOKEN)))
            BAD("m-line %u: bad cname or msid", i);
    }
#undef BAD
    return SDP_OK;
}

static void write_media(GstSDPMessage *msg, const sdp_description *d,
                        const sdp_media *m, const char *fp)
{
    GstSDPMedia gm;
    static const char *const fb_text[] = {"nack", "nack pli", "ccm fir",
                                          "goog-remb", "transport-cc"};

    memset(&gm, 0, sizeof(gm)); /* init frees what it finds */
    gst_sdp_media_init(&gm);
    gst_sdp_media_set_media(&gm, m->media);
    gst_sdp_media_set_proto(&gm, m->proto);
    if (m->rejected) {
        gst_sdp_media_set_port_info(&gm, 0, 0);
        gst_sdp_media_add_format(&gm, m->first_fmt);
        gst_sdp_media_add_connection(&gm, "IN", "IP4", "0.0.0.0", 0, 0);
        if (m->mid[0] != '\0')
            gst_sdp_media_add_attribute(&gm, "mid", m->mid);
        gst_sdp_message_add_media(msg, &gm);
        return;
    }
    gst_sdp_media_set_port_info(&gm, 9, 0);
    {
        char pt[8];
        g_snprintf(pt, sizeof(pt), "%u", m->pt);
        gst_sdp_media_add_format(&gm, pt);
        if (m->rtx_pt != 0) {
            g_snprintf(pt, sizeof(pt), "%u", m->rtx_pt);
            gst_sdp_media_add_format(&gm, pt);
        }
    }
    gst_sdp_media_add_connection(&gm, "IN", "IP4", "0.0.0.0", 0, 0);
    gst_sdp_media_add_attribute(&gm, "ice-ufrag", d->ice_ufrag);
    gst_sdp_media_add_attribute(&gm, "ice-pwd", d->ice_pwd);
    if (d->ice_trickle)
        gst_sdp_media_add_attribute(&gm, "ice-options", "trickle");
    gst_sdp_media_add_attribute(&gm, "fingerprint", fp);
    gst_sdp_media_add_attribute(&gm, "setup", setup_names[d->setup]);
    gst_sdp_media_add_attribute(&gm, "mid", m->mid);
    for (unsigned e = 0; e < SDP_EXT_COUNT_; e++) {
        if (m->ext_id[e] != 0)
            add_attr(&gm, "extmap", "%u %s", m->ext_id[e], ext_uris[e]);
    }
    gst_sdp_media_add_attribute(&gm, dir_names[m->direction], NULL);
    if (m->has_ssrc)
        add_attr(&gm, "msid", "%s %s", m->msid_stream, m->msid_track);
    gst_sdp_media_add_attribute(&gm, "rtcp-mux", NULL);
    if (m->rtcp_rsize)
        gst_sdp_media_add_attribute(&gm, "rtcp-rsize", NULL);
    if (m->kind == SDP_MEDIA_AUDIO)
        add_attr(&gm, "rtpmap", "%u opus/%u/%u", m->pt, m->clock_rate,
                 m->channels);
    else
        add_attr(&gm, "rtpmap", "%u VP8/%u", m->pt, m->clock_rate);
    for (unsigned b = 0; b < G_N_ELEMENTS(fb_text); b++) {
        if (m->rtcp_fb & (1u << b))
            add_attr(&gm, "rtcp-fb", "%u %s", m->pt, fb_text[b]);
    }
    if (m->kind == SDP_MEDIA_AUDIO &&
        (m->opus_minptime != 0 || m->opus_useinbandfec)) {
        GString *s = g_string_new(NULL);
        if (m->opus_minptime != 0)
            g_string_append_printf(s, "minptime=%u", m->opus_minptime);
        if (m->opus_useinbandfec)
            g_string_append_printf(s, "%suseinbandfec=1",
                                   s->len > 0 ? ";" : "");
        add_attr(&gm, "fmtp", "%u %s", m->pt, s->str);
        g_string_free(s, TRUE);
    }
    if (m->rtx_pt != 0) {
        add_attr(&gm, "rtpmap", "%u rtx/%u", m->rtx_pt, m->clock_rate);
        add_attr(&gm, "fmtp", "%u apt=%u", m->rtx_pt, m->pt);
    }
    if (m->has_rtx_ssrc)
        add_attr(&gm, "ssrc-group", "FID %u %u", (unsigned) m->ssrc,
                 (unsigned) m->rtx_ssrc);
    if (m->has_ssrc) {
        add_attr(&gm, "ssrc", "%u cname:%s", (unsigned) m->ssrc, m->cname);
        add_attr(&gm, "ssrc", "%u msid:%s %s", (unsigned) m->ssrc,
                 m->msid_stream, m->msid_track);
    }
    if (m->has_rtx_ssrc) {
        add_attr(&gm, "ssrc", "%u cname:%s", (unsigned) m->rtx_ssrc, m->cname);
        add_attr(&gm, "ssrc", "%u msid:%s %s", (unsigned) m->rtx_ssrc,
                 m->msid_stream, m->msid_track);
    }
    for (unsigned c = 0; c < m->n_candidates; c++) {
        char buf[SDP_MAX_CANDIDATE_LEN + 1];
        if (sdp_candidate_format(&m->candidates[c], buf, sizeof(buf)) > 0)
            gst_sdp_media_add_attribute(&gm, "candidate", buf + 10);
    }
    if (m->end_of_candidates)
        gst_sdp_media_add_attribute(&gm, "end-of-candidates", NULL);
    gst_sdp_message_add_media(msg, &gm);
}

sdp_status sdp_format(const sdp_description *d, char **out, sdp_error *err)
{
    GstSDPMessage *msg = NULL;
    char fp[8 + SDP_FINGERPRINT_LEN * 3];
    char id[24], ver[24];
    GString *group;
    sdp_status st;

    if (d == NULL || out == NULL)
        return sdp_set_error(err, SDP_ERR_INVALID_ARG, "NULL argument");
    *out = NULL;
    st = check_description(d, err);
    if (st != SDP_OK)
        return st;
    sdp_fingerprint_format(d->fingerprint, fp);
    g_snprintf(id, sizeof(id), "%" G_GUINT64_FORMAT, d->session_id);
    g_snprintf(ver, sizeof(ver), "%" G_GUINT64_FORMAT, d->session_version);

    gst_sdp_message_new(&msg);
    gst_sdp_message_set_version(msg, "0");
    gst_sdp_message_set_origin(msg, "-", id, ver, "IN", "IP4", "127.0.0.1");
    gst_sdp_message_set_session_name(msg, "-");
    gst_sdp_message_add_time(msg, "0", "0", NULL);
    group = g_string_new("BUNDLE");
    for (unsigned i = 0; i < d->n_media; i++) {
        if (!d->media[i].rejected)
            g_string_append_printf(group, " %s", d->media[i].mid);
    }
    gst_sdp_message_add_attribute(msg, "group", group->str);
    g_string_free(group, TRUE);
    if (d->extmap_allow_mixed)
        gst_sdp_message_add_attribute(msg, "extmap-allow-mixed", NULL);
    gst_sdp_message_add_attribute(msg, "msid-semantic", "WMS *");
    for (unsigned i = 0; i < d->n_media; i++)
        write_media(msg, d, &d->media[i], fp);
    *out = gst_sdp_message_as_text(msg);
    gst_sdp_message_free(msg);
    return SDP_OK;
}
