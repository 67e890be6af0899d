/*
 * test_schema.c: unit tests for the draft-07 validator (schema.h and
 * the schema_*.c files behind it).
 *
 * The small tests pin down what callers rely on: the JSON pointer and
 * keyword of each error, the wording of the messages that name a
 * property, code-point string lengths, Unicode patterns, the error cap,
 * number equality and "$ref" resolution.  The large ones check that
 * hostile sizes (100,000 unique items, a 200,000-value enum, 20,000
 * "$ref"s) give the right answers; they assert no time (bench/schema.sh
 * prints it).  A torture test fails each allocation of a validation in
 * turn.  test_schema_official_suite runs every case of the official
 * JSON-Schema-Test-Suite for draft7, except those listed (each with a
 * reason) in schema-suite-skip.txt.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "envelope.h"
#include "schema.h"
#include "xalloc.h"
#include "banned.h"

#define SUITE_DEFAULT "/usr/share/json-schema-test-suite/tests/draft7"
#define SKIP_FILE "tests/unit/schema-suite-skip.txt"

/* Returns a NEW value parsed from 'text'; fails the test if it is bad. */
static json_t *parse(const char *text)
{
	json_error_t err;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &err);

	if (!v)
		fail_msg("bad test JSON '%s': %s", text, err.text);
	return v;
}

/*
 * Returns the NEW error array of validating the JSON text 'inst'
 * against the JSON text 'schema', collecting at most 'max' errors.
 */
static json_t *errors_of(const char *schema, const char *inst, size_t max)
{
	json_t *s = parse(schema);
	json_t *i = parse(inst);
	json_t *errors = schema_validate(s, i, max);

	assert_non_null(errors);
	assert_true(json_is_array(errors));
	json_decref(s);
	json_decref(i);
	return errors;
}

/* Whether the JSON text 'inst' is valid against the JSON text 'schema'. */
static int valid(const char *schema, const char *inst)
{
	json_t *s = parse(schema);
	json_t *i = parse(inst);
	int ok = schema_is_valid(s, i);
	json_t *errors = schema_validate(s, i, 0);

	/* The two entry points must agree. */
	assert_int_equal(ok, json_array_size(errors) == 0);
	json_decref(errors);
	json_decref(s);
	json_decref(i);
	return ok;
}

/*
 * Asserts that error 'n' of 'errors' has 'path' and 'keyword' and, when
 * 'message' is not NULL, a message starting with 'message'.
 */
static void assert_error(const json_t *errors, size_t n, const char *path,
			 const char *keyword, const char *message)
{
	const json_t *e = json_array_get(errors, n);
	const char *got;

	assert_non_null(e);
	assert_int_equal(json_object_size(e), 3);
	assert_string_equal(json_string_value(json_object_get(e, "path")),
			    path);
	assert_string_equal(json_string_value(json_object_get(e, "keyword")),
			    keyword);
	got = json_string_value(json_object_get(e, "message"));
	assert_non_null(got);
	if (message && strncmp(got, message, strlen(message)))
		fail_msg("message '%s' does not start with '%s'", got,
			 message);
}

/* Asserts that 'inst' gives exactly one error, as assert_error(). */
static void assert_one_error(const char *schema, const char *inst,
			     const char *path, const char *keyword,
			     const char *message)
{
	json_t *errors = errors_of(schema, inst, 0);

	if (json_array_size(errors) != 1) {
		char *dump = json_dumps(errors, JSON_COMPACT);

		fail_msg("expected one error, got %s", dump);
	}
	assert_error(errors, 0, path, keyword, message);
	json_decref(errors);
}

static void test_schema_valid_is_empty_array(void **state)
{
	json_t *errors = errors_of("{\"type\": \"object\"}", "{}", 0);

	(void)state;
	assert_int_equal(json_array_size(errors), 0);
	json_decref(errors);
	assert_true(valid("true", "[1, {}]"));
	assert_true(valid("{}", "null"));
	assert_false(valid("false", "null"));
	assert_true(valid("{\"unknownKeyword\": 3}", "1"));
}

static void test_schema_nested_error_paths(void **state)
{
	const char *schema =
		"{\"properties\": {\"a\": {\"type\": \"array\", \"items\":"
		" {\"type\": \"object\", \"properties\":"
		" {\"b\": {\"type\": \"string\"}}}}}}";

	(void)state;
	assert_one_error(schema, "{\"a\": [{\"b\": \"x\"}, {\"b\": 1}]}",
			 "/a/1/b", "type", "expected string, got integer");
	assert_one_error(schema, "{\"a\": [{\"b\": 1}]}", "/a/0/b", "type",
			 NULL);
	assert_one_error(schema, "{\"a\": [{}, 3]}", "/a/1", "type",
			 "expected object, got integer");
	assert_one_error(schema, "{\"a\": {}}", "/a", "type",
			 "expected array, got object");
	assert_one_error("{\"items\": [{}, {\"minimum\": 2}]}", "[0, 1]",
			 "/1", "minimum", "expected a number >= 2, got 1");
}

static void test_schema_path_escaping(void **state)
{
	(void)state;
	assert_one_error("{\"properties\": {\"a/b\": {\"properties\":"
			 " {\"c~d\": {\"type\": \"null\"}}}}}",
			 "{\"a/b\": {\"c~d\": 1}}", "/a~1b/c~0d", "type",
			 "expected null, got integer");
}

