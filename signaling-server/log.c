/*
 * log.c — structured log events and a compact stderr writer.
 */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DOMAIN "vid-signaling-server"

static bool debug_enabled;

void log_event(GLogLevelFlags level, const char *addr, const char *user,
               const char *device, const char *call, const char *fmt, ...)
{
    GLogField fields[8];
    gsize n = 0;
    va_list ap;
    char *msg;

    if (level == G_LOG_LEVEL_DEBUG && !debug_enabled)
        return;
    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fields[n++] = (GLogField){"GLIB_DOMAIN", DOMAIN, -1};
    fields[n++] = (GLogField){"PRIORITY",
                              level == G_LOG_LEVEL_WARNING ? "4"
                              : level == G_LOG_LEVEL_DEBUG ? "7"
                                                           : "6",
                              -1};
    fields[n++] = (GLogField){"MESSAGE", msg, -1};
    if (addr != NULL)
        fields[n++] = (GLogField){"PEER_ADDR", addr, -1};
    if (user != NULL)
        fields[n++] = (GLogField){"USER", user, -1};
    if (device != NULL)
        fields[n++] = (GLogField){"DEVICE", device, -1};
    if (call != NULL)
        fields[n++] = (GLogField){"CALL", call, -1};
    g_log_structured_array(level, fields, n);
    g_free(msg);
}

static const char *field_str(const GLogField *f)
{
    return (const char *) f->value;
}

static GLogWriterOutput writer(GLogLevelFlags level, const GLogField *fields,
                               gsize n, gpointer data)
{
    GString *line;
    const char *msg = NULL;
    const char *lvl = "info";

    if ((level & G_LOG_LEVEL_DEBUG) && !debug_enabled)
        return G_LOG_WRITER_HANDLED;
    if (g_log_writer_is_journald(fileno(stderr)))
        return g_log_writer_journald(level, fields, n, data);
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
        lvl = "error";
    else if (level & G_LOG_LEVEL_WARNING)
        lvl = "warning";
    else if (level & G_LOG_LEVEL_DEBUG)
        lvl = "debug";
    line = g_string_new(NULL);
    for (gsize i = 0; i < n; i++) {
        if (strcmp(fields[i].key, "MESSAGE") == 0)
            msg = field_str(&fields[i]);
    }
    g_string_append_printf(line, "vid-signaling-server[%d] %s: %s",
                           (int) getpid(), lvl, msg ? msg : "");
    for (gsize i = 0; i < n; i++) {
        const char *k = fields[i].key;
        if (strcmp(k, "USER") == 0 || strcmp(k, "DEVICE") == 0 ||
            strcmp(k, "CALL") == 0 || strcmp(k, "PEER_ADDR") == 0)
            g_string_append_printf(line, " %s=%s", k, field_str(&fields[i]));
    }
    g_string_append_c(line, '\n');
    fputs(line->str, stderr);
    g_string_free(line, TRUE);
    return G_LOG_WRITER_HANDLED;
}

void log_setup(bool debug)
{
    static bool installed;
    debug_enabled = debug;
    if (!installed)
        g_log_set_writer_func(writer, NULL, NULL);
    installed = true;
}
