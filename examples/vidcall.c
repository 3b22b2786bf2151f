/*
 * vidcall — command-line caller on top of the public libvid API.
 *
 *   vidcall [OPTION...] online PEER
 *
 * Logs in to the signaling server, subscribes to PEER's presence and
 * exits 0 as soon as PEER has a device online. Uses only <vid/vid.h>;
 * events are delivered on GLib's default main context.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <vid/vid.h>

#include "vid-version.h"

enum {
    EXIT_OK = 0,
    EXIT_USAGE = 1,
    EXIT_SETUP = 2,
    EXIT_NETWORK = 3,
    EXIT_TLS = 4,
    EXIT_AUTH = 5,
    EXIT_TIMEOUT = 6,
    EXIT_PROTOCOL = 7,
};

static char *opt_server = NULL;
static char *opt_ca_file = NULL;
static char *opt_user = NULL;
static char *opt_password_file = NULL;
static char *opt_state_dir = NULL;
static char *opt_device = NULL;
static int opt_timeout = 30;
static int opt_linger = 0;
static gboolean opt_version = FALSE;

static const GOptionEntry entries[] = {
    {"server", 's', 0, G_OPTION_ARG_STRING, &opt_server,
     "Signaling server (default wss://localhost:8443/)", "URL"},
    {"ca-file", 0, 0, G_OPTION_ARG_FILENAME, &opt_ca_file,
     "Trust the CAs in this PEM file instead of the system's", "FILE"},
    {"user", 'u', 0, G_OPTION_ARG_STRING, &opt_user, "Log in as USER", "USER"},
    {"password-file", 'p', 0, G_OPTION_ARG_FILENAME, &opt_password_file,
     "Read the password from the first line of FILE (default: stdin)", "FILE"},
    {"state-dir", 'd', 0, G_OPTION_ARG_FILENAME, &opt_state_dir,
     "Device identity directory (default ~/.local/state/vid)", "DIR"},
    {"device", 0, 0, G_OPTION_ARG_STRING, &opt_device,
     "This device's name (default: host name)", "NAME"},
    {"timeout", 't', 0, G_OPTION_ARG_INT, &opt_timeout,
     "Give up after S seconds (default 30)", "S"},
    {"linger", 0, 0, G_OPTION_ARG_INT, &opt_linger,
     "Stay logged in S seconds after PEER is seen online (default 0), so "
     "that PEER sees us too",
     "S"},
    {"version", 'V', 0, G_OPTION_ARG_NONE, &opt_version,
     "Print the version and exit", NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL},
};

typedef struct {
    GMainLoop *loop;
    const char *server;
    const char *user;
    const char *peer;
    uint64_t subscribe_id;
    int logged_in_once;
    int exit_code;
    guint timeout_id;
    gboolean peer_seen;
} app;

static void finish(app *a, int code)
{
    a->exit_code = code;
    g_main_loop_quit(a->loop);
}

static void print_logged_in(app *a, vid_client *c, const vid_event *ev)
{
    vid_policy *p = NULL;
    GString *s = g_string_new(NULL);

    if (vid_client_get_policy(c, &p) == VID_OK) {
        g_string_append_printf(
            s, "ice %s, %zu ICE server%s",
            p->ice_transport_policy == VID_ICE_TRANSPORT_RELAY ? "relay only"
                                                               : "all",
            p->n_ice_servers, p->n_ice_servers == 1 ? "" : "s");
        if (p->media_port_min != 0 || p->media_port_max != 0)
            g_string_append_printf(s, ", media ports %u-%u", p->media_port_min,
                                   p->media_port_max);
        else
            g_string_append(s, ", any media port");
        vid_policy_free(p);
    } else {
        g_string_append(s, "none");
    }
    printf("%s: logged in to %s as device %s (policy: %s)\n", ev->user,
           a->server, ev->device, s->str);
    fflush(stdout);
    g_string_free(s, TRUE);
}

static void peer_seen(app *a);

static void on_event(vid_client *c, const vid_event *ev, void *data)
{
    app *a = data;

    switch (ev->type) {
    case VID_EVENT_LOGGED_IN: {
        const char *peers[] = {a->peer};
        a->logged_in_once = 1;
        print_logged_in(a, c, ev);
        if (vid_client_subscribe_presence(c, peers, 1, &a->subscribe_id) !=
            VID_OK) {
            fprintf(stderr, "vidcall: %s\n", vid_client_last_error(c));
            finish(a, EXIT_USAGE);
        }
        break;
    }
    case VID_EVENT_LOGIN_FAILED:
        if (ev->retry_after > 0)
            fprintf(stderr,
                    "vidcall: login as %s refused: %s (retry after "
                    "%d s)\n",
                    a->user, ev->message, ev->retry_after);
        else
            fprintf(stderr, "vidcall: login as %s refused: %s\n", a->user,
                    ev->message);
        finish(a, EXIT_AUTH);
        break;
    case VID_EVENT_DISCONNECTED:
        /* Before the first login, a failure is a set-up problem: report
         * it instead of retrying until the timeout. */
        if (ev->will_reconnect && a->logged_in_once) {
            fprintf(stderr, "vidcall: %s; reconnecting in %.1f s\n",
                    ev->message, ev->reconnect_delay_ms / 1000.0);
            break;
        }
        fprintf(stderr, "vidcall: %s\n", ev->message);
        finish(a, ev->code == VID_ETLS ? EXIT_TLS : EXIT_NETWORK);
        break;
    case VID_EVENT_PRESENCE:
        if (ev->online && ev->user != NULL && strcmp(ev->user, a->peer) == 0) {
            printf("%s is online (device %s, fingerprint %s)\n", ev->user,
                   ev->device != NULL ? ev->device : "?",
                   ev->fingerprint != NULL ? ev->fingerprint : "none");
            fflush(stdout);
            peer_seen(a);
        } else if (!ev->online && ev->device == NULL) {
            printf("%s is offline; waiting\n", ev->user);
            fflush(stdout);
        }
        break;
    case VID_EVENT_ERROR:
        fprintf(stderr, "vidcall: server error: %s (%s)\n",
                ev->message != NULL ? ev->message : "", vid_strerror(ev->code));
        if (ev->request_id != 0 && ev->request_id == a->subscribe_id)
            finish(a, EXIT_PROTOCOL);
        break;
    default:
        break;
    }
}

