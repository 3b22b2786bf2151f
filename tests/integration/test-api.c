/*
 * test-api.c — the public API under bad arguments and wrong states, in
 * the manner of libopus's test_opus_api.c: every exported function of
 * libvid.so gets NULL pointers, empty, oversized and malformed strings,
 * bad call ids, options structs of a wrong version or with values out of
 * range, and calls in the wrong state (before login, with no call, after
 * the call ended, on a client whose callback is gone). Each must return
 * the code include/vid/vid.h documents, leave its out parameters as
 * documented and never crash (run under ASan/UBSan and valgrind too).
 *
 * States that need a server use a real vid-signaling-server on loopback
 * (tests/support/vid-test.h). Calls use the synthetic camera and
 * microphone and never connect media: they ring, are declined, hung up or
 * go to an unknown user.
 *
 * Completeness: every API call below goes through CALL(), which records
 * the function's name. /api/exports lists the vid_* functions that
 * libvid.so exports ($VID_NM -D --defined-only $VID_LIB) and fails when
 * one is missing from covered[], or (after a full run) was never called.
 */
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <vid/vid.h>

#include "vid-test.h"

#define TIMEOUT_MS 20000
#define PASSWORD "pw-secret"
/* 32 lower-case hex digits that no server ever assigned. */
#define UNKNOWN_CALL "0123456789abcdef0123456789abcdef"

const char *__asan_default_options(void);
__attribute__((used, visibility("default"))) const char *
__asan_default_options(void)
{
    return "intercept_tls_get_addr=0";
}

/* ---- completeness ------------------------------------------------------ */

/* The functions this test exercises: every one libvid.so exports. */
static const char *const covered[] = {
    "vid_strerror",
    "vid_version",
    "vid_client_options_init",
    "vid_client_new",
    "vid_client_free",
    "vid_client_set_event_callback",
    "vid_client_get_fd",
    "vid_client_dispatch",
    "vid_client_last_error",
    "vid_client_get_fingerprint",
    "vid_client_get_device_name",
    "vid_client_connect",
    "vid_client_login",
    "vid_client_subscribe_presence",
    "vid_client_call_invite",
    "vid_client_call_ringing",
    "vid_client_call_accept",
    "vid_client_call_reject",
    "vid_client_call_candidate",
    "vid_client_call_hangup",
    "vid_client_get_policy",
    "vid_policy_free",
    "vid_call_options_init",
    "vid_call_place",
    "vid_call_answer",
    "vid_call_reject",
    "vid_call_hangup",
    "vid_call_set_mute",
    "vid_call_get_stats",
    "vid_call_get_sas",
    "vid_client_get_safety_number",
    "vid_client_trust_peer",
    "vid_devices_list",
    "vid_devices_free",
    "vid_client_watch_devices",
};

static GHashTable *exercised; /* names CALL() saw */
static int tests_run;         /* tests before /api/exports that finished */
#define N_API_TESTS 7

static void mark(const char *name)
{
    g_hash_table_add(exercised, (gpointer) name);
}

/* Call an API function and record that it was exercised. */
#define CALL(fn, ...) (mark(#fn), fn(__VA_ARGS__))

/* @rc must be @want; a failure must leave a message in the last error. */
#define CHECK(rc, want)                                                        \
    do {                                                                       \
        int rc_ = (rc);                                                        \
        if (rc_ != (want))                                                     \
            g_error("%s:%d: %s returned %d (%s), expected %d (%s)", __FILE__,  \
                    __LINE__, #rc, rc_, vid_strerror(rc_), (want),             \
                    vid_strerror(want));                                       \
    } while (0)

/* ---- fixtures ---------------------------------------------------------- */

typedef struct {
    vid_event_type type;
    uint64_t request_id;
    int code;
    char *call_id, *user;
    vid_end_reason end_reason;
} rec_event;

typedef struct {
    const char *user;
    vid_client *client;
    GQueue events;
    char *state_dir;
    int nested_dispatch; /* what a dispatch from the callback returned */
    bool free_in_callback;
} peer;

static vid_test_server *server;
static char *tmp_root;

static void rec_event_free(rec_event *e)
{
    g_free(e->call_id);
    g_free(e->user);
    g_free(e);
}

static void on_event(vid_client *c, const vid_event *ev, void *data)
{
    peer *p = data;
    rec_event *e = g_new0(rec_event, 1);

    e->type = ev->type;
    e->request_id = ev->request_id;
    e->code = ev->code;
    e->call_id = g_strdup(ev->call_id);
    e->user = g_strdup(ev->user);
    e->end_reason = ev->end_reason;
    if (g_test_verbose())
        g_printerr("  [%s] event %d code %d end %d %s\n", p->user, ev->type,
                   ev->code, ev->end_reason,
                   ev->message != NULL ? ev->message : "");
    g_queue_push_tail(&p->events, e);
    /* A nested dispatch returns 0 (vid_client_dispatch()). */
    p->nested_dispatch = CALL(vid_client_dispatch, c);
    if (p->free_in_callback && ev->type == VID_EVENT_LOGGED_IN) {
        /* Allowed from the callback: freed when the callback returns. */
        CALL(vid_client_free, c);
        p->client = NULL;
    }
}

static void pump_one(peer *p, int ms)
{
    struct pollfd pfd;

    if (p->client == NULL)
        return;
    pfd.fd = CALL(vid_client_get_fd, p->client);
    pfd.events = POLLIN;
    g_assert_cmpint(pfd.fd, >=, 0);
    poll(&pfd, 1, ms);
    g_assert_cmpint(CALL(vid_client_dispatch, p->client), >=, 0);
}

static peer *peers[2];

/* Deliver the events of both peers for @ms milliseconds. */
static void pump(int ms)
{
    gint64 end = g_get_monotonic_time() + (gint64) ms * 1000;

    do {
        for (int i = 0; i < 2; i++)
            if (peers[i] != NULL)
                pump_one(peers[i], 5);
    } while (g_get_monotonic_time() < end);
}

static rec_event *take(peer *p, vid_event_type type, int ms)
{
    gint64 end = g_get_monotonic_time() + (gint64) ms * 1000;

    for (;;) {
        for (GList *l = p->events.head; l != NULL; l = l->next) {
            rec_event *e = l->data;
            if (e->type == type) {
                g_queue_delete_link(&p->events, l);
                return e;
            }
        }
        if (g_get_monotonic_time() > end)
            return NULL;
        pump(20);
    }
}

static rec_event *expect(peer *p, vid_event_type type)
{
    rec_event *e = take(p, type, TIMEOUT_MS);

    if (e == NULL)
        g_error("%s: no event %d within %d ms", p->user, type, TIMEOUT_MS);
    return e;
}

static vid_client_options client_opts(const char *state_dir)
{
    vid_client_options o = VID_CLIENT_OPTIONS_INIT;

    o.server_url = vid_test_server_url(server);
    o.ca_file = vid_test_server_ca_file(server);
    o.state_dir = state_dir;
    o.device_name = "dev1";
    o.reconnect = 0;
    return o;
}

/* A client in slot @slot; logged in as @user when @login. */
static peer *peer_new(int slot, const char *user, bool login)
{
    vid_client_options opts;
    peer *p = g_new0(peer, 1);
    uint64_t req = 0;
    rec_event *e;

    p->user = user;
    p->state_dir = g_build_filename(tmp_root, user, NULL);
    opts = client_opts(p->state_dir);
    CHECK(CALL(vid_client_new, &p->client, &opts), VID_OK);
    g_assert_nonnull(p->client);
    CHECK(CALL(vid_client_set_event_callback, p->client, on_event, p), VID_OK);
    peers[slot] = p;
    if (!login)
        return p;
    CHECK(CALL(vid_client_login, p->client, user, PASSWORD, &req), VID_OK);
    g_assert_cmpuint(req, >, 0);
    e = expect(p, VID_EVENT_LOGGED_IN);
    g_assert_cmpuint(e->request_id, ==, req);
    rec_event_free(e);
    return p;
}

static void peer_free(int slot)
{
    peer *p = peers[slot];

    if (p == NULL)
        return;
    CALL(vid_client_free, p->client);
    g_queue_clear_full(&p->events, (GDestroyNotify) rec_event_free);
    g_free(p->state_dir);
    g_free(p);
    peers[slot] = NULL;
}

static vid_call_options synth_opts(void)
{
    vid_call_options o = VID_CALL_OPTIONS_INIT;

    o.synthetic_video = 1;
    o.synthetic_audio = 1;
    o.width = 320;
    o.height = 240;
    o.fps = 15;
    o.video_kbps = 300;
    o.max_video_kbps = 600;
    o.local_addresses = "127.0.0.1";
    return o;
}

