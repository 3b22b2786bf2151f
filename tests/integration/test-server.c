/*
 * Integration tests of vid-signaling-server: the real binary over real TLS
 * on loopback with a real SQLite database (tests/support fixtures).
 */
#include <glib.h>
#include <string.h>

#include "vid-test.h"

#define T 5000 /* ms to wait for an expected message */

static vid_test_server *srv; /* shared by the tests that need no config */

static json_t *req(const char *fmt, ...)
{
    va_list ap;
    json_error_t e;
    json_t *m;
    va_start(ap, fmt);
    m = json_vpack_ex(&e, 0, fmt, ap);
    va_end(ap);
    if (m == NULL)
        g_error("json_pack: %s", e.text);
    return m;
}

static void assert_str(json_t *m, const char *key, const char *want)
{
    g_assert_cmpstr(vid_test_json_str(m, key), ==, want);
}

static void test_login(void)
{
    vid_test_ws *ws = vid_test_ws_connect_server(srv);
    g_autofree char *fp = vid_test_fingerprint(1);
    json_t *m, *policy;

    /* wrong password and unknown user look the same */
    m = vid_test_ws_login(ws, 1, "alice", "wrong", "laptop", fp);
    assert_str(m, "type", "error");
    assert_str(m, "code", "bad_credentials");
    g_assert_cmpint(vid_test_json_int(m, "re"), ==, 1);
    json_decref(m);
    m = vid_test_ws_login(ws, 2, "nobody", "secret-a", "laptop", fp);
    assert_str(m, "code", "bad_credentials");
    json_decref(m);
    /* anything but login first is refused */
    vid_test_ws_send_json(ws,
                          req("{s:s, s:i, s:[s]}", "type", "presence.subscribe",
                              "id", 3, "users", "bob"));
    json_decref(vid_test_ws_expect_error(ws, "not_logged_in", T));

    m = vid_test_ws_login(ws, 4, "alice", "secret-a", "laptop", fp);
    assert_str(m, "type", "welcome");
    g_assert_cmpint(vid_test_json_int(m, "re"), ==, 4);
    assert_str(m, "user", "alice");
    assert_str(m, "device", "laptop");
    policy = json_object_get(m, "policy");
    assert_str(policy, "ice_transport_policy", "all");
    {
        json_t *limits = json_object_get(policy, "limits");
        g_assert_cmpint(vid_test_json_int(limits, "max_frame"), ==, 65536);
        g_assert_true(json_is_integer(json_object_get(limits, "rate")));
        g_assert_cmpint(vid_test_json_int(limits, "rate"), ==, 20);
        g_assert_cmpint(vid_test_json_int(limits, "burst"), ==, 50);
    }
    json_decref(m);
    m = vid_test_ws_login(ws, 5, "alice", "secret-a", "laptop", fp);
    assert_str(m, "code", "already_logged_in");
    json_decref(m);
    vid_test_ws_free(ws);
}

static void test_presence(void)
{
    vid_test_ws *a =
        vid_test_ws_login_server(srv, "alice", "secret-a", "laptop", 1);
    vid_test_ws *b;
    json_t *m;

    vid_test_ws_send_json(a, req("{s:s, s:i, s:[s, s]}", "type",
                                 "presence.subscribe", "id", 2, "users", "bob",
                                 "nobody"));
    json_decref(vid_test_ws_expect(a, "ack", T));
    m = vid_test_ws_expect(a, "presence", T);
    assert_str(m, "user", "bob");
    assert_str(m, "status", "offline");
    json_decref(m);
    m = vid_test_ws_expect(a, "presence", T);
    assert_str(m, "user", "nobody"); /* unknown looks offline */
    assert_str(m, "status", "offline");
    json_decref(m);

    b = vid_test_ws_login_server(srv, "bob", "secret-b", "phone", 2);
    m = vid_test_ws_expect(a, "presence", T);
    assert_str(m, "user", "bob");
    assert_str(m, "device", "phone");
    assert_str(m, "status", "online");
    {
        g_autofree char *fp = vid_test_fingerprint(2);
        assert_str(m, "fingerprint", fp);
    }
    json_decref(m);
    vid_test_ws_free(b);
    m = vid_test_ws_expect(a, "presence", T);
    assert_str(m, "device", "phone");
    assert_str(m, "status", "offline");
    json_decref(m);
    vid_test_ws_free(a);
}

