/*
 * transport_ssh_keys.c: host keys and logging in, for the sessions of
 * transport_ssh.c (see transport_ssh_lib.h).  known_hosts is read by
 * this file, bounded, and given to libssh2 one line at a time, so that
 * one line it cannot parse costs only that line; what it holds for a
 * host sets the host-key algorithms asked for, and a changed key, an
 * unknown host or a refused login each get their own error code and a
 * remediation with the command that fixes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "shquote.h"
#include "transport_ssh_lib.h"
#include "xalloc.h"
#include "banned.h"

/* The largest known_hosts file read. */
#define KNOWN_HOSTS_MAX ((size_t)4 << 20)

/* ------------------------------------------------------------------ */
/* Host keys                                                           */
/* ------------------------------------------------------------------ */

/* A host-key type: libssh2's two numbers for it, and its SSH name. */
struct key_type {
	int hostkey;	/* LIBSSH2_HOSTKEY_TYPE_* */
	int known;	/* LIBSSH2_KNOWNHOST_KEY_* */
	const char *name;
};

/* In order of preference; libssh2 1.10 has no rsa-sha2-*. */
static const struct key_type key_types[] = {
	{ LIBSSH2_HOSTKEY_TYPE_ED25519, LIBSSH2_KNOWNHOST_KEY_ED25519,
	  "ssh-ed25519" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_256, LIBSSH2_KNOWNHOST_KEY_ECDSA_256,
	  "ecdsa-sha2-nistp256" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_384, LIBSSH2_KNOWNHOST_KEY_ECDSA_384,
	  "ecdsa-sha2-nistp384" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_521, LIBSSH2_KNOWNHOST_KEY_ECDSA_521,
	  "ecdsa-sha2-nistp521" },
	{ LIBSSH2_HOSTKEY_TYPE_RSA, LIBSSH2_KNOWNHOST_KEY_SSHRSA, "ssh-rsa" },
};

#define KEY_TYPE_COUNT (sizeof(key_types) / sizeof(key_types[0]))

struct ssh_known {
	LIBSSH2_KNOWNHOSTS *hosts;	/* the entries libssh2 could parse */
	struct buf text;		/* the file as read */
	json_t *revoked;		/* base64 keys of @revoked lines */
};

/*
 * The key of the "@revoked HOSTS TYPE KEY" line 'p' (modified: split
 * on blanks) added to 'revoked'; nothing when it has fewer fields.
 */
static void known_revoked(json_t *revoked, char *p)
{
	char *save = NULL, *w;
	int i;

	w = strtok_r(p, " \t", &save);
	for (i = 1; w && i < 4; i++)
		w = strtok_r(NULL, " \t", &save);
	if (w)
		json_array_append_new(revoked, json_string(w));
}

/*
 * Give each line of the known_hosts text 'text' to libssh2 on its own,
 * so that one it cannot parse (a certificate authority, a key type it
 * lacks) costs that line only, and keep the keys of @revoked lines.
 */
static void known_parse(struct ssh_known *k, const char *text)
{
	char *copy = xstrdup(text), *save = NULL, *p;

	for (p = strtok_r(copy, "\r\n", &save); p;
	     p = strtok_r(NULL, "\r\n", &save)) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		if (!strncmp(p, "@revoked", 8) && (p[8] == ' ' || p[8] == '\t'))
			known_revoked(k->revoked, p);
		else if (*p != '@')
			ssh_lib.knownhost_readline(
			    k->hosts, p, strlen(p),
			    LIBSSH2_KNOWNHOST_FILE_OPENSSH);
	}
	free(copy);
}

/*
 * Read the known_hosts file 'path' (at most KNOWN_HOSTS_MAX bytes) into
 * 'k' for the session 's'.  A missing file is an empty list.
 */
static int known_read(struct ssh_known *k, LIBSSH2_SESSION *s,
		      const char *path, struct err *err)
{
	FILE *f;
	int r;

	buf_init(&k->text, KNOWN_HOSTS_MAX);
	k->revoked = json_array();
	k->hosts = ssh_lib.knownhost_init(s);
	if (!k->hosts)
		return err_set(err, ERR_INTERNAL,
			       "libssh2_knownhost_init failed");
	f = fopen(path, "re");
	if (!f && errno == ENOENT)
		return 0;
	if (!f)
		return err_set(err, ERR_CONFIG_INVALID,
			       "cannot read known_hosts '%s': %s", path,
			       strerror(errno));
	r = buf_read_file(&k->text, f);
	fclose(f);
	if (r == -2)
		return err_set(err, ERR_CONFIG_INVALID,
			       "known_hosts '%s' is larger than %zu bytes",
			       path, KNOWN_HOSTS_MAX);
	if (r < 0)
		return err_set(err, ERR_CONFIG_INVALID,
			       "cannot read known_hosts '%s': %s", path,
			       strerror(errno));
	known_parse(k, buf_str(&k->text));
	return 0;
}