static void test_schema_unknown_property_message(void **state)
{
	json_t *errors;

	(void)state;
	errors = errors_of("{\"properties\": {\"study\": {}, \"nested\":"
			   " {\"properties\": {\"x\": {}},"
			   " \"additionalProperties\": false}},"
			   " \"patternProperties\": {\"^x-\": {}},"
			   " \"additionalProperties\": false}",
			   "{\"study\": 1, \"stduy\": 2, \"x-ok\": 3,"
			   " \"nested\": {\"x\": 1, \"y\": 2}}", 0);
	assert_int_equal(json_array_size(errors), 2);
	assert_error(errors, 0, "/nested", "additionalProperties",
		     "unknown property 'y'");
	assert_error(errors, 1, "", "additionalProperties",
		     "unknown property 'stduy'");
	json_decref(errors);

	/* A schema for additional properties reports at the property. */
	assert_one_error("{\"additionalProperties\": {\"type\": \"string\"}}",
			 "{\"k\": 1}", "/k", "type", NULL);
}

static void test_schema_required_message(void **state)
{
	(void)state;
	assert_one_error("{\"required\": [\"study\", \"name\"]}",
			 "{\"name\": \"x\"}", "", "required",
			 "missing required property 'study'");
	assert_one_error("{\"properties\": {\"job\": {\"required\":"
			 " [\"nodes\"]}}}", "{\"job\": {}}", "/job",
			 "required", "missing required property 'nodes'");
	/* Not an object: "required" does not apply. */
	assert_true(valid("{\"required\": [\"a\"]}", "[]"));
}

static void test_schema_false_schemas_name_the_property(void **state)
{
	(void)state;
	assert_one_error("{\"properties\": {\"x\": false}}", "{\"x\": 1}",
			 "", "properties", "property 'x' is not allowed");
	assert_one_error("{\"dependencies\": {\"a\": [\"b\"]}}",
			 "{\"a\": 1}", "", "dependencies",
			 "property 'a' requires property 'b'");
	assert_one_error("{\"propertyNames\": {\"maxLength\": 3}}",
			 "{\"long\": 1}", "", "propertyNames",
			 "invalid property name 'long'");
	assert_one_error("false", "1", "", "false", NULL);
}

static void test_schema_max_length_counts_code_points(void **state)
{
	(void)state;
	assert_true(valid("{\"maxLength\": 3}", "\"h\\u00e9\\u00e9\""));
	assert_true(valid("{\"maxLength\": 3}", "\"\xe6\x97\xa5\xe6\x9c\xac"
			  "\xe8\xaa\x9e\""));
	assert_true(valid("{\"maxLength\": 1}", "\"\xf0\x9f\x92\xa9\""));
	assert_one_error("{\"maxLength\": 3}", "\"h\\u00e9\\u00e9l\"", "",
			 "maxLength", "expected at most 3 characters, got 4");
	assert_one_error("{\"minLength\": 2}", "\"\\u00e9\"", "",
			 "minLength", "expected at least 2 characters, got 1");
	assert_true(valid("{\"maxLength\": 2.0}", "\"ab\""));
}

static void test_schema_pattern_unicode(void **state)
{
	(void)state;
	assert_true(valid("{\"pattern\": \"^\\\\p{L}+$\"}",
			  "\"h\\u00e9llo\""));
	assert_true(valid("{\"pattern\": \"^\\\\p{L}+$\"}",
			  "\"\xe6\x97\xa5\xe6\x9c\xac\""));
	assert_false(valid("{\"pattern\": \"^\\\\p{L}+$\"}", "\"a1\""));
	assert_true(valid("{\"pattern\": \"^.$\"}", "\"\\u00e9\""));
	assert_true(valid("{\"pattern\": \"^\\\\w+$\"}", "\"na\\u00efve\""));
	/* ECMA-262: unanchored search, '$' only at the very end. */
	assert_true(valid("{\"pattern\": \"b\"}", "\"abc\""));
	assert_false(valid("{\"pattern\": \"^a$\"}", "\"a\\n\""));
	/* ECMA-262 \u escapes. */
	assert_true(valid("{\"pattern\": \"^\\\\u00e9$\"}", "\"\\u00e9\""));
	assert_true(valid("{\"patternProperties\": {\"^\\\\p{Lu}\":"
			  " {\"type\": \"integer\"}}}",
			  "{\"\\u00c9t\\u00e9\": 1, \"a\": \"x\"}"));
	assert_one_error("{\"pattern\": \"^[a-z]+$\"}", "\"ABC\"", "",
			 "pattern", "string does not match pattern '^[a-z]+$'");
	assert_one_error("{\"pattern\": \"(\"}", "\"x\"", "", "pattern",
			 "invalid regular expression '('");
}

static void test_schema_max_errors_cap(void **state)
{
	const char *schema = "{\"required\": [\"a\", \"b\", \"c\", \"d\","
			     " \"e\"]}";
	json_t *errors;

	(void)state;
	errors = errors_of(schema, "{}", 2);
	assert_int_equal(json_array_size(errors), 2);
	assert_error(errors, 0, "", "required",
		     "missing required property 'a'");
	assert_error(errors, 1, "", "required",
		     "missing required property 'b'");
	json_decref(errors);
	errors = errors_of(schema, "{}", 0);
	assert_int_equal(json_array_size(errors), 5);
	json_decref(errors);
	errors = errors_of("{\"items\": {\"type\": \"string\"}}",
			   "[1, 2, 3, 4]", 3);
	assert_int_equal(json_array_size(errors), 3);
	assert_error(errors, 2, "/2", "type", NULL);
	json_decref(errors);
}

