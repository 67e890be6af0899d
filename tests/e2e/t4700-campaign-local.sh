#!/bin/sh
test_description='campaigns on the local scheduler: arrays in waves, params, replays, races, failures and resubmission, the canary, aggregation, crashes'
# Issue 8 item 6 (campaign mode of submit-flow, monitor-flow,
# resubmit-failed, aggregate-flow, verify-canary) on the embedded
# scheduler; the SLURM and SGE tests run the same calls over SSH.
. "$(dirname "$0")/lib.sh"

# The executor: writes when it ran and its params into result/, fails
# when FAIL matches its x (unless the file 'healed' exists), and says
# "Killed" when x is "noisy".
cat >exec.sh <<'SH'
#!/bin/sh
now () { date +%s.%N; }
start=$(now)
case "$HPCLOOP_PARAM_X" in noisy) echo "Killed" ;; esac
sleep "${HPCLOOP_PARAM_NAP:-0.2}"
if [ -n "${HPCLOOP_PARAM_FAIL:-}" ] && [ "$HPCLOOP_PARAM_FAIL" = "$HPCLOOP_PARAM_X" ] &&
	! [ -e "$HEALED" ]; then
	echo "task $HPCLOOP_TASK_ID fails on purpose"; exit 3
fi
printf '%s %s %s\n' "$start" "$(now)" "$HPCLOOP_TASK_ID" >"$HPCLOOP_RESULT_DIR/times"
printf '%s' "$HPCLOOP_PARAM_X" >"$HPCLOOP_RESULT_DIR/x"
echo "metric: $HPCLOOP_TASK_ID"
SH
chmod +x exec.sh
EXEC=$PWD/exec.sh
export HEALED=$PWD/healed

# campaign JSON: submit it (spec from stdin); its id in $cp.
campaign () {
	hl submit-flow --spec - && cp=$(json_field out .data.campaign_id)
}

# settle ID [SECONDS]: monitor-flow until it ended.
settle () {
	hl monitor-flow --spec "{\"campaign_id\": \"$1\", \"budget_s\": ${2:-60}, \"interval_s\": 1}" &&
	test_json_field out .data.ended true
}

test_expect_success 'setup' '
	MAX_JOBS=8 setup_local_config &&
	hl init
'

test_expect_success 'a grid of 10 tasks as arrays of 4 in 3 waves, 2 at a time, all complete' '
	campaign <<-EOF &&
	{"study": "demo", "campaign": {"executor": ["$EXEC"], "params": {"x": ["a", "b", "c", "d", "e"], "nap": [0.3, 0.4]},
	 "max_array_size": 4, "arrays_per_wave": 1, "array_concurrency": 2}}
	EOF
	grid=$cp &&
	test_json_field out .data.tasks 10 &&
	test_json_field out .data.submissions.2.wave 2 &&
	test_json_field out .data.submissions.2.tasks 2 &&
	settle $grid 90 &&
	test_json_field out .data.state completed &&
	test_json_field out .data.counts.completed 10 &&
	dir=$(json_field out .data.directory) && echo "$dir" >grid.dir
'

test_expect_success 'each task ran once with its own params, in grid order (names sorted, the last fastest)' '
	dir=$(cat grid.dir) &&
	for t in 0 1 2 3 4 5 6 7 8 9; do
		test $(grep -c "^=== " "$dir/tasks/$t/output.log") = 1 || return 1
		test "$(cat "$dir/tasks/$t/exit_code")" = 0 || return 1
	done &&
	test "$(cat "$dir/tasks/0/result/x")" = a &&
	test "$(cat "$dir/tasks/1/result/x")" = b &&
	test "$(cat "$dir/tasks/5/result/x")" = a &&
	grep -qx "export HPCLOOP_PARAM_NAP=.0.3." "$dir/tasks/4/params.sh" &&
	grep -qx "export HPCLOOP_PARAM_NAP=.0.4." "$dir/tasks/5/params.sh"
'

