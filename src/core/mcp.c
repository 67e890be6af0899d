/*
 * mcp.c: the registry as an MCP server on standard input and output
 * (see mcp.h).  Each line in is one JSON-RPC message; each answer is one
 * line out, flushed at once; notifications get none.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "dispatch.h"
#include "mcp.h"
#include "primitive.h"
#include "spec.h"
#include "version.h"
#include "banned.h"

#define MCP_MAX_LINE (1u << 20)
/* The newest protocol revision this server speaks, and the others. */
static const char *const versions[] = {
	"2025-06-18", "2025-03-26", "2024-11-05", "2025-11-25",
};

/* JSON-RPC's own error codes. */
enum {
	RPC_PARSE_ERROR = -32700,
	RPC_INVALID_REQUEST = -32600,
	RPC_METHOD_NOT_FOUND = -32601,
	RPC_INVALID_PARAMS = -32602,
};

struct mcp {
	const struct dispatch_opts *opts;
	int allow_mutations;
};

/* ---------------------------------------------------------------- */
/* Writing answers                                                    */
/* ---------------------------------------------------------------- */

/* Write 'msg' (stolen) as one line on stdout. */
static void send_msg(json_t *msg)
{
	char *text = json_dumps(msg, JSON_COMPACT);

	if (text) {
		fputs(text, stdout);
		fputc('\n', stdout);
		fflush(stdout);
	}
	free(text);
	json_decref(msg);
}

static void send_result(const json_t *id, json_t *result)
{
	send_msg(json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id,
			   "result", result));
}

static void send_error(const json_t *id, int code, const char *message)
{
	json_t *null = json_null();

	send_msg(json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id",
			   id ? id : null, "error", "code", code, "message",
			   message));
	json_decref(null);
}

/* ---------------------------------------------------------------- */
/* The methods                                                        */
/* ---------------------------------------------------------------- */

/* 1 when 'p' is served by this server. */
static int served(const struct mcp *m, const struct primitive *p)
{
	return m->allow_mutations || (p->flags & PRIM_READ_SAFE);
}

static json_t *initialize(const struct mcp *m, const json_t *params)
{
	const char *asked = json_string_value(
		json_object_get(params, "protocolVersion"));
	const char *version = versions[0];
	size_t i;

	for (i = 0; asked && i < sizeof(versions) / sizeof(versions[0]); i++)
		if (!strcmp(asked, versions[i]))
			version = versions[i];
	return json_pack(
		"{s:s, s:{s:{s:b}}, s:{s:s, s:s}, s:s}", "protocolVersion",
		version, "capabilities", "tools", "listChanged", 0,
		"serverInfo", "name", "hpcloop", "version", HPCLOOP_VERSION,
		"instructions",
		m->allow_mutations
			? "Every hpcloop primitive is a tool; each answers with "
			  "hpcloop's JSON envelope (ok, data, or error_code, "
			  "retry_safe, remediation)."
			: "The read-only hpcloop primitives are tools (started "
			  "without --allow-mutations); each answers with "
			  "hpcloop's JSON envelope.");
}

static json_t *tools_list(const struct mcp *m)
{
	const struct registry *r = m->opts->registry;
	json_t *tools = json_array();
	int i;

	for (i = 0; i < r->count; i++) {
		const struct primitive *p = r->entries[i];
		json_t *schema;

		if (!served(m, p))
			continue;
		schema = spec_schema(p->name, "input");
		if (!schema)
			continue;
		json_object_del(schema, "$schema");
		json_object_del(schema, "title");
		json_array_append_new(
			tools, json_pack("{s:s, s:s, s:o, s:{s:b, s:b}}", "name",
					 p->name, "description", p->summary,
					 "inputSchema", schema, "annotations",
					 "readOnlyHint",
					 !(p->flags & PRIM_MUTATES),
					 "idempotentHint",
					 !!(p->flags & PRIM_IDEMPOTENT)));
	}
	return json_pack("{s:o}", "tools", tools);
}

