/* p2p-cli -netinfo (see include/cli/cli_netinfo.h): the getpeerinfo + getnetworkinfo batch and
 * the peer table made from its reply.
 *
 * The table is built as cells first, so each column is as wide as its widest cell; numbers are
 * right-aligned, text left-aligned, and the last column (version) is not padded. */
#include "cli/cli_netinfo.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

enum col {
	COL_DIR,
	COL_TYPE,
	COL_PING,
	COL_SEND,
	COL_RECV,
	COL_AGE,
	COL_ID,
	COL_ADDR,
	COL_VER,
	NCOL
};

static const char *const col_names[NCOL] = {"<->", "type", "ping",    "send",   "recv",
					    "age", "id",   "address", "version"};
static const bool col_right[NCOL] = {
	[COL_PING] = true, [COL_SEND] = true, [COL_RECV] = true, [COL_AGE] = true, [COL_ID] = true};

/* Widest cell: a peer's user agent is at most 256 bytes; longer text is cut. */
#define NETINFO_CELL 272
/* Shown for a value the reply does not hold. */
#define NONE "."

struct row {
	char cell[NCOL][NETINFO_CELL];
};

char *cli_netinfo_body(void)
{
	json_t *req = json_pack("[{s:s, s:[], s:i}, {s:s, s:[], s:i}]", "method", "getpeerinfo",
				"params", "id", 0, "method", "getnetworkinfo", "params", "id", 1);
	char *s;

	if (!req)
		return NULL;
	s = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	return s;
}

static void cell_text(char *cell, const json_t *v)
{
	snprintf(cell, NETINFO_CELL, "%s", json_is_string(v) ? json_string_value(v) : NONE);
}

static void cell_int(char *cell, const json_t *v)
{
	if (json_is_integer(v))
		snprintf(cell, NETINFO_CELL, "%" PRId64, (int64_t)json_integer_value(v));
	else
		snprintf(cell, NETINFO_CELL, NONE);
}

/* Whole units (seconds, or minutes with unit 60) from the UNIX time v until now; "." when v is
 * missing or 0 (never). */
static void cell_since(char *cell, const json_t *v, int64_t now, int64_t unit)
{
	if (json_is_integer(v) && json_integer_value(v) > 0)
		snprintf(cell, NETINFO_CELL, "%" PRId64,
			 (now - (int64_t)json_integer_value(v)) / unit);
	else
		snprintf(cell, NETINFO_CELL, NONE);
}

/* The type column: connection_type in short (doc/discovery.md); a type this version does not
 * know is shown as the node names it. */
static void cell_type(char *cell, const json_t *v)
{
	static const char *const short_names[][2] = {
		{"inbound", "in"},    {"outbound-full-relay", "full"}, {"manual", "manual"},
		{"feeler", "feeler"}, {"addr-fetch", "fetch"},
	};
	const char *type = json_string_value(v);

	if (!type) {
		snprintf(cell, NETINFO_CELL, NONE);
		return;
	}
	for (size_t i = 0; i < sizeof(short_names) / sizeof(short_names[0]); i++) {
		if (strcmp(type, short_names[i][0]) == 0) {
			type = short_names[i][1];
			break;
		}
	}
	snprintf(cell, NETINFO_CELL, "%s", type);
}

static void fill_row(struct row *r, const json_t *peer, int64_t now)
{
	const json_t *inbound = json_object_get(peer, "inbound");
	const json_t *ping = json_object_get(peer, "pingtime");

	snprintf(r->cell[COL_DIR], NETINFO_CELL, "%s",
		 !json_is_boolean(inbound) ? NONE
		 : json_is_true(inbound)   ? "in"
					   : "out");
	cell_type(r->cell[COL_TYPE], json_object_get(peer, "connection_type"));
	if (json_is_number(ping))
		snprintf(r->cell[COL_PING], NETINFO_CELL, "%.1f", json_number_value(ping) * 1000);
	else
		snprintf(r->cell[COL_PING], NETINFO_CELL, NONE);
	cell_since(r->cell[COL_SEND], json_object_get(peer, "lastsend"), now, 1);
	cell_since(r->cell[COL_RECV], json_object_get(peer, "lastrecv"), now, 1);
	cell_since(r->cell[COL_AGE], json_object_get(peer, "conntime"), now, 60);
	cell_int(r->cell[COL_ID], json_object_get(peer, "id"));
	cell_text(r->cell[COL_ADDR], json_object_get(peer, "addr"));
	cell_text(r->cell[COL_VER], json_object_get(peer, "subver"));
}

