/*
 * test_template.c
 *	  Unit tests of the {{…}} template parser (src/core/template.c).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fl_alloc.h"
#include "core/template.h"
#include "unit.h"

static char errbuf[256];
static char descbuf[1 << 16];

/*
 * Describe a parsed template compactly: T(text) for text, R(a/b/c) for a
 * reference, R(a/b|default) when it has a default.
 */
static const char *
describe(const fl_template *t)
{
	size_t		n = 0;

	descbuf[0] = '\0';
	for (int i = 0; i < t->nsegs; i++)
	{
		const fl_segment *seg = &t->segs[i];

		if (seg->kind == FL_SEG_TEXT)
			n += snprintf(descbuf + n, sizeof(descbuf) - n, "T(%s)", seg->text);
		else
		{
			n += snprintf(descbuf + n, sizeof(descbuf) - n, "R(");
			for (int j = 0; j < seg->npath; j++)
				n += snprintf(descbuf + n, sizeof(descbuf) - n, "%s%s",
							  j ? "/" : "", seg->path[j]);
			if (seg->has_default)
				n += snprintf(descbuf + n, sizeof(descbuf) - n, "|%s", seg->deflt);
			n += snprintf(descbuf + n, sizeof(descbuf) - n, ")");
		}
		if (n >= sizeof(descbuf))
			break;
	}
	return descbuf;
}

/* Parse a NUL-terminated string and describe it ("ERR: msg" on failure). */
static const char *
parse_desc(const char *s)
{
	fl_template t;
	static char result[sizeof(descbuf)];

	if (!fl_template_parse(s, strlen(s), &t, errbuf, sizeof(errbuf)))
	{
		snprintf(result, sizeof(result), "ERR: %s", errbuf);
		return result;
	}
	snprintf(result, sizeof(result), "%s", describe(&t));
	fl_template_free(&t);
	return result;
}

/* Parse s[0..len) expecting failure whose message contains `want`. */
static void
check_error_len(const char *s, size_t len, const char *want, int line)
{
	fl_template t;
	bool		ok;

	memset(&t, 0x5a, sizeof(t));
	errbuf[0] = '\0';
	ok = fl_template_parse(s, len, &t, errbuf, sizeof(errbuf));
	unit_checks++;
	if (ok || strstr(errbuf, want) == NULL)
	{
		unit_failures++;
		fprintf(stderr, "%s:%d: expected error containing \"%s\", got %s \"%s\"\n",
				__FILE__, line, want, ok ? "success" : "error", errbuf);
	}
	if (ok)
		fl_template_free(&t);
	else
	{
		/* a failed parse leaves an empty, freeable template */
		CHECK(t.segs == NULL && t.nsegs == 0 && !t.has_refs && !t.single_ref);
		fl_template_free(&t);
	}
}

#define CHECK_ERR(s, want) check_error_len((s), strlen(s), (want), __LINE__)
#define CHECK_ERR_LEN(s, len, want) check_error_len((s), (len), (want), __LINE__)

