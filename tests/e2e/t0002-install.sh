#!/bin/sh
test_description='make install puts a working hpcloop and its files under PREFIX'
. "$(dirname "$0")/lib.sh"

test_expect_success 'make install PREFIX=...' '
	make -s -C "$SRC_DIR" O="$(dirname "$HPCLOOP_BIN")" install \
		PREFIX="$PWD/inst" >/dev/null &&
	test -x inst/bin/hpcloop &&
	for d in schemas templates slash_commands docs; do
		test -d "inst/share/hpcloop/$d" || return 1
	done &&
	test -f inst/share/hpcloop/schemas/submit-flow.input.json &&
	test -f inst/share/hpcloop/templates/job.sh &&
	test -f inst/share/hpcloop/slash_commands/hpcloop-sprint.md &&
	test -f inst/share/hpcloop/docs/error-codes.md
'

test_expect_success 'the installed binary works from anywhere' '
	mkdir -p elsewhere && cd elsewhere &&
	../inst/bin/hpcloop schema submit-flow >out &&
	"$HPCLOOP_TEST_TOOL" json-field out .data.input.properties.retry_of >req &&
	grep -q pattern req
'

test_done
