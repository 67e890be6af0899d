/*
 * transport_ssh.c: the cluster keys of the ssh transport, loading
 * libssh2, and the SSH sessions of this process (see transport_ssh.h).
 * The library is not linked: it is loaded with dlopen on the first
 * connection (DESIGN §12, "Loading"), so that `hpcloop list` and every
 * call that stays on this machine start without it; its headers still
 * give each function pointer the library's own type.
 *
 * One session per (host, port, user) serves every handle and every
 * operation of the process; it is made on the first operation that
 * needs it, never by opening a transport.  Making one takes a
 * connection slot (transport_ssh_slot.c), connects with a deadline,
 * prefers the host-key types that known_hosts holds for the host (so
 * that a host known by its ed25519 key is not reported as changed when
 * libssh2 would have asked for ecdsa first), checks the key and logs in
 * (transport_ssh_keys.c).  Commands and SFTP are in
 * transport_ssh_chan.c.
 *
 * Sessions are not used by two threads at once: each has a lock held
 * for one operation, and the cache has its own (taken first).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "transport_ssh_lib.h"
#include "xalloc.h"
#include "banned.h"

/* ------------------------------------------------------------------ */
/* Configuration                                                       */
/* ------------------------------------------------------------------ */

/* 'path' with a leading "~/" (or "~" alone) replaced by the home. */
static char *expand_home(const char *path)
{
	const char *home = getenv("HOME");
	struct buf b = BUF_INIT;

	if (path[0] != '~' || (path[1] && path[1] != '/'))
		return xstrdup(path);
	if (!home || !*home) {
		struct passwd *pw = getpwuid(geteuid());

		home = pw && pw->pw_dir ? pw->pw_dir : "/";
	}
	buf_addf(&b, "%s%s", home, path + 1);
	return buf_detach(&b, NULL);
}

/* The string 'key' of 'cluster', or 'dflt'; a non-string is an error. */
static int conf_string(const char **out, const json_t *cluster,
		       const char *key, const char *dflt, struct err *err)
{
	const json_t *v = json_object_get(cluster, key);

	*out = dflt;
	if (!v)
		return 0;
	if (!json_is_string(v) || !*json_string_value(v))
		return err_set(err, ERR_CONFIG_INVALID,
			       "the cluster's %s must be a non-empty string",
			       key);
	*out = json_string_value(v);
	return 0;
}

/* The integer 'key' of 'cluster' in [min, max], or 'dflt'. */
static int conf_int(int *out, const json_t *cluster, const char *key,
		    int min, int max, int dflt, struct err *err)
{
	const json_t *v = json_object_get(cluster, key);

	*out = dflt;
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max)
		return err_set(err, ERR_CONFIG_INVALID,
			       "the cluster's %s must be an integer from %d "
			       "to %d", key, min, max);
	*out = (int)json_integer_value(v);
	return 0;
}

int ssh_conf_parse(struct ssh_conf *c, const json_t *cluster,
		   struct err *err)
{
	const char *host, *user, *key, *kh, *policy, *env;

	if (conf_string(&host, cluster, "host", NULL, err) < 0 ||
	    conf_string(&user, cluster, "user", NULL, err) < 0 ||
	    conf_string(&key, cluster, "key", NULL, err) < 0 ||
	    conf_string(&kh, cluster, "known_hosts", SSH_DEFAULT_KNOWN_HOSTS,
			err) < 0 ||
	    conf_string(&policy, cluster, "host_key_policy", "strict",
			err) < 0 ||
	    conf_string(&env, cluster, "key_passphrase_env",
			SSH_DEFAULT_PASSPHRASE_ENV, err) < 0 ||
	    conf_int(&c->port, cluster, "port", 1, 65535, SSH_DEFAULT_PORT,
		     err) < 0 ||
	    conf_int(&c->connect_timeout_s, cluster, "connect_timeout_s", 1,
		     3600, SSH_DEFAULT_CONNECT_TIMEOUT_S, err) < 0 ||
	    conf_int(&c->io_timeout_s, cluster, "io_timeout_s", 1, 86400,
		     SSH_DEFAULT_IO_TIMEOUT_S, err) < 0 ||
	    conf_int(&c->keepalive_s, cluster, "keepalive_s", 1, 3600,
		     SSH_DEFAULT_KEEPALIVE_S, err) < 0 ||
	    conf_int(&c->max_connections, cluster, "max_connections", 1, 64,
		     SSH_DEFAULT_MAX_CONNECTIONS, err) < 0)
		return -1;
	if (!host || !user)
		return err_set(err, ERR_CONFIG_INVALID,
			       "an ssh cluster needs a host and a user");
	if (strcmp(policy, "strict") && strcmp(policy, "accept-new"))
		return err_set(err, ERR_CONFIG_INVALID,
			       "the cluster's host_key_policy must be strict "
			       "or accept-new, not '%s'", policy);
	c->host = xstrdup(host);
	c->user = xstrdup(user);
	c->key = key ? expand_home(key) : NULL;
	c->known_hosts = expand_home(kh);
	c->accept_new = !strcmp(policy, "accept-new");
	c->passphrase_env = xstrdup(env);
	return 0;
}

