/*
 * journal.c: the SQLite journal (see journal.h): opening (and refusing
 * what cannot work, such as a network filesystem), migrating with the
 * list in journal_schema.c, transactions, and the mapping of JSON
 * parameters and rows to and from SQLite statements.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <sqlite3.h>

#include "buf.h"
#include "crypto.h"
#include "fault.h"
#include "ids.h"
#include "journal.h"
#include "journal_schema.h"
#include "xalloc.h"
#include "banned.h"

/* The WAL size past which closing truncates it (see trim_wal). */
#define JOURNAL_WAL_LIMIT (256 * 1024)

struct journal {
	sqlite3 *db;	/* the connection */
	char *path;	/* as opened; owned */
	int in_tx;	/* a transaction of ours is open */
};

/* ---------------------------------------------------------------- */
/* Errors                                                             */
/* ---------------------------------------------------------------- */

/*
 * Turn the SQLite result 'rc' into an hpcloop error in 'err', copying
 * the message from 'db' before anything can change it.  'what' says
 * which step failed.
 */
static int db_err(struct err *err, sqlite3 *db, int rc, const char *what)
{
	const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
	int prim = rc & 0xff;

	if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
		return err_set(err, ERR_JOURNAL_BUSY, "journal is locked: %s",
			       what);
	if (prim == SQLITE_CORRUPT || prim == SQLITE_NOTADB)
		return err_set(err, ERR_JOURNAL_CORRUPT,
			       "journal is damaged or not a journal: %s: %s",
			       what, msg);
	if (prim == SQLITE_CONSTRAINT)
		return err_set(err, ERR_CONFLICT, "the journal refused a "
			       "change: %s: %s", what, msg);
	if (prim == SQLITE_CANTOPEN || prim == SQLITE_IOERR ||
	    prim == SQLITE_FULL || prim == SQLITE_READONLY ||
	    prim == SQLITE_PERM)
		return err_set(err, ERR_IO_FAILED, "journal i/o failed: %s: %s",
			       what, msg);
	return err_set(err, ERR_INTERNAL, "journal: %s: %s", what, msg);
}

/* ---------------------------------------------------------------- */
/* Opening and migrating                                              */
/* ---------------------------------------------------------------- */

/* mkdir -p for the directory part of 'path'. */
static int make_parent_dirs(const char *path, struct err *err)
{
	char *dir = xstrdup(path);
	char *p;
	int r = 0;

	for (p = *dir ? dir + 1 : dir; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			r = err_set(err, ERR_IO_FAILED,
				    "cannot create directory '%s': %s", dir,
				    strerror(errno));
			break;
		}
		*p = '/';
	}
	free(dir);
	return r;
}

static int exec_script(struct journal *j, const char *sql, const char *what,
		       struct err *err)
{
	char *msg = NULL;
	int rc = sqlite3_exec(j->db, sql, NULL, NULL, &msg);

	sqlite3_free(msg);
	if (rc != SQLITE_OK)
		return db_err(err, j->db, rc, what);
	return 0;
}

