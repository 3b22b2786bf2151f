/* Unit tests of the SDP offer/answer module (libvid/sdp). */
#include <glib.h>
#include <string.h>

#include "sdp.h"
#include "sdp-samples.h"

static sdp_local sample_local(void)
{
    sdp_local l = SDP_LOCAL_INIT;

    g_strlcpy(l.ice_ufrag, "Xy7a", sizeof(l.ice_ufrag));
    g_strlcpy(l.ice_pwd, "h0Ls4bM3qPp6Zk2vR9sT1wYe", sizeof(l.ice_pwd));
    for (int i = 0; i < SDP_FINGERPRINT_LEN; i++)
        l.fingerprint[i] = (uint8_t) (i * 7 + 3);
    l.audio_ssrc = 11111111;
    l.video_ssrc = 22222222;
    g_strlcpy(l.cname, "vidcname1", sizeof(l.cname));
    g_strlcpy(l.stream_id, "vidstream", sizeof(l.stream_id));
    l.session_id = 1743866795901732427ULL;
    return l;
}

/* Replace every @p from in @p text by @p to; @p from must occur. */
static char *subst(const char *text, const char *from, const char *to)
{
    g_auto(GStrv) parts = g_strsplit(text, from, -1);
    g_assert_cmpuint(g_strv_length(parts), >, 1);
    return g_strjoinv(to, parts);
}

/* subst() that frees @p text. */
static char *subst_take(char *text, const char *from, const char *to)
{
    char *r = subst(text, from, to);
    g_free(text);
    return r;
}

/* Remove every line that starts with @p prefix; one must exist. */
static char *drop_lines(const char *text, const char *prefix)
{
    g_auto(GStrv) lines = g_strsplit(text, "\r\n", -1);
    GString *out = g_string_new(NULL);
    gboolean dropped = FALSE;

    for (unsigned i = 0; lines[i] != NULL; i++) {
        if (g_str_has_prefix(lines[i], prefix)) {
            dropped = TRUE;
            continue;
        }
        if (lines[i][0] != '\0')
            g_string_append_printf(out, "%s\r\n", lines[i]);
    }
    g_assert_true(dropped);
    return g_string_free(out, FALSE);
}

static sdp_status offer_status(const char *text, size_t len, sdp_error *err)
{
    sdp_description *d = NULL;
    sdp_status st = sdp_parse_offer(&d, text, len, err);

    if (st == SDP_OK)
        g_assert_nonnull(d);
    else
        g_assert_null(d);
    sdp_description_free(d);
    return st;
}

/* Our offer -> text -> parsed; our answer to it -> text -> parsed. */
static void test_round_trip(void)
{
    sdp_local l = sample_local();
    g_autoptr(sdp_description) offer = NULL;
    g_autoptr(sdp_description) parsed = NULL;
    g_autoptr(sdp_description) answer = NULL;
    g_autoptr(sdp_description) parsed_answer = NULL;
    g_autofree char *text = NULL;
    g_autofree char *atext = NULL;
    sdp_candidate c;
    sdp_error err = {0};
    const char *cand = "candidate:1 1 UDP 2122252543 192.0.2.1 50000 typ host";

    g_assert_cmpint(sdp_offer_new(&offer, &l, &err), ==, SDP_OK);
    g_assert_cmpint(sdp_candidate_parse(&c, cand, strlen(cand), &err), ==,
                    SDP_OK);
    g_assert_cmpint(sdp_media_add_candidate(&offer->media[0], &c, &err), ==,
                    SDP_OK);
    offer->media[0].end_of_candidates = true;
    g_assert_cmpint(sdp_format(offer, &text, &err), ==, SDP_OK);
    g_assert_nonnull(strstr(text, "a=group:BUNDLE 0 1\r\n"));
    g_assert_nonnull(strstr(text, "a=setup:actpass\r\n"));
    g_assert_nonnull(strstr(text, "a=fmtp:111 minptime=10;useinbandfec=1\r\n"));
    g_assert_nonnull(strstr(text, "a=rtcp-fb:96 nack pli\r\n"));
    g_assert_nonnull(strstr(text, "a=rtcp-fb:96 goog-remb\r\n"));
    g_assert_nonnull(strstr(text, "a=ssrc:22222222 cname:vidcname1\r\n"));
    g_assert_nonnull(strstr(text, "o=- 1743866795901732427 1 IN IP4"));

    g_assert_cmpint(sdp_parse_offer(&parsed, text, strlen(text), &err), ==,
                    SDP_OK);
    g_assert_cmpuint(parsed->session_id, ==, offer->session_id);
    g_assert_cmpstr(parsed->ice_ufrag, ==, l.ice_ufrag);
    g_assert_cmpstr(parsed->ice_pwd, ==, l.ice_pwd);
    g_assert_cmpmem(parsed->fingerprint, 32, l.fingerprint, 32);
    g_assert_cmpint(parsed->setup, ==, SDP_SETUP_ACTPASS);
    g_assert_true(parsed->ice_trickle);
    g_assert_cmpuint(parsed->n_media, ==, 2);
    for (unsigned i = 0; i < 2; i++) {
        const sdp_media *a = &offer->media[i], *b = &parsed->media[i];
        g_assert_cmpint(b->kind, ==, a->kind);
        g_assert_false(b->rejected);
        g_assert_cmpstr(b->mid, ==, a->mid);
        g_assert_cmpint(b->direction, ==, a->direction);
        g_assert_cmpuint(b->pt, ==, a->pt);
        g_assert_cmpuint(b->clock_rate, ==, a->clock_rate);
        g_assert_cmpuint(b->channels, ==, a->channels);
        g_assert_cmpuint(b->rtcp_fb, ==, a->rtcp_fb);
        g_assert_true(b->rtcp_mux && b->rtcp_rsize);
        g_assert_cmpmem(b->ext_id, sizeof(b->ext_id), a->ext_id,
                        sizeof(a->ext_id));
        g_assert_cmpuint(b->ssrc, ==, a->ssrc);
        g_assert_cmpstr(b->cname, ==, "vidcname1");
        g_assert_cmpstr(b->msid_stream, ==, "vidstream");
        g_assert_cmpstr(b->msid_track, ==, i == 0 ? "audio" : "video");
    }
    g_assert_cmpuint(parsed->media[0].pt, ==, 111);
    g_assert_cmpuint(parsed->media[1].pt, ==, 96);
    g_assert_cmpuint(parsed->media[1].rtcp_fb, ==, SDP_FB_ALL);
    g_assert_true(parsed->media[0].opus_useinbandfec);
    g_assert_cmpuint(parsed->media[0].opus_minptime, ==, 10);
    g_assert_cmpuint(parsed->media[0].n_candidates, ==, 1);
    g_assert_cmpstr(parsed->media[0].candidates[0].address, ==, "192.0.2.1");
    g_assert_true(parsed->media[0].end_of_candidates);

    /* Answer with other credentials, audio receive-only. */
    g_strlcpy(l.ice_ufrag, "Ab12", sizeof(l.ice_ufrag));
    l.audio_direction = SDP_DIR_RECVONLY;
    l.session_id = 0;
    g_assert_cmpint(sdp_answer_new(&answer, parsed, &l, &err), ==, SDP_OK);
    g_assert_cmpint(answer->setup, ==, SDP_SETUP_ACTIVE);
    g_assert_cmpuint(answer->session_id, >, 0);
    g_assert_cmpuint(answer->session_id, <, G_MAXINT64);
    g_assert_cmpint(sdp_format(answer, &atext, &err), ==, SDP_OK);
    g_assert_nonnull(strstr(atext, "a=setup:active\r\n"));
    g_assert_nonnull(strstr(atext, "a=recvonly\r\n"));
    g_assert_null(strstr(atext, "a=ssrc:11111111"));
    g_assert_cmpint(
        sdp_parse_answer(&parsed_answer, atext, strlen(atext), offer, &err), ==,
        SDP_OK);
    g_assert_cmpstr(parsed_answer->ice_ufrag, ==, "Ab12");
    g_assert_cmpint(parsed_answer->setup, ==, SDP_SETUP_ACTIVE);
    g_assert_cmpint(parsed_answer->media[0].direction, ==, SDP_DIR_RECVONLY);
    g_assert_false(parsed_answer->media[0].has_ssrc);
    g_assert_cmpuint(parsed_answer->media[1].ssrc, ==, 22222222);
    g_assert_cmpuint(parsed_answer->media[1].rtcp_fb, ==, SDP_FB_ALL);
}

