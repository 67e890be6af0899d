/*
 * test_yaml.c: unit tests for the YAML-to-JSON reader (yaml.h): the
 * YAML 1.2 core schema, aliases, JSON input, the line table, JSON
 * pointers, and the limits on duplicate keys, depth, size and alias
 * expansion.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "buf.h"
#include "err.h"
#include "xalloc.h"
#include "yaml.h"
#include "banned.h"

/* Parse 'text' with yaml_to_json, expecting success. */
static json_t *parse_ok(const char *text)
{
	struct err err = ERR_INIT;
	json_t *v = NULL;

	if (yaml_to_json(&v, NULL, text, strlen(text), "t.yaml", &err) < 0)
		fail_msg("unexpected error: %s", err.message);
	assert_non_null(v);
	err_release(&err);
	return v;
}

/* Parse 'text', expecting config_invalid with 'needle' in the message. */
static void parse_fails(const char *text, size_t len, const char *needle)
{
	struct err err = ERR_INIT;
	json_t *v = (json_t *)1, *lines = (json_t *)1;

	assert_int_equal(yaml_to_json(&v, &lines, text, len, "t.yaml", &err),
			 -1);
	assert_null(v);
	assert_null(lines);
	assert_int_equal(err.code, ERR_CONFIG_INVALID);
	if (!strstr(err.message, needle))
		fail_msg("'%s' not in '%s'", needle, err.message);
	err_release(&err);
}

/* The line that 'lines' gives the JSON pointer 'pointer', or -1. */
static int line_of(const json_t *lines, const char *pointer)
{
	const json_t *v = json_object_get(lines, pointer);

	return json_is_integer(v) ? (int)json_integer_value(v) : -1;
}

static void test_yaml_scalars(void **state)
{
	json_t *v = parse_ok("i: 42\n"
			     "neg: -7\n"
			     "hex: 0x1F\n"
			     "oct: 0o17\n"
			     "f: 1.5\n"
			     "e: 2e3\n"
			     "dot: .5\n"
			     "t: true\n"
			     "f2: False\n"
			     "yes: yes\n"
			     "n: null\n"
			     "tilde: ~\n"
			     "empty:\n"
			     "qi: \"42\"\n"
			     "qt: 'true'\n"
			     "s: hello world\n"
			     "ver: 1.2.3\n"
			     "lit: |\n  a\n  b\n");

	(void)state;
	assert_int_equal(json_integer_value(json_object_get(v, "i")), 42);
	assert_int_equal(json_integer_value(json_object_get(v, "neg")), -7);
	assert_int_equal(json_integer_value(json_object_get(v, "hex")), 31);
	assert_int_equal(json_integer_value(json_object_get(v, "oct")), 15);
	assert_true(json_is_real(json_object_get(v, "f")));
	assert_true(json_real_value(json_object_get(v, "f")) == 1.5);
	assert_true(json_real_value(json_object_get(v, "e")) == 2000.0);
	assert_true(json_real_value(json_object_get(v, "dot")) == 0.5);
	assert_true(json_is_true(json_object_get(v, "t")));
	assert_true(json_is_false(json_object_get(v, "f2")));
	/* YAML 1.2 core: yes is a string, and so is the key */
	assert_string_equal(json_string_value(json_object_get(v, "yes")),
			    "yes");
	assert_true(json_is_null(json_object_get(v, "n")));
	assert_true(json_is_null(json_object_get(v, "tilde")));
	assert_true(json_is_null(json_object_get(v, "empty")));
	assert_string_equal(json_string_value(json_object_get(v, "qi")), "42");
	assert_string_equal(json_string_value(json_object_get(v, "qt")),
			    "true");
	assert_string_equal(json_string_value(json_object_get(v, "s")),
			    "hello world");
	assert_string_equal(json_string_value(json_object_get(v, "ver")),
			    "1.2.3");
	assert_string_equal(json_string_value(json_object_get(v, "lit")),
			    "a\nb\n");
	json_decref(v);
}

