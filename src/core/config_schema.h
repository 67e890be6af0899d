/*
 * config_schema.h: what schemas/config.json says about a configuration
 * beyond whether it is valid: the "default" of every key left out, and
 * where the secrets are ("writeOnly"), with the environment variable
 * that may set each one.  config.c uses this to fill defaults in, to
 * take secrets from the environment, to keep secrets out of messages and
 * to redact them; nothing else repeats what the schema declares.
 *
 * The schema is walked together with the instance, as a validator would
 * walk it: "properties", "patternProperties", "additionalProperties",
 * "items", "$ref" (JSON pointers into the same document), "allOf", the
 * branches of "anyOf"/"oneOf" that the instance matches, and "then" or
 * "else" as its "if" decides.  Annotations written beside a "$ref"
 * count (later drafts read them; the draft-07 validator ignores them).
 */
#ifndef HPCLOOP_CONFIG_SCHEMA_H
#define HPCLOOP_CONFIG_SCHEMA_H

#include <jansson.h>

/*
 * The embedded schemas/config.json, as a new object.  A build without it
 * (or with a broken one) is a bug, so this never fails.
 */
json_t *config_schema_load(void);

/*
 * Set in 'instance' the "default" of every property that a schema
 * applying to it declares and that it lacks, at every level: inside the
 * members of objects (clusters and studies are maps whose values take
 * their definition's defaults) and the items of lists.  'schema' is the
 * subschema of the document 'top' that 'instance' answers to ('top'
 * itself for a whole configuration).  A default under "then" counts only
 * once its "if" holds, judged after the other defaults of the same
 * object are in.  'instance' should be valid: defaults are not checked.
 * Objects that are absent are not created.
 */
void config_schema_defaults(const json_t *top, const json_t *schema,
			    json_t *instance);

/*
 * The secrets of 'instance' (which need not be valid) under the schema
 * 'top', as a new array of objects:
 *
 *	{"pointer": "/notifications/0/token", "redact": "all",
 *	 "env": "HPCLOOP_NOTIFY_OPS_TOKEN"}
 *
 * one for every value at a location marked "writeOnly", and one for
 * every such location that 'instance' lacks but an environment variable
 * could fill.  "redact" is "userinfo" when "x-hpcloop-redact" says only
 * the user and password of the URL are secret, else "all".  "env" is
 * "HPCLOOP_" and the key path in upper case joined by '_' when every
 * step of the path is a named property; else the name "x-hpcloop-env"
 * gives, with each {key} replaced by that member of the enclosing object
 * in upper case ('-' as '_'; a member that is missing or holds anything
 * but letters, digits, '_' and '-' leaves no variable); else absent.
 */
json_t *config_schema_secrets(const json_t *top, const json_t *instance);

/*
 * The first member of the object at the JSON pointer 'pointer' of
 * 'instance' that a schema applying there refuses with
 * "additionalProperties": false, or NULL.  Borrowed from 'instance'.
 */
const char *config_schema_unknown_key(const json_t *top,
				      const json_t *instance,
				      const char *pointer);

/*
 * Whether the JSON pointer 'pointer' is one of the 'secrets' (as made by
 * config_schema_secrets) or lies inside one.
 */
int config_schema_is_secret(const json_t *secrets, const char *pointer);

#endif
