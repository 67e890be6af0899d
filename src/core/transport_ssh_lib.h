/*
 * transport_ssh_lib.h: libssh2 as the files of the ssh transport share
 * it: the table of its functions (loaded by transport_ssh.c), a
 * session, and the helpers the other files use.  Only transport_ssh*.c
 * include this header, and so libssh2's own; everything else reaches
 * SSH through transport.h.
 */
#ifndef HPCLOOP_TRANSPORT_SSH_LIB_H
#define HPCLOOP_TRANSPORT_SSH_LIB_H

#include <pthread.h>
#include <stdatomic.h>

#include <libssh2.h>
#include <libssh2_sftp.h>

#include "buf.h"
#include "err.h"
#include "transport_ssh.h"

/* Each function of libssh2 used here: X(field, symbol). */
#define SSH_FUNCS(X)                                                   \
	X(init, libssh2_init)                                          \
	X(version, libssh2_version)                                    \
	X(free, libssh2_free)                                          \
	X(session_init_ex, libssh2_session_init_ex)                    \
	X(session_free, libssh2_session_free)                          \
	X(session_disconnect_ex, libssh2_session_disconnect_ex)        \
	X(session_set_blocking, libssh2_session_set_blocking)          \
	X(session_set_timeout, libssh2_session_set_timeout)            \
	X(session_method_pref, libssh2_session_method_pref)            \
	X(session_handshake, libssh2_session_handshake)                \
	X(session_hostkey, libssh2_session_hostkey)                    \
	X(session_last_error, libssh2_session_last_error)              \
	X(session_last_errno, libssh2_session_last_errno)              \
	X(session_block_directions, libssh2_session_block_directions)  \
	X(hostkey_hash, libssh2_hostkey_hash)                          \
	X(keepalive_config, libssh2_keepalive_config)                  \
	X(keepalive_send, libssh2_keepalive_send)                      \
	X(knownhost_init, libssh2_knownhost_init)                      \
	X(knownhost_readline, libssh2_knownhost_readline)              \
	X(knownhost_checkp, libssh2_knownhost_checkp)                  \
	X(knownhost_addc, libssh2_knownhost_addc)                      \
	X(knownhost_writeline, libssh2_knownhost_writeline)            \
	X(knownhost_free, libssh2_knownhost_free)                      \
	X(userauth_publickey_fromfile_ex,                              \
	  libssh2_userauth_publickey_fromfile_ex)                      \
	X(agent_init, libssh2_agent_init)                              \
	X(agent_connect, libssh2_agent_connect)                        \
	X(agent_list_identities, libssh2_agent_list_identities)        \
	X(agent_get_identity, libssh2_agent_get_identity)              \
	X(agent_userauth, libssh2_agent_userauth)                      \
	X(agent_disconnect, libssh2_agent_disconnect)                  \
	X(agent_free, libssh2_agent_free)                              \
	X(channel_open_ex, libssh2_channel_open_ex)                    \
	X(channel_process_startup, libssh2_channel_process_startup)    \
	X(channel_read_ex, libssh2_channel_read_ex)                    \
	X(channel_write_ex, libssh2_channel_write_ex)                  \
	X(channel_send_eof, libssh2_channel_send_eof)                  \
	X(channel_eof, libssh2_channel_eof)                            \
	X(channel_close, libssh2_channel_close)                        \
	X(channel_wait_closed, libssh2_channel_wait_closed)            \
	X(channel_get_exit_status, libssh2_channel_get_exit_status)    \
	X(channel_get_exit_signal, libssh2_channel_get_exit_signal)    \
	X(channel_free, libssh2_channel_free)                          \
	X(sftp_init, libssh2_sftp_init)                                \
	X(sftp_shutdown, libssh2_sftp_shutdown)                        \
	X(sftp_last_error, libssh2_sftp_last_error)                    \
	X(sftp_open_ex, libssh2_sftp_open_ex)                          \
	X(sftp_write, libssh2_sftp_write)                              \
	X(sftp_fstat_ex, libssh2_sftp_fstat_ex)                        \
	X(sftp_close_handle, libssh2_sftp_close_handle)                \
	X(sftp_unlink_ex, libssh2_sftp_unlink_ex)

