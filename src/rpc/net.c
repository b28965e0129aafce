/* RPC commands of the "network" category: getnetworkinfo, getpeerinfo, getconnectioncount,
 * getnettotals, ping, addnode, getaddednodeinfo, disconnectnode, setnetworkactive, the
 * address-book commands getnodeaddresses, getaddrmaninfo and addpeeraddress (hidden, regtest),
 * and the ban commands setban, listbanned and clearbanned.
 * Their arguments and help text are in rpc/spec.c; doc/protocol.md ("Connection options and
 * their RPC view") and doc/discovery.md ("RPC") fix their shapes.
 *
 * They read the connection manager (node->connman) and its peers, getpeerinfo the gossip
 * engine's per-peer message counters (node->gossip), the address-book commands the book
 * (node->addrman), and the ban commands the ban manager (node->banman). A node built without a
 * network (node->connman, node->addrman or node->banman NULL) answers every command but
 * getnetworkinfo with RPC_CLIENT_P2P_DISABLED, as Bitcoin Core does. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg/gossip.h"
#include "net/addrman.h"
#include "net/banman.h"
#include "net/connman.h"
#include "net/netaddr.h"
#include "net/peer.h"
#include "net/reputation.h"
#include "net/scoring.h"
#include "node/context.h"
#include "rpc/protocol.h"
#include "rpc/server.h"
#include "rpc/spec.h"
#include "util/bytes.h"
#include "util/clock.h"
#include "util/netparams.h"
#include "util/version.h"
#include "wire/messages.h"

/* Names of the service bits we know; any other set bit shows as "UNKNOWN[2^n]". */
static const struct {
	uint64_t bit;
	const char *name;
} service_names[] = {
	{NODE_MSGSTORE, "MSGSTORE"},
};

/* Most addresses getnodeaddresses returns (doc/discovery.md): 2,500 entries are about 250 kB
 * of JSON, and more than a client needs to find peers. */
#define GETNODEADDRESSES_MAX 2500

static json_t *oom(struct rpc_error *err)
{
	return rpc_fail(err, RPC_INTERNAL_ERROR, "Out of memory");
}

static json_t *p2p_disabled(struct rpc_error *err)
{
	return rpc_fail(err, RPC_CLIENT_P2P_DISABLED,
			"Error: Peer-to-peer functionality missing or disabled");
}

/* The connection manager, or NULL after filling err when the node has no network. */
static struct connman *need_connman(const struct rpc_call *call, struct rpc_error *err)
{
	if (call->node->connman == NULL)
		p2p_disabled(err);
	return call->node->connman;
}

/* The address book, or NULL after filling err when the node has no network. */
static struct addrman *need_addrman(const struct rpc_call *call, struct rpc_error *err)
{
	if (call->node->addrman == NULL)
		p2p_disabled(err);
	return call->node->addrman;
}

/* Set key to v (stolen) in obj. A failure (obj or v NULL, out of memory) clears *ok, so a
 * builder checks once at the end. */
static void put(json_t *obj, const char *key, json_t *v, bool *ok)
{
	if (json_object_set_new(obj, key, v) != 0)
		*ok = false;
}

