#!/bin/sh
test_description='code carries forward: each run of a loop starts from the
best kept commit of the study'"'"'s git repository, a keep advances it, a
discard leaves it; the ledger has every commit and shows a diff'
. "$(dirname "$0")/lib.sh"

q () { sqlite3 "$HPCLOOP_JOURNAL" "$@"; }

# start STUDY COUNT: a loop of the agent proposer; its id in $loop.
start () {
	hl loop-start --spec "{\"study\":\"$1\",\"mode\":\"sprint\",\"count\":$2,\"proposer\":\"agent\"}" &&
	loop=$(json_field out .data.loop_id)
}

# tick_until STATE [SECONDS]: tick $loop until it is STATE.
tick_until () {
	i=0
	while [ $i -lt $((${2:-60} * 4)) ]; do
		hl loop-tick --spec "{\"loop_id\":\"$loop\"}" || return 1
		state=$(json_field out .data.loops.0.state)
		[ "$state" = "$1" ] && return 0
		sleep 0.25
		i=$((i + 1))
	done
	echo "loop $loop still $state, wanted $1" >&2
	return 1
}

# run_col N COLUMN: COLUMN of code_runs for the Nth run of $loop.
run_col () {
	q "SELECT c.$2 FROM code_runs c JOIN sprints s ON s.id = c.sprint_id WHERE s.loop_id = '$loop' ORDER BY json_extract(s.metadata, '\$.loop_iteration') LIMIT 1 OFFSET $(($1 - 1))"
}

# A repository path and a ref with spaces, quotes and $(): all inert.
REPO="repo dir 'q' \$(touch pwned)"
SRC="src dir \"x\" \$(touch pwned)"