/* A string of @n copies of @ch (g_free). */
static char *repeat(char ch, size_t n)
{
    char *s = g_malloc(n + 1);

    memset(s, ch, n);
    s[n] = '\0';
    return s;
}

/* ---- bad call options, shared by place and answer ---------------------- */

typedef struct {
    const char *what;
    void (*apply)(vid_call_options *o);
    int want;
} bad_option;

static void o_version0(vid_call_options *o)
{
    o->version = 0;
}
static void o_version2(vid_call_options *o)
{
    o->version = 2;
}
static void o_width_small(vid_call_options *o)
{
    o->width = 254;
}
static void o_width_odd(vid_call_options *o)
{
    o->width = 321;
}
static void o_width_big(vid_call_options *o)
{
    o->width = 4098;
}
static void o_height_small(vid_call_options *o)
{
    o->height = 126;
}
static void o_height_neg(vid_call_options *o)
{
    o->height = -240;
}
static void o_fps0(vid_call_options *o)
{
    o->fps = 0;
}
static void o_fps61(vid_call_options *o)
{
    o->fps = 61;
}
static void o_kbps_low(vid_call_options *o)
{
    o->video_kbps = 29;
}
static void o_kbps_high(vid_call_options *o)
{
    o->max_video_kbps = 20001;
}
static void o_kbps_min(vid_call_options *o)
{
    o->video_kbps = INT_MIN;
}
static void o_record_empty(vid_call_options *o)
{
    o->record_path = "";
}

static const bad_option bad_options[] = {
    {"version 0", o_version0, VID_EVERSION},
    {"version 2", o_version2, VID_EVERSION},
    {"width 254", o_width_small, VID_EINVAL},
    {"width 321", o_width_odd, VID_EINVAL},
    {"width 4098", o_width_big, VID_EINVAL},
    {"height 126", o_height_small, VID_EINVAL},
    {"height -240", o_height_neg, VID_EINVAL},
    {"fps 0", o_fps0, VID_EINVAL},
    {"fps 61", o_fps61, VID_EINVAL},
    {"video_kbps 29", o_kbps_low, VID_EINVAL},
    {"max_video_kbps 20001", o_kbps_high, VID_EINVAL},
    {"video_kbps INT_MIN", o_kbps_min, VID_EINVAL},
    {"record_path \"\"", o_record_empty, VID_EINVAL},
};

/* Malformed call ids for the vid_call_* functions (32 lower-case hex). */
static const char *const bad_call_ids[] = {
    "",
    "0123456789abcdef0123456789abcde",   /* 31 */
    "0123456789abcdef0123456789abcdef0", /* 33 */
    "0123456789ABCDEF0123456789ABCDEF",  /* upper case */
    "0123456789abcdef0123456789abcdeg",  /* not hex */
    "0123456789abcdef 123456789abcdef",
    "../../../../../../../../etc/pass",
};

/* Malformed call ids for the raw vid_client_call_* requests, which take
 * any id of the protocol: 1-64 lower-case hex digits. */
static const char *const bad_raw_call_ids[] = {
    "",
    "0123456789ABCDEF0123456789ABCDEF",
    "0123456789abcdef0123456789abcdeg",
    "0123456789abcdef 123456789abcdef",
    "../../../../../../../../etc/pass",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
    "\xff",
};

/* ---- /api/no-client: functions without a client, and NULL clients ------ */

static void test_no_client(void)
{
    vid_client_options co, co_init = VID_CLIENT_OPTIONS_INIT;
    vid_call_options o, o_init = VID_CALL_OPTIONS_INIT;
    vid_call_stats st;
    vid_policy *pol = (vid_policy *) &st;
    vid_device *devs = (vid_device *) &st;
    vid_client *c = (vid_client *) &st;
    uint64_t req;
    size_t n;
    char buf[VID_SAFETY_NUMBER_SIZE];
    char version[32];
    const char *users[] = {"bob"};
    int codes[] = {INT_MIN, -23, 1, 42, INT_MAX};

    /* vid_strerror: a sentence for every code, never NULL. */
    for (int code = VID_EMEDIA; code <= VID_OK; code++) {
        const char *s = CALL(vid_strerror, code);
        g_assert_nonnull(s);
        g_assert_cmpstr(s, !=, "");
        g_assert_cmpstr(s, !=, "unknown error");
    }
    for (size_t i = 0; i < G_N_ELEMENTS(codes); i++)
        g_assert_cmpstr(CALL(vid_strerror, codes[i]), ==, "unknown error");

    snprintf(version, sizeof version, "%d.%d.%d", VID_VERSION_MAJOR,
             VID_VERSION_MINOR, VID_VERSION_MICRO);
    g_assert_cmpstr(CALL(vid_version), ==, version);

    /* Options initialisers: NULL, unknown versions; untouched on
     * failure (call options), the INIT values on success. */
    CHECK(CALL(vid_client_options_init, NULL, VID_CLIENT_OPTIONS_VERSION),
          VID_EINVAL);
    CHECK(CALL(vid_client_options_init, &co, 0), VID_EVERSION);
    CHECK(CALL(vid_client_options_init, &co, VID_CLIENT_OPTIONS_VERSION + 1),
          VID_EVERSION);
    CHECK(CALL(vid_client_options_init, &co, UINT_MAX), VID_EVERSION);
    memset(&co, 0xa5, sizeof co);
    CHECK(CALL(vid_client_options_init, &co, VID_CLIENT_OPTIONS_VERSION),
          VID_OK);
    g_assert_cmpuint(co.version, ==, co_init.version);
    g_assert_null(co.server_url);
    g_assert_null(co.ca_file);
    g_assert_null(co.state_dir);
    g_assert_null(co.device_name);
    g_assert_null(co.main_context);
    g_assert_cmpint(co.reconnect, ==, co_init.reconnect);

    CHECK(CALL(vid_call_options_init, NULL, VID_CALL_OPTIONS_VERSION),
          VID_EINVAL);
    memset(&o, 0x5a, sizeof o);
    CHECK(CALL(vid_call_options_init, &o, 0), VID_EVERSION);
    CHECK(CALL(vid_call_options_init, &o, VID_CALL_OPTIONS_VERSION + 1),
          VID_EVERSION);
    g_assert_cmpuint(o.version, ==, 0x5a5a5a5a); /* untouched */
    CHECK(CALL(vid_call_options_init, &o, VID_CALL_OPTIONS_VERSION), VID_OK);
    g_assert_cmpuint(o.version, ==, o_init.version);
    g_assert_cmpint(o.send_video, ==, o_init.send_video);
    g_assert_cmpint(o.send_audio, ==, o_init.send_audio);
    g_assert_null(o.camera);
    g_assert_null(o.microphone);
    g_assert_cmpint(o.synthetic_video, ==, 0);
    g_assert_cmpint(o.synthetic_audio, ==, 0);
    g_assert_cmpint(o.width, ==, o_init.width);
    g_assert_cmpint(o.height, ==, o_init.height);
    g_assert_cmpint(o.fps, ==, o_init.fps);
    g_assert_cmpint(o.video_kbps, ==, o_init.video_kbps);
    g_assert_cmpint(o.max_video_kbps, ==, o_init.max_video_kbps);
    g_assert_cmpint(o.render_video, ==, 0);
    g_assert_cmpint(o.play_audio, ==, 0);
    g_assert_null(o.record_path);
    g_assert_cmpint(o.refuse_changed_identity, ==, 0);
    g_assert_null(o.on_video);
    g_assert_null(o.on_audio);
    g_assert_null(o.user_data);
    g_assert_null(o.local_addresses);

    /* vid_client_new: NULL out or options. */
    co = client_opts(tmp_root);
    CHECK(CALL(vid_client_new, NULL, &co), VID_EINVAL);
    g_assert_cmpstr(CALL(vid_client_last_error, NULL), !=, "");
    CHECK(CALL(vid_client_new, &c, NULL), VID_EINVAL);
    g_assert_null(c);

    /* Every function that takes a client, with NULL. Out parameters are
     * reset where documented. */
    CALL(vid_client_free, NULL);
    CALL(vid_policy_free, NULL);
    CALL(vid_devices_free, NULL, 0);
    CALL(vid_devices_free, NULL, 5);
    g_assert_nonnull(CALL(vid_client_last_error, NULL));
    g_assert_null(CALL(vid_client_get_fingerprint, NULL));
    g_assert_null(CALL(vid_client_get_device_name, NULL));
    CHECK(CALL(vid_client_set_event_callback, NULL, on_event, NULL),
          VID_EINVAL);
    CHECK(CALL(vid_client_get_fd, NULL), VID_EINVAL);
    CHECK(CALL(vid_client_dispatch, NULL), VID_EINVAL);
    CHECK(CALL(vid_client_connect, NULL), VID_EINVAL);
    req = 99;
    CHECK(CALL(vid_client_login, NULL, "alice", PASSWORD, &req), VID_EINVAL);
    g_assert_cmpuint(req, ==, 0);
    req = 99;
    CHECK(CALL(vid_client_subscribe_presence, NULL, users, 1, &req),
          VID_EINVAL);
    g_assert_cmpuint(req, ==, 0);
    req = 99;
    CHECK(CALL(vid_client_call_invite, NULL, "bob", "v=0\r\n", &req),
          VID_EINVAL);
    g_assert_cmpuint(req, ==, 0);
    req = 99;
    CHECK(CALL(vid_client_call_ringing, NULL, UNKNOWN_CALL, &req), VID_EINVAL);
    g_assert_cmpuint(req, ==, 0);
    req = 99;
    CHECK(CALL(vid_client_call_accept, NULL, UNKNOWN_CALL, "v=0\r\n", &req),
          VID_EINVAL);
    g_assert_cmpuint(req, ==, 0);
    req = 99;
    CHECK(CALL(vid_client_call_reject, NULL, UNKNOWN_CALL, "busy", &req),
          VID_EINVAL);
    g_assert_cmpuint(req, ==, 0);
    req = 99;
    CHECK(
        CALL(vid_client_call_candidate, NULL, UNKNOWN_CALL, "", NULL, -1, &req),
        VID_EINVAL);
    g_assert_cmpuint(req, ==, 0);
    req = 99;
    CHECK(CALL(vid_client_call_hangup, NULL, UNKNOWN_CALL, NULL, &req),
          VID_EINVAL);
    g_assert_cmpuint(req, ==, 0);
    CHECK(CALL(vid_client_get_policy, NULL, &pol), VID_EINVAL);
    g_assert_null(pol);
    CHECK(CALL(vid_client_get_policy, NULL, NULL), VID_EINVAL);
    req = 99;
    CHECK(CALL(vid_call_place, NULL, "bob", NULL, &req), VID_EINVAL);
    g_assert_cmpuint(req, ==, 0);
    CHECK(CALL(vid_call_answer, NULL, UNKNOWN_CALL, NULL), VID_EINVAL);
    CHECK(CALL(vid_call_reject, NULL, UNKNOWN_CALL, NULL), VID_EINVAL);
    CHECK(CALL(vid_call_hangup, NULL, NULL), VID_EINVAL);
    CHECK(CALL(vid_call_hangup, NULL, UNKNOWN_CALL), VID_EINVAL);
    CHECK(CALL(vid_call_set_mute, NULL, UNKNOWN_CALL, 1, 1), VID_EINVAL);
    CHECK(CALL(vid_call_get_stats, NULL, UNKNOWN_CALL, &st), VID_EINVAL);
    CHECK(CALL(vid_call_get_sas, NULL, UNKNOWN_CALL, buf, sizeof buf),
          VID_EINVAL);
    CHECK(
        CALL(vid_client_get_safety_number, NULL, "sha-256 00", buf, sizeof buf),
        VID_EINVAL);
    CHECK(CALL(vid_client_trust_peer, NULL, "bob", "dev1", "sha-256 00"),
          VID_EINVAL);
    CHECK(CALL(vid_client_watch_devices, NULL, 1), VID_EINVAL);
    CHECK(CALL(vid_client_watch_devices, NULL, 0), VID_EINVAL);

    /* vid_devices_list: NULL outs, unknown kinds; outs reset. */
    n = 7;
    CHECK(CALL(vid_devices_list, VID_DEVICE_CAMERA, NULL, &n), VID_EINVAL);
    g_assert_cmpuint(n, ==, 0);
    CHECK(CALL(vid_devices_list, VID_DEVICE_CAMERA, &devs, NULL), VID_EINVAL);
    g_assert_null(devs);
    for (int k = -1; k <= 4; k++) {
        if (k >= VID_DEVICE_CAMERA && k <= VID_DEVICE_SPEAKER)
            continue;
        devs = (vid_device *) &st;
        n = 7;
        CHECK(CALL(vid_devices_list, (vid_device_kind) k, &devs, &n),
              VID_EINVAL);
        g_assert_null(devs);
        g_assert_cmpuint(n, ==, 0);
        g_assert_cmpstr(CALL(vid_client_last_error, NULL), !=, "");
    }
    /* A real listing: an empty list is VID_OK with NULL and 0. */
    for (int k = VID_DEVICE_CAMERA; k <= VID_DEVICE_SPEAKER; k++) {
        CHECK(CALL(vid_devices_list, (vid_device_kind) k, &devs, &n), VID_OK);
        g_assert_true((n == 0) == (devs == NULL));
        for (size_t i = 0; i < n; i++) {
            g_assert_cmpint(devs[i].kind, ==, k);
            g_assert_nonnull(devs[i].id);
            g_assert_nonnull(devs[i].name);
            g_assert_true((devs[i].n_modes == 0) == (devs[i].modes == NULL));
        }
        CALL(vid_devices_free, devs, n);
    }
    tests_run++;
}

