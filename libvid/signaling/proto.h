/*
 * proto.h — the vid.v1 signaling wire format, shared by the libvid client
 * and vid-signaling-server so that it lives in exactly one place.
 *
 * Pure module: no I/O, no globals that change, no allocation beyond the
 * jansson values it returns. Everything read from the network goes through
 * proto_parse(), which checks size, JSON syntax, the message type, the
 * direction it may travel in and every field of its schema (type, length,
 * character set) before any other code looks at it.
 *
 * Every message is documented with examples in docs/protocol.md; the table
 * in proto.c is the machine-readable form of that page.
 */
#ifndef VID_PROTO_H
#define VID_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#define PROTO_SUBPROTOCOL "vid.v1"
/* Largest text frame either side accepts, in bytes. */
#define PROTO_MAX_FRAME 65536
/* Field limits (bytes). */
#define PROTO_MAX_NAME 64 /* user and device names */
#define PROTO_MAX_PASSWORD 1024
#define PROTO_MAX_SDP 60000
#define PROTO_MAX_CANDIDATE 1024
#define PROTO_MAX_REASON 64
#define PROTO_MAX_CALL_ID 64
#define PROTO_MAX_SUBSCRIBE 256 /* users in one presence.subscribe */
/* "sha-256 " + 32 bytes as colon-separated upper-case hex */
#define PROTO_FINGERPRINT_LEN (8 + 32 * 3 - 1)

typedef enum {
    PROTO_MSG_UNKNOWN = 0,
    PROTO_MSG_LOGIN,
    PROTO_MSG_WELCOME,
    PROTO_MSG_ACK,
    PROTO_MSG_ERROR,
    PROTO_MSG_PRESENCE_SUBSCRIBE,
    PROTO_MSG_PRESENCE,
    PROTO_MSG_CALL_INVITE,
    PROTO_MSG_CALL_RINGING,
    PROTO_MSG_CALL_ACCEPT,
    PROTO_MSG_CALL_REJECT,
    PROTO_MSG_CALL_CANCEL,
    PROTO_MSG_CALL_CANDIDATE,
    PROTO_MSG_CALL_HANGUP,
    PROTO_MSG_COUNT_
} proto_msg_type;

/* Which way a message travels; schemas differ per direction (the server
 * adds the sender's identity to routed call messages). */
typedef enum {
    PROTO_TO_SERVER = 1,
    PROTO_TO_CLIENT = 2,
} proto_direction;

/* Machine error codes carried in {"type":"error","code":...}. Documented
 * in docs/protocol.md; clients map them to VID_E* codes. */
#define PROTO_ERR_BAD_JSON "bad_json"
#define PROTO_ERR_BAD_MESSAGE "bad_message"
#define PROTO_ERR_UNKNOWN_TYPE "unknown_type"
#define PROTO_ERR_TOO_LARGE "too_large"
#define PROTO_ERR_RATE_LIMITED "rate_limited"
#define PROTO_ERR_NOT_LOGGED_IN "not_logged_in"
#define PROTO_ERR_ALREADY_LOGGED_IN "already_logged_in"
#define PROTO_ERR_BAD_CREDENTIALS "bad_credentials"
#define PROTO_ERR_LOGIN_THROTTLED "login_throttled"
#define PROTO_ERR_FINGERPRINT_MISMATCH "fingerprint_mismatch"
#define PROTO_ERR_SESSION_REPLACED "session_replaced"
#define PROTO_ERR_UNKNOWN_USER "unknown_user"
#define PROTO_ERR_CALLEE_OFFLINE "callee_offline"
#define PROTO_ERR_SELF_CALL "self_call"
#define PROTO_ERR_NOT_IN_CALL "not_in_call"
#define PROTO_ERR_BAD_STATE "bad_state"
#define PROTO_ERR_TOO_MANY_CONNECTIONS "too_many_connections"
#define PROTO_ERR_SHUTTING_DOWN "shutting_down"
#define PROTO_ERR_INTERNAL "internal"

/* What went wrong with an incoming frame: a machine code (one of the
 * PROTO_ERR_* strings, static storage) and a human sentence. */
typedef struct {
    const char *code;
    char message[160];
} proto_error;

/* The wire name of a type ("call.invite"), or "unknown". */
const char *proto_type_name(proto_msg_type type);

/* The type for a wire name, or PROTO_MSG_UNKNOWN. */
proto_msg_type proto_type_from_name(const char *name);

/*
 * Parse and validate one text frame.
 *
 * @param data  frame bytes, not necessarily NUL-terminated
 * @param len   length of @data; more than PROTO_MAX_FRAME fails too_large
 * @param dir   the direction the frame travelled in
 * @param out   on success, the message (caller json_decref()s it)
 * @param type  on success, its type
 * @param err   on failure, the machine code and a readable message
 * @return true on success, false with @err filled otherwise. On failure
 *         the request id, if one could be read, is left in *out_id
 *         (0 when none) so that the error reply can carry "re".
 */
bool proto_parse(const char *data, size_t len, proto_direction dir,
                 json_t **out, proto_msg_type *type, json_int_t *out_id,
                 proto_error *err);

/* Validate an already-built message against the schema for @dir.
 * Used by proto_parse() and by tests/builders to check what we send. */
bool proto_validate(const json_t *msg, proto_direction dir,
                    proto_msg_type *type, proto_error *err);

/* Serialize compactly. Returns a malloc()ed NUL-terminated string (free()
 * it) or NULL when it would exceed PROTO_MAX_FRAME. */
char *proto_dump(const json_t *msg, size_t *len_out);

/* Builders for the messages both sides need; each returns a new reference
 * or NULL on allocation failure. */
json_t *proto_error_new(json_int_t re, const char *code, const char *message);
json_t *proto_ack_new(json_int_t re);

/* Names: 1..PROTO_MAX_NAME bytes of [A-Za-z0-9._-], not starting with a
 * dot or dash. */
bool proto_name_valid(const char *name);

/* "sha-256 AB:CD:..." (upper-case hex, 32 bytes). */
bool proto_fingerprint_valid(const char *fp);

#endif /* VID_PROTO_H */
