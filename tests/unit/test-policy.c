/* Unit tests of the policy parser (libvid/client/policy.c): the admin's
 * policy object from "welcome", well-formed or not. */
#include <string.h>

#include <glib.h>

#include "client/policy.h"

static vid_policy *parse(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    vid_policy *p;

    g_assert_nonnull(j);
    p = client_policy_from_json(j);
    json_decref(j);
    g_assert_nonnull(p);
    return p;
}

static void test_full(void)
{
    vid_policy *p =
        parse("{\"ice_servers\":[{\"urls\":[\"stun:s.example:3478\"]},"
              "{\"urls\":[\"turn:t.example:3478?transport=udp\","
              "\"turns:t.example:443?transport=tcp\"],"
              "\"username\":\"1764300000:alice\",\"credential\":\"mZ0x=\"}],"
              "\"ice_transport_policy\":\"relay\","
              "\"media_port_min\":50000,\"media_port_max\":50999,"
              "\"credential_expires\":1764300000,"
              "\"limits\":{\"max_frame\":65536,\"rate\":20,\"burst\":50}}");
    vid_policy *c;

    g_assert_cmpuint(p->n_ice_servers, ==, 2);
    g_assert_cmpuint(p->ice_servers[0].n_urls, ==, 1);
    g_assert_cmpstr(p->ice_servers[0].urls[0], ==, "stun:s.example:3478");
    g_assert_null(p->ice_servers[0].username);
    g_assert_cmpuint(p->ice_servers[1].n_urls, ==, 2);
    g_assert_cmpstr(p->ice_servers[1].username, ==, "1764300000:alice");
    g_assert_cmpstr(p->ice_servers[1].credential, ==, "mZ0x=");
    g_assert_cmpint(p->ice_transport_policy, ==, VID_ICE_TRANSPORT_RELAY);
    g_assert_cmpuint(p->media_port_min, ==, 50000);
    g_assert_cmpuint(p->media_port_max, ==, 50999);
    g_assert_cmpint(p->credential_expires, ==, 1764300000);
    g_assert_cmpuint(p->max_frame, ==, 65536);
    g_assert_cmpfloat(p->rate, ==, 20);
    g_assert_cmpuint(p->burst, ==, 50);

    /* A deep copy: equal, and independent of the original. */
    c = client_policy_copy(p);
    vid_policy_free(p);
    g_assert_cmpuint(c->n_ice_servers, ==, 2);
    g_assert_cmpstr(c->ice_servers[1].urls[1], ==,
                    "turns:t.example:443?transport=tcp");
    g_assert_cmpstr(c->ice_servers[1].credential, ==, "mZ0x=");
    g_assert_cmpuint(c->media_port_max, ==, 50999);
    vid_policy_free(c);
}

static void test_defaults(void)
{
    vid_policy *p = client_policy_from_json(NULL);

    g_assert_cmpuint(p->n_ice_servers, ==, 0);
    g_assert_cmpint(p->ice_transport_policy, ==, VID_ICE_TRANSPORT_ALL);
    g_assert_cmpuint(p->media_port_min, ==, 0);
    g_assert_cmpuint(p->media_port_max, ==, 0);
    g_assert_cmpint(p->credential_expires, ==, 0);
    vid_policy_free(p);
    p = parse("[1,2,3]");
    g_assert_cmpuint(p->n_ice_servers, ==, 0);
    vid_policy_free(p);
    p = parse("{}");
    vid_policy_free(client_policy_copy(p));
    vid_policy_free(p);
}

static void test_malformed_parts_are_skipped(void)
{
    vid_policy *p =
        parse("{\"ice_servers\":[1, \"stun:x\", {\"urls\":[]}, {\"urls\":7},"
              "{\"urls\":\"stun:single:3478\",\"username\":5},"
              "{\"urls\":[3, \"turn:ok:3478\", null]}],"
              "\"ice_transport_policy\":42,"
              "\"media_port_min\":-1,\"media_port_max\":70000,"
              "\"credential_expires\":\"soon\","
              "\"limits\":[1]}");

    /* Only the two usable servers survive. */
    g_assert_cmpuint(p->n_ice_servers, ==, 2);
    g_assert_cmpuint(p->ice_servers[0].n_urls, ==, 1);
    g_assert_cmpstr(p->ice_servers[0].urls[0], ==, "stun:single:3478");
    g_assert_null(p->ice_servers[0].username);
    g_assert_cmpuint(p->ice_servers[1].n_urls, ==, 1);
    g_assert_cmpstr(p->ice_servers[1].urls[0], ==, "turn:ok:3478");
    g_assert_cmpint(p->ice_transport_policy, ==, VID_ICE_TRANSPORT_ALL);
    g_assert_cmpuint(p->media_port_min, ==, 0);
    g_assert_cmpuint(p->media_port_max, ==, 0);
    g_assert_cmpint(p->credential_expires, ==, 0);
    g_assert_cmpuint(p->max_frame, ==, 0);
    vid_policy_free(p);

    /* Numbers as the server's JSON writer may print them. */
    p = parse("{\"media_port_min\":5000.0,\"media_port_max\":5999.5,"
              "\"limits\":{\"max_frame\":65536.0,\"rate\":0.5,"
              "\"burst\":-3}}");
    g_assert_cmpuint(p->media_port_min, ==, 0); /* max invalid: range off */
    g_assert_cmpuint(p->max_frame, ==, 65536);
    g_assert_cmpfloat(p->rate, ==, 0.5);
    g_assert_cmpuint(p->burst, ==, 0);
    vid_policy_free(p);

    /* An inverted range means "any". */
    p = parse("{\"media_port_min\":60000,\"media_port_max\":50000}");
    g_assert_cmpuint(p->media_port_min, ==, 0);
    g_assert_cmpuint(p->media_port_max, ==, 0);
    vid_policy_free(p);
}

static void test_too_many_servers(void)
{
    GString *s = g_string_new("{\"ice_servers\":[");
    vid_policy *p;

    for (int i = 0; i < 100; i++)
        g_string_append_printf(s, "%s{\"urls\":\"stun:h%d\"}", i ? "," : "", i);
    g_string_append(s, "]}");
    p = parse(s->str);
    /* More than 64 servers is not a sane policy: ignored as a whole. */
    g_assert_cmpuint(p->n_ice_servers, ==, 0);
    vid_policy_free(p);
    g_string_free(s, TRUE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/policy/full", test_full);
    g_test_add_func("/policy/defaults", test_defaults);
    g_test_add_func("/policy/malformed", test_malformed_parts_are_skipped);
    g_test_add_func("/policy/too-many-servers", test_too_many_servers);
    return g_test_run();
}