/* ---- /api/client-new: bad options --------------------------------------- */

static void expect_new_fails(vid_client_options *o, int want)
{
    vid_client *c = (vid_client *) o;

    int rc = CALL(vid_client_new, &c, o);

    if (rc != want)
        g_error("vid_client_new(url \"%s\", device \"%s\", state \"%s\", "
                "ca \"%s\") returned %d, expected %d",
                o->server_url, o->device_name, o->state_dir, o->ca_file, rc,
                want);
    g_assert_null(c);
    g_assert_cmpstr(CALL(vid_client_last_error, NULL), !=, "");
}

static void test_client_new(void)
{
    vid_client_options o;
    char *dir = g_build_filename(tmp_root, "new", NULL);
    char *file = g_build_filename(tmp_root, "a-file", NULL);
    char *under_file = g_build_filename(file, "state", NULL);
    char *long_name = repeat('d', 65);
    char *ok_name = repeat('d', 64);
    char *unreachable = g_strdup("wss://127.0.0.1:1/");
    const char *bad_urls[] = {
        "",
        "http://127.0.0.1/",
        "ws://127.0.0.1/",
        "wss://",
        "wss:///x",
        "127.0.0.1:443",
        "wss://[::1/",
        "wss://127.0.0.1:99999/",
        "wss://:443/",
        "wss://\x01/",
        "wss://a b/",
        "wss://a%20b/",
        "wss://exa\x7fmple.org/",
        "wss://ex\xc3\xa4mple.org/",
    };
    const char *bad_names[] = {"",    ".dev",  "-dev",
                               "a b", "dev/1", "d\xc3\xa9v"};
    vid_client *c = NULL;

    g_assert_true(g_file_set_contents(file, "not a PEM file\n", -1, NULL));

    o = client_opts(dir);
    o.version = 0;
    expect_new_fails(&o, VID_EVERSION);
    o.version = VID_CLIENT_OPTIONS_VERSION + 1;
    expect_new_fails(&o, VID_EVERSION);

    o = client_opts(dir);
    o.server_url = NULL;
    expect_new_fails(&o, VID_EINVAL);
    for (size_t i = 0; i < G_N_ELEMENTS(bad_urls); i++) {
        o.server_url = bad_urls[i];
        expect_new_fails(&o, VID_EINVAL);
        if (g_test_verbose())
            g_printerr("  bad URL %zu: %s\n", i,
                       CALL(vid_client_last_error, NULL));
    }
    /* A control character in the host: the message says what is wrong. */
    o.server_url = "wss://\x01/";
    expect_new_fails(&o, VID_EINVAL);
    g_assert_nonnull(strstr(CALL(vid_client_last_error, NULL),
                            "not allowed in a host name"));
    /* Hosts that are fine: IPv6 literal, xn-- name, underscore. */
    {
        const char *good_urls[] = {"wss://[::1]:9/", "wss://xn--mnchen-3ya.de/",
                                   "wss://my_host.example:8443/x"};
        for (size_t i = 0; i < G_N_ELEMENTS(good_urls); i++) {
            o.server_url = good_urls[i];
            g_assert_cmpint(CALL(vid_client_new, &c, &o), ==, VID_OK);
            CALL(vid_client_free, c);
            c = NULL;
        }
    }

    o = client_opts(dir);
    for (size_t i = 0; i < G_N_ELEMENTS(bad_names); i++) {
        o.device_name = bad_names[i];
        expect_new_fails(&o, VID_EINVAL);
    }
    o.device_name = long_name;
    expect_new_fails(&o, VID_EINVAL);

    /* The CA file: missing, or not PEM. */
    o = client_opts(dir);
    o.ca_file = "/nonexistent/ca.pem";
    expect_new_fails(&o, VID_ETLS);
    o.ca_file = file;
    expect_new_fails(&o, VID_ETLS);

    /* The state directory: empty, or cannot be created. */
    o = client_opts("");
    expect_new_fails(&o, VID_EINVAL);
    o = client_opts(under_file);
    expect_new_fails(&o, VID_EIO);

    /* The longest device name and an unreachable server are fine: the
     * client does not connect yet. */
    o = client_opts(dir);
    o.device_name = ok_name;
    o.server_url = unreachable;
    CHECK(CALL(vid_client_new, &c, &o), VID_OK);
    g_assert_cmpstr(CALL(vid_client_get_device_name, c), ==, ok_name);
    CALL(vid_client_free, c);

    g_free(dir);
    g_free(file);
    g_free(under_file);
    g_free(long_name);
    g_free(ok_name);
    g_free(unreachable);
    tests_run++;
}

