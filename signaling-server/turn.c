/*
 * turn.c — TURN REST credentials with OpenSSL's one-shot HMAC.
 */
#include "turn.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

bool turn_rest_credentials(const char *secret, const char *user, gint64 expiry,
                           char **out_username, char **out_credential)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    char *username = g_strdup_printf("%" G_GINT64_FORMAT ":%s", expiry, user);

    if (HMAC(EVP_sha1(), secret, (int) strlen(secret),
             (const unsigned char *) username, strlen(username), mac,
             &mac_len) == NULL) {
        g_free(username);
        return false;
    }
    *out_username = username;
    *out_credential = g_base64_encode(mac, mac_len);
    return true;
}
