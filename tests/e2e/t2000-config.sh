#!/bin/sh
test_description='hpcloop.yaml: validation, layering, secrets from the environment'
. "$(dirname "$0")/lib.sh"

test_expect_success 'without a config, primitives that need one say to run init' '
	row_counts >before &&
	test_expect_code 1 hl study-list &&
	test_error out config_invalid &&
	grep -q "hpcloop init" out &&
	row_counts >after && test_cmp before after
'

test_expect_success 'init writes a config that loads' '
	hl init &&
	hl doctor --spec "{\"agent_check\":\"path\"}" &&
	json_field out .data.checks | grep -q "\"name\":\"config\",\"ok\":true" &&
	json_field out .data.checks | grep -q "\"name\":\"cluster\",\"ok\":true" &&
	hl study-list &&
	test_json_field out .data.studies.0.name demo
'

test_expect_success 'a study naming an unknown cluster is config_invalid naming the key path' '
	cp hpcloop.yaml good.yaml &&
	sed "s/^    cluster: local/    cluster: gpu/" good.yaml >hpcloop.yaml &&
	row_counts >before &&
	test_expect_code 1 hl study-list &&
	test_error out config_invalid &&
	grep -q "studies.demo.cluster" out &&
	row_counts >after && test_cmp before after &&
	cp good.yaml hpcloop.yaml
'

test_expect_success 'an unknown key is config_invalid naming it' '
	sed "s/^    working_dir:/    workdir:/" good.yaml >hpcloop.yaml &&
	test_expect_code 1 hl study-list &&
	test_error out config_invalid &&
	grep -q "clusters.local.workdir" out &&
	cp good.yaml hpcloop.yaml
'

test_expect_success 'a cluster environment may not set BASH_ENV' '
	sed "s/^    working_dir: sprints/&\n    environment: {BASH_ENV: \/tmp\/x}/" good.yaml >hpcloop.yaml &&
	test_expect_code 1 hl study-list &&
	test_error out config_invalid &&
	grep -q "clusters.local.environment.BASH_ENV" out &&
	cp good.yaml hpcloop.yaml
'

test_expect_success 'init over a broken config refuses and changes nothing' '
	echo "studies: [1" >hpcloop.yaml &&
	"$HPCLOOP_TEST_TOOL" sha256 hpcloop.yaml >sum1 &&
	row_counts >before &&
	test_expect_code 1 hl init &&
	test_error out config_invalid &&
	"$HPCLOOP_TEST_TOOL" sha256 hpcloop.yaml >sum2 && test_cmp sum1 sum2 &&
	row_counts >after && test_cmp before after &&
	cp good.yaml hpcloop.yaml
'

test_expect_success 'a JSON config works too' '
	cat >cfg.json <<-\JSON &&
	{"version": 1,
	 "clusters": {"local": {"transport": "local", "scheduler": "local"}},
	 "studies": {"s1": {"cluster": "local"}}}
	JSON
	hl study-list --config cfg.json &&
	test_json_field out .data.studies.0.name s1
'

test_expect_success 'job options layer cluster, study, request; "" removes a key' '
	setup_local_config "" &&
	cat >>hpcloop.yaml <<-\YAML &&
	YAML
	sed -i "s/^    max_concurrent_jobs:.*/&\n    job_options: {partition: short, mem: 1G, account: lab}/" hpcloop.yaml &&
	sed -i "s/^    allow_loop: true/&\n    job_options: {mem: 4G}/" hpcloop.yaml &&
	hl render-job --spec "{\"study\":\"demo\",\"idea\":\"x\",\"job_options\":{\"account\":\"\",\"gres\":\"gpu:1\"}}" &&
	test_json_field out .data.job_options "{\"gres\":\"gpu:1\",\"mem\":\"4G\",\"partition\":\"short\"}"
'

test_expect_success 'a job option value with a newline is refused, journal unchanged' '
	row_counts >before &&
	test_expect_code 1 hl submit-flow --spec "{\"study\":\"demo\",\"idea\":\"x\",\"job_options\":{\"mem\":\"4G\\n#SBATCH --x\"}}" &&
	test_error out spec_invalid &&
	grep -q mem out &&
	row_counts >after && test_cmp before after
'

test_expect_success 'a job option key with shell metacharacters is refused' '
	row_counts >before &&
	test_expect_code 1 hl submit-flow --spec "{\"study\":\"demo\",\"idea\":\"x\",\"job_options\":{\"a;b\":\"1\"}}" &&
	test_error out spec_invalid &&
	row_counts >after && test_cmp before after
'

test_expect_success 'an unknown study is not_found, journal unchanged' '
	row_counts >before &&
	test_expect_code 1 hl submit-flow --spec "{\"study\":\"nope\",\"idea\":\"x\"}" &&
	test_error out not_found &&
	row_counts >after && test_cmp before after
'

test_expect_success 'HPCLOOP_* secrets win over the file and are never shown' '
	echo "orchestrator_secret: from-the-file-secret" >>hpcloop.yaml &&
	HPCLOOP_ORCHESTRATOR_SECRET=from-env-secret hl study-show demo &&
	! grep -q "from-the-file-secret" out &&
	! grep -q "from-env-secret" out &&
	HPCLOOP_ORCHESTRATOR_URL=http://127.0.0.1:9 hl render-job --spec "{\"study\":\"demo\",\"idea\":\"x\"}" &&
	dir=$(json_field out .data.directory) &&
	b64=$(printf %s http://127.0.0.1:9 | base64 -w0) &&
	grep -q "$b64" "$dir/run_sprint.sh"
'

test_expect_success 'the schema fills in what the file leaves out' '
	hl study-show demo &&
	test_json_field out .data.study.metric.min_improvement 0 &&
	test_json_field out .data.cluster.cancel_grace_s 30 &&
	hl render-job --spec "{\"study\":\"demo\",\"idea\":\"x\"}" &&
	dir=$(json_field out .data.directory) &&
	grep -q "^STEP_TIMEOUT_S=.0.$" "$dir/run_sprint.sh"
'

test_expect_success 'a secret-named cluster variable is never shown' '
	cp hpcloop.yaml before.yaml &&
	sed -i "s/^    cancel_grace_s: 30/&\n    environment: {WANDB_API_KEY: wandb-s3cr3t, PLAIN_NAME: plain-value}/" hpcloop.yaml &&
	hl study-show demo &&
	! grep -q "wandb-s3cr3t" out &&
	test_json_field out .data.cluster.environment.PLAIN_NAME plain-value &&
	cp before.yaml hpcloop.yaml
'

test_expect_success 'a bad value from a variable is blamed on it and not quoted' '
	row_counts >before &&
	HPCLOOP_ORCHESTRATOR_URL="ftp://not-s3cr3t" test_expect_code 1 hl study-list &&
	test_error out config_invalid &&
	grep -q "orchestrator_url (from HPCLOOP_ORCHESTRATOR_URL)" out &&
	! grep -q "s3cr3t" out &&
	row_counts >after && test_cmp before after
'

test_done
