/*
 * libvid — secure peer-to-peer video calls.
 *
 * This header is the whole public API and its manual. It exposes no GLib
 * or GObject types: a GMainContext is passed as `void *`.
 *
 * Walkthrough: a complete program that logs in, places a call with the
 * synthetic camera and microphone, prints the short authentication string
 * and hangs up after five seconds of media (error handling shortened; see
 * examples/vidcall.c for a full caller). It is built by the tests and run
 * against a real server (tests/integration, "walkthrough"):
 *
 * @code
 * #include <poll.h>
 * #include <stdio.h>
 * #include <stdlib.h>
 * #include <time.h>
 * #include <vid/vid.h>
 *
 * // Usage: VID_PASSWORD=... walkthrough wss://server/ USER PEER [CA_FILE]
 * static int done, status = 1;
 * static time_t connected;
 * static char call_id[VID_CALL_ID_SIZE];
 *
 * static void on_event(vid_client *c, const vid_event *ev, void *ud)
 * {
 *     vid_call_options call = VID_CALL_OPTIONS_INIT;
 *
 *     switch (ev->type) {
 *     case VID_EVENT_LOGGED_IN:
 *         call.synthetic_video = 1; // test pattern and tone: no devices
 *         call.synthetic_audio = 1;
 *         call.local_addresses = getenv("VID_LOCAL_ADDRESSES"); // or NULL
 *         if (vid_call_place(c, ud, &call, NULL) != VID_OK) {
 *             fprintf(stderr, "call: %s\n", vid_client_last_error(c));
 *             done = 1;
 *         }
 *         break;
 *     case VID_EVENT_LOGIN_FAILED:
 *         fprintf(stderr, "login: %s\n", ev->message);
 *         done = 1;
 *         break;
 *     case VID_EVENT_CALL_CREATED:
 *         snprintf(call_id, sizeof call_id, "%s", ev->call_id);
 *         break;
 *     case VID_EVENT_CALL_CONNECTED:
 *         printf("connected (%s path); compare with your peer: %s\n", ev->path,
 *                ev->sas);
 *         connected = time(NULL);
 *         break;
 *     case VID_EVENT_CALL_ENDED:
 *         printf("call ended: %s\n", ev->message != NULL ? ev->message : "");
 *         status = ev->end_reason == VID_END_HANGUP ||
 *                          ev->end_reason == VID_END_REMOTE_HANGUP
 *                      ? 0
 *                      : 1;
 *         done = 1;
 *         break;
 *     default:
 *         break;
 *     }
 * }
 *
 * int main(int argc, char **argv)
 * {
 *     vid_client_options opts = VID_CLIENT_OPTIONS_INIT;
 *     vid_client *c;
 *     vid_call_stats st;
 *     struct pollfd pfd;
 *
 *     if (argc < 4 || getenv("VID_PASSWORD") == NULL) {
 *         fprintf(stderr, "usage: VID_PASSWORD=... %s URL USER PEER [CA]\n",
 *                 argv[0]);
 *         return 2;
 *     }
 *     opts.server_url = argv[1];
 *     opts.ca_file = argc > 4 ? argv[4] : NULL; // NULL: system CAs
 *     if (vid_client_new(&c, &opts) != VID_OK) {
 *         fprintf(stderr, "%s\n", vid_client_last_error(NULL));
 *         return 1;
 *     }
 *     vid_client_set_event_callback(c, on_event, argv[3]);
 *     vid_client_login(c, argv[2], getenv("VID_PASSWORD"), NULL);
 *     pfd.fd = vid_client_get_fd(c);
 *     pfd.events = POLLIN;
 *     while (!done) {
 *         if (poll(&pfd, 1, 200) > 0)
 *             vid_client_dispatch(c);
 *         if (connected != 0 && time(NULL) - connected >= 5) {
 *             if (vid_call_get_stats(c, call_id, &st) == VID_OK)
 *                 printf("received %lu frames, %.0f fps\n",
 *                        (unsigned long) st.frames_received, st.recv_fps);
 *             vid_call_hangup(c, call_id);
 *             connected = 0;
 *         }
 *     }
 *     vid_client_free(c);
 *     return status;
 * }
 * @endcode
 *
 * Threads. The library runs one worker thread per client; it owns the
 * network connection and the calls' network work. Every public function
 * may be called from any thread: requests are handed to the worker and
 * the function returns at once, except vid_call_place(), vid_call_answer(),
 * vid_call_reject(), vid_call_hangup() and vid_call_set_mute(), which wait
 * until the worker has done them (opening a camera can take seconds) so
 * that their result is the return value.
 * Results and incoming messages are queued as events and delivered on the
 * application's thread, either from a GMainContext the application names
 * (vid_client_options.main_context) or when the application calls
 * vid_client_dispatch() after vid_client_get_fd() became readable. No
 * library lock is held while the event callback runs, so the callback may
 * call any function of this header, vid_client_free() included.
 *
 * Ownership. Strings passed in are copied before the function returns.
 * Pointers inside a vid_event are borrowed and valid only during the
 * callback. What a `**out` parameter returns is freed by the caller with
 * the matching `_free()` function.
 */
#ifndef VID_VID_H
#define VID_VID_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @def VID_API
 * Marks a function of the public API. While libvid itself is built
 * (VID_BUILDING defined, GCC or Clang) it gives the symbol default
 * visibility, so that it is exported from libvid.so although the library
 * is compiled with -fvisibility=hidden; for applications it expands to
 * nothing. @since 0.1
 */
#if defined(VID_BUILDING) && defined(__GNUC__)
#define VID_API __attribute__((visibility("default")))
#else
#define VID_API
#endif

/**
 * Major version of this header: changes on an incompatible API change.
 * Compare with vid_version() to detect a header/library mismatch.
 * @since 0.1
 */
#define VID_VERSION_MAJOR 0
/** Minor version of this header: new API, compatible. @since 0.1 */
#define VID_VERSION_MINOR 1
/** Micro version of this header: fixes only. @since 0.1 */
#define VID_VERSION_MICRO 0

/**
 * Status codes. 0 is success; every failure is a negative value with a
 * name. vid_strerror() turns one into a short English sentence.
 * @since 0.1
 */
typedef enum vid_status {
    VID_OK = 0,
    VID_EINVAL = -1,     /**< an argument is NULL, malformed or too long */
    VID_ENOMEM = -2,     /**< out of memory */
    VID_ESTATE = -3,     /**< not possible in the current state */
    VID_ENETWORK = -4,   /**< the server cannot be reached or the
                              connection dropped */
    VID_ETLS = -5,       /**< TLS failed: certificate not trusted, wrong
                              host name, handshake error */
    VID_EAUTH = -6,      /**< wrong user name or password */
    VID_ETHROTTLED = -7, /**< too many failed logins; retry later */
    VID_EPROTO = -8,     /**< a message broke the vid.v1 protocol */
    VID_ENOTFOUND = -9,  /**< unknown user */
    VID_EOFFLINE = -10,  /**< the user has no device online */
    VID_ERATE = -11,     /**< rate or connection limit of the server */
    VID_EIDENTITY = -12, /**< device identity cannot be created, loaded or
                              was refused by the server */
    VID_EIO = -13,       /**< a file could not be read or written */
    VID_ETIMEDOUT = -14, /**< an operation took too long */
    VID_ECLOSED = -15,   /**< the connection closed before the request
                              could be sent, or the server shut down */
    VID_ENOCALL = -16,   /**< unknown call id, or not one of this device */
    VID_EREPLACED = -17, /**< the same user and device logged in
                              elsewhere; this session was closed */
    VID_ESERVER = -18,   /**< the server reported an internal failure */
    VID_EVERSION = -19,  /**< an options struct of an unknown version */
    VID_ENODEVICE = -20, /**< no such camera, microphone or speaker (or
                              none of that kind) */
    VID_EBUSY = -21,     /**< the device is in use by another program,
                              or this client already has a call */
    VID_EMEDIA = -22,    /**< media could not start: a codec, a GStreamer
                              element or the device failed */
} vid_status;

