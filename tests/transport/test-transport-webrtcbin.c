/*
 * test-transport-webrtcbin.c — our transport against GStreamer webrtcbin
 * (suite "interop"): SDP through libvid/sdp, candidates trickled both ways
 * over loopback, ICE + DTLS complete, and SRTP flows both ways: we decrypt
 * webrtcbin's RTP and RTCP, webrtcbin decrypts ours (its RTP source pad
 * delivers them). Both as answerer (webrtcbin offers; we are the DTLS
 * client) and as offerer (webrtcbin answers active; we are the server).
 * Skips when a needed GStreamer element is missing.
 */
#include <string.h>

#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "sdp.h"
#include "transport.h"

#define AUDIO_SSRC 0x0A0D1000u
#define VIDEO_SSRC 0x0B1D2000u

typedef struct {
    GMainLoop *loop;
    GstElement *pipe, *webrtc;
    transport *t;
    X509 *cert;
    EVP_PKEY *key;
    bool we_offer;
    sdp_description *our_offer;
    transport_state state;
    unsigned rtp_in, rtcp_in;
    unsigned gst_in; /* our RTP that came out of webrtcbin, decrypted */
    unsigned sent;
    guint send_timer;
    char *failure;
} fixture;

static void make_cert(fixture *f)
{
    f->key = EVP_EC_gen("P-256");
    f->cert = X509_new();
    g_assert_nonnull(f->key);
    X509_set_version(f->cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(f->cert), 7);
    X509_gmtime_adj(X509_getm_notBefore(f->cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(f->cert), 3600);
    X509_NAME *n = X509_get_subject_name(f->cert);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
                               (const unsigned char *) "vid", -1, -1, 0);
    X509_set_issuer_name(f->cert, n);
    X509_set_pubkey(f->cert, f->key);
    g_assert_cmpint(X509_sign(f->cert, f->key, EVP_sha256()), >, 0);
}

static void fail(fixture *f, char *msg)
{
    if (f->failure == NULL)
        f->failure = msg;
    else
        g_free(msg);
    g_main_loop_quit(f->loop);
}

static void check_done(fixture *f)
{
    if (f->rtp_in >= 50 && f->rtcp_in >= 1 && f->gst_in >= 20)
        g_main_loop_quit(f->loop);
}

/* ---- our side ---- */

static void on_candidate(transport *t, const char *cand, void *ud)
{
    fixture *f = ud;
    (void) t;
    if (cand != NULL)
        g_signal_emit_by_name(f->webrtc, "add-ice-candidate", 0, cand);
}

static gboolean send_rtp(gpointer ud)
{
    fixture *f = ud;
    uint8_t pkt[160];
    /* Opus-looking packets on the audio m-line's payload type 111. */
    memset(pkt, 0, sizeof pkt);
    uint16_t seq = (uint16_t) (100 + f->sent);
    uint32_t ts = 960u * f->sent;
    pkt[0] = 0x80;
    pkt[1] = 111;
    pkt[2] = (uint8_t) (seq >> 8);
    pkt[3] = (uint8_t) seq;
    pkt[4] = (uint8_t) (ts >> 24);
    pkt[5] = (uint8_t) (ts >> 16);
    pkt[6] = (uint8_t) (ts >> 8);
    pkt[7] = (uint8_t) ts;
    pkt[8] = (uint8_t) (AUDIO_SSRC >> 24);
    pkt[9] = (uint8_t) (AUDIO_SSRC >> 16);
    pkt[10] = (uint8_t) (AUDIO_SSRC >> 8);
    pkt[11] = (uint8_t) AUDIO_SSRC;
    pkt[12] = 0xfc; /* opus TOC: CELT FB 20 ms, then silence-ish */
    int rc = transport_send(f->t, pkt, 12 + 40);
    if (rc != 0) {
        fail(f, g_strdup_printf("transport_send: %d", rc));
        return G_SOURCE_REMOVE;
    }
    f->sent++;
    return G_SOURCE_CONTINUE;
}

static void on_state(transport *t, transport_state st, void *ud)
{
    fixture *f = ud;
    f->state = st;
    if (st == TRANSPORT_STATE_FAILED)
        fail(f, g_strdup_printf("transport failed: %s: %s",
                                transport_failure_str(transport_get_failure(t)),
                                transport_get_failure_detail(t)));
    if (st == TRANSPORT_STATE_SECURE && f->send_timer == 0)
        f->send_timer = g_timeout_add(20, send_rtp, f);
}