static char *invite(vid_test_ws *from, json_int_t id, const char *to)
{
    json_t *m;
    char *call;

    vid_test_ws_send_json(from, req("{s:s, s:I, s:s, s:s}", "type",
                                    "call.invite", "id", id, "to", to, "sdp",
                                    "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"));
    m = vid_test_ws_expect(from, "ack", T);
    g_assert_cmpint(vid_test_json_int(m, "re"), ==, id);
    g_assert_cmpuint(strlen(vid_test_json_str(m, "call")), ==, 32);
    call = g_strdup(vid_test_json_str(m, "call"));
    json_decref(m);
    return call;
}

static void send_call(vid_test_ws *ws, const char *type, json_int_t id,
                      const char *call)
{
    vid_test_ws_send_json(
        ws, req("{s:s, s:I, s:s}", "type", type, "id", id, "call", call));
}

static void test_call_flow(void)
{
    vid_test_ws *a =
        vid_test_ws_login_server(srv, "alice", "secret-a", "laptop", 1);
    vid_test_ws *b1 =
        vid_test_ws_login_server(srv, "bob", "secret-b", "phone", 2);
    vid_test_ws *b2 =
        vid_test_ws_login_server(srv, "bob", "secret-b", "desk", 3);
    vid_test_ws *c =
        vid_test_ws_login_server(srv, "carol", "secret-c", "pc", 4);
    g_autofree char *fp_a = vid_test_fingerprint(1);
    g_autofree char *fp_b1 = vid_test_fingerprint(2);
    g_autofree char *call = invite(a, 10, "bob");
    g_autofree char *big_sdp = NULL;
    json_t *m;

    /* both of bob's devices ring, with alice's registered fingerprint */
    for (int i = 0; i < 2; i++) {
        m = vid_test_ws_expect(i ? b2 : b1, "call.invite", T);
        assert_str(m, "call", call);
        assert_str(m, "from", "alice");
        assert_str(m, "from_device", "laptop");
        assert_str(m, "fingerprint", fp_a);
        g_assert_nonnull(strstr(vid_test_json_str(m, "sdp"), "v=0"));
        json_decref(m);
    }
    send_call(b1, "call.ringing", 11, call);
    json_decref(vid_test_ws_expect(b1, "ack", T));
    m = vid_test_ws_expect(a, "call.ringing", T);
    assert_str(m, "from", "bob");
    assert_str(m, "from_device", "phone");
    json_decref(m);

    /* carol cannot inject into the call */
    vid_test_ws_send_json(c, req("{s:s, s:i, s:s, s:s}", "type",
                                 "call.candidate", "id", 12, "call", call,
                                 "candidate", "candidate:evil"));
    json_decref(vid_test_ws_expect_error(c, "not_in_call", T));
    send_call(c, "call.hangup", 13, call);
    json_decref(vid_test_ws_expect_error(c, "not_in_call", T));

    /* the caller trickles to every ringing device */
    vid_test_ws_send_json(a, req("{s:s, s:i, s:s, s:s, s:s, s:i}", "type",
                                 "call.candidate", "id", 14, "call", call,
                                 "candidate",
                                 "candidate:1 1 UDP 1 127.0.0.1 5000 typ host",
                                 "mid", "0", "mline_index", 0));
    json_decref(vid_test_ws_expect(a, "ack", T));
    json_decref(vid_test_ws_expect(b1, "call.candidate", T));
    json_decref(vid_test_ws_expect(b2, "call.candidate", T));

    /* a large answer (many fragments on the server side) arrives intact */
    big_sdp = g_malloc(50001);
    memset(big_sdp, 'a', 50000);
    big_sdp[50000] = '\0';
    memcpy(big_sdp, "v=0\r\n", 5);
    vid_test_ws_send_json(b1, req("{s:s, s:i, s:s, s:s}", "type", "call.accept",
                                  "id", 15, "call", call, "sdp", big_sdp));
    json_decref(vid_test_ws_expect(b1, "ack", T));
    m = vid_test_ws_expect(a, "call.accept", T);
    assert_str(m, "from_device", "phone");
    assert_str(m, "fingerprint", fp_b1);
    assert_str(m, "sdp", big_sdp);
    json_decref(m);
    m = vid_test_ws_expect(b2, "call.cancel", T);
    assert_str(m, "reason", "answered_elsewhere");
    json_decref(m);

    /* the other device is no longer part of the call */
    vid_test_ws_send_json(b2, req("{s:s, s:i, s:s, s:s}", "type", "call.accept",
                                  "id", 16, "call", call, "sdp", "v=0"));
    json_decref(vid_test_ws_expect_error(b2, "not_in_call", T));
    /* a second accept is out of state */
    vid_test_ws_send_json(b1, req("{s:s, s:i, s:s, s:s}", "type", "call.accept",
                                  "id", 17, "call", call, "sdp", "v=0"));
    json_decref(vid_test_ws_expect_error(b1, "bad_state", T));

    /* candidates both ways, now only between the two bound devices */
    vid_test_ws_send_json(b1,
                          req("{s:s, s:i, s:s, s:s}", "type", "call.candidate",
                              "id", 18, "call", call, "candidate", ""));
    json_decref(vid_test_ws_expect(b1, "ack", T));
    m = vid_test_ws_expect(a, "call.candidate", T);
    assert_str(m, "candidate", "");
    assert_str(m, "from", "bob");
    json_decref(m);
    vid_test_ws_send_json(a,
                          req("{s:s, s:i, s:s, s:s}", "type", "call.candidate",
                              "id", 19, "call", call, "candidate",
                              "candidate:2 1 UDP 1 ::1 1 typ "
                              "host"));
    json_decref(vid_test_ws_expect(a, "ack", T));
    json_decref(vid_test_ws_expect(b1, "call.candidate", T));
    vid_test_ws_expect_silence(b2, 200);

    vid_test_ws_send_json(a, req("{s:s, s:i, s:s, s:s}", "type", "call.hangup",
                                 "id", 20, "call", call, "reason", "bye"));
    json_decref(vid_test_ws_expect(a, "ack", T));
    m = vid_test_ws_expect(b1, "call.hangup", T);
    assert_str(m, "reason", "bye");
    assert_str(m, "from", "alice");
    json_decref(m);
    /* the call is gone */
    send_call(b1, "call.hangup", 21, call);
    json_decref(vid_test_ws_expect_error(b1, "not_in_call", T));

    vid_test_ws_free(a);
    vid_test_ws_free(b1);
    vid_test_ws_free(b2);
    vid_test_ws_free(c);
}