/**
 * A short English description of a status code.
 *
 * Thread safety: any thread.
 *
 * @param code  a vid_status value (any int is accepted)
 * @return a static string, never NULL ("unknown error" for codes this
 *         version does not know)
 * @since 0.1
 */
VID_API const char *vid_strerror(int code);

/**
 * The library version as "MAJOR.MINOR.MICRO".
 *
 * Thread safety: any thread.
 *
 * @return a static string
 * @since 0.1
 */
VID_API const char *vid_version(void);

/** A signaling client: one device of one user. Opaque. @since 0.1 */
typedef struct vid_client vid_client;

/** Current version of vid_client_options. @since 0.1 */
#define VID_CLIENT_OPTIONS_VERSION 1

/**
 * Settings for vid_client_new(). Initialise with VID_CLIENT_OPTIONS_INIT
 * (or vid_client_options_init()) and then set the fields you need, so that
 * fields added in later versions get their defaults.
 * @since 0.1
 */
typedef struct vid_client_options {
    /** VID_CLIENT_OPTIONS_VERSION. */
    unsigned int version;
    /** Signaling server, "wss://host[:port]/". Required. Only wss:// is
     *  accepted: the connection is always TLS, verified. */
    const char *server_url;
    /** PEM file with the CA certificates that may sign the server's
     *  certificate, instead of the system's CAs. NULL: system CAs. */
    const char *ca_file;
    /** Directory holding the device identity (created mode 0700 when
     *  missing). NULL: $XDG_STATE_HOME/vid (~/.local/state/vid). */
    const char *state_dir;
    /** This device's name (1-64 of A-Z a-z 0-9 . _ -). NULL: the host
     *  name if it is a valid name, else "device". */
    const char *device_name;
    /** A GMainContext (GMainContext *) on which events are dispatched.
     *  NULL: the application polls vid_client_get_fd() and calls
     *  vid_client_dispatch(). The client holds a reference. */
    void *main_context;
    /** Non-zero (default): when the connection drops or cannot be made
     *  while the client holds credentials (vid_client_login() was called
     *  and no login was refused), reconnect with exponential back-off and
     *  full jitter (0.5 s base, 30 s cap), log in again and re-subscribe
     *  presence. Never after a refused login, a TLS failure, a server
     *  that does not speak vid.v1 or a replaced session. A connection
     *  silent for 60 s (keepalive pings every 20 s) counts as dropped. */
    int reconnect;
} vid_client_options;

/** Static initialiser for vid_client_options. @since 0.1 */
#define VID_CLIENT_OPTIONS_INIT                                                \
    {                                                                          \
        VID_CLIENT_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, 1            \
    }

/**
 * Initialise @p opts to the defaults of @p version.
 *
 * Thread safety: any thread.
 *
 * @param opts     struct to fill
 * @param version  VID_CLIENT_OPTIONS_VERSION
 * @return VID_OK, VID_EINVAL (@p opts NULL), VID_EVERSION
 * @since 0.1
 */
VID_API int vid_client_options_init(vid_client_options *opts,
                                    unsigned int version);

/** Kinds of vid_event. @since 0.1 */
typedef enum vid_event_type {
    /** The WebSocket to the server is open (TLS verified). */
    VID_EVENT_CONNECTED = 1,
    /** Logged in. Fields: user, device, request_id (0 for an automatic
     *  login after reconnect). vid_client_get_policy() now works. */
    VID_EVENT_LOGGED_IN,
    /** Login refused. Fields: code (VID_EAUTH, VID_ETHROTTLED,
     *  VID_EIDENTITY, ...), server_code, message, retry_after (seconds,
     *  0 if none), request_id. Not retried automatically. */
    VID_EVENT_LOGIN_FAILED,
    /** The connection closed or could not be made. Fields: code
     *  (VID_ENETWORK, VID_ETLS, VID_ECLOSED, VID_EREPLACED, ...),
     *  message, will_reconnect, reconnect_delay_ms. */
    VID_EVENT_DISCONNECTED,
    /** Presence of a subscribed user. Fields: user, device (NULL for "no
     *  device online"), online, fingerprint (online devices). */
    VID_EVENT_PRESENCE,
    /** Incoming call. Fields: call_id, user (caller), device (caller's
     *  device), fingerprint (registered for that device), sdp (offer). */
    VID_EVENT_CALL_INVITE,
    /** The callee is ringing. Fields: call_id, user, device. */
    VID_EVENT_CALL_RINGING,
    /** The callee accepted. Fields: call_id, user, device, fingerprint,
     *  sdp (answer). */
    VID_EVENT_CALL_ACCEPT,
    /** The callee declined. Fields: call_id, user, device, reason. */
    VID_EVENT_CALL_REJECT,
    /** Stop ringing: answered or declined on another device, caller hung
     *  up, timeout. Fields: call_id, reason. */
    VID_EVENT_CALL_CANCEL,
    /** Trickled ICE candidate. Fields: call_id, user, device, candidate
     *  ("" = end of candidates), mid (may be NULL), mline_index (-1 if
     *  absent). */
    VID_EVENT_CALL_CANDIDATE,
    /** The peer hung up or the call ended. Fields: call_id, user and
     *  device (may be NULL), reason (may be NULL). */
    VID_EVENT_CALL_HANGUP,
    /** The server created the call of vid_client_call_invite(). Fields:
     *  request_id (the invite's), call_id. */
    VID_EVENT_CALL_CREATED,
    /** A request failed. Fields: request_id (0 if the server's error
     *  answered no request), code, server_code, message. */
    VID_EVENT_ERROR,
    /* --- managed calls (vid_call_place(), vid_call_answer()) --- */
    /** Media flows: ICE found a path, DTLS verified the peer and keyed
     *  SRTP. Fields: call_id, user, device, fingerprint, sas (the short
     *  authentication string both sides must see alike), path ("direct"
     *  or "relay"), peer_identity (VID_PEER_*). */
    VID_EVENT_CALL_CONNECTED,
    /** A managed call is over; always the last event of the call.
     *  Fields: call_id (NULL when the server never created the call, then
     *  request_id is vid_call_place()'s), end_reason, ice_failure
     *  (VID_END_ICE_FAILED and VID_END_NETWORK_LOST), code (a vid_status
     *  for failures), message (detail for a person), reason (the peer's or
     *  server's reason text, if any), stats (the final statistics when
     *  the call had connected, else NULL). */
    VID_EVENT_CALL_ENDED,
    /* --- devices (vid_client_watch_devices()) --- */
    /** A camera, microphone or speaker appeared. Fields: device_info. */
    VID_EVENT_DEVICE_ADDED,
    /** A device went away. Fields: device_info. */
    VID_EVENT_DEVICE_REMOVED,
} vid_event_type;

