/*
 * resolve.c
 *	  {{…}} variable resolution over jsonb, just before a node runs.
 *
 * Templates are parsed by src/core/template.c; values come from the run
 * state as jsonb, so they keep their JSON type and exact numbers.  A string
 * that is exactly one reference takes the referenced value; inside longer
 * text the value is rendered as text.  One pass: resolved data is never read
 * again as a template.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/jsonapi.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/value.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/json.h"
#include "utils/jsonfuncs.h"

#include "core/template.h"
#include "pg/cache.h"
#include "pg/engine.h"
#include "pg/http.h"
#include "pg/jsonb_util.h"

static void
remember(FlExec *ex, const char *s, int len)
{
	ListCell   *lc;

	foreach(lc, ex->secrets)
		if (strlen(lfirst(lc)) == len && memcmp(lfirst(lc), s, len) == 0)
			return;
	ex->secrets = lappend(ex->secrets, pnstrdup(s, len));
}

/* Remember the string leaves of a resolved credential, to scrub them later. */
void
fl_remember_secret(FlExec *ex, const JsonbValue *v)
{
	MemoryContext old = MemoryContextSwitchTo(ex->cxt);

	if (v->type == jbvString)
	{
		if (v->val.string.len >= 4)
			remember(ex, v->val.string.val, v->val.string.len);
	}
	else if (v->type == jbvBinary)
	{
		JsonbIterator *it = JsonbIteratorInit(v->val.binary.data);
		JsonbValue	x;
		JsonbIteratorToken tok;

		while ((tok = JsonbIteratorNext(&it, &x, true)) != WJB_DONE)
			if ((tok == WJB_VALUE || tok == WJB_ELEM) && x.type == jbvString && x.val.string.len >= 4)
				remember(ex, x.val.string.val, x.val.string.len);
	}
	MemoryContextSwitchTo(old);
}

/* Replace every occurrence of a remembered secret in text. */
char *
fl_scrub_text(FlExec *ex, const char *text)
{
	ListCell   *lc;
	char	   *cur = (char *) text;

	if (text == NULL)
		return NULL;
	foreach(lc, ex->secrets)
	{
		const char *secret = lfirst(lc);
		size_t		slen = strlen(secret);
		StringInfoData out;
		const char *p,
				   *hit;

		if (slen == 0 || strstr(cur, secret) == NULL)
			continue;
		initStringInfo(&out);
		for (p = cur; (hit = strstr(p, secret)) != NULL; p = hit + slen)
		{
			appendBinaryStringInfo(&out, p, hit - p);
			appendStringInfoString(&out, "[redacted]");
		}
		appendStringInfoString(&out, p);
		cur = out.data;
	}
	return cur;
}

/* Might the bytes hold a remembered secret?  (jsonb keeps strings unescaped.) */
static bool
bytes_have_secret(FlExec *ex, const char *p, size_t len)
{
	ListCell   *lc;

	foreach(lc, ex->secrets)
	{
		const char *secret = lfirst(lc);

		if (memmem(p, len, secret, strlen(secret)) != NULL)
			return true;
	}
	return false;
}

/*
 * A value with every remembered secret replaced inside its strings (keys
 * and values): numbers, structure and other strings stay exactly as they
 * were, so the result is always the same valid JSON shape.
 */
Jsonb *
fl_scrub_jsonb(FlExec *ex, Jsonb *j)
{
	JsonbIterator *it;
	JsonbParseState *st = NULL;
	JsonbValue	v;
	JsonbValue *res = NULL;
	JsonbIteratorToken tok;

	if (j == NULL || ex->secrets == NIL ||
		!bytes_have_secret(ex, VARDATA(j), VARSIZE(j) - VARHDRSZ))
		return j;
	it = JsonbIteratorInit(&j->root);
	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		if ((tok == WJB_KEY || tok == WJB_VALUE || tok == WJB_ELEM) && v.type == jbvString &&
			bytes_have_secret(ex, v.val.string.val, v.val.string.len))
		{
			char	   *clean = fl_scrub_text(ex, pnstrdup(v.val.string.val, v.val.string.len));

			v.val.string.val = clean;
			v.val.string.len = strlen(clean);
		}
		res = pushJsonbValue(&st, tok,
							 tok < WJB_BEGIN_ARRAY || (tok == WJB_BEGIN_ARRAY && v.val.array.rawScalar) ? &v : NULL);
	}
	return JsonbValueToJsonb(res);
}

