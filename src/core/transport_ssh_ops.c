/*
 * transport_ssh_ops.c: the "ssh" kind of transport (see transport.h and
 * transport_ssh.h): every operation built from the two things an SSH
 * session does here, exec and SFTP writes.
 *
 * A command is an argv joined by shquote.h, every word single-quoted,
 * so that no user text ever reaches the remote shell as code.  The
 * operations on files are fixed shell text, run by /bin/sh on the host
 * with the paths as positional arguments: SFTP cannot refuse a symbolic
 * link or a FIFO, so reads of a sprint directory (DESIGN §10 and §12)
 * walk into 'dir' one part of 'rel' at a time with cd -P, checking each
 * part with test -L and the physical directory reached, and read only
 * a regular file, with GNU dd iflag=nofollow,nonblock and a byte count.
 * Writes go to a temporary name in the same directory over SFTP, then
 * `mv -f` over exec, since libssh2 1.10 has no posix-rename.
 *
 * Opening a handle reads the configuration and nothing else; the first
 * operation connects (transport_ssh.c), so a call that never reaches
 * the cluster never pays for a session.  The host needs what a job
 * script needs: a POSIX login shell and GNU coreutils (dd, stat, find,
 * head -z, mv -T, timeout).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "crypto.h"
#include "shquote.h"
#include "transport.h"
#include "transport_kinds.h"
#include "transport_ssh.h"
#include "xalloc.h"
#include "banned.h"

/* The longest command line sent to the host. */
#define LINE_MAX_BYTES ((size_t)256 << 10)
/* What the fixed shell text may print on standard error. */
#define SCRIPT_ERR_MAX 4096
/* The deepest transport_list() descends, whatever the caller asks. */
#define LIST_DEPTH_MAX 64

/* Exit codes of the fixed shell text below. */
enum {
	SCRIPT_NO_DIR = 3,	/* 'dir' is missing */
	SCRIPT_REFUSED = 4,	/* a part of 'rel' is refused (stderr says) */
	SCRIPT_IO = 5,		/* something else failed */
	SCRIPT_NO_FILE = 6,	/* a part of 'rel' is missing */
};

/* What the first line of a refusal on standard error starts with. */
#define REFUSED_TAG "hpcloop-ssh: refused "
/* The markers of a command that could not start. */
#define NO_CWD_TAG "hpcloop-ssh: no such directory\n"
#define NO_PROG_TAG "hpcloop-ssh: no such program\n"

/* ------------------------------------------------------------------ */
/* The fixed shell text                                                */
/* ------------------------------------------------------------------ */

/*
 * Walk from the trusted directory $1 into the untrusted relative path
 * $2 (checked by transport.c: no empty, "." or ".." part).  Each
 * directory part is refused if it is a symbolic link, entered with
 * cd -P, and the physical directory reached must be the one expected,
 * so that a part swapped for a link between the test and the cd is
 * refused too.  A refusal prints REFUSED_TAG, the byte length of the
 * refused prefix of $2 and what it is; the C locale makes ${#x} count
 * bytes.  A missing part exits SCRIPT_NO_FILE (a regular file where a
 * directory should be counts as missing).  It ends in the directory of
 * the last part, $f, having checked that it is a regular file; $n is
 * the length of $2.
 */