static void test_schema_number_equality(void **state)
{
	(void)state;
	assert_true(valid("{\"enum\": [1, \"x\"]}", "1.0"));
	assert_true(valid("{\"enum\": [1.0]}", "1"));
	assert_true(valid("{\"const\": {\"a\": [1]}}", "{\"a\": [1.0]}"));
	assert_false(valid("{\"uniqueItems\": true}", "[1, 1.0]"));
	assert_false(valid("{\"uniqueItems\": true}", "[{\"a\": 2},"
			   " {\"a\": 2.0}]"));
	assert_false(valid("{\"enum\": [1]}", "true"));
	assert_false(valid("{\"const\": 0}", "false"));
	assert_true(valid("{\"type\": \"integer\"}", "1.0"));
	assert_one_error("{\"type\": \"integer\"}", "1.5", "", "type",
			 "expected integer, got number");
	assert_one_error("{\"enum\": [1, \"x\"]}", "2", "", "enum",
			 "value must be one of [1,\"x\"]");
	assert_one_error("{\"uniqueItems\": true}", "[1, 2, 1.0]", "",
			 "uniqueItems", "items 0 and 2 are equal");
}

static void test_schema_type_messages(void **state)
{
	(void)state;
	assert_one_error("{\"type\": [\"string\", \"null\"]}", "3", "",
			 "type", "expected string or null, got integer");
	assert_one_error("{\"type\": [\"string\", \"array\", \"null\"]}",
			 "true", "", "type",
			 "expected string, array or null, got boolean");
}

static void test_schema_multiple_of_floats(void **state)
{
	(void)state;
	assert_true(valid("{\"multipleOf\": 0.0001}", "0.0075"));
	assert_false(valid("{\"multipleOf\": 0.0001}", "0.00751"));
	assert_true(valid("{\"multipleOf\": 0.01}", "19.99"));
	assert_true(valid("{\"multipleOf\": 2.5}", "10"));
	assert_true(valid("{\"multipleOf\": 0.1}", "0.3"));
	assert_false(valid("{\"multipleOf\": 0.123456789}", "1e308"));
	assert_one_error("{\"multipleOf\": 2}", "7", "", "multipleOf",
			 "expected a multiple of 2, got 7");
}

static void test_schema_ref_to_definitions(void **state)
{
	const char *schema =
		"{\"definitions\": {\"port\": {\"type\": \"integer\","
		" \"maximum\": 65535}, \"a/b~c%\": {\"type\": \"string\"}},"
		" \"properties\": {"
		" \"port\": {\"$ref\": \"#/definitions/port\"},"
		" \"odd\": {\"$ref\": \"#/definitions/a~1b~0c%25\"}}}";

	(void)state;
	assert_one_error(schema, "{\"port\": 70000}", "/port", "maximum",
			 "expected a number <= 65535, got 70000");
	assert_true(valid(schema, "{\"port\": 22, \"odd\": \"x\"}"));
	assert_one_error(schema, "{\"odd\": 1}", "/odd", "type", NULL);
	/* Siblings of "$ref" are ignored. */
	assert_true(valid("{\"definitions\": {\"s\": {\"type\": \"string\"}},"
			  " \"properties\": {\"x\": {\"$ref\":"
			  " \"#/definitions/s\", \"maxLength\": 1}}}",
			  "{\"x\": \"long\"}"));
	assert_one_error("{\"$ref\": \"#/definitions/missing\"}", "1", "",
			 "$ref", "cannot resolve '#/definitions/missing'");
}

/* Appends 's' to the string 'buf' of 'size' bytes, now '*len' long. */
static void append(char *buf, size_t size, size_t *len, const char *s)
{
	size_t n = strlen(s);

	assert_true(*len + n < size);
	memcpy(buf + *len, s, n + 1);
	*len += n;
}

static void test_schema_ref_recursion_limit(void **state)
{
	const char *tree = "{\"properties\": {\"n\": {\"$ref\": \"#\"}},"
			   " \"required\": [\"v\"]}";
	char deep[4096];
	size_t i, len = 0;
	json_t *errors;

	(void)state;
	assert_one_error("{\"$ref\": \"#\"}", "1", "", "$ref",
			 "infinite recursion");
	assert_one_error("{\"definitions\": {\"a\": {\"$ref\":"
			 " \"#/definitions/b\"}, \"b\": {\"$ref\":"
			 " \"#/definitions/a\"}},"
			 " \"$ref\": \"#/definitions/a\"}",
			 "1", "", "$ref", "infinite recursion");
	/* Must not take 2^64 steps either. */
	assert_false(valid("{\"anyOf\": [{\"$ref\": \"#\"}, {\"$ref\": \"#\"}],"
			   " \"type\": \"integer\"}", "\"x\""));

	/* Legitimate recursion works until SCHEMA_MAX_REF_DEPTH. */
	assert_true(valid(tree, "{\"v\": 1, \"n\": {\"v\": 2, \"n\":"
			  " {\"v\": 3}}}"));
	assert_one_error(tree, "{\"v\": 1, \"n\": {\"n\": {\"v\": 3}}}", "/n",
			 "required", "missing required property 'v'");
	for (i = 0; i < SCHEMA_MAX_REF_DEPTH + 5; i++)
		append(deep, sizeof(deep), &len, "{\"v\": 0, \"n\": ");
	append(deep, sizeof(deep), &len, "{\"v\": 0}");
	for (i = 0; i < SCHEMA_MAX_REF_DEPTH + 5; i++)
		append(deep, sizeof(deep), &len, "}");
	errors = errors_of(tree, deep, 0);
	assert_int_equal(json_array_size(errors), 1);
	assert_error(errors, 0, json_string_value(json_object_get(
		json_array_get(errors, 0), "path")), "$ref",
		"'#' nested more than 64 levels deep");
	json_decref(errors);
}

static void test_schema_remote_ref_is_an_error(void **state)
{
	(void)state;
	assert_one_error("{\"properties\": {\"x\": {\"$ref\":"
			 " \"http://example.com/s.json\"}}}", "{\"x\": 1}",
			 "/x", "$ref", "cannot resolve "
			 "'http://example.com/s.json': remote references are "
			 "not fetched");
	assert_true(valid("{\"properties\": {\"x\": {\"$ref\":"
			  " \"http://example.com/s.json\"}}}", "{}"));
}

