/* Unit tests of the gateway's pure parts: signatures, error mapping, kept answers, helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/answers.h"
#include "gateway/errors.h"
#include "gateway/hook_secrets.h"
#include "gateway/path.h"
#include "gateway/ratelimit.h"
#include "gateway/signature.h"
#include "gateway/util.h"
#include "unit.h"

static const char *SIG = "sha256=1698a50bc74d1ff1db85c4e0a5297c2ad9fdba245d5737cdb789e4cc6e098940";

static void
test_signature(void)
{
	uint8_t		b[32];
	int64_t		ts;
	const char *body = "{\"a\":1}";

	/* the vector: python3 hmac.new(b's3cret', b'1700000000.{"a":1}', sha256) */
	CHECK(gw_sig_check("s3cret", "1700000000", SIG, body, strlen(body), 1700000000, 300) == SIG_OK);
	CHECK(gw_sig_check("s3cret", "1700000000", SIG, body, strlen(body), 1700000299, 300) == SIG_OK);
	CHECK(gw_sig_check("s3cret", "1700000000", SIG, body, strlen(body), 1700000301, 300) == SIG_STALE);
	CHECK(gw_sig_check("s3cret", "1700000000", SIG, body, strlen(body), 1699999699, 300) == SIG_STALE);
	CHECK(gw_sig_check("other", "1700000000", SIG, body, strlen(body), 1700000000, 300) == SIG_MISMATCH);
	CHECK(gw_sig_check("s3cret", "1700000000", SIG, "{\"a\":2}", 7, 1700000000, 300) == SIG_MISMATCH);
	CHECK(gw_sig_check("s3cret", "1700000001", SIG, body, strlen(body), 1700000000, 300) == SIG_MISMATCH);
	CHECK(gw_sig_check("s3cret", NULL, SIG, body, strlen(body), 1700000000, 300) == SIG_MISSING);
	CHECK(gw_sig_check("s3cret", "1700000000", NULL, body, strlen(body), 1700000000, 300) == SIG_MISSING);
	/* an empty body is signed as ts + "." */
	CHECK(gw_sig_check("s3cret", "1700000000",
					   "sha256=21948100f1d7a89f3338f6b1106fc4f7a702fbe1493b833a3382f80193bde3fe", "", 0,
					   1700000000, 300) == SIG_OK);
	/* upper-case hex is the same signature */
	CHECK(gw_sig_check("s3cret", "1700000000",
					   "sha256=1698A50BC74D1FF1DB85C4E0A5297C2AD9FDBA245D5737CDB789E4CC6E098940", body, strlen(body),
					   1700000000, 300) == SIG_OK);
	CHECK(!gw_sig_parse("sha1=1698a50bc74d1ff1db85c4e0a5297c2ad9fdba245d5737cdb789e4cc6e098940", b));
	CHECK(!gw_sig_parse("sha256=1698a50bc74d1ff1db85c4e0a5297c2ad9fdba245d5737cdb789e4cc6e09894", b));
	CHECK(!gw_sig_parse("sha256=1698a50bc74d1ff1db85c4e0a5297c2ad9fdba245d5737cdb789e4cc6e0989400", b));
	CHECK(!gw_sig_parse("sha256=zz98a50bc74d1ff1db85c4e0a5297c2ad9fdba245d5737cdb789e4cc6e098940", b));
	CHECK(!gw_sig_parse("", b));
	CHECK(gw_sig_parse_ts("0", &ts) && ts == 0);
	CHECK(gw_sig_parse_ts("1700000000", &ts) && ts == 1700000000);
	CHECK(!gw_sig_parse_ts("", &ts));
	CHECK(!gw_sig_parse_ts("-1", &ts));
	CHECK(!gw_sig_parse_ts("17e8", &ts));
	CHECK(!gw_sig_parse_ts("1234567890123", &ts));
	CHECK(gw_sig_check("s3cret", "17x", SIG, body, strlen(body), 1700000000, 300) == SIG_MALFORMED);
}

