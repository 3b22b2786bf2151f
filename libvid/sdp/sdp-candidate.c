/*
 * sdp-candidate.c — one ICE candidate attribute, RFC 8839 section 5.1 with
 * RFC 6544 tcptype, parsed strictly and written canonically.
 */
#include "sdp-private.h"

#include <arpa/inet.h>
#include <string.h>

#define MAX_TOKENS 40
#define MAX_UNKNOWN_EXT 8
#define MAX_EXT_NAME 32
#define MAX_EXT_VALUE 256

static const char *const type_names[] = {"host", "srflx", "prflx", "relay"};
static const char *const tcptype_names[] = {"", "active", "passive", "so"};

bool sdp_is_ice_char(char c)
{
    return g_ascii_isalnum(c) || c == '+' || c == '/';
}

bool sdp_ice_chars_ok(const char *s, size_t len, size_t min, size_t max)
{
    if (len < min || len > max)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!sdp_is_ice_char(s[i]))
            return false;
    }
    return true;
}

bool sdp_parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (len == 0 || len > 20)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned) (s[i] - '0');
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* A DNS name (mDNS "<uuid>.local" from browsers): letters, digits and
 * hyphens in dot-separated labels of 1..63, not all digits and dots. */
static bool hostname_ok(const char *s, size_t len)
{
    size_t label = 0;
    bool alpha = false;

    if (len == 0 || len > SDP_MAX_ADDRESS)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return false;
            label = 0;
            continue;
        }
        if (!g_ascii_isalnum(c) && c != '-')
            return false;
        if (c == '-' && label == 0)
            return false;
        if (g_ascii_isalpha(c))
            alpha = true;
        if (++label > 63)
            return false;
    }
    return label > 0 && s[len - 1] != '-' && alpha;
}

/* IPv4 or IPv6 literal (no zone id), or a host name. */
static bool address_ok(const char *s, size_t len, char *out, bool *is_ip)
{
    char tmp[SDP_MAX_ADDRESS + 1];
    unsigned char bin[16];

    if (len == 0 || len > SDP_MAX_ADDRESS)
        return false;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    if (inet_pton(AF_INET, tmp, bin) == 1 ||
        inet_pton(AF_INET6, tmp, bin) == 1) {
        *is_ip = true;
    } else if (hostname_ok(tmp, len)) {
        *is_ip = false;
    } else {
        return false;
    }
    memcpy(out, tmp, len + 1);
    return true;
}

typedef struct {
    const char *s;
    size_t len;
} token;

static bool tok_is(token t, const char *lit)
{
    size_t n = strlen(lit);
    return t.len == n && memcmp(t.s, lit, n) == 0;
}

static bool tok_is_ci(token t, const char *lit)
{
    size_t n = strlen(lit);
    return t.len == n && g_ascii_strncasecmp(t.s, lit, n) == 0;
}

static bool visible_ok(token t, size_t max)
{
    if (t.len == 0 || t.len > max)
        return false;
    for (size_t i = 0; i < t.len; i++) {
        if (t.s[i] < 0x21 || t.s[i] > 0x7e)
            return false;
    }
    return true;
}

static bool ext_name_ok(token t)
{
    if (t.len == 0 || t.len > MAX_EXT_NAME)
        return false;
    for (size_t i = 0; i < t.len; i++) {
        if (!g_ascii_isalnum(t.s[i]) && t.s[i] != '-')
            return false;
    }
    return true;
}

#define FAIL(...) return sdp_set_error(err, SDP_ERR_BAD_CANDIDATE, __VA_ARGS__)

