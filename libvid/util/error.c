/*
 * error.c — status code texts (vid_strerror) and the library version.
 */
#include "util.h"

#include <string.h>

#include "vid-version.h"

VID_API const char *vid_strerror(int code)
{
    switch (code) {
    case VID_OK:
        return "success";
    case VID_EINVAL:
        return "invalid argument";
    case VID_ENOMEM:
        return "out of memory";
    case VID_ESTATE:
        return "not possible in the current state";
    case VID_ENETWORK:
        return "network error: server unreachable or connection lost";
    case VID_ETLS:
        return "TLS error: server certificate not trusted or handshake "
               "failed";
    case VID_EAUTH:
        return "wrong user name or password";
    case VID_ETHROTTLED:
        return "too many failed logins, try again later";
    case VID_EPROTO:
        return "protocol error";
    case VID_ENOTFOUND:
        return "unknown user";
    case VID_EOFFLINE:
        return "user is offline";
    case VID_ERATE:
        return "server rate or connection limit reached";
    case VID_EIDENTITY:
        return "device identity error";
    case VID_EIO:
        return "file input/output error";
    case VID_ETIMEDOUT:
        return "timed out";
    case VID_ECLOSED:
        return "connection closed";
    case VID_ENOCALL:
        return "unknown call";
    case VID_EREPLACED:
        return "session replaced by a login of the same device elsewhere";
    case VID_ESERVER:
        return "internal server error";
    case VID_EVERSION:
        return "unsupported options version";
    case VID_ENODEVICE:
        return "no such camera, microphone or speaker";
    case VID_EBUSY:
        return "busy: the device is in use or a call is already active";
    case VID_EMEDIA:
        return "media could not start (codec, GStreamer element or device "
               "failure)";
    default:
        return "unknown error";
    }
}

VID_API const char *vid_version(void)
{
    return VID_VERSION;
}

size_t util_strlcpy(char *dst, const char *src, size_t cap)
{
    size_t n = strlen(src);

    if (cap > 0) {
        size_t k = n < cap - 1 ? n : cap - 1;
        memcpy(dst, src, k);
        dst[k] = '\0';
    }
    return n;
}

void util_wipe(void *p, size_t len)
{
    volatile unsigned char *v = p;

    while (len-- > 0)
        *v++ = 0;
}
