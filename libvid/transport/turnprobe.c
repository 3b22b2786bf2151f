/*
 * turnprobe.c — tells "TURN refused us" from "TURN unreachable" when ICE
 * ended up without a relayed candidate (libnice does not say why). Sends
 * one TURN Allocate (RFC 5766) over UDP or TCP, answers the 401 challenge
 * once with the long-term credential, and reports: success (and releases
 * the allocation), an error response (refused, with its code), or silence
 * (unreachable). Runs on the caller's GMainContext; never blocks.
 */
#include <string.h>

#include <gio/gio.h>
#include <stun/stunagent.h>
#include <stun/usages/turn.h>

#include "transport-private.h"

#define PROBE_RTO_MS 250
#define PROBE_TRIES 4 /* 250 + 500 + 1000 + 2000 ms */
#define PROBE_BUF 1500

struct turn_probe {
    GMainContext *ctx;
    GSocket *sock;
    GSocketAddress *server;
    GSource *io;
    GSource *timer;
    bool tcp;
    bool connected; /* TCP: connect finished */
    bool authed;    /* credentials already sent */
    unsigned tries;
    unsigned rto;
    StunAgent agent;
    StunMessage req;
    uint8_t req_buf[PROBE_BUF];
    size_t req_len;
    uint8_t resp_buf[PROBE_BUF];
    size_t resp_have; /* TCP reassembly */
    char *user, *pass;
    turn_probe_done done;
    void *ud;
    bool finished;
};

static const uint16_t known_attrs[] = {
    STUN_ATTRIBUTE_MAPPED_ADDRESS,
    STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS,
    STUN_ATTRIBUTE_XOR_RELAYED_ADDRESS,
    STUN_ATTRIBUTE_USERNAME,
    STUN_ATTRIBUTE_MESSAGE_INTEGRITY,
    STUN_ATTRIBUTE_ERROR_CODE,
    STUN_ATTRIBUTE_UNKNOWN_ATTRIBUTES,
    STUN_ATTRIBUTE_REALM,
    STUN_ATTRIBUTE_NONCE,
    STUN_ATTRIBUTE_LIFETIME,
    STUN_ATTRIBUTE_REQUESTED_TRANSPORT,
    0,
};

static void finish(turn_probe *p, transport_failure result, const char *detail)
{
    if (p->finished)
        return;
    p->finished = true;
    if (p->timer != NULL) {
        g_source_destroy(p->timer);
        g_source_unref(p->timer);
        p->timer = NULL;
    }
    if (p->io != NULL) {
        g_source_destroy(p->io);
        g_source_unref(p->io);
        p->io = NULL;
    }
    p->done(result, detail, p->ud);
}

static void build_request(turn_probe *p, StunMessage *challenge)
{
    p->req_len = stun_usage_turn_create(
        &p->agent, &p->req, p->req_buf, sizeof p->req_buf, challenge,
        STUN_USAGE_TURN_REQUEST_PORT_NORMAL, -1, -1, (uint8_t *) p->user,
        strlen(p->user), (uint8_t *) p->pass, strlen(p->pass),
        STUN_USAGE_TURN_COMPATIBILITY_RFC5766);
}

static void send_request(turn_probe *p)
{
    GError *err = NULL;
    if (p->req_len == 0)
        return;
    gssize n = p->tcp ? g_socket_send(p->sock, (const gchar *) p->req_buf,
                                      p->req_len, NULL, &err)
                      : g_socket_send_to(p->sock, p->server,
                                         (const gchar *) p->req_buf, p->req_len,
                                         NULL, &err);
    if (n < 0) {
        /* ICMP errors and refused connections read as unreachable. */
        g_clear_error(&err);
    }
}

/* Releases an allocation we just made (Refresh, lifetime 0). */
static void release(turn_probe *p, StunMessage *resp)
{
    StunMessage msg;
    uint8_t buf[PROBE_BUF];
    size_t n = stun_usage_turn_create_refresh(
        &p->agent, &msg, buf, sizeof buf, resp, 0, (uint8_t *) p->user,
        strlen(p->user), (uint8_t *) p->pass, strlen(p->pass),
        STUN_USAGE_TURN_COMPATIBILITY_RFC5766);
    if (n > 0) {
        if (p->tcp)
            (void) g_socket_send(p->sock, (const gchar *) buf, n, NULL, NULL);
        else
            (void) g_socket_send_to(p->sock, p->server, (const gchar *) buf, n,
                                    NULL, NULL);
    }
}

