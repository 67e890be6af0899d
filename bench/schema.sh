#!/bin/sh
# Wall time of the JSON Schema validator on hostile sizes: uniqueItems
# over 100,000 items and enum with 200,000 values (once, and for each
# of 100,000 items), through `test-tool schema-validate` (files of any
# size) and, where the spec fits in its 1 MiB, through `hpcloop
# validate`.  Beside each figure, the cost of reading and parsing the
# same bytes without validating them, which validation adds to.  Prints
# the median of 5 runs in ms; asserts nothing.  Target: well under a
# second each.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${HPCLOOP_BIN:-$top/build/hpcloop}
tool=${HPCLOOP_TEST_TOOL:-$top/build/test-tool}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# list N: the integers 0 .. N-1 as a JSON array's contents.
list () {
	seq 0 $(($1 - 1)) | paste -sd, -
}

# median_ms CMD...: run CMD 5 times, print the median in ms.
median_ms () {
	i=0
	while [ $i -lt 5 ]; do
		s=$(date +%s%N)
		"$@" >/dev/null 2>&1 || true
		e=$(date +%s%N)
		echo $(( (e - s) / 1000 ))
		i=$((i + 1))
	done | sort -n | sed -n 3p | awk '{ printf "%.1f", $1 / 1000 }'
}

# verdict CMD...: "valid", or the message of the first error, from
# the error array CMD prints.
verdict () {
	out=$("$@" 2>/dev/null || true)
	if [ "$out" = "[]" ]; then
		echo valid
	else
		printf '%s\n' "$out" | "$tool" json-field - /0/message
	fi
}

echo 'true' >true.json
echo '{"uniqueItems": true}' >unique.json
echo "[$(list 100000)]" >distinct.json
# The same with the last item a duplicate of the first, as 0.0.
echo "[$(list 99999),0.0]" >dup-ends.json
echo "{\"enum\": [$(list 200000)]}" >enum.json
echo '199999.0' >member.json
echo "{\"items\": {\"enum\": [$(list 200000)]}}" >enum-items.json
echo "[$(seq 100000 -1 1 | paste -sd, -)]" >items.json

# row LABEL SCHEMA FILE: the figures of one case.  The baseline hides
# SCHEMA under a keyword that means nothing, so that it parses the same
# bytes and validates nothing.
row () {
	label=$1
	printf '{"ignored": %s}\n' "$(cat "$2")" >baseline.json
	printf '%-44s %7s ms  (parsing %s ms)  %s\n' "$label" \
		"$(median_ms "$tool" schema-validate "$2" "$3")" \
		"$(median_ms "$tool" schema-validate baseline.json "$3")" \
		"$(verdict "$tool" schema-validate "$2" "$3")"
}

row 'uniqueItems, 100,000 distinct items' unique.json distinct.json
row 'uniqueItems, 100,000 items, dup at both ends' unique.json dup-ends.json
row 'enum of 200,000 values, one instance' enum.json member.json
row 'enum of 200,000 values, 100,000 items' enum-items.json items.json

# Through the primitive: the spec holds schema and instance (< 1 MiB).
printf '{"schema": {"uniqueItems": true}, "instance": [%s,0.0]}\n' \
	"$(list 99999)" >spec.json
printf '{"schema": true, "instance": [%s,0.0]}\n' "$(list 99999)" \
	>spec-true.json
printf '%-44s %7s ms  (parsing %s ms)  %s\n' \
	'hpcloop validate, uniqueItems, dup at ends' \
	"$(median_ms "$bin" validate --spec spec.json)" \
	"$(median_ms "$bin" validate --spec spec-true.json)" \
	"$("$bin" validate --spec spec.json |
		"$tool" json-field - .data.errors.0.message)"
