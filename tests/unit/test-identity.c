/* Unit tests of the device identity (libvid/identity/identity.c). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "identity/identity.h"
#include "proto.h"

typedef struct {
    char *dir;
    char *state;
} fixture;

static void setup(fixture *f, gconstpointer data)
{
    f->dir = g_dir_make_tmp("vid-identity-XXXXXX", NULL);
    g_assert_nonnull(f->dir);
    /* A subdirectory that does not exist yet: the module creates it. */
    f->state = g_build_filename(f->dir, "state", "dev", NULL);
}

static void remove_tree(const char *path)
{
    GDir *d = g_dir_open(path, 0, NULL);
    const char *name;

    if (d != NULL) {
        while ((name = g_dir_read_name(d)) != NULL) {
            char *p = g_build_filename(path, name, NULL);
            if (g_file_test(p, G_FILE_TEST_IS_DIR))
                remove_tree(p);
            else
                g_unlink(p);
            g_free(p);
        }
        g_dir_close(d);
    }
    g_rmdir(path);
}

static void teardown(fixture *f, gconstpointer data)
{
    remove_tree(f->dir);
    g_free(f->dir);
    g_free(f->state);
}

static char *file_in(fixture *f, const char *name)
{
    return g_build_filename(f->state, name, NULL);
}

