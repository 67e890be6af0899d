/*
 * version.h: the hpcloop version string and library versions.
 */
#ifndef HPCLOOP_VERSION_H
#define HPCLOOP_VERSION_H

#include <jansson.h>

#define HPCLOOP_VERSION "0.1.0"

/* A new object {library: version} for the libraries linked in. */
json_t *version_libraries(void);

#endif