/* Exactly one reference and nothing else keeps the value's JSON type. */
static void
test_single_ref(void)
{
	fl_template t;

	CHECK(fl_template_parse("{{a}}", 5, &t, errbuf, sizeof(errbuf)));
	CHECK(t.nsegs == 1);
	CHECK(t.single_ref);
	CHECK(t.has_refs);
	CHECK(t.segs[0].kind == FL_SEG_REF);
	CHECK(t.segs[0].npath == 1);
	CHECK_STR(t.segs[0].path[0], "a");
	CHECK_STR(t.segs[0].raw, "a");
	CHECK(!t.segs[0].has_default);
	CHECK(t.segs[0].deflt == NULL);
	CHECK(t.segs[0].text == NULL);
	fl_template_free(&t);
	CHECK(t.segs == NULL && t.nsegs == 0);

	CHECK(fl_template_parse("{{ trigger.payload.x }}", 23, &t, errbuf, sizeof(errbuf)));
	CHECK(t.single_ref);
	CHECK(t.segs[0].npath == 3);
	CHECK_STR(t.segs[0].path[0], "trigger");
	CHECK_STR(t.segs[0].path[1], "payload");
	CHECK_STR(t.segs[0].path[2], "x");
	CHECK_STR(t.segs[0].raw, "trigger.payload.x");
	fl_template_free(&t);

	CHECK_STR(parse_desc("{{variables.name}}"), "R(variables/name)");
	CHECK_STR(parse_desc("{{name}}"), "R(name)");
	CHECK_STR(parse_desc("{{loop.item}}"), "R(loop/item)");
	CHECK_STR(parse_desc("{{execution.id}}"), "R(execution/id)");
	CHECK_STR(parse_desc("{{credentials.smtp}}"), "R(credentials/smtp)");
	CHECK_STR(parse_desc("{{http-1.body.items.0.id}}"), "R(http-1/body/items/0/id)");
	CHECK_STR(parse_desc("{{$weird@key:1/x}}"), "R($weird@key:1/x)");

	/* surrounding whitespace or a second reference is text mode */
	CHECK(fl_template_parse(" {{a}}", 6, &t, errbuf, sizeof(errbuf)));
	CHECK(!t.single_ref && t.has_refs && t.nsegs == 2);
	fl_template_free(&t);
	CHECK(fl_template_parse("{{a}} ", 6, &t, errbuf, sizeof(errbuf)));
	CHECK(!t.single_ref && t.has_refs && t.nsegs == 2);
	fl_template_free(&t);
	CHECK(fl_template_parse("{{a}}{{b}}", 10, &t, errbuf, sizeof(errbuf)));
	CHECK(!t.single_ref && t.has_refs && t.nsegs == 2);
	fl_template_free(&t);
	CHECK(fl_template_parse("{{a}}\n", 6, &t, errbuf, sizeof(errbuf)));
	CHECK(!t.single_ref);
	fl_template_free(&t);
	/* with a default it is still a single reference */
	CHECK(fl_template_parse("{{a | 0}}", 9, &t, errbuf, sizeof(errbuf)));
	CHECK(t.single_ref);
	fl_template_free(&t);
}

/* Text around, between and without references. */
static void
test_text(void)
{
	fl_template t;

	CHECK(fl_template_parse("", 0, &t, errbuf, sizeof(errbuf)));
	CHECK(t.nsegs == 0 && t.segs == NULL && !t.has_refs && !t.single_ref);
	fl_template_free(&t);
	CHECK(fl_template_parse(NULL, 0, &t, errbuf, sizeof(errbuf)));
	CHECK(t.nsegs == 0);
	fl_template_free(&t);

	CHECK(fl_template_parse("hello", 5, &t, errbuf, sizeof(errbuf)));
	CHECK(t.nsegs == 1 && !t.has_refs && !t.single_ref);
	CHECK(t.segs[0].kind == FL_SEG_TEXT);
	CHECK_STR(t.segs[0].text, "hello");
	CHECK(t.segs[0].text_len == 5);
	CHECK(t.segs[0].path == NULL && t.segs[0].npath == 0);
	fl_template_free(&t);

	CHECK_STR(parse_desc("Hello {{name}}, you owe {{amount}}!"),
			  "T(Hello )R(name)T(, you owe )R(amount)T(!)");
	CHECK_STR(parse_desc(" {{a}}"), "T( )R(a)");
	CHECK_STR(parse_desc("{{a}} "), "R(a)T( )");
	CHECK_STR(parse_desc("{{a}}{{b}}"), "R(a)R(b)");
	CHECK_STR(parse_desc("x{{a}}y{{b}}z"), "T(x)R(a)T(y)R(b)T(z)");
	CHECK_STR(parse_desc("{\"id\": {{trigger.payload.id}}}"),
			  "T({\"id\": )R(trigger/payload/id)T(})");

	/* lone braces are text */
	CHECK_STR(parse_desc("}}"), "T(}})");
	CHECK_STR(parse_desc("{"), "T({)");
	CHECK_STR(parse_desc("}"), "T(})");
	CHECK_STR(parse_desc("{a}"), "T({a})");
	CHECK_STR(parse_desc("{ {a} }"), "T({ {a} })");
	CHECK_STR(parse_desc("a { b } c }}"), "T(a { b } c }})");
	CHECK_STR(parse_desc("{{a}}}"), "R(a)T(})");
	CHECK_STR(parse_desc("{{a}}}}"), "R(a)T(}})");
	CHECK_STR(parse_desc("x{"), "T(x{)");
	CHECK_STR(parse_desc("{x{"), "T({x{)");

	/* a length shorter than the string is respected */
	CHECK(fl_template_parse("{{a}}xyz", 5, &t, errbuf, sizeof(errbuf)));
	CHECK(t.single_ref);
	fl_template_free(&t);
	CHECK(fl_template_parse("ab{{c}}", 3, &t, errbuf, sizeof(errbuf)));
	CHECK(t.nsegs == 1 && !t.has_refs);
	CHECK_STR(t.segs[0].text, "ab{");
	fl_template_free(&t);
	CHECK_ERR_LEN("{{a}}", 4, "unterminated \"{{\" at offset 0");
	CHECK_ERR_LEN("{{a}}", 3, "unterminated \"{{\" at offset 0");
}

