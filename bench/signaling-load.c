/*
 * signaling-load.c — load generator for vid-signaling-server (and for the
 * Node.js reference relay in bench/reference/, which speaks the same
 * vid.v1 routing).
 *
 * It holds N authenticated TLS WebSocket connections to 127.0.0.1, logging
 * in as <prefix>0 .. <prefix>N-1, pairs them (user 2k calls user 2k+1:
 * call.invite, call.accept) and relays call.candidate messages between the
 * two ends of every call. Each candidate carries its send time
 * (CLOCK_MONOTONIC nanoseconds, taken just before the frame is written) so
 * the receiving connection measures the relay latency.
 *
 * Modes:
 *   idle      connect and log in N, hold them for --duration s, report
 *   rate      ... then pair, relay --rate messages/s in total for --duration s
 *   saturate  ... then pair, each connection keeps --window candidates in
 *             flight to its peer for --duration s (as fast as possible)
 *
 * With --server-pid it reads the server's VmRSS (/proc/PID/status) before
 * the first connection and after all have logged in (RSS per connection),
 * and its utime+stime (/proc/PID/stat, all threads) across the message
 * phase (server CPU per relayed message).
 *
 * One thread, one libuv loop, libwebsockets on that loop. Everything is
 * bounded: connection count, phase durations, the connect/pair timeouts and
 * the number of latency samples kept.
 *
 * Results go to stdout as key=value lines (run-signaling-load.sh parses
 * them); progress and diagnostics go to stderr.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libwebsockets.h>
#include <uv.h>

#define MAX_CONNS 50000
#define MAX_SAMPLES (4u * 1024u * 1024u)
#define RX_MAX 65536
#define TX_MAX 2048
#define PAIR_TIMEOUT_S 60
#define DRAIN_TIMEOUT_S 5

typedef enum {
    MODE_IDLE,
    MODE_RATE,
    MODE_SATURATE,
} bench_mode;

typedef enum {
    C_NEW = 0,
    C_CONNECTING, /* TCP/TLS/WebSocket handshake or login in progress */
    C_READY,      /* logged in */
    C_FAILED,     /* never got to C_READY */
    C_CLOSED,     /* was READY, then the connection went away */
} conn_state;

typedef struct conn {
    struct lws *wsi;
    struct conn *peer;
    unsigned idx;
    conn_state state;
    bool caller;
    bool paired;
    bool active; /* may send candidates */
    uint64_t started_ns;
    json_int_t next_id;
    json_int_t login_id;
    json_int_t invite_id;
    char call[68];
    char *ctl; /* one pending control frame (login, invite, accept) */
    size_t ctl_len;
    unsigned cand_pending; /* rate mode: candidates to send */
    unsigned outstanding;  /* sent to the peer, not yet seen there */
    uint64_t seq;
    char *rx;
    size_t rx_len;
} conn;

typedef struct {
    /* options */
    bench_mode mode;
    unsigned n;
    int port;
    double duration;
    double rate;
    unsigned window;
    unsigned concurrency;
    double connect_timeout;
    double login_timeout;
    unsigned scan_from;
    double next_stale_check;
    double settle;
    long server_pid;
    const char *ca_file;
    const char *server_name;
    bool insecure;
    const char *prefix;
    const char *password;
    const char *device;
    bool verbose;

    /* state */
    uv_loop_t loop;
    uv_timer_t tick;
    struct lws_context *ctx;
    conn *conns;
    unsigned next_conn; /* next index to connect */
    unsigned inflight;
    unsigned ready;
    unsigned failed;
    unsigned closed;
    unsigned pairs_wanted;
    unsigned pairs_ready;
    int phase; /* see PH_* */
    double next_progress;
    uint64_t phase_start_ns;
    uint64_t msg_start_ns;
    uint64_t msg_stop_ns;
    uint64_t last_rx_ns;

    /* rate scheduling */
    conn **act;
    unsigned nact;
    unsigned rr;
    uint64_t scheduled;

    /* counters */
    uint64_t sent;
    uint64_t received;
    uint64_t acks;
    uint64_t errors;
    uint64_t misrouted;
    uint64_t unexpected;
    uint64_t rate_limited;
    char first_error[200];

    /* latency samples (ns) */
    uint64_t *lat;
    uint32_t nlat;
    uint64_t lat_dropped;

    /* server measurements */
    long rss_before_kib;
    long rss_after_kib;
    long rss_end_kib;
    long long cpu_start_ticks;
    long long cpu_end_ticks;
    struct rusage self_start;
    struct rusage self_end;

    int exit_code;
    char txbuf[LWS_PRE + TX_MAX];
} bench;

enum {
    PH_CONNECT,
    PH_SETTLE,
    PH_HOLD,
    PH_PAIR,
    PH_MESSAGES,
    PH_DRAIN,
    PH_DONE,
};

static bench B;

/* All zero: libwebsockets arms no validity (ping/hangup) timer per
 * connection. lws 4.1 keeps all timers in one sorted list, so a timer per
 * connection makes every insert walk all of them; NULL would select a
 * built-in 300 s policy. The bench needs no keepalive of its own (lws
 * answers the server's pings). */