/* ---- /api/not-logged-in: a client that never logged in ---------------- */

/* vid_call_* with malformed ids, and the answers for an id with no call,
 * on any client that has no managed call or invite with UNKNOWN_CALL. */
static void check_no_call(vid_client *c)
{
    vid_call_options o = synth_opts();
    vid_call_stats st;
    char sas[VID_SAS_SIZE];

    for (size_t i = 0; i < G_N_ELEMENTS(bad_call_ids); i++) {
        const char *id = bad_call_ids[i];
        CHECK(CALL(vid_call_answer, c, id, &o), VID_EINVAL);
        CHECK(CALL(vid_call_reject, c, id, NULL), VID_EINVAL);
        CHECK(CALL(vid_call_hangup, c, id), VID_EINVAL);
        CHECK(CALL(vid_call_set_mute, c, id, 0, 0), VID_EINVAL);
        memset(&st, 0xee, sizeof st);
        CHECK(CALL(vid_call_get_stats, c, id, &st), VID_EINVAL);
        g_assert_cmpint(st.duration_ms, ==, 0); /* zeroed */
        memset(sas, 'x', sizeof sas);
        CHECK(CALL(vid_call_get_sas, c, id, sas, sizeof sas), VID_EINVAL);
        g_assert_cmpstr(sas, ==, "");
        g_assert_cmpstr(CALL(vid_client_last_error, c), !=, "");
    }
    CHECK(CALL(vid_call_answer, c, NULL, &o), VID_EINVAL);
    CHECK(CALL(vid_call_reject, c, NULL, NULL), VID_EINVAL);
    CHECK(CALL(vid_call_set_mute, c, NULL, 1, 1), VID_EINVAL);
    CHECK(CALL(vid_call_get_stats, c, NULL, &st), VID_EINVAL);
    CHECK(CALL(vid_call_get_sas, c, NULL, sas, sizeof sas), VID_EINVAL);
    CHECK(CALL(vid_call_get_stats, c, UNKNOWN_CALL, NULL), VID_EINVAL);
    CHECK(CALL(vid_call_get_sas, c, UNKNOWN_CALL, NULL, VID_SAS_SIZE),
          VID_EINVAL);
    CHECK(CALL(vid_call_get_sas, c, UNKNOWN_CALL, sas, VID_SAS_SIZE - 1),
          VID_EINVAL);
    CHECK(CALL(vid_call_get_sas, c, UNKNOWN_CALL, sas, 0), VID_EINVAL);

    /* Well-formed id, no such call. */
    CHECK(CALL(vid_call_answer, c, UNKNOWN_CALL, &o), VID_ENOCALL);
    CHECK(CALL(vid_call_answer, c, UNKNOWN_CALL, NULL), VID_ENOCALL);
    CHECK(CALL(vid_call_reject, c, UNKNOWN_CALL, NULL), VID_ENOCALL);
    CHECK(CALL(vid_call_reject, c, UNKNOWN_CALL, "busy"), VID_ENOCALL);
    CHECK(CALL(vid_call_hangup, c, UNKNOWN_CALL), VID_ENOCALL);
    CHECK(CALL(vid_call_hangup, c, NULL), VID_ENOCALL);
    CHECK(CALL(vid_call_set_mute, c, UNKNOWN_CALL, 1, 0), VID_ENOCALL);
    memset(&st, 0xee, sizeof st);
    CHECK(CALL(vid_call_get_stats, c, UNKNOWN_CALL, &st), VID_ENOCALL);
    g_assert_cmpint(st.duration_ms, ==, 0);
    memset(sas, 'x', sizeof sas);
    CHECK(CALL(vid_call_get_sas, c, UNKNOWN_CALL, sas, sizeof sas),
          VID_ENOCALL);
    g_assert_cmpstr(sas, ==, "");

    /* Options are checked before the call id is looked up. */
    for (size_t i = 0; i < G_N_ELEMENTS(bad_options); i++) {
        vid_call_options b = synth_opts();
        bad_options[i].apply(&b);
        CHECK(CALL(vid_call_answer, c, UNKNOWN_CALL, &b), bad_options[i].want);
    }
    /* Bad reasons. */
    {
        char *long_reason = repeat('r', 65);
        const char *bad[] = {"", "a\nb", "\x7f", "\xff\xfe", long_reason};
        char *ok_reason = repeat('r', 64);
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
            CHECK(CALL(vid_call_reject, c, UNKNOWN_CALL, bad[i]), VID_EINVAL);
        CHECK(CALL(vid_call_reject, c, UNKNOWN_CALL, ok_reason), VID_ENOCALL);
        g_free(long_reason);
        g_free(ok_reason);
    }
}

/* The raw signaling requests' argument checks (any state). */
static void check_raw_args(vid_client *c)
{
    char *big_sdp = repeat('s', 60001);
    char *big_candidate = repeat('c', 1025);
    char *big_mid = repeat('m', 33);
    char *big_reason = repeat('r', 65);
    char *long_user = repeat('u', 65);
    const char *users300[300];
    const char *bad_user[] = {NULL, "", ".x", "a b", "\xff"};
    uint64_t req;

    for (size_t i = 0; i < G_N_ELEMENTS(users300); i++)
        users300[i] = "bob";

    /* subscribe: NULL array, 0 or more than 256 users, a bad name. */
    req = 99;
    CHECK(CALL(vid_client_subscribe_presence, c, NULL, 1, &req), VID_EINVAL);
    g_assert_cmpuint(req, ==, 0);
    CHECK(CALL(vid_client_subscribe_presence, c, users300, 0, NULL),
          VID_EINVAL);
    CHECK(CALL(vid_client_subscribe_presence, c, users300, 257, NULL),
          VID_EINVAL);
    for (size_t i = 0; i < G_N_ELEMENTS(bad_user); i++) {
        const char *two[2] = {"bob", bad_user[i]};
        CHECK(CALL(vid_client_subscribe_presence, c, two, 2, NULL), VID_EINVAL);
    }
    {
        const char *one[1] = {long_user};
        CHECK(CALL(vid_client_subscribe_presence, c, one, 1, NULL), VID_EINVAL);
    }

    /* invite: NULL or bad callee, NULL, empty, oversized, non-UTF-8 SDP. */
    CHECK(CALL(vid_client_call_invite, c, NULL, "v=0\r\n", NULL), VID_EINVAL);
    CHECK(CALL(vid_client_call_invite, c, "a b", "v=0\r\n", NULL), VID_EINVAL);
    CHECK(CALL(vid_client_call_invite, c, long_user, "v=0\r\n", NULL),
          VID_EINVAL);
    CHECK(CALL(vid_client_call_invite, c, "bob", NULL, NULL), VID_EINVAL);
    CHECK(CALL(vid_client_call_invite, c, "bob", "", NULL), VID_EINVAL);
    CHECK(CALL(vid_client_call_invite, c, "bob", big_sdp, NULL), VID_EINVAL);
    CHECK(CALL(vid_client_call_invite, c, "bob", "v=0\xc3\r\n", NULL),
          VID_EINVAL);

    /* Call messages: NULL or malformed call ids... */
    for (size_t i = 0; i < G_N_ELEMENTS(bad_raw_call_ids); i++) {
        const char *id = bad_raw_call_ids[i];
        req = 99;
        CHECK(CALL(vid_client_call_ringing, c, id, &req), VID_EINVAL);
        g_assert_cmpuint(req, ==, 0);
        CHECK(CALL(vid_client_call_accept, c, id, "v=0\r\n", NULL), VID_EINVAL);
        CHECK(CALL(vid_client_call_reject, c, id, "busy", NULL), VID_EINVAL);
        CHECK(CALL(vid_client_call_candidate, c, id, "", NULL, -1, NULL),
              VID_EINVAL);
        CHECK(CALL(vid_client_call_hangup, c, id, NULL, NULL), VID_EINVAL);
    }
    CHECK(CALL(vid_client_call_ringing, c, NULL, NULL), VID_EINVAL);
    CHECK(CALL(vid_client_call_accept, c, NULL, "v=0\r\n", NULL), VID_EINVAL);
    CHECK(CALL(vid_client_call_reject, c, NULL, "busy", NULL), VID_EINVAL);
    CHECK(CALL(vid_client_call_candidate, c, NULL, "", NULL, -1, NULL),
          VID_EINVAL);
    CHECK(CALL(vid_client_call_hangup, c, NULL, NULL, NULL), VID_EINVAL);
    /* ... and bad fields. */
    CHECK(CALL(vid_client_call_accept, c, UNKNOWN_CALL, NULL, NULL),
          VID_EINVAL);
    CHECK(CALL(vid_client_call_accept, c, UNKNOWN_CALL, "", NULL), VID_EINVAL);
    CHECK(CALL(vid_client_call_accept, c, UNKNOWN_CALL, big_sdp, NULL),
          VID_EINVAL);
    CHECK(CALL(vid_client_call_reject, c, UNKNOWN_CALL, NULL, NULL),
          VID_EINVAL);
    CHECK(CALL(vid_client_call_reject, c, UNKNOWN_CALL, "", NULL), VID_EINVAL);
    CHECK(CALL(vid_client_call_reject, c, UNKNOWN_CALL, big_reason, NULL),
          VID_EINVAL);
    CHECK(CALL(vid_client_call_hangup, c, UNKNOWN_CALL, big_reason, NULL),
          VID_EINVAL);
    CHECK(CALL(vid_client_call_hangup, c, UNKNOWN_CALL, "", NULL), VID_EINVAL);
    CHECK(
        CALL(vid_client_call_candidate, c, UNKNOWN_CALL, NULL, NULL, -1, NULL),
        VID_EINVAL);
    CHECK(CALL(vid_client_call_candidate, c, UNKNOWN_CALL, big_candidate, NULL,
               -1, NULL),
          VID_EINVAL);
    CHECK(
        CALL(vid_client_call_candidate, c, UNKNOWN_CALL, "", big_mid, -1, NULL),
        VID_EINVAL);
    CHECK(CALL(vid_client_call_candidate, c, UNKNOWN_CALL, "", "", -1, NULL),
          VID_EINVAL);
    CHECK(CALL(vid_client_call_candidate, c, UNKNOWN_CALL, "", NULL, -2, NULL),
          VID_EINVAL);
    CHECK(CALL(vid_client_call_candidate, c, UNKNOWN_CALL, "", NULL, 256, NULL),
          VID_EINVAL);
    CHECK(CALL(vid_client_call_candidate, c, UNKNOWN_CALL, "", NULL, INT_MIN,
               NULL),
          VID_EINVAL);

    g_free(big_sdp);
    g_free(big_candidate);
    g_free(big_mid);
    g_free(big_reason);
    g_free(long_user);
}

