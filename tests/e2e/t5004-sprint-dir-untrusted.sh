#!/bin/sh
test_description='the sprint directory is untrusted: links, FIFOs and linked directories are refused'
. "$(dirname "$0")/lib.sh"

# A file only root may read, that hpcloop must never hand back.
SECRET=/etc/shadow
test -e "$SECRET" || SECRET=/etc/gshadow

# hlt ARGS...: hl under a 10 s timeout, so that a read waiting on a FIFO
# fails the step (exit 124) instead of hanging the suite.
hlt () {
	timeout 10 "$HPCLOOP_BIN" "$@" >out 2>err
	hlt_rc=$?
	if ! "$HPCLOOP_TEST_TOOL" envelope out 2>>err; then
		echo "stdout of 'hpcloop $*' is not one JSON line (exit $hlt_rc)" \
			>>"$TRASH_DIRECTORY/.violation"
		return 1
	fi
	cat out >>"$ENVELOPE_LOG"
	return $hlt_rc
}

test_expect_success 'setup: a finished sprint' '
	setup_local_config &&
	submit "a sprint whose directory is then tampered with" &&
	done_sprint=$sprint && done_dir=$sprint_dir &&
	wait_state $done_sprint completed 60
'

test_expect_success 'logs does not return what a symlinked output.log points to' '
	rm -f "$done_dir/output.log" &&
	ln -s "$SECRET" "$done_dir/output.log" &&
	hlt logs --spec "{\"sprint_id\":\"$done_sprint\"}" &&
	test_json_field out .ok true &&
	test_json_field out /data/logs/output.log null &&
	test_json_field out .partial_errors.0.code file_refused &&
	json_field out .partial_errors.0.detail | grep -q "output.log.* is a symbolic link" &&
	! grep -q "root:" out &&
	json_field out /data/logs/progress.md | grep -q summarize
'

test_expect_success 'FIFOs as the logs: logs answers at once, naming each' '
	for f in output.log progress.md heartbeats.jsonl completion.json; do
		rm -f "$done_dir/$f" && mkfifo "$done_dir/$f" || return 1
	done &&
	hlt logs --spec "{\"sprint_id\":\"$done_sprint\"}" &&
	test_json_field out .data.state completed &&
	test_json_field out /data/logs/output.log null &&
	test_json_field out /data/logs/progress.md null &&
	json_field out .partial_errors >pe &&
	grep -q "output.log.* is a FIFO" pe &&
	grep -q "progress.md.* is a FIFO" pe &&
	test_json_field out .partial_errors.1.code file_refused
'

test_expect_success 'a finished sprint keeps its state whatever its files became' '
	hlt status --spec "{\"sprint_id\":\"$done_sprint\"}" &&
	test_json_field out .data.sprints.0.state completed
'

test_expect_success 'artifacts never follows a linked directory or copies a link target' '
	mv "$done_dir/results" "$done_dir/results.real" &&
	ln -s /etc "$done_dir/results" &&
	hlt artifacts --spec "{\"sprint_id\":\"$done_sprint\"}" &&
	test_json_field out .ok true &&
	store=$(json_field out .data.store) &&
	json_field out .data.files >files &&
	grep -q "results.real/metric.json" files &&
	! grep -q "\"results/" files &&
	! grep -q "output.log" files &&
	! grep -q "heartbeats.jsonl" files &&
	test -f "$store/$done_sprint/results.real/metric.json" &&
	! test -e "$store/$done_sprint/results" &&
	! test -e "$store/$done_sprint/output.log" &&
	! grep -rq "root:" "$store/$done_sprint"
'

test_expect_success 'setup: a running sprint whose agent hangs' '
	FAKE_AGENT_HANG_STEP=research submit "a sprint tampered with while it runs" &&
	live_sprint=$sprint && live_dir=$sprint_dir &&
	wait_state $live_sprint running 30 &&
	wait_file "$live_dir/heartbeats.jsonl"
'

test_expect_success 'FIFOs as heartbeats and completion: status answers at once, still running' '
	for f in heartbeats.jsonl completion.json; do
		rm -f "$live_dir/$f" && mkfifo "$live_dir/$f" || return 1
	done &&
	hlt status --spec "{\"sprint_id\":\"$live_sprint\"}" &&
	test_json_field out .ok true &&
	test_json_field out .data.sprints.0.state running &&
	json_field out .data.sprints.0.evidence.heartbeats.refused | grep -q "heartbeats.jsonl.* is a FIFO" &&
	json_field out .data.sprints.0.evidence.completion_file.refused | grep -q "completion.json.* is a FIFO" &&
	test_json_field out .partial_errors.0.code file_refused &&
	test_json_field out .partial_errors.0.cluster local &&
	json_field out .partial_errors.0.detail | grep -q "^sprint $live_sprint: "
'

test_expect_success 'a completion.json linked elsewhere is no proof of success' '
	rm -f "$live_dir/completion.json" &&
	printf "{\"sprint_id\":\"%s\",\"status\":\"completed\"}\n" "$live_sprint" >forged.json &&
	ln -s "$PWD/forged.json" "$live_dir/completion.json" &&
	hlt status --spec "{\"sprint_id\":\"$live_sprint\"}" &&
	test_json_field out .data.sprints.0.state running &&
	json_field out .data.sprints.0.evidence.completion_file.refused >refused &&
	grep -q "completion.json.* is a symbolic link" refused
'

test_expect_success 'logs of the running sprint answers at once too' '
	hlt logs --spec "{\"sprint_id\":\"$live_sprint\"}" &&
	test_json_field out .data.state running
'

test_expect_success 'cancel ends the tampered sprint' '
	hl cancel --spec "{\"sprint_id\":\"$live_sprint\"}" &&
	test_json_field out .data.state cancelled
'

test_done