static void handle_response(turn_probe *p, const uint8_t *buf, size_t len)
{
    StunMessage resp;
    StunValidationStatus v =
        stun_agent_validate(&p->agent, &resp, buf, len, NULL, NULL);
    if (v == STUN_VALIDATION_UNMATCHED_RESPONSE ||
        v == STUN_VALIDATION_NOT_STUN || v == STUN_VALIDATION_INCOMPLETE_STUN)
        return;
    struct sockaddr_storage relay, mapped, alt;
    socklen_t rl = sizeof relay, ml = sizeof mapped, al = sizeof alt;
    uint32_t bw = 0, life = 0;
    StunUsageTurnReturn r = stun_usage_turn_process(
        &resp, &relay, &rl, &mapped, &ml, &alt, &al, &bw, &life,
        STUN_USAGE_TURN_COMPATIBILITY_RFC5766);
    if (r == STUN_USAGE_TURN_RETURN_RELAY_SUCCESS ||
        r == STUN_USAGE_TURN_RETURN_MAPPED_SUCCESS) {
        release(p, &resp);
        finish(p, TRANSPORT_FAIL_NONE, "");
        return;
    }
    int code = 0;
    if (stun_message_find_error(&resp, &code) != STUN_MESSAGE_RETURN_SUCCESS)
        code = 0;
    if ((code == 401 || code == 438) && !p->authed) {
        /* The normal challenge: answer with realm + nonce + credential. */
        p->authed = true;
        build_request(p, &resp);
        p->tries = 0;
        p->rto = PROBE_RTO_MS;
        send_request(p);
        return;
    }
    char detail[96];
    g_snprintf(detail, sizeof detail, "TURN server answered error %d%s", code,
               code == 401   ? " (credentials rejected)"
               : code == 403 ? " (forbidden)"
               : code == 486 ? " (allocation quota reached)"
                             : "");
    finish(p, TRANSPORT_FAIL_ICE_TURN_REFUSED, detail);
}

static gboolean on_io(GSocket *sock, GIOCondition cond, gpointer ud)
{
    turn_probe *p = ud;
    (void) sock;
    if (p->tcp && !p->connected) {
        if (!(cond & (G_IO_OUT | G_IO_ERR | G_IO_HUP)))
            return G_SOURCE_CONTINUE;
        GError *err = NULL;
        if (!g_socket_check_connect_result(p->sock, &err)) {
            char detail[160];
            g_snprintf(detail, sizeof detail, "TURN TCP connect failed: %s",
                       err->message);
            g_clear_error(&err);
            finish(p, TRANSPORT_FAIL_ICE_TURN_UNREACHABLE, detail);
            return G_SOURCE_REMOVE;
        }
        p->connected = true;
        /* Swap to a read source. */
        g_source_unref(p->io);
        p->io = g_socket_create_source(p->sock, G_IO_IN | G_IO_ERR | G_IO_HUP,
                                       NULL);
        g_source_set_callback(p->io, (GSourceFunc) (void (*)(void)) on_io, p,
                              NULL);
        g_source_attach(p->io, p->ctx);
        send_request(p);
        return G_SOURCE_REMOVE;
    }
    for (;;) {
        GError *err = NULL;
        gssize n;
        if (p->tcp) {
            if (p->resp_have >= sizeof p->resp_buf) {
                finish(p, TRANSPORT_FAIL_ICE_TURN_REFUSED,
                       "oversized TURN response");
                return G_SOURCE_REMOVE;
            }
            n = g_socket_receive(p->sock, (gchar *) p->resp_buf + p->resp_have,
                                 sizeof p->resp_buf - p->resp_have, NULL, &err);
        } else {
            n = g_socket_receive(p->sock, (gchar *) p->resp_buf,
                                 sizeof p->resp_buf, NULL, &err);
        }
        if (n < 0) {
            bool wouldblock =
                g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
            g_clear_error(&err);
            if (wouldblock || !p->tcp)
                return G_SOURCE_CONTINUE; /* UDP: ICMP errors; keep trying */
            finish(p, TRANSPORT_FAIL_ICE_TURN_UNREACHABLE,
                   "TURN TCP connection failed");
            return G_SOURCE_REMOVE;
        }
        if (n == 0 && p->tcp) {
            finish(p, TRANSPORT_FAIL_ICE_TURN_UNREACHABLE,
                   "TURN server closed the TCP connection");
            return G_SOURCE_REMOVE;
        }
        if (!p->tcp) {
            handle_response(p, p->resp_buf, (size_t) n);
        } else {
            p->resp_have += (size_t) n;
            /* STUN over TCP: 20-byte header, length in bytes 2..3. */
            while (p->resp_have >= 20) {
                size_t mlen =
                    20 + (((size_t) p->resp_buf[2] << 8) | p->resp_buf[3]);
                if (mlen > sizeof p->resp_buf) {
                    finish(p, TRANSPORT_FAIL_ICE_TURN_REFUSED,
                           "oversized TURN response");
                    return G_SOURCE_REMOVE;
                }
                if (p->resp_have < mlen)
                    break;
                handle_response(p, p->resp_buf, mlen);
                if (p->finished)
                    return G_SOURCE_REMOVE;
                memmove(p->resp_buf, p->resp_buf + mlen, p->resp_have - mlen);
                p->resp_have -= mlen;
            }
        }
        if (p->finished)
            return G_SOURCE_REMOVE;
    }
}

