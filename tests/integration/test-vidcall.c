/*
 * test-vidcall.c — the vidcall CLI (examples/vidcall.c) as a user runs it,
 * against a real server.
 *
 * /vidcall/cli/...: --help, option checks, `devices`, `online PEER` and the
 * exit status of each set-up failure documented in --help.
 * /vidcall/call/...: real calls between two vidcall processes with the
 * synthetic camera and microphone: a full call checked through
 * --stats-json (frames verified, same SAS) and the --record WebM
 * (demuxed with GStreamer), reject, busy, no answer, callee offline,
 * hang-up from the callee, Ctrl-C of the caller, a caller killed with
 * SIGKILL (exit 14 at the far end) and `listen` on a pseudo-terminal
 * (answer? [y/N]: y, n, Enter, the caller giving up while asked).
 *
 * $VIDCALL_BIN names the binary (set by meson test).
 */
#define _XOPEN_SOURCE 600 /* posix_openpt, grantpt, unlockpt, ptsname */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
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
    g_assert_nonnull(strstr(r.out, "call PEER"));
    g_assert_nonnull(strstr(r.out, "  answer "));
    g_assert_nonnull(strstr(r.out, "  listen "));
    g_assert_nonnull(strstr(r.out, "  devices "));
    g_assert_nonnull(strstr(r.out, "--auto-answer"));
    g_assert_nonnull(strstr(r.out, "--stats-json"));
    g_assert_nonnull(strstr(r.out, "Exit status"));
    g_assert_nonnull(strstr(r.out, " 15  device or media error"));
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

/* The text of man page section @name (".SH NAME" up to the next ".SH"),
 * with roff's "\-" as "-". */
static char *man_section(const char *man, const char *name)
{
    char *head = g_strdup_printf(".SH %s\n", name);
    const char *start = strstr(man, head);
    const char *end;
    char **parts;
    char *section, *text;

    if (start == NULL)
        g_error("the man page has no section %s", name);
    start += strlen(head);
    end = strstr(start, "\n.SH ");
    section =
        g_strndup(start, end != NULL ? (gsize) (end - start) : strlen(start));
    parts = g_strsplit(section, "\\-", -1);
    text = g_strjoinv("-", parts);
    g_strfreev(parts);
    g_free(section);
    g_free(head);
    return text;
}

/* Every option and exit status --help lists is in the man page
 * (docs/man/vidcall.1, $VIDCALL_MAN), with the same short option, and
 * the man page documents no option or exit status --help does not
 * list. */
