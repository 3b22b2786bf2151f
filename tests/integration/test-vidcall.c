/*
 * test-vidcall.c — the vidcall CLI (examples/vidcall.c) as a user runs it,
 * against a real server: the README demo ("online PEER") and the exit
 * status of each failure documented in --help.
 *
 * $VIDCALL_BIN names the binary (set by meson test).
 */
#include <string.h>

#include <glib.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>

#include "vid-test.h"

static vid_test_server *server;
static char *tmp_root;
static const char *vidcall_bin;

typedef struct {
    int status;
    char *out;
    char *err;
} result;

static void result_clear(result *r)
{
    g_free(r->out);
    g_free(r->err);
}

static char *password_file(const char *name, const char *password)
{
    char *path = g_build_filename(tmp_root, name, NULL);

    g_assert_true(g_file_set_contents(path, password, -1, NULL));
    return path;
}

/* Run vidcall with @args (NULL-terminated), @stdin_text on stdin. */
static result run_vidcall(const char *stdin_text, const char *const *args)
{
    GPtrArray *argv = g_ptr_array_new();
    GSubprocess *p;
    GError *error = NULL;
    result r = {0};

    g_ptr_array_add(argv, (gpointer) vidcall_bin);
    for (const char *const *a = args; *a != NULL; a++)
        g_ptr_array_add(argv, (gpointer) *a);
    g_ptr_array_add(argv, NULL);
    p = g_subprocess_newv((const char *const *) argv->pdata,
                          G_SUBPROCESS_FLAGS_STDIN_PIPE |
                              G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                              G_SUBPROCESS_FLAGS_STDERR_PIPE,
                          &error);
    g_assert_no_error(error);
    g_assert_true(g_subprocess_communicate_utf8(p, stdin_text, NULL, &r.out,
                                                &r.err, &error));
    g_assert_no_error(error);
    r.status =
        g_subprocess_get_if_exited(p) ? g_subprocess_get_exit_status(p) : -1;
    if (g_test_verbose())
        g_printerr("  vidcall exit %d\n  out: %s  err: %s\n", r.status, r.out,
                   r.err);
    g_object_unref(p);
    g_ptr_array_free(argv, TRUE);
    return r;
}

static void test_help_and_version(void)
{
    const char *help[] = {"--help", NULL};
    const char *version[] = {"--version", NULL};
    const char *bad[] = {"frobnicate", NULL};
    result r;

    r = run_vidcall(NULL, help);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "online PEER"));
    g_assert_nonnull(strstr(r.out, "Exit status"));
    result_clear(&r);
    r = run_vidcall(NULL, version);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_true(g_str_has_prefix(r.out, "vidcall "));
    result_clear(&r);
    r = run_vidcall(NULL, bad);
    g_assert_cmpint(r.status, ==, 1);
    g_assert_nonnull(strstr(r.err, "usage"));
    result_clear(&r);
}

typedef struct {
    GSubprocess *proc;
    char *out;
} bg;

static void test_online(void)
{
    char *bob_pw = password_file("bob.pw", "bob-password\n");
    char *bob_dir = g_build_filename(tmp_root, "bob", NULL);
    char *alice_dir = g_build_filename(tmp_root, "alice", NULL);
    const char *ca = vid_test_server_ca_file(server);
    const char *url = vid_test_server_url(server);
    GError *error = NULL;
    GSubprocess *bob;
    result r;
    char *expect;

    /* bob stays online (waiting for a user that never comes). */
    bob = g_subprocess_new(
        G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
        &error, vidcall_bin, "--server", url, "--ca-file", ca, "--user", "bob",
        "--password-file", bob_pw, "--state-dir", bob_dir, "--device", "phone",
        "--timeout", "60", "online", "nobody", NULL);
    g_assert_no_error(error);

    /* alice: password on stdin, waits for bob. */
    {
        const char *args[] = {"--server", url,      "--ca-file",   ca,
                              "--user",   "alice",  "--state-dir", alice_dir,
                              "--device", "laptop", "--timeout",   "20",
                              "online",   "bob",    NULL};
        r = run_vidcall("alice-password\n", args);
    }
    g_assert_cmpint(r.status, ==, 0);
    expect = g_strdup_printf("alice: logged in to %s", url);
    g_assert_nonnull(strstr(r.out, expect));
    g_assert_nonnull(strstr(r.out, "(policy: "));
    g_assert_nonnull(strstr(r.out, "bob is online (device phone, "
                                   "fingerprint sha-256 "));
    g_free(expect);
    result_clear(&r);

    g_subprocess_send_signal(bob, SIGTERM);
    g_subprocess_wait(bob, NULL, NULL);
    g_object_unref(bob);
    g_free(bob_pw);
    g_free(bob_dir);
    g_free(alice_dir);
}