static gboolean on_timer(gpointer ud)
{
    turn_probe *p = ud;
    if (!p->tcp && p->tries < PROBE_TRIES) {
        p->tries++;
        send_request(p);
        p->rto *= 2;
        g_source_unref(p->timer);
        p->timer = g_timeout_source_new(p->rto);
        g_source_set_callback(p->timer, on_timer, p, NULL);
        g_source_attach(p->timer, p->ctx);
        return G_SOURCE_REMOVE;
    }
    g_source_unref(p->timer);
    p->timer = NULL;
    finish(p, TRANSPORT_FAIL_ICE_TURN_UNREACHABLE,
           "no answer from the TURN server");
    return G_SOURCE_REMOVE;
}

int turn_probe_start(turn_probe **out, GMainContext *ctx, const char *ip,
                     unsigned port, bool tcp, const char *username,
                     const char *password, turn_probe_done done, void *ud)
{
    if (out == NULL || ctx == NULL || ip == NULL || username == NULL ||
        password == NULL || done == NULL || port == 0 || port > 65535)
        return TRANSPORT_EINVAL;
    *out = NULL;
    GInetAddress *ia = g_inet_address_new_from_string(ip);
    if (ia == NULL)
        return TRANSPORT_EINVAL;
    turn_probe *p = g_new0(turn_probe, 1);
    p->ctx = ctx;
    p->tcp = tcp;
    p->done = done;
    p->ud = ud;
    p->user = g_strdup(username);
    p->pass = g_strdup(password);
    p->rto = PROBE_RTO_MS;
    p->server = g_inet_socket_address_new(ia, (guint16) port);
    GError *err = NULL;
    p->sock =
        g_socket_new(g_inet_address_get_family(ia),
                     tcp ? G_SOCKET_TYPE_STREAM : G_SOCKET_TYPE_DATAGRAM,
                     tcp ? G_SOCKET_PROTOCOL_TCP : G_SOCKET_PROTOCOL_UDP, &err);
    g_object_unref(ia);
    if (p->sock == NULL) {
        g_clear_error(&err);
        turn_probe_free(p);
        return TRANSPORT_EFAIL;
    }
    g_socket_set_blocking(p->sock, FALSE);
    stun_agent_init(&p->agent, known_attrs, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_LONG_TERM_CREDENTIALS);
    build_request(p, NULL);
    if (tcp) {
        if (!g_socket_connect(p->sock, p->server, NULL, &err) &&
            !g_error_matches(err, G_IO_ERROR, G_IO_ERROR_PENDING)) {
            /* Immediate refusal: finish from the loop, not from here. */
            g_clear_error(&err);
        } else if (err == NULL) {
            p->connected = true;
        }
        g_clear_error(&err);
    }
    GIOCondition cond = (tcp && !p->connected)
                            ? (G_IO_OUT | G_IO_ERR | G_IO_HUP)
                            : (G_IO_IN | G_IO_ERR | G_IO_HUP);
    p->io = g_socket_create_source(p->sock, cond, NULL);
    g_source_set_callback(p->io, (GSourceFunc) (void (*)(void)) on_io, p, NULL);
    g_source_attach(p->io, ctx);
    /* TCP: one overall deadline (the kernel retransmits for us). */
    p->timer = g_timeout_source_new(tcp ? 3750 : p->rto);
    g_source_set_callback(p->timer, on_timer, p, NULL);
    g_source_attach(p->timer, ctx);
    if (!tcp || p->connected)
        send_request(p);
    *out = p;
    return TRANSPORT_OK;
}

void turn_probe_free(turn_probe *p)
{
    if (p == NULL)
        return;
    p->finished = true;
    if (p->timer != NULL) {
        g_source_destroy(p->timer);
        g_source_unref(p->timer);
    }
    if (p->io != NULL) {
        g_source_destroy(p->io);
        g_source_unref(p->io);
    }
    if (p->sock != NULL) {
        g_socket_close(p->sock, NULL);
        g_object_unref(p->sock);
    }
    if (p->server != NULL)
        g_object_unref(p->server);
    g_free(p->user);
    if (p->pass != NULL) {
        memset(p->pass, 0, strlen(p->pass));
        g_free(p->pass);
    }
    g_free(p);
}
