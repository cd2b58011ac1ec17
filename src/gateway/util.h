/*
 * util.h
 *	  Allocation that cannot fail quietly, logging, small string helpers.
 */
#ifndef GW_UTIL_H
#define GW_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

void	   *gw_alloc(size_t n);		/* zeroed; dies when out of memory */
void	   *gw_realloc(void *p, size_t n);
char	   *gw_strdup(const char *s);
char	   *gw_strndup(const char *s, size_t n);
char	   *gw_printf(const char *fmt,...) __attribute__((format(printf, 1, 2)));

void		gw_log(const char *fmt,...) __attribute__((format(printf, 1, 2)));
void		gw_die(const char *fmt,...) __attribute__((format(printf, 1, 2), noreturn));

/* a growable byte buffer */
typedef struct gw_buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} gw_buf;

void		gw_buf_add(gw_buf *b, const void *p, size_t n);
void		gw_buf_str(gw_buf *b, const char *s);
void		gw_buf_printf(gw_buf *b, const char *fmt,...) __attribute__((format(printf, 2, 3)));
void		gw_buf_free(gw_buf *b);
/* lower-case hex of sha256(s), as the database's encode(sha256(...), 'hex') */
void		gw_sha256_hex(const char *s, char out[65]);
/* s as a JSON string literal, quotes included */
void		gw_buf_json_str(gw_buf *b, const char *s);
/*
 * s as the next element of a PostgreSQL array literal being built in b
 * (after its "{"): quoted, \ and " escaped; NULL for s NULL
 */
void		gw_buf_array_element(gw_buf *b, const char *s);

/*
 * A message of the gateway's own on a socket: {"type": type, key: id,
 * "code": code, "message": message}; key and code may be NULL (left out).
 */
void		gw_buf_message(gw_buf *b, const char *type, const char *key, const char *id,
						   const char *code, const char *message);

bool		gw_is_uuid(const char *s);
/* is item one of the comma-separated list (spaces around items ignored)? */
bool		gw_list_has(const char *list, const char *item, bool ignore_case);
/* is origin one of the comma-separated list (exact match, or "*")? */
bool		gw_origin_allowed(const char *list, const char *origin);

#endif