static void
test_errors(void)
{
	struct
	{
		const char *st;
		unsigned	status;
	}			cases[] = {
		{"22023", 400}, {"22P02", 400}, {"22003", 400}, {"42704", 404}, {"42501", 403},
		{"55000", 409}, {"54000", 413}, {"28000", 401}, {"23505", 409}, {"08006", 503},
		{"57P01", 503}, {"XX000", 500}, {"42883", 500}, {"", 500}, {NULL, 500}, {"2202", 500},
	};
	char	   *d;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(gw_map_sqlstate(cases[i].st).status == cases[i].status);
	CHECK_STR(gw_map_sqlstate("42704").code, "NOT_FOUND");
	/* a JSON DETAIL (validate() errors, version conflicts) passes through as written */
	d = gw_error_details("22023", "[{\"code\": \"CYCLE\", \"n\": 1.10}]", 400);
	CHECK_STR(d, "[{\"code\": \"CYCLE\", \"n\": 1.10}]");
	free(d);
	d = gw_error_details("22023", "plain \"text\"", 400);
	CHECK_STR(d, "\"plain \\\"text\\\"\"");
	free(d);
	d = gw_error_details("XX000", "internal secret detail", 500);
	CHECK_STR(d, "null");
	free(d);
	d = gw_error_details("22023", "42", 400);
	CHECK_STR(d, "\"42\"");
	free(d);
}

/* PostgreSQL array literals built element by element (webhook batches, feed ids) */
static void
test_array_element(void)
{
	gw_buf		a = {0};

	gw_buf_str(&a, "{");
	gw_buf_array_element(&a, "plain");
	gw_buf_array_element(&a, NULL);
	gw_buf_array_element(&a, "{\"q\": \"a\\\\b\"}");
	gw_buf_array_element(&a, "");
	gw_buf_str(&a, "}");
	CHECK(strcmp(a.data, "{\"plain\",NULL,\"{\\\"q\\\": \\\"a\\\\\\\\b\\\"}\",\"\"}") == 0);
	gw_buf_free(&a);
}

static void
test_util(void)
{
	gw_buf		b = {0};

	CHECK(gw_is_uuid("0e3b6a8e-2f4c-4c7e-9d5a-1b2c3d4e5f60"));
	CHECK(gw_is_uuid("0E3B6A8E-2F4C-4C7E-9D5A-1B2C3D4E5F60"));
	CHECK(!gw_is_uuid("0e3b6a8e-2f4c-4c7e-9d5a-1b2c3d4e5f6"));
	CHECK(!gw_is_uuid("0e3b6a8e2f4c-4c7e-9d5a-1b2c3d4e5f601"));
	CHECK(!gw_is_uuid("0e3b6a8e-2f4c-4c7e-9d5a-1b2c3d4e5f6g"));
	CHECK(!gw_is_uuid(""));
	CHECK(gw_origin_allowed("http://a.example, http://b.example", "http://b.example"));
	CHECK(gw_origin_allowed("http://a.example", "http://a.example"));
	CHECK(!gw_origin_allowed("http://a.example", "http://a.example.evil"));
	CHECK(!gw_origin_allowed("http://a.example.evil", "http://a.example"));
	CHECK(gw_origin_allowed("*", "http://x"));
	CHECK(!gw_origin_allowed("", "http://x"));
	CHECK(gw_list_has("keep-alive, Upgrade", "upgrade", true));
	CHECK(!gw_list_has("keep-alive, Upgrade", "upgrade", false));
	CHECK(!gw_list_has("upgrade-later", "upgrade", true));
	CHECK(gw_list_has(" websocket ", "websocket", false));
	CHECK(!gw_list_has(NULL, "websocket", false));
	gw_buf_json_str(&b, "a\"b\\c\n\x01é");
	CHECK_STR(b.data, "\"a\\\"b\\\\c\\n\\u0001é\"");
	gw_buf_free(&b);
}