/* Safety numbers and pins (no connection needed). */
static void check_identity(peer *p, const char *other_fp)
{
    vid_client *c = p->client;
    char buf[VID_SAFETY_NUMBER_SIZE + 8];
    char *pins_path;
    const char *fp = CALL(vid_client_get_fingerprint, c);
    char *short_fp = g_strndup(fp, strlen(fp) - 3);
    char *long_fp = g_strconcat(fp, ":00", NULL);
    char *huge = repeat('A', 100000);
    const char *bad_fps[] = {
        "",           "sha-256", "sha-256 ", "sha-1 00:11",
        "sha-256 zz", huge,      short_fp,   long_fp,
    };
    const char *bad_names[] = {NULL, "", ".x", "a b", "\xff"};

    /* "sha-256 " then 32 hex pairs. */
    g_assert_nonnull(fp);
    g_assert_true(g_str_has_prefix(fp, "sha-256 "));
    g_assert_cmpuint(strlen(fp), ==, 8 + 32 * 3 - 1);

    for (size_t i = 0; i < G_N_ELEMENTS(bad_fps); i++) {
        memset(buf, 'x', sizeof buf);
        CHECK(
            CALL(vid_client_get_safety_number, c, bad_fps[i], buf, sizeof buf),
            VID_EINVAL);
        g_assert_cmpstr(buf, ==, "");
    }
    CHECK(CALL(vid_client_get_safety_number, c, NULL, buf, sizeof buf),
          VID_EINVAL);
    CHECK(CALL(vid_client_get_safety_number, c, other_fp, NULL, sizeof buf),
          VID_EINVAL);
    CHECK(CALL(vid_client_get_safety_number, c, other_fp, buf,
               VID_SAFETY_NUMBER_SIZE - 1),
          VID_EINVAL);
    CHECK(CALL(vid_client_get_safety_number, c, other_fp, buf, 0), VID_EINVAL);
    /* Exactly VID_SAFETY_NUMBER_SIZE is enough: 12 groups of 5 digits. */
    CHECK(CALL(vid_client_get_safety_number, c, other_fp, buf,
               VID_SAFETY_NUMBER_SIZE),
          VID_OK);
    g_assert_cmpuint(strlen(buf), ==, 71);
    for (int i = 0; i < 71; i++)
        g_assert_true(i % 6 == 5 ? buf[i] == ' ' : g_ascii_isdigit(buf[i]));
    /* With our own key too (a device calling itself is not an error). */
    CHECK(CALL(vid_client_get_safety_number, c, fp, buf, sizeof buf), VID_OK);

    /* Pins: bad names and keys, then a real one. */
    for (size_t i = 0; i < G_N_ELEMENTS(bad_names); i++) {
        CHECK(CALL(vid_client_trust_peer, c, bad_names[i], "dev1", other_fp),
              VID_EINVAL);
        CHECK(CALL(vid_client_trust_peer, c, "bob", bad_names[i], other_fp),
              VID_EINVAL);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(bad_fps); i++)
        CHECK(CALL(vid_client_trust_peer, c, "bob", "dev1", bad_fps[i]),
              VID_EINVAL);
    CHECK(CALL(vid_client_trust_peer, c, "bob", "dev1", NULL), VID_EINVAL);
    CHECK(CALL(vid_client_trust_peer, c, "bob", "dev9", other_fp), VID_OK);
    CHECK(CALL(vid_client_trust_peer, c, "bob", "dev9", other_fp), VID_OK);

    /* The pins file cannot be replaced (a directory in its place, which
     * defeats root too): VID_EIO, and a warning in the log. */
    pins_path = g_build_filename(p->state_dir, "known_peers", NULL);
    g_assert_cmpint(g_remove(pins_path), ==, 0);
    g_assert_cmpint(g_mkdir(pins_path, 0700), ==, 0);
    g_test_expect_message("vid", G_LOG_LEVEL_WARNING, "cannot save pins*");
    CHECK(CALL(vid_client_trust_peer, c, "bob", "dev8", other_fp), VID_EIO);
    g_test_assert_expected_messages();
    g_assert_cmpstr(CALL(vid_client_last_error, c), !=, "");
    g_assert_cmpint(g_rmdir(pins_path), ==, 0);
    CHECK(CALL(vid_client_trust_peer, c, "bob", "dev8", other_fp), VID_OK);

    g_free(pins_path);
    g_free(short_fp);
    g_free(long_fp);
    g_free(huge);
}

