/* Version strings and numbers shared by p2pd, p2p-cli and p2p-util. */
#ifndef P2PD_UTIL_VERSION_H
#define P2PD_UTIL_VERSION_H

#define CLIENT_NAME          "p2pd"
#define CLIENT_VERSION_MAJOR 0
#define CLIENT_VERSION_MINOR 1
#define CLIENT_VERSION_PATCH 0
/* MAJOR*10000 + MINOR*100 + PATCH, as getnetworkinfo "version" reports it. */
#define CLIENT_VERSION \
	(CLIENT_VERSION_MAJOR * 10000 + CLIENT_VERSION_MINOR * 100 + CLIENT_VERSION_PATCH)
#define CLIENT_VERSION_STRING "0.1.0"
/* BIP14-style user agent. */
#define CLIENT_SUBVERSION "/" CLIENT_NAME ":" CLIENT_VERSION_STRING "/"
/* P2P protocol version this build speaks (doc/protocol.md). Above Bitcoin's 70001 on purpose:
 * Bitcoin parsers expect the `relay` field of `version` from 70001 on. */
#define PROTOCOL_VERSION 80001

#endif
