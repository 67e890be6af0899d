#!/usr/bin/env bash
#
# A sprint directory on a full filesystem: the job says "no space left
# on device" (on stderr, in output.log and in completion.json's "error"
# when it can still be written), never that its embedded inputs are
# corrupt.  Two ways to fill a disk: the file being written is a symlink
# to /dev/full (no privilege needed), or the sprint directory is a tiny
# tmpfs (root only; always unmounted, in an EXIT trap too).  Inputs that
# are really damaged still say corrupt.
# shellcheck disable=SC1090,SC1091,SC2016,SC2034,SC2317  # test idioms
test_description='job script: a full disk says so'
. "$(dirname "$0")/lib.sh"

MOUNTS=()	# the tmpfs mounted by this file, unmounted on exit

# unmount_all: unmount every tmpfs of MOUNTS that is still mounted.
unmount_all() {
	local m
	for m in ${MOUNTS[@]+"${MOUNTS[@]}"}; do
		mountpoint -q "$m" 2>/dev/null || continue
		umount "$m" 2>/dev/null || umount -l "$m"
	done
	MOUNTS=()
}
trap unmount_all EXIT

# mount_tiny DIR KIB: mount a tmpfs of KIB KiB on DIR.
mount_tiny() {
	mkdir -p "$1" && mount -t tmpfs -o "size=${2}k,mode=0755" tmpfs "$1" &&
		MOUNTS+=("$1")
}

# big_idea FILE: write an idea of about 150 KB, larger than the tmpfs.
big_idea() {
	local i
	for ((i = 0; i < 1500; i++)); do
		printf 'line %04d of an idea too large for a tiny disk, %s\n' \
			"$i" "padded to about one hundred bytes......"
	done >"$1"
}

# says_disk_full DIR: the job's output and its sprint say the disk is
# full, and nothing calls the inputs corrupt.
says_disk_full() {
	test_must_contain "$1/job.out" \
		"hpcloop job: sprint failed: cannot write idea.txt in the sprint directory: no space left on device" &&
		! grep -rqi corrupt "$1/job.out" "$SPRINT"
}

if [[ -c /dev/full ]] && ! printf x 2>/dev/null >/dev/full; then
	test_set_prereq DEVFULL
else
	test_lack_prereq DEVFULL "no /dev/full that fails writes"
fi
if ((EUID != 0)); then
	test_lack_prereq TMPFS "not root, cannot mount a tmpfs"
elif mount_tiny "$TRASH/probe" 64; then
	unmount_all
	test_set_prereq TMPFS
else
	test_lack_prereq TMPFS "mount -t tmpfs failed (no CAP_SYS_ADMIN?)"
fi

test_expect_success DEVFULL 'an input written to /dev/full: no space left' '
	make_sprint "$TRASH/devfull" rounds=0 &&
	ln -s /dev/full "$SPRINT/idea.txt.tmp" &&
	run_job "$TRASH/devfull" &&
	[[ $JOB_RC == 1 ]] &&
	test_json_field "$SPRINT/completion.json" status failed &&
	test_json_field "$SPRINT/completion.json" error \
		"cannot write idea.txt in the sprint directory: no space left on device" &&
	test_must_contain "$SPRINT/output.log" "no space left on device" &&
	says_disk_full "$TRASH/devfull" &&
	[[ ! -e $SPRINT/idea.txt.tmp && ! -e $SPRINT/idea.txt ]]
'

test_expect_success TMPFS 'a disk with no room for the idea: completion says why' '
	big_idea "$TRASH/big.txt" &&
	make_sprint "$TRASH/small" rounds=0 idea_file="$TRASH/big.txt" &&
	mount_tiny "$SPRINT" 64 &&
	run_job "$TRASH/small" &&
	[[ $JOB_RC == 1 ]] &&
	test_json_field "$SPRINT/completion.json" error \
		"cannot write idea.txt in the sprint directory: no space left on device" &&
	test_must_contain "$SPRINT/output.log" "no space left on device" &&
	says_disk_full "$TRASH/small" &&
	[[ ! -e $SPRINT/idea.txt.tmp ]] &&
	unmount_all
'

test_expect_success TMPFS 'a disk already full: stderr says so' '
	make_sprint "$TRASH/full" rounds=0 &&
	mount_tiny "$SPRINT" 64 &&
	mkdir -p "$SPRINT/.hpcloop/spool" "$SPRINT/results" &&
	{ dd if=/dev/zero of="$SPRINT/filler" bs=4k 2>/dev/null; true; } &&
	[[ $(df --output=avail "$SPRINT" | tail -n 1) -eq 0 ]] &&
	run_job "$TRASH/full" &&
	[[ $JOB_RC == 1 ]] &&
	says_disk_full "$TRASH/full" &&
	test_must_contain "$TRASH/full/job.out" \
		"hpcloop job: cannot write completion.json: no space left on device" &&
	[[ ! -s $SPRINT/completion.json && ! -e $SPRINT/completion.json.tmp ]] &&
	unmount_all
'

test_expect_success 'inputs that are really damaged still say corrupt' '
	make_sprint "$TRASH/damaged" rounds=0 &&
	sed -i "s/^\(	b64_to_file idea.txt \)'"'"'[^'"'"']*'"'"'/\1'"'"'A'"'"'/" \
		"$TRASH/damaged/job.sh" &&
	grep -q "b64_to_file idea.txt '"'"'A'"'"'" "$TRASH/damaged/job.sh" &&
	run_job "$TRASH/damaged" &&
	[[ $JOB_RC == 1 ]] &&
	test_json_field "$SPRINT/completion.json" error \
		"the job script'"'"'s embedded inputs are corrupt" &&
	[[ ! -e $SPRINT/idea.txt.tmp ]]
'

unmount_all
test_done