static void test_chrome_offer(void)
{
    g_autoptr(sdp_description) d = NULL;
    g_autoptr(sdp_description) answer = NULL;
    g_autofree char *text = NULL;
    sdp_local l = sample_local();
    sdp_error err = {0};
    const sdp_media *a, *v;

    g_assert_cmpint(
        sdp_parse_offer(&d, chrome_offer, strlen(chrome_offer), &err), ==,
        SDP_OK);
    g_assert_cmpuint(d->session_id, ==, 3846051458727583209ULL);
    g_assert_cmpstr(d->ice_ufrag, ==, "kN4f");
    g_assert_cmpstr(d->ice_pwd, ==, "Qn0mO7m9c2rG4bBqjRkCRJ2w");
    g_assert_cmpuint(d->fingerprint[0], ==, 0x7B);
    g_assert_cmpuint(d->fingerprint[31], ==, 0x08);
    g_assert_cmpint(d->setup, ==, SDP_SETUP_ACTPASS);
    g_assert_true(d->extmap_allow_mixed);
    g_assert_cmpuint(d->n_media, ==, 2);
    a = &d->media[0];
    v = &d->media[1];
    g_assert_false(a->rejected);
    g_assert_cmpuint(a->pt, ==, 111);
    g_assert_true(a->opus_useinbandfec);
    g_assert_cmpuint(a->rtcp_fb, ==, SDP_FB_TRANSPORT_CC);
    g_assert_cmpuint(a->ext_id[SDP_EXT_MID], ==, 4);
    g_assert_cmpuint(a->ext_id[SDP_EXT_ABS_SEND_TIME], ==, 2);
    g_assert_cmpuint(a->ext_id[SDP_EXT_TWCC], ==, 3);
    g_assert_cmpuint(a->ssrc, ==, 2718281828U);
    g_assert_cmpstr(a->cname, ==, "t3Fq9sPzW1nXk2Lb");
    g_assert_cmpstr(a->msid_track, ==, "5d0b7e2c-8f4a-4a4e-bb0e-6a8f1d3c2b71");
    g_assert_cmpuint(a->n_candidates, ==, 4);
    g_assert_true(a->candidates[2].tcp);
    g_assert_cmpint(a->candidates[2].tcptype, ==, SDP_TCPTYPE_ACTIVE);
    g_assert_cmpint(a->candidates[1].type, ==, SDP_CAND_SRFLX);
    g_assert_cmpstr(a->candidates[3].address, ==,
                    "2001:db8:85a3::8a2e:370:7334");
    g_assert_false(v->rejected);
    g_assert_cmpuint(v->pt, ==, 96);
    g_assert_cmpuint(v->rtcp_fb, ==, SDP_FB_ALL);
    g_assert_true(v->rtcp_rsize);
    g_assert_cmpuint(v->ext_id[SDP_EXT_MID], ==, 4);
    g_assert_cmpuint(v->ssrc, ==, 3141592653U); /* FID primary */
    g_assert_cmpuint(v->rtx_pt, ==, 97);        /* apt=96, not 117 (red) */
    g_assert_true(v->has_rtx_ssrc);
    g_assert_cmpuint(v->rtx_ssrc, ==, 1618033988U);

    g_assert_cmpint(sdp_answer_new(&answer, d, &l, &err), ==, SDP_OK);
    g_assert_cmpint(sdp_format(answer, &text, &err), ==, SDP_OK);
    g_assert_nonnull(strstr(text, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"));
    g_assert_nonnull(strstr(text, "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"));
    g_assert_nonnull(strstr(text, "a=extmap:4 urn:ietf:params:rtp-hdrext:"
                                  "sdes:mid\r\n"));
    g_assert_nonnull(strstr(text, "a=extmap-allow-mixed\r\n"));
    g_assert_nonnull(strstr(text, "a=group:BUNDLE 0 1\r\n"));
}

/* RFC 4588 RTX: our offer/answer carry it, parsing picks it, bad ones
 * are refused, offers without it still work (RTX off). */
static void test_rtx(void)
{
    sdp_local l = sample_local();
    g_autoptr(sdp_description) offer = NULL;
    g_autoptr(sdp_description) parsed = NULL;
    g_autoptr(sdp_description) answer = NULL;
    g_autoptr(sdp_description) parsed_answer = NULL;
    g_autoptr(sdp_description) plain = NULL;
    g_autoptr(sdp_description) plain_answer = NULL;
    g_autofree char *text = NULL;
    g_autofree char *atext = NULL;
    g_autofree char *ptext = NULL;
    sdp_error err = {0};
    char *bad;

    l.video_rtx = true;
    l.video_rtx_ssrc = 33333333;
    g_assert_cmpint(sdp_offer_new(&offer, &l, &err), ==, SDP_OK);
    g_assert_cmpint(sdp_format(offer, &text, &err), ==, SDP_OK);
    g_assert_nonnull(strstr(text, "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n"));
    g_assert_nonnull(strstr(text, "a=rtpmap:97 rtx/90000\r\n"));
    g_assert_nonnull(strstr(text, "a=fmtp:97 apt=96\r\n"));
    g_assert_nonnull(strstr(text, "a=ssrc-group:FID 22222222 33333333\r\n"));
    g_assert_nonnull(strstr(text, "a=ssrc:33333333 cname:vidcname1\r\n"));
    g_assert_cmpint(sdp_parse_offer(&parsed, text, strlen(text), &err), ==,
                    SDP_OK);
    g_assert_cmpuint(parsed->media[1].pt, ==, 96);
    g_assert_cmpuint(parsed->media[1].rtx_pt, ==, 97);
    g_assert_true(parsed->media[1].has_rtx_ssrc);
    g_assert_cmpuint(parsed->media[1].ssrc, ==, 22222222);
    g_assert_cmpuint(parsed->media[1].rtx_ssrc, ==, 33333333);
    g_assert_cmpuint(parsed->media[0].rtx_pt, ==, 0);

    /* The answer takes the offer's rtx pt and its own rtx SSRC. */
    l.video_rtx_ssrc = 44444444;
    l.video_ssrc = 55555555;
    l.session_id = 0;
    g_assert_cmpint(sdp_answer_new(&answer, parsed, &l, &err), ==, SDP_OK);
    g_assert_cmpint(sdp_format(answer, &atext, &err), ==, SDP_OK);
    g_assert_nonnull(strstr(atext, "a=fmtp:97 apt=96\r\n"));
    g_assert_nonnull(strstr(atext, "a=ssrc-group:FID 55555555 44444444\r\n"));
    g_assert_cmpint(
        sdp_parse_answer(&parsed_answer, atext, strlen(atext), offer, &err), ==,
        SDP_OK);
    g_assert_cmpuint(parsed_answer->media[1].rtx_pt, ==, 97);
    g_assert_cmpuint(parsed_answer->media[1].rtx_ssrc, ==, 44444444);

    /* An offer without rtx: accepted, RTX off in the answer. */
    ptext = drop_lines(text, "a=rtpmap:97");
    ptext = subst_take(ptext, "a=fmtp:97 apt=96\r\n", "");
    ptext = subst_take(ptext, "SAVPF 96 97", "SAVPF 96");
    g_assert_cmpint(sdp_parse_offer(&plain, ptext, strlen(ptext), &err), ==,
                    SDP_OK);
    g_assert_cmpuint(plain->media[1].rtx_pt, ==, 0);
    g_assert_cmpint(sdp_answer_new(&plain_answer, plain, &l, &err), ==, SDP_OK);
    g_assert_cmpuint(plain_answer->media[1].rtx_pt, ==, 0);
    g_assert_false(plain_answer->media[1].has_rtx_ssrc);

    /* apt pointing at a payload type not on the m-line. */
    bad = subst(text, "a=fmtp:97 apt=96", "a=fmtp:97 apt=98");
    g_assert_cmpint(offer_status(bad, strlen(bad), &err), ==,
                    SDP_ERR_BAD_PAYLOAD_TYPE);
    g_assert_nonnull(strstr(err.message, "apt=98"));
    g_free(bad);
    /* rtx without apt. */
    bad = subst(text, "a=fmtp:97 apt=96\r\n", "");
    g_assert_cmpint(offer_status(bad, strlen(bad), &err), ==,
                    SDP_ERR_BAD_PAYLOAD_TYPE);
    g_free(bad);
    /* FID group with one SSRC, or an SSRC not on the m-line. */
    bad = subst(text, "FID 22222222 33333333", "FID 22222222");
    g_assert_cmpint(offer_status(bad, strlen(bad), &err), ==, SDP_ERR_SYNTAX);
    g_free(bad);
    bad = subst(text, "FID 22222222 33333333", "FID 22222222 77777777");
    g_assert_cmpint(offer_status(bad, strlen(bad), &err), ==, SDP_ERR_SYNTAX);
    g_free(bad);

    /* Local parameters: RTX SSRC required when sending video. */
    {
        sdp_description *none = NULL;
        l.video_rtx_ssrc = 0;
        g_assert_cmpint(sdp_offer_new(&none, &l, &err), ==,
                        SDP_ERR_INVALID_ARG);
        l.video_rtx_ssrc = l.video_ssrc;
        g_assert_cmpint(sdp_offer_new(&none, &l, &err), ==,
                        SDP_ERR_INVALID_ARG);
        g_assert_null(none);
    }
}

static void test_firefox_offer(void)
{
    g_autoptr(sdp_description) d = NULL;
    sdp_error err = {0};

    g_assert_cmpint(
        sdp_parse_offer(&d, firefox_offer, strlen(firefox_offer), &err), ==,
        SDP_OK);
    g_assert_cmpstr(d->ice_ufrag, ==, "4f9a1c2e");
    g_assert_cmpuint(d->fingerprint[0], ==, 0x5C); /* session level */
    g_assert_true(d->ice_trickle);
    g_assert_cmpuint(d->media[0].pt, ==, 109);
    g_assert_cmpuint(d->media[0].ext_id[SDP_EXT_MID], ==, 3);
    g_assert_cmpuint(d->media[0].ext_id[SDP_EXT_TWCC], ==, 0);
    g_assert_cmpuint(d->media[0].n_candidates, ==, 4);
    g_assert_true(d->media[0].end_of_candidates);
    g_assert_cmpint(d->media[0].candidates[3].type, ==, SDP_CAND_RELAY);
    g_assert_cmpstr(d->media[0].msid_stream, ==,
                    "{7a2f6b1c-3d4e-4f5a-8b9c-0d1e2f3a4b5c}");
    g_assert_cmpuint(d->media[1].pt, ==, 120);
    g_assert_cmpuint(d->media[1].rtcp_fb, ==, SDP_FB_ALL);
    g_assert_cmpuint(d->media[1].ext_id[SDP_EXT_TWCC], ==, 7);
    g_assert_cmpuint(d->media[1].ext_id[SDP_EXT_ABS_SEND_TIME], ==, 4);
    g_assert_cmpuint(d->media[1].ssrc, ==, 2233445566U);
}

static void test_webrtcbin_offer(void)
{
    g_autoptr(sdp_description) d = NULL;
    g_autoptr(sdp_description) answer = NULL;
    g_autofree char *text = NULL;
    sdp_local l = sample_local();
    sdp_error err = {0};

    g_assert_cmpint(
        sdp_parse_offer(&d, webrtcbin_offer, strlen(webrtcbin_offer), &err), ==,
        SDP_OK);
    g_assert_cmpstr(d->ice_ufrag, ==, "bGXUEDKIb6j5HykvfGROaWiz3SiMjN/y");
    g_assert_cmpuint(d->n_media, ==, 2);
    g_assert_cmpstr(d->media[0].mid, ==, "audio0");
    g_assert_cmpuint(d->media[0].pt, ==, 111); /* "OPUS" upper case */
    g_assert_false(d->media[0].opus_useinbandfec);
    g_assert_true(d->media[1].bundle_only);
    g_assert_false(d->media[1].rejected);
    g_assert_cmpuint(d->media[1].pt, ==, 96);
    g_assert_cmpuint(d->media[1].rtcp_fb, ==,
                     SDP_FB_NACK_PLI | SDP_FB_CCM_FIR | SDP_FB_TRANSPORT_CC);
    g_assert_cmpstr(d->media[1].cname, ==, "user337269185@host-4aa061a7");

    g_assert_cmpint(sdp_answer_new(&answer, d, &l, &err), ==, SDP_OK);
    g_assert_cmpint(sdp_format(answer, &text, &err), ==, SDP_OK);
    g_assert_nonnull(strstr(text, "a=group:BUNDLE audio0 video1\r\n"));
    g_assert_nonnull(strstr(text, "a=rtcp-fb:96 nack pli\r\n"));
    g_assert_null(strstr(text, "a=rtcp-fb:96 nack\r\n"));
    g_assert_null(strstr(text, "goog-remb"));
}

/* webrtcbin_answer is webrtcbin's answer to exactly this offer. */
static void test_webrtcbin_answer(void)
{
    sdp_local l = sample_local();
    g_autoptr(sdp_description) offer = NULL;
    g_autoptr(sdp_description) d = NULL;
    sdp_error err = {0};

    g_assert_cmpint(sdp_offer_new(&offer, &l, &err), ==, SDP_OK);
    g_assert_cmpint(sdp_parse_answer(&d, webrtcbin_answer,
                                     strlen(webrtcbin_answer), offer, &err),
                    ==, SDP_OK);
    g_assert_cmpint(d->setup, ==, SDP_SETUP_ACTIVE);
    g_assert_cmpstr(d->ice_ufrag, ==, "tqByPnpcw+j2mr2/gILsch+WrqNcsK4p");
    g_assert_cmpuint(d->fingerprint[0], ==, 0x4B);
    g_assert_cmpuint(d->media[0].pt, ==, 111);
    g_assert_true(d->media[0].opus_useinbandfec);
    g_assert_cmpuint(d->media[1].rtcp_fb, ==,
                     SDP_FB_NACK_PLI | SDP_FB_CCM_FIR | SDP_FB_TRANSPORT_CC);
    g_assert_cmpuint(d->media[1].ssrc, ==, 3053341211U);
    g_assert_cmpuint(d->media[1].ext_id[SDP_EXT_MID], ==, 0);
}

typedef struct {
    const char *name;
    char *text;
    sdp_status want;
    const char *in_message;
} bad_case;

static void check_bad(const bad_case *c)
{
    sdp_error err = {0};
    sdp_status st = offer_status(c->text, strlen(c->text), &err);

    if (st != c->want)
        g_error("%s: got %s (%s), want %s", c->name, sdp_status_name(st),
                err.message, sdp_status_name(c->want));
    g_assert_cmpint(err.code, ==, c->want);
    g_assert_cmpuint(strlen(err.message), >, 0);
    if (c->in_message != NULL && strstr(err.message, c->in_message) == NULL)
        g_error("%s: message \"%s\" lacks \"%s\"", c->name, err.message,
                c->in_message);
}

/* Insert @p count lines "<prefix><i><suffix>" after @p after. */
static char *with_lines(const char *base, const char *after, const char *prefix,
                        const char *suffix, unsigned count)
{
    GString *s = g_string_new(NULL);
    const char *p = strstr(base, after);

    g_assert_nonnull(p);
    p += strlen(after);
    g_string_append_len(s, base, p - base);
    for (unsigned i = 0; i < count; i++)
        g_string_append_printf(s, "%s%u%s", prefix, i, suffix);
    g_string_append(s, p);
    return g_string_free(s, FALSE);
}

static void test_rejections(void)
{
    const char *base = chrome_offer;
    const char *fp256 = "sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:"
                        "1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:"
                        "08";
    g_autofree char *pad = g_strnfill(4000, 'x');
    g_autofree char *longline = g_strnfill(5000, 'y');
    g_autofree char *padline = g_strdup_printf(":%s\r\n", pad);
    g_autofree char *longattr = g_strdup_printf(":%s\r\n", longline);
    GString *many_m = g_string_new(NULL);
    GString *many_pt = g_string_new("m=audio 9 UDP/TLS/RTP/SAVPF 111");

    for (unsigned i = 0; i < 17; i++)
        g_string_append_printf(many_m,
                               "m=application 0 UDP/DTLS/SCTP "
                               "webrtc-datachannel\r\na=mid:x%u\r\n",
                               i);
    for (unsigned i = 0; i < 64; i++)
        g_string_append_printf(many_pt, " %u", i < 63 ? i : 100);

    bad_case cases[] = {
        {"too large", with_lines(base, "a=mid:0\r\n", "a=x-pad", padline, 15),
         SDP_ERR_TOO_LARGE, "60000"},
        {"long line", with_lines(base, "a=mid:0\r\n", "a=x-long", longattr, 1),
         SDP_ERR_LINE_TOO_LONG, "4096"},
        {"17 m-lines", g_strconcat(base, many_m->str, NULL),
         SDP_ERR_TOO_MANY_MEDIA, NULL},
        {"65 candidates",
         with_lines(base, "a=mid:0\r\n", "a=candidate:",
                    " 1 udp 2122260223 192.168.1.23 5000 typ host\r\n", 65),
         SDP_ERR_TOO_MANY_CANDIDATES, NULL},
        {"65 rtpmaps",
         with_lines(base, "a=rtpmap:126 telephone-event/8000\r\n",
                    "a=rtpmap:", " PCMU/8000\r\n", 58),
         SDP_ERR_TOO_MANY_FORMATS, NULL},
        {"65 payload types",
         subst(base, "m=audio 9 UDP/TLS/RTP/SAVPF 111", many_pt->str),
         SDP_ERR_TOO_MANY_FORMATS, NULL},
        {"no ice-ufrag", drop_lines(base, "a=ice-ufrag:"), SDP_ERR_MISSING_ICE,
         "ice-ufrag"},
        {"no ice-pwd", drop_lines(base, "a=ice-pwd:"), SDP_ERR_MISSING_ICE,
         "ice-pwd"},
        {"short ufrag", subst(base, "a=ice-ufrag:kN4f", "a=ice-ufrag:kN4"),
         SDP_ERR_BAD_ICE, NULL},
        {"bad pwd char",
         subst(base, "a=ice-pwd:Qn0mO7m9c2rG4bBqjRkCRJ2w",
               "a=ice-pwd:Qn0mO7m9c2rG4bBqjRkCRJ2w!"),
         SDP_ERR_BAD_ICE, NULL},
        {"no fingerprint", drop_lines(base, "a=fingerprint:"),
         SDP_ERR_MISSING_FINGERPRINT, "fingerprint"},
        {"sha-1 only",
         subst(base, fp256,
               "sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:"
               "7C:AB"),
         SDP_ERR_WEAK_FINGERPRINT, "sha-1"},
        {"sha-512 only", subst(base, "sha-256 7B:8B", "sha-512 7B:8B"),
         SDP_ERR_MISSING_FINGERPRINT, "sha-512"},
        {"short sha-256", subst(base, ":2C:19:08", ":2C:19"),
         SDP_ERR_BAD_FINGERPRINT, NULL},
        {"non-hex sha-256", subst(base, "7B:8B:F0", "7B:8G:F0"),
         SDP_ERR_BAD_FINGERPRINT, NULL},
        {"no rtcp-mux", drop_lines(base, "a=rtcp-mux"),
         SDP_ERR_MISSING_RTCP_MUX, "rtcp-mux"},
        {"setup holdconn", subst(base, "a=setup:actpass", "a=setup:holdconn"),
         SDP_ERR_BAD_SETUP, "holdconn"},
        {"setup missing", drop_lines(base, "a=setup:"), SDP_ERR_BAD_SETUP,
         NULL},
        {"no BUNDLE", drop_lines(base, "a=group:BUNDLE"), SDP_ERR_BUNDLE,
         "BUNDLE"},
        {"BUNDLE with one mid",
         subst(base, "a=group:BUNDLE 0 1", "a=group:BUNDLE 0"), SDP_ERR_BUNDLE,
         "mid 1"},
        {"BUNDLE unknown mid",
         subst(base, "a=group:BUNDLE 0 1", "a=group:BUNDLE 0 1 7"),
         SDP_ERR_BUNDLE, "\"7\""},
        {"two BUNDLE groups",
         subst(base, "a=group:BUNDLE 0 1\r\n",
               "a=group:BUNDLE 0\r\na=group:BUNDLE 1\r\n"),
         SDP_ERR_BUNDLE, NULL},
        {"duplicate mid", subst(base, "a=mid:1", "a=mid:0"), SDP_ERR_BAD_MID,
         NULL},
        {"no mid", drop_lines(base, "a=mid:"), SDP_ERR_BAD_MID, NULL},
        {"bad mid", subst(base, "a=mid:1", "a=mid:a,b"), SDP_ERR_BAD_MID, NULL},
        {"plain RTP",
         subst(base, "m=audio 9 UDP/TLS/RTP/SAVPF", "m=audio 9 RTP/AVP"),
         SDP_ERR_BAD_PROTO, "RTP/AVP"},
        {"pt in RTCP range", subst(base, "SAVPF 111 63 9", "SAVPF 111 72 9"),
         SDP_ERR_BAD_PAYLOAD_TYPE, "72"},
        {"pt over 127", subst(base, "SAVPF 111 63 9", "SAVPF 111 63 200"),
         SDP_ERR_BAD_PAYLOAD_TYPE, NULL},
        {"rtpmap not on m line",
         subst(base, "a=rtpmap:13 CN/8000", "a=rtpmap:14 CN/8000"),
         SDP_ERR_BAD_PAYLOAD_TYPE, NULL},
        {"duplicate rtpmap",
         subst(base, "a=rtpmap:13 CN/8000", "a=rtpmap:0 CN/8000"),
         SDP_ERR_BAD_PAYLOAD_TYPE, NULL},
        {"no usable codec",
         subst_take(subst(base, "opus/48000/2", "foo/48000/2"),
                    "a=rtpmap:96 VP8/90000", "a=rtpmap:96 VP7/90000"),
         SDP_ERR_NO_CODEC, "opus"},
        {"bad candidate",
         subst(base, "typ srflx raddr 192.168.1.23",
               "typ srflx raddr 192.168.1.999"),
         SDP_ERR_BAD_CANDIDATE, "raddr"},
        {"extmap id 15", subst(base, "a=extmap:14 urn", "a=extmap:15 urn"),
         SDP_ERR_BAD_EXTMAP, NULL},
        {"extmap id twice", subst(base, "a=extmap:13 urn", "a=extmap:14 urn"),
         SDP_ERR_BAD_EXTMAP, "twice"},
        {"extmap > 14 without allow-mixed",
         subst_take(drop_lines(base, "a=extmap-allow-mixed"), "a=extmap:13 urn",
                    "a=extmap:100 urn"),
         SDP_ERR_BAD_EXTMAP, NULL},
        {"first line not v=0", subst(base, "v=0\r\n", "v=1\r\n"),
         SDP_ERR_SYNTAX, "v=0"},
        {"garbage line", subst(base, "s=-\r\n", "s=-\r\nhello\r\n"),
         SDP_ERR_SYNTAX, NULL},
        {"control byte", subst(base, "s=-\r\n", "s=\x01-\r\n"), SDP_ERR_SYNTAX,
         "0x01"},
        {"blank line inside", subst(base, "s=-\r\n", "s=-\r\n\r\n"),
         SDP_ERR_SYNTAX, NULL},
        {"no t= line", drop_lines(base, "t="), SDP_ERR_SYNTAX, NULL},
        {"bad port", subst(base, "m=audio 9 ", "m=audio 9x "), SDP_ERR_SYNTAX,
         NULL},
        {"port range", subst(base, "m=audio 9 ", "m=audio 9/2 "),
         SDP_ERR_SYNTAX, NULL},
        {"bad session id",
         subst(base, "o=- 3846051458727583209", "o=- 38460514587275832x9"),
         SDP_ERR_SYNTAX, NULL},
        {"empty", g_strdup(""), SDP_ERR_SYNTAX, NULL},
        {"bad c= line",
         subst(base,
               "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n"
               "c=IN IP4 0.0.0.0",
               "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n"
               "c=ATM NSAP 0.0.0.0"),
         SDP_ERR_SYNTAX, "c="},
        {"bad session c= line", subst(base, "t=0 0\r\n", "t=0 0\r\nc=IN\r\n"),
         SDP_ERR_SYNTAX, "c="},
        {"not UTF-8", subst(base, "s=-\r\n", "s=\xff\xfe\r\n"), SDP_ERR_SYNTAX,
         "UTF-8"},
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        check_bad(&cases[i]);
        g_free(cases[i].text);
    }
    g_string_free(many_m, TRUE);
    g_string_free(many_pt, TRUE);
}

static void test_extmap_allow_mixed(void)
{
    g_autofree char *text =
        subst(chrome_offer, "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
              "a=extmap:100 urn:ietf:params:rtp-hdrext:sdes:mid");
    g_autoptr(sdp_description) d = NULL;
    g_autoptr(sdp_description) answer = NULL;
    g_autofree char *atext = NULL;
    sdp_local l = sample_local();
    sdp_error err = {0};

    g_assert_cmpint(sdp_parse_offer(&d, text, strlen(text), &err), ==, SDP_OK);
    g_assert_cmpuint(d->media[0].ext_id[SDP_EXT_MID], ==, 100);
    g_assert_cmpuint(d->media[1].ext_id[SDP_EXT_MID], ==, 100);
    g_assert_cmpint(sdp_answer_new(&answer, d, &l, &err), ==, SDP_OK);
    g_assert_cmpint(sdp_format(answer, &atext, &err), ==, SDP_OK);
    g_assert_nonnull(strstr(atext, "a=extmap-allow-mixed\r\n"));
    g_assert_nonnull(strstr(atext, "a=extmap:100 urn:ietf:params:rtp-hdrext:"
                                   "sdes:mid\r\n"));
    /* Without allow-mixed our answer could not carry id 100. */
    answer->extmap_allow_mixed = false;
    g_clear_pointer(&atext, g_free);
    g_assert_cmpint(sdp_format(answer, &atext, &err), ==, SDP_ERR_INVALID_ARG);
}

static void test_binary_input(void)
{
    sdp_error err = {0};
    char buf[64];

    /* A NUL inside the length is a control byte, not an early end. */
    memcpy(buf, "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n\0s=-\r\nt=0 0\r\n", 42);
    g_assert_cmpint(offer_status(buf, 42, &err), ==, SDP_ERR_SYNTAX);
    g_assert_nonnull(strstr(err.message, "0x00"));
    /* Only len bytes are read: the first 100 hold no m-line. */
    g_assert_cmpint(offer_status(chrome_offer, 100, &err), ==,
                    SDP_ERR_NO_CODEC);
    g_assert_cmpint(offer_status(NULL, 0, &err), ==, SDP_ERR_INVALID_ARG);
}

static void test_answer_checks(void)
{
    sdp_local l = sample_local();
    g_autoptr(sdp_description) offer = NULL;
    sdp_error err = {0};
    struct {
        const char *name;
        char *text;
        sdp_status want;
    } cases[] = {
        {"actpass answer",
         subst(webrtcbin_answer, "a=setup:active", "a=setup:actpass"),
         SDP_ERR_BAD_SETUP},
        {"payload type not offered",
         subst_take(subst(webrtcbin_answer, "SAVPF 96", "SAVPF 100"), ":96 ",
                    ":100 "),
         SDP_ERR_ANSWER_MISMATCH},
        {"other codec", subst(webrtcbin_answer, "VP8/90000", "VP9/90000"),
         SDP_ERR_ANSWER_MISMATCH},
        {"wrong mid",
         subst_take(subst(webrtcbin_answer, "a=mid:1", "a=mid:7"), "BUNDLE 0 1",
                    "BUNDLE 0 7"),
         SDP_ERR_ANSWER_MISMATCH},
        {"one m-line less",
         g_strndup(webrtcbin_answer,
                   strstr(webrtcbin_answer, "m=video") - webrtcbin_answer),
         SDP_ERR_BUNDLE},
        {"sha-1 only",
         subst(webrtcbin_answer,
               "sha-256 4B:EC:EA:9F:38:93:35:A7:93:CF:2D:"
               "FF:3D:2C:20:BF:D9:F0:3D:15:96:05:70:20:CC:"
               "25:DE:0D:C4:8A:79:30",
               "sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:"
               "7C:AB"),
         SDP_ERR_WEAK_FINGERPRINT},
        {"extmap id moved",
         subst(webrtcbin_answer, "a=mid:0\r\n",
               "a=mid:0\r\na=extmap:5 urn:ietf:params:rtp-hdrext:sdes:mid"
               "\r\n"),
         SDP_ERR_ANSWER_MISMATCH},
        {"sendrecv answer to our recvonly", g_strdup(webrtcbin_answer),
         SDP_ERR_ANSWER_MISMATCH},
    };

    l.video_direction = SDP_DIR_RECVONLY;
    g_assert_cmpint(sdp_offer_new(&offer, &l, &err), ==, SDP_OK);
    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        sdp_description *d = NULL;
        sdp_status st = sdp_parse_answer(&d, cases[i].text,
                                         strlen(cases[i].text), offer, &err);
        if (st != cases[i].want)
            g_error("%s: got %s (%s), want %s", cases[i].name,
                    sdp_status_name(st), err.message,
                    sdp_status_name(cases[i].want));
        g_assert_null(d);
        g_free(cases[i].text);
    }
    /* Our video is recvonly: the peer may answer sendonly, not recvonly. */
    {
        sdp_description *d = NULL;
        char *text = g_strdup(webrtcbin_answer);
        char *q = strstr(strstr(text, "m=video"), "a=sendrecv");
        memcpy(q, "a=recvonly", 10);
        g_assert_cmpint(sdp_parse_answer(&d, text, strlen(text), offer, &err),
                        ==, SDP_ERR_ANSWER_MISMATCH);
        memcpy(q, "a=sendonly", 10);
        g_assert_cmpint(sdp_parse_answer(&d, text, strlen(text), offer, &err),
                        ==, SDP_OK);
        g_assert_cmpint(d->media[1].direction, ==, SDP_DIR_SENDONLY);
        sdp_description_free(d);
        g_free(text);
    }
}

static void test_local_params(void)
{
    sdp_description *d = NULL;
    sdp_error err = {0};
    sdp_local l;

    l = sample_local();
    g_strlcpy(l.ice_ufrag, "a b!", sizeof(l.ice_ufrag));
    g_assert_cmpint(sdp_offer_new(&d, &l, &err), ==, SDP_ERR_INVALID_ARG);
    g_assert_nonnull(strstr(err.message, "ice_ufrag"));
    l = sample_local();
    l.ice_pwd[5] = '\0';
    g_assert_cmpint(sdp_offer_new(&d, &l, &err), ==, SDP_ERR_INVALID_ARG);
    l = sample_local();
    memset(l.fingerprint, 0, sizeof(l.fingerprint));
    g_assert_cmpint(sdp_offer_new(&d, &l, &err), ==, SDP_ERR_INVALID_ARG);
    l = sample_local();
    l.video_ssrc = 0;
    g_assert_cmpint(sdp_offer_new(&d, &l, &err), ==, SDP_ERR_INVALID_ARG);
    l = sample_local();
    l.opus_pt = 72;
    g_assert_cmpint(sdp_offer_new(&d, &l, &err), ==, SDP_ERR_INVALID_ARG);
    l = sample_local();
    l.version = 99;
    g_assert_cmpint(sdp_offer_new(&d, &l, &err), ==, SDP_ERR_INVALID_ARG);
    l = sample_local();
    l.audio = l.video = false;
    g_assert_cmpint(sdp_offer_new(&d, &l, &err), ==, SDP_ERR_INVALID_ARG);
    g_assert_null(d);

    /* Random session ids differ and stay below 2^63. */
    l = sample_local();
    l.session_id = 0;
    {
        g_autoptr(sdp_description) a = NULL;
        g_autoptr(sdp_description) b = NULL;
        g_assert_cmpint(sdp_offer_new(&a, &l, &err), ==, SDP_OK);
        g_assert_cmpint(sdp_offer_new(&b, &l, &err), ==, SDP_OK);
        g_assert_cmpuint(a->session_id, !=, b->session_id);
        g_assert_cmpuint(a->session_id, <=, G_MAXINT64);
    }
    /* Offer with only audio; a remote answer must match that. */
    l = sample_local();
    l.video = false;
    {
        g_autoptr(sdp_description) a = NULL;
        g_autofree char *text = NULL;
        g_assert_cmpint(sdp_offer_new(&a, &l, &err), ==, SDP_OK);
        g_assert_cmpuint(a->n_media, ==, 1);
        g_assert_cmpint(sdp_format(a, &text, &err), ==, SDP_OK);
        g_assert_null(strstr(text, "m=video"));
    }
    sdp_description_free(NULL);
}

static void test_reject_unsupported_lines(void)
{
    /* A data channel and a second video: answered with port 0. */
    g_autofree char *text = g_strconcat(
        chrome_offer,
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
        "c=IN IP4 0.0.0.0\r\n"
        "a=ice-ufrag:kN4f\r\n"
        "a=ice-pwd:Qn0mO7m9c2rG4bBqjRkCRJ2w\r\n"
        "a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:"
        "35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\n"
        "a=setup:actpass\r\n"
        "a=mid:2\r\n"
        "a=sctp-port:5000\r\n"
        "a=max-message-size:262144\r\n",
        NULL);
    g_autofree char *text2 =
        subst(text, "a=group:BUNDLE 0 1", "a=group:BUNDLE 0 1 2");
    g_autoptr(sdp_description) d = NULL;
    g_autoptr(sdp_description) answer = NULL;
    g_autofree char *atext = NULL;
    sdp_local l = sample_local();
    sdp_error err = {0};

    g_assert_cmpint(offer_status(text, strlen(text), &err), ==, SDP_ERR_BUNDLE);
    g_assert_cmpint(sdp_parse_offer(&d, text2, strlen(text2), &err), ==,
                    SDP_OK);
    g_assert_cmpuint(d->n_media, ==, 3);
    g_assert_true(d->media[2].rejected);
    g_assert_cmpint(d->media[2].kind, ==, SDP_MEDIA_OTHER);
    g_assert_cmpint(sdp_answer_new(&answer, d, &l, &err), ==, SDP_OK);
    g_assert_cmpint(sdp_format(answer, &atext, &err), ==, SDP_OK);
    g_assert_nonnull(strstr(atext, "m=application 0 UDP/DTLS/SCTP "
                                   "webrtc-datachannel\r\n"));
    g_assert_nonnull(strstr(atext, "a=group:BUNDLE 0 1\r\n"));
    g_assert_nonnull(strstr(atext, "a=mid:2\r\n"));
}

/* ---- candidates ---- */

static void test_candidate_round_trip(void)
{
    const char *canonical[] = {
        "candidate:1 1 UDP 2122252543 192.0.2.1 50000 typ host",
        "candidate:842163049 1 UDP 1677729535 203.0.113.7 61000 typ srflx "
        "raddr 10.0.0.5 rport 51000 generation 0",
        "candidate:3 1 UDP 41885439 198.51.100.2 3478 typ relay raddr "
        "203.0.113.7 rport 61000",
        "candidate:4 1 TCP 1518280447 192.0.2.1 9 typ host tcptype active",
        "candidate:5 1 TCP 1518214911 192.0.2.1 443 typ host tcptype passive",
        "candidate:6 1 TCP 1518149375 192.0.2.1 5000 typ prflx raddr 0.0.0.0 "
        "rport 0 tcptype so generation 3 ufrag Ab/+",
        "candidate:7 2 UDP 2122262783 2001:db8::1 50001 typ host",
        "candidate:8 1 UDP 2122260223 0a1b2c3d-4e5f-6789-abcd-ef0123456789."
        "local 50002 typ host",
        "candidate:abcDEF+/0123456789abcDEF+/012345 256 UDP 2147483647 "
        "192.0.2.1 65535 typ host",
    };

    for (unsigned i = 0; i < G_N_ELEMENTS(canonical); i++) {
        sdp_candidate c, c2;
        sdp_error err = {0};
        char buf[SDP_MAX_CANDIDATE_LEN + 1];
        size_t n;

        if (sdp_candidate_parse(&c, canonical[i], strlen(canonical[i]), &err) !=
            SDP_OK)
            g_error("%s: %s", canonical[i], err.message);
        n = sdp_candidate_format(&c, buf, sizeof(buf));
        g_assert_cmpuint(n, ==, strlen(canonical[i]));
        g_assert_cmpstr(buf, ==, canonical[i]);
        g_assert_cmpint(sdp_candidate_parse(&c2, buf, n, &err), ==, SDP_OK);
        g_assert_cmpmem(&c, sizeof(c), &c2, sizeof(c2));
        /* Too small a buffer: nothing written, 0 returned. */
        g_assert_cmpuint(sdp_candidate_format(&c, buf, n), ==, 0);
        g_assert_cmpstr(buf, ==, "");
    }

    /* Browser forms: a= prefix, lower-case transport, extensions. */
    {
        const char *s = "a=candidate:1467250027 1 udp 2122260223 "
                        "192.168.1.23 50123 typ host generation 0 ufrag kN4f "
                        "network-id 1 network-cost 10";
        sdp_candidate c;
        sdp_error err = {0};
        char buf[SDP_MAX_CANDIDATE_LEN + 1];
        g_assert_cmpint(sdp_candidate_parse(&c, s, strlen(s), &err), ==,
                        SDP_OK);
        g_assert_false(c.tcp);
        g_assert_true(c.address_is_ip);
        g_assert_cmpuint(c.priority, ==, 2122260223U);
        g_assert_cmpstr(c.ufrag, ==, "kN4f");
        g_assert_true(c.has_generation);
        g_assert_cmpuint(sdp_candidate_format(&c, buf, sizeof(buf)), >, 0);
        g_assert_cmpstr(buf, ==,
                        "candidate:1467250027 1 UDP 2122260223 192.168.1.23 "
                        "50123 typ host generation 0 ufrag kN4f");
    }
}

static void test_candidate_rejects(void)
{
    const char *bad[] = {
        "",
        "candidate:",
        "1 1 UDP 2122252543 192.0.2.1 50000 typ host",
        "candidate:1 1 UDP 2122252543 192.0.2.1 50000 typ",
        "candidate:1 1 UDP 2122252543 192.0.2.1 50000 type host",
        "candidate:1 1 UDP 2122252543 192.0.2.1 50000 typ hots",
        "candidate:1 1 UDP 2122252543 192.0.2.1 50000 typ host ",
        " candidate:1 1 UDP 2122252543 192.0.2.1 50000 typ host",
        "candidate:1  1 UDP 2122252543 192.0.2.1 50000 typ host",
        "candidate:1\t1 UDP 2122252543 192.0.2.1 50000 typ host",
        "candidate:1 1 UDP 2122252543 192.0.2.1 50000 typ host\r\n",
        "candidate:1 0 UDP 2122252543 192.0.2.1 50000 typ host",
        "candidate:1 257 UDP 2122252543 192.0.2.1 50000 typ host",
        "candidate:1 1 SCTP 2122252543 192.0.2.1 50000 typ host",
        "candidate:1 1 UDP 0 192.0.2.1 50000 typ host",
        "candidate:1 1 UDP 2147483648 192.0.2.1 50000 typ host",
        "candidate:1 1 UDP -5 192.0.2.1 50000 typ host",
        "candidate:1 1 UDP 99999999999999999999 192.0.2.1 50000 typ host",
        "candidate:1 1 UDP 2122252543 192.0.2.256 50000 typ host",
        "candidate:1 1 UDP 2122252543 1.2.3 50000 typ host",
        "candidate:1 1 UDP 2122252543 fe80::1%eth0 50000 typ host",
        "candidate:1 1 UDP 2122252543 -bad-.local 50000 typ host",
        "candidate:1 1 UDP 2122252543 a..b 50000 typ host",
        "candidate:1 1 UDP 2122252543 192.0.2.1 65536 typ host",
        "candidate:1 1 UDP 2122252543 192.0.2.1 0 typ host",
        "candidate:1 1 UDP 2122252543 192.0.2.1 +5 typ host",
        "candidate:1 1 UDP 2122252543 192.0.2.1 50000 typ srflx raddr",
        "candidate:1 1 UDP 2122252543 192.0.2.1 50000 typ srflx raddr "
        "10.0.0.1",
        "candidate:1 1 UDP 2122252543 192.0.2.1 50000 typ srflx raddr "
        "10.0.0.1 port 5",
        "candidate:1 1 UDP 2122252543 192.0.2.1 50000 typ srflx raddr "
        "10.0.0.1 rport 70000",
        "candidate:1 1 UDP 2122252543 192.0.2.1 50000 typ host generation 0 "
        "raddr 10.0.0.1 rport 5",
        "candidate:1 1 TCP 2122252543 192.0.2.1 50000 typ host",
        "candidate:1 1 TCP 2122252543 192.0.2.1 50000 typ host tcptype x",
        "candidate:1 1 UDP 2122252543 192.0.2.1 50000 typ host tcptype "
        "active",
        "candidate:1 1 TCP 2122252543 192.0.2.1 0 typ host tcptype passive",
        "candidate:1 1 UDP 2122252543 192.0.2.1 50000 typ host generation",
        "candidate:1 1 UDP 2122252543 192.0.2.1 50000 typ host generation x",
        "candidate:1 1 UDP 2122252543 192.0.2.1 50000 typ host generation 1 "
        "generation 2",
        "candidate:1 1 UDP 2122252543 192.0.2.1 50000 typ host ufrag ab",
        "candidate:1 1 UDP 2122252543 192.0.2.1 50000 typ host a 1 b 2 c 3 "
        "d 4 e 5 f 6 g 7 h 8 i 9",
        "candidate:1 1 UDP 2122252543 192.0.2.1 50000 typ host x_y 1",
        "candidate:f*o 1 UDP 2122252543 192.0.2.1 50000 typ host",
        "candidate:123456789012345678901234567890123 1 UDP 2122252543 "
        "192.0.2.1 50000 typ host",
        "candidate:1 1 UDP 2122252543 192.0.2.1 50000 typ host \xc3\xa9 1",
    };

    for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
        sdp_candidate c;
        sdp_error err = {0};
        sdp_status st = sdp_candidate_parse(&c, bad[i], strlen(bad[i]), &err);
        if (st != SDP_ERR_BAD_CANDIDATE)
            g_error("accepted or wrong code %s for \"%s\"", sdp_status_name(st),
                    bad[i]);
        g_assert_cmpuint(strlen(err.message), >, 0);
    }
    {
        /* Over the 1024-byte limit. */
        g_autofree char *pad = g_strnfill(1100, 'a');
        g_autofree char *s = g_strdup_printf(
            "candidate:1 1 UDP 1 192.0.2.1 5 typ host x %s", pad);
        sdp_candidate c;
        sdp_error err = {0};
        g_assert_cmpint(sdp_candidate_parse(&c, s, strlen(s), &err), ==,
                        SDP_ERR_BAD_CANDIDATE);
        g_assert_cmpint(sdp_candidate_parse(NULL, s, 1, &err), ==,
                        SDP_ERR_INVALID_ARG);
    }
}

