/*
 * workflow.c
 *	  From React Flow JSON to a checked graph; loading and caching versions.
 */
#include "postgres.h"

#include "mb/pg_wchar.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/uuid.h"

#include "core/cond.h"
#include "nodes/fl_nodes.h"
#include "core/template.h"
#include "pg/cache.h"
#include "pg/engine.h"
#include "pg/jsonb_util.h"

/* A structural fault: raise, as saving would. */
static void
structural(const char *fmt, const char *what, int i, const char *field)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg(fmt, what, i, field)));
}

/* A string member of an element, or NULL when absent or not a string. */
static char *
member_string(const JsonbValue *el, const char *key, bool *present)
{
	JsonbValue	v;

	*present = jbv_get_key(el, key, &v) && v.type != jbvNull;
	if (!*present)
		return NULL;
	return jbv_cstring(&v);
}

/* Does a schema type name accept this value? */
static bool
type_matches(const char *type, const JsonbValue *v)
{
	if (v->type == jbvString && fl_contains_template(pnstrdup(v->val.string.val, v->val.string.len)))
		return true;			/* resolved at run time */
	if (strcmp(type, "string") == 0)
		return v->type == jbvString;
	if (strcmp(type, "number") == 0)
		return v->type == jbvNumeric;
	if (strcmp(type, "integer") == 0)
	{
		if (v->type != jbvNumeric)
			return false;
		return strchr(numeric_normalize(v->val.numeric), '.') == NULL;
	}
	if (strcmp(type, "boolean") == 0)
		return v->type == jbvBool;
	if (strcmp(type, "array") == 0)
		return jbv_is_array(v);
	if (strcmp(type, "object") == 0)
		return jbv_is_object(v);
	return true;
}

/* Required fields and property types from the registry's configSchema. */
static void
check_schema(FlWorkflow *wf, FlNodeDef *nd)
{
	JsonbValue	schema,
				req,
				props,
				data;

	if (nd->info->schema == NULL)
		return;
	jbv_from_jsonb(nd->info->schema, &schema);
	jbv_from_jsonb(nd->data, &data);
	if (jbv_get_key(&schema, "required", &req) && jbv_is_array(&req))
	{
		int			n = jbv_array_size(&req);

		for (int i = 0; i < n; i++)
		{
			JsonbValue	f,
						v;
			char	   *field;

			if (!jbv_get_index(&req, i, &f) || f.type != jbvString)
				continue;
			field = jbv_cstring(&f);
			if (!jbv_get_key(&data, field, &v) || v.type == jbvNull)
				fl_issue_add(&wf->issues, "MISSING_REQUIRED_FIELD", nd->id, NULL, pstrdup(field),
							 "node \"%s\" (%s): required field \"%s\" is missing",
							 nd->id, nd->type, field);
		}
	}
	if (jbv_get_key(&schema, "properties", &props) && jbv_is_object(&props))
	{
		JsonbIterator *it = JsonbIteratorInit(props.val.binary.data);
		JsonbValue	k;
		JsonbIteratorToken tok;

		while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
		{
			char	   *field;
			JsonbValue	spec,
						t,
						v,
						en;

			if (tok != WJB_KEY)
				continue;
			field = jbv_cstring(&k);
			tok = JsonbIteratorNext(&it, &spec, true);
			if (!jbv_get_key(&data, field, &v) || v.type == jbvNull)
				continue;
			/* fields every node accepts are checked by parse_common */
			if (strcmp(field, "retry") == 0 || strcmp(field, "timeoutMs") == 0 ||
				strcmp(field, "onError") == 0 || strcmp(field, "breakpoint") == 0)
				continue;
			if (jbv_get_key(&spec, "type", &t) && t.type == jbvString)
			{
				char	   *tn = jbv_cstring(&t);

				if (!type_matches(tn, &v))
				{
					fl_issue_add(&wf->issues, "INVALID_FIELD_TYPE", nd->id, NULL, pstrdup(field),
								 "node \"%s\" (%s): field \"%s\" must be %s %s, got %s",
								 nd->id, nd->type, field,
								 (tn[0] == 'a' || tn[0] == 'o' || tn[0] == 'i') ? "an" : "a",
								 tn, jbv_type_name(&v));
					continue;
				}
			}
			if (jbv_get_key(&spec, "enum", &en) && jbv_is_array(&en) &&
				!(v.type == jbvString && fl_contains_template(jbv_cstring(&v))))
			{
				int			n = jbv_array_size(&en);
				bool		ok = false;

				for (int i = 0; i < n && !ok; i++)
				{
					JsonbValue	opt;

					ok = jbv_get_index(&en, i, &opt) && jbv_equal(&opt, &v);
				}
				if (!ok)
					fl_issue_add(&wf->issues, "INVALID_FIELD_TYPE", nd->id, NULL, pstrdup(field),
								 "node \"%s\" (%s): field \"%s\" must be one of %s, got %s",
								 nd->id, nd->type, field,
								 jsonb_to_cstring(jbv_to_jsonb(&en)), jbv_to_text(&v));
			}
		}
	}
}