static void on_packet(transport *t, bool rtcp, uint8_t *buf, size_t len,
                      void *ud)
{
    fixture *f = ud;
    (void) t;
    (void) buf;
    (void) len;
    if (rtcp)
        f->rtcp_in++;
    else
        f->rtp_in++;
    check_done(f);
}

/* ---- webrtcbin side ---- */

static void on_ice_candidate(GstElement *w, guint mline, char *cand,
                             gpointer ud)
{
    fixture *f = ud;
    (void) w;
    (void) mline;
    /* webrtcbin also trickles its other interfaces' addresses; those stay
     * on this machine. A refusal here would be a parser bug. */
    int rc = transport_add_remote_candidate(f->t, cand);
    if (rc != 0)
        fail(f,
             g_strdup_printf("refused webrtcbin candidate %s: %d", cand, rc));
}

static GstPadProbeReturn count_rtp(GstPad *pad, GstPadProbeInfo *info,
                                   gpointer ud)
{
    fixture *f = ud;
    (void) pad;
    (void) info;
    f->gst_in++;
    check_done(f);
    return GST_PAD_PROBE_OK;
}

static void on_pad_added(GstElement *w, GstPad *pad, gpointer ud)
{
    fixture *f = ud;
    (void) w;
    if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC)
        return;
    GstElement *sink = gst_element_factory_make("fakesink", NULL);
    g_object_set(sink, "async", FALSE, "sync", FALSE, NULL);
    gst_bin_add(GST_BIN(f->pipe), sink);
    gst_element_sync_state_with_parent(sink);
    GstPad *sp = gst_element_get_static_pad(sink, "sink");
    gst_pad_link(pad, sp);
    gst_object_unref(sp);
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, count_rtp, f, NULL);
}

static sdp_local our_local(fixture *f)
{
    sdp_local l = SDP_LOCAL_INIT;
    char u[300], p[300];
    g_assert_cmpint(
        transport_get_local_credentials(f->t, u, sizeof u, p, sizeof p), ==, 0);
    g_strlcpy(l.ice_ufrag, u, sizeof l.ice_ufrag);
    g_strlcpy(l.ice_pwd, p, sizeof l.ice_pwd);
    unsigned int n = 0;
    X509_digest(f->cert, EVP_sha256(), l.fingerprint, &n);
    g_assert_cmpuint(n, ==, SDP_FINGERPRINT_LEN);
    l.audio_ssrc = AUDIO_SSRC;
    l.video_ssrc = VIDEO_SSRC;
    g_strlcpy(l.cname, "vidtest", sizeof l.cname);
    return l;
}

/* The peer's ICE credentials and certificate fingerprint go to our
 * transport (the registered fingerprint is the SDP one here: no server). */
static void take_remote(fixture *f, const sdp_description *d)
{
    char fp[8 + SDP_FINGERPRINT_LEN * 3];
    sdp_fingerprint_format(d->fingerprint, fp);
    g_assert_cmpint(
        transport_set_remote_credentials(f->t, d->ice_ufrag, d->ice_pwd), ==,
        0);
    g_assert_cmpint(transport_set_remote_fingerprints(f->t, fp, fp), ==, 0);
}

static GstWebRTCSessionDescription *reply(fixture *f, GstPromise *p,
                                          const char *field)
{
    const GstStructure *r = gst_promise_get_reply(p);
    GstWebRTCSessionDescription *d = NULL;
    if (r == NULL || gst_structure_has_field(r, "error")) {
        fail(f, g_strdup_printf("webrtcbin gave no %s", field));
        return NULL;
    }
    gst_structure_get(r, field, GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &d, NULL);
    return d;
}

static void set_remote(fixture *f, GstWebRTCSDPType type, const char *text,
                       GstPromise *done)
{
    GstSDPMessage *msg = NULL;
    gst_sdp_message_new(&msg);
    gst_sdp_message_parse_buffer((const guint8 *) text, strlen(text), msg);
    GstWebRTCSessionDescription *d =
        gst_webrtc_session_description_new(type, msg);
    g_signal_emit_by_name(f->webrtc, "set-remote-description", d, done);
    gst_webrtc_session_description_free(d);
}

