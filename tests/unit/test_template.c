/*
 * test_template.c: unit tests for the template renderer (template.h):
 * variables, dotted names, sections over arrays, objects and scalars,
 * inverted sections, nesting, comments, standalone tag lines, the
 * errors (unknown variable, unbalanced sections, bad tags, depth and
 * output limits) and the templates shipped in templates/.
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
#include "template.h"
#include "banned.h"

/* ---------------------------------------------------------------- */
/* Helpers                                                          */
/* ---------------------------------------------------------------- */

/* Parse the JSON text 'text', failing the test when it is invalid. */
static json_t *vars_of(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, 0, &jerr);

	if (!v)
		fail_msg("bad test JSON: %s", jerr.text);
	return v;
}

/* Render 'tmpl' with the JSON text 'vars' and compare with 'want'. */
static void expect_render(const char *tmpl, const char *vars,
			  const char *want)
{
	struct err err = ERR_INIT;
	json_t *v = vars_of(vars);
	char *out = NULL;

	if (template_render(&out, tmpl, v, "t", &err) < 0)
		fail_msg("unexpected error: %s", err.message);
	assert_string_equal(out, want);
	free(out);
	json_decref(v);
	err_release(&err);
}

/*
 * Render 'tmpl' with the JSON text 'vars', expecting ERR_INTERNAL with
 * 'needle' in the message and no output.
 */
static void expect_error(const char *tmpl, const char *vars,
			 const char *needle)
{
	struct err err = ERR_INIT;
	json_t *v = vars_of(vars);
	char *out = (char *)1;

	assert_int_equal(template_render(&out, tmpl, v, "t", &err), -1);
	assert_null(out);
	assert_int_equal(err.code, ERR_INTERNAL);
	if (!strstr(err.message, needle))
		fail_msg("'%s' not in '%s'", needle, err.message);
	json_decref(v);
	err_release(&err);
}

/* ---------------------------------------------------------------- */
/* Variables                                                        */
/* ---------------------------------------------------------------- */

static void test_template_variables(void **state)
{
	(void)state;
	expect_render("", "{}", "");
	expect_render("plain text", "{}", "plain text");
	expect_render("a {{x}} b", "{\"x\": \"X\"}", "a X b");
	expect_render("{{ x }}{{x}}", "{\"x\": \"1\"}", "11");
	expect_render("{{n}} {{m}}", "{\"n\": 42, \"m\": -7}", "42 -7");
	expect_render("{{r}} {{s}}", "{\"r\": 0.1, \"s\": 2.5e-7}",
		      "0.1 2.5e-07");
	expect_render("{{t}}/{{f}}/[{{z}}]",
		      "{\"t\": true, \"f\": false, \"z\": null}",
		      "true/false/[]");
	/* No HTML escaping, and text that looks like shell stays as is. */
	expect_render("{{x}}", "{\"x\": \"<a href='$(id)'>&\\\"</a>\"}",
		      "<a href='$(id)'>&\"</a>");
	/* A single brace is text. */
	expect_render("${x} {x} } {{x}}", "{\"x\": \"v\"}", "${x} {x} } v");
}

static void test_template_dotted_names(void **state)
{
	(void)state;
	expect_render("{{a.b.c}}", "{\"a\": {\"b\": {\"c\": \"deep\"}}}",
		      "deep");
	expect_render("{{#o}}{{a.b}}{{/o}}",
		      "{\"a\": {\"b\": \"outer\"}, \"o\": {\"x\": 1}}", "outer");
	/* The first part chooses the context; the rest must be in it. */
	expect_error("{{#o}}{{a.b}}{{/o}}",
		     "{\"a\": {\"b\": \"outer\"}, \"o\": {\"a\": {}}}",
		     "unknown variable 'a.b'");
	expect_error("{{a.b}}", "{\"a\": \"string\"}",
		     "unknown variable 'a.b'");
}

