#!/bin/sh
test_description='plan-waves: a million tasks paged through, every task in one array, waves chained'
. "$(dirname "$0")/lib.sh"

test_expect_success 'a small plan: arrays of even size, waves after one another' '
	hl plan-waves --spec "{\"tasks\":2500,\"max_array_size\":1000,\"max_concurrent\":2,\"array_concurrency\":50,\"task_s\":600,\"spin_up_s\":30}" &&
	test_json_field out .data.arrays 3 &&
	test_json_field out .data.array_size 834 &&
	test_json_field out .data.waves 2 &&
	test_json_field out .data.plan.0.after_wave null &&
	test_json_field out .data.plan.1.after_wave 0 &&
	test_json_field out .data.plan.1.arrays.0 "[1668,2499]" &&
	test_json_field out .data.estimate.wave_wall_s 10230.0 &&
	test_json_field out .data.next null
'

test_expect_success 'a million tasks, paged: every task once, no array over the limit, no wave over the cap' '
	cursor= pages=0 &&
	: >arrays &&
	while :; do
		spec="{\"tasks\":1000000,\"max_array_size\":1000,\"max_concurrent\":7,\"limit\":40${cursor:+,\"cursor\":\"$cursor\"}}" &&
		hl plan-waves --spec "$spec" || return 1
		pages=$((pages + 1))
		json_field out .data.plan | tr "{" "\n" | grep "\"wave\"" >waves.page
		while read -r w; do
			n=$(echo "$w" | grep -o "\[[0-9]*,[0-9]*\]" | wc -l)
			test $n -le 7 || { echo "wave with $n arrays"; return 1; }
		done <waves.page
		json_field out .data.plan | grep -o "\[[0-9]*,[0-9]*\]" | tr -d "[]" >>arrays
		cursor=$(json_field out .data.next)
		test "$cursor" != null || break
		test $pages -lt 100 || { echo "too many pages"; return 1; }
	done &&
	test $pages = 4 &&
	test "$(wc -l <arrays)" = 1000 &&
	awk -F, "BEGIN { next_task = 0 }
		\$1 != next_task { print \"gap or overlap at \" \$1; exit 1 }
		\$2 - \$1 + 1 > 1000 { print \"array over the limit\"; exit 1 }
		{ next_task = \$2 + 1 }
		END { if (next_task != 1000000) { print \"ends at \" next_task; exit 1 } }" arrays
'

test_done
