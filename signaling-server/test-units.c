/*
 * Unit tests of the server's pure modules: TURN REST credentials, token
 * bucket, login throttle, router (presence and calls) with fake
 * connections, firewall rules, config parsing.
 */
#include <glib.h>
#include <string.h>

#include "auth.h"
#include "config.h"
#include "firewall.h"
#include "ratelimit.h"
#include "router.h"
#include "turn.h"

#define FP_A                                                                   \
    "sha-256 "                                                                 \
    "AA:1B:00:FF:10:20:30:40:50:60:70:80:90:A0:B0:C0:"                         \
    "D0:E0:F0:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D"
#define FP_B                                                                   \
    "sha-256 "                                                                 \
    "BB:1B:00:FF:10:20:30:40:50:60:70:80:90:A0:B0:C0:"                         \
    "D0:E0:F0:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D"

static void test_turn_vector(void)
{
    char *user = NULL, *cred = NULL;

    /* Vector computed with:
     * printf '1764300000:alice' | openssl dgst -sha1 -hmac north-wind-42
     *   -binary | base64 */
    g_assert_true(turn_rest_credentials("north-wind-42", "alice", 1764300000,
                                        &user, &cred));
    g_assert_cmpstr(user, ==, "1764300000:alice");
    g_assert_cmpstr(cred, ==, "HozhqZcXkbAXh9LuT5J7wFQZYss=");
    g_free(user);
    g_free(cred);
}

static void test_bucket(void)
{
    token_bucket b;
    int passed = 0;

    bucket_init(&b, 5, 1000);
    for (int i = 0; i < 10; i++)
        passed += bucket_take(&b, 2.0, 5, 1000);
    g_assert_cmpint(passed, ==, 5);
    /* 2 tokens per second: after 1 s, two more pass. */
    passed = 0;
    for (int i = 0; i < 10; i++)
        passed += bucket_take(&b, 2.0, 5, 2000);
    g_assert_cmpint(passed, ==, 2);
    /* Never more than the burst after a long pause. */
    passed = 0;
    for (int i = 0; i < 10; i++)
        passed += bucket_take(&b, 2.0, 5, 100000);
    g_assert_cmpint(passed, ==, 5);
}

static void test_throttle(void)
{
    throttle_params p = {5, 30, 900, 20, 60};
    throttle *t = throttle_new(&p);
    gint64 now = 1000000;

    for (int i = 0; i < 5; i++) {
        g_assert_cmpint(throttle_check(t, "alice", "10.0.0.1", now), ==, 0);
        throttle_failure(t, "alice", "10.0.0.1", now);
    }
    /* The sixth attempt is throttled for the base backoff. */
    g_assert_cmpint(throttle_check(t, "alice", "10.0.0.1", now), ==, 30);
    /* Other accounts from the same address are not (yet). */
    g_assert_cmpint(throttle_check(t, "bob", "10.0.0.1", now), ==, 0);
    /* After the backoff one more failure doubles it. */
    now += 31000;
    g_assert_cmpint(throttle_check(t, "alice", "10.0.0.1", now), ==, 0);
    throttle_failure(t, "alice", "10.0.0.1", now);
    g_assert_cmpint(throttle_check(t, "alice", "10.0.0.1", now), ==, 60);
    /* Success clears the account. */
    throttle_success(t, "alice");
    g_assert_cmpint(throttle_check(t, "alice", "10.0.0.2", now), ==, 0);
    /* Per address: 20 failures in the window, any account. */
    for (int i = 0; i < 20; i++) {
        g_autofree char *u = g_strdup_printf("u%d", i);
        throttle_failure(t, u, "10.0.0.9", now);
    }
    g_assert_cmpint(throttle_check(t, "zed", "10.0.0.9", now), >, 0);
    g_assert_cmpint(throttle_check(t, "zed", "10.0.0.8", now), ==, 0);
    throttle_prune(t, now + 3600 * 1000);
    g_assert_cmpint(throttle_size(t), ==, 0);
    throttle_free(t);
}

static void test_pwhash(void)
{
    char h[AUTH_HASH_MAX];
    g_assert_true(auth_init());
    g_assert_true(auth_hash(PWHASH_MIN, "correct horse", h));
    g_assert_true(g_str_has_prefix(h, "$argon2id$"));
    g_assert_true(auth_verify(h, "correct horse"));
    g_assert_false(auth_verify(h, "correct horsE"));
}