void ssh_known_free(struct ssh_known *k)
{
	if (!k)
		return;
	if (k->hosts)
		ssh_lib.knownhost_free(k->hosts);
	k->hosts = NULL;
	buf_release(&k->text);
	json_decref(k->revoked);
	free(k);
}

/*
 * The host-key algorithms to ask for, in '*out' ("ssh-ed25519,..."):
 * the types known_hosts holds for 'host':'port', found by checking a
 * dummy key of each type (a mismatch means an entry of that type is
 * there, hashed names included), or every type with ed25519 first when
 * the host is unknown, so that the key then offered is the one the
 * remediation's ssh-keyscan fetches.
 */
void ssh_known_prefs(struct buf *out, const struct ssh_known *k,
		     const char *host, int port)
{
	size_t i;
	int r;

	for (i = 0; i < KEY_TYPE_COUNT; i++) {
		r = ssh_lib.knownhost_checkp(
		    k->hosts, host, port, "AAAA", 4,
		    LIBSSH2_KNOWNHOST_TYPE_PLAIN |
			LIBSSH2_KNOWNHOST_KEYENC_BASE64 | key_types[i].known,
		    NULL);
		if (r == LIBSSH2_KNOWNHOST_CHECK_MISMATCH ||
		    r == LIBSSH2_KNOWNHOST_CHECK_MATCH)
			buf_addf(out, "%s%s", out->len ? "," : "",
				 key_types[i].name);
	}
	if (out->len)
		return;
	for (i = 0; i < KEY_TYPE_COUNT; i++)
		buf_addf(out, "%s%s", i ? "," : "", key_types[i].name);
}

/* The key type of libssh2's host key type 'hostkey', or NULL. */
static const struct key_type *key_type_of(int hostkey)
{
	size_t i;

	for (i = 0; i < KEY_TYPE_COUNT; i++) {
		if (key_types[i].hostkey == hostkey)
			return &key_types[i];
	}
	return NULL;
}

/* The name known_hosts gives 'host':'port': "host" or "[host]:port". */
static void known_name(struct buf *out, const char *host, int port)
{
	if (port == 22)
		buf_adds(out, host);
	else
		buf_addf(out, "[%s]:%d", host, port);
}

/*
 * The ssh-keyscan command that adds 'host':'port' to 'known_hosts', as
 * the remediation of an unknown host gives it.
 */
static void keyscan_command(struct buf *out, const char *host, int port,
			    const char *known_hosts)
{
	buf_addf(out, "ssh-keyscan -p %d -t ed25519 ", port);
	shquote_display(out, host);
	buf_adds(out, " >> ");
	shquote_display(out, known_hosts);
}

/*
 * Append the host key 'key' ('len' bytes of type 'kt') of 'host':'port'
 * to the known_hosts file 'path' (host_key_policy accept-new): one
 * line, written with O_APPEND under an exclusive flock so that two
 * processes adding hosts at once do not interleave; a file that did not
 * end its last line gets a newline first.  The directory is created
 * 0700 when missing (~/.ssh).
 */
static int known_append(struct ssh_known *k, const char *path, const char *host,
			int port, const char *key, size_t len,
			const struct key_type *kt, struct err *err)
{
	struct libssh2_knownhost *entry = NULL;
	struct buf name = BUF_INIT, line = BUF_INIT;
	char text[8192];
	size_t outlen = 0;
	char *dir, *slash;
	int fd = -1, ret = -1;

	known_name(&name, host, port);
	if (ssh_lib.knownhost_addc(k->hosts, buf_str(&name), NULL, key, len,
				   NULL, 0,
				   LIBSSH2_KNOWNHOST_TYPE_PLAIN |
				       LIBSSH2_KNOWNHOST_KEYENC_RAW | kt->known,
				   &entry) != 0 ||
	    ssh_lib.knownhost_writeline(k->hosts, entry, text, sizeof(text),
					&outlen,
					LIBSSH2_KNOWNHOST_FILE_OPENSSH) != 0) {
		err_set(err, ERR_INTERNAL, "cannot format a known_hosts line");
		goto out;
	}
	if (k->text.len && k->text.data[k->text.len - 1] != '\n')
		buf_adds(&line, "\n");
	buf_add(&line, text, outlen);
	if (!outlen || text[outlen - 1] != '\n')
		buf_adds(&line, "\n");
	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0700);
	}
	free(dir);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0 ||
	    write(fd, line.data, line.len) != (ssize_t)line.len) {
		err_set(err, ERR_IO_FAILED, "cannot add %s to known_hosts "
					    "'%s': %s", buf_str(&name), path,
			strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		err_set(err, ERR_IO_FAILED, "cannot add %s to known_hosts "
					    "'%s': %s", buf_str(&name), path,
			strerror(errno));
		goto out;
	}
	fd = -1;
	fprintf(stderr, "hpcloop: added %s (%s) to %s\n", buf_str(&name),
		kt->name, path);
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	buf_release(&name);
	buf_release(&line);
	return ret;
}

