/*
 * Unit tests of libvid/identity/trust.c: short authentication string,
 * safety number, pins file (trust on first use) and its parser.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "identity/trust.h"
#include "proto.h"

#define FP_A                                                                   \
    "sha-256 00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:"  \
    "15:16:17:18:19:1A:1B:1C:1D:1E:1F"
#define FP_B                                                                   \
    "sha-256 FF:FE:FD:FC:FB:FA:F9:F8:F7:F6:F5:F4:F3:F2:F1:F0:EF:EE:ED:EC:EB:"  \
    "EA:E9:E8:E7:E6:E5:E4:E3:E2:E1:E0"
#define FP_C                                                                   \
    "sha-256 00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:"  \
    "15:16:17:18:19:1A:1B:1C:1D:1E:20"

/*
 * Known answers, computed independently of trust.c with Python's hashlib
 * from the derivations documented in trust.h:
 *
 *   import hashlib
 *   def sas(sec):
 *       h = hashlib.sha256(b"vid-sas-v1\0" + sec).digest()
 *       v = int.from_bytes(h[:4], "big") % 1000000
 *       return "%03d %03d" % (v // 1000, v % 1000)
 *   sas(bytes(range(32)))  -> "493 870"
 *   sas(bytes(32))         -> "277 618"
 *
 *   def sn(a, b):   # a, b: the 32 bytes of the fingerprints
 *       lo, hi = sorted([a, b])
 *       h = hashlib.sha512(b"vid-safety-number-v1\0" + lo + hi).digest()
 *       for _ in range(5199):
 *           h = hashlib.sha512(h + lo + hi).digest()
 *       return " ".join("%05d" % (int.from_bytes(h[g*5:g*5+5], "big")
 *                                 % 100000) for g in range(12))
 *   sn(bytes(range(32)), bytes(range(255, 223, -1)))   # FP_A, FP_B
 */
#define SAS_KAT_0_31 "493 870"
#define SAS_KAT_ZERO "277 618"
#define SAFETY_KAT_AB                                                          \
    "38882 91772 53777 69985 51916 09362 28736 14341 09436 93596 74347 81790"

/* ---------------------------------------------------------------------- */
/* SAS                                                                     */
/* ---------------------------------------------------------------------- */

static void test_sas_known_answer(void)
{
    uint8_t s[32];
    char buf[IDENTITY_SAS_SIZE];

    for (int i = 0; i < 32; i++)
        s[i] = (uint8_t) i;
    g_assert_cmpint(identity_sas_format(s, buf, sizeof buf), ==, VID_OK);
    g_assert_cmpstr(buf, ==, SAS_KAT_0_31);
    memset(s, 0, sizeof s);
    g_assert_cmpint(identity_sas_format(s, buf, sizeof buf), ==, VID_OK);
    g_assert_cmpstr(buf, ==, SAS_KAT_ZERO);
}

static void test_sas_format_and_determinism(void)
{
    uint8_t s[32];
    char a[IDENTITY_SAS_SIZE], b[IDENTITY_SAS_SIZE];
    GHashTable *seen =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    for (int k = 0; k < 200; k++) {
        for (int i = 0; i < 32; i++)
            s[i] = (uint8_t) (k * 31 + i * 7);
        g_assert_cmpint(identity_sas_format(s, a, sizeof a), ==, VID_OK);
        g_assert_cmpint(identity_sas_format(s, b, sizeof b), ==, VID_OK);
        g_assert_cmpstr(a, ==, b);
        g_assert_cmpuint(strlen(a), ==, 7);
        for (int i = 0; i < 7; i++) {
            if (i == 3)
                g_assert_cmpint(a[i], ==, ' ');
            else
                g_assert_true(g_ascii_isdigit(a[i]));
        }
        g_hash_table_add(seen, g_strdup(a));
    }
    /* 200 secrets in 10^6 values: collisions are possible but rare (the
     * chance of more than 3 is below 10^-6). */
    g_assert_cmpuint(g_hash_table_size(seen), >=, 197);
    g_hash_table_unref(seen);
}