static void test_yaml_bad_scalars(void **state)
{
	(void)state;
	parse_fails("a: 99999999999999999999\n", 24, "t.yaml:1: a: integer");
	parse_fails("a:\n  b: .inf\n", 13, "t.yaml:2: a.b: infinite");
	parse_fails("a: !!binary aGk=\n", 17, "unsupported tag");
	parse_fails("a: [1\n", 6, "t.yaml:");
	parse_fails("a: 1\n---\nb: 2\n", 14, "more than one document");
	parse_fails("# nothing\n", 10, "empty configuration");
}

static void test_yaml_nested(void **state)
{
	json_t *v = parse_ok("a:\n"
			     "  b:\n"
			     "    - 1\n"
			     "    - {c: x, d: [true, ~]}\n"
			     "base: &base\n"
			     "  k: v\n"
			     "  l: [1, 2]\n"
			     "copy: *base\n");
	json_t *item;

	(void)state;
	item = json_array_get(json_object_get(json_object_get(v, "a"), "b"),
			      1);
	assert_string_equal(json_string_value(json_object_get(item, "c")),
			    "x");
	assert_true(json_is_null(json_array_get(json_object_get(item, "d"),
						1)));
	assert_true(json_equal(json_object_get(v, "base"),
			       json_object_get(v, "copy")));
	/* aliases are copies, not shared references */
	assert_ptr_not_equal(json_object_get(v, "base"),
			     json_object_get(v, "copy"));
	json_decref(v);
}

