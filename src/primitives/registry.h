/*
 * registry.h: the binary's table of primitives (registry.c).  Included
 * by main.c only; everything else is handed the table.
 */
#ifndef HPCLOOP_REGISTRY_H
#define HPCLOOP_REGISTRY_H

#include "primitive.h"

extern const struct registry hpcloop_registry;

#endif
