/* Socket addresses: parsing "host:port" forms, formatting, classification. */
#ifndef P2PD_NET_NETADDR_H
#define P2PD_NET_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Longest formatted address: "[" IPv6 "]:" port, NUL. */
#define NETADDR_STRLEN 64

struct netaddr {
	struct sockaddr_storage ss;
	socklen_t len; /* 0 when unset */
};

/* Parse a numeric address "1.2.3.4", "1.2.3.4:5", "::1", "[::1]:5". A missing port becomes
 * default_port. Returns 0, or -1 if s is not a numeric address (a host name is not parsed here:
 * see netaddr_split_host_port). */
int netaddr_parse(struct netaddr *out, const char *s, uint16_t default_port);
/* Split "host:port" / "[v6]:port" / "host" into host (hostlen bytes) and port. Returns 0, or -1
 * on a malformed string (empty host, bad port, unbalanced brackets, host too long). */
int netaddr_split_host_port(const char *s, char *host, size_t hostlen, uint16_t *port,
			    uint16_t default_port);
/* "1.2.3.4:5" or "[::1]:5" into out (NETADDR_STRLEN bytes). IPv4-mapped IPv6 prints as IPv4. */
void netaddr_format(const struct netaddr *a, char *out, size_t outlen);
/* Address without port. */
void netaddr_format_ip(const struct netaddr *a, char *out, size_t outlen);
uint16_t netaddr_port(const struct netaddr *a);
bool netaddr_is_loopback(const struct netaddr *a);
/* 127.0.0.1 or ::1 (IPv4-mapped too): the address every process on this host connects from by
 * default, so a penalty attached to it would fall on every local peer (doc/scoring.md). Other
 * 127/8 addresses are taken only by choice (tests bind them to act as distinct peers). */
bool netaddr_is_shared_loopback(const struct netaddr *a);
/* Same IP (IPv4-mapped and IPv4 compare equal), ignoring the port. */
bool netaddr_same_ip(const struct netaddr *a, const struct netaddr *b);
/* "ipv4" or "ipv6" (IPv4-mapped counts as ipv4). */
const char *netaddr_network_name(const struct netaddr *a);
/* The address's network group as a number: IPv4 /16 (and IPv4-mapped), IPv6 /32, tagged by
 * family so groups of different families never compare equal. */
uint64_t netaddr_group(const struct netaddr *a);
/* The IP as 16 bytes: IPv6 as is, IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d). Returns false for
 * an unset address. */
bool netaddr_ip16(const struct netaddr *a, uint8_t out[16]);
/* Build from a sockaddr. */
void netaddr_from_sockaddr(struct netaddr *out, const struct sockaddr *sa, socklen_t len);

#endif
