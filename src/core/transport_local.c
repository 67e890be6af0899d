/*
 * transport_local.c: the "local" transport, this machine (see
 * transport.h).  Commands go to proc_run() (proc.c).  Files hpcloop
 * writes are replaced atomically through a temporary name in the same
 * directory, without fsync: durability belongs to the journal.  Files a
 * sprint left behind are reached from the trusted directory one part at
 * a time with openat() and O_NOFOLLOW, so no symbolic link in the
 * untrusted part is ever followed, and only a regular file is opened and
 * read, with O_NONBLOCK so that a FIFO can never make a read wait.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "proc.h"
#include "transport.h"
#include "transport_kinds.h"
#include "xalloc.h"
#include "banned.h"

/* The deepest transport_list() descends, whatever the caller asks. */
#define LIST_DEPTH_MAX 64

/* ------------------------------------------------------------------ */
/* Commands                                                            */
/* ------------------------------------------------------------------ */

/* The local exec: see transport_exec() in transport.h. */
static int local_exec(struct transport *t, struct exec_result *res,
		      const char *const *argv, const char *cwd,
		      const void *stdin_data, size_t stdin_len, int timeout_s,
		      struct err *err)
{
	(void)t;
	return proc_run(res, argv, cwd, stdin_data, stdin_len, timeout_s,
			err);
}

/* ------------------------------------------------------------------ */
/* Files hpcloop writes                                                */
/* ------------------------------------------------------------------ */

/*
 * Make the one directory 'path' with 'mode'; one that is already there
 * is fine.  'report' is the path the caller asked for, for messages.
 */
static int mkdir_one(const char *path, int mode, const char *report,
		     struct err *err)
{
	struct stat sb;
	int e;

	if (mkdir(path, (mode_t)mode) == 0)
		return 0;
	e = errno;
	if (e == EEXIST && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return 0;
	if (e == EEXIST)
		return err_set(err, ERR_IO_FAILED,
			       "cannot create directory '%s': '%s' is not a "
			       "directory", report, path);
	return err_set(err, ERR_IO_FAILED, "cannot create directory '%s': %s",
		       report, strerror(e));
}

/* mkdir -p 'path' with 'mode' (see transport_mkdirs()). */
static int local_mkdirs(struct transport *t, const char *path, int mode,
			struct err *err)
{
	char *p = xstrdup(path);
	char *s;
	int ret = -1;

