/*
 * vid-test-server.c — run a real vid-signaling-server for tests.
 */
#include "vid-test.h"

#include <arpa/inet.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

struct vid_test_server {
    char *dir;
    char *conf;
    int port;
    int admin_port;
    char *url;
    char *admin_url;
    char *ca_file;
    GSubprocess *proc;
    GInputStream *out;
};

#define READY_TIMEOUT_MS 60000

static const char *server_bin(void)
{
    const char *bin = g_getenv("VID_SERVER_BIN");
#ifdef VID_SERVER_BIN_DEFAULT
    if (bin == NULL || bin[0] == '\0')
        bin = VID_SERVER_BIN_DEFAULT;
#endif
    if (bin == NULL || bin[0] == '\0')
        g_error("VID_SERVER_BIN is not set (path of vid-signaling-server)");
    return bin;
}

static int free_port(void)
{
    struct sockaddr_in sa = {0};
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof sa) != 0 ||
        getsockname(fd, (struct sockaddr *) &sa, &len) != 0)
        g_error("cannot find a free port: %s", g_strerror(errno));
    close(fd);
    return ntohs(sa.sin_port);
}

static GPtrArray *base_argv(void)
{
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    const char *wrap = g_getenv("VID_TEST_SERVER_WRAPPER");

    if (wrap != NULL && wrap[0] != '\0') {
        char **w = NULL;
        GError *err = NULL;
        if (!g_shell_parse_argv(wrap, NULL, &w, &err))
            g_error("VID_TEST_SERVER_WRAPPER: %s", err->message);
        for (int i = 0; w[i] != NULL; i++)
            g_ptr_array_add(a, g_strdup(w[i]));
        g_strfreev(w);
    }
    g_ptr_array_add(a, g_strdup(server_bin()));
    return a;
}

typedef struct {
    char *line;
    gboolean done;
} line_wait;

static void line_cb(GObject *src, GAsyncResult *res, gpointer data)
{
    line_wait *w = data;
    w->line = g_data_input_stream_read_line_finish_utf8(
        G_DATA_INPUT_STREAM(src), res, NULL, NULL);
    w->done = TRUE;
}

static gboolean timeout_cb(gpointer data)
{
    *(gboolean *) data = TRUE;
    return G_SOURCE_REMOVE;
}

/* The server must not outlive a test process that crashed or timed out. */
static void child_setup(gpointer data)
{
    (void) data;
    prctl(PR_SET_PDEATHSIG, SIGTERM);
}

static void launch(vid_test_server *s)
{
    GSubprocessLauncher *l;
    GPtrArray *argv = base_argv();
    GError *err = NULL;
    GMainContext *ctx = g_main_context_new();
    GDataInputStream *in;
    GSource *t;
    gboolean timed_out = FALSE;
    line_wait w = {0};

    g_ptr_array_add(argv, g_strdup("--config"));
    g_ptr_array_add(argv, g_strdup(s->conf));
    g_ptr_array_add(argv, NULL);
    l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
    g_subprocess_launcher_set_child_setup(l, child_setup, NULL, NULL);
    s->proc = g_subprocess_launcher_spawnv(l, (const char *const *) argv->pdata,
                                           &err);
    g_object_unref(l);
    if (s->proc == NULL)
        g_error("cannot start %s: %s", server_bin(), err->message);
    g_ptr_array_free(argv, TRUE);

    g_main_context_push_thread_default(ctx);
    in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(s->proc));
    t = g_timeout_source_new(READY_TIMEOUT_MS);
    g_source_set_callback(t, timeout_cb, &timed_out, NULL);
    g_source_attach(t, ctx);
    for (;;) {
        w.done = FALSE;
        w.line = NULL;
        g_data_input_stream_read_line_async(in, G_PRIORITY_DEFAULT, NULL,
                                            line_cb, &w);
        while (!w.done)
            g_main_context_iteration(ctx, TRUE);
        if (w.line == NULL)
            g_error("vid-signaling-server exited before it was ready "
                    "(see its stderr above)");
        if (strstr(w.line, "listening on") != NULL)
            break;
        g_free(w.line);
        if (timed_out)
            g_error("vid-signaling-server did not get ready in %d ms",
                    READY_TIMEOUT_MS);
    }
    g_free(w.line);
    g_source_destroy(t);
    g_source_unref(t);
    g_main_context_pop_thread_default(ctx);
    /* Keep the pipe open; the server writes nothing more to stdout. */
    s->out = G_INPUT_STREAM(in);
    g_main_context_unref(ctx);
}