static const lws_retry_bo_t no_validity;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static double secs_since(uint64_t t0)
{
    return (double) (now_ns() - t0) / 1e9;
}

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void logmsg(const char *fmt, ...)
{
    va_list ap;
    fputs("signaling-load: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---- /proc readers ---- */

static long read_rss_kib(long pid)
{
    char path[64];
    char line[256];
    long kib = -1;
    FILE *f;

    if (pid <= 0)
        return -1;
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            char *end;
            errno = 0;
            kib = strtol(line + 6, &end, 10);
            if (errno != 0 || end == line + 6)
                kib = -1;
            break;
        }
    }
    fclose(f);
    return kib;
}

/* utime + stime of the whole process (all threads), in clock ticks. */
static long long read_cpu_ticks(long pid)
{
    char path[64];
    char buf[1024];
    size_t n;
    FILE *f;
    char *p;
    int field;
    long long ut = -1, st = -1;

    if (pid <= 0)
        return -1;
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* comm may contain spaces and parentheses: fields start after the
     * last ')'. Field 3 (state) follows it; utime is 14, stime 15. */
    p = strrchr(buf, ')');
    if (p == NULL)
        return -1;
    p++;
    for (field = 3; field <= 15 && *p != '\0'; field++) {
        char *end;
        while (*p == ' ')
            p++;
        if (field == 14 || field == 15) {
            long long v;
            errno = 0;
            v = strtoll(p, &end, 10);
            if (errno != 0 || end == p)
                return -1;
            if (field == 14)
                ut = v;
            else
                st = v;
            p = end;
        } else {
            while (*p != ' ' && *p != '\0')
                p++;
        }
    }
    if (ut < 0 || st < 0)
        return -1;
    return ut + st;
}

/* ---- sending ---- */

static void conn_queue_ctl(conn *c, const char *fmt, ...)
{
    va_list ap;
    char tmp[TX_MAX];
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t) n >= sizeof tmp) {
        logmsg("internal: control frame too long");
        return;
    }
    free(c->ctl);
    c->ctl = malloc((size_t) n + 1);
    if (c->ctl == NULL) {
        logmsg("out of memory");
        return;
    }
    memcpy(c->ctl, tmp, (size_t) n + 1);
    c->ctl_len = (size_t) n;
    if (c->wsi != NULL)
        lws_callback_on_writable(c->wsi);
}

static void fingerprint_for(unsigned idx, char *out, size_t cap)
{
    size_t off;
    uint32_t x = idx * 2654435761u + 12345u;

    off = (size_t) snprintf(out, cap, "sha-256 ");
    for (int i = 0; i < 32 && off + 3 < cap; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        off += (size_t) snprintf(out + off, cap - off, i ? ":%02X" : "%02X",
                                 (unsigned) (x & 0xff));
    }
}

static void conn_send_login(conn *c)
{
    char fp[128];

    fingerprint_for(c->idx, fp, sizeof fp);
    c->login_id = c->next_id++;
    conn_queue_ctl(c,
                   "{\"type\":\"login\",\"id\":%" JSON_INTEGER_FORMAT
                   ",\"user\":\"%s%u\",\"password\":\"%s\","
                   "\"device\":\"%s\",\"fingerprint\":\"%s\","
                   "\"client\":\"signaling-load\"}",
                   c->login_id, B.prefix, c->idx, B.password, B.device, fp);
}

static bool conn_wants_candidate(const conn *c)
{
    if (!c->active || B.phase != PH_MESSAGES)
        return false;
    if (B.mode == MODE_RATE)
        return c->cand_pending > 0;
    return c->outstanding < B.window;
}

static int conn_writeable(struct lws *wsi, conn *c)
{
    unsigned char *p = (unsigned char *) B.txbuf + LWS_PRE;
    size_t len;
    int m;

    if (c->ctl != NULL) {
        len = c->ctl_len;
        memcpy(p, c->ctl, len);
        free(c->ctl);
        c->ctl = NULL;
    } else if (conn_wants_candidate(c)) {
        int n =
            snprintf((char *) p, TX_MAX,
                     "{\"type\":\"call.candidate\",\"id\":%" JSON_INTEGER_FORMAT
                     ",\"call\":\"%s\",\"candidate\":\"candidate:%u 1 UDP "
                     "2122252543 127.0.0.1 %u typ host generation 0 "
                     "vbseq %" PRIu64 " vbts %" PRIu64
                     "\",\"mid\":\"0\",\"mline_index\":0}",
                     c->next_id++, c->call, c->idx % 1000000u,
                     (unsigned) (50000u + (c->seq % 1000u)), c->seq, now_ns());
        if (n < 0 || n >= TX_MAX)
            return -1;
        len = (size_t) n;
        c->seq++;
        if (B.mode == MODE_RATE)
            c->cand_pending--;
        c->outstanding++;
        B.sent++;
    } else {
        return 0;
    }
    m = lws_write(wsi, p, len, LWS_WRITE_TEXT);
    if (m < (int) len) {
        logmsg("user %u: write failed", c->idx);
        return -1;
    }
    if (c->ctl != NULL || conn_wants_candidate(c))
        lws_callback_on_writable(wsi);
    return 0;
}

