#!/bin/sh
test_description='the ssh transport against a real sshd on 127.0.0.1'
. "$(dirname "$0")/lib.sh"

# Each run has its own sshd, on its own port, in its own directory
# (DESIGN §12, test daemons), stopped when the script ends.
SSHD_DIR="$TRASH_DIRECTORY/sshd"
START_SSHD="$SRC_DIR/tests/cluster/start-sshd.sh"
STOP_SSHD="$SRC_DIR/tests/cluster/stop-sshd.sh"
XDG_RUNTIME_DIR="$TRASH_DIRECTORY/run"
export XDG_RUNTIME_DIR
mkdir -m 0700 "$XDG_RUNTIME_DIR"
unset SSH_AUTH_SOCK HPCLOOP_SSH_KEY_PASSPHRASE
# Under ASan: a leak inside libssh2 itself is not ours (see the file);
# the slow unwinder sees through libcrypto's frames to libssh2's.
LSAN_OPTIONS="suppressions=$TEST_DIRECTORY/t3000-libssh2.supp:fast_unwind_on_malloc=0:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS
me=$(id -un)

port=$("$HPCLOOP_TEST_TOOL" free-port)
if "$START_SSHD" "$SSHD_DIR" "$port" 2>"$TRASH_DIRECTORY/sshd-start.log"
then
	test_set_prereq SSHD
	trap '"$STOP_SSHD" "$SSHD_DIR"' EXIT
else
	case ",${HPCLOOP_REQUIRE:-}," in
	*,sshd,*)
		test_expect_success 'sshd starts (HPCLOOP_REQUIRE names sshd)' '
			cat "$TRASH_DIRECTORY/sshd-start.log" && false
		' ;;
	esac
fi

# cluster FILE [EXTRA-JSON [KNOWN_HOSTS [KEY]]]: an ssh cluster on our
# sshd, as JSON: the keys of EXTRA-JSON added, known_hosts and key
# (default: the sshd's; KEY "none" for no key, so ssh-agent) set.
cluster () {
	key=${4:-$SSHD_DIR/id_ed25519}
	keyfield=
	test "$key" = none || keyfield="\"key\":\"$key\","
	cat >"$1" <<-EOF
	{"transport":"ssh","host":"127.0.0.1","port":$port,"user":"$me",
	 $keyfield"known_hosts":"${3:-$SSHD_DIR/known_hosts}"${2:+,$2}}
	EOF
}

# tt CLUSTER OP...: test-tool transport, stdout in ./out, stderr in ./err.
tt () { "$HPCLOOP_TEST_TOOL" transport "$@" >out 2>err; }

# line N: the Nth line (1-based) of ./out.
line () { sed -n "${1}p" out >line.json; }

# connections: how many connections sshd has accepted so far.
connections () { grep -c "Connection from 127.0.0.1" "$SSHD_DIR/sshd.log" || :; }

test_expect_success 'hpcloop list does not load libssh2' '
	LD_DEBUG=files "$HPCLOOP_BIN" list >out 2>ld.log &&
	grep -q "libc.so" ld.log &&
	! grep -q libssh2 ld.log
'

test_expect_success SSHD 'opening an ssh cluster connects nothing' '
	cluster c.json &&
	before=$(connections) &&
	tt c.json open &&
	test_json_field out .ok true &&
	test "$(connections)" = "$before"
'

test_expect_success SSHD 'the first operation loads libssh2 and connects' '
	LD_DEBUG=files "$HPCLOOP_TEST_TOOL" transport c.json exec -- true \
		>out 2>ld.log &&
	grep -q "libssh2.so.1" ld.log &&
	test_json_field out .exit_code 0
'

