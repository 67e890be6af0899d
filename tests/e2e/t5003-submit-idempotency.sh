#!/bin/sh
test_description='submit-flow is exactly-once: replays, keys, crash between phases'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' 'RED_TEAM_ROUNDS=0 setup_local_config'

jobs_count () { ls sprints/.hpcloop-local/jobs 2>/dev/null | wc -l; }

test_expect_success 'the same spec twice submits one job' '
	submit "once only" && cp out first &&
	test_json_field out .idempotent false &&
	n=$(jobs_count) &&
	row_counts >before &&
	hl submit-flow --spec "{\"study\":\"demo\",\"idea\":\"once only\"}" &&
	test_json_field out .idempotent true &&
	test_cmp_data () { json_field "$1" .data >a && json_field "$2" .data >b && test_cmp a b; } &&
	test_cmp_data first out &&
	test $(jobs_count) = $n &&
	row_counts >after && test_cmp before after
'

test_expect_success 'an explicit idempotency_key replays' '
	hl submit-flow --spec "{\"study\":\"demo\",\"idea\":\"keyed\",\"idempotency_key\":\"k-1\"}" &&
	id1=$(json_field out .data.sprint_id) &&
	hl submit-flow --spec "{\"study\":\"demo\",\"idea\":\"keyed\",\"idempotency_key\":\"k-1\"}" &&
	test_json_field out .idempotent true &&
	test_json_field out .data.sprint_id $id1
'

test_expect_success 'the same key with another spec is conflict, nothing submitted' '
	n=$(jobs_count) &&
	row_counts >before &&
	test_expect_code 1 hl submit-flow --spec "{\"study\":\"demo\",\"idea\":\"other\",\"idempotency_key\":\"k-1\"}" &&
	test_error out conflict &&
	test $(jobs_count) = $n &&
	row_counts >after && test_cmp before after
'

test_expect_success SQLITE3 'a crash after submitting but before recording adopts the job' '
	hl submit-flow --spec "{\"study\":\"demo\",\"idea\":\"crashy\",\"idempotency_key\":\"crash-1\"}" &&
	id=$(json_field out .data.sprint_id) &&
	job=$(json_field out .data.job_id) &&
	n=$(jobs_count) &&
	# Undo phase 2 in the journal, as if hpcloop died after sbatch.
	sqlite3 "$HPCLOOP_JOURNAL" "UPDATE sprints SET state = '"'"'pending'"'"', job_id = NULL WHERE id = '"'"'$id'"'"';
		DELETE FROM jobs WHERE sprint_id = '"'"'$id'"'"';
		DELETE FROM idempotency WHERE key = '"'"'crash-1'"'"';" &&
	hl submit-flow --spec "{\"study\":\"demo\",\"idea\":\"crashy\",\"idempotency_key\":\"crash-1\"}" &&
	test_json_field out .data.sprint_id $id &&
	test_json_field out .data.job_id $job &&
	test_json_field out .data.state submitted &&
	test $(jobs_count) = $n
'

test_expect_success SQLITE3 'a crash before submitting submits once on retry' '
	hl submit-flow --spec "{\"study\":\"demo\",\"idea\":\"early crash\",\"idempotency_key\":\"crash-2\"}" &&
	id=$(json_field out .data.sprint_id) &&
	job=$(json_field out .data.job_id) &&
	dir=$(json_field out .data.directory) &&
	hl cancel --spec "{\"sprint_id\":\"$id\"}" &&
	wait_file "sprints/.hpcloop-local/jobs/$job/exit_status" &&
	# As if hpcloop died after phase 1: pending, and no job anywhere.
	rm -rf "sprints/.hpcloop-local/jobs/$job" &&
	find "$dir" -mindepth 1 -not -name run_sprint.sh -not -path "*/.hpcloop*" -delete &&
	sqlite3 "$HPCLOOP_JOURNAL" "UPDATE sprints SET state = '"'"'pending'"'"', job_id = NULL, finished_at = NULL WHERE id = '"'"'$id'"'"';
		DELETE FROM jobs WHERE sprint_id = '"'"'$id'"'"';
		DELETE FROM idempotency WHERE key = '"'"'crash-2'"'"';" &&
	n=$(jobs_count) &&
	hl submit-flow --spec "{\"study\":\"demo\",\"idea\":\"early crash\",\"idempotency_key\":\"crash-2\"}" &&
	test_json_field out .data.sprint_id $id &&
	test $(jobs_count) = $((n + 1)) &&
	wait_state $id completed 60
'

test_expect_success 'status settles every sprint' '
	for s in $(ls sprints/demo | sed -n "s/.*--\(sp-[0-9a-f]*\)--.*/\1/p"); do
		wait_state $s completed 60 2>/dev/null ||
			test_json_field out .data.sprints.0.state cancelled || return 1
	done
'

test_done
