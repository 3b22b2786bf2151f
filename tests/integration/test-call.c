/*
 * test-call.c — managed calls (vid_call_*): two or three vid_clients in
 * one process through a real vid-signaling-server on loopback (fixture:
 * vid-test.h), media from the synthetic camera and microphone, ICE on
 * 127.0.0.1 only (vid_call_options.local_addresses).
 *
 * Every outcome is checked from both ends: the events (CREATED, RINGING,
 * ACCEPT, CONNECTED with equal SAS, ENDED with its reason) and the media
 * (pictures whose stamp reads back, in order, audio decoded, stats).
 * Calls last 2-4 s; timeouts are generous (2 shared cores).
 */
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <vid/vid.h>

#include <jansson.h>

#include "vid-test.h"

#define TIMEOUT_MS 20000

const char *__asan_default_options(void);
__attribute__((used, visibility("default"))) const char *
__asan_default_options(void)
{
    return "intercept_tls_get_addr=0";
}

typedef struct {
    vid_event_type type;
    uint64_t request_id;
    int code;
    char *user, *device, *call_id, *reason, *sas, *path, *fingerprint;
    char *message, *sdp;
    vid_end_reason end_reason;
    vid_ice_failure ice_failure;
    vid_peer_identity peer_identity;
    bool has_stats;       /* CALL_ENDED carried stats */
    vid_call_stats stats; /* their copy */
} rec_event;

typedef struct {
    const char *user;
    vid_client *client;
    GQueue events;
    char *state_dir;
    /* frames seen by the on_video / on_audio callbacks (decode threads) */
    gint video_frames, audio_frames;
} peer;

static vid_test_server *server;
static char *tmp_root;

static void rec_event_free(rec_event *e)
{
    g_free(e->user);
    g_free(e->device);
    g_free(e->call_id);
    g_free(e->reason);
    g_free(e->sas);
    g_free(e->path);
    g_free(e->fingerprint);
    g_free(e->message);
    g_free(e->sdp);
    g_free(e);
}

static void on_event(vid_client *c, const vid_event *ev, void *data)
{
    peer *p = data;
    rec_event *e = g_new0(rec_event, 1);

    e->type = ev->type;
    e->request_id = ev->request_id;
    e->code = ev->code;
    e->user = g_strdup(ev->user);
    e->device = g_strdup(ev->device);
    e->call_id = g_strdup(ev->call_id);
    e->reason = g_strdup(ev->reason);
    e->sas = g_strdup(ev->sas);
    e->path = g_strdup(ev->path);
    e->fingerprint = g_strdup(ev->fingerprint);
    e->message = g_strdup(ev->message);
    e->sdp = g_strdup(ev->sdp);
    e->end_reason = ev->end_reason;
    e->ice_failure = ev->ice_failure;
    e->peer_identity = ev->peer_identity;
    if (ev->stats != NULL) {
        g_assert_cmpint(ev->type, ==, VID_EVENT_CALL_ENDED);
        e->has_stats = true;
        e->stats = *ev->stats;
    }
    if (g_test_verbose())
        g_printerr("  [%s] event %d end %d code %d %s %s\n", p->user, ev->type,
                   ev->end_reason, ev->code,
                   ev->message != NULL ? ev->message : "",
                   ev->reason != NULL ? ev->reason : "");
    g_queue_push_tail(&p->events, e);
}

static peer *peers[4];

/* Deliver events of every live peer for @ms. */
static void pump(int ms)
{
    gint64 end = g_get_monotonic_time() + (gint64) ms * 1000;

    do {
        struct pollfd pfd[4];
        int n = 0;
        for (int i = 0; i < 4; i++) {
            if (peers[i] == NULL || peers[i]->client == NULL)
                continue;
            pfd[n].fd = vid_client_get_fd(peers[i]->client);
            pfd[n].events = POLLIN;
            n++;
        }
        poll(pfd, (nfds_t) n, 10);
        for (int i = 0; i < 4; i++)
            if (peers[i] != NULL && peers[i]->client != NULL)
                vid_client_dispatch(peers[i]->client);
    } while (g_get_monotonic_time() < end);
}

/* The first queued event of @type (taken out of the queue), waiting up
 * to @ms; NULL on timeout. */
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

static bool has_event(peer *p, vid_event_type type)
{
    for (GList *l = p->events.head; l != NULL; l = l->next)
        if (((rec_event *) l->data)->type == type)
            return true;
    return false;
}

static void video_cb(vid_client *c, const char *call_id,
                     const vid_video_frame *f, void *ud)
{
    peer *p = ud;

    g_assert_nonnull(call_id);
    g_assert_cmpint(f->width, >, 0);
    g_atomic_int_inc(&p->video_frames);
}

static void audio_cb(vid_client *c, const char *call_id,
                     const vid_audio_frame *f, void *ud)
{
    peer *p = ud;

    g_assert_cmpint(f->sample_rate, ==, 48000);
    g_assert_cmpuint(f->frames, ==, 960);
    g_atomic_int_inc(&p->audio_frames);
}

static peer *peer_new(int slot, const char *user)
{
    vid_client_options opts = VID_CLIENT_OPTIONS_INIT;
    peer *p = g_new0(peer, 1);
    rec_event *e;

    p->user = user;
    p->state_dir = g_build_filename(tmp_root, user, NULL);
    opts.server_url = vid_test_server_url(server);
    opts.ca_file = vid_test_server_ca_file(server);
    opts.state_dir = p->state_dir;
    opts.device_name = "dev1";
    opts.reconnect = 0;
    g_assert_cmpint(vid_client_new(&p->client, &opts), ==, VID_OK);
    vid_client_set_event_callback(p->client, on_event, p);
    peers[slot] = p;
    g_assert_cmpint(vid_client_login(p->client, user,
                                     "pw-"
                                     "secret",
                                     NULL),
                    ==, VID_OK);
    e = expect(p, VID_EVENT_LOGGED_IN);
    rec_event_free(e);
    return p;
}