void ssh_conf_release(struct ssh_conf *c)
{
	if (!c)
		return;
	free(c->host);
	free(c->user);
	free(c->key);
	free(c->known_hosts);
	free(c->passphrase_env);
	memset(c, 0, sizeof(*c));
}

/* ------------------------------------------------------------------ */
/* Loading libssh2                                                     */
/* ------------------------------------------------------------------ */

struct ssh_lib ssh_lib;

/* Guards the loading state below and the cache of sessions. */
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static int lib_loaded;				/* 1 once 'lib' is filled */
static char lib_name[64] = "libssh2.so.1";	/* ssh_lib_set_name() */

void ssh_lib_set_name(const char *soname)
{
	pthread_mutex_lock(&state_lock);
	if (!lib_loaded)
		snprintf(lib_name, sizeof(lib_name), "%s", soname);
	pthread_mutex_unlock(&state_lock);
}

/*
 * Load libssh2 and resolve every function of SSH_FUNCS; the caller
 * holds state_lock.  A library that cannot be loaded is the
 * installation's to fix (ERR_PRECONDITION_FAILED); the next call tries
 * again.
 */
static int lib_load_locked(struct err *err)
{
	void *h;
	const char *missing = NULL;

	if (lib_loaded)
		return 0;
	h = dlopen(lib_name, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		err_set(err, ERR_PRECONDITION_FAILED,
			"cannot load libssh2 (%s), which the ssh transport "
			"needs", lib_name);
		return err_remedy(err, "install libssh2-1 (apt-get install "
				       "libssh2-1), then retry");
	}
#define X(field, sym)                                                          \
	if (!missing) {                                                        \
		*(void **)&ssh_lib.field = dlsym(h, #sym);                     \
		if (!ssh_lib.field)                                            \
			missing = #sym;                                        \
	}
	SSH_FUNCS(X)
#undef X
	if (missing) {
		dlclose(h);
		err_set(err, ERR_PRECONDITION_FAILED,
			"%s has no %s: it is older than libssh2 1.9",
			lib_name, missing);
		return err_remedy(err, "install libssh2-1 1.10 or later, "
				       "then retry");
	}
	if (ssh_lib.init(0) != 0) {
		dlclose(h);
		return err_set(err, ERR_INTERNAL, "libssh2_init failed");
	}
	lib_loaded = 1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Sessions and their cache                                            */
/* ------------------------------------------------------------------ */

static struct ssh_conn *cache;	/* usable sessions (under state_lock) */
static long opened;		/* sessions made (under state_lock) */
static int exit_hook;
long long ssh_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Say goodbye to the server and free everything 'c' holds. */
static void conn_free(struct ssh_conn *c)
{
	if (!c)
		return;
	if (c->s) {
		/* A goodbye must not wait long on a dead server. */
		ssh_lib.session_set_timeout(c->s, 2000);
		if (c->sftp)
			ssh_lib.sftp_shutdown(c->sftp);
		if (!atomic_load(&c->lost))
			ssh_lib.session_disconnect_ex(
			    c->s, SSH_DISCONNECT_BY_APPLICATION, "hpcloop done",
			    "");
		ssh_lib.session_free(c->s);
	}
	if (c->fd >= 0)
		close(c->fd);
	ssh_slot_release(c->slot_fd);
	pthread_mutex_destroy(&c->lock);
	free(c->host);
	free(c->user);
	free(c);
}

/* Take 'c' out of the cache (the caller holds state_lock). */
static void cache_remove_locked(struct ssh_conn *c)
{
	struct ssh_conn **p;

	for (p = &cache; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			c->next = NULL;
			return;
		}
	}
}

/* At exit, close every session still open, politely. */
static void ssh_at_exit(void)
{
	struct ssh_conn *c, *next;

	pthread_mutex_lock(&state_lock);
	for (c = cache; c; c = next) {
		next = c->next;
		/* A handle may still point at it: only say goodbye. */
		if (c->s && !atomic_load(&c->lost) &&
		    pthread_mutex_trylock(&c->lock) == 0) {
			ssh_lib.session_set_timeout(c->s, 2000);
			ssh_lib.session_disconnect_ex(
			    c->s, SSH_DISCONNECT_BY_APPLICATION, "hpcloop done",
			    "");
			atomic_store(&c->lost, 1);
			pthread_mutex_unlock(&c->lock);
		}
	}
	pthread_mutex_unlock(&state_lock);
}

void ssh_conn_unref(struct ssh_conn *c)
{
	int last;

	if (!c)
		return;
	pthread_mutex_lock(&state_lock);
	last = --c->refs == 0;
	if (last)
		cache_remove_locked(c);
	pthread_mutex_unlock(&state_lock);
	if (last)
		conn_free(c);
}

int ssh_conn_usable(const struct ssh_conn *c)
{
	return c && !atomic_load(&((struct ssh_conn *)c)->lost);
}

long ssh_conn_opened(void)
{
	long n;

	pthread_mutex_lock(&state_lock);
	n = opened;
	pthread_mutex_unlock(&state_lock);
	return n;
}

int ssh_is_connection_error(int rc)
{
	switch (rc) {
	case LIBSSH2_ERROR_SOCKET_NONE:
	case LIBSSH2_ERROR_BANNER_RECV:
	case LIBSSH2_ERROR_BANNER_SEND:
	case LIBSSH2_ERROR_KEX_FAILURE:
	case LIBSSH2_ERROR_SOCKET_SEND:
	case LIBSSH2_ERROR_TIMEOUT:
	case LIBSSH2_ERROR_SOCKET_DISCONNECT:
	case LIBSSH2_ERROR_SOCKET_TIMEOUT:
	case LIBSSH2_ERROR_SOCKET_RECV:
	case LIBSSH2_ERROR_PROTO:
	case LIBSSH2_ERROR_DECRYPT:
		return 1;
	default:
		return 0;
	}
}

int ssh_session_error(struct ssh_conn *c, struct err *err,
		      enum err_code otherwise, const char *doing)
{
	char *msg = NULL;
	int len = 0, rc;

	rc = ssh_lib.session_last_error(c->s, &msg, &len, 0);
	if (rc == LIBSSH2_ERROR_EAGAIN)
		rc = LIBSSH2_ERROR_SOCKET_TIMEOUT;
	if (!msg || !len) {
		msg = (char *)"no reason given";
		len = (int)strlen(msg);
	}
	if (rc == LIBSSH2_ERROR_KEX_FAILURE) {
		atomic_store(&c->lost, 1);
		return err_set(err, ERR_SSH_UNREACHABLE,
			       "%s on %s:%d: %.*s (the two sides share no key "
			       "exchange, host-key type or cipher)",
			       doing, c->host, c->port, len > 200 ? 200 : len,
			       msg);
	}
	if (ssh_is_connection_error(rc)) {
		atomic_store(&c->lost, 1);
		if (rc == LIBSSH2_ERROR_TIMEOUT)
			return err_set(err, ERR_SSH_UNREACHABLE,
				       "%s on %s:%d: no answer for %d s",
				       doing, c->host, c->port,
				       c->io_timeout_s);
		return err_set(err, ERR_SSH_UNREACHABLE,
			       "%s on %s:%d: the connection was lost (%.*s)",
			       doing, c->host, c->port, len > 200 ? 200 : len,
			       msg);
	}
	return err_set(err, otherwise, "%s on %s:%d: %.*s", doing, c->host,
		       c->port, len > 300 ? 300 : len, msg);
}

/* ------------------------------------------------------------------ */
/* Connecting                                                          */
/* ------------------------------------------------------------------ */

/*
 * Connect a TCP socket to 'host':'port' within 'timeout_s' seconds
 * (each address in turn), into '*fd_out'.  A refusal, a timeout, no
 * route or a name that does not resolve is ERR_SSH_UNREACHABLE.
 */
static int tcp_connect(int *fd_out, const char *host, int port,
		       int timeout_s, struct err *err)
{
	struct addrinfo hints, *res = NULL, *ai;
	char service[16];
	long long deadline = ssh_mono_ms() + (long long)timeout_s * 1000;
	int fd = -1, e = 0, rc, one = 1;

	*fd_out = -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(service, sizeof(service), "%d", port);
	rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0) {
		err_set(err, ERR_SSH_UNREACHABLE, "cannot resolve '%s': %s",
			host, gai_strerror(rc));
		return err_remedy(err, "check the cluster's host name and "
				       "this machine's DNS, then retry");
	}
	for (ai = res; ai; ai = ai->ai_next) {
		struct pollfd pfd;
		socklen_t elen = sizeof(e);
		long long left;

		fd = socket(ai->ai_family,
			    ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		e = 0;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			e = errno;
			while (e == EINPROGRESS) {
				left = deadline - ssh_mono_ms();
				if (left <= 0) {
					e = ETIMEDOUT;
					break;
				}
				pfd.fd = fd;
				pfd.events = POLLOUT;
				rc = poll(&pfd, 1, (int)left);
				if (rc < 0 && errno == EINTR)
					continue;
				if (rc < 0) {
					e = errno;
					break;
				}
				if (rc == 0)
					continue;
				e = 0;
				if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e,
					       &elen) < 0)
					e = errno;
			}
		}
		if (!e)
			break;
		close(fd);
		fd = -1;
		if (ssh_mono_ms() >= deadline)
			break;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		err_set(err, ERR_SSH_UNREACHABLE,
			"cannot connect to %s:%d: %s", host, port,
			e == ETIMEDOUT ? "no answer within the connect timeout"
				       : strerror(e ? e : EHOSTUNREACH));
		return -1;
	}
	/* libssh2's blocking calls wait on the socket themselves. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	/* Small packets (a command, its end of input) go out at once. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*fd_out = fd;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Making a session                                                    */
