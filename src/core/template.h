/*
 * template.h: a small mustache-style renderer for job scripts and
 * pipeline prompts (the files under templates/).
 *
 * The language is a subset of mustache, without HTML escaping (the output
 * is bash or markdown, never HTML):
 *
 *   {{name}}               the value of 'name'; dotted names (a.b.c)
 *                          walk into objects; {{.}} is the current item
 *   {{#name}}...{{/name}}  a section: once per item of an array (the
 *                          item pushed on the context stack), once with
 *                          an object pushed, once for true, a non-empty
 *                          string or a non-zero number; skipped for
 *                          false, null, a missing name, an empty array
 *                          or ""
 *   {{^name}}...{{/name}}  an inverted section: rendered once exactly
 *                          when the section would be skipped
 *   {{! comment }}         dropped
 *
 * A name is looked up from the innermost context outwards (the item of
 * the innermost section first, 'vars' last); the first part of a dotted
 * name chooses the context, the rest must then be found inside it.
 *
 * Strings render as they are, integers in decimal, reals in their
 * shortest form that reads back exactly, true and false as words and
 * null as nothing.  An object or an array in {{name}} is an error, and so
 * is a name that cannot be found: a template that asks for a variable
 * the caller did not give is a bug, never an empty string.
 *
 * As in mustache, a section, inverted, closing or comment tag that stands
 * alone on its line (only blanks around it) takes the whole line with
 * it, so templates can put each tag on a line of its own.
 *
 * Partials ({{> x}}), set delimiters ({{=<% %>=}}) and the unescaped
 * forms ({{{x}}}, {{& x}}) are not supported and are errors.
 */
#ifndef HPCLOOP_TEMPLATE_H
#define HPCLOOP_TEMPLATE_H

#include <jansson.h>

#include "err.h"

/* The largest output template_render() produces (16 MiB). */
#define TEMPLATE_OUTPUT_MAX (16u * 1024 * 1024)

/* How deeply sections may nest. */
#define TEMPLATE_DEPTH_MAX 64

/*
 * Render 'tmpl' with the JSON object 'vars' (borrowed) into a new string
 * in '*out', which the caller frees.  'origin' names the template in
 * error messages (a path such as "templates/job.sh"; NULL means
 * "template").
 *
 * Returns 0, or -1 with '*out' set to NULL and 'err' filled with
 * ERR_INTERNAL: an unknown variable ("template 'x': unknown variable
 * 'y' on line 3"), an unclosed or mismatched section, a malformed or
 * unsupported tag (each naming its line), sections nested deeper than
 * TEMPLATE_DEPTH_MAX, or output longer than TEMPLATE_OUTPUT_MAX.
 */
int template_render(char **out, const char *tmpl, const json_t *vars,
		    const char *origin, struct err *err);

#endif