/* Return obj, or NULL (freeing obj) when a put failed. */
static json_t *finish(json_t *obj, bool ok)
{
	if (!ok) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

static json_t *services_hex(uint64_t services)
{
	char hex[17];
	snprintf(hex, sizeof(hex), "%016" PRIx64, services);
	return json_string(hex);
}

static json_t *services_list(uint64_t services)
{
	json_t *arr = json_array();
	bool ok = arr != NULL;
	for (int bit = 0; bit < 64; bit++) {
		uint64_t flag = UINT64_C(1) << bit;
		if ((services & flag) == 0)
			continue;
		char name[32];
		snprintf(name, sizeof(name), "UNKNOWN[2^%d]", bit);
		for (size_t i = 0; i < sizeof(service_names) / sizeof(service_names[0]); i++)
			if (service_names[i].bit == flag)
				snprintf(name, sizeof(name), "%s", service_names[i].name);
		if (json_array_append_new(arr, json_string(name)) != 0)
			ok = false;
	}
	return finish(arr, ok);
}

/* Bytes per command, only the commands with traffic. */
static json_t *per_msg(const uint64_t counts[STAT_COUNT])
{
	json_t *obj = json_object();
	bool ok = obj != NULL;
	for (int i = 0; i < STAT_COUNT; i++)
		if (counts[i] > 0)
			put(obj, msg_stat_name((enum msg_stat)i),
			    json_integer((json_int_t)counts[i]), &ok);
	return finish(obj, ok);
}

static json_t *seconds(int64_t us)
{
	return json_real((double)us / 1e6);
}

/* The message counters of getpeerinfo: all 0 without a gossip engine or for a peer it does
 * not know (yet). */
static void put_msg_stats(json_t *o, const struct gossip *g, const struct peer *p, bool *ok)
{
	struct gossip_peer_stats st = {0};
	if (g == NULL || !gossip_peer_stats(g, p->id, &st))
		memset(&st, 0, sizeof(st));
	put(o, "msgs_announced", json_integer((json_int_t)st.announced), ok);
	put(o, "msgs_requested", json_integer((json_int_t)st.requested), ok);
	put(o, "msgs_received", json_integer((json_int_t)st.received), ok);
	put(o, "msgs_sent", json_integer((json_int_t)st.sent), ok);
	put(o, "msgs_duplicate", json_integer((json_int_t)st.duplicates), ok);
	put(o, "msgs_invalid", json_integer((json_int_t)st.invalid), ok);
	put(o, "msgs_notfound", json_integer((json_int_t)st.notfound), ok);
	put(o, "msgs_unrequested", json_integer((json_int_t)st.unrequested), ok);
	put(o, "msgs_inflight", json_integer((json_int_t)st.inflight), ok);
}

/* {"offence name": count} for the offences the peer committed (doc/scoring.md). */
static json_t *offences_json(const struct peer *p)
{
	json_t *o = json_object();
	bool ok = o != NULL;
	for (int i = 0; i < OFF_COUNT; i++)
		if (p->offences[i])
			put(o, offence_info((enum offence)i)->name, json_integer(p->offences[i]),
			    &ok);
	return finish(o, ok);
}

static json_t *permissions_json(const struct peer *p)
{
	static const struct {
		unsigned flag;
		const char *name;
	} names[] = {{NET_PERM_NOBAN, "noban"}, {NET_PERM_ADDR, "addr"}, {NET_PERM_RELAY, "relay"}};
	json_t *a = json_array();
	bool ok = a != NULL;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((p->perms & names[i].flag) &&
		    json_array_append_new(a, json_string(names[i].name)))
			ok = false;
	return finish(a, ok);
}

/* One getpeerinfo entry. now is the node clock, now_us clock_mono_us() (pingwait, decay); g
 * may be NULL. */
static json_t *peer_json(const struct peer *p, const struct gossip *g, int64_t now, int64_t now_us)
{
	char addr[NETADDR_STRLEN];
	json_t *o = json_object();
	bool ok = o != NULL;

	put(o, "id", json_integer((json_int_t)p->id), &ok);
	/* An outbound peer whose host name is still being resolved has no address yet. */
	if (p->addr.len > 0)
		netaddr_format(&p->addr, addr, sizeof(addr));
	put(o, "addr", json_string(p->addr.len > 0 ? addr : p->dest), &ok);
	if (p->addr_bind.len > 0) {
		netaddr_format(&p->addr_bind, addr, sizeof(addr));
		put(o, "addrbind", json_string(addr), &ok);
	}
	put(o, "network", json_string(netaddr_network_name(&p->addr)), &ok);
	put(o, "inbound", json_boolean(p->type == CONN_INBOUND), &ok);
	put(o, "connection_type", json_string(conn_type_name(p->type)), &ok);
	put(o, "state", json_string(peer_state_name(p->state)), &ok);
	put(o, "services", services_hex(p->services), &ok);
	put(o, "servicesnames", services_list(p->services), &ok);
	put(o, "version", json_integer(p->version), &ok);
	put(o, "subver", json_string(p->subver), &ok); /* printable ASCII */
	put(o, "startingheight", json_integer(p->start_height), &ok);
	put(o, "relay", json_boolean(p->relay), &ok);
	put(o, "conntime", json_integer(p->conn_time), &ok);
	put(o, "lastsend", json_integer(p->last_send), &ok);
	put(o, "lastrecv", json_integer(p->last_recv), &ok);
	put(o, "bytessent", json_integer((json_int_t)p->bytes_sent), &ok);
	put(o, "bytesrecv", json_integer((json_int_t)p->bytes_recv), &ok);
	put(o, "bytessent_per_msg", per_msg(p->sent_per_msg), &ok);
	put(o, "bytesrecv_per_msg", per_msg(p->recv_per_msg), &ok);
	if (p->last_ping_us >= 0)
		put(o, "pingtime", seconds(p->last_ping_us), &ok);
	if (p->min_ping_us >= 0)
		put(o, "minping", seconds(p->min_ping_us), &ok);
	if (p->ping_nonce != 0)
		put(o, "pingwait", seconds(now_us - p->ping_start_us), &ok);
	put(o, "timeoffset", json_integer(p->time_offset), &ok);
	put(o, "checksum_errors", json_integer(p->checksum_errors), &ok);
	put(o, "malformed", json_integer(p->malformed), &ok);
	put(o, "protocol_violations", json_integer(p->protocol_violations), &ok);
	put(o, "unknown_messages", json_integer(p->unknown_messages), &ok);
	put_msg_stats(o, g, p, &ok);
	put(o, "addr_relay_enabled", json_boolean(p->addr_relay_enabled), &ok);
	put(o, "addr_processed", json_integer((json_int_t)p->addr_processed), &ok);
	put(o, "addr_rate_limited", json_integer((json_int_t)p->addr_rate_limited), &ok);
	put(o, "zlib", json_boolean(p->zlib_ok), &ok);
	put(o, "misbehaviour", json_real(peer_misbehaviour(p, now_us)), &ok);
	put(o, "offences", offences_json(p), &ok);
	put(o, "discouraged", json_boolean(p->discouraged), &ok);
	put(o, "permissions", permissions_json(p), &ok);
	struct score_breakdown b;
	put(o, "score", json_real(peer_score(p, now, now_us, &b)), &ok);
	json_t *bd = json_object();
	bool bok = bd != NULL;
	put(bd, "uptime", json_real(b.uptime), &bok);
	put(bd, "first_deliveries", json_real(b.first_deliveries), &bok);
	put(bd, "answers", json_real(b.answers), &bok);
	put(bd, "misbehaviour", json_real(b.misbehaviour), &bok);
	put(bd, "colocation", json_real(b.colocation), &bok);
	put(bd, "remembered", json_real(b.remembered), &bok);
	put(o, "score_breakdown", finish(bd, bok), &ok);
	return finish(o, ok);
}

static int cmp_peer_id(const void *a, const void *b)
{
	const struct peer *x = *(const struct peer *const *)a, *y = *(const struct peer *const *)b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static json_t *rpc_getpeerinfo(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	(void)params;
	const struct connman *cm = need_connman(call, err);
	if (cm == NULL)
		return NULL;
	size_t n = 0;
	for (const struct peer *p = connman_peers(cm); p != NULL; p = p->next)
		n++;
	/* Sorted by id: the order in which the connections began. */
	const struct peer **v = malloc((n > 0 ? n : 1) * sizeof(*v)); /* NOLINT: pointers */
	json_t *out = json_array();
	if (v == NULL || out == NULL) {
		free(v);
		json_decref(out);
		return oom(err);
	}
	n = 0;
	for (const struct peer *p = connman_peers(cm); p != NULL; p = p->next)
		v[n++] = p;
	qsort(v, n, sizeof(*v), cmp_peer_id); /* NOLINT: an array of pointers */
	bool ok = true;
	int64_t now_us = clock_mono_us();
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(out, peer_json(v[i], call->node->gossip,
							 clock_now(&call->node->clock), now_us)) !=
		    0)
			ok = false;
	free(v);
	out = finish(out, ok);
	return out ? out : oom(err);
}

static json_t *rpc_getconnectioncount(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	(void)params;
	const struct connman *cm = need_connman(call, err);
	return cm ? json_integer((json_int_t)connman_count(cm, NULL, NULL)) : NULL;
}

static json_t *rpc_getnettotals(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	(void)params;
	const struct connman *cm = need_connman(call, err);
	if (cm == NULL)
		return NULL;
	uint64_t recv, sent;
	connman_totals(cm, &recv, &sent);
	json_t *out = json_pack("{s:I, s:I, s:I, s:I}", "totalbytesrecv", (json_int_t)recv,
				"totalbytessent", (json_int_t)sent, "totalbytessaved",
				(json_int_t)connman_bytes_saved(cm), "timemillis",
				(json_int_t)(clock_real_us() / 1000));
	return out ? out : oom(err);
}

static json_t *rpc_ping(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	(void)params;
	struct connman *cm = need_connman(call, err);
	if (cm == NULL)
		return NULL;
	connman_ping_all(cm);
	return json_null();
}

/* -1 with the command's help as the message, as Bitcoin Core answers a bad addnode command. */
static json_t *help_error(const struct rpc_call *call, struct rpc_error *err)
{
	char *help = rpc_spec_help(call->spec);
	if (help == NULL)
		return oom(err);
	rpc_fail(err, RPC_MISC_ERROR, "%s", help);
	free(help);
	return NULL;
}

static json_t *rpc_addnode(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	const char *node = json_string_value(json_array_get(params, 0));
	const char *command = json_string_value(json_array_get(params, 1));
	enum addnode_op op;
	if (strcmp(command, "add") == 0)
		op = ADDNODE_ADD;
	else if (strcmp(command, "remove") == 0)
		op = ADDNODE_REMOVE;
	else if (strcmp(command, "onetry") == 0)
		op = ADDNODE_ONETRY;
	else
		return help_error(call, err);
	struct connman *cm = need_connman(call, err);
	if (cm == NULL)
		return NULL;
	switch (connman_addnode(cm, node, op)) {
	case ADDNODE_OK:
		return json_null();
	case ADDNODE_ALREADY_ADDED:
		return rpc_fail(err, RPC_CLIENT_NODE_ALREADY_ADDED, "Node already added");
	case ADDNODE_NOT_ADDED:
		return rpc_fail(err, RPC_CLIENT_NODE_NOT_ADDED, "Node has not been added");
	case ADDNODE_LIST_FULL:
		return rpc_fail(err, RPC_CLIENT_NODE_CAPACITY_REACHED,
				"Added-node list is full (%d entries)", CONNMAN_MAX_ADDED);
	case ADDNODE_BAD_ADDRESS:
		return rpc_fail(err, RPC_INVALID_PARAMETER,
				"Invalid node address: %s (expected host[:port])", node);
	}
	return oom(err); /* not reached: every result is handled above */
}

/* One getaddednodeinfo entry. A peer still opening its TCP connection is not connected yet. */
static json_t *added_node_json(const struct added_node_info *a)
{
	bool connected = a->peer != NULL && a->peer->state != PEER_CONNECTING;
	json_t *addresses = json_array();
	if (connected) {
		char addr[NETADDR_STRLEN];
		netaddr_format(&a->peer->addr, addr, sizeof(addr));
		if (json_array_append_new(addresses, json_pack("{s:s, s:s}", "address", addr,
							       "connected", "outbound")) != 0) {
			json_decref(addresses);
			return NULL;
		}
	}
	return json_pack("{s:s, s:b, s:o}", "addednode", a->name, "connected", connected,
			 "addresses", addresses);
}

static json_t *rpc_getaddednodeinfo(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	const char *only = json_string_value(json_array_get(params, 0));
	const struct connman *cm = need_connman(call, err);
	if (cm == NULL)
		return NULL;
	struct added_node_info info[CONNMAN_MAX_ADDED];
	size_t n = connman_added_nodes(cm, info, CONNMAN_MAX_ADDED);
	json_t *out = json_array();
	bool ok = out != NULL, found = false;
	for (size_t i = 0; i < n; i++) {
		if (only != NULL && strcmp(only, info[i].name) != 0)
			continue;
		found = true;
		if (json_array_append_new(out, added_node_json(&info[i])) != 0)
			ok = false;
	}
	if (only != NULL && !found) {
		json_decref(out);
		return rpc_fail(err, RPC_CLIENT_NODE_NOT_ADDED, "Node has not been added");
	}
	out = finish(out, ok);
	return out ? out : oom(err);
}

static json_t *rpc_disconnectnode(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	const char *address = json_string_value(json_array_get(params, 0));
	const json_t *nodeid = json_array_get(params, 1);
	bool by_id = json_is_integer(nodeid);
	/* Exactly one of them; an empty address goes with a node id (Bitcoin Core's rule). */
	if (by_id ? address != NULL && address[0] != '\0' : address == NULL)
		return rpc_fail(err, RPC_INVALID_PARAMS,
				"Only one of address and nodeid should be provided.");
	struct connman *cm = need_connman(call, err);
	if (cm == NULL)
		return NULL;
	int rc = -1;
	/* "" names no peer (connman_disconnect_addr would match the inbound ones, which have no
	 * dialled name). */
	if (!by_id && address[0] != '\0')
		rc = connman_disconnect_addr(cm, address);
	else if (json_integer_value(nodeid) >= 0)
		rc = connman_disconnect_id(cm, (uint64_t)json_integer_value(nodeid));
	if (rc != 0)
		return rpc_fail(err, RPC_CLIENT_NODE_NOT_CONNECTED,
				"Node not found in connected nodes");
	return json_null();
}

static json_t *rpc_setnetworkactive(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	struct connman *cm = need_connman(call, err);
	if (cm == NULL)
		return NULL;
	connman_set_active(cm, json_is_true(json_array_get(params, 0)));
	return json_boolean(connman_active(cm));
}

/* [{"address", "port"}] of the listening sockets. */
static json_t *local_addresses(const struct connman *cm)
{
	struct netaddr addrs[CONNMAN_MAX_LISTEN];
	size_t n = cm ? connman_listening(cm, addrs, CONNMAN_MAX_LISTEN) : 0;
	json_t *out = json_array();
	bool ok = out != NULL;
	for (size_t i = 0; i < n; i++) {
		char ip[NETADDR_STRLEN];
		netaddr_format_ip(&addrs[i], ip, sizeof(ip));
		if (json_array_append_new(out, json_pack("{s:s, s:i}", "address", ip, "port",
							 (int)netaddr_port(&addrs[i]))) != 0)
			ok = false;
	}
	return finish(out, ok);
}

static json_t *rpc_getnetworkinfo(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	(void)params;
	const struct node *node = call->node;
	const struct connman *cm = node->connman;
	char pubkey[2 * sizeof(node->node_pubkey) + 1];
	hex_encode(pubkey, node->node_pubkey, sizeof(node->node_pubkey));
	/* Without a network the node offers no services and has no connections. */
	uint64_t services = cm ? connman_local_services(cm) : 0;
	size_t in = 0, out = 0;
	if (cm)
		connman_count(cm, &in, &out);
	json_t *o = json_object();
	bool ok = o != NULL;
	put(o, "version", json_integer(CLIENT_VERSION), &ok);
	put(o, "subversion", json_string(CLIENT_SUBVERSION), &ok);
	put(o, "protocolversion", json_integer(PROTOCOL_VERSION), &ok);
	put(o, "network", json_string(node->params->name), &ok);
	put(o, "nodepubkey", json_string(pubkey), &ok);
	put(o, "localservices", services_hex(services), &ok);
	put(o, "localservicesnames", services_list(services), &ok);
	put(o, "networkactive", json_boolean(cm && connman_active(cm)), &ok);
	put(o, "connections", json_integer((json_int_t)in + (json_int_t)out), &ok);
	put(o, "connections_in", json_integer((json_int_t)in), &ok);
	put(o, "connections_out", json_integer((json_int_t)out), &ok);
	put(o, "localaddresses", local_addresses(cm), &ok);
	put(o, "warnings", json_string(""), &ok);
	o = finish(o, ok);
	return o ? o : oom(err);
}

/* One getnodeaddresses entry. */
static json_t *node_address_json(const struct peer_addr *a)
{
	char host[PEER_ADDR_STRLEN];
	peer_addr_format_host(a, host, sizeof(host));
	return json_pack("{s:I, s:I, s:s, s:i, s:s}", "time", (json_int_t)a->time, "services",
			 (json_int_t)a->services, "address", host, "port", (int)a->port, "network",
			 peer_net_name(a->net));
}

static json_t *rpc_getnodeaddresses(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	const json_t *jcount = json_array_get(params, 0);
	const char *network = json_string_value(json_array_get(params, 1));
	json_int_t count = json_is_integer(jcount) ? json_integer_value(jcount) : 1;
	if (count < 0)
		return rpc_fail(err, RPC_INVALID_PARAMETER, "Address count out of range");
	if (count == 0 || count > GETNODEADDRESSES_MAX)
		count = GETNODEADDRESSES_MAX;
	uint32_t nets = ADDRMAN_NETS_ALL;
	if (network != NULL) {
		uint8_t net = peer_net_from_name(network);
		if (net == 0)
			return rpc_fail(err, RPC_INVALID_PARAMETER, "Network not recognized: %s",
					network);
		nets = ADDRMAN_NET_BIT(net);
	}
	struct addrman *am = need_addrman(call, err);
	if (am == NULL)
		return NULL;
	struct peer_addr *addrs = malloc((size_t)count * sizeof(*addrs));
	json_t *out = json_array();
	if (addrs == NULL || out == NULL) {
		free(addrs);
		json_decref(out);
		return oom(err);
	}
	size_t n = addrman_get_addresses(am, addrs, (size_t)count, 0, nets);
	bool ok = true;
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(out, node_address_json(&addrs[i])) != 0)
			ok = false;
	free(addrs);
	out = finish(out, ok);
	return out ? out : oom(err);
}