static void merge_keyfile(GKeyFile *base, const char *extra)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    GError *err = NULL;
    char **groups;

    if (!g_key_file_load_from_data(kf, extra, (gsize) -1, G_KEY_FILE_NONE,
                                   &err))
        g_error("extra_config is not GKeyFile text: %s", err->message);
    groups = g_key_file_get_groups(kf, NULL);
    for (int i = 0; groups[i] != NULL; i++) {
        char **keys = g_key_file_get_keys(kf, groups[i], NULL, NULL);
        for (int k = 0; keys != NULL && keys[k] != NULL; k++) {
            char *v = g_key_file_get_value(kf, groups[i], keys[k], NULL);
            g_key_file_set_value(base, groups[i], keys[k], v);
            g_free(v);
        }
        g_strfreev(keys);
    }
    g_strfreev(groups);
}

vid_test_server *vid_test_server_start(const char *extra_config)
{
    vid_test_server *s = g_new0(vid_test_server, 1);
    g_autoptr(GKeyFile) kf = g_key_file_new();
    GError *err = NULL;

    s->dir = g_dir_make_tmp("vid-test-server-XXXXXX", &err);
    if (s->dir == NULL)
        g_error("temp dir: %s", err->message);
    s->port = free_port();
    do {
        s->admin_port = free_port();
    } while (s->admin_port == s->port);
    g_key_file_set_string(kf, "server", "listen", "127.0.0.1");
    g_key_file_set_integer(kf, "server", "port", s->port);
    g_key_file_set_string(kf, "server", "state_dir", s->dir);
    g_key_file_set_string(kf, "admin", "listen", "127.0.0.1");
    g_key_file_set_integer(kf, "admin", "port", s->admin_port);
    g_key_file_set_string(kf, "auth", "pwhash", "min");
    if (extra_config != NULL)
        merge_keyfile(kf, extra_config);
    s->conf = g_build_filename(s->dir, "server.conf", NULL);
    if (!g_key_file_save_to_file(kf, s->conf, &err))
        g_error("%s: %s", s->conf, err->message);
    s->url = g_strdup_printf("wss://127.0.0.1:%d/", s->port);
    s->admin_url = g_strdup_printf("http://127.0.0.1:%d", s->admin_port);
    s->ca_file = g_build_filename(s->dir, "cert.pem", NULL);
    launch(s);
    return s;
}

const char *vid_test_server_url(vid_test_server *s)
{
    return s->url;
}

const char *vid_test_server_ca_file(vid_test_server *s)
{
    return s->ca_file;
}

const char *vid_test_server_admin_url(vid_test_server *s)
{
    return s->admin_url;
}

const char *vid_test_server_config_file(vid_test_server *s)
{
    return s->conf;
}

int vid_test_server_terminate(vid_test_server *s)
{
    GError *err = NULL;
    int status;

    if (s->proc == NULL)
        return 0;
    g_subprocess_send_signal(s->proc, SIGTERM);
    if (!g_subprocess_wait(s->proc, NULL, &err))
        g_error("waiting for the server: %s", err->message);
    status = g_subprocess_get_if_exited(s->proc)
                 ? g_subprocess_get_exit_status(s->proc)
                 : -1;
    g_clear_object(&s->out);
    g_clear_object(&s->proc);
    return status;
}

void vid_test_server_restart(vid_test_server *s)
{
    int status = vid_test_server_terminate(s);
    if (status != 0)
        g_error("the server exited with status %d on SIGTERM", status);
    launch(s);
}

static void rm_rf(const char *path)
{
    GDir *d = g_dir_open(path, 0, NULL);
    const char *name;

    while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
        g_autofree char *p = g_build_filename(path, name, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_DIR) &&
            !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
            rm_rf(p);
        else
            g_unlink(p);
    }
    if (d != NULL)
        g_dir_close(d);
    g_rmdir(path);
}