/**
 * Why a managed call ended (vid_event.end_reason of VID_EVENT_CALL_ENDED).
 * @since 0.1
 */
typedef enum vid_end_reason {
    VID_END_NONE = 0,
    VID_END_HANGUP,            /**< we hung up (vid_call_hangup()) */
    VID_END_REMOTE_HANGUP,     /**< the peer hung up */
    VID_END_REJECTED,          /**< the callee declined */
    VID_END_BUSY,              /**< the callee is in another call */
    VID_END_NO_ANSWER,         /**< nobody answered before the server's ring
                                    timeout */
    VID_END_OFFLINE,           /**< the callee is unknown or has no device
                                    online */
    VID_END_CANCELLED,         /**< (callee) the caller hung up before we
                                    answered, or another of our devices
                                    answered or declined; reason says which */
    VID_END_ICE_FAILED,        /**< no media path; ice_failure says why */
    VID_END_IDENTITY_MISMATCH, /**< the peer's DTLS certificate is not the
                                  one in its SDP and registered with the
                                  server, or its key changed since it was
                                  pinned and the call options refuse that */
    VID_END_NETWORK_LOST,      /**< the peer vanished (ICE consent lost, it
                                    dropped from the server) or our server
                                    connection was lost during set-up */
    VID_END_MEDIA_FAILED,      /**< DTLS/SRTP, a codec or a device failed;
                                    code and message say which */
    VID_END_PROTOCOL,          /**< the peer's SDP or a message was unusable */
} vid_end_reason;

/**
 * Diagnosis of a failed media path (vid_event.ice_failure).
 * @since 0.1
 */
typedef enum vid_ice_failure {
    VID_ICE_FAILURE_NONE = 0,
    VID_ICE_FAILURE_NO_CANDIDATES,    /**< a side had no usable address */
    VID_ICE_FAILURE_CHECKS_FAILED,    /**< no UDP or TCP path between the
                                           two (firewall?) */
    VID_ICE_FAILURE_TURN_REFUSED,     /**< the TURN relay refused our
                                           credentials */
    VID_ICE_FAILURE_TURN_UNREACHABLE, /**< the TURN relay never answered */
    VID_ICE_FAILURE_CONSENT_LOST,     /**< the peer stopped answering
                                           (RFC 7675) */
    VID_ICE_FAILURE_TIMEOUT,          /**< no path within 30 s */
} vid_ice_failure;

/**
 * What we know of the peer's identity key (vid_event.peer_identity).
 * Keys are pinned per user and device in the state directory on first
 * contact (trust on first use, like SSH's known_hosts).
 * @since 0.1
 */
typedef enum vid_peer_identity {
    VID_PEER_UNKNOWN = 0, /**< not checked (not a call event) */
    VID_PEER_NEW,         /**< first call with this device: now pinned */
    VID_PEER_KNOWN,       /**< matches the pinned key */
    VID_PEER_CHANGED,     /**< differs from the pinned key: compare the
                               safety number before trusting the call;
                               the pin is NOT replaced (see
                               vid_client_trust_peer()) */
} vid_peer_identity;

/** Kind of a media device. @since 0.1 */
typedef enum vid_device_kind {
    VID_DEVICE_CAMERA = 1,
    VID_DEVICE_MICROPHONE = 2,
    VID_DEVICE_SPEAKER = 3,
} vid_device_kind;

/** One picture size a camera offers, with its highest rate. @since 0.1 */
typedef struct vid_video_mode {
    int width,   /**< picture width in pixels (> 0) */
        height;  /**< picture height in pixels (> 0) */
    int fps_num, /**< highest frame rate at this size, frames per second
                      as the fraction fps_num / fps_den: numerator */
        fps_den; /**< denominator of that rate (> 0) */
} vid_video_mode;

/**
 * A camera, microphone or speaker. In a vid_event it is borrowed; from
 * vid_devices_list() it is owned by the list.
 * @since 0.1
 */
typedef struct vid_device {
    vid_device_kind kind;  /**< camera, microphone or speaker */
    char *id;              /**< stable id to pass in vid_call_options, never
                                NULL ("" when the system gives none) */
    char *name;            /**< display name, never NULL */
    int is_default;        /**< non-zero for the system's default device of this
                                kind */
    vid_video_mode *modes; /**< cameras: sizes, largest first; NULL for
                                audio devices and cameras that report none */
    size_t n_modes;        /**< number of entries in @c modes (0 with NULL) */
} vid_device;

/**
 * One event. Which fields are set depends on @c type (see
 * vid_event_type); the others are NULL/0. All pointers are borrowed and
 * valid only until the callback returns; copy what you keep.
 * @since 0.1
 */
typedef struct vid_event {
    /** What happened; says which of the other fields are set. */
    vid_event_type type;
    /** Request this event answers (0: none). */
    uint64_t request_id;
    /** A vid_status for failures, else VID_OK. */
    int code;
    /** The server's machine error code ("callee_offline"), or NULL. */
    const char *server_code;
    /** Human-readable detail of a failure, or NULL. */
    const char *message;
    /** Seconds until a throttled login may be retried; 0: none given. */
    int retry_after;
    /** DISCONNECTED: non-zero when the client will reconnect by itself. */
    int will_reconnect;
    /** DISCONNECTED: milliseconds until the reconnect attempt. */
    unsigned int reconnect_delay_ms;
    /** The user the event is about (own user for LOGGED_IN, the peer
     *  for presence and call events). */
    const char *user;
    /** That user's device. */
    const char *device;
    /** PRESENCE: non-zero when online. */
    int online;
    /** "sha-256 AB:CD:..." identity of user/device, as registered with
     *  the server. */
    const char *fingerprint;
    /** Call id (server-assigned, lower-case hex). */
    const char *call_id;
    /** SDP offer (CALL_INVITE) or answer (CALL_ACCEPT). */
    const char *sdp;
    /** Reason of reject/cancel/hangup. */
    const char *reason;
    /** CALL_CANDIDATE: the a=candidate value, "" at end of candidates. */
    const char *candidate;
    /** CALL_CANDIDATE: media stream id, or NULL. */
    const char *mid;
    /** CALL_CANDIDATE: m-line index, or -1. */
    int mline_index;
    /** CALL_ENDED: why. */
    vid_end_reason end_reason;
    /** CALL_ENDED with VID_END_ICE_FAILED or VID_END_NETWORK_LOST. */
    vid_ice_failure ice_failure;
    /** CALL_CONNECTED: the short authentication string, "123 456". */
    const char *sas;
    /** CALL_CONNECTED: "direct" or "relay". */
    const char *path;
    /** CALL_INVITE, CALL_ACCEPT, CALL_CONNECTED: the peer's key versus
     *  our pin. */
    vid_peer_identity peer_identity;
    /** DEVICE_ADDED, DEVICE_REMOVED: the device. */
    const vid_device *device_info;
    /** CALL_ENDED of a call that had connected: its statistics as last
     *  read just before media stopped (duration_ms is the whole connected
     *  time); NULL when the call never connected. Borrowed like the other
     *  fields: copy the struct to keep it.
     *  @since 0.1 (appended; older fields keep their offsets) */
    const struct vid_call_stats *stats;
} vid_event;

/**
 * Event callback. Runs on the application's thread (the one iterating
 * the main_context, or calling vid_client_dispatch()), without any
 * library lock held.
 *
 * @param client     the client the event belongs to
 * @param event      the event; borrowed for the duration of the call
 * @param user_data  as given to vid_client_set_event_callback()
 * @since 0.1
 */
