/*
 * main.c — command line of vid-signaling-server: serve, user admin
 * subcommands, --print-firewall-rules.
 */
#include <errno.h>
#include <glib.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "db.h"
#include "firewall.h"
#include "log.h"
#include "proto.h"
#include "server.h"
#include "vid-version.h"

static char *opt_config;
static char *opt_state_dir;
static char *opt_listen;
static int opt_port;
static gboolean opt_firewall;
static gboolean opt_version;
static gboolean opt_debug;

static const GOptionEntry entries[] = {
    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config,
     "Read the configuration from FILE (GKeyFile)", "FILE"},
    {"state-dir", 's', 0, G_OPTION_ARG_FILENAME, &opt_state_dir,
     "Keep the database and generated certificate in DIR", "DIR"},
    {"listen", 'l', 0, G_OPTION_ARG_STRING, &opt_listen,
     "Listen on ADDR (overrides [server] listen)", "ADDR"},
    {"port", 'p', 0, G_OPTION_ARG_INT, &opt_port,
     "Listen on PORT (overrides [server] port)", "PORT"},
    {"print-firewall-rules", 0, 0, G_OPTION_ARG_NONE, &opt_firewall,
     "Print the nftables rules this configuration needs and exit", NULL},
    {"debug", 0, 0, G_OPTION_ARG_NONE, &opt_debug, "Log debug messages", NULL},
    {"version", 'V', 0, G_OPTION_ARG_NONE, &opt_version,
     "Print the version and exit", NULL},
    G_OPTION_ENTRY_NULL,
};

/* Read a password: from the terminal without echo, else one stdin line. */
static char *read_password(const char *prompt, bool confirm)
{
    char buf[PROTO_MAX_PASSWORD + 2];
    char again[PROTO_MAX_PASSWORD + 2];
    bool tty = isatty(STDIN_FILENO);
    struct termios old, quiet;
    char *res = NULL;

    if (tty) {
        fprintf(stderr, "%s", prompt);
        fflush(stderr);
        tcgetattr(STDIN_FILENO, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t) ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    if (fgets(buf, sizeof buf, stdin) == NULL)
        buf[0] = '\0';
    if (tty && confirm) {
        fprintf(stderr, "\nAgain: ");
        fflush(stderr);
        if (fgets(again, sizeof again, stdin) == NULL)
            again[0] = '\0';
    }
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fprintf(stderr, "\n");
    }
    buf[strcspn(buf, "\r\n")] = '\0';
    if (tty && confirm) {
        again[strcspn(again, "\r\n")] = '\0';
        if (strcmp(buf, again) != 0) {
            g_printerr("vid-signaling-server: the passwords differ\n");
            goto done;
        }
    }
    if (buf[0] == '\0') {
        g_printerr("vid-signaling-server: empty password\n");
        goto done;
    }
    if (strlen(buf) > PROTO_MAX_PASSWORD) {
        g_printerr("vid-signaling-server: password longer than %d bytes\n",
                   PROTO_MAX_PASSWORD);
        goto done;
    }
    res = g_strdup(buf);
done:
    sodium_memzero(buf, sizeof buf);
    sodium_memzero(again, sizeof again);
    return res;
}

static bool check_name(const char *name)
{
    if (!proto_name_valid(name)) {
        g_printerr("vid-signaling-server: '%s' is not a valid user name "
                   "(1-64 of A-Z a-z 0-9 . _ -, not starting with . or -)\n",
                   name);
        return false;
    }
    return true;
}

static void print_user(const char *user, gint64 created, void *data)
{
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(created);
    g_autofree char *when = t ? g_date_time_format_iso8601(t) : NULL;
    (void) data;
    g_print("%s\t%s\n", user, when ? when : "?");
}

