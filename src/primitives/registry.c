/*
 * registry.c: the table of primitives, expanded from primitives.def (as
 * redis expands commands.def).  Only main.c names it: it hands the
 * table to the dispatcher and the docs generator as data, so src/core
 * never depends on the list of primitives.
 */
#include "primitive.h"
#include "registry.h"
#include "banned.h"

#define PRIM(n) extern const struct primitive prim_##n;
#include "primitives.def"
#undef PRIM

static const struct primitive *const entries[] = {
#define PRIM(n) &prim_##n,
#include "primitives.def"
#undef PRIM
};

const struct registry hpcloop_registry = {
	entries, (int)(sizeof(entries) / sizeof(entries[0]))
};