static gboolean on_linger_done(gpointer data)
{
    finish(data, EXIT_OK);
    return G_SOURCE_REMOVE;
}

/* PEER is online: done, or stay logged in --linger seconds first. */
static void peer_seen(app *a)
{
    if (a->peer_seen)
        return;
    a->peer_seen = TRUE;
    if (opt_linger == 0) {
        finish(a, EXIT_OK);
        return;
    }
    g_source_remove(a->timeout_id);
    a->timeout_id =
        g_timeout_add_seconds((guint) opt_linger, on_linger_done, a);
}

static gboolean on_timeout(gpointer data)
{
    app *a = data;

    fprintf(stderr, "vidcall: %s did not come online within %d s\n", a->peer,
            opt_timeout);
    finish(a, EXIT_TIMEOUT);
    return G_SOURCE_REMOVE;
}

/* The first line of @path ("-" or NULL: stdin), without its newline. */
static char *read_password(const char *path, GError **error)
{
    char *text = NULL;
    char *nl;

    if (path != NULL && strcmp(path, "-") != 0) {
        if (!g_file_get_contents(path, &text, NULL, error))
            return NULL;
    } else {
        GString *s = g_string_new(NULL);
        int ch;
        if (isatty(STDIN_FILENO))
            fprintf(stderr, "Password: ");
        while ((ch = getchar()) != EOF && ch != '\n')
            g_string_append_c(s, (char) ch);
        text = g_string_free(s, FALSE);
    }
    nl = strpbrk(text, "\r\n");
    if (nl != NULL)
        *nl = '\0';
    if (text[0] == '\0') {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "the password is empty");
        g_free(text);
        return NULL;
    }
    return text;
}

