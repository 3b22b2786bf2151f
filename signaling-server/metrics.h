/*
 * metrics.h — counters for /metrics (Prometheus text format). Owned by
 * the loop thread.
 */
#ifndef VSS_METRICS_H
#define VSS_METRICS_H

#include <glib.h>
#include <stdint.h>

typedef struct {
    int64_t connections; /* open WebSocket connections */
    int64_t sessions;    /* logged in */
    uint64_t logins_ok;
    uint64_t logins_failed;
    uint64_t logins_throttled;
    uint64_t calls_routed; /* invites delivered to at least one device */
    uint64_t messages;     /* frames received */
    GHashTable *rejected;  /* code (static string) -> count */
} metrics;

void metrics_init(metrics *m);
void metrics_clear(metrics *m);
/* Count a message rejected with @code (a PROTO_ERR_* static string). */
void metrics_reject(metrics *m, const char *code);
/* The Prometheus exposition text (g_free it). */
char *metrics_render(const metrics *m);

#endif