/* tools/call: '*result_out' or a JSON-RPC error (returns -1). */
static int tools_call(const struct mcp *m, json_t **result_out,
		      const json_t *id, const json_t *params)
{
	const char *name = json_string_value(json_object_get(params, "name"));
	const json_t *args = json_object_get(params, "arguments");
	const struct primitive *p;
	json_t *env = NULL, *empty = NULL;
	char *text;
	struct buf msg = BUF_INIT;

	*result_out = NULL;
	p = name ? registry_find(m->opts->registry, name) : NULL;
	if (!p || !served(m, p)) {
		if (!name)
			buf_adds(&msg, "tools/call needs params.name");
		else if (!p)
			buf_addf(&msg, "no tool '%s'; tools/list lists them",
				 name);
		else
			buf_addf(&msg,
				 "'%s' changes things, and this server was "
				 "started read-only; start it as `hpcloop mcp "
				 "--allow-mutations` to allow it",
				 name);
		send_error(id, RPC_INVALID_PARAMS, buf_str(&msg));
		buf_release(&msg);
		return -1;
	}
	if (!args)
		args = empty = json_object();
	dispatch_run(&env, m->opts, p->name, args, NULL);
	json_decref(empty);
	text = json_dumps(env, JSON_COMPACT);
	*result_out = json_pack(
		"{s:[{s:s, s:s}], s:b}", "content", "type", "text", "text",
		text ? text : "{}", "isError",
		!json_is_true(json_object_get(env, "ok")));
	free(text);
	json_decref(env);
	return 0;
}

/* Answer the one message 'msg'. */
static void handle(const struct mcp *m, const json_t *msg)
{
	const char *method = json_string_value(json_object_get(msg, "method"));
	const json_t *id = json_object_get(msg, "id");
	const json_t *params = json_object_get(msg, "params");
	json_t *result = NULL;

	if (!method) {
		/* A response to us (we send no requests), or junk. */
		if (id && !json_object_get(msg, "result") &&
		    !json_object_get(msg, "error"))
			send_error(id, RPC_INVALID_REQUEST,
				   "a request needs a method");
		return;
	}
	if (!id)
		return;		/* notifications/initialized and the like */
	if (!strcmp(method, "initialize"))
		result = initialize(m, params);
	else if (!strcmp(method, "ping"))
		result = json_object();
	else if (!strcmp(method, "tools/list"))
		result = tools_list(m);
	else if (!strcmp(method, "tools/call")) {
		if (tools_call(m, &result, id, params) < 0)
			return;
	} else {
		struct buf text = BUF_INIT;

		buf_addf(&text, "no method '%.100s' (this server has tools "
				"only)", method);
		send_error(id, RPC_METHOD_NOT_FOUND, buf_str(&text));
		buf_release(&text);
		return;
	}
	send_result(id, result);
}

/* ---------------------------------------------------------------- */
/* The loop                                                           */
/* ---------------------------------------------------------------- */

int mcp_main(const struct dispatch_opts *opts, int allow_mutations)
{
	struct mcp m = { opts, allow_mutations };
	struct buf line = BUF_INIT;
	int c, overlong = 0;

	buf_init(&line, MCP_MAX_LINE);
	while ((c = getchar()) != EOF) {
		json_t *msg;

		if (c != '\n') {
			if (!overlong && buf_add(&line, &(char){ (char)c }, 1) < 0)
				overlong = 1;
			continue;
		}
		if (overlong) {
			send_error(NULL, RPC_INVALID_REQUEST,
				   "message longer than 1 MiB, skipped");
		} else if (line.len) {
			msg = json_loadb(line.data, line.len, 0, NULL);
			if (!json_is_object(msg))
				send_error(NULL, RPC_PARSE_ERROR,
					   "not a JSON-RPC message (one JSON "
					   "object per line)");
			else
				handle(&m, msg);
			json_decref(msg);
		}
		buf_truncate(&line, 0);
		overlong = 0;
	}
	buf_release(&line);
	return 0;
}
