/*
 * main.c: argv handling and the call into the dispatcher; the only place
 * that calls exit.
 *
 *	hpcloop PRIMITIVE [NAME] [--spec FILE | --spec - | --spec '{...}']
 *			  [--config FILE] [--journal FILE] [--pretty]
 *	hpcloop help NAME --text
 *	hpcloop serve [--listen HOST:PORT]
 *	hpcloop PRIMITIVE ... --server URL (or HPCLOOP_SERVER): run it there
 *	hpcloop --help | -h | --version | -V
 *
 * A lone NAME operand is shorthand for --spec '{"name": NAME}' (as in
 * `hpcloop help status`).  --help and --version are the primitives help
 * and version, as every CLI an agent has seen answers them.  Whatever
 * happens, stdout gets one line of JSON and the exit code says who is
 * at fault (DESIGN §1), except the doc page that `help NAME --text`
 * prints for a person to read.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dispatch.h"
#include "docs.h"
#include "http_server.h"
#include "mcp.h"
#include "remote.h"
#include "setup.h"
#include "envelope.h"
#include "primitives/registry.h"
#include "spec.h"
#include "banned.h"

struct args {
	const char *primitive;	/* argv[1] */
	const char *operand;	/* the optional NAME operand */
	const char *spec;	/* --spec value, or NULL */
	int pretty;		/* --pretty */
	int text;		/* --text: help's page as plain text */
	int allow_mutations;	/* mcp --allow-mutations */
	const char *listen;	/* serve --listen HOST:PORT */
	const char *server;	/* --server URL (or HPCLOOP_SERVER) */
	struct dispatch_opts opts;
};

/*
 * Parse 'argv' into 'a'.  Returns 0, or -1 with 'err' set to a usage
 * error naming the offending argument.
 */
static int parse_args(struct args *a, int argc, char **argv,
		      struct err *err)
{
	int i;

	memset(a, 0, sizeof(*a));
	a->opts.registry = &hpcloop_registry;
	if (argc < 2)
		return err_set(err, ERR_USAGE,
			       "no primitive given; usage: hpcloop PRIMITIVE "
			       "[--spec FILE|-|JSON] [--config FILE] "
			       "[--journal FILE] [--pretty]");
	a->primitive = argv[1];
	if (!strcmp(a->primitive, "--help") || !strcmp(a->primitive, "-h"))
		a->primitive = "help";
	else if (!strcmp(a->primitive, "--version") ||
		 !strcmp(a->primitive, "-V"))
		a->primitive = "version";
	for (i = 2; i < argc; i++) {
		const char *arg = argv[i];
		const char **slot = NULL;
		size_t n = 0;

		if (!strcmp(arg, "--pretty")) {
			a->pretty = 1;
			continue;
		}
		if (!strcmp(arg, "--text")) {
			a->text = 1;
			continue;
		}
		if (!strcmp(arg, "--allow-mutations") &&
		    !strcmp(a->primitive, "mcp")) {
			a->allow_mutations = 1;
			continue;
		}
		if (!strncmp(arg, "--spec", 6)) {
			slot = &a->spec;
			n = 6;
		} else if (!strncmp(arg, "--config", 8)) {
			slot = &a->opts.config_path;
			n = 8;
		} else if (!strncmp(arg, "--journal", 9)) {
			slot = &a->opts.journal_path;
			n = 9;
		} else if (!strncmp(arg, "--listen", 8) &&
			   !strcmp(a->primitive, "serve")) {
			slot = &a->listen;
			n = 8;
		} else if (!strncmp(arg, "--server", 8)) {
			slot = &a->server;
			n = 8;
		}
		if (slot && arg[n] == '=') {
			*slot = arg + n + 1;
			continue;
		}
		if (slot && arg[n] == '\0') {
			if (i + 1 >= argc)
				return err_set(err, ERR_USAGE,
					       "option '%s' needs a value",
					       arg);
			*slot = argv[++i];
			continue;
		}
		if (arg[0] == '-' && arg[1])
			return err_set(err, ERR_USAGE, "unknown option '%s'",
				       arg);
		if (a->operand)
			return err_set(err, ERR_USAGE,
				       "unexpected argument '%s'", arg);
		a->operand = arg;
	}
	if (a->operand && a->spec)
		return err_set(err, ERR_USAGE,
			       "give either a NAME operand or --spec, not "
			       "both");
	if (a->text && strcmp(a->primitive, "help"))
		return err_set(err, ERR_USAGE,
			       "--text is for `hpcloop help NAME --text` only");
	return 0;
}