test_expect_success 'setup: a git repository with one commit, and a directory' '
	command -v git >/dev/null &&
	git init -q "$REPO" &&
	printf "base line\n" >"$REPO/change.txt" &&
	git -C "$REPO" add change.txt &&
	git -C "$REPO" -c user.name=t -c user.email=t@t commit -q -m base &&
	git -C "$REPO" branch "feature/x" &&
	c0=$(git -C "$REPO" rev-parse HEAD) &&
	mkdir "$SRC" && printf "print(1)\n" >"$SRC/train.py" &&
	RED_TEAM_ROUNDS=0 setup_local_config "    code: {repo: \"repo dir '"'"'q'"'"' \$(touch pwned)\"}
  copy:
    cluster: local
    metric: {name: loss, direction: minimize}
    allow_loop: true
    code: {dir: '"'"'src dir \"x\" \$(touch pwned)'"'"', checkout: work}
  badref:
    cluster: local
    metric: {name: loss, direction: minimize}
    allow_loop: true
    code: {repo: \"repo dir '"'"'q'"'"' \$(touch pwned)\", ref: \"--output=leak \$(touch pwned)\"}
  norepo:
    cluster: local
    metric: {name: loss, direction: minimize}
    allow_loop: true
    code: {repo: nowhere}" &&
	export FAKE_AGENT_METRICS_FILE="$PWD/metrics" FAKE_AGENT_CODE_FILE="$PWD/codes"
'

test_expect_success SQLITE3 'a loop of three: run 1 kept, run 2 discarded, run 3 kept' '
	printf "0.5\n0.6\n0.4\n" >metrics &&
	printf "commit run one\nedit run two\ncommit run three\n" >codes &&
	start demo 3 &&
	tick_until finished 120 &&
	q "SELECT iteration, status, metric FROM results WHERE loop_id = '"'"'$loop'"'"' ORDER BY id" >got &&
	printf "1|keep|0.5\n2|discard|0.6\n3|keep|0.4\n" >want &&
	test_cmp want got
'

test_expect_success SQLITE3 'the first run starts from HEAD at loop start; runs 2 and 3 from run 1' '
	c1=$(run_col 1 commit_sha) && c2=$(run_col 2 commit_sha) &&
	c3=$(run_col 3 commit_sha) &&
	for c in "$c0" "$c1" "$c2" "$c3"; do
		echo "$c" | grep -E -q "^[0-9a-f]{40}$" || return 1
	done &&
	test "$c1" != "$c0" && test "$c2" != "$c1" && test "$c3" != "$c2" &&
	test "$(q "SELECT source FROM study_code WHERE study = '"'"'demo'"'"'")" = "$REPO" &&
	d1=$(q "SELECT directory FROM sprints s JOIN code_runs c ON c.sprint_id = s.id ORDER BY s.created_at LIMIT 1") &&
	test "$(run_col 1 worktree)" = "$(cd "$d1" && pwd -P)/code" &&
	grep -rl --exclude-dir=code "is checked out in .code/." "$d1" >prompts &&
	test -s prompts &&
	test "$(run_col 1 base_commit)" = "$c0" &&
	test "$(run_col 2 base_commit)" = "$c1" &&
	test "$(run_col 3 base_commit)" = "$c1" &&
	test "$(q "SELECT base_commit FROM study_code WHERE study = '"'"'demo'"'"'")" = "$c0" &&
	test "$(git -C "$REPO" rev-parse "$c2^")" = "$c1" &&
	test "$(git -C "$REPO" rev-parse "$c3^")" = "$c1" &&
	test "$(git -C "$REPO" rev-parse "$c1^")" = "$c0" &&
	test "$(git -C "$REPO" rev-parse HEAD)" = "$c0"
'

test_expect_success SQLITE3 'the agent committed runs 1 and 3; hpcloop committed what run 2 left, with its author' '
	test "$(run_col 1 committed_by)" = agent &&
	test "$(run_col 2 committed_by)" = hpcloop &&
	test "$(run_col 3 committed_by)" = agent &&
	test "$(git -C "$REPO" log -1 --format=%an "$c2")" = hpcloop &&
	git -C "$REPO" log -1 --format=%s "$c2" | grep -q "left uncommitted" &&
	test "$(git -C "$REPO" show "$c2:change.txt")" = "$(printf "base line\nrun one\nrun two")"
'

test_expect_success SQLITE3 'the ledger has every run'"'"'s commit; the best ends at run 3'"'"'s' '
	hl ledger --spec "{\"study\":\"demo\"}" &&
	test_json_field out .data.rows.0.commit "$c1" &&
	test_json_field out .data.rows.1.commit "$c2" &&
	test_json_field out .data.rows.2.commit "$c3" &&
	test_json_field out .data.code.best_commit "$c3" &&
	test_json_field out .data.code.base_commit "$c0" &&
	test_json_field out .data.code.kind repo &&
	test "$(q "SELECT count(*) FROM events WHERE type = '"'"'code.best_advanced'"'"'")" = 2 &&
	git -C "$REPO" for-each-ref --format="%(objectname)" refs/hpcloop/demo/ | sort >got &&
	printf "%s\n" "$c1" "$c2" "$c3" | sort >want &&
	test_cmp want got
'

test_expect_success SQLITE3 'ledger diff shows run 2'"'"'s change against the best' '
	s2=$(run_col 2 sprint_id) &&
	hl ledger --spec "{\"study\":\"demo\",\"diff\":\"$s2\"}" &&
	test_json_field out .data.diff.best_commit "$c3" &&
	test_json_field out .data.diff.run_commit "$c2" &&
	test_json_field out .data.diff.started_from "$c1" &&
	test_json_field out .data.diff.truncated false &&
	json_field out .data.diff.text >diff &&
	grep -q "^+run two" diff &&
	grep -q "^-run three" diff &&
	s3=$(run_col 3 sprint_id) &&
	hl ledger --spec "{\"study\":\"demo\",\"diff\":\"$s3\"}" &&
	test_json_field out .data.diff.text ""
'

for p in carry.after_checkout carry.after_commit; do
	test_expect_success SQLITE3 "a tick killed at $p is finished by the next: one checkout, one commit" '
		printf "0.3\n" >metrics &&
		printf "edit after a crash\n" >codes &&
		start demo 1 &&
		tries=0 &&
		until HPCLOOP_FAULT='"$p"' "$HPCLOOP_BIN" loop-tick --spec "{\"loop_id\":\"$loop\"}" >crash.out 2>crash.err; test $? = 137; do
			tries=$((tries + 1)); test $tries -lt 240 || return 1
			sleep 0.25
		done &&
		tick_until finished 60 &&
		test "$(q "SELECT count(*) FROM sprints WHERE loop_id = '"'"'$loop'"'"'")" = 1 &&
		test "$(q "SELECT count(*) FROM results WHERE loop_id = '"'"'$loop'"'"'")" = 1 &&
		c=$(run_col 1 commit_sha) &&
		echo "$c" | grep -E -q "^[0-9a-f]{40}$" &&
		test "$(run_col 1 committed_by)" = hpcloop &&
		test "$(git -C "$REPO" show "$c:change.txt" | tail -1)" = "after a crash" &&
		test "$(git -C "$REPO" rev-list --count "$(run_col 1 base_commit)..$c")" = 1 &&
		test "$(q "SELECT count(*) FROM events WHERE type = '"'"'code.captured'"'"' AND subject = (SELECT sprint_id FROM code_runs c JOIN sprints s ON s.id = c.sprint_id WHERE s.loop_id = '"'"'$loop'"'"')")" = 1
	'
done

test_expect_success SQLITE3 'a run that finishes after its loop stopped is still captured and recorded' '
	printf "0.35\n" >metrics &&
	printf "edit while stopping\n" >codes &&
	start demo 2 &&
	FAKE_AGENT_WAIT_FILE="$PWD/go" && export FAKE_AGENT_WAIT_FILE &&
	hl loop-tick --spec "{\"loop_id\":\"$loop\"}" &&
	unset FAKE_AGENT_WAIT_FILE &&
	sprint=$(json_field out .data.loops.0.live.sprint_id) &&
	hl loop-stop --spec "{\"loop_id\":\"$loop\"}" &&
	tick_until stopped 30 &&
	test "$(q "SELECT state FROM sprints WHERE id = '"'"'$sprint'"'"'")" != completed &&
	touch go &&
	wait_state "$sprint" completed 60 &&
	test "$(q "SELECT count(*) FROM results WHERE sprint_id = '"'"'$sprint'"'"'")" = 0 &&
	hl loop-tick --spec "{\"loop_id\":\"$loop\"}" &&
	test_json_field out .data.loops.0.state stopped &&
	c=$(q "SELECT commit_sha FROM results WHERE sprint_id = '"'"'$sprint'"'"'") &&
	echo "$c" | grep -E -q "^[0-9a-f]{40}$" &&
	test "$c" = "$(run_col 1 commit_sha)" &&
	test "$(run_col 1 committed_by)" = hpcloop &&
	rm -f go
'

test_expect_success 'ledger diff of a run without a checkout is not_found, exit 1' '
	test_expect_code 1 hl ledger --spec "{\"study\":\"demo\",\"diff\":\"sp-000000\"}" &&
	test_error out not_found
'

test_expect_success SQLITE3 'a directory is imported into a repository of hpcloop'"'"'s own and carried likewise' '
	printf "0.5\n" >metrics &&
	printf "commit tuned\n" >codes &&
	FAKE_AGENT_CODE_DIR=work && export FAKE_AGENT_CODE_DIR &&
	start copy 1 &&
	tick_until finished 60 &&
	unset FAKE_AGENT_CODE_DIR &&
	test "$(q "SELECT status FROM results WHERE loop_id = '"'"'$loop'"'"'")" = keep &&
	imp=sprints/copy/.hpcloop-code &&
	test "$(git -C "$imp" show HEAD:train.py)" = "print(1)" &&
	c=$(run_col 1 commit_sha) &&
	test "$(git -C "$imp" rev-parse "$c^")" = "$(git -C "$imp" rev-parse HEAD)" &&
	test "$(git -C "$imp" show "$c:change.txt")" = tuned &&
	test ! -e "$SRC/.git" && test ! -e "$SRC/change.txt" &&
	hl ledger --spec "{\"study\":\"copy\"}" &&
	test_json_field out .data.code.kind dir &&
	test_json_field out .data.code.best_commit "$c"
'

test_expect_success SQLITE3 'an import that died before its commit is made again' '
	cat >>hpcloop.yaml <<-\YAML &&
	  again:
	    cluster: local
	    metric: {name: loss, direction: minimize}
	    allow_loop: true
	    code: {dir: src2}
	YAML
	mkdir src2 && printf "x = 2\n" >src2/model.py &&
	git init -q sprints/again/.hpcloop-code &&
	printf "0.5\n" >metrics &&
	printf "none\n" >codes &&
	start again 1 &&
	tick_until finished 60 &&
	test "$(git -C sprints/again/.hpcloop-code show HEAD:model.py)" = "x = 2" &&
	test "$(run_col 1 base_commit)" = "$(git -C sprints/again/.hpcloop-code rev-parse HEAD)"
'

test_expect_success SQLITE3 'a hostile ref is inert: precondition_failed, nothing submitted' '
	start badref 1 &&
	test_expect_code 1 hl loop-tick --spec "{\"loop_id\":\"$loop\"}" &&
	test_error out precondition_failed &&
	test ! -e leak && test ! -e "$REPO/leak" &&
	test "$(q "SELECT count(*) FROM sprints WHERE loop_id = '"'"'$loop'"'"' AND job_id IS NOT NULL")" = 0 &&
	test "$(q "SELECT count(*) FROM study_code WHERE study = '"'"'badref'"'"'")" = 0
'

test_expect_success SQLITE3 'a repository that is not one is precondition_failed' '
	start norepo 1 &&
	test_expect_code 1 hl loop-tick --spec "{\"loop_id\":\"$loop\"}" &&
	test_error out precondition_failed &&
	grep -q "not a git repository" out
'

# A study whose ref is a branch named with quotes and $() (git allows
# them): written outside a test body, where no quote needs escaping.
cat >refbranch.yaml <<\EOF
  refbranch:
    cluster: local
    metric: {name: loss, direction: minimize}
    allow_loop: true
    code: {repo: "repo dir 'q' $(touch pwned)", ref: "try'q'\"$(touch_pwned)\""}
EOF

test_expect_success SQLITE3 'a branch named with quotes and $() is data: the first run starts from it' '
	branch="try'"'"'q'"'"'\"\$(touch_pwned)\"" &&
	tree=$(git -C "$REPO" write-tree) &&
	alt=$(git -C "$REPO" -c user.name=t -c user.email=t@t commit-tree -p "$c0" -m alt "$tree") &&
	git -C "$REPO" branch "$branch" "$alt" &&
	cat refbranch.yaml >>hpcloop.yaml &&
	printf "0.5\n" >metrics &&
	printf "none\n" >codes &&
	start refbranch 1 &&
	tick_until finished 60 &&
	test "$(run_col 1 base_commit)" = "$alt" &&
	test "$(q "SELECT ref FROM study_code WHERE study = '"'"'refbranch'"'"'")" = "$branch" &&
	test "$(run_col 1 commit_sha)" = "$alt" &&
	test "$(run_col 1 committed_by)" = none &&
	test ! -e touch_pwned && test ! -e "$REPO/touch_pwned"
'

# The same diff through the ssh transport, against a real sshd: the
# hostile repository path crosses a remote shell as quoted data.
SSHD_DIR="$TRASH_DIRECTORY/sshd"
XDG_RUNTIME_DIR="$TRASH_DIRECTORY/run"
export XDG_RUNTIME_DIR
mkdir -m 0700 "$XDG_RUNTIME_DIR"
unset SSH_AUTH_SOCK HPCLOOP_SSH_KEY_PASSPHRASE
LSAN_OPTIONS="suppressions=$TEST_DIRECTORY/t3000-libssh2.supp:fast_unwind_on_malloc=0:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS
port=$("$HPCLOOP_TEST_TOOL" free-port)
if "$SRC_DIR/tests/cluster/start-sshd.sh" "$SSHD_DIR" "$port" 2>"$TRASH_DIRECTORY/sshd-start.log"
then
	test_set_prereq SSHD
	trap '"$SRC_DIR/tests/cluster/stop-sshd.sh" "$SSHD_DIR"' EXIT
else
	case ",${HPCLOOP_REQUIRE:-}," in
	*,sshd,*)
		test_expect_success 'sshd starts (HPCLOOP_REQUIRE names sshd)' '
			cat "$TRASH_DIRECTORY/sshd-start.log" && false
		' ;;
	esac