static void test_help_matches_man(void)
{
    const char *man_path = g_getenv("VIDCALL_MAN");
    const char *help_args[] = {"--help", NULL};
    char *man = NULL, *options, *exits;
    GRegex *help_opt, *man_opt, *help_exit, *man_exit;
    GMatchInfo *m;
    GHashTable *in_help;
    guint n_opts = 0, n_exits = 0;
    result r;

    if (man_path == NULL) {
        g_test_skip("VIDCALL_MAN is not set");
        return;
    }
    g_assert_true(g_file_get_contents(man_path, &man, NULL, NULL));
    options = man_section(man, "OPTIONS");
    exits = man_section(man, "EXIT STATUS");
    r = run_vidcall(NULL, help_args);
    g_assert_cmpint(r.status, ==, 0);
    in_help = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    /* "  -s, --server=URL   ..." or "  --ca-file=FILE   ..." */
    help_opt = g_regex_new("^  (?:(-[a-zA-Z]), )?--([a-z][a-z-]*)",
                           G_REGEX_MULTILINE, 0, NULL);
    g_regex_match(help_opt, r.out, 0, &m);
    for (; g_match_info_matches(m); g_match_info_next(m, NULL)) {
        char *shrt = g_match_info_fetch(m, 1);
        char *name = g_match_info_fetch(m, 2);
        char *pattern;

        /* A tagged paragraph starting with the option (and its short
         * form, if any): ".BI -s \", \" --server \" URL\"". */
        if (shrt[0] != '\0')
            pattern = g_strdup_printf("^\\.B[IR]? %s \", \" --%s(?:[ \"]|$)",
                                      shrt, name);
        else
            pattern = g_strdup_printf("^\\.B[IR]? --%s(?:[ \"]|$)", name);
        if (strcmp(name, "help") != 0 &&
            !g_regex_match_simple(pattern, options, G_REGEX_MULTILINE, 0))
            g_error("--help lists %s%s--%s, the man page's OPTIONS do not "
                    "(looked for /%s/)",
                    shrt, shrt[0] != '\0' ? ", " : "", name, pattern);
        g_hash_table_add(in_help, g_strdup(name));
        n_opts++;
        g_free(pattern);
        g_free(shrt);
        g_free(name);
    }
    g_match_info_free(m);

    /* The other way: every option the man page describes. */
    man_opt = g_regex_new("^\\.B[IR]? (?:-[a-zA-Z] \", \" )?--([a-z][a-z-]*)",
                          G_REGEX_MULTILINE, 0, NULL);
    g_regex_match(man_opt, options, 0, &m);
    for (; g_match_info_matches(m); g_match_info_next(m, NULL)) {
        char *name = g_match_info_fetch(m, 1);
        if (!g_hash_table_contains(in_help, name))
            g_error("the man page describes --%s, --help does not list it",
                    name);
        g_free(name);
    }
    g_match_info_free(m);

    /* Exit statuses: " 14  network lost ..." in --help, ".B 14" in the
     * man page, the same set. */
    help_exit =
        g_regex_new("^ {0,2}([0-9]{1,3})  ", G_REGEX_MULTILINE, 0, NULL);
    g_assert_nonnull(strstr(r.out, "Exit status"));
    g_regex_match(help_exit, strstr(r.out, "Exit status"), 0, &m);
    for (; g_match_info_matches(m); g_match_info_next(m, NULL)) {
        char *code = g_match_info_fetch(m, 1);
        char *pattern = g_strdup_printf("^\\.B %s$", code);
        if (!g_regex_match_simple(pattern, exits, G_REGEX_MULTILINE, 0))
            g_error("--help lists exit status %s, the man page does not", code);
        n_exits++;
        g_free(pattern);
        g_free(code);
    }
    g_match_info_free(m);
    man_exit = g_regex_new("^\\.B [0-9]+$", G_REGEX_MULTILINE, 0, NULL);
    g_regex_match(man_exit, exits, 0, &m);
    for (; g_match_info_matches(m); g_match_info_next(m, NULL))
        n_exits--;
    g_match_info_free(m);
    g_assert_cmpint(n_exits, ==, 0);
    /* The parsing found what --help has (guards against a format
     * change making this test vacuous). */
    g_assert_cmpuint(n_opts, >=, 30);
    g_assert_true(g_hash_table_contains(in_help, "strict-identity"));

    g_regex_unref(help_opt);
    g_regex_unref(man_opt);
    g_regex_unref(help_exit);
    g_regex_unref(man_exit);
    g_hash_table_destroy(in_help);
    result_clear(&r);
    g_free(options);
    g_free(exits);
    g_free(man);
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

/* ---- option checks and devices (no server needed) --------------------- */

static void test_bad_values(void)
{
    static const struct {
        const char *args[8];
        const char *expect;
    } cases[] = {
        {{"call", "bob", "--size", "640", NULL}, "--size"},
        {{"call", "bob", "--size", "641x480", NULL}, "--size"},
        {{"call", "bob", "--size", "x480", NULL}, "--size"},
        {{"call", "bob", "--size", "160x120", NULL}, "--size"},
        {{"call", "bob", "--fps", "0", NULL}, "--fps"},
        {{"call", "bob", "--fps", "abc", NULL}, "fps"},
        {{"call", "bob", "--bitrate", "10", NULL}, "--bitrate"},
        {{"call", "bob", "--duration", "0", NULL}, "--duration"},
        {{"call", "bob", "--timeout", "-3", NULL}, "--timeout"},
        {{"call", "bob", "--record", "out.mp4", NULL}, ".webm"},
        {{"call", "bob", "--record", "/nonexistent/dir/x.webm", NULL},
         "directory"},
        {{"call", "bob", "--synthetic", "--camera", "x", NULL}, "--camera"},
        {{"call", "bob", "--auto-answer", NULL}, "--auto-answer"},
        {{"call", "bob", "--local-addresses", "eth0", NULL},
         "--local-addresses"},
        {{"listen", "--reject", "", NULL}, "--reject"},
        {{"listen", "--reject", "no", "--auto-answer", NULL}, "--reject"},
        {{"call", NULL}, "usage"},
        {{"answer", "bob", NULL}, "usage"},
        {{"dial", "bob", NULL}, "unknown command"},
        {{NULL}, "usage"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        result r = run_vidcall(NULL, cases[i].args);
        if (r.status != 1 || strstr(r.err, cases[i].expect) == NULL)
            g_error("case %zu (%s %s): exit %d, stderr '%s', wanted exit 1 "
                    "and '%s'",
                    i, cases[i].args[0] ? cases[i].args[0] : "",
                    cases[i].args[0] && cases[i].args[1] ? cases[i].args[1]
                                                         : "",
                    r.status, r.err, cases[i].expect);
        result_clear(&r);
    }
}

/* `devices` with every GStreamer device provider ranked out: no camera,
 * said clearly, exit 0, no server needed. */
#define NO_DEVICE_PROVIDERS                                                    \
    "v4l2deviceprovider:NONE,pulsedeviceprovider:NONE,"                        \
    "alsadeviceprovider:NONE,pipewiredeviceprovider:NONE,"                     \
    "libcameraprovider:NONE"

/* Run vidcall with every GStreamer device provider ranked out (as on a
 * machine without camera, microphone or sound card). */
static result run_without_devices(const char *const *args)
{
    GSubprocessLauncher *l = g_subprocess_launcher_new(
        G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
    GPtrArray *argv = g_ptr_array_new();
    GError *error = NULL;
    GSubprocess *p;
    result r = {0};

    g_subprocess_launcher_setenv(l, "GST_PLUGIN_FEATURE_RANK",
                                 NO_DEVICE_PROVIDERS, TRUE);
    g_ptr_array_add(argv, (gpointer) vidcall_bin);
    for (const char *const *a = args; *a != NULL; a++)
        g_ptr_array_add(argv, (gpointer) *a);
    g_ptr_array_add(argv, NULL);
    p = g_subprocess_launcher_spawnv(l, (const char *const *) argv->pdata,
                                     &error);
    g_assert_no_error(error);
    g_assert_true(
        g_subprocess_communicate_utf8(p, NULL, NULL, &r.out, &r.err, &error));
    g_assert_no_error(error);
    r.status =
        g_subprocess_get_if_exited(p) ? g_subprocess_get_exit_status(p) : -1;
    if (g_test_verbose())
        g_printerr("  vidcall exit %d\n  out: %s  err: %s\n", r.status, r.out,
                   r.err);
    g_object_unref(p);
    g_object_unref(l);
    g_ptr_array_free(argv, TRUE);
    return r;
}

/* `devices`: no camera, said clearly, exit 0, no server needed. */
static void test_devices_none(void)
{
    const char *args[] = {"devices", NULL};
    result r = run_without_devices(args);

    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "Cameras:"));
    g_assert_nonnull(strstr(r.out, "no camera found"));
    g_assert_nonnull(strstr(r.out, "Microphones:"));
    g_assert_nonnull(strstr(r.out, "Speakers:"));
    result_clear(&r);
}

/* A call without a camera (and without --synthetic): exit 15 with the
 * reason and a hint, before anything rings. */
static void test_call_without_camera(void)
{
    char *pw = password_file("alice-nocam.pw", "alice-password\n");
    char *dir = g_build_filename(tmp_root, "alice", NULL);
    const char *args[] = {"-s",          vid_test_server_url(server),
                          "--ca-file",   vid_test_server_ca_file(server),
                          "-u",          "alice",
                          "-p",          pw,
                          "-d",          dir,
                          "--no-window", "call",
                          "bob",         NULL};
    result r = run_without_devices(args);

    g_assert_cmpint(r.status, ==, 15);
    g_assert_nonnull(strstr(r.err, "no camera"));
    g_assert_nonnull(strstr(r.err, "--synthetic"));
    result_clear(&r);
    g_free(pw);
    g_free(dir);
}

/* ---- calls between two vidcall processes ------------------------------ */

/* One vidcall running in the background, output in files. */
typedef struct {
    GSubprocess *proc;
    char *out_path;
    char *err_path;
    int status; /* after party_wait */
    char *out;
    char *err;
    /* Under a pseudo-terminal (party_start_tty): stdin and stdout are the
     * terminal, everything it printed is in tty_out, tty_seen is how far
     * wait_tty_contains() has matched. */
    int tty_master;
    guint tty_watch;
    GString *tty_out;
    gsize tty_seen;
} party;

static char *tmp_file(const char *tag, const char *name)
{
    char *base = g_strdup_printf("%s-%s", tag, name);
    char *path = g_build_filename(tmp_root, base, NULL);

    g_free(base);
    g_unlink(path);
    return path;
}

/* Start vidcall as @user of @srv with the common options, state in
 * @state_dir (NULL: tmp_root/@user), then @args. */
static party *party_spawn(GSubprocessLauncher *l, gboolean out_to_file,
                          vid_test_server *srv, const char *tag,
                          const char *user, const char *state_dir,
                          const char *const *args)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    party *p = g_new0(party, 1);
    char *pw_name = g_strdup_printf("%s.pw", user);
    char *pw_text = g_strdup_printf("%s-password\n", user);
    char *pw = password_file(pw_name, pw_text);
    char *dir = state_dir != NULL ? g_strdup(state_dir)
                                  : g_build_filename(tmp_root, user, NULL);
    GError *error = NULL;

    {
        char *out = g_strconcat(user, ".out", NULL);
        char *err = g_strconcat(user, ".err", NULL);
        p->out_path = tmp_file(tag, out);
        p->err_path = tmp_file(tag, err);
        g_free(out);
        g_free(err);
    }
    p->tty_master = -1;
    if (out_to_file)
        g_subprocess_launcher_set_stdout_file_path(l, p->out_path);
    g_subprocess_launcher_set_stderr_file_path(l, p->err_path);
    g_ptr_array_add(argv, g_strdup(vidcall_bin));
    {
        const char *common[] = {"--server",
                                vid_test_server_url(srv),
                                "--ca-file",
                                vid_test_server_ca_file(srv),
                                "--user",
                                user,
                                "--password-file",
                                pw,
                                "--state-dir",
                                dir,
                                "--device-name",
                                "test",
                                "--no-window",
                                "--no-speaker",
                                "--local-addresses",
                                "127.0.0.1",
                                NULL};
        for (const char *const *a = common; *a != NULL; a++)
            g_ptr_array_add(argv, g_strdup(*a));
    }
    for (const char *const *a = args; *a != NULL; a++)
        g_ptr_array_add(argv, g_strdup(*a));
    g_ptr_array_add(argv, NULL);
    p->proc = g_subprocess_launcher_spawnv(l, (const char *const *) argv->pdata,
                                           &error);
    g_assert_no_error(error);
    g_ptr_array_free(argv, TRUE);
    g_free(pw_name);
    g_free(pw_text);
    g_free(pw);
    g_free(dir);
    return p;
}