static void test_sas_differs_one_bit(void)
{
    uint8_t s[32] = {0};
    char a[IDENTITY_SAS_SIZE], b[IDENTITY_SAS_SIZE];
    int differ = 0;

    g_assert_cmpint(identity_sas_format(s, a, sizeof a), ==, VID_OK);
    /* Each single-bit change of the secret: almost always another SAS. */
    for (int bit = 0; bit < 256; bit++) {
        s[bit / 8] ^= (uint8_t) (1u << (bit % 8));
        g_assert_cmpint(identity_sas_format(s, b, sizeof b), ==, VID_OK);
        differ += strcmp(a, b) != 0;
        s[bit / 8] ^= (uint8_t) (1u << (bit % 8));
    }
    g_assert_cmpint(differ, >=, 255);
}

static void test_sas_bad_args(void)
{
    uint8_t s[32] = {0};
    char buf[16];

    g_assert_cmpint(identity_sas_format(NULL, buf, sizeof buf), ==, VID_EINVAL);
    g_assert_cmpint(identity_sas_format(s, NULL, sizeof buf), ==, VID_EINVAL);
    g_assert_cmpint(identity_sas_format(s, buf, IDENTITY_SAS_SIZE - 1), ==,
                    VID_EINVAL);
    g_assert_cmpint(identity_sas_format(s, buf, IDENTITY_SAS_SIZE), ==, VID_OK);
}

/* ---------------------------------------------------------------------- */
/* Safety number                                                           */
/* ---------------------------------------------------------------------- */

static void assert_safety_format(const char *s)
{
    g_assert_cmpuint(strlen(s), ==, 71);
    for (int i = 0; i < 71; i++) {
        if (i % 6 == 5)
            g_assert_cmpint(s[i], ==, ' ');
        else
            g_assert_true(g_ascii_isdigit(s[i]));
    }
}

static void test_safety_known_answer(void)
{
    char buf[IDENTITY_SAFETY_NUMBER_SIZE];

    g_assert_cmpint(identity_safety_number(FP_A, FP_B, buf, sizeof buf), ==,
                    VID_OK);
    g_assert_cmpstr(buf, ==, SAFETY_KAT_AB);
    assert_safety_format(buf);
}

static void test_safety_symmetric_and_sensitive(void)
{
    char ab[IDENTITY_SAFETY_NUMBER_SIZE], ba[IDENTITY_SAFETY_NUMBER_SIZE];
    char cb[IDENTITY_SAFETY_NUMBER_SIZE], ac[IDENTITY_SAFETY_NUMBER_SIZE];
    char lower[sizeof FP_B];

    g_assert_cmpint(identity_safety_number(FP_A, FP_B, ab, sizeof ab), ==,
                    VID_OK);
    g_assert_cmpint(identity_safety_number(FP_B, FP_A, ba, sizeof ba), ==,
                    VID_OK);
    g_assert_cmpstr(ab, ==, ba);

    /* Either key changing (C differs from A in its last byte) changes it. */
    g_assert_cmpint(identity_safety_number(FP_C, FP_B, cb, sizeof cb), ==,
                    VID_OK);
    g_assert_cmpint(identity_safety_number(FP_A, FP_C, ac, sizeof ac), ==,
                    VID_OK);
    assert_safety_format(cb);
    assert_safety_format(ac);
    g_assert_cmpstr(cb, !=, ab);
    g_assert_cmpstr(ac, !=, ab);
    g_assert_cmpstr(ac, !=, cb);

    /* The hex case of a fingerprint does not matter. */
    for (size_t i = 0; i < sizeof lower; i++)
        lower[i] = g_ascii_tolower(FP_B[i]);
    g_assert_cmpint(identity_safety_number(FP_A, lower, ba, sizeof ba), ==,
                    VID_OK);
    g_assert_cmpstr(ab, ==, ba);
}