/* {"new", "tried", "total"} of network net (0: all networks). */
static json_t *addrman_counts_json(const struct addrman *am, uint8_t net)
{
	size_t new_count, tried_count;
	addrman_counts(am, net, &new_count, &tried_count);
	return json_pack("{s:I, s:I, s:I}", "new", (json_int_t)new_count, "tried",
			 (json_int_t)tried_count, "total",
			 (json_int_t)new_count + (json_int_t)tried_count);
}

static json_t *rpc_getaddrmaninfo(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	(void)params;
	static const uint8_t nets[] = {PEER_NET_IPV4, PEER_NET_IPV6, PEER_NET_TORV3, PEER_NET_I2P,
				       PEER_NET_CJDNS};
	const struct addrman *am = need_addrman(call, err);
	if (am == NULL)
		return NULL;
	json_t *out = json_object();
	bool ok = out != NULL;
	for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++)
		put(out, peer_net_name(nets[i]), addrman_counts_json(am, nets[i]), &ok);
	put(out, "all_networks", addrman_counts_json(am, 0), &ok);
	out = finish(out, ok);
	return out ? out : oom(err);
}

static json_t *rpc_addpeeraddress(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	const struct node *node = call->node;
	if (!node->params->mocktime_allowed)
		return rpc_fail(err, RPC_MISC_ERROR,
				"addpeeraddress is for regression testing (-regtest mode) only");
	const char *address = json_string_value(json_array_get(params, 0));
	json_int_t port = json_integer_value(json_array_get(params, 1));
	bool tried = json_is_true(json_array_get(params, 2));
	/* The source, as if a peer at 127.0.0.1 had told us (doc/discovery.md). */
	const struct peer_addr source = {
		.net = PEER_NET_IPV4, .addr = {127, 0, 0, 1}, .addrlen = 4};
	struct peer_addr a;
	/* The port is its own argument: an address that carries one (parsed port not 0) is
	 * refused rather than silently changed. */
	if (peer_addr_parse(&a, address, 0) != 0 || a.port != 0)
		return rpc_fail(err, RPC_INVALID_PARAMETER, "Invalid address: %s", address);
	if (port < 1 || port > UINT16_MAX)
		return rpc_fail(err, RPC_INVALID_PARAMETER, "Invalid port: %lld", (long long)port);
	struct addrman *am = need_addrman(call, err);
	if (am == NULL)
		return NULL;
	a.port = (uint16_t)port;
	a.time = (uint32_t)clock_now(&node->clock);
	a.services = NODE_MSGSTORE;
	bool success = addrman_add(am, &a, 1, &source, 0) > 0;
	if (success && tried) {
		/* A collision leaves the address in new, waiting for a feeler: not what was asked
		 * for. */
		enum addrman_good_result g = addrman_good(am, &a);
		success = g == ADDRMAN_GOOD_MOVED || g == ADDRMAN_GOOD_ALREADY;
	}
	json_t *out = json_pack("{s:b}", "success", success);
	return out ? out : oom(err);
}