/* ---- router with fake connections ---- */

typedef struct {
    const char *name;
    GPtrArray *got; /* json_t* */
    bool replaced;
} fake;

static void f_send(void *owner, const json_t *msg)
{
    fake *f = owner;
    proto_error err = {0};
    /* Everything the router builds must pass the client-side schema. */
    g_assert_true(proto_validate(msg, PROTO_TO_CLIENT, NULL, &err));
    g_ptr_array_add(f->got, json_deep_copy(msg));
}

static void f_error(void *owner, json_int_t re, const char *code,
                    const char *message)
{
    json_t *e = proto_error_new(re, code, message);
    f_send(owner, e);
    json_decref(e);
}

static void f_replaced(void *owner)
{
    ((fake *) owner)->replaced = true;
}

static bool f_exists(void *data, const char *user)
{
    return strcmp(user, "ghost") != 0;
}

static const router_ops fake_ops = {f_send, f_error, f_replaced, f_exists,
                                    NULL};

static fake *fake_new(const char *name)
{
    fake *f = g_new0(fake, 1);
    f->name = name;
    f->got = g_ptr_array_new_with_free_func((GDestroyNotify) json_decref);
    return f;
}

static void fake_free(fake *f)
{
    g_ptr_array_free(f->got, TRUE);
    g_free(f);
}

/* Pop the oldest message; assert its type. */
static json_t *pop(fake *f, const char *type)
{
    json_t *m;
    if (f->got->len == 0)
        g_error("%s: expected %s, got nothing", f->name, type);
    m = g_ptr_array_steal_index(f->got, 0);
    g_assert_cmpstr(json_string_value(json_object_get(m, "type")), ==, type);
    return m;
}

static const char *str(json_t *m, const char *k)
{
    return json_string_value(json_object_get(m, k));
}

static json_t *msg(const char *fmt, ...)
{
    va_list ap;
    json_error_t e;
    json_t *m;
    va_start(ap, fmt);
    m = json_vpack_ex(&e, 0, fmt, ap);
    va_end(ap);
    g_assert_nonnull(m);
    return m;
}

static void test_router_call_flow(void)
{
    router *r = router_new(&fake_ops, 60);
    fake *fa = fake_new("alice"), *fb1 = fake_new("bob1"),
         *fb2 = fake_new("bob2"), *fc = fake_new("carol");
    rsession *a = router_session_new(fa), *b1 = router_session_new(fb1),
             *b2 = router_session_new(fb2), *c = router_session_new(fc);
    json_t *m, *in;
    char call[40];

    router_login(r, a, "alice", "laptop", FP_A);
    router_login(r, b1, "bob", "phone", FP_B);
    router_login(r, b2, "bob", "desk", FP_B);
    router_login(r, c, "carol", "pc", FP_A);

    in = msg("{s:s, s:i, s:s, s:s}", "type", "call.invite", "id", 1, "to",
             "bob", "sdp", "v=0");
    router_handle(r, a, PROTO_MSG_CALL_INVITE, in, 1, 0);
    json_decref(in);
    m = pop(fa, "ack");
    g_assert_cmpint(strlen(str(m, "call")), ==, 32);
    g_strlcpy(call, str(m, "call"), sizeof call);
    json_decref(m);
    m = pop(fb1, "call.invite");
    g_assert_cmpstr(str(m, "from"), ==, "alice");
    g_assert_cmpstr(str(m, "fingerprint"), ==, FP_A);
    json_decref(m);
    json_decref(pop(fb2, "call.invite"));

    /* carol cannot inject */
    in = msg("{s:s, s:i, s:s, s:s}", "type", "call.candidate", "id", 2, "call",
             call, "candidate", "x");
    router_handle(r, c, PROTO_MSG_CALL_CANDIDATE, in, 2, 0);
    json_decref(in);
    m = pop(fc, "error");
    g_assert_cmpstr(str(m, "code"), ==, "not_in_call");
    json_decref(m);

    in = msg("{s:s, s:i, s:s}", "type", "call.ringing", "id", 3, "call", call);
    router_handle(r, b1, PROTO_MSG_CALL_RINGING, in, 3, 0);
    json_decref(in);
    json_decref(pop(fb1, "ack"));
    json_decref(pop(fa, "call.ringing"));

    in = msg("{s:s, s:i, s:s, s:s}", "type", "call.accept", "id", 4, "call",
             call, "sdp", "v=0 answer");
    router_handle(r, b1, PROTO_MSG_CALL_ACCEPT, in, 4, 0);
    json_decref(in);
    json_decref(pop(fb1, "ack"));
    m = pop(fa, "call.accept");
    g_assert_cmpstr(str(m, "from_device"), ==, "phone");
    g_assert_cmpstr(str(m, "fingerprint"), ==, FP_B);
    json_decref(m);
    m = pop(fb2, "call.cancel");
    g_assert_cmpstr(str(m, "reason"), ==, "answered_elsewhere");
    json_decref(m);

    /* the other device is out of the call now */
    in = msg("{s:s, s:i, s:s, s:s}", "type", "call.accept", "id", 5, "call",
             call, "sdp", "v=0");
    router_handle(r, b2, PROTO_MSG_CALL_ACCEPT, in, 5, 0);
    json_decref(in);
    m = pop(fb2, "error");
    g_assert_cmpstr(str(m, "code"), ==, "not_in_call");
    json_decref(m);
    /* a second accept by the bound device: bad_state */
    in = msg("{s:s, s:i, s:s, s:s}", "type", "call.accept", "id", 6, "call",
             call, "sdp", "v=0");
    router_handle(r, b1, PROTO_MSG_CALL_ACCEPT, in, 6, 0);
    json_decref(in);
    m = pop(fb1, "error");
    g_assert_cmpstr(str(m, "code"), ==, "bad_state");
    json_decref(m);

    /* the accepted callee drops: caller gets peer_disconnected */
    router_session_free(r, b1);
    m = pop(fa, "call.hangup");
    g_assert_cmpstr(str(m, "reason"), ==, "peer_disconnected");
    json_decref(m);
    g_assert_cmpuint(router_call_count(r), ==, 0);
    g_assert_cmpuint(router_calls_routed(r), ==, 1);

    router_session_free(r, a);
    router_session_free(r, b2);
    router_session_free(r, c);
    g_assert_cmpuint(fa->got->len + fb2->got->len + fc->got->len, ==, 0);
    router_free(r);
    fake_free(fa);
    fake_free(fb1);
    fake_free(fb2);
    fake_free(fc);
}

