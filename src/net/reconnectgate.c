/* Reconnection gate (include/net/reconnectgate.h). */
#include "net/reconnectgate.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "util/random.h"
#include "util/tokenbucket.h"

struct gate_entry {
	bool used;
	uint8_t ip[16];
	struct token_bucket tb;
};

struct reconnect_gate {
	struct gate_entry *slots;
	size_t mask;
	double per_second, burst;
	size_t used;
	uint8_t key[crypto_shorthash_siphash24_KEYBYTES];
};

struct reconnect_gate *reconnect_gate_new(size_t slots, double per_second, double burst)
{
	if (slots == 0 || (slots & (slots - 1)) != 0)
		return NULL;
	struct reconnect_gate *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->slots = calloc(slots, sizeof(*g->slots));
	if (!g->slots) {
		free(g);
		return NULL;
	}
	g->mask = slots - 1;
	g->per_second = per_second;
	g->burst = burst;
	random_bytes(g->key, sizeof(g->key));
	return g;
}

void reconnect_gate_free(struct reconnect_gate *g)
{
	if (!g)
		return;
	free(g->slots);
	free(g);
}

/* The entry for ip: its own, else a free one, else the least recently used in its window. */
static struct gate_entry *find(struct reconnect_gate *g, const uint8_t ip[16], bool *fresh)
{
	uint8_t h[crypto_shorthash_siphash24_BYTES];
	crypto_shorthash_siphash24(h, ip, 16, g->key);
	uint64_t start;
	memcpy(&start, h, sizeof(start));
	struct gate_entry *free_slot = NULL, *oldest = NULL;
	for (size_t i = 0; i < RECONNECT_GATE_PROBE && i <= g->mask; i++) {
		struct gate_entry *e = &g->slots[(start + i) & g->mask];
		if (!e->used) {
			if (!free_slot)
				free_slot = e;
		} else if (memcmp(e->ip, ip, 16) == 0) {
			*fresh = false;
			return e;
		} else if (!oldest || e->tb.last_us < oldest->tb.last_us) {
			oldest = e;
		}
	}
	*fresh = true;
	return free_slot ? free_slot : oldest;
}

bool reconnect_gate_admit(struct reconnect_gate *g, const uint8_t ip[16], int64_t now_us)
{
	bool fresh;
	struct gate_entry *e = find(g, ip, &fresh);
	if (fresh) {
		if (!e->used)
			g->used++;
		e->used = true;
		memcpy(e->ip, ip, 16);
		tb_init(&e->tb, g->per_second, g->burst, now_us);
	}
	return tb_take(&e->tb, 1, now_us);
}

size_t reconnect_gate_size(const struct reconnect_gate *g)
{
	return g->used;
}