/* The README demo: two vidcalls started together each see the other.
 * Without --linger the first to see its peer would log out at once and
 * the second would wait for nothing. */
static void test_both_see_each_other(void)
{
    char *bob_pw = password_file("bob2.pw", "bob-password\n");
    char *alice_pw = password_file("alice2.pw", "alice-password\n");
    char *bob_dir = g_build_filename(tmp_root, "bob2", NULL);
    char *alice_dir = g_build_filename(tmp_root, "alice2", NULL);
    const char *ca = vid_test_server_ca_file(server);
    const char *url = vid_test_server_url(server);
    GError *error = NULL;
    GSubprocess *bob;
    char *bob_out = NULL;
    result r;

    bob = g_subprocess_new(
        G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
        &error, vidcall_bin, "--server", url, "--ca-file", ca, "--user", "bob",
        "--password-file", bob_pw, "--state-dir", bob_dir, "--device", "desk",
        "--linger", "2", "--timeout", "30", "online", "alice", NULL);
    g_assert_no_error(error);
    {
        const char *args[] = {"--server",    url,       "--ca-file", ca,
                              "--user",      "alice",   "-p",        alice_pw,
                              "--state-dir", alice_dir, "--device",  "laptop",
                              "--linger",    "2",       "--timeout", "30",
                              "online",      "bob",     NULL};
        r = run_vidcall(NULL, args);
    }
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "bob is online (device desk"));
    result_clear(&r);
    g_assert_true(
        g_subprocess_communicate_utf8(bob, NULL, NULL, &bob_out, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(g_subprocess_get_if_exited(bob));
    g_assert_cmpint(g_subprocess_get_exit_status(bob), ==, 0);
    g_assert_nonnull(strstr(bob_out, "alice is online (device laptop"));
    g_free(bob_out);
    g_object_unref(bob);
    g_free(bob_pw);
    g_free(alice_pw);
    g_free(bob_dir);
    g_free(alice_dir);
}

static void test_exit_codes(void)
{
    const char *ca = vid_test_server_ca_file(server);
    const char *url = vid_test_server_url(server);
    char *dir = g_build_filename(tmp_root, "carol", NULL);
    char *wrong_ca = g_build_filename(dir, "identity-cert.pem", NULL);
    char *pw = password_file("alice.pw", "alice-password");
    result r;

    {
        /* 6: the peer never comes online. Also creates carol's identity,
         * whose certificate serves as a wrong CA below. */
        const char *args[] = {"-s",    url,  "--ca-file", ca,       "-u",
                              "alice", "-p", pw,          "-d",     dir,
                              "-t",    "1",  "online",    "nobody", NULL};
        r = run_vidcall(NULL, args);
        g_assert_cmpint(r.status, ==, 6);
        g_assert_nonnull(strstr(r.err, "did not come online"));
        result_clear(&r);
    }
    {
        /* 5: wrong password. */
        const char *args[] = {"-s", url, "--ca-file", ca,    "-u", "alice",
                              "-d", dir, "online",    "bob", NULL};
        r = run_vidcall("wrong\n", args);
        g_assert_cmpint(r.status, ==, 5);
        g_assert_nonnull(strstr(r.err, "refused"));
        result_clear(&r);
    }
    {
        /* 4: the server's certificate is not signed by the given CA. */
        const char *args[] = {"-s",     url,   "--ca-file", wrong_ca, "-u",
                              "alice",  "-p",  pw,          "-d",     dir,
                              "online", "bob", NULL};
        r = run_vidcall(NULL, args);
        g_assert_cmpint(r.status, ==, 4);
        g_assert_nonnull(strstr(r.err, "TLS"));
        result_clear(&r);
    }
    {
        /* 3: nothing listens there. */
        const char *args[] = {"-s",        "wss://127.0.0.1:1/",
                              "--ca-file", ca,
                              "-u",        "alice",
                              "-p",        pw,
                              "-d",        dir,
                              "online",    "bob",
                              NULL};
        r = run_vidcall(NULL, args);
        g_assert_cmpint(r.status, ==, 3);
        result_clear(&r);
    }
    {
        /* 2: unusable state directory. */
        const char *args[] = {
            "-s", url,  "--ca-file",    ca,       "-u",  "alice", "-p",
            pw,   "-d", "/proc/vid/no", "online", "bob", NULL};
        r = run_vidcall(NULL, args);
        g_assert_cmpint(r.status, ==, 2);
        g_assert_nonnull(strstr(r.err, "identity"));
        result_clear(&r);
    }
    {
        /* 1: usage errors: no user, bad URL, empty password. */
        const char *no_user[] = {"-s", url, "online", "bob", NULL};
        const char *bad_url[] = {"-s", "http://x/", "-u",     "alice", "-p", pw,
                                 "-d", dir,         "online", "bob",   NULL};
        const char *empty_pw[] = {"-s",     url,   "-u", "alice",
                                  "online", "bob", NULL};
        r = run_vidcall(NULL, no_user);
        g_assert_cmpint(r.status, ==, 1);
        result_clear(&r);
        r = run_vidcall(NULL, bad_url);
        g_assert_cmpint(r.status, ==, 1);
        g_assert_nonnull(strstr(r.err, "wss://"));
        result_clear(&r);
        r = run_vidcall("\n", empty_pw);
        g_assert_cmpint(r.status, ==, 1);
        g_assert_nonnull(strstr(r.err, "password"));
        result_clear(&r);
    }
    g_free(dir);
    g_free(wrong_ca);
    g_free(pw);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    vidcall_bin = g_getenv("VIDCALL_BIN");
    if (vidcall_bin == NULL) {
        g_printerr("VIDCALL_BIN is not set (run through meson test)\n");
        return 1;
    }
    /* vidcall under AddressSanitizer: see __asan_default_options() in
     * test-client.c; the children inherit this. */
    if (g_getenv("ASAN_OPTIONS") != NULL) {
        char *opts = g_strconcat(g_getenv("ASAN_OPTIONS"),
                                 ":intercept_tls_get_addr=0", NULL);
        g_setenv("ASAN_OPTIONS", opts, TRUE);
        g_free(opts);
    }
    tmp_root = g_dir_make_tmp("vid-test-vidcall-XXXXXX", NULL);
    server = vid_test_server_start(NULL);
    vid_test_server_add_user(server, "alice", "alice-password");
    vid_test_server_add_user(server, "bob", "bob-password");
    g_test_add_func("/vidcall/help-version", test_help_and_version);
    g_test_add_func("/vidcall/online", test_online);
    g_test_add_func("/vidcall/both-see-each-other", test_both_see_each_other);
    g_test_add_func("/vidcall/exit-codes", test_exit_codes);
    rc = g_test_run();
    vid_test_server_stop(server);
    {
        char *rm[] = {"rm", "-rf", tmp_root, NULL};
        g_spawn_sync(NULL, rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                     NULL, NULL, NULL);
    }
    g_free(tmp_root);
    return rc;
}
