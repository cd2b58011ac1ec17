/*
 * jsonb_util.c
 *	  Reading and building jsonb values.
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "pg/jsonb_util.h"

/* Unpack a Jsonb: scalar roots become plain scalars. */
void
jbv_from_jsonb(Jsonb *j, JsonbValue *out)
{
	if (JB_ROOT_IS_SCALAR(j))
	{
		if (!JsonbExtractScalar(&j->root, out))
			elog(ERROR, "could not extract jsonb scalar");
		return;
	}
	out->type = jbvBinary;
	out->val.binary.data = &j->root;
	out->val.binary.len = VARSIZE(j) - VARHDRSZ;
}

/* Pack a value into a Jsonb. */
Jsonb *
jbv_to_jsonb(const JsonbValue *v)
{
	if (v->type == jbvBinary && JsonContainerIsScalar(v->val.binary.data))
	{
		JsonbValue	s;

		JsonbExtractScalar(v->val.binary.data, &s);
		return JsonbValueToJsonb(&s);
	}
	return JsonbValueToJsonb((JsonbValue *) v);
}

bool
jbv_is_object(const JsonbValue *v)
{
	return (v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data)) ||
		v->type == jbvObject;
}

bool
jbv_is_array(const JsonbValue *v)
{
	return (v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data) &&
			!JsonContainerIsScalar(v->val.binary.data)) ||
		v->type == jbvArray;
}

/* Number of elements of a binary array (or -1). */
int
jbv_array_size(const JsonbValue *v)
{
	if (!jbv_is_array(v) || v->type != jbvBinary)
		return v->type == jbvArray ? v->val.array.nElems : -1;
	return JsonContainerSize(v->val.binary.data);
}

/* Normalise what getKey/getIth return: scalar-in-binary is unwrapped. */
static void
normalise(JsonbValue *v)
{
	if (v->type == jbvBinary && JsonContainerIsScalar(v->val.binary.data))
	{
		JsonbValue	s;

		JsonbExtractScalar(v->val.binary.data, &s);
		*v = s;
	}
}

/* Member of an object by key. */
bool
jbv_get_key(const JsonbValue *obj, const char *key, JsonbValue *out)
{
	JsonbValue *r;

	if (obj->type != jbvBinary || !JsonContainerIsObject(obj->val.binary.data))
		return false;
	r = getKeyJsonValueFromContainer(obj->val.binary.data, key, strlen(key), out);
	if (r == NULL)
		return false;
	normalise(out);
	return true;
}

/* Element of an array by index. */
bool
jbv_get_index(const JsonbValue *arr, int idx, JsonbValue *out)
{
	JsonbValue *r;

	if (!jbv_is_array(arr) || arr->type != jbvBinary || idx < 0)
		return false;
	r = getIthJsonbValueFromContainer(arr->val.binary.data, (uint32) idx);
	if (r == NULL)
		return false;
	*out = *r;
	normalise(out);
	return true;
}

/* JSON type name of a value, for messages. */
const char *
jbv_type_name(const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return "null";
		case jbvString:
			return "string";
		case jbvNumeric:
			return "number";
		case jbvBool:
			return "boolean";
		case jbvArray:
			return "array";
		case jbvObject:
			return "object";
		case jbvBinary:
			return JsonContainerIsObject(v->val.binary.data) ? "object" : "array";
		default:
			return "unknown";
	}
}

char *
jbv_cstring(const JsonbValue *v)
{
	if (v->type != jbvString)
		return NULL;
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* Deep equality (numbers by value). */
bool
jbv_equal(const JsonbValue *a, const JsonbValue *b)
{
	Jsonb	   *ja,
			   *jb;

	if (a->type != jbvBinary && b->type != jbvBinary)
	{
		if (a->type != b->type)
			return false;
		switch (a->type)
		{
			case jbvNull:
				return true;
			case jbvBool:
				return a->val.boolean == b->val.boolean;
			case jbvString:
				return a->val.string.len == b->val.string.len &&
					memcmp(a->val.string.val, b->val.string.val, a->val.string.len) == 0;
			case jbvNumeric:
				return DatumGetInt32(DirectFunctionCall2(numeric_cmp,
														 NumericGetDatum(a->val.numeric),
														 NumericGetDatum(b->val.numeric))) == 0;
			default:
				return false;
		}
	}
	if (a->type != jbvBinary || b->type != jbvBinary)
		return false;
	ja = jbv_to_jsonb(a);
	jb = jbv_to_jsonb(b);
	return compareJsonbContainers(&ja->root, &jb->root) == 0;
}

/* Text rendering used inside longer template strings. */
char *
jbv_to_text(const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return pstrdup("null");
		case jbvString:
			return pnstrdup(v->val.string.val, v->val.string.len);
		case jbvBool:
			return pstrdup(v->val.boolean ? "true" : "false");
		case jbvNumeric:
			return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
		default:
			return jsonb_to_compact(jbv_to_jsonb(v));
	}
}