/* webrtcbin offers; we answer (setup active: we are the DTLS client). */
static void on_offer(GstPromise *p, gpointer ud)
{
    fixture *f = ud;
    GstWebRTCSessionDescription *d = reply(f, p, "offer");
    gst_promise_unref(p);
    if (d == NULL)
        return;
    char *text = gst_sdp_message_as_text(d->sdp);
    g_signal_emit_by_name(f->webrtc, "set-local-description", d, NULL);
    gst_webrtc_session_description_free(d);
    sdp_description *offer = NULL, *answer = NULL;
    sdp_error err = {0};
    sdp_local l = our_local(f);
    char *atext = NULL;
    if (sdp_parse_offer(&offer, text, strlen(text), &err) != SDP_OK ||
        sdp_answer_new(&answer, offer, &l, &err) != SDP_OK ||
        sdp_format(answer, &atext, &err) != SDP_OK) {
        fail(f, g_strdup_printf("sdp: %s", err.message));
    } else {
        g_assert_cmpint(answer->setup, ==, SDP_SETUP_ACTIVE);
        take_remote(f, offer);
        set_remote(f, GST_WEBRTC_SDP_TYPE_ANSWER, atext, NULL);
        g_assert_cmpint(transport_gather(f->t), ==, 0);
    }
    g_free(text);
    g_free(atext);
    sdp_description_free(offer);
    sdp_description_free(answer);
}

static void on_negotiation_needed(GstElement *w, gpointer ud)
{
    fixture *f = ud;
    if (f->we_offer)
        return;
    g_signal_emit_by_name(w, "create-offer", NULL,
                          gst_promise_new_with_change_func(on_offer, f, NULL));
}

/* We offer (actpass); webrtcbin answers. */
static void on_answer(GstPromise *p, gpointer ud)
{
    fixture *f = ud;
    GstWebRTCSessionDescription *d = reply(f, p, "answer");
    gst_promise_unref(p);
    if (d == NULL)
        return;
    char *text = gst_sdp_message_as_text(d->sdp);
    g_signal_emit_by_name(f->webrtc, "set-local-description", d, NULL);
    gst_webrtc_session_description_free(d);
    sdp_description *answer = NULL;
    sdp_error err = {0};
    if (sdp_parse_answer(&answer, text, strlen(text), f->our_offer, &err) !=
        SDP_OK) {
        fail(f, g_strdup_printf("sdp: %s", err.message));
    } else {
        /* Their setup decides our DTLS role. */
        g_assert_cmpint(
            transport_set_dtls_client(f->t, answer->setup == SDP_SETUP_PASSIVE),
            ==, 0);
        take_remote(f, answer);
        g_assert_cmpint(transport_gather(f->t), ==, 0);
    }
    g_free(text);
    sdp_description_free(answer);
}

static void offer_set(GstPromise *p, gpointer ud)
{
    fixture *f = ud;
    gst_promise_unref(p);
    g_signal_emit_by_name(f->webrtc, "create-answer", NULL,
                          gst_promise_new_with_change_func(on_answer, f, NULL));
}

static gboolean start_offer(gpointer ud)
{
    fixture *f = ud;
    sdp_local l = our_local(f);
    sdp_error err = {0};
    char *text = NULL;
    if (sdp_offer_new(&f->our_offer, &l, &err) != SDP_OK ||
        sdp_format(f->our_offer, &text, &err) != SDP_OK) {
        fail(f, g_strdup_printf("sdp: %s", err.message));
        return G_SOURCE_REMOVE;
    }
    set_remote(f, GST_WEBRTC_SDP_TYPE_OFFER, text,
               gst_promise_new_with_change_func(offer_set, f, NULL));
    g_free(text);
    return G_SOURCE_REMOVE;
}

static gboolean timed_out(gpointer ud)
{
    fixture *f = ud;
    fail(f, g_strdup_printf("timed out: state %s, %u RTP + %u RTCP in, %u "
                            "out of webrtcbin (sent %u)",
                            transport_state_str(f->state), f->rtp_in,
                            f->rtcp_in, f->gst_in, f->sent));
    return G_SOURCE_REMOVE;
}