/* \{{ is a literal {{; other backslashes stay; text runs merge. */
static void
test_escapes(void)
{
	fl_template t;

	CHECK(fl_template_parse("\\{{a}}", 6, &t, errbuf, sizeof(errbuf)));
	CHECK(t.nsegs == 1 && !t.has_refs && !t.single_ref);
	CHECK_STR(t.segs[0].text, "{{a}}");
	CHECK(t.segs[0].text_len == 5);
	fl_template_free(&t);

	CHECK_STR(parse_desc("x \\{{a}} {{b}}"), "T(x {{a}} )R(b)");
	CHECK_STR(parse_desc("a\\{{b\\{{c"), "T(a{{b{{c)");
	CHECK_STR(parse_desc("\\{{{{a}}"), "T({{)R(a)");
	CHECK_STR(parse_desc("\\{{{a}}"), "T({{{a}})");
	CHECK_STR(parse_desc("\\\\{{a}}"), "T(\\{{a}})");
	CHECK_STR(parse_desc("\\{"), "T(\\{)");
	CHECK_STR(parse_desc("\\{x{"), "T(\\{x{)");
	CHECK_STR(parse_desc("a\\b"), "T(a\\b)");
	CHECK_STR(parse_desc("end\\"), "T(end\\)");
	CHECK_STR(parse_desc("\\}}"), "T(\\}})");
	CHECK_STR(parse_desc("C:\\path\\to {{file}}"), "T(C:\\path\\to )R(file)");
	CHECK_STR(parse_desc("{{a}}\\{{b}}"), "R(a)T({{b}})");

	/* text merged across escapes: one segment, text_len right */
	CHECK(fl_template_parse("p\\{{q}}r\\{{", 11, &t, errbuf, sizeof(errbuf)));
	CHECK(t.nsegs == 1);
	CHECK_STR(t.segs[0].text, "p{{q}}r{{");
	CHECK(t.segs[0].text_len == 9);
	fl_template_free(&t);
}