typedef void (*vid_event_cb)(vid_client *client, const vid_event *event,
                             void *user_data);

/**
 * Create a client. Loads the device identity from the state directory,
 * creating it on first use, and starts the worker thread. Does not
 * connect yet.
 *
 * Thread safety: any thread.
 *
 * @param out   receives the client; free it with vid_client_free()
 * @param opts  settings; copied
 * @return VID_OK, VID_EINVAL (bad URL, device name, empty state_dir,
 *         NULL argument), VID_EVERSION, VID_EIDENTITY (identity cannot be
 *         created or loaded), VID_EIO (the state directory or its lock
 *         file cannot be created, no eventfd), VID_ETLS (CA file
 *         unusable), VID_ENOMEM. On failure *out is NULL (unless @p out
 *         is NULL) and vid_client_last_error(NULL) explains why.
 * @since 0.1
 */
VID_API int vid_client_new(vid_client **out, const vid_client_options *opts);

/**
 * Close the connection, stop the worker thread, drop queued events and
 * free the client. NULL is a no-op.
 *
 * Thread safety: call from the thread that dispatches the client's events
 * (the one iterating main_context or calling vid_client_dispatch()); no
 * other thread may use @p client at the same time or after. It may be
 * called from inside the event callback: the client is then freed when
 * the callback returns, and the remaining events are dropped (do not use
 * @p client after vid_client_dispatch() returns).
 *
 * @param client  the client, or NULL
 * @since 0.1
 */
VID_API void vid_client_free(vid_client *client);

/**
 * Set the function that receives events. Replaces the previous one; NULL
 * drops events. Events queued before a callback is set stay queued.
 *
 * Thread safety: any thread.
 *
 * @param client     the client
 * @param cb         callback, or NULL
 * @param user_data  passed to @p cb; not owned
 * @return VID_OK, VID_EINVAL
 * @since 0.1
 */
VID_API int vid_client_set_event_callback(vid_client *client, vid_event_cb cb,
                                          void *user_data);

/**
 * The file descriptor that becomes readable while events wait. Poll it
 * for reading, then call vid_client_dispatch(). Do not read or close it.
 * Valid until vid_client_free(). Not needed with a main_context.
 *
 * Thread safety: any thread.
 *
 * @param client  the client
 * @return the descriptor (>= 0), or VID_EINVAL
 * @since 0.1
 */
VID_API int vid_client_get_fd(vid_client *client);

/**
 * Deliver the events that are queued now to the callback, on the calling
 * thread. Never blocks. A nested call from inside the callback returns 0.
 *
 * Thread safety: any thread, but only one thread should dispatch.
 *
 * @param client  the client
 * @return the number of events delivered (>= 0), or VID_EINVAL
 * @since 0.1
 */
VID_API int vid_client_dispatch(vid_client *client);

/**
 * The last error message of a failed call on @p client (from any
 * thread), or with NULL the last failure on the calling thread of a
 * function that has no client: vid_client_new(),
 * vid_client_options_init(), vid_call_options_init(), vid_devices_list().
 * A success does not clear it. Functions called with a NULL client
 * return VID_EINVAL without a message.
 *
 * Thread safety: any thread. The string is a thread-local copy, valid
 * until the next vid_client_last_error() call on the same thread (with
 * NULL: until the next failure on that thread).
 *
 * @param client  the client, or NULL
 * @return a message, "" when none; never NULL
 * @since 0.1
 */
VID_API const char *vid_client_last_error(const vid_client *client);

/**
 * This device's identity fingerprint, "sha-256 AB:CD:..." (RFC 8122 form).
 *
 * Thread safety: any thread.
 *
 * @param client  the client
 * @return borrowed string valid until vid_client_free(), or NULL if
 *         @p client is NULL
 * @since 0.1
 */
VID_API const char *vid_client_get_fingerprint(const vid_client *client);

/**
 * This device's name as sent to the server.
 *
 * Thread safety: any thread.
 *
 * @param client  the client
 * @return borrowed string valid until vid_client_free(), or NULL
 * @since 0.1
 */
VID_API const char *vid_client_get_device_name(const vid_client *client);

/**
 * Open the connection to the server (asynchronous). VID_EVENT_CONNECTED
 * or VID_EVENT_DISCONNECTED follows. Calling it while connected or
 * connecting does nothing.
 *
 * Thread safety: any thread.
 *
 * @param client  the client
 * @return VID_OK, VID_EINVAL
 * @since 0.1
 */
VID_API int vid_client_connect(vid_client *client);

/**
 * Log in (asynchronous); connects first when needed. The credentials are
 * remembered for automatic re-login after a reconnect until a login fails
 * with bad credentials. VID_EVENT_LOGGED_IN or VID_EVENT_LOGIN_FAILED
 * follows (or VID_EVENT_DISCONNECTED when the server cannot be reached).
 * A second call before that answer is accepted too and replaces the
 * first: then one answer comes, for one of the two request ids.
 *
 * Thread safety: any thread.
 *
 * @param client      the client
 * @param user        user name (1-64 of A-Z a-z 0-9 . _ -)
 * @param password    1-1024 bytes; copied, wiped from memory on free
 * @param request_id  receives the request id, or NULL
 * @return VID_OK, VID_EINVAL, VID_ESTATE (already logged in), VID_ENOMEM
 * @since 0.1
 */
VID_API int vid_client_login(vid_client *client, const char *user,
                             const char *password, uint64_t *request_id);

/**
 * Subscribe to the presence of @p users (asynchronous). The current state
 * arrives at once as VID_EVENT_PRESENCE events, then every change.
 * Subscriptions are renewed automatically after a reconnect.
 *
 * Thread safety: any thread.
 *
 * @param client      the client (logged in)
 * @param users       @p n_users user names
 * @param n_users     1-256
 * @param request_id  receives the request id, or NULL
 * @return VID_OK, VID_EINVAL, VID_ESTATE (not logged in), VID_ENOMEM
 * @since 0.1
 */
VID_API int vid_client_subscribe_presence(vid_client *client,
                                          const char *const *users,
                                          size_t n_users, uint64_t *request_id);

/**
 * Call @p to with an SDP offer (asynchronous). Every online device of the
 * callee receives VID_EVENT_CALL_INVITE. The server's call id arrives in
 * VID_EVENT_CALL_CREATED carrying the same request id; failures (unknown
 * user VID_ENOTFOUND, offline VID_EOFFLINE, ...) in VID_EVENT_ERROR.
 *
 * Thread safety: any thread.
 *
 * @param client      the client (logged in)
 * @param to          callee user name
 * @param sdp         SDP offer, 1-60000 bytes
 * @param request_id  receives the request id (the cookie of the
 *                    CALL_CREATED event), or NULL
 * @return VID_OK, VID_EINVAL, VID_ESTATE, VID_ENOMEM
 * @since 0.1
 */
VID_API int vid_client_call_invite(vid_client *client, const char *to,
                                   const char *sdp, uint64_t *request_id);

/**
 * Tell the caller that this device is ringing (asynchronous).
 *
 * Thread safety: any thread.
 *
 * @param client      the client (logged in)
 * @param call_id     call id from VID_EVENT_CALL_INVITE
 * @param request_id  receives the request id, or NULL
 * @return VID_OK, VID_EINVAL, VID_ESTATE, VID_ENOMEM
 * @since 0.1
 */