/* ---- receiving ---- */

static void note_error(conn *c, const char *code, const char *message)
{
    B.errors++;
    if (code != NULL && strcmp(code, "rate_limited") == 0)
        B.rate_limited++;
    if (B.first_error[0] == '\0')
        snprintf(B.first_error, sizeof B.first_error, "user %u: %s: %s", c->idx,
                 code ? code : "?", message ? message : "");
    if (B.verbose)
        logmsg("user %u: error %s: %s", c->idx, code ? code : "?",
               message ? message : "");
}

static void on_candidate(conn *c, json_t *msg)
{
    const char *cand = json_string_value(json_object_get(msg, "candidate"));
    const char *from = json_string_value(json_object_get(msg, "from"));
    const char *call = json_string_value(json_object_get(msg, "call"));
    const char *ts;
    char want[96];
    uint64_t t_sent, t_now = now_ns();
    conn *sender = c->peer;

    if (sender == NULL || cand == NULL || from == NULL || call == NULL) {
        B.unexpected++;
        return;
    }
    snprintf(want, sizeof want, "%s%u", B.prefix, sender->idx);
    if (strcmp(from, want) != 0 || strcmp(call, c->call) != 0) {
        B.misrouted++;
        return;
    }
    ts = strstr(cand, " vbts ");
    if (ts == NULL) {
        B.unexpected++;
        return;
    }
    errno = 0;
    t_sent = strtoull(ts + 6, NULL, 10);
    if (errno != 0 || t_sent == 0 || t_sent > t_now) {
        B.unexpected++;
        return;
    }
    B.received++;
    B.last_rx_ns = t_now;
    if (B.nlat < MAX_SAMPLES)
        B.lat[B.nlat++] = t_now - t_sent;
    else
        B.lat_dropped++;
    if (sender->outstanding > 0)
        sender->outstanding--;
    if (B.mode == MODE_SATURATE && sender->wsi != NULL &&
        conn_wants_candidate(sender))
        lws_callback_on_writable(sender->wsi);
}

static void handle_message(conn *c, const char *data, size_t len)
{
    json_error_t jerr;
    json_t *msg = json_loadb(data, len, 0, &jerr);
    const char *type;
    json_int_t re;

    if (msg == NULL || !json_is_object(msg)) {
        B.unexpected++;
        if (B.verbose)
            logmsg("user %u: not a JSON object: %s", c->idx, jerr.text);
        json_decref(msg);
        return;
    }
    type = json_string_value(json_object_get(msg, "type"));
    re = json_integer_value(json_object_get(msg, "re"));
    if (type == NULL) {
        B.unexpected++;
    } else if (strcmp(type, "call.candidate") == 0) {
        on_candidate(c, msg);
    } else if (strcmp(type, "ack") == 0) {
        B.acks++;
        if (re == c->invite_id && c->caller) {
            const char *call = json_string_value(json_object_get(msg, "call"));
            if (call != NULL && strlen(call) < sizeof c->call)
                snprintf(c->call, sizeof c->call, "%s", call);
            else
                B.unexpected++;
        }
    } else if (strcmp(type, "welcome") == 0 && re == c->login_id &&
               c->state == C_CONNECTING) {
        c->state = C_READY;
        B.ready++;
        B.inflight--;
    } else if (strcmp(type, "error") == 0) {
        const char *code = json_string_value(json_object_get(msg, "code"));
        note_error(c, code, json_string_value(json_object_get(msg, "message")));
        if (re == c->login_id && c->state == C_CONNECTING) {
            c->state = C_FAILED;
            B.failed++;
            B.inflight--;
        }
    } else if (strcmp(type, "call.invite") == 0 && !c->caller &&
               B.phase == PH_PAIR && c->peer != NULL) {
        const char *call = json_string_value(json_object_get(msg, "call"));
        if (call == NULL || strlen(call) >= sizeof c->call) {
            B.unexpected++;
        } else {
            snprintf(c->call, sizeof c->call, "%s", call);
            conn_queue_ctl(
                c,
                "{\"type\":\"call.accept\",\"id\":%" JSON_INTEGER_FORMAT
                ",\"call\":\"%s\",\"sdp\":\"v=0\\r\\no=- %u 1 IN "
                "IP4 127.0.0.1\\r\\ns=-\\r\\nt=0 0\\r\\n\"}",
                c->next_id++, c->call, c->idx);
        }
    } else if (strcmp(type, "call.accept") == 0 && c->caller && !c->paired &&
               c->peer != NULL) {
        const char *call = json_string_value(json_object_get(msg, "call"));
        if (call == NULL || strcmp(call, c->call) != 0) {
            B.misrouted++;
        } else {
            c->paired = true;
            c->peer->paired = true;
            snprintf(c->peer->call, sizeof c->peer->call, "%s", c->call);
            B.pairs_ready++;
        }
    } else {
        B.unexpected++;
        if (B.verbose)
            logmsg("user %u: unexpected %s", c->idx, type);
    }
    json_decref(msg);
}

