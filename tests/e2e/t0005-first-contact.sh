#!/bin/sh
test_description='first contact: the usual flags, doc pages for people, remediations for the case at hand, retrying on purpose'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' 'RED_TEAM_ROUNDS=0 setup_local_config'

for flag in --help -h help; do
	test_expect_success "hpcloop $flag answers with the overview, exit 0" '
		hl '$flag' &&
		test_json_field out .primitive help &&
		json_field out .data.text | grep -q "submit-flow"
	'
done

for flag in --version -V; do
	test_expect_success "hpcloop $flag answers with the version, exit 0" '
		hl '$flag' &&
		test_json_field out .primitive version &&
		json_field out .data.version | grep -qE "^[0-9]+\.[0-9]+"
	'
done

test_expect_success 'help NAME --text prints the doc page for a person' '
	"$HPCLOOP_BIN" help submit-flow --text >page.md &&
	test_cmp "$SRC_DIR/docs/primitives/submit-flow.md" page.md &&
	test_expect_code 1 hl list --text &&
	test_error out usage
'

test_expect_success 'a missing spec file says the file is missing' '
	test_expect_code 1 hl status --spec no-such-file.json &&
	test_error out spec_invalid &&
	grep -q "does not exist" out &&
	test_json_field out .remediation "give the spec inline (--spec '"'"'{...}'"'"'), on stdin (--spec -), or as the path of an existing file"
'

test_expect_success 'no config yet: the remediation says to run init, not to fix a key' '
	mkdir empty && (
		cd empty &&
		unset HPCLOOP_CONFIG HPCLOOP_JOURNAL &&
		test_expect_code 1 "$HPCLOOP_BIN" status >out &&
		"$HPCLOOP_TEST_TOOL" envelope out &&
		test_error out config_invalid &&
		json_field out .message | grep -q "no config at .hpcloop.yaml." &&
		json_field out .remediation | grep -q "run .hpcloop init." &&
		! json_field out .remediation | grep -q "fix the key"
	)
'

test_expect_success 'an unknown study is not_found everywhere, and says where to look' '
	for p in status submit-flow study-show; do
		case $p in
		status) spec="{\"study\":\"nope\"}" ;;
		submit-flow) spec="{\"study\":\"nope\",\"idea\":\"x\"}" ;;
		study-show) spec="{\"name\":\"nope\"}" ;;
		esac
		test_expect_code 1 hl $p --spec "$spec" &&
		test_error out not_found &&
		grep -q "study-list" out || { echo "$p:"; cat out; return 1; }
	done
'

test_expect_success 'a spec_invalid remediation names the real primitive' '
	test_expect_code 1 hl events --spec "{\"since\":\"x\"}" &&
	test_json_field out .remediation "fix the spec so it validates against \`hpcloop schema events\` (see details.errors)"
'

test_expect_success 'a replay of a failed sprint says how to run it again' '
	FAKE_AGENT_FAIL_STEP=research submit "doomed idea" && failed=$sprint &&
	wait_state $failed failed 60 &&
	hl submit-flow --spec "{\"study\":\"demo\",\"idea\":\"doomed idea\"}" &&
	test_json_field out .idempotent true &&
	test_json_field out .data.state failed &&
	json_field out .data.next_step | grep -q "\"retry_of\": \"$failed\""
'

test_expect_success 'retry_of makes a new sprint of the same study and idea, linked both ways' '
	hl submit-flow --spec "{\"retry_of\":\"$failed\"}" &&
	test_json_field out .idempotent false &&
	retry=$(json_field out .data.sprint_id) &&
	test "$retry" != "$failed" &&
	test_json_field out .data.retry_of $failed &&
	test_json_field out .data.study demo &&
	grep -q "$(printf "doomed idea" | base64)" "$(json_field out .data.directory)/run_sprint.sh" &&
	hl events --spec "{\"subject\":\"$failed\",\"type\":\"sprint.retried\"}" &&
	test_json_field out .data.count 1 &&
	json_field out .data.events | grep -q "\"retried_by\":\"$retry\""
'

test_expect_success 'the retry is itself idempotent' '
	hl submit-flow --spec "{\"retry_of\":\"$failed\"}" &&
	test_json_field out .idempotent true &&
	test_json_field out .data.sprint_id $retry
'

test_expect_success 'a live sprint cannot be retried' '
	FAKE_AGENT_SLEEP=20 submit "still going" &&
	row_counts >before &&
	test_expect_code 1 hl submit-flow --spec "{\"retry_of\":\"$sprint\"}" &&
	test_error out conflict &&
	row_counts >after && test_cmp before after &&
	hl cancel --spec "{\"sprint_id\":\"$sprint\"}"
'

test_done