fi

test_expect_success SSHD,SQLITE3 'ledger diff runs git on the study'"'"'s cluster over ssh' '
	cp hpcloop.yaml local.yaml &&
	sed -i "s|^studies:|  far:\n    transport: ssh\n    host: 127.0.0.1\n    port: $port\n    user: $(id -un)\n    key: $SSHD_DIR/id_ed25519\n    known_hosts: $SSHD_DIR/known_hosts\n    scheduler: slurm\n&|" hpcloop.yaml &&
	sed -i "/^  demo:/,/^  copy:/ s/^    cluster: local/    cluster: far/" hpcloop.yaml &&
	before=$(grep -c "Starting session" "$SSHD_DIR/sshd.log" || :) &&
	s2=$(q "SELECT c.sprint_id FROM code_runs c WHERE c.commit_sha = '"'"'$c2'"'"'") &&
	hl ledger --spec "{\"study\":\"demo\",\"diff\":\"$s2\"}" &&
	json_field out .data.diff.text >diff &&
	grep -q "^+run two" diff &&
	test "$(grep -c "Starting session" "$SSHD_DIR/sshd.log")" -gt "$before" &&
	cp local.yaml hpcloop.yaml
'

test_expect_success SQLITE3 'a study whose config names another repository starts again from it' '
	git init -q second &&
	printf "second\n" >second/change.txt &&
	git -C second add change.txt &&
	git -C second -c user.name=t -c user.email=t@t commit -q -m second &&
	n0=$(git -C second rev-parse HEAD) &&
	sed -i "/^  demo:/,/^  copy:/ s|^    code: .*|    code: {repo: second}|" hpcloop.yaml &&
	printf "0.9\n" >metrics &&
	printf "commit on the second\n" >codes &&
	start demo 1 &&
	tick_until finished 60 &&
	test "$(run_col 1 base_commit)" = "$n0" &&
	c=$(run_col 1 commit_sha) &&
	test "$(git -C second rev-parse "$c^")" = "$n0" &&
	test "$(q "SELECT base_commit FROM study_code WHERE study = '"'"'demo'"'"'")" = "$n0" &&
	test "$(q "SELECT status FROM results WHERE loop_id = '"'"'$loop'"'"'")" = discard &&
	test "$(q "SELECT best_commit FROM study_code WHERE study = '"'"'demo'"'"'")" = "$n0" &&
	test "$(q "SELECT count(*) FROM events WHERE type = '"'"'code.based'"'"' AND subject = '"'"'demo'"'"'")" = 2
'

test_expect_success SQLITE3 'a code with both repo and dir, neither, or a checkout outside the run is config_invalid' '
	cp hpcloop.yaml good.yaml &&
	row_counts >before &&
	for c in "{repo: a, dir: b}" "{ref: main}" "{repo: a, checkout: ../up}" "{repo: a, checkout: .hidden}"; do
		cp good.yaml hpcloop.yaml &&
		printf "  broken:\n    cluster: local\n    code: %s\n" "$c" >>hpcloop.yaml &&
		test_expect_code 1 hl ledger --spec "{\"study\":\"demo\"}" &&
		test_error out config_invalid &&
		grep -q "studies.broken.code" out || return 1
	done &&
	row_counts >after && test_cmp before after &&
	cp good.yaml hpcloop.yaml
'

test_expect_success 'nothing hostile ran' '
	test ! -e pwned && test ! -e "$REPO/pwned" && test ! -e sprints/pwned &&
	! find . -name pwned | grep -q .
'

test_done
