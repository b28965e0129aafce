/* Start-up and shutdown of the node: the whole life of a p2pd process.
 *
 * node_main parses options, reads the config file, chooses the network, optionally detaches
 * (-daemon), locks the data directory, opens the log, the node key and the database, starts the
 * RPC server, runs the event loop until a shutdown request, then closes everything in reverse
 * order. Every start-up failure is printed as "Error: ..." on stderr (and logged when the log is
 * open) and makes node_main return 1. */
#ifndef P2PD_NODE_INIT_H
#define P2PD_NODE_INIT_H

/* Run a node; returns the process exit code (0 after a clean shutdown). */
int node_main(int argc, char **argv);

#endif