static void test_not_logged_in(void)
{
    peer *p = peer_new(0, "alice", false);
    peer *q = peer_new(1, "bob", false);
    vid_client *c = p->client;
    vid_call_options o = synth_opts();
    vid_policy *pol = (vid_policy *) &o;
    const char *users[] = {"bob"};
    char *long_pw = repeat('p', 1025);
    char *long_user = repeat('u', 65);
    const char *bad_users[] = {NULL,     "",           ".alice", "-alice",
                               "al ice", "al\xc3\xa9", long_user};
    char sn_a[VID_SAFETY_NUMBER_SIZE], sn_b[VID_SAFETY_NUMBER_SIZE];
    uint64_t req;

    g_assert_cmpint(CALL(vid_client_get_fd, c), >=, 0);
    g_assert_cmpstr(CALL(vid_client_get_device_name, c), ==, "dev1");
    /* Nothing queued: dispatch delivers 0 events. */
    CHECK(CALL(vid_client_dispatch, c), 0);

    /* login: bad user names and passwords. */
    for (size_t i = 0; i < G_N_ELEMENTS(bad_users); i++) {
        req = 99;
        CHECK(CALL(vid_client_login, c, bad_users[i], PASSWORD, &req),
              VID_EINVAL);
        g_assert_cmpuint(req, ==, 0);
    }
    CHECK(CALL(vid_client_login, c, "alice", NULL, NULL), VID_EINVAL);
    CHECK(CALL(vid_client_login, c, "alice", "", NULL), VID_EINVAL);
    CHECK(CALL(vid_client_login, c, "alice", long_pw, NULL), VID_EINVAL);
    CHECK(CALL(vid_client_login, c, "alice", "pw\xff", NULL), VID_EINVAL);
    g_assert_cmpstr(CALL(vid_client_last_error, c), !=, "");

    /* Requests that need a login: VID_ESTATE once the arguments are
     * good. */
    check_raw_args(c);
    req = 99;
    CHECK(CALL(vid_client_subscribe_presence, c, users, 1, &req), VID_ESTATE);
    g_assert_cmpuint(req, ==, 0);
    {
        const char *many[256];
        for (size_t i = 0; i < G_N_ELEMENTS(many); i++)
            many[i] = "bob";
        CHECK(CALL(vid_client_subscribe_presence, c, many, 256, &req),
              VID_ESTATE);
    }
    g_assert_cmpuint(req, ==, 0);
    CHECK(CALL(vid_client_call_invite, c, "bob", "v=0\r\n", NULL), VID_ESTATE);
    CHECK(CALL(vid_client_call_ringing, c, UNKNOWN_CALL, NULL), VID_ESTATE);
    CHECK(CALL(vid_client_call_accept, c, UNKNOWN_CALL, "v=0\r\n", NULL),
          VID_ESTATE);
    CHECK(CALL(vid_client_call_reject, c, UNKNOWN_CALL, "busy", NULL),
          VID_ESTATE);
    CHECK(CALL(vid_client_call_candidate, c, UNKNOWN_CALL, "", "0", 0, NULL),
          VID_ESTATE);
    CHECK(CALL(vid_client_call_hangup, c, UNKNOWN_CALL, NULL, NULL),
          VID_ESTATE);
    CHECK(CALL(vid_client_get_policy, c, &pol), VID_ESTATE);
    g_assert_null(pol);
    CHECK(CALL(vid_client_get_policy, c, NULL), VID_EINVAL);

    /* vid_call_place: arguments and options first, then the state. */
    req = 99;
    CHECK(CALL(vid_call_place, c, NULL, &o, &req), VID_EINVAL);
    g_assert_cmpuint(req, ==, 0);
    for (size_t i = 1; i < G_N_ELEMENTS(bad_users); i++)
        CHECK(CALL(vid_call_place, c, bad_users[i], &o, NULL), VID_EINVAL);
    for (size_t i = 0; i < G_N_ELEMENTS(bad_options); i++) {
        vid_call_options b = synth_opts();
        bad_options[i].apply(&b);
        if (g_test_verbose())
            g_printerr("  option %s\n", bad_options[i].what);
        CHECK(CALL(vid_call_place, c, "bob", &b, NULL), bad_options[i].want);
    }
    req = 99;
    CHECK(CALL(vid_call_place, c, "bob", &o, &req), VID_ESTATE);
    g_assert_cmpuint(req, ==, 0);
    CHECK(CALL(vid_call_place, c, "bob", NULL, NULL), VID_ESTATE);

    check_no_call(c);
    check_identity(p, CALL(vid_client_get_fingerprint, q->client));

    /* The safety number is the same on both devices. */
    CHECK(CALL(vid_client_get_safety_number, p->client,
               CALL(vid_client_get_fingerprint, q->client), sn_a, sizeof sn_a),
          VID_OK);
    CHECK(CALL(vid_client_get_safety_number, q->client,
               CALL(vid_client_get_fingerprint, p->client), sn_b, sizeof sn_b),
          VID_OK);
    g_assert_cmpstr(sn_a, ==, sn_b);

    /* Device watching: twice on, twice off, on again (freed with the
     * client). */
    CHECK(CALL(vid_client_watch_devices, c, 1), VID_OK);
    CHECK(CALL(vid_client_watch_devices, c, 1), VID_OK);
    CHECK(CALL(vid_client_watch_devices, c, 0), VID_OK);
    CHECK(CALL(vid_client_watch_devices, c, 0), VID_OK);
    CHECK(CALL(vid_client_watch_devices, c, 42), VID_OK);

    /* The callback can be removed and set again at any time. */
    CHECK(CALL(vid_client_set_event_callback, c, NULL, NULL), VID_OK);
    CHECK(CALL(vid_client_set_event_callback, c, on_event, p), VID_OK);

    /* The longest password is accepted; an unknown user's login fails
     * later, as an event (VID_EAUTH), and the client stays logged out. */
    {
        char *pw = repeat('p', 1024);
        rec_event *e;
        uint64_t id = 0;
        CHECK(CALL(vid_client_login, q->client, "nobody", pw, &id), VID_OK);
        g_assert_cmpuint(id, >, 0);
        e = expect(q, VID_EVENT_LOGIN_FAILED);
        g_assert_cmpuint(e->request_id, ==, id);
        g_assert_cmpint(e->code, ==, VID_EAUTH);
        rec_event_free(e);
        CHECK(CALL(vid_call_place, q->client, "alice", &o, NULL), VID_ESTATE);
        CHECK(CALL(vid_client_subscribe_presence, q->client, users, 1, NULL),
              VID_ESTATE);
        g_free(pw);
    }

    /* Two logins before the answer: both accepted (the second replaces
     * the first); one LOGGED_IN; a third login is then VID_ESTATE. */
    {
        uint64_t r1 = 0, r2 = 0, r3 = 99;
        rec_event *e;
        CHECK(CALL(vid_client_login, c, "alice", PASSWORD, &r1), VID_OK);
        CHECK(CALL(vid_client_login, c, "alice", PASSWORD, &r2), VID_OK);
        g_assert_cmpuint(r2, >, r1);
        e = expect(p, VID_EVENT_LOGGED_IN);
        g_assert_true(e->request_id == r1 || e->request_id == r2);
        rec_event_free(e);
        CHECK(CALL(vid_client_login, c, "alice", PASSWORD, &r3), VID_ESTATE);
        g_assert_cmpuint(r3, ==, 0);
        g_assert_null(take(p, VID_EVENT_LOGIN_FAILED, 0));
    }

    g_free(long_pw);
    g_free(long_user);
    peer_free(0);
    peer_free(1);
    tests_run++;
}

/* ---- /api/logged-in: the state checks of a live client ------------------ */

static void test_logged_in(void)
{
    peer *p = peer_new(0, "alice", true);
    vid_client *c = p->client;
    vid_policy *pol = NULL;
    vid_call_options o = synth_opts();
    const char *users[] = {"bob"};
    uint64_t req = 0;
    rec_event *e;

    /* A second login, and connect while connected. */
    CHECK(CALL(vid_client_login, c, "alice", PASSWORD, &req), VID_ESTATE);
    g_assert_cmpuint(req, ==, 0);
    CHECK(CALL(vid_client_login, c, "bob", PASSWORD, NULL), VID_ESTATE);
    CHECK(CALL(vid_client_connect, c), VID_OK);
    CHECK(CALL(vid_client_connect, c), VID_OK);

    CHECK(CALL(vid_client_get_policy, c, &pol), VID_OK);
    g_assert_nonnull(pol);
    g_assert_true(pol->n_ice_servers == 0 || pol->ice_servers != NULL);
    CALL(vid_policy_free, pol);

    /* Bad arguments still win over a good state. */
    check_raw_args(c);
    check_no_call(c);

    /* Raw requests with a call id the server does not know: accepted
     * here, refused by the server (VID_EVENT_ERROR, VID_ENOCALL). */
    {
        uint64_t ids[5];
        CHECK(CALL(vid_client_call_ringing, c, UNKNOWN_CALL, &ids[0]), VID_OK);
        CHECK(CALL(vid_client_call_accept, c, UNKNOWN_CALL, "v=0\r\n", &ids[1]),
              VID_OK);
        CHECK(CALL(vid_client_call_reject, c, UNKNOWN_CALL, "busy", &ids[2]),
              VID_OK);
        CHECK(CALL(vid_client_call_candidate, c, UNKNOWN_CALL, "", "0", 0,
                   &ids[3]),
              VID_OK);
        CHECK(CALL(vid_client_call_hangup, c, UNKNOWN_CALL, NULL, &ids[4]),
              VID_OK);
        for (int i = 0; i < 5; i++) {
            g_assert_cmpuint(ids[i], >, 0);
            e = expect(p, VID_EVENT_ERROR);
            g_assert_cmpuint(e->request_id, ==, ids[i]);
            g_assert_cmpint(e->code, ==, VID_ENOCALL);
            rec_event_free(e);
        }
    }
    /* A raw invite to a user that does not exist, with the shortest and
     * the longest SDP. */
    for (int i = 0; i < 2; i++) {
        char *sdp = repeat('s', i == 0 ? 1 : 60000);
        CHECK(CALL(vid_client_call_invite, c, "nobody", sdp, &req), VID_OK);
        e = expect(p, VID_EVENT_ERROR);
        g_assert_cmpuint(e->request_id, ==, req);
        g_assert_cmpint(e->code, ==, VID_ENOTFOUND);
        rec_event_free(e);
        g_free(sdp);
    }

    /* A bad local address is found when the call is made. */
    o.local_addresses = "not-an-address";
    CHECK(CALL(vid_call_place, c, "bob", &o, NULL), VID_EINVAL);
    o.local_addresses = "";
    CHECK(CALL(vid_call_place, c, "bob", &o, NULL), VID_EINVAL);
    o.local_addresses = "127.0.0.1,";
    CHECK(CALL(vid_call_place, c, "bob", &o, NULL), VID_EINVAL);
    CHECK(CALL(vid_call_hangup, c, NULL), VID_ENOCALL);

    /* Dispatch with no callback drops the events. */
    CHECK(CALL(vid_client_set_event_callback, c, NULL, NULL), VID_OK);
    CHECK(CALL(vid_client_subscribe_presence, c, users, 1, &req), VID_OK);
    g_assert_cmpuint(req, >, 0);
    {
        gint64 end = g_get_monotonic_time() + TIMEOUT_MS * 1000;
        int n = 0;
        struct pollfd pfd = {CALL(vid_client_get_fd, c), POLLIN, 0};
        while (n == 0 && g_get_monotonic_time() < end) {
            poll(&pfd, 1, 50);
            n = CALL(vid_client_dispatch, c);
            g_assert_cmpint(n, >=, 0);
        }
        g_assert_cmpint(n, >, 0);
    }
    CHECK(CALL(vid_client_set_event_callback, c, on_event, p), VID_OK);
    pump(200);
    g_assert_null(take(p, VID_EVENT_PRESENCE, 0));
    /* The nested dispatch in the callback returned 0. */
    g_assert_cmpint(p->nested_dispatch, ==, 0);

    peer_free(0);
    tests_run++;
}

