/*
 * db.c — SQLite store: users(name, pwhash, created) and
 * devices(user, name, fingerprint, last_seen).
 */
#include "db.h"

#include <sqlite3.h>

#define DB_ERROR (g_quark_from_static_string("vss-db"))

enum {
    ST_USER_HASH,
    ST_USER_ADD,
    ST_USER_SET,
    ST_USER_DEL,
    ST_DEV_DEL,
    ST_USER_LIST,
    ST_DEV_FP,
    ST_DEV_SEEN,
    ST_COUNT
};

static const char *const sql_text[ST_COUNT] = {
    [ST_USER_HASH] = "SELECT pwhash FROM users WHERE name = ?1",
    [ST_USER_ADD] = "INSERT INTO users(name, pwhash, created) "
                    "VALUES (?1, ?2, ?3)",
    [ST_USER_SET] = "UPDATE users SET pwhash = ?2 WHERE name = ?1",
    [ST_USER_DEL] = "DELETE FROM users WHERE name = ?1",
    [ST_DEV_DEL] = "DELETE FROM devices WHERE user = ?1",
    [ST_USER_LIST] = "SELECT name, created FROM users ORDER BY name",
    [ST_DEV_FP] = "SELECT fingerprint FROM devices "
                  "WHERE user = ?1 AND name = ?2",
    [ST_DEV_SEEN] =
        "INSERT INTO devices(user, name, fingerprint, last_seen) "
        "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(user, name) DO UPDATE SET "
        "fingerprint = excluded.fingerprint, last_seen = excluded.last_seen",
};

struct vss_db {
    sqlite3 *h;
    sqlite3_stmt *st[ST_COUNT];
};

static bool fail(vss_db *db, GError **error, const char *what)
{
    g_set_error(error, DB_ERROR, 1, "database: %s: %s", what,
                sqlite3_errmsg(db->h));
    return false;
}

vss_db *db_open(const char *path, GError **error)
{
    vss_db *db = g_new0(vss_db, 1);
    static const char schema[] =
        "PRAGMA journal_mode = WAL;"
        "PRAGMA synchronous = NORMAL;"
        "PRAGMA foreign_keys = ON;"
        "CREATE TABLE IF NOT EXISTS users ("
        "  name TEXT PRIMARY KEY NOT NULL,"
        "  pwhash TEXT NOT NULL,"
        "  created INTEGER NOT NULL);"
        "CREATE TABLE IF NOT EXISTS devices ("
        "  user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,"
        "  name TEXT NOT NULL,"
        "  fingerprint TEXT NOT NULL,"
        "  last_seen INTEGER NOT NULL,"
        "  PRIMARY KEY (user, name));";
    char *msg = NULL;

    if (sqlite3_open_v2(path, &db->h,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        g_set_error(error, DB_ERROR, 1, "cannot open database %s: %s", path,
                    db->h ? sqlite3_errmsg(db->h) : "out of memory");
        db_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db->h, 5000);
    if (sqlite3_exec(db->h, schema, NULL, NULL, &msg) != SQLITE_OK) {
        g_set_error(error, DB_ERROR, 1, "database %s: %s", path,
                    msg ? msg : "schema failed");
        sqlite3_free(msg);
        db_close(db);
        return NULL;
    }
    for (int i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(db->h, sql_text[i], -1,
                               SQLITE_PREPARE_PERSISTENT, &db->st[i],
                               NULL) != SQLITE_OK) {
            fail(db, error, "prepare");
            db_close(db);
            return NULL;
        }
    }
    return db;
}

void db_close(vss_db *db)
{
    if (db == NULL)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(db->st[i]);
    sqlite3_close(db->h);
    g_free(db);
}

