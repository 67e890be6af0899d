/*
 * transport.h: how hpcloop reaches a cluster's files and commands.
 *
 * Every operation on a sprint directory goes through the cluster's
 * transport, even on this machine, so that the SSH transport plugs in
 * without changing a caller.  A transport is a handle with a const table
 * of operations; this file declares the table, so that an implementation
 * can fill one in.  transport.c holds the handle, the checks every
 * operation makes before it reaches an implementation, and the static
 * table of kinds; transport_local.c is the "local" kind (plain system
 * calls on this machine, and proc.c's fork/exec with no shell), and
 * transport_ssh*.c the "ssh" kind (libssh2, loaded on first use).
 *
 * Commands are always an argv array, never a shell string: user text
 * can never run as code.  Output is bounded by the caller's limit.
 *
 * Two kinds of path.  Paths hpcloop made itself (a command's directory,
 * what mkdirs, write_file and remove take) are trusted: absolute, or
 * relative to the process's working directory (local) or the remote
 * home directory (ssh).  What a sprint left behind is not: the agent
 * runs arbitrary code in the sprint directory (DESIGN §10), so the read
 * operations take a trusted directory 'dir' (made by hpcloop; symbolic
 * links on the way to it are followed, as /tmp -> /private/tmp needs)
 * and an untrusted path 'rel' inside it.  'rel' must be relative, at
 * most TRANSPORT_REL_MAX bytes, with no empty, "." or ".." part; no
 * part of it is followed if it is a symbolic link, and only a regular
 * file is read.  Anything else is ERR_FILE_REFUSED with a message that
 * names 'rel' and says what it is ("is a symbolic link", "is a FIFO"),
 * so that a caller can keep it as evidence of tampering.  A read never
 * blocks on a FIFO and never takes more than its limit.
 *
 * Errors: a missing file is ERR_NOT_FOUND, a refused one
 * ERR_FILE_REFUSED, another local I/O failure ERR_IO_FAILED with
 * strerror()'s words ("No space left on device"); messages name the
 * path.
 */
#ifndef HPCLOOP_TRANSPORT_H
#define HPCLOOP_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "err.h"

/* The longest untrusted relative path a read accepts. */
#define TRANSPORT_REL_MAX 1024

struct transport;

/*
 * What a command left behind.  'exit_code' is the status it exited with,
 * or -1 when a signal killed it ('signal' then names the signal; it is 0
 * otherwise).  'out' and 'err' hold at most the limit given to
 * exec_result_init(); what came beyond it was read and thrown away, and
 * the matching '*_truncated' flag is set.  A caller that parses the
 * output must check the flag.
 */
struct exec_result {
	int exit_code;		/* exit status, or -1 when killed */
	int signal;		/* the signal that killed it, or 0 */
	struct buf out;		/* standard output, bounded */
	struct buf err;		/* standard error, bounded */
	int out_truncated;	/* 1 when 'out' passed its limit */
	int err_truncated;	/* 1 when 'err' passed its limit */
};

/* Start 'r' empty; each of its buffers keeps at most 'max_out' bytes. */
void exec_result_init(struct exec_result *r, size_t max_out);
/* Free the buffers of 'r' (which may be NULL); it stays usable. */
void exec_result_release(struct exec_result *r);

/*
 * The operations of one kind of transport.  Each takes the handle it was
 * opened as and fills 'err' on failure; the meaning of each is that of
 * the transport_<op>() function of the same name below, which checks its
 * arguments (an untrusted 'rel' included) and resets its out-parameters
 * before it calls the operation.
 */
struct transport_ops {
	const char *name;	/* "local", "ssh" */
	int (*exec)(struct transport *t, struct exec_result *res,
		    const char *const *argv, const char *cwd,
		    const void *stdin_data, size_t stdin_len, int timeout_s,
		    struct err *err);
	int (*mkdirs)(struct transport *t, const char *path, int mode,
		      struct err *err);
	int (*write_file)(struct transport *t, const char *path,
			  const void *data, size_t len, int mode,
			  struct err *err);
	int (*read_file)(struct transport *t, struct buf *out,
			 const char *dir, const char *rel, size_t max,
			 struct err *err);
	int (*read_range)(struct transport *t, struct buf *out,
			  int64_t *size_out, const char *dir, const char *rel,
			  int64_t offset, size_t max, struct err *err);
	int (*stat)(struct transport *t, int *exists_out, int64_t *size_out,
		    int64_t *mtime_out, const char *dir, const char *rel,
		    struct err *err);
	int (*list)(struct transport *t, json_t **out, const char *dir,
		    int max_depth, int max_entries, struct err *err);
	int (*remove)(struct transport *t, const char *path,
		      struct err *err);
	/*
	 * Free what the kind keeps in the handle's private data (may be
	 * NULL when it keeps nothing); transport_close() then frees the
	 * handle.
	 */
	void (*close)(struct transport *t);
};

/* ------------------------------------------------------------------ */
/* Opening and closing                                                 */
/* ------------------------------------------------------------------ */

/* Whether this build has the transport kind 'name' ("local", "ssh"). */
int transport_kind_known(const char *name);

/*
 * Open the transport described by the cluster configuration 'cluster'
 * (borrowed; may be NULL, which means local).  Its key "transport"
 * names the kind: "local" (the default) or "ssh" (transport_ssh.c; its
 * keys are those of schemas/config.json's cluster).  A kind this build
 * does not have is ERR_CONFIG_INVALID, with a remediation that lists
 * the kinds it has.  Opening never reaches the network: an ssh
 * transport connects on its first operation.  '*out' is new (free it
 * with transport_close()), or NULL on failure.
 */
int transport_open(struct transport **out, const json_t *cluster,
		   struct err *err);