static party *party_start_dir(vid_test_server *srv, const char *tag,
                              const char *user, const char *state_dir,
                              const char *const *args)
{
    GSubprocessLauncher *l =
        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_PIPE);
    party *p = party_spawn(l, TRUE, srv, tag, user, state_dir, args);

    g_object_unref(l);
    return p;
}

static party *party_start(vid_test_server *srv, const char *tag,
                          const char *user, const char *const *args)
{
    return party_start_dir(srv, tag, user, NULL, args);
}

/* Append what the terminal shows to tty_out; the watch ends when the
 * last holder of the terminal's other side (vidcall) has closed it. */
static gboolean on_tty_readable(gint fd, GIOCondition cond, gpointer data)
{
    party *p = data;
    char buf[4096];

    (void) cond;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0) {
            g_string_append_len(p->tty_out, buf, n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return G_SOURCE_CONTINUE;
        /* EOF or EIO: no process has the terminal open any more. */
        p->tty_watch = 0;
        return G_SOURCE_REMOVE;
    }
}

/* Start vidcall as @user like party_start(), with a pseudo-terminal as
 * its stdin and stdout (stderr still goes to a file). Echo and output
 * processing are off, so that what is read back is exactly what vidcall
 * wrote (no "\r" added before each "\n"). */
static party *party_start_tty(vid_test_server *srv, const char *tag,
                              const char *user, const char *const *args)
{
    GSubprocessLauncher *l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    struct termios t;
    int master, slave;
    const char *name;
    party *p;

    master = posix_openpt(O_RDWR | O_NOCTTY);
    g_assert_cmpint(master, >=, 0);
    g_assert_cmpint(grantpt(master), ==, 0);
    g_assert_cmpint(unlockpt(master), ==, 0);
    name = ptsname(master);
    g_assert_nonnull(name);
    slave = open(name, O_RDWR | O_NOCTTY);
    g_assert_cmpint(slave, >=, 0);
    g_assert_cmpint(tcgetattr(slave, &t), ==, 0);
    t.c_oflag &= ~(tcflag_t) OPOST;
    t.c_lflag &= ~(tcflag_t) (ECHO | ECHONL);
    g_assert_cmpint(tcsetattr(slave, TCSANOW, &t), ==, 0);
    g_assert_true(g_unix_set_fd_nonblocking(master, TRUE, NULL));
    g_subprocess_launcher_take_stdout_fd(l, dup(slave));
    g_subprocess_launcher_take_stdin_fd(l, slave);
    p = party_spawn(l, FALSE, srv, tag, user, NULL, args);
    /* Closes our copies of the terminal's other side. */
    g_object_unref(l);
    p->tty_master = master;
    p->tty_out = g_string_new(NULL);
    p->tty_watch = g_unix_fd_add(master, G_IO_IN | G_IO_HUP | G_IO_ERR,
                                 on_tty_readable, p);
    return p;
}

/* Wait until the terminal shows @needle after what earlier calls
 * matched; fails after @timeout_s. */
static void wait_tty_contains(party *p, const char *needle, guint timeout_s)
{
    gint64 end = g_get_monotonic_time() + timeout_s * G_USEC_PER_SEC;

    for (;;) {
        const char *hit = strstr(p->tty_out->str + p->tty_seen, needle);
        if (hit != NULL) {
            p->tty_seen = (gsize) (hit - p->tty_out->str) + strlen(needle);
            return;
        }
        if (g_get_monotonic_time() > end)
            g_error("'%s' did not appear on the terminal within %u s; it "
                    "shows:\n%s",
                    needle, timeout_s, p->tty_out->str);
        g_usleep(20 * 1000);
        while (g_main_context_iteration(NULL, FALSE))
            ;
    }
}

/* Type @text on the party's terminal. */
static void tty_type(party *p, const char *text)
{
    size_t len = strlen(text);

    g_assert_cmpint(write(p->tty_master, text, len), ==, (ssize_t) len);
}

