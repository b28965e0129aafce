/* BIP155 network addresses for the address book (include/net/addrman.h): validity, routing
 * classes, network groups, and the text forms (IPv4, IPv6, Tor v3 onion names with their
 * checksum, I2P .b32.i2p names).
 *
 * Tor v3 names need SHA3-256, which libsodium lacks. The Keccak permutation below is used only
 * for the two-byte checksum of an onion name (a typo check, not a security property), so a
 * compact implementation here is preferred to another dependency; it is tested against the
 * FIPS 202 vectors and a real onion name (test/unit/test_addrman.c). */
#include "net/addrman.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "net/netaddr.h"
#include "wire/addr.h"

/* ---- Networks ----------------------------------------------------------------------------- */

size_t peer_net_addrlen(uint8_t net)
{
	switch (net) {
	case PEER_NET_IPV4:
		return 4;
	case PEER_NET_IPV6:
	case PEER_NET_CJDNS:
		return 16;
	case PEER_NET_TORV3:
	case PEER_NET_I2P:
		return 32;
	}
	return 0;
}

static const struct {
	uint8_t net;
	const char *name;
} net_names[] = {
	{PEER_NET_IPV4, "ipv4"}, {PEER_NET_IPV6, "ipv6"},   {PEER_NET_TORV3, "onion"},
	{PEER_NET_I2P, "i2p"},   {PEER_NET_CJDNS, "cjdns"},
};

const char *peer_net_name(uint8_t net)
{
	for (size_t i = 0; i < sizeof(net_names) / sizeof(net_names[0]); i++)
		if (net_names[i].net == net)
			return net_names[i].name;
	return "unknown";
}

uint8_t peer_net_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(net_names) / sizeof(net_names[0]); i++)
		if (strcmp(net_names[i].name, name) == 0)
			return net_names[i].net;
	return 0;
}

/* ---- Classification ----------------------------------------------------------------------- */

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* The first bits of an address match a prefix given as bytes (whole bytes, then a partial one
 * masked to its top bits). */
