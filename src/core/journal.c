/*
 * journal.c: the SQLite journal (see journal.h).  Migrations live at the
 * top of this file, one array entry per schema version; the rest maps
 * JSON parameters and rows to and from SQLite statements.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "buf.h"
#include "crypto.h"
#include "ids.h"
#include "journal.h"
#include "xalloc.h"
#include "banned.h"

/* ---------------------------------------------------------------- */
/* Migrations                                                         */
/* ---------------------------------------------------------------- */

/*
 * migrations[v-1] brings a journal from version v-1 to v.  Append only:
 * a shipped migration is never edited, a change is a new entry.
 */
static const char *const migrations[] = {
	/* 1: the core tables of DESIGN §3 */
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  ts TEXT NOT NULL,"
	"  type TEXT NOT NULL,"
	"  subject TEXT,"
	"  data TEXT NOT NULL DEFAULT '{}');"
	"CREATE INDEX events_subject ON events(subject, id);"
	"CREATE TABLE idempotency ("
	"  primitive TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  spec_hash TEXT NOT NULL,"
	"  data TEXT NOT NULL,"
	"  created_at TEXT NOT NULL,"
	"  PRIMARY KEY (primitive, key));"
	"CREATE TABLE studies ("
	"  name TEXT PRIMARY KEY,"
	"  cluster TEXT NOT NULL,"
	"  config TEXT NOT NULL DEFAULT '{}',"
	"  created_at TEXT NOT NULL,"
	"  updated_at TEXT NOT NULL);"
	"CREATE TABLE loops ("
	"  id TEXT PRIMARY KEY,"
	"  study TEXT NOT NULL REFERENCES studies(name),"
	"  status TEXT NOT NULL,"
	"  total INTEGER NOT NULL,"
	"  completed INTEGER NOT NULL DEFAULT 0,"
	"  current_sprint_id TEXT,"
	"  config TEXT NOT NULL DEFAULT '{}',"
	"  created_at TEXT NOT NULL,"
	"  updated_at TEXT NOT NULL);"
	"CREATE INDEX loops_study ON loops(study);"
	"CREATE TABLE sprints ("
	"  id TEXT PRIMARY KEY,"
	"  study TEXT NOT NULL REFERENCES studies(name),"
	"  cluster TEXT NOT NULL,"
	"  idea TEXT,"
	"  state TEXT NOT NULL DEFAULT 'pending',"
	"  phase TEXT,"
	"  directory TEXT NOT NULL,"
	"  token_hash TEXT,"
	"  idem_key TEXT UNIQUE,"
	"  job_id TEXT,"
	"  loop_id TEXT REFERENCES loops(id),"
	"  summary TEXT,"
	"  error TEXT,"
	"  metadata TEXT NOT NULL DEFAULT '{}',"
	"  heartbeat_offset INTEGER NOT NULL DEFAULT 0,"
	"  last_heartbeat_at TEXT,"
	"  created_at TEXT NOT NULL,"
	"  submitted_at TEXT,"
	"  started_at TEXT,"
	"  finished_at TEXT);"
	"CREATE INDEX sprints_state ON sprints(state);"
	"CREATE INDEX sprints_study ON sprints(study, created_at);"
	"CREATE INDEX sprints_loop ON sprints(loop_id);"
	"CREATE TABLE jobs ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  sprint_id TEXT REFERENCES sprints(id),"
	"  campaign_id TEXT,"
	"  cluster TEXT NOT NULL,"
	"  scheduler_job_id TEXT,"
	"  wave INTEGER,"
	"  state TEXT NOT NULL,"
	"  evidence TEXT NOT NULL DEFAULT '{}',"
	"  submitted_at TEXT,"
	"  updated_at TEXT NOT NULL);"
	"CREATE INDEX jobs_sprint ON jobs(sprint_id);"
	"CREATE INDEX jobs_state ON jobs(cluster, state);"
	"CREATE TABLE tasks ("
	"  job_id INTEGER NOT NULL REFERENCES jobs(id),"
	"  idx INTEGER NOT NULL,"
	"  state TEXT NOT NULL,"
	"  exit_code INTEGER,"
	"  params TEXT NOT NULL DEFAULT '{}',"
	"  updated_at TEXT NOT NULL,"
	"  PRIMARY KEY (job_id, idx));"
	"CREATE TABLE heartbeats ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  sprint_id TEXT NOT NULL REFERENCES sprints(id),"
	"  seq INTEGER NOT NULL,"
	"  ts TEXT NOT NULL,"
	"  phase TEXT,"
	"  source TEXT NOT NULL,"
	"  data TEXT NOT NULL DEFAULT '{}',"
	"  UNIQUE (sprint_id, seq));"
	"CREATE TABLE artifacts ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  sprint_id TEXT NOT NULL REFERENCES sprints(id),"
	"  path TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  sha256 TEXT NOT NULL,"
	"  stored_path TEXT,"
	"  created_at TEXT NOT NULL,"
	"  UNIQUE (sprint_id, path, sha256));"
	"CREATE TABLE results ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  study TEXT NOT NULL REFERENCES studies(name),"
	"  loop_id TEXT REFERENCES loops(id),"
	"  iteration INTEGER,"
	"  sprint_id TEXT REFERENCES sprints(id),"
	"  metric REAL,"
	"  status TEXT NOT NULL"
	"    CHECK (status IN ('keep', 'discard', 'crash')),"
	"  summary TEXT,"
	"  description TEXT,"
	"  created_at TEXT NOT NULL);"
	"CREATE INDEX results_study ON results(study, id);"
	"CREATE TABLE ideas ("
	"  id TEXT PRIMARY KEY,"
	"  study TEXT NOT NULL REFERENCES studies(name),"
	"  loop_id TEXT REFERENCES loops(id),"
	"  mode TEXT NOT NULL,"
	"  text TEXT NOT NULL,"
	"  params TEXT NOT NULL DEFAULT '{}',"
	"  sprint_id TEXT REFERENCES sprints(id),"
	"  created_at TEXT NOT NULL);"
	"CREATE TABLE notifications ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  channel TEXT NOT NULL,"
	"  event TEXT NOT NULL,"
	"  subject TEXT,"
	"  status TEXT NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT,"
	"  body TEXT NOT NULL DEFAULT '{}',"
	"  created_at TEXT NOT NULL,"
	"  sent_at TEXT);"
	"CREATE TABLE query_budget ("
	"  cluster TEXT PRIMARY KEY,"
	"  last_query_at REAL NOT NULL,"
	"  queries INTEGER NOT NULL DEFAULT 0);",
	/* 2: status lists the sprints finished in the last day */
	"CREATE INDEX sprints_finished ON sprints(finished_at);",
};