/*
 * A signal that ends the call: the one envelope says "interrupted"
 * (exit 3, retry safe).  The process ends at once; an open transaction
 * never committed, so SQLite discards it, and a keyed call's retry
 * replays or resumes.  Async-signal-safe: envelope_fatal only copies
 * static text and calls write().
 */
static void on_signal(int sig)
{
	switch (sig) {
	case SIGINT:
		envelope_fatal(ERR_INTERRUPTED, "interrupted by SIGINT");
	case SIGHUP:
		envelope_fatal(ERR_INTERRUPTED, "interrupted by SIGHUP");
	default:
		envelope_fatal(ERR_INTERRUPTED, "interrupted by SIGTERM");
	}
}

/*
 * INT, TERM and HUP end the call with its envelope; a closed pipe on
 * stdout is an error of the write (exit 3), not a silent death.
 */
static void install_signals(void)
{
	static const int ending[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(ending) / sizeof(ending[0]); i++)
		sigaddset(&sa.sa_mask, ending[i]);
	sa.sa_handler = on_signal;
	for (i = 0; i < sizeof(ending) / sizeof(ending[0]); i++)
		sigaction(ending[i], &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/*
 * Print 'env' (or, for --text, the page a successful help carries) and
 * turn a failed write into exit 3.
 */
static int finish(json_t *env, int pretty, int text, int code)
{
	const char *page = json_string_value(json_object_get(
		json_object_get(env, "data"), "text"));

	if (text && code == 0 && page) {
		if (envelope_print_text(page) < 0) {
			fprintf(stderr, "hpcloop: cannot write to stdout\n");
			code = 3;
		}
	} else if (envelope_print(env, pretty) < 0) {
		fprintf(stderr, "hpcloop: cannot write to stdout\n");
		code = 3;
	}
	json_decref(env);
	if (fclose(stdout) != 0 && code == 0)
		code = 3;
	return code;
}

int main(int argc, char **argv)
{
	struct args a;
	struct err err = ERR_INIT, spec_err = ERR_INIT;
	json_t *spec = NULL, *env = NULL;
	int code;

	envelope_install_oom();
	install_signals();
	if (parse_args(&a, argc, argv, &err) < 0) {
		env = envelope_failure(NULL, &err);
		code = finish(env, 0, 0, 1);
		err_release(&err);
		return code;
	}
	if (!strcmp(a.primitive, "__gen-docs"))
		return docs_main(&hpcloop_registry, a.operand);
	/* The MCP server: JSON-RPC lines until stdin ends. */
	if (!strcmp(a.primitive, "mcp") && !a.operand && !a.spec)
		return mcp_main(&a.opts, a.allow_mutations);
	/* The orchestrator server: one envelope line, then until TERM. */
	if (!strcmp(a.primitive, "serve") && !a.operand && !a.spec)
		return serve_main(&a.opts, a.listen);
	/* Claude Code's PreToolUse hook protocol, not an envelope. */
	if (!strcmp(a.primitive, "__hook-pretooluse"))
		return hook_pretooluse(STDIN_FILENO);
	if (a.operand)
		spec = json_pack("{s:s}", "name", a.operand);
	else if (spec_read(&spec, a.spec, &spec_err) < 0)
		spec = NULL;
	if (!a.server && getenv("HPCLOOP_SERVER") && *getenv("HPCLOOP_SERVER"))
		a.server = getenv("HPCLOOP_SERVER");
	if (a.server)
		code = remote_run(&env, a.server, a.primitive, spec,
				  spec ? NULL : &spec_err);
	else
		code = dispatch_run(&env, &a.opts, a.primitive, spec,
				    spec ? NULL : &spec_err);
	json_decref(spec);
	err_release(&spec_err);
	return finish(env, a.pretty, a.text, code);
}