static void test_reject_and_disconnect(void)
{
    vid_test_ws *a =
        vid_test_ws_login_server(srv, "alice", "secret-a", "laptop", 1);
    vid_test_ws *b1 =
        vid_test_ws_login_server(srv, "bob", "secret-b", "phone", 2);
    vid_test_ws *b2 =
        vid_test_ws_login_server(srv, "bob", "secret-b", "desk", 3);
    g_autofree char *call = invite(a, 2, "bob");
    g_autofree char *call2 = NULL;
    json_t *m;

    json_decref(vid_test_ws_expect(b1, "call.invite", T));
    json_decref(vid_test_ws_expect(b2, "call.invite", T));
    vid_test_ws_send_json(b2, req("{s:s, s:i, s:s, s:s}", "type", "call.reject",
                                  "id", 3, "call", call, "reason", "busy"));
    json_decref(vid_test_ws_expect(b2, "ack", T));
    m = vid_test_ws_expect(a, "call.reject", T);
    assert_str(m, "reason", "busy");
    assert_str(m, "from_device", "desk");
    json_decref(m);
    m = vid_test_ws_expect(b1, "call.cancel", T);
    assert_str(m, "reason", "rejected_elsewhere");
    json_decref(m);

    /* a caller that drops mid-call: the callee hears peer_disconnected */
    call2 = invite(a, 4, "bob");
    json_decref(vid_test_ws_expect(b1, "call.invite", T));
    json_decref(vid_test_ws_expect(b2, "call.invite", T));
    vid_test_ws_send_json(b1, req("{s:s, s:i, s:s, s:s}", "type", "call.accept",
                                  "id", 5, "call", call2, "sdp", "v=0"));
    json_decref(vid_test_ws_expect(b1, "ack", T));
    json_decref(vid_test_ws_expect(b2, "call.cancel", T));
    json_decref(vid_test_ws_expect(a, "call.accept", T));
    vid_test_ws_free(a);
    m = vid_test_ws_expect(b1, "call.hangup", T);
    assert_str(m, "reason", "peer_disconnected");
    json_decref(m);
    vid_test_ws_free(b1);
    vid_test_ws_free(b2);
}