static sqlite3_stmt *stmt(vss_db *db, int which)
{
    sqlite3_stmt *s = db->st[which];
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
    sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static bool get_text(vss_db *db, sqlite3_stmt *s, char **out, GError **error)
{
    int rc = sqlite3_step(s);

    *out = NULL;
    if (rc == SQLITE_ROW) {
        *out = g_strdup((const char *) sqlite3_column_text(s, 0));
        rc = SQLITE_DONE;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return fail(db, error, "query");
    return true;
}

bool db_user_hash(vss_db *db, const char *user, char **out_hash, GError **error)
{
    sqlite3_stmt *s = stmt(db, ST_USER_HASH);
    bind_text(s, 1, user);
    return get_text(db, s, out_hash, error);
}

bool db_user_exists(vss_db *db, const char *user)
{
    char *h = NULL;
    bool ok = db_user_hash(db, user, &h, NULL) && h != NULL;
    g_free(h);
    return ok;
}

static bool exec_changes(vss_db *db, sqlite3_stmt *s, const char *what,
                         const char *user, GError **error)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc == SQLITE_CONSTRAINT) {
        g_set_error(error, DB_ERROR, 2, "user %s already exists", user);
        return false;
    }
    if (rc != SQLITE_DONE)
        return fail(db, error, what);
    if (sqlite3_changes(db->h) == 0) {
        g_set_error(error, DB_ERROR, 3, "no user %s", user);
        return false;
    }
    return true;
}

bool db_user_add(vss_db *db, const char *user, const char *hash, GError **error)
{
    sqlite3_stmt *s = stmt(db, ST_USER_ADD);
    bind_text(s, 1, user);
    bind_text(s, 2, hash);
    sqlite3_bind_int64(s, 3, g_get_real_time() / G_USEC_PER_SEC);
    return exec_changes(db, s, "add user", user, error);
}

bool db_user_set_hash(vss_db *db, const char *user, const char *hash,
                      GError **error)
{
    sqlite3_stmt *s = stmt(db, ST_USER_SET);
    bind_text(s, 1, user);
    bind_text(s, 2, hash);
    return exec_changes(db, s, "set password", user, error);
}

bool db_user_del(vss_db *db, const char *user, GError **error)
{
    sqlite3_stmt *s = stmt(db, ST_DEV_DEL);
    int rc;

    bind_text(s, 1, user);
    rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return fail(db, error, "delete devices");
    s = stmt(db, ST_USER_DEL);
    bind_text(s, 1, user);
    return exec_changes(db, s, "delete user", user, error);
}

bool db_user_list(vss_db *db,
                  void (*fn)(const char *user, gint64 created, void *data),
                  void *data, GError **error)
{
    sqlite3_stmt *s = stmt(db, ST_USER_LIST);
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        fn((const char *) sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1),
           data);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return fail(db, error, "list users");
    return true;
}

static bool exec_sql(vss_db *db, const char *sql, GError **error)
{
    if (sqlite3_exec(db->h, sql, NULL, NULL, NULL) != SQLITE_OK)
        return fail(db, error, sql);
    return true;
}

bool db_begin(vss_db *db, GError **error)
{
    return exec_sql(db, "BEGIN IMMEDIATE", error);
}

bool db_commit(vss_db *db, GError **error)
{
    return exec_sql(db, "COMMIT", error);
}

void db_rollback(vss_db *db)
{
    sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

bool db_device_fingerprint(vss_db *db, const char *user, const char *device,
                           char **out_fp, GError **error)
{
    sqlite3_stmt *s = stmt(db, ST_DEV_FP);
    bind_text(s, 1, user);
    bind_text(s, 2, device);
    return get_text(db, s, out_fp, error);
}

bool db_device_seen(vss_db *db, const char *user, const char *device,
                    const char *fingerprint, GError **error)
{
    sqlite3_stmt *s = stmt(db, ST_DEV_SEEN);
    int rc;

    bind_text(s, 1, user);
    bind_text(s, 2, device);
    bind_text(s, 3, fingerprint);
    sqlite3_bind_int64(s, 4, g_get_real_time() / G_USEC_PER_SEC);
    rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return fail(db, error, "register device");
    return true;
}
