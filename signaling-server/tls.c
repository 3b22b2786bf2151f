/*
 * tls.c — generate a self-signed ECDSA P-256 certificate with OpenSSL.
 */
#include "tls.h"

#include <fcntl.h>
#include <gio/gio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define TLS_ERROR (g_quark_from_static_string("vss-tls"))

static bool ossl_fail(GError **error, const char *what)
{
    char buf[256];
    unsigned long e = ERR_get_error();

    ERR_error_string_n(e, buf, sizeof buf);
    g_set_error(error, TLS_ERROR, 1, "certificate: %s failed: %s", what,
                e ? buf : "unknown error");
    ERR_clear_error();
    return false;
}

static bool add_ext(X509 *cert, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    bool ok;

    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL)
        return false;
    ok = X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

static bool write_pem(const char *path, mode_t mode, EVP_PKEY *key, X509 *cert,
                      GError **error)
{
    int fd;
    FILE *f;
    bool ok;
    g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);

    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        g_set_error(error, TLS_ERROR, 1, "cannot create %s: %s", tmp,
                    g_strerror(errno));
        return false;
    }
    f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        return false;
    }
    if (key != NULL)
        ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
    else
        ok = PEM_write_X509(f, cert) == 1;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        g_set_error(error, TLS_ERROR, 1, "cannot write %s", path);
        return false;
    }
    return true;
}

bool tls_ensure_self_signed(const char *cert_path, const char *key_path,
                            const char *hostname, GError **error)
{
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    X509_NAME *name;
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    bool ok = false;
    g_autofree char *san = NULL;

    if (g_file_test(cert_path, G_FILE_TEST_EXISTS) &&
        g_file_test(key_path, G_FILE_TEST_EXISTS))
        return true;

    key = EVP_EC_gen("P-256");
    if (key == NULL) {
        ossl_fail(error, "EC key generation");
        goto done;
    }
    cert = X509_new();
    if (cert == NULL || X509_set_version(cert, 2) != 1) {
        ossl_fail(error, "X509_new");
        goto done;
    }
    if (RAND_bytes(serial, sizeof serial) != 1) {
        ossl_fail(error, "RAND_bytes");
        goto done;
    }
    serial[0] &= 0x7f;
    bn = BN_bin2bn(serial, sizeof serial, NULL);
    if (bn == NULL ||
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) == NULL) {
        ossl_fail(error, "serial");
        goto done;
    }
    if (X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(cert), 10L * 365 * 86400) == NULL) {
        ossl_fail(error, "validity");
        goto done;
    }
    if (X509_set_pubkey(cert, key) != 1) {
        ossl_fail(error, "X509_set_pubkey");
        goto done;
    }
    name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               (const unsigned char *) "vid-signaling-server",
                               -1, -1, 0);
    X509_NAME_add_entry_by_txt(
        name, "CN", MBSTRING_UTF8,
        (const unsigned char *) (hostname ? hostname : "localhost"), -1, -1, 0);
    if (X509_set_issuer_name(cert, name) != 1) {
        ossl_fail(error, "issuer");
        goto done;
    }
    if (hostname != NULL && g_hostname_is_ip_address(hostname))
        san = g_strdup_printf("DNS:localhost,IP:127.0.0.1,IP:::1,IP:%s",
                              hostname);
    else if (hostname != NULL)
        san = g_strdup_printf("DNS:localhost,IP:127.0.0.1,IP:::1,DNS:%s",
                              hostname);
    else
        san = g_strdup("DNS:localhost,IP:127.0.0.1,IP:::1");
    if (!add_ext(cert, NID_basic_constraints, "critical,CA:TRUE") ||
        !add_ext(cert, NID_key_usage,
                 "critical,digitalSignature,keyCertSign") ||
        !add_ext(cert, NID_ext_key_usage, "serverAuth") ||
        !add_ext(cert, NID_subject_key_identifier, "hash") ||
        !add_ext(cert, NID_subject_alt_name, san)) {
        ossl_fail(error, "extensions");
        goto done;
    }
    if (X509_sign(cert, key, EVP_sha256()) == 0) {
        ossl_fail(error, "signing");
        goto done;
    }
    ok = write_pem(key_path, 0600, key, NULL, error) &&
         write_pem(cert_path, 0644, NULL, cert, error);
done:
    BN_free(bn);
    X509_free(cert);
    EVP_PKEY_free(key);
    return ok;
}