static void peer_free(int slot)
{
    peer *p = peers[slot];

    if (p == NULL)
        return;
    vid_client_free(p->client);
    p->client = NULL;
    g_queue_clear_full(&p->events, (GDestroyNotify) rec_event_free);
    g_free(p->state_dir);
    g_free(p);
    peers[slot] = NULL;
}

static vid_call_options synth_opts(peer *p)
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
    o.on_video = video_cb;
    o.on_audio = audio_cb;
    o.user_data = p;
    return o;
}

/* @a calls @b (vid_call_place); returns the id of the invite @b got
 * (g_free) and, if @identity is not NULL, its peer_identity. */
static char *ring(peer *a, peer *b, const vid_call_options *ao,
                  vid_peer_identity *identity)
{
    rec_event *e;
    char *id;

    g_assert_cmpint(vid_call_place(a->client, b->user, ao, NULL), ==, VID_OK);
    e = expect(b, VID_EVENT_CALL_INVITE);
    id = g_strdup(e->call_id);
    if (identity != NULL)
        *identity = e->peer_identity;
    rec_event_free(e);
    return id;
}

/* @a calls @b, @b answers; both CONNECTED with the same SAS. Returns the
 * call id (g_free). */
static char *connect_call(peer *a, peer *b, const vid_call_options *ao,
                          const vid_call_options *bo)
{
    uint64_t req = 0;
    rec_event *created, *invite, *ca, *cb, *acc;
    char *id;
    char sas[VID_SAS_SIZE];

    g_assert_cmpint(vid_call_place(a->client, b->user, ao, &req), ==, VID_OK);
    g_assert_cmpuint(req, >, 0);
    created = expect(a, VID_EVENT_CALL_CREATED);
    g_assert_cmpuint(created->request_id, ==, req);
    g_assert_nonnull(created->call_id);
    id = g_strdup(created->call_id);
    rec_event_free(created);

    invite = expect(b, VID_EVENT_CALL_INVITE);
    g_assert_cmpstr(invite->call_id, ==, id);
    g_assert_cmpstr(invite->user, ==, a->user);
    g_assert_cmpstr(invite->fingerprint, ==,
                    vid_client_get_fingerprint(a->client));
    g_assert_true(invite->peer_identity == VID_PEER_NEW ||
                  invite->peer_identity == VID_PEER_KNOWN);
    rec_event_free(invite);
    g_assert_cmpint(vid_client_call_ringing(b->client, id, NULL), ==, VID_OK);
    rec_event_free(expect(a, VID_EVENT_CALL_RINGING));
    g_assert_cmpint(vid_call_answer(b->client, id, bo), ==, VID_OK);

    acc = expect(a, VID_EVENT_CALL_ACCEPT);
    g_assert_cmpstr(acc->call_id, ==, id);
    g_assert_cmpstr(acc->fingerprint, ==,
                    vid_client_get_fingerprint(b->client));
    rec_event_free(acc);

    ca = expect(a, VID_EVENT_CALL_CONNECTED);
    cb = expect(b, VID_EVENT_CALL_CONNECTED);
    g_assert_cmpstr(ca->call_id, ==, id);
    g_assert_cmpstr(cb->call_id, ==, id);
    g_assert_nonnull(ca->sas);
    g_assert_cmpuint(strlen(ca->sas), ==, 7);
    g_assert_cmpstr(ca->sas, ==, cb->sas);
    g_assert_cmpstr(ca->path, ==, "direct");
    g_assert_cmpstr(cb->path, ==, "direct");
    g_assert_cmpstr(ca->user, ==, b->user);
    g_assert_cmpstr(cb->user, ==, a->user);
    g_assert_cmpint(vid_call_get_sas(a->client, id, sas, sizeof sas), ==,
                    VID_OK);
    g_assert_cmpstr(sas, ==, ca->sas);
    rec_event_free(ca);
    rec_event_free(cb);
    /* Neither side saw a raw candidate or hangup of the managed call. */
    g_assert_false(has_event(a, VID_EVENT_CALL_CANDIDATE));
    g_assert_false(has_event(a, VID_EVENT_CALL_HANGUP));
    return id;
}

static void expect_ended(peer *p, const char *call_id, vid_end_reason r)
{
    rec_event *e = expect(p, VID_EVENT_CALL_ENDED);

    g_assert_cmpstr(e->call_id, ==, call_id);
    g_assert_cmpint(e->end_reason, ==, r);
    rec_event_free(e);
}

static void setup(void)
{
    peer_new(0, "alice");
    peer_new(1, "bob");
}

static void teardown(void)
{
    for (int i = 0; i < 4; i++)
        peer_free(i);
}