static char *read_text(const char *path)
{
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return g_strdup("");
    return text;
}

static gboolean on_wait_timeout(gpointer data)
{
    *(gboolean *) data = TRUE;
    return G_SOURCE_REMOVE;
}

static void on_exited(GObject *proc, GAsyncResult *res, gpointer data)
{
    g_subprocess_wait_finish(G_SUBPROCESS(proc), res, NULL);
    *(gboolean *) data = TRUE;
}

/* Wait up to @timeout_s for the exit; fills status, out, err. A process
 * that does not exit in time is killed and fails the test. */
static void party_wait(party *p, guint timeout_s)
{
    gboolean expired = FALSE;
    gboolean exited = FALSE;
    guint id = g_timeout_add_seconds(timeout_s, on_wait_timeout, &expired);

    g_subprocess_wait_async(p->proc, NULL, on_exited, &exited);
    while (!expired && !exited)
        g_main_context_iteration(NULL, TRUE);
    if (!expired)
        g_source_remove(id);
    if (expired) {
        g_subprocess_force_exit(p->proc);
        while (!exited)
            g_main_context_iteration(NULL, TRUE);
    }
    p->status = g_subprocess_get_if_exited(p->proc)
                    ? g_subprocess_get_exit_status(p->proc)
                    : -1;
    if (p->tty_master >= 0) {
        /* Drain what the terminal still holds. */
        while (p->tty_watch != 0 && g_main_context_iteration(NULL, TRUE))
            ;
        p->out = g_strdup(p->tty_out->str);
    } else {
        p->out = read_text(p->out_path);
    }
    p->err = read_text(p->err_path);
    if (g_test_verbose() || expired)
        g_printerr("  %s: exit %d\n  out: %s\n  err: %s\n", p->out_path,
                   p->status, p->out, p->err);
    if (expired)
        g_error("%s did not exit within %u s", p->out_path, timeout_s);
}

static void party_free(party *p)
{
    if (p == NULL)
        return;
    if (g_subprocess_get_identifier(p->proc) != NULL) {
        g_subprocess_force_exit(p->proc);
        g_subprocess_wait(p->proc, NULL, NULL);
    }
    g_object_unref(p->proc);
    if (p->tty_watch != 0)
        g_source_remove(p->tty_watch);
    if (p->tty_master >= 0)
        close(p->tty_master);
    if (p->tty_out != NULL)
        g_string_free(p->tty_out, TRUE);
    g_free(p->out_path);
    g_free(p->err_path);
    g_free(p->out);
    g_free(p->err);
    g_free(p);
}

/* Wait (iterating the main context) until the file at @path contains
 * @needle; fails after @timeout_s. */
static void wait_file_contains(const char *path, const char *needle,
                               guint timeout_s)
{
    gint64 end = g_get_monotonic_time() + timeout_s * G_USEC_PER_SEC;

    for (;;) {
        char *text = read_text(path);
        gboolean found = strstr(text, needle) != NULL;
        g_free(text);
        if (found)
            return;
        if (g_get_monotonic_time() > end)
            g_error("'%s' did not appear in %s within %u s", needle, path,
                    timeout_s);
        g_usleep(50 * 1000);
        while (g_main_context_iteration(NULL, FALSE))
            ;
    }
}

/* Per-second stats lines of one side, checked as they are parsed. */
typedef struct {
    guint lines;
    json_int_t first_verified, last_verified;
    json_int_t max_out_of_order;
    json_int_t last_frames_received;
    char *sas;
} stats_summary;

static stats_summary read_stats(const char *path)
{
    char *text = read_text(path);
    char **lines = g_strsplit(text, "\n", -1);
    stats_summary s = {0};

    for (char **l = lines; *l != NULL; l++) {
        json_error_t jerr;
        json_t *o;
        const char *sas;

        if ((*l)[0] == '\0')
            continue;
        o = json_loads(*l, 0, &jerr);
        if (o == NULL)
            g_error("%s: line %u is not JSON (%s): %s", path, s.lines + 1,
                    jerr.text, *l);
        g_assert_true(json_is_object(o));
        g_assert_true(json_is_integer(json_object_get(o, "frames_verified")));
        g_assert_true(json_is_string(json_object_get(o, "call_id")));
        g_assert_true(json_is_string(json_object_get(o, "time")));
        g_assert_nonnull(json_object_get(o, "rtt_ms"));
        sas = vid_test_json_str(o, "sas");
        g_assert_nonnull(sas);
        if (s.sas == NULL)
            s.sas = g_strdup(sas);
        g_assert_cmpstr(s.sas, ==, sas);
        if (s.lines == 0)
            s.first_verified = vid_test_json_int(o, "frames_verified");
        s.last_verified = vid_test_json_int(o, "frames_verified");
        s.last_frames_received = vid_test_json_int(o, "frames_received");
        s.max_out_of_order = MAX(s.max_out_of_order,
                                 vid_test_json_int(o, "frames_out_of_order"));
        s.lines++;
        json_decref(o);
    }
    g_strfreev(lines);
    g_free(text);
    return s;
}

/* Buffers of each kind demuxed from a WebM file with GStreamer. */
typedef struct {
    gint video; /* video/x-vp8 */
    gint audio; /* audio/x-opus */
    gint other;
} webm_counts;

static void on_handoff(GstElement *sink, GstBuffer *buf, GstPad *pad,
                       gpointer data)
{
    (void) sink;
    (void) buf;
    (void) pad;
    g_atomic_int_inc((gint *) data);
}

static void on_demux_pad(GstElement *demux, GstPad *pad, gpointer data)
{
    webm_counts *c = data;
    GstElement *bin = GST_ELEMENT(gst_element_get_parent(demux));
    GstElement *sink = gst_element_factory_make("fakesink", NULL);
    GstCaps *caps = gst_pad_get_current_caps(pad);
    const char *name =
        caps != NULL ? gst_structure_get_name(gst_caps_get_structure(caps, 0))
                     : "";
    gint *counter = strcmp(name, "video/x-vp8") == 0    ? &c->video
                    : strcmp(name, "audio/x-opus") == 0 ? &c->audio
                                                        : &c->other;
    GstPad *sinkpad;

    /* async FALSE: one demuxer thread feeds both sinks; a sink waiting
     * for preroll would starve the other. */
    g_object_set(sink, "signal-handoffs", TRUE, "sync", FALSE, "async", FALSE,
                 NULL);
    g_signal_connect(sink, "handoff", G_CALLBACK(on_handoff), counter);
    gst_bin_add(GST_BIN(bin), sink);
    sinkpad = gst_element_get_static_pad(sink, "sink");
    g_assert_cmpint(gst_pad_link(pad, sinkpad), ==, GST_PAD_LINK_OK);
    gst_object_unref(sinkpad);
    gst_element_sync_state_with_parent(sink);
    if (caps != NULL)
        gst_caps_unref(caps);
    gst_object_unref(bin);
}

