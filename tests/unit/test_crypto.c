/*
 * test_crypto.c: unit tests for the crypto module (crypto.h): SHA-256
 * and HMAC-SHA256 against published vectors, the canonical JSON form
 * that idempotency keys hash (DESIGN §4: sorted keys at every depth,
 * compact), constant-time comparison, and random hex tokens.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "crypto.h"
#include "banned.h"

/* Parse 'text' or fail the test. */
static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);

	if (!v)
		fail_msg("bad test JSON: %s", jerr.text);
	return v;
}

/* The canonical text of 'text' equals 'want'. */
static void assert_canonical(const char *text, const char *want)
{
	json_t *v = parse(text);
	char *s = crypto_canonical_json(v);

	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
	json_decref(v);
}

/* FIPS 180-2 vectors: the empty string and "abc". */
static void test_crypto_sha256_vectors(void **state)
{
	char hex[SHA256_HEX_LEN + 1];

	(void)state;
	crypto_sha256_hex(hex, "", 0);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
				 "27ae41e4649b934ca495991b7852b855");
	crypto_sha256_hex(hex, "abc", 3);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
				 "b00361a396177a9cb410ff61f20015ad");
	/* Only 'len' bytes count, not the string up to its NUL. */
	crypto_sha256_hex(hex, "abcdef", 3);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
				 "b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(strlen(hex), SHA256_HEX_LEN);
}

/* RFC 4231 test case 2 ("Jefe"), and case 6 (key longer than a block). */
static void test_crypto_hmac_rfc4231(void **state)
{
	static const char data2[] = "what do ya want for nothing?";
	static const char data6[] =
		"Test Using Larger Than Block-Size Key - Hash Key First";
	unsigned char key6[131];
	char hex[SHA256_HEX_LEN + 1];

	(void)state;
	crypto_hmac_sha256_hex(hex, "Jefe", 4, data2, sizeof(data2) - 1);
	assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c7"
				 "5a003f089d2739839dec58b964ec3843");
	memset(key6, 0xaa, sizeof(key6));
	crypto_hmac_sha256_hex(hex, key6, sizeof(key6), data6,
			       sizeof(data6) - 1);
	assert_string_equal(hex, "60e431591ee0b67f0d8a26aacbf5b77f"
				 "8e0bc6213728c5140546040f0ee37f54");
}

/* Keys are sorted at every depth, inside arrays too, and nothing else. */
static void test_crypto_canonical_sorts_every_depth(void **state)
{
	(void)state;
	assert_canonical("{\"b\": {\"z\": 1, \"a\": [{\"y\": true, "
			 "\"x\": null}, 3]}, \"a\": \"s\"}",
			 "{\"a\":\"s\",\"b\":{\"a\":[{\"x\":null,\"y\":true},"
			 "3],\"z\":1}}");
	/* Array order is data, and is kept. */
	assert_canonical("[3, 1, 2]", "[3,1,2]");
	assert_canonical("{}", "{}");
	assert_canonical("{\"k\": []}", "{\"k\":[]}");
	/* Byte order of the keys, upper case before lower case. */
	assert_canonical("{\"b\":1,\"B\":2,\"a\":3,\"aa\":4,\"_\":5}",
			 "{\"B\":2,\"_\":5,\"a\":3,\"aa\":4,\"b\":1}");
}

/* The canonical text is compact: no spaces, no newline at the end. */
static void test_crypto_canonical_compact(void **state)
{
	json_t *v = parse("{\n  \"name\" : \"a b\",\n  \"n\" : [ 1 , 2 ]\n}\n");
	char *s = crypto_canonical_json(v);

	(void)state;
	assert_string_equal(s, "{\"n\":[1,2],\"name\":\"a b\"}");
	assert_null(strchr(s, '\n'));
	free(s);
	json_decref(v);
	/* Scalars have a canonical form too. */
	assert_canonical("\"x\"", "\"x\"");
	assert_canonical("-7", "-7");
	assert_canonical("null", "null");
}