static gboolean have_plugins(void)
{
    const char *need[] = {"webrtcbin",  "nicesrc",      "opusenc",
                          "rtpopuspay", "vp8enc",       "rtpvp8pay",
                          "fakesink",   "audiotestsrc", "videotestsrc"};
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

static void run(bool we_offer)
{
    if (!have_plugins())
        return;
    fixture f = {0};
    f.we_offer = we_offer;
    make_cert(&f);
    f.loop = g_main_loop_new(NULL, FALSE);

    static const char *const lo[] = {"127.0.0.1", NULL};
    transport_config cfg = TRANSPORT_CONFIG_INIT;
    cfg.context = g_main_context_default();
    cfg.controlling = we_offer;
    cfg.dtls_client = !we_offer;
    cfg.cert = f.cert;
    cfg.key = f.key;
    cfg.local_addresses = lo;
    cfg.on_candidate = on_candidate;
    cfg.on_state = on_state;
    cfg.on_packet = on_packet;
    cfg.user_data = &f;
    g_assert_cmpint(transport_new(&f.t, &cfg), ==, 0);

    GError *error = NULL;
    f.pipe = gst_parse_launch(
        "webrtcbin name=w bundle-policy=max-bundle "
        "audiotestsrc is-live=true ! opusenc ! rtpopuspay pt=111 ! "
        "application/x-rtp,media=audio,encoding-name=OPUS,payload=111 ! w. "
        "videotestsrc is-live=true ! vp8enc deadline=1 ! rtpvp8pay pt=96 ! "
        "application/x-rtp,media=video,encoding-name=VP8,payload=96 ! w.",
        &error);
    g_assert_no_error(error);
    f.webrtc = gst_bin_get_by_name(GST_BIN(f.pipe), "w");
    GObject *ice = NULL, *agent = NULL;
    g_object_get(f.webrtc, "ice-agent", &ice, NULL);
    if (ice != NULL &&
        g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "agent"))
        g_object_get(ice, "agent", &agent, NULL);
    if (agent != NULL)
        g_object_set(agent, "upnp", FALSE, NULL);
    g_clear_object(&agent);
    g_clear_object(&ice);
    g_signal_connect(f.webrtc, "on-negotiation-needed",
                     G_CALLBACK(on_negotiation_needed), &f);
    g_signal_connect(f.webrtc, "on-ice-candidate", G_CALLBACK(on_ice_candidate),
                     &f);
    g_signal_connect(f.webrtc, "pad-added", G_CALLBACK(on_pad_added), &f);
    if (we_offer)
        g_idle_add(start_offer, &f);
    guint timer = g_timeout_add_seconds(30, timed_out, &f);
    gst_element_set_state(f.pipe, GST_STATE_PLAYING);
    g_main_loop_run(f.loop);
    g_source_remove(timer);
    if (f.send_timer != 0)
        g_source_remove(f.send_timer);

    transport_stats st;
    transport_get_stats(f.t, &st);
    g_test_message("%s: %u RTP + %u RTCP decrypted from webrtcbin, %u of our "
                   "%u out of webrtcbin, profile %s, gather -> secure %.1f ms",
                   we_offer ? "we offer" : "webrtcbin offers", f.rtp_in,
                   f.rtcp_in, f.gst_in, f.sent,
                   st.srtp_profile ? st.srtp_profile : "-",
                   st.dtls_connected_us / 1000.0);
    gst_element_set_state(f.pipe, GST_STATE_NULL);
    gst_object_unref(f.webrtc);
    gst_object_unref(f.pipe);
    transport_free(f.t);
    /* let libnice finish closing */
    for (int i = 0; i < 20; i++)
        g_main_context_iteration(NULL, FALSE);
    sdp_description_free(f.our_offer);
    g_main_loop_unref(f.loop);
    X509_free(f.cert);
    EVP_PKEY_free(f.key);
    if (f.failure != NULL)
        g_error("%s", f.failure);
    g_assert_cmpuint(st.auth_failures + st.replays, ==, 0);
}

static void test_webrtcbin_offers(void)
{
    run(false);
}

static void test_we_offer(void)
{
    run(true);
}

int main(int argc, char **argv)
{
    gst_init(&argc, &argv);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/transport/webrtcbin/webrtcbin-offers",
                    test_webrtcbin_offers);
    g_test_add_func("/transport/webrtcbin/we-offer", test_we_offer);
    return g_test_run();
}