	(void)t;
	for (s = p + 1; *s; s++) {
		if (*s != '/' || s[-1] == '/')
			continue;
		*s = '\0';
		if (mkdir_one(p, mode, path, err) < 0)
			goto out;
		*s = '/';
	}
	if (mkdir_one(p, mode, path, err) < 0)
		goto out;
	ret = 0;
out:
	free(p);
	return ret;
}

/* The directory part of 'path' as a new string ("." when it has none). */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* Write all 'len' bytes of 'data' to 'fd'; -1 with errno on failure. */
static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t w = write(fd, data, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

/*
 * Replace 'path' with 'data' of 'len' bytes, with exactly 'mode', through
 * a temporary file in the same directory (see transport_write_file()).
 * Nothing is flushed to disk: a dozen small files per submission paid
 * tens of milliseconds for it, and what must survive a crash is in the
 * journal.  A close() that fails is still a failure, since some file
 * systems report a full disk only there.
 */
static int local_write_file(struct transport *t, const char *path,
			    const void *data, size_t len, int mode,
			    struct err *err)
{
	char *dir = dir_of(path);
	const char *base = strrchr(path, '/');
	struct buf tmp = BUF_INIT;
	int fd = -1, e, ret = -1;

	base = base ? base + 1 : path;
	if (!*base) {
		err_set(err, ERR_IO_FAILED,
			"cannot write '%s': not a file name", path);
		goto out;
	}
	if (strcmp(dir, ".") && local_mkdirs(t, dir, 0755, err) < 0)
		goto out;
	buf_addf(&tmp, "%s/.%s.tmp-XXXXXX", dir, base);
	fd = mkostemp(tmp.data, O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		buf_release(&tmp);
		goto io_error;
	}
	if (fchmod(fd, (mode_t)(mode & 07777)) < 0 ||
	    write_all(fd, data, len) < 0) {
		e = errno;
		goto io_error;
	}
	e = close(fd) < 0 ? errno : 0;
	fd = -1;
	if (e)
		goto io_error;
	if (rename(tmp.data, path) < 0) {
		e = errno;
		goto io_error;
	}
	buf_release(&tmp);
	ret = 0;
	goto out;

io_error:
	err_set(err, ERR_IO_FAILED, "cannot write '%s': %s", path, strerror(e));
out:
	if (fd >= 0)
		close(fd);
	if (tmp.data)
		unlink(tmp.data);
	buf_release(&tmp);
	free(dir);
	return ret;
}

/* Remove the file 'path'; a missing one is fine. */
static int local_remove(struct transport *t, const char *path,
			struct err *err)
{
	(void)t;
	if (unlink(path) < 0 && errno != ENOENT)
		return err_set(err, ERR_IO_FAILED, "cannot remove '%s': %s",
			       path, strerror(errno));
	return 0;
}

/* ------------------------------------------------------------------ */
/* Reaching files a sprint left behind                                 */
/* ------------------------------------------------------------------ */

/* What the file type in 'mode' is, for a refusal's message. */
static const char *kind_of(mode_t mode)
{
	if (S_ISLNK(mode))
		return "a symbolic link";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	if (S_ISDIR(mode))
		return "a directory";
	return "not a regular file";
}

/*
 * Refuse the part of 'rel' that ends at byte 'end' (the whole of 'rel'
 * when it ends there), which is 'what' ("a FIFO").  Returns -1.
 */
static int refuse(struct err *err, const char *rel, size_t end,
		  const char *what)
{
	if (!rel[end])
		return err_set(err, ERR_FILE_REFUSED, "'%s' is %s", rel, what);
	return err_set(err, ERR_FILE_REFUSED, "'%.*s' in '%s' is %s",
		       (int)end, rel, rel, what);
}

/*
 * The error for an openat() or fstatat() of the part of 'rel' ending at
 * 'end' that failed with 'e'.  Returns -1.
 */
static int part_error(struct err *err, const char *rel, size_t end, int e)
{
	if (e == ENOENT || e == ENOTDIR)
		return err_set(err, ERR_NOT_FOUND, "no such file '%s'", rel);
	if (e == ELOOP)
		return refuse(err, rel, end, "a symbolic link");
	return err_set(err, ERR_IO_FAILED, "cannot read '%s': %s", rel,
		       strerror(e));
}

/*
 * Open the trusted directory 'dir' and walk down the directories of the
 * untrusted 'rel' (checked by transport.c) without following a link:
 * '*dfd_out' is the open directory that holds the last part of 'rel',
 * and '*last_out' points at that part inside 'rel'.  A missing part is
 * ERR_NOT_FOUND (a regular file where a directory should be counts as
 * missing); a part that is a symbolic link, a FIFO or anything else is
 * ERR_FILE_REFUSED, never opened.
 */
static int walk_to_parent(int *dfd_out, const char **last_out,
			  const char *dir, const char *rel, struct err *err)
{
	char part[TRANSPORT_REL_MAX + 1];
	const char *p = rel, *slash;
	struct stat sb;
	int dfd, next;

	*dfd_out = -1;
	*last_out = NULL;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 && (errno == ENOENT || errno == ENOTDIR))
		return err_set(err, ERR_NOT_FOUND, "no such directory '%s'",
			       dir);
	if (dfd < 0)
		return err_set(err, ERR_IO_FAILED, "cannot open '%s': %s", dir,
			       strerror(errno));
	for (slash = strchr(p, '/'); slash; slash = strchr(p, '/')) {
		size_t n = (size_t)(slash - p), end = (size_t)(slash - rel);

		if (n >= sizeof(part)) {
			close(dfd);
			return err_set(err, ERR_FILE_REFUSED,
				       "'%.64s...' is too long", rel);
		}
		memcpy(part, p, n);
		part[n] = '\0';
		next = openat(dfd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					 O_NONBLOCK | O_CLOEXEC);
		if (next < 0) {
			int e = errno;

			/* Say what it is instead of "not a directory". */
			if (e == ENOTDIR &&
			    fstatat(dfd, part, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
			    !S_ISREG(sb.st_mode)) {
				close(dfd);
				return refuse(err, rel, end,
					      kind_of(sb.st_mode));
			}
			close(dfd);
			return part_error(err, rel, end, e);
		}
		close(dfd);
		dfd = next;
		p = slash + 1;
	}
	*dfd_out = dfd;
	*last_out = p;
	return 0;
}

/*
 * Open the regular file 'rel' under 'dir' for reading, and fstat it
 * into 'sb'.  The last part is looked at first without being opened, so
 * that a FIFO or a device is refused without the side effects of an
 * open (a FIFO's writer would wake up); it is then opened with
 * O_NOFOLLOW | O_NONBLOCK | O_NOCTTY and checked again with fstat(), so
 * that one swapped in between is refused too.  Returns the descriptor,
 * or -1 with 'err' filled.
 */
static int open_untrusted(const char *dir, const char *rel, struct stat *sb,
			  struct err *err)
{
	const char *last;
	size_t end = strlen(rel);
	int dfd, fd, e;

	if (walk_to_parent(&dfd, &last, dir, rel, err) < 0)
		return -1;
	if (fstatat(dfd, last, sb, AT_SYMLINK_NOFOLLOW) < 0) {
		e = errno;
		close(dfd);
		return part_error(err, rel, end, e);
	}
	if (!S_ISREG(sb->st_mode)) {
		close(dfd);
		return refuse(err, rel, end, kind_of(sb->st_mode));
	}
	fd = openat(dfd, last, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
				       O_CLOEXEC);
	e = errno;
	close(dfd);
	if (fd < 0)
		return part_error(err, rel, end, e);
	if (fstat(fd, sb) < 0) {
		e = errno;
		close(fd);
		return err_set(err, ERR_IO_FAILED, "cannot read '%s': %s", rel,
			       strerror(e));
	}
	if (!S_ISREG(sb->st_mode)) {
		close(fd);
		return refuse(err, rel, end, kind_of(sb->st_mode));
	}
	return fd;
}

/*
 * Read from 'fd' at 'offset' into 'out' until end of file or 'max'
 * bytes.  Sets '*more' when there was more than 'max'.  Returns 0, or -1
 * with errno set.
 */
static int read_up_to(int fd, struct buf *out, int64_t offset, size_t max,
		      int *more)
{
	char chunk[8192];
	size_t want;
	ssize_t n;

	*more = 0;
	for (;;) {
		want = sizeof(chunk);
		if (max - out->len < want)
			want = max - out->len;
		/* One byte past the limit tells "exactly max" from "more". */
		if (want == 0)
			want = 1;
		n = pread(fd, chunk, want, (off_t)offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		if (out->len == max) {
			*more = 1;
			return 0;
		}
		buf_add(out, chunk, (size_t)n);
		offset += n;
	}
}

/* Read all of 'rel' under 'dir' into 'out', at most 'max' bytes. */
static int local_read_file(struct transport *t, struct buf *out,
			   const char *dir, const char *rel, size_t max,
			   struct err *err)
{
	struct stat sb;
	int fd, more, ret = -1;

	(void)t;
	fd = open_untrusted(dir, rel, &sb, err);
	if (fd < 0)
		return -1;
	if (sb.st_size > 0 && (uint64_t)sb.st_size > max) {
		err_set(err, ERR_FILE_REFUSED, "'%s' is larger than %zu bytes",
			rel, max);
		goto out;
	}
	if (read_up_to(fd, out, 0, max, &more) < 0) {
		err_set(err, ERR_IO_FAILED, "cannot read '%s': %s", rel,
			strerror(errno));
		goto out;
	}
	if (more) {
		err_set(err, ERR_FILE_REFUSED, "'%s' is larger than %zu bytes",
			rel, max);
		goto out;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

/* Read 'max' bytes of 'rel' from 'offset' (see transport_read_range()). */
static int local_read_range(struct transport *t, struct buf *out,
			    int64_t *size_out, const char *dir,
			    const char *rel, int64_t offset, size_t max,
			    struct err *err)
{
	struct stat sb;
	int fd, more, ret = -1;

	(void)t;
	fd = open_untrusted(dir, rel, &sb, err);
	if (fd < 0)
		return -1;
	if (size_out)
		*size_out = (int64_t)sb.st_size;
	if (offset < (int64_t)sb.st_size &&
	    read_up_to(fd, out, offset, max, &more) < 0) {
		err_set(err, ERR_IO_FAILED, "cannot read '%s': %s", rel,
			strerror(errno));
		goto out;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

/*
 * Whether the regular file 'rel' under 'dir' exists, and its size and
 * mtime (see transport_stat()); nothing is opened but directories.
 */
static int local_stat(struct transport *t, int *exists_out,
		      int64_t *size_out, int64_t *mtime_out, const char *dir,
		      const char *rel, struct err *err)
{
	const char *last;
	struct stat sb;
	int dfd, e;

	(void)t;
	if (walk_to_parent(&dfd, &last, dir, rel, err) < 0) {
		if (err->code != ERR_NOT_FOUND)
			return -1;
		err_clear(err);
		return 0;
	}
	e = fstatat(dfd, last, &sb, AT_SYMLINK_NOFOLLOW) < 0 ? errno : 0;
	close(dfd);
	if (e == ENOENT || e == ENOTDIR)
		return 0;
	if (e)
		return part_error(err, rel, strlen(rel), e);
	if (!S_ISREG(sb.st_mode))
		return refuse(err, rel, strlen(rel), kind_of(sb.st_mode));
	*exists_out = 1;
	if (size_out)
		*size_out = (int64_t)sb.st_size;
	if (mtime_out)
		*mtime_out = (int64_t)sb.st_mtime;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Listing                                                             */
/* ------------------------------------------------------------------ */

/* One file found by transport_list(). */
struct list_entry {
	char *path;	/* relative to the listed directory; owned */
	int64_t size;	/* bytes */
	int64_t mtime;	/* seconds since the epoch */
};

/* The walk of one transport_list() call. */
struct list_walk {
	struct list_entry *v;	/* files found so far; owned */
	size_t n;		/* how many */
	size_t alloc;		/* room in 'v' */
	size_t max_entries;	/* more is an error */
	int max_depth;		/* deepest level to list */
	const char *top;	/* the listed directory, for messages */
	struct buf rel;		/* the current relative directory, "a/b/" */
};

/*
 * Whether 'name' in the current directory of 'w' has a relative path
 * (plus a slash, for a directory) that a read would accept; a longer
 * one is skipped, since it could never be read.
 */
static int list_fits(const struct list_walk *w, const char *name)
{
	return w->rel.len + strlen(name) + 1 <= TRANSPORT_REL_MAX;
}

/* Add the file 'name' of the current directory with the stat 'sb'. */
static int list_add(struct list_walk *w, const char *name,
		    const struct stat *sb, struct err *err)
{
	struct buf p = BUF_INIT;

	if (w->n >= w->max_entries)
		return err_set(err, ERR_TRANSFER_FAILED,
			       "more than %zu files under '%s'",
			       w->max_entries, w->top);
	if (w->n == w->alloc) {
		w->alloc = w->alloc ? w->alloc * 2 : 64;
		w->v = xrealloc(w->v, w->alloc * sizeof(*w->v));
	}
	buf_add(&p, buf_str(&w->rel), w->rel.len);
	buf_adds(&p, name);
	w->v[w->n].path = buf_detach(&p, NULL);
	w->v[w->n].size = (int64_t)sb->st_size;
	w->v[w->n].mtime = (int64_t)sb->st_mtime;
	w->n++;
	return 0;
}

/*
 * List the directory open as 'dfd' (taken over and closed here) at
 * level 'depth' into 'w', descending into subdirectories while 'depth'
 * is below the limit.  Only regular files and real directories are
 * taken; a symbolic link, FIFO, socket or device is skipped without
 * being opened, and so is a directory that stops being one before it
 * is opened.
 */
static int list_dir(struct list_walk *w, int dfd, int depth, struct err *err)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	struct stat sb;
	size_t saved = w->rel.len;
	int ret = -1;

	if (!d) {
		close(dfd);
		return err_set(err, ERR_IO_FAILED, "cannot list '%s': %s",
			       w->top, strerror(errno));
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de)
			break;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!list_fits(w, de->d_name) ||
		    fstatat(dirfd(d), de->d_name, &sb,
			    AT_SYMLINK_NOFOLLOW) < 0)
			continue;	/* too long, or gone since readdir() */
		if (S_ISREG(sb.st_mode)) {
			if (list_add(w, de->d_name, &sb, err) < 0)
				goto out;
		} else if (S_ISDIR(sb.st_mode) && depth < w->max_depth) {
			int sub = openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
						 O_NONBLOCK | O_CLOEXEC);

			if (sub < 0 && (errno == ELOOP || errno == ENOTDIR ||
					errno == ENOENT))
				continue;	/* replaced since fstatat() */
			if (sub < 0) {
				err_set(err, ERR_IO_FAILED,
					"cannot list '%s/%s%s': %s", w->top,
					buf_str(&w->rel), de->d_name,
					strerror(errno));
				goto out;
			}
			buf_addf(&w->rel, "%s/", de->d_name);
			if (list_dir(w, sub, depth + 1, err) < 0)
				goto out;
			w->rel.len = saved;
			w->rel.data[saved] = '\0';
		}
	}
	if (errno) {
		err_set(err, ERR_IO_FAILED, "cannot list '%s': %s", w->top,
			strerror(errno));
		goto out;
	}
	ret = 0;
out:
	closedir(d);
	return ret;
}

/* qsort() order of list entries: by path, bytewise. */
static int list_entry_cmp(const void *a, const void *b)
{
	const struct list_entry *x = a, *y = b;

	return strcmp(x->path, y->path);
}

/* List the files under 'dir' (see transport_list()). */
static int local_list(struct transport *t, json_t **out, const char *dir,
		      int max_depth, int max_entries, struct err *err)
{
	struct list_walk w;
	json_t *arr = NULL;
	size_t i;
	int fd, ret = -1;

	(void)t;
	memset(&w, 0, sizeof(w));
	w.max_entries = max_entries > 0 ? (size_t)max_entries : 0;
	w.max_depth = max_depth < LIST_DEPTH_MAX ? max_depth : LIST_DEPTH_MAX;
	w.top = dir;
	buf_init(&w.rel, 0);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			err_set(err, ERR_NOT_FOUND, "no such directory '%s'",
				dir);
		else
			err_set(err, ERR_IO_FAILED, "cannot list '%s': %s", dir,
				strerror(errno));
		goto out;
	}
	if (w.max_depth < 1)
		close(fd);
	else if (list_dir(&w, fd, 1, err) < 0)
		goto out;
	if (w.n)
		qsort(w.v, w.n, sizeof(*w.v), list_entry_cmp);
	arr = json_array();
	for (i = 0; i < w.n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:I, s:I}",
						     "path", w.v[i].path,
						     "size",
						     (json_int_t)w.v[i].size,
						     "mtime",
						     (json_int_t)w.v[i].mtime));
	*out = arr;
	ret = 0;
out:
	for (i = 0; i < w.n; i++)
		free(w.v[i].path);
	free(w.v);
	buf_release(&w.rel);
	return ret;
}

/* ------------------------------------------------------------------ */
/* The kind                                                            */
/* ------------------------------------------------------------------ */

static const struct transport_ops local_ops = {
	.name = "local",
	.exec = local_exec,
	.mkdirs = local_mkdirs,
	.write_file = local_write_file,
	.read_file = local_read_file,
	.read_range = local_read_range,
	.stat = local_stat,
	.list = local_list,
	.remove = local_remove,
};

int transport_local_open(struct transport **out, const json_t *cluster,
			 struct err *err)
{
	(void)cluster;
	(void)err;
	*out = transport_new(&local_ops, NULL);
	return 0;
}