/*
 * The same spec written with another key order and spacing hashes the
 * same; a changed value does not.  The hash is that of the text.
 */
static void test_crypto_json_hash_equal_specs(void **state)
{
	json_t *a = parse("{\"study\":\"s1\",\"opts\":{\"nodes\":2,"
			  "\"time\":\"1:00\"},\"tags\":[\"x\",\"y\"]}");
	json_t *b = parse("{ \"tags\" : [ \"x\", \"y\" ],\n\t\"opts\": "
			  "{ \"time\": \"1:00\", \"nodes\": 2 },\n"
			  "  \"study\": \"s1\" }");
	json_t *c = parse("{\"study\":\"s1\",\"opts\":{\"nodes\":3,"
			  "\"time\":\"1:00\"},\"tags\":[\"x\",\"y\"]}");
	json_t *d = parse("{\"study\":\"s1\",\"opts\":{\"nodes\":2,"
			  "\"time\":\"1:00\"},\"tags\":[\"y\",\"x\"]}");
	char ha[SHA256_HEX_LEN + 1], hb[SHA256_HEX_LEN + 1];
	char hc[SHA256_HEX_LEN + 1], hd[SHA256_HEX_LEN + 1];
	char direct[SHA256_HEX_LEN + 1];
	char *text;

	(void)state;
	crypto_json_hash(ha, a);
	crypto_json_hash(hb, b);
	crypto_json_hash(hc, c);
	crypto_json_hash(hd, d);
	assert_string_equal(ha, hb);
	assert_string_not_equal(ha, hc);
	assert_string_not_equal(ha, hd);
	text = crypto_canonical_json(b);
	crypto_sha256_hex(direct, text, strlen(text));
	assert_string_equal(ha, direct);
	free(text);
	json_decref(a);
	json_decref(b);
	json_decref(c);
	json_decref(d);
}

/* crypto_equal: equal, different content, different length, empty. */
static void test_crypto_equal(void **state)
{
	(void)state;
	assert_int_equal(crypto_equal("s3cret-token", "s3cret-token"), 1);
	assert_int_equal(crypto_equal("s3cret-token", "s3cret-tokem"), 0);
	assert_int_equal(crypto_equal("s3cret-token", "S3cret-token"), 0);
	assert_int_equal(crypto_equal("abc", "abcd"), 0);
	assert_int_equal(crypto_equal("abcd", "abc"), 0);
	assert_int_equal(crypto_equal("", ""), 1);
	assert_int_equal(crypto_equal("", "a"), 0);
	assert_int_equal(crypto_equal("a", ""), 0);
}

/* Random hex has 2n lower-case hex digits and two draws differ. */
static void test_crypto_random_hex(void **state)
{
	char a[2 * 32 + 1], b[2 * 32 + 1];
	char one[2 * 1 + 1];

	(void)state;
	memset(a, 'Z', sizeof(a));
	assert_int_equal(crypto_random_hex(a, 32), 0);
	assert_int_equal(strlen(a), 64);
	assert_int_equal(strspn(a, "0123456789abcdef"), 64);
	assert_int_equal(crypto_random_hex(b, 32), 0);
	assert_int_equal(strspn(b, "0123456789abcdef"), 64);
	assert_string_not_equal(a, b);
	memset(one, 'Z', sizeof(one));
	assert_int_equal(crypto_random_hex(one, 1), 0);
	assert_int_equal(strlen(one), 2);
	assert_int_equal(strspn(one, "0123456789abcdef"), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crypto_sha256_vectors),
		cmocka_unit_test(test_crypto_hmac_rfc4231),
		cmocka_unit_test(test_crypto_canonical_sorts_every_depth),
		cmocka_unit_test(test_crypto_canonical_compact),
		cmocka_unit_test(test_crypto_json_hash_equal_specs),
		cmocka_unit_test(test_crypto_equal),
		cmocka_unit_test(test_crypto_random_hex),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
