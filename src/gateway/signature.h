/*
 * signature.h
 *	  Webhook signatures (DESIGN §10): X-Flowent-Timestamp (unix seconds) and
 *	  X-Flowent-Signature "sha256=<hex of HMAC-SHA256(secret, ts + "." + body)>".
 *	  No HTTP or database here: unit-tested and fuzzed alone.
 */
#ifndef GW_SIGNATURE_H
#define GW_SIGNATURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum
{
	SIG_OK,
	SIG_MISSING,				/* a header is absent */
	SIG_MALFORMED,				/* not "sha256=" + 64 hex digits, or a timestamp that is not a number */
	SIG_STALE,					/* more than max_age_s away from now */
	SIG_MISMATCH
} gw_sig_status;

/* parse "sha256=<64 hex>" into 32 bytes */
bool		gw_sig_parse(const char *header, uint8_t out[32]);
/* parse a unix timestamp of 1 to 12 digits */
bool		gw_sig_parse_ts(const char *header, int64_t *ts);
void		gw_sig_compute(const char *secret, const char *ts, const char *body, size_t body_len, uint8_t out[32]);
gw_sig_status gw_sig_check(const char *secret, const char *ts_header, const char *sig_header,
						   const char *body, size_t body_len, int64_t now, int64_t max_age_s);
const char *gw_sig_status_text(gw_sig_status s);

#endif
