/*
 * call.c — one managed call: signaling messages in, transport + SDP +
 * media session + devices, identity checks, VID_EVENT_CALL_* out.
 *
 * Runs on the client's worker thread (host->context), which is also the
 * transport's and the session's network thread. The frame callbacks run
 * on the session's decode threads and touch only what is under `vlock`
 * (verification counters, renderer, player) or `rec_lock` (recorder).
 */
#include "call/call.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>

#include "device.h"
#include "sdp.h"
#include "session.h"
#include "transport.h"
#include "util/util.h"

/* No media path this long after the answer: the call fails. */
#define CONNECT_TIMEOUT_MS 30000
#define WHY_SIZE 256

typedef enum {
    CALL_INVITING,   /* caller: invite sent, no answer yet */
    CALL_CONNECTING, /* answered: ICE/DTLS running */
    CALL_CONNECTED,  /* SECURE, media flows */
    CALL_ENDED,
} call_state;

struct call {
    call_host host;
    call_state state;
    bool outgoing;
    char id[VID_CALL_ID_SIZE];
    uint64_t invite_req;
    char *peer;        /* user called / calling */
    char *peer_device; /* set by accept (caller) or invite (callee) */
    char *peer_fp;     /* registered fingerprint of that device */
    vid_peer_identity peer_identity;

    /* Options, strings copied. */
    vid_call_options opts;
    char *camera, *microphone, *record_path;
    char **local_addrs;

    transport *t;
    media_session *_Atomic s;
    sdp_description *offer; /* ours (caller) */
    sdp_description *local; /* what we sent: offer or answer */
    bool remote_set;        /* remote description applied to t */
    GPtrArray *local_cands; /* caller: held until the id is known */
    GPtrArray *remote_cands;
    GSource *timer;
    int64_t connected_us;
    char sas[VID_SAS_SIZE];
    char path[8];
    atomic_bool mute_audio, mute_video;

    /* Devices. */
    device_camera *cam;
    device_mic *mic;
    GMutex vlock; /* renderer, player and the counters below */
    device_video_out *vo;
    device_audio_out *ao;
    uint64_t frames_verified, frames_out_of_order;
    bool have_frame;
    uint32_t last_frame_no;
    double delay_ms;
    GMutex rec_lock;
    device_recorder *rec;
};

/* ---- small helpers ----------------------------------------------------- */

static const char *nz(const char *s)
{
    return s != NULL ? s : "";
}

static int fail(char *why, size_t cap, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *why, size_t cap, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return code;
}

static int device_code(int rc)
{
    switch (rc) {
    case DEVICE_OK:
        return VID_OK;
    case DEVICE_EINVAL:
        return VID_EINVAL;
    case DEVICE_ENOMEM:
        return VID_ENOMEM;
    case DEVICE_ENODEVICE:
        return VID_ENODEVICE;
    case DEVICE_EBUSY:
        return VID_EBUSY;
    default:
        return VID_EMEDIA;
    }
}

static json_t *call_msg(const call *cl, const char *type)
{
    json_t *m = json_pack("{s:s}", "type", type);

    if (m != NULL && cl->id[0] != '\0')
        json_object_set_new(m, "call", json_string(cl->id));
    return m;
}

static json_int_t send_msg(call *cl, json_t *msg)
{
    if (msg == NULL)
        return VID_ENOMEM;
    return cl->host.send(cl->host.ud, msg);
}

static void emit(call *cl, vid_event *ev)
{
    if (ev->call_id == NULL && cl->id[0] != '\0')
        ev->call_id = cl->id;
    cl->host.emit(cl->host.ud, ev);
}

static vid_event event_init(vid_event_type type)
{
    vid_event ev;

    memset(&ev, 0, sizeof ev);
    ev.type = type;
    ev.mline_index = -1;
    return ev;
}

static vid_peer_identity check_pin(call *cl, const char *user,
                                   const char *device, const char *fp)
{
    identity_pin_status st;

    if (cl->host.pins == NULL || user == NULL || device == NULL || fp == NULL)
        return VID_PEER_UNKNOWN;
    st = identity_pins_check(cl->host.pins, user, device, fp);
    switch (st) {
    case IDENTITY_PIN_NEW:
        return VID_PEER_NEW;
    case IDENTITY_PIN_KNOWN:
        return VID_PEER_KNOWN;
    case IDENTITY_PIN_CHANGED:
        return VID_PEER_CHANGED;
    default:
        g_warning("call: pin check of %s/%s failed (%d)", user, device, st);
        return VID_PEER_UNKNOWN;
    }
}

/* ---- teardown and the end of a call ------------------------------------ */

static void stop_timer(call *cl)
{
    if (cl->timer != NULL) {
        g_source_destroy(cl->timer);
        g_source_unref(cl->timer);
        cl->timer = NULL;
    }
}

/* Stop capture, media, playout, recording and the transport. Idempotent. */
static void release_media(call *cl, bool close_transport)
{
    media_session *s;

    stop_timer(cl);
    /* Capture first: its callbacks push into the session. */
    device_camera_free(cl->cam);
    cl->cam = NULL;
    device_mic_free(cl->mic);
    cl->mic = NULL;
    s = atomic_exchange(&cl->s, NULL);
    media_session_free(s); /* joins the decode threads */
    g_mutex_lock(&cl->rec_lock);
    if (cl->rec != NULL) {
        char why[WHY_SIZE];
        if (device_recorder_finish(cl->rec, why, sizeof why) != DEVICE_OK)
            g_warning("call: recording %s: %s", nz(cl->record_path), why);
        device_recorder_free(cl->rec);
        cl->rec = NULL;
    }
    g_mutex_unlock(&cl->rec_lock);
    g_mutex_lock(&cl->vlock);
    device_video_out_free(cl->vo);
    cl->vo = NULL;
    device_audio_out_free(cl->ao);
    cl->ao = NULL;
    g_mutex_unlock(&cl->vlock);
    if (cl->t != NULL) {
        if (close_transport)
            transport_close(cl->t);
        transport_free(cl->t);
        cl->t = NULL;
    }
}

/* End the call: release everything, then VID_EVENT_CALL_ENDED, then tell
 * the client. @p message: detail for a person; @p reason: the peer's or
 * server's reason text. */
static void end_call(call *cl, vid_end_reason why_end, vid_ice_failure ice,
                     int code, const char *message, const char *reason)
{
    vid_event ev;
    vid_call_stats st;
    bool was_connected = cl->state == CALL_CONNECTED;

    if (cl->state == CALL_ENDED)
        return;
    /* Last snapshot while the media session still runs. */
    if (was_connected)
        call_get_stats(cl, &st);
    cl->state = CALL_ENDED;
    release_media(cl, why_end == VID_END_HANGUP ||
                          why_end == VID_END_REMOTE_HANGUP);
    ev = event_init(VID_EVENT_CALL_ENDED);
    if (was_connected)
        ev.stats = &st;
    if (cl->id[0] == '\0')
        ev.request_id = cl->invite_req;
    ev.user = cl->peer;
    ev.device = cl->peer_device;
    ev.end_reason = why_end;
    ev.ice_failure = ice;
    ev.code = code;
    ev.message = message;
    ev.reason = reason;
    ev.peer_identity = cl->peer_identity;
    emit(cl, &ev);
    cl->host.ended(cl->host.ud, cl);
}