static void test_safety_bad_args(void)
{
    char buf[IDENTITY_SAFETY_NUMBER_SIZE];
    char fp[sizeof FP_A];
    static const char *const bad[] = {
        "",
        "sha-256",
        "sha-1 00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13",
        /* 31 bytes */
        "sha-256 00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:"
        "13:14:15:16:17:18:19:1A:1B:1C:1D:1E",
        /* 33 bytes */
        FP_A ":20",
        /* trailing space */
        FP_A " ",
    };

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_assert_cmpint(identity_safety_number(bad[i], FP_B, buf, sizeof buf),
                        ==, VID_EINVAL);
        g_assert_cmpint(identity_safety_number(FP_B, bad[i], buf, sizeof buf),
                        ==, VID_EINVAL);
    }
    /* A non-hex digit, a wrong separator, each at every position. */
    for (size_t i = 8; i < strlen(FP_A); i++) {
        memcpy(fp, FP_A, sizeof fp);
        fp[i] = fp[i] == ':' ? '-' : 'G';
        g_assert_cmpint(identity_safety_number(FP_A, fp, buf, sizeof buf), ==,
                        VID_EINVAL);
    }
    g_assert_cmpint(identity_safety_number(NULL, FP_B, buf, sizeof buf), ==,
                    VID_EINVAL);
    g_assert_cmpint(identity_safety_number(FP_A, NULL, buf, sizeof buf), ==,
                    VID_EINVAL);
    g_assert_cmpint(identity_safety_number(FP_A, FP_B, NULL, sizeof buf), ==,
                    VID_EINVAL);
    g_assert_cmpint(identity_safety_number(FP_A, FP_B, buf, sizeof buf - 1), ==,
                    VID_EINVAL);
}

/* ---------------------------------------------------------------------- */
/* Names                                                                   */
/* ---------------------------------------------------------------------- */

static void test_names_follow_protocol(void)
{
    char longest[66];
    static const char *const names[] = {
        "alice", "Bob_2",   "laptop.home", "a-b",   "x",   "_x",
        "9",     "",        ".hidden",     "-dash", "a b", "a\nb",
        "a\tb",  "ünïcode", "a/b",         "a:b",   "a#b", "a\rb",
    };

    for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
        g_assert_cmpint(identity_name_valid(names[i]) != 0, ==,
                        proto_name_valid(names[i]));
    memset(longest, 'a', sizeof longest);
    longest[64] = '\0';
    g_assert_true(identity_name_valid(longest));
    g_assert_true(proto_name_valid(longest));
    longest[64] = 'a';
    longest[65] = '\0';
    g_assert_false(identity_name_valid(longest));
    g_assert_false(proto_name_valid(longest));
    g_assert_false(identity_name_valid(NULL));
}

/* ---------------------------------------------------------------------- */
/* Parser                                                                  */
/* ---------------------------------------------------------------------- */

typedef struct {
    GString *good;
    GString *bad;
} parse_log;

static void log_good(const char *user, const char *device,
                     const char *fingerprint, void *data)
{
    parse_log *l = data;

    g_string_append_printf(l->good, "%s|%s|%s\n", user, device, fingerprint);
}

static void log_bad(size_t line, const char *reason, void *data)
{
    parse_log *l = data;

    g_string_append_printf(l->bad, "%zu:%s\n", line, reason);
}

static void test_parse(void)
{
    /* Lines: 1 comment, 2 good (lower-case hex, CRLF, extra blanks),
     * 3 blank, 4 only a user, 5 bad fingerprint, 6 good, 7 NUL inside,
     * 8 name too long, 9 good without final newline. */
    static const char text[] =
        "# comment\n"
        "  alice\tphone   sha-256 "
        "00:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f:10:11:12:13:14:15:16:"
        "17:18:19:1a:1b:1c:1d:1e:1f  \r\n"
        "\n"
        "mallory\n"
        "bob laptop sha-256 00:01\n"
        "bob laptop " FP_B "\n"
        "carol x\0y " FP_A "\n"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
        "d " FP_A "\n"
        "dave pc " FP_C;
    parse_log l = {g_string_new(""), g_string_new("")};
    size_t corrupt;

    corrupt = identity_pins_parse(text, sizeof text - 1, log_good, log_bad, &l);
    g_assert_cmpuint(corrupt, ==, 4);
    g_assert_cmpstr(l.good->str, ==,
                    "alice|phone|" FP_A "\n"
                    "bob|laptop|" FP_B "\n"
                    "dave|pc|" FP_C "\n");
    g_assert_cmpstr(l.bad->str, ==,
                    "4:no device name\n"
                    "5:malformed fingerprint\n"
                    "7:NUL byte\n"
                    "8:user name too long\n");

    /* Empty input, NULL input, NULL callbacks. */
    g_assert_cmpuint(identity_pins_parse("", 0, log_good, log_bad, &l), ==, 0);
    g_assert_cmpuint(identity_pins_parse(NULL, 5, log_good, log_bad, &l), ==,
                     0);
    g_assert_cmpuint(
        identity_pins_parse(text, sizeof text - 1, NULL, NULL, NULL), ==, 4);
    g_string_free(l.good, TRUE);
    g_string_free(l.bad, TRUE);
}