/* Their pointers, filled in by the first ssh_conn_get(). */
struct ssh_lib {
#define X(field, sym) __typeof__(&sym) field;
	SSH_FUNCS(X)
#undef X
};

extern struct ssh_lib ssh_lib;


/* One session (see transport_ssh.h); its fields are this header's. */
struct ssh_conn {
	struct ssh_conn *next;	/* in the cache, while usable */
	char *host;		/* owned; with 'port' and 'user' the key */
	int port;
	char *user;		/* owned */
	int refs;		/* handles using it (under state_lock) */
	atomic_int lost;	/* 1 once the connection failed */
	int fd;			/* the TCP socket, or -1 */
	int slot_fd;		/* the connection slot held, or -1 */
	int io_timeout_s;	/* longest wait for the server */
	LIBSSH2_SESSION *s;	/* the session, or NULL */
	LIBSSH2_SFTP *sftp;	/* started on first use, or NULL */
	pthread_mutex_t lock;	/* held for one operation */
};

/* The monotonic clock in milliseconds. */
long long ssh_mono_ms(void);

/*
 * Whether libssh2's error 'rc' means the connection itself is gone (the
 * socket, a timeout, the key exchange), after which a session is useless.
 */
int ssh_is_connection_error(int rc);

/*
 * Fill 'err' from the last error of the session of 'c' after 'doing'
 * ("cannot open a channel") failed: a lost connection is
 * ERR_SSH_UNREACHABLE (and 'c' is marked lost), anything else
 * 'otherwise'.  Returns -1.
 */
int ssh_session_error(struct ssh_conn *c, struct err *err,
		      enum err_code otherwise, const char *doing);

/* ------------------------------------------------------------------ */
/* Host keys and logging in (transport_ssh_keys.c)                     */
/* ------------------------------------------------------------------ */

/* The known_hosts of one connection attempt. */
struct ssh_known;

/*
 * Read the known_hosts file 'path' (bounded; a missing file is an empty
 * list) for the session 's' into '*out' (new; free it with
 * ssh_known_free()).  An unreadable or oversized file is
 * ERR_CONFIG_INVALID.
 */
int ssh_known_load(struct ssh_known **out, LIBSSH2_SESSION *s,
		   const char *path, struct err *err);
void ssh_known_free(struct ssh_known *k);

/*
 * The host-key algorithms to ask 'host':'port' for, into 'out'
 * ("ssh-ed25519,..."): the types 'k' holds for it, or every type with
 * ed25519 first when it holds none.
 */
void ssh_known_prefs(struct buf *out, const struct ssh_known *k,
		     const char *host, int port);

/*
 * Check the host key of the session 's' (after the handshake) against
 * 'k' for 'conf': a match passes; another key of a type 'k' holds for
 * the host, or one marked @revoked, is ERR_HOST_KEY_MISMATCH; a host 'k'
 * does not know is ERR_HOST_KEY_UNKNOWN (its remediation the exact
 * ssh-keyscan command), unless the policy is accept-new, which appends
 * it to the file.
 */
int ssh_known_check(struct ssh_known *k, LIBSSH2_SESSION *s,
		    const struct ssh_conf *conf, struct err *err);

/*
 * Log in on 'c' as conf->user: with conf->key (its passphrase from the
 * variable conf->passphrase_env), or each identity of ssh-agent when
 * there is no key.  A refusal is ERR_AUTH_FAILED; an unreadable key
 * file ERR_CONFIG_INVALID.
 */
int ssh_login(struct ssh_conn *c, const struct ssh_conf *conf,
	      struct err *err);

#endif
