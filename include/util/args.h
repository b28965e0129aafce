/* Arguments and configuration: command-line options and config-file keys share one table.
 *
 * An option table (struct arg_def) names every accepted option. The command line takes
 * "-name", "-name=value", "--name=value" and "-noname" (boolean false). The config file takes
 * "name=value" lines, "#" comments, blank lines and "[main]" / "[testnet]" / "[regtest]"
 * sections; "regtest.name=value" is the same as the line inside [regtest]. Precedence, highest
 * first: command line, the selected network's section, the top of the file, the default. A
 * multi-valued option (ARG_LIST) collects the values of all three, command line first; "-noX"
 * (or "noX=1" in the file) clears what lower layers gave. Only whole-line comments exist, so a
 * value may contain '#'.
 *
 * Every error (unknown option, bad value, malformed line) is reported with its origin
 * ("p2pd.conf:12: ...") into the caller's buffer; nothing is printed. */
#ifndef P2PD_UTIL_ARGS_H
#define P2PD_UTIL_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum arg_type {
	ARG_BOOL,   /* -x, -x=1, -x=0, -nox; values "0" and "1" only */
	ARG_INT,    /* decimal integer within [min, max] */
	ARG_STRING, /* any string; last value wins */
	ARG_LIST,   /* any string; may repeat, all values kept in order */
};

enum arg_flags {
	ARG_CMDLINE_ONLY = 1u << 0, /* e.g. -conf, -datadir: refused in the config file */
	ARG_HIDDEN = 1u << 1,       /* not shown by -help (debugging options) */
};

struct arg_def {
	const char *name; /* without the leading dash */
	enum arg_type type;
	unsigned flags;       /* enum arg_flags */
	int64_t min, max;     /* for ARG_INT */
	const char *help_arg; /* e.g. "<dir>", NULL for a flag */
	const char *help;     /* one or more sentences; the default is stated in it */
	const char *category; /* -help groups options under this heading */
};

/* Longest config line and value accepted; a longer line is a malformed line. */
#define ARGS_MAX_LINE 4096
/* Values kept for one ARG_LIST option; more is an error (a config file cannot grow memory
 * without bound). */
#define ARGS_MAX_LIST 256
/* Largest config file read (a config is a few KiB; anything this big is a mistake). */
#define ARGS_MAX_CONFIG_SIZE (1u << 20)

struct args;

/* Make an empty argument set over defs (defs must outlive it). Returns NULL on OOM. */
struct args *args_new(const struct arg_def *defs, size_t ndefs);
void args_free(struct args *a);

/* Parse argv[1..]. Parsing stops at the first argument that does not start with '-' (or at a
 * lone "-" / "--"); *first_positional receives its index (argc when none). Returns 0, or -1 with
 * a message in err. */
int args_parse_cmdline(struct args *a, int argc, char *const argv[], int *first_positional,
		       char *err, size_t errlen);

/* Read a config file. A missing file is an error only if required. Returns 0, or -1 with a
 * message naming the file and line in err. */
int args_read_config_file(struct args *a, const char *path, bool required, char *err,
			  size_t errlen);
/* Same over a string already in memory; origin names it in messages. */
int args_read_config_string(struct args *a, const char *text, size_t len, const char *origin,
			    char *err, size_t errlen);

/* When on, config-file keys not in the table are skipped instead of being errors (p2p-cli
 * reads p2pd.conf, which holds p2pd-only keys). Unknown command-line options stay errors. */
void args_set_ignore_unknown_config(struct args *a, bool on);

/* Choose which config section applies ("main", "testnet", "regtest"). */
void args_select_network(struct args *a, const char *network);

/* Whether the option was given anywhere that applies (command line, section, top). */
bool args_is_set(const struct args *a, const char *name);
/* Effective values. def is returned when the option is not set. The name must be in the table
 * (asserted: a typo is a programming error). */
const char *args_get_str(const struct args *a, const char *name, const char *def);
int64_t args_get_int(const struct args *a, const char *name, int64_t def);
bool args_get_bool(const struct args *a, const char *name, bool def);
/* Whether the effective setting is a negation ("-noX"): strings then read as "", ints as 0. */
bool args_is_negated(const struct args *a, const char *name);
/* All values of an ARG_LIST option (or of any option: its single effective value). Returns the
 * count; *values points into a's storage, valid until the next args_* call that modifies a. */
size_t args_get_list(const struct args *a, const char *name, const char *const **values);

/* Set a value from code (as if given on the command line), e.g. a soft default. Returns 0, or
 * -1 with err if the value is invalid. */
int args_force_set(struct args *a, const char *name, const char *value, char *err, size_t errlen);

/* Write the -help text for the table: "Options:" then categories in table order, each option
 * as "  -name=<arg>\n       help" wrapped at 79 columns. Returns a malloc'd string. */
char *args_help_text(const struct arg_def *defs, size_t ndefs);

/* Strict number parsing shared by options and RPC. Return 0 on success, -1 otherwise. */
int parse_int64(const char *s, int64_t *out);
int parse_bool(const char *s, bool *out); /* "0"/"1" only */

#endif