static int user_import(vss_db *db, pwhash_level level)
{
    char line[PROTO_MAX_NAME + PROTO_MAX_PASSWORD + 8];
    GError *err = NULL;
    unsigned long added = 0, updated = 0, lineno = 0;
    int rc = 1;

    if (!db_begin(db, &err))
        goto fail;
    while (fgets(line, sizeof line, stdin) != NULL) {
        char hash[AUTH_HASH_MAX];
        char *sp;
        char *pw;

        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0' || line[0] == '#')
            continue;
        sp = strchr(line, ' ');
        if (sp == NULL) {
            g_printerr("vid-signaling-server: line %lu: expected 'name "
                       "password'\n",
                       lineno);
            goto rollback;
        }
        *sp = '\0';
        pw = sp + 1;
        if (!check_name(line) || pw[0] == '\0' ||
            strlen(pw) > PROTO_MAX_PASSWORD) {
            g_printerr("vid-signaling-server: line %lu: bad name or "
                       "password\n",
                       lineno);
            goto rollback;
        }
        if (!auth_hash(level, pw, hash)) {
            g_printerr("vid-signaling-server: hashing failed (out of "
                       "memory?)\n");
            goto rollback;
        }
        sodium_memzero(pw, strlen(pw));
        if (db_user_exists(db, line)) {
            if (!db_user_set_hash(db, line, hash, &err))
                goto fail_rollback;
            updated++;
        } else {
            if (!db_user_add(db, line, hash, &err))
                goto fail_rollback;
            added++;
        }
    }
    if (!db_commit(db, &err))
        goto fail_rollback;
    g_printerr("vid-signaling-server: imported %lu new users, %lu "
               "passwords changed\n",
               added, updated);
    return 0;
fail_rollback:
    db_rollback(db);
fail:
    g_printerr("vid-signaling-server: %s\n", err->message);
    g_error_free(err);
    return rc;
rollback:
    db_rollback(db);
    g_printerr("vid-signaling-server: nothing imported\n");
    return rc;
}

static int user_command(server_config *cfg, int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : NULL;
    const char *name = argc > 2 ? argv[2] : NULL;
    g_autofree char *path = config_db_path(cfg);
    g_autofree char *dir = g_path_get_dirname(path);
    GError *err = NULL;
    vss_db *db;
    int rc = 1;
    bool needs_name =
        cmd != NULL && (strcmp(cmd, "add") == 0 || strcmp(cmd, "passwd") == 0 ||
                        strcmp(cmd, "del") == 0);

    if (cmd == NULL ||
        (!needs_name && strcmp(cmd, "list") != 0 &&
         strcmp(cmd, "import") != 0) ||
        (needs_name && argc != 3) || (!needs_name && argc != 2)) {
        g_printerr("usage: vid-signaling-server [--config FILE | --state-dir "
                   "DIR] user add|passwd|del NAME\n"
                   "       vid-signaling-server [...] user list\n"
                   "       vid-signaling-server [...] user import  (lines "
                   "'name password' on stdin)\n");
        return 2;
    }
    if (needs_name && !check_name(name))
        return 1;
    if (!auth_init()) {
        g_printerr("vid-signaling-server: libsodium failed\n");
        return 1;
    }
    if (g_mkdir_with_parents(dir, 0700) != 0) {
        g_printerr("vid-signaling-server: cannot create %s: %s\n", dir,
                   g_strerror(errno));
        return 1;
    }
    db = db_open(path, &err);
    if (db == NULL) {
        g_printerr("vid-signaling-server: %s\n", err->message);
        g_error_free(err);
        return 1;
    }
    if (strcmp(cmd, "list") == 0) {
        rc = db_user_list(db, print_user, NULL, &err) ? 0 : 1;
    } else if (strcmp(cmd, "import") == 0) {
        rc = user_import(db, cfg->pwhash);
    } else if (strcmp(cmd, "del") == 0) {
        rc = db_user_del(db, name, &err) ? 0 : 1;
    } else {
        bool add = strcmp(cmd, "add") == 0;
        g_autofree char *prompt = g_strdup_printf("Password for %s: ", name);
        char hash[AUTH_HASH_MAX];
        char *pw;

        if (add && db_user_exists(db, name)) {
            g_printerr("vid-signaling-server: user %s already exists\n", name);
            db_close(db);
            return 1;
        }
        if (!add && !db_user_exists(db, name)) {
            g_printerr("vid-signaling-server: no user %s\n", name);
            db_close(db);
            return 1;
        }
        pw = read_password(prompt, true);
        if (pw == NULL) {
            db_close(db);
            return 1;
        }
        if (!auth_hash(cfg->pwhash, pw, hash)) {
            g_printerr("vid-signaling-server: hashing failed\n");
        } else if (add ? db_user_add(db, name, hash, &err)
                       : db_user_set_hash(db, name, hash, &err)) {
            g_printerr("vid-signaling-server: %s %s\n",
                       add ? "added user" : "changed the password of", name);
            rc = 0;
        }
        sodium_memzero(pw, strlen(pw));
        g_free(pw);
    }
    if (err != NULL) {
        g_printerr("vid-signaling-server: %s\n", err->message);
        g_error_free(err);
    }
    db_close(db);
    return rc;
}