static void test_status_names(void)
{
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);

    for (int i = 0; i < SDP_ERR_COUNT_; i++) {
        const char *n = sdp_status_name((sdp_status) i);
        g_assert_nonnull(n);
        g_assert_false(g_hash_table_contains(seen, n));
        g_hash_table_add(seen, (gpointer) n);
    }
    g_assert_cmpstr(sdp_status_name(SDP_ERR_COUNT_), ==, "unknown");
    g_hash_table_destroy(seen);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sdp/round-trip", test_round_trip);
    g_test_add_func("/sdp/chrome-offer", test_chrome_offer);
    g_test_add_func("/sdp/firefox-offer", test_firefox_offer);
    g_test_add_func("/sdp/rtx", test_rtx);
    g_test_add_func("/sdp/webrtcbin-offer", test_webrtcbin_offer);
    g_test_add_func("/sdp/webrtcbin-answer", test_webrtcbin_answer);
    g_test_add_func("/sdp/rejections", test_rejections);
    g_test_add_func("/sdp/binary-input", test_binary_input);
    g_test_add_func("/sdp/extmap-allow-mixed", test_extmap_allow_mixed);
    g_test_add_func("/sdp/answer-checks", test_answer_checks);
    g_test_add_func("/sdp/local-params", test_local_params);
    g_test_add_func("/sdp/unsupported-m-lines", test_reject_unsupported_lines);
    g_test_add_func("/sdp/candidate/round-trip", test_candidate_round_trip);
    g_test_add_func("/sdp/candidate/rejects", test_candidate_rejects);
    g_test_add_func("/sdp/status-names", test_status_names);
    return g_test_run();
}