/* Media both ways, stats, mute, recording, hang-up by the caller. */
static void test_media(void)
{
    peer *a, *b;
    vid_call_options ao, bo;
    vid_call_stats sa, sb;
    char *id, *rec_path, *data = NULL;
    gsize len = 0;
    uint32_t kbps_before;

    setup();
    a = peers[0];
    b = peers[1];
    ao = synth_opts(a);
    bo = synth_opts(b);
    rec_path = g_build_filename(tmp_root, "bob-recv.webm", NULL);
    bo.record_path = rec_path;
    id = connect_call(a, b, &ao, &bo);

    pump(2500);
    g_assert_cmpint(vid_call_get_stats(a->client, id, &sa), ==, VID_OK);
    g_assert_cmpint(vid_call_get_stats(b->client, id, &sb), ==, VID_OK);
    g_test_message("a: sent %" G_GUINT64_FORMAT " recv %" G_GUINT64_FORMAT
                   " verified %" G_GUINT64_FORMAT " delay %.1f ms rtt %.1f",
                   sa.frames_sent, sa.frames_received, sa.frames_verified,
                   sa.delay_ms, sa.rtt_ms);
    g_test_message("b: sent %" G_GUINT64_FORMAT " recv %" G_GUINT64_FORMAT
                   " verified %" G_GUINT64_FORMAT " delay %.1f ms",
                   sb.frames_sent, sb.frames_received, sb.frames_verified,
                   sb.delay_ms);
    for (int i = 0; i < 2; i++) {
        vid_call_stats *s = i == 0 ? &sa : &sb;
        g_assert_cmpint(s->duration_ms, >=, 2000);
        g_assert_cmpuint(s->frames_sent, >=, 15);
        g_assert_cmpuint(s->frames_verified, >=, 15);
        g_assert_cmpuint(s->frames_out_of_order, ==, 0);
        g_assert_cmpfloat(s->delay_ms, >=, 0);
        g_assert_cmpfloat(s->delay_ms, <, 1000);
        g_assert_cmpuint(s->audio_frames_received, >=, 50);
        g_assert_cmpint(s->send_width, ==, 320);
        g_assert_cmpint(s->recv_width, ==, 320);
        g_assert_cmpint(s->recv_height, ==, 240);
        g_assert_cmpstr(s->local_candidate, ==, "host");
        g_assert_cmpstr(s->remote_candidate, ==, "host");
        g_assert_cmpstr(s->protocol, ==, "udp");
        g_assert_cmpint(s->relayed, ==, 0);
        g_assert_cmpint(s->audio_muted, ==, 0);
        g_assert_cmpint(s->video_muted, ==, 0);
    }
    g_assert_cmpint(g_atomic_int_get(&a->video_frames), >=, 15);
    g_assert_cmpint(g_atomic_int_get(&b->audio_frames), >=, 50);

    /* Mute: reflected in our stats and in what the peer receives. */
    kbps_before = sb.recv_video_kbps;
    g_assert_cmpuint(kbps_before, >, 20);
    g_assert_cmpint(vid_call_set_mute(a->client, id, 1, 1), ==, VID_OK);
    pump(2000);
    g_assert_cmpint(vid_call_get_stats(a->client, id, &sa), ==, VID_OK);
    g_assert_cmpint(vid_call_get_stats(b->client, id, &sb), ==, VID_OK);
    g_test_message("muted: b receives video %u kbit/s (was %u), audio %u",
                   sb.recv_video_kbps, kbps_before, sb.recv_audio_kbps);
    g_assert_cmpint(sa.audio_muted, ==, 1);
    g_assert_cmpint(sa.video_muted, ==, 1);
    g_assert_cmpuint(sb.recv_video_kbps, <, kbps_before / 3 + 1);
    g_assert_cmpint(vid_call_set_mute(a->client, id, 0, 0), ==, VID_OK);
    g_assert_cmpint(vid_call_get_stats(a->client, id, &sa), ==, VID_OK);
    g_assert_cmpint(sa.video_muted, ==, 0);

    g_assert_cmpint(vid_call_hangup(a->client, id), ==, VID_OK);
    /* The ended events carry the final stats of the whole call. */
    for (int i = 0; i < 2; i++) {
        rec_event *e = expect(i == 0 ? a : b, VID_EVENT_CALL_ENDED);
        g_assert_cmpstr(e->call_id, ==, id);
        g_assert_cmpint(e->end_reason, ==,
                        i == 0 ? VID_END_HANGUP : VID_END_REMOTE_HANGUP);
        g_assert_true(e->has_stats);
        g_test_message("%s final: %" G_GINT64_FORMAT
                       " ms, sent %" G_GUINT64_FORMAT
                       " recv %" G_GUINT64_FORMAT,
                       i == 0 ? "a" : "b", e->stats.duration_ms,
                       e->stats.frames_sent, e->stats.frames_received);
        g_assert_cmpint(e->stats.duration_ms, >=, 4500);
        g_assert_cmpuint(e->stats.frames_received, >, 0);
        g_assert_cmpuint(e->stats.frames_received, >=,
                         i == 0 ? sa.frames_received : sb.frames_received);
        g_assert_cmpuint(e->stats.audio_frames_received, >, 0);
        g_assert_cmpstr(e->stats.protocol, ==, "udp");
        rec_event_free(e);
    }
    g_assert_cmpint(vid_call_get_stats(a->client, id, &sa), ==, VID_ENOCALL);
    g_assert_cmpint(vid_call_hangup(a->client, id), ==, VID_ENOCALL);

    /* The recording: a WebM (EBML magic) with something in it. */
    g_assert_true(g_file_get_contents(rec_path, &data, &len, NULL));
    g_test_message("recording: %" G_GSIZE_FORMAT " bytes", len);
    g_assert_cmpuint(len, >, 4096);
    g_assert_cmpmem(data, 4, "\x1a\x45\xdf\xa3", 4);
    g_free(data);
    g_free(rec_path);

    /* Late messages of the call never surface as raw events. */
    pump(300);
    g_assert_false(has_event(a, VID_EVENT_CALL_HANGUP));
    g_assert_false(has_event(b, VID_EVENT_CALL_HANGUP));
    g_assert_false(has_event(a, VID_EVENT_CALL_CANDIDATE));
    g_free(id);
    teardown();
}

/* The callee hangs up; a second call between the same devices finds the
 * pinned keys KNOWN. */