static void test_call_errors(void)
{
    vid_test_ws *a =
        vid_test_ws_login_server(srv, "alice", "secret-a", "laptop", 1);
    const char *cases[][2] = {{"carol", "callee_offline"},
                              {"nobody", "unknown_user"},
                              {"alice", "self_call"}};

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        json_t *m;
        vid_test_ws_send_json(a, req("{s:s, s:i, s:s, s:s}", "type",
                                     "call.invite", "id", 30 + (int) i, "to",
                                     cases[i][0], "sdp", "v=0"));
        m = vid_test_ws_expect_error(a, cases[i][1], T);
        g_assert_cmpint(vid_test_json_int(m, "re"), ==, 30 + (int) i);
        json_decref(m);
    }
    send_call(a, "call.ringing", 40, "0123456789abcdef0123456789abcdef");
    json_decref(vid_test_ws_expect_error(a, "not_in_call", T));
    vid_test_ws_free(a);
}

static void test_bad_input(void)
{
    vid_test_ws *ws = vid_test_ws_connect_server(srv);
    g_autofree char *big = g_malloc(70001);
    json_t *m;
    gushort code = 0;

    vid_test_ws_send_text(ws, "{not json");
    m = vid_test_ws_expect_error(ws, "bad_json", T);
    g_assert_null(json_object_get(m, "re"));
    json_decref(m);
    vid_test_ws_send_raw(ws, "{\"type\":\"login\"} trailing", 26);
    json_decref(vid_test_ws_expect_error(ws, "bad_json", T));
    vid_test_ws_send_text(ws, "{\"type\":\"call.teleport\",\"id\":5}");
    m = vid_test_ws_expect_error(ws, "unknown_type", T);
    g_assert_cmpint(vid_test_json_int(m, "re"), ==, 5);
    json_decref(m);
    vid_test_ws_send_text(ws, "{\"type\":\"welcome\",\"id\":6}");
    json_decref(vid_test_ws_expect_error(ws, "unknown_type", T));
    vid_test_ws_send_text(ws, "{\"type\":\"login\",\"id\":7,\"user\":\"x\"}");
    m = vid_test_ws_expect_error(ws, "bad_message", T);
    g_assert_cmpint(vid_test_json_int(m, "re"), ==, 7);
    json_decref(m);
    vid_test_ws_send_binary(ws, "{}", 2);
    json_decref(vid_test_ws_expect_error(ws, "bad_json", T));

    /* still usable after all that */
    {
        g_autofree char *fp = vid_test_fingerprint(9);
        m = vid_test_ws_login(ws, 8, "carol", "secret-c", "pc", fp);
        assert_str(m, "type", "welcome");
        json_decref(m);
    }

    /* over 64 KiB: too_large, then closed with 1009 */
    memset(big, 'a', 70000);
    big[70000] = '\0';
    vid_test_ws_send_text(ws, big);
    json_decref(vid_test_ws_expect_error(ws, "too_large", T));
    g_assert_true(vid_test_ws_wait_closed(ws, T, &code));
    g_assert_cmpuint(code, ==, 1009);
    vid_test_ws_free(ws);
}

static void test_flood(void)
{
    vid_test_server *s =
        vid_test_server_start("[limits]\nrate=5\nburst=10\nflood_close=40\n");
    vid_test_ws *flooder, *other;
    guint limited = 0, acks = 0;
    gushort code = 0;
    json_t *m;

    vid_test_server_add_user(s, "alice", "pw-alice");
    vid_test_server_add_user(s, "bob", "pw-bob");
    flooder = vid_test_ws_login_server(s, "alice", "pw-alice", "laptop", 1);
    other = vid_test_ws_login_server(s, "bob", "pw-bob", "phone", 2);
    for (int i = 0; i < 30; i++)
        vid_test_ws_send_json(flooder, req("{s:s, s:i, s:[s]}", "type",
                                           "presence.subscribe", "id", 100 + i,
                                           "users", "bob"));
    while ((m = vid_test_ws_recv(flooder, 1000)) != NULL) {
        const char *type = vid_test_json_str(m, "type");
        if (g_strcmp0(type, "error") == 0) {
            assert_str(m, "code", "rate_limited");
            limited++;
        } else if (g_strcmp0(type, "ack") == 0) {
            acks++;
        }
        json_decref(m);
    }
    /* every message answered; the burst (10) passed, most of the rest
     * was dropped (a slow server, e.g. under valgrind, refills a few) */
    g_assert_cmpuint(acks + limited, ==, 30);
    g_assert_cmpuint(acks, >=, 9);
    g_assert_cmpuint(limited, >=, 10);
    /* the other connection is unaffected */
    vid_test_ws_send_json(other,
                          req("{s:s, s:i, s:[s]}", "type", "presence.subscribe",
                              "id", 1, "users", "alice"));
    json_decref(vid_test_ws_expect(other, "ack", T));
    json_decref(vid_test_ws_expect(other, "presence", T));
    /* keep flooding: closed with 1008 */
    for (int i = 0; i < 100 && !vid_test_ws_is_closed(flooder); i++)
        vid_test_ws_send_text(flooder, "{}");
    g_assert_true(vid_test_ws_wait_closed(flooder, T, &code));
    g_assert_cmpuint(code, ==, 1008);
    m = vid_test_ws_expect(other, "presence", T);
    assert_str(m, "status", "offline");
    json_decref(m);
    vid_test_ws_free(flooder);
    vid_test_ws_free(other);
    vid_test_server_stop(s);
}

