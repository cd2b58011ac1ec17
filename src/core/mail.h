/*
 * mail.h
 *	  What the email node and the HTTP client read from text: a mail address
 *	  ("name@example.com" or "Name <name@example.com>") and a response's
 *	  Retry-After header.  Pure C, no allocation: results point into the
 *	  input.
 */
#ifndef FL_MAIL_H
#define FL_MAIL_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Split s (len bytes) into the address and the display name (name_len 0:
 * none).  False when it is not one: no single @ with text on both sides,
 * spaces, brackets, quotes or control bytes in the address, anything after
 * a closing ">", a CR, LF or NUL anywhere.
 */
extern bool fl_mail_address(const char *s, size_t len, const char **addr, size_t *addr_len,
							const char **name, size_t *name_len);

/*
 * The value of the first Retry-After header among raw header lines (hdr,
 * len bytes: "Name: value\r\n" ...), blanks trimmed; false when there is
 * none or it is empty.
 */
extern bool fl_retry_after_header(const char *hdr, size_t len, const char **value, size_t *value_len);

/* A value of delta-seconds ("120"), into *secs (capped at cap); false when it is not one. */
extern bool fl_retry_after_seconds(const char *value, size_t len, long cap, long *secs);

#endif