/* {{path | default}}: split at the first |, default trimmed, raw text kept. */
static void
test_defaults(void)
{
	fl_template t;

	CHECK(fl_template_parse("{{ a.b | hello world }}", 23, &t, errbuf, sizeof(errbuf)));
	CHECK(t.single_ref);
	CHECK(t.segs[0].has_default);
	CHECK_STR(t.segs[0].deflt, "hello world");
	CHECK(t.segs[0].deflt_len == 11);
	CHECK_STR(t.segs[0].raw, "a.b");
	CHECK(t.segs[0].npath == 2);
	fl_template_free(&t);

	/* empty default */
	CHECK(fl_template_parse("{{a|}}", 6, &t, errbuf, sizeof(errbuf)));
	CHECK(t.segs[0].has_default);
	CHECK_STR(t.segs[0].deflt, "");
	CHECK(t.segs[0].deflt_len == 0);
	fl_template_free(&t);
	CHECK(fl_template_parse("{{a |  }}", 9, &t, errbuf, sizeof(errbuf)));
	CHECK(t.segs[0].has_default);
	CHECK_STR(t.segs[0].deflt, "");
	CHECK(t.segs[0].deflt_len == 0);
	fl_template_free(&t);

	CHECK_STR(parse_desc("{{a|b}}"), "R(a|b)");
	CHECK_STR(parse_desc("{{a | 42}}"), "R(a|42)");
	CHECK_STR(parse_desc("{{a | -1.5e3}}"), "R(a|-1.5e3)");
	CHECK_STR(parse_desc("{{a | null}}"), "R(a|null)");
	CHECK_STR(parse_desc("{{a | true}}"), "R(a|true)");
	CHECK_STR(parse_desc("{{a | n/a}}"), "R(a|n/a)");
	CHECK_STR(parse_desc("{{a | x | y}}"), "R(a|x | y)");
	CHECK_STR(parse_desc("{{a||}}"), "R(a||)");
	CHECK_STR(parse_desc("{{a | x}y}}"), "R(a|x}y)");
	CHECK_STR(parse_desc("{{a | x{y}}"), "R(a|x{y)");
	CHECK_STR(parse_desc("{{a | 5\" screen}}"), "R(a|5\" screen)");
	CHECK_STR(parse_desc("{{a | it's }} done"), "R(a|it's)T( done)");
	CHECK_STR(parse_desc("{{a|b}}c"), "R(a|b)T(c)");
	CHECK_STR(parse_desc("Dear {{ user.name | customer }},"),
			  "T(Dear )R(user/name|customer)T(,)");

	/* JSON defaults keep their quotes, strings and nesting */
	CHECK_STR(parse_desc("{{a | \"x\"}}"), "R(a|\"x\")");
	CHECK_STR(parse_desc("{{a | \"with }} inside\"}}"), "R(a|\"with }} inside\")");
	CHECK_STR(parse_desc("{{a | \"esc \\\" }}\"}}"), "R(a|\"esc \\\" }}\")");
	CHECK_STR(parse_desc("{{a | {\"b\":1}}}"), "R(a|{\"b\":1})");
	CHECK_STR(parse_desc("{{a|{\"b\":{\"c\":[1,{\"d\":2}]}}}}"),
			  "R(a|{\"b\":{\"c\":[1,{\"d\":2}]}})");
	CHECK_STR(parse_desc("{{a | {\"s\":\"}}\"} }}"), "R(a|{\"s\":\"}}\"})");
	CHECK_STR(parse_desc("{{a | {}}}"), "R(a|{})");
	CHECK_STR(parse_desc("{{a | []}}"), "R(a|[])");
	CHECK_STR(parse_desc("{{a | [1, 2, {\"x\": [3]}] }}"), "R(a|[1, 2, {\"x\": [3]}])");
	CHECK_STR(parse_desc("{{a|{\"x\":1}}} tail"), "R(a|{\"x\":1})T( tail)");
	CHECK_STR(parse_desc("{{a | [1]] }}"), "R(a|[1]])");
	/* a default is never read as a template */
	CHECK_STR(parse_desc("{{a | {{b}}}}"), "R(a|{{b}})");
	CHECK_STR(parse_desc("{{a | \"{{b}}\"}}"), "R(a|\"{{b}}\")");

	/* default with unicode */
	CHECK_STR(parse_desc("{{a | ünïcödé ✓}}"), "R(a|ünïcödé ✓)");

	/* JSON-looking defaults must balance */
	CHECK_ERR("{{a | {oops}}", "unterminated \"{{\" at offset 0");
	CHECK_ERR("{{a | \"open}}", "unterminated \"{{\" at offset 0");
	CHECK_ERR("{{a | [1}}", "unterminated \"{{\" at offset 0");
	CHECK_ERR("{{a|{}}", "unterminated \"{{\" at offset 0");
	CHECK_ERR("x{{a | \"\\", "unterminated \"{{\" at offset 1");
}