static void
test_ratelimit(void)
{
	int			allowed = 0,
				retry = 0;
	char		key[32];

	gw_rate_init(5);			/* 5/s, bursts of 10 */
	for (int i = 0; i < 14; i++)
		allowed += gw_rate_allow("tok-a", 1000, &retry);
	CHECK(allowed == 10);
	CHECK(retry >= 1);
	CHECK(gw_rate_allow("tok-b", 1000, &retry));	/* another key has its own bucket */
	CHECK(!gw_rate_allow("tok-a", 1100, &retry));	/* 0.5 of a request refilled */
	CHECK(gw_rate_allow("tok-a", 1300, &retry));	/* 1.5 */
	CHECK(gw_rate_allow(NULL, 1300, &retry));	/* no token: not limited here */
	/* many keys: the table stays bounded and every new key starts with a full burst */
	for (int i = 0; i < 20000; i++)
	{
		snprintf(key, sizeof(key), "k%d", i);
		if (!gw_rate_allow(key, 2000 + i, &retry))
			allowed = -1;
	}
	CHECK(allowed != -1);
	gw_rate_init(0);
	for (int i = 0; i < 100; i++)
		CHECK(gw_rate_allow("tok-a", 3000, &retry));
}

static void
test_path(void)
{
	char		buf[64];
	char	   *p[4];
	int			n;

	CHECK(gw_path_match("/api/pipelines/:id/execute", "/api/pipelines/abc/execute", buf, sizeof(buf), p, 4, &n));
	CHECK(n == 1);
	CHECK_STR(p[0], "abc");
	CHECK(gw_path_match("/api/workspaces/:id/members/:user", "/api/workspaces/w1/members/bob", buf, sizeof(buf), p, 4, &n));
	CHECK(n == 2);
	CHECK_STR(p[1], "bob");
	CHECK(gw_path_match("/api/pipelines", "/api/pipelines/", buf, sizeof(buf), p, 4, &n));
	CHECK(!gw_path_match("/api/pipelines/:id", "/api/pipelines/", buf, sizeof(buf), p, 4, &n));
	CHECK(!gw_path_match("/api/pipelines/:id", "/api/pipelines//x", buf, sizeof(buf), p, 4, &n));
	CHECK(!gw_path_match("/api/pipelines/:id", "/api/pipelines/a/b", buf, sizeof(buf), p, 4, &n));
	CHECK(!gw_path_match("/api/pipelines", "/api/pipelinesx", buf, sizeof(buf), p, 4, &n));
	CHECK(!gw_path_match("/api/pipelines/:id", "/api/pipelines/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
						 buf, sizeof(buf), p, 4, &n));	/* longer than the buffer */
	CHECK(!gw_path_match("/a/:x/:y", "/a/1/2", buf, sizeof(buf), p, 1, &n));	/* more than max_params */
	CHECK(gw_path_safe("/assets/app.js"));
	CHECK(gw_path_safe("/a..b/c"));
	CHECK(!gw_path_safe("/assets/../secret"));
	CHECK(!gw_path_safe("/.."));
	CHECK(!gw_path_safe("/a//b"));
	CHECK(!gw_path_safe("/a\\b"));
}