/* Send call.hangup with @p reason (when the call has an id). */
static void send_hangup(call *cl, const char *reason)
{
    json_t *m;

    if (cl->id[0] == '\0')
        return;
    m = call_msg(cl, "call.hangup");
    if (m != NULL && reason != NULL)
        json_object_set_new(m, "reason", json_string(reason));
    send_msg(cl, m);
}

/* ---- transport callbacks ----------------------------------------------- */

static void send_candidate(call *cl, const char *cand)
{
    json_t *m = call_msg(cl, "call.candidate");

    if (m == NULL)
        return;
    json_object_set_new(m, "candidate", json_string(cand));
    json_object_set_new(m, "mid", json_string("0"));
    json_object_set_new(m, "mline_index", json_integer(0));
    send_msg(cl, m);
}

static void on_candidate(transport *t, const char *cand, void *ud)
{
    call *cl = ud;
    const char *text = cand != NULL ? cand : "";

    if (cl->state == CALL_ENDED)
        return;
    if (cl->id[0] == '\0')
        g_ptr_array_add(cl->local_cands, g_strdup(text));
    else
        send_candidate(cl, text);
}

static void on_packet(transport *t, bool is_rtcp, uint8_t *buf, size_t len,
                      void *ud)
{
    call *cl = ud;
    media_session *s = atomic_load(&cl->s);

    if (s != NULL)
        media_session_receive(s, is_rtcp, buf, len);
}

static vid_ice_failure ice_failure_of(transport_failure f)
{
    switch (f) {
    case TRANSPORT_FAIL_ICE_NO_CANDIDATES:
        return VID_ICE_FAILURE_NO_CANDIDATES;
    case TRANSPORT_FAIL_ICE_CHECKS_FAILED:
        return VID_ICE_FAILURE_CHECKS_FAILED;
    case TRANSPORT_FAIL_ICE_TURN_REFUSED:
        return VID_ICE_FAILURE_TURN_REFUSED;
    case TRANSPORT_FAIL_ICE_TURN_UNREACHABLE:
        return VID_ICE_FAILURE_TURN_UNREACHABLE;
    case TRANSPORT_FAIL_ICE_CONSENT_LOST:
        return VID_ICE_FAILURE_CONSENT_LOST;
    default:
        return VID_ICE_FAILURE_NONE;
    }
}

static void connected(call *cl)
{
    uint8_t secret[TRANSPORT_SAS_SECRET_LEN];
    const char *lt = NULL, *rt = NULL, *proto = NULL;
    media_session *s = atomic_load(&cl->s);
    vid_event ev;
    int rc;

    stop_timer(cl);
    if (s == NULL) {
        end_call(cl, VID_END_MEDIA_FAILED, VID_ICE_FAILURE_NONE, VID_EMEDIA,
                 "secure before the media session was made", NULL);
        return;
    }
    rc = media_session_start(s);
    if (rc != MEDIA_SESSION_OK) {
        send_hangup(cl, "media_failed");
        end_call(cl, VID_END_MEDIA_FAILED, VID_ICE_FAILURE_NONE, VID_EMEDIA,
                 "the media session could not start", NULL);
        return;
    }
    if (transport_get_sas_secret(cl->t, secret) != 0 ||
        identity_sas_format(secret, cl->sas, sizeof cl->sas) != VID_OK) {
        util_wipe(secret, sizeof secret);
        send_hangup(cl, "media_failed");
        end_call(cl, VID_END_MEDIA_FAILED, VID_ICE_FAILURE_NONE, VID_EMEDIA,
                 "no short authentication string from the DTLS session", NULL);
        return;
    }
    util_wipe(secret, sizeof secret);
    if (transport_get_selected_pair(cl->t, &lt, &rt, &proto) == 0 &&
        (g_strcmp0(lt, "relay") == 0 || g_strcmp0(rt, "relay") == 0))
        util_strlcpy(cl->path, "relay", sizeof cl->path);
    else
        util_strlcpy(cl->path, "direct", sizeof cl->path);
    cl->state = CALL_CONNECTED;
    cl->connected_us = g_get_monotonic_time();
    ev = event_init(VID_EVENT_CALL_CONNECTED);
    ev.user = cl->peer;
    ev.device = cl->peer_device;
    ev.fingerprint = cl->peer_fp;
    ev.sas = cl->sas;
    ev.path = cl->path;
    ev.peer_identity = cl->peer_identity;
    emit(cl, &ev);
}

static void on_state(transport *t, transport_state st, void *ud)
{
    call *cl = ud;
    transport_failure f;
    char msg[WHY_SIZE];

    if (cl->state == CALL_ENDED)
        return;
    switch (st) {
    case TRANSPORT_STATE_SECURE:
        connected(cl);
        break;
    case TRANSPORT_STATE_FAILED:
        f = transport_get_failure(t);
        snprintf(msg, sizeof msg, "%s%s%s", transport_failure_str(f),
                 transport_get_failure_detail(t)[0] != '\0' ? ": " : "",
                 transport_get_failure_detail(t));
        switch (f) {
        case TRANSPORT_FAIL_SECURITY:
            send_hangup(cl, "identity_mismatch");
            end_call(cl, VID_END_IDENTITY_MISMATCH, VID_ICE_FAILURE_NONE,
                     VID_EIDENTITY, msg, NULL);
            break;
        case TRANSPORT_FAIL_ICE_CONSENT_LOST:
            send_hangup(cl, "network_lost");
            end_call(cl, VID_END_NETWORK_LOST, VID_ICE_FAILURE_CONSENT_LOST,
                     VID_ENETWORK, msg, NULL);
            break;
        case TRANSPORT_FAIL_DTLS:
        case TRANSPORT_FAIL_SRTP:
        case TRANSPORT_FAIL_SRTP_KEY_EXPIRED:
            send_hangup(cl, "media_failed");
            end_call(cl, VID_END_MEDIA_FAILED, VID_ICE_FAILURE_NONE, VID_EMEDIA,
                     msg, NULL);
            break;
        default:
            send_hangup(cl, "ice_failed");
            end_call(cl, VID_END_ICE_FAILED, ice_failure_of(f), VID_ENETWORK,
                     msg, NULL);
            break;
        }
        break;
    case TRANSPORT_STATE_CLOSED:
        /* The peer's DTLS close_notify: it hung up (its call.hangup may
         * still be on its way through the server). */
        end_call(cl, VID_END_REMOTE_HANGUP, VID_ICE_FAILURE_NONE, VID_OK,
                 "the peer closed the media connection", NULL);
        break;
    default:
        break;
    }
}