static int conn_receive(struct lws *wsi, conn *c, const void *in, size_t len)
{
    bool final =
        lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0;

    if (c->rx == NULL && final) {
        handle_message(c, in, len);
        return 0;
    }
    if (c->rx_len + len > RX_MAX) {
        logmsg("user %u: frame over %d bytes", c->idx, RX_MAX);
        return -1;
    }
    if (c->rx == NULL) {
        c->rx = malloc(RX_MAX);
        if (c->rx == NULL)
            return -1;
    }
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (final) {
        handle_message(c, c->rx, c->rx_len);
        free(c->rx);
        c->rx = NULL;
        c->rx_len = 0;
    }
    return 0;
}

static void conn_failed(conn *c, const char *why)
{
    if (c->state == C_CONNECTING) {
        c->state = C_FAILED;
        B.failed++;
        B.inflight--;
        if (B.first_error[0] == '\0')
            snprintf(B.first_error, sizeof B.first_error,
                     "user %u: connection failed: %s", c->idx, why ? why : "?");
        if (B.verbose)
            logmsg("user %u: connection failed: %s", c->idx, why ? why : "?");
    } else if (c->state == C_READY) {
        c->state = C_CLOSED;
        B.closed++;
        if (B.first_error[0] == '\0')
            snprintf(B.first_error, sizeof B.first_error,
                     "user %u: connection closed by the server", c->idx);
    }
    c->wsi = NULL;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
                    void *user, void *in, size_t len)
{
    conn *c = lws_get_opaque_user_data(wsi);

    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (c != NULL)
            conn_failed(c, in ? (const char *) in : "connection error");
        break;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (c == NULL)
            return -1;
        c->wsi = wsi;
        conn_send_login(c);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (c == NULL)
            return -1;
        return conn_receive(wsi, c, in, len);
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (c == NULL)
            return -1;
        return conn_writeable(wsi, c);
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        if (c != NULL && c->wsi == wsi)
            conn_failed(c, "closed");
        else if (c != NULL && c->state == C_CONNECTING &&
                 reason == LWS_CALLBACK_CLIENT_CLOSED)
            conn_failed(c, "closed during the handshake");
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"vid.v1", callback, 0, 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void conn_start(conn *c)
{
    struct lws_client_connect_info ci;
    struct lws *wsi;

    memset(&ci, 0, sizeof ci);
    ci.context = B.ctx;
    ci.address = "127.0.0.1";
    ci.port = B.port;
    ci.path = "/";
    ci.host = B.server_name;
    ci.origin = B.server_name;
    ci.protocol = "vid.v1";
    ci.local_protocol_name = "vid.v1";
    ci.ietf_version_or_minus_one = -1;
    ci.ssl_connection = LCCSCF_USE_SSL;
    if (B.insecure)
        ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED |
                             LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                             LCCSCF_ALLOW_INSECURE | LCCSCF_ALLOW_EXPIRED;
    ci.opaque_user_data = c;
    ci.retry_and_idle_policy = &no_validity;
    c->state = C_CONNECTING;
    c->started_ns = now_ns();
    c->next_id = 1;
    B.inflight++;
    wsi = lws_client_connect_via_info(&ci);
    if (wsi == NULL && c->state == C_CONNECTING)
        conn_failed(c, "lws_client_connect_via_info failed");
}

/* ---- phases ---- */

static void enter_phase(int ph)
{
    B.phase = ph;
    B.phase_start_ns = now_ns();
}

static void start_pairing(void)
{
    unsigned i;

    enter_phase(PH_PAIR);
    for (i = 0; i + 1 < B.n; i += 2) {
        conn *a = &B.conns[i], *b = &B.conns[i + 1];
        if (a->state != C_READY || b->state != C_READY)
            continue;
        a->peer = b;
        b->peer = a;
        a->caller = true;
        B.pairs_wanted++;
        a->invite_id = a->next_id++;
        conn_queue_ctl(a,
                       "{\"type\":\"call.invite\",\"id\":%" JSON_INTEGER_FORMAT
                       ",\"to\":\"%s%u\",\"sdp\":\"v=0\\r\\no=- %u 1 IN IP4 "
                       "127.0.0.1\\r\\ns=-\\r\\nt=0 0\\r\\n\"}",
                       a->invite_id, B.prefix, b->idx, a->idx);
    }
    logmsg("pairing %u calls", B.pairs_wanted);
}

static void start_messages(void)
{
    unsigned i;

    B.nact = 0;
    for (i = 0; i < B.n; i++) {
        conn *c = &B.conns[i];
        if (c->paired && c->state == C_READY && c->wsi != NULL) {
            c->active = true;
            B.act[B.nact++] = c;
        }
    }
    logmsg("%u calls up; relaying for %.1f s (%s)", B.pairs_ready, B.duration,
           B.mode == MODE_RATE ? "fixed rate" : "saturate");
    enter_phase(PH_MESSAGES);
    B.cpu_start_ticks = read_cpu_ticks(B.server_pid);
    getrusage(RUSAGE_SELF, &B.self_start);
    B.msg_start_ns = B.phase_start_ns;
    if (B.mode == MODE_SATURATE) {
        for (i = 0; i < B.nact; i++)
            lws_callback_on_writable(B.act[i]->wsi);
    }
}

static void finish(void)
{
    enter_phase(PH_DONE);
    uv_timer_stop(&B.tick);
    uv_stop(&B.loop);
}

static void schedule_rate(void)
{
    double el = secs_since(B.msg_start_ns);
    uint64_t due = (uint64_t) (el * B.rate);

    if (B.nact == 0)
        return;
    /* Never let a stalled loop build an unbounded burst: at most one
     * second's worth per tick. */
    if (due > B.scheduled + (uint64_t) B.rate + 1)
        B.scheduled = due - (uint64_t) B.rate - 1;
    while (B.scheduled < due) {
        conn *c = B.act[B.rr++ % B.nact];
        B.scheduled++;
        if (c->wsi == NULL || c->state != C_READY)
            continue;
        c->cand_pending++;
        if (c->cand_pending == 1)
            lws_callback_on_writable(c->wsi);
    }
}

/* Connections that got no welcome (or error) within --login-timeout
 * count as failed, so that a server that loses a login cannot stall the
 * run until --connect-timeout. Called once a second. */
static void expire_stale(void)
{
    uint64_t now = now_ns();
    uint64_t limit = (uint64_t) (B.login_timeout * 1e9);

    while (B.scan_from < B.next_conn &&
           B.conns[B.scan_from].state != C_CONNECTING)
        B.scan_from++;
    for (unsigned i = B.scan_from; i < B.next_conn; i++) {
        conn *c = &B.conns[i];
        struct lws *wsi = c->wsi;
        if (c->state != C_CONNECTING || now - c->started_ns < limit)
            continue;
        conn_failed(c, "no answer to the login in time");
        if (wsi != NULL)
            lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
}

static void on_tick(uv_timer_t *t)
{
    double el = secs_since(B.phase_start_ns);

    switch (B.phase) {
    case PH_CONNECT:
        while (B.next_conn < B.n && B.inflight < B.concurrency)
            conn_start(&B.conns[B.next_conn++]);
        if (el >= B.next_stale_check) {
            expire_stale();
            B.next_stale_check = el + 1;
        }
        if (el >= B.next_progress) {
            if (B.next_progress > 0)
                logmsg("... %.0f s: %u logged in, %u failed, %u in flight", el,
                       B.ready, B.failed, B.inflight);
            B.next_progress += 5;
        }
        if (B.next_conn == B.n && B.inflight == 0) {
            logmsg("%u connections logged in, %u failed (%.1f s)", B.ready,
                   B.failed, el);
            enter_phase(PH_SETTLE);
        } else if (el > B.connect_timeout) {
            logmsg("connect phase timed out after %.0f s (%u logged in)", el,
                   B.ready);
            B.exit_code = 1;
            enter_phase(PH_SETTLE);
        }
        break;
    case PH_SETTLE:
        if (el >= B.settle) {
            B.rss_after_kib = read_rss_kib(B.server_pid);
            if (B.mode == MODE_IDLE) {
                logmsg("holding %u connections for %.1f s", B.ready,
                       B.duration);
                enter_phase(PH_HOLD);
                B.msg_start_ns = B.phase_start_ns;
                B.cpu_start_ticks = read_cpu_ticks(B.server_pid);
            } else {
                start_pairing();
            }
        }
        break;
    case PH_HOLD:
        if (el >= B.duration) {
            B.cpu_end_ticks = read_cpu_ticks(B.server_pid);
            B.msg_stop_ns = now_ns();
            B.rss_end_kib = read_rss_kib(B.server_pid);
            finish();
        }
        break;
    case PH_PAIR:
        if (B.pairs_ready == B.pairs_wanted) {
            start_messages();
        } else if (el > PAIR_TIMEOUT_S) {
            logmsg("only %u of %u calls set up after %d s", B.pairs_ready,
                   B.pairs_wanted, PAIR_TIMEOUT_S);
            B.exit_code = 1;
            start_messages();
        }
        break;
    case PH_MESSAGES:
        if (el >= B.duration) {
            B.msg_stop_ns = now_ns();
            enter_phase(PH_DRAIN);
        } else if (B.mode == MODE_RATE) {
            schedule_rate();
        }
        break;
    case PH_DRAIN:
        if (B.received >= B.sent || el > DRAIN_TIMEOUT_S) {
            B.cpu_end_ticks = read_cpu_ticks(B.server_pid);
            getrusage(RUSAGE_SELF, &B.self_end);
            B.rss_end_kib = read_rss_kib(B.server_pid);
            finish();
        }
        break;
    default:
        break;
    }
}

/* ---- report ---- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

static double pct_ms(double p)
{
    size_t i;
    if (B.nlat == 0)
        return -1;
    i = (size_t) (p * (double) (B.nlat - 1) + 0.5);
    return (double) B.lat[i] / 1e6;
}

static double tv_s(struct timeval tv)
{
    return (double) tv.tv_sec + (double) tv.tv_usec / 1e6;
}

static void report(void)
{
    const char *mode = B.mode == MODE_IDLE   ? "idle"
                       : B.mode == MODE_RATE ? "rate"
                                             : "saturate";
    long tck = sysconf(_SC_CLK_TCK);

    printf("mode=%s\n", mode);
    printf("connections_target=%u\n", B.n);
    printf("connections_held=%u\n", B.ready - B.closed);
    printf("connections_failed=%u\n", B.failed);
    printf("connections_dropped=%u\n", B.closed);
    if (B.server_pid > 0) {
        printf("server_rss_before_kib=%ld\n", B.rss_before_kib);
        printf("server_rss_after_kib=%ld\n", B.rss_after_kib);
        printf("server_rss_end_kib=%ld\n", B.rss_end_kib);
        if (B.ready > 0 && B.rss_after_kib > 0 && B.rss_before_kib > 0)
            printf("server_rss_per_conn_kib=%.2f\n",
                   (double) (B.rss_after_kib - B.rss_before_kib) /
                       (double) B.ready);
    }
    if (B.mode == MODE_IDLE && B.server_pid > 0 && B.cpu_start_ticks >= 0 &&
        B.cpu_end_ticks >= 0 && tck > 0 && B.msg_stop_ns > B.msg_start_ns) {
        /* keepalive and timer work while nothing is sent */
        printf("hold_s=%.2f\n",
               (double) (B.msg_stop_ns - B.msg_start_ns) / 1e9);
        printf("server_cpu_s=%.2f\n",
               (double) (B.cpu_end_ticks - B.cpu_start_ticks) / (double) tck);
    }
    if (B.mode != MODE_IDLE) {
        uint64_t last =
            B.last_rx_ns > B.msg_stop_ns ? B.last_rx_ns : B.msg_stop_ns;
        double span = B.msg_start_ns > 0 && last > B.msg_start_ns
                          ? (double) (last - B.msg_start_ns) / 1e9
                          : 0;
        double cli;
        printf("calls=%u\n", B.pairs_ready);
        printf("messages_sent=%" PRIu64 "\n", B.sent);
        printf("messages_relayed=%" PRIu64 "\n", B.received);
        printf("messages_lost=%" PRIu64 "\n",
               B.sent > B.received ? B.sent - B.received : 0);
        if (span > 0)
            printf("messages_per_s=%.1f\n", (double) B.received / span);
        qsort(B.lat, B.nlat, sizeof B.lat[0], cmp_u64);
        if (B.nlat > 0) {
            printf("latency_p50_ms=%.3f\n", pct_ms(0.50));
            printf("latency_p99_ms=%.3f\n", pct_ms(0.99));
            printf("latency_max_ms=%.3f\n", pct_ms(1.0));
        }
        if (B.lat_dropped > 0)
            printf("latency_samples_dropped=%" PRIu64 "\n", B.lat_dropped);
        if (B.server_pid > 0 && B.cpu_start_ticks >= 0 &&
            B.cpu_end_ticks >= 0 && tck > 0) {
            double cpu =
                (double) (B.cpu_end_ticks - B.cpu_start_ticks) / (double) tck;
            printf("server_cpu_s=%.2f\n", cpu);
            if (B.received > 0)
                printf("server_cpu_us_per_msg=%.2f\n",
                       cpu * 1e6 / (double) B.received);
        }
        cli = tv_s(B.self_end.ru_utime) + tv_s(B.self_end.ru_stime) -
              tv_s(B.self_start.ru_utime) - tv_s(B.self_start.ru_stime);
        printf("client_cpu_s=%.2f\n", cli);
        printf("message_phase_s=%.2f\n", span);
    }
    printf("acks=%" PRIu64 "\n", B.acks);
    printf("errors=%" PRIu64 "\n", B.errors);
    printf("rate_limited=%" PRIu64 "\n", B.rate_limited);
    printf("misrouted=%" PRIu64 "\n", B.misrouted);
    printf("unexpected=%" PRIu64 "\n", B.unexpected);
    if (B.first_error[0] != '\0')
        logmsg("first problem: %s", B.first_error);
}