/* The OpenSSH-style fingerprint "SHA256:..." of the session's host key. */
static void fingerprint(struct buf *out, LIBSSH2_SESSION *s)
{
	const char *h = ssh_lib.hostkey_hash(s, LIBSSH2_HOSTKEY_HASH_SHA256);
	char *b64;
	size_t n;

	if (!h) {
		buf_adds(out, "SHA256:?");
		return;
	}
	b64 = crypto_base64(h, 32);
	n = strlen(b64);
	while (n && b64[n - 1] == '=')
		n--;
	buf_adds(out, "SHA256:");
	buf_add(out, b64, n);
	free(b64);
}

/*
 * Check the host key of the session 's' (after the handshake) against
 * 'k' for 'conf': a match passes; a key of a type known_hosts holds for
 * the host but another value, or one marked @revoked, is
 * ERR_HOST_KEY_MISMATCH; a host it does not know is
 * ERR_HOST_KEY_UNKNOWN, unless the policy is accept-new, which adds it.
 */
int ssh_known_check(struct ssh_known *k, LIBSSH2_SESSION *s,
		    const struct ssh_conf *conf, struct err *err)
{
	const struct key_type *kt;
	struct buf fp = BUF_INIT, cmd = BUF_INIT, name = BUF_INIT;
	const char *key;
	char *b64 = NULL;
	size_t len = 0, i;
	int type = 0, r, ret = -1;

	key = ssh_lib.session_hostkey(s, &len, &type);
	kt = key ? key_type_of(type) : NULL;
	if (!kt) {
		err_set(err, ERR_HOST_KEY_MISMATCH,
			"%s:%d offered a host key of a type hpcloop cannot "
			"check", conf->host, conf->port);
		goto out;
	}
	fingerprint(&fp, s);
	known_name(&name, conf->host, conf->port);
	keyscan_command(&cmd, conf->host, conf->port, conf->known_hosts);
	b64 = crypto_base64(key, len);
	for (i = 0; i < json_array_size(k->revoked); i++) {
		if (!strcmp(b64, json_string_value(json_array_get(k->revoked,
								   i)))) {
			err_set(err, ERR_HOST_KEY_MISMATCH,
				"the host key of %s (%s %s) is marked "
				"@revoked in '%s'", buf_str(&name), kt->name,
				buf_str(&fp), conf->known_hosts);
			goto out;
		}
	}
	r = ssh_lib.knownhost_checkp(k->hosts, conf->host, conf->port, key, len,
				     LIBSSH2_KNOWNHOST_TYPE_PLAIN |
					 LIBSSH2_KNOWNHOST_KEYENC_RAW |
					 kt->known,
				     NULL);
	switch (r) {
	case LIBSSH2_KNOWNHOST_CHECK_MATCH:
		ret = 0;
		break;
	case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
		err_set(err, ERR_HOST_KEY_MISMATCH,
			"the host key of %s (%s %s) does not match the one in "
			"'%s': the key changed, or someone is in between",
			buf_str(&name), kt->name, buf_str(&fp),
			conf->known_hosts);
		err_remedy(err, "check the new key's fingerprint with the "
				"host's administrators; only if it is right, "
				"remove the old entry with `ssh-keygen -R '%s' "
				"-f %s` and add the new one with `%s`",
			   buf_str(&name), conf->known_hosts, buf_str(&cmd));
		break;
	case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
		if (conf->accept_new) {
			ret = known_append(k, conf->known_hosts, conf->host,
					   conf->port, key, len, kt, err);
			break;
		}
		err_set(err, ERR_HOST_KEY_UNKNOWN,
			"%s is not in known_hosts '%s' (it offers %s %s)",
			buf_str(&name), conf->known_hosts, kt->name,
			buf_str(&fp));
		err_remedy(err, "check the host's fingerprint out of band, "
				"then add it with `%s` (or set the cluster's "
				"host_key_policy to accept-new)",
			   buf_str(&cmd));
		break;
	default:
		err_set(err, ERR_INTERNAL, "cannot check the host key of %s",
			buf_str(&name));
		break;
	}
out:
	free(b64);
	buf_release(&fp);
	buf_release(&cmd);
	buf_release(&name);
	return ret;
}