static gboolean on_timeout(gpointer data)
{
    call *cl = data;

    g_source_unref(cl->timer);
    cl->timer = NULL;
    send_hangup(cl, "timeout");
    end_call(cl, VID_END_ICE_FAILED, VID_ICE_FAILURE_TIMEOUT, VID_ETIMEDOUT,
             "no media path within 30 s", NULL);
    return G_SOURCE_REMOVE;
}

static void start_timer(call *cl)
{
    stop_timer(cl);
    cl->timer = g_timeout_source_new(CONNECT_TIMEOUT_MS);
    g_source_set_callback(cl->timer, on_timeout, cl, NULL);
    g_source_attach(cl->timer, cl->host.context);
}

/* ---- media session and devices ----------------------------------------- */

static void on_video(const media_session_video_frame *f, void *ud)
{
    call *cl = ud;

    g_mutex_lock(&cl->vlock);
    if (f->synth_ok) {
        if (cl->have_frame && f->frame_no <= cl->last_frame_no)
            cl->frames_out_of_order++;
        else
            cl->frames_verified++;
        cl->have_frame = true;
        cl->last_frame_no = f->frame_no;
        cl->delay_ms = (double) (f->decoded_us - f->capture_us) / 1000.0;
    }
    if (cl->vo != NULL) {
        if (device_video_out_push(cl->vo, f->pic) != DEVICE_OK) {
            /* Another size than configured, or the window went away. */
            device_video_out_free(cl->vo);
            cl->vo = NULL;
            device_video_out_config vc = DEVICE_VIDEO_OUT_CONFIG_INIT;
            char why[WHY_SIZE];
            vc.width = f->pic->width;
            vc.height = f->pic->height;
            vc.title = "vid";
            if (device_video_out_new(&cl->vo, &vc, why, sizeof why) ==
                DEVICE_OK)
                device_video_out_push(cl->vo, f->pic);
        }
    }
    g_mutex_unlock(&cl->vlock);
    if (cl->opts.on_video != NULL) {
        vid_video_frame vf;
        memset(&vf, 0, sizeof vf);
        vf.width = f->pic->width;
        vf.height = f->pic->height;
        vf.planes[0] = f->pic->y;
        vf.planes[1] = f->pic->u;
        vf.planes[2] = f->pic->v;
        vf.strides[0] = f->pic->stride_y;
        vf.strides[1] = f->pic->stride_u;
        vf.strides[2] = f->pic->stride_v;
        vf.rtp_timestamp = f->rtp_ts;
        vf.keyframe = f->keyframe;
        cl->opts.on_video(cl->host.client, cl->id, &vf, cl->opts.user_data);
    }
}

static void on_audio(const media_session_audio_frame *f, void *ud)
{
    call *cl = ud;

    g_mutex_lock(&cl->vlock);
    if (cl->ao != NULL)
        device_audio_out_push(cl->ao, f->pcm, f->frames);
    g_mutex_unlock(&cl->vlock);
    if (cl->opts.on_audio != NULL) {
        vid_audio_frame af;
        af.pcm = f->pcm;
        af.frames = f->frames;
        af.channels = f->channels;
        af.sample_rate = MEDIA_OPUS_RATE;
        af.concealed = f->concealed || f->fec;
        cl->opts.on_audio(cl->host.client, cl->id, &af, cl->opts.user_data);
    }
}

static void on_encoded_video(const uint8_t *frame, size_t len, uint32_t rtp_ts,
                             bool keyframe, void *ud)
{
    call *cl = ud;

    g_mutex_lock(&cl->rec_lock);
    if (cl->rec != NULL)
        device_recorder_push_video(cl->rec, frame, len, g_get_monotonic_time(),
                                   keyframe);
    g_mutex_unlock(&cl->rec_lock);
}

static void on_encoded_audio(const uint8_t *packet, size_t len, uint32_t rtp_ts,
                             void *ud)
{
    call *cl = ud;

    g_mutex_lock(&cl->rec_lock);
    if (cl->rec != NULL)
        device_recorder_push_audio(cl->rec, packet, len,
                                   g_get_monotonic_time());
    g_mutex_unlock(&cl->rec_lock);
}

static void on_camera(const media_i420 *pic, int64_t capture_us, void *ud)
{
    call *cl = ud;
    media_session *s = atomic_load(&cl->s);

    if (s != NULL)
        media_session_push_video(s, pic, capture_us);
}

static void on_mic(const int16_t *pcm, size_t frames, int channels,
                   int64_t capture_us, void *ud)
{
    call *cl = ud;
    media_session *s = atomic_load(&cl->s);

    if (s != NULL)
        media_session_push_audio(s, pcm, frames, channels, capture_us);
}

static void on_device_error(int code, const char *why, void *ud)
{
    /* Streaming thread: the session keeps running; the peer sees frozen
     * video or silence. */
    g_warning("call: capture device failed: %s", why);
}

/* Open what the options ask for, before any message is sent, so that a
 * missing camera fails vid_call_place()/vid_call_answer() itself. */
static int open_devices(call *cl, char *why, size_t cap)
{
    int rc;

    if (cl->opts.send_video && !cl->opts.synthetic_video) {
        device_camera_config cc = DEVICE_CAMERA_CONFIG_INIT;
        cc.device_id = cl->camera;
        cc.width = cl->opts.width;
        cc.height = cl->opts.height;
        cc.fps = cl->opts.fps;
        cc.on_error = on_device_error;
        rc = device_camera_new(&cl->cam, &cc, on_camera, cl, why, cap);
        if (rc != DEVICE_OK)
            return device_code(rc);
    }
    if (cl->opts.play_audio) {
        device_audio_out_config ac = DEVICE_AUDIO_OUT_CONFIG_INIT;
        ac.channels = 1;
        ac.echo_probe = cl->opts.send_audio && !cl->opts.synthetic_audio;
        rc = device_audio_out_new(&cl->ao, &ac, why, cap);
        if (rc != DEVICE_OK)
            return device_code(rc);
    }
    if (cl->opts.send_audio && !cl->opts.synthetic_audio) {
        device_mic_config mc = DEVICE_MIC_CONFIG_INIT;
        mc.device_id = cl->microphone;
        mc.channels = 1;
        mc.echo_cancel = cl->ao != NULL;
        mc.echo_probe_name =
            cl->ao != NULL ? device_audio_out_probe_name(cl->ao) : NULL;
        mc.noise_suppression = true;
        mc.on_error = on_device_error;
        rc = device_mic_new(&cl->mic, &mc, on_mic, cl, why, cap);
        if (rc != DEVICE_OK)
            return device_code(rc);
    }
    if (cl->opts.render_video) {
        device_video_out_config vc = DEVICE_VIDEO_OUT_CONFIG_INIT;
        vc.width = cl->opts.width;
        vc.height = cl->opts.height;
        vc.title = "vid";
        rc = device_video_out_new(&cl->vo, &vc, why, cap);
        if (rc != DEVICE_OK)
            return device_code(rc);
    }
    if (cl->record_path != NULL) {
        device_recorder_config rc_cfg = DEVICE_RECORDER_CONFIG_INIT;
        rc_cfg.path = cl->record_path;
        rc_cfg.width = cl->opts.width;
        rc_cfg.height = cl->opts.height;
        rc_cfg.channels = 1;
        rc = device_recorder_new(&cl->rec, &rc_cfg, why, cap);
        if (rc != DEVICE_OK)
            return device_code(rc);
    }
    /* Capture starts now (waits for the first picture or sample), so a
     * device in use fails here too; frames reach the session once it
     * exists. */
    if (cl->cam != NULL) {
        rc = device_camera_start(cl->cam, why, cap);
        if (rc != DEVICE_OK)
            return device_code(rc);
    }
    if (cl->mic != NULL) {
        rc = device_mic_start(cl->mic, why, cap);
        if (rc != DEVICE_OK)
            return device_code(rc);
    }
    return VID_OK;
}

