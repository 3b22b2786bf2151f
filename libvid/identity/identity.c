/*
 * identity.c — create, store and load the device identity (ECDSA P-256
 * key + self-signed certificate). See identity.h.
 */
#include "identity.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "util/util.h"

/* The certificate is an identity, not a web certificate: long-lived. */
#define IDENTITY_VALID_DAYS (20 * 365)
#define IDENTITY_CN "libvid device"

struct identity {
    EVP_PKEY *key;
    X509 *cert;
    char fingerprint[IDENTITY_FINGERPRINT_SIZE];
};

static int fail(int code, char *err, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(int code, char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    char ossl[160] = "";
    unsigned long e = ERR_peek_last_error();

    if (e != 0)
        ERR_error_string_n(e, ossl, sizeof ossl);
    ERR_clear_error();
    if (err != NULL && cap > 0) {
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
        if (ossl[0] != '\0') {
            size_t n = strlen(err);
            snprintf(err + n, cap - n, " (%s)", ossl);
        }
    }
    return code;
}

int identity_cert_fingerprint(X509 *cert, char *out, size_t cap)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    static const char hex[] = "0123456789ABCDEF";
    size_t pos;

    if (cap < IDENTITY_FINGERPRINT_SIZE ||
        X509_digest(cert, EVP_sha256(), md, &n) != 1 || n != 32)
        return -1;
    memcpy(out, "sha-256 ", 8);
    pos = 8;
    for (unsigned int i = 0; i < n; i++) {
        out[pos++] = hex[md[i] >> 4];
        out[pos++] = hex[md[i] & 0xf];
        if (i + 1 < n)
            out[pos++] = ':';
    }
    out[pos] = '\0';
    return 0;
}

static X509 *make_certificate(EVP_PKEY *key)
{
    X509 *x = X509_new();
    X509_NAME *name = NULL;
    BIGNUM *serial = BN_new();
    bool ok = false;

    if (x == NULL || serial == NULL)
        goto done;
    if (X509_set_version(x, 2) != 1)
        goto done;
    /* 127 random bits: positive and unique enough for a self-signed cert */
    if (BN_rand(serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
        BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) == NULL)
        goto done;
    if (X509_gmtime_adj(X509_getm_notBefore(x), -24 * 3600) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(x), IDENTITY_VALID_DAYS, 0, NULL) ==
            NULL)
        goto done;
    name = X509_get_subject_name(x);
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   (const unsigned char *) IDENTITY_CN, -1, -1,
                                   0) != 1)
        goto done;
    if (X509_set_issuer_name(x, name) != 1 || X509_set_pubkey(x, key) != 1)
        goto done;
    if (X509_sign(x, key, EVP_sha256()) <= 0)
        goto done;
    ok = true;
done:
    BN_free(serial);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* Write @len bytes to @path atomically (temp file + rename), mode 0600. */
static int write_private_file(const char *path, const char *data, size_t len,
                              char *err, size_t cap)
{
    char *tmp = g_strdup_printf("%s.tmp.%d", path, (int) getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int rc = VID_OK;
    size_t off = 0;

    if (fd < 0) {
        rc = fail(VID_EIO, err, cap, "cannot create %s: %s", tmp,
                  g_strerror(errno));
        goto done;
    }
    if (fchmod(fd, 0600) != 0) {
        rc = fail(VID_EIO, err, cap, "cannot chmod %s: %s", tmp,
                  g_strerror(errno));
        goto done;
    }
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = fail(VID_EIO, err, cap, "cannot write %s: %s", tmp,
                      g_strerror(errno));
            goto done;
        }
        off += (size_t) w;
    }
    if (fsync(fd) != 0) {
        rc = fail(VID_EIO, err, cap, "cannot sync %s: %s", tmp,
                  g_strerror(errno));
        goto done;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = fail(VID_EIO, err, cap, "cannot close %s: %s", tmp,
                  g_strerror(errno));
        goto done;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        rc = fail(VID_EIO, err, cap, "cannot rename %s to %s: %s", tmp, path,
                  g_strerror(errno));
done:
    if (fd >= 0)
        close(fd);
    if (rc != VID_OK)
        g_unlink(tmp);
    g_free(tmp);
    return rc;
}

/* PEM-encode with @fn into a file written by write_private_file(). */
static int store_pem(const char *path, EVP_PKEY *key, X509 *cert, char *err,
                     size_t cap)
{
    BIO *mem = BIO_new(BIO_s_mem());
    char *data = NULL;
    long len;
    int ok;
    int rc;

    if (mem == NULL)
        return fail(VID_ENOMEM, err, cap, "out of memory");
    if (key != NULL)
        ok = PEM_write_bio_PrivateKey(mem, key, NULL, NULL, 0, NULL, NULL);
    else
        ok = PEM_write_bio_X509(mem, cert);
    if (ok != 1) {
        BIO_free(mem);
        return fail(VID_EIDENTITY, err, cap, "cannot encode %s", path);
    }
    len = BIO_get_mem_data(mem, &data);
    rc = write_private_file(path, data, (size_t) len, err, cap);
    BIO_free(mem);
    return rc;
}

static int create_identity(identity *id, const char *key_path,
                           const char *cert_path, char *err, size_t cap)
{
    int rc;

    id->key = EVP_EC_gen("P-256");
    if (id->key == NULL)
        return fail(VID_EIDENTITY, err, cap,
                    "cannot generate an ECDSA P-256 key");
    id->cert = make_certificate(id->key);
    if (id->cert == NULL)
        return fail(VID_EIDENTITY, err, cap,
                    "cannot make the identity certificate");
    /* Key first: a crash in between leaves a key without a certificate,
     * which loading reports, rather than a certificate nobody can use. */
    rc = store_pem(key_path, id->key, NULL, err, cap);
    if (rc == VID_OK)
        rc = store_pem(cert_path, NULL, id->cert, err, cap);
    if (rc != VID_OK)
        g_unlink(key_path);
    return rc;
}

