/*
 * test_agent_question.c: unit tests for asking the agent (agent_question.h): the
 * answer is the last top-level result line of the stream, never an
 * error's text; an empty answer is agent_failed; the object the
 * question wants is found in the text, fenced or not; and a real
 * command run end to end (the stand-in agent) answers, while one that
 * fails or cannot be found is agent_failed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent_question.h"
#include "banned.h"

/* Read 'stream' as agent_ask would, and judge it. */
static int parse(struct agent_answer *a, const char *stream, struct err *err)
{
	agent_answer_release(a);
	agent_read_stream(a, stream, strlen(stream));
	return agent_answer_check(a, err);
}

static void test_agent_parse_stream(void **state)
{
	const char *ok =
	    "{\"type\":\"system\",\"subtype\":\"init\"}\n"
	    "not json\n"
	    "{\"type\":\"assistant\",\"message\":{\"type\":\"result\","
	    "\"result\":\"decoy\"}}\n"
	    "{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":"
	    "false,\"result\":\"first\"}\n"
	    "{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":"
	    "false,\"result\":\"{\\\"idea\\\": \\\"x\\\"}\","
	    "\"total_cost_usd\":0.5,\"num_turns\":3}";
	const char *bad = "{\"type\":\"result\",\"subtype\":"
			  "\"error_during_execution\",\"is_error\":true,"
			  "\"result\":\"{\\\"idea\\\": \\\"an error\\\"}\","
			  "\"errors\":[\"boom\"]}\n";
	const char *empty = "{\"type\":\"result\",\"subtype\":\"success\","
			    "\"is_error\":false,\"result\":\"  \\n\"}\n";
	struct agent_answer a = AGENT_ANSWER_INIT;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(parse(&a, ok, &err), 0);
	assert_string_equal(a.text, "{\"idea\": \"x\"}");
	assert_float_equal(a.cost_usd, 0.5, 0);
	assert_int_equal(a.turns, 3);
	agent_answer_release(&a);
	/* An error's text never becomes an answer. */
	assert_int_equal(parse(&a, bad, &err), -1);
	assert_int_equal(err.code, ERR_AGENT_FAILED);
	assert_non_null(json_object_get(err.details, "error"));
	err_release(&err);
	assert_int_equal(parse(&a, empty, &err),
			 -1);
	assert_int_equal(err.code, ERR_AGENT_FAILED);
	err_release(&err);
	assert_int_equal(parse(&a, "", &err), -1);
	assert_non_null(strstr(err.message, "no result"));
	err_release(&err);
	agent_answer_release(&a);
}

static void test_agent_find_object(void **state)
{
	json_t *v;

	(void)state;
	v = agent_find_object("Sure! {not json} and ```json\n{\"a\": 1}\n```"
			      " then {\"idea\": \"go {deeper}\", \"x\": "
			      "{\"y\": 2}} trailing",
			      "idea");
	assert_non_null(v);
	assert_string_equal(json_string_value(json_object_get(v, "idea")),
			    "go {deeper}");
	json_decref(v);
	assert_null(agent_find_object("{\"a\": 1}", "idea"));
	assert_null(agent_find_object("no braces", "idea"));
	assert_null(agent_find_object("", "idea"));
}

/* The stand-in agent of the tree, run as the agent command. */
static void test_agent_question_runs_a_command(void **state)
{
	const char *src = getenv("HPCLOOP_SRC");
	struct agent_answer a = AGENT_ANSWER_INIT;
	struct err err = ERR_INIT;
	char agent[1024];
	json_t *argv, *v;

	(void)state;
	snprintf(agent, sizeof(agent), "%s/tests/agents/fake-agent",
		 src ? src : ".");
	argv = json_pack("[s,s,s,s,s]", agent, "-p", "--output-format",
			 "stream-json", "--verbose");
	if (agent_question(&a, argv, NULL, "<!-- hpcloop-step: idea -->\nwhat?\n",
		      30, &err) < 0)
		fail_msg("%s", err.message);
	v = agent_find_object(a.text, "idea");
	assert_non_null(v);
	assert_non_null(
	    strstr(json_string_value(json_object_get(v, "idea")), "fake idea"));
	json_decref(v);
	agent_answer_release(&a);
	json_decref(argv);
	/* A command that exits non-zero, and one that is not there. */
	argv = json_pack("[s]", "false");
	assert_int_equal(agent_question(&a, argv, NULL, "x", 30, &err), -1);
	assert_int_equal(err.code, ERR_AGENT_FAILED);
	err_release(&err);
	json_decref(argv);
	argv = json_pack("[s]", "/nonexistent/agent");
	assert_int_equal(agent_question(&a, argv, NULL, "x", 30, &err), -1);
	assert_int_equal(err.code, ERR_AGENT_FAILED);
	err_release(&err);
	json_decref(argv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agent_parse_stream),
		cmocka_unit_test(test_agent_find_object),
		cmocka_unit_test(test_agent_question_runs_a_command),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