int main(int argc, char **argv)
{
    GOptionContext *octx;
    GError *error = NULL;
    vid_client_options opts = VID_CLIENT_OPTIONS_INIT;
    vid_client *client = NULL;
    char *password = NULL;
    app a = {0};
    int rc;

    octx = g_option_context_new("online PEER");
    g_option_context_set_summary(
        octx, "Command-line caller of libvid.\n\n"
              "Commands:\n"
              "  online PEER   log in, wait until PEER has a device online");
    g_option_context_set_description(
        octx, "The password is read from --password-file or stdin, never "
              "from the command line.\n\n"
              "Exit status:\n"
              "  0  success (PEER is online)\n"
              "  1  usage error\n"
              "  2  set-up error (state directory, identity, CA file)\n"
              "  3  cannot reach the server / connection lost\n"
              "  4  TLS failure (server certificate not trusted)\n"
              "  5  login refused (bad credentials, throttled)\n"
              "  6  timeout\n"
              "  7  protocol or server error\n");
    g_option_context_add_main_entries(octx, entries, NULL);
    if (!g_option_context_parse(octx, &argc, &argv, &error)) {
        fprintf(stderr, "vidcall: %s (try --help)\n", error->message);
        g_error_free(error);
        g_option_context_free(octx);
        return EXIT_USAGE;
    }
    g_option_context_free(octx);
    if (opt_version) {
        printf("vidcall %s (libvid %s)\n", VID_VERSION, vid_version());
        return EXIT_OK;
    }
    if (argc != 3 || strcmp(argv[1], "online") != 0) {
        fprintf(stderr, "vidcall: usage: vidcall [OPTION...] online PEER "
                        "(try --help)\n");
        return EXIT_USAGE;
    }
    if (opt_user == NULL) {
        fprintf(stderr, "vidcall: --user is required\n");
        return EXIT_USAGE;
    }
    if (opt_linger < 0 || opt_linger > 3600) {
        fprintf(stderr, "vidcall: --linger must be 0 to 3600 seconds\n");
        return EXIT_USAGE;
    }
    if (opt_timeout <= 0) {
        fprintf(stderr, "vidcall: --timeout must be positive\n");
        return EXIT_USAGE;
    }
    password = read_password(opt_password_file, &error);
    if (password == NULL) {
        fprintf(stderr, "vidcall: cannot read the password: %s\n",
                error->message);
        g_error_free(error);
        return EXIT_USAGE;
    }

    a.loop = g_main_loop_new(NULL, FALSE);
    a.server = opt_server != NULL ? opt_server : "wss://localhost:8443/";
    a.user = opt_user;
    a.peer = argv[2];
    a.exit_code = EXIT_PROTOCOL;

    opts.server_url = a.server;
    opts.ca_file = opt_ca_file;
    opts.state_dir = opt_state_dir;
    opts.device_name = opt_device;
    opts.main_context = g_main_context_default();
    rc = vid_client_new(&client, &opts);
    if (rc != VID_OK) {
        fprintf(stderr, "vidcall: %s\n", vid_client_last_error(NULL));
        a.exit_code = rc == VID_EINVAL ? EXIT_USAGE : EXIT_SETUP;
        goto done;
    }
    vid_client_set_event_callback(client, on_event, &a);
    rc = vid_client_login(client, opt_user, password, NULL);
    if (rc != VID_OK) {
        fprintf(stderr, "vidcall: %s\n", vid_client_last_error(client));
        a.exit_code = EXIT_USAGE;
        goto done;
    }
    a.timeout_id = g_timeout_add_seconds((guint) opt_timeout, on_timeout, &a);
    g_main_loop_run(a.loop);
done:
    vid_client_free(client);
    if (password != NULL) {
        memset(password, 0, strlen(password));
        g_free(password);
    }
    g_main_loop_unref(a.loop);
    g_free(opt_server);
    g_free(opt_ca_file);
    g_free(opt_user);
    g_free(opt_password_file);
    g_free(opt_state_dir);
    g_free(opt_device);
    return a.exit_code;
}
