/*
 * bench-common.c — see bench-common.h.
 */
#include "bench-common.h"

#include <stdio.h>
#include <stdlib.h>

#include <gst/webrtc/webrtc.h>

void bench_make_cert(const char *prog, X509 **cert, EVP_PKEY **key)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    if (k == NULL || x == NULL) {
        fprintf(stderr, "%s: cannot make a certificate\n", prog);
        exit(1);
    }
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), g_random_int_range(1, G_MAXINT));
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
                               (const unsigned char *) "vid-bench", -1, -1, 0);
    X509_set_issuer_name(x, n);
    X509_set_pubkey(x, k);
    if (X509_sign(x, k, EVP_sha256()) <= 0) {
        fprintf(stderr, "%s: cannot sign a certificate\n", prog);
        exit(1);
    }
    *cert = x;
    *key = k;
}

static void on_candidate(GstElement *w, guint mline, char *cand, gpointer ud)
{
    wbpair *p = ud;
    GstElement *other = w == p->webrtc[0] ? p->webrtc[1] : p->webrtc[0];
    g_signal_emit_by_name(other, "add-ice-candidate", mline, cand);
}

void wbpair_link(wbpair *p)
{
    for (int i = 0; i < 2; i++)
        g_signal_connect(p->webrtc[i], "on-ice-candidate",
                         G_CALLBACK(on_candidate), p);
}

void wbpair_unlink(wbpair *p)
{
    for (int i = 0; i < 2; i++)
        if (p->webrtc[i] != NULL)
            g_signal_handlers_disconnect_by_data(p->webrtc[i], p);
}

static GstWebRTCSessionDescription *promise_desc(wbpair *p, GstPromise *pr,
                                                 const char *field)
{
    GstWebRTCSessionDescription *d = NULL;
    const GstStructure *s = NULL;
    if (gst_promise_wait(pr) == GST_PROMISE_RESULT_REPLIED)
        s = gst_promise_get_reply(pr);
    if (s != NULL && gst_structure_has_field(s, field))
        gst_structure_get(s, field, GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &d,
                          NULL);
    if (d == NULL) {
        char *why = g_strdup_printf("webrtcbin gave no %s", field);
        p->fail(p->ud, why);
        g_free(why);
    }
    return d;
}

static void on_answer_created(GstPromise *pr, gpointer ud)
{
    wbpair *p = ud;
    GstWebRTCSessionDescription *d = promise_desc(p, pr, "answer");
    gst_promise_unref(pr);
    if (d == NULL)
        return;
    g_signal_emit_by_name(p->webrtc[1], "set-local-description", d, NULL);
    g_signal_emit_by_name(p->webrtc[0], "set-remote-description", d, NULL);
    gst_webrtc_session_description_free(d);
}

static void on_offer_remote_set(GstPromise *pr, gpointer ud)
{
    wbpair *p = ud;
    gst_promise_unref(pr);
    g_signal_emit_by_name(
        p->webrtc[1], "create-answer", NULL,
        gst_promise_new_with_change_func(on_answer_created, p, NULL));
}

static void on_offer_created(GstPromise *pr, gpointer ud)
{
    wbpair *p = ud;
    GstWebRTCSessionDescription *d = promise_desc(p, pr, "offer");
    gst_promise_unref(pr);
    if (d == NULL)
        return;
    g_signal_emit_by_name(p->webrtc[0], "set-local-description", d, NULL);
    g_signal_emit_by_name(
        p->webrtc[1], "set-remote-description", d,
        gst_promise_new_with_change_func(on_offer_remote_set, p, NULL));
    gst_webrtc_session_description_free(d);
}

void wbpair_negotiate(wbpair *p)
{
    g_signal_emit_by_name(
        p->webrtc[0], "create-offer", NULL,
        gst_promise_new_with_change_func(on_offer_created, p, NULL));
}