static void
test_hook_secrets(void)
{
	const char *a = "0a0c6483-e731-4f0b-b306-f2911992a7f1";
	const char *b = "0a1997a8-a3d6-48f3-93d3-0cb2cf98f001";
	char		id[37];
	char		d[65];
	int			kept = 0;

	CHECK(gw_hook_secret_get(a) == NULL);
	gw_hook_secret_put(a, "s1");
	CHECK_STR(gw_hook_secret_get(a), "s1");
	CHECK(gw_hook_secret_get(b) == NULL);	/* another id */
	CHECK(gw_hook_secret_get("0a0c6483") == NULL);	/* a prefix is no id */
	gw_hook_secret_put(a, "s2");	/* a newer secret replaces the older */
	CHECK_STR(gw_hook_secret_get(a), "s2");
	gw_hook_secret_drop(b);		/* dropping another id leaves it */
	CHECK_STR(gw_hook_secret_get(a), "s2");
	gw_hook_secret_drop(a);
	CHECK(gw_hook_secret_get(a) == NULL);
	gw_hook_secret_put("short", "x");	/* not an id: not kept */
	CHECK(gw_hook_secret_get("short") == NULL);
	/* bounded: many ids share the slots, each lookup answers only its own id's secret */
	for (int i = 0; i < 5000; i++)
	{
		snprintf(id, sizeof(id), "%08x-0000-4000-8000-%012x", i, i);
		gw_hook_secret_put(id, id);
	}
	for (int i = 0; i < 5000; i++)
	{
		const char *s;

		snprintf(id, sizeof(id), "%08x-0000-4000-8000-%012x", i, i);
		s = gw_hook_secret_get(id);
		if (s != NULL)
		{
			CHECK_STR(s, id);
			kept++;
		}
	}
	CHECK(kept > 0 && kept <= GW_HOOK_SECRETS_SLOTS);
	/* sha256("abc"), as the database's encode(sha256(...), 'hex') gives it */
	gw_sha256_hex("abc", d);
	CHECK_STR(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void
test_answers(void)
{
	const gw_answer *a;
	char		key[32];
	char		body[1000];
	gw_answers_stats st;

	CHECK(!gw_answers_enabled());
	gw_answers_put("k", "1.5 alice", "[1]", 3);
	CHECK(gw_answers_get("k") == NULL);	/* a budget of 0 keeps nothing */
	gw_answers_init(64 * 1024);
	CHECK(gw_answers_enabled());
	CHECK(!gw_answers_note_stamp(" alice"));	/* no stamp (not preloaded, recovery) */
	CHECK(!gw_answers_note_stamp(NULL));
	CHECK(!gw_answers_note_stamp("1.x alice"));
	gw_answers_put("k", " alice", "[1]", 3);
	CHECK(gw_answers_get("k") == NULL);
	gw_answers_put("k", "1.5 alice", "[1]", 3);
	a = gw_answers_get("k");
	CHECK(a != NULL && a->len == 3 && strcmp(a->body, "[1]") == 0 && strcmp(a->stamp, "1.5 alice") == 0);
	CHECK(gw_answers_note_stamp("1.5 bob"));	/* the same stamp: still the newest */
	CHECK(gw_answers_get("k") != NULL);
	/* made under an older stamp than one seen since: not kept */
	gw_answers_put("old", "1.4 alice", "[0]", 3);
	CHECK(gw_answers_get("old") == NULL);
	CHECK(!gw_answers_note_stamp("1.4 alice"));
	CHECK(gw_answers_get("k") != NULL);
	/* a newer stamp: everything kept is out of date */
	CHECK(gw_answers_note_stamp("1.6 alice"));
	CHECK(gw_answers_get("k") == NULL);
	gw_answers_put("k", "1.6 alice", "[2]", 3);
	gw_answers_put("k", "1.6 alice", "[3]", 3);	/* replaced, not added */
	st = gw_answers_get_stats();
	CHECK(st.entries == 1 && strcmp(gw_answers_get("k")->body, "[3]") == 0);
	/* another epoch (a server restart) is newer even with a smaller count */
	CHECK(gw_answers_note_stamp("2.1 alice"));
	CHECK(gw_answers_get("k") == NULL);
	/* the budget: least recently used out first; one answer never over a quarter */
	memset(body, 'x', sizeof(body));
	for (int i = 0; i < 200; i++)
	{
		snprintf(key, sizeof(key), "key %d", i);
		gw_answers_put(key, "2.1 alice", body, sizeof(body));
		if (i == 1)
			CHECK(gw_answers_get("key 0") != NULL);	/* used: kept longer */
	}
	st = gw_answers_get_stats();
	CHECK(st.bytes <= 64 * 1024 && st.entries > 10 && st.entries < 64);
	CHECK(gw_answers_get("key 199") != NULL && gw_answers_get("key 1") == NULL);
	{
		char	   *big = calloc(1, 20000);

		memset(big, 'y', 19999);
		gw_answers_put("big", "2.1 alice", big, 19999);
		CHECK(gw_answers_get("big") == NULL);
		free(big);
	}
	gw_answers_shutdown();
	CHECK(gw_answers_get_stats().entries == 0 && gw_answers_get_stats().bytes == 0);
}

int
main(void)
{
	test_answers();
	test_hook_secrets();
	test_path();
	test_ratelimit();
	test_signature();
	test_errors();
	test_util();
	test_array_element();
	UNIT_DONE();
}
