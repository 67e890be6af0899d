#!/bin/sh
test_description='setup installs the slash commands, the hook and the MCP registration; the slash commands never put user text on a command line'
# Issue 9 item 8: `hpcloop setup` (idempotent, dry_run, reports what it
# changed), the PreToolUse hook that refuses raw sbatch/qsub/scancel/qdel
# (proved with the real agent CLI when it is installed), and slash
# commands whose every spec reaches hpcloop through a quoted heredoc and
# validates against the primitive it names.
. "$(dirname "$0")/lib.sh"

# hook COMMAND [TOOL]: run the hook on a PreToolUse call of TOOL (Bash)
# with COMMAND; its exit status is the hook's.
hook () {
	/usr/bin/python3 -c 'import json,sys; print(json.dumps({"tool_name": sys.argv[2], "tool_input": {"command": sys.argv[1]}}))' \
		"$1" "${2:-Bash}" >call.json
	"$HPCLOOP_BIN" __hook-pretooluse <call.json 2>hook.err
}

test_expect_success 'dry_run reports the five commands it would create and writes nothing' '
	mkdir home &&
	HOME=$PWD/home hl setup --spec "{\"dry_run\": true}" &&
	test_json_field out data.changed 5 &&
	test_json_field out data.changes.0.action created &&
	test_json_field out data.changes.0.path "$PWD/home/.claude/commands/hpcloop-loop.md" &&
	test_json_field out idempotent false &&
	! test -e home/.claude
'

test_expect_success 'setup installs the commands; a second run changes nothing' '
	HOME=$PWD/home hl setup &&
	test_json_field out data.changed 5 &&
	for f in hpcloop-loop hpcloop-meta-analyze hpcloop-research-loop hpcloop-sprint hpcloop-status
	do
		test_cmp "$SRC_DIR/slash_commands/$f.md" home/.claude/commands/$f.md || return 1
	done &&
	HOME=$PWD/home hl setup &&
	test_json_field out data.changed 0 &&
	test_json_field out idempotent true &&
	test_json_field out data.changes.4.action unchanged
'

test_expect_success 'a command edited by hand is put back and reported updated' '
	echo local edit >>home/.claude/commands/hpcloop-sprint.md &&
	HOME=$PWD/home hl setup &&
	test_json_field out data.changed 1 &&
	test_json_field out data.changes.3.action updated &&
	test_cmp "$SRC_DIR/slash_commands/hpcloop-sprint.md" home/.claude/commands/hpcloop-sprint.md
'

test_expect_success 'the hook is merged into an existing settings.json, keeping what was there' '
	cat >home/.claude/settings.json <<-\EOF &&
	{"permissions": {"allow": ["Bash(hpcloop:*)"]},
	 "hooks": {"PreToolUse": [{"matcher": "Write", "hooks": [{"type": "command", "command": "true"}]}]}}
	EOF
	HOME=$PWD/home hl setup --spec "{\"hook\": true}" &&
	test_json_field out data.changed 1 &&
	json_field home/.claude/settings.json permissions.allow.0 >got &&
	echo "Bash(hpcloop:*)" >expect && test_cmp expect got &&
	json_field home/.claude/settings.json hooks.PreToolUse.0.matcher >got &&
	echo Write >expect && test_cmp expect got &&
	json_field home/.claude/settings.json hooks.PreToolUse.1.matcher >got &&
	echo Bash >expect && test_cmp expect got &&
	json_field home/.claude/settings.json hooks.PreToolUse.1.hooks.0.command >got &&
	echo "'"'"'$(readlink -f "$HPCLOOP_BIN")'"'"' __hook-pretooluse" >expect &&
	test_cmp expect got &&
	HOME=$PWD/home hl setup --spec "{\"hook\": true}" &&
	test_json_field out data.changed 0
'

test_expect_success 'a settings.json that is not a JSON object is refused, nothing written' '
	mkdir -p proj/.claude && echo "[1, 2" >proj/.claude/settings.json &&
	test_expect_code 1 hl setup --spec "{\"scope\": \"project\", \"project_dir\": \"proj\", \"hook\": true}" &&
	test_error out precondition_failed &&
	echo "[1, 2" >expect && test_cmp expect proj/.claude/settings.json &&
	! test -e proj/.claude/commands
'