static void test_schema_id_based_refs(void **state)
{
	const char *schema =
		"{\"$id\": \"http://example.com/root.json\","
		" \"definitions\": {"
		"  \"A\": {\"$id\": \"#foo\", \"type\": \"integer\"},"
		"  \"B\": {\"$id\": \"other.json\", \"definitions\":"
		"   {\"X\": {\"$id\": \"#bar\", \"type\": \"string\"},"
		"    \"Y\": {\"type\": \"boolean\"}}}},"
		" \"properties\": {"
		"  \"a\": {\"$ref\": \"#foo\"},"
		"  \"b\": {\"$ref\": \"other.json#bar\"},"
		"  \"c\": {\"$ref\": \"http://example.com/other.json"
		"#/definitions/X\"},"
		"  \"d\": {\"$ref\": \"root.json#/definitions/A\"},"
		"  \"e\": {\"$ref\": \"other.json#/definitions/Y\"}}}";

	(void)state;
	assert_true(valid(schema, "{\"a\": 1, \"b\": \"s\", \"c\": \"t\","
			  " \"d\": 2, \"e\": false}"));
	assert_one_error(schema, "{\"a\": \"x\"}", "/a", "type",
			 "expected integer, got string");
	assert_one_error(schema, "{\"b\": 1}", "/b", "type", NULL);
	assert_one_error(schema, "{\"c\": 1}", "/c", "type", NULL);
	assert_one_error(schema, "{\"d\": true}", "/d", "type", NULL);
	assert_one_error(schema, "{\"e\": 1}", "/e", "type", NULL);

	/* An "$id" next to "$ref" is ignored, like every sibling. */
	assert_false(valid("{\"$id\": \"http://a.example/root.json\","
			   " \"definitions\": {\"y\": {\"type\": \"integer\"},"
			   " \"z\": {\"$id\": \"http://b.example/z.json\","
			   " \"$ref\": \"#/definitions/y\"}},"
			   " \"$ref\": \"#/definitions/z\"}", "\"x\""));
	assert_true(valid("{\"$id\": \"http://a.example/root.json\","
			  " \"definitions\": {\"y\": {\"type\": \"integer\"},"
			  " \"z\": {\"$id\": \"http://b.example/z.json\","
			  " \"$ref\": \"#/definitions/y\"}},"
			  " \"$ref\": \"#/definitions/z\"}", "1"));
}

static void test_schema_meta_schema_ref(void **state)
{
	const char *meta = "{\"$ref\":"
			   " \"http://json-schema.org/draft-07/schema#\"}";

	(void)state;
	assert_true(valid(meta, "{\"type\": \"object\", \"properties\":"
			  " {\"a\": {\"minLength\": 1}}}"));
	assert_false(valid(meta, "{\"type\": \"objekt\"}"));
	assert_one_error(meta, "{\"properties\": {\"a\": {\"minLength\":"
			 " -1}}}", "/properties/a/minLength", "minimum", NULL);
}

static void test_schema_combinator_messages(void **state)
{
	(void)state;
	assert_one_error("{\"anyOf\": [{\"type\": \"string\"},"
			 " {\"minimum\": 5}]}", "1", "", "anyOf", NULL);
	assert_one_error("{\"oneOf\": [{\"type\": \"integer\"},"
			 " {\"minimum\": 0}]}", "1", "", "oneOf",
			 "value matches both 'oneOf' schemas 0 and 1");
	assert_one_error("{\"not\": {\"type\": \"integer\"}}", "1", "",
			 "not", NULL);
	assert_one_error("{\"contains\": {\"const\": 3}}", "[1]", "",
			 "contains", NULL);
	assert_one_error("{\"if\": {\"required\": [\"a\"]}, \"then\":"
			 " {\"required\": [\"b\"]}, \"else\": {\"type\":"
			 " \"object\"}}", "{\"a\": 1}", "", "required",
			 "missing required property 'b'");
	assert_one_error("{\"allOf\": [{\"properties\": {\"x\":"
			 " {\"type\": \"string\"}}}]}", "{\"x\": 1}", "/x",
			 "type", NULL);
	assert_one_error("{\"items\": [{}], \"additionalItems\": false}",
			 "[1, 2]", "", "additionalItems",
			 "expected at most 1 items, got 2");
	assert_one_error("{\"maxProperties\": 1}", "{\"a\": 1, \"b\": 2}",
			 "", "maxProperties",
			 "expected at most 1 properties, got 2");
}

/*
 * Returns the NEW error array of validating 'inst' against 'schema',
 * both stolen, collecting every error.
 */
static json_t *errors_of_new(json_t *schema, json_t *inst)
{
	json_t *errors;

	assert_non_null(schema);
	assert_non_null(inst);
	errors = schema_validate(schema, inst, 0);
	assert_true(json_is_array(errors));
	json_decref(schema);
	json_decref(inst);
	return errors;
}

/* The number of errors in 'errors' (stolen). */
static size_t count_new(json_t *errors)
{
	size_t n = json_array_size(errors);

	json_decref(errors);
	return n;
}

/* Whether 'inst' (stolen) is valid against 'schema'. */
static int valid_new(const json_t *schema, json_t *inst)
{
	int ok;

	assert_non_null(inst);
	ok = schema_is_valid(schema, inst);
	json_decref(inst);
	return ok;
}

/* Asserts that 'errors' (stolen) is exactly one uniqueItems 'message'. */
static void assert_dup(json_t *errors, const char *message)
{
	assert_int_equal(json_array_size(errors), 1);
	assert_error(errors, 0, "", "uniqueItems", message);
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(errors, 0), "message")), message);
	json_decref(errors);
}

