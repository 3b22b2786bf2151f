/*
 * log.h — structured logging (g_log_structured) with the fields the
 * server knows: PEER_ADDR, USER, DEVICE, CALL. Never log passwords or SDP.
 */
#ifndef VSS_LOG_H
#define VSS_LOG_H

#include <glib.h>
#include <stdbool.h>

void log_event(GLogLevelFlags level, const char *addr, const char *user,
               const char *device, const char *call, const char *fmt, ...)
    G_GNUC_PRINTF(6, 7);

/* Install the writer: journald when stderr is the journal, otherwise one
 * line per event on stderr with its fields; debug only when @debug. */
void log_setup(bool debug);

#define LOG_DEBUG(a, u, d, c, ...)                                             \
    log_event(G_LOG_LEVEL_DEBUG, a, u, d, c, __VA_ARGS__)
#define LOG_INFO(a, u, d, c, ...)                                              \
    log_event(G_LOG_LEVEL_INFO, a, u, d, c, __VA_ARGS__)
#define LOG_WARNING(a, u, d, c, ...)                                           \
    log_event(G_LOG_LEVEL_WARNING, a, u, d, c, __VA_ARGS__)

#endif
