/*
 * sdp-private.h — helpers shared by the files of libvid/sdp only.
 */
#ifndef VID_SDP_PRIVATE_H
#define VID_SDP_PRIVATE_H

#include "sdp.h"

/* Set @p err (may be NULL) and return @p code. */
sdp_status sdp_set_error(sdp_error *err, sdp_status code, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

/* ALPHA / DIGIT / "+" / "/" (RFC 8839). */
bool sdp_is_ice_char(char c);
bool sdp_ice_chars_ok(const char *s, size_t len, size_t min, size_t max);

/* Decimal digits only (no sign, no space), value <= @p max. */
bool sdp_parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out);

#endif