void vid_test_server_stop(vid_test_server *s)
{
    if (s == NULL)
        return;
    int status = vid_test_server_terminate(s);
    if (status != 0)
        g_error("vid-signaling-server exited with status %d on SIGTERM "
                "(see its stderr)",
                status);
    if (g_getenv("VID_TEST_KEEP_STATE") == NULL)
        rm_rf(s->dir);
    g_free(s->dir);
    g_free(s->conf);
    g_free(s->url);
    g_free(s->admin_url);
    g_free(s->ca_file);
    g_free(s);
}

int vid_test_server_run(vid_test_server *s, const char *stdin_text, char **out,
                        char **err_out, ...)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    GSubprocessLauncher *launcher;
    GSubprocess *p;
    GError *err = NULL;
    char *o = NULL, *e = NULL;
    char *stdin_path = NULL;
    const char *arg;
    va_list ap;
    int status;

    g_ptr_array_add(argv, g_strdup(server_bin()));
    if (s != NULL) {
        g_ptr_array_add(argv, g_strdup("--config"));
        g_ptr_array_add(argv, g_strdup(s->conf));
    }
    va_start(ap, err_out);
    while ((arg = va_arg(ap, const char *)) != NULL)
        g_ptr_array_add(argv, g_strdup(arg));
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    /* stdin comes from a file, not a pipe: a command that exits before
     * reading it (a refused user name) must not make the write fail with
     * EPIPE, which depends on timing. */
    launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                         G_SUBPROCESS_FLAGS_STDERR_PIPE);
    if (stdin_text != NULL) {
        int fd = g_file_open_tmp("vid-test-stdin-XXXXXX", &stdin_path, &err);
        if (fd < 0)
            g_error("cannot write the command's input: %s", err->message);
        close(fd);
        if (!g_file_set_contents(stdin_path, stdin_text, -1, &err))
            g_error("cannot write the command's input: %s", err->message);
        g_subprocess_launcher_set_stdin_file_path(launcher, stdin_path);
    }
    p = g_subprocess_launcher_spawnv(launcher,
                                     (const char *const *) argv->pdata, &err);
    if (p == NULL)
        g_error("cannot run %s: %s", server_bin(), err->message);
    g_ptr_array_free(argv, TRUE);
    if (!g_subprocess_communicate_utf8(p, NULL, NULL, &o, &e, &err))
        g_error("running the server command: %s", err->message);
    if (stdin_path != NULL) {
        g_unlink(stdin_path);
        g_free(stdin_path);
    }
    g_object_unref(launcher);
    status =
        g_subprocess_get_if_exited(p) ? g_subprocess_get_exit_status(p) : -1;
    g_object_unref(p);
    if (out != NULL)
        *out = o;
    else
        g_free(o);
    if (err_out != NULL)
        *err_out = e;
    else
        g_free(e);
    return status;
}

void vid_test_server_add_user(vid_test_server *s, const char *user,
                              const char *password)
{
    g_autofree char *in = g_strconcat(password, "\n", NULL);
    g_autofree char *err = NULL;
    int status =
        vid_test_server_run(s, in, NULL, &err, "user", "add", user, NULL);
    if (status != 0)
        g_error("user add %s failed (%d): %s", user, status, err);
}

char *vid_test_server_admin_get(vid_test_server *s, const char *path,
                                guint *status)
{
    g_autoptr(SoupSession) session = soup_session_new();
    g_autofree char *url = g_strconcat(s->admin_url, path, NULL);
    g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
    GBytes *body;
    char *text;

    body = soup_session_send_and_read(session, msg, NULL, NULL);
    if (status != NULL)
        *status = soup_message_get_status(msg);
    if (body == NULL)
        return NULL;
    text = g_strndup(g_bytes_get_data(body, NULL), g_bytes_get_size(body));
    g_bytes_unref(body);
    return text;
}

char *vid_test_fingerprint(guint n)
{
    GString *s = g_string_new("sha-256 ");
    for (int i = 0; i < 32; i++)
        g_string_append_printf(s, "%s%02X", i ? ":" : "",
                               (guint) ((n * 131u + (guint) i * 7u) & 0xff));
    return g_string_free(s, FALSE);
}