/* Demux @path to the end; asserts a WebM (EBML, DocType webm) that
 * matroskademux reads without error. */
static webm_counts count_webm(const char *path)
{
    webm_counts c = {0};
    char *head = NULL;
    gsize len = 0;
    GstElement *pipe = gst_pipeline_new(NULL);
    GstElement *src = gst_element_factory_make("filesrc", NULL);
    GstElement *demux = gst_element_factory_make("matroskademux", NULL);
    GstBus *bus;
    GstMessage *msg;

    g_assert_true(g_file_get_contents(path, &head, &len, NULL));
    g_assert_cmpuint(len, >, 64);
    g_assert_cmpint(memcmp(head, "\x1a\x45\xdf\xa3", 4), ==, 0);
    {
        /* EBML DocType element (0x42 0x82), size byte 0x84 or 0x85
         * (with a NUL), "webm". */
        gboolean doctype = FALSE;
        for (gsize i = 0; i + 7 <= 64 && !doctype; i++)
            doctype = memcmp(head + i, "\x42\x82", 2) == 0 &&
                      memcmp(head + i + 3, "webm", 4) == 0;
        g_assert_true(doctype);
    }
    g_free(head);
    g_assert_nonnull(src);
    g_assert_nonnull(demux);
    g_object_set(src, "location", path, NULL);
    gst_bin_add_many(GST_BIN(pipe), src, demux, NULL);
    g_assert_true(gst_element_link(src, demux));
    g_signal_connect(demux, "pad-added", G_CALLBACK(on_demux_pad), &c);
    gst_element_set_state(pipe, GST_STATE_PLAYING);
    bus = gst_element_get_bus(pipe);
    msg = gst_bus_timed_pop_filtered(bus, 20 * GST_SECOND,
                                     GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    g_assert_nonnull(msg);
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
        GError *err = NULL;
        gst_message_parse_error(msg, &err, NULL);
        g_error("demuxing %s: %s", path, err->message);
    }
    gst_message_unref(msg);
    gst_object_unref(bus);
    gst_element_set_state(pipe, GST_STATE_NULL);
    gst_object_unref(pipe);
    return c;
}

/* The README demo as a test: bob answers, alice calls; both send the
 * synthetic camera and microphone; alice hangs up after 4 s (bob's
 * --duration 7 is a safety net) and bob sees the remote hang-up. */
static void test_call_full(void)
{
    char *bob_stats = tmp_file("full", "bob.jsonl");
    char *alice_stats = tmp_file("full", "alice.jsonl");
    char *bob_rec = tmp_file("full", "bob.webm");
    char *alice_rec = tmp_file("full", "alice.webm");
    const char *bob_args[] = {"--synthetic",  "--duration", "7",
                              "--stats-json", bob_stats,    "--record",
                              bob_rec,        "answer",     NULL};
    const char *alice_args[] = {
        "--synthetic", "--duration", "4",    "--stats-json", alice_stats,
        "--record",    alice_rec,    "call", "bob",          NULL};
    party *bob = party_start(server, "full", "bob", bob_args);
    party *alice;
    stats_summary sb, sa;
    char *box;
    webm_counts wb, wa;

    wait_file_contains(bob->out_path, "waiting for a call", 20);
    alice = party_start(server, "full", "alice", alice_args);
    party_wait(alice, 40);
    party_wait(bob, 10);
    g_assert_cmpint(alice->status, ==, 0);
    g_assert_cmpint(bob->status, ==, 0);
    g_assert_nonnull(strstr(alice->out, "calling bob"));
    g_assert_nonnull(strstr(bob->out, "incoming call from alice"));
    g_assert_nonnull(strstr(alice->out, "you hung up"));
    g_assert_nonnull(strstr(bob->out, "alice hung up"));

    sb = read_stats(bob_stats);
    sa = read_stats(alice_stats);
    g_assert_cmpuint(sb.lines, >=, 2);
    g_assert_cmpuint(sa.lines, >=, 2);
    g_assert_cmpint(sb.last_verified, >, sb.first_verified);
    g_assert_cmpint(sa.last_verified, >, sa.first_verified);
    g_assert_cmpint(sb.max_out_of_order, ==, 0);
    g_assert_cmpint(sa.max_out_of_order, ==, 0);
    g_assert_true(g_regex_match_simple("^[0-9]{3} [0-9]{3}$", sa.sas, 0, 0));
    g_assert_cmpstr(sa.sas, ==, sb.sas);
    box = g_strdup_printf("Compare with your peer: %s", sa.sas);
    g_assert_nonnull(strstr(alice->out, box));
    g_assert_nonnull(strstr(bob->out, box));
    g_free(box);
    g_assert_nonnull(strstr(alice->out, "recording: "));

    wb = count_webm(bob_rec);
    wa = count_webm(alice_rec);
    if (g_test_verbose())
        g_printerr("  webm bob: %d video %d audio; alice: %d video %d audio\n",
                   wb.video, wb.audio, wa.video, wa.audio);
    /* ~4 s at 30 fps and 50 audio frames/s; generous lower bounds for a
     * loaded machine. */
    g_assert_cmpint(wb.video, >, 30);
    g_assert_cmpint(wa.video, >, 30);
    g_assert_cmpint(wb.audio, >, 50);
    g_assert_cmpint(wa.audio, >, 50);
    g_assert_cmpint(wb.other, ==, 0);
    g_assert_cmpint(wa.other, ==, 0);

    g_free(sb.sas);
    g_free(sa.sas);
    party_free(alice);
    party_free(bob);
    g_free(bob_stats);
    g_free(alice_stats);
    g_free(bob_rec);
    g_free(alice_rec);
}

/* The walkthrough at the top of vid.h, built as a program, places a real
 * call: bob answers with vidcall; both see the same SAS; the walkthrough
 * hangs up after 5 s of media and both exit 0. */
