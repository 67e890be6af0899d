/*
 * transport_local.c: the "local" transport, this machine (see
 * transport.h).  Commands go to proc_run() (proc.c).  Files are written
 * atomically through a temporary file in the same directory.
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

/* The largest relative path transport_list() builds. */
#define LIST_PATH_MAX 4096
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
/* Files                                                               */
/* ------------------------------------------------------------------ */

/*
 * Make the one directory 'path' with 'mode'; one that is already there
 * is fine.  'report' is the path the caller asked for, for messages.
 */
static int mkdir_one(const char *path, int mode, const char *report,
		     struct err *err)
{
	struct stat sb;

	if (mkdir(path, (mode_t)mode) == 0)
		return 0;
	if (errno == EEXIST && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return 0;
	if (errno == EEXIST)
		return err_set(err, ERR_IO_FAILED,
			       "cannot create directory '%s': '%s' is not a "
			       "directory", report, path);
	return err_set(err, ERR_IO_FAILED, "cannot create directory '%s': %s",
		       report, strerror(errno));
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

/* Flush the directory 'dir' so that a rename in it is durable. */
static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return;
	fsync(fd);
	close(fd);
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
 */
static int local_write_file(struct transport *t, const char *path,
			    const void *data, size_t len, int mode,
			    struct err *err)
{
	char *dir = dir_of(path);
	const char *base = strrchr(path, '/');
	struct buf tmp = BUF_INIT;
	int fd = -1, ret = -1;

	base = base ? base + 1 : path;
	if (!*base) {
		err_set(err, ERR_IO_FAILED, "cannot write '%s': not a file name",
			path);
		goto out;
	}
	if (strcmp(dir, ".") && local_mkdirs(t, dir, 0755, err) < 0)
		goto out;
	buf_addf(&tmp, "%s/.%s.tmp-XXXXXX", dir, base);
	fd = mkostemp(tmp.data, O_CLOEXEC);
	if (fd < 0) {
		buf_release(&tmp);
		goto io_error;
	}
	if (fchmod(fd, (mode_t)(mode & 07777)) < 0 ||
	    write_all(fd, data, len) < 0 || fsync(fd) < 0)
		goto io_error;
	if (close(fd) < 0) {
		fd = -1;
		goto io_error;
	}
	fd = -1;
	if (rename(tmp.data, path) < 0)
		goto io_error;
	buf_release(&tmp);
	sync_dir(dir);
	ret = 0;
	goto out;

io_error:
	err_set(err, ERR_IO_FAILED, "cannot write '%s': %s", path, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	if (tmp.data)
		unlink(tmp.data);
	buf_release(&tmp);
	free(dir);
	return ret;
}

/*
 * Open 'path' for reading and stat it into 'sb', refusing directories.
 * Returns the descriptor, or -1 with 'err' filled.
 */
static int open_for_read(const char *path, struct stat *sb, struct err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
		return err_set(err, ERR_NOT_FOUND, "no such file '%s'", path);
	if (fd < 0)
		return err_set(err, ERR_IO_FAILED, "cannot read '%s': %s", path,
			       strerror(errno));
	if (fstat(fd, sb) < 0 || S_ISDIR(sb->st_mode)) {
		int e = S_ISDIR(sb->st_mode) ? EISDIR : errno;

		close(fd);
		return err_set(err, ERR_IO_FAILED, "cannot read '%s': %s", path,
			       strerror(e));
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

/* Read all of 'path' into 'out', at most 'max' bytes. */
static int local_read_file(struct transport *t, struct buf *out,
			   const char *path, size_t max, struct err *err)
{
	struct stat sb;
	int fd, more, ret = -1;

	(void)t;
	fd = open_for_read(path, &sb, err);
	if (fd < 0)
		return -1;
	if (sb.st_size > 0 && (uint64_t)sb.st_size > max) {
		err_set(err, ERR_TRANSFER_FAILED, "'%s' is larger than %zu bytes",
			path, max);
		goto out;
	}
	if (read_up_to(fd, out, 0, max, &more) < 0) {
		err_set(err, ERR_IO_FAILED, "cannot read '%s': %s", path,
			strerror(errno));
		goto out;
	}
	if (more) {
		err_set(err, ERR_TRANSFER_FAILED, "'%s' is larger than %zu bytes",
			path, max);
		goto out;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

/* Read 'max' bytes of 'path' from 'offset' (see transport_read_range()). */
static int local_read_range(struct transport *t, struct buf *out,
			    int64_t *size_out, const char *path,
			    int64_t offset, size_t max, struct err *err)
{
	struct stat sb;
	int fd, more, ret = -1;

	(void)t;
	fd = open_for_read(path, &sb, err);
	if (fd < 0)
		return -1;
	if (size_out)
		*size_out = (int64_t)sb.st_size;
	if (offset < (int64_t)sb.st_size &&
	    read_up_to(fd, out, offset, max, &more) < 0) {
		err_set(err, ERR_IO_FAILED, "cannot read '%s': %s", path,
			strerror(errno));
		goto out;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

/* Whether 'path' exists, and its size and mtime (see transport_stat()). */
static int local_stat(struct transport *t, int *exists_out,
		      int64_t *size_out, int64_t *mtime_out, const char *path,
		      struct err *err)
{
	struct stat sb;
	int exists = 1;

	(void)t;
	if (stat(path, &sb) < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			return err_set(err, ERR_IO_FAILED, "cannot stat '%s': %s",
				       path, strerror(errno));
		exists = 0;
	}
	*exists_out = exists;
	if (size_out)
		*size_out = exists ? (int64_t)sb.st_size : 0;
	if (mtime_out)
		*mtime_out = exists ? (int64_t)sb.st_mtime : 0;
	return 0;
}

/* Remove the file 'path'; a missing one is fine. */
static int local_remove(struct transport *t, const char *path,
			struct err *err)
{
	(void)t;
	if (unlink(path) < 0 && errno != ENOENT)
		return err_set(err, ERR_IO_FAILED, "cannot remove '%s': %s", path,
			       strerror(errno));
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
	struct buf rel;		/* the current relative directory */
};

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
	buf_add(&p, w->rel.data ? w->rel.data : "", w->rel.len);
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
 * is below the limit.  Symbolic links are skipped.
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
		return err_set(err, ERR_IO_FAILED, "cannot list '%s': %s", w->top,
			       strerror(errno));
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de)
			break;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &sb,
			    AT_SYMLINK_NOFOLLOW) < 0)
			continue;	/* gone since readdir() */
		if (S_ISREG(sb.st_mode)) {
			if (list_add(w, de->d_name, &sb, err) < 0)
				goto out;
		} else if (S_ISDIR(sb.st_mode) && depth < w->max_depth) {
			int sub = openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					 O_CLOEXEC);

			if (sub < 0) {
				err_set(err, ERR_IO_FAILED,
					"cannot list '%s/%s%s': %s", w->top,
					buf_str(&w->rel), de->d_name,
					strerror(errno));
				goto out;
			}
			if (buf_addf(&w->rel, "%s/", de->d_name) < 0) {
				close(sub);
				err_set(err, ERR_TRANSFER_FAILED,
					"path too long under '%s'", w->top);
				goto out;
			}
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
	*out = NULL;
	memset(&w, 0, sizeof(w));
	w.max_entries = max_entries > 0 ? (size_t)max_entries : 0;
	w.max_depth = max_depth < LIST_DEPTH_MAX ? max_depth : LIST_DEPTH_MAX;
	w.top = dir;
	buf_init(&w.rel, LIST_PATH_MAX);
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
	*out = transport_new(&local_ops);
	return 0;
}