/* {{item}}: the element being tested by a filter. */
void
fl_set_current_item(FlExec *ex, Jsonb *item, int index)
{
	ex->item = item;
	ex->item_index = index;
}

void
fl_clear_current_item(FlExec *ex)
{
	ex->item = NULL;
}

/* {item, index, count} of a loop frame */
static Jsonb *
frame_object(FlLoopFrame *f)
{
	JB			b = {0};

	jb_obj_begin(&b);
	jb_kv_jsonb(&b, "item", f->item);
	jb_kv_int(&b, "index", f->index);
	jb_kv_int(&b, "count", f->count);
	jb_obj_end(&b);
	return jb_finish(&b);
}

/* A credential secret of the workflow owner, read as the extension owner. */
bool
fl_lookup_credential(FlExec *ex, const char *name, JsonbValue *out)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		args[2];
	bool		isnull;

	args[0] = CStringGetTextDatum(ex->wf->owner);
	args[1] = CStringGetTextDatum(name);
	if (fl_owner_query(&plan, "SELECT secret FROM flowent.credentials WHERE owner = $1 AND name = $2",
					   2, types, args, NULL, 1) != SPI_OK_SELECT || SPI_processed == 0)
		return false;
	jbv_from_jsonb(DatumGetJsonbPCopy(SPI_getbinval(SPI_tuptable->vals[0],
													SPI_tuptable->tupdesc, 1, &isnull)), out);
	fl_remember_secret(ex, out);
	if (!list_member(ex->credential_names, makeString((char *) name)))
	{
		MemoryContext old = MemoryContextSwitchTo(ex->cxt);

		ex->credential_names = lappend(ex->credential_names, makeString(pstrdup(name)));
		MemoryContextSwitchTo(old);
	}
	return true;
}

/*
 * A continuation knows which credentials its execution resolved (stored
 * with it): their values are scrubbed from what it logs, as before.
 */
void
fl_restore_secrets(FlExec *ex, List *names)
{
	ListCell   *lc;

	foreach(lc, names)
	{
		JsonbValue	v;

		if (fl_lookup_credential(ex, strVal(lfirst(lc)), &v))
			fl_http_remember_derived(ex, &v);
	}
}

/*
 * The value of a root name: reserved roots, then node ids, then variables.
 * Returns false when it does not exist (yet).
 */