static void test_router_errors_and_timeout(void)
{
    router *r = router_new(&fake_ops, 60);
    fake *fa = fake_new("alice"), *fb = fake_new("bob");
    rsession *a = router_session_new(fa), *b = router_session_new(fb);
    json_t *m, *in;
    const char *cases[][2] = {{"alice", "self_call"},
                              {"ghost", "unknown_user"},
                              {"dave", "callee_offline"}};

    router_login(r, a, "alice", "laptop", FP_A);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        in = msg("{s:s, s:i, s:s, s:s}", "type", "call.invite", "id", 1, "to",
                 cases[i][0], "sdp", "v=0");
        router_handle(r, a, PROTO_MSG_CALL_INVITE, in, 1, 0);
        json_decref(in);
        m = pop(fa, "error");
        g_assert_cmpstr(str(m, "code"), ==, cases[i][1]);
        json_decref(m);
    }
    router_login(r, b, "bob", "phone", FP_B);
    in = msg("{s:s, s:i, s:s, s:s}", "type", "call.invite", "id", 2, "to",
             "bob", "sdp", "v=0");
    router_handle(r, a, PROTO_MSG_CALL_INVITE, in, 2, 1000);
    json_decref(in);
    json_decref(pop(fa, "ack"));
    json_decref(pop(fb, "call.invite"));
    router_expire(r, 30000);
    g_assert_cmpuint(fa->got->len, ==, 0);
    router_expire(r, 61000);
    m = pop(fa, "call.hangup");
    g_assert_cmpstr(str(m, "reason"), ==, "no_answer");
    json_decref(m);
    m = pop(fb, "call.cancel");
    g_assert_cmpstr(str(m, "reason"), ==, "timeout");
    json_decref(m);
    g_assert_cmpuint(router_call_count(r), ==, 0);
    router_session_free(r, a);
    router_session_free(r, b);
    router_free(r);
    fake_free(fa);
    fake_free(fb);
}

