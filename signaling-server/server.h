/*
 * server.h — run the signaling server: libwebsockets on a libuv loop.
 */
#ifndef VSS_SERVER_H
#define VSS_SERVER_H

#include "config.h"

/* Serve until SIGTERM/SIGINT. Returns the process exit code; prints the
 * "listening on" line to stdout once both vhosts are up. */
int server_run(const server_config *cfg);

#endif
