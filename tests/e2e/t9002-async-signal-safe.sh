#!/bin/sh
test_description='the local scheduler is async-signal-safe after fork()

The supervisor of a local job and the job itself run after fork() in a
process that may have had threads (hpcloop serve), so everything in
src/core/sched_local_child.c must be async-signal-safe: no malloc or
free, no stdio, no jansson, nothing that takes a lock.  This lists the
symbols its object file calls (nm -u) and fails on any that is not on
the lists below; a second step shows that the check refuses an object
that calls malloc and printf.'
. "$(dirname "$0")/lib.sh"

OBJ="$(dirname "$HPCLOOP_BIN")/src/core/sched_local_child.o"

# Async-signal-safe in POSIX.1-2017 (signal-safety(7)).
posix_safe='_exit chdir clock_gettime close dup dup2 execve fcntl fork fstat
fsync getpid getppid kill lseek memcpy memmove memset open openat pipe read
rename setpgid setsid sigaction sigemptyset sigprocmask stat strlen unlink
wait waitpid write'
# Linux system calls that glibc wraps without locks or allocation (AS-Safe
# in the glibc manual), and errno.
linux_safe='close_range nanosleep pipe2 waitid __errno_location'
# Ours, declared async-signal-safe by their header (src/core/proc.h).
ours_safe='proc_reset_signals'
safe=" $(echo $posix_safe $linux_safe $ours_safe) "

# check_async_safe OBJECT: fail naming every call of OBJECT not in $safe
# (sanitizer and stack-protector hooks aside).
check_async_safe () {
	nm -u "$1" >syms || return 1
	bad=
	for sym in $(awk "{ print \$NF }" syms); do
		case "$sym" in
		__asan_*|__ubsan_*|__sanitizer_*|__stack_chk_fail) continue ;;
		esac
		case "$safe" in
		*" $sym "*) ;;
		*) bad="$bad $sym" ;;
		esac
	done
	test -z "$bad" || { echo "not async-signal-safe:$bad"; return 1; }
}

test_expect_success 'the object was built' '
	test -s "$OBJ"
'

test_expect_success 'sched_local_child.o calls only async-signal-safe code' '
	check_async_safe "$OBJ" &&
	grep -q " fork$" syms
'

test_expect_success 'the check refuses malloc and printf' '
	cat >bad.c <<-\C &&
	#include <stdio.h>
	#include <stdlib.h>
	void bad(void);
	void bad(void)
	{
		char *p = malloc(8);

		printf("%p\n", (void *)p);
		free(p);
	}
	C
	${CC:-cc} -c -o bad.o bad.c &&
	! check_async_safe bad.o >why &&
	grep -q malloc why && grep -q printf why && grep -q free why
'

test_done
