#!/bin/sh
# bench/slurm.sh: the slurm scheduler over SSH with many jobs in a real
# SLURM queue (issue 8, item 10).  Starts a private SLURM and sshd
# (tests/cluster/), puts BENCH_JOBS (default 100) held array tasks in
# the queue, each the job of a live sprint of the journal, and prints:
# the squeue / sacct / scontrol calls and SSH connections of one status
# call (counted by wrappers first on the sessions' PATH and by sshd's
# log), its wall time, the same for a second status call inside the
# query budget's freshness window, and the wall time of one submit-flow
# over SSH.  Needs root and the SLURM and sshd packages; asserts nothing.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${HPCLOOP_BIN:-$top/build/hpcloop}
tool=$top/build/test-tool
n=${BENCH_JOBS:-100}
for c in munged slurmctld slurmd sbatch squeue sqlite3 /usr/sbin/sshd; do
	if ! command -v "$c" >/dev/null 2>&1; then
		echo "bench/slurm.sh: skipped: $c is not installed" \
			"(scripts/install-deps.sh)"
		exit 0
	fi
done
if [ "$(id -u)" != 0 ]; then
	echo "bench/slurm.sh: skipped: the test daemons run as root"
	exit 0
fi
dir=$(mktemp -d /tmp/bench-slurm.XXXXXX)
# munged wants every directory above its socket searchable by all.
chmod 755 "$dir"
trap '"$top/tests/cluster/stop-sshd.sh" "$dir/sshd" >/dev/null 2>&1
	sh "$top/tests/cluster/stop-slurm.sh" "$dir/slurm" >/dev/null 2>&1
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$dir"' EXIT
cd "$dir"
export HPCLOOP_CONFIG="$dir/hpcloop.yaml" HPCLOOP_JOURNAL="$dir/j.db"
unset SSH_AUTH_SOCK

sh "$top/tests/cluster/start-slurm.sh" "$dir/slurm" 2>slurm.log
. "$dir/slurm/env.sh"
mkdir wrap remote
for c in squeue sacct scontrol sbatch scancel; do
	printf '#!/bin/sh\necho "%s $*" >>%s\nexec /usr/bin/%s "$@"\n' \
		"$c" "$dir/calls.log" "$c" >"wrap/$c"
	chmod +x "wrap/$c"
done
port=$("$tool" free-port)
SSHD_SETENV="SLURM_CONF=$SLURM_CONF PATH=$dir/wrap:/usr/bin:/bin" \
	"$top/tests/cluster/start-sshd.sh" "$dir/sshd" "$port" 2>sshd.log

cat >hpcloop.yaml <<EOF
version: 1
agent_command: "$top/tests/agents/fake-agent -p --output-format stream-json --verbose"
clusters:
  hpc:
    transport: ssh
    host: 127.0.0.1
    port: $port
    user: $(id -un)
    key: $dir/sshd/id_ed25519
    known_hosts: $dir/sshd/known_hosts
    scheduler: slurm
    working_dir: $dir/remote
    query_interval_s: 30
    query_burst: 1
studies:
  demo:
    cluster: hpc
    red_team_max_rounds: 0
    metric: {name: val_loss, direction: minimize}
EOF
"$bin" init >/dev/null

# The queue: one held array of n tasks; each task a live sprint.
arr=$(sbatch --parsable --hold --array=0-$((n - 1)) -o /dev/null \
	--wrap true)
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
{
	echo "BEGIN;"
	echo "INSERT INTO studies (name, cluster, created_at, updated_at) VALUES ('demo', 'hpc', '$now', '$now');"
	i=0
	while [ $i -lt "$n" ]; do
		printf "INSERT INTO sprints (id, study, cluster, state, directory, job_id, created_at, submitted_at) VALUES ('sp-%06x', 'demo', 'hpc', 'submitted', '%s/remote/none-%d', '%s_%d', '%s', '%s');\n" \
			"$i" "$dir" "$i" "$arr" "$i" "$now" "$now"
		i=$((i + 1))
	done
	echo "COMMIT;"
} | sqlite3 "$HPCLOOP_JOURNAL"

# tick LABEL: one status call, timed, with what it cost on the cluster.
tick () {
	: >calls.log
	before=$(grep -c "Connection from" sshd/sshd.log || :)
	start=$(date +%s%N)
	"$bin" status >status.out 2>status.err || true
	end=$(date +%s%N)
	after=$(grep -c "Connection from" sshd/sshd.log || :)
	printf '%-34s %6d ms  squeue %s  sacct %s  scontrol %s  ssh connections %s\n' \
		"$1" $(((end - start) / 1000000)) \
		"$(grep -c '^squeue ' calls.log || :)" \
		"$(grep -c '^sacct ' calls.log || :)" \
		"$(grep -c '^scontrol ' calls.log || :)" \
		"$((after - before))"
}

echo "== bench/slurm.sh: $n jobs in the real SLURM queue, status over SSH"
tick "status (queries the scheduler)"
tick "status (inside the freshness window)"
live=$("$tool" json-field status.out .data.live 2>/dev/null || echo '?')
echo "live sprints seen by status: $live"

start=$(date +%s%N)
"$bin" submit-flow --spec '{"study":"demo","idea":"bench"}' >submit.out
end=$(date +%s%N)
echo "submit-flow over SSH to the real SLURM: $(((end - start) / 1000000)) ms (target 150 ms)"
scancel "$arr" >/dev/null 2>&1 || true