static void test_template_unknown_variable(void **state)
{
	struct err err = ERR_INIT;
	json_t *v = vars_of("{\"x\": 1}");
	char *out = (char *)1;

	(void)state;
	assert_int_equal(template_render(&out, "line 1\n\nat {{y}}\n", v,
					 "templates/job.sh", &err), -1);
	assert_null(out);
	assert_int_equal(err.code, ERR_INTERNAL);
	assert_string_equal(err.message,
			    "template 'templates/job.sh': unknown variable "
			    "'y' on line 3");
	json_decref(v);
	err_release(&err);

	/* Objects and arrays are not scalars. */
	expect_error("{{o}}", "{\"o\": {}}", "variable 'o' is an object");
	expect_error("{{a}}", "{\"a\": []}", "variable 'a' is an array");
	/* An unknown name inside a skipped section is never looked up. */
	expect_render("{{#no}}{{nothing}}{{/no}}ok", "{}", "ok");
}

/* ---------------------------------------------------------------- */
/* Sections                                                         */
/* ---------------------------------------------------------------- */

static void test_template_section_arrays(void **state)
{
	(void)state;
	expect_render("{{#a}}[{{.}}]{{/a}}", "{\"a\": [1, \"two\", 3.5]}",
		      "[1][two][3.5]");
	expect_render("{{#a}}{{n}}={{v}};{{/a}}",
		      "{\"a\": [{\"n\": \"x\", \"v\": 1}, "
		      "{\"n\": \"y\", \"v\": 2}]}",
		      "x=1;y=2;");
	/* Names not in the item come from outer contexts. */
	expect_render("{{#a}}{{p}}{{n}} {{/a}}",
		      "{\"p\": \"-\", \"a\": [{\"n\": 1}, {\"n\": 2}]}",
		      "-1 -2 ");
	expect_render("<{{#a}}x{{/a}}>", "{\"a\": []}", "<>");
}

static void test_template_section_objects(void **state)
{
	(void)state;
	expect_render("{{#o}}{{a}}-{{b}}{{/o}}",
		      "{\"o\": {\"a\": 1, \"b\": 2}}", "1-2");
	expect_error("{{#o}}{{.}}{{/o}}", "{\"o\": {\"a\": 1}}",
		     "variable '.' is an object");
}

static void test_template_section_booleans(void **state)
{
	(void)state;
	expect_render("{{#t}}yes{{/t}}", "{\"t\": true}", "yes");
	expect_render("{{#t}}yes{{/t}}", "{\"t\": false}", "");
	expect_render("{{#t}}yes{{/t}}", "{\"t\": null}", "");
	expect_render("{{#t}}yes{{/t}}", "{}", "");
	expect_render("{{#t}}yes{{/t}}", "{\"t\": \"\"}", "");
	expect_render("{{#t}}<{{t}}>{{/t}}", "{\"t\": \"s\"}", "<s>");
	expect_render("{{#t}}yes{{/t}}", "{\"t\": 0}", "");
	expect_render("{{#t}}yes{{/t}}", "{\"t\": 3}", "yes");
	expect_render("{{#t}}yes{{/t}}", "{\"t\": 0.0}", "");
	expect_render("{{#t}}yes{{/t}}", "{\"t\": 0.5}", "yes");
}

static void test_template_inverted(void **state)
{
	(void)state;
	expect_render("{{^t}}no{{/t}}", "{\"t\": false}", "no");
	expect_render("{{^t}}no{{/t}}", "{}", "no");
	expect_render("{{^t}}no{{/t}}", "{\"t\": []}", "no");
	expect_render("{{^t}}no{{/t}}", "{\"t\": \"\"}", "no");
	expect_render("{{^t}}no{{/t}}", "{\"t\": [1]}", "");
	expect_render("{{^t}}no{{/t}}", "{\"t\": \"x\"}", "");
	expect_render("{{#c}}{{c}}{{/c}}{{^c}}default{{/c}}",
		      "{\"c\": \"\"}", "default");
	expect_render("{{#c}}{{c}}{{/c}}{{^c}}default{{/c}}",
		      "{\"c\": \"given\"}", "given");
}