static void test_callee_hangup(void)
{
    peer *a, *b;
    vid_call_options ao, bo;
    char *id;
    rec_event *e;
    vid_peer_identity identity;

    setup();
    a = peers[0];
    b = peers[1];
    ao = synth_opts(a);
    bo = synth_opts(b);
    id = connect_call(a, b, &ao, &bo);
    pump(500);
    g_assert_cmpint(vid_call_hangup(b->client, id), ==, VID_OK);
    expect_ended(b, id, VID_END_HANGUP);
    expect_ended(a, id, VID_END_REMOTE_HANGUP);
    g_free(id);

    /* Again: peer_identity is KNOWN now on both ends. */
    id = ring(a, b, &ao, &identity);
    g_assert_cmpint(identity, ==, VID_PEER_KNOWN);
    g_assert_cmpint(vid_call_answer(b->client, id, &bo), ==, VID_OK);
    e = expect(a, VID_EVENT_CALL_ACCEPT);
    g_assert_cmpint(e->peer_identity, ==, VID_PEER_KNOWN);
    rec_event_free(e);
    e = expect(a, VID_EVENT_CALL_CONNECTED);
    g_assert_cmpint(e->peer_identity, ==, VID_PEER_KNOWN);
    rec_event_free(e);
    g_assert_cmpint(vid_call_hangup(a->client, NULL), ==, VID_OK);
    expect_ended(a, id, VID_END_HANGUP);
    expect_ended(b, id, VID_END_REMOTE_HANGUP);
    g_free(id);
    teardown();
}

static void test_reject(void)
{
    peer *a, *b;
    vid_call_options ao;
    rec_event *e;
    char *id;

    setup();
    a = peers[0];
    b = peers[1];
    ao = synth_opts(a);
    id = ring(a, b, &ao, NULL);
    g_assert_cmpint(vid_call_reject(b->client, id, "x\x01"), ==, VID_EINVAL);
    g_assert_cmpint(vid_call_reject(b->client, id, NULL), ==, VID_OK);
    expect_ended(b, id, VID_END_REJECTED);
    e = expect(a, VID_EVENT_CALL_ENDED);
    g_assert_cmpstr(e->call_id, ==, id);
    g_assert_cmpint(e->end_reason, ==, VID_END_REJECTED);
    g_assert_cmpstr(e->reason, ==, "declined");
    g_assert_false(e->has_stats); /* never connected: stats NULL */
    rec_event_free(e);
    /* Answering it now: no such ringing call. */
    g_assert_cmpint(vid_call_answer(b->client, id, NULL), ==, VID_ENOCALL);
    g_free(id);
    teardown();
}

/* Carol calls Bob while Bob is in a call: Bob's library declines "busy". */
static void test_busy(void)
{
    peer *a, *b, *c;
    vid_call_options ao, bo, co;
    rec_event *e;
    char *id, *id2;
    uint64_t req = 0;

    setup();
    a = peers[0];
    b = peers[1];
    c = peer_new(2, "carol");
    ao = synth_opts(a);
    bo = synth_opts(b);
    co = synth_opts(c);
    id = connect_call(a, b, &ao, &bo);
    /* One managed call per client. */
    g_assert_cmpint(vid_call_place(a->client, "carol", &ao, NULL), ==,
                    VID_EBUSY);

    g_assert_cmpint(vid_call_place(c->client, "bob", &co, &req), ==, VID_OK);
    e = expect(b, VID_EVENT_CALL_INVITE);
    id2 = g_strdup(e->call_id);
    rec_event_free(e);
    expect_ended(b, id2, VID_END_BUSY);
    e = expect(c, VID_EVENT_CALL_ENDED);
    g_assert_cmpint(e->end_reason, ==, VID_END_BUSY);
    g_assert_cmpstr(e->call_id, ==, id2);
    g_assert_cmpstr(e->reason, ==, "busy");
    rec_event_free(e);

    /* The first call is unharmed. */
    pump(300);
    g_assert_false(has_event(a, VID_EVENT_CALL_ENDED));
    g_assert_false(has_event(b, VID_EVENT_CALL_ENDED));
    g_assert_cmpint(vid_call_hangup(a->client, id), ==, VID_OK);
    expect_ended(a, id, VID_END_HANGUP);
    expect_ended(b, id, VID_END_REMOTE_HANGUP);
    g_free(id);
    g_free(id2);
    teardown();
}

static void test_offline(void)
{
    peer *a;
    vid_call_options ao;
    rec_event *e;
    uint64_t req = 0;

    peer_new(0, "alice");
    a = peers[0];
    ao = synth_opts(a);
    /* dave exists but is not logged in; nobody does not exist. */
    for (int i = 0; i < 2; i++) {
        g_assert_cmpint(
            vid_call_place(a->client, i == 0 ? "dave" : "nobody", &ao, &req),
            ==, VID_OK);
        e = expect(a, VID_EVENT_CALL_ENDED);
        g_assert_null(e->call_id);
        g_assert_cmpuint(e->request_id, ==, req);
        g_assert_cmpint(e->end_reason, ==, VID_END_OFFLINE);
        g_assert_true(e->code == VID_EOFFLINE || e->code == VID_ENOTFOUND);
        rec_event_free(e);
        g_assert_false(has_event(a, VID_EVENT_ERROR));
    }
    teardown();
}

/* The caller gives up while the callee rings. */
static void test_cancel(void)
{
    peer *a, *b;
    vid_call_options ao;
    rec_event *e;
    char *id;

    setup();
    a = peers[0];
    b = peers[1];
    ao = synth_opts(a);
    id = ring(a, b, &ao, NULL);
    rec_event_free(expect(a, VID_EVENT_CALL_CREATED));
    g_assert_cmpint(vid_call_hangup(a->client, id), ==, VID_OK);
    expect_ended(a, id, VID_END_HANGUP);
    e = expect(b, VID_EVENT_CALL_CANCEL);
    g_assert_cmpstr(e->reason, ==, "caller_hangup");
    rec_event_free(e);
    e = expect(b, VID_EVENT_CALL_ENDED);
    g_assert_cmpint(e->end_reason, ==, VID_END_CANCELLED);
    g_assert_cmpstr(e->reason, ==, "caller_hangup");
    rec_event_free(e);
    g_assert_cmpint(vid_call_answer(b->client, id, NULL), ==, VID_ENOCALL);
    g_free(id);
    teardown();
}

/* vid_client_free() in the middle of a call: the peer's call ends, no
 * leak, no callback afterwards (ASan/valgrind runs check the rest). */