/* ---- options ---- */

static void usage(FILE *f)
{
    fputs(
        "usage: signaling-load --port PORT (--ca FILE | --insecure) [options]\n"
        "\n"
        "Holds N authenticated vid.v1 WebSocket/TLS connections to\n"
        "127.0.0.1:PORT (users PREFIX0..PREFIX<N-1>, one password), pairs\n"
        "them into calls and relays call.candidate messages, measuring relay\n"
        "latency and, with --server-pid, the server's RSS and CPU time.\n"
        "\n"
        "  --mode idle|rate|saturate  (default idle)\n"
        "  -n, --connections N        connections (2..50000, default 100)\n"
        "  --port PORT                server port on 127.0.0.1 (required)\n"
        "  --duration S               hold / message phase seconds "
        "(default 10, max 3600)\n"
        "  --rate R                   rate mode: total messages/s "
        "(default 2000)\n"
        "  --window W                 saturate mode: candidates in flight "
        "per\n"
        "                             connection (default 8)\n"
        "  --concurrency C            handshakes+logins in flight "
        "(default 100)\n"
        "  --connect-timeout S        give up connecting after S s "
        "(default 300)\n"
        "  --login-timeout S          a connection without welcome after S s\n"
        "                             counts as failed (default 60)\n"
        "  --settle S                 wait before reading RSS after the last\n"
        "                             login (default 2)\n"
        "  --server-pid PID           read VmRSS and CPU time of PID\n"
        "  --ca FILE                  verify the server certificate with FILE\n"
        "  --server-name NAME         TLS name / Host header "
        "(default localhost)\n"
        "  --insecure                 do not verify the certificate\n"
        "  --user-prefix P            user names P0..P<N-1> (default bench)\n"
        "  --password PW              password of every bench user\n"
        "                             (default bench-password)\n"
        "  --device NAME              device name (default load)\n"
        "  -v, --verbose              log every error\n"
        "  -h, --help                 this text\n"
        "\n"
        "Results are printed to stdout as key=value lines. Exit status 0 when\n"
        "every connection logged in and every call was set up, 1 otherwise,\n"
        "2 on bad arguments.\n",
        f);
}

