/*
 * vidcall — command-line caller on top of the public libvid API.
 *
 *   vidcall [OPTION...] call PEER     place a call, run it, exit when over
 *   vidcall [OPTION...] answer        answer the next incoming call
 *   vidcall [OPTION...] listen        stay online, answer or decline calls
 *   vidcall [OPTION...] devices       list cameras, microphones, speakers
 *   vidcall [OPTION...] online PEER   exit 0 once PEER has a device online
 *
 * Uses only <vid/vid.h>: the library runs the whole call (managed calls,
 * vid_call_place() / vid_call_answer()); this program parses options,
 * prints events and the live status line, writes --stats-json lines and
 * turns the end of the call into an exit status. Events are delivered on
 * GLib's default main context.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib.h>
#include <jansson.h>
#include <vid/vid.h>

#include "vid-version.h"

/* Exit status: one per failure class (also in --help and vidcall(1)). */
enum {
    EXIT_OK = 0,
    EXIT_USAGE = 1,
    EXIT_SETUP = 2,
    EXIT_NETWORK = 3,
    EXIT_TLS = 4,
    EXIT_AUTH = 5,
    EXIT_TIMEOUT = 6,
    EXIT_PROTOCOL = 7,
    EXIT_REJECTED = 8,
    EXIT_BUSY = 9,
    EXIT_NO_ANSWER = 10,
    EXIT_OFFLINE = 11,
    EXIT_NO_PATH = 12,
    EXIT_IDENTITY = 13,
    EXIT_NETWORK_LOST = 14,
    EXIT_MEDIA = 15,
    EXIT_INTERRUPTED = 130,
};

static const char exit_status_text[] =
    "Exit status:\n"
    "  0  success: the call ended by a hang-up from either side, "
    "--duration or\n"
    "     Ctrl-C; online: PEER is online; listen: stopped with Ctrl-C\n"
    "  1  usage error (bad command, option or option value)\n"
    "  2  set-up error (state directory, identity, CA file, output file)\n"
    "  3  cannot reach the server / connection lost\n"
    "  4  TLS failure (server certificate not trusted)\n"
    "  5  login refused (bad credentials, throttled)\n"
    "  6  timeout (--timeout)\n"
    "  7  protocol or server error\n"
    "  8  the callee declined the call\n"
    "  9  the callee is busy in another call\n"
    " 10  no answer (ring timeout, or the caller gave up before we "
    "answered)\n"
    " 11  the callee is offline or unknown\n"
    " 12  no media path (ICE failed)\n"
    " 13  identity mismatch (the peer's key is not the registered one)\n"
    " 14  network lost during the call\n"
    " 15  device or media error (no camera, busy device, codec)\n"
    "130  interrupted: Ctrl-C before PEER came online (online), or a "
    "second\n"
    "     Ctrl-C quit without waiting for the hang-up\n";

enum command {
    CMD_NONE,
    CMD_ONLINE,
    CMD_CALL,
    CMD_ANSWER,
    CMD_LISTEN,
    CMD_DEVICES
};

/* ---- options ---------------------------------------------------------- */

static char *opt_server = NULL;
static char *opt_ca_file = NULL;
static char *opt_user = NULL;
static char *opt_password_file = NULL;
static char *opt_state_dir = NULL;
static char *opt_device = NULL;
static int opt_timeout = -1;
static int opt_linger = 0;
static gboolean opt_version = FALSE;
static gboolean opt_verbose = FALSE;
/* call options */
static char *opt_camera = NULL;
static char *opt_microphone = NULL;
static gboolean opt_synthetic = FALSE;
static gboolean opt_synthetic_video = FALSE;
static gboolean opt_synthetic_audio = FALSE;
static char *opt_size = NULL;
static int opt_fps = -1;
static int opt_bitrate = -1;
static gboolean opt_no_video = FALSE;
static gboolean opt_no_audio = FALSE;
static gboolean opt_no_window = FALSE;
static gboolean opt_no_speaker = FALSE;
static char *opt_record = NULL;
static int opt_duration = -1;
static char *opt_stats_json = NULL;
static char *opt_local_addresses = NULL;
static gboolean opt_strict_identity = FALSE;
/* listen */
static gboolean opt_auto_answer = FALSE;
static char *opt_reject = NULL;

/* --device-name and its older spelling --device set the same string. */
static gboolean set_device_name(const char *name, const char *value,
                                gpointer data, GError **error)
{
    (void) name;
    (void) data;
    (void) error;
    g_free(opt_device);
    opt_device = g_strdup(value);
    return TRUE;
}

static const GOptionEntry entries[] = {
    {"server", 's', 0, G_OPTION_ARG_STRING, &opt_server,
     "Signaling server (default wss://localhost:8443/)", "URL"},
    {"ca-file", 0, 0, G_OPTION_ARG_FILENAME, &opt_ca_file,
     "Trust the CAs in this PEM file instead of the system's", "FILE"},
    {"user", 'u', 0, G_OPTION_ARG_STRING, &opt_user, "Log in as USER", "USER"},
    {"password-file", 'p', 0, G_OPTION_ARG_FILENAME, &opt_password_file,
     "Read the password from the first line of FILE (default: stdin)", "FILE"},
    {"state-dir", 'd', 0, G_OPTION_ARG_FILENAME, &opt_state_dir,
     "Device identity directory (default ~/.local/state/vid)", "DIR"},
    {"device-name", 'n', 0, G_OPTION_ARG_CALLBACK, (gpointer) set_device_name,
     "This device's name (default: host name)", "NAME"},
    {"device", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_CALLBACK,
     (gpointer) set_device_name, "Same as --device-name", "NAME"},
    {"timeout", 't', 0, G_OPTION_ARG_INT, &opt_timeout,
     "Give up after S seconds: online (default 30) until PEER is online, "
     "call (default 90) until connected, answer (default: none) until "
     "connected",
     "S"},
    {"linger", 0, 0, G_OPTION_ARG_INT, &opt_linger,
     "online: stay logged in S seconds after PEER is seen online "
     "(default 0), so that PEER sees us too",
     "S"},
    {"camera", 0, 0, G_OPTION_ARG_STRING, &opt_camera,
     "Camera id or name (see 'devices'; default: the first camera)", "ID"},
    {"microphone", 0, 0, G_OPTION_ARG_STRING, &opt_microphone,
     "Microphone id or name (default: the default microphone)", "ID"},
    {"synthetic", 0, 0, G_OPTION_ARG_NONE, &opt_synthetic,
     "Synthetic camera and microphone (no devices needed)", NULL},
    {"synthetic-video", 0, 0, G_OPTION_ARG_NONE, &opt_synthetic_video,
     "Synthetic camera: a moving pattern stamped with frame number and time",
     NULL},
    {"synthetic-audio", 0, 0, G_OPTION_ARG_NONE, &opt_synthetic_audio,
     "Synthetic microphone: a tone with clicks", NULL},
    {"size", 0, 0, G_OPTION_ARG_STRING, &opt_size,
     "Capture and send size (default 640x480)", "WxH"},
    {"fps", 0, 0, G_OPTION_ARG_INT, &opt_fps,
     "Capture and send rate, 1-60 (default 30)", "N"},
    {"bitrate", 0, 0, G_OPTION_ARG_INT, &opt_bitrate,
     "VP8 start and ceiling bitrate, 50-20000 kbit/s (default: start 600, "
     "ceiling 2000)",
     "KBPS"},
    {"no-video", 0, 0, G_OPTION_ARG_NONE, &opt_no_video, "Send no video", NULL},
    {"no-audio", 0, 0, G_OPTION_ARG_NONE, &opt_no_audio, "Send no audio", NULL},
    {"no-window", 0, 0, G_OPTION_ARG_NONE, &opt_no_window,
     "Do not show the peer's video (default: a window when $DISPLAY or "
     "$WAYLAND_DISPLAY is set)",
     NULL},
    {"no-speaker", 0, 0, G_OPTION_ARG_NONE, &opt_no_speaker,
     "Do not play the peer's audio (default: play it when a speaker exists)",
     NULL},
    {"record", 0, 0, G_OPTION_ARG_FILENAME, &opt_record,
     "Write the received VP8 and Opus to this WebM file", "FILE.webm"},
    {"duration", 0, 0, G_OPTION_ARG_INT, &opt_duration,
     "Hang up SECONDS after the call connected (1-86400)", "SECONDS"},
    {"stats-json", 0, 0, G_OPTION_ARG_FILENAME, &opt_stats_json,
     "Append one JSON object of call statistics per second to FILE", "FILE"},
    {"local-addresses", 0, 0, G_OPTION_ARG_STRING, &opt_local_addresses,
     "Gather ICE host candidates only on these comma-separated IP addresses "
     "(127.0.0.1 for calls on one machine; default: every interface but "
     "loopback)",
     "ADDRS"},
    {"strict-identity", 0, 0, G_OPTION_ARG_NONE, &opt_strict_identity,
     "End the call (exit 13) when the peer device's key differs from the "
     "one pinned at an earlier call, instead of warning",
     NULL},
    {"auto-answer", 0, 0, G_OPTION_ARG_NONE, &opt_auto_answer,
     "listen: answer every call", NULL},
    {"reject", 0, 0, G_OPTION_ARG_STRING, &opt_reject,
     "listen: decline every call with REASON (\"declined\", \"busy\", ...)",
     "REASON"},
    {"verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose,
     "Print more: the peer's safety number, call set-up steps", NULL},
    {"version", 'V', 0, G_OPTION_ARG_NONE, &opt_version,
     "Print the version and exit", NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL},
};