VID_API int vid_client_call_ringing(vid_client *client, const char *call_id,
                                    uint64_t *request_id);

/**
 * Accept a call with an SDP answer (asynchronous). The caller gets
 * VID_EVENT_CALL_ACCEPT, the callee's other devices VID_EVENT_CALL_CANCEL.
 *
 * Thread safety: any thread.
 *
 * @param client      the client (logged in)
 * @param call_id     call id from VID_EVENT_CALL_INVITE
 * @param sdp         SDP answer, 1-60000 bytes
 * @param request_id  receives the request id, or NULL
 * @return VID_OK, VID_EINVAL, VID_ESTATE, VID_ENOMEM
 * @since 0.1
 */
VID_API int vid_client_call_accept(vid_client *client, const char *call_id,
                                   const char *sdp, uint64_t *request_id);

/**
 * Decline a call (asynchronous).
 *
 * Thread safety: any thread.
 *
 * @param client      the client (logged in)
 * @param call_id     call id
 * @param reason      1-64 bytes, usually "busy" or "declined"
 * @param request_id  receives the request id, or NULL
 * @return VID_OK, VID_EINVAL, VID_ESTATE, VID_ENOMEM
 * @since 0.1
 */
VID_API int vid_client_call_reject(vid_client *client, const char *call_id,
                                   const char *reason, uint64_t *request_id);

/**
 * Send one trickled ICE candidate (asynchronous).
 *
 * Thread safety: any thread.
 *
 * @param client       the client (logged in)
 * @param call_id      call id
 * @param candidate    the a=candidate value (0-1024 bytes; "" = end of
 *                     candidates)
 * @param mid          media stream id (1-32 bytes) or NULL
 * @param mline_index  0-255, or -1 for none
 * @param request_id   receives the request id, or NULL
 * @return VID_OK, VID_EINVAL, VID_ESTATE, VID_ENOMEM
 * @since 0.1
 */
VID_API int vid_client_call_candidate(vid_client *client, const char *call_id,
                                      const char *candidate, const char *mid,
                                      int mline_index, uint64_t *request_id);

/**
 * Hang up or cancel a call (asynchronous).
 *
 * Thread safety: any thread.
 *
 * @param client      the client (logged in)
 * @param call_id     call id
 * @param reason      1-64 bytes, or NULL
 * @param request_id  receives the request id, or NULL
 * @return VID_OK, VID_EINVAL, VID_ESTATE, VID_ENOMEM
 * @since 0.1
 */
VID_API int vid_client_call_hangup(vid_client *client, const char *call_id,
                                   const char *reason, uint64_t *request_id);

/** ICE transport policy. @since 0.1 */
typedef enum vid_ice_transport_policy {
    VID_ICE_TRANSPORT_ALL = 0, /**< direct and relayed paths */
    VID_ICE_TRANSPORT_RELAY,   /**< media only through TURN */
} vid_ice_transport_policy;

/** One STUN/TURN server of the policy. @since 0.1 */
typedef struct vid_ice_server {
    char **urls;      /**< n_urls URLs ("stun:...", "turn:...") */
    size_t n_urls;    /**< number of entries in @c urls (>= 1) */
    char *username;   /**< TURN user name ("expiry:user"), or NULL */
    char *credential; /**< TURN password, or NULL */
} vid_ice_server;

/** The administrator's policy, received at login. @since 0.1 */
typedef struct vid_policy {
    /** STUN and TURN servers to use for calls: n_ice_servers entries
     *  (read no entry when n_ice_servers is 0; the pointer may still be
     *  non-NULL then). */
    vid_ice_server *ice_servers;
    /** Number of entries in @c ice_servers (0: none). */
    size_t n_ice_servers;
    /** Whether media may go directly or only through a TURN relay. */
    vid_ice_transport_policy ice_transport_policy;
    /** Local UDP port range for media, lowest port; 0/0: any. */
    unsigned int media_port_min;
    /** Highest port of that range (inclusive; 0 with media_port_min 0). */
    unsigned int media_port_max;
    /** Unix time the TURN credentials expire (0: none given). */
    int64_t credential_expires;
    /** Server limits (0: not given): largest frame in bytes, sustained
     *  messages per second (may be fractional), burst of messages. */
    unsigned int max_frame;
    /** Sustained messages per second the server accepts (0: not given). */
    double rate;
    /** Messages the server accepts in a burst (0: not given). */
    unsigned int burst;
} vid_policy;

/**
 * A copy of the policy of the current (or, while disconnected, the
 * last) login. TURN credentials expire at credential_expires; a new login
 * (automatic after a reconnect) brings new ones.
 *
 * Thread safety: any thread.
 *
 * @param client  the client
 * @param out     receives the copy; free it with vid_policy_free()
 * @return VID_OK, VID_EINVAL, VID_ESTATE (never logged in), VID_ENOMEM
 * @since 0.1
 */
VID_API int vid_client_get_policy(vid_client *client, vid_policy **out);

/**
 * Free a policy from vid_client_get_policy(). NULL is a no-op.
 *
 * Thread safety: any thread.
 * @param policy  the policy, or NULL
 * @since 0.1
 */
VID_API void vid_policy_free(vid_policy *policy);

/* ====================================================================== */
/* Managed calls                                                          */
/* ====================================================================== */

/*
 * vid_call_place() and vid_call_answer() let the library run the whole
 * call: it makes the SDP offer/answer, trickles ICE candidates through the
 * server, checks the peer's DTLS certificate against the SDP and the
 * server's registry, keys SRTP, captures, encodes, sends, receives,
 * decodes and plays. The caller sees VID_EVENT_CALL_CREATED, _RINGING,
 * _ACCEPT, _CONNECTED and finally VID_EVENT_CALL_ENDED; the callee
 * VID_EVENT_CALL_INVITE, then (after vid_call_answer()) _CONNECTED and
 * VID_EVENT_CALL_ENDED. Candidate, reject, cancel and hang-up messages of
 * a managed call are consumed by the library and reported as
 * VID_EVENT_CALL_ENDED only.
 *
 * An incoming VID_EVENT_CALL_INVITE is delivered and the application
 * answers it with vid_call_answer() or vid_call_reject() (tell the caller
 * it rings with vid_client_call_ringing()). Until then the invite's
 * VID_EVENT_CALL_CANDIDATE events are delivered too (and kept for
 * vid_call_answer()); when the caller gives up or another device of ours
 * answers, VID_EVENT_CALL_CANCEL is followed by VID_EVENT_CALL_ENDED
 * (VID_END_CANCELLED). Answering the invite with the raw
 * vid_client_call_accept(), _reject() or _hangup() instead (an application
 * that brings its own media) hands the call to the application: no
 * VID_EVENT_CALL_ENDED follows then.
 *
 * When a call fails, the library hangs up with a reason that the peer's
 * library maps to the same vid_end_reason ("ice_failed", "timeout",
 * "network_lost", "identity_mismatch", "identity_changed",
 * "media_failed", "bad_sdp"), so both ends report the same cause.
 *
 * One managed call per client at a time: an invite that arrives while a
 * call is active or ringing out is declined with reason "busy" by the
 * library (the application still gets VID_EVENT_CALL_INVITE followed by
 * VID_EVENT_CALL_ENDED with VID_END_BUSY, so it can show a missed call).
 *
 * The call's media runs on library threads: the network work on the
 * client's worker thread, encoding and decoding on their own threads.
 * The frame callbacks of vid_call_options run on the decode threads, not
 * on the application's thread; everything else arrives as events. A frame
 * callback must return quickly and must not call vid_call_*() or
 * vid_client_free(): ending a call waits for the decode threads, so such
 * a call could wait forever. Copy the frame and hand it to your own
 * thread instead.
 */