static void print_line(FILE *m, const char *const cells[NCOL], const int width[NCOL])
{
	for (int c = 0; c < NCOL - 1; c++) {
		if (col_right[c])
			fprintf(m, "%*s  ", width[c], cells[c]);
		else
			fprintf(m, "%-*s  ", width[c], cells[c]);
	}
	fprintf(m, "%s\n", cells[NCOL - 1]);
}

static void print_table(FILE *m, const struct row *rows, size_t n)
{
	int width[NCOL];
	const char *cells[NCOL];

	for (int c = 0; c < NCOL; c++) {
		width[c] = (int)strlen(col_names[c]);
		for (size_t i = 0; i < n; i++)
			if ((int)strlen(rows[i].cell[c]) > width[c])
				width[c] = (int)strlen(rows[i].cell[c]);
	}
	print_line(m, col_names, width);
	for (size_t i = 0; i < n; i++) {
		for (int c = 0; c < NCOL; c++)
			cells[c] = rows[i].cell[c];
		print_line(m, cells, width);
	}
}

static void print_summary(FILE *m, const struct row *rows, size_t n, const json_t *net)
{
	size_t in = 0, out = 0, i;
	const json_t *addrs = json_object_get(net, "localaddresses"), *a;
	const char *sep = "";

	for (i = 0; i < n; i++) {
		in += strcmp(rows[i].cell[COL_DIR], "in") == 0;
		out += strcmp(rows[i].cell[COL_DIR], "out") == 0;
	}
	fprintf(m, "\npeers: in %zu, out %zu, total %zu\n", in, out, n);
	fprintf(m, "local addresses:");
	json_array_foreach(addrs, i, a)
	{
		const char *ip = json_string_value(json_object_get(a, "address"));
		const json_t *port = json_object_get(a, "port");
		if (!ip || !json_is_integer(port))
			continue;
		/* IPv6 in brackets, as addresses with a port are written everywhere else */
		if (strchr(ip, ':'))
			fprintf(m, "%s [%s]:%" PRId64, sep, ip, (int64_t)json_integer_value(port));
		else
			fprintf(m, "%s %s:%" PRId64, sep, ip, (int64_t)json_integer_value(port));
		sep = ",";
	}
	fprintf(m, "%s\n", sep[0] ? "" : " none");
}

/* The whole text, or NULL on OOM. */
static char *render(const json_t *peers, const json_t *net, int64_t now)
{
	size_t n = json_array_size(peers), size = 0;
	struct row *rows = calloc(n > 0 ? n : 1, sizeof(*rows));
	char *text = NULL;
	FILE *m = rows ? open_memstream(&text, &size) : NULL;
	bool ok;

	if (!m) {
		free(rows);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		fill_row(&rows[i], json_array_get(peers, i), now);
	print_table(m, rows, n);
	print_summary(m, rows, n, net);
	ok = !ferror(m);
	ok = fclose(m) == 0 && ok;
	free(rows);
	if (!ok) {
		free(text);
		return NULL;
	}
	return text;
}

enum cli_exit cli_interpret_netinfo(int status, const char *body, size_t len, int64_t now,
				    struct cli_output *o)
{
	enum cli_exit rc;
	const json_t *res[2];
	json_t *j = cli_batch_results(status, body, len, 2, res, o, &rc);

	if (!j)
		return rc;
	if (!json_is_array(res[0]) || !json_is_object(res[1])) {
		o->err = strdup("error: the server's reply is not getpeerinfo and getnetworkinfo "
				"results\n");
		rc = CLI_EXIT_RPC_ERROR;
	} else if (!(o->out = render(res[0], res[1], now))) {
		o->err = strdup("error: out of memory\n");
		rc = CLI_EXIT_RPC_ERROR;
	}
	json_decref(j);
	return rc;
}