static const sdp_media *find_media(const sdp_description *d,
                                   sdp_media_kind kind)
{
    for (unsigned i = 0; i < d->n_media; i++)
        if (d->media[i].kind == kind && !d->media[i].rejected)
            return &d->media[i];
    return NULL;
}

/* The session with what the SDP negotiated: @p ours is the description we
 * sent (our SSRCs), @p neg the one whose payload types and extension ids
 * both sides use (the offer's, as echoed in the answer), @p remote the
 * peer's (its SSRCs). */
static int make_session(call *cl, const sdp_description *ours,
                        const sdp_description *remote, char *why, size_t cap)
{
    media_session_config mc = MEDIA_SESSION_CONFIG_INIT;
    const sdp_media *la = find_media(ours, SDP_MEDIA_AUDIO);
    const sdp_media *lv = find_media(ours, SDP_MEDIA_VIDEO);
    const sdp_media *ra = find_media(remote, SDP_MEDIA_AUDIO);
    const sdp_media *rv = find_media(remote, SDP_MEDIA_VIDEO);
    media_session *s = NULL;
    int rc;

    if ((la == NULL || ra == NULL) && (lv == NULL || rv == NULL))
        return fail(why, cap, VID_EPROTO,
                    "neither audio nor video was negotiated");
    mc.context = cl->host.context;
    mc.transport = cl->t;
    mc.width = cl->opts.width;
    mc.height = cl->opts.height;
    mc.fps = cl->opts.fps;
    mc.start_kbps = cl->opts.video_kbps;
    mc.max_kbps = cl->opts.max_video_kbps;
    if (mc.max_kbps < mc.start_kbps)
        mc.max_kbps = mc.start_kbps;
    mc.send_video = lv != NULL && rv != NULL && cl->opts.send_video &&
                    lv->direction != SDP_DIR_RECVONLY &&
                    lv->direction != SDP_DIR_INACTIVE;
    mc.send_audio = la != NULL && ra != NULL && cl->opts.send_audio &&
                    la->direction != SDP_DIR_RECVONLY &&
                    la->direction != SDP_DIR_INACTIVE;
    mc.external_video = cl->cam != NULL;
    mc.external_audio = cl->mic != NULL;
    if (lv != NULL && rv != NULL) {
        /* Both descriptions carry the negotiated pt and ids (the answer
         * echoes the offer's). */
        mc.video_pt = lv->pt;
        mc.rtx_pt = lv->rtx_pt != 0 && rv->rtx_pt != 0 ? lv->rtx_pt : 0;
        mc.video_ssrc = lv->has_ssrc ? lv->ssrc : 0;
        mc.rtx_ssrc = lv->has_rtx_ssrc ? lv->rtx_ssrc : 0;
        mc.remote_video_ssrc = rv->has_ssrc ? rv->ssrc : 0;
        mc.remote_rtx_ssrc = rv->has_rtx_ssrc ? rv->rtx_ssrc : 0;
        mc.video_mid = lv->mid;
        mc.mid_ext_id = rv->ext_id[SDP_EXT_MID];
        mc.abs_send_time_ext_id = rv->ext_id[SDP_EXT_ABS_SEND_TIME];
        mc.twcc_ext_id = rv->ext_id[SDP_EXT_TWCC];
    }
    if (la != NULL && ra != NULL) {
        mc.audio_pt = la->pt;
        mc.audio_ssrc = la->has_ssrc ? la->ssrc : 0;
        mc.remote_audio_ssrc = ra->has_ssrc ? ra->ssrc : 0;
        mc.audio_mid = la->mid;
        if (lv == NULL || rv == NULL) {
            mc.mid_ext_id = ra->ext_id[SDP_EXT_MID];
            mc.abs_send_time_ext_id = ra->ext_id[SDP_EXT_ABS_SEND_TIME];
            mc.twcc_ext_id = ra->ext_id[SDP_EXT_TWCC];
        }
    }
    if (mc.rtx_pt == 0) {
        /* The peer takes no RTX: nothing may be sent or accepted on an
         * RTX payload type (no_rtx); lost video recovers by PLI. The
         * session still wants a pt distinct from the others: an unused
         * one. */
        mc.no_rtx = true;
        mc.rtx_pt = 97;
        while (mc.rtx_pt == mc.video_pt || mc.rtx_pt == mc.audio_pt)
            mc.rtx_pt++;
    }
    mc.on_video = on_video;
    mc.on_audio = on_audio;
    if (cl->rec != NULL) {
        mc.on_encoded_video = on_encoded_video;
        mc.on_encoded_audio = on_encoded_audio;
    }
    mc.user_data = cl;
    rc = media_session_new(&s, &mc);
    if (rc != MEDIA_SESSION_OK)
        return fail(why, cap,
                    rc == MEDIA_SESSION_ENOMEM   ? VID_ENOMEM
                    : rc == MEDIA_SESSION_EINVAL ? VID_EPROTO
                                                 : VID_EMEDIA,
                    "the media session could not be made (%d)", rc);
    media_session_set_mute(s, atomic_load(&cl->mute_audio),
                           atomic_load(&cl->mute_video));
    atomic_store(&cl->s, s);
    return VID_OK;
}

/* ---- transport set-up -------------------------------------------------- */

