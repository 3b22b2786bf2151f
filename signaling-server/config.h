/*
 * config.h — vid-signaling-server configuration (GKeyFile), with the
 * embedded defaults documented in vid-signaling-server.conf.example.
 */
#ifndef VSS_CONFIG_H
#define VSS_CONFIG_H

#include <glib.h>
#include <stdbool.h>

typedef enum {
    PWHASH_INTERACTIVE = 0,
    PWHASH_MODERATE,
    PWHASH_MIN, /* benchmarks and tests only */
} pwhash_level;

typedef struct {
    /* [server] */
    char *listen;
    int port;
    char *hostname;  /* name in the generated certificate, NULL: none */
    char *cert_file; /* NULL: generate one in state_dir */
    char *key_file;
    char *state_dir;
    char *database; /* NULL: state_dir/vid.db */
    int max_connections;
    int max_per_address;
    int login_timeout;
    int ping_interval;
    int idle_timeout;
    int ring_timeout;
    bool identity_reject; /* identity_change = reject */
    size_t max_queue;     /* bytes queued to one slow client before close */
    bool debug_log;

    /* [admin] */
    char *admin_listen;
    int admin_port; /* 0: no admin endpoint */

    /* [auth] */
    pwhash_level pwhash;
    int account_max_failures;
    int account_backoff;     /* seconds, doubled per extra failure */
    int account_backoff_max; /* seconds */
    int address_max_failures;
    int address_window;     /* seconds */
    int max_pending_logins; /* password checks queued at once */

    /* [limits] */
    double rate;     /* messages per second */
    int burst;       /* bucket size */
    int flood_close; /* rejected messages in a row before close 1008 */

    /* [policy] */
    char **stun_urls;
    char **turn_urls;
    char *turn_secret;
    int turn_ttl;
    bool relay_only;
    int media_port_min;
    int media_port_max;

    /* [firewall] */
    int turn_relay_port_min;
    int turn_relay_port_max;
} server_config;

/* Fill @cfg with the embedded defaults. */
void config_defaults(server_config *cfg);

/* Load @path (may be NULL: defaults only) over the defaults. Unknown
 * values fail with a message naming the group, key and allowed values. */
bool config_load(server_config *cfg, const char *path, GError **error);

/* Load from GKeyFile text (tests). */
bool config_load_data(server_config *cfg, const char *data, GError **error);

/* Check cross-field constraints (after command-line overrides). */
bool config_check(const server_config *cfg, GError **error);

/* The database path: cfg->database or state_dir/vid.db (g_free it). */
char *config_db_path(const server_config *cfg);

void config_clear(server_config *cfg);

const char *config_pwhash_name(pwhash_level level);

#endif