static int load_identity(identity *id, const char *key_path,
                         const char *cert_path, char *err, size_t cap)
{
    struct stat st;
    BIO *bio;
    char group[32] = "";
    size_t glen = 0;

    if (stat(key_path, &st) != 0)
        return fail(VID_EIO, err, cap, "cannot read %s: %s", key_path,
                    g_strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fail(VID_EIDENTITY, err, cap, "%s is not a regular file",
                    key_path);
    if ((st.st_mode & 077) != 0)
        return fail(VID_EIDENTITY, err, cap,
                    "%s is accessible by other users (mode %04o); the "
                    "private key must be mode 0600 (chmod 600 it)",
                    key_path, (unsigned int) (st.st_mode & 07777));

    bio = BIO_new_file(key_path, "r");
    if (bio == NULL)
        return fail(VID_EIO, err, cap, "cannot open %s", key_path);
    id->key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (id->key == NULL)
        return fail(VID_EIDENTITY, err, cap,
                    "%s is corrupt: not a PEM private key; delete both "
                    "identity files to make a new identity",
                    key_path);
    if (!EVP_PKEY_is_a(id->key, "EC") ||
        EVP_PKEY_get_group_name(id->key, group, sizeof group, &glen) != 1 ||
        strcmp(group, "prime256v1") != 0)
        return fail(VID_EIDENTITY, err, cap, "%s is not an ECDSA P-256 key",
                    key_path);

    bio = BIO_new_file(cert_path, "r");
    if (bio == NULL)
        return fail(VID_EIDENTITY, err, cap, "cannot open %s (%s)", cert_path,
                    g_strerror(errno));
    id->cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (id->cert == NULL)
        return fail(VID_EIDENTITY, err, cap,
                    "%s is corrupt: not a PEM certificate", cert_path);
    if (X509_check_private_key(id->cert, id->key) != 1)
        return fail(VID_EIDENTITY, err, cap,
                    "%s does not belong to the key in %s", cert_path, key_path);
    return VID_OK;
}

int identity_load_or_create(const char *dir, identity **out, int *created,
                            char *err, size_t err_cap)
{
    identity *id = NULL;
    char *key_path = NULL;
    char *cert_path = NULL;
    char *lock_path;
    int lock_fd;
    bool have_key;
    bool have_cert;
    int rc;

    if (out == NULL)
        return fail(VID_EINVAL, err, err_cap, "no output pointer");
    *out = NULL;
    if (created != NULL)
        *created = 0;
    if (dir == NULL || dir[0] == '\0')
        return fail(VID_EINVAL, err, err_cap, "no state directory");
    if (g_mkdir_with_parents(dir, 0700) != 0)
        return fail(VID_EIO, err, err_cap,
                    "cannot create state directory %s: %s", dir,
                    g_strerror(errno));

    /* Two processes starting on a fresh state directory must not each
     * write half of an identity: hold a lock while looking and creating. */
    lock_path = g_build_filename(dir, IDENTITY_LOCK_FILE, NULL);
    lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0) {
        rc = fail(VID_EIO, err, err_cap, "cannot create %s: %s", lock_path,
                  g_strerror(errno));
        g_free(lock_path);
        return rc;
    }
    while (flock(lock_fd, LOCK_EX) != 0 && errno == EINTR)
        ;
    key_path = g_build_filename(dir, IDENTITY_KEY_FILE, NULL);
    cert_path = g_build_filename(dir, IDENTITY_CERT_FILE, NULL);
    id = g_new0(identity, 1);
    have_key = g_file_test(key_path, G_FILE_TEST_EXISTS);
    have_cert = g_file_test(cert_path, G_FILE_TEST_EXISTS);

    if (!have_key && !have_cert) {
        rc = create_identity(id, key_path, cert_path, err, err_cap);
        if (rc == VID_OK && created != NULL)
            *created = 1;
    } else if (!have_key) {
        rc = fail(VID_EIDENTITY, err, err_cap,
                  "%s exists but its key %s is missing; delete it to make a "
                  "new identity",
                  cert_path, key_path);
    } else if (!have_cert) {
        rc = fail(VID_EIDENTITY, err, err_cap,
                  "%s exists but its certificate %s is missing; delete it "
                  "to make a new identity",
                  key_path, cert_path);
    } else {
        rc = load_identity(id, key_path, cert_path, err, err_cap);
    }
    if (rc == VID_OK && identity_cert_fingerprint(id->cert, id->fingerprint,
                                                  sizeof id->fingerprint) != 0)
        rc = fail(VID_EIDENTITY, err, err_cap,
                  "cannot compute the certificate fingerprint");
    if (rc != VID_OK) {
        identity_free(id);
        id = NULL;
    }
    g_free(key_path);
    g_free(cert_path);
    close(lock_fd); /* releases the lock */
    g_free(lock_path);
    *out = id;
    return rc;
}

void identity_free(identity *id)
{
    if (id == NULL)
        return;
    EVP_PKEY_free(id->key);
    X509_free(id->cert);
    g_free(id);
}

const char *identity_fingerprint(const identity *id)
{
    return id->fingerprint;
}

EVP_PKEY *identity_key(const identity *id)
{
    return id->key;
}

X509 *identity_certificate(const identity *id)
{
    return id->cert;
}