/** Length of a call id including the NUL: 32 hex digits + NUL. */
#define VID_CALL_ID_SIZE 33

/**
 * A decoded picture, I420 (planes Y, U, V). Borrowed: valid during the
 * callback only.
 * @since 0.1
 */
typedef struct vid_video_frame {
    int width,  /**< picture width in pixels */
        height; /**< picture height in pixels */
    /** The Y, U and V planes: Y has width x height bytes, U and V
     *  (width + 1) / 2 x (height + 1) / 2 each. Borrowed. */
    const uint8_t *planes[3];
    /** Bytes from one row to the next in each plane (>= the row's
     *  width). */
    int strides[3];
    /** RTP timestamp (90 kHz) of the frame. */
    uint32_t rtp_timestamp;
    /** Non-zero for a keyframe. */
    int keyframe;
} vid_video_frame;

/**
 * 20 ms of decoded audio: 48 kHz, signed 16-bit, interleaved. Borrowed:
 * valid during the callback only.
 * @since 0.1
 */
typedef struct vid_audio_frame {
    /** frames x channels samples, interleaved. Borrowed. */
    const int16_t *pcm;
    size_t frames;   /**< samples per channel (960) */
    int channels;    /**< 1 (mono) or 2 (stereo) */
    int sample_rate; /**< 48000 */
    /** Non-zero when the packet was lost and this is concealment. */
    int concealed;
} vid_audio_frame;

/** Called on the library's video decode thread for every picture. */
typedef void (*vid_video_cb)(vid_client *client, const char *call_id,
                             const vid_video_frame *frame, void *user_data);
/** Called on the library's audio decode thread every 20 ms. */
typedef void (*vid_audio_cb)(vid_client *client, const char *call_id,
                             const vid_audio_frame *frame, void *user_data);

/** Current version of vid_call_options. @since 0.1 */
#define VID_CALL_OPTIONS_VERSION 1

/**
 * How a call captures, sends and plays. Fill with vid_call_options_init()
 * or VID_CALL_OPTIONS_INIT, then set what you need. Strings are copied.
 * @since 0.1
 */
typedef struct vid_call_options {
    /** VID_CALL_OPTIONS_VERSION. */
    unsigned int version;
    /** Non-zero (default): capture and send our video; 0: receive only. */
    int send_video;
    /** Non-zero (default): capture and send our audio; 0: receive only. */
    int send_audio;
    /** Camera id or name (vid_devices_list()); NULL: the first camera. */
    const char *camera;
    /** Microphone id or name; NULL: the default microphone. */
    const char *microphone;
    /** Non-zero: a synthetic camera (moving pattern stamped with frame
     *  number and capture time) instead of a camera. */
    int synthetic_video;
    /** Non-zero: a synthetic microphone (tone with clicks). */
    int synthetic_audio;
    /** Capture and send size and rate (default 640x480 at 30). Other
     *  values: vid_call_place() and vid_call_answer() fail with
     *  VID_EINVAL. */
    int width,  /**< width in pixels: even, 256-4096 (default 640) */
        height, /**< height in pixels: even, 128-4096 (default 480) */
        fps;    /**< frames per second: 1-60 (default 30) */
    /** VP8 start bitrate in kbit/s, 30-20000 (default 600); the rate
     *  controller lowers it under loss and raises it up to
     *  max_video_kbps. */
    int video_kbps;
    /** VP8 bitrate ceiling in kbit/s, 30-20000 (default 2000). */
    int max_video_kbps;
    /** Non-zero: show the peer's video in a window the library manages. */
    int render_video;
    /** Non-zero: play the peer's audio on the default speaker (then the
     *  microphone gets echo cancellation). */
    int play_audio;
    /** Write what we receive (VP8 + Opus as received, no re-encoding) to
     *  this WebM file ("" is VID_EINVAL); NULL: no recording. */
    const char *record_path;
    /** Non-zero: end the call (VID_END_IDENTITY_MISMATCH) when the peer's
     *  key differs from the one pinned; 0 (default): warn through
     *  vid_event.peer_identity = VID_PEER_CHANGED and go on. */
    int refuse_changed_identity;
    /** Receives every decoded picture of the peer, on the video decode
     *  thread (see the notes above); NULL: none. */
    vid_video_cb on_video;
    /** Receives the peer's decoded audio every 20 ms, on the audio
     *  decode thread; NULL: none. */
    vid_audio_cb on_audio;
    /** Passed to on_video and on_audio; not owned by the library. */
    void *user_data;
    /** Comma-separated IP literals ("127.0.0.1,::1") to gather host ICE
     *  candidates on; NULL: every interface except loopback. For tests
     *  and demos on one machine, and for hosts with many interfaces.
     *  An entry that is not an IP literal, or an empty list, makes
     *  vid_call_place() and vid_call_answer() fail with VID_EINVAL. */
    const char *local_addresses;
} vid_call_options;

/** Static initialiser for vid_call_options. @since 0.1 */
#define VID_CALL_OPTIONS_INIT                                                  \
    {                                                                          \
        VID_CALL_OPTIONS_VERSION, 1, 1, NULL, NULL, 0, 0, 640, 480, 30, 600,   \
            2000, 0, 0, NULL, 0, NULL, NULL, NULL, NULL                        \
    }

/**
 * Initialise @p opts to the defaults of @p version (the values of
 * VID_CALL_OPTIONS_INIT). @p opts is left untouched on failure.
 *
 * Thread safety: any thread.
 *
 * @param opts     struct to fill
 * @param version  VID_CALL_OPTIONS_VERSION
 * @return VID_OK, VID_EINVAL (@p opts NULL), VID_EVERSION (@p version is
 *         not one this library knows)
 * @since 0.1
 */
VID_API int vid_call_options_init(vid_call_options *opts, unsigned int version);

/**
 * Call @p peer (a user name): every online device of it rings. The
 * devices are opened and the offer made before this returns, so a missing
 * camera fails here (VID_ENODEVICE), not later. Then VID_EVENT_CALL_CREATED
 * (request_id, call_id) tells the call's id; VID_EVENT_CALL_RINGING,
 * VID_EVENT_CALL_ACCEPT, VID_EVENT_CALL_CONNECTED follow, and
 * VID_EVENT_CALL_ENDED ends it (an offline callee: VID_END_OFFLINE with
 * call_id NULL and this request_id).
 *
 * Thread safety: any thread.
 *
 * @param client      logged-in client
 * @param peer        user to call
 * @param opts        capture and playout; NULL: defaults (camera,
 *                    microphone, no window, no speaker)
 * @param request_id  receives the id of the request (may be NULL)
 * @return VID_OK, VID_EINVAL (bad argument or option), VID_EVERSION,
 *         VID_ESTATE (not logged in), VID_EBUSY (a call is active, or a
 *         device is in use), VID_ENODEVICE, VID_EMEDIA, VID_ENOMEM
 * @since 0.1
 */
VID_API int vid_call_place(vid_client *client, const char *peer,
                           const vid_call_options *opts, uint64_t *request_id);

