/*
 * proto.c — schema table and validator of the vid.v1 wire format.
 * See proto.h and docs/protocol.md.
 */
#include "proto.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    F_NAME,        /* string, proto_name_valid() */
    F_STRING,      /* string, max bytes in .max (min 1 unless .empty_ok) */
    F_FINGERPRINT, /* string, proto_fingerprint_valid() */
    F_CALL_ID,     /* string of lower-case hex */
    F_ID,          /* integer 1 .. 2^53 */
    F_INT,         /* integer in .min .. .max */
    F_OBJECT,      /* JSON object */
    F_NAME_ARRAY,  /* array of 1 .. .max names */
    F_STATUS,      /* "online" or "offline" */
} field_kind;

typedef struct {
    const char *name;
    field_kind kind;
    bool required;
    long long min;
    long long max;
    bool empty_ok;
} field;

typedef struct {
    const char *name;
    /* Schema per direction; NULL means the type may not travel that way. */
    const field *to_server;
    const field *to_client;
} schema;

#define END                                                                    \
    {                                                                          \
        NULL, 0, false, 0, 0, false                                            \
    }
#define REQ(n, k)                                                              \
    {                                                                          \
        n, k, true, 0, 0, false                                                \
    }
#define OPT(n, k)                                                              \
    {                                                                          \
        n, k, false, 0, 0, false                                               \
    }
#define STR(n, req, mx)                                                        \
    {                                                                          \
        n, F_STRING, req, 1, mx, false                                         \
    }
#define JSON_SAFE_MAX 9007199254740992LL /* 2^53 */

static const field login_c2s[] = {
    REQ("id", F_ID),
    REQ("user", F_NAME),
    STR("password", true, PROTO_MAX_PASSWORD),
    REQ("device", F_NAME),
    REQ("fingerprint", F_FINGERPRINT),
    STR("client", false, 64),
    END,
};
static const field welcome_s2c[] = {
    REQ("re", F_ID),         REQ("user", F_NAME),       REQ("device", F_NAME),
    REQ("policy", F_OBJECT), STR("server", false, 128), END,
};
static const field ack_s2c[] = {
    REQ("re", F_ID),
    OPT("call", F_CALL_ID),
    END,
};
static const field error_s2c[] = {
    OPT("re", F_ID),
    STR("code", true, 64),
    STR("message", true, 512),
    {"retry_after", F_INT, false, 0, 86400, false},
    END,
};
static const field subscribe_c2s[] = {
    REQ("id", F_ID),
    {"users", F_NAME_ARRAY, true, 1, PROTO_MAX_SUBSCRIBE, false},
    END,
};
static const field presence_s2c[] = {
    REQ("user", F_NAME),
    OPT("device", F_NAME),
    REQ("status", F_STATUS),
    OPT("fingerprint", F_FINGERPRINT),
    END,
};
static const field invite_c2s[] = {
    REQ("id", F_ID),
    REQ("to", F_NAME),
    STR("sdp", true, PROTO_MAX_SDP),
    END,
};
static const field invite_s2c[] = {
    REQ("call", F_CALL_ID),          REQ("from", F_NAME),
    REQ("from_device", F_NAME),      REQ("fingerprint", F_FINGERPRINT),
    STR("sdp", true, PROTO_MAX_SDP), END,
};
static const field call_only_c2s[] = {
    REQ("id", F_ID),
    REQ("call", F_CALL_ID),
    END,
};
static const field ringing_s2c[] = {
    REQ("call", F_CALL_ID),
    REQ("from", F_NAME),
    REQ("from_device", F_NAME),
    END,
};
static const field accept_c2s[] = {
    REQ("id", F_ID),
    REQ("call", F_CALL_ID),
    STR("sdp", true, PROTO_MAX_SDP),
    END,
};
static const field accept_s2c[] = {
    REQ("call", F_CALL_ID),          REQ("from", F_NAME),
    REQ("from_device", F_NAME),      REQ("fingerprint", F_FINGERPRINT),
    STR("sdp", true, PROTO_MAX_SDP), END,
};
static const field reject_c2s[] = {
    REQ("id", F_ID),
    REQ("call", F_CALL_ID),
    STR("reason", true, PROTO_MAX_REASON),
    END,
};
static const field reject_s2c[] = {
    REQ("call", F_CALL_ID),
    REQ("from", F_NAME),
    REQ("from_device", F_NAME),
    STR("reason", true, PROTO_MAX_REASON),
    END,
};
static const field cancel_s2c[] = {
    REQ("call", F_CALL_ID),
    STR("reason", true, PROTO_MAX_REASON),
    END,
};
static const field candidate_c2s[] = {
    REQ("id", F_ID),
    REQ("call", F_CALL_ID),
    {"candidate", F_STRING, true, 0, PROTO_MAX_CANDIDATE, true},
    STR("mid", false, 32),
    {"mline_index", F_INT, false, 0, 255, false},
    END,
};
static const field candidate_s2c[] = {
    REQ("call", F_CALL_ID),
    REQ("from", F_NAME),
    REQ("from_device", F_NAME),
    {"candidate", F_STRING, true, 0, PROTO_MAX_CANDIDATE, true},
    STR("mid", false, 32),
    {"mline_index", F_INT, false, 0, 255, false},
    END,
};
static const field hangup_c2s[] = {
    REQ("id", F_ID),
    REQ("call", F_CALL_ID),
    STR("reason", false, PROTO_MAX_REASON),
    END,
};
static const field hangup_s2c[] = {
    REQ("call", F_CALL_ID),
    OPT("from", F_NAME),
    OPT("from_device", F_NAME),
    STR("reason", false, PROTO_MAX_REASON),
    END,
};

