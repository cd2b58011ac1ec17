/*
 * fuzz_template.c
 *	  libFuzzer target for the {{…}} template parser (src/core/template.c).
 *
 * Any bytes are parsed.  A failure must leave a message with an offset
 * inside the input and an empty template.  A success must give well-formed
 * segments, and rendering them back in canonical form (every text "{{"
 * escaped, every path segment as a quoted ["key"]) must parse to the same
 * segments again: that checks escapes, trimming, defaults and single_ref
 * together.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/template.h"

#define FZ_CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
	abort(); } } while (0)

typedef struct fz_buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} fz_buf;

/* Append n bytes to a growable buffer. */
static void
fz_put(fz_buf *b, const char *p, size_t n)
{
	if (b->len + n + 1 > b->cap)
	{
		size_t		cap = b->cap ? b->cap : 64;

		while (b->len + n + 1 > cap)
			cap *= 2;
		b->data = realloc(b->data, cap);
		FZ_CHECK(b->data != NULL);
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* Render a parsed template in canonical form, parseable back to itself. */
static void
fz_render(const fl_template *t, fz_buf *b)
{
	b->len = 0;
	fz_put(b, "", 0);
	for (int i = 0; i < t->nsegs; i++)
	{
		const fl_segment *seg = &t->segs[i];

		if (seg->kind == FL_SEG_TEXT)
		{
			/*
			 * A run of k braces: an odd one starts with a lone "{", the rest
			 * as "\{{" escapes, so the run never ends in a lone "{" that
			 * would join a following "{{".  (A parse never yields a text
			 * ending in one lone "{" or a "\" right before a reference.)
			 */
			for (size_t j = 0; j < seg->text_len; j++)
			{
				size_t		k = 0;

				while (j + k < seg->text_len && seg->text[j + k] == '{')
					k++;
				if (k == 0)
				{
					fz_put(b, &seg->text[j], 1);
					continue;
				}
				if (k % 2 == 1)
					fz_put(b, "{", 1);
				for (size_t m = 0; m < k / 2; m++)
					fz_put(b, "\\{{", 3);
				j += k - 1;
			}
			continue;
		}
		fz_put(b, "{{", 2);
		for (int k = 0; k < seg->npath; k++)
		{
			fz_put(b, "[\"", 2);
			for (const char *p = seg->path[k]; *p; p++)
			{
				if (*p == '"' || *p == '\\')
					fz_put(b, "\\", 1);
				fz_put(b, p, 1);
			}
			fz_put(b, "\"]", 2);
		}
		if (seg->has_default)
		{
			fz_put(b, " | ", 3);
			fz_put(b, seg->deflt, seg->deflt_len);
			fz_put(b, " ", 1);
		}
		fz_put(b, "}}", 2);
	}
}

/* Check the shape of a successfully parsed template. */
static void
fz_check_shape(const fl_template *t)
{
	int			nrefs = 0;

	FZ_CHECK(t->nsegs >= 0);
	FZ_CHECK((t->nsegs == 0) == (t->segs == NULL));
	for (int i = 0; i < t->nsegs; i++)
	{
		const fl_segment *seg = &t->segs[i];

		if (seg->kind == FL_SEG_TEXT)
		{
			FZ_CHECK(seg->text != NULL);
			FZ_CHECK(seg->text_len > 0);
			FZ_CHECK(memchr(seg->text, '\0', seg->text_len) == NULL);
			FZ_CHECK(seg->text[seg->text_len] == '\0');
			FZ_CHECK(seg->path == NULL && seg->npath == 0 && seg->raw == NULL);
			FZ_CHECK(!seg->has_default && seg->deflt == NULL);
			/* adjacent text is merged */
			FZ_CHECK(i == 0 || t->segs[i - 1].kind != FL_SEG_TEXT);
			continue;
		}
		FZ_CHECK(seg->kind == FL_SEG_REF);
		nrefs++;
		FZ_CHECK(seg->text == NULL);
		FZ_CHECK(seg->npath >= 1 && seg->path != NULL);
		for (int k = 0; k < seg->npath; k++)
			FZ_CHECK(seg->path[k] != NULL && seg->path[k][0] != '\0');
		FZ_CHECK(seg->raw != NULL && seg->raw[0] != '\0');
		if (seg->has_default)
		{
			FZ_CHECK(seg->deflt != NULL);
			FZ_CHECK(strlen(seg->deflt) == seg->deflt_len);
		}
		else
			FZ_CHECK(seg->deflt == NULL && seg->deflt_len == 0);
	}
	FZ_CHECK(t->has_refs == (nrefs > 0));
	FZ_CHECK(t->single_ref == (t->nsegs == 1 && nrefs == 1));
}

/* Are two parsed templates the same segment by segment? */
static bool
fz_same(const fl_template *a, const fl_template *b)
{
	if (a->nsegs != b->nsegs || a->has_refs != b->has_refs ||
		a->single_ref != b->single_ref)
		return false;
	for (int i = 0; i < a->nsegs; i++)
	{
		const fl_segment *x = &a->segs[i];
		const fl_segment *y = &b->segs[i];

		if (x->kind != y->kind)
			return false;
		if (x->kind == FL_SEG_TEXT)
		{
			if (x->text_len != y->text_len || memcmp(x->text, y->text, x->text_len) != 0)
				return false;
			continue;
		}
		if (x->npath != y->npath || x->has_default != y->has_default)
			return false;
		for (int k = 0; k < x->npath; k++)
			if (strcmp(x->path[k], y->path[k]) != 0)
				return false;
		if (x->has_default &&
			(x->deflt_len != y->deflt_len || strcmp(x->deflt, y->deflt) != 0))
			return false;
	}
	return true;
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parse arbitrary bytes and check the parser's invariants. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *) data;
	char		err[256];
	fl_template t;
	fl_template t2;
	bool		maybe = fl_template_maybe(s, size);
	fz_buf		r1 = {0};
	fz_buf		r2 = {0};

	memset(err, 0, sizeof(err));
	if (!fl_template_parse(s, size, &t, err, sizeof(err)))
	{
		const char *at = strstr(err, "at offset ");

		FZ_CHECK(err[0] != '\0');
		FZ_CHECK(at != NULL);
		FZ_CHECK(strtoull(at + 10, NULL, 10) < size);
		FZ_CHECK(t.segs == NULL && t.nsegs == 0 && !t.has_refs && !t.single_ref);
		/* without "{{" the only possible problem is a NUL byte */
		if (!maybe)
			FZ_CHECK(strncmp(err, "embedded NUL", 12) == 0);
		if (strncmp(err, "embedded NUL", 12) == 0)
			FZ_CHECK(memchr(s, '\0', size) != NULL);
		fl_template_free(&t);
		return 0;
	}
	FZ_CHECK(err[0] == '\0');
	FZ_CHECK(memchr(s, '\0', size) == NULL);
	fz_check_shape(&t);

	/* no "{{" at all: the string is its own (only) text */
	if (!maybe)
	{
		FZ_CHECK(!t.has_refs);
		if (size == 0)
			FZ_CHECK(t.nsegs == 0);
		else
			FZ_CHECK(t.nsegs == 1 && t.segs[0].text_len == size &&
					 memcmp(t.segs[0].text, s, size) == 0);
	}

	/* each reference's raw path text parses back to the same path */
	for (int i = 0; i < t.nsegs; i++)
	{
		fz_buf		w = {0};
		fl_segment *seg = &t.segs[i];

		if (seg->kind != FL_SEG_REF)
			continue;
		fz_put(&w, "{{", 2);
		fz_put(&w, seg->raw, strlen(seg->raw));
		fz_put(&w, "}}", 2);
		FZ_CHECK(fl_template_parse(w.data, w.len, &t2, err, sizeof(err)));
		FZ_CHECK(t2.single_ref && t2.segs[0].npath == seg->npath);
		for (int k = 0; k < seg->npath; k++)
			FZ_CHECK(strcmp(t2.segs[0].path[k], seg->path[k]) == 0);
		FZ_CHECK(strcmp(t2.segs[0].raw, seg->raw) == 0);
		fl_template_free(&t2);
		free(w.data);
	}

	/* canonical rendering round-trips, and is a fixed point */
	fz_render(&t, &r1);
	if (!fl_template_parse(r1.data, r1.len, &t2, err, sizeof(err)))
	{
		fprintf(stderr, "canonical form does not parse: %s\n", err);
		abort();
	}
	fz_check_shape(&t2);
	FZ_CHECK(fz_same(&t, &t2));
	fz_render(&t2, &r2);
	FZ_CHECK(r1.len == r2.len && memcmp(r1.data, r2.data, r1.len) == 0);
	if (t.has_refs)
		FZ_CHECK(maybe && fl_template_maybe(r1.data, r1.len));

	fl_template_free(&t2);
	fl_template_free(&t);
	FZ_CHECK(t.segs == NULL && t.nsegs == 0);
	free(r1.data);
	free(r2.data);
	return 0;
}