/* Operator names inside condition-like rule lists. */
static void
check_rules(FlWorkflow *wf, FlNodeDef *nd, const JsonbValue *list, const char *path)
{
	int			n;

	if (!jbv_is_array(list))
		return;
	n = jbv_array_size(list);
	for (int i = 0; i < n; i++)
	{
		JsonbValue	el,
					op,
					sub;
		char	   *p = psprintf("%s[%d]", path, i);

		if (!jbv_get_index(list, i, &el) || !jbv_is_object(&el))
		{
			fl_issue_add(&wf->issues, "INVALID_FIELD_TYPE", nd->id, NULL, p,
						 "node \"%s\": %s must be an object (a rule or a group)", nd->id, p);
			continue;
		}
		if (jbv_get_key(&el, "conditions", &sub))
		{
			check_rules(wf, nd, &sub, psprintf("%s.conditions", p));
			continue;
		}
		if (jbv_get_key(&el, "operator", &op) && op.type != jbvNull)
		{
			char	   *name = jbv_cstring(&op);

			if (name != NULL && fl_contains_template(name))
				continue;		/* decided when it resolves */
			if (name == NULL || fl_cond_op_parse(name) < 0)
				fl_issue_add(&wf->issues, "INVALID_FIELD_TYPE", nd->id, NULL, psprintf("%s.operator", p),
							 "node \"%s\": %s.operator: unknown operator %s; expected one of %s",
							 nd->id, p, jbv_to_text(&op), fl_cond_op_list());
		}
	}
}

/*
 * Every "{{…}}" in the node's data must parse (a run would fail on it):
 * reported with the top-level field that holds it.
 */
static void
check_templates(FlWorkflow *wf, FlNodeDef *nd)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			depth = 0;
	char	   *field = NULL;

	if (nd->data == NULL || !JB_ROOT_IS_OBJECT(nd->data))
		return;
	it = JsonbIteratorInit(&nd->data->root);
	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		fl_template t;
		char		errbuf[256];

		if (tok == WJB_BEGIN_OBJECT || tok == WJB_BEGIN_ARRAY)
			depth++;
		else if (tok == WJB_END_OBJECT || tok == WJB_END_ARRAY)
			depth--;
		else if (tok == WJB_KEY && depth == 1)
			field = pnstrdup(v.val.string.val, v.val.string.len);
		else if ((tok == WJB_VALUE || tok == WJB_ELEM) && v.type == jbvString &&
				 fl_template_maybe(v.val.string.val, v.val.string.len))
		{
			if (fl_template_parse(v.val.string.val, v.val.string.len, &t, errbuf, sizeof(errbuf)))
				fl_template_free(&t);
			else
				fl_issue_add(&wf->issues, "INVALID_FIELD_TYPE", nd->id, NULL, field,
							 "node \"%s\": field \"%s\" has a bad template: %s", nd->id,
							 field ? field : "", errbuf);
		}
	}
}