static void test_call_walkthrough(void)
{
    const char *walkthrough = g_getenv("VID_WALKTHROUGH_BIN");
    const char *bob_args[] = {"--synthetic", "answer", NULL};
    party *bob;
    GSubprocessLauncher *l;
    GSubprocess *proc;
    GError *error = NULL;
    char *out = NULL, *err = NULL, *state, *box;
    GMatchInfo *m = NULL;
    char *sas;

    if (walkthrough == NULL) {
        g_test_skip("VID_WALKTHROUGH_BIN is not set");
        return;
    }
    bob = party_start(server, "walkthrough", "bob", bob_args);
    wait_file_contains(bob->out_path, "waiting for a call", 20);
    state = g_build_filename(tmp_root, "walkthrough-state", NULL);
    l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                  G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_subprocess_launcher_setenv(l, "VID_PASSWORD", "alice-password", TRUE);
    g_subprocess_launcher_setenv(l, "VID_LOCAL_ADDRESSES", "127.0.0.1", TRUE);
    g_subprocess_launcher_setenv(l, "XDG_STATE_HOME", state, TRUE);
    proc = g_subprocess_launcher_spawn(
        l, &error, walkthrough, vid_test_server_url(server), "alice", "bob",
        vid_test_server_ca_file(server), NULL);
    g_assert_no_error(error);
    g_assert_true(
        g_subprocess_communicate_utf8(proc, NULL, NULL, &out, &err, &error));
    g_assert_no_error(error);
    if (g_test_verbose())
        g_printerr("  walkthrough out: %s\n  err: %s\n", out, err);
    party_wait(bob, 20);
    g_assert_true(g_subprocess_get_if_exited(proc));
    g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 0);
    g_assert_cmpint(bob->status, ==, 0);
    g_assert_true(g_regex_match_simple(
        "connected \\(direct path\\); compare with your peer: "
        "[0-9]{3} [0-9]{3}",
        out, 0, 0));
    g_assert_true(g_regex_match_simple("received [0-9]+ frames", out, 0, 0));
    g_assert_nonnull(strstr(out, "call ended"));
    /* The same SAS on both ends. */
    {
        GRegex *re = g_regex_new("compare with your peer: ([0-9]{3} [0-9]{3})",
                                 0, 0, NULL);
        g_assert_true(g_regex_match(re, out, 0, &m));
        sas = g_match_info_fetch(m, 1);
        g_match_info_free(m);
        g_regex_unref(re);
    }
    box = g_strdup_printf("Compare with your peer: %s", sas);
    g_assert_nonnull(strstr(bob->out, box));
    g_assert_nonnull(strstr(bob->out, "alice hung up"));
    g_free(box);
    g_free(sas);
    g_free(out);
    g_free(err);
    g_free(state);
    g_object_unref(proc);
    g_object_unref(l);
    party_free(bob);
}

/* bob declines every call: alice exits 8 (rejected). */
static void test_call_reject(void)
{
    const char *bob_args[] = {"listen", "--reject", "declined", NULL};
    const char *alice_args[] = {"--synthetic", "call", "bob", NULL};
    party *bob = party_start(server, "reject", "bob", bob_args);
    party *alice;

    wait_file_contains(bob->out_path, "listening for calls", 20);
    alice = party_start(server, "reject", "alice", alice_args);
    party_wait(alice, 30);
    g_assert_cmpint(alice->status, ==, 8);
    g_assert_nonnull(strstr(alice->err, "declined"));
    g_subprocess_send_signal(bob->proc, SIGTERM);
    party_wait(bob, 10);
    g_assert_cmpint(bob->status, ==, 0);
    g_assert_nonnull(strstr(bob->out, "declined the call from alice"));
    party_free(alice);
    party_free(bob);
}

/* While alice and bob talk, carol's call to bob finds him busy (exit 9);
 * then bob hangs up (Ctrl-C) and alice exits 0 seeing it. */
static void test_call_busy_and_callee_hangup(void)
{
    char *alice_stats = tmp_file("busy", "alice.jsonl");
    const char *bob_args[] = {"--synthetic", "--duration", "60", "answer",
                              NULL};
    const char *alice_args[] = {"--synthetic", "--stats-json", alice_stats,
                                "call",        "bob",          NULL};
    const char *carol_args[] = {"--synthetic", "call", "bob", NULL};
    party *bob = party_start(server, "busy", "bob", bob_args);
    party *alice, *carol;

    wait_file_contains(bob->out_path, "waiting for a call", 20);
    alice = party_start(server, "busy", "alice", alice_args);
    wait_file_contains(alice_stats, "\n", 30);
    carol = party_start(server, "busy", "carol", carol_args);
    party_wait(carol, 20);
    g_assert_cmpint(carol->status, ==, 9);
    g_assert_nonnull(strstr(carol->err, "busy"));
    g_subprocess_send_signal(bob->proc, SIGINT);
    party_wait(bob, 20);
    party_wait(alice, 10);
    g_assert_cmpint(bob->status, ==, 0);
    g_assert_cmpint(alice->status, ==, 0);
    g_assert_nonnull(strstr(bob->out, "you hung up"));
    g_assert_nonnull(strstr(alice->out, "bob hung up"));
    party_free(carol);
    party_free(alice);
    party_free(bob);
    g_free(alice_stats);
}

/* Ctrl-C of the caller during the call: alice exits 0, bob (listen
 * --auto-answer) sees alice hang up and goes on listening until SIGTERM
 * (exit 0). */
static void test_call_sigint(void)
{
    char *alice_stats = tmp_file("sigint", "alice.jsonl");
    const char *bob_args[] = {"--synthetic", "listen", "--auto-answer", NULL};
    const char *alice_args[] = {"--synthetic", "--stats-json", alice_stats,
                                "call",        "bob",          NULL};
    party *bob = party_start(server, "sigint", "bob", bob_args);
    party *alice;

    wait_file_contains(bob->out_path, "listening for calls", 20);
    alice = party_start(server, "sigint", "alice", alice_args);
    wait_file_contains(alice_stats, "\n", 30);
    g_subprocess_send_signal(alice->proc, SIGINT);
    party_wait(alice, 15);
    g_assert_cmpint(alice->status, ==, 0);
    g_assert_nonnull(strstr(alice->out, "you hung up"));
    wait_file_contains(bob->out_path, "alice hung up", 15);
    g_subprocess_send_signal(bob->proc, SIGTERM);
    party_wait(bob, 15);
    g_assert_cmpint(bob->status, ==, 0);
    /* Still listening after the call: stopped by the signal. */
    g_assert_nonnull(strstr(bob->out, "interrupted: stopping"));
    party_free(alice);
    party_free(bob);
    g_free(alice_stats);
}