/* Indexed by proto_msg_type. */
static const schema schemas[PROTO_MSG_COUNT_] = {
    [PROTO_MSG_UNKNOWN] = {"unknown", NULL, NULL},
    [PROTO_MSG_LOGIN] = {"login", login_c2s, NULL},
    [PROTO_MSG_WELCOME] = {"welcome", NULL, welcome_s2c},
    [PROTO_MSG_ACK] = {"ack", NULL, ack_s2c},
    [PROTO_MSG_ERROR] = {"error", NULL, error_s2c},
    [PROTO_MSG_PRESENCE_SUBSCRIBE] = {"presence.subscribe", subscribe_c2s,
                                      NULL},
    [PROTO_MSG_PRESENCE] = {"presence", NULL, presence_s2c},
    [PROTO_MSG_CALL_INVITE] = {"call.invite", invite_c2s, invite_s2c},
    [PROTO_MSG_CALL_RINGING] = {"call.ringing", call_only_c2s, ringing_s2c},
    [PROTO_MSG_CALL_ACCEPT] = {"call.accept", accept_c2s, accept_s2c},
    [PROTO_MSG_CALL_REJECT] = {"call.reject", reject_c2s, reject_s2c},
    [PROTO_MSG_CALL_CANCEL] = {"call.cancel", NULL, cancel_s2c},
    [PROTO_MSG_CALL_CANDIDATE] = {"call.candidate", candidate_c2s,
                                  candidate_s2c},
    [PROTO_MSG_CALL_HANGUP] = {"call.hangup", hangup_c2s, hangup_s2c},
};

const char *proto_type_name(proto_msg_type type)
{
    if ((int) type < 0 || type >= PROTO_MSG_COUNT_)
        return "unknown";
    return schemas[type].name;
}

proto_msg_type proto_type_from_name(const char *name)
{
    if (name == NULL)
        return PROTO_MSG_UNKNOWN;
    for (int i = 1; i < PROTO_MSG_COUNT_; i++) {
        if (strcmp(schemas[i].name, name) == 0)
            return (proto_msg_type) i;
    }
    return PROTO_MSG_UNKNOWN;
}

