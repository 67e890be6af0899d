#!/bin/sh
test_description='validate: checking a spec before sending it'
. "$(dirname "$0")/lib.sh"

test_expect_success 'a valid spec for a primitive' '
	hl validate --spec "{\"primitive\":\"events\",\"instance\":{\"since\":3}}" &&
	test_json_field out .data.valid true &&
	test_json_field out .data.errors "[]"
'

test_expect_success 'an invalid spec gives pointer and keyword' '
	hl validate --spec "{\"primitive\":\"events\",\"instance\":{\"since\":-1,\"bogus\":1}}" &&
	test_json_field out .data.valid false &&
	json_field out .data.errors >errs &&
	grep -q "\"path\":\"/since\"" errs &&
	grep -q "\"keyword\":\"minimum\"" errs &&
	grep -q "bogus" errs
'

test_expect_success 'an inline schema' '
	hl validate --spec "{\"schema\":{\"type\":\"array\",\"items\":{\"type\":\"integer\"}},\"instance\":[1,\"a\"]}" &&
	test_json_field out .data.valid false &&
	test_json_field out .data.errors.0.path /1
'

test_expect_success 'the output schema of a primitive' '
	hl validate --spec "{\"primitive\":\"version\",\"which\":\"output\",\"instance\":{}}" &&
	test_json_field out .data.valid false
'

test_expect_success 'the config schema' '
	hl validate --spec "{\"primitive\":\"config\",\"instance\":{\"clusterz\":{}}}" &&
	test_json_field out .data.valid false
'

test_expect_success 'an unknown primitive is not_found' '
	test_expect_code 1 hl validate --spec "{\"primitive\":\"nope\",\"instance\":1}" &&
	test_error out not_found
'

test_expect_success 'schema and primitive together are refused' '
	test_expect_code 1 hl validate --spec "{\"schema\":{},\"primitive\":\"list\",\"instance\":1}" &&
	test_error out spec_invalid
'

test_done