static void test_template_nesting(void **state)
{
	(void)state;
	expect_render("{{#rows}}{{#cells}}{{r}}{{.}} {{/cells}}|{{/rows}}",
		      "{\"rows\": [{\"r\": \"a\", \"cells\": [1, 2]}, "
		      "{\"r\": \"b\", \"cells\": []}, "
		      "{\"r\": \"c\", \"cells\": [3]}]}",
		      "a1 a2 ||c3 |");
	expect_render("{{#a}}{{#a}}x{{/a}}{{/a}}", "{\"a\": true}", "x");
	expect_render("{{#p.list}}{{^last}}{{v}},{{/last}}{{/p.list}}",
		      "{\"p\": {\"list\": [{\"v\": 1}, {\"v\": 2, "
		      "\"last\": true}]}}",
		      "1,");
}

static void test_template_comments(void **state)
{
	(void)state;
	expect_render("a{{! a comment }}b", "{}", "ab");
	expect_render("a{{! {{x}} is not expanded }}b", "{}",
		      "a is not expanded }}b");
	expect_render("a{{!\nmulti\nline\n}}b", "{}", "ab");
}

static void test_template_standalone_lines(void **state)
{
	(void)state;
	expect_render("begin\n{{#a}}\n  item {{.}}\n{{/a}}\nend\n",
		      "{\"a\": [1, 2]}", "begin\n  item 1\n  item 2\nend\n");
	expect_render("begin\n  {{! comment }}  \nend\n", "{}",
		      "begin\nend\n");
	expect_render("{{^a}}\r\nnone\r\n{{/a}}\r\n", "{}", "none\r\n");
	/* A tag sharing its line with text or a variable is not. */
	expect_render("x {{#a}}\n{{/a}}", "{\"a\": 1}", "x \n");
	expect_render("{{v}}{{#a}}\nA\n{{/a}}\n", "{\"a\": 1, \"v\": \"V\"}",
		      "V\nA\n");
	/* The last line need not end in a newline. */
	expect_render("x\n{{#a}}\ny\n{{/a}}", "{\"a\": 1}", "x\ny\n");
	/* Variables are never standalone. */
	expect_render("a\n{{v}}\nb", "{\"v\": \"\"}", "a\n\nb");
}

/* ---------------------------------------------------------------- */
/* Errors                                                           */
/* ---------------------------------------------------------------- */

static void test_template_unbalanced(void **state)
{
	(void)state;
	expect_error("one\n{{#a}}\nthree\n", "{\"a\": true}",
		     "template 't': section 'a' is never closed on line 2");
	/* Checked even where the body is skipped. */
	expect_error("{{#a}}\n{{#b}}\n{{/a}}\n", "{}",
		     "'{{/a}}' does not close section 'b' (line 2) on line 3");
	expect_error("x\n{{/a}}", "{}", "'{{/a}}' closes no section on line 2");
	expect_error("x\n\n{{a", "{}", "'{{' is never closed on line 3");
}

static void test_template_bad_tags(void **state)
{
	(void)state;
	expect_error("{{{x}}}", "{\"x\": 1}", "unsupported tag '{{{'");
	expect_error("{{&x}}", "{\"x\": 1}", "unsupported tag '{{&'");
	expect_error("{{> partial}}", "{}", "unsupported tag '{{>'");
	expect_error("{{=<% %>=}}", "{}", "unsupported tag '{{='");
	expect_error("{{}}", "{}", "invalid tag name ''");
	expect_error("{{a b}}", "{}", "invalid tag name 'a b'");
	expect_error("{{a..b}}", "{}", "invalid tag name 'a..b'");
	expect_error("{{.a}}", "{}", "invalid tag name '.a'");
	expect_error("{{#}}{{/}}", "{}", "invalid tag name ''");
}