int ssh_known_load(struct ssh_known **out, LIBSSH2_SESSION *s,
		   const char *path, struct err *err)
{
	struct ssh_known *k = xcalloc(1, sizeof(*k));

	*out = NULL;
	if (known_read(k, s, path, err) < 0) {
		ssh_known_free(k);
		return -1;
	}
	*out = k;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Logging in                                                          */
/* ------------------------------------------------------------------ */

/* Log in to 'c' with the private key file of 'conf'. */
static int auth_key(struct ssh_conn *c, const struct ssh_conf *conf,
		    struct err *err)
{
	const char *pass = getenv(conf->passphrase_env);
	int rc;

	if (access(conf->key, R_OK) < 0)
		return err_set(err, ERR_CONFIG_INVALID,
			       "cannot read the ssh key '%s': %s", conf->key,
			       strerror(errno));
	rc = ssh_lib.userauth_publickey_fromfile_ex(
	    c->s, conf->user, (unsigned int)strlen(conf->user), NULL, conf->key,
	    pass && *pass ? pass : NULL);
	if (rc == 0)
		return 0;
	if (ssh_is_connection_error(rc))
		return ssh_session_error(c, err, ERR_SSH_UNREACHABLE,
					 "cannot log in");
	if (rc == LIBSSH2_ERROR_FILE) {
		err_set(err, ERR_AUTH_FAILED,
			"cannot use the ssh key '%s' (not an OpenSSH ed25519 "
			"or ecdsa private key, or a wrong passphrase)",
			conf->key);
		return err_remedy(err, "use an ed25519 or ecdsa key; if it "
				       "has a passphrase, put it in the "
				       "environment variable %s",
				  conf->passphrase_env);
	}
	err_set(err, ERR_AUTH_FAILED,
		"%s:%d refused the key '%s' for user '%s'", c->host, c->port,
		conf->key, conf->user);
	return err_remedy(err, "add the key's public half to ~%s/.ssh/"
			       "authorized_keys on %s, or point the cluster's "
			       "key at one it accepts (libssh2 1.10 cannot "
			       "sign with RSA keys for OpenSSH 8.8 and later)",
			  conf->user, c->host);
}

/* Log in to 'c' with each identity ssh-agent holds, in turn. */
static int auth_agent(struct ssh_conn *c, const struct ssh_conf *conf,
		      struct err *err)
{
	LIBSSH2_AGENT *agent = NULL;
	struct libssh2_agent_publickey *id = NULL, *prev = NULL;
	int ret = -1, tried = 0, rc;

	if (!getenv("SSH_AUTH_SOCK")) {
		err_set(err, ERR_AUTH_FAILED,
			"no ssh key is configured for %s and no ssh-agent is "
			"running (SSH_AUTH_SOCK is unset)", c->host);
		return err_remedy(err, "set the cluster's key to an ed25519 "
				       "or ecdsa private key, or start "
				       "ssh-agent and ssh-add one");
	}
	agent = ssh_lib.agent_init(c->s);
	if (!agent || ssh_lib.agent_connect(agent) != 0 ||
	    ssh_lib.agent_list_identities(agent) != 0) {
		err_set(err, ERR_AUTH_FAILED,
			"cannot reach ssh-agent at SSH_AUTH_SOCK");
		err_remedy(err, "start ssh-agent and ssh-add a key, or set "
				"the cluster's key");
		goto out;
	}
	for (;;) {
		rc = ssh_lib.agent_get_identity(agent, &id, prev);
		if (rc != 0)
			break;
		tried++;
		rc = ssh_lib.agent_userauth(agent, conf->user, id);
		if (rc == 0) {
			ret = 0;
			goto out;
		}
		if (ssh_is_connection_error(rc)) {
			ssh_session_error(c, err, ERR_SSH_UNREACHABLE,
					  "cannot log in");
			goto out;
		}
		prev = id;
	}
	err_set(err, ERR_AUTH_FAILED,
		"%s:%d refused all %d keys of ssh-agent for user '%s'",
		c->host, c->port, tried, conf->user);
	err_remedy(err, "ssh-add a key that %s accepts, or set the "
			"cluster's key", c->host);
out:
	if (agent) {
		ssh_lib.agent_disconnect(agent);
		ssh_lib.agent_free(agent);
	}
	return ret;
}

int ssh_login(struct ssh_conn *c, const struct ssh_conf *conf,
	      struct err *err)
{
	if (conf->key)
		return auth_key(c, conf, err);
	return auth_agent(c, conf, err);
}