static void test_throttle(void)
{
    vid_test_ws *ws = vid_test_ws_connect_server(srv);
    g_autofree char *fp = vid_test_fingerprint(7);
    json_t *m;

    for (int i = 1; i <= 5; i++) {
        m = vid_test_ws_login(ws, i, "dave", "guess", "pc", fp);
        assert_str(m, "code", "bad_credentials");
        json_decref(m);
    }
    m = vid_test_ws_login(ws, 6, "dave", "guess", "pc", fp);
    assert_str(m, "code", "login_throttled");
    g_assert_cmpint(vid_test_json_int(m, "retry_after"), >, 0);
    json_decref(m);
    /* while throttled even the right password is refused */
    m = vid_test_ws_login(ws, 7, "dave", "secret-d", "pc", fp);
    assert_str(m, "code", "login_throttled");
    json_decref(m);
    vid_test_ws_free(ws);
    /* other accounts are not affected */
    vid_test_ws_free(
        vid_test_ws_login_server(srv, "carol", "secret-c", "pc", 4));
}

static void test_session_replaced(void)
{
    vid_test_ws *b1 =
        vid_test_ws_login_server(srv, "bob", "secret-b", "phone", 2);
    vid_test_ws *b2 =
        vid_test_ws_login_server(srv, "bob", "secret-b", "phone", 2);
    gushort code = 0;

    json_decref(vid_test_ws_expect_error(b1, "session_replaced", T));
    g_assert_true(vid_test_ws_wait_closed(b1, T, &code));
    g_assert_cmpuint(code, ==, 1000);
    vid_test_ws_free(b1);
    vid_test_ws_free(b2);
}

static void test_connection_limits(void)
{
    vid_test_server *s = vid_test_server_start(
        "[server]\nmax_connections_per_address=2\nlogin_timeout=5\n");
    vid_test_ws *c1 = vid_test_ws_connect_server(s);
    vid_test_ws *c2 = vid_test_ws_connect_server(s);
    vid_test_ws *c3 = vid_test_ws_connect_server(s);
    gushort code = 0;

    json_decref(vid_test_ws_expect_error(c3, "too_many_connections", T));
    g_assert_true(vid_test_ws_wait_closed(c3, T, &code));
    g_assert_cmpuint(code, ==, 1013);
    /* not logging in within login_timeout closes the connection (5 s: the
     * three TLS connections above must all be up before it strikes, which
     * takes seconds under valgrind) */
    g_assert_true(vid_test_ws_wait_closed(c1, 20000, &code));
    g_assert_cmpuint(code, ==, 1008);
    g_assert_true(vid_test_ws_wait_closed(c2, 20000, NULL));
    vid_test_ws_free(c1);
    vid_test_ws_free(c2);
    vid_test_ws_free(c3);
    vid_test_server_stop(s);
}

