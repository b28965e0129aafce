/* Fuzz the text forms of addresses: peer_addr_parse (IPv4, IPv6, Tor v3 ".onion" with its
 * checksum, I2P ".b32.i2p"), netaddr_parse, subnet_parse, and their formatters. The first byte
 * picks what the rest is: text for one of the three parsers, or the binary fields of a peer
 * address (net id, address bytes, port) for the formatter.
 *
 * Whatever the bytes, nothing may crash or overflow a buffer, and every address that parses
 * (or every valid binary one) formats to text that parses back to the same address: the
 * operator's text, the RPC's output and the address book agree. A parsed peer address is valid,
 * its network group is 1 to PEER_ADDR_GROUP_MAX bytes, and a reachable one converts to a socket
 * address and back unchanged; a parsed subnet has its host bits clear. */
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/addrman.h"
#include "net/banman.h"
#include "net/netaddr.h"
#include "wire/addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum fuzz_mode {
	FUZZ_PEER_ADDR,
	FUZZ_NETADDR,
	FUZZ_SUBNET,
	FUZZ_BINARY,
	FUZZ_MODES, /* how many; the selector byte is taken modulo this */
};

#define FUZZ_DEFAULT_PORT 9733

/* Checks every valid peer address passes, however it was made. */
static void check_peer_addr(const struct peer_addr *a)
{
	char text[PEER_ADDR_STRLEN], host[PEER_ADDR_STRLEN];
	uint8_t group[PEER_ADDR_GROUP_MAX];
	struct peer_addr again;
	struct wire_addrv2 w;
	struct netaddr na;

	assert(peer_addr_valid(a));
	assert(a->addrlen == peer_net_addrlen(a->net));
	size_t g = peer_addr_group(a, group);
	/* The group starts with the net id; 6to4 and Teredo IPv6 are grouped as their IPv4. */
	assert(g >= 1 && g <= PEER_ADDR_GROUP_MAX);
	assert(group[0] == a->net || (a->net == PEER_NET_IPV6 && group[0] == PEER_NET_IPV4));
	peer_addr_format(a, text, sizeof(text));
	peer_addr_format_host(a, host, sizeof(host));
	assert(strlen(text) < sizeof(text) - 1 && strcmp(text, "invalid") != 0);
	assert(strncmp(text, host, strlen(host)) == 0 || text[0] == '[');

	/* The text parses back to the same address; CJDNS prints as the IPv6 it looks like. */
	if (a->port != 0) {
		assert(peer_addr_parse(&again, text, 1) == 0);
		if (a->net == PEER_NET_CJDNS)
			assert(again.net == PEER_NET_IPV6 &&
			       memcmp(again.addr, a->addr, a->addrlen) == 0 &&
			       again.port == a->port);
		else
			assert(peer_addr_equal(&again, a));
	}

	peer_addr_to_wire(&w, a);
	peer_addr_from_wire(&again, &w);
	assert(peer_addr_equal(&again, a) && again.time == a->time &&
	       again.services == a->services);

	if (peer_addr_to_netaddr(&na, a) == 0) {
		assert(peer_addr_reachable(a));
		assert(peer_addr_from_netaddr(&again, &na) == 0 && peer_addr_equal(&again, a));
	} else {
		assert(!peer_addr_reachable(a));
	}
	if (peer_addr_routable(a))
		assert(peer_addr_valid(a));
}

static void fuzz_peer_addr(const char *s)
{
	struct peer_addr a;
	if (peer_addr_parse(&a, s, FUZZ_DEFAULT_PORT) != 0) {
		assert(a.net == 0 && a.addrlen == 0 && a.port == 0);
		return;
	}
	assert(a.time == 0 && a.services == 0 && a.port != 0);
	assert(a.net != PEER_NET_CJDNS);
	check_peer_addr(&a);
}

static void fuzz_netaddr(const char *s)
{
	struct netaddr a, again;
	char text[NETADDR_STRLEN];
	if (netaddr_parse(&a, s, FUZZ_DEFAULT_PORT) != 0) {
		assert(a.len == 0);
		return;
	}
	netaddr_format(&a, text, sizeof(text));
	assert(strlen(text) < sizeof(text) - 1);
	assert(netaddr_parse(&again, text, 1) == 0);
	assert(netaddr_same_ip(&a, &again) && netaddr_port(&a) == netaddr_port(&again));
	assert(netaddr_group(&a) == netaddr_group(&again));
}

static void fuzz_subnet(const char *s)
{
	struct subnet sn, again;
	char text[SUBNET_STRLEN], err[128];
	if (subnet_parse(&sn, s, err, sizeof(err)) != 0) {
		assert(err[0] != '\0');
		return;
	}
	assert(sn.bits <= 128);
	for (unsigned i = sn.bits; i < 128; i++)
		assert((sn.addr[i / 8] & (0x80 >> (i % 8))) == 0);
	subnet_format(&sn, text, sizeof(text));
	assert(strlen(text) < sizeof(text) - 1);
	assert(subnet_parse(&again, text, err, sizeof(err)) == 0);
	assert(again.bits == sn.bits && memcmp(again.addr, sn.addr, 16) == 0);
}

/* net id, port (2 bytes LE), then the address bytes (zero-padded to the network's length). */
static void fuzz_binary(const uint8_t *p, size_t len)
{
	struct peer_addr a;
	memset(&a, 0, sizeof(a));
	if (len < 3)
		return;
	a.net = p[0];
	a.port = (uint16_t)(p[1] | p[2] << 8);
	a.addrlen = (uint8_t)peer_net_addrlen(a.net);
	size_t n = len - 3 < a.addrlen ? len - 3 : a.addrlen;
	memcpy(a.addr, p + 3, n);
	a.time = 1700000000;
	a.services = 1;
	if (!peer_addr_valid(&a)) {
		char text[PEER_ADDR_STRLEN];
		peer_addr_format(&a, text, sizeof(text));
		assert(strcmp(text, "invalid") == 0);
		assert(!peer_addr_routable(&a) && !peer_addr_reachable(&a));
		return;
	}
	check_peer_addr(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	/* The text modes see a NUL-terminated copy, as every caller passes a C string. */
	char *s = malloc(size);
	assert(s != NULL);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch ((enum fuzz_mode)(data[0] % FUZZ_MODES)) {
	case FUZZ_PEER_ADDR:
		fuzz_peer_addr(s);
		break;
	case FUZZ_NETADDR:
		fuzz_netaddr(s);
		break;
	case FUZZ_SUBNET:
		fuzz_subnet(s);
		break;
	case FUZZ_BINARY:
		fuzz_binary(data + 1, size - 1);
		break;
	case FUZZ_MODES:
		break;
	}
	free(s);
	return 0;
}
