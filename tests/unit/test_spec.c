/*
 * test_spec.c: unit tests for spec input (spec.h, DESIGN §1): a spec is
 * one JSON object in valid UTF-8, without duplicate keys, NUL bytes or
 * more than SPEC_MAX_BYTES, read from the command line, a file or
 * stdin (none at all means {}); parse errors are lower-case messages
 * with a line and column; the embedded input schemas are found by name
 * and an unknown property is spec_invalid with every problem listed in
 * details.errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "err.h"
#include "spec.h"
#include "banned.h"

/* The scratch directory of the whole run, made by group_setup(). */
static char tmpdir[] = "/tmp/test_spec.XXXXXX";

/* The path of 'name' inside tmpdir, in 'out' of 'size' bytes. */
static void tmp_path(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", tmpdir, name);
}

/* Write 'len' bytes of 'text' to tmpdir/'name'. */
static void write_file(const char *name, const char *text, size_t len)
{
	char path[512];
	FILE *f;

	tmp_path(path, sizeof(path), name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/*
 * spec_parse 'len' bytes of 'text' and expect spec_invalid with
 * 'needle' in the message and no object.
 */
static void parse_fails(const char *text, size_t len, const char *needle)
{
	struct err err = ERR_INIT;
	json_t *v = (json_t *)&err;

	assert_int_equal(spec_parse(&v, text, len, "test", &err), -1);
	assert_null(v);
	assert_int_equal(err.code, ERR_SPEC_INVALID);
	if (!strstr(err.message, needle))
		fail_msg("'%s' not in '%s'", needle, err.message);
	/* Messages start in lower case and have no final full stop. */
	assert_false(err.message[0] >= 'A' && err.message[0] <= 'Z');
	assert_int_not_equal(err.message[strlen(err.message) - 1], '.');
	err_release(&err);
}

/* spec_read 'arg' and expect an object equal to the JSON 'want'. */
static void read_gives(const char *arg, const char *want)
{
	struct err err = ERR_INIT;
	json_t *v = NULL, *w = json_loads(want, 0, NULL);

	assert_non_null(w);
	if (spec_read(&v, arg, &err) < 0)
		fail_msg("spec_read: %s", err.message);
	assert_true(json_is_object(v));
	assert_true(json_equal(v, w));
	json_decref(v);
	json_decref(w);
}

/* A JSON object parses; its members are all there. */
static void test_spec_parse_object(void **state)
{
	static const char text[] = "{\"since\": 3, \"type\": \"a\"}";
	struct err err = ERR_INIT;
	json_t *v = NULL;

	(void)state;
	assert_int_equal(spec_parse(&v, text, strlen(text), "test", &err), 0);
	assert_true(json_is_object(v));
	assert_int_equal(json_integer_value(json_object_get(v, "since")), 3);
	assert_string_equal(json_string_value(json_object_get(v, "type")),
			    "a");
	assert_int_equal(err.code, ERR_NONE);
	json_decref(v);
}

/* Arrays and scalars are not specs. */
static void test_spec_parse_not_object(void **state)
{
	(void)state;
	parse_fails("[1, 2]", 6, "must be a JSON object");
	parse_fails("[]", 2, "object");
	parse_fails("42", 2, "test");
	parse_fails("\"s\"", 3, "test");
	parse_fails("", 0, "test");
}

/*
 * Invalid JSON gives a lower-case message naming the origin, the line
 * and the column, and the position in details.
 */
static void test_spec_parse_invalid_json(void **state)
{
	static const char text[] = "{\n  \"a\": 1,\n  \"b\": }";
	struct err err = ERR_INIT;
	json_t *v = (json_t *)&err;
	const char *after;

	(void)state;
	assert_int_equal(spec_parse(&v, text, strlen(text), "'x.json'",
				    &err),
			 -1);
	assert_null(v);
	assert_int_equal(err.code, ERR_SPEC_INVALID);
	assert_non_null(strstr(err.message, "'x.json'"));
	assert_non_null(strstr(err.message, "line 3"));
	assert_non_null(strstr(err.message, "column 8"));
	after = strstr(err.message, "not valid JSON: ");
	assert_non_null(after);
	after += strlen("not valid JSON: ");
	assert_true(after[0] >= 'a' && after[0] <= 'z');
	assert_true(err.message[0] >= 'a' && err.message[0] <= 'z');
	assert_int_not_equal(err.message[strlen(err.message) - 1], '.');
	assert_int_equal(json_integer_value(json_object_get(err.details,
							    "line")),
			 3);
	assert_int_equal(json_integer_value(json_object_get(err.details,
							    "column")),
			 8);
	err_release(&err);
	parse_fails("{\"a\": tru}", 10, "line 1");
	parse_fails("{\"a\": 1} x", 10, "not valid JSON");
	parse_fails("{", 1, "not valid JSON");
}

/* A key given twice is refused, at any depth. */
static void test_spec_parse_duplicate_keys(void **state)
{
	static const char top[] = "{\"a\": 1, \"a\": 2}";
	static const char deep[] = "{\"o\": {\"k\": 1, \"k\": 1}}";

	(void)state;
	parse_fails(top, strlen(top), "duplicate");
	parse_fails(deep, strlen(deep), "duplicate");
}

/* SPEC_MAX_BYTES is accepted; one byte more is not. */
static void test_spec_parse_size_limit(void **state)
{
	char *text = malloc(SPEC_MAX_BYTES + 2);
	struct err err = ERR_INIT;
	json_t *v = NULL;

	(void)state;
	assert_non_null(text);
	memset(text, ' ', SPEC_MAX_BYTES + 1);
	text[0] = '{';
	text[SPEC_MAX_BYTES - 1] = '}';
	text[SPEC_MAX_BYTES + 1] = '\0';
	assert_int_equal(spec_parse(&v, text, SPEC_MAX_BYTES, "test", &err),
			 0);
	assert_true(json_is_object(v));
	json_decref(v);
	parse_fails(text, SPEC_MAX_BYTES + 1, "larger than");
	free(text);
}

/* Bytes that are not UTF-8 are refused, in values and in keys. */
static void test_spec_parse_invalid_utf8(void **state)
{
	static const char *const bad[] = {
		"{\"a\": \"\xff\"}",		/* never valid */
		"{\"a\": \"\xc0\xaf\"}",	/* overlong '/' */
		"{\"a\": \"\xed\xa0\x80\"}",	/* a UTF-16 surrogate */
		"{\"a\": \"\xe2\x82\"}",	/* truncated sequence */
		"{\"\xfe\": 1}",		/* in a key */
	};
	static const char good[] = "{\"a\": \"caf\xc3\xa9 \xe2\x82\xac\"}";
	struct err err = ERR_INIT;
	json_t *v = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		parse_fails(bad[i], strlen(bad[i]), "not valid JSON");
	assert_int_equal(spec_parse(&v, good, strlen(good), "test", &err), 0);
	json_decref(v);
}

/* A NUL byte, raw or escaped, is refused. */
static void test_spec_parse_nul_byte(void **state)
{
	static const char raw[] = "{\"a\": \"x\0y\"}";
	static const char trailing[] = "{\"a\": 1}\0";
	static const char escaped[] = "{\"a\": \"x\\u0000y\"}";

	(void)state;
	parse_fails(raw, sizeof(raw) - 1, "NUL");
	parse_fails(trailing, sizeof(trailing) - 1, "NUL");
	parse_fails(escaped, strlen(escaped), "test");
}

/* No spec at all is the empty object. */
static void test_spec_read_null_is_empty(void **state)
{
	struct err err = ERR_INIT;
	json_t *v = NULL;

	(void)state;
	assert_int_equal(spec_read(&v, NULL, &err), 0);
	assert_true(json_is_object(v));
	assert_int_equal(json_object_size(v), 0);
	json_decref(v);
}

/* Text starting with '{' (after blanks) is the JSON itself. */
static void test_spec_read_inline(void **state)
{
	struct err err = ERR_INIT;
	json_t *v = (json_t *)&err;

	(void)state;
	read_gives("{\"since\": 5}", "{\"since\": 5}");
	read_gives(" \n\t{\"a\": [1, {\"b\": null}]}",
		   "{\"a\": [1, {\"b\": null}]}");
	assert_int_equal(spec_read(&v, "[1]", &err), -1);
	assert_null(v);
	assert_int_equal(err.code, ERR_SPEC_INVALID);
	assert_non_null(strstr(err.message, "command line"));
	err_release(&err);
	v = (json_t *)&err;
	assert_int_equal(spec_read(&v, "{\"a\": 1, \"a\": 1}", &err), -1);
	assert_null(v);
	assert_int_equal(err.code, ERR_SPEC_INVALID);
	err_release(&err);
}

/* Anything else names a file, which is read and checked the same way. */
static void test_spec_read_file(void **state)
{
	static const char text[] =
		"{\n  \"limit\": 10,\n  \"type\": \"x\"\n}\n";
	static const char bad[] = "{\"limit\": }";
	struct err err = ERR_INIT;
	json_t *v = (json_t *)&err;
	char path[512];

	(void)state;
	write_file("spec.json", text, strlen(text));
	tmp_path(path, sizeof(path), "spec.json");
	read_gives(path, "{\"limit\": 10, \"type\": \"x\"}");
	write_file("bad.json", bad, strlen(bad));
	tmp_path(path, sizeof(path), "bad.json");
	assert_int_equal(spec_read(&v, path, &err), -1);
	assert_null(v);
	assert_int_equal(err.code, ERR_SPEC_INVALID);
	assert_non_null(strstr(err.message, path));
	assert_non_null(strstr(err.message, "line 1"));
	err_release(&err);
}

/* A missing file is the caller's fault, and the message names it. */
static void test_spec_read_missing_file(void **state)
{
	struct err err = ERR_INIT;
	json_t *v = (json_t *)&err;
	char path[512];

	(void)state;
	tmp_path(path, sizeof(path), "no-such-spec.json");
	assert_int_equal(spec_read(&v, path, &err), -1);
	assert_null(v);
	assert_int_not_equal(err.code, ERR_NONE);
	assert_int_equal(err_exit_class(err.code), 1);
	if (!strstr(err.message, path))
		fail_msg("'%s' not named in '%s'", path, err.message);
	assert_true(err.message[0] >= 'a' && err.message[0] <= 'z');
	err_release(&err);
}

/* A file over SPEC_MAX_BYTES is refused. */
static void test_spec_read_file_too_large(void **state)
{
	char *text = malloc(SPEC_MAX_BYTES + 1);
	struct err err = ERR_INIT;
	json_t *v = (json_t *)&err;
	char path[512];

	(void)state;
	assert_non_null(text);
	memset(text, ' ', SPEC_MAX_BYTES + 1);
	text[0] = '{';
	text[SPEC_MAX_BYTES] = '}';
	write_file("big.json", text, SPEC_MAX_BYTES + 1);
	free(text);
	tmp_path(path, sizeof(path), "big.json");
	assert_int_equal(spec_read(&v, path, &err), -1);
	assert_null(v);
	assert_int_equal(err.code, ERR_SPEC_INVALID);
	assert_non_null(strstr(err.message, "larger than"));
	err_release(&err);
}

/* "-" reads stdin. */
static void test_spec_read_stdin(void **state)
{
	static const char text[] = "{\"subject\": \"s-1\"}";
	char path[512];

	(void)state;
	write_file("stdin.json", text, strlen(text));
	tmp_path(path, sizeof(path), "stdin.json");
	assert_non_null(freopen(path, "rb", stdin));
	read_gives("-", "{\"subject\": \"s-1\"}");
}

/* The embedded input schema of "list" is found; unknown names are not. */
static void test_spec_schema_embedded(void **state)
{
	json_t *s = spec_schema("list", "input");

	(void)state;
	assert_non_null(s);
	assert_true(json_is_object(s));
	assert_string_equal(json_string_value(json_object_get(s, "type")),
			    "object");
	assert_true(json_is_false(json_object_get(s,
						  "additionalProperties")));
	json_decref(s);
	s = spec_schema("list", "output");
	assert_true(json_is_object(s));
	json_decref(s);
	assert_null(spec_schema("no-such-primitive", "input"));
	assert_null(spec_schema("list", "bogus"));
	assert_null(spec_schema("../schemas/list", "input"));
}

/* The embedded schema is the one in the tree ($HPCLOOP_SRC). */
static void test_spec_schema_matches_tree(void **state)
{
	const char *src = getenv("HPCLOOP_SRC");
	json_t *embedded, *file;
	char path[1024];

	(void)state;
	if (!src)
		skip();
	snprintf(path, sizeof(path), "%s/schemas/events.input.json", src);
	file = json_load_file(path, 0, NULL);
	if (!file)
		fail_msg("cannot load %s", path);
	embedded = spec_schema("events", "input");
	assert_non_null(embedded);
	assert_true(json_equal(embedded, file));
	json_decref(embedded);
	json_decref(file);
}

/* A valid spec passes and leaves 'err' alone. */
static void test_spec_validate_ok(void **state)
{
	struct err err = ERR_INIT;
	json_t *v = json_pack("{s:i,s:i,s:s}", "since", 4, "limit", 10,
			      "type", "a");

	(void)state;
	assert_int_equal(spec_validate("events", "input", v, ERR_SPEC_INVALID,
				       &err),
			 0);
	assert_int_equal(err.code, ERR_NONE);
	assert_null(err.details);
	json_decref(v);
	v = json_object();
	assert_int_equal(spec_validate("list", "input", v, ERR_SPEC_INVALID,
				       &err),
			 0);
	json_decref(v);
}

/*
 * An unknown property is spec_invalid: the message names it and
 * details.errors lists each problem with path, keyword and message.
 */
static void test_spec_validate_unknown_property(void **state)
{
	struct err err = ERR_INIT;
	json_t *v = json_pack("{s:i}", "bogus", 1);
	json_t *errors, *e;

	(void)state;
	assert_int_equal(spec_validate("list", "input", v, ERR_SPEC_INVALID,
				       &err),
			 -1);
	assert_int_equal(err.code, ERR_SPEC_INVALID);
	assert_non_null(strstr(err.message, "bogus"));
	errors = json_object_get(err.details, "errors");
	assert_true(json_is_array(errors));
	assert_int_equal(json_array_size(errors), 1);
	e = json_array_get(errors, 0);
	assert_true(json_is_string(json_object_get(e, "path")));
	assert_string_equal(json_string_value(json_object_get(e, "keyword")),
			    "additionalProperties");
	assert_non_null(strstr(json_string_value(json_object_get(e,
								 "message")),
			       "bogus"));
	err_release(&err);
	json_decref(v);
}

/* Several problems are all listed; the first is in the message. */
static void test_spec_validate_lists_every_error(void **state)
{
	struct err err = ERR_INIT;
	json_t *v = json_pack("{s:i,s:i,s:s}", "since", -1, "limit", 0,
			      "typo", "a");
	json_t *errors;
	size_t i;
	int saw_since = 0, saw_limit = 0;

	(void)state;
	assert_int_equal(spec_validate("events", "input", v, ERR_SPEC_INVALID,
				       &err),
			 -1);
	assert_int_equal(err.code, ERR_SPEC_INVALID);
	errors = json_object_get(err.details, "errors");
	assert_int_equal(json_array_size(errors), 3);
	for (i = 0; i < json_array_size(errors); i++) {
		const char *p = json_string_value(
			json_object_get(json_array_get(errors, i), "path"));

		assert_non_null(p);
		saw_since |= !strcmp(p, "/since");
		saw_limit |= !strcmp(p, "/limit");
	}
	assert_true(saw_since && saw_limit);
	assert_non_null(strstr(err.message, json_string_value(json_object_get(
						    json_array_get(errors, 0),
						    "message"))));
	err_release(&err);
	json_decref(v);
}

/* An output check fails with the code the caller gives. */
static void test_spec_validate_output_code(void **state)
{
	struct err err = ERR_INIT;
	json_t *v = json_pack("{s:i}", "unexpected", 1);

	(void)state;
	assert_int_equal(spec_validate("list", "output", v, ERR_INTERNAL,
				       &err),
			 -1);
	assert_int_equal(err.code, ERR_INTERNAL);
	assert_true(json_is_array(json_object_get(err.details, "errors")));
	err_release(&err);
	assert_int_equal(spec_validate("no-such-primitive", "input", v,
				       ERR_SPEC_INVALID, &err),
			 -1);
	assert_int_not_equal(err.code, ERR_NONE);
	err_release(&err);
	json_decref(v);
}

/* Remove what the tests wrote, then tmpdir. */
static int group_teardown(void **state)
{
	static const char *const names[] = {
		"spec.json", "bad.json", "big.json", "stdin.json",
	};
	char path[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		tmp_path(path, sizeof(path), names[i]);
		unlink(path);
	}
	return rmdir(tmpdir);
}

static int group_setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_parse_object),
		cmocka_unit_test(test_spec_parse_not_object),
		cmocka_unit_test(test_spec_parse_invalid_json),
		cmocka_unit_test(test_spec_parse_duplicate_keys),
		cmocka_unit_test(test_spec_parse_size_limit),
		cmocka_unit_test(test_spec_parse_invalid_utf8),
		cmocka_unit_test(test_spec_parse_nul_byte),
		cmocka_unit_test(test_spec_read_null_is_empty),
		cmocka_unit_test(test_spec_read_inline),
		cmocka_unit_test(test_spec_read_file),
		cmocka_unit_test(test_spec_read_missing_file),
		cmocka_unit_test(test_spec_read_file_too_large),
		cmocka_unit_test(test_spec_read_stdin),
		cmocka_unit_test(test_spec_schema_embedded),
		cmocka_unit_test(test_spec_schema_matches_tree),
		cmocka_unit_test(test_spec_validate_ok),
		cmocka_unit_test(test_spec_validate_unknown_property),
		cmocka_unit_test(test_spec_validate_lists_every_error),
		cmocka_unit_test(test_spec_validate_output_code),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
