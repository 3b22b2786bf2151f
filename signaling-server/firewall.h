/*
 * firewall.h — the nftables ruleset that opens what this config needs.
 */
#ifndef VSS_FIREWALL_H
#define VSS_FIREWALL_H

#include "config.h"

/* nftables ruleset text (g_free it). */
char *firewall_rules(const server_config *cfg);

#endif
