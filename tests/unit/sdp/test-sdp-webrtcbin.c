/*
 * SDP interop with a live GStreamer webrtcbin (suite "interop").
 *
 * Both directions of offer/answer, at the SDP level only (no media flows
 * here; tests/interop does that):
 *  - webrtcbin offers (bundle-policy=max-bundle), sdp_parse_offer() takes
 *    it, our sdp_answer_new()/sdp_format() answer is given back to
 *    webrtcbin's set-remote-description, which must accept it;
 *  - we offer (sdp_offer_new), webrtcbin's set-remote-description must
 *    accept it and its create-answer result must pass sdp_parse_answer().
 * Skips when the webrtcbin, nice, opus or vpx plugins are missing.
 */
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <string.h>

#include "sdp.h"

typedef struct {
    GstElement *pipe;
    GstElement *webrtc;
    GMainLoop *loop;
    sdp_description *our_offer;
    char *failure; /* first failure, or NULL */
    gboolean done;
} fixture;

static sdp_local local(void)
{
    sdp_local l = SDP_LOCAL_INIT;

    g_strlcpy(l.ice_ufrag, "Xy7a", sizeof(l.ice_ufrag));
    g_strlcpy(l.ice_pwd, "h0Ls4bM3qPp6Zk2vR9sT1wYe", sizeof(l.ice_pwd));
    for (int i = 0; i < SDP_FINGERPRINT_LEN; i++)
        l.fingerprint[i] = (uint8_t) (i * 7 + 3);
    l.audio_ssrc = 11111111;
    l.video_ssrc = 22222222;
    g_strlcpy(l.cname, "vidcname1", sizeof(l.cname));
    return l;
}

static void finish(fixture *f, char *failure)
{
    if (f->failure == NULL)
        f->failure = failure;
    else
        g_free(failure);
    f->done = TRUE;
    g_main_loop_quit(f->loop);
}

/* The promise's description under @p field, or NULL and a failure. */
static GstWebRTCSessionDescription *reply(fixture *f, GstPromise *p,
                                          const char *field)
{
    const GstStructure *r = gst_promise_get_reply(p);
    GstWebRTCSessionDescription *d = NULL;
    GError *e = NULL;

    if (r != NULL && gst_structure_has_field(r, "error")) {
        gst_structure_get(r, "error", G_TYPE_ERROR, &e, NULL);
        finish(f, g_strdup_printf("webrtcbin: %s", e->message));
        g_error_free(e);
        return NULL;
    }
    if (field == NULL)
        return NULL;
    if (r == NULL)
        finish(f, g_strdup_printf("webrtcbin gave no %s", field));
    else
        gst_structure_get(r, field, GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &d,
                          NULL);
    return d;
}

static void set_remote(fixture *f, GstWebRTCSDPType type, const char *text,
                       GstPromiseChangeFunc done);

static void remote_answer_set(GstPromise *p, gpointer data)
{
    fixture *f = data;

    reply(f, p, NULL);
    gst_promise_unref(p);
    finish(f, NULL);
}

/* webrtcbin offered: answer it with our module. */
static void on_offer(GstPromise *p, gpointer data)
{
    fixture *f = data;
    GstWebRTCSessionDescription *d = reply(f, p, "offer");
    sdp_description *offer = NULL, *answer = NULL;
    sdp_local l = local();
    sdp_error err = {0};
    char *text = NULL, *atext = NULL;

    gst_promise_unref(p);
    if (d == NULL)
        return;
    text = gst_sdp_message_as_text(d->sdp);
    g_signal_emit_by_name(f->webrtc, "set-local-description", d, NULL);
    gst_webrtc_session_description_free(d);
    if (sdp_parse_offer(&offer, text, strlen(text), &err) != SDP_OK ||
        sdp_answer_new(&answer, offer, &l, &err) != SDP_OK ||
        sdp_format(answer, &atext, &err) != SDP_OK) {
        finish(f, g_strdup_printf("%s: %s\n%s", sdp_status_name(err.code),
                                  err.message, text));
    } else if (offer->media[0].rejected || offer->media[1].rejected) {
        finish(f, g_strdup_printf("we rejected an m-line of\n%s", text));
    } else {
        set_remote(f, GST_WEBRTC_SDP_TYPE_ANSWER, atext, remote_answer_set);
    }
    g_free(text);
    g_free(atext);
    sdp_description_free(offer);
    sdp_description_free(answer);
}

static void on_answer(GstPromise *p, gpointer data)
{
    fixture *f = data;
    GstWebRTCSessionDescription *d = reply(f, p, "answer");
    sdp_description *a = NULL;
    sdp_error err = {0};
    char *text;

    gst_promise_unref(p);
    if (d == NULL)
        return;
    text = gst_sdp_message_as_text(d->sdp);
    gst_webrtc_session_description_free(d);
    if (sdp_parse_answer(&a, text, strlen(text), f->our_offer, &err) != SDP_OK)
        finish(f, g_strdup_printf("%s: %s\n%s", sdp_status_name(err.code),
                                  err.message, text));
    else if (a->setup != SDP_SETUP_ACTIVE && a->setup != SDP_SETUP_PASSIVE)
        finish(f, g_strdup("answer setup role"));
    else if (a->media[0].rejected || a->media[1].rejected)
        finish(f, g_strdup_printf("webrtcbin rejected a line:\n%s", text));
    else
        finish(f, NULL);
    g_free(text);
    sdp_description_free(a);
}