/* A NEW array of the integers 0 .. 'n' - 1. */
static json_t *int_array(size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_integer((json_int_t)i));
	return a;
}

/* A NEW object {"id": i, "tags": ["t", {"deep": i, "x": null}]}. */
static json_t *record(size_t i)
{
	return json_pack("{s:I, s:[s, {s:I, s:n}]}", "id", (json_int_t)i,
			 "tags", "t", "deep", (json_int_t)i, "x");
}

#define BIG_ARRAY 100000

/*
 * uniqueItems over 100,000 items (issue: hostile input took O(n^2)):
 * distinct items pass; a duplicate is found at both ends, between 1
 * and 1.0, and between objects whose keys come in another order; the
 * first pair is the one named.
 */
static void test_schema_unique_items_large(void **state)
{
	json_t *unique = json_pack("{s:b}", "uniqueItems", 1);
	json_t *a;

	(void)state;
	assert_int_equal(count_new(errors_of_new(json_incref(unique),
						 int_array(BIG_ARRAY))), 0);

	a = int_array(BIG_ARRAY);
	json_array_set_new(a, BIG_ARRAY - 1, json_integer(0));
	assert_dup(errors_of_new(json_incref(unique), a),
		   "items 0 and 99999 are equal");

	/* 1 == 1.0: the real 5.0 at the end equals the integer 5. */
	a = int_array(BIG_ARRAY);
	json_array_set_new(a, BIG_ARRAY - 1, json_real(5.0));
	assert_dup(errors_of_new(json_incref(unique), a),
		   "items 5 and 99999 are equal");

	/* Two pairs: the one whose first item comes first is named. */
	a = int_array(BIG_ARRAY);
	json_array_set_new(a, 70000, json_integer(90000));
	json_array_set_new(a, 99998, json_real(3.0));
	assert_dup(errors_of_new(json_incref(unique), a),
		   "items 3 and 99998 are equal");

	/* Objects: keys in another order, 7 as 7.0, deep inside. */
	a = json_array();
	for (size_t i = 0; i < BIG_ARRAY - 1; i++)
		json_array_append_new(a, record(i));
	json_array_append_new(a, json_pack("{s:[s, {s:n, s:f}], s:f}",
					   "tags", "t", "x", "deep", 7.0,
					   "id", 7.0));
	assert_dup(errors_of_new(json_incref(unique), json_incref(a)),
		   "items 7 and 99999 are equal");
	/* ... and when they differ deep inside, nothing is equal. */
	json_array_set_new(a, BIG_ARRAY - 1,
			   json_pack("{s:[s, {s:n, s:f}], s:f}", "tags", "t",
				     "x", "deep", 7.5, "id", 7.0));
	assert_int_equal(count_new(errors_of_new(json_incref(unique), a)), 0);
	json_decref(unique);
}

#define BIG_ENUM 200000

/*
 * enum with 200,000 values (issue: each check compared every value):
 * members found at both ends, 1 == 1.0, an object with its keys in
 * another order; non-members refused; and 100,000 items checked
 * against the same enum, the one bad item reported at its index.
 */
static void test_schema_enum_large(void **state)
{
	json_t *values = int_array(BIG_ENUM - 2);
	json_t *schema, *errors, *items;

	(void)state;
	json_array_append_new(values, json_pack("{s:i, s:[f, {s:n, s:b}]}",
						"x", 1, "y", 1.0, "p", "q",
						1));
	json_array_append_new(values, json_string("last"));
	schema = json_pack("{s:O}", "enum", values);

	assert_true(valid_new(schema, json_integer(0)));
	assert_true(valid_new(schema, json_real(199997.0)));
	assert_true(valid_new(schema, json_string("last")));
	assert_true(valid_new(schema, json_pack("{s:[i, {s:b, s:n}], s:f}",
						"y", 1, "q", 1, "p", "x",
						1.0)));
	assert_false(valid_new(schema, json_integer(199998)));
	assert_false(valid_new(schema, json_real(0.5)));
	assert_false(valid_new(schema, json_string("Last")));
	assert_false(valid_new(schema, json_pack("[i]", 0)));
	assert_false(valid_new(schema, json_pack("{s:[i, {s:b, s:n}], s:f}",
						 "y", 1, "q", 0, "p", "x",
						 1.0)));

	errors = errors_of_new(json_incref(schema), json_integer(-1));
	assert_int_equal(json_array_size(errors), 1);
	assert_error(errors, 0, "", "enum",
		     "value is not one of the allowed values");
	json_decref(errors);

	items = int_array(BIG_ARRAY);
	json_array_set_new(items, BIG_ARRAY - 1, json_string("nope"));
	errors = errors_of_new(json_pack("{s:o}", "items", schema), items);
	assert_int_equal(json_array_size(errors), 1);
	assert_error(errors, 0, "/99999", "enum", NULL);
	json_decref(errors);
	json_decref(values);
}

/*
 * const, enum (of more than a few values) and uniqueItems agree on
 * which values are equal, 1 == 1.0 and -0.0 == 0 included.
 */
