/*
 * schema_map.c: a map from pointers to pointers, for the validator's
 * per-validation caches (see schema_internal.h).  The keys are addresses
 * of nodes and strings inside the schema, which stay put while a
 * validation runs, so a lookup costs the same whatever the schema holds:
 * a resolved "$ref", a compiled pattern or an "enum" index is found
 * without walking a list.  Open addressing with linear probing, at most
 * half full; entries are never removed.
 */
#include <stdint.h>
#include <stdlib.h>

#include "schema_internal.h"
#include "xalloc.h"
#include "banned.h"

/*
 * Where the search for 'key' starts among 'mask' + 1 slots: the address
 * mixed (splitmix64's finaliser) so that aligned, evenly spaced
 * addresses spread over the table.
 */
static size_t slot_of(const void *key, size_t mask)
{
	uint64_t h = (uint64_t)(uintptr_t)key;

	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return (size_t)h & mask;
}

/* The slot holding 'key', or the empty one where it would go. */
static struct schema_map_slot *find_slot(const struct schema_map *map,
					 const void *key)
{
	size_t mask = map->alloc - 1;
	size_t i = slot_of(key, mask);

	while (map->slots[i].key && map->slots[i].key != key)
		i = (i + 1) & mask;
	return &map->slots[i];
}

/* Double the slots of 'map' (16 to start with) and place every entry. */
static void grow(struct schema_map *map)
{
	struct schema_map old = *map;
	size_t i;

	if (old.alloc > SIZE_MAX / 4 / sizeof(*map->slots))
		schema_oom();
	map->alloc = old.alloc ? old.alloc * 2 : 16;
	map->slots = xcalloc(map->alloc, sizeof(*map->slots));
	for (i = 0; i < old.alloc; i++)
		if (old.slots[i].key)
			*find_slot(map, old.slots[i].key) = old.slots[i];
	free(old.slots);
}

void *schema_map_get(const struct schema_map *map, const void *key)
{
	if (!map->nr)
		return NULL;
	return find_slot(map, key)->value;
}

void schema_map_put(struct schema_map *map, const void *key, void *value)
{
	struct schema_map_slot *slot;

	if ((map->nr + 1) * 2 > map->alloc)
		grow(map);
	slot = find_slot(map, key);
	if (!slot->key)
		map->nr++;
	slot->key = key;
	slot->value = value;
}

void schema_map_release(struct schema_map *map, void (*free_value)(void *))
{
	size_t i;

	for (i = 0; free_value && i < map->alloc; i++)
		if (map->slots[i].key)
			free_value(map->slots[i].value);
	free(map->slots);
	map->slots = NULL;
	map->nr = 0;
	map->alloc = 0;
}