/* A whole number from min to max in a common field, else an issue naming it. */
static int64
common_int(FlWorkflow *wf, FlNodeDef *nd, const JsonbValue *v, const char *field,
		   int64 min, int64 max, int64 dflt)
{
	int64		x;

	if (jbv_int_between(v, min, max, &x))
		return x;
	fl_issue_add(&wf->issues, "INVALID_FIELD_TYPE", nd->id, NULL, field,
				 "node \"%s\": field \"%s\" must be an integer from " INT64_FORMAT " to " INT64_FORMAT ", got %s",
				 nd->id, field, min, max, jbv_to_text(v));
	return dflt;
}

/*
 * retry, timeoutMs (-1 when not given: flowent.node_timeout_ms applies; 0:
 * none), onError, breakpoint: accepted by every node.
 */
static void
parse_common(FlWorkflow *wf, FlNodeDef *nd)
{
	JsonbValue	data,
				v,
				x;

	nd->retry_max = 1;
	nd->timeout_ms = -1;
	nd->on_error = FL_ONERROR_STOP;
	jbv_from_jsonb(nd->data, &data);
	if (!(jbv_get_key(&data, "retry", &v) && v.type != jbvNull))
	{
		/* a type that calls a flaky service retries unless told otherwise (llm-agent) */
		if (nd->info && nd->info->impl && nd->info->impl->default_attempts > 0)
		{
			nd->retry_max = nd->info->impl->default_attempts;
			nd->retry_backoff_ms = nd->info->impl->default_backoff_ms;
		}
	}
	else
	{
		if (!jbv_is_object(&v))
			fl_issue_add(&wf->issues, "INVALID_FIELD_TYPE", nd->id, NULL, "retry",
						 "node \"%s\": field \"retry\" must be an object {maxAttempts, backoffMs}", nd->id);
		else
		{
			if (jbv_get_key(&v, "maxAttempts", &x))
				nd->retry_max = (int) common_int(wf, nd, &x, "retry.maxAttempts", 1, 100, 1);
			if (jbv_get_key(&v, "backoffMs", &x))
				nd->retry_backoff_ms = (int) common_int(wf, nd, &x, "retry.backoffMs", 0, 3600000, 0);
		}
	}
	if (jbv_get_key(&data, "timeoutMs", &v) && v.type != jbvNull)
		nd->timeout_ms = (int) common_int(wf, nd, &v, "timeoutMs", 0, 86400000, -1);
	if (jbv_get_key(&data, "onError", &v) && v.type != jbvNull)
	{
		char	   *s = jbv_cstring(&v);

		if (s && strcmp(s, "stop") == 0)
			nd->on_error = FL_ONERROR_STOP;
		else if (s && strcmp(s, "continue") == 0)
			nd->on_error = FL_ONERROR_CONTINUE;
		else if (s && strcmp(s, "branch") == 0)
			nd->on_error = FL_ONERROR_BRANCH;
		else
			fl_issue_add(&wf->issues, "INVALID_FIELD_TYPE", nd->id, NULL, "onError",
						 "node \"%s\": field \"onError\" must be one of \"stop\", \"continue\", \"branch\"", nd->id);
	}
	if (jbv_get_key(&data, "breakpoint", &v) && v.type != jbvNull)
	{
		if (v.type != jbvBool)
			fl_issue_add(&wf->issues, "INVALID_FIELD_TYPE", nd->id, NULL, "breakpoint",
						 "node \"%s\": field \"breakpoint\" must be a boolean", nd->id);
		else
			nd->breakpoint = v.val.boolean;
	}
}

