/*
 * config.c — parse the GKeyFile configuration and check it.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#define CONFIG_ERROR (g_quark_from_static_string("vss-config"))

void config_defaults(server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->listen = g_strdup("127.0.0.1");
    cfg->port = 8443;
    cfg->state_dir = g_strdup("/var/lib/vid-signaling-server");
    cfg->max_connections = 12000;
    cfg->max_per_address = 64;
    cfg->login_timeout = 10;
    cfg->ping_interval = 30;
    cfg->idle_timeout = 90;
    cfg->ring_timeout = 60;
    cfg->max_queue = 1024 * 1024;
    cfg->admin_listen = g_strdup("127.0.0.1");
    cfg->admin_port = 9091;
    cfg->pwhash = PWHASH_INTERACTIVE;
    cfg->account_max_failures = 5;
    cfg->account_backoff = 30;
    cfg->account_backoff_max = 900;
    cfg->address_max_failures = 20;
    cfg->address_window = 60;
    cfg->max_pending_logins = 1024;
    cfg->rate = 20;
    cfg->burst = 50;
    cfg->flood_close = 100;
    cfg->turn_ttl = 86400;
}

void config_clear(server_config *cfg)
{
    g_free(cfg->listen);
    g_free(cfg->hostname);
    g_free(cfg->cert_file);
    g_free(cfg->key_file);
    g_free(cfg->state_dir);
    g_free(cfg->database);
    g_free(cfg->admin_listen);
    g_strfreev(cfg->stun_urls);
    g_strfreev(cfg->turn_urls);
    g_free(cfg->turn_secret);
    memset(cfg, 0, sizeof *cfg);
}

const char *config_pwhash_name(pwhash_level level)
{
    switch (level) {
    case PWHASH_MODERATE:
        return "moderate";
    case PWHASH_MIN:
        return "min";
    default:
        return "interactive";
    }
}

char *config_db_path(const server_config *cfg)
{
    if (cfg->database != NULL)
        return g_strdup(cfg->database);
    return g_build_filename(cfg->state_dir, "vid.db", NULL);
}

static bool get_str(GKeyFile *kf, const char *group, const char *key,
                    char **out, GError **error)
{
    GError *err = NULL;
    char *v = g_key_file_get_string(kf, group, key, &err);

    if (err != NULL) {
        bool missing = g_error_matches(err, G_KEY_FILE_ERROR,
                                       G_KEY_FILE_ERROR_KEY_NOT_FOUND) ||
                       g_error_matches(err, G_KEY_FILE_ERROR,
                                       G_KEY_FILE_ERROR_GROUP_NOT_FOUND);
        if (missing) {
            g_error_free(err);
            return true;
        }
        g_propagate_error(error, err);
        return false;
    }
    g_strstrip(v);
    g_free(*out);
    *out = (v[0] != '\0') ? v : NULL;
    if (*out == NULL)
        g_free(v);
    return true;
}

static bool get_int(GKeyFile *kf, const char *group, const char *key, int *out,
                    long min, long max, GError **error)
{
    char *s = NULL;
    char *end = NULL;
    long v;

    if (!get_str(kf, group, key, &s, error))
        return false;
    if (s == NULL)
        return true;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        g_set_error(error, CONFIG_ERROR, 1,
                    "[%s] %s = %s: expected an integer from %ld to %ld", group,
                    key, s, min, max);
        g_free(s);
        return false;
    }
    g_free(s);
    *out = (int) v;
    return true;
}

static bool get_double(GKeyFile *kf, const char *group, const char *key,
                       double *out, double min, double max, GError **error)
{
    char *s = NULL;
    char *end = NULL;
    double v;

    if (!get_str(kf, group, key, &s, error))
        return false;
    if (s == NULL)
        return true;
    v = g_ascii_strtod(s, &end);
    if (end == s || *end != '\0' || !(v >= min && v <= max)) {
        g_set_error(error, CONFIG_ERROR, 1,
                    "[%s] %s = %s: expected a number from %g to %g", group, key,
                    s, min, max);
        g_free(s);
        return false;
    }
    g_free(s);
    *out = v;
    return true;
}

static bool get_choice(GKeyFile *kf, const char *group, const char *key,
                       const char *const *choices, int *out, GError **error)
{
    char *s = NULL;

    if (!get_str(kf, group, key, &s, error))
        return false;
    if (s == NULL)
        return true;
    for (int i = 0; choices[i] != NULL; i++) {
        if (strcmp(s, choices[i]) == 0) {
            *out = i;
            g_free(s);
            return true;
        }
    }
    char *all = g_strjoinv("|", (char **) choices);
    g_set_error(error, CONFIG_ERROR, 1, "[%s] %s = %s: expected one of %s",
                group, key, s, all);
    g_free(all);
    g_free(s);
    return false;
}

static bool get_list(GKeyFile *kf, const char *group, const char *key,
                     char ***out, GError **error)
{
    GError *err = NULL;
    gsize n = 0;
    char **v = g_key_file_get_string_list(kf, group, key, &n, &err);

    if (err != NULL) {
        if (err->domain == G_KEY_FILE_ERROR &&
            (err->code == G_KEY_FILE_ERROR_KEY_NOT_FOUND ||
             err->code == G_KEY_FILE_ERROR_GROUP_NOT_FOUND)) {
            g_error_free(err);
            return true;
        }
        g_propagate_error(error, err);
        return false;
    }
    GPtrArray *a = g_ptr_array_new();
    for (gsize i = 0; i < n; i++) {
        g_strstrip(v[i]);
        if (v[i][0] != '\0')
            g_ptr_array_add(a, g_strdup(v[i]));
    }
    g_ptr_array_add(a, NULL);
    g_strfreev(v);
    g_strfreev(*out);
    *out = (char **) g_ptr_array_free(a, FALSE);
    return true;
}

/* Every key the server reads, to warn about typos. */
static const char *const known_keys[] = {"server/listen",
                                         "server/port",
                                         "server/hostname",
                                         "server/cert",
                                         "server/key",
                                         "server/state_dir",
                                         "server/database",
                                         "server/max_connections",
                                         "server/max_connections_per_address",
                                         "server/login_timeout",
                                         "server/ping_interval",
                                         "server/idle_timeout",
                                         "server/ring_timeout",
                                         "server/identity_change",
                                         "server/max_queue_kib",
                                         "server/debug",
                                         "admin/listen",
                                         "admin/port",
                                         "auth/pwhash",
                                         "auth/account_max_failures",
                                         "auth/account_backoff",
                                         "auth/account_backoff_max",
                                         "auth/address_max_failures",
                                         "auth/address_window",
                                         "auth/max_pending_logins",
                                         "limits/rate",
                                         "limits/burst",
                                         "limits/flood_close",
                                         "policy/stun",
                                         "policy/turn",
                                         "policy/turn_secret",
                                         "policy/turn_ttl",
                                         "policy/ice_transport_policy",
                                         "policy/media_port_min",
                                         "policy/media_port_max",
                                         "firewall/turn_relay_port_min",
                                         "firewall/turn_relay_port_max",
                                         NULL};

