/*
 * setup.h: installing hpcloop into Claude Code (the `setup` primitive),
 * and the PreToolUse hook that keeps raw scheduler commands out of an
 * agent's hands.
 *
 * setup_install() writes the embedded slash commands (the .md files of slash_commands/)
 * into a Claude Code directory (~/.claude for the user, or a project's
 * .claude), and with options merges into its settings.json a PreToolUse
 * hook that runs `hpcloop __hook-pretooluse`, and registers `hpcloop mcp`
 * in the project's .mcp.json.  Every file is compared with what is there
 * first, so a second run changes nothing; each is written to a
 * temporary name and renamed; a dry run only reports.
 *
 * hook_refusal() is the hook's decision: given the command line an agent
 * is about to run with its Bash tool, the scheduler command it names
 * (sbatch, qsub, scancel, qdel) and the primitive to use instead.  It is
 * a guard against habit, not a sandbox: it strips quotes and backslashes
 * and looks at every word, so `"sbatch"`, `s\batch` and `/usr/bin/sbatch`
 * are caught, while a command built at run time (`$x`) is not.
 */
#ifndef HPCLOOP_SETUP_H
#define HPCLOOP_SETUP_H

#include <jansson.h>

#include "err.h"

struct setup_opts {
	const char *claude_dir;	/* the .claude directory to install into */
	const char *mcp_path;	/* .mcp.json to register `hpcloop mcp` in,
				   or NULL not to */
	const char *hpcloop_path; /* absolute path of this binary */
	int hook;		/* install the PreToolUse hook */
	int dry_run;		/* report what would change, write nothing */
};

/*
 * Install as 'o' says.  '*changes_out' is a new array of {"path",
 * "action": "created" | "updated" | "unchanged"} (with dry_run the
 * actions say what a real run would do).  A settings.json or .mcp.json
 * that is there but not a JSON object is ERR_PRECONDITION_FAILED and
 * nothing is written (every file is read and checked before the first
 * is written); a file that cannot be written ERR_IO_FAILED (files
 * written before it stay: each is whole, and a rerun finishes the job).
 */
int setup_install(json_t **changes_out, const struct setup_opts *o,
		  struct err *err);

/*
 * The scheduler command that the shell command line 'command' runs, as
 * a static string ("sbatch"), with in '*instead_out' the hpcloop call to
 * use instead; NULL (and '*instead_out' NULL) when it names none.
 */
const char *hook_refusal(const char **instead_out, const char *command);

/*
 * The hook itself: read Claude Code's PreToolUse JSON from 'in_fd'
 * (at most 1 MiB), and when its Bash command names a scheduler command,
 * write the reason to stderr and return 2 (Claude Code's "block");
 * otherwise return 0 and write nothing.  Input that is not a Bash call
 * is let through.
 */
int hook_pretooluse(int in_fd);

#endif