/* Output handles: the registry's, switch case ids, and "error" for onError=branch. */
static void
build_handles(FlWorkflow *wf, FlNodeDef *nd)
{
	List	   *hs = NIL;
	JsonbValue	data,
				cases;
	ListCell   *lc;
	int			i = 0;

	jbv_from_jsonb(nd->data, &data);
	if (strcmp(nd->type, "switch") == 0 && jbv_get_key(&data, "cases", &cases) && jbv_is_array(&cases))
	{
		int			n = jbv_array_size(&cases);

		for (int k = 0; k < n; k++)
		{
			JsonbValue	c,
						id;

			if (jbv_get_index(&cases, k, &c) && jbv_get_key(&c, "id", &id) && id.type == jbvString)
				hs = lappend(hs, jbv_cstring(&id));
			else
				fl_issue_add(&wf->issues, "INVALID_FIELD_TYPE", nd->id, NULL, psprintf("cases[%d].id", k),
							 "node \"%s\": cases[%d] must be an object with a string \"id\"", nd->id, k);
		}
	}
	for (int k = 0; k < nd->info->nhandles; k++)
		hs = lappend(hs, (char *) nd->info->handles[k]);
	if (nd->on_error == FL_ONERROR_BRANCH)
		hs = lappend(hs, "error");
	nd->handles = palloc0(sizeof(char *) * (list_length(hs) + 1));
	nd->error_handle = -1;
	foreach(lc, hs)
	{
		if (strcmp(lfirst(lc), "error") == 0 && nd->on_error == FL_ONERROR_BRANCH)
			nd->error_handle = i;
		nd->handles[i++] = lfirst(lc);
	}
	nd->nhandles = i;
}

/* Node-specific checks beyond the schema. */
static void
check_node_specific(FlWorkflow *wf, FlNodeDef *nd)
{
	JsonbValue	data,
				v;

	jbv_from_jsonb(nd->data, &data);
	if ((strcmp(nd->type, "condition") == 0 || strcmp(nd->type, "filter") == 0) &&
		jbv_get_key(&data, "conditions", &v))
		check_rules(wf, nd, &v, "conditions");
	if (strcmp(nd->type, "switch") == 0 && jbv_get_key(&data, "cases", &v))
		check_rules(wf, nd, &v, "cases");
}

/*
 * Parse and check a workflow graph.  Structural faults raise 22023 (as
 * saving does); everything else becomes an issue.
 */