bool proto_name_valid(const char *name)
{
    size_t n;

    if (name == NULL)
        return false;
    n = strlen(name);
    if (n == 0 || n > PROTO_MAX_NAME || name[0] == '.' || name[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

static bool is_upper_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

bool proto_fingerprint_valid(const char *fp)
{
    if (fp == NULL || strlen(fp) != PROTO_FINGERPRINT_LEN ||
        strncmp(fp, "sha-256 ", 8) != 0)
        return false;
    for (int i = 0; i < 32; i++) {
        const char *p = fp + 8 + i * 3;
        if (!is_upper_hex(p[0]) || !is_upper_hex(p[1]))
            return false;
        if (i < 31 && p[2] != ':')
            return false;
    }
    return true;
}

static bool call_id_valid(const char *id)
{
    size_t n = strlen(id);

    if (n == 0 || n > PROTO_MAX_CALL_ID)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

static bool fail(proto_error *err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(proto_error *err, const char *code, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL) {
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return false;
}

static bool check_field(const field *f, const json_t *v, const char *type,
                        proto_error *err)
{
    const char *s;

    switch (f->kind) {
    case F_ID:
    case F_INT: {
        long long lo = f->kind == F_ID ? 1 : f->min;
        long long hi = f->kind == F_ID ? JSON_SAFE_MAX : f->max;
        if (!json_is_integer(v) || json_integer_value(v) < lo ||
            json_integer_value(v) > hi)
            return fail(err, PROTO_ERR_BAD_MESSAGE,
                        "%s: field \"%s\" must be an integer in range", type,
                        f->name);
        return true;
    }
    case F_OBJECT:
        if (!json_is_object(v))
            return fail(err, PROTO_ERR_BAD_MESSAGE,
                        "%s: field \"%s\" must be an object", type, f->name);
        return true;
    case F_NAME_ARRAY: {
        size_t i;
        json_t *e;
        if (!json_is_array(v) || json_array_size(v) < (size_t) f->min ||
            json_array_size(v) > (size_t) f->max)
            return fail(err, PROTO_ERR_BAD_MESSAGE,
                        "%s: field \"%s\" must be an array of 1 to 256 names",
                        type, f->name);
        json_array_foreach(v, i, e)
        {
            if (!json_is_string(e) || !proto_name_valid(json_string_value(e)))
                return fail(err, PROTO_ERR_BAD_MESSAGE,
                            "%s: field \"%s\" holds an invalid name", type,
                            f->name);
        }
        return true;
    }
    default:
        break;
    }

    if (!json_is_string(v))
        return fail(err, PROTO_ERR_BAD_MESSAGE,
                    "%s: field \"%s\" must be a string", type, f->name);
    s = json_string_value(v);
    switch (f->kind) {
    case F_NAME:
        if (!proto_name_valid(s))
            return fail(err, PROTO_ERR_BAD_MESSAGE,
                        "%s: field \"%s\" is not a valid name (1-64 of "
                        "A-Z a-z 0-9 . _ -)",
                        type, f->name);
        return true;
    case F_FINGERPRINT:
        if (!proto_fingerprint_valid(s))
            return fail(err, PROTO_ERR_BAD_MESSAGE,
                        "%s: field \"%s\" is not a sha-256 fingerprint", type,
                        f->name);
        return true;
    case F_CALL_ID:
        if (!call_id_valid(s))
            return fail(err, PROTO_ERR_BAD_MESSAGE,
                        "%s: field \"%s\" is not a call id", type, f->name);
        return true;
    case F_STATUS:
        if (strcmp(s, "online") != 0 && strcmp(s, "offline") != 0)
            return fail(err, PROTO_ERR_BAD_MESSAGE,
                        "%s: field \"%s\" must be online or offline", type,
                        f->name);
        return true;
    case F_STRING: {
        size_t n = json_string_length(v);
        if (n > (size_t) f->max || (n == 0 && !f->empty_ok) || strlen(s) != n)
            return fail(err, PROTO_ERR_BAD_MESSAGE,
                        "%s: field \"%s\" is empty, too long or holds NUL",
                        type, f->name);
        return true;
    }
    default:
        return fail(err, PROTO_ERR_INTERNAL, "%s: bad schema for \"%s\"", type,
                    f->name);
    }
}

bool proto_validate(const json_t *msg, proto_direction dir,
                    proto_msg_type *type_out, proto_error *err)
{
    const json_t *t;
    const char *name;
    proto_msg_type type;
    const field *fields;

    if (!json_is_object(msg))
        return fail(err, PROTO_ERR_BAD_JSON, "message is not a JSON object");
    t = json_object_get(msg, "type");
    if (!json_is_string(t))
        return fail(err, PROTO_ERR_BAD_MESSAGE,
                    "message has no string field \"type\"");
    name = json_string_value(t);
    type = proto_type_from_name(name);
    fields = type == PROTO_MSG_UNKNOWN ? NULL
             : dir == PROTO_TO_SERVER  ? schemas[type].to_server
                                       : schemas[type].to_client;
    if (fields == NULL) {
        char shown[40];
        snprintf(shown, sizeof shown, "%.32s", name);
        return fail(err, PROTO_ERR_UNKNOWN_TYPE,
                    "unknown message type \"%s\"%s", shown,
                    dir == PROTO_TO_SERVER ? " for a client to send" : "");
    }
    for (const field *f = fields; f->name != NULL; f++) {
        const json_t *v = json_object_get(msg, f->name);
        if (v == NULL || json_is_null(v)) {
            if (f->required)
                return fail(err, PROTO_ERR_BAD_MESSAGE,
                            "%s: missing field \"%s\"", name, f->name);
            continue;
        }
        if (!check_field(f, v, name, err))
            return false;
    }
    if (type_out != NULL)
        *type_out = type;
    return true;
}

bool proto_parse(const char *data, size_t len, proto_direction dir,
                 json_t **out, proto_msg_type *type, json_int_t *out_id,
                 proto_error *err)
{
    json_t *msg;
    json_error_t jerr;
    const json_t *id;

    *out = NULL;
    if (out_id != NULL)
        *out_id = 0;
    if (len > PROTO_MAX_FRAME) {
        if (err != NULL) {
            err->code = PROTO_ERR_TOO_LARGE;
            snprintf(err->message, sizeof err->message,
                     "frame of %zu bytes is over the limit of %d", len,
                     PROTO_MAX_FRAME);
        }
        return false;
    }
    msg = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (msg == NULL) {
        if (err != NULL) {
            err->code = PROTO_ERR_BAD_JSON;
            snprintf(err->message, sizeof err->message,
                     "not JSON: %.100s (line %d, column %d)", jerr.text,
                     jerr.line, jerr.column);
        }
        return false;
    }
    id = json_object_get(msg, "id");
    if (out_id != NULL && json_is_integer(id) && json_integer_value(id) > 0 &&
        json_integer_value(id) <= JSON_SAFE_MAX)
        *out_id = json_integer_value(id);
    if (!proto_validate(msg, dir, type, err)) {
        json_decref(msg);
        return false;
    }
    *out = msg;
    return true;
}

char *proto_dump(const json_t *msg, size_t *len_out)
{
    char *s = json_dumps(msg, JSON_COMPACT);
    size_t n;

    if (s == NULL)
        return NULL;
    n = strlen(s);
    if (n > PROTO_MAX_FRAME) {
        free(s);
        return NULL;
    }
    if (len_out != NULL)
        *len_out = n;
    return s;
}

json_t *proto_error_new(json_int_t re, const char *code, const char *message)
{
    json_t *m = json_pack("{s:s, s:s, s:s}", "type", "error", "code", code,
                          "message", message != NULL ? message : code);
    if (m != NULL && re > 0)
        json_object_set_new(m, "re", json_integer(re));
    return m;
}

json_t *proto_ack_new(json_int_t re)
{
    return json_pack("{s:s, s:I}", "type", "ack", "re", re);
}