static int make_transport(call *cl, const vid_policy *pol, bool controlling,
                          bool dtls_client, char *why, size_t cap)
{
    transport_policy tp = TRANSPORT_POLICY_INIT;
    transport_config cfg = TRANSPORT_CONFIG_INIT;
    int rc;

    if (pol != NULL) {
        for (size_t i = 0; i < pol->n_ice_servers; i++) {
            const vid_ice_server *srv = &pol->ice_servers[i];
            for (size_t j = 0; j < srv->n_urls; j++) {
                const char *u = srv->urls[j];
                if (g_str_has_prefix(u, "stun:") && tp.stun_url == NULL) {
                    tp.stun_url = u;
                } else if ((g_str_has_prefix(u, "turn:") ||
                            g_str_has_prefix(u, "turns:")) &&
                           tp.n_turn_urls < TRANSPORT_MAX_TURN &&
                           srv->username != NULL && srv->credential != NULL &&
                           (tp.turn_username == NULL ||
                            strcmp(tp.turn_username, srv->username) == 0)) {
                    tp.turn_urls[tp.n_turn_urls++] = u;
                    tp.turn_username = srv->username;
                    tp.turn_credential = srv->credential;
                }
            }
        }
        tp.relay_only = pol->ice_transport_policy == VID_ICE_TRANSPORT_RELAY;
        tp.port_min = pol->media_port_min;
        tp.port_max = pol->media_port_max;
    }
    cfg.context = cl->host.context;
    cfg.controlling = controlling;
    cfg.dtls_client = dtls_client;
    cfg.cert = identity_certificate(cl->host.id);
    cfg.key = identity_key(cl->host.id);
    cfg.policy = &tp;
    cfg.local_addresses = (const char *const *) cl->local_addrs;
    cfg.on_candidate = on_candidate;
    cfg.on_state = on_state;
    cfg.on_packet = on_packet;
    cfg.user_data = cl;
    rc = transport_new(&cl->t, &cfg);
    if (rc != TRANSPORT_OK)
        return fail(why, cap, rc == TRANSPORT_ENOMEM ? VID_ENOMEM : VID_EMEDIA,
                    "the media transport could not be made (bad ICE policy "
                    "or a library failure)");
    return VID_OK;
}

static bool fingerprint_bytes(const char *text, uint8_t out[32])
{
    return identity_fingerprint_decode(text, out) == VID_OK;
}

static void rand_token(char *buf, size_t len)
{
    static const char abc[] = "abcdefghijklmnopqrstuvwxyz"
                              "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    for (size_t i = 0; i + 1 < len; i++)
        buf[i] = abc[g_random_int_range(0, (gint32) sizeof abc - 1)];
    buf[len - 1] = '\0';
}

static uint32_t rand_ssrc(void)
{
    uint32_t v;

    do
        v = g_random_int();
    while (v == 0);
    return v;
}

static int fill_local(call *cl, sdp_local *me, char *why, size_t cap)
{
    char fp[128];

    if (transport_get_local_credentials(cl->t, me->ice_ufrag,
                                        sizeof me->ice_ufrag, me->ice_pwd,
                                        sizeof me->ice_pwd) != 0 ||
        transport_get_local_fingerprint(cl->t, fp, sizeof fp) != 0 ||
        !fingerprint_bytes(fp, me->fingerprint))
        return fail(why, cap, VID_EMEDIA, "no local ICE/DTLS parameters");
    me->audio = true;
    me->video = true;
    me->audio_direction =
        cl->opts.send_audio ? SDP_DIR_SENDRECV : SDP_DIR_RECVONLY;
    me->video_direction =
        cl->opts.send_video ? SDP_DIR_SENDRECV : SDP_DIR_RECVONLY;
    me->audio_ssrc = rand_ssrc();
    me->video_ssrc = rand_ssrc();
    do
        me->video_rtx_ssrc = rand_ssrc();
    while (me->video_rtx_ssrc == me->video_ssrc);
    rand_token(me->cname, 17);
    rand_token(me->stream_id, 17);
    me->video_rtx = true;
    return VID_OK;
}

/* The peer's SDP must name the key the server registered for its device:
 * if not, somebody changed the SDP or the registry, and there is no point
 * in waiting for the DTLS handshake to fail. */
static int check_sdp_fingerprint(call *cl, const sdp_description *remote,
                                 char *why, size_t cap)
{
    uint8_t reg[SDP_FINGERPRINT_LEN];

    if (cl->peer_fp == NULL || !fingerprint_bytes(cl->peer_fp, reg))
        return fail(why, cap, VID_EPROTO,
                    "the server gave no usable fingerprint for %s's device",
                    nz(cl->peer));
    if (memcmp(reg, remote->fingerprint, sizeof reg) != 0)
        return fail(why, cap, VID_EIDENTITY,
                    "%s's SDP names another DTLS key than the one the server "
                    "registered for device %s",
                    nz(cl->peer), nz(cl->peer_device));
    return VID_OK;
}

/* Apply the trickled candidates held so far (after the remote
 * description). */
static void add_remote_candidate(call *cl, const char *cand)
{
    if (cand[0] == '\0') {
        transport_remote_candidates_done(cl->t);
        return;
    }
    if (transport_add_remote_candidate(cl->t, cand) != 0)
        g_debug("call %s: candidate ignored: %s", cl->id, cand);
}

/* The remote description is known: ICE credentials, fingerprints (SDP and
 * registered), the candidates inside the SDP and those held. */
static int apply_remote(call *cl, const sdp_description *remote, char *why,
                        size_t cap)
{
    char sdp_fp[8 + SDP_FINGERPRINT_LEN * 3];

    sdp_fingerprint_format(remote->fingerprint, sdp_fp);
    if (transport_set_remote_credentials(cl->t, remote->ice_ufrag,
                                         remote->ice_pwd) != 0)
        return fail(why, cap, VID_EPROTO, "unusable ICE credentials");
    if (transport_set_remote_fingerprints(cl->t, sdp_fp, cl->peer_fp) != 0)
        return fail(why, cap, VID_EPROTO,
                    "the registered fingerprint \"%.110s\" is unusable",
                    nz(cl->peer_fp));
    cl->remote_set = true;
    for (unsigned i = 0; i < remote->n_media; i++) {
        const sdp_media *m = &remote->media[i];
        for (unsigned j = 0; j < m->n_candidates; j++) {
            char buf[SDP_MAX_CANDIDATE_LEN + 1];
            if (sdp_candidate_format(&m->candidates[j], buf, sizeof buf) > 0)
                add_remote_candidate(cl, buf);
        }
    }
    for (guint i = 0; i < cl->remote_cands->len; i++)
        add_remote_candidate(cl, g_ptr_array_index(cl->remote_cands, i));
    g_ptr_array_set_size(cl->remote_cands, 0);
    return VID_OK;
}

/* ---- creation ---------------------------------------------------------- */

static char **parse_addresses(const char *list, char *why, size_t cap)
{
    char **parts;

    if (list == NULL)
        return NULL;
    parts = g_strsplit(list, ",", -1);
    for (size_t i = 0; parts[i] != NULL; i++) {
        GInetAddress *a;
        g_strstrip(parts[i]);
        a = g_inet_address_new_from_string(parts[i]);
        if (a == NULL) {
            fail(why, cap, VID_EINVAL,
                 "local_addresses: \"%.64s\" is not an IP address", parts[i]);
            g_strfreev(parts);
            return NULL;
        }
        g_object_unref(a);
    }
    if (parts[0] == NULL) {
        fail(why, cap, VID_EINVAL, "local_addresses is empty");
        g_strfreev(parts);
        return NULL;
    }
    return parts;
}