/* Compact JSON text ({"a":[1,2]}): how values render inside template text. */
char *
jsonb_to_compact(Jsonb *j)
{
	StringInfoData buf;
	JsonbIterator *it = JsonbIteratorInit(&j->root);
	JsonbValue	v;
	JsonbIteratorToken tok;
	bool		first = true;

	initStringInfo(&buf);
	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		switch (tok)
		{
			case WJB_BEGIN_ARRAY:
				if (v.val.array.rawScalar)
					break;
				if (!first)
					appendStringInfoChar(&buf, ',');
				appendStringInfoChar(&buf, '[');
				first = true;
				break;
			case WJB_BEGIN_OBJECT:
				if (!first)
					appendStringInfoChar(&buf, ',');
				appendStringInfoChar(&buf, '{');
				first = true;
				break;
			case WJB_END_ARRAY:
				if (!v.val.array.rawScalar)
					appendStringInfoChar(&buf, ']');
				first = false;
				break;
			case WJB_END_OBJECT:
				appendStringInfoChar(&buf, '}');
				first = false;
				break;
			case WJB_KEY:
				if (!first)
					appendStringInfoChar(&buf, ',');
				escape_json(&buf, pnstrdup(v.val.string.val, v.val.string.len));
				appendStringInfoChar(&buf, ':');
				first = true;	/* the value follows without a comma */
				break;
			case WJB_VALUE:
			case WJB_ELEM:
				if (!first)
					appendStringInfoChar(&buf, ',');
				switch (v.type)
				{
					case jbvNull:
						appendStringInfoString(&buf, "null");
						break;
					case jbvBool:
						appendStringInfoString(&buf, v.val.boolean ? "true" : "false");
						break;
					case jbvString:
						escape_json(&buf, pnstrdup(v.val.string.val, v.val.string.len));
						break;
					case jbvNumeric:
						appendStringInfoString(&buf, DatumGetCString(DirectFunctionCall1(numeric_out,
																						 NumericGetDatum(v.val.numeric))));
						break;
					default:
						break;
				}
				first = false;
				break;
			default:
				break;
		}
	}
	return buf.data;
}

/* Compact JSON text of a Jsonb. */
char *
jsonb_to_cstring(Jsonb *j)
{
	return JsonbToCString(NULL, &j->root, VARSIZE(j));
}

bool
jb_get(Jsonb *obj, const char *key, JsonbValue *out)
{
	JsonbValue	o;

	if (obj == NULL)
		return false;
	jbv_from_jsonb(obj, &o);
	return jbv_get_key(&o, key, out);
}

char *
jb_get_cstring(Jsonb *obj, const char *key)
{
	JsonbValue	v;

	if (!jb_get(obj, key, &v))
		return NULL;
	return jbv_cstring(&v);
}

bool
jb_get_bool(Jsonb *obj, const char *key, bool dflt)
{
	JsonbValue	v;

	if (!jb_get(obj, key, &v) || v.type != jbvBool)
		return dflt;
	return v.val.boolean;
}

void
jb_obj_begin(JB *b)
{
	b->res = pushJsonbValue(&b->st, WJB_BEGIN_OBJECT, NULL);
}

void
jb_obj_end(JB *b)
{
	b->res = pushJsonbValue(&b->st, WJB_END_OBJECT, NULL);
}

void
jb_arr_begin(JB *b)
{
	b->res = pushJsonbValue(&b->st, WJB_BEGIN_ARRAY, NULL);
}

void
jb_arr_end(JB *b)
{
	b->res = pushJsonbValue(&b->st, WJB_END_ARRAY, NULL);
}

/* Push a scalar or container value in value/element position. */
static void
push_value(JB *b, JsonbValue *v)
{
	JsonbIteratorToken tok = WJB_ELEM;

	if (b->st != NULL && b->st->contVal.type == jbvObject)
		tok = WJB_VALUE;
	if (b->st == NULL)
	{
		/* a bare scalar or container as the whole result */
		if (v->type == jbvBinary)
		{
			JsonbIterator *it = JsonbIteratorInit(v->val.binary.data);
			JsonbValue	x;
			JsonbIteratorToken t;

			while ((t = JsonbIteratorNext(&it, &x, false)) != WJB_DONE)
				b->res = pushJsonbValue(&b->st, t, t < WJB_BEGIN_ARRAY || (t == WJB_BEGIN_ARRAY && x.val.array.rawScalar) ? &x : NULL);
			return;
		}
		b->res = pushJsonbValue(&b->st, WJB_BEGIN_ARRAY, NULL);
		b->st->contVal.val.array.rawScalar = true;
		pushJsonbValue(&b->st, WJB_ELEM, v);
		b->res = pushJsonbValue(&b->st, WJB_END_ARRAY, NULL);
		return;
	}
	b->res = pushJsonbValue(&b->st, tok, v);
}