sdp_status sdp_candidate_parse(sdp_candidate *out, const char *text, size_t len,
                               sdp_error *err)
{
    token tok[MAX_TOKENS];
    size_t n = 0;
    uint64_t v = 0;

    if (out == NULL || text == NULL)
        return sdp_set_error(err, SDP_ERR_INVALID_ARG, "NULL argument");
    memset(out, 0, sizeof(*out));
    if (len > SDP_MAX_CANDIDATE_LEN)
        FAIL("candidate is %zu bytes, limit %d", len, SDP_MAX_CANDIDATE_LEN);
    if (len >= 2 && memcmp(text, "a=", 2) == 0) {
        text += 2;
        len -= 2;
    }
    if (len < 10 || memcmp(text, "candidate:", 10) != 0)
        FAIL("candidate does not start with \"candidate:\"");
    text += 10;
    len -= 10;

    /* Split on single spaces; no empty tokens, no other white space. */
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && text[i] != ' ') {
            if ((unsigned char) text[i] < 0x21 ||
                (unsigned char) text[i] > 0x7e)
                FAIL("candidate has a control or non-ASCII byte at %zu", i);
            continue;
        }
        if (i == start)
            FAIL("candidate has an empty field at byte %zu", i);
        if (n == MAX_TOKENS)
            FAIL("candidate has more than %d fields", MAX_TOKENS);
        tok[n].s = text + start;
        tok[n].len = i - start;
        n++;
        start = i + 1;
    }
    if (n < 8)
        FAIL("candidate has %zu fields, needs at least 8", n);

    if (!sdp_ice_chars_ok(tok[0].s, tok[0].len, 1, SDP_MAX_FOUNDATION))
        FAIL("bad foundation (1..32 of A-Z a-z 0-9 + /)");
    memcpy(out->foundation, tok[0].s, tok[0].len);

    if (tok[1].len > 3 || !sdp_parse_uint(tok[1].s, tok[1].len, 256, &v) ||
        v < 1)
        FAIL("bad component id \"%.*s\" (1..256)", (int) MIN(tok[1].len, 16),
             tok[1].s);
    out->component = (unsigned) v;

    if (tok_is_ci(tok[2], "udp")) {
        out->tcp = false;
    } else if (tok_is_ci(tok[2], "tcp")) {
        out->tcp = true;
    } else {
        FAIL("bad transport \"%.*s\" (UDP or TCP)", (int) MIN(tok[2].len, 16),
             tok[2].s);
    }

    if (tok[3].len > 10 ||
        !sdp_parse_uint(tok[3].s, tok[3].len, G_MAXINT32, &v) || v < 1)
        FAIL("bad priority \"%.*s\" (1..2^31-1)", (int) MIN(tok[3].len, 16),
             tok[3].s);
    out->priority = (uint32_t) v;

    if (!address_ok(tok[4].s, tok[4].len, out->address, &out->address_is_ip))
        FAIL("bad connection address \"%.*s\"", (int) MIN(tok[4].len, 64),
             tok[4].s);

    if (tok[5].len > 5 || !sdp_parse_uint(tok[5].s, tok[5].len, 65535, &v))
        FAIL("bad port \"%.*s\"", (int) MIN(tok[5].len, 16), tok[5].s);
    out->port = (uint16_t) v;

    if (!tok_is(tok[6], "typ"))
        FAIL("expected \"typ\", got \"%.*s\"", (int) MIN(tok[6].len, 16),
             tok[6].s);
    bool found = false;
    for (unsigned t = 0; t < G_N_ELEMENTS(type_names); t++) {
        if (tok_is(tok[7], type_names[t])) {
            out->type = (sdp_candidate_type) t;
            found = true;
        }
    }
    if (!found)
        FAIL("bad candidate type \"%.*s\" (host, srflx, prflx, relay)",
             (int) MIN(tok[7].len, 16), tok[7].s);

    size_t i = 8;
    if (i < n && tok_is(tok[i], "raddr")) {
        if (i + 3 >= n || !tok_is(tok[i + 2], "rport"))
            FAIL("\"raddr\" must be followed by an address and \"rport\"");
        if (!address_ok(tok[i + 1].s, tok[i + 1].len, out->related_address,
                        &(bool){false}))
            FAIL("bad raddr \"%.*s\"", (int) MIN(tok[i + 1].len, 64),
                 tok[i + 1].s);
        if (tok[i + 3].len > 5 ||
            !sdp_parse_uint(tok[i + 3].s, tok[i + 3].len, 65535, &v))
            FAIL("bad rport \"%.*s\"", (int) MIN(tok[i + 3].len, 16),
                 tok[i + 3].s);
        out->related_port = (uint16_t) v;
        out->has_related = true;
        i += 4;
    }

    bool seen_tcptype = false, seen_ufrag = false;
    unsigned unknown = 0;
    for (; i < n; i += 2) {
        if (i + 1 >= n)
            FAIL("extension \"%.*s\" has no value", (int) MIN(tok[i].len, 32),
                 tok[i].s);
        token name = tok[i], val = tok[i + 1];
        if (tok_is(name, "raddr") || tok_is(name, "rport")) {
            FAIL("\"raddr rport\" must follow the candidate type directly");
        } else if (tok_is(name, "tcptype")) {
            if (seen_tcptype)
                FAIL("tcptype given twice");
            seen_tcptype = true;
            for (unsigned t = 1; t < G_N_ELEMENTS(tcptype_names); t++) {
                if (tok_is(val, tcptype_names[t]))
                    out->tcptype = (sdp_tcptype) t;
            }
            if (out->tcptype == SDP_TCPTYPE_NONE)
                FAIL("bad tcptype \"%.*s\" (active, passive, so)",
                     (int) MIN(val.len, 16), val.s);
        } else if (tok_is(name, "generation")) {
            if (out->has_generation)
                FAIL("generation given twice");
            if (val.len > 10 ||
                !sdp_parse_uint(val.s, val.len, G_MAXUINT32, &v))
                FAIL("bad generation \"%.*s\"", (int) MIN(val.len, 16), val.s);
            out->generation = (uint32_t) v;
            out->has_generation = true;
        } else if (tok_is(name, "ufrag")) {
            if (seen_ufrag)
                FAIL("ufrag given twice");
            seen_ufrag = true;
            if (!sdp_ice_chars_ok(val.s, val.len, SDP_MIN_UFRAG, SDP_MAX_UFRAG))
                FAIL("bad ufrag extension (4..256 ice-char)");
            memcpy(out->ufrag, val.s, val.len);
            out->ufrag[val.len] = '\0';
        } else {
            if (!ext_name_ok(name) || !visible_ok(val, MAX_EXT_VALUE))
                FAIL("bad extension attribute \"%.*s\"",
                     (int) MIN(name.len, 32), name.s);
            if (++unknown > MAX_UNKNOWN_EXT)
                FAIL("more than %d unknown extension attributes",
                     MAX_UNKNOWN_EXT);
        }
    }

    if (out->tcp && out->tcptype == SDP_TCPTYPE_NONE)
        FAIL("TCP candidate without tcptype (RFC 6544)");
    if (!out->tcp && seen_tcptype)
        FAIL("UDP candidate with tcptype");
    if (out->port == 0 && !(out->tcp && out->tcptype == SDP_TCPTYPE_ACTIVE))
        FAIL("port 0 is only allowed for TCP active candidates");
    return SDP_OK;
}