/* ---- state ------------------------------------------------------------ */

typedef struct {
    GMainLoop *loop;
    vid_client *client;
    enum command cmd;
    const char *server;
    const char *user;
    const char *peer; /* call, online */
    uint64_t subscribe_id;
    int logged_in_once;
    int exit_code;
    guint timeout_id;
    gboolean peer_seen; /* online */
    gboolean timed_out;

    vid_call_options call_opts; /* record_path set per call */
    int calls;                  /* calls placed or answered so far */

    /* The current managed call (placed or answered, ENDED not seen). */
    gboolean in_call;
    uint64_t place_id;
    char call_id[VID_CALL_ID_SIZE];
    char *call_peer;
    char *record_path;
    gboolean connected;
    char sas[VID_SAS_SIZE];
    char path[16];
    guint stats_id;
    guint duration_id;
    int status_ticks;
    vid_call_stats last_stats; /* valid when status_ticks > 0 */
    gboolean hangup_requested;
    guint grace_id;
    int signals;

    gboolean status_tty;   /* stdout is a terminal */
    gboolean status_shown; /* a status line without newline is on screen */
    FILE *stats_file;

    /* listen without --auto-answer/--reject on a terminal: the invite
     * being asked about. */
    char prompt_call_id[VID_CALL_ID_SIZE];
    char *prompt_peer;
    guint stdin_watch;
    GIOChannel *stdin_ch;
} app;

/* ---- output ----------------------------------------------------------- */

/* Take the live status line off the terminal before other output. */
static void clear_status(app *a)
{
    if (a->status_shown) {
        fputs("\r\033[K", stdout);
        fflush(stdout);
        a->status_shown = FALSE;
    }
}