#define SCRIPT_WALK                                                        \
	"LC_ALL=C; export LC_ALL\n"                                        \
	"refuse() { printf '" REFUSED_TAG "%s %s\\n' \"$1\" \"$2\" >&2;"  \
	" exit 4; }\n"                                                     \
	"kind() {\n"                                                       \
	"	if test -L \"$1\"; then k='a symbolic link'\n"             \
	"	elif test -p \"$1\"; then k='a FIFO'\n"                    \
	"	elif test -S \"$1\"; then k='a socket'\n"                  \
	"	elif test -b \"$1\" || test -c \"$1\"; then k='a device'\n" \
	"	elif test -d \"$1\"; then k='a directory'\n"               \
	"	else k='not a regular file'; fi\n"                         \
	"}\n"                                                              \
	"cd -P -- \"$1\" 2>/dev/null || exit 3\n"                          \
	"here=$(pwd -P && echo .) || exit 5\n"                             \
	"here=${here%??}\n"                                                \
	"rest=$2\n"                                                        \
	"walked=\n"                                                        \
	"while :; do\n"                                                    \
	"	case $rest in\n"                                           \
	"	*/*) part=${rest%%/*}; rest=${rest#*/} ;;\n"               \
	"	*) break ;;\n"                                             \
	"	esac\n"                                                    \
	"	walked=$walked$part\n"                                     \
	"	if test -L \"./$part\"; then\n"                            \
	"		refuse \"${#walked}\" 'a symbolic link'\n"         \
	"	fi\n"                                                      \
	"	test -e \"./$part\" || exit 6\n"                           \
	"	if ! test -d \"./$part\"; then\n"                          \
	"		test -f \"./$part\" && exit 6\n"                   \
	"		kind \"./$part\"; refuse \"${#walked}\" \"$k\"\n"  \
	"	fi\n"                                                      \
	"	cd -P -- \"./$part\" 2>/dev/null || exit 5\n"              \
	"	now=$(pwd -P && echo .) || exit 5\n"                       \
	"	now=${now%??}\n"                                           \
	"	if test \"$now\" != \"${here%/}/$part\"; then\n"           \
	"		refuse \"${#walked}\" 'a symbolic link'\n"         \
	"	fi\n"                                                      \
	"	here=$now\n"                                               \
	"	walked=$walked/\n"                                         \
	"done\n"                                                           \
	"f=./$rest\n"                                                      \
	"n=${#2}\n"                                                        \
	"if test -L \"$f\"; then refuse \"$n\" 'a symbolic link'; fi\n"    \
	"test -e \"$f\" || exit 6\n"                                       \
	"if ! test -f \"$f\"; then kind \"$f\"; refuse \"$n\" \"$k\"; fi\n"

/*
 * Print the size of the regular file $2 under $1 on a line, then at
 * most $4 of its bytes from byte $3.  dd opens it without following a
 * link (one swapped in since the walk is refused) and without waiting
 * on a FIFO.
 */
static const char script_read[] =
	SCRIPT_WALK
	"size=$(stat -c %s -- \"$f\") || exit 5\n"
	"printf '%s\\n' \"$size\"\n"
	"test \"$3\" -lt \"$size\" || exit 0\n"
	"dd if=\"$f\" iflag=nofollow,nonblock,skip_bytes,count_bytes "
	"skip=\"$3\" count=\"$4\" status=none || {\n"
	"	if test -L \"$f\"; then refuse \"$n\" 'a symbolic link'; fi\n"
	"	exit 5\n"
	"}\n";

/* Print "TYPE SIZE MTIME" of the regular file $2 under $1. */
static const char script_stat[] =
	SCRIPT_WALK
	"exec stat -c '%F %s %Y' -- \"$f\"\n";

/*
 * List the regular files under $1 down to depth $2, at most $3 of them:
 * "SIZE MTIME PATH" each, ended by a NUL (a name may hold anything
 * else).  find does not follow links (-P), so a linked directory is
 * never entered and a link is never listed.
 */
static const char script_list[] =
	"LC_ALL=C; export LC_ALL\n"
	"cd -P -- \"$1\" 2>/dev/null || exit 3\n"
	"find . -mindepth 1 -maxdepth \"$2\" -type f "
	"-printf '%s %T@ %P\\0' | head -z -n \"$3\"\n";

/* ------------------------------------------------------------------ */
/* Handles and commands                                                */
/* ------------------------------------------------------------------ */

/* What one ssh handle holds. */
struct ssh_handle {
	struct ssh_conf conf;	/* its settings */
	struct ssh_conn *conn;	/* its session, from the first operation */
};

/*
 * The session of 't', made or shared on first use, and made again when
 * the one it had was lost (the operation that saw it fail has failed).
 */
static struct ssh_conn *handle_conn(struct transport *t, struct err *err)
{
	struct ssh_handle *h = transport_priv(t);

	if (h->conn && !ssh_conn_usable(h->conn)) {
		ssh_conn_unref(h->conn);
		h->conn = NULL;
	}
	if (!h->conn && ssh_conn_get(&h->conn, &h->conf, err) < 0)
		return NULL;
	return h->conn;
}