/* ---------------------------------------------------------------------- */
/* Pins store                                                              */
/* ---------------------------------------------------------------------- */

typedef struct {
    char *dir;
    char *file;
} fixture;

static void setup(fixture *f, gconstpointer data)
{
    f->dir = g_dir_make_tmp("vid-trust-XXXXXX", NULL);
    g_assert_nonnull(f->dir);
    f->file = g_build_filename(f->dir, IDENTITY_PINS_FILE, NULL);
}

static void teardown(fixture *f, gconstpointer data)
{
    g_unlink(f->file);
    g_rmdir(f->dir);
    g_free(f->dir);
    g_free(f->file);
}

static identity_pins *open_ok(fixture *f)
{
    char why[256] = "";
    identity_pins *p = identity_pins_open(f->dir, why, sizeof why);

    if (p == NULL)
        g_error("identity_pins_open: %s", why);
    return p;
}

static void test_pins_new_known_changed(fixture *f, gconstpointer data)
{
    identity_pins *p = open_ok(f);
    char fp[128];
    struct stat st;

    /* A missing file is an empty store; nothing is written until a pin. */
    g_assert_false(g_file_test(f->file, G_FILE_TEST_EXISTS));
    g_assert_cmpint(identity_pins_get(p, "alice", "phone", fp, sizeof fp), ==,
                    VID_ENOTFOUND);

    g_assert_cmpint(identity_pins_check(p, "alice", "phone", FP_A), ==,
                    IDENTITY_PIN_NEW);
    g_assert_cmpint(stat(f->file, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0600);
    g_assert_cmpint(identity_pins_check(p, "alice", "phone", FP_A), ==,
                    IDENTITY_PIN_KNOWN);
    /* Another device of the same user is another pin. */
    g_assert_cmpint(identity_pins_check(p, "alice", "laptop", FP_B), ==,
                    IDENTITY_PIN_NEW);

    /* A changed key is reported and the old pin kept, on disk too. */
    g_assert_cmpint(identity_pins_check(p, "alice", "phone", FP_B), ==,
                    IDENTITY_PIN_CHANGED);
    g_assert_cmpint(identity_pins_check(p, "alice", "phone", FP_B), ==,
                    IDENTITY_PIN_CHANGED);
    g_assert_cmpint(identity_pins_check(p, "alice", "phone", FP_A), ==,
                    IDENTITY_PIN_KNOWN);
    g_assert_cmpint(identity_pins_get(p, "alice", "phone", fp, sizeof fp), ==,
                    VID_OK);
    g_assert_cmpstr(fp, ==, FP_A);
    identity_pins_free(p);

    p = open_ok(f);
    g_assert_cmpint(identity_pins_check(p, "alice", "phone", FP_B), ==,
                    IDENTITY_PIN_CHANGED);
    g_assert_cmpint(identity_pins_check(p, "alice", "laptop", FP_B), ==,
                    IDENTITY_PIN_KNOWN);

    /* The user trusts the new key: set replaces, and it persists. */
    g_assert_cmpint(identity_pins_set(p, "alice", "phone", FP_B), ==, VID_OK);
    g_assert_cmpint(identity_pins_check(p, "alice", "phone", FP_B), ==,
                    IDENTITY_PIN_KNOWN);
    g_assert_cmpint(identity_pins_check(p, "alice", "phone", FP_A), ==,
                    IDENTITY_PIN_CHANGED);
    identity_pins_free(p);

    p = open_ok(f);
    g_assert_cmpint(identity_pins_check(p, "alice", "phone", FP_B), ==,
                    IDENTITY_PIN_KNOWN);
    /* set of a pin that did not exist creates it. */
    g_assert_cmpint(identity_pins_set(p, "bob", "pc", FP_C), ==, VID_OK);
    identity_pins_free(p);
    p = open_ok(f);
    g_assert_cmpint(identity_pins_check(p, "bob", "pc", FP_C), ==,
                    IDENTITY_PIN_KNOWN);
    identity_pins_free(p);

    g_assert_cmpint(stat(f->file, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0600);
    identity_pins_free(NULL);
}

static void test_pins_file_format(fixture *f, gconstpointer data)
{
    identity_pins *p = open_ok(f);
    char lower[sizeof FP_B];
    char *text = NULL;

    for (size_t i = 0; i < sizeof lower; i++)
        lower[i] = g_ascii_tolower(FP_B[i]);
    g_assert_cmpint(identity_pins_check(p, "zed", "b", FP_A), ==,
                    IDENTITY_PIN_NEW);
    /* Stored upper case; lower-case input is the same key. */
    g_assert_cmpint(identity_pins_check(p, "amy", "a", lower), ==,
                    IDENTITY_PIN_NEW);
    g_assert_cmpint(identity_pins_check(p, "amy", "a", FP_B), ==,
                    IDENTITY_PIN_KNOWN);
    identity_pins_free(p);

    g_assert_true(g_file_get_contents(f->file, &text, NULL, NULL));
    g_assert_cmpstr(text, ==,
                    "# libvid pinned peer keys: user device fingerprint\n"
                    "amy a " FP_B "\n"
                    "zed b " FP_A "\n");
    g_free(text);
}

static void test_pins_corrupt_lines(fixture *f, gconstpointer data)
{
    static const char text[] = "alice phone " FP_A "\n"
                               "garbage line\n"
                               "bob laptop sha-256 XX\n"
                               "carol pc " FP_C "\n"
                               "alice phone " FP_B "\n";
    identity_pins *p;

    g_assert_true(g_file_set_contents(f->file, text, -1, NULL));
    g_assert_cmpint(g_chmod(f->file, 0600), ==, 0);

    g_test_expect_message("vid", G_LOG_LEVEL_WARNING,
                          "*known_peers: line 2 skipped (no fingerprint)*");
    g_test_expect_message(
        "vid", G_LOG_LEVEL_WARNING,
        "*known_peers: line 3 skipped (malformed fingerprint)*");
    g_test_expect_message("vid", G_LOG_LEVEL_WARNING,
                          "*second pin for alice's device phone ignored*");
    p = open_ok(f);
    g_test_assert_expected_messages();

    /* The good pins survived; the first of a duplicate wins. */
    g_assert_cmpint(identity_pins_check(p, "alice", "phone", FP_A), ==,
                    IDENTITY_PIN_KNOWN);
    g_assert_cmpint(identity_pins_check(p, "carol", "pc", FP_C), ==,
                    IDENTITY_PIN_KNOWN);
    g_assert_cmpint(identity_pins_check(p, "bob", "laptop", FP_B), ==,
                    IDENTITY_PIN_NEW);
    identity_pins_free(p);

    /* The rewrite dropped the corrupt lines and kept every pin. */
    p = open_ok(f);
    g_assert_cmpint(identity_pins_check(p, "alice", "phone", FP_A), ==,
                    IDENTITY_PIN_KNOWN);
    g_assert_cmpint(identity_pins_check(p, "carol", "pc", FP_C), ==,
                    IDENTITY_PIN_KNOWN);
    g_assert_cmpint(identity_pins_check(p, "bob", "laptop", FP_B), ==,
                    IDENTITY_PIN_KNOWN);
    identity_pins_free(p);
}

static void test_pins_hostile_names(fixture *f, gconstpointer data)
{
    identity_pins *p = open_ok(f);
    char *text = NULL;
    static const char *const bad[] = {
        "",
        "bob\nmallory",
        "bob phone",
        "bob\tphone",
        "#bob",
        "-bob",
        ".bob",
        "bob\r",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    };
    static const char injected[] = "x\nmallory phone " FP_B;

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_assert_cmpint(identity_pins_check(p, bad[i], "dev", FP_A), ==,
                        IDENTITY_PIN_EINVAL);
        g_assert_cmpint(identity_pins_check(p, "bob", bad[i], FP_A), ==,
                        IDENTITY_PIN_EINVAL);
        g_assert_cmpint(identity_pins_set(p, bad[i], "dev", FP_A), ==,
                        VID_EINVAL);
        g_assert_cmpint(identity_pins_set(p, "bob", bad[i], FP_A), ==,
                        VID_EINVAL);
    }
    g_assert_cmpint(identity_pins_check(p, "bob", injected, FP_A), ==,
                    IDENTITY_PIN_EINVAL);
    g_assert_cmpint(identity_pins_check(p, "bob", "dev", FP_A "\nmallory"), ==,
                    IDENTITY_PIN_EINVAL);
    g_assert_cmpint(identity_pins_check(p, "bob", "dev", "sha-256 00"), ==,
                    IDENTITY_PIN_EINVAL);
    g_assert_cmpint(identity_pins_check(p, "bob", "dev", NULL), ==,
                    IDENTITY_PIN_EINVAL);
    g_assert_cmpint(identity_pins_check(NULL, "bob", "dev", FP_A), ==,
                    IDENTITY_PIN_EINVAL);
    g_assert_cmpint(identity_pins_set(NULL, "bob", "dev", FP_A), ==,
                    VID_EINVAL);
    /* Nothing was written by any refused call. */
    g_assert_false(g_file_test(f->file, G_FILE_TEST_EXISTS));

    g_assert_cmpint(identity_pins_check(p, "bob", "dev", FP_A), ==,
                    IDENTITY_PIN_NEW);
    identity_pins_free(p);
    g_assert_true(g_file_get_contents(f->file, &text, NULL, NULL));
    g_assert_null(strstr(text, "mallory"));
    g_free(text);
}

static void test_pins_open_errors(fixture *f, gconstpointer data)
{
    char why[256] = "";
    char *missing = g_build_filename(f->dir, "no-such-dir", NULL);

    g_assert_null(identity_pins_open(missing, why, sizeof why));
    g_assert_nonnull(strstr(why, missing));
    g_assert_nonnull(strstr(why, "No such file"));
    g_assert_null(identity_pins_open(NULL, why, sizeof why));
    g_assert_null(identity_pins_open(missing, NULL, 0));

    /* A file, not a directory. */
    g_assert_true(g_file_set_contents(f->file, "", 0, NULL));
    g_assert_null(identity_pins_open(f->file, why, sizeof why));
    g_assert_nonnull(strstr(why, "not a directory"));

    /* A pins file others can write is refused, not trusted. */
    g_assert_cmpint(g_chmod(f->file, 0666), ==, 0);
    g_assert_null(identity_pins_open(f->dir, why, sizeof why));
    g_assert_nonnull(strstr(why, "writable by other users"));
    g_assert_cmpint(g_chmod(f->file, 0600), ==, 0);

    /* A directory where the pins file should be. */
    g_assert_cmpint(g_unlink(f->file), ==, 0);
    g_assert_cmpint(g_mkdir(f->file, 0700), ==, 0);
    g_assert_null(identity_pins_open(f->dir, why, sizeof why));
    g_assert_nonnull(strstr(why, "not a regular file"));
    g_assert_cmpint(g_rmdir(f->file), ==, 0);
    g_free(missing);
}

static void test_pins_write_failure(fixture *f, gconstpointer data)
{
    identity_pins *p = open_ok(f);
    char fp[128];

    g_assert_cmpint(identity_pins_check(p, "alice", "phone", FP_A), ==,
                    IDENTITY_PIN_NEW);
    /* The directory goes away (works as root too, unlike chmod). */
    g_assert_cmpint(g_unlink(f->file), ==, 0);
    g_assert_cmpint(g_rmdir(f->dir), ==, 0);

    g_test_expect_message("vid", G_LOG_LEVEL_WARNING, "*cannot save pins*");
    g_assert_cmpint(identity_pins_check(p, "bob", "pc", FP_B), ==,
                    IDENTITY_PIN_EIO);
    g_test_assert_expected_messages();
    /* Not kept in memory either: the next try is NEW again (and fails). */
    g_assert_cmpint(identity_pins_get(p, "bob", "pc", fp, sizeof fp), ==,
                    VID_ENOTFOUND);

    g_test_expect_message("vid", G_LOG_LEVEL_WARNING, "*cannot save pins*");
    g_assert_cmpint(identity_pins_set(p, "alice", "phone", FP_B), ==, VID_EIO);
    g_test_assert_expected_messages();
    /* A failed set leaves the old pin. */
    g_assert_cmpint(identity_pins_check(p, "alice", "phone", FP_A), ==,
                    IDENTITY_PIN_KNOWN);
    identity_pins_free(p);
    g_assert_cmpint(g_mkdir(f->dir, 0700), ==, 0);
}

#define THREADS 4
#define PER_THREAD 8

typedef struct {
    identity_pins *p;
    int index;
} worker_arg;

static gpointer worker(gpointer data)
{
    worker_arg *a = data;
    char device[32];

    for (int i = 0; i < PER_THREAD; i++) {
        snprintf(device, sizeof device, "d%d-%d", a->index, i);
        g_assert_cmpint(identity_pins_check(a->p, "alice", device, FP_A), ==,
                        IDENTITY_PIN_NEW);
        g_assert_cmpint(identity_pins_check(a->p, "alice", device, FP_A), ==,
                        IDENTITY_PIN_KNOWN);
    }
    return NULL;
}

static void test_pins_threads(fixture *f, gconstpointer data)
{
    identity_pins *p = open_ok(f);
    GThread *t[THREADS];
    worker_arg args[THREADS];
    char device[32];

    for (int i = 0; i < THREADS; i++) {
        args[i].p = p;
        args[i].index = i;
        t[i] = g_thread_new("pins", worker, &args[i]);
    }
    for (int i = 0; i < THREADS; i++)
        g_thread_join(t[i]);
    identity_pins_free(p);

    /* Every pin of every thread reached the file. */
    p = open_ok(f);
    for (int i = 0; i < THREADS; i++) {
        for (int j = 0; j < PER_THREAD; j++) {
            snprintf(device, sizeof device, "d%d-%d", i, j);
            g_assert_cmpint(identity_pins_check(p, "alice", device, FP_A), ==,
                            IDENTITY_PIN_KNOWN);
        }
    }
    identity_pins_free(p);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

#define ADD(path, fn) g_test_add(path, fixture, NULL, setup, fn, teardown)
    g_test_add_func("/trust/sas/known-answer", test_sas_known_answer);
    g_test_add_func("/trust/sas/format", test_sas_format_and_determinism);
    g_test_add_func("/trust/sas/differs", test_sas_differs_one_bit);
    g_test_add_func("/trust/sas/bad-args", test_sas_bad_args);
    g_test_add_func("/trust/safety/known-answer", test_safety_known_answer);
    g_test_add_func("/trust/safety/symmetric",
                    test_safety_symmetric_and_sensitive);
    g_test_add_func("/trust/safety/bad-args", test_safety_bad_args);
    g_test_add_func("/trust/names", test_names_follow_protocol);
    g_test_add_func("/trust/parse", test_parse);
    ADD("/trust/pins/new-known-changed", test_pins_new_known_changed);
    ADD("/trust/pins/file-format", test_pins_file_format);
    ADD("/trust/pins/corrupt-lines", test_pins_corrupt_lines);
    ADD("/trust/pins/hostile-names", test_pins_hostile_names);
    ADD("/trust/pins/open-errors", test_pins_open_errors);
    ADD("/trust/pins/write-failure", test_pins_write_failure);
    ADD("/trust/pins/threads", test_pins_threads);
#undef ADD
    return g_test_run();
}