static void test_admin_commands(void)
{
    vid_test_server *s = vid_test_server_start(
        "[policy]\nturn=turn:127.0.0.1:3478?transport=udp;"
        "turns:127.0.0.1:5349?transport=tcp\nturn_secret=s3cret\n"
        "media_port_min=40000\nmedia_port_max=40099\n");
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_autofree char *list = NULL;
    g_autofree char *rules = NULL;
    g_autofree char *version = NULL;
    vid_test_ws *ws;
    json_t *m, *servers;

    /* user add reads the password from stdin, never argv */
    g_assert_cmpint(vid_test_server_run(s, "pw-erin\n", &out, &err, "user",
                                        "add", "erin", NULL),
                    ==, 0);
    g_assert_cmpint(vid_test_server_run(s, "pw-erin\n", NULL, NULL, "user",
                                        "add", "erin", NULL),
                    ==, 1);
    g_assert_cmpint(vid_test_server_run(s, "x\n", NULL, NULL, "user", "add",
                                        "bad name!", NULL),
                    ==, 1);
    g_assert_cmpint(vid_test_server_run(s, "frank pw-frank\ngrace pw grace\n",
                                        NULL, NULL, "user", "import", NULL),
                    ==, 0);
    g_assert_cmpint(
        vid_test_server_run(s, NULL, &list, NULL, "user", "list", NULL), ==, 0);
    g_assert_nonnull(strstr(list, "erin\t"));
    g_assert_nonnull(strstr(list, "frank\t"));
    g_assert_nonnull(strstr(list, "grace\t"));

    /* a password with spaces from import works; TURN credentials issued */
    ws = vid_test_ws_login_server(s, "grace", "pw grace", "pc", 5);
    vid_test_ws_free(ws);
    ws = vid_test_ws_connect_server(s);
    {
        g_autofree char *fp = vid_test_fingerprint(6);
        m = vid_test_ws_login(ws, 1, "erin", "pw-erin", "pc", fp);
    }
    assert_str(m, "type", "welcome");
    servers = json_object_get(json_object_get(m, "policy"), "ice_servers");
    g_assert_cmpuint(json_array_size(servers), ==, 1);
    g_assert_true(g_str_has_suffix(
        vid_test_json_str(json_array_get(servers, 0), "username"), ":erin"));
    g_assert_nonnull(
        vid_test_json_str(json_array_get(servers, 0), "credential"));
    json_decref(m);
    vid_test_ws_free(ws);

    /* passwd, then the old password fails and the new one works */
    g_assert_cmpint(vid_test_server_run(s, "pw-erin-2\n", NULL, NULL, "user",
                                        "passwd", "erin", NULL),
                    ==, 0);
    ws = vid_test_ws_login_server(s, "erin", "pw-erin-2", "pc", 6);
    vid_test_ws_free(ws);
    g_assert_cmpint(
        vid_test_server_run(s, NULL, NULL, NULL, "user", "del", "frank", NULL),
        ==, 0);
    g_free(list);
    list = NULL;
    vid_test_server_run(s, NULL, &list, NULL, "user", "list", NULL);
    g_assert_null(strstr(list, "frank"));

    g_assert_cmpint(vid_test_server_run(s, NULL, &rules, NULL,
                                        "--print-firewall-rules", NULL),
                    ==, 0);
    g_assert_nonnull(strstr(rules, "table inet vid {"));
    {
        g_autofree char *port_rule = g_strdup_printf(
            "tcp dport %s accept", strrchr(vid_test_server_url(s), ':') + 1);
        port_rule[strlen(port_rule) - strlen(" accept") - 1] = '\0';
        g_assert_nonnull(strstr(rules, port_rule));
    }
    g_assert_nonnull(strstr(rules, "udp dport 3478 accept"));
    g_assert_nonnull(strstr(rules, "tcp dport 5349 accept"));
    g_assert_nonnull(strstr(rules, "udp dport 40000-40099 accept"));

    g_assert_cmpint(
        vid_test_server_run(NULL, NULL, &version, NULL, "--version", NULL), ==,
        0);
    g_assert_true(g_str_has_prefix(version, "vid-signaling-server "));
    vid_test_server_stop(s);
}

static guint64 metric(const char *text, const char *name)
{
    g_autofree char *needle = g_strconcat("\n", name, " ", NULL);
    const char *p = strstr(text, needle);
    if (p == NULL)
        return 0;
    return g_ascii_strtoull(p + strlen(needle), NULL, 10);
}

static void test_metrics(void)
{
    vid_test_server *s = vid_test_server_start(NULL);
    vid_test_ws *a, *b, *bad;
    g_autofree char *health = NULL;
    g_autofree char *text = NULL;
    g_autofree char *fp = vid_test_fingerprint(3);
    g_autofree char *call = NULL;
    guint status = 0;

    vid_test_server_add_user(s, "alice", "pw-alice");
    vid_test_server_add_user(s, "bob", "pw-bob");
    health = vid_test_server_admin_get(s, "/healthz", &status);
    g_assert_cmpuint(status, ==, 200);
    g_assert_cmpstr(health, ==, "ok\n");

    a = vid_test_ws_login_server(s, "alice", "pw-alice", "laptop", 1);
    b = vid_test_ws_login_server(s, "bob", "pw-bob", "phone", 2);
    bad = vid_test_ws_connect_server(s);
    json_decref(vid_test_ws_login(bad, 1, "alice", "nope", "x", fp));
    vid_test_ws_send_text(bad, "[]");
    json_decref(vid_test_ws_expect_error(bad, "bad_json", T));
    call = invite(a, 5, "bob");
    json_decref(vid_test_ws_expect(b, "call.invite", T));

    text = vid_test_server_admin_get(s, "/metrics", &status);
    g_assert_cmpuint(status, ==, 200);
    g_assert_cmpuint(metric(text, "vid_connections"), ==, 3);
    g_assert_cmpuint(metric(text, "vid_logins_total{result=\"ok\"}"), ==, 2);
    g_assert_cmpuint(metric(text, "vid_logins_total{result=\"failed\"}"), ==,
                     1);
    g_assert_cmpuint(metric(text, "vid_calls_routed_total"), ==, 1);
    g_assert_cmpuint(metric(text, "vid_messages_total"), ==, 5);
    g_assert_cmpuint(
        metric(text, "vid_messages_rejected_total{reason=\"bad_json\"}"), ==,
        1);
    g_assert_cmpuint(metric(text, "vid_messages_rejected_total{reason="
                                  "\"bad_credentials\"}"),
                     ==, 1);
    g_free(text);
    text = vid_test_server_admin_get(s, "/nothing", &status);
    g_assert_cmpuint(status, ==, 404);

    vid_test_ws_free(a);
    vid_test_ws_free(b);
    vid_test_ws_free(bad);
    vid_test_server_stop(s);
}