static void G_GNUC_PRINTF(2, 3) say(app *a, const char *fmt, ...)
{
    va_list ap;

    clear_status(a);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

static void G_GNUC_PRINTF(2, 3) complain(app *a, const char *fmt, ...)
{
    va_list ap;

    clear_status(a);
    fputs("vidcall: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

static void finish(app *a, int code)
{
    a->exit_code = code;
    g_main_loop_quit(a->loop);
}

/* ---- end of a call ---------------------------------------------------- */

static const char *ice_failure_text(vid_ice_failure f)
{
    switch (f) {
    case VID_ICE_FAILURE_NO_CANDIDATES:
        return "a side had no usable network address";
    case VID_ICE_FAILURE_CHECKS_FAILED:
        return "no UDP or TCP path between the two (firewall?)";
    case VID_ICE_FAILURE_TURN_REFUSED:
        return "the TURN relay refused our credentials";
    case VID_ICE_FAILURE_TURN_UNREACHABLE:
        return "the TURN relay did not answer";
    case VID_ICE_FAILURE_CONSENT_LOST:
        return "the peer stopped answering";
    case VID_ICE_FAILURE_TIMEOUT:
        return "no path within 30 s";
    case VID_ICE_FAILURE_NONE:
    default:
        return NULL;
    }
}

/* The end of a call in words, e.g. "bob declined (busy)". */
static char *end_text(const app *a, const vid_event *ev)
{
    const char *peer = a->call_peer != NULL ? a->call_peer
                       : ev->user != NULL   ? ev->user
                                            : "the peer";
    GString *s = g_string_new(NULL);
    const char *why;

    switch (ev->end_reason) {
    case VID_END_HANGUP:
        g_string_append(s, "you hung up");
        break;
    case VID_END_REMOTE_HANGUP:
        g_string_append_printf(s, "%s hung up", peer);
        break;
    case VID_END_REJECTED:
        g_string_append_printf(s, "%s declined the call", peer);
        break;
    case VID_END_BUSY:
        g_string_append_printf(s, "%s is busy in another call", peer);
        break;
    case VID_END_NO_ANSWER:
        g_string_append_printf(s, "%s did not answer", peer);
        break;
    case VID_END_OFFLINE:
        g_string_append_printf(s, "%s is offline or unknown", peer);
        break;
    case VID_END_CANCELLED:
        g_string_append(s, "the call stopped ringing before it was answered");
        break;
    case VID_END_ICE_FAILED:
        g_string_append(s, "no media path to the peer (ICE failed)");
        why = ice_failure_text(ev->ice_failure);
        if (why != NULL && (ev->message == NULL || ev->message[0] == '\0'))
            g_string_append_printf(s, ": %s", why);
        break;
    case VID_END_IDENTITY_MISMATCH:
        g_string_append(s, "identity mismatch: the call was ended to keep it "
                           "safe");
        break;
    case VID_END_NETWORK_LOST:
        g_string_append(s, "the network was lost");
        why = ice_failure_text(ev->ice_failure);
        if (why != NULL && (ev->message == NULL || ev->message[0] == '\0'))
            g_string_append_printf(s, ": %s", why);
        break;
    case VID_END_MEDIA_FAILED:
        g_string_append(s, "media failed");
        break;
    case VID_END_PROTOCOL:
        g_string_append(s, "the peer's offer or answer was unusable");
        break;
    case VID_END_NONE:
    default:
        g_string_append(s, "the call ended");
        break;
    }
    /* The peer's or server's reason text where it can say more. */
    if ((ev->end_reason == VID_END_REJECTED ||
         ev->end_reason == VID_END_CANCELLED ||
         ev->end_reason == VID_END_REMOTE_HANGUP) &&
        ev->reason != NULL && ev->reason[0] != '\0')
        g_string_append_printf(s, " (reason: %s)", ev->reason);
    /* The library's detail for failures. */
    if ((ev->end_reason == VID_END_OFFLINE ||
         ev->end_reason == VID_END_ICE_FAILED ||
         ev->end_reason == VID_END_IDENTITY_MISMATCH ||
         ev->end_reason == VID_END_NETWORK_LOST ||
         ev->end_reason == VID_END_MEDIA_FAILED ||
         ev->end_reason == VID_END_PROTOCOL) &&
        ev->message != NULL && ev->message[0] != '\0')
        g_string_append_printf(s, ": %s", ev->message);
    return g_string_free(s, FALSE);
}

static int end_exit_code(vid_end_reason r)
{
    switch (r) {
    case VID_END_NONE:
    case VID_END_HANGUP:
    case VID_END_REMOTE_HANGUP:
        return EXIT_OK;
    case VID_END_REJECTED:
        return EXIT_REJECTED;
    case VID_END_BUSY:
        return EXIT_BUSY;
    case VID_END_NO_ANSWER:
    case VID_END_CANCELLED:
        return EXIT_NO_ANSWER;
    case VID_END_OFFLINE:
        return EXIT_OFFLINE;
    case VID_END_ICE_FAILED:
        return EXIT_NO_PATH;
    case VID_END_IDENTITY_MISMATCH:
        return EXIT_IDENTITY;
    case VID_END_NETWORK_LOST:
        return EXIT_NETWORK_LOST;
    case VID_END_MEDIA_FAILED:
        return EXIT_MEDIA;
    case VID_END_PROTOCOL:
    default:
        return EXIT_PROTOCOL;
    }
}

/* Exit status for a failed vid_call_place() / vid_call_answer(). */
static int status_exit_code(int rc)
{
    switch (rc) {
    case VID_ENODEVICE:
    case VID_EMEDIA:
    case VID_EBUSY:
        return EXIT_MEDIA;
    case VID_EINVAL:
        return EXIT_USAGE;
    case VID_ENOCALL:
        return EXIT_NO_ANSWER;
    default:
        return EXIT_PROTOCOL;
    }
}

/* ---- statistics ------------------------------------------------------- */

static json_t *real_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static void write_stats_json(app *a, const vid_call_stats *st)
{
    json_t *o = json_object();
    GDateTime *now = g_date_time_new_now_utc();
    char *iso = g_date_time_format_iso8601(now);

    json_object_set_new(o, "time", json_string(iso));
    json_object_set_new(o, "unix_time_ms",
                        json_integer(g_get_real_time() / 1000));
    json_object_set_new(o, "call_id", json_string(a->call_id));
    json_object_set_new(o, "peer",
                        a->call_peer != NULL ? json_string(a->call_peer)
                                             : json_null());
    json_object_set_new(o, "sas", json_string(a->sas));
    json_object_set_new(o, "path", json_string(a->path));
    json_object_set_new(o, "duration_ms", json_integer(st->duration_ms));
    json_object_set_new(o, "send_width", json_integer(st->send_width));
    json_object_set_new(o, "send_height", json_integer(st->send_height));
    json_object_set_new(o, "send_fps", real_or_null(st->send_fps));
    json_object_set_new(o, "send_video_kbps",
                        json_integer(st->send_video_kbps));
    json_object_set_new(o, "send_audio_kbps",
                        json_integer(st->send_audio_kbps));
    json_object_set_new(o, "target_video_kbps",
                        json_integer(st->target_video_kbps));
    json_object_set_new(o, "frames_sent",
                        json_integer((json_int_t) st->frames_sent));
    json_object_set_new(o, "remote_loss", real_or_null(st->remote_loss));
    json_object_set_new(o, "recv_width", json_integer(st->recv_width));
    json_object_set_new(o, "recv_height", json_integer(st->recv_height));
    json_object_set_new(o, "recv_fps", real_or_null(st->recv_fps));
    json_object_set_new(o, "recv_video_kbps",
                        json_integer(st->recv_video_kbps));
    json_object_set_new(o, "recv_audio_kbps",
                        json_integer(st->recv_audio_kbps));
    json_object_set_new(o, "frames_received",
                        json_integer((json_int_t) st->frames_received));
    json_object_set_new(o, "audio_frames_received",
                        json_integer((json_int_t) st->audio_frames_received));
    json_object_set_new(o, "audio_frames_concealed",
                        json_integer((json_int_t) st->audio_frames_concealed));
    json_object_set_new(o, "packets_lost",
                        json_integer((json_int_t) st->packets_lost));
    json_object_set_new(o, "loss", real_or_null(st->loss));
    json_object_set_new(o, "jitter_ms", real_or_null(st->jitter_ms));
    json_object_set_new(o, "rtt_ms", real_or_null(st->rtt_ms));
    json_object_set_new(o, "nacks_sent",
                        json_integer((json_int_t) st->nacks_sent));
    json_object_set_new(o, "plis_sent",
                        json_integer((json_int_t) st->plis_sent));
    json_object_set_new(o, "retransmits_sent",
                        json_integer((json_int_t) st->retransmits_sent));
    json_object_set_new(o, "frames_verified",
                        json_integer((json_int_t) st->frames_verified));
    json_object_set_new(o, "frames_out_of_order",
                        json_integer((json_int_t) st->frames_out_of_order));
    json_object_set_new(o, "delay_ms", real_or_null(st->delay_ms));
    json_object_set_new(o, "relayed", json_boolean(st->relayed));
    json_object_set_new(o, "local_candidate", json_string(st->local_candidate));
    json_object_set_new(o, "remote_candidate",
                        json_string(st->remote_candidate));
    json_object_set_new(o, "protocol", json_string(st->protocol));
    json_object_set_new(o, "audio_muted", json_boolean(st->audio_muted));
    json_object_set_new(o, "video_muted", json_boolean(st->video_muted));

    if (json_dumpf(o, a->stats_file, JSON_COMPACT | JSON_REAL_PRECISION(6)) !=
            0 ||
        fputc('\n', a->stats_file) == EOF || fflush(a->stats_file) != 0) {
        complain(a, "cannot write --stats-json %s: %s; not writing more",
                 opt_stats_json, g_strerror(errno));
        fclose(a->stats_file);
        a->stats_file = NULL;
    }
    json_decref(o);
    g_free(iso);
    g_date_time_unref(now);
}

static char *status_text(const app *a, const vid_call_stats *st)
{
    GString *s = g_string_new(NULL);
    int secs = (int) (st->duration_ms / 1000);

    g_string_append_printf(s, "%02d:%02d", secs / 60, secs % 60);
    g_string_append_printf(s, "  send %dx%d %.0f fps %u kbps", st->send_width,
                           st->send_height, st->send_fps,
                           st->send_video_kbps + st->send_audio_kbps);
    g_string_append_printf(s, "  recv %dx%d %.0f fps %u kbps", st->recv_width,
                           st->recv_height, st->recv_fps,
                           st->recv_video_kbps + st->recv_audio_kbps);
    if (st->rtt_ms >= 0)
        g_string_append_printf(s, "  rtt %.0f ms", st->rtt_ms);
    else
        g_string_append(s, "  rtt -");
    g_string_append_printf(s, "  loss %.1f%%", st->loss * 100.0);
    g_string_append_printf(s, "  %s", st->relayed ? "relay" : "direct");
    if (st->protocol[0] != '\0')
        g_string_append_printf(s, " %s", st->protocol);
    if (a->status_tty == FALSE && st->frames_verified > 0)
        g_string_append_printf(s, "  verified %" G_GUINT64_FORMAT,
                               st->frames_verified);
    if (st->audio_muted || st->video_muted)
        g_string_append(s, "  muted");
    return g_string_free(s, FALSE);
}

/* Every second while connected: --stats-json line and the status line
 * (redrawn in place on a terminal, a plain line every 5 s otherwise). */
static gboolean on_stats_tick(gpointer data)
{
    app *a = data;
    vid_call_stats st;
    char *line;

    if (vid_call_get_stats(a->client, a->call_id, &st) != VID_OK)
        return G_SOURCE_CONTINUE;
    if (a->stats_file != NULL)
        write_stats_json(a, &st);
    a->status_ticks++;
    a->last_stats = st;
    line = status_text(a, &st);
    if (a->status_tty) {
        printf("\r%s\033[K", line);
        fflush(stdout);
        a->status_shown = TRUE;
    } else if (a->status_ticks % 5 == 0) {
        say(a, "status: %s", line);
    }
    g_free(line);
    return G_SOURCE_CONTINUE;
}

/* ---- the call --------------------------------------------------------- */

static void stop_call_timers(app *a)
{
    if (a->stats_id != 0)
        g_source_remove(a->stats_id);
    if (a->duration_id != 0)
        g_source_remove(a->duration_id);
    if (a->grace_id != 0)
        g_source_remove(a->grace_id);
    a->stats_id = a->duration_id = a->grace_id = 0;
}

static void hang_up(app *a, const char *why);

static gboolean on_duration_done(gpointer data)
{
    app *a = data;

    a->duration_id = 0;
    hang_up(a, "--duration reached");
    return G_SOURCE_REMOVE;
}

/* The hang-up did not end the call within 5 s: quit anyway. */
static gboolean on_grace_done(gpointer data)
{
    app *a = data;

    a->grace_id = 0;
    complain(a, "the call did not end within 5 s of hanging up; quitting");
    finish(a, a->timed_out ? EXIT_TIMEOUT : EXIT_OK);
    return G_SOURCE_REMOVE;
}

/* Hang up the current call (or stop it ringing out); the exit follows
 * VID_EVENT_CALL_ENDED. */
static void hang_up(app *a, const char *why)
{
    if (!a->in_call)
        return;
    if (!a->hangup_requested)
        say(a, "%s: hanging up", why);
    a->hangup_requested = TRUE;
    {
        /* NULL: the placed call whose id has not come yet. */
        int rc = vid_call_hangup(a->client,
                                 a->call_id[0] != '\0' ? a->call_id : NULL);
        if (rc != VID_OK)
            complain(a, "hang up: %s", vid_strerror(rc));
    }
    if (a->grace_id == 0)
        a->grace_id = g_timeout_add_seconds(5, on_grace_done, a);
}

/* Options for the next call: the record path gets "-2", "-3"... before
 * ".webm" for the second and later calls of `listen`. */
static const vid_call_options *next_call_options(app *a)
{
    g_free(a->record_path);
    a->record_path = NULL;
    a->calls++;
    if (opt_record != NULL) {
        if (a->calls == 1) {
            a->record_path = g_strdup(opt_record);
        } else {
            size_t n = strlen(opt_record) - strlen(".webm");
            a->record_path =
                g_strdup_printf("%.*s-%d.webm", (int) n, opt_record, a->calls);
        }
    }
    a->call_opts.record_path = a->record_path;
    return &a->call_opts;
}

static void begin_call(app *a, const char *call_id, const char *peer)
{
    a->in_call = TRUE;
    a->connected = FALSE;
    a->hangup_requested = FALSE;
    a->status_ticks = 0;
    a->sas[0] = '\0';
    a->path[0] = '\0';
    g_strlcpy(a->call_id, call_id != NULL ? call_id : "", sizeof a->call_id);
    g_free(a->call_peer);
    a->call_peer = g_strdup(peer);
}

/* After VID_ENODEVICE: how to go on without the device. */
static void device_hint(app *a, int rc)
{
    if (rc == VID_ENODEVICE)
        complain(a, "hint: 'vidcall devices' lists what is there; "
                    "--synthetic (or --synthetic-video, --synthetic-audio) "
                    "replaces a missing camera or microphone, --no-video "
                    "and --no-audio send without one");
}

static void place_call(app *a)
{
    int rc;

    begin_call(a, NULL, a->peer);
    rc = vid_call_place(a->client, a->peer, next_call_options(a), &a->place_id);
    if (rc != VID_OK) {
        a->in_call = FALSE;
        complain(a, "cannot call %s: %s (%s)", a->peer,
                 vid_client_last_error(a->client), vid_strerror(rc));
        device_hint(a, rc);
        finish(a, status_exit_code(rc));
        return;
    }
    say(a, "calling %s...", a->peer);
}

static void answer_call(app *a, const char *call_id, const char *peer)
{
    int rc;

    begin_call(a, call_id, peer);
    rc = vid_call_answer(a->client, call_id, next_call_options(a));
    if (rc != VID_OK) {
        a->in_call = FALSE;
        a->call_id[0] = '\0';
        complain(a, "cannot answer the call from %s: %s (%s)", peer,
                 vid_client_last_error(a->client), vid_strerror(rc));
        device_hint(a, rc);
        /* Tell the caller instead of leaving it ringing. */
        if (rc != VID_ENOCALL && rc != VID_EPROTO)
            vid_call_reject(a->client, call_id, "media error");
        if (a->cmd == CMD_ANSWER)
            finish(a, status_exit_code(rc));
        return;
    }
    say(a, "answering the call from %s", peer);
}

static void on_connected(app *a, const vid_event *ev)
{
    char number[VID_SAFETY_NUMBER_SIZE];

    a->connected = TRUE;
    if (a->timeout_id != 0) {
        g_source_remove(a->timeout_id);
        a->timeout_id = 0;
    }
    g_strlcpy(a->sas, ev->sas != NULL ? ev->sas : "", sizeof a->sas);
    g_strlcpy(a->path, ev->path != NULL ? ev->path : "", sizeof a->path);
    say(a, "connected to %s (device %s), %s path", a->call_peer,
        ev->device != NULL ? ev->device : "?", a->path);
    say(a,
        "\n    *******************************************\n"
        "    *  Compare with your peer: %-14s *\n"
        "    *******************************************\n",
        a->sas);
    if (ev->peer_identity == VID_PEER_CHANGED) {
        complain(a,
                 "WARNING: %s's device %s has a NEW identity key, not the "
                 "one pinned from an earlier call!",
                 a->call_peer, ev->device != NULL ? ev->device : "?");
        complain(a,
                 "WARNING: someone may be impersonating %s. Check the "
                 "safety number with %s in person before trusting "
                 "this call.",
                 a->call_peer, a->call_peer);
    } else if (ev->peer_identity == VID_PEER_NEW && opt_verbose) {
        say(a, "first call with this device of %s: its key is now pinned",
            a->call_peer);
    }
    if ((opt_verbose || ev->peer_identity == VID_PEER_CHANGED) &&
        ev->fingerprint != NULL &&
        vid_client_get_safety_number(a->client, ev->fingerprint, number,
                                     sizeof number) == VID_OK)
        say(a, "safety number with %s: %s", a->call_peer, number);
    a->stats_id = g_timeout_add_seconds(1, on_stats_tick, a);
    if (opt_duration > 0)
        a->duration_id =
            g_timeout_add_seconds((guint) opt_duration, on_duration_done, a);
}

/* A final status line and the reason; for call/answer the exit. */
static void on_call_ended(app *a, const vid_event *ev)
{
    char *text = end_text(a, ev);
    int code = end_exit_code(ev->end_reason);

    if (a->connected && a->status_ticks > 0) {
        char *line = status_text(a, &a->last_stats);
        say(a, "last status: %s", line);
        g_free(line);
    }
    stop_call_timers(a);
    if (code == EXIT_OK)
        say(a, "call ended: %s", text);
    else
        complain(a, "call ended: %s", text);
    g_free(text);
    if (a->timed_out)
        code = EXIT_TIMEOUT;
    a->in_call = FALSE;
    a->connected = FALSE;
    a->call_id[0] = '\0';
    a->place_id = 0;
    if (a->record_path != NULL &&
        g_file_test(a->record_path, G_FILE_TEST_EXISTS))
        say(a, "recording: %s", a->record_path);
    if (a->cmd == CMD_CALL || a->cmd == CMD_ANSWER)
        finish(a, code);
    else if (a->signals > 0) /* listen stopped with Ctrl-C */
        finish(a, EXIT_OK);
}

/* ---- listen: invites -------------------------------------------------- */

static void end_prompt(app *a)
{
    a->prompt_call_id[0] = '\0';
}

static gboolean on_stdin(GIOChannel *ch, GIOCondition cond, gpointer data)
{
    app *a = data;
    char *line = NULL;
    GIOStatus st;

    (void) cond;
    st = g_io_channel_read_line(ch, &line, NULL, NULL, NULL);
    if (st == G_IO_STATUS_EOF || st == G_IO_STATUS_ERROR) {
        /* Ctrl-D: no answer will come; later calls are declined (see
         * on_invite) and so is the one being asked about, instead of
         * leaving it ringing. */
        a->stdin_watch = 0;
        if (a->prompt_call_id[0] != '\0') {
            char id[VID_CALL_ID_SIZE];
            g_strlcpy(id, a->prompt_call_id, sizeof id);
            end_prompt(a);
            if (vid_call_reject(a->client, id, NULL) == VID_OK)
                say(a, "\ndeclined (end of input)");
        }
        return G_SOURCE_REMOVE;
    }
    if (a->prompt_call_id[0] != '\0' && line != NULL) {
        char id[VID_CALL_ID_SIZE];
        g_strlcpy(id, a->prompt_call_id, sizeof id);
        end_prompt(a);
        if (line[0] == 'y' || line[0] == 'Y') {
            answer_call(a, id, a->prompt_peer != NULL ? a->prompt_peer : "?");
        } else if (vid_call_reject(a->client, id, NULL) == VID_OK) {
            say(a, "declined");
        }
    }
    g_free(line);
    return G_SOURCE_CONTINUE;
}

static void on_invite(app *a, const vid_event *ev)
{
    const char *who = ev->user != NULL ? ev->user : "?";
    int rc;

    if (ev->call_id == NULL)
        return;
    say(a, "incoming call from %s (device %s)", who,
        ev->device != NULL ? ev->device : "?");
    if (ev->peer_identity == VID_PEER_CHANGED)
        complain(a,
                 "WARNING: %s's device has a NEW identity key, not the "
                 "pinned one",
                 who);
    if (a->in_call || a->prompt_call_id[0] != '\0') {
        /* The library declines it as busy when a call runs; a second
         * invite while we ask about the first is declined here. */
        if (!a->in_call)
            vid_call_reject(a->client, ev->call_id, "busy");
        return;
    }
    if (a->cmd == CMD_ANSWER || opt_auto_answer) {
        answer_call(a, ev->call_id, who);
        return;
    }
    if (opt_reject == NULL && a->stdin_watch != 0) {
        g_strlcpy(a->prompt_call_id, ev->call_id, sizeof a->prompt_call_id);
        g_free(a->prompt_peer);
        a->prompt_peer = g_strdup(who);
        /* The caller sees "ringing" while the user decides. */
        rc = vid_client_call_ringing(a->client, ev->call_id, NULL);
        if (rc != VID_OK)
            complain(a, "cannot signal ringing: %s", vid_strerror(rc));
        clear_status(a);
        printf("answer? [y/N] ");
        fflush(stdout);
        return;
    }
    rc = vid_call_reject(a->client, ev->call_id, opt_reject);
    if (rc == VID_OK)
        say(a, "declined the call from %s (%s)", who,
            opt_reject != NULL ? opt_reject : "declined");
    else
        complain(a, "cannot decline: %s", vid_strerror(rc));
}

/* ---- events ----------------------------------------------------------- */

static void print_logged_in(app *a, vid_client *c, const vid_event *ev)
{
    vid_policy *p = NULL;
    GString *s = g_string_new(NULL);

    if (vid_client_get_policy(c, &p) == VID_OK) {
        g_string_append_printf(
            s, "ice %s, %zu ICE server%s",
            p->ice_transport_policy == VID_ICE_TRANSPORT_RELAY ? "relay only"
                                                               : "all",
            p->n_ice_servers, p->n_ice_servers == 1 ? "" : "s");
        if (p->media_port_min != 0 || p->media_port_max != 0)
            g_string_append_printf(s, ", media ports %u-%u", p->media_port_min,
                                   p->media_port_max);
        else
            g_string_append(s, ", any media port");
        vid_policy_free(p);
    } else {
        g_string_append(s, "none");
    }
    say(a, "%s: logged in to %s as device %s (policy: %s)", ev->user, a->server,
        ev->device, s->str);
    g_string_free(s, TRUE);
}

static void on_logged_in(app *a, vid_client *c, const vid_event *ev)
{
    int first = !a->logged_in_once;

    a->logged_in_once = 1;
    print_logged_in(a, c, ev);
    if (!first)
        return; /* automatic re-login after a reconnect */
    switch (a->cmd) {
    case CMD_ONLINE: {
        const char *peers[] = {a->peer};
        if (vid_client_subscribe_presence(c, peers, 1, &a->subscribe_id) !=
            VID_OK) {
            complain(a, "%s", vid_client_last_error(c));
            finish(a, EXIT_USAGE);
        }
        break;
    }
    case CMD_CALL:
        place_call(a);
        break;
    case CMD_ANSWER:
        say(a, "waiting for a call");
        break;
    case CMD_LISTEN:
        say(a, "listening for calls (Ctrl-C to stop)");
        break;
    default:
        break;
    }
}

static void peer_seen(app *a);

/* Is @ev about the current call? */
/* Why a call stopped ringing here (the server's call.cancel reason), in
 * words; NULL without a reason. */
static char *cancel_text(const char *peer, const char *reason)
{
    if (reason == NULL || reason[0] == '\0')
        return NULL;
    if (strcmp(reason, "caller_hangup") == 0)
        return g_strdup_printf("%s hung up", peer);
    if (strcmp(reason, "peer_disconnected") == 0)
        return g_strdup_printf("%s lost the connection to the server", peer);
    if (strcmp(reason, "timeout") == 0)
        return g_strdup("nobody answered in time");
    if (strcmp(reason, "answered_elsewhere") == 0)
        return g_strdup("answered on another of your devices");
    if (strcmp(reason, "rejected_elsewhere") == 0)
        return g_strdup("declined on another of your devices");
    return g_strdup(reason);
}

static gboolean is_current_call(const app *a, const vid_event *ev)
{
    if (!a->in_call)
        return FALSE;
    if (ev->call_id != NULL && a->call_id[0] != '\0')
        return strcmp(ev->call_id, a->call_id) == 0;
    return ev->request_id != 0 && ev->request_id == a->place_id;
}

static void on_event(vid_client *c, const vid_event *ev, void *data)
{
    app *a = data;

    switch (ev->type) {
    case VID_EVENT_LOGGED_IN:
        on_logged_in(a, c, ev);
        break;
    case VID_EVENT_LOGIN_FAILED:
        if (ev->retry_after > 0)
            complain(a, "login as %s refused: %s (retry after %d s)", a->user,
                     ev->message, ev->retry_after);
        else
            complain(a, "login as %s refused: %s", a->user, ev->message);
        finish(a, EXIT_AUTH);
        break;
    case VID_EVENT_DISCONNECTED:
        /* Before the first login, a failure is a set-up problem: report
         * it instead of retrying until the timeout. */
        if (ev->will_reconnect && a->logged_in_once) {
            complain(a, "%s; reconnecting in %.1f s", ev->message,
                     ev->reconnect_delay_ms / 1000.0);
            break;
        }
        complain(a, "%s", ev->message);
        if (a->connected) /* media is peer to peer: the call goes on */
            break;
        finish(a, ev->code == VID_ETLS ? EXIT_TLS : EXIT_NETWORK);
        break;
    case VID_EVENT_PRESENCE:
        if (a->cmd != CMD_ONLINE)
            break;
        if (ev->online && ev->user != NULL && strcmp(ev->user, a->peer) == 0) {
            say(a, "%s is online (device %s, fingerprint %s)", ev->user,
                ev->device != NULL ? ev->device : "?",
                ev->fingerprint != NULL ? ev->fingerprint : "none");
            peer_seen(a);
        } else if (!ev->online && ev->device == NULL) {
            say(a, "%s is offline; waiting", ev->user);
        }
        break;
    case VID_EVENT_CALL_CREATED:
        if (!a->in_call || ev->request_id != a->place_id || ev->call_id == NULL)
            break;
        g_strlcpy(a->call_id, ev->call_id, sizeof a->call_id);
        if (opt_verbose)
            say(a, "call id %s", a->call_id);
        break;
    case VID_EVENT_CALL_RINGING:
        if (is_current_call(a, ev))
            say(a, "ringing %s (device %s)", a->call_peer,
                ev->device != NULL ? ev->device : "?");
        break;
    case VID_EVENT_CALL_ACCEPT:
        if (is_current_call(a, ev))
            say(a, "%s answered on device %s; connecting", a->call_peer,
                ev->device != NULL ? ev->device : "?");
        break;
    case VID_EVENT_CALL_INVITE:
        if (a->cmd == CMD_ANSWER || a->cmd == CMD_LISTEN)
            on_invite(a, ev);
        break;
    case VID_EVENT_CALL_CANCEL:
        if (ev->call_id != NULL && a->prompt_call_id[0] != '\0' &&
            strcmp(ev->call_id, a->prompt_call_id) == 0) {
            char *why = cancel_text(a->prompt_peer, ev->reason);
            end_prompt(a);
            say(a, "\nthe call from %s stopped ringing%s%s", a->prompt_peer,
                why != NULL ? ": " : "", why != NULL ? why : "");
            g_free(why);
        }
        break;
    case VID_EVENT_CALL_CONNECTED:
        if (is_current_call(a, ev))
            on_connected(a, ev);
        break;
    case VID_EVENT_CALL_ENDED:
        if (is_current_call(a, ev)) {
            on_call_ended(a, ev);
        } else if (ev->call_id != NULL && a->prompt_call_id[0] != '\0' &&
                   strcmp(ev->call_id, a->prompt_call_id) == 0) {
            end_prompt(a);
            say(a, "\nthe call from %s stopped ringing", a->prompt_peer);
        } else if (ev->end_reason == VID_END_BUSY) {
            say(a, "missed a call from %s: busy",
                ev->user != NULL ? ev->user : "someone");
        }
        break;
    case VID_EVENT_ERROR:
        complain(a, "server error: %s (%s)",
                 ev->message != NULL ? ev->message : "",
                 vid_strerror(ev->code));
        if (ev->request_id != 0 && ev->request_id == a->subscribe_id)
            finish(a, EXIT_PROTOCOL);
        break;
    default:
        break;
    }
}

static gboolean on_linger_done(gpointer data)
{
    finish(data, EXIT_OK);
    return G_SOURCE_REMOVE;
}

/* PEER is online: done, or stay logged in --linger seconds first. */
static void peer_seen(app *a)
{
    if (a->peer_seen)
        return;
    a->peer_seen = TRUE;
    if (opt_linger == 0) {
        finish(a, EXIT_OK);
        return;
    }
    g_source_remove(a->timeout_id);
    a->timeout_id =
        g_timeout_add_seconds((guint) opt_linger, on_linger_done, a);
}

static gboolean on_timeout(gpointer data)
{
    app *a = data;

    a->timeout_id = 0;
    switch (a->cmd) {
    case CMD_ONLINE:
        complain(a, "%s did not come online within %d s", a->peer, opt_timeout);
        finish(a, EXIT_TIMEOUT);
        break;
    case CMD_CALL:
    case CMD_ANSWER:
        if (a->in_call) {
            complain(a, "the call did not connect within %d s", opt_timeout);
            a->timed_out = TRUE;
            hang_up(a, "timeout");
        } else {
            complain(a, "no call within %d s", opt_timeout);
            finish(a, EXIT_TIMEOUT);
        }
        break;
    default:
        break;
    }
    return G_SOURCE_REMOVE;
}

/* SIGINT / SIGTERM: hang up and wait for the end of the call; a second
 * one quits at once. */
static gboolean on_signal(gpointer data)
{
    app *a = data;

    a->signals++;
    if (a->signals > 1) {
        complain(a, "interrupted again: quitting without waiting");
        finish(a, EXIT_INTERRUPTED);
        return G_SOURCE_CONTINUE;
    }
    if (a->prompt_call_id[0] != '\0') {
        vid_call_reject(a->client, a->prompt_call_id, NULL);
        end_prompt(a);
    }
    if (a->in_call) {
        hang_up(a, "interrupted");
        return G_SOURCE_CONTINUE;
    }
    say(a, "interrupted: stopping");
    finish(a, a->cmd == CMD_ONLINE ? EXIT_INTERRUPTED : EXIT_OK);
    return G_SOURCE_CONTINUE;
}

/* ---- devices ---------------------------------------------------------- */

static int list_devices(void)
{
    static const struct {
        vid_device_kind kind;
        const char *title;
        const char *none;
    } kinds[] = {
        {VID_DEVICE_CAMERA, "Cameras",
         "no camera found (use --synthetic-video or --no-video)"},
        {VID_DEVICE_MICROPHONE, "Microphones",
         "no microphone found (use --synthetic-audio or --no-audio)"},
        {VID_DEVICE_SPEAKER, "Speakers",
         "no speaker found (the peer's audio will not be played)"},
    };
    int code = EXIT_OK;

    for (size_t k = 0; k < G_N_ELEMENTS(kinds); k++) {
        vid_device *list = NULL;
        size_t n = 0;
        int rc = vid_devices_list(kinds[k].kind, &list, &n);

        printf("%s:\n", kinds[k].title);
        if (rc != VID_OK) {
            printf("  cannot list: %s\n", vid_strerror(rc));
            code = EXIT_MEDIA;
            continue;
        }
        if (n == 0)
            printf("  %s\n", kinds[k].none);
        for (size_t i = 0; i < n; i++) {
            const vid_device *d = &list[i];
            printf("  %s%s\n      id: %s\n", d->name != NULL ? d->name : "?",
                   d->is_default ? " (default)" : "",
                   d->id != NULL ? d->id : "?");
            for (size_t m = 0; m < d->n_modes; m++) {
                const vid_video_mode *vm = &d->modes[m];
                if (vm->fps_den > 0)
                    printf("      %dx%d up to %.4g fps\n", vm->width,
                           vm->height, (double) vm->fps_num / vm->fps_den);
                else
                    printf("      %dx%d\n", vm->width, vm->height);
            }
        }
        vid_devices_free(list, n);
    }
    fflush(stdout);
    return code;
}

/* ---- start-up --------------------------------------------------------- */

/* The first line of @path ("-" or NULL: stdin), without its newline. */
static char *read_password(const char *path, GError **error)
{
    char *text = NULL;
    char *nl;

    if (path != NULL && strcmp(path, "-") != 0) {
        if (!g_file_get_contents(path, &text, NULL, error))
            return NULL;
    } else {
        GString *s = g_string_new(NULL);
        int ch;
        if (isatty(STDIN_FILENO))
            fprintf(stderr, "Password: ");
        while ((ch = getchar()) != EOF && ch != '\n')
            g_string_append_c(s, (char) ch);
        text = g_string_free(s, FALSE);
    }
    nl = strpbrk(text, "\r\n");
    if (nl != NULL)
        *nl = '\0';
    if (text[0] == '\0') {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "the password is empty");
        g_free(text);
        return NULL;
    }
    return text;
}

/* "WxH" with both even and within 256..4096 x 128..4096 (the sizes
 * vid_call_options accepts). */
static gboolean parse_size(const char *s, int *w, int *h)
{
    char **parts = g_strsplit(s, "x", 3);
    guint64 vw = 0, vh = 0;
    gboolean ok =
        g_strv_length(parts) == 2 &&
        g_ascii_string_to_unsigned(parts[0], 10, 256, 4096, &vw, NULL) &&
        g_ascii_string_to_unsigned(parts[1], 10, 128, 4096, &vh, NULL) &&
        vw % 2 == 0 && vh % 2 == 0;

    g_strfreev(parts);
    if (ok) {
        *w = (int) vw;
        *h = (int) vh;
    }
    return ok;
}

static gboolean have_speaker(void)
{
    vid_device *list = NULL;
    size_t n = 0;

    if (vid_devices_list(VID_DEVICE_SPEAKER, &list, &n) != VID_OK)
        return FALSE;
    vid_devices_free(list, n);
    return n > 0;
}

/* Check the call options and fill @o; FALSE after printing why. */
static gboolean call_options_from_args(enum command cmd, vid_call_options *o)
{
    const char *display = g_getenv("DISPLAY");
    const char *wayland = g_getenv("WAYLAND_DISPLAY");

    vid_call_options_init(o, VID_CALL_OPTIONS_VERSION);
    if (opt_size != NULL && !parse_size(opt_size, &o->width, &o->height)) {
        fprintf(stderr,
                "vidcall: --size '%s': expected WIDTHxHEIGHT, even "
                "numbers, 256-4096 x 128-4096 (e.g. 1280x720)\n",
                opt_size);
        return FALSE;
    }
    if (opt_fps != -1) {
        if (opt_fps < 1 || opt_fps > 60) {
            fprintf(stderr, "vidcall: --fps must be 1 to 60\n");
            return FALSE;
        }
        o->fps = opt_fps;
    }
    if (opt_bitrate != -1) {
        if (opt_bitrate < 50 || opt_bitrate > 20000) {
            fprintf(stderr, "vidcall: --bitrate must be 50 to 20000 kbit/s\n");
            return FALSE;
        }
        o->video_kbps = opt_bitrate;
        o->max_video_kbps = opt_bitrate;
    }
    if (opt_duration != -1 && (opt_duration < 1 || opt_duration > 86400)) {
        fprintf(stderr, "vidcall: --duration must be 1 to 86400 seconds\n");
        return FALSE;
    }
    if (opt_record != NULL) {
        char *dir = g_path_get_dirname(opt_record);
        gboolean is_dir = g_file_test(dir, G_FILE_TEST_IS_DIR);
        g_free(dir);
        if (!g_str_has_suffix(opt_record, ".webm") ||
            strlen(opt_record) == strlen(".webm")) {
            fprintf(stderr, "vidcall: --record needs a file name ending in "
                            ".webm\n");
            return FALSE;
        }
        if (!is_dir) {
            fprintf(stderr,
                    "vidcall: --record %s: the directory does not exist\n",
                    opt_record);
            return FALSE;
        }
    }
    if ((opt_synthetic || opt_synthetic_video) && opt_camera != NULL) {
        fprintf(stderr, "vidcall: --camera and a synthetic camera exclude "
                        "each other\n");
        return FALSE;
    }
    if ((opt_synthetic || opt_synthetic_audio) && opt_microphone != NULL) {
        fprintf(stderr, "vidcall: --microphone and a synthetic microphone "
                        "exclude each other\n");
        return FALSE;
    }
    if (opt_auto_answer && cmd != CMD_LISTEN) {
        fprintf(stderr, "vidcall: --auto-answer is an option of listen\n");
        return FALSE;
    }
    if (opt_reject != NULL) {
        size_t n = strlen(opt_reject);
        gboolean printable = TRUE;
        for (size_t i = 0; i < n; i++)
            if (!g_ascii_isprint(opt_reject[i]))
                printable = FALSE;
        if (cmd != CMD_LISTEN || opt_auto_answer) {
            fprintf(stderr, "vidcall: --reject is an option of listen, "
                            "without --auto-answer\n");
            return FALSE;
        }
        if (n < 1 || n > 64 || !printable) {
            fprintf(stderr, "vidcall: --reject REASON: 1-64 printable "
                            "characters\n");
            return FALSE;
        }
    }
    if (opt_local_addresses != NULL &&
        (opt_local_addresses[0] == '\0' ||
         strspn(opt_local_addresses, "0123456789abcdefABCDEF.:,") !=
             strlen(opt_local_addresses))) {
        fprintf(stderr, "vidcall: --local-addresses: comma-separated IP "
                        "addresses, e.g. 127.0.0.1,::1\n");
        return FALSE;
    }
    o->local_addresses = opt_local_addresses;
    o->refuse_changed_identity = opt_strict_identity;
    o->camera = opt_camera;
    o->microphone = opt_microphone;
    o->synthetic_video = opt_synthetic || opt_synthetic_video;
    o->synthetic_audio = opt_synthetic || opt_synthetic_audio;
    o->send_video = !opt_no_video;
    o->send_audio = !opt_no_audio;
    o->render_video = !opt_no_window && ((display != NULL && *display) ||
                                         (wayland != NULL && *wayland));
    o->play_audio = !opt_no_speaker && have_speaker();
    if (opt_verbose)
        fprintf(stderr, "vidcall: %s window, %s speaker\n",
                o->render_video ? "a" : "no", o->play_audio ? "the" : "no");
    return TRUE;
}

static enum command parse_command(int argc, char **argv)
{
    static const struct {
        const char *name;
        enum command cmd;
        int args;
    } cmds[] = {
        {"call", CMD_CALL, 1},     {"answer", CMD_ANSWER, 0},
        {"listen", CMD_LISTEN, 0}, {"devices", CMD_DEVICES, 0},
        {"online", CMD_ONLINE, 1},
    };

    if (argc < 2) {
        fprintf(stderr, "vidcall: usage: vidcall [OPTION...] COMMAND: call "
                        "PEER, answer, listen, devices or online PEER (try "
                        "--help)\n");
        return CMD_NONE;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(cmds); i++) {
        if (strcmp(argv[1], cmds[i].name) != 0)
            continue;
        if (argc != 2 + cmds[i].args) {
            fprintf(stderr,
                    "vidcall: usage: vidcall [OPTION...] %s%s (try "
                    "--help)\n",
                    cmds[i].name, cmds[i].args ? " PEER" : "");
            return CMD_NONE;
        }
        return cmds[i].cmd;
    }
    fprintf(stderr,
            "vidcall: usage: unknown command '%s': call PEER, "
            "answer, listen, devices or online PEER (try --help)\n",
            argv[1]);
    return CMD_NONE;
}

static void free_options(void)
{
    g_free(opt_server);
    g_free(opt_ca_file);
    g_free(opt_user);
    g_free(opt_password_file);
    g_free(opt_state_dir);
    g_free(opt_device);
    g_free(opt_camera);
    g_free(opt_microphone);
    g_free(opt_size);
    g_free(opt_record);
    g_free(opt_stats_json);
    g_free(opt_local_addresses);
    g_free(opt_reject);
}

int main(int argc, char **argv)
{
    GOptionContext *octx;
    GError *error = NULL;
    vid_client_options opts = VID_CLIENT_OPTIONS_INIT;
    char *password = NULL;
    app a = {0};
    int rc;

    octx = g_option_context_new("COMMAND");
    g_option_context_set_summary(
        octx,
        "Command-line caller of libvid.\n\n"
        "Commands:\n"
        "  call PEER     call PEER, run the call, exit when it ends\n"
        "  answer        wait for the next call, answer it, exit when it "
        "ends\n"
        "  listen        stay online and answer (--auto-answer), decline\n"
        "                (--reject REASON) or ask about each call\n"
        "  devices       list cameras, microphones and speakers (no server)\n"
        "  online PEER   log in, wait until PEER has a device online");
    {
        char *desc = g_strconcat(
            "The password is read from --password-file or stdin, never from "
            "the command line.\n\n"
            "While a call runs, a status line shows size, frame rate and "
            "bitrate both ways, round-trip time, loss and the path (direct "
            "or relay). Compare the short authentication string printed when "
            "the call connects with your peer. Ctrl-C hangs up.\n\n",
            exit_status_text, NULL);
        g_option_context_set_description(octx, desc);
        g_free(desc);
    }
    g_option_context_add_main_entries(octx, entries, NULL);
    if (!g_option_context_parse(octx, &argc, &argv, &error)) {
        fprintf(stderr, "vidcall: %s (try --help)\n", error->message);
        g_error_free(error);
        g_option_context_free(octx);
        free_options();
        return EXIT_USAGE;
    }
    g_option_context_free(octx);
    if (opt_version) {
        printf("vidcall %s (libvid %s)\n", VID_VERSION, vid_version());
        free_options();
        return EXIT_OK;
    }
    a.cmd = parse_command(argc, argv);
    if (a.cmd == CMD_NONE) {
        free_options();
        return EXIT_USAGE;
    }
    if (opt_timeout != -1 && (opt_timeout <= 0 || opt_timeout > 86400)) {
        fprintf(stderr, "vidcall: --timeout must be 1 to 86400 seconds\n");
        free_options();
        return EXIT_USAGE;
    }
    if (opt_linger < 0 || opt_linger > 3600) {
        fprintf(stderr, "vidcall: --linger must be 0 to 3600 seconds\n");
        free_options();
        return EXIT_USAGE;
    }
    if (a.cmd != CMD_ONLINE && a.cmd != CMD_DEVICES &&
        !call_options_from_args(a.cmd, &a.call_opts)) {
        free_options();
        return EXIT_USAGE;
    }
    if (a.cmd == CMD_DEVICES) {
        rc = list_devices();
        free_options();
        return rc;
    }
    if (opt_user == NULL) {
        fprintf(stderr, "vidcall: --user is required\n");
        free_options();
        return EXIT_USAGE;
    }
    if (opt_timeout == -1)
        opt_timeout = a.cmd == CMD_ONLINE ? 30 : a.cmd == CMD_CALL ? 90 : 0;
    password = read_password(opt_password_file, &error);
    if (password == NULL) {
        fprintf(stderr, "vidcall: cannot read the password: %s\n",
                error->message);
        g_error_free(error);
        free_options();
        return EXIT_USAGE;
    }
    if (opt_stats_json != NULL) {
        a.stats_file = fopen(opt_stats_json, "a");
        if (a.stats_file == NULL) {
            fprintf(stderr, "vidcall: --stats-json %s: %s\n", opt_stats_json,
                    g_strerror(errno));
            memset(password, 0, strlen(password));
            g_free(password);
            free_options();
            return EXIT_SETUP;
        }
    }

    a.loop = g_main_loop_new(NULL, FALSE);
    a.server = opt_server != NULL ? opt_server : "wss://localhost:8443/";
    a.user = opt_user;
    a.peer = argc > 2 ? argv[2] : NULL;
    a.exit_code = EXIT_PROTOCOL;
    a.status_tty = isatty(STDOUT_FILENO);

    opts.server_url = a.server;
    opts.ca_file = opt_ca_file;
    opts.state_dir = opt_state_dir;
    opts.device_name = opt_device;
    opts.main_context = g_main_context_default();
    rc = vid_client_new(&a.client, &opts);
    if (rc != VID_OK) {
        fprintf(stderr, "vidcall: %s\n", vid_client_last_error(NULL));
        a.exit_code = rc == VID_EINVAL ? EXIT_USAGE : EXIT_SETUP;
        goto done;
    }
    vid_client_set_event_callback(a.client, on_event, &a);
    rc = vid_client_login(a.client, opt_user, password, NULL);
    if (rc != VID_OK) {
        fprintf(stderr, "vidcall: %s\n", vid_client_last_error(a.client));
        a.exit_code = EXIT_USAGE;
        goto done;
    }
    if (opt_timeout > 0)
        a.timeout_id =
            g_timeout_add_seconds((guint) opt_timeout, on_timeout, &a);
    g_unix_signal_add(SIGINT, on_signal, &a);
    g_unix_signal_add(SIGTERM, on_signal, &a);
    if (a.cmd == CMD_LISTEN && !opt_auto_answer && opt_reject == NULL &&
        isatty(STDIN_FILENO)) {
        a.stdin_ch = g_io_channel_unix_new(STDIN_FILENO);
        a.stdin_watch =
            g_io_add_watch(a.stdin_ch, G_IO_IN | G_IO_HUP, on_stdin, &a);
    }
    g_main_loop_run(a.loop);
    clear_status(&a);
done:
    stop_call_timers(&a);
    if (a.stdin_watch != 0)
        g_source_remove(a.stdin_watch);
    if (a.stdin_ch != NULL)
        g_io_channel_unref(a.stdin_ch);
    vid_client_free(a.client);
    if (a.stats_file != NULL)
        fclose(a.stats_file);
    memset(password, 0, strlen(password));
    g_free(password);
    g_free(a.call_peer);
    g_free(a.prompt_peer);
    g_free(a.record_path);
    g_main_loop_unref(a.loop);
    free_options();
    return a.exit_code;
}