static void test_router_presence(void)
{
    router *r = router_new(&fake_ops, 60);
    fake *fa = fake_new("alice"), *fb = fake_new("bob"),
         *fb2 = fake_new("bob-again");
    rsession *a = router_session_new(fa), *b = router_session_new(fb),
             *b2 = router_session_new(fb2);
    json_t *m, *in;

    router_login(r, a, "alice", "laptop", FP_A);
    in = msg("{s:s, s:i, s:[s, s]}", "type", "presence.subscribe", "id", 1,
             "users", "bob", "ghost");
    router_handle(r, a, PROTO_MSG_PRESENCE_SUBSCRIBE, in, 1, 0);
    json_decref(in);
    json_decref(pop(fa, "ack"));
    m = pop(fa, "presence");
    g_assert_cmpstr(str(m, "user"), ==, "bob");
    g_assert_cmpstr(str(m, "status"), ==, "offline");
    g_assert_null(str(m, "device"));
    json_decref(m);
    json_decref(pop(fa, "presence")); /* ghost, offline */

    router_login(r, b, "bob", "phone", FP_B);
    m = pop(fa, "presence");
    g_assert_cmpstr(str(m, "status"), ==, "online");
    g_assert_cmpstr(str(m, "device"), ==, "phone");
    g_assert_cmpstr(str(m, "fingerprint"), ==, FP_B);
    json_decref(m);

    /* same user and device again: the old session is replaced */
    router_login(r, b2, "bob", "phone", FP_B);
    g_assert_true(fb->replaced);
    json_decref(pop(fa, "presence"));
    router_session_free(r, b);

    router_session_free(r, b2);
    m = pop(fa, "presence");
    g_assert_cmpstr(str(m, "status"), ==, "offline");
    g_assert_cmpstr(str(m, "device"), ==, "phone");
    json_decref(m);
    g_assert_cmpuint(fa->got->len, ==, 0);
    router_session_free(r, a);
    router_free(r);
    fake_free(fa);
    fake_free(fb);
    fake_free(fb2);
}

static void test_firewall(void)
{
    server_config cfg;
    GError *err = NULL;
    char *rules;

    config_defaults(&cfg);
    g_assert_true(config_load_data(
        &cfg,
        "[server]\nport=443\n"
        "[policy]\nturn=turn:t.example:3478?transport=udp;"
        "turn:t.example:3478?transport=tcp;turns:t.example:5349\n"
        "turn_secret=s\nmedia_port_min=50000\nmedia_port_max=50999\n",
        &err));
    g_assert_no_error(err);
    g_assert_true(config_check(&cfg, &err));
    rules = firewall_rules(&cfg);
    g_assert_nonnull(strstr(rules, "table inet vid {"));
    g_assert_nonnull(strstr(rules, "tcp dport 443 accept"));
    g_assert_nonnull(strstr(rules, "udp dport 3478 accept"));
    g_assert_nonnull(strstr(rules, "tcp dport { 3478,5349 } accept"));
    g_assert_nonnull(strstr(rules, "udp dport 50000-50999 accept"));
    g_free(rules);
    config_clear(&cfg);
}

static void test_config_errors(void)
{
    const char *bad[] = {
        "[server]\nport=70000\n",
        "[server]\nport=abc\n",
        "[policy]\nice_transport_policy=sometimes\n",
        "[auth]\npwhash=fast\n",
        "[limits]\nrate=-1\n",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        server_config cfg;
        GError *err = NULL;
        config_defaults(&cfg);
        g_assert_false(config_load_data(&cfg, bad[i], &err));
        g_assert_nonnull(err);
        g_error_free(err);
        config_clear(&cfg);
    }
    /* relay without TURN is refused by the cross-field check */
    {
        server_config cfg;
        GError *err = NULL;
        config_defaults(&cfg);
        g_assert_true(config_load_data(
            &cfg, "[policy]\nice_transport_policy=relay\n", &err));
        g_assert_false(config_check(&cfg, &err));
        g_assert_nonnull(strstr(err->message, "relay"));
        g_error_free(err);
        config_clear(&cfg);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_assert_true(auth_init());
    g_test_add_func("/server/turn/vector", test_turn_vector);
    g_test_add_func("/server/limits/bucket", test_bucket);
    g_test_add_func("/server/auth/throttle", test_throttle);
    g_test_add_func("/server/auth/pwhash", test_pwhash);
    g_test_add_func("/server/router/call-flow", test_router_call_flow);
    g_test_add_func("/server/router/errors-timeout",
                    test_router_errors_and_timeout);
    g_test_add_func("/server/router/presence", test_router_presence);
    g_test_add_func("/server/firewall", test_firewall);
    g_test_add_func("/server/config/errors", test_config_errors);
    return g_test_run();
}
