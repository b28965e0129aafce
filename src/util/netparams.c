/* Network parameters: the three networks and what differs between them.
 *
 * Magic values. Every P2P frame starts with its network's 4-byte magic, so a node never mixes
 * up networks and a stream can resynchronise on it. Ours are chosen so that:
 *   - every byte is >= 0x80, so the magic is never valid ASCII text, and the first byte
 *     (0xf7, 0xf8, 0xfb) can never begin a UTF-8 sequence, so no text protocol collides;
 *   - they differ from Bitcoin's (main f9beb4d9, testnet3 0b110907, testnet4 1c163f28,
 *     signet 0a03cf40, regtest fabfb5da) and its well-known forks, so a Bitcoin node that
 *     reaches us by mistake fails at the first header;
 *   - the three differ from each other in every byte.
 *     main    f7 a2 d6 93
 *     testnet f8 b3 c1 8e
 *     regtest fb c4 e9 a7 */
#include "util/netparams.h"

#include <stddef.h>
#include <string.h>

static const struct netparams netparams_table[] = {
	{
		.id = NET_MAIN,
		.name = "main",
		.subdir = "",
		.magic = {0xf7, 0xa2, 0xd6, 0x93},
		.p2p_port = 9733,
		.rpc_port = 9732,
		.mocktime_allowed = false,
		.default_min_pow = 16,
		.default_relay_delay_ms = 2000,
		.inbound_request_delay_ms = 2000,
	},
	{
		.id = NET_TESTNET,
		.name = "testnet",
		.subdir = "testnet",
		.magic = {0xf8, 0xb3, 0xc1, 0x8e},
		.p2p_port = 19733,
		.rpc_port = 19732,
		.mocktime_allowed = false,
		.default_min_pow = 8,
		.default_relay_delay_ms = 2000,
		.inbound_request_delay_ms = 2000,
	},
	{
		.id = NET_REGTEST,
		.name = "regtest",
		.subdir = "regtest",
		.magic = {0xfb, 0xc4, 0xe9, 0xa7},
		.p2p_port = 29733,
		.rpc_port = 29732,
		.mocktime_allowed = true,
		.default_min_pow = 0,
		.default_relay_delay_ms = 0,
		.inbound_request_delay_ms = 0,
	},
};

#define NETPARAMS_COUNT (sizeof(netparams_table) / sizeof(netparams_table[0]))

const struct netparams *netparams_by_name(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < NETPARAMS_COUNT; i++) {
		if (strcmp(netparams_table[i].name, name) == 0)
			return &netparams_table[i];
	}
	return NULL;
}

const struct netparams *netparams_get(enum network id)
{
	switch (id) {
	case NET_MAIN:
		return &netparams_table[0];
	case NET_TESTNET:
		return &netparams_table[1];
	case NET_REGTEST:
		return &netparams_table[2];
	}
	return NULL; /* a value outside the enum */
}