void
jb_key(JB *b, const char *key)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	b->res = pushJsonbValue(&b->st, WJB_KEY, &k);
}

void
jb_str(JB *b, const char *s)
{
	if (s == NULL)
	{
		jb_null(b);
		return;
	}
	jb_strn(b, s, strlen(s));
}

void
jb_strn(JB *b, const char *s, int len)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) s;
	v.val.string.len = len;
	push_value(b, &v);
}

void
jb_int(JB *b, int64 i)
{
	JsonbValue	v;

	v.type = jbvNumeric;
	v.val.numeric = int64_to_numeric(i);
	push_value(b, &v);
}

void
jb_numeric(JB *b, Numeric n)
{
	JsonbValue	v;

	v.type = jbvNumeric;
	v.val.numeric = n;
	push_value(b, &v);
}

void
jb_bool(JB *b, bool bv)
{
	JsonbValue	v;

	v.type = jbvBool;
	v.val.boolean = bv;
	push_value(b, &v);
}

void
jb_null(JB *b)
{
	JsonbValue	v;

	v.type = jbvNull;
	push_value(b, &v);
}

void
jb_val(JB *b, const JsonbValue *v)
{
	push_value(b, (JsonbValue *) v);
}

void
jb_jsonb(JB *b, Jsonb *j)
{
	JsonbValue	v;

	if (j == NULL)
	{
		jb_null(b);
		return;
	}
	jbv_from_jsonb(j, &v);
	push_value(b, &v);
}

void
jb_kv_str(JB *b, const char *key, const char *s)
{
	jb_key(b, key);
	jb_str(b, s);
}

void
jb_kv_int(JB *b, const char *key, int64 v)
{
	jb_key(b, key);
	jb_int(b, v);
}

void
jb_kv_bool(JB *b, const char *key, bool v)
{
	jb_key(b, key);
	jb_bool(b, v);
}

void
jb_kv_jsonb(JB *b, const char *key, Jsonb *j)
{
	jb_key(b, key);
	jb_jsonb(b, j);
}

Jsonb *
jb_finish(JB *b)
{
	Jsonb	   *r = JsonbValueToJsonb(b->res);

	b->st = NULL;
	b->res = NULL;
	return r;
}

Jsonb *
jsonb_null(void)
{
	JsonbValue	v;

	v.type = jbvNull;
	return JsonbValueToJsonb(&v);
}

/* Parse JSON text (raises on invalid JSON). */
Jsonb *
jsonb_from_cstring(const char *s, int len)
{
	char	   *z = pnstrdup(s, len);

	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(z)));
}

Jsonb *
jsonb_string(const char *s)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) s;
	v.val.string.len = strlen(s);
	return JsonbValueToJsonb(&v);
}

/* Is v a whole number from min to max?  (Any size of number: never raises.) */
bool
jbv_int_between(const JsonbValue *v, int64 min, int64 max, int64 *out)
{
	char	   *s;
	char	   *end;
	int64		x;

	if (v->type != jbvNumeric || numeric_is_nan(v->val.numeric) || numeric_is_inf(v->val.numeric))
		return false;
	s = numeric_normalize(v->val.numeric);
	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || x < min || x > max)
		return false;
	*out = x;
	return true;
}

/* Would uuid_in accept s?  (32 hex digits, "-" between groups, optional braces) */
bool
fl_is_uuid(const char *s)
{
	int			digits = 0;
	bool		braces = *s == '{';

	if (braces)
		s++;
	for (; *s && !(braces && *s == '}' && s[1] == '\0'); s++)
	{
		if (isxdigit((unsigned char) *s))
			digits++;
		else if (!(*s == '-' && digits > 0 && digits < 32 && digits % 4 == 0 && s[1] != '-'))
			return false;
	}
	return digits == 32 && (!braces || *s == '}');
}

void
jb_kv_merge(JB *b, Jsonb *obj, const char *skip)
{
	JsonbValue	v,
				k,
				val;
	JsonbIterator *it;
	JsonbIteratorToken tok;

	jbv_from_jsonb(obj, &v);
	it = JsonbIteratorInit(v.val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		if (tok != WJB_KEY)
			continue;
		JsonbIteratorNext(&it, &val, true);
		if (skip && strcmp(jbv_cstring(&k), skip) == 0)
			continue;
		jb_key(b, jbv_cstring(&k));
		jb_val(b, &val);
	}
}
