#!/bin/sh
test_description='hpcloop mcp: the registry as an MCP server, with a JSON-RPC client and with the real agent CLI'
# Issue 10 item 8.  The protocol checked line by line from the shell
# (initialize, tools/list with the input schemas, tools/call returning
# the envelope with isError, read-only unless --allow-mutations, errors
# for bad lines), then the real CLI started with --mcp-config calling
# status and, with mutations allowed, submit-flow through it.
. "$(dirname "$0")/lib.sh"

INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t5104","version":"1"}}}'
LIST='{"jsonrpc":"2.0","id":2,"method":"tools/list"}'

# answer N: line N of the server's answers, in ./answer.
answer () { sed -n "${1}p" answers >answer; }

# tool_names: the names tools/list gave, sorted, one per line.
tool_names () {
	/usr/bin/python3 -c 'import json,sys; print("\n".join(sorted(t["name"] for t in json.load(sys.stdin)["result"]["tools"])))' <answer
}

test_expect_success 'setup: a config with the stand-in agent' '
	setup_local_config &&
	hl init
'

test_expect_success 'initialize, then tools/list: the read-only primitives only, with their schemas' '
	printf "%s\n" "$INIT" "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}" "$LIST" |
		"$HPCLOOP_BIN" mcp >answers &&
	test $(wc -l <answers) = 2 &&
	answer 1 &&
	test_json_field answer result.protocolVersion 2025-06-18 &&
	test_json_field answer result.serverInfo.name hpcloop &&
	test_json_field answer result.capabilities.tools.listChanged false &&
	answer 2 && tool_names >names &&
	grep -qx status names && grep -qx events names && grep -qx digest names &&
	! grep -qx submit-flow names && ! grep -qx cancel names &&
	! grep -qx setup names && ! grep -qx init names &&
	/usr/bin/python3 -c "
import json,sys
tools = {t[\"name\"]: t for t in json.load(open(\"answer\"))[\"result\"][\"tools\"]}
want = json.load(open(sys.argv[1]))
got = tools[\"status\"][\"inputSchema\"]
assert got[\"properties\"] == want[\"properties\"], got
assert tools[\"events\"][\"annotations\"][\"readOnlyHint\"] is True
" "$SRC_DIR/schemas/status.input.json"
'

test_expect_success 'with --allow-mutations every primitive of `list` is a tool' '
	printf "%s\n" "$INIT" "$LIST" | "$HPCLOOP_BIN" mcp --allow-mutations >answers &&
	answer 2 && tool_names >names &&
	hl list && /usr/bin/python3 -c "import json; print(\"\n\".join(sorted(p[\"name\"] for p in json.load(open(\"out\"))[\"data\"][\"primitives\"])))" >expect &&
	test_cmp expect names
'

test_expect_success 'tools/call returns the envelope; a failure is isError with its error_code, and changes nothing' '
	row_counts >before &&
	printf "%s\n" "$INIT" \
		"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"status\",\"arguments\":{}}}" \
		"{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":\"events\",\"arguments\":{\"since\":\"x\"}}}" |
		"$HPCLOOP_BIN" mcp >answers &&
	answer 2 && test_json_field answer id 3 &&
	test_json_field answer result.isError false &&
	json_field answer result.content.0.text >env && test_json_field env primitive status &&
	test_json_field env ok true &&
	answer 3 && test_json_field answer result.isError true &&
	json_field answer result.content.0.text >env && test_json_field env error_code spec_invalid &&
	row_counts >after && test_cmp before after
'

test_expect_success 'a mutating tool read-only, an unknown tool or method, and bad lines are JSON-RPC errors' '
	row_counts >before &&
	long=$(head -c 1100000 /dev/zero | tr "\0" a) &&
	printf "%s\n" "$INIT" \
		"{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"submit-flow\",\"arguments\":{\"study\":\"demo\",\"idea\":\"x\"}}}" \
		"{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\",\"params\":{\"name\":\"no-such\"}}" \
		"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"prompts/list\"}" \
		"not json" "$long" \
		"{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"ping\"}" |
		"$HPCLOOP_BIN" mcp >answers &&
	answer 2 && test_json_field answer error.code -32602 &&
	grep -q "allow-mutations" answer &&
	answer 3 && test_json_field answer error.code -32602 &&
	answer 4 && test_json_field answer error.code -32601 &&
	answer 5 && test_json_field answer error.code -32700 &&
	answer 6 && test_json_field answer error.code -32600 &&
	answer 7 && test_json_field answer id 8 &&
	row_counts >after && test_cmp before after
'

test_expect_success CLAUDE 'the real CLI lists hpcloop tools through --mcp-config and calls status' '
	start_model "$SRC_DIR/tests/model/scripts/t5104.json" &&
	/usr/bin/python3 -c "
import json, os, sys
print(json.dumps({\"mcpServers\": {\"hpcloop\": {\"type\": \"stdio\", \"command\": sys.argv[1], \"args\": sys.argv[2:],
    \"env\": {\"HPCLOOP_CONFIG\": os.environ[\"HPCLOOP_CONFIG\"], \"HPCLOOP_JOURNAL\": os.environ[\"HPCLOOP_JOURNAL\"]}}}}))
" "$HPCLOOP_BIN" mcp >mcp-ro.json &&
	run_claude "mcp-status" --mcp-config "$PWD/mcp-ro.json" --strict-mcp-config \
		--allowedTools mcp__hpcloop__status &&
	model_pick tools >tools &&
	head -n 1 tools | grep -q "mcp__hpcloop__status" &&
	! head -n 1 tools | grep -q "mcp__hpcloop__submit-flow" &&
	model_pick body.messages >msgs &&
	tail -n 1 msgs | grep -q "tool_result" &&
	tail -n 1 msgs | grep -q "primitive.*status" &&
	grep -q "\"type\":\"result\"" stream.jsonl
'

test_expect_success CLAUDE 'with mutations allowed, the real CLI submits a sprint through MCP, the idea inert' '
	/usr/bin/python3 -c "
import json
c = json.load(open(\"mcp-ro.json\"))
c[\"mcpServers\"][\"hpcloop\"][\"args\"].append(\"--allow-mutations\")
print(json.dumps(c))
" >mcp-rw.json &&
	run_claude "mcp-submit" --mcp-config "$PWD/mcp-rw.json" --strict-mcp-config \
		--allowedTools mcp__hpcloop__submit-flow &&
	model_pick body.messages >msgs &&
	tail -n 1 msgs | grep -q "sprint_id" &&
	hl events --spec "{\"type\": \"sprint.created\", \"tail\": 5}" &&
	json_field out data.events.0.subject >sprint &&
	json_field out data.events.0.data.directory >dir &&
	printf "%s" "submitted through MCP; \$(touch pwned) \`id\`" >expect &&
	test_cmp expect "$(cat dir)/idea.txt" &&
	! test -e pwned && ! test -e "$TRASH_DIRECTORY/pwned" &&
	hl cancel --spec "{\"sprint_id\": \"$(cat sprint)\"}"
'

test_done
