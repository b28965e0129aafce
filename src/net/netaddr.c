/* Socket addresses (include/net/netaddr.h). */
#include "net/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/args.h"

/* Longest host name accepted in "host:port" (DNS limit). */
#define HOST_MAX 253

int netaddr_split_host_port(const char *s, char *host, size_t hostlen, uint16_t *port,
			    uint16_t default_port)
{
	const char *hs = s, *he, *ps = NULL;
	if (*s == '[') {
		hs = s + 1;
		he = strchr(hs, ']');
		if (!he)
			return -1;
		if (he[1] == ':')
			ps = he + 2;
		else if (he[1] != '\0')
			return -1;
	} else {
		const char *colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':')) {
			/* Bare IPv6 without brackets: no port. */
			he = s + strlen(s);
		} else if (colon) {
			he = colon;
			ps = colon + 1;
		} else {
			he = s + strlen(s);
		}
	}
	size_t n = (size_t)(he - hs);
	if (n == 0 || n >= hostlen || n > HOST_MAX)
		return -1;
	memcpy(host, hs, n);
	host[n] = '\0';
	*port = default_port;
	if (ps) {
		int64_t v;
		if (parse_int64(ps, &v) != 0 || v < 1 || v > 65535)
			return -1;
		*port = (uint16_t)v;
	}
	return 0;
}

int netaddr_parse(struct netaddr *out, const char *s, uint16_t default_port)
{
	char host[HOST_MAX + 1];
	uint16_t port;
	memset(out, 0, sizeof(*out));
	if (netaddr_split_host_port(s, host, sizeof(host), &port, default_port) != 0)
		return -1;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->ss;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(port);
		out->len = sizeof(*v4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(port);
		out->len = sizeof(*v6);
		return 0;
	}
	memset(out, 0, sizeof(*out));
	return -1;
}

void netaddr_from_sockaddr(struct netaddr *out, const struct sockaddr *sa, socklen_t len)
{
	memset(out, 0, sizeof(*out));
	if (len > sizeof(out->ss))
		len = sizeof(out->ss);
	memcpy(&out->ss, sa, len);
	out->len = len;
}

/* The IPv4 address if a is IPv4 or IPv4-mapped IPv6; returns 0 then, else -1. */
static int as_ipv4(const struct netaddr *a, struct in_addr *out)
{
	if (a->ss.ss_family == AF_INET) {
		*out = ((const struct sockaddr_in *)&a->ss)->sin_addr;
		return 0;
	}
	if (a->ss.ss_family == AF_INET6) {
		const struct in6_addr *v6 = &((const struct sockaddr_in6 *)&a->ss)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(v6)) {
			memcpy(out, &v6->s6_addr[12], 4);
			return 0;
		}
	}
	return -1;
}

uint16_t netaddr_port(const struct netaddr *a)
{
	if (a->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
	if (a->ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	return 0;
}

void netaddr_format_ip(const struct netaddr *a, char *out, size_t outlen)
{
	struct in_addr v4;
	char buf[INET6_ADDRSTRLEN];
	if (as_ipv4(a, &v4) == 0 && inet_ntop(AF_INET, &v4, buf, sizeof(buf)))
		snprintf(out, outlen, "%s", buf);
	else if (a->ss.ss_family == AF_INET6 &&
		 inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&a->ss)->sin6_addr, buf,
			   sizeof(buf)))
		snprintf(out, outlen, "%s", buf);
	else
		snprintf(out, outlen, "?");
}

void netaddr_format(const struct netaddr *a, char *out, size_t outlen)
{
	char ip[INET6_ADDRSTRLEN];
	struct in_addr v4;
	netaddr_format_ip(a, ip, sizeof(ip));
	if (as_ipv4(a, &v4) == 0 || a->ss.ss_family != AF_INET6)
		snprintf(out, outlen, "%s:%u", ip, netaddr_port(a));
	else
		snprintf(out, outlen, "[%s]:%u", ip, netaddr_port(a));
}

bool netaddr_is_loopback(const struct netaddr *a)
{
	struct in_addr v4;
	if (as_ipv4(a, &v4) == 0)
		return (ntohl(v4.s_addr) >> 24) == 127;
	if (a->ss.ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr);
	return false;
}

bool netaddr_is_shared_loopback(const struct netaddr *a)
{
	struct in_addr v4;
	if (as_ipv4(a, &v4) == 0)
		return ntohl(v4.s_addr) == INADDR_LOOPBACK;
	if (a->ss.ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr);
	return false;
}

bool netaddr_same_ip(const struct netaddr *a, const struct netaddr *b)
{
	struct in_addr x, y;
	int ax = as_ipv4(a, &x), bx = as_ipv4(b, &y);
	if (ax == 0 || bx == 0)
		return ax == 0 && bx == 0 && x.s_addr == y.s_addr;
	if (a->ss.ss_family != AF_INET6 || b->ss.ss_family != AF_INET6)
		return false;
	return memcmp(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr,
		      &((const struct sockaddr_in6 *)&b->ss)->sin6_addr, 16) == 0;
}

const char *netaddr_network_name(const struct netaddr *a)
{
	struct in_addr v4;
	if (as_ipv4(a, &v4) == 0)
		return "ipv4";
	if (a->ss.ss_family == AF_INET6)
		return "ipv6";
	return "unknown";
}

uint64_t netaddr_group(const struct netaddr *a)
{
	struct in_addr v4;
	if (as_ipv4(a, &v4) == 0)
		return (UINT64_C(4) << 32) | (ntohl(v4.s_addr) >> 16);
	if (a->ss.ss_family == AF_INET6) {
		const uint8_t *b = ((const struct sockaddr_in6 *)&a->ss)->sin6_addr.s6_addr;
		return (UINT64_C(6) << 32) | ((uint64_t)b[0] << 24) | ((uint64_t)b[1] << 16) |
		       ((uint64_t)b[2] << 8) | b[3];
	}
	return 0;
}

bool netaddr_ip16(const struct netaddr *a, uint8_t out[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (a->len == 0)
		return false;
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->ss;
		memcpy(out, mapped, sizeof(mapped));
		memcpy(out + 12, &sin->sin_addr, 4);
		return true;
	}
	if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->ss;
		memcpy(out, &sin6->sin6_addr, 16);
		return true;
	}
	return false;
}
