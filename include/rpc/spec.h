/* The RPC command table as data: names, arguments, help and result text.
 *
 * This table is the single source for `help`, named-parameter mapping, parameter type checks on
 * the server, the argument conversion p2p-cli applies to its command-line words, and
 * doc/rpc.md. It holds no code and links into p2p-cli as well as p2pd. */
#ifndef P2PD_RPC_SPEC_H
#define P2PD_RPC_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

enum rpc_type {
	RPC_T_STR,  /* JSON string */
	RPC_T_INT,  /* JSON integer */
	RPC_T_NUM,  /* JSON integer or real */
	RPC_T_BOOL, /* JSON true/false */
	RPC_T_OBJ,  /* JSON object */
	RPC_T_ARR,  /* JSON array */
	RPC_T_ANY,  /* anything */
};

/* Most arguments one command takes. */
#define RPC_MAX_ARGS 8

struct rpc_arg_spec {
	const char *name;
	enum rpc_type type;
	bool optional;
	const char *default_text; /* shown as "default=..." for optional arguments, or NULL */
	const char *desc;
};

struct rpc_spec {
	const char *name;
	const char *category; /* "control", "network", "util", "hidden" (not listed by help) */
	const char *description;
	struct rpc_arg_spec args[RPC_MAX_ARGS]; /* terminated by a NULL name */
	const char *result;                     /* "Result:" section text */
	const char *examples;                   /* one or more "p2p-cli ..." lines */
};

/* Look a command up by name. Returns NULL if there is none. */
const struct rpc_spec *rpc_spec_find(const char *name);
/* All commands, sorted by category then name: fills *out, returns the count. */
size_t rpc_spec_all(const struct rpc_spec *const **out);
size_t rpc_spec_nargs(const struct rpc_spec *s);
/* Name of a type as help shows it ("string", "numeric", ...). */
const char *rpc_type_name(enum rpc_type t);
/* 1 if v has type t (RPC_T_ANY accepts everything). */
int rpc_type_matches(enum rpc_type t, const json_t *v);

/* One-line usage: "name \"arg1\" ( arg2 )". malloc'd. */
char *rpc_spec_usage(const struct rpc_spec *s);
/* Full help text for `help name`: usage, description, Arguments, Result, Examples. malloc'd. */
char *rpc_spec_help(const struct rpc_spec *s);
/* The `help` overview: every non-hidden command's usage line grouped by "== Category ==".
 * malloc'd. */
char *rpc_spec_overview(void);

/* Convert one command-line word for argument index i (p2p-cli): string arguments are taken as
 * they are, everything else is parsed as JSON. Unknown commands or indexes beyond the table are
 * parsed as JSON when that works and taken as strings otherwise. Returns a new reference, or
 * NULL with a message in err when a non-string argument is not valid JSON. */
json_t *rpc_spec_convert_arg(const char *method, size_t i, const char *word, char *err,
			     size_t errlen);
/* The same for a named argument (p2p-cli -named). */
json_t *rpc_spec_convert_named(const char *method, const char *name, const char *word, char *err,
			       size_t errlen);

#endif
