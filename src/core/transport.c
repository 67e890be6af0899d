/*
 * transport.c: the transport handle, exec results, the static table of
 * transport kinds, and the dispatch of each operation to its kind after
 * the checks every kind relies on (see transport.h).  The untrusted
 * relative paths of the read operations are checked here once, so that
 * no kind can forget it; what a path then names on disk (a symbolic
 * link, a FIFO) is each kind's to refuse.
 */
#include <stdlib.h>
#include <string.h>

#include "transport.h"
#include "transport_kinds.h"
#include "xalloc.h"
#include "banned.h"

struct transport {
	const struct transport_ops *ops;	/* static table of the kind */
	void *priv;				/* the kind's own data */
};

/* One kind of transport: its name in the config, and how to open it. */
struct transport_kind {
	const char *name;
	int (*open)(struct transport **out, const json_t *cluster,
		    struct err *err);
};

/* Every kind this build has. */
static const struct transport_kind kinds[] = {
	{ "local", transport_local_open },
	{ "ssh", transport_ssh_open },
};

#define KIND_COUNT (sizeof(kinds) / sizeof(kinds[0]))

/* ------------------------------------------------------------------ */
/* Handles and results                                                 */
/* ------------------------------------------------------------------ */

struct transport *transport_new(const struct transport_ops *ops, void *priv)
{
	struct transport *t = xmalloc(sizeof(*t));

	t->ops = ops;
	t->priv = priv;
	return t;
}

void *transport_priv(const struct transport *t)
{
	return t->priv;
}

void transport_close(struct transport *t)
{
	if (!t)
		return;
	if (t->ops->close)
		t->ops->close(t);
	free(t);
}

const char *transport_name(const struct transport *t)
{
	return t->ops->name;
}

void exec_result_init(struct exec_result *r, size_t max_out)
{
	r->exit_code = 0;
	r->signal = 0;
	buf_init(&r->out, max_out);
	buf_init(&r->err, max_out);
	r->out_truncated = 0;
	r->err_truncated = 0;
}

void exec_result_release(struct exec_result *r)
{
	if (!r)
		return;
	buf_release(&r->out);
	buf_release(&r->err);
}

/* ------------------------------------------------------------------ */
/* Opening                                                             */
/* ------------------------------------------------------------------ */

int transport_kind_known(const char *name)
{
	size_t i;

	for (i = 0; name && i < KIND_COUNT; i++)
		if (!strcmp(kinds[i].name, name))
			return 1;
	return 0;
}

int transport_open(struct transport **out, const json_t *cluster,
		   struct err *err)
{
	const char *kind = NULL;
	struct buf names = BUF_INIT;
	size_t i;