test_expect_success 'bad specs are refused with spec_invalid or not_found' '
	test_expect_code 1 hl setup --spec "{\"scope\": \"everywhere\"}" &&
	test_error out spec_invalid &&
	test_expect_code 1 hl setup --spec "{\"hook\": \"yes\"}" &&
	test_error out spec_invalid &&
	test_expect_code 1 hl setup --spec "{\"scope\": \"project\", \"project_dir\": \"nowhere\"}" &&
	test_error out not_found &&
	HOME= test_expect_code 1 hl setup &&
	test_error out precondition_failed
'

test_expect_success 'scope project with mcp writes PROJECT/.claude and .mcp.json' '
	mkdir proj2 &&
	hl setup --spec "{\"scope\": \"project\", \"project_dir\": \"proj2\", \"mcp\": true}" &&
	test_json_field out data.claude_dir "$PWD/proj2/.claude" &&
	test_json_field out data.changed 6 &&
	test -f proj2/.claude/commands/hpcloop-research-loop.md &&
	json_field proj2/.mcp.json mcpServers.hpcloop.args.0 >got &&
	echo mcp >expect && test_cmp expect got &&
	json_field proj2/.mcp.json mcpServers.hpcloop.command >got &&
	readlink -f "$HPCLOOP_BIN" >expect && test_cmp expect got
'

test_expect_success 'the hook refuses scheduler commands however they are spelt' '
	for c in "sbatch job.sh" "cd d && \"sbatch\" job.sh" "/usr/bin/qsub -terse j.sh" \
		"s\\batch job.sh" "echo 12 | xargs scancel" "x=\$(qdel 7)" \
		"ssh hpc sbatch j.sh" "true;sbatch j"
	do
		hook "$c"; rc=$?
		if [ $rc != 2 ]; then echo "not refused ($rc): $c"; return 1; fi
	done &&
	hook "sbatch j.sh" ; grep -q "Use \`hpcloop submit-flow\` instead" hook.err &&
	hook "scancel 12" ; grep -q "Use \`hpcloop cancel\` instead" hook.err
'

test_expect_success 'the hook lets everything else through, silently' '
	for c in "hpcloop submit-flow --spec - <job.json" "ls sbatchdir" "echo sbatched" \
		"python3 train.py" "squeue -u me"
	do
		hook "$c" || { echo "refused: $c"; return 1; }
		test ! -s hook.err || return 1
	done &&
	hook "sbatch j.sh" Write &&
	echo "not json" | "$HPCLOOP_BIN" __hook-pretooluse 2>hook.err &&
	test ! -s hook.err
'

# Every `hpcloop NAME --spec - <<'SPEC'` block of every slash command:
# the primitive exists and the spec (placeholders for numbers filled in)
# validates against its input schema.  And no command line carries a
# spec or the arguments.
test_expect_success 'the slash commands pass specs through quoted heredocs only, and each validates' '
	! grep -n -- "--spec '"'"'" "$SRC_DIR"/slash_commands/*.md &&
	! grep -n "<<SPEC\|<<-SPEC\|<< *\"SPEC\"" "$SRC_DIR"/slash_commands/*.md &&
	! grep -n "^ .*\\\$ARGUMENTS" "$SRC_DIR"/slash_commands/*.md &&
	/usr/bin/python3 "$SRC_DIR/tests/e2e/slash-specs.py" "$SRC_DIR"/slash_commands/*.md >blocks &&
	while IFS="	" read -r prim spec
	do
		"$HPCLOOP_BIN" validate --spec "{\"primitive\": \"$prim\", \"instance\": $spec}" >out ||
			{ echo "$prim: $spec"; cat out; return 1; }
		test_json_field out data.valid true <out || { echo "$prim: $spec"; cat out; return 1; }
	done <blocks &&
	wc -l <blocks
'

test_expect_success CLAUDE 'with the real agent CLI, the installed hook refuses sbatch and names submit-flow' '
	start_model "$SRC_DIR/tests/model/scripts/t0007.json" &&
	mkdir -p agentproj bin && cd agentproj &&
	hl setup --spec "{\"scope\": \"project\", \"hook\": true}" &&
	printf "#!/bin/sh\ntouch \"%s/sbatch-ran\"\n" "$TRASH_DIRECTORY" >../bin/sbatch &&
	chmod +x ../bin/sbatch &&
	PATH=$TRASH_DIRECTORY/bin:$PATH run_claude "hook-check" --allowedTools Bash &&
	cd .. &&
	! test -e sbatch-ran &&
	model_pick body.messages >msgs &&
	tail -n 1 msgs | grep -q "do not run sbatch yourself" &&
	tail -n 1 msgs | grep -q "hpcloop submit-flow"
'

test_done
