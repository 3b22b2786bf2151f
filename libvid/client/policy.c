/*
 * policy.c — parse and copy vid_policy (see policy.h).
 */
#include "policy.h"

#include <string.h>

#include <glib.h>

#include "util/util.h"

static char *dup_field(const json_t *msg, const char *key)
{
    const char *s = json_string_value(json_object_get(msg, key));

    return s != NULL ? g_strdup(s) : NULL;
}

VID_API void vid_policy_free(vid_policy *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n_ice_servers; i++) {
        vid_ice_server *s = &p->ice_servers[i];
        for (size_t j = 0; j < s->n_urls; j++)
            g_free(s->urls[j]);
        g_free(s->urls);
        g_free(s->username);
        if (s->credential != NULL) {
            util_wipe(s->credential, strlen(s->credential));
            g_free(s->credential);
        }
    }
    g_free(p->ice_servers);
    g_free(p);
}

/* A number in 0..max (JSON integer, or a real that is a whole number),
 * else 0. */
static unsigned int uint_field(const json_t *o, const char *key,
                               unsigned int max)
{
    const json_t *v = json_object_get(o, key);
    double d;

    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        return i < 0 || i > (json_int_t) max ? 0 : (unsigned int) i;
    }
    if (!json_is_real(v))
        return 0;
    d = json_real_value(v);
    if (!(d >= 0 && d <= max) || d != (double) (unsigned int) d)
        return 0;
    return (unsigned int) d;
}

/* A finite number >= 0, else 0. */
static double rate_field(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    double d;

    if (!json_is_number(v))
        return 0;
    d = json_number_value(v);
    return d >= 0 && d <= 1e9 ? d : 0;
}

/* The policy object is the admin's; parse what is well-formed and skip
 * the rest (proto.c only checks that it is an object). */
vid_policy *client_policy_from_json(const json_t *pol)
{
    vid_policy *p = g_new0(vid_policy, 1);
    const json_t *servers = json_object_get(pol, "ice_servers");
    const json_t *limits = json_object_get(pol, "limits");
    const char *tp =
        json_string_value(json_object_get(pol, "ice_transport_policy"));
    const json_t *exp = json_object_get(pol, "credential_expires");
    size_t i;
    const json_t *s;

    if (json_is_array(servers) && json_array_size(servers) <= 64) {
        p->ice_servers = g_new0(vid_ice_server, json_array_size(servers));
        json_array_foreach(servers, i, s)
        {
            vid_ice_server *out = &p->ice_servers[p->n_ice_servers];
            const json_t *urls = json_object_get(s, "urls");
            size_t j;
            const json_t *u;

            if (!json_is_object(s))
                continue;
            if (json_is_string(urls)) {
                out->urls = g_new0(char *, 1);
                out->urls[out->n_urls++] = g_strdup(json_string_value(urls));
            } else if (json_is_array(urls) && json_array_size(urls) <= 64) {
                out->urls = g_new0(char *, json_array_size(urls));
                json_array_foreach(urls, j, u)
                {
                    if (json_is_string(u))
                        out->urls[out->n_urls++] =
                            g_strdup(json_string_value(u));
                }
            }
            if (out->n_urls == 0) {
                g_free(out->urls);
                out->urls = NULL;
                continue;
            }
            out->username = dup_field(s, "username");
            out->credential = dup_field(s, "credential");
            p->n_ice_servers++;
        }
    }
    p->ice_transport_policy = tp != NULL && strcmp(tp, "relay") == 0
                                  ? VID_ICE_TRANSPORT_RELAY
                                  : VID_ICE_TRANSPORT_ALL;
    p->media_port_min = uint_field(pol, "media_port_min", 65535);
    p->media_port_max = uint_field(pol, "media_port_max", 65535);
    if (p->media_port_min > p->media_port_max)
        p->media_port_min = p->media_port_max = 0;
    if (json_is_integer(exp) && json_integer_value(exp) > 0)
        p->credential_expires = json_integer_value(exp);
    if (json_is_object(limits)) {
        p->max_frame = uint_field(limits, "max_frame", G_MAXINT);
        p->rate = rate_field(limits, "rate");
        p->burst = uint_field(limits, "burst", G_MAXINT);
    }
    return p;
}

vid_policy *client_policy_copy(const vid_policy *src)
{
    vid_policy *p = g_new0(vid_policy, 1);

    *p = *src;
    p->ice_servers = g_new0(vid_ice_server, src->n_ice_servers + 1);
    for (size_t i = 0; i < src->n_ice_servers; i++) {
        const vid_ice_server *s = &src->ice_servers[i];
        vid_ice_server *d = &p->ice_servers[i];
        d->n_urls = s->n_urls;
        d->urls = g_new0(char *, s->n_urls + 1);
        for (size_t j = 0; j < s->n_urls; j++)
            d->urls[j] = g_strdup(s->urls[j]);
        d->username = g_strdup(s->username);
        d->credential = g_strdup(s->credential);
    }
    return p;
}
