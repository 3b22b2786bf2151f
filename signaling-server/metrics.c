/*
 * metrics.c — Prometheus text exposition of the server counters.
 */
#include "metrics.h"

void metrics_init(metrics *m)
{
    *m = (metrics){0};
    m->rejected = g_hash_table_new(g_str_hash, g_str_equal);
}

void metrics_clear(metrics *m)
{
    if (m->rejected != NULL)
        g_hash_table_destroy(m->rejected);
    m->rejected = NULL;
}

void metrics_reject(metrics *m, const char *code)
{
    gpointer v = g_hash_table_lookup(m->rejected, code);
    g_hash_table_insert(m->rejected, (gpointer) code,
                        GSIZE_TO_POINTER(GPOINTER_TO_SIZE(v) + 1));
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(const char *const *) a, *(const char *const *) b);
}

char *metrics_render(const metrics *m)
{
    GString *s = g_string_new(NULL);
    guint n = 0;
    gpointer *keys;

    g_string_append_printf(
        s,
        "# HELP vid_connections Open WebSocket connections.\n"
        "# TYPE vid_connections gauge\n"
        "vid_connections %" G_GINT64_FORMAT "\n"
        "# HELP vid_sessions Logged-in connections.\n"
        "# TYPE vid_sessions gauge\n"
        "vid_sessions %" G_GINT64_FORMAT "\n"
        "# HELP vid_logins_total Login attempts by result.\n"
        "# TYPE vid_logins_total counter\n"
        "vid_logins_total{result=\"ok\"} %" G_GUINT64_FORMAT "\n"
        "vid_logins_total{result=\"failed\"} %" G_GUINT64_FORMAT "\n"
        "vid_logins_total{result=\"throttled\"} %" G_GUINT64_FORMAT "\n"
        "# HELP vid_calls_routed_total Invites delivered to a callee.\n"
        "# TYPE vid_calls_routed_total counter\n"
        "vid_calls_routed_total %" G_GUINT64_FORMAT "\n"
        "# HELP vid_messages_total Frames received.\n"
        "# TYPE vid_messages_total counter\n"
        "vid_messages_total %" G_GUINT64_FORMAT "\n"
        "# HELP vid_messages_rejected_total Frames answered with an error.\n"
        "# TYPE vid_messages_rejected_total counter\n",
        m->connections, m->sessions, m->logins_ok, m->logins_failed,
        m->logins_throttled, m->calls_routed, m->messages);
    keys = g_hash_table_get_keys_as_array(m->rejected, &n);
    qsort(keys, n, sizeof *keys, cmp_str);
    for (guint i = 0; i < n; i++) {
        g_string_append_printf(
            s, "vid_messages_rejected_total{reason=\"%s\"} %zu\n",
            (const char *) keys[i],
            GPOINTER_TO_SIZE(g_hash_table_lookup(m->rejected, keys[i])));
    }
    g_free(keys);
    return g_string_free(s, FALSE);
}
