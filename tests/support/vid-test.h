/*
 * vid-test.h — test fixtures shared by the libvid test suites:
 *
 * - vid_test_server: a real vid-signaling-server process on loopback with
 *   free ports, a temporary state directory (SQLite database, generated
 *   certificate) and cheap password hashing (pwhash = min);
 * - vid_test_ws: a raw vid.v1 WebSocket client on libsoup-3 with
 *   synchronous-style helpers that iterate the thread-default GMainContext
 *   (of the thread that connected) until a message arrives or a timeout.
 *
 * The server binary is $VID_SERVER_BIN (set by meson test), else the one
 * in the build tree. $VID_TEST_SERVER_WRAPPER (e.g. "valgrind -q
 * --leak-check=full") is prepended to its command line when set.
 * Failures to set up a fixture abort the test with g_error().
 */
#ifndef VID_TEST_H
#define VID_TEST_H

#include <glib.h>
#include <jansson.h>

G_BEGIN_DECLS

typedef struct vid_test_server vid_test_server;

/* Start a server. @extra_config: GKeyFile text merged over the fixture's
 * config (may be NULL). Returns once the server printed its ready line. */
vid_test_server *vid_test_server_start(const char *extra_config);
/* Create an account (runs "vid-signaling-server user add", password on
 * stdin). Works while the server runs. */
void vid_test_server_add_user(vid_test_server *s, const char *user,
                              const char *password);
/* "wss://127.0.0.1:PORT/" — valid while @s lives. */
const char *vid_test_server_url(vid_test_server *s);
/* PEM file of the generated self-signed certificate (the CA to trust). */
const char *vid_test_server_ca_file(vid_test_server *s);
/* "http://127.0.0.1:PORT" of /healthz and /metrics. */
const char *vid_test_server_admin_url(vid_test_server *s);
/* The config file the server runs with. */
const char *vid_test_server_config_file(vid_test_server *s);
/* SIGTERM, wait for the exit, start again on the same ports and state. */
void vid_test_server_restart(vid_test_server *s);
/* SIGTERM and wait; returns the exit status (0 on a clean shutdown, -1
 * when killed by a signal). The server can be restarted afterwards with
 * vid_test_server_restart(). */
int vid_test_server_terminate(vid_test_server *s);
/* SIGTERM, wait, remove the state directory, free. A non-zero exit
 * status (crash, or valgrind errors under VID_TEST_SERVER_WRAPPER) fails
 * the test. NULL is a no-op. */
void vid_test_server_stop(vid_test_server *s);

/* Run the server binary with --config of @s (when @s is not NULL) and the
 * NULL-terminated arguments, @stdin_text on stdin (may be NULL). Output is
 * returned in @out / @err when not NULL (g_free). Returns the exit
 * status. */
int vid_test_server_run(vid_test_server *s, const char *stdin_text, char **out,
                        char **err, ...) G_GNUC_NULL_TERMINATED;

/* GET @path on the admin address; returns the body (g_free) or NULL, and
 * the HTTP status in @status when not NULL. */
char *vid_test_server_admin_get(vid_test_server *s, const char *path,
                                guint *status);

/* A syntactically valid fingerprint derived from @n (g_free it). */
char *vid_test_fingerprint(guint n);

typedef struct vid_test_ws vid_test_ws;

/* Connect with subprotocol vid.v1, TLS verified against @ca_file. NULL
 * with @error set on failure (TLS error, refused, timeout 10 s). */
vid_test_ws *vid_test_ws_connect(const char *url, const char *ca_file,
                                 GError **error);
/* Connect to the fixture server; g_error on failure. */
vid_test_ws *vid_test_ws_connect_server(vid_test_server *s);
/* Close (if open) and free. NULL is a no-op. */
void vid_test_ws_free(vid_test_ws *ws);

/* Send a text frame. */
void vid_test_ws_send_text(vid_test_ws *ws, const char *text);
/* Send a JSON message; takes the reference. */
void vid_test_ws_send_json(vid_test_ws *ws, json_t *msg);
/* Send @len bytes as one text frame, not necessarily NUL-terminated
 * (libsoup insists on valid UTF-8 in text frames). */
void vid_test_ws_send_raw(vid_test_ws *ws, const void *data, gsize len);
/* Send a binary frame. */
void vid_test_ws_send_binary(vid_test_ws *ws, const void *data, gsize len);

/* The next received message (new reference), or NULL after @timeout_ms
 * or when the connection closed with nothing left. Text that is not JSON
 * fails the test. */
json_t *vid_test_ws_recv(vid_test_ws *ws, guint timeout_ms);
/* The next message, which must have "type" @type (asserted). */
json_t *vid_test_ws_expect(vid_test_ws *ws, const char *type, guint timeout_ms);
/* The next message must be {"type":"error","code":@code}; returns it. */
json_t *vid_test_ws_expect_error(vid_test_ws *ws, const char *code,
                                 guint timeout_ms);
/* Nothing arrives for @ms milliseconds (asserted). */
void vid_test_ws_expect_silence(vid_test_ws *ws, guint ms);
/* Wait until the peer closed; TRUE with the close code in @code (may be
 * NULL), FALSE on timeout. Pending messages are discarded. */
gboolean vid_test_ws_wait_closed(vid_test_ws *ws, guint timeout_ms,
                                 gushort *code);
gboolean vid_test_ws_is_closed(vid_test_ws *ws);
/* Messages received and not yet taken. */
guint vid_test_ws_pending(vid_test_ws *ws);

/* Send login (id @id) and return the reply (welcome or error). */
json_t *vid_test_ws_login(vid_test_ws *ws, json_int_t id, const char *user,
                          const char *password, const char *device,
                          const char *fingerprint);

/* Connect and log in; asserts a welcome. */
vid_test_ws *vid_test_ws_login_server(vid_test_server *s, const char *user,
                                      const char *password, const char *device,
                                      guint fp_seed);

/* Field accessors for assertions. */
const char *vid_test_json_str(const json_t *msg, const char *key);
json_int_t vid_test_json_int(const json_t *msg, const char *key);

G_END_DECLS

#endif