/* Bracket indexes and quoted keys. */
static void
test_brackets(void)
{
	fl_template t;

	CHECK_STR(parse_desc("{{a[0].b}}"), "R(a/0/b)");
	CHECK_STR(parse_desc("{{a.0.b}}"), "R(a/0/b)");
	CHECK_STR(parse_desc("{{a[0][1]}}"), "R(a/0/1)");
	CHECK_STR(parse_desc("{{a.b[12].c[3]}}"), "R(a/b/12/c/3)");
	CHECK_STR(parse_desc("{{ a [ 12 ] . b }}"), "R(a/12/b)");
	CHECK_STR(parse_desc("{{a[007]}}"), "R(a/007)");
	CHECK_STR(parse_desc("{{a[\"x y\"]}}"), "R(a/x y)");
	CHECK_STR(parse_desc("{{a['x y']}}"), "R(a/x y)");
	CHECK_STR(parse_desc("{{a[\"k.e|y}}\"]}}"), "R(a/k.e|y}})");
	CHECK_STR(parse_desc("{{a['it\\'s']}}"), "R(a/it's)");
	CHECK_STR(parse_desc("{{a[\"it's\"]}}"), "R(a/it's)");
	CHECK_STR(parse_desc("{{a[\"q\\\"uote\"]}}"), "R(a/q\"uote)");
	CHECK_STR(parse_desc("{{a[\"back\\\\slash\"]}}"), "R(a/back\\slash)");
	CHECK_STR(parse_desc("{{[\"node 1\"].output}}"), "R(node 1/output)");
	CHECK_STR(parse_desc("{{[\"http.1\"][0]}}"), "R(http.1/0)");
	CHECK_STR(parse_desc("{{[0]}}"), "R(0)");
	CHECK_STR(parse_desc("{{a[\"x|y\"] | d}}"), "R(a/x|y|d)");
	CHECK_STR(parse_desc("{{a[\" \"]}}"), "R(a/ )");
	CHECK_STR(parse_desc("{{a[\"日本\"].ü}}"), "R(a/日本/ü)");

	CHECK(fl_template_parse("{{ items[0].name }}", 19, &t, errbuf, sizeof(errbuf)));
	CHECK(t.single_ref);
	CHECK_STR(t.segs[0].raw, "items[0].name");
	CHECK(t.segs[0].npath == 3);
	fl_template_free(&t);
	CHECK(fl_template_parse("{{a[\"x\"] }}", 11, &t, errbuf, sizeof(errbuf)));
	CHECK_STR(t.segs[0].raw, "a[\"x\"]");
	fl_template_free(&t);
}