/* alice is killed (SIGKILL: no hang-up sent) during the call: the server
 * sees her connection close and ends the call for bob with
 * "peer_disconnected", which bob reports as the network lost, exit 14,
 * within a few seconds. */
static void test_call_peer_killed(void)
{
    char *alice_stats = tmp_file("killed", "alice.jsonl");
    const char *bob_args[] = {"--synthetic", "--duration", "60", "answer",
                              NULL};
    const char *alice_args[] = {"--synthetic", "--stats-json", alice_stats,
                                "call",        "bob",          NULL};
    party *bob = party_start(server, "killed", "bob", bob_args);
    party *alice;
    gint64 killed_at, ms;

    wait_file_contains(bob->out_path, "waiting for a call", 20);
    alice = party_start(server, "killed", "alice", alice_args);
    wait_file_contains(alice_stats, "\n", 30);
    g_subprocess_send_signal(alice->proc, SIGKILL);
    killed_at = g_get_monotonic_time();
    party_wait(alice, 10);
    g_assert_false(g_subprocess_get_if_exited(alice->proc));
    party_wait(bob, 15);
    ms = (g_get_monotonic_time() - killed_at) / 1000;
    if (g_test_verbose())
        g_printerr("  bob saw the end %" G_GINT64_FORMAT " ms after the "
                   "kill\n",
                   ms);
    g_assert_cmpint(bob->status, ==, 14);
    g_assert_nonnull(strstr(bob->err, "call ended: the network was lost"));
    g_assert_nonnull(strstr(bob->err, "the peer lost its server connection"));
    g_assert_cmpint(ms, <, 10000);
    party_free(alice);
    party_free(bob);
    g_free(alice_stats);
}

/* ---- listen on a terminal: answer? [y/N] ----------------------------- */

/* bob listens on a terminal and types "y": alice sees "ringing" while
 * bob is asked, then "answered"; the call runs with bob's status line
 * redrawn in place ("\r"), alice hangs up after --duration, both exit 0
 * (bob after SIGTERM, still listening). */
static void test_tty_answer(void)
{
    const char *bob_args[] = {"--synthetic", "listen", NULL};
    const char *alice_args[] = {"--synthetic", "--duration", "3",
                                "call",        "bob",        NULL};
    party *bob = party_start_tty(server, "tty-answer", "bob", bob_args);
    party *alice;
    const char *ringing, *answered;

    wait_tty_contains(bob, "listening for calls", 20);
    alice = party_start(server, "tty-answer", "alice", alice_args);
    wait_tty_contains(bob, "incoming call from alice", 20);
    wait_tty_contains(bob, "answer? [y/N] ", 5);
    /* The caller is told while bob is asked. */
    wait_file_contains(alice->out_path, "ringing bob", 10);
    tty_type(bob, "y\n");
    party_wait(alice, 30);
    g_assert_cmpint(alice->status, ==, 0);
    ringing = strstr(alice->out, "ringing bob");
    answered = strstr(alice->out, "bob answered");
    g_assert_nonnull(ringing);
    g_assert_nonnull(answered);
    g_assert_true(ringing < answered);
    g_assert_nonnull(strstr(alice->out, "you hung up"));
    wait_tty_contains(bob, "alice hung up", 15);
    g_subprocess_send_signal(bob->proc, SIGTERM);
    party_wait(bob, 15);
    g_assert_cmpint(bob->status, ==, 0);
    g_assert_nonnull(strstr(bob->out, "answering the call from alice"));
    /* The live status line, redrawn in place and taken off the screen
     * (erase to end of line) before the next message. */
    g_assert_true(g_regex_match_simple(
        "\r[0-9]{2}:[0-9]{2}  send [0-9]+x[0-9]+ .*direct[^\n]*\033\\[K",
        bob->out, 0, 0));
    g_assert_nonnull(strstr(bob->out, "\r\033[Klast status: "));
    g_assert_nonnull(strstr(bob->out, "interrupted: stopping"));
    party_free(alice);
    party_free(bob);
}

/* bob listens on a terminal: alice gives up while bob is asked (bob
 * says the call stopped ringing and goes on listening); then bob types
 * "n", then just Enter, then Ctrl-D (end of input): alice's calls end
 * declined, exit 8, and after Ctrl-D bob declines without asking. */
static void test_tty_decline_and_cancel(void)
{
    const char *bob_args[] = {"--synthetic", "listen", NULL};
    const char *alice_args[] = {"--synthetic", "call", "bob", NULL};
    const char *answers[] = {"n\n", "\n"};
    party *bob = party_start_tty(server, "tty-decline", "bob", bob_args);
    party *alice;

    wait_tty_contains(bob, "listening for calls", 20);

    /* alice hangs up (Ctrl-C) while bob is asked. */
    alice = party_start(server, "tty-decline", "alice", alice_args);
    wait_tty_contains(bob, "answer? [y/N] ", 20);
    wait_file_contains(alice->out_path, "ringing bob", 10);
    g_subprocess_send_signal(alice->proc, SIGINT);
    party_wait(alice, 15);
    g_assert_cmpint(alice->status, ==, 0);
    wait_tty_contains(bob, "the call from alice stopped ringing: alice hung up",
                      15);
    party_free(alice);

    for (size_t i = 0; i < G_N_ELEMENTS(answers); i++) {
        char *tag = g_strdup_printf("tty-decline%zu", i);
        alice = party_start(server, tag, "alice", alice_args);
        /* A new prompt: bob is still listening. */
        wait_tty_contains(bob, "answer? [y/N] ", 20);
        wait_file_contains(alice->out_path, "ringing bob", 10);
        tty_type(bob, answers[i]);
        party_wait(alice, 20);
        g_assert_cmpint(alice->status, ==, 8);
        g_assert_nonnull(strstr(alice->err, "bob declined the call"));
        wait_tty_contains(bob, "declined", 10);
        party_free(alice);
        g_free(tag);
    }

    /* Ctrl-D while asked: declined; then no more questions, the next
     * call is declined at once. */
    alice = party_start(server, "tty-decline-eof", "alice", alice_args);
    wait_tty_contains(bob, "answer? [y/N] ", 20);
    tty_type(bob, "\004");
    party_wait(alice, 20);
    g_assert_cmpint(alice->status, ==, 8);
    wait_tty_contains(bob, "declined (end of input)", 10);
    party_free(alice);
    alice = party_start(server, "tty-decline-eof2", "alice", alice_args);
    party_wait(alice, 20);
    g_assert_cmpint(alice->status, ==, 8);
    wait_tty_contains(bob, "declined the call from alice", 10);
    party_free(alice);

    g_subprocess_send_signal(bob->proc, SIGTERM);
    party_wait(bob, 15);
    g_assert_cmpint(bob->status, ==, 0);
    g_assert_null(strstr(bob->out, "answering the call"));
    party_free(bob);
}

