#!/bin/sh
test_description='cluster-list: the configured clusters, their studies, live sprints and budget, contacting nothing'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: the local cluster and an ssh one nothing can reach' '
	setup_local_config "" &&
	sed -i "s/^clusters:/clusters:\n  far: {transport: ssh, host: 192.0.2.1, port: 2222, user: x, scheduler: sge}/" hpcloop.yaml &&
	hl study-list
'

test_expect_success 'every cluster with its settings and studies, in name order' '
	hl cluster-list &&
	test_json_field out .data.count 2 &&
	test_json_field out .data.clusters.0.name far &&
	test_json_field out .data.clusters.0.host 192.0.2.1 &&
	test_json_field out .data.clusters.0.port 2222 &&
	test_json_field out .data.clusters.0.studies "[]" &&
	test_json_field out .data.clusters.1.name local &&
	test_json_field out .data.clusters.1.available true &&
	test_json_field out .data.clusters.1.budget null &&
	test_json_field out .data.clusters.1.live 0 &&
	json_field out .data.clusters.1.studies | grep -q "\"demo\"" &&
	! json_field out .data.clusters.1 | grep -q "\"host\""
'

test_expect_success 'an unreachable cluster is listed without being contacted' '
	hl cluster-list --spec "{\"cluster\":\"far\"}" &&
	test_json_field out .data.count 1 &&
	test_json_field out .data.clusters.0.transport ssh &&
	LD_DEBUG=files "$HPCLOOP_BIN" cluster-list >/dev/null 2>ld.log &&
	grep -q "libc.so" ld.log &&
	! grep -q libssh2 ld.log
'

test_expect_success 'live counts the pending, submitted and running sprints of the cluster' '
	FAKE_AGENT_SLEEP=5 submit "one live sprint" &&
	hl cluster-list --spec "{\"cluster\":\"local\"}" &&
	test_json_field out .data.clusters.0.live 1 &&
	hl cancel --spec "{\"sprint_id\":\"$sprint\"}" &&
	hl cluster-list --spec "{\"cluster\":\"local\"}" &&
	test_json_field out .data.clusters.0.live 0
'

test_expect_success 'an unknown cluster is not_found and names the primitive that lists them' '
	test_expect_code 1 hl cluster-list --spec "{\"cluster\":\"nope\"}" &&
	test_error out not_found &&
	json_field out .remediation | grep -q "hpcloop cluster-list"
'

test_done
