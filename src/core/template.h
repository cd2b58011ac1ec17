/*
 * template.h
 *	  Parsing of {{…}} templates in node configuration strings.
 *
 * A template is a sequence of literal text and references.  `\{{` is a
 * literal `{{`; spaces inside `{{ }}` are trimmed; `{{path | default}}`
 * carries the default's raw text (the caller decides JSON or text).
 * Paths split on `.` and `[n]`: `a.b[0].c` and `a.b.0.c` give a, b, 0, c.
 */
#ifndef FL_TEMPLATE_H
#define FL_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum fl_seg_kind
{
	FL_SEG_TEXT,
	FL_SEG_REF
} fl_seg_kind;

typedef struct fl_segment
{
	fl_seg_kind kind;
	/* FL_SEG_TEXT: literal text, escapes already removed */
	char	   *text;
	size_t		text_len;
	/* FL_SEG_REF */
	char	  **path;			/* NUL-terminated segments */
	int			npath;
	char	   *raw;			/* the trimmed path text, for messages */
	bool		has_default;
	char	   *deflt;			/* trimmed default text */
	size_t		deflt_len;
} fl_segment;

typedef struct fl_template
{
	fl_segment *segs;
	int			nsegs;
	bool		single_ref;		/* the whole string is exactly one {{…}} */
	bool		has_refs;
} fl_template;

/*
 * Quick test: could this string hold a template (an unescaped "{{")?
 * Strings without one are data and need no parsing.
 */
extern bool fl_template_maybe(const char *s, size_t len);

/*
 * Parse s[0..len).  On success returns true and fills *out (memory from
 * fl_alloc, released by fl_template_free).  On failure returns false and
 * writes a message naming the problem and its offset into errbuf.
 * Failures: unterminated "{{", empty path, empty path segment ("a..b"),
 * malformed index ("a[x]", "a[1"), embedded NUL.
 */
extern bool fl_template_parse(const char *s, size_t len, fl_template *out,
							  char *errbuf, size_t errlen);
extern void fl_template_free(fl_template *t);

#endif