static void test_schema_equality_agrees(void **state)
{
	static const struct {
		const char *a, *b;
		int equal;
	} pairs[] = {
		{ "1", "1.0", 1 },
		{ "-0.0", "0", 1 },
		{ "0", "false", 0 },
		{ "1", "true", 0 },
		{ "null", "null", 1 },
		{ "\"a\"", "\"a \"", 0 },
		{ "{\"a\": 1, \"b\": [2]}", "{\"b\": [2.0], \"a\": 1}", 1 },
		{ "{\"a\": null}", "{}", 0 },
		{ "{}", "[]", 0 },
		{ "[1, [2]]", "[1.0, [2.0]]", 1 },
		{ "[1, 2]", "[2, 1]", 0 },
		{ "9007199254740993", "9007199254740992.0", 0 },
		{ "-9223372036854775808", "-9223372036854775808.0", 1 },
		{ "9223372036854775807", "9223372036854775808.0", 0 },
		{ "1e300", "1e300", 1 },
		{ "0.1", "0.10000000000000001", 1 },
	};
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(pairs) / sizeof(*pairs); i++) {
		json_t *a = parse(pairs[i].a), *b = parse(pairs[i].b);
		json_t *c = json_pack("{s:O}", "const", a);
		json_t *e = json_pack("{s:[]}", "enum");
		json_t *u = json_pack("{s:b}", "uniqueItems", 1);
		json_t *both = json_pack("[O, O]", a, b);

		for (k = 0; k < 40; k++)
			json_array_append_new(json_object_get(e, "enum"),
					      json_pack("{s:I}", "pad",
							(json_int_t)k));
		json_array_append(json_object_get(e, "enum"), a);
		if (schema_is_valid(c, b) != pairs[i].equal ||
		    schema_is_valid(e, b) != pairs[i].equal ||
		    schema_is_valid(u, both) == pairs[i].equal)
			fail_msg("%s and %s: equal should be %d", pairs[i].a,
				 pairs[i].b, pairs[i].equal);
		json_decref(both);
		json_decref(u);
		json_decref(e);
		json_decref(c);
		json_decref(b);
		json_decref(a);
	}
}

#define MANY_REFS 20000
#define MANY_PATTERNS 500

/*
 * 20,000 "$id"s and "$ref"s in one schema (issue: each lookup walked a
 * list of all of them): every "$ref" "#dN" finds the "$id" of its own
 * definition.
 */
static void test_schema_many_ids_and_refs(void **state)
{
	json_t *defs = json_object(), *props = json_object();
	json_t *inst = json_object();
	json_t *schema, *errors;
	char name[32], uri[32];
	size_t i;

	(void)state;
	for (i = 0; i < MANY_REFS; i++) {
		snprintf(name, sizeof(name), "p%zu", i);
		snprintf(uri, sizeof(uri), "#d%zu", i);
		json_object_set_new(defs, uri + 1,
				    json_pack("{s:s, s:I}", "$id", uri,
					      "const", (json_int_t)i));
		json_object_set_new(props, name,
				    json_pack("{s:s}", "$ref", uri));
		json_object_set_new(inst, name, json_integer((json_int_t)i));
	}
	schema = json_pack("{s:o, s:o}", "definitions", defs, "properties",
			   props);
	assert_int_equal(count_new(schema_validate(schema, inst, 0)), 0);

	json_object_set_new(inst, "p12345", json_integer(12346));
	errors = schema_validate(schema, inst, 0);
	assert_int_equal(json_array_size(errors), 1);
	assert_error(errors, 0, "/p12345", "const", "value must be 12345");
	json_decref(errors);
	json_decref(inst);
	json_decref(schema);
}

/*
 * 500 patterns, each compiled once and kept by the address of its
 * text: every member "qN" meets the pattern "^qN$" and no other.
 */
static void test_schema_many_patterns(void **state)
{
	json_t *pats = json_object(), *inst = json_object();
	json_t *schema, *errors;
	char name[32], pat[32];
	size_t i;

	(void)state;
	for (i = 0; i < MANY_PATTERNS; i++) {
		snprintf(name, sizeof(name), "q%zu", i);
		snprintf(pat, sizeof(pat), "^q%zu$", i);
		json_object_set_new(pats, pat, json_pack("{s:I}", "const",
							  (json_int_t)i));
		json_object_set_new(inst, name, json_integer((json_int_t)i));
	}
	schema = json_pack("{s:o, s:b}", "patternProperties", pats,
			   "additionalProperties", 0);
	assert_int_equal(count_new(schema_validate(schema, inst, 0)), 0);

	json_object_set_new(inst, "q77", json_integer(0));
	json_object_set_new(inst, "q", json_integer(0));
	errors = schema_validate(schema, inst, 0);
	assert_int_equal(json_array_size(errors), 2);
	assert_error(errors, 0, "/q77", "const", "value must be 77");
	assert_error(errors, 1, "", "additionalProperties",
		     "unknown property 'q'");
	json_decref(errors);
	json_decref(inst);
	json_decref(schema);
}

/*
 * Torture: fail each allocation of one validation in turn (as
 * test_envelope.c does for a whole call).  The schema uses every cache
 * of the validator: "$id" and "$ref", an enum set, uniqueItems, compiled
 * patterns, and errors with messages.
 */
static const char torture_schema[] =
	"{\"$id\": \"http://example.com/t.json\","
	" \"definitions\": {\"n\": {\"$id\": \"#n\", \"type\": \"integer\"}},"
	" \"properties\": {"
	"  \"a\": {\"$ref\": \"#n\"},"
	"  \"b\": {\"$ref\": \"#/definitions/n\"},"
	"  \"c\": {\"enum\": [1, \"x\", {\"k\": [2]}]},"
	"  \"d\": {\"uniqueItems\": true},"
	"  \"e\": {\"pattern\": \"^[a-z]+$\"}},"
	" \"patternProperties\": {\"^x-\": {\"type\": \"string\"}},"
	" \"propertyNames\": {\"maxLength\": 8},"
	" \"required\": [\"a\", \"z\"]}";
static const char torture_inst[] =
	"{\"a\": 1.5, \"b\": 2, \"c\": {\"k\": [2.0]},"
	" \"d\": [1, [2], {\"p\": 1, \"q\": 2}, {\"q\": 2.0, \"p\": 1}],"
	" \"e\": \"ABC\", \"x-y\": 3, \"too-long-name\": 0}";
/* The errors: a, d, e, x-y, the long name and the missing z. */
#define TORTURE_ERRORS 6

