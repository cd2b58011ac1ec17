/*-------------------------------------------------------------------------
 *
 * template.c
 *	  Parsing of {{…}} templates in node configuration strings.
 *
 * A template is literal text with references in it:
 *
 *	  text     := any bytes; "\{{" is a literal "{{" (the backslash goes),
 *				  every other backslash, "{" and "}}" is plain text
 *	  ref      := "{{" ws path ws [ "|" default ] "}}"
 *	  path     := elem ( "." name | index )*
 *	  elem     := name | index
 *	  name     := bytes other than . [ ] | { } " and control characters;
 *				  surrounding whitespace is trimmed, inner spaces are kept
 *	  index    := "[" ws ( digits | quoted ) ws "]"
 *	  quoted   := '"' … '"' or "'" … "'", a backslash takes the next byte
 *				  literally (so a key may hold dots, spaces, "|" or "}}")
 *
 * `a[0].b` and `a.0.b` give the same path a, 0, b; `["node.1"].x` names a
 * root that contains a dot.  The default is everything after the first "|"
 * up to the closing "}}", trimmed.  When it starts with "{", "[" or '"'
 * (a JSON literal), it is scanned with JSON strings and nesting in mind,
 * so `{{a | {"b":{"c":1}}}}` has the default {"b":{"c":1}}; otherwise it
 * ends at the first "}}".
 *
 * Everything is one left-to-right pass, O(n) in the input, and any byte
 * sequence gets either a parse or an error message with a byte offset.
 *
 * IDENTIFICATION
 *	  src/core/template.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/fl_alloc.h"
#include "core/template.h"

/* Working state of one fl_template_parse call. */
typedef struct tp_state
{
	const char *s;
	size_t		len;
	char	   *errbuf;
	size_t		errlen;

	fl_segment *segs;			/* segments made so far */
	int			nsegs;
	int			capsegs;
	bool		has_refs;

	char	   *text;			/* pending literal text (escapes removed) */
	size_t		textlen;

	char	  **path;			/* path of the reference being parsed */
	int			npath;
	int			cappath;
} tp_state;

/* Where the path parser is: what may come next. */
typedef enum tp_path_pos
{
	TP_START,					/* first element: a name or an index */
	TP_AFTER_DOT,				/* a name must follow */
	TP_AFTER_ELEM				/* ".", "[", "|" or "}}" must follow */
} tp_path_pos;

/* fl_free that accepts NULL (pfree does not). */
static inline void
tp_free(void *p)
{
	if (p != NULL)
		fl_free(p);
}

/* Is c template whitespace?  (Locale-independent, unlike isspace.) */
static inline bool
tp_is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		c == '\f' || c == '\v';
}

/* Does byte c end an unquoted path name? */
static inline bool
tp_ends_name(unsigned char c)
{
	return c == '.' || c == '[' || c == ']' || c == '|' ||
		c == '{' || c == '}' || c == '"' || c == '\0';
}

/* Skip whitespace from offset i; returns the first non-space offset. */
static size_t
tp_skip_space(const tp_state *st, size_t i)
{
	while (i < st->len && tp_is_space((unsigned char) st->s[i]))
		i++;
	return i;
}