static void test_create_and_reload(fixture *f, gconstpointer data)
{
    identity *a = NULL, *b = NULL;
    char err[256] = "";
    int created = -1;
    char fp[IDENTITY_FINGERPRINT_SIZE];
    struct stat st;
    char *key = file_in(f, IDENTITY_KEY_FILE);
    char *cert = file_in(f, IDENTITY_CERT_FILE);

    g_assert_cmpint(
        identity_load_or_create(f->state, &a, &created, err, sizeof err), ==,
        VID_OK);
    g_assert_cmpint(created, ==, 1);
    g_assert_true(proto_fingerprint_valid(identity_fingerprint(a)));
    g_assert_nonnull(identity_key(a));
    g_assert_nonnull(identity_certificate(a));
    g_assert_cmpint(
        identity_cert_fingerprint(identity_certificate(a), fp, sizeof fp), ==,
        0);
    g_assert_cmpstr(fp, ==, identity_fingerprint(a));

    /* Files are private, the directory too. */
    g_assert_cmpint(stat(key, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0600);
    g_assert_cmpint(stat(cert, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0600);
    g_assert_cmpint(stat(f->state, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0700);

    g_assert_cmpint(
        identity_load_or_create(f->state, &b, &created, err, sizeof err), ==,
        VID_OK);
    g_assert_cmpint(created, ==, 0);
    g_assert_cmpstr(identity_fingerprint(a), ==, identity_fingerprint(b));
    identity_free(a);
    identity_free(b);
    identity_free(NULL);
    g_free(key);
    g_free(cert);
}

static void test_two_dirs_differ(fixture *f, gconstpointer data)
{
    identity *a = NULL, *b = NULL;
    char err[256];
    char *other = g_build_filename(f->dir, "other", NULL);

    g_assert_cmpint(
        identity_load_or_create(f->state, &a, NULL, err, sizeof err), ==,
        VID_OK);
    g_assert_cmpint(identity_load_or_create(other, &b, NULL, err, sizeof err),
                    ==, VID_OK);
    g_assert_cmpstr(identity_fingerprint(a), !=, identity_fingerprint(b));
    identity_free(a);
    identity_free(b);
    g_free(other);
}

static void test_corrupt_key(fixture *f, gconstpointer data)
{
    identity *a = NULL;
    char err[256] = "";
    char *key = file_in(f, IDENTITY_KEY_FILE);

    g_assert_cmpint(
        identity_load_or_create(f->state, &a, NULL, err, sizeof err), ==,
        VID_OK);
    identity_free(a);
    g_assert_true(g_file_set_contents(key,
                                      "-----BEGIN PRIVATE KEY-----\n"
                                      "garbage\n",
                                      -1, NULL));
    g_assert_cmpint(g_chmod(key, 0600), ==, 0);
    a = (identity *) 0x1;
    g_assert_cmpint(
        identity_load_or_create(f->state, &a, NULL, err, sizeof err), ==,
        VID_EIDENTITY);
    g_assert_null(a);
    g_assert_nonnull(strstr(err, "corrupt"));
    g_assert_nonnull(strstr(err, IDENTITY_KEY_FILE));
    g_free(key);
}

static void test_corrupt_cert(fixture *f, gconstpointer data)
{
    identity *a = NULL;
    char err[256] = "";
    char *cert = file_in(f, IDENTITY_CERT_FILE);

    g_assert_cmpint(
        identity_load_or_create(f->state, &a, NULL, err, sizeof err), ==,
        VID_OK);
    identity_free(a);
    g_assert_true(g_file_set_contents(cert, "not a certificate", -1, NULL));
    g_assert_cmpint(
        identity_load_or_create(f->state, &a, NULL, err, sizeof err), ==,
        VID_EIDENTITY);
    g_assert_nonnull(strstr(err, "corrupt"));
    g_free(cert);
}

static void test_mismatched_pair(fixture *f, gconstpointer data)
{
    identity *a = NULL;
    char err[256] = "";
    char *other = g_build_filename(f->dir, "other", NULL);
    char *cert = file_in(f, IDENTITY_CERT_FILE);
    char *other_cert = g_build_filename(other, IDENTITY_CERT_FILE, NULL);
    char *pem = NULL;

    g_assert_cmpint(
        identity_load_or_create(f->state, &a, NULL, err, sizeof err), ==,
        VID_OK);
    identity_free(a);
    g_assert_cmpint(identity_load_or_create(other, &a, NULL, err, sizeof err),
                    ==, VID_OK);
    identity_free(a);
    g_assert_true(g_file_get_contents(other_cert, &pem, NULL, NULL));
    g_assert_true(g_file_set_contents(cert, pem, -1, NULL));
    g_assert_cmpint(
        identity_load_or_create(f->state, &a, NULL, err, sizeof err), ==,
        VID_EIDENTITY);
    g_assert_nonnull(strstr(err, "does not belong"));
    g_free(pem);
    g_free(other);
    g_free(cert);
    g_free(other_cert);
}

static void test_unsafe_mode(fixture *f, gconstpointer data)
{
    identity *a = NULL;
    char err[256] = "";
    char *key = file_in(f, IDENTITY_KEY_FILE);

    g_assert_cmpint(
        identity_load_or_create(f->state, &a, NULL, err, sizeof err), ==,
        VID_OK);
    identity_free(a);
    g_assert_cmpint(g_chmod(key, 0644), ==, 0);
    g_assert_cmpint(
        identity_load_or_create(f->state, &a, NULL, err, sizeof err), ==,
        VID_EIDENTITY);
    g_assert_nonnull(strstr(err, "0644"));
    g_free(key);
}

static void test_missing_half(fixture *f, gconstpointer data)
{
    identity *a = NULL;
    char err[256] = "";
    char *cert = file_in(f, IDENTITY_CERT_FILE);

    g_assert_cmpint(
        identity_load_or_create(f->state, &a, NULL, err, sizeof err), ==,
        VID_OK);
    identity_free(a);
    g_assert_cmpint(g_unlink(cert), ==, 0);
    g_assert_cmpint(
        identity_load_or_create(f->state, &a, NULL, err, sizeof err), ==,
        VID_EIDENTITY);
    g_assert_nonnull(strstr(err, "missing"));
    g_free(cert);
}

typedef struct {
    const char *dir;
    char fp[IDENTITY_FINGERPRINT_SIZE];
    int rc;
} racer;

static gpointer race(gpointer data)
{
    racer *r = data;
    identity *id = NULL;
    char err[256];

    r->rc = identity_load_or_create(r->dir, &id, NULL, err, sizeof err);
    if (r->rc == VID_OK)
        g_strlcpy(r->fp, identity_fingerprint(id), sizeof r->fp);
    identity_free(id);
    return NULL;
}

/* Several clients starting at once on a fresh state directory end up with
 * one identity, not a key from one and a certificate from another. */
static void test_concurrent_create(fixture *f, gconstpointer data)
{
    racer r[4];
    GThread *t[4];

    for (int i = 0; i < 4; i++) {
        r[i].dir = f->state;
        t[i] = g_thread_new("racer", race, &r[i]);
    }
    for (int i = 0; i < 4; i++)
        g_thread_join(t[i]);
    for (int i = 0; i < 4; i++) {
        g_assert_cmpint(r[i].rc, ==, VID_OK);
        g_assert_cmpstr(r[i].fp, ==, r[0].fp);
    }
}

static void test_bad_args(void)
{
    identity *a = NULL;
    char err[64];

    g_assert_cmpint(identity_load_or_create(NULL, &a, NULL, err, sizeof err),
                    ==, VID_EINVAL);
    g_assert_cmpint(identity_load_or_create("", &a, NULL, err, sizeof err), ==,
                    VID_EINVAL);
    g_assert_cmpint(
        identity_load_or_create("/tmp", NULL, NULL, err, sizeof err), ==,
        VID_EINVAL);
    /* A directory that cannot be created. */
    g_assert_cmpint(
        identity_load_or_create("/proc/vid-no/such", &a, NULL, err, sizeof err),
        ==, VID_EIO);
    g_assert_null(a);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, fixture, NULL, setup, fn, teardown)
    ADD("/identity/create-reload", test_create_and_reload);
    ADD("/identity/two-dirs-differ", test_two_dirs_differ);
    ADD("/identity/corrupt-key", test_corrupt_key);
    ADD("/identity/corrupt-cert", test_corrupt_cert);
    ADD("/identity/mismatched-pair", test_mismatched_pair);
    ADD("/identity/unsafe-mode", test_unsafe_mode);
    ADD("/identity/missing-half", test_missing_half);
    ADD("/identity/concurrent-create", test_concurrent_create);
    g_test_add_func("/identity/bad-args", test_bad_args);
    return g_test_run();
}