/* Every kind of error, with its byte offset. */
static void
test_errors(void)
{
	fl_template t;

	/* unterminated */
	CHECK_ERR("{{", "unterminated \"{{\" at offset 0");
	CHECK_ERR("{{a", "unterminated \"{{\" at offset 0");
	CHECK_ERR("x {{a", "unterminated \"{{\" at offset 2");
	CHECK_ERR("{{a}", "unterminated \"{{\" at offset 0");
	CHECK_ERR("{{a.", "unterminated \"{{\" at offset 0");
	CHECK_ERR("{{ ", "unterminated \"{{\" at offset 0");
	CHECK_ERR("{{a|b", "unterminated \"{{\" at offset 0");
	CHECK_ERR("{{a|b}", "unterminated \"{{\" at offset 0");
	CHECK_ERR("{{a[0", "unterminated \"{{\" at offset 0");
	CHECK_ERR("{{a[0]", "unterminated \"{{\" at offset 0");
	CHECK_ERR("{{a[", "unterminated \"{{\" at offset 0");
	CHECK_ERR("{{a[\"x", "unterminated \"{{\" at offset 0");
	CHECK_ERR("{{a[\"x\\", "unterminated \"{{\" at offset 0");
	CHECK_ERR("{{a}} and {{b", "unterminated \"{{\" at offset 10");
	CHECK_ERR("{{a | {\"x\":1}", "unterminated \"{{\" at offset 0");

	/* empty path */
	CHECK_ERR("{{}}", "empty path in \"{{ }}\" at offset 0");
	CHECK_ERR("{{ }}", "empty path in \"{{ }}\" at offset 0");
	CHECK_ERR("{{\t\n }}", "empty path in \"{{ }}\" at offset 0");
	CHECK_ERR("ab{{ }}", "empty path in \"{{ }}\" at offset 2");
	CHECK_ERR("{{ | x }}", "empty path in \"{{ }}\" at offset 0");
	CHECK_ERR("{{|}}", "empty path in \"{{ }}\" at offset 0");

	/* empty segment */
	CHECK_ERR("{{a..b}}", "empty path segment at offset 4");
	CHECK_ERR("{{.a}}", "empty path segment at offset 2");
	CHECK_ERR("{{ .a }}", "empty path segment at offset 3");
	CHECK_ERR("{{a.}}", "empty path segment at offset 4");
	CHECK_ERR("{{ a. }}", "empty path segment at offset 6");
	CHECK_ERR("{{a.[0]}}", "empty path segment at offset 4");
	CHECK_ERR("{{a.|x}}", "empty path segment at offset 4");
	CHECK_ERR("{{a. .b}}", "empty path segment at offset 5");
	CHECK_ERR("{{a[\"\"]}}", "empty path segment at offset 3");
	CHECK_ERR("{{a['']}}", "empty path segment at offset 3");

	/* malformed index */
	CHECK_ERR("{{a[x]}}", "malformed index at offset 4: expected a number or a quoted key");
	CHECK_ERR("{{a[]}}", "malformed index at offset 4");
	CHECK_ERR("{{a[-1]}}", "malformed index at offset 4");
	CHECK_ERR("{{a[1}}", "malformed index at offset 5: expected \"]\"");
	CHECK_ERR("{{a[1 2]}}", "malformed index at offset 6");
	CHECK_ERR("{{a[\"x\"y]}}", "malformed index at offset 7");
	CHECK_ERR("{{a[0]b}}", "malformed index at offset 6");
	CHECK_ERR("{{a[0] b}}", "malformed index at offset 7");
	CHECK_ERR("{{a[0]}b}}", "malformed index at offset 6");
	CHECK_ERR("{{a[[0]]}}", "malformed index at offset 4");

	/* characters that cannot be in a path */
	CHECK_ERR("{{a]}}", "unexpected character ']' in path at offset 3");
	CHECK_ERR("{{]}}", "unexpected character ']' in path at offset 2");
	CHECK_ERR("{{a{b}}", "unexpected character '{' in path at offset 3");
	CHECK_ERR("{{{a}}}", "unexpected character '{' in path at offset 2");
	CHECK_ERR("{{a\"b}}", "unexpected character '\"' in path at offset 3");
	CHECK_ERR("{{a}b}}", "unexpected character '}' in path at offset 3");
	CHECK_ERR("{{a\tb}}", "unexpected byte 0x09 in path at offset 3");
	CHECK_ERR("{{a.b\x01}}", "unexpected byte 0x01 in path at offset 5");
	CHECK_ERR("{{a b{{c}}", "unexpected character '{' in path at offset 5");

	/* embedded NUL */
	CHECK_ERR_LEN("\0", 1, "embedded NUL byte at offset 0");
	CHECK_ERR_LEN("a\0b", 3, "embedded NUL byte at offset 1");
	CHECK_ERR_LEN("{{a}}\0", 6, "embedded NUL byte at offset 5");
	CHECK_ERR_LEN("{{a\0}}", 6, "embedded NUL byte at offset 3");
	CHECK_ERR_LEN("{{\0}}", 5, "embedded NUL byte at offset 2");
	CHECK_ERR_LEN("{{a.\0}}", 7, "embedded NUL byte at offset 4");
	CHECK_ERR_LEN("{{a |\0}}", 8, "embedded NUL byte at offset 5");
	CHECK_ERR_LEN("{{a|x\0}}", 8, "embedded NUL byte at offset 5");
	CHECK_ERR_LEN("{{a|{\0}}}", 9, "embedded NUL byte at offset 5");
	CHECK_ERR_LEN("{{a|\"\\\0\"}}", 10, "embedded NUL byte at offset 6");
	CHECK_ERR_LEN("{{a[\"\0\"]}}", 10, "embedded NUL byte at offset 5");
	CHECK_ERR_LEN("{{a[\"\\\0\"]}}", 11, "embedded NUL byte at offset 6");
	CHECK_ERR_LEN("{{a[\0]}}", 8, "embedded NUL byte at offset 4");
	CHECK_ERR_LEN("{{a[0\0]}}", 9, "embedded NUL byte at offset 5");
	CHECK_ERR_LEN("\\{{\0", 4, "embedded NUL byte at offset 3");

	/* the first error wins */
	CHECK_ERR("{{a..b}} {{", "empty path segment at offset 4");

	/* errors after earlier good references free those too (valgrind/ASan) */
	CHECK_ERR("x {{a}} y {{b[\"k\"].c | {\"d\":1}}} z {{c[", "unterminated \"{{\" at offset 35");

	/* no error buffer, or a tiny one */
	CHECK(!fl_template_parse("{{", 2, &t, NULL, 0));
	CHECK(t.segs == NULL && t.nsegs == 0);
	CHECK(!fl_template_parse("{{", 2, &t, errbuf, 0));
	{
		char		tiny[8];

		memset(tiny, 'x', sizeof(tiny));
		CHECK(!fl_template_parse("{{", 2, &t, tiny, sizeof(tiny)));
		CHECK(strlen(tiny) == sizeof(tiny) - 1);
		CHECK(strncmp(tiny, "untermi", 7) == 0);
	}

	/* a success clears an earlier message */
	strcpy(errbuf, "stale");
	CHECK(fl_template_parse("a", 1, &t, errbuf, sizeof(errbuf)));
	CHECK(errbuf[0] == '\0');
	fl_template_free(&t);

	/* freeing twice, or NULL, is harmless */
	fl_template_free(&t);
	fl_template_free(NULL);
}