static void test_free_during_call(void)
{
    peer *a, *b;
    vid_call_options ao, bo;
    rec_event *e;
    char *id;

    setup();
    a = peers[0];
    b = peers[1];
    ao = synth_opts(a);
    bo = synth_opts(b);
    id = connect_call(a, b, &ao, &bo);
    pump(500);
    peer_free(0);
    e = expect(b, VID_EVENT_CALL_ENDED);
    g_assert_cmpstr(e->call_id, ==, id);
    g_assert_true(e->end_reason == VID_END_REMOTE_HANGUP ||
                  e->end_reason == VID_END_NETWORK_LOST);
    rec_event_free(e);
    g_free(id);
    teardown();
}

/* Arguments and ids that are not right, and a camera that does not exist. */
static void test_bad_calls(void)
{
    peer *a, *b;
    vid_call_options o, d;
    vid_call_stats st;
    char buf[VID_SAFETY_NUMBER_SIZE];
    char sn2[VID_SAFETY_NUMBER_SIZE];
    rec_event *e;

    setup();
    a = peers[0];
    b = peers[1];
    g_assert_cmpint(vid_call_options_init(&o, VID_CALL_OPTIONS_VERSION), ==,
                    VID_OK);
    d = (vid_call_options) VID_CALL_OPTIONS_INIT;
    g_assert_true(
        o.version == d.version && o.send_video == d.send_video &&
        o.send_audio == d.send_audio && o.width == d.width &&
        o.height == d.height && o.fps == d.fps &&
        o.video_kbps == d.video_kbps && o.max_video_kbps == d.max_video_kbps &&
        o.synthetic_video == 0 && o.camera == NULL && o.record_path == NULL &&
        o.on_video == NULL && o.local_addresses == NULL);
    g_assert_cmpint(d.width, ==, 640);
    g_assert_cmpint(d.max_video_kbps, ==, 2000);
    g_assert_cmpint(vid_call_options_init(&o, 99), ==, VID_EVERSION);
    g_assert_cmpint(vid_call_options_init(NULL, 1), ==, VID_EINVAL);

    g_assert_cmpint(
        vid_call_answer(b->client, "00000000000000000000000000000000", NULL),
        ==, VID_ENOCALL);
    g_assert_cmpint(vid_call_answer(b->client, "not-an-id", NULL), ==,
                    VID_EINVAL);
    g_assert_cmpint(vid_call_answer(b->client, NULL, NULL), ==, VID_EINVAL);
    g_assert_cmpint(vid_call_hangup(b->client, NULL), ==, VID_ENOCALL);
    g_assert_cmpint(
        vid_call_get_stats(b->client, "00000000000000000000000000000000", &st),
        ==, VID_ENOCALL);
    g_assert_cmpint(vid_call_place(a->client, "bad name!", NULL, NULL), ==,
                    VID_EINVAL);
    o = synth_opts(a);
    o.width = 100;
    g_assert_cmpint(vid_call_place(a->client, "bob", &o, NULL), ==, VID_EINVAL);
    o = synth_opts(a);
    o.local_addresses = "not-an-address";
    g_assert_cmpint(vid_call_place(a->client, "bob", &o, NULL), ==, VID_EINVAL);
    g_assert_nonnull(
        strstr(vid_client_last_error(a->client), "local_addresses"));

    /* No camera on this machine (or not that one): the error comes from
     * vid_call_place() itself, and nothing is sent. */
    o = synth_opts(a);
    o.synthetic_video = 0;
    o.camera = "/dev/video-none-such";
    g_assert_cmpint(vid_call_place(a->client, "bob", &o, NULL), ==,
                    VID_ENODEVICE);
    g_test_message("camera: %s", vid_client_last_error(a->client));
    g_assert_cmpstr(vid_strerror(VID_ENODEVICE), !=, "unknown error");
    pump(300);
    g_assert_false(has_event(b, VID_EVENT_CALL_INVITE));
    g_assert_false(has_event(a, VID_EVENT_CALL_CREATED));
    /* A window to show the peer's video, without a display: the error
     * comes at once too. */
    if (g_getenv("DISPLAY") == NULL && g_getenv("WAYLAND_DISPLAY") == NULL) {
        o = synth_opts(a);
        o.render_video = 1;
        g_assert_cmpint(vid_call_place(a->client, "bob", &o, NULL), ==,
                        VID_ENODEVICE);
        g_test_message("window: %s", vid_client_last_error(a->client));
    }
    /* ... and the client can call afterwards. */
    o = synth_opts(a);
    g_assert_cmpint(vid_call_place(a->client, "bob", &o, NULL), ==, VID_OK);
    e = expect(b, VID_EVENT_CALL_INVITE);
    g_assert_cmpint(vid_call_reject(b->client, e->call_id, "busy"), ==, VID_OK);
    rec_event_free(e);
    e = expect(a, VID_EVENT_CALL_ENDED);
    g_assert_cmpint(e->end_reason, ==, VID_END_BUSY);
    rec_event_free(e);

    /* Devices: listing works with none present; watching starts and
     * stops (no hotplug here, so no event). */
    {
        vid_device *list = NULL;
        size_t n = 99;
        g_assert_cmpint(vid_devices_list(VID_DEVICE_CAMERA, &list, &n), ==,
                        VID_OK);
        g_test_message("cameras: %zu", n);
        for (size_t i = 0; i < n; i++) {
            g_assert_nonnull(list[i].id);
            g_assert_cmpint(list[i].kind, ==, VID_DEVICE_CAMERA);
        }
        vid_devices_free(list, n);
        g_assert_cmpint(vid_devices_list((vid_device_kind) 7, &list, &n), ==,
                        VID_EINVAL);
        g_assert_cmpint(vid_devices_list(VID_DEVICE_SPEAKER, NULL, &n), ==,
                        VID_EINVAL);
        g_assert_cmpint(vid_client_watch_devices(a->client, 1), ==, VID_OK);
        g_assert_cmpint(vid_client_watch_devices(a->client, 1), ==, VID_OK);
        pump(100);
        g_assert_cmpint(vid_client_watch_devices(a->client, 0), ==, VID_OK);
    }

    /* Safety numbers: the same from both ends. */
    g_assert_cmpint(
        vid_client_get_safety_number(
            a->client, vid_client_get_fingerprint(b->client), buf, sizeof buf),
        ==, VID_OK);
    g_assert_cmpint(
        vid_client_get_safety_number(
            b->client, vid_client_get_fingerprint(a->client), sn2, sizeof sn2),
        ==, VID_OK);
    g_assert_cmpstr(buf, ==, sn2);
    g_assert_cmpuint(strlen(buf), ==, 71);
    g_assert_cmpint(
        vid_client_get_safety_number(a->client, "sha-256 XX", buf, sizeof buf),
        ==, VID_EINVAL);
    g_assert_cmpint(
        vid_client_trust_peer(a->client, "bob", "dev1",
                              vid_client_get_fingerprint(b->client)),
        ==, VID_OK);
    g_assert_cmpint(vid_client_trust_peer(a->client, "bob", "dev1", "junk"), ==,
                    VID_EINVAL);
    teardown();
}