static void test_restart_and_sigterm(void)
{
    vid_test_server *s = vid_test_server_start(NULL);
    vid_test_ws *ws;
    json_t *m;
    gushort code = 0;

    vid_test_server_add_user(s, "alice", "pw-alice");
    ws = vid_test_ws_login_server(s, "alice", "pw-alice", "laptop", 1);

    /* SIGTERM: shutting_down, close 1001, exit status 0 */
    g_assert_cmpint(vid_test_server_terminate(s), ==, 0);
    m = vid_test_ws_expect_error(ws, "shutting_down", T);
    json_decref(m);
    g_assert_true(vid_test_ws_wait_closed(ws, T, &code));
    g_assert_cmpuint(code, ==, 1001);
    vid_test_ws_free(ws);

    /* users persist across a restart on the same state */
    vid_test_server_restart(s);
    ws = vid_test_ws_login_server(s, "alice", "pw-alice", "laptop", 1);
    vid_test_ws_free(ws);
    vid_test_server_stop(s);
}

static void test_pending_logins(void)
{
    /* Real Argon2id cost (64 MiB): a check takes long enough that a
     * second login arrives while the first is still being verified. */
    vid_test_server *s = vid_test_server_start(
        "[auth]\npwhash=interactive\nmax_pending_logins=1\n");
    g_autofree char *fp = vid_test_fingerprint(1);
    vid_test_ws *c1, *c2;
    json_t *m1, *m2;

    vid_test_server_add_user(s, "alice", "pw-alice");
    c1 = vid_test_ws_connect_server(s);
    c2 = vid_test_ws_connect_server(s);
    vid_test_ws_send_json(c1,
                          req("{s:s, s:i, s:s, s:s, s:s, s:s}", "type", "login",
                              "id", 1, "user", "alice", "password", "pw-alice",
                              "device", "a", "fingerprint", fp));
    vid_test_ws_send_json(c2,
                          req("{s:s, s:i, s:s, s:s, s:s, s:s}", "type", "login",
                              "id", 1, "user", "alice", "password", "pw-alice",
                              "device", "b", "fingerprint", fp));
    /* whichever arrived second found the queue full */
    m1 = vid_test_ws_recv(c1, 60000);
    m2 = vid_test_ws_recv(c2, 60000);
    g_assert_nonnull(m1);
    g_assert_nonnull(m2);
    if (g_strcmp0(vid_test_json_str(m1, "type"), "welcome") != 0) {
        json_t *t = m1;
        vid_test_ws *tc = c1;
        m1 = m2;
        m2 = t;
        c1 = c2;
        c2 = tc;
    }
    assert_str(m1, "type", "welcome");
    assert_str(m2, "code", "login_throttled");
    g_assert_cmpint(vid_test_json_int(m2, "retry_after"), ==, 1);
    json_decref(m1);
    json_decref(m2);
    /* once the queue is free the same login works */
    m2 = vid_test_ws_login(c2, 2, "alice", "pw-alice", "z", fp);
    assert_str(m2, "type", "welcome");
    json_decref(m2);
    /* a connection that goes away while its password is being checked */
    c1 = vid_test_ws_connect_server(s);
    vid_test_ws_send_json(c1,
                          req("{s:s, s:i, s:s, s:s, s:s, s:s}", "type", "login",
                              "id", 3, "user", "alice", "password", "pw-alice",
                              "device", "c", "fingerprint", fp));
    vid_test_ws_free(c1);
    c1 = NULL;
    /* Retry as the server says (retry_after, 1 s) until the abandoned
     * check is done: an Argon2id check can take seconds on a loaded
     * machine, so the bound is time (60 s), not a number of tries. */
    for (gint64 end = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
         c1 == NULL && g_get_monotonic_time() < end;) {
        vid_test_ws *c3 = vid_test_ws_connect_server(s);
        json_t *m = vid_test_ws_login(c3, 4, "alice", "pw-alice", "d", fp);
        if (g_strcmp0(vid_test_json_str(m, "type"), "welcome") == 0) {
            c1 = c3;
        } else {
            assert_str(m, "code", "login_throttled");
            vid_test_ws_free(c3);
            g_usleep(G_USEC_PER_SEC);
        }
        json_decref(m);
    }
    g_assert_nonnull(c1);
    vid_test_ws_free(c1);
    vid_test_ws_free(c2);
    vid_test_server_stop(s);
}

