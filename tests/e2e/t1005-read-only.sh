#!/bin/sh
test_description='reads never create state: no journal, no directory, a clear answer'
. "$(dirname "$0")/lib.sh"

# empty_here: the current directory holds nothing.
empty_here () { test -z "$(find . -mindepth 1 -print -quit)"; }

# Calls that must not create a journal where none exists.
reads='events status doctor study-list logs artifacts cancel complete heartbeat-ingest'

test_expect_success 'in an empty directory with a config, reads answer not_found and create nothing' '
	mkdir empty && cd empty &&
	printf "version: 1\nclusters: {local: {}}\nstudies: {demo: {cluster: local}}\n" >../cfg.yaml &&
	for p in $reads; do
		case $p in
		logs|artifacts|cancel) spec="{\"sprint_id\":\"sp-000001\"}" ;;
		complete) spec="{\"sprint_id\":\"sp-000001\",\"status\":\"completed\"}" ;;
		heartbeat-ingest) spec="{\"sprint_id\":\"sp-000001\",\"heartbeat\":{\"seq\":1}}" ;;
		*) spec="{}" ;;
		esac
		HPCLOOP_JOURNAL= HPCLOOP_CONFIG= hl $p --config ../cfg.yaml --spec "$spec"
		rc=$?
		test $rc = 1 || { echo "$p exited $rc"; cat out; return 1; }
		test_error out not_found || { echo "$p:"; cat out; return 1; }
		grep -q "hpcloop init" out || { echo "$p: no remediation"; cat out; return 1; }
		rm -f out err
		empty_here || { echo "$p left:"; find .; return 1; }
		! test -e ../.hpcloop || { echo "$p made ../.hpcloop"; return 1; }
	done
'

test_expect_success 'with no config either, reads still create nothing' '
	mkdir bare && cd bare &&
	for p in events status doctor study-list; do
		HPCLOOP_JOURNAL= HPCLOOP_CONFIG= "$HPCLOOP_BIN" $p >../o 2>../e
		test $? = 1 || { echo "$p:"; cat ../o; return 1; }
		empty_here || { echo "$p left:"; find .; return 1; }
	done
'

test_expect_success 'init creates the journal private to its owner' '
	mkdir made && cd made &&
	HPCLOOP_JOURNAL= HPCLOOP_CONFIG= hl init &&
	test "$(stat -c %a .hpcloop)" = 700 &&
	test "$(stat -c %a .hpcloop/journal.db)" = 600
'

test_done
