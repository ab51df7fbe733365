/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdlib.h>

#include "lib/u64map.h"

static size_t slot_of(const uint64_t *key, size_t cap, uint64_t k)
{
	size_t j = (size_t)((k * 0x9e3779b97f4a7c15ull) >> 17) & (cap - 1);

	while (key[j] && key[j] != k)
		j = (j + 1) & (cap - 1);
	return j;
}

static int grow(struct pc_u64map *m)
{
	size_t cap = m->cap ? 2 * m->cap : 1024;
	uint64_t *key = calloc(cap, sizeof(*key));
	uint32_t *val = calloc(cap, sizeof(*val));

	if (!key || !val) {
		free(key);
		free(val);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++)
		if (m->key[i]) {
			size_t j = slot_of(key, cap, m->key[i]);

			key[j] = m->key[i];
			val[j] = m->val[i];
		}
	free(m->key);
	free(m->val);
	m->key = key;
	m->val = val;
	m->cap = cap;
	return 0;
}

uint32_t *pc_u64map_get(struct pc_u64map *m, uint64_t key)
{
	size_t j;

	if (2 * (m->used + 1) > m->cap && grow(m) < 0)
		return NULL;
	j = slot_of(m->key, m->cap, key);
	if (!m->key[j]) {
		m->key[j] = key;
		m->used++;
	}
	return &m->val[j];
}

const uint32_t *pc_u64map_find(const struct pc_u64map *m, uint64_t key)
{
	size_t j;

	if (!m->cap)
		return NULL;
	j = slot_of(m->key, m->cap, key);
	return m->key[j] ? &m->val[j] : NULL;
}

void pc_u64map_free(struct pc_u64map *m)
{
	free(m->key);
	free(m->val);
	*m = (struct pc_u64map) { 0 };
}