static void warn_unknown(GKeyFile *kf)
{
    char **groups = g_key_file_get_groups(kf, NULL);

    for (int g = 0; groups[g] != NULL; g++) {
        char **keys = g_key_file_get_keys(kf, groups[g], NULL, NULL);
        for (int k = 0; keys != NULL && keys[k] != NULL; k++) {
            g_autofree char *gk = g_strdup_printf("%s/%s", groups[g], keys[k]);
            if (!g_strv_contains(known_keys, gk))
                g_printerr("vid-signaling-server: warning: unknown setting "
                           "[%s] %s (ignored)\n",
                           groups[g], keys[k]);
        }
        g_strfreev(keys);
    }
    g_strfreev(groups);
}

static bool load_kf(server_config *c, GKeyFile *kf, GError **error)
{
    static const char *const policies[] = {"all", "relay", NULL};
    static const char *const identity[] = {"replace", "reject", NULL};
    static const char *const levels[] = {"interactive", "moderate", "min",
                                         NULL};
    static const char *const bools[] = {"false", "true", NULL};
    int relay = c->relay_only;
    int reject = c->identity_reject;
    int level = c->pwhash;
    int debug = c->debug_log;
    int max_queue = (int) (c->max_queue / 1024);

    if (!get_str(kf, "server", "listen", &c->listen, error) ||
        !get_int(kf, "server", "port", &c->port, 1, 65535, error) ||
        !get_str(kf, "server", "hostname", &c->hostname, error) ||
        !get_str(kf, "server", "cert", &c->cert_file, error) ||
        !get_str(kf, "server", "key", &c->key_file, error) ||
        !get_str(kf, "server", "state_dir", &c->state_dir, error) ||
        !get_str(kf, "server", "database", &c->database, error) ||
        !get_int(kf, "server", "max_connections", &c->max_connections, 1,
                 1000000, error) ||
        !get_int(kf, "server", "max_connections_per_address",
                 &c->max_per_address, 1, 1000000, error) ||
        !get_int(kf, "server", "login_timeout", &c->login_timeout, 1, 3600,
                 error) ||
        !get_int(kf, "server", "ping_interval", &c->ping_interval, 1, 3600,
                 error) ||
        !get_int(kf, "server", "idle_timeout", &c->idle_timeout, 2, 65535,
                 error) ||
        !get_int(kf, "server", "ring_timeout", &c->ring_timeout, 1, 3600,
                 error) ||
        !get_choice(kf, "server", "identity_change", identity, &reject,
                    error) ||
        !get_int(kf, "server", "max_queue_kib", &max_queue, 64, 65536, error) ||
        !get_choice(kf, "server", "debug", bools, &debug, error) ||
        !get_str(kf, "admin", "listen", &c->admin_listen, error) ||
        !get_int(kf, "admin", "port", &c->admin_port, 0, 65535, error) ||
        !get_choice(kf, "auth", "pwhash", levels, &level, error) ||
        !get_int(kf, "auth", "account_max_failures", &c->account_max_failures,
                 1, 1000000, error) ||
        !get_int(kf, "auth", "account_backoff", &c->account_backoff, 1, 86400,
                 error) ||
        !get_int(kf, "auth", "account_backoff_max", &c->account_backoff_max, 1,
                 86400, error) ||
        !get_int(kf, "auth", "address_max_failures", &c->address_max_failures,
                 1, 100000000, error) ||
        !get_int(kf, "auth", "max_pending_logins", &c->max_pending_logins, 1,
                 1000000, error) ||
        !get_int(kf, "auth", "address_window", &c->address_window, 1, 86400,
                 error) ||
        !get_double(kf, "limits", "rate", &c->rate, 0.01, 1e7, error) ||
        !get_int(kf, "limits", "burst", &c->burst, 1, 10000000, error) ||
        !get_int(kf, "limits", "flood_close", &c->flood_close, 1, 100000000,
                 error) ||
        !get_list(kf, "policy", "stun", &c->stun_urls, error) ||
        !get_list(kf, "policy", "turn", &c->turn_urls, error) ||
        !get_str(kf, "policy", "turn_secret", &c->turn_secret, error) ||
        !get_int(kf, "policy", "turn_ttl", &c->turn_ttl, 60, 30 * 86400,
                 error) ||
        !get_choice(kf, "policy", "ice_transport_policy", policies, &relay,
                    error) ||
        !get_int(kf, "policy", "media_port_min", &c->media_port_min, 0, 65535,
                 error) ||
        !get_int(kf, "policy", "media_port_max", &c->media_port_max, 0, 65535,
                 error) ||
        !get_int(kf, "firewall", "turn_relay_port_min", &c->turn_relay_port_min,
                 0, 65535, error) ||
        !get_int(kf, "firewall", "turn_relay_port_max", &c->turn_relay_port_max,
                 0, 65535, error))
        return false;
    warn_unknown(kf);
    c->relay_only = relay != 0;
    c->identity_reject = reject != 0;
    c->pwhash = (pwhash_level) level;
    c->debug_log = debug != 0;
    c->max_queue = (size_t) max_queue * 1024;
    return true;
}