bool
fl_lookup_root(FlExec *ex, const char *root, JsonbValue *out, bool *is_credential)
{
	int			n;

	*is_credential = false;
	if (strcmp(root, "trigger") == 0)
	{
		jbv_from_jsonb(ex->trigger, out);
		return true;
	}
	if (strcmp(root, "variables") == 0)
	{
		jbv_from_jsonb(fl_variables_object(ex), out);
		return true;
	}
	if (strcmp(root, "input") == 0)
	{
		if (ex->cur_input == NULL)
			return false;
		jbv_from_jsonb(ex->cur_input, out);
		return true;
	}
	if (strcmp(root, "loop") == 0)
	{
		if (ex->nloops == 0)
			return false;
		jbv_from_jsonb(frame_object(&ex->loops[ex->nloops - 1]), out);
		return true;
	}
	if (strcmp(root, "item") == 0)
	{
		if (ex->item)
			jbv_from_jsonb(ex->item, out);
		else if (ex->nloops > 0)
			jbv_from_jsonb(ex->loops[ex->nloops - 1].item, out);
		else
			return false;
		return true;
	}
	if (strcmp(root, "execution") == 0 || strcmp(root, "workflow") == 0)
	{
		JB			b = {0};

		jb_obj_begin(&b);
		if (root[0] == 'e')
		{
			jb_kv_str(&b, "id", ex->id_str);
			jb_kv_str(&b, "workflowId", ex->wf_id_str);
			jb_kv_bool(&b, "isTest", ex->is_test);
			jb_kv_str(&b, "mode", ex->sync ? "sync" : "async");
			jb_kv_str(&b, "parentId", ex->parent_id);
		}
		else
		{
			jb_kv_str(&b, "id", ex->wf_id_str);
			jb_kv_str(&b, "name", ex->wf->name);
			jb_kv_int(&b, "version", ex->wf->version);
		}
		jb_obj_end(&b);
		jbv_from_jsonb(jb_finish(&b), out);
		return true;
	}
	if (strcmp(root, "nodes") == 0)
	{
		JB			b = {0};

		(void) b;
		jbv_from_jsonb(fl_nodes_object(ex), out);
		return true;
	}
	if (strcmp(root, "credentials") == 0)
	{
		*is_credential = true;
		return false;			/* handled by the caller with the next segment */
	}
	n = fl_graph_find(ex->wf->graph, root);
	if (n >= 0)
	{
		for (int k = ex->nloops - 1; k >= 0; k--)
			if (ex->loops[k].node == n)
			{
				jbv_from_jsonb(frame_object(&ex->loops[k]), out);
				return true;
			}
		if (ex->outputs[n] == NULL)
			return false;
		jbv_from_jsonb(ex->outputs[n], out);
		return true;
	}
	{
		Jsonb	   *v = fl_get_variable(ex, root);

		if (v)
		{
			jbv_from_jsonb(v, out);
			return true;
		}
	}
	return false;
}

/* Step into an object member or array element. */
static bool
step(const JsonbValue *cur, const char *seg, JsonbValue *out)
{
	if (jbv_is_object(cur))
		return jbv_get_key(cur, seg, out);
	if (jbv_is_array(cur))
	{
		char	   *end;
		long		idx;

		errno = 0;
		idx = strtol(seg, &end, 10);
		if (errno != 0 || *seg == '\0' || *end != '\0')
			return false;
		if (idx < 0)
			idx += jbv_array_size(cur);
		return jbv_get_index(cur, (int) idx, out);
	}
	return false;
}

/* Parse a default: a JSON literal if it parses, else text. */
static void
default_value(const fl_segment *seg, JsonbValue *out)
{
	JsonLexContext *lex;

	lex = makeJsonLexContextCstringLen(seg->deflt, seg->deflt_len, GetDatabaseEncoding(), false);
	if (seg->deflt_len > 0 && pg_parse_json(lex, &nullSemAction) == JSON_SUCCESS)
	{
		jbv_from_jsonb(jsonb_from_cstring(seg->deflt, seg->deflt_len), out);
		return;
	}
	out->type = jbvString;
	out->val.string.val = seg->deflt;
	out->val.string.len = seg->deflt_len;
}

/*
 * Evaluate one reference.  Returns true with *out, or false: *missing when
 * the path does not resolve (err filled), else a hard error in err.
 */
static bool
eval_ref(FlExec *ex, int node, const fl_segment *seg, JsonbValue *out,
		 bool *missing, FlResolveError *err)
{
	JsonbValue	cur;
	bool		is_cred;
	int			i = 1;
	const char *nid = node >= 0 ? ex->wf->nodes[node].id : "";

	*missing = false;
	if (!fl_lookup_root(ex, seg->path[0], &cur, &is_cred))
	{
		if (is_cred)
		{
			if (seg->npath < 2)
			{
				err->code = "INVALID_CONFIG";
				err->message = psprintf("node \"%s\": {{credentials}} needs a name: {{credentials.<name>}}", nid);
				return false;
			}
			if (!fl_lookup_credential(ex, seg->path[1], &cur))
			{
				err->code = "CREDENTIAL_NOT_FOUND";
				err->message = psprintf("node \"%s\": credential \"%s\" does not exist for the workflow owner",
										nid, seg->path[1]);
				return false;
			}
			i = 2;
		}
		else
			goto not_found;
	}
	for (; i < seg->npath; i++)
	{
		JsonbValue	next;

		if (!step(&cur, seg->path[i], &next))
			goto not_found;
		cur = next;
	}
	*out = cur;
	return true;

not_found:
	if (seg->has_default)
	{
		default_value(seg, out);
		return true;
	}
	*missing = true;
	err->code = "VARIABLE_NOT_FOUND";
	err->message = psprintf("node \"%s\": variable {{%s}} does not resolve", nid, seg->raw);
	return false;
}

