/*
 * libFuzzer target: SDP offers and answers (libvid/sdp).
 *
 * The first byte picks the path, the rest is the SDP text:
 *  - even: parse as a remote offer. When it is accepted, our answer to it
 *    must build, format, and be accepted by sdp_parse_answer() against that
 *    very offer, with our ICE credentials, fingerprint and payload types.
 *  - odd: parse as the answer to a fixed offer of ours.
 * Every failure must carry its code and a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sdp.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            abort();                                                           \
    } while (0)

static sdp_local local(void)
{
    sdp_local l = SDP_LOCAL_INIT;

    memcpy(l.ice_ufrag, "Fz12", 5);
    memcpy(l.ice_pwd, "abcdefghijklmnopqrstuvwx", 25);
    for (int i = 0; i < SDP_FINGERPRINT_LEN; i++)
        l.fingerprint[i] = (uint8_t) (0xa0 + i);
    l.audio_ssrc = 1234;
    l.video_ssrc = 5678;
    memcpy(l.cname, "fuzz", 5);
    l.session_id = 42;
    return l;
}

static void failed(sdp_status st, const sdp_error *err)
{
    CHECK(st > SDP_OK && st < SDP_ERR_COUNT_);
    CHECK(err->code == st);
    CHECK(err->message[0] != '\0');
    CHECK(memchr(err->message, '\0', sizeof(err->message)) != NULL);
}

static void remote_offer(const char *text, size_t len)
{
    sdp_local l = local();
    sdp_description *offer = NULL, *answer = NULL, *back = NULL;
    sdp_error err = {0};
    char *atext = NULL;
    sdp_status st = sdp_parse_offer(&offer, text, len, &err);

    if (st != SDP_OK) {
        CHECK(offer == NULL);
        failed(st, &err);
        return;
    }
    CHECK(offer != NULL && offer->n_media >= 1 &&
          offer->n_media <= SDP_MAX_MEDIA);
    CHECK(sdp_answer_new(&answer, offer, &l, &err) == SDP_OK);
    CHECK(sdp_format(answer, &atext, &err) == SDP_OK);
    st = sdp_parse_answer(&back, atext, strlen(atext), offer, &err);
    CHECK(st == SDP_OK);
    CHECK(strcmp(back->ice_ufrag, l.ice_ufrag) == 0);
    CHECK(strcmp(back->ice_pwd, l.ice_pwd) == 0);
    CHECK(memcmp(back->fingerprint, l.fingerprint, SDP_FINGERPRINT_LEN) == 0);
    CHECK(back->setup == (offer->setup == SDP_SETUP_ACTIVE ? SDP_SETUP_PASSIVE
                                                           : SDP_SETUP_ACTIVE));
    CHECK(back->n_media == offer->n_media);
    for (unsigned i = 0; i < offer->n_media; i++) {
        CHECK(back->media[i].rejected == answer->media[i].rejected);
        if (back->media[i].rejected)
            continue;
        CHECK(back->media[i].pt == offer->media[i].pt);
        CHECK(strcmp(back->media[i].mid, offer->media[i].mid) == 0);
        CHECK(back->media[i].rtcp_fb == offer->media[i].rtcp_fb);
    }
    g_free(atext);
    sdp_description_free(back);
    sdp_description_free(answer);
    sdp_description_free(offer);
}

static void remote_answer(const char *text, size_t len)
{
    static sdp_description *ours;
    sdp_description *d = NULL;
    sdp_error err = {0};
    sdp_status st;

    if (ours == NULL) {
        sdp_local l = local();
        CHECK(sdp_offer_new(&ours, &l, &err) == SDP_OK);
    }
    st = sdp_parse_answer(&d, text, len, ours, &err);
    if (st != SDP_OK) {
        CHECK(d == NULL);
        failed(st, &err);
        return;
    }
    CHECK(d->n_media == ours->n_media);
    CHECK(d->setup == SDP_SETUP_ACTIVE || d->setup == SDP_SETUP_PASSIVE);
    for (unsigned i = 0; i < d->n_media; i++) {
        if (!d->media[i].rejected)
            CHECK(d->media[i].pt == ours->media[i].pt);
    }
    sdp_description_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if ((data[0] & 1) == 0)
        remote_offer((const char *) data + 1, size - 1);
    else
        remote_answer((const char *) data + 1, size - 1);
    return 0;
}