static bool parse_uint(const char *s, unsigned long min, unsigned long max,
                       unsigned long *out)
{
    char *end;
    unsigned long v;

    if (s == NULL || *s == '\0' || *s == '-')
        return false;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_double(const char *s, double min, double max, double *out)
{
    char *end;
    double v;

    if (s == NULL || *s == '\0')
        return false;
    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !(v >= min && v <= max))
        return false;
    *out = v;
    return true;
}

static bool name_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '_' ||
                  (i > 0 && (ch == '.' || ch == '-'));
        if (!ok)
            return false;
    }
    return true;
}

static int parse_args(int argc, char **argv)
{
    unsigned long u;

    B.mode = MODE_IDLE;
    B.n = 100;
    B.duration = 10;
    B.rate = 2000;
    B.window = 8;
    B.concurrency = 100;
    B.connect_timeout = 300;
    B.login_timeout = 60;
    B.settle = 2;
    B.prefix = "bench";
    B.password = "bench-password";
    B.device = "load";
    B.server_name = "localhost";

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool val = true;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(a, "--insecure") == 0) {
            B.insecure = true;
            val = false;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            B.verbose = true;
            val = false;
        } else if (v == NULL) {
            fprintf(stderr,
                    "signaling-load: %s needs a value (or unknown "
                    "option)\n",
                    a);
            return -1;
        } else if (strcmp(a, "--mode") == 0) {
            if (strcmp(v, "idle") == 0)
                B.mode = MODE_IDLE;
            else if (strcmp(v, "rate") == 0)
                B.mode = MODE_RATE;
            else if (strcmp(v, "saturate") == 0)
                B.mode = MODE_SATURATE;
            else {
                fprintf(stderr, "signaling-load: --mode must be idle, rate "
                                "or saturate\n");
                return -1;
            }
        } else if (strcmp(a, "-n") == 0 || strcmp(a, "--connections") == 0) {
            if (!parse_uint(v, 2, MAX_CONNS, &u))
                goto bad;
            B.n = (unsigned) u;
        } else if (strcmp(a, "--port") == 0) {
            if (!parse_uint(v, 1, 65535, &u))
                goto bad;
            B.port = (int) u;
        } else if (strcmp(a, "--duration") == 0) {
            if (!parse_double(v, 0, 3600, &B.duration))
                goto bad;
        } else if (strcmp(a, "--rate") == 0) {
            if (!parse_double(v, 1, 1e6, &B.rate))
                goto bad;
        } else if (strcmp(a, "--window") == 0) {
            if (!parse_uint(v, 1, 1024, &u))
                goto bad;
            B.window = (unsigned) u;
        } else if (strcmp(a, "--concurrency") == 0) {
            if (!parse_uint(v, 1, 5000, &u))
                goto bad;
            B.concurrency = (unsigned) u;
        } else if (strcmp(a, "--connect-timeout") == 0) {
            if (!parse_double(v, 1, 3600, &B.connect_timeout))
                goto bad;
        } else if (strcmp(a, "--login-timeout") == 0) {
            if (!parse_double(v, 1, 3600, &B.login_timeout))
                goto bad;
        } else if (strcmp(a, "--settle") == 0) {
            if (!parse_double(v, 0, 600, &B.settle))
                goto bad;
        } else if (strcmp(a, "--server-pid") == 0) {
            if (!parse_uint(v, 1, LONG_MAX, &u))
                goto bad;
            B.server_pid = (long) u;
        } else if (strcmp(a, "--ca") == 0) {
            B.ca_file = v;
        } else if (strcmp(a, "--server-name") == 0) {
            B.server_name = v;
        } else if (strcmp(a, "--user-prefix") == 0) {
            if (!name_ok(v, 48))
                goto bad;
            B.prefix = v;
        } else if (strcmp(a, "--password") == 0) {
            if (strlen(v) == 0 || strlen(v) > 256 || strchr(v, '"') ||
                strchr(v, '\\'))
                goto bad;
            B.password = v;
        } else if (strcmp(a, "--device") == 0) {
            if (!name_ok(v, 64))
                goto bad;
            B.device = v;
        } else {
            fprintf(stderr, "signaling-load: unknown option %s (see --help)\n",
                    a);
            return -1;
        }
        if (val)
            i++;
        continue;
    bad:
        fprintf(stderr, "signaling-load: bad value for %s: '%s'\n", a, v);
        return -1;
    }
    if (B.port == 0) {
        fprintf(stderr, "signaling-load: --port is required (see --help)\n");
        return -1;
    }
    if (B.ca_file == NULL && !B.insecure) {
        fprintf(stderr, "signaling-load: give --ca FILE or --insecure\n");
        return -1;
    }
    if (B.ca_file != NULL && access(B.ca_file, R_OK) != 0) {
        fprintf(stderr, "signaling-load: cannot read CA file %s: %s\n",
                B.ca_file, strerror(errno));
        return -1;
    }
    if (B.server_pid > 0 && read_rss_kib(B.server_pid) < 0) {
        fprintf(stderr, "signaling-load: cannot read /proc/%ld/status\n",
                B.server_pid);
        return -1;
    }
    if (B.mode != MODE_IDLE && B.n % 2 != 0)
        logmsg("odd connection count: the last connection has no peer");
    return 0;
}