/* A changed key with refuse_changed_identity: the call ends. */
static void test_changed_identity(void)
{
    peer *a, *b;
    vid_call_options ao, bo;
    rec_event *e;
    char *id;
    const char *fake =
        "sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
        "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";

    setup();
    a = peers[0];
    b = peers[1];
    /* Alice pinned another key for bob/dev1. */
    g_assert_cmpint(vid_client_trust_peer(a->client, "bob", "dev1", fake), ==,
                    VID_OK);
    ao = synth_opts(a);
    ao.refuse_changed_identity = 1;
    bo = synth_opts(b);
    id = ring(a, b, &ao, NULL);
    g_assert_cmpint(vid_call_answer(b->client, id, &bo), ==, VID_OK);
    e = expect(a, VID_EVENT_CALL_ACCEPT);
    g_assert_cmpint(e->peer_identity, ==, VID_PEER_CHANGED);
    rec_event_free(e);
    e = expect(a, VID_EVENT_CALL_ENDED);
    g_assert_cmpint(e->end_reason, ==, VID_END_IDENTITY_MISMATCH);
    rec_event_free(e);
    /* Alice hung up "identity_changed": Bob's call says why. */
    e = expect(b, VID_EVENT_CALL_ENDED);
    g_assert_cmpint(e->end_reason, ==, VID_END_IDENTITY_MISMATCH);
    g_assert_cmpstr(e->reason, ==, "identity_changed");
    rec_event_free(e);
    g_free(id);
    teardown();
}

/* A caller whose SDP names another key than the server registered for
 * its device (a raw client logged in with a made-up fingerprint replays a
 * real offer): the answer fails with VID_EIDENTITY, the call is declined
 * "identity_mismatch" and ends IDENTITY_MISMATCH. */
static void test_fingerprint_mismatch(void)
{
    peer *b, *c;
    vid_call_options co;
    vid_test_ws *ws;
    rec_event *e;
    char *offer, *id;
    json_t *m;

    peer_new(1, "bob");
    b = peers[1];
    c = peer_new(2, "carol");
    co = synth_opts(c);
    /* A real offer, from Carol's call to Bob (declined). */
    g_assert_cmpint(vid_call_place(c->client, "bob", &co, NULL), ==, VID_OK);
    e = expect(b, VID_EVENT_CALL_INVITE);
    offer = g_strdup(e->sdp);
    g_assert_nonnull(offer);
    g_assert_cmpint(vid_call_reject(b->client, e->call_id, NULL), ==, VID_OK);
    rec_event_free(e);
    rec_event_free(expect(c, VID_EVENT_CALL_ENDED));
    rec_event_free(expect(b, VID_EVENT_CALL_ENDED));

    ws = vid_test_ws_login_server(server, "dave", "pw-secret", "rogue", 77);
    m = json_pack("{s:s,s:i,s:s,s:s}", "type", "call.invite", "id", 5, "to",
                  "bob", "sdp", offer);
    vid_test_ws_send_json(ws, m);
    json_decref(vid_test_ws_expect(ws, "ack", TIMEOUT_MS));
    e = expect(b, VID_EVENT_CALL_INVITE);
    g_assert_cmpstr(e->user, ==, "dave");
    id = g_strdup(e->call_id);
    rec_event_free(e);
    g_assert_cmpint(vid_call_answer(b->client, id, NULL), ==, VID_EIDENTITY);
    g_test_message("answer: %s", vid_client_last_error(b->client));
    e = expect(b, VID_EVENT_CALL_ENDED);
    g_assert_cmpstr(e->call_id, ==, id);
    g_assert_cmpint(e->end_reason, ==, VID_END_IDENTITY_MISMATCH);
    rec_event_free(e);
    m = vid_test_ws_expect(ws, "call.reject", TIMEOUT_MS);
    g_assert_cmpstr(vid_test_json_str(m, "reason"), ==, "identity_mismatch");
    json_decref(m);
    vid_test_ws_free(ws);
    g_free(offer);
    g_free(id);
    teardown();
}

/* No media path: the callee may gather only on an address this host does
 * not have, so it has no candidate; it fails at once and hangs up
 * "ice_failed", and the caller reports the same cause. */