/* Spaces inside {{ }}, around dots and brackets, are trimmed. */
static void
test_whitespace(void)
{
	fl_template t;

	CHECK(fl_template_parse("{{\t a.b \n}}", 11, &t, errbuf, sizeof(errbuf)));
	CHECK(t.single_ref);
	CHECK_STR(t.segs[0].raw, "a.b");
	CHECK(t.segs[0].npath == 2);
	fl_template_free(&t);

	CHECK_STR(parse_desc("{{a . b}}"), "R(a/b)");
	CHECK_STR(parse_desc("{{   a   }}"), "R(a)");
	CHECK_STR(parse_desc("{{a\r\n|\r\n b \r\n}}"), "R(a|b)");
	CHECK_STR(parse_desc("{{first name}}"), "R(first name)");
	CHECK_STR(parse_desc("{{ a . first name . x }}"), "R(a/first name/x)");
	CHECK_STR(parse_desc("{{a|  spaced  out  }}"), "R(a|spaced  out)");

	CHECK(fl_template_parse("{{ a . b | c }}", 15, &t, errbuf, sizeof(errbuf)));
	CHECK_STR(t.segs[0].raw, "a . b");
	fl_template_free(&t);
}

/* UTF-8 passes through untouched, in text, paths and defaults. */
static void
test_unicode(void)
{
	fl_template t;
	const char *s = "Grüße, {{ user.name }} — 日本語 ✓ 🎉";

	CHECK_STR(parse_desc(s), "T(Grüße, )R(user/name)T( — 日本語 ✓ 🎉)");
	CHECK_STR(parse_desc("{{ données.clé }}"), "R(données/clé)");
	CHECK_STR(parse_desc("{{😀.🎉[0]}}"), "R(😀/🎉/0)");

	CHECK(fl_template_parse(s, strlen(s), &t, errbuf, sizeof(errbuf)));
	CHECK(t.nsegs == 3);
	CHECK(t.segs[0].text_len == strlen("Grüße, "));
	CHECK(t.segs[2].text_len == strlen(" — 日本語 ✓ 🎉"));
	fl_template_free(&t);

	/* arbitrary high bytes (not valid UTF-8) are still just bytes */
	CHECK_STR(parse_desc("\xff\xfe{{\xc3\x28}}\x80"), "T(\xff\xfe)R(\xc3\x28)T(\x80)");
}