static void test_keepalive(void)
{
    vid_test_server *s =
        vid_test_server_start("[server]\nping_interval=1\nidle_timeout=3\n");
    vid_test_ws *ws;
    json_t *m;

    vid_test_server_add_user(s, "alice", "pw-alice");
    ws = vid_test_ws_login_server(s, "alice", "pw-alice", "laptop", 1);
    /* idle well past idle_timeout: the server pings, libsoup answers, the
     * connection stays up */
    g_assert_false(vid_test_ws_wait_closed(ws, 4500, NULL));
    vid_test_ws_send_json(ws,
                          req("{s:s, s:i, s:[s]}", "type", "presence.subscribe",
                              "id", 2, "users", "bob"));
    m = vid_test_ws_expect(ws, "ack", T);
    json_decref(m);
    vid_test_ws_free(ws);
    vid_test_server_stop(s);
}

static void test_identity_change(void)
{
    vid_test_server *s =
        vid_test_server_start("[server]\nidentity_change=reject\n");
    g_autofree char *fp1 = vid_test_fingerprint(1);
    g_autofree char *fp2 = vid_test_fingerprint(2);
    vid_test_ws *ws;
    json_t *m;

    vid_test_server_add_user(s, "alice", "pw-alice");
    ws = vid_test_ws_login_server(s, "alice", "pw-alice", "laptop", 1);
    vid_test_ws_free(ws);
    /* the same device with another identity key is refused... */
    ws = vid_test_ws_connect_server(s);
    m = vid_test_ws_login(ws, 1, "alice", "pw-alice", "laptop", fp2);
    assert_str(m, "code", "fingerprint_mismatch");
    json_decref(m);
    /* ...its registered key still works, and a new device registers */
    m = vid_test_ws_login(ws, 2, "alice", "pw-alice", "laptop", fp1);
    assert_str(m, "type", "welcome");
    json_decref(m);
    vid_test_ws_free(ws);
    ws = vid_test_ws_login_server(s, "alice", "pw-alice", "phone", 2);
    vid_test_ws_free(ws);
    vid_test_server_stop(s);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    srv = vid_test_server_start(NULL);
    vid_test_server_add_user(srv, "alice", "secret-a");
    vid_test_server_add_user(srv, "bob", "secret-b");
    vid_test_server_add_user(srv, "carol", "secret-c");
    vid_test_server_add_user(srv, "dave", "secret-d");

    g_test_add_func("/server/login", test_login);
    g_test_add_func("/server/presence", test_presence);
    g_test_add_func("/server/call/flow", test_call_flow);
    g_test_add_func("/server/call/reject-disconnect",
                    test_reject_and_disconnect);
    g_test_add_func("/server/call/errors", test_call_errors);
    g_test_add_func("/server/bad-input", test_bad_input);
    g_test_add_func("/server/limits/flood", test_flood);
    g_test_add_func("/server/limits/throttle", test_throttle);
    g_test_add_func("/server/limits/connections", test_connection_limits);
    g_test_add_func("/server/limits/pending-logins", test_pending_logins);
    g_test_add_func("/server/limits/keepalive", test_keepalive);
    g_test_add_func("/server/session-replaced", test_session_replaced);
    g_test_add_func("/server/identity-change", test_identity_change);
    g_test_add_func("/server/admin/commands", test_admin_commands);
    g_test_add_func("/server/admin/metrics", test_metrics);
    g_test_add_func("/server/restart-sigterm", test_restart_and_sigterm);
    rc = g_test_run();
    vid_test_server_stop(srv);
    return rc;
}