/* ---- bans ---- */

/* The ban manager, or NULL after filling err when the node has no network. */
static struct banman *need_banman(const struct rpc_call *call, struct rpc_error *err)
{
	if (call->node->banman == NULL)
		p2p_disabled(err);
	return call->node->banman;
}

/* When a ban of bantime seconds (absolute: until the unix time bantime) made now ends, into
 * *until. A bantime of 0 or less (or none) is -bantime seconds from now. Returns 0, or -1 when
 * the end is not representable. */
static int ban_end(const struct node *node, const json_t *jbantime, bool absolute, int64_t now,
		   int64_t *until)
{
	json_int_t bantime = json_is_integer(jbantime) ? json_integer_value(jbantime) : 0;
	if (bantime <= 0) {
		bantime = node->bantime > 0 ? node->bantime : BANMAN_DEFAULT_BANTIME;
		absolute = false;
	}
	if (absolute) {
		*until = bantime;
		return 0;
	}
	if (bantime > INT64_MAX - now)
		return -1;
	*until = now + bantime;
	return 0;
}

/* Disconnect every peer inside subnet (a ban just made). */
static void disconnect_subnet(struct connman *cm, const struct subnet *sn)
{
	if (cm == NULL)
		return;
	for (struct peer *p = connman_peers(cm); p != NULL; p = p->next)
		if (subnet_contains(sn, &p->addr))
			peer_disconnect(p, "banned");
}