/**
 * Answer the incoming call @p call_id (from VID_EVENT_CALL_INVITE). The
 * library checks the offer, opens the devices and sends the answer;
 * VID_EVENT_CALL_CONNECTED or VID_EVENT_CALL_ENDED follows.
 *
 * Thread safety: any thread. Waits until the client's worker thread has
 * opened the devices (do not call it from a frame callback).
 *
 * @param client   the client that received the invite
 * @param call_id  the call id of VID_EVENT_CALL_INVITE: 32 lower-case hex
 *                 digits
 * @param opts     capture and playout; NULL: defaults (camera,
 *                 microphone, no window, no speaker)
 * @return VID_OK, VID_EINVAL (@p client NULL, malformed @p call_id, bad
 *         option), VID_EVERSION (@p opts->version), VID_ENOCALL (no such
 *         ringing call: unknown, already answered, declined or
 *         cancelled), VID_EBUSY (another managed call is active, or a
 *         device is in use), VID_ENODEVICE, VID_EMEDIA (the invite keeps
 *         ringing after these three: answer again or decline), VID_EPROTO
 *         (the offer is unusable: the call is declined and ended with
 *         VID_END_PROTOCOL), VID_EIDENTITY (the offer names another DTLS
 *         key than the server registered for the caller's device, or the
 *         key differs from the pin and @p opts refuse that: declined,
 *         ended with VID_END_IDENTITY_MISMATCH), VID_ESTATE (the answer
 *         could not be sent: the connection to the server is down),
 *         VID_ENOMEM
 * @since 0.1
 */
VID_API int vid_call_answer(vid_client *client, const char *call_id,
                            const vid_call_options *opts);

/**
 * Decline the incoming call @p call_id. The caller's call ends with
 * VID_END_REJECTED (or VID_END_BUSY for "busy"); ours ends with
 * VID_EVENT_CALL_ENDED, VID_END_REJECTED.
 *
 * Thread safety: any thread (waits for the client's worker thread).
 *
 * @param client   the client that received the invite
 * @param call_id  the call id of VID_EVENT_CALL_INVITE: 32 lower-case hex
 *                 digits
 * @param reason   NULL for "declined", or a short text (1-64 bytes of
 *                 UTF-8 without control characters) such as "busy"
 * @return VID_OK, VID_EINVAL (@p client NULL, malformed @p call_id or
 *         @p reason), VID_ENOCALL (no such ringing call: unknown, already
 *         answered, declined or cancelled)
 * @since 0.1
 */
VID_API int vid_call_reject(vid_client *client, const char *call_id,
                            const char *reason);

/**
 * Hang up (or stop ringing out) the managed call @p call_id; the peer's
 * call ends with VID_END_REMOTE_HANGUP, ours with VID_END_HANGUP. Media
 * stops and devices are released before VID_EVENT_CALL_ENDED is queued.
 * @p call_id NULL: the client's managed call whatever its state, also a
 * placed call whose VID_EVENT_CALL_CREATED has not come yet (its
 * VID_EVENT_CALL_ENDED then has call_id NULL and the request_id of
 * vid_call_place(); the server is told once the id arrives).
 *
 * Thread safety: any thread (waits for the client's worker thread; do not
 * call it from a frame callback).
 *
 * @param client   the client
 * @param call_id  the call's id (32 lower-case hex digits), or NULL
 * @return VID_OK, VID_EINVAL (@p client NULL, malformed @p call_id),
 *         VID_ENOCALL (no managed call with that id, or with NULL none at
 *         all; also when the call already ended)
 * @since 0.1
 */
VID_API int vid_call_hangup(vid_client *client, const char *call_id);

/**
 * Mute or unmute what we send: muted audio sends silence (Opus DTX, a
 * few bytes a second), muted video sends black frames at 1 fps, so the
 * peer's picture goes black instead of freezing. Unmuting resumes with
 * the next picture. vid_call_stats shows the state.
 *
 * Thread safety: any thread (waits for the client's worker thread).
 *
 * @param client      the client
 * @param call_id     the managed call's id (32 lower-case hex digits)
 * @param mute_audio  non-zero: mute the microphone; 0: unmute
 * @param mute_video  non-zero: mute the camera; 0: unmute
 * @return VID_OK, VID_EINVAL (@p client NULL, malformed @p call_id),
 *         VID_ENOCALL (no managed call with that id, or it ended)
 * @since 0.1
 */
VID_API int vid_call_set_mute(vid_client *client, const char *call_id,
                              int mute_audio, int mute_video);

/** Candidate type names in vid_call_stats: "host", "srflx", "prflx",
 *  "relay", or "" before a path is selected. */
#define VID_CANDIDATE_TYPE_SIZE 8

/**
 * A snapshot of a call's media (vid_call_get_stats()). Rates are over
 * the last second. -1 means "not known yet" where noted.
 * @since 0.1
 */
typedef struct vid_call_stats {
    /** Milliseconds since the call connected (0 before). */
    int64_t duration_ms;
    /* sending */
    int send_width,  /**< width of the pictures we send, pixels (0: none) */
        send_height; /**< their height, pixels (0: none) */
    /** Pictures encoded per second (over the last second). */
    double send_fps;
    uint32_t send_video_kbps, /**< video RTP we send, kbit/s */
        send_audio_kbps;      /**< audio RTP we send, kbit/s */
    /** The rate controller's current VP8 target. */
    uint32_t target_video_kbps;
    /** Pictures encoded since the call started. */
    uint64_t frames_sent;
    /** Loss the peer reports for what we send (0..1). */
    double remote_loss;
    /* receiving */
    int recv_width,  /**< width of the last decoded picture, pixels (0:
                          none yet) */
        recv_height; /**< its height, pixels (0: none yet) */
    /** Pictures decoded per second (over the last second). */
    double recv_fps;
    uint32_t recv_video_kbps, /**< video RTP we receive, kbit/s */
        recv_audio_kbps;      /**< audio RTP we receive, kbit/s */
    /** Pictures decoded since the call started. */
    uint64_t frames_received;
    uint64_t audio_frames_received, /**< 20 ms audio frames decoded */
        audio_frames_concealed;     /**< of those, made up for lost
                                         packets (concealment) */
    /** Packets (video and audio) lost on the way to us, RFC 3550
     *  count, since the call started. */
    uint64_t packets_lost;
    /** packets_lost as a fraction of all packets expected (0..1), since
     *  the call started. */
    double loss;
    /** Interarrival jitter of the video stream, ms. */
    double jitter_ms;
    /** Round-trip time from RTCP, ms; -1 until known. */
    double rtt_ms;
    uint64_t nacks_sent,  /**< lost video packets we asked the peer to
                               resend (sequence numbers in NACKs) */
        plis_sent,        /**< picture loss indications we sent (asking
                               for a keyframe) */
        retransmits_sent; /**< video packets we resent on the peer's
                               NACKs */
    /** When the peer sends the synthetic camera
     *  (vid_call_options.synthetic_video): pictures whose stamp (frame
     *  number, capture time) was read back intact. 0 otherwise. */
    uint64_t frames_verified,
        frames_out_of_order; /**< of the verified pictures, those whose
                                  frame number was not above the last
                                  one's (reordered or repeated) */
    /** Capture-to-decode delay of the last verified picture, ms; -1 when
     *  the peer's video is not synthetic. */
    double delay_ms;
    /* path */
    /** Non-zero when media goes through a TURN relay. */
    int relayed;
    /** Type of our end of the media path ("host", "srflx", "prflx",
     *  "relay"; "" before a path is selected). */
    char local_candidate[VID_CANDIDATE_TYPE_SIZE];
    /** Type of the peer's end of the media path (same values). */
    char remote_candidate[VID_CANDIDATE_TYPE_SIZE];
    /** "udp" or "tcp", "" before a path is selected. */
    char protocol[4];
    int audio_muted, /**< non-zero while our audio is muted
                          (vid_call_set_mute()) */
        video_muted; /**< non-zero while our video is muted */
} vid_call_stats;