static call *call_alloc(const call_host *host, const vid_call_options *opts,
                        char *why, size_t cap, int *rc)
{
    call *cl = g_new0(call, 1);

    cl->host = *host;
    cl->opts = *opts;
    cl->camera = g_strdup(opts->camera);
    cl->microphone = g_strdup(opts->microphone);
    cl->record_path = g_strdup(opts->record_path);
    cl->opts.camera = cl->camera;
    cl->opts.microphone = cl->microphone;
    cl->opts.record_path = cl->record_path;
    cl->opts.local_addresses = NULL;
    cl->local_cands = g_ptr_array_new_with_free_func(g_free);
    cl->remote_cands = g_ptr_array_new_with_free_func(g_free);
    g_mutex_init(&cl->vlock);
    g_mutex_init(&cl->rec_lock);
    atomic_init(&cl->s, NULL);
    atomic_init(&cl->mute_audio, false);
    atomic_init(&cl->mute_video, false);
    cl->delay_ms = -1;
    *rc = VID_OK;
    if (opts->local_addresses != NULL) {
        cl->local_addrs = parse_addresses(opts->local_addresses, why, cap);
        if (cl->local_addrs == NULL)
            *rc = VID_EINVAL;
    }
    return cl;
}

int call_place(call **out, const call_host *host, const vid_policy *policy,
               const char *peer, const vid_call_options *opts,
               uint64_t *request_id, char *why, size_t cap)
{
    sdp_local me = SDP_LOCAL_INIT;
    sdp_error err;
    char *text = NULL;
    json_t *m;
    json_int_t id;
    call *cl;
    int rc;

    *out = NULL;
    cl = call_alloc(host, opts, why, cap, &rc);
    if (rc != VID_OK)
        goto fail;
    cl->outgoing = true;
    cl->state = CALL_INVITING;
    cl->peer = g_strdup(peer);
    rc = open_devices(cl, why, cap);
    if (rc != VID_OK)
        goto fail;
    rc = make_transport(cl, policy, true, false, why, cap);
    if (rc != VID_OK)
        goto fail;
    rc = fill_local(cl, &me, why, cap);
    if (rc != VID_OK)
        goto fail;
    if (sdp_offer_new(&cl->offer, &me, &err) != SDP_OK ||
        sdp_format(cl->offer, &text, &err) != SDP_OK) {
        rc = fail(why, cap, VID_EMEDIA, "offer: %s", err.message);
        goto fail;
    }
    m = json_pack("{s:s,s:s,s:s}", "type", "call.invite", "to", peer, "sdp",
                  text);
    g_free(text);
    id = send_msg(cl, m);
    if (id < 0) {
        rc = fail(why, cap, (int) id, "call.invite could not be sent");
        goto fail;
    }
    cl->invite_req = (uint64_t) id;
    if (request_id != NULL)
        *request_id = cl->invite_req;
    if (transport_gather(cl->t) != 0)
        g_warning("call: ICE gathering did not start");
    *out = cl;
    return VID_OK;
fail:
    cl->state = CALL_ENDED;
    call_free(cl);
    return rc;
}

int call_answer(call **out, const call_host *host, const vid_policy *policy,
                const call_invite *inv, const vid_call_options *opts, char *why,
                size_t cap)
{
    g_autoptr(sdp_description) offer = NULL;
    sdp_local me = SDP_LOCAL_INIT;
    sdp_description *answer = NULL;
    sdp_error err;
    char *text = NULL;
    json_t *m;
    call *cl;
    int rc;

    *out = NULL;
    if (sdp_parse_offer(&offer, inv->sdp, strlen(inv->sdp), &err) != SDP_OK)
        return fail(why, cap, VID_EPROTO, "the caller's offer is unusable: %s",
                    err.message);
    cl = call_alloc(host, opts, why, cap, &rc);
    if (rc != VID_OK)
        goto fail;
    cl->outgoing = false;
    cl->state = CALL_CONNECTING;
    util_strlcpy(cl->id, inv->call_id, sizeof cl->id);
    cl->peer = g_strdup(inv->from);
    cl->peer_device = g_strdup(inv->from_device);
    cl->peer_fp = g_strdup(inv->fingerprint);
    cl->peer_identity =
        check_pin(cl, inv->from, inv->from_device, inv->fingerprint);
    if (cl->peer_identity == VID_PEER_CHANGED &&
        opts->refuse_changed_identity) {
        rc = fail(why, cap, VID_EIDENTITY,
                  "%s's device %s shows another key than the one pinned",
                  inv->from, inv->from_device);
        goto fail;
    }
    rc = check_sdp_fingerprint(cl, offer, why, cap);
    if (rc != VID_OK)
        goto fail;
    rc = open_devices(cl, why, cap);
    if (rc != VID_OK)
        goto fail;
    rc = make_transport(cl, policy, false, offer->setup != SDP_SETUP_ACTIVE,
                        why, cap);
    if (rc != VID_OK)
        goto fail;
    rc = fill_local(cl, &me, why, cap);
    if (rc != VID_OK)
        goto fail;
    if (sdp_answer_new(&answer, offer, &me, &err) != SDP_OK ||
        sdp_format(answer, &text, &err) != SDP_OK) {
        sdp_description_free(answer);
        rc = fail(why, cap, VID_EMEDIA, "answer: %s", err.message);
        goto fail;
    }
    cl->local = answer;
    rc = make_session(cl, answer, offer, why, cap);
    if (rc != VID_OK) {
        g_free(text);
        goto fail;
    }
    m = call_msg(cl, "call.accept");
    if (m != NULL)
        json_object_set_new(m, "sdp", json_string(text));
    g_free(text);
    if (send_msg(cl, m) < 0) {
        rc = fail(why, cap, VID_ESTATE, "call.accept could not be sent");
        goto fail;
    }
    for (guint i = 0; i < inv->candidates->len; i++) {
        const json_t *c = g_ptr_array_index(inv->candidates, i);
        const char *s = json_string_value(json_object_get(c, "candidate"));
        if (s != NULL)
            g_ptr_array_add(cl->remote_cands, g_strdup(s));
    }
    rc = apply_remote(cl, offer, why, cap);
    if (rc != VID_OK) {
        send_hangup(cl, "bad_sdp");
        goto fail;
    }
    if (transport_gather(cl->t) != 0)
        g_warning("call: ICE gathering did not start");
    start_timer(cl);
    *out = cl;
    return VID_OK;
fail:
    cl->state = CALL_ENDED;
    call_free(cl);
    return rc;
}

/* ---- messages ---------------------------------------------------------- */

