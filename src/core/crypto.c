/*
 * crypto.c: thin wrappers over libcrypto (see crypto.h).  libcrypto is
 * loaded on first use (dlopen), not linked: it doubles the start-up
 * time of every process, and most calls (list, status, events) never
 * hash anything.  The headers still give the prototypes, so each
 * function pointer has the library's own type.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "crypto.h"
#include "envelope.h"
#include "err.h"
#include "xalloc.h"
#include "banned.h"

/* ---------------------------------------------------------------- */
/* Loading libcrypto                                                  */
/* ---------------------------------------------------------------- */

/* The functions of libcrypto this file calls. */
static struct {
	__typeof__(&EVP_Digest) digest;
	__typeof__(&EVP_sha256) sha256;
	__typeof__(&HMAC) hmac;
	__typeof__(&EVP_EncodeBlock) encode_block;
	__typeof__(&CRYPTO_memcmp) memcmp;
	__typeof__(&OPENSSL_cleanse) cleanse;
	__typeof__(&OpenSSL_version) version;
} lib;

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

/* Resolve 'name' in 'h' into '*slot'; 0, or -1 when it is missing. */
static int resolve(void *h, void **slot, const char *name)
{
	*slot = dlsym(h, name);
	return *slot ? 0 : -1;
}

static void lib_load(void)
{
	static const char *const names[] = { "libcrypto.so.3",
					     "libcrypto.so" };
	void *h = NULL;
	size_t i;

	for (i = 0; !h && i < sizeof(names) / sizeof(names[0]); i++)
		h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	/* A missing library is the installation's fault, but fatal. */
	if (!h || resolve(h, (void **)&lib.digest, "EVP_Digest") < 0 ||
	    resolve(h, (void **)&lib.sha256, "EVP_sha256") < 0 ||
	    resolve(h, (void **)&lib.hmac, "HMAC") < 0 ||
	    resolve(h, (void **)&lib.encode_block, "EVP_EncodeBlock") < 0 ||
	    resolve(h, (void **)&lib.memcmp, "CRYPTO_memcmp") < 0 ||
	    resolve(h, (void **)&lib.cleanse, "OPENSSL_cleanse") < 0 ||
	    resolve(h, (void **)&lib.version, "OpenSSL_version") < 0)
		envelope_fatal(ERR_INTERNAL,
			       "cannot load OpenSSL libcrypto (libcrypto.so.3)");
}

/* libcrypto, loaded on the first call. */
static void need_lib(void)
{
	pthread_once(&lib_once, lib_load);
}

static void to_hex(char *hex, const unsigned char *bin, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		hex[2 * i] = digits[bin[i] >> 4];
		hex[2 * i + 1] = digits[bin[i] & 15];
	}
	hex[2 * n] = '\0';
}

void crypto_sha256_hex(char hex[SHA256_HEX_LEN + 1], const void *data,
		       size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	need_lib();
	if (!lib.digest(data, len, md, &mdlen, lib.sha256(), NULL) ||
	    mdlen != 32)
		BUG("libcrypto digest failed");
	to_hex(hex, md, 32);
}

void crypto_hmac_sha256_hex(char hex[SHA256_HEX_LEN + 1], const void *key,
			    size_t keylen, const void *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	need_lib();
	if (!lib.hmac(lib.sha256(), key, (int)keylen, data, len, md, &mdlen) ||
	    mdlen != 32)
		BUG("libcrypto digest failed");
	to_hex(hex, md, 32);
}

int crypto_random_hex(char *out, size_t nbytes)
{
	unsigned char bin[256];
	size_t got = 0;

	if (nbytes > sizeof(bin))
		return -1;
	while (got < nbytes) {
		ssize_t r = getrandom(bin + got, nbytes - got, 0);

		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	to_hex(out, bin, nbytes);
	explicit_bzero(bin, sizeof(bin));
	return 0;
}

int crypto_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char ha[SHA256_HEX_LEN + 1], hb[SHA256_HEX_LEN + 1];

	/*
	 * Compare digests, so that neither the contents nor the length of
	 * the secret shows in the time taken.
	 */
	crypto_sha256_hex(ha, a, la);
	crypto_sha256_hex(hb, b, lb);
	return lib.memcmp(ha, hb, SHA256_HEX_LEN) == 0 && la == lb;
}

char *crypto_canonical_json(const json_t *v)
{
	char *s = json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT |
				    JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
	char *r;

	if (!s)
		return xstrdup("null");
	r = xstrdup(s);
	free(s);
	return r;
}

void crypto_json_hash(char hex[SHA256_HEX_LEN + 1], const json_t *v)
{
	char *s = crypto_canonical_json(v);

	crypto_sha256_hex(hex, s, strlen(s));
	free(s);
}

char *crypto_base64(const void *data, size_t len)
{
	size_t n = 4 * ((len + 2) / 3) + 1, done = 0, chunk;
	char *out = xmalloc(n);
	int w;

	/* EVP_EncodeBlock takes an int: encode in whole 3-byte groups. */
	need_lib();
	out[0] = '\0';
	while (done < len) {
		chunk = len - done;
		if (chunk > (size_t)3 * (1 << 28))
			chunk = (size_t)3 * (1 << 28);
		w = lib.encode_block((unsigned char *)out + done / 3 * 4,
				    (const unsigned char *)data + done,
				    (int)chunk);
		(void)w;
		done += chunk;
	}
	return out;
}

const char *crypto_library_version(void)
{
	need_lib();
	return lib.version(OPENSSL_VERSION);
}