/**
 * Fill @p out with the current numbers of managed call @p call_id. Works
 * from the moment vid_call_place() or vid_call_answer() returned (numbers
 * are 0 and -1 until media flows) until the call ends; the last numbers
 * of a call that connected come with its VID_EVENT_CALL_ENDED
 * (vid_event.stats).
 *
 * Thread safety: any thread (waits for the client's worker thread, which
 * takes a snapshot; do not call it from a frame callback).
 *
 * @param client   the client
 * @param call_id  the managed call's id (32 lower-case hex digits)
 * @param out      receives the numbers; zeroed on any failure except a
 *                 NULL @p client
 * @return VID_OK, VID_EINVAL (@p client or @p out NULL, malformed
 *         @p call_id), VID_ENOCALL (no managed call with that id, or it
 *         ended)
 * @since 0.1
 */
VID_API int vid_call_get_stats(vid_client *client, const char *call_id,
                               vid_call_stats *out);

/** Size of the buffer for vid_call_get_sas(): "123 456" and the NUL.
 *  @since 0.1 */
#define VID_SAS_SIZE 8
/** Size of the buffer for vid_client_get_safety_number(): 12 groups of
 *  5 digits separated by single spaces (71 bytes) and the NUL.
 *  @since 0.1 */
#define VID_SAFETY_NUMBER_SIZE 72

/**
 * The short authentication string of a connected call, "123 456":
 * derived from the DTLS session (RFC 5705 exporter, label
 * "EXTRACTOR-vid-sas"), so both ends show the same string only when
 * nobody sits between them. Read it to each other. It is also in the
 * sas field of VID_EVENT_CALL_CONNECTED.
 *
 * Thread safety: any thread (waits for the client's worker thread).
 *
 * @param client   the client
 * @param call_id  the managed call's id (32 lower-case hex digits)
 * @param buf      receives the NUL-terminated string; set to "" on any
 *                 failure except a NULL @p client, NULL @p buf or a
 *                 too small @p cap
 * @param cap      size of @p buf in bytes, at least VID_SAS_SIZE
 * @return VID_OK, VID_EINVAL (@p client or @p buf NULL, @p cap <
 *         VID_SAS_SIZE, malformed @p call_id), VID_ENOCALL (no managed
 *         call with that id, or it ended), VID_ESTATE (not connected yet)
 * @since 0.1
 */
VID_API int vid_call_get_sas(vid_client *client, const char *call_id, char *buf,
                             size_t cap);

/**
 * The safety number of our device and the peer device with identity
 * @p peer_fingerprint ("sha-256 AB:..."): 60 digits in 12 groups of 5,
 * the same on both devices (it does not depend on who computes it).
 * Compare it once in person; it changes only when a key changes.
 * Computed locally: needs no connection.
 *
 * Thread safety: any thread.
 *
 * @param client            the client (our device's identity)
 * @param peer_fingerprint  the peer device's identity, "sha-256 " and 32
 *                          hex pairs separated by colons (as in
 *                          vid_event.fingerprint)
 * @param buf               receives the NUL-terminated number; set to ""
 *                          on failure (unless @p buf is NULL or @p cap
 *                          too small)
 * @param cap               size of @p buf in bytes, at least
 *                          VID_SAFETY_NUMBER_SIZE
 * @return VID_OK, VID_EINVAL (@p client or @p buf NULL, @p cap <
 *         VID_SAFETY_NUMBER_SIZE, @p peer_fingerprint NULL or malformed),
 *         VID_ENOMEM (hashing failed)
 * @since 0.1
 */
VID_API int vid_client_get_safety_number(vid_client *client,
                                         const char *peer_fingerprint,
                                         char *buf, size_t cap);

/**
 * Pin @p fingerprint as the key of @p user's device @p device, replacing
 * an old pin (after comparing the safety number). The pin is saved in the
 * client's state directory before this returns and is used from the next
 * call on (vid_event.peer_identity). Needs no connection.
 *
 * Thread safety: any thread.
 *
 * @param client       the client
 * @param user         the peer's user name (1-64 of A-Z a-z 0-9 . _ -)
 * @param device       the peer's device name (same rules)
 * @param fingerprint  the key to trust, "sha-256 " and 32 hex pairs
 *                     separated by colons
 * @return VID_OK, VID_EINVAL (@p client NULL, a name or @p fingerprint
 *         NULL or malformed), VID_EIO (the pins file could not be
 *         written; the old pin stays)
 * @since 0.1
 */
VID_API int vid_client_trust_peer(vid_client *client, const char *user,
                                  const char *device, const char *fingerprint);

/* ====================================================================== */
/* Devices                                                                */
/* ====================================================================== */

/**
 * List the devices of @p kind (GStreamer's device monitor: V4L2 cameras,
 * PulseAudio/PipeWire/ALSA microphones and speakers). An empty list is
 * VID_OK with *n = 0.
 *
 * Needs no client; a failure's text is in vid_client_last_error(NULL).
 *
 * Thread safety: any thread. May take up to a second the first time.
 *
 * @param kind  VID_DEVICE_CAMERA, VID_DEVICE_MICROPHONE or
 *              VID_DEVICE_SPEAKER
 * @param out   receives the array (NULL when empty or on failure); free it
 *              with vid_devices_free()
 * @param n     receives the number of entries (0 on failure)
 * @return VID_OK, VID_EINVAL (@p out or @p n NULL, unknown @p kind),
 *         VID_EMEDIA (GStreamer cannot start or list), VID_ENOMEM
 * @since 0.1
 */
VID_API int vid_devices_list(vid_device_kind kind, vid_device **out, size_t *n);

/**
 * Free a list from vid_devices_list(), strings and modes included.
 *
 * Thread safety: any thread.
 *
 * @param list  the array from vid_devices_list(), or NULL (a no-op)
 * @param n     its number of entries, as vid_devices_list() returned
 * @since 0.1
 */
VID_API void vid_devices_free(vid_device *list, size_t n);

/**
 * Start (@p enable non-zero) or stop reporting hotplug as
 * VID_EVENT_DEVICE_ADDED / VID_EVENT_DEVICE_REMOVED events. Enabling
 * twice, or disabling when not watching, does nothing. Needs no
 * connection; vid_client_free() stops watching.
 *
 * Thread safety: any thread (waits for the client's worker thread).
 *
 * @param client  the client whose events report the changes
 * @param enable  non-zero: start watching; 0: stop
 * @return VID_OK, VID_EINVAL (@p client NULL), VID_EMEDIA (GStreamer's
 *         device monitor cannot start)
 * @since 0.1
 */
VID_API int vid_client_watch_devices(vid_client *client, int enable);

#ifdef __cplusplus
}
#endif

#endif /* VID_VID_H */