#define TEMPLATE_KEY_LEN 256
#define TEMPLATE_CACHE_MAX 4096

typedef struct TemplateEntry
{
	char		key[TEMPLATE_KEY_LEN];	/* the template text, NUL-padded */
	fl_template t;
} TemplateEntry;

typedef char TemplateKey[TEMPLATE_KEY_LEN];

static FlCache template_cache = FL_CACHE_INIT("flowent templates", TemplateKey, TemplateEntry,
											  TEMPLATE_CACHE_MAX, true);

/*
 * Parse a template, remembering parses of short ones: the same config
 * strings are resolved on every run of a workflow.  Failed parses are not
 * cached (they end the node anyway).
 */
static bool
parse_cached(const char *s, int len, fl_template *t, char *errbuf, size_t errlen)
{
	char		key[TEMPLATE_KEY_LEN];
	TemplateEntry *e;
	bool		ok;
	MemoryContext old;

	if (len >= TEMPLATE_KEY_LEN || memchr(s, '\0', len) != NULL)
		return fl_template_parse(s, len, t, errbuf, errlen);
	memset(key, 0, sizeof(key));
	memcpy(key, s, len);
	e = fl_cache_find(&template_cache, key);
	if (e)
	{
		*t = e->t;
		return true;
	}
	/* entered first: a full cache resets there, and the parse goes to the new one */
	e = fl_cache_enter(&template_cache, key);
	old = MemoryContextSwitchTo(fl_cache_context(&template_cache));
	ok = fl_template_parse(s, len, t, errbuf, errlen);
	MemoryContextSwitchTo(old);
	if (!ok)
	{
		fl_cache_remove(&template_cache, key, NULL);
		return false;
	}
	e->t = *t;
	return true;
}

/* Resolve one string value. */
static bool
resolve_string(FlExec *ex, int node, const char *s, int len, JsonbValue *out,
			   bool lenient, bool *missing, FlResolveError *err)
{
	fl_template t;
	char		errbuf[256];
	StringInfoData buf;
	const char *nid = node >= 0 ? ex->wf->nodes[node].id : "";

	if (!fl_template_maybe(s, len))
	{
		out->type = jbvString;
		out->val.string.val = (char *) s;
		out->val.string.len = len;
		return true;
	}
	if (!parse_cached(s, len, &t, errbuf, sizeof(errbuf)))
	{
		err->code = "INVALID_CONFIG";
		err->message = psprintf("node \"%s\": bad template: %s", nid, errbuf);
		return false;
	}
	if (t.single_ref)
	{
		bool		ok = eval_ref(ex, node, &t.segs[0], out, missing, err);

		if (!ok && *missing && lenient)
			return true;
		return ok;
	}
	initStringInfo(&buf);
	for (int i = 0; i < t.nsegs; i++)
	{
		JsonbValue	v;

		if (t.segs[i].kind == FL_SEG_TEXT)
		{
			appendBinaryStringInfo(&buf, t.segs[i].text, t.segs[i].text_len);
			continue;
		}
		if (!eval_ref(ex, node, &t.segs[i], &v, missing, err))
		{
			if (*missing && lenient)
				return true;
			return false;
		}
		appendStringInfoString(&buf, jbv_to_text(&v));
	}
	out->type = jbvString;
	out->val.string.val = buf.data;
	out->val.string.len = buf.len;
	return true;
}

/* Does a container hold "{{" anywhere (keys and strings are stored raw)? */
static bool
container_maybe_template(const JsonbValue *v)
{
	const char *p = (const char *) v->val.binary.data;
	int			len = v->val.binary.len;

	return len >= 2 && memmem(p, len, "{{", 2) != NULL;
}

