/*
 * turn.h — TURN REST credentials (draft-uberti-behave-turn-rest, the
 * scheme coturn checks with use-auth-secret).
 */
#ifndef VSS_TURN_H
#define VSS_TURN_H

#include <glib.h>
#include <stdbool.h>

/* username = "<expiry>:<user>", credential = base64(HMAC-SHA1(secret,
 * username)). Both g_free()d by the caller. */
bool turn_rest_credentials(const char *secret, const char *user, gint64 expiry,
                           char **out_username, char **out_credential);

#endif