static int user_version(struct journal *j, int *out, struct err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(j->db, "PRAGMA user_version", -1, &st,
				    NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		db_err(err, j->db, rc, "reading the schema version");
		sqlite3_finalize(st);
		return -1;
	}
	*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

/* Fail when the migration just run left a dangling reference. */
static int check_foreign_keys(struct journal *j, struct err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(j->db, "PRAGMA foreign_key_check", -1,
				    &st, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return err_set(err, ERR_JOURNAL_CORRUPT,
			       "a migration left foreign key violations");
	if (rc != SQLITE_DONE)
		return db_err(err, j->db, rc, "checking foreign keys");
	return 0;
}

/*
 * Bring 'j' to the newest schema version, one migration per
 * transaction, each with the user_version bump inside it.  Foreign keys
 * are off while a migration rebuilds tables (the pragma is a no-op
 * inside a transaction) and the result is checked before the commit.
 */
static int migrate_to(struct journal *j, size_t n, struct err *err)
{
	size_t all;
	const char *const *migrations = journal_migrations(&all);
	int v, r = -1;
	char sql[64];

	if (user_version(j, &v, err) < 0)
		return -1;
	if (n > all)
		BUG("no journal schema version %zu", n);
	if (v > (int)all)
		return err_set(err, ERR_JOURNAL_UNSUPPORTED,
			       "journal schema version %d is newer than this "
			       "hpcloop understands (%d); upgrade hpcloop",
			       v, (int)all);
	if (v == (int)n)
		return 0;
	if (exec_script(j, "PRAGMA foreign_keys = OFF", "migration", err) < 0)
		return -1;
	while (v < (int)n) {
		if (exec_script(j, "BEGIN IMMEDIATE", "migration", err) < 0)
			goto out;
		/* Another process may have migrated while we waited. */
		if (user_version(j, &v, err) < 0)
			goto fail;
		if (v >= (int)n) {
			if (exec_script(j, "COMMIT", "migration", err) < 0)
				goto fail;
			break;
		}
		if (exec_script(j, migrations[v], "migration", err) < 0 ||
		    check_foreign_keys(j, err) < 0)
			goto fail;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (exec_script(j, sql, "migration", err) < 0 ||
		    exec_script(j, "COMMIT", "migration", err) < 0)
			goto fail;
		v++;
	}
	r = 0;
	goto out;
fail:
	sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
out:
	if (exec_script(j, "PRAGMA foreign_keys = ON", "migration",
			r < 0 ? NULL : err) < 0)
		r = -1;
	return r;
}

/*
 * The filesystems whose locking SQLite's WAL cannot rely on (statfs
 * magic numbers): NFS, Lustre, GPFS, CIFS/SMB, CephFS, AFS, 9p.
 */
int journal_fs_is_network(long magic)
{
	static const unsigned long network[] = {
		0x6969UL,	/* NFS */
		0x0BD00BD0UL,	/* Lustre */
		0x47504653UL,	/* GPFS */
		0xFF534D42UL,	/* CIFS */
		0xFE534D42UL,	/* SMB2 */
		0x517BUL,	/* SMB */
		0x00C36400UL,	/* CephFS */
		0x5346414FUL,	/* AFS */
		0x01021997UL,	/* 9p */
	};
	size_t i;

	for (i = 0; i < sizeof(network) / sizeof(network[0]); i++)
		if ((unsigned long)magic == network[i] ||
		    ((unsigned long)magic & 0xffffffffUL) == network[i])
			return 1;
	return 0;
}

/* Refuse a journal directory on a network filesystem (DESIGN §12). */
static int check_local_fs(const char *path, struct err *err)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	struct statfs fs;
	int r = 0;

	if (slash == dir) {
		slash[1] = '\0';
	} else if (slash) {
		*slash = '\0';
	} else {
		free(dir);
		dir = xstrdup(".");
	}
	if (statfs(dir, &fs) == 0 && journal_fs_is_network((long)fs.f_type) &&
	    !getenv("HPCLOOP_ALLOW_NETWORK_JOURNAL")) {
		err_set(err, ERR_JOURNAL_UNSUPPORTED,
			"the journal '%s' is on a network filesystem, where "
			"SQLite's WAL locking does not work", path);
		err_remedy(err, "keep the journal on a local disk: set "
			   "--journal or HPCLOOP_JOURNAL to a local path "
			   "(sprint directories may stay on the shared "
			   "filesystem)");
		r = -1;
	}
	free(dir);
	return r;
}

/*
 * Once per process, before SQLite initialises: no memory statistics
 * (they take a mutex on every allocation).  Connections are opened
 * with SQLITE_OPEN_NOMUTEX, one per thread.
 */
static void configure_once(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static void configure_sqlite(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, configure_once);
}

/* The newest schema version. */
static int migrate(struct journal *j, struct err *err)
{
	size_t n;

	journal_migrations(&n);
	return migrate_to(j, n, err);
}

int journal_create_old(const char *path, int version, struct err *err)
{
	struct journal *j = NULL;
	int rc, r = -1;

	if (make_parent_dirs(path, err) < 0)
		return -1;
	j = xcalloc(1, sizeof(*j));
	j->path = xstrdup(path);
	rc = sqlite3_open_v2(path, &j->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		db_err(err, j->db, rc, "creating");
		goto out;
	}
	if (exec_script(j, "PRAGMA journal_mode = WAL", "setting WAL mode",
			err) < 0 ||
	    migrate_to(j, (size_t)version, err) < 0)
		goto out;
	r = 0;
out:
	journal_close(j);
	return r;
}

int journal_open(struct journal **out, const char *path, unsigned flags,
		 struct err *err)
{
	struct journal *j = NULL;
	struct stat st;
	int rc, on = 1, fd;

	*out = NULL;
	if (stat(path, &st) < 0) {
		if (errno != ENOENT)
			return err_set(err, ERR_IO_FAILED,
				       "cannot read the journal '%s': %s",
				       path, strerror(errno));
		if (!(flags & JOURNAL_CREATE)) {
			err_set(err, ERR_NOT_FOUND, "no journal at '%s'",
				path);
			return err_remedy(err,
					  "run `hpcloop init` beside "
					  "hpcloop.yaml to create it, or name "
					  "the journal with --journal or "
					  "HPCLOOP_JOURNAL");
		}
		if (make_parent_dirs(path, err) < 0)
			return -1;
		/* Created 0600 before SQLite opens it. */
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			return err_set(err, ERR_IO_FAILED,
				       "cannot create the journal '%s': %s",
				       path, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	if (check_local_fs(path, err) < 0)
		return -1;
	configure_sqlite();
	j = xcalloc(1, sizeof(*j));
	j->path = xstrdup(path);
	rc = sqlite3_open_v2(path, &j->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		db_err(err, j->db, rc, "opening");
		goto fail;
	}
	sqlite3_extended_result_codes(j->db, 0);
	sqlite3_busy_timeout(j->db, 10000);
	/*
	 * The WAL stays when a process exits (no checkpoint and delete on
	 * every close: a heartbeat call would pay for it); SQLite
	 * checkpoints as the WAL grows.  Commits are durable (FULL).
	 */
	sqlite3_file_control(j->db, "main", SQLITE_FCNTL_PERSIST_WAL, &on);
	sqlite3_db_config(j->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	if (exec_script(j, "PRAGMA journal_mode = WAL", "setting WAL mode",
			err) < 0 ||
	    exec_script(j, "PRAGMA foreign_keys = ON; "
			   "PRAGMA synchronous = FULL",
			"setting pragmas", err) < 0)
		goto fail;
	if (migrate(j, err) < 0)
		goto fail;
	*out = j;
	return 0;
fail:
	journal_close(j);
	return -1;
}

/*
 * Keep the WAL short.  Every process that opens the journal first
 * replays the whole WAL into its index (SQLite's recovery of the first
 * connection), so a WAL that only grows makes every call slower; the
 * automatic checkpoint cannot restart it when each process makes one
 * write.  Closing with a WAL past JOURNAL_WAL_LIMIT truncates it; below
 * that, nothing is checkpointed on close.
 */
static void trim_wal(struct journal *j)
{
	char *wal;
	struct stat st;
	size_t n = strlen(j->path) + sizeof("-wal");

	wal = xmalloc(n);
	snprintf(wal, n, "%s-wal", j->path);
	if (stat(wal, &st) == 0 && st.st_size > JOURNAL_WAL_LIMIT)
		sqlite3_wal_checkpoint_v2(j->db, NULL,
					  SQLITE_CHECKPOINT_TRUNCATE, NULL,
					  NULL);
	free(wal);
}

void journal_close(struct journal *j)
{
	if (!j)
		return;
	if (j->in_tx)
		journal_rollback(j);
	if (j->db)
		trim_wal(j);
	sqlite3_close(j->db);
	free(j->path);
	free(j);
}

const char *journal_path(const struct journal *j)
{
	return j->path;
}

/* ---------------------------------------------------------------- */
/* Transactions                                                       */
/* ---------------------------------------------------------------- */

int journal_begin(struct journal *j, struct err *err)
{
	if (j->in_tx)
		BUG("journal_begin inside a transaction");
	if (exec_script(j, "BEGIN IMMEDIATE", "beginning a transaction",
			err) < 0)
		return -1;
	j->in_tx = 1;
	return 0;
}

int journal_commit(struct journal *j, struct err *err)
{
	if (!j->in_tx)
		BUG("journal_commit outside a transaction");
	fault_point("journal.before_commit");
	if (exec_script(j, "COMMIT", "committing", err) < 0) {
		journal_rollback(j);
		return -1;
	}
	j->in_tx = 0;
	return 0;
}

void journal_rollback(struct journal *j)
{
	if (!j->in_tx)
		return;
	sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
	j->in_tx = 0;
}

int journal_in_transaction(const struct journal *j)
{
	return j->in_tx;
}

/* ---------------------------------------------------------------- */
/* Statements                                                         */
/* ---------------------------------------------------------------- */

/* Bind the JSON value 'v' to parameter 'i' of 'st'. */
static int bind_value(sqlite3_stmt *st, int i, const json_t *v)
{
	char *text;
	int rc;

	switch (json_typeof(v)) {
	case JSON_STRING:
		return sqlite3_bind_text(st, i, json_string_value(v),
					 (int)json_string_length(v),
					 SQLITE_TRANSIENT);
	case JSON_INTEGER:
		return sqlite3_bind_int64(st, i, json_integer_value(v));
	case JSON_REAL:
		return sqlite3_bind_double(st, i, json_real_value(v));
	case JSON_TRUE:
		return sqlite3_bind_int(st, i, 1);
	case JSON_FALSE:
		return sqlite3_bind_int(st, i, 0);
	case JSON_NULL:
		return sqlite3_bind_null(st, i);
	default:
		text = crypto_canonical_json(v);
		rc = sqlite3_bind_text(st, i, text, -1, SQLITE_TRANSIENT);
		free(text);
		return rc;
	}
}

/* Column 'i' of the current row of 'st' as a new JSON value. */
static json_t *column_value(sqlite3_stmt *st, int i)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER:
		return json_integer(sqlite3_column_int64(st, i));
	case SQLITE_FLOAT:
		return json_real(sqlite3_column_double(st, i));
	case SQLITE_NULL:
		return json_null();
	default:
		return json_stringn(
			(const char *)sqlite3_column_text(st, i),
			(size_t)sqlite3_column_bytes(st, i));
	}
}

int journal_exec(struct journal *j, json_t **rows_out, const char *sql,
		 const json_t *params, struct err *err)
{
	sqlite3_stmt *st = NULL;
	json_t *rows = NULL;
	size_t i;
	int rc, ncol, c, r = -1;

	if (rows_out)
		*rows_out = NULL;
	rc = sqlite3_prepare_v2(j->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		db_err(err, j->db, rc, "preparing a statement");
		goto out;
	}
	if (params) {
		if ((int)json_array_size(params) !=
		    sqlite3_bind_parameter_count(st))
			BUG("statement wants %d parameters, got %zu",
			    sqlite3_bind_parameter_count(st),
			    json_array_size(params));
		for (i = 0; i < json_array_size(params); i++) {
			rc = bind_value(st, (int)i + 1,
					json_array_get(params, i));
			if (rc != SQLITE_OK) {
				db_err(err, j->db, rc, "binding");
				goto out;
			}
		}
	}
	rows = json_array();
	ncol = sqlite3_column_count(st);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *row;

		if (!rows_out)
			continue;
		row = json_object();
		for (c = 0; c < ncol; c++)
			json_object_set_new(row, sqlite3_column_name(st, c),
					    column_value(st, c));
		json_array_append_new(rows, row);
	}
	if (rc != SQLITE_DONE) {
		db_err(err, j->db, rc, "running a statement");
		goto out;
	}
	if (rows_out) {
		*rows_out = rows;
		rows = NULL;
	}
	r = 0;
out:
	json_decref(rows);
	sqlite3_finalize(st);
	return r;
}

int journal_row(struct journal *j, json_t **row_out, const char *sql,
		const json_t *params, struct err *err)
{
	json_t *rows = NULL;

	*row_out = NULL;
	if (journal_exec(j, &rows, sql, params, err) < 0)
		return -1;
	if (json_array_size(rows) > 0)
		*row_out = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	return 0;
}

int64_t journal_changes(struct journal *j)
{
	return sqlite3_changes(j->db);
}

int64_t journal_last_id(struct journal *j)
{
	return sqlite3_last_insert_rowid(j->db);
}

/* ---------------------------------------------------------------- */
/* Events                                                             */
/* ---------------------------------------------------------------- */

int journal_event(struct journal *j, int64_t *id_out, const char *type,
		  const char *subject, const json_t *data, struct err *err)
{
	char now[IDS_TIME_LEN];
	json_t *params;
	json_t *empty = NULL;
	int r;

	if (!j->in_tx)
		BUG("journal_event outside a transaction");
	ids_now(now);
	if (!data)
		data = empty = json_object();
	params = json_pack("[s,s,s?,O]", now, type, subject, data);
	r = journal_exec(j, NULL,
			 "INSERT INTO events (ts, type, subject, data) "
			 "VALUES (?, ?, ?, ?)",
			 params, err);
	json_decref(params);
	json_decref(empty);
	if (r == 0 && id_out)
		*id_out = journal_last_id(j);
	return r;
}

/*
 * The SELECT for 'q': one statement per combination of filters, so
 * that each can use its index (events_type, events_subject) instead of
 * an "? IS NULL OR" that defeats them.
 */
static void events_sql(struct buf *sql, json_t *params,
		       const struct journal_event_query *q)
{
	buf_adds(sql, "SELECT id, ts, type, subject, data FROM events "
		      "WHERE id > ?");
	json_array_append_new(params, json_integer(q->since));
	if (q->type) {
		buf_adds(sql, " AND type = ?");
		json_array_append_new(params, json_string(q->type));
	}
	if (q->subject) {
		buf_adds(sql, " AND subject = ?");
		json_array_append_new(params, json_string(q->subject));
	}
	buf_adds(sql, q->tail ? " ORDER BY id DESC LIMIT ?"
			      : " ORDER BY id LIMIT ?");
	json_array_append_new(params, json_integer(q->limit));
}

int journal_events(struct journal *j, json_t **out,
		   const struct journal_event_query *q, struct err *err)
{
	struct buf sql = BUF_INIT;
	json_t *params = json_array(), *rows = NULL, *ordered;
	size_t i, n;
	int r;

	*out = NULL;
	events_sql(&sql, params, q);
	r = journal_exec(j, &rows, buf_str(&sql), params, err);
	buf_release(&sql);
	json_decref(params);
	if (r < 0)
		return -1;
	/* Oldest first, whichever end the page was taken from. */
	n = json_array_size(rows);
	ordered = json_array();
	for (i = 0; i < n; i++) {
		json_t *row = json_array_get(rows, q->tail ? n - 1 - i : i);
		const char *text =
			json_string_value(json_object_get(row, "data"));
		json_t *data = text ? json_loads(text, 0, NULL) : NULL;

		/* data is stored as JSON text; hand it back as JSON. */
		json_object_set_new(row, "data", data ? data : json_object());
		json_array_append(ordered, row);
	}
	json_decref(rows);
	*out = ordered;
	return 0;
}

int journal_has_event(struct journal *j, int *found_out, const char *type,
		      struct err *err)
{
	json_t *params = json_pack("[s]", type), *row = NULL;
	int r = journal_row(j, &row,
			    "SELECT id FROM events WHERE type = ? LIMIT 1",
			    params, err);

	json_decref(params);
	*found_out = row != NULL;
	json_decref(row);
	return r;
}

int journal_last_event_id(struct journal *j, int64_t *id_out,
			  struct err *err)
{
	json_t *row = NULL;

	*id_out = 0;
	if (journal_row(j, &row, "SELECT coalesce(max(id), 0) AS n FROM events",
			NULL, err) < 0)
		return -1;
	*id_out = json_integer_value(json_object_get(row, "n"));
	json_decref(row);
	return 0;
}

/* ---------------------------------------------------------------- */
/* Inspection                                                         */
/* ---------------------------------------------------------------- */

int journal_row_counts(struct journal *j, json_t **out, struct err *err)
{
	json_t *tables = NULL, *counts = NULL, *row = NULL;
	struct buf sql = BUF_INIT;
	size_t i;
	int r = -1;

	*out = NULL;
	if (journal_exec(j, &tables,
			 "SELECT name FROM sqlite_master WHERE type = 'table' "
			 "AND name NOT LIKE 'sqlite_%' ORDER BY name",
			 NULL, err) < 0)
		goto out;
	counts = json_object();
	for (i = 0; i < json_array_size(tables); i++) {
		const char *name = json_string_value(
			json_object_get(json_array_get(tables, i), "name"));

		/* Table names come from sqlite_master, not from users. */
		buf_release(&sql);
		buf_addf(&sql, "SELECT count(*) AS n FROM \"%s\"", name);
		if (journal_row(j, &row, buf_str(&sql), NULL, err) < 0)
			goto out;
		json_object_set(counts, name, json_object_get(row, "n"));
		json_decref(row);
		row = NULL;
	}
	*out = counts;
	counts = NULL;
	r = 0;
out:
	buf_release(&sql);
	json_decref(tables);
	json_decref(counts);
	return r;
}

int journal_check(struct journal *j, json_t **out, struct err *err)
{
	json_t *rows = NULL, *fk = NULL, *mode = NULL, *ev = NULL;
	json_t *problems = NULL, *report = NULL;
	int version, r = -1;
	size_t i;

	*out = NULL;
	if (user_version(j, &version, err) < 0)
		goto out;
	if (journal_exec(j, &rows, "PRAGMA integrity_check", NULL, err) < 0 ||
	    journal_exec(j, &fk, "PRAGMA foreign_key_check", NULL, err) < 0 ||
	    journal_row(j, &mode, "PRAGMA journal_mode", NULL, err) < 0 ||
	    journal_row(j, &ev, "SELECT count(*) AS n, max(id) AS last "
				"FROM events", NULL, err) < 0)
		goto out;
	problems = json_array();
	for (i = 0; i < json_array_size(rows); i++) {
		json_t *v = json_object_get(json_array_get(rows, i),
					    "integrity_check");

		if (json_is_string(v) && strcmp(json_string_value(v), "ok"))
			json_array_append(problems, v);
	}
	report = json_pack(
		"{s:i, s:i, s:s, s:O, s:I, s:O, s:O}", "schema_version",
		version, "expected_version", JOURNAL_SCHEMA_VERSION,
		"integrity", json_array_size(problems) ? "damaged" : "ok",
		"problems", problems, "foreign_key_violations",
		(json_int_t)json_array_size(fk), "journal_mode",
		json_object_get(mode, "journal_mode"), "events",
		json_object_get(ev, "n"));
	if (!report)
		goto out;
	*out = report;
	r = 0;
out:
	json_decref(rows);
	json_decref(fk);
	json_decref(mode);
	json_decref(ev);
	json_decref(problems);
	return r;
}

const char *journal_library_version(void)
{
	return sqlite3_libversion();
}