/* carol has an account but no device online; "nobody" has no account:
 * both exit 11. */
static void test_call_offline(void)
{
    const char *to_carol[] = {"--synthetic", "call", "carol", NULL};
    const char *to_nobody[] = {"--synthetic", "call", "nobody", NULL};
    party *p;

    p = party_start(server, "offline", "alice", to_carol);
    party_wait(p, 30);
    g_assert_cmpint(p->status, ==, 11);
    g_assert_nonnull(strstr(p->err, "offline"));
    party_free(p);
    p = party_start(server, "offline2", "alice", to_nobody);
    party_wait(p, 30);
    g_assert_cmpint(p->status, ==, 11);
    party_free(p);
}

/* A server whose calls ring 2 s: bob is online (`online`, which never
 * answers) and alice's call ends with no answer, exit 10. */
static void test_call_no_answer(void)
{
    vid_test_server *srv = vid_test_server_start("[server]\n"
                                                 "ring_timeout = 2\n");
    const char *bob_args[] = {"--timeout", "60", "online", "nobody", NULL};
    const char *alice_args[] = {"--synthetic", "call", "bob", NULL};
    party *bob, *alice;

    vid_test_server_add_user(srv, "alice", "alice-password");
    vid_test_server_add_user(srv, "bob", "bob-password");
    bob = party_start(srv, "noanswer", "bob", bob_args);
    wait_file_contains(bob->out_path, "logged in", 20);
    alice = party_start(srv, "noanswer", "alice", alice_args);
    party_wait(alice, 30);
    g_assert_cmpint(alice->status, ==, 10);
    g_assert_nonnull(strstr(alice->err, "did not answer"));
    g_subprocess_send_signal(bob->proc, SIGTERM);
    party_wait(bob, 10);
    party_free(alice);
    party_free(bob);
    vid_test_server_stop(srv);
}

/* bob's device "idtest" gets a new key between two calls: alice warns
 * loudly and shows the safety number; with --strict-identity her call
 * ends with exit 13. */
static void test_call_identity_changed(void)
{
    char *key1 = g_build_filename(tmp_root, "bob-key1", NULL);
    char *key2 = g_build_filename(tmp_root, "bob-key2", NULL);
    const char *bob_args[] = {
        "--synthetic", "--device-name", "idtest", "--duration",
        "20",          "answer",        NULL};
    const char *alice_args[] = {"--synthetic", "--duration", "1", "--verbose",
                                "call",        "bob",        NULL};
    const char *strict_args[] = {"--synthetic", "--strict-identity", "call",
                                 "bob", NULL};
    party *bob, *alice;

    /* First call: alice pins bob/idtest. */
    bob = party_start_dir(server, "id1", "bob", key1, bob_args);
    wait_file_contains(bob->out_path, "waiting for a call", 20);
    alice = party_start(server, "id1", "alice", alice_args);
    party_wait(alice, 30);
    party_wait(bob, 10);
    g_assert_cmpint(alice->status, ==, 0);
    g_assert_nonnull(strstr(alice->out, "safety number with bob: "));
    g_assert_null(strstr(alice->err, "WARNING"));
    party_free(alice);
    party_free(bob);

    /* Same device name, new key: a warning, the call goes on. */
    bob = party_start_dir(server, "id2", "bob", key2, bob_args);
    wait_file_contains(bob->out_path, "waiting for a call", 20);
    alice = party_start(server, "id2", "alice", alice_args);
    party_wait(alice, 30);
    party_wait(bob, 10);
    g_assert_cmpint(alice->status, ==, 0);
    g_assert_nonnull(strstr(alice->err, "WARNING"));
    g_assert_nonnull(strstr(alice->err, "NEW identity key"));
    g_assert_nonnull(strstr(alice->out, "safety number with bob: "));
    party_free(alice);
    party_free(bob);

    /* --strict-identity: the call is ended, exit 13. */
    bob = party_start_dir(server, "id3", "bob", key2, bob_args);
    wait_file_contains(bob->out_path, "waiting for a call", 20);
    alice = party_start(server, "id3", "alice", strict_args);
    party_wait(alice, 30);
    party_wait(bob, 30);
    g_assert_cmpint(alice->status, ==, 13);
    g_assert_nonnull(strstr(alice->err, "identity mismatch"));
    party_free(alice);
    party_free(bob);
    g_free(key1);
    g_free(key2);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    gst_init(&argc, &argv);
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
    vid_test_server_add_user(server, "carol", "carol-password");
    g_test_add_func("/vidcall/cli/help-version", test_help_and_version);
    g_test_add_func("/vidcall/cli/help-matches-man", test_help_matches_man);
    g_test_add_func("/vidcall/cli/bad-values", test_bad_values);
    g_test_add_func("/vidcall/cli/devices-none", test_devices_none);
    g_test_add_func("/vidcall/cli/call-without-camera",
                    test_call_without_camera);
    g_test_add_func("/vidcall/cli/online", test_online);
    g_test_add_func("/vidcall/cli/both-see-each-other",
                    test_both_see_each_other);
    g_test_add_func("/vidcall/cli/exit-codes", test_exit_codes);
    g_test_add_func("/vidcall/call/full", test_call_full);
    g_test_add_func("/vidcall/call/walkthrough", test_call_walkthrough);
    g_test_add_func("/vidcall/call/reject", test_call_reject);
    g_test_add_func("/vidcall/call/busy-and-callee-hangup",
                    test_call_busy_and_callee_hangup);
    g_test_add_func("/vidcall/call/sigint", test_call_sigint);
    g_test_add_func("/vidcall/call/peer-killed", test_call_peer_killed);
    g_test_add_func("/vidcall/call/tty-answer", test_tty_answer);
    g_test_add_func("/vidcall/call/tty-decline-and-cancel",
                    test_tty_decline_and_cancel);
    g_test_add_func("/vidcall/call/offline", test_call_offline);
    g_test_add_func("/vidcall/call/no-answer", test_call_no_answer);
    g_test_add_func("/vidcall/call/identity-changed",
                    test_call_identity_changed);
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