int main(int argc, char **argv)
{
    struct lws_context_creation_info info;
    void *loops[1];
    struct rlimit rl;

    if (parse_args(argc, argv) != 0)
        return 2;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < B.n + 64u) {
        rlim_t want = B.n + 64u;
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
            fprintf(stderr,
                    "signaling-load: %u connections need %lu file "
                    "descriptors; the hard limit is %lu (ulimit -Hn)\n",
                    B.n, (unsigned long) want, (unsigned long) rl.rlim_max);
            return 2;
        }
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            fprintf(stderr, "signaling-load: setrlimit: %s\n", strerror(errno));
            return 2;
        }
    }

    B.conns = calloc(B.n, sizeof *B.conns);
    B.act = calloc(B.n, sizeof *B.act);
    B.lat = malloc(MAX_SAMPLES * sizeof *B.lat);
    if (B.conns == NULL || B.act == NULL || B.lat == NULL) {
        fprintf(stderr, "signaling-load: out of memory\n");
        return 1;
    }
    for (unsigned i = 0; i < B.n; i++)
        B.conns[i].idx = i;

    lws_set_log_level(LLL_ERR, NULL);
    if (uv_loop_init(&B.loop) != 0) {
        fprintf(stderr, "signaling-load: uv_loop_init failed\n");
        return 1;
    }
    loops[0] = &B.loop;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.options =
        LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.foreign_loops = loops;
    info.client_ssl_ca_filepath = B.ca_file;
    /* fd_limit_per_thread stays 0: a limit below the process's fd limit
     * makes lws 4.1 look connections up by a linear scan on every event. */
    info.retry_and_idle_policy = &no_validity;
    B.ctx = lws_create_context(&info);
    if (B.ctx == NULL) {
        fprintf(stderr, "signaling-load: lws_create_context failed (is the "
                        "libuv event library plugin installed?)\n");
        return 1;
    }

    B.rss_before_kib = read_rss_kib(B.server_pid);
    B.cpu_start_ticks = -1;
    B.cpu_end_ticks = -1;
    uv_timer_init(&B.loop, &B.tick);
    uv_timer_start(&B.tick, on_tick, 1, 1);
    logmsg("connecting %u to 127.0.0.1:%d (%s)", B.n, B.port,
           B.mode == MODE_IDLE   ? "idle"
           : B.mode == MODE_RATE ? "rate"
                                 : "saturate");
    enter_phase(PH_CONNECT);
    uv_run(&B.loop, UV_RUN_DEFAULT);

    report();
    if (B.failed > 0 || B.closed > 0 || B.ready < B.n)
        B.exit_code = 1;
    if (B.mode != MODE_IDLE && B.pairs_ready < B.n / 2)
        B.exit_code = 1;
    fflush(stdout);

    uv_close((uv_handle_t *) &B.tick, NULL);
    lws_context_destroy(B.ctx);
    /* let libwebsockets' handles on the foreign loop close */
    uv_run(&B.loop, UV_RUN_DEFAULT);
    uv_loop_close(&B.loop);
    for (unsigned i = 0; i < B.n; i++) {
        free(B.conns[i].ctl);
        free(B.conns[i].rx);
    }
    free(B.conns);
    free(B.act);
    free(B.lat);
    return B.exit_code;
}