static void remote_offer_set(GstPromise *p, gpointer data)
{
    fixture *f = data;
    const GstStructure *r = gst_promise_get_reply(p);

    if (r != NULL && gst_structure_has_field(r, "error")) {
        reply(f, p, NULL);
        gst_promise_unref(p);
        return;
    }
    gst_promise_unref(p);
    g_signal_emit_by_name(f->webrtc, "create-answer", NULL,
                          gst_promise_new_with_change_func(on_answer, f, NULL));
}

static void set_remote(fixture *f, GstWebRTCSDPType type, const char *text,
                       GstPromiseChangeFunc done)
{
    GstSDPMessage *msg = NULL;
    GstWebRTCSessionDescription *d;

    gst_sdp_message_new(&msg);
    gst_sdp_message_parse_buffer((const guint8 *) text, strlen(text), msg);
    d = gst_webrtc_session_description_new(type, msg);
    g_signal_emit_by_name(f->webrtc, "set-remote-description", d,
                          gst_promise_new_with_change_func(done, f, NULL));
    gst_webrtc_session_description_free(d);
}

static void on_negotiation_needed(GstElement *w, gpointer data)
{
    fixture *f = data;

    if (f->our_offer != NULL || f->done)
        return;
    g_signal_emit_by_name(w, "create-offer", NULL,
                          gst_promise_new_with_change_func(on_offer, f, NULL));
}

static gboolean we_offer(gpointer data)
{
    fixture *f = data;
    sdp_local l = local();
    sdp_error err = {0};
    char *text = NULL;

    if (sdp_offer_new(&f->our_offer, &l, &err) != SDP_OK ||
        sdp_format(f->our_offer, &text, &err) != SDP_OK) {
        finish(f, g_strdup(err.message));
        return G_SOURCE_REMOVE;
    }
    set_remote(f, GST_WEBRTC_SDP_TYPE_OFFER, text, remote_offer_set);
    g_free(text);
    return G_SOURCE_REMOVE;
}

static gboolean timed_out(gpointer data)
{
    finish(data, g_strdup("timed out after 20 s"));
    return G_SOURCE_REMOVE;
}

static gboolean have_plugins(void)
{
    const char *need[] = {"webrtcbin",    "nicesrc",     "opusenc",
                          "rtpopuspay",   "vp8enc",      "rtpvp8pay",
                          "audiotestsrc", "videotestsrc"};

    for (unsigned i = 0; i < G_N_ELEMENTS(need); i++) {
        GstElementFactory *fac = gst_element_factory_find(need[i]);
        if (fac == NULL) {
            g_test_skip_printf("GStreamer element %s is missing", need[i]);
            return FALSE;
        }
        gst_object_unref(fac);
    }
    return TRUE;
}

/* webrtcbin's libnice agent would otherwise start UPnP IGD discovery,
 * which binds loopback ports and warns (fatal in tests) when another test
 * holds the same port; nothing here needs port mappings. */
static void disable_upnp(GstElement *webrtc)
{
    GObject *ice = NULL;
    GObject *agent = NULL;

    g_object_get(webrtc, "ice-agent", &ice, NULL);
    if (ice != NULL &&
        g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "agent")) {
        g_object_get(ice, "agent", &agent, NULL);
        if (agent != NULL)
            g_object_set(agent, "upnp", FALSE, NULL);
    }
    g_clear_object(&agent);
    g_clear_object(&ice);
}

static void run(gboolean webrtcbin_offers)
{
    fixture f = {0};
    GError *error = NULL;
    guint timer;

    if (!have_plugins())
        return;
    f.pipe = gst_parse_launch(
        "webrtcbin name=w bundle-policy=max-bundle "
        "audiotestsrc is-live=true ! opusenc ! rtpopuspay pt=111 ! "
        "application/x-rtp,media=audio,encoding-name=OPUS,payload=111 ! w. "
        "videotestsrc is-live=true ! vp8enc deadline=1 ! rtpvp8pay pt=96 ! "
        "application/x-rtp,media=video,encoding-name=VP8,payload=96 ! w.",
        &error);
    g_assert_no_error(error);
    f.webrtc = gst_bin_get_by_name(GST_BIN(f.pipe), "w");
    disable_upnp(f.webrtc);
    f.loop = g_main_loop_new(NULL, FALSE);
    if (webrtcbin_offers)
        g_signal_connect(f.webrtc, "on-negotiation-needed",
                         G_CALLBACK(on_negotiation_needed), &f);
    else
        g_idle_add(we_offer, &f);
    timer = g_timeout_add_seconds(20, timed_out, &f);
    gst_element_set_state(f.pipe, GST_STATE_PLAYING);
    g_main_loop_run(f.loop);
    g_source_remove(timer);
    gst_element_set_state(f.pipe, GST_STATE_NULL);
    gst_object_unref(f.webrtc);
    gst_object_unref(f.pipe);
    g_main_loop_unref(f.loop);
    sdp_description_free(f.our_offer);
    if (f.failure != NULL)
        g_error("%s", f.failure);
}

static void test_webrtcbin_offers(void)
{
    run(TRUE);
}

static void test_we_offer(void)
{
    run(FALSE);
}

int main(int argc, char **argv)
{
    gst_init(&argc, &argv);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sdp/webrtcbin/webrtcbin-offers", test_webrtcbin_offers);
    g_test_add_func("/sdp/webrtcbin/we-offer", test_we_offer);
    return g_test_run();
}