const char *call_get_id(const call *cl)
{
    return cl->id;
}

uint64_t call_get_invite_request(const call *cl)
{
    return cl->invite_req;
}

bool call_is_ended(const call *cl)
{
    return cl->state == CALL_ENDED;
}

void call_on_created(call *cl, const char *call_id)
{
    vid_event ev;

    if (cl->state == CALL_ENDED || cl->id[0] != '\0')
        return;
    util_strlcpy(cl->id, call_id, sizeof cl->id);
    ev = event_init(VID_EVENT_CALL_CREATED);
    ev.request_id = cl->invite_req;
    emit(cl, &ev);
    for (guint i = 0; i < cl->local_cands->len; i++)
        send_candidate(cl, g_ptr_array_index(cl->local_cands, i));
    g_ptr_array_set_size(cl->local_cands, 0);
}

void call_on_invite_failed(call *cl, int code, const char *server_code,
                           const char *message)
{
    vid_end_reason r = VID_END_PROTOCOL;

    if (code == VID_ENOTFOUND || code == VID_EOFFLINE)
        r = VID_END_OFFLINE;
    else if (code == VID_ENETWORK || code == VID_ECLOSED)
        r = VID_END_NETWORK_LOST;
    end_call(cl, r, VID_ICE_FAILURE_NONE, code, message, server_code);
}

static void on_accept(call *cl, const json_t *msg)
{
    g_autoptr(sdp_description) answer = NULL;
    const char *sdp = json_string_value(json_object_get(msg, "sdp"));
    sdp_error err;
    char why[WHY_SIZE];
    vid_event ev;
    int rc;

    if (!cl->outgoing || cl->state != CALL_INVITING)
        return;
    g_free(cl->peer_device);
    g_free(cl->peer_fp);
    cl->peer_device =
        g_strdup(json_string_value(json_object_get(msg, "from_device")));
    cl->peer_fp =
        g_strdup(json_string_value(json_object_get(msg, "fingerprint")));
    cl->state = CALL_CONNECTING;
    cl->peer_identity = check_pin(cl, cl->peer, cl->peer_device, cl->peer_fp);
    ev = event_init(VID_EVENT_CALL_ACCEPT);
    ev.user = cl->peer;
    ev.device = cl->peer_device;
    ev.fingerprint = cl->peer_fp;
    ev.sdp = sdp;
    ev.peer_identity = cl->peer_identity;
    emit(cl, &ev);
    if (cl->peer_identity == VID_PEER_CHANGED &&
        cl->opts.refuse_changed_identity) {
        send_hangup(cl, "identity_changed");
        end_call(
            cl, VID_END_IDENTITY_MISMATCH, VID_ICE_FAILURE_NONE, VID_EIDENTITY,
            "the callee's device shows another key than the one pinned", NULL);
        return;
    }
    if (sdp == NULL || sdp_parse_answer(&answer, sdp, strlen(sdp), cl->offer,
                                        &err) != SDP_OK) {
        snprintf(why, sizeof why, "the callee's answer is unusable: %.200s",
                 sdp == NULL ? "no SDP" : err.message);
        send_hangup(cl, "bad_sdp");
        end_call(cl, VID_END_PROTOCOL, VID_ICE_FAILURE_NONE, VID_EPROTO, why,
                 NULL);
        return;
    }
    if (check_sdp_fingerprint(cl, answer, why, sizeof why) != VID_OK) {
        send_hangup(cl, "identity_mismatch");
        end_call(cl, VID_END_IDENTITY_MISMATCH, VID_ICE_FAILURE_NONE,
                 VID_EIDENTITY, why, NULL);
        return;
    }
    /* Their a=setup:active makes them the DTLS client. */
    transport_set_dtls_client(cl->t, answer->setup == SDP_SETUP_PASSIVE);
    rc = make_session(cl, cl->offer, answer, why, sizeof why);
    if (rc == VID_OK)
        rc = apply_remote(cl, answer, why, sizeof why);
    if (rc != VID_OK) {
        send_hangup(cl, rc == VID_EPROTO ? "bad_sdp" : "media_failed");
        end_call(cl, rc == VID_EPROTO ? VID_END_PROTOCOL : VID_END_MEDIA_FAILED,
                 VID_ICE_FAILURE_NONE, rc, why, NULL);
        return;
    }
    start_timer(cl);
}

void call_on_message(call *cl, proto_msg_type type, const json_t *msg)
{
    const char *reason = json_string_value(json_object_get(msg, "reason"));
    const char *cand;
    vid_event ev;

    if (cl->state == CALL_ENDED)
        return;
    switch (type) {
    case PROTO_MSG_CALL_RINGING:
        ev = event_init(VID_EVENT_CALL_RINGING);
        ev.user = json_string_value(json_object_get(msg, "from"));
        ev.device = json_string_value(json_object_get(msg, "from_device"));
        emit(cl, &ev);
        break;
    case PROTO_MSG_CALL_ACCEPT:
        on_accept(cl, msg);
        break;
    case PROTO_MSG_CALL_REJECT:
        if (g_strcmp0(reason, "busy") == 0)
            end_call(cl, VID_END_BUSY, VID_ICE_FAILURE_NONE, VID_OK,
                     "the callee is busy", reason);
        else if (g_strcmp0(reason, "identity_mismatch") == 0 ||
                 g_strcmp0(reason, "identity_changed") == 0)
            end_call(cl, VID_END_IDENTITY_MISMATCH, VID_ICE_FAILURE_NONE,
                     VID_EIDENTITY, "the callee refused our identity", reason);
        else if (g_strcmp0(reason, "bad_sdp") == 0)
            end_call(cl, VID_END_PROTOCOL, VID_ICE_FAILURE_NONE, VID_EPROTO,
                     "the callee could not use our offer", reason);
        else
            end_call(cl, VID_END_REJECTED, VID_ICE_FAILURE_NONE, VID_OK,
                     "the callee declined", reason);
        break;
    case PROTO_MSG_CALL_CANCEL:
        end_call(cl, VID_END_CANCELLED, VID_ICE_FAILURE_NONE, VID_OK,
                 "the call was cancelled", reason);
        break;
    case PROTO_MSG_CALL_HANGUP:
        if (g_strcmp0(reason, "no_answer") == 0)
            end_call(cl, VID_END_NO_ANSWER, VID_ICE_FAILURE_NONE, VID_OK,
                     "nobody answered", reason);
        else if (g_strcmp0(reason, "peer_disconnected") == 0)
            end_call(cl, VID_END_NETWORK_LOST, VID_ICE_FAILURE_NONE,
                     VID_ENETWORK, "the peer lost its server connection",
                     reason);
        /* The reasons our library hangs up with when a call fails, so
         * that both ends report the same cause. */
        else if (g_strcmp0(reason, "ice_failed") == 0)
            end_call(cl, VID_END_ICE_FAILED, VID_ICE_FAILURE_CHECKS_FAILED,
                     VID_ENETWORK, "the peer found no media path", reason);
        else if (g_strcmp0(reason, "timeout") == 0)
            end_call(cl, VID_END_ICE_FAILED, VID_ICE_FAILURE_TIMEOUT,
                     VID_ETIMEDOUT, "the peer found no media path in 30 s",
                     reason);
        else if (g_strcmp0(reason, "network_lost") == 0)
            end_call(cl, VID_END_NETWORK_LOST, VID_ICE_FAILURE_CONSENT_LOST,
                     VID_ENETWORK, "the peer lost the media path", reason);
        else if (g_strcmp0(reason, "identity_mismatch") == 0 ||
                 g_strcmp0(reason, "identity_changed") == 0)
            end_call(cl, VID_END_IDENTITY_MISMATCH, VID_ICE_FAILURE_NONE,
                     VID_EIDENTITY, "the peer refused our identity", reason);
        else if (g_strcmp0(reason, "media_failed") == 0)
            end_call(cl, VID_END_MEDIA_FAILED, VID_ICE_FAILURE_NONE, VID_EMEDIA,
                     "media failed at the peer", reason);
        else if (g_strcmp0(reason, "bad_sdp") == 0)
            end_call(cl, VID_END_PROTOCOL, VID_ICE_FAILURE_NONE, VID_EPROTO,
                     "the peer could not use our SDP", reason);
        else
            end_call(cl, VID_END_REMOTE_HANGUP, VID_ICE_FAILURE_NONE, VID_OK,
                     "the peer hung up", reason);
        break;
    case PROTO_MSG_CALL_CANDIDATE:
        cand = json_string_value(json_object_get(msg, "candidate"));
        if (cand == NULL)
            break;
        if (cl->remote_set)
            add_remote_candidate(cl, cand);
        else
            g_ptr_array_add(cl->remote_cands, g_strdup(cand));
        break;
    default:
        break;
    }
}