static void test_ice_failure(void)
{
    peer *a, *b;
    vid_call_options ao, bo;
    rec_event *e;
    char *id;
    gint64 t0;

    setup();
    a = peers[0];
    b = peers[1];
    ao = synth_opts(a);
    bo = synth_opts(b);
    bo.local_addresses = "192.0.2.77";
    id = ring(a, b, &ao, NULL);
    t0 = g_get_monotonic_time();
    g_assert_cmpint(vid_call_answer(b->client, id, &bo), ==, VID_OK);
    e = take(a, VID_EVENT_CALL_ENDED, 40000);
    g_assert_nonnull(e);
    g_test_message("caller: ended after %.1f s: %s (ice failure %d)",
                   (double) (g_get_monotonic_time() - t0) / 1e6, e->message,
                   e->ice_failure);
    g_assert_cmpstr(e->call_id, ==, id);
    g_assert_cmpint(e->end_reason, ==, VID_END_ICE_FAILED);
    g_assert_cmpint(e->ice_failure, !=, VID_ICE_FAILURE_NONE);
    rec_event_free(e);
    e = take(b, VID_EVENT_CALL_ENDED, 40000);
    g_assert_nonnull(e);
    g_test_message("callee: %s (ice failure %d)", e->message, e->ice_failure);
    g_assert_cmpint(e->end_reason, ==, VID_END_ICE_FAILED);
    g_assert_true(e->ice_failure == VID_ICE_FAILURE_NO_CANDIDATES ||
                  e->ice_failure == VID_ICE_FAILURE_CHECKS_FAILED);
    g_assert_false(has_event(a, VID_EVENT_CALL_CONNECTED));
    rec_event_free(e);
    g_free(id);
    teardown();
}

/* The server goes away during a call: both calls end NETWORK_LOST. */
static void test_server_lost(void)
{
    peer *a, *b;
    vid_call_options ao, bo;
    rec_event *e;
    char *id;

    setup();
    a = peers[0];
    b = peers[1];
    ao = synth_opts(a);
    bo = synth_opts(b);
    id = connect_call(a, b, &ao, &bo);
    vid_test_server_restart(server);
    for (int i = 0; i < 2; i++) {
        e = expect(peers[i], VID_EVENT_CALL_ENDED);
        g_assert_cmpstr(e->call_id, ==, id);
        g_assert_cmpint(e->end_reason, ==, VID_END_NETWORK_LOST);
        rec_event_free(e);
    }
    g_free(id);
    teardown();
}

/* A server whose calls ring 2 s; bob is told it rings but never answers:
 * alice's call ends NO_ANSWER (reason "no_answer"), bob's invite ends
 * CANCELLED (the server's call.cancel, reason "timeout"), neither with
 * stats. */
static void test_no_answer(void)
{
    vid_test_server *main_server = server;
    peer *a, *b;
    vid_call_options ao;
    rec_event *e;
    char *id;
    uint64_t req = 0;
    gint64 placed, ms;

    server = vid_test_server_start("[server]\n"
                                   "ring_timeout = 2\n");
    vid_test_server_add_user(server, "alice", "pw-secret");
    vid_test_server_add_user(server, "bob", "pw-secret");
    setup();
    a = peers[0];
    b = peers[1];
    ao = synth_opts(a);
    placed = g_get_monotonic_time();
    g_assert_cmpint(vid_call_place(a->client, "bob", &ao, &req), ==, VID_OK);
    e = expect(a, VID_EVENT_CALL_CREATED);
    id = g_strdup(e->call_id);
    rec_event_free(e);
    e = expect(b, VID_EVENT_CALL_INVITE);
    g_assert_cmpstr(e->call_id, ==, id);
    rec_event_free(e);
    g_assert_cmpint(vid_client_call_ringing(b->client, id, NULL), ==, VID_OK);
    rec_event_free(expect(a, VID_EVENT_CALL_RINGING));

    e = expect(a, VID_EVENT_CALL_ENDED);
    ms = (g_get_monotonic_time() - placed) / 1000;
    g_test_message("no answer: caller ended after %" G_GINT64_FORMAT " ms", ms);
    g_assert_cmpstr(e->call_id, ==, id);
    g_assert_cmpint(e->end_reason, ==, VID_END_NO_ANSWER);
    g_assert_cmpint(e->code, ==, VID_OK);
    g_assert_cmpstr(e->reason, ==, "no_answer");
    g_assert_cmpstr(e->user, ==, "bob");
    g_assert_false(e->has_stats);
    g_assert_cmpint(ms, >=, 1500);
    g_assert_cmpint(ms, <, 15000);
    rec_event_free(e);

    e = expect(b, VID_EVENT_CALL_ENDED);
    g_assert_cmpstr(e->call_id, ==, id);
    g_assert_cmpint(e->end_reason, ==, VID_END_CANCELLED);
    g_assert_cmpstr(e->reason, ==, "timeout");
    g_assert_cmpstr(e->user, ==, "alice");
    g_assert_false(e->has_stats);
    rec_event_free(e);
    /* The raw cancel came first (vid.h: CALL_CANCEL, then CALL_ENDED). */
    e = expect(b, VID_EVENT_CALL_CANCEL);
    g_assert_cmpstr(e->call_id, ==, id);
    rec_event_free(e);
    g_assert_cmpint(vid_call_answer(b->client, id, NULL), ==, VID_ENOCALL);
    g_assert_false(has_event(a, VID_EVENT_CALL_CONNECTED));
    g_free(id);
    teardown();
    vid_test_server_stop(server);
    server = main_server;
}

/* Whether @path contains @needle, waiting up to @ms while pumping. */
static bool wait_file_contains(const char *path, const char *needle, int ms)
{
    gint64 end = g_get_monotonic_time() + (gint64) ms * 1000;

    do {
        char *text = NULL;
        bool found = g_file_get_contents(path, &text, NULL, NULL) &&
                     strstr(text, needle) != NULL;
        g_free(text);
        if (found)
            return true;
        pump(50);
    } while (g_get_monotonic_time() < end);
    return false;
}

static void print_file(const char *what, const char *path)
{
    char *text = NULL;

    if (g_file_get_contents(path, &text, NULL, NULL))
        g_printerr("---- %s (%s)\n%s----\n", what, path, text);
    g_free(text);
}

/* The peer's process dies mid-call (SIGKILL: no hang-up, no DTLS close):
 * dave is a separate `vidcall answer` process ($VIDCALL_BIN). alice's
 * call ends NETWORK_LOST within a few seconds: the server's
 * "peer_disconnected" when it notices dave's connection closed, or
 * consent lost (CONSENT_LOST) if ICE notices first. */
