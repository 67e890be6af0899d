#!/bin/sh
test_description='argv handling, usage errors and the envelope shape'
. "$(dirname "$0")/lib.sh"

test_expect_success 'no argv gives a usage envelope and exit 1' '
	test_expect_code 1 hl &&
	test_error out usage &&
	test_json_field out .primitive null &&
	test_json_field out .retry_safe false &&
	grep -q "usage: hpcloop PRIMITIVE" out
'

test_expect_success 'an unknown primitive is unknown_primitive, exit 1' '
	test_expect_code 1 hl frobnicate &&
	test_error out unknown_primitive &&
	grep -q "frobnicate" out
'

test_expect_success 'an unknown option is a usage error' '
	test_expect_code 1 hl list --sepc "{}" &&
	test_error out usage &&
	grep -q "unknown option" out
'

test_expect_success 'an option without its value is a usage error' '
	test_expect_code 1 hl list --spec &&
	test_error out usage &&
	grep -q "needs a value" out
'

test_expect_success 'an operand and --spec together are refused' '
	test_expect_code 1 hl help list --spec "{}" &&
	test_error out usage
'

test_expect_success 'version answers with versions of the libraries' '
	hl version &&
	test_json_field out .ok true &&
	test_json_field out .primitive version &&
	test_json_field out .idempotent false &&
	json_field out .data.version | grep -E "^[0-9]+\.[0-9]+\.[0-9]+$" &&
	json_field out .data.libraries.sqlite | grep -E "^3\."
'

test_expect_success 'list gives every primitive with its flags' '
	hl list &&
	n=$(json_field out .data.count) &&
	test "$n" -ge 9 &&
	test_json_field out .data.primitives.0.name aggregate-flow &&
	test_json_field out .data.primitives.1.name annotate &&
	test_json_field out .data.primitives.1.mutates true &&
	test_json_field out .data.primitives.1.idempotency key &&
	json_field out .data.primitives | grep -q "\"name\":\"validate\""
'

test_expect_success 'every success envelope has exactly the contract keys' '
	hl list &&
	"$HPCLOOP_TEST_TOOL" keys out >keys &&
	echo "data idempotent ok primitive" >expect &&
	test_cmp expect keys
'

test_expect_success 'every failure envelope has exactly the contract keys' '
	test_must_fail hl help nosuch &&
	"$HPCLOOP_TEST_TOOL" keys out >keys &&
	echo "details error_code message ok primitive remediation retry_safe" >expect &&
	test_cmp expect keys &&
	test_json_field out .error_code not_found
'

test_expect_success '--spec=VALUE and --spec VALUE are the same' '
	hl schema --spec="{\"name\":\"list\"}" && cp out a &&
	hl schema --spec "{\"name\":\"list\"}" && test_cmp a out
'

test_expect_success '--spec FILE and --spec - read files and stdin' '
	echo "{\"name\":\"events\"}" >spec.json &&
	hl schema --spec spec.json && cp out a &&
	hl schema --spec - <spec.json && test_cmp a out &&
	test_json_field out .data.name events
'

test_expect_success 'a missing spec file is spec_invalid naming it' '
	test_expect_code 1 hl list --spec no-such-file.json &&
	test_error out spec_invalid &&
	grep -q "no-such-file.json" out
'

test_expect_success '--pretty prints indented JSON' '
	hl version --pretty &&
	test $(wc -l <out) -gt 3
'

test_expect_success 'schema works from any directory' '
	mkdir -p elsewhere && cd elsewhere &&
	hl schema events &&
	test_json_field out .data.input.type object &&
	test_json_field out .data.output.properties.next.type integer
'

test_expect_success 'schema config gives the config schema' '
	hl schema config &&
	test_json_field out .data.config.type object
'

test_expect_success 'help NAME gives the doc page, help alone the overview' '
	hl help events &&
	json_field out .data.text | grep -q "^# hpcloop events" &&
	hl help &&
	json_field out .data.text | grep -q "submit\|annotate"
'

test_expect_success 'a write error on stdout is exit 3' '
	test -w /dev/full || return 0
	test_expect_code 3 "$HPCLOOP_BIN" list >/dev/full 2>err &&
	grep -q "cannot write" err
'

test_done
