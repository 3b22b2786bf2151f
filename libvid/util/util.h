/*
 * util — the bottom layer: status codes and their texts, small helpers.
 * May call: libc and GLib only.
 */
#ifndef VID_UTIL_H
#define VID_UTIL_H

#include <stddef.h>

#include "vid/vid.h"

/* Copy @src into @dst of capacity @cap, always NUL-terminated (when
 * cap > 0). Returns the length of @src. */
size_t util_strlcpy(char *dst, const char *src, size_t cap);

/* Overwrite @len bytes at @p in a way the compiler cannot drop. */
void util_wipe(void *p, size_t len);

#endif /* VID_UTIL_H */
