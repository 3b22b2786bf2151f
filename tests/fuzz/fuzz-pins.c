/*
 * libFuzzer target: the pins-file parser (identity_pins_parse(),
 * libvid/identity/trust.c), i.e. what identity_pins_open() reads from
 * <state_dir>/known_peers.
 *
 * Every pin the parser accepts must have valid names and a well-formed
 * upper-case fingerprint; the pins, written back the way the store writes
 * them, must parse again to the same pins with no corrupt line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "identity/trust.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            abort();                                                           \
    } while (0)

typedef struct {
    GString *out;
    size_t pins;
    size_t bad;
    size_t last_bad_line;
} ctx;

static void on_pin(const char *user, const char *device,
                   const char *fingerprint, void *data)
{
    ctx *c = data;
    uint8_t b[32];

    CHECK(identity_name_valid(user));
    CHECK(identity_name_valid(device));
    CHECK(identity_fingerprint_decode(fingerprint, b) == VID_OK);
    for (const char *p = fingerprint + 8; *p != '\0'; p++)
        CHECK(!(*p >= 'a' && *p <= 'f'));
    c->pins++;
    g_string_append_printf(c->out, "%s %s %s\n", user, device, fingerprint);
}

static void on_bad(size_t line, const char *reason, void *data)
{
    ctx *c = data;

    CHECK(reason != NULL && reason[0] != '\0');
    CHECK(line > c->last_bad_line);
    c->last_bad_line = line;
    c->bad++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ctx first = {g_string_new(""), 0, 0, 0};
    ctx again = {g_string_new(""), 0, 0, 0};
    size_t lines = 1, corrupt;

    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';

    corrupt =
        identity_pins_parse((const char *) data, size, on_pin, on_bad, &first);
    CHECK(corrupt == first.bad);
    CHECK(first.pins + first.bad <= lines);

    corrupt = identity_pins_parse(first.out->str, first.out->len, on_pin,
                                  on_bad, &again);
    CHECK(corrupt == 0 && again.bad == 0);
    CHECK(again.pins == first.pins);
    CHECK(strcmp(again.out->str, first.out->str) == 0);

    g_string_free(first.out, TRUE);
    g_string_free(again.out, TRUE);
    return 0;
}