void call_on_disconnected(call *cl)
{
    end_call(cl, VID_END_NETWORK_LOST, VID_ICE_FAILURE_NONE, VID_ENETWORK,
             "the connection to the server was lost", NULL);
}

void call_hangup(call *cl, const char *reason)
{
    if (cl->state == CALL_ENDED)
        return;
    send_hangup(cl, reason);
    end_call(cl, VID_END_HANGUP, VID_ICE_FAILURE_NONE, VID_OK, "hung up",
             reason);
}

void call_set_mute(call *cl, bool audio, bool video)
{
    media_session *s;

    atomic_store(&cl->mute_audio, audio);
    atomic_store(&cl->mute_video, video);
    s = atomic_load(&cl->s);
    if (s != NULL)
        media_session_set_mute(s, audio, video);
}

void call_get_stats(call *cl, vid_call_stats *out)
{
    media_session_stats st;
    media_session *s = atomic_load(&cl->s);
    const char *lt, *rt, *proto;
    uint64_t expected;

    memset(out, 0, sizeof *out);
    out->rtt_ms = -1;
    out->delay_ms = -1;
    out->audio_muted = atomic_load(&cl->mute_audio);
    out->video_muted = atomic_load(&cl->mute_video);
    if (cl->state == CALL_CONNECTED)
        out->duration_ms = (g_get_monotonic_time() - cl->connected_us) / 1000;
    if (s != NULL) {
        media_session_get_stats(s, &st);
        out->send_width = st.width;
        out->send_height = st.height;
        out->send_fps = st.fps_sent;
        out->send_video_kbps = (uint32_t) (st.video_bps_sent / 1000);
        out->send_audio_kbps = (uint32_t) (st.audio_bps_sent / 1000);
        out->target_video_kbps = st.target_bps / 1000;
        out->frames_sent = st.frames_encoded;
        out->remote_loss = st.remote_loss;
        out->recv_width = st.recv_width;
        out->recv_height = st.recv_height;
        out->recv_fps = st.fps_decoded;
        out->recv_video_kbps = (uint32_t) (st.video_bps_received / 1000);
        out->recv_audio_kbps = (uint32_t) (st.audio_bps_received / 1000);
        out->frames_received = st.frames_decoded;
        out->audio_frames_received = st.audio_frames_decoded;
        out->audio_frames_concealed = st.audio_frames_concealed;
        out->packets_lost = st.packets_lost;
        expected = st.packets_received + st.packets_lost;
        out->loss = expected > 0 ? (double) st.packets_lost / expected : 0;
        out->jitter_ms = (double) st.video_jitter_us / 1000.0;
        out->rtt_ms = st.rtt_us < 0 ? -1 : (double) st.rtt_us / 1000.0;
        out->nacks_sent = st.nacks_sent;
        out->plis_sent = st.plis_sent;
        out->retransmits_sent = st.retransmits_sent;
    }
    g_mutex_lock(&cl->vlock);
    out->frames_verified = cl->frames_verified;
    out->frames_out_of_order = cl->frames_out_of_order;
    out->delay_ms = cl->delay_ms;
    g_mutex_unlock(&cl->vlock);
    if (cl->t != NULL &&
        transport_get_selected_pair(cl->t, &lt, &rt, &proto) == 0) {
        util_strlcpy(out->local_candidate, lt, sizeof out->local_candidate);
        util_strlcpy(out->remote_candidate, rt, sizeof out->remote_candidate);
        util_strlcpy(out->protocol, proto, sizeof out->protocol);
        out->relayed = strcmp(lt, "relay") == 0 || strcmp(rt, "relay") == 0;
    }
}

int call_get_sas(const call *cl, char *buf, size_t cap)
{
    if (buf == NULL || cap < VID_SAS_SIZE)
        return VID_EINVAL;
    if (cl->state != CALL_CONNECTED)
        return VID_ESTATE;
    util_strlcpy(buf, cl->sas, cap);
    return VID_OK;
}

void call_free(call *cl)
{
    if (cl == NULL)
        return;
    release_media(cl, false);
    sdp_description_free(cl->offer);
    sdp_description_free(cl->local);
    g_ptr_array_unref(cl->local_cands);
    g_ptr_array_unref(cl->remote_cands);
    g_strfreev(cl->local_addrs);
    g_free(cl->camera);
    g_free(cl->microphone);
    g_free(cl->record_path);
    g_free(cl->peer);
    g_free(cl->peer_device);
    g_free(cl->peer_fp);
    g_mutex_clear(&cl->vlock);
    g_mutex_clear(&cl->rec_lock);
    util_wipe(cl->sas, sizeof cl->sas);
    g_free(cl);
}

void call_invite_free(call_invite *inv)
{
    if (inv == NULL)
        return;
    g_free(inv->call_id);
    g_free(inv->from);
    g_free(inv->from_device);
    g_free(inv->fingerprint);
    g_free(inv->sdp);
    if (inv->candidates != NULL)
        g_ptr_array_unref(inv->candidates);
    g_free(inv);
}