/* Whether the standard error in 'b' ends with the line 'tag'. */
static int ends_with(const struct buf *b, const char *tag)
{
	size_t n = strlen(tag);

	return b->len >= n && !memcmp(b->data + b->len - n, tag, n) &&
	       (b->len == n || b->data[b->len - n - 1] == '\n');
}

/*
 * The command line for 'argv' in 'cwd' (may be NULL) under 'timeout_s':
 * enter the directory, make sure the program exists (each failure
 * leaves a marker on standard error and exit status 127), then exec it,
 * under coreutils' timeout when there is a limit, so that the remote
 * process group dies too (a second after this side gives up).
 */
static int build_line(struct buf *line, const char *const *argv,
		      const char *cwd, int timeout_s, struct err *err)
{
	buf_init(line, LINE_MAX_BYTES);
	if (cwd) {
		buf_adds(line, "cd ");
		if (shquote_word(line, cwd, strlen(cwd), err) < 0)
			return -1;
		buf_adds(line, " 2>/dev/null || { printf '" NO_CWD_TAG
			       "' >&2; exit 127; }; ");
	}
	buf_adds(line, "command -v ");
	if (shquote_word(line, argv[0], strlen(argv[0]), err) < 0)
		return -1;
	buf_adds(line, " >/dev/null 2>&1 || { printf '" NO_PROG_TAG
		       "' >&2; exit 127; }; exec ");
	if (timeout_s > 0)
		buf_addf(line, "timeout -k 2 %d ", timeout_s + 1);
	return shquote_argv(line, argv, err);
}

/*
 * Run 'argv' on the host of 't' as transport_exec() describes ('res'
 * reset by the caller).
 */
static int ssh_exec(struct transport *t, struct exec_result *res,
		    const char *const *argv, const char *cwd,
		    const void *stdin_data, size_t stdin_len, int timeout_s,
		    struct err *err)
{
	struct ssh_handle *h = transport_priv(t);
	struct ssh_conn *c;
	struct buf line = BUF_INIT;
	int ret = -1;

	if (build_line(&line, argv, cwd, timeout_s, err) < 0)
		goto out;
	c = handle_conn(t, err);
	if (!c || ssh_conn_exec(c, res, buf_str(&line), argv[0], stdin_data,
				stdin_len, timeout_s, err) < 0)
		goto out;
	if (res->exit_code == 127 && cwd && ends_with(&res->err, NO_CWD_TAG)) {
		err_set(err, ERR_NOT_FOUND, "cannot enter directory '%s' on %s",
			cwd, h->conf.host);
		goto out;
	}
	if (res->exit_code == 127 && ends_with(&res->err, NO_PROG_TAG)) {
		err_set(err, ERR_NOT_FOUND, "cannot find program '%s' on %s",
			argv[0], h->conf.host);
		goto out;
	}
	ret = 0;
out:
	buf_release(&line);
	return ret;
}

/*
 * Run the fixed shell text 'script' on the host of 't' with the
 * positional arguments 'args' (NULL-terminated), keeping at most
 * 'max_out' bytes of output, within the io timeout.
 */
