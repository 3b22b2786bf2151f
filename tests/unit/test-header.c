/*
 * test-header.c — the public header on its own, compiled as strict C99
 * (-pedantic-errors -Werror, see meson.build), and the parts of the API
 * that need no server: options, status texts, version. The walkthrough at
 * the top of vid.h is extracted and compiled the same way (vid-walkthrough).
 */
#include <vid/vid.h>

#include <stdio.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                    \
            failures++;                                                        \
        }                                                                      \
    } while (0)

int main(void)
{
    vid_client_options a = VID_CLIENT_OPTIONS_INIT;
    vid_client_options b;
    char version[32];
    int code;

    /* The _INIT macro and the init function agree, field by field. */
    memset(&b, 0x5a, sizeof b);
    CHECK(vid_client_options_init(&b, VID_CLIENT_OPTIONS_VERSION) == VID_OK);
    CHECK(a.version == VID_CLIENT_OPTIONS_VERSION);
    CHECK(b.version == a.version);
    CHECK(b.server_url == NULL && b.ca_file == NULL && b.state_dir == NULL &&
          b.device_name == NULL && b.main_context == NULL);
    CHECK(a.reconnect == 1 && b.reconnect == 1);
    CHECK(vid_client_options_init(&b, VID_CLIENT_OPTIONS_VERSION + 1) ==
          VID_EVERSION);

    /* Every status has its own text. */
    for (code = VID_OK; code >= VID_EMEDIA; code--) {
        int other;
        CHECK(strcmp(vid_strerror(code), "unknown error") != 0);
        for (other = code - 1; other >= VID_EMEDIA; other--)
            CHECK(strcmp(vid_strerror(code), vid_strerror(other)) != 0);
    }
    CHECK(strcmp(vid_strerror(VID_EMEDIA - 1), "unknown error") == 0);
    CHECK(strcmp(vid_strerror(1), "unknown error") == 0);

    /* The header's version is the library's. */
    snprintf(version, sizeof version, "%d.%d.%d", VID_VERSION_MAJOR,
             VID_VERSION_MINOR, VID_VERSION_MICRO);
    CHECK(strcmp(version, vid_version()) == 0);

    /* Free functions accept NULL. */
    vid_client_free(NULL);
    vid_policy_free(NULL);
    CHECK(strcmp(vid_client_last_error(NULL), "") == 0 ||
          vid_client_last_error(NULL) != NULL);

    if (failures != 0) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("header: all checks passed\n");
    return 0;
}