/* ------------------------------------------------------------------ */

/*
 * Make a new session to the host of 'conf' into '*out' (the caller
 * holds state_lock): a slot, TCP, the handshake with the host-key
 * preference from known_hosts, the host key check, the login.
 */
static int conn_open(struct ssh_conn **out, const struct ssh_conf *conf,
		     struct err *err)
{
	struct ssh_conn *c = xcalloc(1, sizeof(*c));
	struct ssh_known *k = NULL;
	struct buf prefs = BUF_INIT;
	int rc, probe, ret = -1;

	*out = NULL;
	c->host = xstrdup(conf->host);
	c->port = conf->port;
	c->user = xstrdup(conf->user);
	c->fd = -1;
	c->slot_fd = -1;
	/* Until the login, the connect timeout bounds every wait. */
	c->io_timeout_s = conf->connect_timeout_s;
	atomic_init(&c->lost, 0);
	pthread_mutex_init(&c->lock, NULL);
	if (ssh_slot_acquire(&c->slot_fd, conf->host, conf->port,
			     conf->max_connections, conf->connect_timeout_s,
			     err) < 0 ||
	    tcp_connect(&c->fd, conf->host, conf->port,
			conf->connect_timeout_s, err) < 0)
		goto out;
	c->s = ssh_lib.session_init_ex(NULL, NULL, NULL, NULL);
	if (!c->s) {
		err_set(err, ERR_INTERNAL, "libssh2_session_init failed");
		goto out;
	}
	ssh_lib.session_set_blocking(c->s, 1);
	ssh_lib.session_set_timeout(c->s, (long)conf->connect_timeout_s * 1000);
	if (ssh_known_load(&k, c->s, conf->known_hosts, err) < 0)
		goto out;
	ssh_known_prefs(&prefs, k, conf->host, conf->port);
	ssh_lib.session_method_pref(c->s, LIBSSH2_METHOD_HOSTKEY,
				    buf_str(&prefs));
	rc = ssh_lib.session_handshake(c->s, c->fd);
	if (rc != 0) {
		ssh_session_error(c, err, ERR_SSH_UNREACHABLE,
				  "the ssh handshake failed");
		err_detail(err, "host_key_types", json_string(buf_str(&prefs)));
		goto out;
	}
	if (ssh_known_check(k, c->s, conf, err) < 0 ||
	    ssh_login(c, conf, err) < 0)
		goto out;
	/* Probe often enough that a quiet command never looks dead. */
	probe = conf->keepalive_s;
	if (probe > conf->io_timeout_s / 3)
		probe = conf->io_timeout_s / 3;
	ssh_lib.keepalive_config(c->s, 1, (unsigned)(probe < 1 ? 1 : probe));
	c->io_timeout_s = conf->io_timeout_s;
	ssh_lib.session_set_timeout(c->s, (long)conf->io_timeout_s * 1000);
	c->refs = 1;
	*out = c;
	c = NULL;
	opened++;
	ret = 0;
out:
	ssh_known_free(k);
	buf_release(&prefs);
	if (c)
		atomic_store(&c->lost, 1);
	conn_free(c);
	return ret;
}

int ssh_conn_get(struct ssh_conn **out, const struct ssh_conf *conf,
		 struct err *err)
{
	struct ssh_conn *c;
	int ret = -1;

	*out = NULL;
	pthread_mutex_lock(&state_lock);
	if (lib_load_locked(err) < 0)
		goto out;
	if (!exit_hook) {
		atexit(ssh_at_exit);
		exit_hook = 1;
	}
	for (c = cache; c; c = c->next) {
		if (!atomic_load(&c->lost) && c->port == conf->port &&
		    !strcmp(c->host, conf->host) &&
		    !strcmp(c->user, conf->user)) {
			c->refs++;
			*out = c;
			ret = 0;
			goto out;
		}
	}
	/*
	 * Connecting holds the cache lock, so that two threads never
	 * race to open the same host twice.
	 */
	if (conn_open(&c, conf, err) < 0)
		goto out;
	c->next = cache;
	cache = c;
	*out = c;
	ret = 0;
out:
	pthread_mutex_unlock(&state_lock);
	return ret;
}

