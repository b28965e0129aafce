/* Signed messages as JSON (include/msg/msgjson.h). */
#include "msg/msgjson.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"

/* Set key to v (stolen) in obj; a failure (v NULL, out of memory) clears *ok. */
static void put(json_t *obj, const char *key, json_t *v, bool *ok)
{
	if (json_object_set_new(obj, key, v) != 0)
		*ok = false;
}

static json_t *finish(json_t *obj, bool ok)
{
	if (!ok) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

/* A JSON string of len bytes in hex, or NULL when out of memory. */
json_t *json_hex(const uint8_t *data, size_t len)
{
	char *hex = malloc(2 * len + 1);
	if (hex == NULL)
		return NULL;
	hex_encode(hex, data, len);
	json_t *v = json_stringn(hex, 2 * len);
	free(hex);
	return v;
}

/* The body as a JSON string: only when it is valid UTF-8 (jansson refuses anything else) and
 * holds no NUL byte (which many clients would cut the text at). NULL otherwise. */
static json_t *body_text(const struct sigmsg *m)
{
	if (m->body_len == 0)
		return json_string("");
	if (memchr(m->body, 0, m->body_len) != NULL)
		return NULL;
	return json_stringn((const char *)m->body, m->body_len);
}

/* JSON integers are signed 64-bit: a nonce above that range shows as a (rounded) real. */
static json_t *nonce_json(uint64_t nonce)
{
	if (nonce <= (uint64_t)INT64_MAX)
		return json_integer((json_int_t)nonce);
	return json_real((double)nonce);
}

static json_t *refs_json(const struct sigmsg *m)
{
	json_t *a = json_array();
	bool ok = a != NULL;
	for (size_t i = 0; i < m->nrefs; i++)
		if (json_array_append_new(a, json_hex(m->refs[i], 32)) != 0)
			ok = false;
	return finish(a, ok);
}

/* The verbose object of doc/messages.md. size is the serialized size; received_at < 0 leaves
 * that field out (decodemessage). Returns NULL when out of memory. */
json_t *sigmsg_json(const struct sigmsg *m, const uint8_t id[32], size_t size, int64_t received_at)
{
	json_t *o = json_object();
	bool ok = o != NULL;
	put(o, "id", json_hex(id, 32), &ok);
	put(o, "version", json_integer(m->version), &ok);
	put(o, "topic", json_string(m->topic), &ok);
	put(o, "created_at", json_integer(m->created_at), &ok);
	put(o, "author", json_hex(m->author, sizeof(m->author)), &ok);
	put(o, "refs", refs_json(m), &ok);
	json_t *text = body_text(m);
	if (text != NULL)
		put(o, "body", text, &ok);
	put(o, "body_hex", json_hex(m->body, m->body_len), &ok);
	put(o, "size", json_integer((json_int_t)size), &ok);
	put(o, "pow", json_integer(sigmsg_pow(id)), &ok);
	put(o, "nonce", nonce_json(m->nonce), &ok);
	put(o, "sig", json_hex(m->sig, sizeof(m->sig)), &ok);
	if (received_at >= 0)
		put(o, "received_at", json_integer(received_at), &ok);
	return finish(o, ok);
}