test_expect_success 'waves ran one after another, and no array ran more than 2 tasks at once' '
	dir=$(cat grid.dir) &&
	cat "$dir"/tasks/*/result/times >times &&
	/usr/bin/python3 - times <<-\PY
	import sys
	rows = [l.split() for l in open(sys.argv[1])]
	t = {int(r[2]): (float(r[0]), float(r[1])) for r in rows}
	assert len(t) == 10, t
	waves = [range(0, 4), range(4, 8), range(8, 10)]
	for a, b in zip(waves, waves[1:]):
	    assert max(t[i][1] for i in a) <= min(t[i][0] for i in b), (a, b, t)
	for w in waves:
	    for i in w:
	        live = [j for j in w if t[j][0] <= t[i][0] < t[j][1]]
	        assert len(live) <= 2, (i, live)
	PY
'

test_expect_success 'the same spec replays the campaign; 16 concurrent copies of a new one make one' '
	campaign <<-EOF &&
	{"study": "demo", "campaign": {"executor": ["$EXEC"], "params": {"x": ["a", "b", "c", "d", "e"], "nap": [0.3, 0.4]},
	 "max_array_size": 4, "arrays_per_wave": 1, "array_concurrency": 2}}
	EOF
	test "$cp" = "$(cat grid.dir | sed "s|.*/||")" &&
	test_json_field out .idempotent true &&
	test_json_field out .data.state completed &&
	printf "%s" "{\"study\": \"demo\", \"campaign\": {\"executor\": [\"$EXEC\"], \"tasks\": [{\"x\": \"r1\"}, {\"x\": \"r2\"}, {\"x\": \"r3\"}]}}" >racespec.json &&
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
		"$HPCLOOP_BIN" submit-flow --spec racespec.json >race.$i 2>&1 &
	done; wait &&
	cat race.* | grep -v "\"ok\":true" | grep -v "\"error_code\":\"in_progress\"" >bad; test ! -s bad &&
	grep -ho "\"campaign_id\":\"cp-[0-9a-f]*\"" race.* | sort -u >ids &&
	test $(wc -l <ids) = 1 &&
	hl events --spec "{\"type\": \"campaign.created\", \"limit\": 50}" &&
	test_json_field out .data.count 2 &&
	race=$(sed "s/.*:\"\(cp-[0-9a-f]*\)\"/\1/" ids) && settle $race &&
	rdir=$(json_field out .data.directory) &&
	for t in 0 1 2; do test $(grep -c "^=== " "$rdir/tasks/$t/output.log") = 1 || return 1; done
'