static void test_template_depth_limit(void **state)
{
	struct buf t = BUF_INIT;
	int i;

	(void)state;
	buf_init(&t, 0);
	for (i = 0; i <= TEMPLATE_DEPTH_MAX; i++)
		assert_int_equal(buf_adds(&t, "{{#a}}"), 0);
	for (i = 0; i <= TEMPLATE_DEPTH_MAX; i++)
		assert_int_equal(buf_adds(&t, "{{/a}}"), 0);
	expect_error(buf_str(&t), "{\"a\": [{\"a\": true}]}",
		     "sections nested deeper than 64");
	buf_release(&t);
}

static void test_template_output_limit(void **state)
{
	struct err err = ERR_INIT;
	size_t mib = 1024 * 1024;
	char *big = malloc(mib + 1);
	json_t *v = json_object();
	json_t *items = json_array();
	char *out = (char *)1;
	int i;

	(void)state;
	assert_non_null(big);
	memset(big, 'x', mib);
	big[mib] = '\0';
	json_object_set_new(v, "big", json_string(big));
	for (i = 0; i < 17; i++)
		json_array_append_new(items, json_true());
	json_object_set_new(v, "items", items);

	/* 15 MiB fits under the limit... */
	json_array_remove(items, 0);
	json_array_remove(items, 0);
	assert_int_equal(template_render(&out, "{{#items}}{{big}}{{/items}}",
					 v, "t", &err), 0);
	assert_int_equal(strlen(out), 15 * mib);
	free(out);

	/* ...17 MiB does not. */
	json_array_append_new(items, json_true());
	json_array_append_new(items, json_true());
	assert_int_equal(template_render(&out, "{{#items}}{{big}}{{/items}}",
					 v, "t", &err), -1);
	assert_null(out);
	assert_int_equal(err.code, ERR_INTERNAL);
	assert_string_equal(err.message,
			    "template 't': output exceeds 16777216 bytes");
	err_release(&err);
	json_decref(v);
	free(big);
}

static void test_template_vars_not_object(void **state)
{
	struct err err = ERR_INIT;
	json_t *v = json_array();
	char *out = (char *)1;

	(void)state;
	assert_int_equal(template_render(&out, "x", v, NULL, &err), -1);
	assert_null(out);
	assert_string_equal(err.message,
			    "template 'template': variables are not an object");
	json_decref(v);
	err_release(&err);
}

/* ---------------------------------------------------------------- */
/* The shipped templates                                            */
/* ---------------------------------------------------------------- */

/* Read the file 'name' under $HPCLOOP_SRC (or "."); a new string. */
static char *read_source(const char *name)
{
	const char *src = getenv("HPCLOOP_SRC");
	struct buf b = BUF_INIT;
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", src ? src : ".", name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (set HPCLOOP_SRC)", path);
	buf_init(&b, 0);
	assert_int_equal(buf_read_file(&b, f), 0);
	fclose(f);
	return buf_detach(&b, NULL);
}

/*
 * Every prompt renders with the documented variables (an empty context
 * included), keeps the idea as raw text, and starts with its
 * machine-readable step marker.
 */
static void test_template_shipped_prompts(void **state)
{
	static const char *const names[][2] = {
		{ "research", "<!-- hpcloop-step: research -->\n" },
		{ "red-team", "<!-- hpcloop-step: red_team round=2 -->\n" },
		{ "fix", "<!-- hpcloop-step: fix round=2 -->\n" },
		{ "report", "<!-- hpcloop-step: report -->\n" },
		{ "summarize", "<!-- hpcloop-step: summarize -->\n" },
	};
	const char *contexts[] = { "", "Use GPU 0." };
	size_t i, c;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[64];
		char *tmpl;

		snprintf(path, sizeof(path), "templates/prompt-%s.md",
			 names[i][0]);
		tmpl = read_source(path);
		for (c = 0; c < 2; c++) {
			struct err err = ERR_INIT;
			json_t *v = json_pack("{s:s, s:s, s:s, s:i, s:i, s:s}",
					      "idea", "Try `x` $(y) {{z}}",
					      "study", "demo", "sprint_id",
					      "sp-1a2b3c", "round", 2,
					      "max_rounds", 3, "context",
					      contexts[c]);
			char *out = NULL;

			if (template_render(&out, tmpl, v, path, &err) < 0)
				fail_msg("%s: %s", path, err.message);
			if (strncmp(out, names[i][1], strlen(names[i][1])))
				fail_msg("%s starts with '%.60s'", path, out);
			if (i == 0 && !strstr(out, "Try `x` $(y) {{z}}"))
				fail_msg("%s lost the idea", path);
			free(out);
			json_decref(v);
			err_release(&err);
		}
		free(tmpl);
	}
}