static json_t *rpc_setban(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	const char *subnet = json_string_value(json_array_get(params, 0));
	const char *command = json_string_value(json_array_get(params, 1));
	bool add = strcmp(command, "add") == 0;
	if (!add && strcmp(command, "remove") != 0)
		return help_error(call, err);
	struct banman *bm = need_banman(call, err);
	if (bm == NULL)
		return NULL;
	struct subnet sn;
	char why[128];
	if (subnet_parse(&sn, subnet, why, sizeof(why)) != 0)
		return rpc_fail(err, RPC_INVALID_PARAMETER, "Error: Invalid IP/Subnet (%s)", why);
	if (!add) {
		switch (banman_unban(bm, subnet)) {
		case BANMAN_OK:
			return json_null();
		case BANMAN_NOT_BANNED:
			return rpc_fail(err, RPC_CLIENT_INVALID_IP_OR_SUBNET,
					"Error: Unban failed. Requested address/subnet was not "
					"previously manually banned.");
		case BANMAN_DB_ERROR:
			return rpc_fail(err, RPC_DATABASE_ERROR,
					"Error: could not save the ban list");
		case BANMAN_ALREADY_BANNED:
		case BANMAN_BAD_SUBNET:
		case BANMAN_BAD_TIME:
		case BANMAN_FULL:
			break;
		}
		return oom(err); /* not reached: banman_unban gives none of these */
	}
	int64_t now = clock_now(&call->node->clock), until;
	if (ban_end(call->node, json_array_get(params, 2), json_is_true(json_array_get(params, 3)),
		    now, &until) != 0)
		return rpc_fail(err, RPC_INVALID_PARAMETER, "Error: bantime out of range");
	switch (banman_ban(bm, subnet, until, why, sizeof(why))) {
	case BANMAN_OK:
		disconnect_subnet(call->node->connman, &sn);
		return json_null();
	case BANMAN_ALREADY_BANNED:
		return rpc_fail(err, RPC_CLIENT_NODE_ALREADY_ADDED,
				"Error: IP/Subnet already banned");
	case BANMAN_BAD_TIME:
		return rpc_fail(err, RPC_INVALID_PARAMETER,
				"Error: Absolute timestamp is in the past");
	case BANMAN_FULL:
		return rpc_fail(err, RPC_MISC_ERROR, "Error: Ban list is full (%d entries)",
				BANMAN_MAX_BANS);
	case BANMAN_DB_ERROR:
		return rpc_fail(err, RPC_DATABASE_ERROR, "Error: could not save the ban list");
	case BANMAN_BAD_SUBNET:
	case BANMAN_NOT_BANNED:
		break;
	}
	return oom(err); /* not reached: the subnet parsed above, and a ban is never "not banned" */
}