	*out = NULL;
	if (cluster)
		kind = json_string_value(json_object_get(cluster, "transport"));
	if (!kind)
		kind = "local";
	for (i = 0; i < KIND_COUNT; i++) {
		if (!strcmp(kinds[i].name, kind))
			return kinds[i].open(out, cluster, err);
	}
	for (i = 0; i < KIND_COUNT; i++)
		buf_addf(&names, "%s%s", i ? ", " : "", kinds[i].name);
	err_set(err, ERR_CONFIG_INVALID,
		"transport '%s' is not available in this build", kind);
	err_remedy(err, "set the cluster's transport to one this build has "
			"(%s), or use a build with '%s'",
		   buf_str(&names), kind);
	buf_release(&names);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Argument checks                                                     */
/* ------------------------------------------------------------------ */

/*
 * Check the untrusted relative path 'rel' of a read under 'dir': not
 * empty, not absolute, not longer than TRANSPORT_REL_MAX, and no empty,
 * "." or ".." part, so that it cannot name anything outside 'dir'.
 * 'dir' itself is hpcloop's, so only its presence is checked.
 */
static int check_rel(const char *dir, const char *rel, struct err *err)
{
	const char *part, *end;
	size_t len, n;

	if (!dir || !*dir || !rel)
		return err_set(err, ERR_INTERNAL,
			       "read without a directory or a path");
	len = strlen(rel);
	if (len > TRANSPORT_REL_MAX)
		return err_set(err, ERR_FILE_REFUSED,
			       "'%.64s...' is longer than %d bytes", rel,
			       TRANSPORT_REL_MAX);
	if (!len)
		return err_set(err, ERR_FILE_REFUSED, "an empty path");
	if (rel[0] == '/')
		return err_set(err, ERR_FILE_REFUSED,
			       "'%s' is not a relative path", rel);
	for (part = rel;; part = end + 1) {
		end = strchr(part, '/');
		n = end ? (size_t)(end - part) : strlen(part);
		if (n == 0 || (n == 1 && part[0] == '.') ||
		    (n == 2 && part[0] == '.' && part[1] == '.'))
			return err_set(err, ERR_FILE_REFUSED,
				       "'%s' has an empty, '.' or '..' part",
				       rel);
		if (!end)
			return 0;
	}
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */
/* ------------------------------------------------------------------ */

int transport_exec(struct transport *t, struct exec_result *res,
		   const char *const *argv, const char *cwd,
		   const void *stdin_data, size_t stdin_len, int timeout_s,
		   struct err *err)
{
	if (!argv || !argv[0] || !argv[0][0])
		return err_set(err, ERR_INTERNAL, "exec without a program");
	exec_result_release(res);
	res->exit_code = 0;
	res->signal = 0;
	res->out_truncated = 0;
	res->err_truncated = 0;
	return t->ops->exec(t, res, argv, cwd, stdin_data, stdin_len,
			    timeout_s, err);
}

int transport_mkdirs(struct transport *t, const char *path, int mode,
		     struct err *err)
{
	return t->ops->mkdirs(t, path, mode, err);
}

int transport_write_file(struct transport *t, const char *path,
			 const void *data, size_t len, int mode,
			 struct err *err)
{
	return t->ops->write_file(t, path, data, len, mode, err);
}

int transport_remove(struct transport *t, const char *path, struct err *err)
{
	return t->ops->remove(t, path, err);
}

int transport_read_file(struct transport *t, struct buf *out,
			const char *dir, const char *rel, size_t max,
			struct err *err)
{
	buf_release(out);
	buf_init(out, max);
	if (check_rel(dir, rel, err) < 0 ||
	    t->ops->read_file(t, out, dir, rel, max, err) < 0) {
		buf_release(out);
		return -1;
	}
	return 0;
}

int transport_read_range(struct transport *t, struct buf *out,
			 int64_t *size_out, const char *dir, const char *rel,
			 int64_t offset, size_t max, struct err *err)
{
	buf_release(out);
	buf_init(out, max);
	if (size_out)
		*size_out = 0;
	if (check_rel(dir, rel, err) < 0)
		return -1;
	if (offset < 0)
		return err_set(err, ERR_INTERNAL,
			       "negative offset reading '%s'", rel);
	if (t->ops->read_range(t, out, size_out, dir, rel, offset, max,
			       err) < 0) {
		buf_release(out);
		if (size_out)
			*size_out = 0;
		return -1;
	}
	return 0;
}

int transport_stat(struct transport *t, int *exists_out, int64_t *size_out,
		   int64_t *mtime_out, const char *dir, const char *rel,
		   struct err *err)
{
	*exists_out = 0;
	if (size_out)
		*size_out = 0;
	if (mtime_out)
		*mtime_out = 0;
	if (check_rel(dir, rel, err) < 0)
		return -1;
	if (t->ops->stat(t, exists_out, size_out, mtime_out, dir, rel,
			 err) < 0) {
		*exists_out = 0;
		if (size_out)
			*size_out = 0;
		if (mtime_out)
			*mtime_out = 0;
		return -1;
	}
	return 0;
}

int transport_list(struct transport *t, json_t **out, const char *dir,
		   int max_depth, int max_entries, struct err *err)
{
	*out = NULL;
	if (!dir || !*dir)
		return err_set(err, ERR_INTERNAL, "list without a directory");
	return t->ops->list(t, out, dir, max_depth, max_entries, err);
}