static void test_yaml_alias_limits(void **state)
{
	struct buf b = BUF_INIT;
	int i;

	(void)state;
	parse_fails("a: *nope\n", 9, "unknown anchor 'nope'");
	/* a "billion laughs" document */
	buf_adds(&b, "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
	for (i = 1; i < 9; i++)
		buf_addf(&b, "l%d: &l%d [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, "
			 "*l%d, *l%d, *l%d, *l%d]\n", i, i, i - 1, i - 1,
			 i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
			 i - 1);
	parse_fails(buf_str(&b), b.len, "expands to more than");
	buf_release(&b);
}

static void test_yaml_json_input(void **state)
{
	const char *text = "  {\"version\": 1, \"a\": {\"b\": [1, 2.5, "
			   "\"x\", null, false]}}";
	json_t *v = parse_ok(text);
	json_t *b;

	(void)state;
	b = json_object_get(json_object_get(v, "a"), "b");
	assert_int_equal(json_array_size(b), 5);
	assert_int_equal(json_integer_value(json_array_get(b, 0)), 1);
	assert_true(json_is_false(json_array_get(b, 4)));
	json_decref(v);
	parse_fails("{\n\"a\": 1,\n\"a\": 2}", 17, "t.yaml:3:");
	parse_fails("{\n\"a\": [1,\n}", 12, "cannot parse json");
	/* a YAML flow mapping that is not JSON still reads */
	v = parse_ok("{a: 1}");
	assert_int_equal(json_integer_value(json_object_get(v, "a")), 1);
	json_decref(v);
}

static void test_yaml_duplicate_key(void **state)
{
	(void)state;
	parse_fails("a:\n  b: 1\n  b: 2\n", 17, "t.yaml:3: a.b: duplicate key");
	parse_fails("{\"a\": 1, \"a\": 2}", 16, "duplicate");
}

static void test_yaml_depth_limit(void **state)
{
	struct buf b = BUF_INIT;
	json_t *v;
	char *big;
	int i;

	(void)state;
	for (i = 0; i < YAML_MAX_DEPTH; i++)
		buf_adds(&b, "[");
	for (i = 0; i < YAML_MAX_DEPTH; i++)
		buf_adds(&b, "]");
	v = parse_ok(buf_str(&b));
	json_decref(v);
	buf_release(&b);
	for (i = 0; i <= YAML_MAX_DEPTH; i++)
		buf_adds(&b, "[");
	for (i = 0; i <= YAML_MAX_DEPTH; i++)
		buf_adds(&b, "]");
	parse_fails(buf_str(&b), b.len, "nested deeper than 64");
	buf_release(&b);
	/* the same in JSON */
	for (i = 0; i <= YAML_MAX_DEPTH; i++)
		buf_adds(&b, "{\"a\":");
	buf_adds(&b, "1");
	for (i = 0; i <= YAML_MAX_DEPTH; i++)
		buf_adds(&b, "}");
	parse_fails(buf_str(&b), b.len, "nested deeper than 64");
	buf_release(&b);
	/* an alias may not carry a document past the limit either */
	buf_adds(&b, "deep: &d ");
	for (i = 0; i < 60; i++)
		buf_adds(&b, "[");
	for (i = 0; i < 60; i++)
		buf_adds(&b, "]");
	buf_adds(&b, "\nx: [[[[[*d]]]]]\n");
	parse_fails(buf_str(&b), b.len, "nested deeper than 64");
	buf_release(&b);
	/* and nothing larger than 1 MiB is read */
	big = xmalloc(YAML_MAX_SIZE + 2);
	memset(big, '#', YAML_MAX_SIZE + 1);
	big[YAML_MAX_SIZE + 1] = '\0';
	parse_fails(big, YAML_MAX_SIZE + 1, "larger than");
	free(big);
}

static void test_yaml_lines(void **state)
{
	static const char yaml[] = "a: 1\n"
				   "b:\n"
				   "  c/d: x\n"
				   "  e~f:\n"
				   "    - 1\n"
				   "    - {g: 2}\n";
	static const char json[] = "{\"a\": 1,\n"
				   " \"b\": {\"c/d\": \"x\",\n"
				   "   \"e~f\": [1,\n"
				   "     {\"g\": 2}]}}\n";
	struct err err = ERR_INIT;
	json_t *v = NULL, *lines = NULL;

	(void)state;
	assert_int_equal(yaml_to_json(&v, &lines, yaml, strlen(yaml),
				      "t.yaml", &err), 0);
	assert_int_equal(line_of(lines, "/a"), 1);
	assert_int_equal(line_of(lines, "/b"), 2);
	assert_int_equal(line_of(lines, "/b/c~1d"), 3);
	assert_int_equal(line_of(lines, "/b/e~0f"), 4);
	assert_int_equal(line_of(lines, "/b/e~0f/0"), 5);
	assert_int_equal(line_of(lines, "/b/e~0f/1/g"), 6);
	json_decref(v);
	json_decref(lines);
	/* JSON input keeps its lines too */
	assert_int_equal(yaml_to_json(&v, &lines, json, strlen(json),
				      "t.json", &err), 0);
	assert_int_equal(line_of(lines, "/b/c~1d"), 2);
	assert_int_equal(line_of(lines, "/b/e~0f/1/g"), 4);
	json_decref(v);
	json_decref(lines);
	err_release(&err);
}

static void test_yaml_pointer_round_trip(void **state)
{
	static const char *const keys[] = { "plain", "a/b", "~x", "~1/~0",
					    "", NULL };
	struct buf p = BUF_INIT, seg = BUF_INIT;
	const char *at;
	size_t i;

	(void)state;
	for (i = 0; keys[i]; i++)
		yaml_pointer_add(&p, keys[i]);
	assert_string_equal(buf_str(&p), "/plain/a~1b/~0x/~01~1~00/");
	at = buf_str(&p);
	for (i = 0; keys[i]; i++) {
		assert_int_equal(*at, '/');
		at = yaml_pointer_next(at, &seg);
		assert_string_equal(buf_str(&seg), keys[i]);
	}
	assert_int_equal(*at, '\0');
	buf_release(&p);
	buf_release(&seg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yaml_scalars),
		cmocka_unit_test(test_yaml_bad_scalars),
		cmocka_unit_test(test_yaml_nested),
		cmocka_unit_test(test_yaml_alias_limits),
		cmocka_unit_test(test_yaml_json_input),
		cmocka_unit_test(test_yaml_duplicate_key),
		cmocka_unit_test(test_yaml_depth_limit),
		cmocka_unit_test(test_yaml_lines),
		cmocka_unit_test(test_yaml_pointer_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