/* Rebuild a container with every string value resolved. */
static bool
resolve_container(FlExec *ex, int node, const JsonbValue *in, JsonbValue *out,
				  bool lenient, bool *missing, FlResolveError *err)
{
	JsonbIterator *it = JsonbIteratorInit(in->val.binary.data);
	JsonbParseState *st = NULL;
	JsonbValue	v;
	JsonbValue *res = NULL;
	JsonbIteratorToken tok;

	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		if ((tok == WJB_VALUE || tok == WJB_ELEM) && v.type == jbvString)
		{
			JsonbValue	r;

			if (!resolve_string(ex, node, v.val.string.val, v.val.string.len, &r,
								lenient, missing, err))
				return false;
			if (*missing)
			{
				/* lenient and missing: keep as null so shapes stay intact */
				r.type = jbvNull;
				*missing = false;
			}
			if (r.type == jbvBinary && JsonContainerIsScalar(r.val.binary.data))
			{
				JsonbValue	s;

				JsonbExtractScalar(r.val.binary.data, &s);
				r = s;
			}
			res = pushJsonbValue(&st, tok, &r);
		}
		else
			res = pushJsonbValue(&st, tok, tok < WJB_BEGIN_ARRAY || (tok == WJB_BEGIN_ARRAY && v.val.array.rawScalar) ? &v : NULL);
	}
	jbv_from_jsonb(JsonbValueToJsonb(res), out);
	return true;
}

/*
 * Resolve every template in a value.  lenient: a missing path sets *missing
 * (for a whole-string reference) instead of failing.
 */
bool
fl_resolve(FlExec *ex, int node, const JsonbValue *in, JsonbValue *out,
		   bool lenient, bool *missing, FlResolveError *err)
{
	bool		dummy;

	if (missing == NULL)
		missing = &dummy;
	*missing = false;
	err->code = NULL;
	err->message = NULL;
	CHECK_FOR_INTERRUPTS();
	if (in->type == jbvString)
		return resolve_string(ex, node, in->val.string.val, in->val.string.len, out,
							  lenient, missing, err);
	if (in->type == jbvBinary && container_maybe_template(in))
		return resolve_container(ex, node, in, out, lenient, missing, err);
	*out = *in;
	return true;
}

/*
 * The input of a node: the output of its single live predecessor, or an
 * object keyed by predecessor id when there are several.  The first node of
 * a loop body receives the loop item.
 */
Jsonb *
fl_node_input(FlExec *ex, int node)
{
	const fl_graph *g = ex->wf->graph;
	int			live = 0;
	int			last = -1;
	JB			b = {0};

	for (int k = g->in_start[node]; k < g->in_start[node + 1]; k++)
	{
		int			e = g->in_edges[k];

		if (ex->sched->estate[e] == FL_EDGE_LIVE)
		{
			live++;
			last = e;
		}
	}
	if (live == 0)
		return ex->payload;
	if (live == 1)
	{
		int			src = g->edges[last].source;

		if ((g->nodes[src].flags & FL_NODE_LOOP) && ex->nloops > 0 &&
			ex->loops[ex->nloops - 1].node == src)
			return ex->loops[ex->nloops - 1].item;
		return ex->outputs[src] ? ex->outputs[src] : jsonb_null();
	}
	jb_obj_begin(&b);
	for (int k = g->in_start[node]; k < g->in_start[node + 1]; k++)
	{
		int			e = g->in_edges[k];
		int			src = g->edges[e].source;

		if (ex->sched->estate[e] != FL_EDGE_LIVE)
			continue;
		if ((g->nodes[src].flags & FL_NODE_LOOP) && ex->nloops > 0 &&
			ex->loops[ex->nloops - 1].node == src)
			jb_kv_jsonb(&b, g->nodes[src].id, ex->loops[ex->nloops - 1].item);
		else
			jb_kv_jsonb(&b, g->nodes[src].id, ex->outputs[src]);
	}
	jb_obj_end(&b);
	return jb_finish(&b);
}