int main(int argc, char **argv)
{
    g_autoptr(GOptionContext) oc = NULL;
    GError *err = NULL;
    server_config cfg;
    int rc;

    setlocale(LC_ALL, "");
    oc = g_option_context_new("[user add|passwd|del NAME | user list | user "
                              "import]");
    g_option_context_set_summary(
        oc, "The vid.v1 signaling server: accounts, presence, call routing "
            "and policy over one TLS WebSocket port.\n"
            "Without a command it serves until SIGTERM.");
    g_option_context_set_description(
        oc, "Passwords are read from the terminal without echo, or one line "
            "from stdin; never from the command line.\n"
            "See signaling-server/vid-signaling-server.conf.example and "
            "docs/server.md.");
    g_option_context_add_main_entries(oc, entries, NULL);
    if (!g_option_context_parse(oc, &argc, &argv, &err)) {
        g_printerr("vid-signaling-server: %s (try --help)\n", err->message);
        g_error_free(err);
        return 2;
    }
    if (opt_version) {
        g_print("vid-signaling-server %s\n", VID_VERSION);
        return 0;
    }
    log_setup(opt_debug);
    config_defaults(&cfg);
    if (!config_load(&cfg, opt_config, &err))
        goto bad_config;
    if (opt_state_dir != NULL) {
        g_free(cfg.state_dir);
        cfg.state_dir = g_strdup(opt_state_dir);
    }
    if (opt_listen != NULL) {
        g_free(cfg.listen);
        cfg.listen = g_strdup(opt_listen);
    }
    if (opt_port != 0) {
        if (opt_port < 1 || opt_port > 65535) {
            g_printerr("vid-signaling-server: --port %d is not 1-65535\n",
                       opt_port);
            return 2;
        }
        cfg.port = opt_port;
    }
    if (opt_debug)
        cfg.debug_log = true;
    log_setup(cfg.debug_log);
    if (!config_check(&cfg, &err))
        goto bad_config;

    if (opt_firewall) {
        char *rules = firewall_rules(&cfg);
        g_print("%s", rules);
        g_free(rules);
        rc = 0;
    } else if (argc > 1 && strcmp(argv[1], "user") == 0) {
        rc = user_command(&cfg, argc - 1, argv + 1);
    } else if (argc > 1) {
        g_printerr("vid-signaling-server: unknown command '%s' (try "
                   "--help)\n",
                   argv[1]);
        rc = 2;
    } else {
        rc = server_run(&cfg);
    }
    config_clear(&cfg);
    g_free(opt_config);
    g_free(opt_state_dir);
    g_free(opt_listen);
    return rc;
bad_config:
    g_printerr("vid-signaling-server: %s\n", err->message);
    g_error_free(err);
    config_clear(&cfg);
    return 1;
}