bool config_load_data(server_config *cfg, const char *data, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();

    if (!g_key_file_load_from_data(kf, data, (gsize) -1, G_KEY_FILE_NONE,
                                   error))
        return false;
    return load_kf(cfg, kf, error);
}

bool config_load(server_config *cfg, const char *path, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    GError *err = NULL;

    if (path == NULL)
        return true;
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &err)) {
        g_set_error(error, CONFIG_ERROR, 1, "%s: %s", path, err->message);
        g_error_free(err);
        return false;
    }
    if (!load_kf(cfg, kf, &err)) {
        g_set_error(error, CONFIG_ERROR, 1, "%s: %s", path, err->message);
        g_error_free(err);
        return false;
    }
    return true;
}

bool config_check(const server_config *c, GError **error)
{
    if ((c->cert_file == NULL) != (c->key_file == NULL)) {
        g_set_error(error, CONFIG_ERROR, 1,
                    "[server] cert and key must be set together");
        return false;
    }
    if (c->media_port_min > c->media_port_max) {
        g_set_error(error, CONFIG_ERROR, 1,
                    "[policy] media_port_min (%d) is above media_port_max "
                    "(%d)",
                    c->media_port_min, c->media_port_max);
        return false;
    }
    if (c->turn_relay_port_min > c->turn_relay_port_max) {
        g_set_error(error, CONFIG_ERROR, 1,
                    "[firewall] turn_relay_port_min is above "
                    "turn_relay_port_max");
        return false;
    }
    if (c->turn_urls != NULL && c->turn_urls[0] != NULL &&
        c->turn_secret == NULL) {
        g_set_error(error, CONFIG_ERROR, 1,
                    "[policy] turn is set but turn_secret is not (the "
                    "secret shared with coturn's use-auth-secret)");
        return false;
    }
    if (c->relay_only && (c->turn_urls == NULL || c->turn_urls[0] == NULL)) {
        g_set_error(error, CONFIG_ERROR, 1,
                    "[policy] ice_transport_policy = relay needs turn URLs");
        return false;
    }
    if (c->idle_timeout <= c->ping_interval) {
        g_set_error(error, CONFIG_ERROR, 1,
                    "[server] idle_timeout (%d) must be above ping_interval "
                    "(%d)",
                    c->idle_timeout, c->ping_interval);
        return false;
    }
    for (int i = 0; c->stun_urls != NULL && c->stun_urls[i] != NULL; i++) {
        if (!g_str_has_prefix(c->stun_urls[i], "stun:") &&
            !g_str_has_prefix(c->stun_urls[i], "stuns:")) {
            g_set_error(error, CONFIG_ERROR, 1,
                        "[policy] stun: '%s' is not a stun: URL",
                        c->stun_urls[i]);
            return false;
        }
    }
    for (int i = 0; c->turn_urls != NULL && c->turn_urls[i] != NULL; i++) {
        if (!g_str_has_prefix(c->turn_urls[i], "turn:") &&
            !g_str_has_prefix(c->turn_urls[i], "turns:")) {
            g_set_error(error, CONFIG_ERROR, 1,
                        "[policy] turn: '%s' is not a turn: or turns: URL",
                        c->turn_urls[i]);
            return false;
        }
    }
    return true;
}