#define N_MIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

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

/*
 * Bring 'j' to JOURNAL_SCHEMA_VERSION, one migration per transaction,
 * each with the user_version bump inside it.
 */
static int migrate(struct journal *j, struct err *err)
{
	int v;
	char sql[64];

	if (user_version(j, &v, err) < 0)
		return -1;
	if (v > (int)N_MIGRATIONS)
		return err_set(err, ERR_PRECONDITION_FAILED,
			       "journal schema version %d is newer than this "
			       "hpcloop understands (%d); upgrade hpcloop",
			       v, (int)N_MIGRATIONS);
	while (v < (int)N_MIGRATIONS) {
		if (exec_script(j, "BEGIN IMMEDIATE", "migration", err) < 0)
			return -1;
		/* Another process may have migrated while we waited. */
		if (user_version(j, &v, err) < 0)
			goto fail;
		if (v >= (int)N_MIGRATIONS) {
			exec_script(j, "COMMIT", "migration", err);
			break;
		}
		if (exec_script(j, migrations[v], "migration", err) < 0)
			goto fail;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (exec_script(j, sql, "migration", err) < 0 ||
		    exec_script(j, "COMMIT", "migration", err) < 0)
			goto fail;
		v++;
	}
	return 0;
fail:
	sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int journal_open(struct journal **out, const char *path, struct err *err)
{
	struct journal *j = NULL;
	int rc;

	*out = NULL;
	if (make_parent_dirs(path, err) < 0)
		return -1;
	j = xcalloc(1, sizeof(*j));
	j->path = xstrdup(path);
	rc = sqlite3_open_v2(path, &j->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				     SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		db_err(err, j->db, rc, "opening");
		goto fail;
	}
	sqlite3_extended_result_codes(j->db, 0);
	sqlite3_busy_timeout(j->db, 10000);
	if (exec_script(j, "PRAGMA journal_mode = WAL", "setting WAL mode",
			err) < 0 ||
	    exec_script(j, "PRAGMA foreign_keys = ON; "
			   "PRAGMA synchronous = NORMAL",
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

void journal_close(struct journal *j)
{
	if (!j)
		return;
	if (j->in_tx)
		journal_rollback(j);
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

int journal_events(struct journal *j, json_t **out, int64_t since,
		   int limit, const char *type, const char *subject,
		   struct err *err)
{
	json_t *params = json_pack("[I,s?,s?,s?,s?,i]", (json_int_t)since,
				   type, type, subject, subject, limit);
	json_t *rows = NULL;
	size_t i;
	int r;

	*out = NULL;
	r = journal_exec(j, &rows,
			 "SELECT id, ts, type, subject, data FROM events "
			 "WHERE id > ? AND (? IS NULL OR type = ?) "
			 "AND (? IS NULL OR subject = ?) "
			 "ORDER BY id LIMIT ?",
			 params, err);
	json_decref(params);
	if (r < 0)
		return -1;
	/* data is stored as JSON text; hand it back as JSON. */
	for (i = 0; i < json_array_size(rows); i++) {
		json_t *row = json_array_get(rows, i);
		const char *text =
			json_string_value(json_object_get(row, "data"));
		json_t *data = text ? json_loads(text, 0, NULL) : NULL;

		json_object_set_new(row, "data",
				    data ? data : json_object());
	}
	*out = rows;
	return 0;
}

/* ---------------------------------------------------------------- */
/* Idempotency                                                        */
/* ---------------------------------------------------------------- */

int journal_idem_get(struct journal *j, json_t **data_out,
		     const char *primitive, const char *key,
		     const char *spec_hash, struct err *err)
{
	json_t *params = json_pack("[s,s]", primitive, key);
	json_t *row = NULL;
	const char *stored_hash, *text;
	int r = -1;

	*data_out = NULL;
	if (journal_row(j, &row,
			"SELECT spec_hash, data FROM idempotency "
			"WHERE primitive = ? AND key = ?",
			params, err) < 0)
		goto out;
	if (!row) {
		r = 0;
		goto out;
	}
	stored_hash = json_string_value(json_object_get(row, "spec_hash"));
	if (!stored_hash || strcmp(stored_hash, spec_hash)) {
		err_set(err, ERR_CONFLICT,
			"idempotency_key '%s' was already used with a "
			"different spec",
			key);
		goto out;
	}
	text = json_string_value(json_object_get(row, "data"));
	*data_out = text ? json_loads(text, 0, NULL) : NULL;
	if (!*data_out) {
		err_set(err, ERR_JOURNAL_CORRUPT,
			"stored result for idempotency_key '%s' is not JSON",
			key);
		goto out;
	}
	r = 1;
out:
	json_decref(params);
	json_decref(row);
	return r;
}

int journal_idem_put(struct journal *j, const char *primitive,
		     const char *key, const char *spec_hash,
		     const json_t *data, struct err *err)
{
	char now[IDS_TIME_LEN];
	json_t *params;
	int r;

	ids_now(now);
	params = json_pack("[s,s,s,O,s]", primitive, key, spec_hash, data,
			   now);
	r = journal_exec(j, NULL,
			 "INSERT INTO idempotency "
			 "(primitive, key, spec_hash, data, created_at) "
			 "VALUES (?, ?, ?, ?, ?)",
			 params, err);
	json_decref(params);
	return r;
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
