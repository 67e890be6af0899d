#!/bin/sh
test_description='status with one cluster out of reach is ok with partial_errors'
# The cluster out of reach is real: the slurm scheduler over the ssh
# transport, to a free port of 127.0.0.1 where nothing listens, so the
# connection is refused by this machine's own network stack.
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: a local study and one on a cluster that cannot be reached' '
	setup_local_config "" &&
	cat >>hpcloop.yaml <<-\YAML &&
	YAML
	far_port=$("$HPCLOOP_TEST_TOOL" free-port) &&
	sed -i "s/^studies:/  far:\n    transport: ssh\n    host: 127.0.0.1\n    port: $far_port\n    user: nobody\n    scheduler: slurm\n&/" hpcloop.yaml &&
	sed -i "s/^    allow_loop: true/&\n  remote:\n    cluster: far/" hpcloop.yaml &&
	hl study-list &&
	test_json_field out .data.count 2
'

test_expect_success SQLITE3 'a live sprint on each cluster' '
	FAKE_AGENT_SLEEP=5 submit "local one" && here=$sprint &&
	sqlite3 "$HPCLOOP_JOURNAL" "INSERT INTO studies (name, cluster, created_at, updated_at) VALUES ('"'"'remote'"'"', '"'"'far'"'"', '"'"'x'"'"', '"'"'x'"'"');
		INSERT INTO sprints (id, study, cluster, state, directory, job_id, created_at, submitted_at)
		VALUES ('"'"'sp-ffffff'"'"', '"'"'remote'"'"', '"'"'far'"'"', '"'"'submitted'"'"', '"'"'/nowhere'"'"', '"'"'42'"'"', '"'"'x'"'"', '"'"'x'"'"');"
'

test_expect_success SQLITE3 'status answers ok, with the unreachable cluster in partial_errors' '
	hl status &&
	test_json_field out .ok true &&
	test_json_field out .partial_errors.0.code ssh_unreachable &&
	test_json_field out .partial_errors.0.cluster far &&
	json_field out .partial_errors.0.detail | grep -q "127.0.0.1:$far_port" &&
	test_json_field out .data.clusters.far.error ssh_unreachable &&
	test_json_field out .data.clusters.far.queried false &&
	test_json_field out .data.clusters.local.queried true &&
	json_field out .data.sprints | grep -q sp-ffffff &&
	json_field out .data.sprints | grep -q "$here"
'

test_expect_success SQLITE3 'the unreachable sprint keeps its state; nothing is invented' '
	hl status --spec "{\"sprint_id\":\"sp-ffffff\"}" &&
	test_json_field out .data.sprints.0.state submitted &&
	hl cancel --spec "{\"sprint_id\":\"$here\"}"
'

test_expect_success SQLITE3 'a job the scheduler does not know, silent for long, is lost' '
	sqlite3 "$HPCLOOP_JOURNAL" "INSERT INTO sprints (id, study, cluster, state, directory, job_id, created_at, submitted_at)
		VALUES ('"'"'sp-eeeeee'"'"', '"'"'demo'"'"', '"'"'local'"'"', '"'"'submitted'"'"', '"'"'$PWD/gone'"'"', '"'"'999999'"'"', '"'"'2026-01-01T00:00:00Z'"'"', '"'"'2026-01-01T00:00:00Z'"'"');" &&
	hl status --spec "{\"sprint_id\":\"sp-eeeeee\"}" &&
	test_json_field out .data.sprints.0.state lost &&
	test_json_field out .data.sprints.0.evidence.scheduler.state unknown &&
	json_field out .data.sprints.0.error | grep -q "heartbeats stopped"
'

test_expect_success SQLITE3 'a job unknown to the scheduler but recently submitted is not lost yet' '
	now=$(date -u +%Y-%m-%dT%H:%M:%SZ) &&
	sqlite3 "$HPCLOOP_JOURNAL" "INSERT INTO sprints (id, study, cluster, state, directory, job_id, created_at, submitted_at)
		VALUES ('"'"'sp-dddddd'"'"', '"'"'demo'"'"', '"'"'local'"'"', '"'"'submitted'"'"', '"'"'$PWD/gone'"'"', '"'"'999998'"'"', '"'"'$now'"'"', '"'"'$now'"'"');" &&
	hl status --spec "{\"sprint_id\":\"sp-dddddd\"}" &&
	test_json_field out .data.sprints.0.state submitted &&
	test_json_field out .data.sprints.0.evidence.scheduler.state unknown
'

test_done
