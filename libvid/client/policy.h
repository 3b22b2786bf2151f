/*
 * policy.h — the administrator's policy from the server's welcome message,
 * turned into the public vid_policy. Pure: no I/O, no globals.
 *
 * The server's schema (proto.c) only checks that "policy" is an object; its
 * contents come from the admin's config, so this parser takes what is
 * well-formed and skips the rest instead of failing the login.
 */
#ifndef VID_CLIENT_POLICY_H
#define VID_CLIENT_POLICY_H

#include <jansson.h>

#include "vid/vid.h"

/* A new policy from @pol (any JSON value; NULL or a non-object gives the
 * defaults). Never NULL. Free with vid_policy_free(). */
vid_policy *client_policy_from_json(const json_t *pol);

/* A deep copy. Never NULL. */
vid_policy *client_policy_copy(const vid_policy *src);

#endif /* VID_CLIENT_POLICY_H */