FlWorkflow *
fl_workflow_build(Jsonb *nodes, Jsonb *edges, MemoryContext parent)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "flowent workflow", ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	FlWorkflow *wf = palloc0(sizeof(FlWorkflow));
	JsonbValue	nv,
				ev;
	int			nn,
				ne;

	wf->cxt = cxt;
	wf->registry_generation = fl_registry_generation();
	nodes = DatumGetJsonbPCopy(PointerGetDatum(nodes));
	edges = DatumGetJsonbPCopy(PointerGetDatum(edges));
	jbv_from_jsonb(nodes, &nv);
	jbv_from_jsonb(edges, &ev);
	if (!jbv_is_array(&nv))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("nodes must be a JSON array, got %s", jbv_type_name(&nv))));
	if (!jbv_is_array(&ev))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("edges must be a JSON array, got %s", jbv_type_name(&ev))));
	nn = jbv_array_size(&nv);
	ne = jbv_array_size(&ev);
	if (nn > fl_max_nodes)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("workflow has %d nodes; the limit is %d (flowent.max_nodes)", nn, fl_max_nodes)));
	wf->nnodes = nn;
	wf->nodes = palloc0(sizeof(FlNodeDef) * (nn + 1));
	wf->graph = fl_graph_create(nn, ne);

	for (int i = 0; i < nn; i++)
	{
		FlNodeDef  *nd = &wf->nodes[i];
		JsonbValue	el,
					data,
					label;
		bool		present;
		int			flags = 0;

		CHECK_FOR_INTERRUPTS();
		jbv_get_index(&nv, i, &el);
		if (!jbv_is_object(&el))
			structural("%s[%d] must be an object%s", "nodes", i, "");
		nd->id = member_string(&el, "id", &present);
		if (nd->id == NULL)
			structural("%s[%d]: \"%s\" must be a string", "nodes", i, "id");
		nd->type = member_string(&el, "type", &present);
		if (nd->type == NULL)
			structural("%s[%d]: \"%s\" must be a string", "nodes", i, "type");
		if (jbv_get_key(&el, "data", &data) && data.type != jbvNull)
		{
			if (!jbv_is_object(&data))
			{
				fl_issue_add(&wf->issues, "INVALID_FIELD_TYPE", nd->id, NULL, "data",
							 "node \"%s\": \"data\" must be an object", nd->id);
				nd->data = jsonb_from_cstring("{}", 2);
			}
			else
				nd->data = jbv_to_jsonb(&data);
		}
		else
			nd->data = jsonb_from_cstring("{}", 2);
		if (jb_get(nd->data, "label", &label) && label.type == jbvString)
			nd->label = jbv_cstring(&label);
		if (nd->label && pg_mbstrlen(nd->label) > 255)
			fl_issue_add(&wf->issues, "INVALID_FIELD_TYPE", nd->id, NULL, "label",
						 "node \"%s\": its label has %d characters; at most 255", nd->id, pg_mbstrlen(nd->label));
		if (pg_mbstrlen(nd->type) > 50)
			fl_issue_add(&wf->issues, "INVALID_FIELD_TYPE", nd->id, NULL, "type",
						 "node \"%s\": its type name has %d characters; at most 50", nd->id, pg_mbstrlen(nd->type));
		nd->info = fl_registry_lookup(nd->type);
		parse_common(wf, nd);
		if (nd->info == NULL)
		{
			fl_issue_add(&wf->issues, "UNKNOWN_NODE_TYPE", nd->id, NULL, "type",
						 "node \"%s\": unknown node type \"%s\"", nd->id, nd->type);
			flags |= FL_NODE_UNKNOWN_TYPE;
			nd->handles = palloc0(sizeof(char *));
			nd->error_handle = -1;
		}
		else
		{
			check_schema(wf, nd);
			check_node_specific(wf, nd);
			check_templates(wf, nd);
			build_handles(wf, nd);
		}
		if (strcmp(nd->type, "trigger") == 0)
			flags |= FL_NODE_TRIGGER;
		if (strcmp(nd->type, "loop-controller") == 0)
			flags |= FL_NODE_LOOP;
		fl_graph_set_node(wf->graph, i, nd->id, nd->type, flags, nd->handles, nd->nhandles);
	}
	for (int i = 0; i < ne; i++)
	{
		JsonbValue	el;
		bool		present;
		char	   *id,
				   *src,
				   *dst,
				   *sh,
				   *th;

		jbv_get_index(&ev, i, &el);
		if (!jbv_is_object(&el))
			structural("%s[%d] must be an object%s", "edges", i, "");
		id = member_string(&el, "id", &present);
		if (id == NULL)
			structural("%s[%d]: \"%s\" must be a string", "edges", i, "id");
		src = member_string(&el, "source", &present);
		if (src == NULL)
			structural("%s[%d]: \"%s\" must be a string", "edges", i, "source");
		dst = member_string(&el, "target", &present);
		if (dst == NULL)
			structural("%s[%d]: \"%s\" must be a string", "edges", i, "target");
		sh = member_string(&el, "sourceHandle", &present);
		th = member_string(&el, "targetHandle", &present);
		fl_graph_set_edge(wf->graph, i, id, src, dst, sh, th);
	}
	fl_graph_finish(wf->graph, &wf->issues);
	wf->valid = (wf->issues.n == 0);
	MemoryContextSwitchTo(old);
	return wf;
}