static void test_peer_killed(void)
{
    const char *bin = g_getenv("VIDCALL_BIN");
    peer *a;
    vid_call_options ao;
    vid_call_stats st;
    GSubprocessLauncher *l;
    GSubprocess *proc;
    GError *error = NULL;
    char *dir, *pw, *out, *err, *id;
    rec_event *e;
    gint64 killed_at, ms;

    if (bin == NULL) {
        g_test_skip("VIDCALL_BIN is not set (run through meson test)");
        return;
    }
    dir = g_build_filename(tmp_root, "dave-vidcall", NULL);
    pw = g_build_filename(tmp_root, "dave.pw", NULL);
    out = g_build_filename(tmp_root, "dave.out", NULL);
    err = g_build_filename(tmp_root, "dave.err", NULL);
    g_assert_true(g_file_set_contents(pw, "pw-secret\n", -1, NULL));
    g_assert_cmpint(g_chmod(pw, 0600), ==, 0);
    l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_PIPE);
    g_subprocess_launcher_set_stdout_file_path(l, out);
    g_subprocess_launcher_set_stderr_file_path(l, err);
    proc = g_subprocess_launcher_spawn(
        l, &error, bin, "--server", vid_test_server_url(server), "--ca-file",
        vid_test_server_ca_file(server), "--user", "dave", "--password-file",
        pw, "--state-dir", dir, "--device-name", "proc", "--no-window",
        "--no-speaker", "--local-addresses", "127.0.0.1", "--synthetic",
        "--duration", "60", "answer", NULL);
    g_assert_no_error(error);
    g_object_unref(l);

    a = peer_new(0, "alice");
    if (!wait_file_contains(out, "waiting for a call", 20000)) {
        print_file("vidcall stdout", out);
        print_file("vidcall stderr", err);
        g_error("vidcall answer did not log in within 20 s");
    }
    ao = synth_opts(a);
    g_assert_cmpint(vid_call_place(a->client, "dave", &ao, NULL), ==, VID_OK);
    e = expect(a, VID_EVENT_CALL_CREATED);
    id = g_strdup(e->call_id);
    rec_event_free(e);
    e = expect(a, VID_EVENT_CALL_CONNECTED);
    g_assert_cmpstr(e->call_id, ==, id);
    g_assert_nonnull(e->sas);
    rec_event_free(e);
    pump(1500);
    g_assert_cmpint(vid_call_get_stats(a->client, id, &st), ==, VID_OK);
    g_assert_cmpuint(st.frames_received, >, 0);

    g_subprocess_force_exit(proc); /* SIGKILL */
    killed_at = g_get_monotonic_time();
    e = take(a, VID_EVENT_CALL_ENDED, 30000);
    if (e == NULL)
        g_error("alice: no CALL_ENDED within 30 s of the peer's death");
    ms = (g_get_monotonic_time() - killed_at) / 1000;
    g_test_message("peer killed: ended after %" G_GINT64_FORMAT
                   " ms, ice_failure %d, reason \"%s\", message \"%s\"",
                   ms, e->ice_failure, e->reason != NULL ? e->reason : "",
                   e->message != NULL ? e->message : "");
    g_assert_cmpstr(e->call_id, ==, id);
    g_assert_cmpint(e->end_reason, ==, VID_END_NETWORK_LOST);
    if (e->ice_failure == VID_ICE_FAILURE_NONE)
        g_assert_cmpstr(e->reason, ==, "peer_disconnected");
    else
        g_assert_cmpint(e->ice_failure, ==, VID_ICE_FAILURE_CONSENT_LOST);
    g_assert_cmpint(ms, <, 10000);
    g_assert_true(e->has_stats);
    g_assert_cmpuint(e->stats.frames_received, >=, st.frames_received);
    rec_event_free(e);

    g_assert_true(g_subprocess_wait(proc, NULL, &error));
    g_assert_no_error(error);
    g_assert_false(g_subprocess_get_if_exited(proc));
    g_assert_cmpint(g_subprocess_get_term_sig(proc), ==, SIGKILL);
    g_object_unref(proc);
    g_free(id);
    g_free(dir);
    g_free(pw);
    g_free(out);
    g_free(err);
    teardown();
}

int main(int argc, char **argv)
{
    const char *users[] = {"alice", "bob", "carol", "dave"};
    int rc;

    g_test_init(&argc, &argv, NULL);
    tmp_root = g_dir_make_tmp("vid-test-call-XXXXXX", NULL);
    g_assert_nonnull(tmp_root);
    server = vid_test_server_start(NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(users); i++)
        vid_test_server_add_user(server, users[i], "pw-secret");

    g_test_add_func("/call/media-mute-record-hangup", test_media);
    g_test_add_func("/call/callee-hangup-and-pins", test_callee_hangup);
    g_test_add_func("/call/reject", test_reject);
    g_test_add_func("/call/busy", test_busy);
    g_test_add_func("/call/offline", test_offline);
    g_test_add_func("/call/cancel", test_cancel);
    g_test_add_func("/call/free-during-call", test_free_during_call);
    g_test_add_func("/call/bad-calls-no-camera", test_bad_calls);
    g_test_add_func("/call/changed-identity", test_changed_identity);
    g_test_add_func("/call/fingerprint-mismatch", test_fingerprint_mismatch);
    g_test_add_func("/call/ice-failure", test_ice_failure);
    g_test_add_func("/call/no-answer", test_no_answer);
    g_test_add_func("/call/peer-killed", test_peer_killed);
    g_test_add_func("/call/server-lost", test_server_lost);
    rc = g_test_run();

    vid_test_server_stop(server);
    {
        char *cmd[] = {"rm", "-rf", tmp_root, NULL};
        g_spawn_sync(NULL, cmd, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                     NULL, NULL, NULL);
    }
    g_free(tmp_root);
    return rc;
}