test_expect_success 'hostile parameter values reach the executor as data, never as code' '
	campaign <<-EOF &&
	{"study": "demo", "campaign": {"executor": ["$EXEC"], "tasks": [{"x": "\$(touch pwned1)"}, {"x": "\`touch pwned2\`; echo '"'"'q"}, {"x": "a\nb"}]}}
	EOF
	settle $cp && test_json_field out .data.state completed &&
	d=$(json_field out .data.directory) &&
	printf "%s" "\$(touch pwned1)" >expect && test_cmp expect "$d/tasks/0/result/x" &&
	printf "%s" "\`touch pwned2\`; echo '"'"'q" >expect && test_cmp expect "$d/tasks/1/result/x" &&
	printf "a\nb" >expect && test_cmp expect "$d/tasks/2/result/x" &&
	! find "$TRASH_DIRECTORY" -name "pwned[12]" | grep -q .
'

test_expect_success 'failing tasks fail the campaign and are listed; resubmit-failed runs only them' '
	rm -f healed &&
	campaign <<-EOF &&
	{"study": "demo", "campaign": {"executor": ["$EXEC"], "params": {"x": ["a", "b", "c", "d"], "fail": ["b"]}}}
	EOF
	fcp=$cp && settle $fcp &&
	test_json_field out .data.state failed &&
	test_json_field out .data.failed_tasks.0 1 &&
	test_json_field out .data.counts.completed 3 &&
	fdir=$(json_field out .data.directory) &&
	test "$(cat "$fdir/tasks/1/exit_code")" = 3 &&
	! test -e "$fdir/tasks/1/result" &&
	touch healed &&
	hl resubmit-failed --spec "{\"campaign_id\": \"$fcp\", \"idempotency_key\": \"heal-1\"}" &&
	test_json_field out .data.tasks.0 1 &&
	test_json_field out .data.submission 1 &&
	hl resubmit-failed --spec "{\"campaign_id\": \"$fcp\", \"idempotency_key\": \"heal-1\"}" &&
	test_json_field out .idempotent true &&
	settle $fcp &&
	test_json_field out .data.state completed &&
	test $(grep -c "^=== " "$fdir/tasks/1/output.log") = 2 &&
	test $(grep -c "^=== " "$fdir/tasks/0/output.log") = 1 &&
	test_expect_code 1 hl resubmit-failed --spec "{\"campaign_id\": \"$fcp\"}" &&
	test_error out precondition_failed &&
	test_expect_code 1 hl resubmit-failed --spec "{\"campaign_id\": \"$fcp\", \"tasks\": [0]}" &&
	test_error out precondition_failed
'

test_expect_success 'aggregate-flow pulls every result and runs the reducer; missing tasks and a failing reducer say so' '
	hl aggregate-flow --spec "{\"campaign_id\": \"$(cat grid.dir | sed "s|.*/||")\", \"reducer\": [\"/usr/bin/python3\", \"-c\", \"import glob,json; print(json.dumps(sorted(open(f).read() for f in glob.glob(\\\"tasks/*/x\\\"))))\"], \"out_dir\": \"$TRASH_DIRECTORY/agg\"}" &&
	test_json_field out .data.tasks 10 &&
	test_json_field out .data.files 20 &&
	test_json_field out .data.reducer.json.0 a &&
	test_json_field out .data.reducer.json.9 e &&
	test -f agg/tasks/9/x &&
	test_expect_code 1 hl aggregate-flow --spec "{\"campaign_id\": \"$fcp\", \"reducer\": [\"false\"]}" &&
	test_error out reducer_failed &&
	rm -f healed &&
	campaign <<-EOF &&
	{"study": "demo", "campaign": {"executor": ["$EXEC"], "params": {"x": ["a", "b"], "fail": ["a"]}}}
	EOF
	settle $cp &&
	test_expect_code 2 hl aggregate-flow --spec "{\"campaign_id\": \"$cp\"}" &&
	test_error out outputs_missing &&
	test_json_field out .details.missing_tasks.0 0
'

test_expect_success 'a failing canary stops the campaign before the rest is submitted' '
	campaign <<-EOF &&
	{"study": "demo", "campaign": {"executor": ["$EXEC"], "canary": true, "params": {"x": ["noisy", "b", "c"]}}}
	EOF
	ccp=$cp &&
	test_json_field out .data.canary waiting &&
	test_json_field out .data.submissions.0.kind canary &&
	test_json_field out .data.submissions.1.job_id null &&
	test_expect_code 1 hl verify-canary --spec "{\"campaign_id\": \"$ccp\", \"wait_s\": 60}" &&
	test_error out canary_failed &&
	test_json_field out .details.failure_kind failure_marker &&
	hl monitor-flow --spec "{\"campaign_id\": \"$ccp\"}" &&
	test_json_field out .data.state failed &&
	test_json_field out .data.canary failed &&
	test_json_field out .data.submissions.1.job_id null
'

test_expect_success 'a passing canary lets the rest go, once' '
	campaign <<-EOF &&
	{"study": "demo", "campaign": {"executor": ["$EXEC"], "canary": true, "params": {"x": ["a", "b", "c"]}}}
	EOF
	ok=$cp &&
	hl verify-canary --spec "{\"campaign_id\": \"$ok\", \"wait_s\": 60, \"expect_files\": [\"x\", \"times\"]}" &&
	test_json_field out .data.canary passed &&
	test_json_field out .data.submitted_now 1 &&
	hl verify-canary --spec "{\"campaign_id\": \"$ok\"}" &&
	test_json_field out .data.submitted_now 0 &&
	settle $ok && test_json_field out .data.state completed &&
	d=$(json_field out .data.directory) &&
	test $(grep -c "^=== " "$d/tasks/0/output.log") = 1
'

test_expect_success 'eight concurrent verify-canary calls place the rest once' '
	campaign <<-EOF &&
	{"study": "demo", "campaign": {"executor": ["$EXEC"], "canary": true, "params": {"x": ["a", "b", "c", "d"]}, "max_array_size": 1}}
	EOF
	cc=$cp &&
	hl verify-canary --spec "{\"campaign_id\": \"$cc\", \"wait_s\": 60}" &&
	for i in 1 2 3 4 5 6 7 8; do
		"$HPCLOOP_BIN" verify-canary --spec "{\"campaign_id\": \"$cc\"}" >vc.$i 2>&1 &
	done; wait &&
	settle $cc && test_json_field out .data.state completed &&
	d=$(json_field out .data.directory) &&
	for t in 0 1 2 3; do test $(grep -c "^=== " "$d/tasks/$t/output.log") = 1 || return 1; done &&
	ls -d sprints/.hpcloop-local/by-run/$cc-s* >runs &&
	test $(wc -l <runs) = 4 &&
	while read -r k; do test $(ls "$k" | wc -l) = 1 || return 1; done <runs
'

test_expect_success 'a result/ that is a link to / is not followed by aggregate-flow' '
	cat >linker.sh <<-\SH &&
	#!/bin/sh
	rmdir "$HPCLOOP_RESULT_DIR" && ln -s / "$HPCLOOP_RESULT_DIR"
	SH
	chmod +x linker.sh &&
	campaign <<-EOF &&
	{"study": "demo", "campaign": {"executor": ["$PWD/linker.sh"], "tasks": [{"x": 1}]}}
	EOF
	settle $cp && test_json_field out .data.state completed &&
	hl aggregate-flow --spec "{\"campaign_id\": \"$cp\", \"out_dir\": \"$TRASH_DIRECTORY/agg-link\"}" &&
	test_json_field out .data.files 0 &&
	! test -e agg-link/tasks/0/etc
'

test_expect_success 'killed after its array was submitted (campaign.after_sched), the retry adopts it' '
	printf "%s" "{\"study\": \"demo\", \"campaign\": {\"executor\": [\"$EXEC\"], \"tasks\": [{\"x\": \"k1\"}, {\"x\": \"k2\"}]}}" >crash.json &&
	test_expect_code 137 env HPCLOOP_FAULT=campaign.after_sched "$HPCLOOP_BIN" submit-flow --spec crash.json >/dev/null 2>&1;
	hl submit-flow --spec crash.json &&
	kcp=$(json_field out .data.campaign_id) &&
	test_json_field out .data.submissions.0.job_id "$(json_field out .data.submissions.0.job_id)" &&
	settle $kcp && test_json_field out .data.state completed &&
	d=$(json_field out .data.directory) &&
	for t in 0 1; do test $(grep -c "^=== " "$d/tasks/$t/output.log") = 1 || return 1; done
'

test_expect_success 'killed after its pending commit (campaign.after_pending), the retry submits it once' '
	printf "%s" "{\"study\": \"demo\", \"campaign\": {\"executor\": [\"$EXEC\"], \"tasks\": [{\"x\": \"p1\"}]}}" >crash2.json &&
	test_expect_code 137 env HPCLOOP_FAULT=campaign.after_pending "$HPCLOOP_BIN" submit-flow --spec crash2.json >/dev/null 2>&1;
	hl find-prior-run --spec "{\"spec\": $(cat crash2.json)}" &&
	test_json_field out .data.found true &&
	test_json_field out .data.kind campaign &&
	test_json_field out .data.attempt pending &&
	test_json_field out .data.is_orphan true &&
	test_json_field out .data.state pending &&
	hl submit-flow --spec crash2.json &&
	pcp=$(json_field out .data.campaign_id) &&
	settle $pcp && test_json_field out .data.state completed &&
	d=$(json_field out .data.directory) &&
	test $(grep -c "^=== " "$d/tasks/0/output.log") = 1
'

test_expect_success 'reconcile adopts what a killed submit-flow left on the scheduler: a campaign array and a sprint job' '
	printf "%s" "{\"study\": \"demo\", \"campaign\": {\"executor\": [\"$EXEC\"], \"tasks\": [{\"x\": \"q1\"}, {\"x\": \"q2\"}]}}" >crash3.json &&
	test_expect_code 137 env HPCLOOP_FAULT=campaign.after_sched "$HPCLOOP_BIN" submit-flow --spec crash3.json >/dev/null 2>&1;
	test_expect_code 137 env HPCLOOP_FAULT=submit.after_sched "$HPCLOOP_BIN" submit-flow --spec "{\"study\": \"demo\", \"idea\": \"killed after sbatch\"}" >/dev/null 2>&1;
	hl reconcile &&
	test_json_field out .data.campaigns.0.before pending &&
	test_json_field out .data.campaigns.0.adopted 1 &&
	test_json_field out .data.campaigns.0.not_on_scheduler 0 &&
	test_json_field out .data.sprints.0.before pending &&
	case "$(json_field out .data.sprints.0.after)" in submitted|running) ;; *) false ;; esac &&
	test "$(json_field out .data.sprints.0.job_id)" != null &&
	rcp=$(json_field out .data.campaigns.0.campaign_id) &&
	rsp=$(json_field out .data.sprints.0.sprint_id) &&
	settle $rcp && test_json_field out .data.state completed &&
	d=$(json_field out .data.directory) &&
	for t in 0 1; do test $(grep -c "^=== " "$d/tasks/$t/output.log") = 1 || return 1; done &&
	hl submit-flow --spec crash3.json &&
	test_json_field out .data.campaign_id "$rcp" &&
	test $(ls "$d/submissions/" | grep -c "\.sh$") = 1 &&
	hl submit-flow --spec "{\"study\": \"demo\", \"idea\": \"killed after sbatch\"}" &&
	test_json_field out .data.sprint_id "$rsp" &&
	hl cancel --spec "{\"sprint_id\": \"$rsp\"}" &&
	test_expect_code 1 hl reconcile --spec "{\"cluster\": \"nowhere\"}" &&
	test_error out not_found
'

test_expect_success 'find-prior-run finds a finished campaign and sprint by their spec, claims nothing' '
	row_counts >before &&
	hl find-prior-run --spec "{\"spec\": $(cat racespec.json)}" &&
	test_json_field out .data.found true &&
	test_json_field out .data.attempt done &&
	test_json_field out .data.is_orphan false &&
	test_json_field out .data.state completed &&
	hl find-prior-run --spec "{\"spec\": {\"study\": \"demo\", \"idea\": \"killed after sbatch\"}}" &&
	test_json_field out .data.kind sprint &&
	test_json_field out .data.id "$rsp" &&
	hl find-prior-run --spec "{\"spec\": {\"study\": \"demo\", \"idea\": \"never submitted\"}}" &&
	test_json_field out .data.found false &&
	row_counts >after && test_cmp before after
'

test_expect_success 'preflight on the local cluster: ready with the stand-in agent; a missing agent is not' '
	hl preflight &&
	test_json_field out .data.ready true &&
	test_json_field out .data.clusters.0.checks.0.name reach &&
	cp hpcloop.yaml hpcloop.yaml.good &&
	sed "s|^agent_command: .*|agent_command: \"no-such-agent-xyz -p\"|" hpcloop.yaml.good >hpcloop.yaml &&
	hl preflight --spec "{\"cluster\": \"local\"}" &&
	test_json_field out .data.ready false &&
	grep -q "\"error_code\":\"not_found\"" out &&
	grep -q "no-such-agent-xyz" out &&
	cp hpcloop.yaml.good hpcloop.yaml &&
	test_expect_code 1 hl preflight --spec "{\"cluster\": \"nowhere\"}" &&
	test_error out not_found
'

test_expect_success 'bad campaign specs are refused and change nothing' '
	row_counts >before &&
	test_expect_code 1 hl submit-flow --spec "{\"study\": \"demo\", \"idea\": \"x\", \"campaign\": {\"params\": {\"x\": [1]}}}" &&
	test_error out spec_invalid &&
	test_expect_code 1 hl submit-flow --spec "{\"study\": \"demo\", \"campaign\": {\"executor\": [\"true\"]}}" &&
	test_error out spec_invalid &&
	test_expect_code 1 hl submit-flow --spec "{\"study\": \"demo\", \"campaign\": {\"executor\": [\"true\"], \"params\": {\"x\": []}}}" &&
	test_error out spec_invalid &&
	test_expect_code 1 hl submit-flow --spec "{\"study\": \"nope\", \"campaign\": {\"executor\": [\"true\"], \"params\": {\"x\": [1]}}}" &&
	test_error out not_found &&
	test_expect_code 1 hl submit-flow --spec "{\"study\": \"demo\", \"campaign\": {\"params\": {\"x\": [1]}}}" &&
	test_error out spec_invalid &&
	test_expect_code 1 hl monitor-flow --spec "{\"campaign_id\": \"cp-000000\"}" &&
	test_error out not_found &&
	test_expect_code 1 hl verify-canary --spec "{\"campaign_id\": \"$grid\"}" &&
	test_error out precondition_failed &&
	test_expect_code 1 hl monitor-flow --spec "{\"campaign_id\": \"cp-1\"}" &&
	test_error out spec_invalid &&
	row_counts >after && test_cmp before after
'

test_done