/* Large inputs: many references, long text, long paths and defaults. */
static void
test_long(void)
{
	fl_template t;
	size_t		n = 1000000;
	char	   *s = malloc(n + 1);
	size_t		len = 0;
	int			nrefs = 0;

	/* long plain text */
	memset(s, 'x', n);
	s[n] = '\0';
	CHECK(fl_template_parse(s, n, &t, errbuf, sizeof(errbuf)));
	CHECK(t.nsegs == 1 && t.segs[0].text_len == n);
	fl_template_free(&t);

	/* ten thousand references with text between them */
	for (int i = 0; i < 10000; i++)
	{
		len += sprintf(s + len, "v%d={{node%d.out[%d]}}; ", i, i, i);
		nrefs++;
	}
	CHECK(fl_template_parse(s, len, &t, errbuf, sizeof(errbuf)));
	CHECK(t.nsegs == 2 * nrefs + 1);
	CHECK(t.has_refs && !t.single_ref);
	CHECK_STR(t.segs[1].path[0], "node0");
	CHECK_STR(t.segs[2 * 9999 + 1].path[0], "node9999");
	CHECK_STR(t.segs[2 * 9999 + 1].path[2], "9999");
	CHECK_STR(t.segs[2 * 9999 + 1].raw, "node9999.out[9999]");
	CHECK_STR(t.segs[2 * 9999 + 2].text, "; ");
	fl_template_free(&t);

	/* a path with 20000 segments */
	len = 0;
	len += sprintf(s + len, "{{r");
	for (int i = 0; i < 10000; i++)
		len += sprintf(s + len, ".k[%d]", i % 10);
	len += sprintf(s + len, "}}");
	CHECK(fl_template_parse(s, len, &t, errbuf, sizeof(errbuf)));
	CHECK(t.single_ref && t.segs[0].npath == 20001);
	CHECK_STR(t.segs[0].path[20000], "9");
	CHECK(strlen(t.segs[0].raw) == len - 4);
	fl_template_free(&t);

	/* a long JSON default, nested deep */
	len = 0;
	len += sprintf(s + len, "{{a | ");
	for (int i = 0; i < 5000; i++)
		len += sprintf(s + len, "[{\"k\":");
	len += sprintf(s + len, "\"}}\"");
	for (int i = 0; i < 5000; i++)
		len += sprintf(s + len, "}]");
	len += sprintf(s + len, "}}");
	CHECK(fl_template_parse(s, len, &t, errbuf, sizeof(errbuf)));
	CHECK(t.single_ref && t.segs[0].has_default);
	CHECK(t.segs[0].deflt_len == len - 8);
	fl_template_free(&t);

	/* many escapes merge into one text */
	len = 0;
	for (int i = 0; i < 30000; i++)
		len += sprintf(s + len, "\\{{");
	CHECK(fl_template_parse(s, len, &t, errbuf, sizeof(errbuf)));
	CHECK(t.nsegs == 1 && t.segs[0].text_len == 60000 && !t.has_refs);
	fl_template_free(&t);

	/* an error deep into a long string reports the right offset */
	memset(s, 'y', 150000);
	memcpy(s + 150000, "{{a..b}}", 8);
	CHECK(!fl_template_parse(s, 150008, &t, errbuf, sizeof(errbuf)));
	CHECK(strstr(errbuf, "empty path segment at offset 150004") != NULL);

	/* unterminated references one after another stay linear (and fail) */
	len = 0;
	for (int i = 0; i < 20000; i++)
		len += sprintf(s + len, "{{a|{");
	CHECK(!fl_template_parse(s, len, &t, errbuf, sizeof(errbuf)));
	CHECK(strstr(errbuf, "unterminated \"{{\" at offset 0") != NULL);

	free(s);
}

/* fl_template_maybe: any "{{" (reference or escape) means "parse me". */
static void
test_maybe(void)
{
	fl_template t;

	CHECK(!fl_template_maybe("", 0));
	CHECK(!fl_template_maybe(NULL, 0));
	CHECK(!fl_template_maybe("{", 1));
	CHECK(!fl_template_maybe("hello", 5));
	CHECK(!fl_template_maybe("a{b{c}", 6));
	CHECK(!fl_template_maybe("{ {", 3));
	CHECK(!fl_template_maybe("}}", 2));
	CHECK(!fl_template_maybe("{\0{", 3));
	CHECK(fl_template_maybe("{{", 2));
	CHECK(fl_template_maybe("x{{", 3));
	CHECK(fl_template_maybe("{{a}}", 5));
	CHECK(fl_template_maybe("a{b{{c", 6));
	CHECK(fl_template_maybe("{{{", 3));
	/* an escape needs parsing too: the backslash must go */
	CHECK(fl_template_maybe("\\{{a}}", 6));
	/* the length bounds the scan */
	CHECK(!fl_template_maybe("{{", 1));
	CHECK(!fl_template_maybe("ab{{", 3));
	CHECK(fl_template_maybe("ab{{", 4));

	/* false means the string parses to itself */
	CHECK(fl_template_parse("a{b}c\\d}}", 9, &t, errbuf, sizeof(errbuf)));
	CHECK(t.nsegs == 1 && !t.has_refs);
	CHECK_STR(t.segs[0].text, "a{b}c\\d}}");
	fl_template_free(&t);
}

int
main(void)
{
	test_single_ref();
	test_text();
	test_escapes();
	test_defaults();
	test_brackets();
	test_errors();
	test_whitespace();
	test_unicode();
	test_long();
	test_maybe();
	UNIT_DONE();
}
