/*
 * call.h — one managed call (vid_call_place() / vid_call_answer()): the
 * state machine that ties the signaling messages of one call to its
 * transport (ICE + DTLS + SRTP), SDP offer/answer, media session and
 * devices, checks the peer's identity and reports the outcome.
 *
 * Internal to libvid. The client layer owns at most one call at a time
 * and talks to it only on its worker thread, whose GMainContext is also
 * the transport's and the session's network context. Everything here runs
 * on that thread, except the frame callbacks (decode threads) and
 * call_get_stats() / call_set_mute(), which are safe from any thread.
 *
 * Life of a call:
 *
 *   caller                               callee
 *   call_place() -> call.invite          (client keeps the invite: call_invite)
 *   call_on_created(id)                  call_answer() -> call.accept
 *   call_on_message(ringing/accept/...)  call_on_message(candidate/hangup)
 *        ... transport SECURE: session starts, VID_EVENT_CALL_CONNECTED ...
 *   call_hangup() / remote hangup / failure -> VID_EVENT_CALL_ENDED, then
 *   host->ended(); the client frees the call later with call_free().
 *
 * May call: session, device, sdp, transport, identity (trust), signaling
 * proto (message type names), util, GLib, jansson.
 */
#ifndef VID_CALL_H
#define VID_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>
#include <jansson.h>

#include "identity/identity.h"
#include "identity/trust.h"
#include "signaling/proto.h"
#include "vid/vid.h"

typedef struct call call;

/* What the client lends the call. All callbacks run on the worker. */
typedef struct {
    GMainContext *context; /* the worker's context (network thread) */
    vid_client *client;    /* passed to the frame callbacks */
    const identity *id;    /* our certificate, key and fingerprint */
    identity_pins *pins;   /* may be NULL: no pinning */
    /* Send a call.* request (no "id" yet; the reference is stolen).
     * Returns the request id (> 0) or a negative vid_status. */
    json_int_t (*send)(void *ud, json_t *msg);
    /* Queue @ev for the application (its strings are copied). */
    void (*emit)(void *ud, const vid_event *ev);
    /* The call emitted VID_EVENT_CALL_ENDED; media, devices and transport
     * are released. The client drops it from its table and frees it with
     * call_free() later (not from inside this callback). */
    void (*ended)(void *ud, call *cl);
    void *ud;
} call_host;

/* An invite the application has not answered yet (the client's copy). */
typedef struct {
    char *call_id;
    char *from, *from_device, *fingerprint;
    char *sdp;
    /* Trickled candidates that came with it: json objects with
     * "candidate", optional "mid"/"mline_index" (owned references). */
    GPtrArray *candidates;
} call_invite;

void call_invite_free(call_invite *inv);

/*
 * Start an outgoing call to @p peer: opens the devices, builds the
 * transport and the offer, gathers and sends call.invite.
 * @param policy      the login's policy (copied into the transport config)
 * @param request_id  receives the invite's request id
 * @return VID_OK, VID_EINVAL, VID_ENODEVICE, VID_EBUSY, VID_EMEDIA,
 *         VID_ENOMEM, VID_ESTATE (the request could not be sent); @p why
 *         says more
 */
int call_place(call **out, const call_host *host, const vid_policy *policy,
               const char *peer, const vid_call_options *opts,
               uint64_t *request_id, char *why, size_t cap);

/*
 * Answer @p inv (borrowed; its buffered candidates are applied): checks
 * the offer, opens the devices, sends call.accept and starts ICE.
 * @return VID_OK, VID_EPROTO (unusable offer: the caller must decline),
 *         VID_ENODEVICE, VID_EBUSY, VID_EMEDIA, VID_EINVAL, VID_ENOMEM
 */
int call_answer(call **out, const call_host *host, const vid_policy *policy,
                const call_invite *inv, const vid_call_options *opts, char *why,
                size_t cap);

/* The server's id for the call ("" before call_on_created()). */
const char *call_get_id(const call *cl);
/* The request id of our call.invite (0 for an answered call). */
uint64_t call_get_invite_request(const call *cl);
bool call_is_ended(const call *cl);

/* The ack of our invite brought the call id. */
void call_on_created(call *cl, const char *call_id);
/* Our invite failed (unknown user, offline, ...). Ends the call. */
void call_on_invite_failed(call *cl, int code, const char *server_code,
                           const char *message);
/* A server message for this call: ringing, accept, reject, cancel,
 * candidate or hangup (proto_parse() checked the fields). */
void call_on_message(call *cl, proto_msg_type type, const json_t *msg);
/* Our connection to the server dropped: the server ends the call too. */
void call_on_disconnected(call *cl);

/* We hang up: sends call.hangup (when the id is known), ends the call
 * with VID_END_HANGUP. @p reason may be NULL. */
void call_hangup(call *cl, const char *reason);

/* Any thread. */
void call_set_mute(call *cl, bool audio, bool video);
/* Worker thread (reads the transport's selected pair). */
void call_get_stats(call *cl, vid_call_stats *out);
/* @return VID_OK, VID_ESTATE (not connected), VID_EINVAL */
int call_get_sas(const call *cl, char *buf, size_t cap);

/* Release everything without events (the client is going away, or the
 * call already ended). NULL is a no-op. */
void call_free(call *cl);

#endif /* VID_CALL_H */
