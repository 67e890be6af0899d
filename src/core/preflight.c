/*
 * preflight.c: checking a cluster before work goes to it (see
 * preflight.h).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "buf.h"
#include "cluster.h"
#include "config.h"
#include "context.h"
#include "preflight.h"
#include "sched.h"
#include "transport.h"
#include "xalloc.h"
#include "banned.h"

/* Add a check to 'checks'; 'e' (may be NULL) is why it failed. */
static void check(json_t *checks, const char *name, const char *detail,
		  const struct err *e, const char *study)
{
	json_t *c = json_pack("{s:s, s:b, s:s}", "name", name, "ok", !e,
			      "detail", e ? e->message : detail);

	if (e) {
		json_object_set_new(c, "error_code", json_string(err_name(e->code)));
		json_object_set_new(c, "remediation",
				    json_string(e->remedy[0] ? e->remedy
						: err_remediation(e->code)));
	}
	if (study)
		json_object_set_new(c, "study", json_string(study));
	json_array_append_new(checks, c);
}

/* The cluster answers a command at all: reach, host key, login. */
static int reach(struct cluster *c, json_t *checks)
{
	static const char *const argv[] = { "true", NULL };
	struct exec_result res;
	struct err e = ERR_INIT;
	int ok;

	exec_result_init(&res, 1024);
	ok = transport_exec(c->t, &res, argv, NULL, NULL, 0, 30, &e) == 0 &&
	     res.exit_code == 0;
	if (!ok && e.code == ERR_NONE)
		err_set(&e, ERR_REMOTE_COMMAND_FAILED, "`true` exited %d on "
			"cluster '%s'", res.exit_code, c->name);
	check(checks, "reach", ok ? "a command ran on the cluster" : NULL,
	      ok ? NULL : &e, NULL);
	exec_result_release(&res);
	err_release(&e);
	return ok;
}

/* A file can be written and removed in the working directory. */
static void writable(struct cluster *c, json_t *checks)
{
	const char *dir = json_string_value(json_object_get(c->conf,
							    "working_dir"));
	struct buf path = BUF_INIT, msg = BUF_INIT;
	struct err e = ERR_INIT;

	buf_addf(&path, "%s/.hpcloop-preflight-%ld", dir ? dir : ".",
		 (long)getpid());
	if (transport_mkdirs(c->t, dir ? dir : ".", 0700, &e) == 0 &&
	    transport_write_file(c->t, path.data, "ok\n", 3, 0600, &e) == 0 &&
	    transport_remove(c->t, path.data, &e) == 0) {
		buf_addf(&msg, "%s takes a file", dir ? dir : ".");
		check(checks, "working_dir", msg.data, NULL, NULL);
	} else {
		check(checks, "working_dir", NULL, &e, NULL);
	}
	buf_release(&path);
	buf_release(&msg);
	err_release(&e);
}

/* The program of 'argv' is on the cluster's PATH. */
static void program(struct cluster *c, json_t *checks, const char *what,
		    const json_t *argv, const char *study)
{
	struct err e = ERR_INIT;
	struct buf msg = BUF_INIT;
	char *path = NULL;
	int found = 0;

	if (agent_find_program(c->t, &found, &path, argv, &e) == 0 && !found) {
		err_set(&e, ERR_NOT_FOUND, "%s '%s' of study '%s' is not on the "
			"PATH of cluster '%s'", what,
			json_string_value(json_array_get(argv, 0)), study, c->name);
		err_remedy(&e, "install it there, or give its full path in "
			   "hpcloop.yaml");
	}
	if (e.code == ERR_NONE) {
		buf_addf(&msg, "%s", path);
		check(checks, what, msg.data, NULL, study);
	} else {
		check(checks, what, NULL, &e, study);
	}
	free(path);
	buf_release(&msg);
	err_release(&e);
}

int preflight_cluster(json_t **out, const struct config *cfg,
		      const char *name, struct err *err)
{
	struct cluster c = CLUSTER_INIT;
	struct err e = ERR_INIT;
	json_t *checks = json_array(), *limits = NULL, *studies, *st, *v;
	const char *sname;
	size_t i;
	int ready = 1;

	*out = NULL;
	if (!config_cluster(cfg, name))
		return err_set(err, ERR_NOT_FOUND, "no cluster '%s' in %s", name,
			       cfg->path);
	if (cluster_open(&c, cfg, name, &e) < 0) {
		check(checks, "open", NULL, &e, NULL);
		ready = 0;
		goto done;
	}
	if (!reach(&c, checks)) {
		ready = 0;
		goto done;
	}
	if (sched_limits(c.sched, &limits, &e) < 0) {
		check(checks, "scheduler", NULL, &e, NULL);
		err_clear(&e);
		ready = 0;
	} else {
		check(checks, "scheduler", c.sched->ops->name, NULL, NULL);
	}
	writable(&c, checks);
	studies = json_object_get(cfg->root, "studies");
	json_object_foreach(studies, sname, st) {
		json_t *argv = NULL;

		if (strcmp(json_string_value(json_object_get(st, "cluster")),
			   name))
			continue;
		if (context_executor_argv(&argv, cfg, sname, &e) == 0 && argv) {
			program(&c, checks, "executor", argv, sname);
		} else if (e.code == ERR_NONE &&
			   context_agent_argv(&argv, cfg, sname, &e) == 0) {
			program(&c, checks, "agent", argv, sname);
		}
		if (e.code != ERR_NONE) {
			check(checks, "agent", NULL, &e, sname);
			err_clear(&e);
		}
		json_decref(argv);
	}
done:
	json_array_foreach(checks, i, v)
		if (!json_is_true(json_object_get(v, "ok")))
			ready = 0;
	*out = json_pack("{s:s, s:b, s:o, s:o}", "cluster", name, "ready", ready,
			 "checks", checks, "limits",
			 limits ? limits : json_object());
	cluster_release(&c);
	err_release(&e);
	return 0;
}