/* Which allocation the child fails, counting from 0. */
static int torture_target;
/* Set in the child: allocations seen, and whether the hook fired. */
static int torture_seen;
static int torture_fired;

/* The xalloc hook: fail allocation number 'torture_target'. */
static int torture_hook(void)
{
	if (torture_seen++ != torture_target)
		return 0;
	torture_fired = 1;
	return 1;
}

/*
 * The child: stdout to /dev/null, the OOM path installed, the inputs
 * parsed, then the hook and the validation.  Exit 4: the hook never
 * fired and the answer was right; 5: a wrong answer; 6: the failed
 * allocation was swallowed (the validation went on).  The OOM path
 * itself exits 3.
 */
static void torture_child(void)
{
	json_t *schema, *inst, *errors;
	int fd = open("/dev/null", O_WRONLY);

	if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
		_exit(126);
	envelope_install_oom();
	schema = json_loads(torture_schema, 0, NULL);
	inst = json_loads(torture_inst, 0, NULL);
	if (!schema || !inst)
		_exit(125);
	xalloc_set_fail_hook(torture_hook);
	errors = schema_validate(schema, inst, 0);
	if (torture_fired)
		_exit(6);
	_exit(json_array_size(errors) == TORTURE_ERRORS ? 4 : 5);
}

/*
 * Every allocation of a validation can fail, and each failure ends in
 * xalloc's handler (envelope_fatal, exit 3), PCRE2's included.
 */
static void test_schema_torture_each_allocation(void **state)
{
	json_t *s = parse(torture_schema), *i = parse(torture_inst);
	int n, status;
	pid_t pid;

	(void)state;
	/* The answer the children must reach when nothing fails. */
	assert_int_equal(count_new(schema_validate(s, i, 0)),
			 TORTURE_ERRORS);
	json_decref(s);
	json_decref(i);
	for (n = 0; n < 100000; n++) {
		torture_target = n;
		fflush(NULL);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			torture_child();
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFEXITED(status))
			fail_msg("allocation %d: killed by signal %d", n,
				 WTERMSIG(status));
		if (WEXITSTATUS(status) == 4)
			break;
		if (WEXITSTATUS(status) != 3)
			fail_msg("allocation %d: exit %d", n,
				 WEXITSTATUS(status));
	}
	printf("# torture: %d allocation points in one validation\n", n);
	assert_true(n >= 50);
}

/*
 * The official suite.  A skip entry is a case identity "<file>:
 * <group>: <test>", or a prefix of one ending at a ": " (a whole file
 * or group); 'used' notes whether it matched anything.
 */
struct skip_entry {
	char *id;
	int used;
};

struct suite {
	const char *dir;
	struct skip_entry *skips;
	size_t nr_skips;
	size_t passed, skipped, failed;
};

/*
 * Reads the skip list 'path' into 's': one entry per line, with its
 * reason after " # "; blank lines and lines starting '#' are ignored.
 */