struct list_ctx {
	json_t *out;
	int64_t now;
};

static int listbanned_one(void *vctx, const struct ban_info *b)
{
	struct list_ctx *ctx = vctx;
	json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I}", "address", b->subnet, "ban_created",
			      (json_int_t)b->created, "banned_until", (json_int_t)b->until,
			      "ban_duration", (json_int_t)(b->until - b->created), "time_remaining",
			      (json_int_t)(b->until - ctx->now));
	return json_array_append_new(ctx->out, o) != 0;
}

static json_t *rpc_listbanned(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	(void)params;
	struct banman *bm = need_banman(call, err);
	if (bm == NULL)
		return NULL;
	banman_sweep(bm);
	struct list_ctx ctx = {.out = json_array(), .now = clock_now(&call->node->clock)};
	if (ctx.out == NULL || banman_list(bm, listbanned_one, &ctx) != 0) {
		json_decref(ctx.out);
		return oom(err);
	}
	return ctx.out;
}

static json_t *rpc_clearbanned(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	(void)params;
	struct banman *bm = need_banman(call, err);
	if (bm == NULL)
		return NULL;
	if (banman_clear(bm) != BANMAN_OK)
		return rpc_fail(err, RPC_DATABASE_ERROR, "Error: could not save the ban list");
	return json_null();
}