static bool has_prefix(const uint8_t *a, const uint8_t *prefix, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;
	if (memcmp(a, prefix, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[whole] & mask) == (prefix[whole] & mask);
}

/* IPv6 prefixes that embed another network: such addresses arrive as their own network id. */
static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
static const uint8_t torv2_in_v6[6] = {0xfd, 0x87, 0xd8, 0x7e, 0xeb, 0x43};
static const uint8_t internal_in_v6[6] = {0xfd, 0x6b, 0x88, 0xc0, 0x87, 0x24};

bool peer_addr_valid(const struct peer_addr *a)
{
	size_t len = peer_net_addrlen(a->net);
	if (len == 0 || a->addrlen != len)
		return false;
	switch (a->net) {
	case PEER_NET_IPV4:
		/* 0.0.0.0 and 255.255.255.255 name no host. */
		return !all_zero(a->addr, 4) && !(a->addr[0] == 0xff && a->addr[1] == 0xff &&
						  a->addr[2] == 0xff && a->addr[3] == 0xff);
	case PEER_NET_IPV6:
		return !all_zero(a->addr, 16) && !has_prefix(a->addr, v4_mapped, 96) &&
		       !has_prefix(a->addr, torv2_in_v6, 48) &&
		       !has_prefix(a->addr, internal_in_v6, 48);
	case PEER_NET_CJDNS:
		return a->addr[0] == 0xfc;
	case PEER_NET_TORV3:
	case PEER_NET_I2P:
		return true;
	}
	return false;
}

/* Non-routable IPv4 ranges: network (big-endian) and prefix length. */
static const struct {
	uint32_t net;
	unsigned bits;
} v4_unroutable[] = {
	{0x00000000, 8},  /* "this network" (RFC 1122) */
	{0x0a000000, 8},  /* private (RFC 1918) */
	{0x64400000, 10}, /* shared address space, carrier-grade NAT (RFC 6598) */
	{0x7f000000, 8},  /* loopback */
	{0xa9fe0000, 16}, /* link-local (RFC 3927) */
	{0xac100000, 12}, /* private (RFC 1918) */
	{0xc0000200, 24}, /* documentation TEST-NET-1 (RFC 5737) */
	{0xc0a80000, 16}, /* private (RFC 1918) */
	{0xc6120000, 15}, /* benchmarking (RFC 2544) */
	{0xc6336400, 24}, /* documentation TEST-NET-2 (RFC 5737) */
	{0xcb007100, 24}, /* documentation TEST-NET-3 (RFC 5737) */
	{0xe0000000, 4},  /* multicast */
	{0xf0000000, 4},  /* reserved, and broadcast */
};

/* Non-routable IPv6 ranges. */
static const struct {
	uint8_t prefix[4];
	unsigned bits;
} v6_unroutable[] = {
	{{0xfc, 0x00}, 7},              /* unique local (RFC 4193) */
	{{0xfe, 0x80}, 10},             /* link-local (RFC 4291) */
	{{0xfe, 0xc0}, 10},             /* site-local, deprecated (RFC 3879) */
	{{0xff, 0x00}, 8},              /* multicast */
	{{0x20, 0x01, 0x0d, 0xb8}, 32}, /* documentation (RFC 3849) */
	{{0x20, 0x01, 0x00, 0x10}, 28}, /* ORCHID (RFC 4843) */
	{{0x20, 0x01, 0x00, 0x20}, 28}, /* ORCHIDv2 (RFC 7343) */
};

static bool ipv4_routable(const uint8_t *b)
{
	uint32_t v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	for (size_t i = 0; i < sizeof(v4_unroutable) / sizeof(v4_unroutable[0]); i++) {
		uint32_t mask = 0xffffffffu << (32 - v4_unroutable[i].bits);
		if ((v & mask) == v4_unroutable[i].net)
			return false;
	}
	return true;
}

static bool ipv6_routable(const uint8_t *b)
{
	static const uint8_t loopback[16] = {[15] = 1};
	if (memcmp(b, loopback, 16) == 0)
		return false;
	for (size_t i = 0; i < sizeof(v6_unroutable) / sizeof(v6_unroutable[0]); i++)
		if (has_prefix(b, v6_unroutable[i].prefix, v6_unroutable[i].bits))
			return false;
	return true;
}

bool peer_addr_routable(const struct peer_addr *a)
{
	if (!peer_addr_valid(a))
		return false;
	switch (a->net) {
	case PEER_NET_IPV4:
		return ipv4_routable(a->addr);
	case PEER_NET_IPV6:
		return ipv6_routable(a->addr);
	case PEER_NET_TORV3:
	case PEER_NET_I2P:
	case PEER_NET_CJDNS:
		return true;
	}
	return false;
}

bool peer_addr_reachable(const struct peer_addr *a)
{
	return peer_addr_valid(a) && (a->net == PEER_NET_IPV4 || a->net == PEER_NET_IPV6);
}

bool peer_addr_equal(const struct peer_addr *a, const struct peer_addr *b)
{
	return a->net == b->net && a->addrlen == b->addrlen && a->port == b->port &&
	       a->addrlen <= PEER_ADDR_MAX_LEN && memcmp(a->addr, b->addr, a->addrlen) == 0;
}

size_t peer_addr_group(const struct peer_addr *a, uint8_t out[PEER_ADDR_GROUP_MAX])
{
	static const uint8_t six_to_four[2] = {0x20, 0x02};
	static const uint8_t teredo[4] = {0x20, 0x01, 0x00, 0x00};
	memset(out, 0, PEER_ADDR_GROUP_MAX);
	if (!peer_addr_valid(a))
		return 1;
	out[0] = a->net;
	switch (a->net) {
	case PEER_NET_IPV4:
		memcpy(out + 1, a->addr, 2);
		return 3;
	case PEER_NET_IPV6:
		/* Tunnels carry an IPv4 address: group by it, so that one IPv4 /16 cannot pose as
		 * many IPv6 /32s. */
		if (has_prefix(a->addr, six_to_four, 16)) {
			out[0] = PEER_NET_IPV4;
			memcpy(out + 1, a->addr + 2, 2);
			return 3;
		}
		if (has_prefix(a->addr, teredo, 32)) {
			out[0] = PEER_NET_IPV4;
			out[1] = (uint8_t)~a->addr[12];
			out[2] = (uint8_t)~a->addr[13];
			return 3;
		}
		memcpy(out + 1, a->addr, 4);
		return 5;
	case PEER_NET_TORV3:
	case PEER_NET_I2P:
		/* Keys are free to make: finer groups would only let one operator spread wider. */
		out[1] = a->addr[0] & 0xf0;
		return 2;
	case PEER_NET_CJDNS:
		out[1] = a->addr[1] & 0xf0; /* byte 0 is always 0xfc */
		return 2;
	}
	return 1;
}

/* ---- SHA3-256 (FIPS 202), for onion checksums only ---------------------------------------- */

#define KECCAK_ROUNDS   24
#define SHA3_256_RATE   136 /* bytes absorbed per permutation: 1600 bits - 2 * 256 */
#define SHA3_DOMAIN_PAD 0x06
#define SHA3_FINAL_PAD  0x80

static const uint64_t keccak_rc[KECCAK_ROUNDS] = {
	0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
	0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
	0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
	0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
	0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
	0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

/* Rotation of lane (x, y), at index x + 5y. */
static const unsigned keccak_rho[25] = {
	0,  1,  62, 28, 27, 36, 44, 6,  55, 20, 3,  10, 43,
	25, 39, 41, 45, 15, 21, 8,  18, 2,  61, 56, 14,
};

static uint64_t rotl64(uint64_t v, unsigned n)
{
	return n == 0 ? v : (v << n) | (v >> (64 - n));
}

static void keccak_f1600(uint64_t s[25])
{
	for (int round = 0; round < KECCAK_ROUNDS; round++) {
		uint64_t c[5], b[25];
		for (int x = 0; x < 5; x++)
			c[x] = s[x] ^ s[x + 5] ^ s[x + 10] ^ s[x + 15] ^ s[x + 20];
		for (int x = 0; x < 5; x++) {
			uint64_t d = c[(x + 4) % 5] ^ rotl64(c[(x + 1) % 5], 1);
			for (int y = 0; y < 25; y += 5)
				s[x + y] ^= d;
		}
		/* rho and pi: lane (x, y) moves to (y, 2x + 3y). */
		for (int x = 0; x < 5; x++)
			for (int y = 0; y < 5; y++)
				b[y + 5 * ((2 * x + 3 * y) % 5)] =
					rotl64(s[x + 5 * y], keccak_rho[x + 5 * y]);
		for (int y = 0; y < 25; y += 5)
			for (int x = 0; x < 5; x++)
				s[x + y] = b[x + y] ^ (~b[(x + 1) % 5 + y] & b[(x + 2) % 5 + y]);
		s[0] ^= keccak_rc[round];
	}
}

static void keccak_absorb(uint64_t s[25], const uint8_t *block)
{
	for (int i = 0; i < SHA3_256_RATE / 8; i++) {
		uint64_t lane = 0;
		for (int j = 7; j >= 0; j--)
			lane = (lane << 8) | block[8 * i + j];
		s[i] ^= lane;
	}
	keccak_f1600(s);
}

/* Exposed to the unit test only (not in the header: no other module should need SHA3). */
void addrman_sha3_256(uint8_t out[32], const void *data, size_t len);
void addrman_sha3_256(uint8_t out[32], const void *data, size_t len)
{
	uint64_t s[25] = {0};
	const uint8_t *p = data;
	for (; len >= SHA3_256_RATE; p += SHA3_256_RATE, len -= SHA3_256_RATE)
		keccak_absorb(s, p);
	uint8_t last[SHA3_256_RATE] = {0};
	memcpy(last, p, len);
	last[len] ^= SHA3_DOMAIN_PAD;
	last[SHA3_256_RATE - 1] ^= SHA3_FINAL_PAD;
	keccak_absorb(s, last);
	for (int i = 0; i < 32; i++)
		out[i] = (uint8_t)(s[i / 8] >> (8 * (i % 8)));
}

/* ---- Base32 (RFC 4648, lower case, no padding) -------------------------------------------- */

static const char b32_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

/* Encode n bytes into out (room for ceil(8n/5) + 1). */
static void base32_encode(char *out, const uint8_t *in, size_t n)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			*out++ = b32_alphabet[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		*out++ = b32_alphabet[(acc << (5 - bits)) & 31];
	*out = '\0';
}

/* Decode exactly nchars characters (upper or lower case) into out (n bytes). Returns 0, or -1
 * on a character outside the alphabet, a length that does not make n bytes, or non-zero
 * padding bits. */
static int base32_decode(uint8_t *out, size_t n, const char *in, size_t nchars)
{
	if (nchars != (n * 8 + 4) / 5)
		return -1;
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < nchars; i++) {
		char c = in[i];
		int v;
		if (c >= 'a' && c <= 'z')
			v = c - 'a';
		else if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= '2' && c <= '7')
			v = c - '2' + 26;
		else
			return -1;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			out[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	return (acc & ((1u << bits) - 1)) == 0 ? 0 : -1;
}

/* ---- Tor v3 and I2P names ----------------------------------------------------------------- */

#define ONION_VERSION      3
#define ONION_CHECKSUM_LEN 2
#define ONION_RAW_LEN      (32 + ONION_CHECKSUM_LEN + 1) /* pubkey || checksum || version */
#define ONION_NAME_LEN     56                            /* base32 of 35 bytes */
#define I2P_NAME_LEN       52                            /* base32 of 32 bytes */
#define ONION_SUFFIX       ".onion"
#define I2P_SUFFIX         ".b32.i2p"

/* checksum = SHA3-256(".onion checksum" || pubkey || version)[:2] (Tor rend-spec-v3). */
static void onion_checksum(uint8_t out[ONION_CHECKSUM_LEN], const uint8_t pubkey[32])
{
	static const char prefix[] = ".onion checksum";
	uint8_t buf[sizeof(prefix) - 1 + 32 + 1], h[32];
	memcpy(buf, prefix, sizeof(prefix) - 1);
	memcpy(buf + sizeof(prefix) - 1, pubkey, 32);
	buf[sizeof(buf) - 1] = ONION_VERSION;
	addrman_sha3_256(h, buf, sizeof(buf));
	memcpy(out, h, ONION_CHECKSUM_LEN);
}

static void onion_name(char out[ONION_NAME_LEN + 1], const uint8_t pubkey[32])
{
	uint8_t raw[ONION_RAW_LEN];
	memcpy(raw, pubkey, 32);
	onion_checksum(raw + 32, pubkey);
	raw[ONION_RAW_LEN - 1] = ONION_VERSION;
	base32_encode(out, raw, sizeof(raw));
}

static int onion_parse(uint8_t pubkey[32], const char *name, size_t len)
{
	uint8_t raw[ONION_RAW_LEN], sum[ONION_CHECKSUM_LEN];
	if (base32_decode(raw, sizeof(raw), name, len) != 0 ||
	    raw[ONION_RAW_LEN - 1] != ONION_VERSION)
		return -1;
	onion_checksum(sum, raw);
	if (memcmp(sum, raw + 32, ONION_CHECKSUM_LEN) != 0)
		return -1;
	memcpy(pubkey, raw, 32);
	return 0;
}

/* ---- Text forms --------------------------------------------------------------------------- */

void peer_addr_format_host(const struct peer_addr *a, char *out, size_t outlen)
{
	char buf[PEER_ADDR_STRLEN];
	if (outlen == 0)
		return;
	if (!peer_addr_valid(a)) {
		snprintf(out, outlen, "invalid");
		return;
	}
	switch (a->net) {
	case PEER_NET_IPV4:
		inet_ntop(AF_INET, a->addr, buf, sizeof(buf));
		break;
	case PEER_NET_IPV6:
	case PEER_NET_CJDNS:
		inet_ntop(AF_INET6, a->addr, buf, sizeof(buf));
		break;
	case PEER_NET_TORV3:
		onion_name(buf, a->addr);
		strcat(buf, ONION_SUFFIX); /* NOLINT: buf is sized for name and suffix */
		break;
	case PEER_NET_I2P:
		base32_encode(buf, a->addr, 32);
		strcat(buf, I2P_SUFFIX); /* NOLINT: buf is sized for name and suffix */
		break;
	}
	snprintf(out, outlen, "%s", buf);
}

void peer_addr_format(const struct peer_addr *a, char *out, size_t outlen)
{
	char host[PEER_ADDR_STRLEN];
	peer_addr_format_host(a, host, sizeof(host));
	if (!peer_addr_valid(a))
		snprintf(out, outlen, "%s", host);
	else if (a->net == PEER_NET_IPV6 || a->net == PEER_NET_CJDNS)
		snprintf(out, outlen, "[%s]:%u", host, a->port);
	else
		snprintf(out, outlen, "%s:%u", host, a->port);
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);
	return len > n && strcmp(s + len - n, suffix) == 0;
}

int peer_addr_parse(struct peer_addr *out, const char *s, uint16_t default_port)
{
	char host[NETADDR_STRLEN * 2];
	uint16_t port;
	memset(out, 0, sizeof(*out));
	if (netaddr_split_host_port(s, host, sizeof(host), &port, default_port) != 0)
		return -1;
	size_t len = strlen(host);
	out->port = port;
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		out->net = PEER_NET_IPV4;
		out->addrlen = 4;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		out->net = PEER_NET_IPV6;
		out->addrlen = 16;
		if (has_prefix(out->addr, v4_mapped, 96)) {
			memmove(out->addr, out->addr + 12, 4);
			memset(out->addr + 4, 0, 12);
			out->net = PEER_NET_IPV4;
			out->addrlen = 4;
		}
	} else if (ends_with(host, len, ONION_SUFFIX) &&
		   len - strlen(ONION_SUFFIX) == ONION_NAME_LEN) {
		if (onion_parse(out->addr, host, ONION_NAME_LEN) != 0)
			goto fail;
		out->net = PEER_NET_TORV3;
		out->addrlen = 32;
	} else if (ends_with(host, len, I2P_SUFFIX) && len - strlen(I2P_SUFFIX) == I2P_NAME_LEN) {
		if (base32_decode(out->addr, 32, host, I2P_NAME_LEN) != 0)
			goto fail;
		out->net = PEER_NET_I2P;
		out->addrlen = 32;
	} else {
		goto fail;
	}
	if (peer_addr_valid(out))
		return 0;
fail:
	memset(out, 0, sizeof(*out));
	return -1;
}

