/* Unit tests of the shared wire-format module (libvid/signaling/proto.c). */
#include <glib.h>
#include <string.h>

#include "proto.h"

#define FP                                                                     \
    "sha-256 "                                                                 \
    "3A:1B:00:FF:10:20:30:40:50:60:70:80:90:A0:B0:C0:"                         \
    "D0:E0:F0:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D"

static gboolean parse(const char *text, proto_direction dir,
                      proto_msg_type *type, proto_error *err, json_int_t *id)
{
    json_t *msg = NULL;
    gboolean ok = proto_parse(text, strlen(text), dir, &msg, type, id, err);
    json_decref(msg);
    return ok;
}

static void test_login_ok(void)
{
    proto_msg_type type = PROTO_MSG_UNKNOWN;
    proto_error err = {0};
    json_int_t id = 0;
    g_autofree char *text = g_strdup_printf(
        "{\"type\":\"login\",\"id\":7,\"user\":\"alice\",\"password\":\"pw\","
        "\"device\":\"laptop\",\"fingerprint\":\"%s\"}",
        FP);

    g_assert_true(parse(text, PROTO_TO_SERVER, &type, &err, &id));
    g_assert_cmpint(type, ==, PROTO_MSG_LOGIN);
    g_assert_cmpint(id, ==, 7);
    /* A client may not receive a login. */
    g_assert_false(parse(text, PROTO_TO_CLIENT, &type, &err, &id));
    g_assert_cmpstr(err.code, ==, PROTO_ERR_UNKNOWN_TYPE);
}

static void test_bad_input(void)
{
    struct {
        const char *text;
        const char *code;
    } cases[] = {
        {"", PROTO_ERR_BAD_JSON},
        {"{\"type\":", PROTO_ERR_BAD_JSON},
        {"[1,2]", PROTO_ERR_BAD_JSON},
        {"{\"type\":\"login\",\"type\":\"x\"}", PROTO_ERR_BAD_JSON},
        {"{\"id\":1}", PROTO_ERR_BAD_MESSAGE},
        {"{\"type\":\"teleport\",\"id\":1}", PROTO_ERR_UNKNOWN_TYPE},
        {"{\"type\":\"welcome\",\"re\":1}", PROTO_ERR_UNKNOWN_TYPE},
        {"{\"type\":\"call.invite\",\"id\":1,\"to\":\"bob\"}",
         PROTO_ERR_BAD_MESSAGE},
        {"{\"type\":\"call.invite\",\"id\":1,\"to\":\"b b\",\"sdp\":\"v=0\"}",
         PROTO_ERR_BAD_MESSAGE},
        {"{\"type\":\"call.invite\",\"id\":0,\"to\":\"bob\",\"sdp\":\"v=0\"}",
         PROTO_ERR_BAD_MESSAGE},
        {"{\"type\":\"call.invite\",\"id\":\"1\",\"to\":\"bob\",\"sdp\":\"x\"}",
         PROTO_ERR_BAD_MESSAGE},
        {"{\"type\":\"call.hangup\",\"id\":3,\"call\":\"XYZ\"}",
         PROTO_ERR_BAD_MESSAGE},
        {"{\"type\":\"presence.subscribe\",\"id\":3,\"users\":[]}",
         PROTO_ERR_BAD_MESSAGE},
        {"{\"type\":\"presence.subscribe\",\"id\":3,\"users\":[5]}",
         PROTO_ERR_BAD_MESSAGE},
        {"{\"type\":\"call.candidate\",\"id\":3,\"call\":\"ab\","
         "\"candidate\":\"x\",\"mline_index\":-1}",
         PROTO_ERR_BAD_MESSAGE},
        {"{\"type\":\"login\",\"id\":1,\"user\":\"a\",\"password\":\"p\","
         "\"device\":\"d\",\"fingerprint\":\"sha-1 00:11\"}",
         PROTO_ERR_BAD_MESSAGE},
        {"{\"type\":\"call.reject\",\"id\":1,\"call\":\"ab\","
         "\"reason\":\"a\\u0000b\"}",
         PROTO_ERR_BAD_JSON}, /* jansson refuses NUL in strings */
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        proto_msg_type type;
        proto_error err = {0};
        json_int_t id;
        g_test_message("case %zu: %s", i, cases[i].text);
        g_assert_false(parse(cases[i].text, PROTO_TO_SERVER, &type, &err, &id));
        g_assert_cmpstr(err.code, ==, cases[i].code);
        g_assert_cmpuint(strlen(err.message), >, 0);
    }
}

