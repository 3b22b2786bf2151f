/*
 * db.h — the SQLite user and device store (WAL, prepared statements).
 * One connection, used from the thread that opened it only.
 */
#ifndef VSS_DB_H
#define VSS_DB_H

#include <glib.h>
#include <stdbool.h>

typedef struct vss_db vss_db;

vss_db *db_open(const char *path, GError **error);
void db_close(vss_db *db);

/* The stored Argon2id hash of @user: *out_hash is g_free()d by the caller,
 * NULL when the user does not exist. false on database error. */
bool db_user_hash(vss_db *db, const char *user, char **out_hash,
                  GError **error);
bool db_user_exists(vss_db *db, const char *user);

/* Add a user (fails when it exists), set a password (fails when it does
 * not), delete (with its devices). */
bool db_user_add(vss_db *db, const char *user, const char *hash,
                 GError **error);
bool db_user_set_hash(vss_db *db, const char *user, const char *hash,
                      GError **error);
bool db_user_del(vss_db *db, const char *user, GError **error);

/* Calls @fn for every user, by name. */
bool db_user_list(vss_db *db,
                  void (*fn)(const char *user, gint64 created, void *data),
                  void *data, GError **error);

bool db_begin(vss_db *db, GError **error);
bool db_commit(vss_db *db, GError **error);
void db_rollback(vss_db *db);

/* The registered fingerprint of a device (NULL: new device). */
bool db_device_fingerprint(vss_db *db, const char *user, const char *device,
                           char **out_fp, GError **error);
/* Register or update a device and its last_seen time. */
bool db_device_seen(vss_db *db, const char *user, const char *device,
                    const char *fingerprint, GError **error);

#endif