/* The validate() result: {valid, errors:[{code, nodeId?, edgeId?, field?, message}]} */
Jsonb *
fl_issues_to_jsonb(FlWorkflow *wf)
{
	JB			b = {0};

	jb_obj_begin(&b);
	jb_kv_bool(&b, "valid", wf->issues.n == 0);
	jb_key(&b, "errors");
	jb_arr_begin(&b);
	for (int i = 0; i < wf->issues.n; i++)
	{
		fl_issue   *it = &wf->issues.items[i];

		jb_obj_begin(&b);
		jb_kv_str(&b, "code", it->code);
		if (it->node_id)
			jb_kv_str(&b, "nodeId", it->node_id);
		if (it->edge_id)
			jb_kv_str(&b, "edgeId", it->edge_id);
		if (it->field)
			jb_kv_str(&b, "field", it->field);
		jb_kv_str(&b, "message", it->message);
		jb_obj_end(&b);
	}
	jb_arr_end(&b);
	jb_obj_end(&b);
	return jb_finish(&b);
}

/* Running an invalid graph is bad input: 22023 with the validation JSON. */
void
fl_workflow_check_runnable(FlWorkflow *wf)
{
	if (!wf->valid)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("workflow \"%s\" is not valid: %s", wf->name ? wf->name : "",
						wf->issues.items[0].message),
				 errdetail("%s", jsonb_to_cstring(fl_issues_to_jsonb(wf)))));
}

/* ---- cache of parsed versions, keyed by (workflow id, version) ---- */

typedef struct CacheKey
{
	pg_uuid_t	id;
	int			version;
} CacheKey;

typedef struct CacheEntry
{
	CacheKey	key;
	FlWorkflow *wf;
} CacheEntry;

static FlCache wf_cache = FL_CACHE_INIT("flowent workflows", CacheKey, CacheEntry, 256, false);
static SPIPlanPtr head_plan = NULL;
static SPIPlanPtr body_plan = NULL;

/*
 * Load a workflow version visible to the current user (row-level security
 * applies): version < 1 means the latest, or the published one.
 */
FlWorkflow *
fl_workflow_load(pg_uuid_t *id, int version, bool published)
{
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};
	Oid			types[3] = {UUIDOID, INT4OID, BOOLOID};
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	CacheKey	key;
	CacheEntry *ce;
	char	   *name,
			   *owner;
	Oid			run_as;
	int			ver;
	bool		archived;
	FlWorkflow *wf;

	if (head_plan == NULL)
	{
		SPIPlanPtr	p = fl_spi_prepare("SELECT w.name, w.user_id, w.run_as, "
									"  CASE WHEN $2 IS NOT NULL THEN $2 WHEN $3 THEN w.published_version ELSE w.version END, "
									"  w.status = 'archived' "
									"FROM flowent.workflows w WHERE w.id = $1", 3, types);

		if (p == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(p);
		head_plan = p;
	}
	args[0] = UUIDPGetDatum(id);
	args[1] = Int32GetDatum(version);
	nulls[1] = version > 0 ? ' ' : 'n';
	args[2] = BoolGetDatum(published);
	if (fl_spi_plan(head_plan, args, nulls, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read flowent.workflows");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("workflow %s does not exist or is not visible", FL_UUID_STR(id))));
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	name = SPI_getvalue(tup, desc, 1);
	owner = SPI_getvalue(tup, desc, 2);
	{
		/* the role through the syscache: pg_roles is a view with a join */
		char	   *role = SPI_getvalue(tup, desc, 3);

		run_as = role ? get_role_oid(role, true) : InvalidOid;
	}
	ver = DatumGetInt32(SPI_getbinval(tup, desc, 4, &isnull));
	archived = DatumGetBool(SPI_getbinval(tup, desc, 5, &isnull));
	if (published && (isnull || ver < 1))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("workflow %s is not published", FL_UUID_STR(id)),
				 errhint("Call flowent.publish() first.")));

	memset(&key, 0, sizeof(key));
	memcpy(&key.id, id, sizeof(pg_uuid_t));
	key.version = ver;
	ce = fl_cache_find(&wf_cache, &key);
	if (ce != NULL && (ce->wf == NULL || ce->wf->registry_generation != fl_registry_generation()))
	{
		/* parsed with node types since changed (a run may still use it: retired) */
		fl_cache_remove(&wf_cache, &key, ce->wf ? ce->wf->cxt : NULL);
		ce = NULL;
	}
	if (ce == NULL)
	{
		Datum		bargs[2];
		Oid			btypes[2] = {UUIDOID, INT4OID};
		Jsonb	   *nodes,
				   *edges;

		if (body_plan == NULL)
		{
			SPIPlanPtr	p = fl_spi_prepare("SELECT nodes, edges FROM flowent.workflow_versions "
										"WHERE workflow_id = $1 AND version = $2", 2, btypes);

			if (p == NULL)
				elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
			SPI_keepplan(p);
			body_plan = p;
		}
		bargs[0] = UUIDPGetDatum(id);
		bargs[1] = Int32GetDatum(ver);
		if (fl_spi_plan(body_plan, bargs, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not read flowent.workflow_versions");
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("workflow %s has no version %d", FL_UUID_STR(id), ver)));
		nodes = DatumGetJsonbP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		edges = DatumGetJsonbP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		/* entered first: a full cache resets there (retiring, not freeing, what runs use) */
		ce = fl_cache_enter(&wf_cache, &key);
		wf = fl_workflow_build(nodes, edges, fl_cache_context(&wf_cache));
		memcpy(&wf->id, id, sizeof(pg_uuid_t));
		wf->version = ver;
		ce->wf = wf;
	}
	wf = ce->wf;
	/* mutable attributes come from the row, not the cache */
	if (wf->name == NULL || strcmp(wf->name, name) != 0)
		wf->name = MemoryContextStrdup(wf->cxt, name);
	if (wf->owner == NULL || strcmp(wf->owner, owner) != 0)
		wf->owner = MemoryContextStrdup(wf->cxt, owner);
	wf->run_as = run_as;
	wf->archived = archived;
	return wf;
}