test_expect_success SSHD 'exec: hostile words reach the command byte for byte' '
	q=$(printf "it'"'"'s \$(touch PWNED) \`touch PWNED\` a\nb \377\376 ;|&") &&
	tt c.json exec --cwd "$TRASH_DIRECTORY" --out got -- \
		printf "%s\\0" "$q" "" "-n" "--" "\$HOME" "*" "'"'"'" &&
	printf "%s\\0" "$q" "" "-n" "--" "\$HOME" "*" "'"'"'" >want &&
	cmp want got &&
	! test -e PWNED &&
	test_json_field out .exit_code 0
'

test_expect_success SSHD 'exec: directory, standard input, status, signal' '
	printf "one\ntwo" >in.txt &&
	tt c.json exec --cwd "$TRASH_DIRECTORY" -- pwd \
		+ exec --stdin in.txt -- wc -l \
		+ exec -- sh -c "echo oops >&2; exit 3" \
		+ exec -- sh -c "kill -TERM \$\$" &&
	line 1 && test_json_field line.json .out "$TRASH_DIRECTORY" &&
	line 2 && test "$(json_field line.json .out | tr -d " ")" = 1 &&
	line 3 && test_json_field line.json .exit_code 3 &&
	test_json_field line.json .err oops &&
	line 4 && test_json_field line.json .exit_code -1 &&
	test_json_field line.json .signal 15
'

test_expect_success SSHD 'exec: output is bounded, and says so' '
	tt c.json exec --max 100 -- seq 1 100000 &&
	test_json_field out .out_len 100 &&
	test_json_field out .out_truncated true
'

test_expect_success SSHD 'exec: a missing program or directory is not_found' '
	test_expect_code 1 tt c.json exec -- no-such-program-t3000 &&
	test_json_field out .error_code not_found &&
	json_field out .message | grep -q "no-such-program-t3000" &&
	test_expect_code 1 tt c.json exec --cwd /no/such/dir -- true &&
	test_json_field out .error_code not_found
'

test_expect_success SSHD 'exec: a timeout is timeout, and the command dies' '
	test_expect_code 2 tt c.json exec --timeout 1 -- sleep 29.3001 &&
	test_json_field out .error_code timeout &&
	wait_gone "sleep 29.3001" 15
'

test_expect_success SSHD 'files: write, read, range, stat, list, remove' '
	printf "hello\nworld\n" >payload &&
	tt c.json write "$TRASH_DIRECTORY/remote/a/b/f.txt" payload 640 \
		+ read "$TRASH_DIRECTORY/remote" a/b/f.txt 100 \
		+ range "$TRASH_DIRECTORY/remote" a/b/f.txt 6 3 \
		+ stat "$TRASH_DIRECTORY/remote" a/b/f.txt \
		+ stat "$TRASH_DIRECTORY/remote" a/b/missing \
		+ mkdirs "$TRASH_DIRECTORY/remote/m/n" 700 \
		+ list "$TRASH_DIRECTORY/remote" 5 10 \
		+ remove "$TRASH_DIRECTORY/remote/a/b/f.txt" \
		+ remove "$TRASH_DIRECTORY/remote/a/b/f.txt" &&
	line 2 && test_json_field line.json .data "hello
world" &&
	line 3 && test_json_field line.json .data wor &&
	test_json_field line.json .size 12 &&
	line 4 && test_json_field line.json .exists true &&
	test_json_field line.json .size 12 &&
	line 5 && test_json_field line.json .exists false &&
	line 7 && test_json_field line.json .files.0.path a/b/f.txt &&
	test_json_field line.json .files.0.size 12 &&
	line 9 && test_json_field line.json .ok true &&
	test "$(stat -c %a remote/m/n)" = 700 &&
	! test -e remote/a/b/f.txt &&
	! ls -a remote/a/b | grep -q tmp
'

test_expect_success SSHD 'files: a write replaces the file with exactly its mode' '
	printf old >remote/x && chmod 666 remote/x &&
	printf new >payload &&
	tt c.json write "$TRASH_DIRECTORY/remote/x" payload 600 &&
	test "$(cat remote/x)" = new &&
	test "$(stat -c %a remote/x)" = 600
'

test_expect_success SSHD 'files: a file over the limit is refused' '
	printf 0123456789 >remote/ten &&
	test_expect_code 2 tt c.json read "$TRASH_DIRECTORY/remote" ten 9 &&
	test_json_field out .error_code file_refused &&
	tt c.json read "$TRASH_DIRECTORY/remote" ten 10 &&
	test_json_field out .data 0123456789
'

test_expect_success SSHD 'reads refuse a symbolic link, a FIFO and a linked directory' '
	mkdir -p remote/real && printf secret >remote/real/s &&
	ln -s /etc/passwd remote/link &&
	mkfifo remote/fifo &&
	ln -s real remote/linkdir &&
	test_expect_code 2 tt c.json read "$TRASH_DIRECTORY/remote" link 100 &&
	test_json_field out .error_code file_refused &&
	test_json_field out .message "'"'"'link'"'"' is a symbolic link" &&
	test_expect_code 2 timeout 20 "$HPCLOOP_TEST_TOOL" transport c.json \
		read "$TRASH_DIRECTORY/remote" fifo 100 >out &&
	test_json_field out .message "'"'"'fifo'"'"' is a FIFO" &&
	test_expect_code 2 tt c.json read "$TRASH_DIRECTORY/remote" linkdir/s 100 &&
	test_json_field out .message \
		"'"'"'linkdir'"'"' in '"'"'linkdir/s'"'"' is a symbolic link" &&
	test_expect_code 2 tt c.json stat "$TRASH_DIRECTORY/remote" fifo &&
	test_json_field out .error_code file_refused &&
	test_expect_code 2 tt c.json range "$TRASH_DIRECTORY/remote" link 0 10 &&
	test_json_field out .error_code file_refused &&
	tt c.json list "$TRASH_DIRECTORY/remote" 5 100 &&
	json_field out .files >files &&
	grep -q "real/s" files &&
	! grep -q "link" files &&
	! grep -q "fifo" files
'

test_expect_success SSHD 'host keys: known_hosts with only the ecdsa key matches' '
	cluster ecdsa.json "" "$SSHD_DIR/known_hosts.ecdsa" &&
	tt ecdsa.json exec -- true &&
	test_json_field out .exit_code 0
'

test_expect_success SSHD 'host keys: another key for the host is host_key_mismatch' '
	ssh-keygen -q -t ed25519 -N "" -f other_host_key &&
	echo "[127.0.0.1]:$port $(cut -d" " -f1,2 other_host_key.pub)" >kh.other &&
	cluster other.json "" "$TRASH_DIRECTORY/kh.other" &&
	test_expect_code 2 tt other.json exec -- true &&
	test_json_field out .error_code host_key_mismatch &&
	cluster other-new.json "\"host_key_policy\":\"accept-new\"" \
		"$TRASH_DIRECTORY/kh.other" &&
	test_expect_code 2 tt other-new.json exec -- true &&
	test_json_field out .error_code host_key_mismatch
'

test_expect_success SSHD 'host keys: an unknown host says how to add it' '
	cluster unknown.json "" "$TRASH_DIRECTORY/kh.empty" &&
	test_expect_code 2 tt unknown.json exec -- true &&
	test_json_field out .error_code host_key_unknown &&
	json_field out .remediation >remedy &&
	grep -F "ssh-keyscan -p $port -t ed25519 127.0.0.1 >> $TRASH_DIRECTORY/kh.empty" remedy &&
	! test -e kh.empty &&
	ssh-keyscan -p $port -t ed25519 127.0.0.1 >>kh.empty 2>/dev/null &&
	tt unknown.json exec -- true &&
	test_json_field out .exit_code 0
'

test_expect_success SSHD 'host keys: accept-new adds an unknown host once' '
	cluster accept.json "\"host_key_policy\":\"accept-new\"" \
		"$TRASH_DIRECTORY/kh.new" &&
	tt accept.json exec -- true &&
	test_json_field out .exit_code 0 &&
	grep -q "^\[127.0.0.1\]:$port ssh-ed25519 " kh.new &&
	tt accept.json exec -- true &&
	test "$(wc -l <kh.new)" = 1
'

test_expect_success SSHD 'auth: a key the server does not know is auth_failed' '
	ssh-keygen -q -t ed25519 -N "" -f stranger_key &&
	cluster stranger.json "" "" "$TRASH_DIRECTORY/stranger_key" &&
	test_expect_code 2 tt stranger.json exec -- true &&
	test_json_field out .error_code auth_failed
'

test_expect_success SSHD 'auth: an ecdsa key with a passphrase from the environment' '
	ssh-keygen -q -t ecdsa -N "open sesame" -f pass_key &&
	cat pass_key.pub >>"$SSHD_DIR/authorized_keys" &&
	cluster pass.json "\"key_passphrase_env\":\"T3000_PASS\"" "" \
		"$TRASH_DIRECTORY/pass_key" &&
	test_expect_code 2 tt pass.json exec -- true &&
	test_json_field out .error_code auth_failed &&
	T3000_PASS="open sesame" tt pass.json exec -- echo in &&
	test_json_field out .out in &&
	! grep -q "open sesame" out err
'

test_expect_success SSHD 'auth: ssh-agent when no key is configured' '
	cluster agent.json "" "" none &&
	! grep -q "\"key\"" agent.json &&
	test_expect_code 2 tt agent.json exec -- true &&
	test_json_field out .error_code auth_failed &&
	eval "$(ssh-agent -s)" >/dev/null &&
	ssh-add "$SSHD_DIR/id_ecdsa" 2>/dev/null &&
	tt agent.json exec -- echo agent &&
	agent_rc=0 && test_json_field out .out agent || agent_rc=1
	ssh-agent -k >/dev/null
	return $agent_rc
'

test_expect_success SSHD 'one connection serves every operation of a process' '
	before=$(connections) &&
	tt c.json --handles 2 exec -- true + stat "$TRASH_DIRECTORY/remote" ten \
		+ read "$TRASH_DIRECTORY/remote" ten 10 \
		+ list "$TRASH_DIRECTORY/remote" 2 10 \
		+ write "$TRASH_DIRECTORY/remote/w" payload 644 \
		+ exec -- true + exec -- true + sessions &&
	line 8 && test_json_field line.json .sessions 1 &&
	test "$(connections)" = $((before + 1))
'

test_expect_success SSHD 'max_connections: a process waits for a free slot, then gives up' '
	cluster one.json "\"max_connections\":1" &&
	cluster one-quick.json "\"max_connections\":1,\"connect_timeout_s\":1" &&
	started=$(grep -c "Starting session" "$SSHD_DIR/sshd.log") &&
	{ "$HPCLOOP_TEST_TOOL" transport one.json exec -- sleep 6 >held.out & } &&
	holder=$! &&
	i=0 && while test "$(grep -c "Starting session" "$SSHD_DIR/sshd.log")" = "$started"
	do
		i=$((i + 1)) && test $i -lt 300 && sleep 0.1 || break
	done &&
	test_expect_code 2 tt one-quick.json exec -- true &&
	test_json_field out .error_code timeout &&
	json_field out .message | grep -q "connections to 127.0.0.1:$port" &&
	wait $holder &&
	test_json_field held.out .exit_code 0 &&
	tt one.json exec -- true &&
	test_json_field out .exit_code 0
'

test_expect_success SSHD 'a stopped sshd is ssh_unreachable, exit 2' '
	"$STOP_SSHD" "$SSHD_DIR" &&
	test_expect_code 2 tt c.json exec -- true &&
	test_json_field out .error_code ssh_unreachable
'

test_done