/* The job script renders with a full set of variables. */
static void test_template_shipped_job_script(void **state)
{
	static const char vars[] =
		"{\"sprint_id\": \"sp-1a2b3c\", \"study\": \"demo\","
		" \"header_lines\": [{\"line\": \"#SBATCH --mem=4G\"}],"
		" \"sprint_dir_b64\": \"L3RtcC94\", \"idea_b64\": \"aWRlYQ==\","
		" \"agent_argv\": [{\"b64\": \"Y2xhdWRl\"}],"
		" \"env\": [{\"name\": \"A\", \"value_b64\": \"Yg==\"}],"
		" \"context_b64\": \"\","
		" \"prompts\": {\"research_b64\": \"cg==\","
		" \"report_b64\": \"cg==\", \"summarize_b64\": \"cg==\","
		" \"red_team\": [{\"round\": 1, \"b64\": \"cg==\"}],"
		" \"fix\": [{\"round\": 1, \"b64\": \"cg==\"}]},"
		" \"red_team_max_rounds\": 1, \"heartbeat_interval_s\": 60,"
		" \"watchdog_grace_s\": 60, \"step_timeout_s\": 0,"
		" \"time_limit_s\": 3600,"
		" \"orchestrator_url_b64\": \"\","
		" \"executor_argv\": [{\"b64\": \"eA==\"}],"
		" \"params\": [{\"name\": \"HPCLOOP_PARAM_X\","
		" \"b64\": \"MQ==\"}], \"metric_name_b64\": \"bQ==\"}";
	struct err err = ERR_INIT;
	char *tmpl = read_source("templates/job.sh");
	json_t *v = vars_of(vars);
	char *out = NULL;

	(void)state;
	if (template_render(&out, tmpl, v, "templates/job.sh", &err) < 0)
		fail_msg("%s", err.message);
	assert_int_equal(strncmp(out, "#!/usr/bin/env bash\n"
				 "#SBATCH --mem=4G\n", 37), 0);
	assert_null(strstr(out, "{{"));
	assert_non_null(strstr(out, "'sp-1a2b3c'"));
	assert_non_null(strstr(out, "executor_add 'eA=='"));
	assert_non_null(strstr(out, "param_add 'HPCLOOP_PARAM_X' 'MQ=='"));
	assert_non_null(strstr(out, "METRIC_NAME 'bQ=='"));
	free(out);
	free(tmpl);
	json_decref(v);
	err_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template_variables),
		cmocka_unit_test(test_template_dotted_names),
		cmocka_unit_test(test_template_unknown_variable),
		cmocka_unit_test(test_template_section_arrays),
		cmocka_unit_test(test_template_section_objects),
		cmocka_unit_test(test_template_section_booleans),
		cmocka_unit_test(test_template_inverted),
		cmocka_unit_test(test_template_nesting),
		cmocka_unit_test(test_template_comments),
		cmocka_unit_test(test_template_standalone_lines),
		cmocka_unit_test(test_template_unbalanced),
		cmocka_unit_test(test_template_bad_tags),
		cmocka_unit_test(test_template_depth_limit),
		cmocka_unit_test(test_template_output_limit),
		cmocka_unit_test(test_template_vars_not_object),
		cmocka_unit_test(test_template_shipped_prompts),
		cmocka_unit_test(test_template_shipped_job_script),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