static bool tp_error(tp_state *st, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

/* Write a formatted error message into the caller's buffer; returns false. */
static bool
tp_error(tp_state *st, const char *fmt,...)
{
	va_list		ap;

	if (st->errbuf == NULL || st->errlen == 0)
		return false;
	va_start(ap, fmt);
	vsnprintf(st->errbuf, st->errlen, fmt, ap);
	va_end(ap);
	return false;
}

/* Report a "{{" at offset open that has no closing "}}". */
static bool
tp_unterminated(tp_state *st, size_t open)
{
	return tp_error(st, "unterminated \"{{\" at offset %zu", open);
}

/* Report a NUL byte at offset i. */
static bool
tp_nul(tp_state *st, size_t i)
{
	return tp_error(st, "embedded NUL byte at offset %zu", i);
}

/* Report a byte that may not appear at offset i of a path. */
static bool
tp_unexpected(tp_state *st, size_t i)
{
	unsigned char c = (unsigned char) st->s[i];

	if (c >= 0x20 && c < 0x7f)
		return tp_error(st, "unexpected character '%c' in path at offset %zu",
						c, i);
	return tp_error(st, "unexpected byte 0x%02x in path at offset %zu", c, i);
}

/* Append a zeroed segment to the output and return it. */
static fl_segment *
tp_new_segment(tp_state *st)
{
	if (st->nsegs == st->capsegs)
	{
		int			newcap = st->capsegs ? st->capsegs * 2 : 4;
		fl_segment *n = fl_alloc(sizeof(fl_segment) * (size_t) newcap);

		if (st->nsegs > 0)
			memcpy(n, st->segs, sizeof(fl_segment) * (size_t) st->nsegs);
		tp_free(st->segs);
		st->segs = n;
		st->capsegs = newcap;
	}
	return &st->segs[st->nsegs++];
}

/* Turn the pending literal text, if any, into a text segment. */
static void
tp_flush_text(tp_state *st)
{
	fl_segment *seg;

	if (st->textlen == 0)
		return;
	seg = tp_new_segment(st);
	seg->kind = FL_SEG_TEXT;
	seg->text = fl_strndup(st->text, st->textlen);
	seg->text_len = st->textlen;
	st->textlen = 0;
}

/* Append one segment (already allocated) to the current path. */
static void
tp_push_path(tp_state *st, char *seg)
{
	if (st->npath == st->cappath)
	{
		int			newcap = st->cappath ? st->cappath * 2 : 4;
		char	  **n = fl_alloc(sizeof(char *) * (size_t) newcap);

		if (st->npath > 0)
			memcpy(n, st->path, sizeof(char *) * (size_t) st->npath);
		tp_free(st->path);
		st->path = n;
		st->cappath = newcap;
	}
	st->path[st->npath++] = seg;
}

/* Free the current path (on error, or before it was handed to a segment). */
static void
tp_drop_path(tp_state *st)
{
	for (int i = 0; i < st->npath; i++)
		tp_free(st->path[i]);
	tp_free(st->path);
	st->path = NULL;
	st->npath = 0;
	st->cappath = 0;
}

/*
 * Parse a bracket index starting at the "[" at offset *pos; on success the
 * key is pushed onto the path and *pos is just past the "]".
 */
static bool
tp_parse_index(tp_state *st, size_t open, size_t *pos)
{
	const char *s = st->s;
	size_t		len = st->len;
	size_t		bracket = *pos;
	size_t		i = tp_skip_space(st, bracket + 1);
	unsigned char c;

	if (i >= len)
		return tp_unterminated(st, open);
	c = (unsigned char) s[i];
	if (c >= '0' && c <= '9')
	{
		size_t		start = i;

		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		tp_push_path(st, fl_strndup(s + start, i - start));
	}
	else if (c == '"' || c == '\'')
	{
		size_t		start = ++i;
		size_t		n = 0;
		char	   *key;

		/* find the closing quote, counting the unescaped length */
		for (;;)
		{
			if (i >= len)
				return tp_unterminated(st, open);
			if (s[i] == '\0')
				return tp_nul(st, i);
			if ((unsigned char) s[i] == c)
				break;
			if (s[i] == '\\')
			{
				if (++i >= len)
					return tp_unterminated(st, open);
				if (s[i] == '\0')
					return tp_nul(st, i);
			}
			i++;
			n++;
		}
		if (n == 0)
			return tp_error(st, "empty path segment at offset %zu", bracket);
		key = fl_alloc(n + 1);
		n = 0;
		for (size_t j = start; j < i; j++)
		{
			if (s[j] == '\\')
				j++;
			key[n++] = s[j];
		}
		tp_push_path(st, key);
		i++;					/* the closing quote */
	}
	else if (c == '\0')
		return tp_nul(st, i);
	else
		return tp_error(st, "malformed index at offset %zu: expected a number or a quoted key",
						i);

	i = tp_skip_space(st, i);
	if (i >= len)
		return tp_unterminated(st, open);
	if (s[i] == '\0')
		return tp_nul(st, i);
	if (s[i] != ']')
		return tp_error(st, "malformed index at offset %zu: expected \"]\"", i);
	*pos = i + 1;
	return true;
}

/*
 * Find the "}}" that ends a default starting at offset d.  A default that
 * looks like JSON ("{", "[" or '"') is scanned with its strings and nesting
 * in mind; any other ends at the first "}}".
 */
static bool
tp_find_default_end(tp_state *st, size_t open, size_t d, size_t *close)
{
	const char *s = st->s;
	size_t		len = st->len;

	if (d < len && (s[d] == '{' || s[d] == '[' || s[d] == '"'))
	{
		size_t		depth = 0;
		bool		in_string = false;

		for (size_t j = d; j < len; j++)
		{
			char		c = s[j];

			if (c == '\0')
				return tp_nul(st, j);
			if (in_string)
			{
				if (c == '\\')
				{
					if (++j >= len)
						break;
					if (s[j] == '\0')
						return tp_nul(st, j);
				}
				else if (c == '"')
					in_string = false;
				continue;
			}
			switch (c)
			{
				case '"':
					in_string = true;
					break;
				case '{':
				case '[':
					depth++;
					break;
				case ']':
					if (depth > 0)
						depth--;
					break;
				case '}':
					if (depth > 0)
						depth--;
					else if (j + 1 < len && s[j + 1] == '}')
					{
						*close = j;
						return true;
					}
					break;
				default:
					break;
			}
		}
		return tp_unterminated(st, open);
	}

	for (size_t j = d; j < len; j++)
	{
		if (s[j] == '\0')
			return tp_nul(st, j);
		if (s[j] == '}' && j + 1 < len && s[j + 1] == '}')
		{
			*close = j;
			return true;
		}
	}
	return tp_unterminated(st, open);
}

/*
 * Parse the reference whose "{{" is at offset open, append it as a segment
 * and set *next to the offset just past its "}}".
 */
static bool
tp_parse_ref(tp_state *st, size_t open, size_t *next)
{
	const char *s = st->s;
	size_t		len = st->len;
	size_t		i = tp_skip_space(st, open + 2);
	size_t		path_start = i;
	size_t		path_end = i;
	tp_path_pos where = TP_START;
	bool		after_index = false;
	bool		has_default = false;
	size_t		dstart = 0;
	size_t		dend = 0;
	fl_segment *seg;

	for (;;)
	{
		unsigned char c;

		if (i >= len)
			return tp_unterminated(st, open);
		c = (unsigned char) s[i];
		if (c == '\0')
			return tp_nul(st, i);

		if (where == TP_AFTER_ELEM)
		{
			i = tp_skip_space(st, i);
			if (i >= len)
				return tp_unterminated(st, open);
			c = (unsigned char) s[i];
			if (c == '\0')
				return tp_nul(st, i);
			if (c == '.')
			{
				i++;
				where = TP_AFTER_DOT;
				continue;
			}
			if (c == '[')
			{
				if (!tp_parse_index(st, open, &i))
					return false;
				path_end = i;
				after_index = true;
				continue;
			}
			if (c == '|')
			{
				size_t		close = 0;

				dstart = tp_skip_space(st, i + 1);
				if (!tp_find_default_end(st, open, dstart, &close))
					return false;
				dend = close;
				while (dend > dstart && tp_is_space((unsigned char) s[dend - 1]))
					dend--;
				has_default = true;
				i = close + 2;
				break;
			}
			if (c == '}')
			{
				if (i + 1 >= len)
					return tp_unterminated(st, open);
				if (s[i + 1] == '}')
				{
					i += 2;
					break;
				}
			}
			if (after_index)
				return tp_error(st, "malformed index at offset %zu: expected \".\", \"[\", \"|\" or \"}}\" after \"]\"",
								i);
			return tp_unexpected(st, i);
		}

		if (c == '[' && where == TP_START)
		{
			if (!tp_parse_index(st, open, &i))
				return false;
			path_end = i;
			after_index = true;
			where = TP_AFTER_ELEM;
			continue;
		}

		/* a name: scan to its delimiter, then trim */
		{
			size_t		a = i;
			size_t		b;

			while (i < len && !tp_ends_name((unsigned char) s[i]))
				i++;
			b = i;
			while (a < b && tp_is_space((unsigned char) s[a]))
				a++;
			while (b > a && tp_is_space((unsigned char) s[b - 1]))
				b--;

			if (a == b)
			{
				if (i >= len)
					return tp_unterminated(st, open);
				c = (unsigned char) s[i];
				if (c == '\0')
					return tp_nul(st, i);
				if (where == TP_START &&
					(c == '|' || (c == '}' && i + 1 < len && s[i + 1] == '}')))
					return tp_error(st, "empty path in \"{{ }}\" at offset %zu", open);
				if (c == '}' && i + 1 >= len)
					return tp_unterminated(st, open);
				if (c == '.' || c == '|' || c == '[' || c == '}')
					return tp_error(st, "empty path segment at offset %zu", i);
				return tp_unexpected(st, i);
			}
			for (size_t j = a; j < b; j++)
			{
				unsigned char cc = (unsigned char) s[j];

				if (cc < 0x20 || cc == 0x7f)
					return tp_unexpected(st, j);
			}
			tp_push_path(st, fl_strndup(s + a, b - a));
			path_end = b;
			after_index = false;
			where = TP_AFTER_ELEM;
		}
	}

	/* the reference is complete: hand the path over to a new segment */
	seg = tp_new_segment(st);
	seg->kind = FL_SEG_REF;
	seg->path = st->path;
	seg->npath = st->npath;
	st->path = NULL;
	st->npath = 0;
	st->cappath = 0;
	seg->raw = fl_strndup(s + path_start, path_end - path_start);
	seg->has_default = has_default;
	if (has_default)
	{
		seg->deflt = fl_strndup(s + dstart, dend - dstart);
		seg->deflt_len = dend - dstart;
	}
	st->has_refs = true;
	*next = i;
	return true;
}

/*
 * Quick test: does s hold "{{" at all?  That covers every reference and
 * every "\{{" escape, so a string for which this is false parses to itself
 * and can be used as it is.
 */
bool
fl_template_maybe(const char *s, size_t len)
{
	const char *p = s;
	const char *last;

	if (s == NULL || len < 2)
		return false;
	last = s + len - 1;			/* a "{{" must start before this */
	while (p < last)
	{
		p = memchr(p, '{', (size_t) (last - p));
		if (p == NULL)
			return false;
		if (p[1] == '{')
			return true;
		p++;
	}
	return false;
}

/* Parse s[0..len) into text and reference segments (see template.h). */
bool
fl_template_parse(const char *s, size_t len, fl_template *out,
				  char *errbuf, size_t errlen)
{
	tp_state	st;
	size_t		i = 0;

	memset(&st, 0, sizeof(st));
	st.s = s;
	st.len = len;
	st.errbuf = errbuf;
	st.errlen = errlen;
	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	memset(out, 0, sizeof(*out));
	if (s == NULL)
		len = st.len = 0;
	st.text = fl_alloc(len + 1);

	while (i < len)
	{
		char		c = s[i];

		if (c == '\0')
		{
			tp_nul(&st, i);
			goto fail;
		}
		if (c == '\\' && i + 2 < len && s[i + 1] == '{' && s[i + 2] == '{')
		{
			st.text[st.textlen++] = '{';
			st.text[st.textlen++] = '{';
			i += 3;
			continue;
		}
		if (c == '{' && i + 1 < len && s[i + 1] == '{')
		{
			size_t		next = i;

			tp_flush_text(&st);
			if (!tp_parse_ref(&st, i, &next))
				goto fail;
			i = next;
			continue;
		}
		st.text[st.textlen++] = c;
		i++;
	}
	tp_flush_text(&st);
	tp_free(st.text);

	out->segs = st.segs;		/* NULL when there are no segments */
	out->nsegs = st.nsegs;
	out->has_refs = st.has_refs;
	out->single_ref = (st.nsegs == 1 && st.segs[0].kind == FL_SEG_REF);
	return true;

fail:
	tp_drop_path(&st);
	tp_free(st.text);
	out->segs = st.segs;
	out->nsegs = st.nsegs;
	fl_template_free(out);
	if (errbuf != NULL && errlen > 0 && errbuf[0] == '\0')
		snprintf(errbuf, errlen, "invalid template");
	return false;
}

/* Release everything fl_template_parse allocated; leaves *t empty. */
void
fl_template_free(fl_template *t)
{
	if (t == NULL)
		return;
	for (int i = 0; i < t->nsegs; i++)
	{
		fl_segment *seg = &t->segs[i];

		tp_free(seg->text);
		for (int j = 0; j < seg->npath; j++)
			tp_free(seg->path[j]);
		tp_free(seg->path);
		tp_free(seg->raw);
		tp_free(seg->deflt);
	}
	tp_free(t->segs);
	memset(t, 0, sizeof(*t));
}