static void test_id_kept_on_error(void)
{
    proto_msg_type type;
    proto_error err = {0};
    json_int_t id = 0;

    g_assert_false(parse("{\"type\":\"call.invite\",\"id\":42,\"to\":\"bob\"}",
                         PROTO_TO_SERVER, &type, &err, &id));
    g_assert_cmpint(id, ==, 42);
}

static void test_too_large(void)
{
    gsize n = PROTO_MAX_FRAME + 1;
    char *big = g_malloc(n);
    json_t *msg = NULL;
    proto_msg_type type;
    proto_error err = {0};

    memset(big, ' ', n);
    g_assert_false(
        proto_parse(big, n, PROTO_TO_SERVER, &msg, &type, NULL, &err));
    g_assert_null(msg);
    g_assert_cmpstr(err.code, ==, PROTO_ERR_TOO_LARGE);
    g_free(big);
}

static void test_names_and_fingerprints(void)
{
    g_assert_true(proto_name_valid("alice"));
    g_assert_true(proto_name_valid("a.b_c-9"));
    g_assert_false(proto_name_valid(""));
    g_assert_false(proto_name_valid(".hidden"));
    g_assert_false(proto_name_valid("-x"));
    g_assert_false(proto_name_valid("a/b"));
    g_assert_false(proto_name_valid(
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
    g_assert_true(proto_fingerprint_valid(FP));
    g_assert_false(proto_fingerprint_valid("sha-256 3a:1b"));
    g_assert_false(proto_fingerprint_valid(
        "sha-256 3a:1B:00:FF:10:20:30:40:50:60:70:80:90:A0:B0:C0:"
        "D0:E0:F0:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D"));
}

static void test_builders_validate(void)
{
    json_t *e = proto_error_new(5, PROTO_ERR_CALLEE_OFFLINE, "bob is offline");
    json_t *a = proto_ack_new(9);
    proto_msg_type type;
    proto_error err = {0};
    size_t len = 0;
    char *s;

    g_assert_true(proto_validate(e, PROTO_TO_CLIENT, &type, &err));
    g_assert_cmpint(type, ==, PROTO_MSG_ERROR);
    g_assert_true(proto_validate(a, PROTO_TO_CLIENT, &type, &err));
    g_assert_cmpint(type, ==, PROTO_MSG_ACK);
    s = proto_dump(e, &len);
    g_assert_cmpstr(s, ==,
                    "{\"type\":\"error\",\"code\":\"callee_offline\","
                    "\"message\":\"bob is offline\",\"re\":5}");
    g_assert_cmpuint(len, ==, strlen(s));
    free(s);
    json_decref(e);
    json_decref(a);
}

static void test_type_names(void)
{
    for (int t = 1; t < PROTO_MSG_COUNT_; t++)
        g_assert_cmpint(proto_type_from_name(proto_type_name(t)), ==, t);
    g_assert_cmpint(proto_type_from_name("nope"), ==, PROTO_MSG_UNKNOWN);
    g_assert_cmpstr(proto_type_name(PROTO_MSG_COUNT_), ==, "unknown");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/proto/login-ok", test_login_ok);
    g_test_add_func("/proto/bad-input", test_bad_input);
    g_test_add_func("/proto/id-kept-on-error", test_id_kept_on_error);
    g_test_add_func("/proto/too-large", test_too_large);
    g_test_add_func("/proto/names-fingerprints", test_names_and_fingerprints);
    g_test_add_func("/proto/builders", test_builders_validate);
    g_test_add_func("/proto/type-names", test_type_names);
    return g_test_run();
}