static int run_script(struct transport *t, struct exec_result *res,
		      const char *script, const char *const *args,
		      size_t max_out, struct err *err)
{
	struct ssh_handle *h = transport_priv(t);
	const char *argv[12];
	size_t i, n = 0;

	argv[n++] = "/bin/sh";
	argv[n++] = "-c";
	argv[n++] = script;
	argv[n++] = "hpcloop-ssh";
	for (i = 0; args[i] && n < sizeof(argv) / sizeof(argv[0]) - 1; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	exec_result_init(res, max_out);
	res->err.max = SCRIPT_ERR_MAX;
	return ssh_exec(t, res, argv, NULL, NULL, 0, h->conf.io_timeout_s,
			err);
}

/*
 * Give 'err' the first line of the standard error in 'res' (bounded,
 * control bytes as '?') after 'what' failed, as ERR_TRANSFER_FAILED,
 * with the whole of it in details.stderr.  Returns -1.
 */
static int remote_failure(struct err *err, const struct exec_result *res,
			  const char *what, const char *host)
{
	struct buf line = BUF_INIT;
	const char *p;
	json_t *text;

	for (p = buf_str(&res->err); *p && *p != '\n' && line.len < 200; p++) {
		char c = (unsigned char)*p < 0x20 ? '?' : *p;

		buf_add(&line, &c, 1);
	}
	if (!line.len)
		buf_addf(&line, "exit status %d", res->exit_code);
	err_set(err, ERR_TRANSFER_FAILED, "%s on %s: %s", what, host,
		buf_str(&line));
	text = json_stringn(buf_str(&res->err), res->err.len);
	if (text)
		err_detail(err, "stderr", text);
	buf_release(&line);
	return -1;
}

/*
 * The error for the fixed shell text that failed reading 'rel' under
 * 'dir' with the result 'res': a missing part is ERR_NOT_FOUND, a
 * refusal ERR_FILE_REFUSED naming the part and what it is (as the local
 * transport words it), anything else ERR_TRANSFER_FAILED.
 */
static int script_failure(struct transport *t, struct err *err,
			  const struct exec_result *res, const char *dir,
			  const char *rel, const char *what)
{
	static const char *const kinds[] = {
		"a symbolic link", "a FIFO", "a socket", "a device",
		"a directory", "not a regular file", NULL,
	};
	struct ssh_handle *h = transport_priv(t);
	const char *p = strstr(buf_str(&res->err), REFUSED_TAG);
	char *end;
	size_t len, i;

	if (res->exit_code == SCRIPT_NO_DIR)
		return err_set(err, ERR_NOT_FOUND, "no such directory '%s'",
			       dir);
	if (res->exit_code == SCRIPT_NO_FILE)
		return err_set(err, ERR_NOT_FOUND, "no such file '%s'", rel);
	if (res->exit_code != SCRIPT_REFUSED || !p)
		return remote_failure(err, res, what, h->conf.host);
	p += strlen(REFUSED_TAG);
	len = strtoul(p, &end, 10);
	if (*end != ' ' || len == 0 || len > strlen(rel))
		return remote_failure(err, res, what, h->conf.host);
	for (i = 0; kinds[i]; i++) {
		size_t n = strlen(kinds[i]);

		if (!strncmp(end + 1, kinds[i], n) && end[1 + n] == '\n')
			break;
	}
	if (!kinds[i])
		return remote_failure(err, res, what, h->conf.host);
	if (!rel[len])
		return err_set(err, ERR_FILE_REFUSED, "'%s' is %s", rel,
			       kinds[i]);
	return err_set(err, ERR_FILE_REFUSED, "'%.*s' in '%s' is %s", (int)len,
		       rel, rel, kinds[i]);
}

/* ------------------------------------------------------------------ */
/* Files hpcloop writes                                                */
/* ------------------------------------------------------------------ */

/* mkdir -p 'path' with 'mode' on the host (see transport_mkdirs()). */
static int ssh_mkdirs(struct transport *t, const char *path, int mode,
		      struct err *err)
{
	struct ssh_handle *h = transport_priv(t);
	struct exec_result res;
	struct buf what = BUF_INIT;
	char octal[16];
	const char *argv[] = { "mkdir", "-p", "-m", octal, "--", path, NULL };
	int ret = -1;

	snprintf(octal, sizeof(octal), "%o", (unsigned)(mode & 07777));
	exec_result_init(&res, 4096);
	if (ssh_exec(t, &res, argv, NULL, NULL, 0, h->conf.io_timeout_s,
		     err) < 0)
		goto out;
	if (res.exit_code != 0) {
		buf_addf(&what, "cannot create directory '%s'", path);
		remote_failure(err, &res, buf_str(&what), h->conf.host);
		goto out;
	}
	ret = 0;
out:
	buf_release(&what);
	exec_result_release(&res);
	return ret;
}

/*
 * Replace 'path' with 'data' (see transport_write_file()): SFTP writes
 * a new temporary name beside it with 'mode' (creating the directory
 * when it is missing), then `mv -f -T` renames it over 'path'.
 */
static int ssh_write_file(struct transport *t, const char *path,
			  const void *data, size_t len, int mode,
			  struct err *err)
{
	struct ssh_handle *h = transport_priv(t);
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	struct buf dir = BUF_INIT, tmp = BUF_INIT, what = BUF_INIT;
	struct exec_result res;
	struct ssh_conn *c;
	char rnd[13];
	const char *mv[] = { "mv", "-f", "-T", "--", NULL, path, NULL };
	int ret = -1, made = 0;

	exec_result_init(&res, 4096);
	if (!*base) {
		err_set(err, ERR_TRANSFER_FAILED,
			"cannot write '%s': not a file name", path);
		goto out;
	}
	if (slash)
		buf_add(&dir, path, slash == path ? 1 : (size_t)(slash - path));
	if (crypto_random_hex(rnd, 6) < 0) {
		err_set(err, ERR_INTERNAL, "no random bytes for a file name");
		goto out;
	}
	if (slash)
		buf_addf(&tmp, "%s/", slash == path ? "" : buf_str(&dir));
	buf_addf(&tmp, ".%s.tmp-%s", base, rnd);
	c = handle_conn(t, err);
	if (!c)
		goto out;
	if (ssh_conn_put_new(c, buf_str(&tmp), data, len, mode, err) < 0) {
		if (err->code == ERR_NOT_FOUND && !slash)
			err->code = ERR_TRANSFER_FAILED;
		if (err->code != ERR_NOT_FOUND)
			goto out;
		err_clear(err);
		if (ssh_mkdirs(t, buf_str(&dir), 0755, err) < 0 ||
		    ssh_conn_put_new(c, buf_str(&tmp), data, len, mode,
				     err) < 0)
			goto out;
	}
	made = 1;
	mv[4] = buf_str(&tmp);
	if (ssh_exec(t, &res, mv, NULL, NULL, 0, h->conf.io_timeout_s,
		     err) < 0)
		goto out;
	if (res.exit_code != 0) {
		buf_addf(&what, "cannot write '%s'", path);
		remote_failure(err, &res, buf_str(&what), h->conf.host);
		goto out;
	}
	made = 0;
	ret = 0;
out:
	if (made && h->conn)
		ssh_conn_unlink(h->conn, buf_str(&tmp));
	exec_result_release(&res);
	buf_release(&dir);
	buf_release(&tmp);
	buf_release(&what);
	return ret;
}

/* Remove the file 'path' on the host; a missing one is fine. */
static int ssh_remove(struct transport *t, const char *path,
		      struct err *err)
{
	struct ssh_handle *h = transport_priv(t);
	struct exec_result res;
	struct buf what = BUF_INIT;
	const char *argv[] = { "rm", "-f", "--", path, NULL };
	int ret = -1;

	exec_result_init(&res, 4096);
	if (ssh_exec(t, &res, argv, NULL, NULL, 0, h->conf.io_timeout_s,
		     err) < 0)
		goto out;
	if (res.exit_code != 0) {
		buf_addf(&what, "cannot remove '%s'", path);
		remote_failure(err, &res, buf_str(&what), h->conf.host);
		goto out;
	}
	ret = 0;
out:
	buf_release(&what);
	exec_result_release(&res);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Files a sprint left behind                                          */
/* ------------------------------------------------------------------ */

/*
 * Read at most 'count' bytes of 'rel' under 'dir' from 'offset' with
 * script_read: the file's size into '*size_out', the bytes into 'out'
 * (at most 'count').
 */
static int read_part(struct transport *t, struct buf *out, int64_t *size_out,
		     const char *dir, const char *rel, int64_t offset,
		     size_t count, struct err *err)
{
	struct exec_result res;
	char off[32], cnt[32];
	const char *args[] = { dir, rel, off, cnt, NULL };
	const char *nl;
	char *end;
	int ret = -1;

	snprintf(off, sizeof(off), "%lld", (long long)offset);
	snprintf(cnt, sizeof(cnt), "%zu", count);
	if (run_script(t, &res, script_read, args, count + 32, err) < 0)
		goto out;
	if (res.exit_code != 0) {
		script_failure(t, err, &res, dir, rel, "cannot read");
		goto out;
	}
	nl = memchr(buf_str(&res.out), '\n', res.out.len);
	*size_out = nl ? strtoll(res.out.data, &end, 10) : -1;
	if (!nl || end != nl || *size_out < 0 || res.out_truncated ||
	    res.out.len - (size_t)(nl + 1 - res.out.data) > count) {
		err_set(err, ERR_TRANSFER_FAILED,
			"cannot read '%s': unexpected answer from the host",
			rel);
		goto out;
	}
	nl++;
	if (out->max && res.out.len - (size_t)(nl - res.out.data) > out->max) {
		/* The file grew past the limit since its size was read. */
		err_set(err, ERR_FILE_REFUSED, "'%s' is larger than %zu bytes",
			rel, out->max);
		goto out;
	}
	buf_add(out, nl, res.out.len - (size_t)(nl - res.out.data));
	ret = 0;
out:
	exec_result_release(&res);
	return ret;
}

/* Read all of 'rel' under 'dir' into 'out', at most 'max' bytes. */
static int ssh_read_file(struct transport *t, struct buf *out,
			 const char *dir, const char *rel, size_t max,
			 struct err *err)
{
	int64_t size = 0;

	/* One byte past the limit tells "exactly max" from "more". */
	if (read_part(t, out, &size, dir, rel, 0, max + 1, err) < 0)
		return -1;
	if ((uint64_t)size > max || out->len > max)
		return err_set(err, ERR_FILE_REFUSED,
			       "'%s' is larger than %zu bytes", rel, max);
	return 0;
}

/* Read 'max' bytes of 'rel' from 'offset' (see transport_read_range()). */
static int ssh_read_range(struct transport *t, struct buf *out,
			  int64_t *size_out, const char *dir,
			  const char *rel, int64_t offset, size_t max,
			  struct err *err)
{
	int64_t size = 0;

	if (read_part(t, out, &size, dir, rel, offset, max, err) < 0)
		return -1;
	if (size_out)
		*size_out = size;
	return 0;
}

/* Whether 'rel' under 'dir' exists, its size and mtime. */
static int ssh_stat(struct transport *t, int *exists_out, int64_t *size_out,
		    int64_t *mtime_out, const char *dir, const char *rel,
		    struct err *err)
{
	struct exec_result res;
	const char *args[] = { dir, rel, NULL };
	long long size, mtime;
	const char *p;
	char *end;
	int ret = -1;

	if (run_script(t, &res, script_stat, args, 256, err) < 0)
		goto out;
	if (res.exit_code == SCRIPT_NO_DIR || res.exit_code == SCRIPT_NO_FILE) {
		ret = 0;
		goto out;
	}
	if (res.exit_code != 0) {
		script_failure(t, err, &res, dir, rel, "cannot read");
		goto out;
	}
	/* "regular file 12 1700000000" or "regular empty file 0 ...". */
	p = buf_str(&res.out);
	if (strncmp(p, "regular ", 8) || res.out_truncated)
		goto bad;
	p = strrchr(p, ' ');
	while (p && p > res.out.data && p[-1] != ' ')
		p--;
	if (!p)
		goto bad;
	size = strtoll(p, &end, 10);
	if (*end != ' ')
		goto bad;
	mtime = strtoll(end + 1, &end, 10);
	if (*end != '\n' || size < 0)
		goto bad;
	*exists_out = 1;
	if (size_out)
		*size_out = size;
	if (mtime_out)
		*mtime_out = mtime;
	ret = 0;
	goto out;
bad:
	err_set(err, ERR_TRANSFER_FAILED,
		"cannot read '%s': unexpected answer from the host", rel);
out:
	exec_result_release(&res);
	return ret;
}

/* One file found by transport_list(). */
struct list_entry {
	const char *path;	/* borrowed from the listing */
	int64_t size;		/* bytes */
	int64_t mtime;		/* seconds since the epoch */
};

/* qsort() order of list entries: by path, bytewise. */
static int list_entry_cmp(const void *a, const void *b)
{
	const struct list_entry *x = a, *y = b;

	return strcmp(x->path, y->path);
}

/*
 * Parse the NUL-ended "SIZE MTIME PATH" records of 'text' ('len' bytes)
 * into '*v' (new; '*n' entries), skipping paths a read would refuse as
 * too long.
 */
static int list_parse(struct list_entry **v, size_t *n, char *text,
		      size_t len)
{
	char *p = text, *end = text + len, *nul, *e;

	*v = NULL;
	*n = 0;
	while (p < end) {
		struct list_entry le;

		nul = memchr(p, '\0', (size_t)(end - p));
		if (!nul)
			return -1;
		le.size = strtoll(p, &e, 10);
		if (*e != ' ')
			return -1;
		le.mtime = strtoll(e + 1, &e, 10);
		e += strcspn(e, " ");
		if (*e != ' ' || !e[1])
			return -1;
		le.path = e + 1;
		if (strlen(le.path) <= TRANSPORT_REL_MAX) {
			*v = xrealloc(*v, (*n + 1) * sizeof(**v));
			(*v)[(*n)++] = le;
		}
		p = nul + 1;
	}
	return 0;
}

/* List the files under 'dir' (see transport_list()). */
static int ssh_list(struct transport *t, json_t **out, const char *dir,
		    int max_depth, int max_entries, struct err *err)
{
	struct exec_result res;
	struct list_entry *v = NULL;
	char depth[16], most[32];
	const char *args[] = { dir, depth, most, NULL };
	size_t n = 0, i, limit = max_entries > 0 ? (size_t)max_entries : 0;
	json_t *arr;
	int ret = -1;

	snprintf(depth, sizeof(depth), "%d",
		 max_depth < 0 ? 0
			       : max_depth > LIST_DEPTH_MAX ? LIST_DEPTH_MAX
							    : max_depth);
	snprintf(most, sizeof(most), "%zu", limit + 1);
	if (run_script(t, &res, script_list, args,
		       (limit + 1) * (TRANSPORT_REL_MAX + 64), err) < 0)
		goto out;
	if (res.exit_code != 0) {
		script_failure(t, err, &res, dir, ".", "cannot list");
		goto out;
	}
	if (res.out_truncated)
		goto too_many;
	if (list_parse(&v, &n, res.out.data ? res.out.data : (char *)"",
		       res.out.len) < 0) {
		err_set(err, ERR_TRANSFER_FAILED,
			"cannot list '%s': unexpected answer from the host",
			dir);
		goto out;
	}
	if (n > limit)
		goto too_many;
	if (n)
		qsort(v, n, sizeof(*v), list_entry_cmp);
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:I, s:I}",
						     "path", v[i].path, "size",
						     (json_int_t)v[i].size,
						     "mtime",
						     (json_int_t)v[i].mtime));
	*out = arr;
	ret = 0;
	goto out;
