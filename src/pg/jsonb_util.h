/*
 * jsonb_util.h
 *	  Small helpers for reading and building jsonb values in C.
 *
 * User data stays jsonb end to end: numbers are PostgreSQL numerics, so a
 * payload comes out exactly as it went in.
 */
#ifndef FL_JSONB_UTIL_H
#define FL_JSONB_UTIL_H

#include "postgres.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

/* A value from a Jsonb: scalars unpacked, containers as jbvBinary. */
extern void jbv_from_jsonb(Jsonb *j, JsonbValue *out);
extern Jsonb *jbv_to_jsonb(const JsonbValue *v);
extern bool jbv_is_object(const JsonbValue *v);
extern bool jbv_is_array(const JsonbValue *v);
extern int	jbv_array_size(const JsonbValue *v);
extern bool jbv_get_key(const JsonbValue *obj, const char *key, JsonbValue *out);
extern bool jbv_get_index(const JsonbValue *arr, int idx, JsonbValue *out);
extern const char *jbv_type_name(const JsonbValue *v);
extern bool fl_is_uuid(const char *s);
extern bool jbv_int_between(const JsonbValue *v, int64 min, int64 max, int64 *out);
/* NUL-terminated copy of a string value, or NULL when not a string */
extern char *jbv_cstring(const JsonbValue *v);
extern bool jbv_equal(const JsonbValue *a, const JsonbValue *b);
/* text form: strings raw, null as "null", containers compact JSON */
extern char *jbv_to_text(const JsonbValue *v);
extern char *jsonb_to_cstring(Jsonb *j);
extern char *jsonb_to_compact(Jsonb *j);

/* Shortcuts on Jsonb objects */
extern bool jb_get(Jsonb *obj, const char *key, JsonbValue *out);
extern char *jb_get_cstring(Jsonb *obj, const char *key);
extern bool jb_get_bool(Jsonb *obj, const char *key, bool dflt);

/* Building */
typedef struct JB
{
	JsonbParseState *st;
	JsonbValue *res;
} JB;

extern void jb_obj_begin(JB *b);
extern void jb_obj_end(JB *b);
extern void jb_arr_begin(JB *b);
extern void jb_arr_end(JB *b);
extern void jb_key(JB *b, const char *key);
extern void jb_str(JB *b, const char *s);
extern void jb_strn(JB *b, const char *s, int len);
extern void jb_int(JB *b, int64 v);
extern void jb_numeric(JB *b, Numeric n);
extern void jb_bool(JB *b, bool v);
extern void jb_null(JB *b);
extern void jb_val(JB *b, const JsonbValue *v);
extern void jb_jsonb(JB *b, Jsonb *j);
/* key + value in one call (value NULL: JSON null) */
extern void jb_kv_str(JB *b, const char *key, const char *s);
extern void jb_kv_int(JB *b, const char *key, int64 v);
extern void jb_kv_bool(JB *b, const char *key, bool v);
extern void jb_kv_jsonb(JB *b, const char *key, Jsonb *j);
/* Add every key of object obj (but `skip`, if given) to the object being built. */
extern void jb_kv_merge(JB *b, Jsonb *obj, const char *skip);
extern Jsonb *jb_finish(JB *b);

extern Jsonb *jsonb_null(void);
extern Jsonb *jsonb_from_cstring(const char *s, int len);
extern Jsonb *jsonb_string(const char *s);

#endif