/* ---- reputation ---- */

static int score_one(void *ctx, const struct reputation_entry *e)
{
	json_t *o = json_object();
	bool ok = o != NULL;
	put(o, "address", json_string(e->address), &ok);
	put(o, "bad", json_real(e->bad), &ok);
	put(o, "good", json_real(e->good), &ok);
	put(o, "updated", json_integer(e->updated), &ok);
	o = finish(o, ok);
	return o == NULL || json_array_append_new(ctx, o) != 0;
}

static json_t *rpc_getpeerscores(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	(void)params;
	if (call->node->reputation == NULL)
		return rpc_fail(err, RPC_CLIENT_P2P_DISABLED,
				"Error: Peer-to-peer functionality missing or disabled");
	json_t *out = json_array();
	if (out == NULL)
		return rpc_fail(err, RPC_INTERNAL_ERROR, "out of memory");
	reputation_list(call->node->reputation, score_one, out);
	return out;
}

const struct rpc_method rpc_network_methods[] = {
	{"addnode", rpc_addnode},
	{"addpeeraddress", rpc_addpeeraddress},
	{"clearbanned", rpc_clearbanned},
	{"disconnectnode", rpc_disconnectnode},
	{"getaddednodeinfo", rpc_getaddednodeinfo},
	{"getaddrmaninfo", rpc_getaddrmaninfo},
	{"getconnectioncount", rpc_getconnectioncount},
	{"getnettotals", rpc_getnettotals},
	{"getnetworkinfo", rpc_getnetworkinfo},
	{"getnodeaddresses", rpc_getnodeaddresses},
	{"getpeerinfo", rpc_getpeerinfo},
	{"getpeerscores", rpc_getpeerscores},
	{"listbanned", rpc_listbanned},
	{"ping", rpc_ping},
	{"setban", rpc_setban},
	{"setnetworkactive", rpc_setnetworkactive},
	{NULL, NULL},
};