too_many:
	err_set(err, ERR_TRANSFER_FAILED, "more than %zu files under '%s'",
		limit, dir);
out:
	free(v);
	exec_result_release(&res);
	return ret;
}

/* ------------------------------------------------------------------ */
/* The kind                                                            */
/* ------------------------------------------------------------------ */

/* Drop the session of 't' (the last handle closes it) and its settings. */
static void ssh_close(struct transport *t)
{
	struct ssh_handle *h = transport_priv(t);

	if (!h)
		return;
	ssh_conn_unref(h->conn);
	ssh_conf_release(&h->conf);
	free(h);
}

static const struct transport_ops ssh_ops = {
	.name = "ssh",
	.exec = ssh_exec,
	.mkdirs = ssh_mkdirs,
	.write_file = ssh_write_file,
	.read_file = ssh_read_file,
	.read_range = ssh_read_range,
	.stat = ssh_stat,
	.list = ssh_list,
	.remove = ssh_remove,
	.close = ssh_close,
};

int transport_ssh_open(struct transport **out, const json_t *cluster,
		       struct err *err)
{
	struct ssh_handle *h = xcalloc(1, sizeof(*h));

	*out = NULL;
	if (ssh_conf_parse(&h->conf, cluster, err) < 0) {
		ssh_conf_release(&h->conf);
		free(h);
		return -1;
	}
	*out = transport_new(&ssh_ops, h);
	return 0;
}