static void load_skips(struct suite *s, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];

	if (!f)
		fail_msg("cannot open skip list %s", path);
	while (fgets(line, sizeof(line), f)) {
		char *reason;
		size_t n;

		line[strcspn(line, "\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		reason = strstr(line, " # ");
		if (!reason || !reason[3])
			fail_msg("skip entry without a reason: %s", line);
		n = (size_t)(reason - line);
		while (n && line[n - 1] == ' ')
			n--;
		s->skips = xrealloc(s->skips,
				    (s->nr_skips + 1) * sizeof(*s->skips));
		s->skips[s->nr_skips].id = xstrndup(line, n);
		s->skips[s->nr_skips].used = 0;
		s->nr_skips++;
	}
	fclose(f);
}

/* Whether the case (or file) 'id' is listed in the skip list of 's'. */
static int skipped(struct suite *s, const char *id)
{
	size_t i;

	for (i = 0; i < s->nr_skips; i++) {
		const char *e = s->skips[i].id;
		size_t n = strlen(e);

		if (!strncmp(id, e, n) &&
		    (!id[n] || !strncmp(id + n, ": ", 2))) {
			s->skips[i].used = 1;
			return 1;
		}
	}
	return 0;
}

/* Returns a NEW (malloc'd) case identity "'a': 'b': 'c'". */
static char *join_id(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + 5;
	char *id = xmalloc(n);

	snprintf(id, n, "%s: %s: %s", a, b, c);
	return id;
}

/* Counts the cases in the loaded suite file 'groups'. */
static size_t count_cases(const json_t *groups)
{
	size_t i, n = 0;

	for (i = 0; i < json_array_size(groups); i++)
		n += json_array_size(json_object_get(json_array_get(groups, i),
						     "tests"));
	return n;
}

/* Runs one case of group 'gdesc' of 'file'; counts the result in 's'. */
static void run_case(struct suite *s, const char *file, const char *gdesc,
		     const json_t *schema, const json_t *test)
{
	const char *tdesc = json_string_value(json_object_get(test,
							      "description"));
	const json_t *data = json_object_get(test, "data");
	int want = json_is_true(json_object_get(test, "valid"));
	char *id = join_id(file, gdesc, tdesc ? tdesc : "?");
	json_t *errors;
	int got;

	if (skipped(s, id)) {
		s->skipped++;
		free(id);
		return;
	}
	got = schema_is_valid(schema, data);
	errors = schema_validate(schema, data, 0);
	if (got != want) {
		printf("# FAIL %s: expected %s\n", id,
		       want ? "valid" : "invalid");
		s->failed++;
	} else if ((json_array_size(errors) == 0) != got) {
		printf("# FAIL %s: schema_validate disagrees\n", id);
		s->failed++;
	} else {
		s->passed++;
	}
	json_decref(errors);
	free(id);
}

/* Runs every case in the suite file 'file' (relative to the suite dir). */
static void run_file(struct suite *s, const char *file)
{
	size_t plen = strlen(s->dir) + strlen(file) + 2;
	char *path = xmalloc(plen);
	json_error_t err;
	json_t *groups;
	size_t g, t;

	snprintf(path, plen, "%s/%s", s->dir, file);
	groups = json_load_file(path, JSON_DECODE_ANY, &err);
	if (!groups) {
		json_t *lossy;

		if (!skipped(s, file)) {
			printf("# FAIL %s: cannot load: %s\n", file, err.text);
			s->failed++;
			free(path);
			return;
		}
		/* Count its cases for the summary, reading big ints lossily. */
		lossy = json_load_file(path, JSON_DECODE_ANY |
				       JSON_DECODE_INT_AS_REAL, &err);
		s->skipped += lossy ? count_cases(lossy) : 1;
		json_decref(lossy);
		free(path);
		return;
	}
	for (g = 0; g < json_array_size(groups); g++) {
		const json_t *group = json_array_get(groups, g);
		const char *gdesc = json_string_value(
			json_object_get(group, "description"));
		const json_t *tests = json_object_get(group, "tests");

		for (t = 0; t < json_array_size(tests); t++)
			run_case(s, file, gdesc ? gdesc : "?",
				 json_object_get(group, "schema"),
				 json_array_get(tests, t));
	}
	json_decref(groups);
	free(path);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs the *.json files directly in 'sub' ("" or "optional/"), sorted. */
static void run_dir(struct suite *s, const char *sub)
{
	size_t dlen = strlen(s->dir) + strlen(sub) + 2;
	char *dirpath = xmalloc(dlen);
	char **names = NULL;
	size_t nr = 0, i;
	struct dirent *de;
	DIR *d;

	snprintf(dirpath, dlen, "%s/%s", s->dir, sub);
	d = opendir(dirpath);
	if (!d)
		fail_msg("cannot open suite directory %s", dirpath);
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		char *name;
		struct stat st;
		char *full;

		if (n < 5 || strcmp(de->d_name + n - 5, ".json"))
			continue;
		name = xmalloc(strlen(sub) + n + 1);
		snprintf(name, strlen(sub) + n + 1, "%s%s", sub, de->d_name);
		full = xmalloc(strlen(s->dir) + strlen(name) + 2);
		snprintf(full, strlen(s->dir) + strlen(name) + 2, "%s/%s",
			 s->dir, name);
		if (stat(full, &st) || !S_ISREG(st.st_mode)) {
			free(full);
			free(name);
			continue;
		}
		free(full);
		names = xrealloc(names, (nr + 1) * sizeof(*names));
		names[nr++] = name;
	}
	closedir(d);
	qsort(names, nr, sizeof(*names), cmp_names);
	for (i = 0; i < nr; i++) {
		run_file(s, names[i]);
		free(names[i]);
	}
	free(names);
	free(dirpath);
}

static void test_schema_official_suite(void **state)
{
	const char *src = getenv("HPCLOOP_SRC");
	struct suite s;
	char *skip_path;
	size_t i, stale = 0;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.dir = getenv("JSON_SCHEMA_TEST_SUITE");
	if (!s.dir || !*s.dir)
		s.dir = SUITE_DEFAULT;
	if (src && *src) {
		size_t n = strlen(src) + sizeof(SKIP_FILE) + 1;

		skip_path = xmalloc(n);
		snprintf(skip_path, n, "%s/%s", src, SKIP_FILE);
	} else {
		skip_path = xstrdup(SKIP_FILE);
	}
	load_skips(&s, skip_path);
	free(skip_path);

	run_dir(&s, "");
	run_dir(&s, "optional/");

	for (i = 0; i < s.nr_skips; i++) {
		if (!s.skips[i].used) {
			printf("# FAIL stale skip entry: %s\n",
			       s.skips[i].id);
			stale++;
		}
		free(s.skips[i].id);
	}
	free(s.skips);
	printf("# json-schema-test-suite draft7: %zu passed, %zu skipped\n",
	       s.passed, s.skipped);
	assert_true(s.passed > 0);
	assert_int_equal(s.failed, 0);
	assert_int_equal(stale, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schema_valid_is_empty_array),
		cmocka_unit_test(test_schema_nested_error_paths),
		cmocka_unit_test(test_schema_path_escaping),
		cmocka_unit_test(test_schema_unknown_property_message),
		cmocka_unit_test(test_schema_required_message),
		cmocka_unit_test(test_schema_false_schemas_name_the_property),
		cmocka_unit_test(test_schema_max_length_counts_code_points),
		cmocka_unit_test(test_schema_pattern_unicode),
		cmocka_unit_test(test_schema_max_errors_cap),
		cmocka_unit_test(test_schema_number_equality),
		cmocka_unit_test(test_schema_type_messages),
		cmocka_unit_test(test_schema_multiple_of_floats),
		cmocka_unit_test(test_schema_ref_to_definitions),
		cmocka_unit_test(test_schema_ref_recursion_limit),
		cmocka_unit_test(test_schema_remote_ref_is_an_error),
		cmocka_unit_test(test_schema_id_based_refs),
		cmocka_unit_test(test_schema_meta_schema_ref),
		cmocka_unit_test(test_schema_combinator_messages),
		cmocka_unit_test(test_schema_unique_items_large),
		cmocka_unit_test(test_schema_enum_large),
		cmocka_unit_test(test_schema_equality_agrees),
		cmocka_unit_test(test_schema_many_ids_and_refs),
		cmocka_unit_test(test_schema_many_patterns),
		cmocka_unit_test(test_schema_torture_each_allocation),
		cmocka_unit_test(test_schema_official_suite),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