/* New runs of an archived workflow are refused (its suspended ones go on). */
void
fl_workflow_check_startable(FlWorkflow *wf)
{
	if (wf->archived)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("workflow %s is archived: an archived workflow does not run", FL_UUID_STR(&wf->id)),
				 errhint("Set its status to draft or active with flowent.update_workflow() first.")));
}

/*
 * Whether user_id may see workflow wf (the rules of row-level security,
 * for a user who is not the session's); superusers see everything.
 */
static bool
fl_workflow_visible_to(pg_uuid_t *wf, const char *user_id)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[3] = {UUIDOID, TEXTOID, BOOLOID};
	Datum		a[3];
	bool		isnull;
	Oid			role = get_role_oid(user_id, true);

	a[0] = UUIDPGetDatum(wf);
	a[1] = CStringGetTextDatum(user_id);
	/* a superuser sees every workflow there is */
	a[2] = BoolGetDatum(OidIsValid(role) && superuser_arg(role));
	if (fl_owner_query(&plan, "SELECT CASE WHEN $3 THEN EXISTS (SELECT 1 FROM flowent.workflows WHERE id = $1) "
					   "ELSE flowent._workflow_visible_to($1, $2) END",
					   3, types, a, NULL, 1) != SPI_OK_SELECT || SPI_processed != 1)
		return false;
	return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * Load a workflow version for an execution's user, whoever runs this
 * session (a worker, an approver): visibility is that user's, the reading
 * the schema owner's.  Not visible: NULL when missing_ok, else an error.
 */
FlWorkflow *
fl_workflow_load_for(pg_uuid_t *id, int version, const char *user_id, bool missing_ok)
{
	FlOwner		own;
	FlWorkflow *wf;

	if (!fl_workflow_visible_to(id, user_id))
	{
		if (missing_ok)
			return NULL;
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("workflow %s does not exist or is not visible to %s", FL_UUID_STR(id), user_id)));
	}
	fl_owner_begin(&own);
	wf = fl_workflow_load(id, version, false);
	fl_owner_end(&own);
	return wf;
}
