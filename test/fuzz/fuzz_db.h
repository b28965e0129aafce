/* Database plumbing shared by the fuzz targets of stored records (fuzz_*_db.c): a LevelDB
 * database in a temporary directory, emptied and refilled from the input before each run (and
 * replaced by a fresh one every few hundred runs), so a target reads fuzzed records through the
 * same code a starting node does. */
#ifndef P2PD_TEST_FUZZ_DB_H
#define P2PD_TEST_FUZZ_DB_H

#include <stddef.h>
#include <stdint.h>

struct db;

/* Node-clock time the stored-record targets run at (records hold times around it). */
#define FUZZ_DB_NOW 1700000000

/* Largest key and value a record of the input may have. */
#define FUZZ_DB_MAX_KEY   255
#define FUZZ_DB_MAX_VALUE 65535

/* The database for this run: call once per input. Opened on first use in a fresh directory
 * under /dev/shm (/tmp without it), replaced every 256 calls, removed at exit. Aborts
 * if it cannot be opened. */
struct db *fuzz_db(void);

/* Delete every key, then write the records of data: each is a key length (one byte), the key,
 * a value length (compactsize, at most FUZZ_DB_MAX_VALUE), the value; prefix (plen bytes, may be
 * 0) is put in front of every key. Parsing stops at the first record that does not fit in the
 * rest of data. Returns the number of records written (a key written twice counts twice). */
size_t fuzz_db_fill(struct db *db, const uint8_t *prefix, size_t plen, const uint8_t *data,
		    size_t size);

#endif