/* Close 't' (which may be NULL) and free it. */
void transport_close(struct transport *t);

/* The name of the kind of 't' ("local"); static storage. */
const char *transport_name(const struct transport *t);

/*
 * For implementations: a new handle with the operations 'ops' (static,
 * borrowed for the handle's life) and the kind's private data 'priv'
 * (may be NULL; the handle owns it, and ops->close frees it), to hand
 * back from a kind's open function.
 */
struct transport *transport_new(const struct transport_ops *ops, void *priv);

/* The private data given to transport_new(); borrowed. */
void *transport_priv(const struct transport *t);

/* ------------------------------------------------------------------ */
/* Commands                                                            */
/* ------------------------------------------------------------------ */

/*
 * Run the program 'argv'[0] (found on PATH when it has no slash) with
 * the arguments 'argv' (NULL-terminated; never a shell string) in the
 * directory 'cwd' (NULL: the current one), feeding it the 'stdin_len'
 * bytes of 'stdin_data' (NULL: an empty standard input), and fill 'res'
 * (set up by the caller with exec_result_init(); what an earlier call
 * left in it is dropped, its limit kept).  A command that exits
 * non-zero is a success here: read res->exit_code.
 *
 * After 'timeout_s' seconds (0: no limit) the command's whole process
 * group is killed and the call fails with ERR_TIMEOUT; 'res' then holds
 * what was read so far.  A program that cannot be found is
 * ERR_NOT_FOUND.  Locally the command runs in its own process group,
 * with the other descriptors of this process closed.
 */
int transport_exec(struct transport *t, struct exec_result *res,
		   const char *const *argv, const char *cwd,
		   const void *stdin_data, size_t stdin_len, int timeout_s,
		   struct err *err);

/* ------------------------------------------------------------------ */
/* Files hpcloop writes (trusted paths)                                */
/* ------------------------------------------------------------------ */

/*
 * Create the directory 'path' and any missing parents with 'mode' (less
 * the umask), like mkdir -p.  An existing directory is a success.
 */
int transport_mkdirs(struct transport *t, const char *path, int mode,
		     struct err *err);

/*
 * Replace the file 'path' with the 'len' bytes of 'data', atomically:
 * readers see the old contents or the new, never a part (a temporary
 * name in the same directory, then a rename).  It is not flushed to
 * disk: after a machine crash the old contents, the new or none may be
 * there; what must survive one goes into the journal.  The file gets
 * exactly 'mode' (0600 for secrets, 0700 for scripts).  Missing parent
 * directories are created (0755 less the umask).  A failure is
 * ERR_IO_FAILED with strerror()'s words in the message, and leaves no
 * temporary file behind.
 */
int transport_write_file(struct transport *t, const char *path,
			 const void *data, size_t len, int mode,
			 struct err *err);

/* Remove the file 'path'; a missing file is a success. */
int transport_remove(struct transport *t, const char *path, struct err *err);

/* ------------------------------------------------------------------ */
/* Files a sprint left behind (a trusted 'dir', an untrusted 'rel')    */
/* ------------------------------------------------------------------ */

/*
 * Read the whole regular file 'rel' under 'dir' into 'out' (initialised
 * by the caller; whatever it held is dropped, and it is set up with the
 * limit 'max').  A missing file (or 'dir') is ERR_NOT_FOUND; a file
 * longer than 'max' bytes, a symbolic link anywhere in 'rel', or
 * anything but a regular file is ERR_FILE_REFUSED.  On failure 'out' is
 * empty.
 */
int transport_read_file(struct transport *t, struct buf *out,
			const char *dir, const char *rel, size_t max,
			struct err *err);

/*
 * Read at most 'max' bytes of the regular file 'rel' under 'dir' from
 * byte 'offset' into 'out' (as for transport_read_file(), but more data
 * beyond 'max' is not an error), and set '*size_out' (may be NULL) to
 * the file's size.  An offset at or past the end reads nothing: a size
 * below the caller's offset means the file was truncated or replaced.
 * This is how heartbeats.jsonl is tailed.
 */
int transport_read_range(struct transport *t, struct buf *out,
			 int64_t *size_out, const char *dir, const char *rel,
			 int64_t offset, size_t max, struct err *err);

/*
 * Whether the regular file 'rel' under 'dir' exists, in '*exists_out',
 * and if so its size and its modification time in seconds since the
 * epoch ('size_out' and 'mtime_out' may be NULL; they are 0 when it
 * does not exist).  A missing file (or 'dir') is a success with
 * '*exists_out' 0; a symbolic link or anything but a regular file is
 * ERR_FILE_REFUSED, never followed.
 */
int transport_stat(struct transport *t, int *exists_out, int64_t *size_out,
		   int64_t *mtime_out, const char *dir, const char *rel,
		   struct err *err);

/*
 * List the regular files under the directory 'dir' into '*out', a new
 * array of {"path": path relative to 'dir', "size": bytes, "mtime":
 * epoch seconds} sorted by path.  'max_depth' counts levels as find's
 * -maxdepth does: 1 lists the files directly in 'dir', 2 those of its
 * subdirectories too, and so on (0 lists nothing; at most 64 whatever
 * is asked).  Symbolic links, FIFOs, sockets and devices inside 'dir'
 * are skipped, never followed or opened.  More than 'max_entries' files
 * is ERR_TRANSFER_FAILED; a missing 'dir' is ERR_NOT_FOUND.  On failure
 * '*out' is NULL.  A listed file can be replaced before it is read: read
 * it with transport_read_file(), which checks it again.
 */
int transport_list(struct transport *t, json_t **out, const char *dir,
		   int max_depth, int max_entries, struct err *err);

#endif