/* ---- /api/call-states: one call, rung and declined; after its end ------ */

static void test_call_states(void)
{
    peer *a = peer_new(0, "alice", true);
    peer *b = peer_new(1, "bob", true);
    vid_call_options o = synth_opts();
    vid_call_stats st;
    char sas[VID_SAS_SIZE];
    uint64_t req = 0;
    rec_event *e;
    char *id;
    bool before_created;

    /* To a user who does not exist: ends at once, call_id NULL. */
    CHECK(CALL(vid_call_place, a->client, "nobody", &o, &req), VID_OK);
    g_assert_cmpuint(req, >, 0);
    e = expect(a, VID_EVENT_CALL_ENDED);
    g_assert_null(e->call_id);
    g_assert_cmpuint(e->request_id, ==, req);
    g_assert_cmpint(e->end_reason, ==, VID_END_OFFLINE);
    rec_event_free(e);
    CHECK(CALL(vid_call_hangup, a->client, NULL), VID_ENOCALL);

    /* Alice calls bob; it rings. */
    CHECK(CALL(vid_call_place, a->client, "bob", &o, &req), VID_OK);
    e = expect(a, VID_EVENT_CALL_CREATED);
    g_assert_cmpuint(e->request_id, ==, req);
    id = g_strdup(e->call_id);
    rec_event_free(e);
    g_assert_nonnull(id);
    e = expect(b, VID_EVENT_CALL_INVITE);
    g_assert_cmpstr(e->call_id, ==, id);
    rec_event_free(e);

    /* Caller, ringing out: one call at a time, no SAS yet, stats and
     * mute work. */
    CHECK(CALL(vid_call_place, a->client, "bob", &o, NULL), VID_EBUSY);
    memset(sas, 'x', sizeof sas);
    CHECK(CALL(vid_call_get_sas, a->client, id, sas, sizeof sas), VID_ESTATE);
    g_assert_cmpstr(sas, ==, "");
    CHECK(CALL(vid_call_set_mute, a->client, id, 1, 1), VID_OK);
    CHECK(CALL(vid_call_get_stats, a->client, id, &st), VID_OK);
    g_assert_cmpint(st.duration_ms, ==, 0);
    g_assert_true(st.audio_muted && st.video_muted);
    g_assert_cmpfloat(st.rtt_ms, ==, -1);
    CHECK(CALL(vid_call_set_mute, a->client, id, 0, 0), VID_OK);
    CHECK(CALL(vid_call_answer, a->client, id, &o), VID_ENOCALL);
    CHECK(CALL(vid_call_reject, a->client, id, NULL), VID_ENOCALL);

    /* Callee, ringing: not a managed call until answered; bad options
     * leave the invite ringing. */
    CHECK(CALL(vid_call_set_mute, b->client, id, 1, 1), VID_ENOCALL);
    CHECK(CALL(vid_call_get_stats, b->client, id, &st), VID_ENOCALL);
    CHECK(CALL(vid_call_get_sas, b->client, id, sas, sizeof sas), VID_ENOCALL);
    CHECK(CALL(vid_call_hangup, b->client, id), VID_ENOCALL);
    for (size_t i = 0; i < G_N_ELEMENTS(bad_options); i++) {
        vid_call_options bo = synth_opts();
        bad_options[i].apply(&bo);
        CHECK(CALL(vid_call_answer, b->client, id, &bo), bad_options[i].want);
    }
    o.local_addresses = "300.1.2.3";
    CHECK(CALL(vid_call_answer, b->client, id, &o), VID_EINVAL);
    o.local_addresses = "127.0.0.1";
    CHECK(CALL(vid_call_answer, b->client, UNKNOWN_CALL, &o), VID_ENOCALL);
    CHECK(CALL(vid_call_reject, b->client, id, "\x01"), VID_EINVAL);
    CHECK(CALL(vid_client_call_ringing, b->client, id, NULL), VID_OK);
    rec_event_free(expect(a, VID_EVENT_CALL_RINGING));

    /* Declined: both ends end with VID_END_REJECTED. */
    CHECK(CALL(vid_call_reject, b->client, id, NULL), VID_OK);
    e = expect(b, VID_EVENT_CALL_ENDED);
    g_assert_cmpstr(e->call_id, ==, id);
    g_assert_cmpint(e->end_reason, ==, VID_END_REJECTED);
    rec_event_free(e);
    e = expect(a, VID_EVENT_CALL_ENDED);
    g_assert_cmpstr(e->call_id, ==, id);
    g_assert_cmpint(e->end_reason, ==, VID_END_REJECTED);
    rec_event_free(e);

    /* After the end: the id is gone on both sides. */
    CHECK(CALL(vid_call_reject, b->client, id, NULL), VID_ENOCALL);
    CHECK(CALL(vid_call_answer, b->client, id, &o), VID_ENOCALL);
    CHECK(CALL(vid_call_hangup, a->client, id), VID_ENOCALL);
    CHECK(CALL(vid_call_hangup, a->client, NULL), VID_ENOCALL);
    CHECK(CALL(vid_call_set_mute, a->client, id, 1, 0), VID_ENOCALL);
    CHECK(CALL(vid_call_get_stats, a->client, id, &st), VID_ENOCALL);
    CHECK(CALL(vid_call_get_sas, a->client, id, sas, sizeof sas), VID_ENOCALL);
    g_free(id);

    /* Hung up at once, with NULL: before the server created the call
     * (then the end has call_id NULL and the request id of
     * vid_call_place(); seen under ASan and valgrind), or after CREATED
     * (then its call id; usual on a fast machine). Either way bob's
     * phone rings, then stops. */
    CHECK(CALL(vid_call_place, a->client, "bob", &o, &req), VID_OK);
    CHECK(CALL(vid_call_hangup, a->client, NULL), VID_OK);
    e = expect(a, VID_EVENT_CALL_ENDED);
    g_assert_cmpint(e->end_reason, ==, VID_END_HANGUP);
    before_created = e->call_id == NULL;
    if (before_created) {
        g_assert_cmpuint(e->request_id, ==, req);
        /* CALL_ENDED is the last event of the call: no CREATED after. */
        pump(300);
        g_assert_null(take(a, VID_EVENT_CALL_CREATED, 0));
        if (g_test_verbose())
            g_printerr("  hung up before CREATED\n");
    } else {
        rec_event *cr = take(a, VID_EVENT_CALL_CREATED, 0);
        g_assert_nonnull(cr);
        g_assert_cmpuint(cr->request_id, ==, req);
        g_assert_cmpstr(cr->call_id, ==, e->call_id);
        rec_event_free(cr);
    }
    rec_event_free(e);
    CHECK(CALL(vid_call_hangup, a->client, NULL), VID_ENOCALL);
    e = expect(b, VID_EVENT_CALL_INVITE);
    {
        /* Hung up before or after the id came, the server is told and
         * bob's phone stops ringing at once (not after the ring timeout:
         * the invite's ack of an abandoned call must not be swallowed). */
        rec_event *end = take(b, VID_EVENT_CALL_ENDED, 5000);
        g_assert_nonnull(end);
        g_assert_cmpint(end->end_reason, ==, VID_END_CANCELLED);
        g_assert_cmpstr(end->call_id, ==, e->call_id);
        rec_event_free(end);
        rec_event_free(e);
    }

    /* A new call can be placed; hung up while ringing, then gone. */
    CHECK(CALL(vid_call_place, a->client, "bob", &o, &req), VID_OK);
    e = expect(a, VID_EVENT_CALL_CREATED);
    id = g_strdup(e->call_id);
    rec_event_free(e);
    CHECK(CALL(vid_call_hangup, a->client, id), VID_OK);
    e = expect(a, VID_EVENT_CALL_ENDED);
    g_assert_cmpstr(e->call_id, ==, id);
    g_assert_cmpint(e->end_reason, ==, VID_END_HANGUP);
    rec_event_free(e);
    e = expect(b, VID_EVENT_CALL_ENDED);
    g_assert_cmpstr(e->call_id, ==, id);
    g_assert_cmpint(e->end_reason, ==, VID_END_CANCELLED);
    rec_event_free(e);
    CHECK(CALL(vid_call_hangup, a->client, id), VID_ENOCALL);
    CHECK(CALL(vid_call_answer, b->client, id, &o), VID_ENOCALL);
    g_free(id);

    /* An invite declined with the raw request is the application's: the
     * library no longer answers it, and ends nothing on bob's side. */
    g_queue_clear_full(&b->events, (GDestroyNotify) rec_event_free);
    CHECK(CALL(vid_call_place, a->client, "bob", &o, &req), VID_OK);
    e = expect(a, VID_EVENT_CALL_CREATED);
    g_assert_cmpuint(e->request_id, ==, req);
    id = g_strdup(e->call_id);
    rec_event_free(e);
    e = expect(b, VID_EVENT_CALL_INVITE);
    g_assert_cmpstr(e->call_id, ==, id);
    rec_event_free(e);
    CHECK(CALL(vid_client_call_reject, b->client, id, "declined", NULL),
          VID_OK);
    CHECK(CALL(vid_call_answer, b->client, id, &o), VID_ENOCALL);
    CHECK(CALL(vid_call_reject, b->client, id, NULL), VID_ENOCALL);
    e = expect(a, VID_EVENT_CALL_ENDED);
    g_assert_cmpstr(e->call_id, ==, id);
    g_assert_cmpint(e->end_reason, ==, VID_END_REJECTED);
    rec_event_free(e);
    pump(300);
    g_assert_null(take(b, VID_EVENT_CALL_ENDED, 0));
    g_free(id);

    peer_free(0);
    peer_free(1);
    tests_run++;
}

