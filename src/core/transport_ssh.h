/*
 * transport_ssh.h: the pieces of the "ssh" transport, for its own files
 * and its unit tests only (callers use transport.h).
 *
 *   transport_ssh.c       the cluster keys; libssh2, loaded with dlopen
 *                         on first use; the sessions of this process,
 *                         one per (host, port, user)
 *   transport_ssh_keys.c  known_hosts, host keys and logging in
 *   transport_ssh_chan.c  commands (exec) and SFTP writes
 *   transport_ssh_ops.c   the kind: each operation of transport.h built
 *                         from exec (of fixed shell text with quoted
 *                         arguments) and SFTP
 *   transport_ssh_slot.c  the cap on concurrent connections to one host
 *                         from all the processes of this machine
 *
 * Only the first three include libssh2's headers, through
 * transport_ssh_lib.h.
 */
#ifndef HPCLOOP_TRANSPORT_SSH_H
#define HPCLOOP_TRANSPORT_SSH_H

#include <stddef.h>

#include <jansson.h>

#include "err.h"
#include "transport.h"

/*
 * The defaults of the cluster keys.  schemas/config.json documents the
 * same numbers, and test_transport_ssh.c fails when the two differ.
 */
#define SSH_DEFAULT_PORT 22
#define SSH_DEFAULT_CONNECT_TIMEOUT_S 10
#define SSH_DEFAULT_IO_TIMEOUT_S 30
#define SSH_DEFAULT_KEEPALIVE_S 15
#define SSH_DEFAULT_MAX_CONNECTIONS 4
#define SSH_DEFAULT_PASSPHRASE_ENV "HPCLOOP_SSH_KEY_PASSPHRASE"
#define SSH_DEFAULT_KNOWN_HOSTS "~/.ssh/known_hosts"

/* The settings of one ssh cluster, from its configuration. */
struct ssh_conf {
	char *host;		/* name or address; owned */
	int port;		/* TCP port */
	char *user;		/* remote user name; owned */
	char *key;		/* private key path, "~/" expanded; owned, or
				   NULL to ask ssh-agent (SSH_AUTH_SOCK) */
	char *known_hosts;	/* known_hosts path, "~/" expanded; owned */
	int accept_new;		/* host_key_policy "accept-new": an unknown
				   host's key is added (a changed one is
				   still refused) */
	char *passphrase_env;	/* the name of the variable holding the
				   key's passphrase; owned */
	int connect_timeout_s;	/* TCP connect, handshake, authentication,
				   and the wait for a connection slot */
	int io_timeout_s;	/* the longest wait for the server */
	int keepalive_s;	/* seconds between keepalives */
	int max_connections;	/* per host:port, across processes */
};

#define SSH_CONF_INIT { NULL, 0, NULL, NULL, NULL, 0, NULL, 0, 0, 0, 0 }

/*
 * Fill 'c' from the cluster configuration 'cluster' (borrowed),
 * applying the defaults above.  A missing host or user, or a value of
 * the wrong type, is ERR_CONFIG_INVALID.  Nothing is read from disk.
 */
int ssh_conf_parse(struct ssh_conf *c, const json_t *cluster,
		   struct err *err);
/* Free what 'c' holds (which may be NULL); it is SSH_CONF_INIT again. */
void ssh_conf_release(struct ssh_conf *c);

/* ------------------------------------------------------------------ */
/* Sessions (transport_ssh.c, transport_ssh_chan.c)                    */
/* ------------------------------------------------------------------ */

/* One SSH session of this process, shared by every handle to its host. */
struct ssh_conn;

/*
 * A reference to the session for (host, port, user) of 'conf': the one
 * this process has already, or a new one (a connection slot taken, TCP
 * connected, the host key checked, authenticated).  Loads libssh2 on
 * the first call.  Errors: ERR_PRECONDITION_FAILED (no libssh2),
 * ERR_SSH_UNREACHABLE, ERR_TIMEOUT (no free slot), ERR_HOST_KEY_UNKNOWN,
 * ERR_HOST_KEY_MISMATCH, ERR_AUTH_FAILED, ERR_CONFIG_INVALID (an
 * unreadable key or known_hosts file).  '*out' is a new reference
 * (release it with ssh_conn_unref()), or NULL on failure.
 */
int ssh_conn_get(struct ssh_conn **out, const struct ssh_conf *conf,
		 struct err *err);

/*
 * Drop a reference to 'c' (which may be NULL); the last one disconnects
 * and gives its connection slot back.
 */
void ssh_conn_unref(struct ssh_conn *c);

/*
 * Whether 'c' may still be used: 0 once the connection was lost (a
 * later ssh_conn_get() makes a new one).
 */
int ssh_conn_usable(const struct ssh_conn *c);

/*
 * Run the command line 'line' (for the login shell; built with
 * shquote.h) on the host of 'c', feeding it the 'in_len' bytes of 'in'
 * (NULL: none) and filling 'res' (reset by the caller) as
 * transport_exec() does, with its buffers' limits (a buffer without one
 * keeps at most SSH_OUTPUT_MAX bytes).  'what' names the command in
 * messages.  After 'timeout_s' seconds (0: none) the channel is closed
 * and the call fails with ERR_TIMEOUT; no answer at all from the server
 * for io_timeout_s (keepalives included) is ERR_SSH_UNREACHABLE.
 */
int ssh_conn_exec(struct ssh_conn *c, struct exec_result *res,
		  const char *line, const char *what, const void *in,
		  size_t in_len, int timeout_s, struct err *err);

#define SSH_OUTPUT_MAX ((size_t)64 << 20)

/*
 * Create the new file 'path' on the host of 'c' over SFTP with the
 * 'len' bytes of 'data' and exactly 'mode'; an existing 'path' is an
 * error (it is a fresh temporary name).  A missing directory is
 * ERR_NOT_FOUND; another failure ERR_TRANSFER_FAILED with the server's
 * words, after the partial file was removed.
 */
int ssh_conn_put_new(struct ssh_conn *c, const char *path, const void *data,
		     size_t len, int mode, struct err *err);

/* Remove 'path' over SFTP, ignoring any failure (a cleanup). */
void ssh_conn_unlink(struct ssh_conn *c, const char *path);

/* How many sessions this process has opened so far (for tests). */
long ssh_conn_opened(void);

/*
 * For tests: load libssh2 from 'soname' (default "libssh2.so.1") the
 * next time it is needed.  Has no effect once it was loaded.
 */
void ssh_lib_set_name(const char *soname);

/* ------------------------------------------------------------------ */
/* Connection slots (transport_ssh_slot.c)                             */
/* ------------------------------------------------------------------ */

/*
 * Take one of the 'max' connection slots of 'host':'port' shared by all
 * the processes of this user on this machine: lock files under
 * $XDG_RUNTIME_DIR/hpcloop (or /tmp/hpcloop-UID, made 0700 and refused
 * unless it is this user's own), held with flock(2) for as long as the
 * connection lives.  Waits up to 'wait_s' seconds for one to come free,
 * then fails with ERR_TIMEOUT.  '*fd_out' is the open lock file (give
 * it to ssh_slot_release()), or -1 on failure.
 */
int ssh_slot_acquire(int *fd_out, const char *host, int port, int max,
		     int wait_s, struct err *err);

/* Give back the slot held open as 'fd' (-1: none). */
void ssh_slot_release(int fd);

#endif
