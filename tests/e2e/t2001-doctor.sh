#!/bin/sh
test_description='doctor checks what a study'"'"'s first sprint would meet'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' 'RED_TEAM_ROUNDS=0 setup_local_config'

# check_of NAME: the ok of the check NAME of study demo in out.
check_of () {
	json_field out .data.checks | tr "{" "\n" | grep "\"name\":\"$1\"" |
		grep "\"study\":\"demo\"" | sed -n "s/.*\"ok\":\([a-z]*\).*/\1/p"
}

test_expect_success 'a working study is healthy, every check named' '
	hl doctor &&
	test_json_field out .data.healthy true &&
	test "$(check_of cluster)" = true &&
	test "$(check_of working_dir)" = true &&
	test "$(check_of agent_program)" = true &&
	test "$(check_of agent_run)" = true
'

test_expect_success 'an agent that is not on the PATH is unhealthy, with what to do' '
	cp hpcloop.yaml good.yaml &&
	sed -i "s|^agent_command: .*|agent_command: \"no-such-agent-xyz -p\"|" hpcloop.yaml &&
	hl doctor --spec "{\"study\":\"demo\"}" &&
	test_json_field out .data.healthy false &&
	test "$(check_of agent_program)" = false &&
	json_field out .data.checks | grep -q "no-such-agent-xyz" &&
	json_field out .data.checks | grep -q "set agent_command to its full path" &&
	cp good.yaml hpcloop.yaml
'

test_expect_success 'an agent that prints plain text is unhealthy and told which flags to add' '
	FAKE_AGENT_PLAIN_STEP=unknown hl doctor --spec "{\"study\":\"demo\"}" &&
	test_json_field out .data.healthy false &&
	test "$(check_of agent_run)" = false &&
	json_field out .data.checks | grep -q "add --output-format stream-json --verbose"
'

test_expect_success 'an agent that answers with an error is unhealthy, in its own words' '
	FAKE_AGENT_ERROR_STEP=unknown hl doctor --spec "{\"study\":\"demo\"}" &&
	test "$(check_of agent_run)" = false &&
	json_field out .data.checks | grep -q "fake failure in unknown"
'

test_expect_success 'agent_check path does not run the agent' '
	FAKE_AGENT_ERROR_STEP=unknown hl doctor --spec "{\"study\":\"demo\",\"agent_check\":\"path\"}" &&
	test_json_field out .data.healthy true &&
	test -z "$(check_of agent_run)"
'

test_expect_success 'Claude Code without unattended tools is unhealthy' '
	mkdir -p bin && printf "#!/bin/sh\nexit 0\n" >bin/claude && chmod +x bin/claude &&
	cat >>hpcloop.yaml <<-EOF &&
	  noperm:
	    cluster: local
	    agent_command: "$PWD/bin/claude -p --output-format stream-json --verbose"
	    agent_tools: {allow: [Read], deny: []}
	EOF
	hl doctor --spec "{\"study\":\"noperm\",\"agent_check\":\"path\"}" &&
	test_json_field out .data.healthy false &&
	json_field out .data.checks | grep -q "may not use Bash, Write, Edit unattended" &&
	cp good.yaml hpcloop.yaml
'

test_expect_success 'a cluster that cannot be opened or reached is unhealthy, naming it' '
	cat >>hpcloop.yaml <<-EOF &&
	  remote:
	    cluster: far
	EOF
	sed -i "s/^clusters:/clusters:\n  far: {transport: ssh, host: 127.0.0.1, port: 1, user: x, scheduler: slurm, connect_timeout_s: 2}/" hpcloop.yaml &&
	hl doctor --spec "{\"study\":\"remote\",\"agent_check\":\"path\"}" &&
	test_json_field out .data.healthy false &&
	json_field out .data.checks | grep -q "cluster .far." &&
	cp good.yaml hpcloop.yaml
'

test_expect_success 'the local scheduler over ssh is refused where it is written' '
	sed -i "s/^clusters:/clusters:\n  far: {transport: ssh, host: h, user: x}/" hpcloop.yaml &&
	hl doctor --spec "{\"study\":\"demo\",\"agent_check\":\"path\"}" &&
	cp good.yaml hpcloop.yaml &&
	test_json_field out .data.healthy false &&
	json_field out .data.checks | grep -q "\"name\":\"config\",\"ok\":false" &&
	json_field out .data.checks | grep -q "clusters.far.scheduler: the local scheduler runs jobs on this machine"
'

test_expect_success 'a sprints directory that cannot be made is unhealthy' '
	echo "a file, not a directory" >afile &&
	sed -i "s|^    working_dir: sprints|    working_dir: $PWD/afile/sub|" hpcloop.yaml &&
	hl doctor --spec "{\"study\":\"demo\",\"agent_check\":\"path\"}" &&
	test_json_field out .data.healthy false &&
	test "$(check_of working_dir)" = false &&
	json_field out .data.checks | grep -q "cannot write in $PWD/afile/sub" &&
	cp good.yaml hpcloop.yaml
'

test_expect_success 'an unknown study is not_found' '
	test_expect_code 1 hl doctor --spec "{\"study\":\"nope\"}" &&
	test_error out not_found
'

test_done