/* ---- /api/free-in-callback ---------------------------------------------- */

static void test_free_in_callback(void)
{
    peer *p = peer_new(0, "alice", false);
    gint64 end;

    p->free_in_callback = true;
    CHECK(CALL(vid_client_login, p->client, "alice", PASSWORD, NULL), VID_OK);
    end = g_get_monotonic_time() + (gint64) TIMEOUT_MS * 1000;
    while (p->client != NULL && g_get_monotonic_time() < end)
        pump_one(p, 20);
    g_assert_null(p->client); /* freed by the callback, no crash */
    peer_free(0);
    tests_run++;
}

/* ---- /api/main-context-free-in-callback --------------------------------- */

/* With a main_context, events come from a GSource on it; freeing the
 * client from the callback destroys that source while it dispatches. */
static void test_main_context_free(void)
{
    GMainContext *ctx = g_main_context_new();
    peer *p = g_new0(peer, 1);
    vid_client_options opts;
    gint64 end;

    p->user = "alice";
    p->state_dir = g_build_filename(tmp_root, "alice", NULL);
    p->free_in_callback = true;
    opts = client_opts(p->state_dir);
    opts.main_context = ctx;
    CHECK(CALL(vid_client_new, &p->client, &opts), VID_OK);
    peers[0] = p;
    CHECK(CALL(vid_client_set_event_callback, p->client, on_event, p), VID_OK);
    CHECK(CALL(vid_client_login, p->client, "alice", PASSWORD, NULL), VID_OK);
    end = g_get_monotonic_time() + (gint64) TIMEOUT_MS * 1000;
    while (p->client != NULL && g_get_monotonic_time() < end) {
        if (!g_main_context_iteration(ctx, FALSE))
            g_usleep(10000);
    }
    g_assert_null(p->client);
    /* The context lives on without the client's source. */
    for (int i = 0; i < 10; i++)
        g_main_context_iteration(ctx, FALSE);
    peer_free(0);
    g_main_context_unref(ctx);
    tests_run++;
}

/* ---- /api/exports ------------------------------------------------------- */

static void test_exports(void)
{
    const char *nm = g_getenv("VID_NM");
    const char *lib = g_getenv("VID_LIB");
    char *out = NULL, *err = NULL;
    char **lines;
    GError *error = NULL;
    gint status = 0;
    GHashTable *table = g_hash_table_new(g_str_hash, g_str_equal);
    GPtrArray *missing = g_ptr_array_new_with_free_func(g_free);
    guint n_exported = 0;

    if (nm == NULL || lib == NULL)
        g_error("set VID_NM (nm) and VID_LIB (libvid.so) as meson test does");
    {
        const char *argv[] = {nm, "-D", "--defined-only", lib, NULL};
        if (!g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL,
                          NULL, &out, &err, &status, &error))
            g_error("%s: %s", nm, error->message);
    }
    if (!g_spawn_check_wait_status(status, &error))
        g_error("%s %s: %s\n%s", nm, lib, error->message, err);
    for (size_t i = 0; i < G_N_ELEMENTS(covered); i++)
        g_hash_table_add(table, (gpointer) covered[i]);

    /* "0000000000012345 T vid_call_place@@VID_0.1" */
    lines = g_strsplit(out, "\n", -1);
    for (char **l = lines; *l != NULL; l++) {
        char **f = g_strsplit_set(g_strstrip(*l), " \t", -1);
        guint nf = g_strv_length(f);
        if (nf == 3 && g_str_has_prefix(f[2], "vid_")) {
            char *name = g_strndup(f[2], strcspn(f[2], "@"));
            g_assert_cmpstr(f[1], ==, "T"); /* only functions exported */
            n_exported++;
            if (!g_hash_table_contains(table, name))
                g_ptr_array_add(missing, g_strdup_printf("%s (not in "
                                                         "covered[])",
                                                         name));
            else if (tests_run == N_API_TESTS &&
                     !g_hash_table_contains(exercised, name))
                g_ptr_array_add(missing,
                                g_strdup_printf("%s (never called)", name));
            g_free(name);
        }
        g_strfreev(f);
    }
    g_strfreev(lines);
    if (g_test_verbose())
        g_printerr("  %u exported vid_* functions, %u covered, %u called\n",
                   n_exported, (guint) G_N_ELEMENTS(covered),
                   g_hash_table_size(exercised));
    for (guint i = 0; i < missing->len; i++)
        g_printerr("not exercised by test-api: %s\n",
                   (char *) missing->pdata[i]);
    g_assert_cmpuint(missing->len, ==, 0);
    /* And covered[] names nothing that is not exported. */
    g_assert_cmpuint(n_exported, ==, G_N_ELEMENTS(covered));
    if (tests_run != N_API_TESTS)
        g_test_message("only %d of %d tests ran: covered[] checked, calls not",
                       tests_run, N_API_TESTS);

    g_ptr_array_unref(missing);
    g_hash_table_unref(table);
    g_free(out);
    g_free(err);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    exercised = g_hash_table_new(g_str_hash, g_str_equal);
    tmp_root = g_dir_make_tmp("vid-test-api-XXXXXX", NULL);
    g_assert_nonnull(tmp_root);
    server = vid_test_server_start(NULL);
    vid_test_server_add_user(server, "alice", PASSWORD);
    vid_test_server_add_user(server, "bob", PASSWORD);

    g_test_add_func("/api/no-client", test_no_client);
    g_test_add_func("/api/client-new", test_client_new);
    g_test_add_func("/api/not-logged-in", test_not_logged_in);
    g_test_add_func("/api/logged-in", test_logged_in);
    g_test_add_func("/api/call-states", test_call_states);
    g_test_add_func("/api/free-in-callback", test_free_in_callback);
    g_test_add_func("/api/main-context-free-in-callback",
                    test_main_context_free);
    g_test_add_func("/api/exports", test_exports);
    rc = g_test_run();

    vid_test_server_stop(server);
    {
        char *cmd[] = {"rm", "-rf", tmp_root, NULL};
        g_spawn_sync(NULL, cmd, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                     NULL, NULL, NULL);
    }
    g_free(tmp_root);
    g_hash_table_unref(exercised);
    return rc;
}