int peer_addr_from_netaddr(struct peer_addr *out, const struct netaddr *in)
{
	memset(out, 0, sizeof(*out));
	if (in->len == 0)
		return -1;
	if (in->ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&in->ss;
		memcpy(out->addr, &sin->sin_addr, 4);
		out->net = PEER_NET_IPV4;
		out->addrlen = 4;
		out->port = ntohs(sin->sin_port);
		return 0;
	}
	if (in->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&in->ss;
		const uint8_t *b = sin6->sin6_addr.s6_addr;
		out->port = ntohs(sin6->sin6_port);
		if (has_prefix(b, v4_mapped, 96)) {
			memcpy(out->addr, b + 12, 4);
			out->net = PEER_NET_IPV4;
			out->addrlen = 4;
		} else {
			memcpy(out->addr, b, 16);
			out->net = PEER_NET_IPV6;
			out->addrlen = 16;
		}
		return 0;
	}
	return -1;
}

int peer_addr_to_netaddr(struct netaddr *out, const struct peer_addr *a)
{
	memset(out, 0, sizeof(*out));
	if (!peer_addr_reachable(a))
		return -1;
	if (a->net == PEER_NET_IPV4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(a->port);
		memcpy(&sin->sin_addr, a->addr, 4);
		out->len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(a->port);
		memcpy(&sin6->sin6_addr, a->addr, 16);
		out->len = sizeof(*sin6);
	}
	return 0;
}

void peer_addr_from_wire(struct peer_addr *out, const struct wire_addrv2 *w)
{
	memset(out, 0, sizeof(*out));
	out->time = w->time;
	out->services = w->services;
	out->net = w->net;
	memcpy(out->addr, w->addr, sizeof(out->addr));
	out->addrlen = w->addrlen;
	out->port = w->port;
}

void peer_addr_to_wire(struct wire_addrv2 *out, const struct peer_addr *a)
{
	memset(out, 0, sizeof(*out));
	out->time = a->time;
	out->services = a->services;
	out->net = a->net;
	memcpy(out->addr, a->addr, sizeof(out->addr));
	out->addrlen = a->addrlen;
	out->port = a->port;
}