size_t sdp_candidate_format(const sdp_candidate *c, char *buf, size_t cap)
{
    GString *s;
    size_t len;

    if (c == NULL || buf == NULL || cap == 0)
        return 0;
    buf[0] = '\0';
    if ((unsigned) c->type >= G_N_ELEMENTS(type_names) ||
        (unsigned) c->tcptype >= G_N_ELEMENTS(tcptype_names) ||
        c->tcp != (c->tcptype != SDP_TCPTYPE_NONE) || c->component < 1 ||
        c->component > 256 || c->priority < 1 || c->priority > G_MAXINT32 ||
        !sdp_ice_chars_ok(c->foundation,
                          strnlen(c->foundation, sizeof(c->foundation)), 1,
                          SDP_MAX_FOUNDATION) ||
        memchr(c->address, '\0', sizeof(c->address)) == NULL ||
        memchr(c->related_address, '\0', sizeof(c->related_address)) == NULL ||
        memchr(c->ufrag, '\0', sizeof(c->ufrag)) == NULL)
        return 0;

    s = g_string_sized_new(128);
    g_string_append_printf(s, "candidate:%s %u %s %u %s %u typ %s",
                           c->foundation, c->component, c->tcp ? "TCP" : "UDP",
                           (unsigned) c->priority, c->address,
                           (unsigned) c->port, type_names[c->type]);
    if (c->has_related)
        g_string_append_printf(s, " raddr %s rport %u", c->related_address,
                               (unsigned) c->related_port);
    if (c->tcptype != SDP_TCPTYPE_NONE)
        g_string_append_printf(s, " tcptype %s", tcptype_names[c->tcptype]);
    if (c->has_generation)
        g_string_append_printf(s, " generation %u", (unsigned) c->generation);
    if (c->ufrag[0] != '\0')
        g_string_append_printf(s, " ufrag %s", c->ufrag);

    /* Whatever we write must read back. */
    sdp_candidate check;
    if (s->len >= cap ||
        sdp_candidate_parse(&check, s->str, s->len, NULL) != SDP_OK) {
        g_string_free(s, TRUE);
        return 0;
    }
    memcpy(buf, s->str, s->len + 1);
    len = s->len;
    g_string_free(s, TRUE);
    return len;
}
