/*
 * signature.c
 *	  HMAC-SHA256 webhook signatures, compared in constant time.
 */
#include "gateway/signature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool
gw_sig_parse(const char *h, uint8_t out[32])
{
	if (h == NULL || strncmp(h, "sha256=", 7) != 0 || strlen(h + 7) != 64)
		return false;
	h += 7;
	for (int i = 0; i < 32; i++)
	{
		int			hi = hexval(h[2 * i]),
					lo = hexval(h[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t) (hi << 4 | lo);
	}
	return true;
}

bool
gw_sig_parse_ts(const char *h, int64_t *ts)
{
	int64_t		v = 0;
	size_t		n = h ? strlen(h) : 0;

	if (n == 0 || n > 12)
		return false;
	for (size_t i = 0; i < n; i++)
	{
		if (h[i] < '0' || h[i] > '9')
			return false;
		v = v * 10 + (h[i] - '0');
	}
	*ts = v;
	return true;
}

void
gw_sig_compute(const char *secret, const char *ts, const char *body, size_t body_len, uint8_t out[32])
{
	size_t		tl = strlen(ts);
	unsigned char *msg = malloc(tl + 1 + body_len + 1);
	unsigned int n = 32;

	if (msg == NULL)
		abort();
	memcpy(msg, ts, tl);
	msg[tl] = '.';
	if (body_len)
		memcpy(msg + tl + 1, body, body_len);
	HMAC(EVP_sha256(), secret, (int) strlen(secret), msg, tl + 1 + body_len, out, &n);
	free(msg);
}

gw_sig_status
gw_sig_check(const char *secret, const char *ts_header, const char *sig_header,
			 const char *body, size_t body_len, int64_t now, int64_t max_age_s)
{
	uint8_t		given[32],
				want[32];
	int64_t		ts;

	if (ts_header == NULL || sig_header == NULL)
		return SIG_MISSING;
	if (!gw_sig_parse_ts(ts_header, &ts) || !gw_sig_parse(sig_header, given))
		return SIG_MALFORMED;
	if (ts < now - max_age_s || ts > now + max_age_s)
		return SIG_STALE;
	gw_sig_compute(secret, ts_header, body, body_len, want);
	return CRYPTO_memcmp(given, want, 32) == 0 ? SIG_OK : SIG_MISMATCH;
}

const char *
gw_sig_status_text(gw_sig_status s)
{
	switch (s)
	{
		case SIG_OK:
			return "valid";
		case SIG_MISSING:
			return "X-Flowent-Timestamp and X-Flowent-Signature are required";
		case SIG_MALFORMED:
			return "X-Flowent-Signature must be sha256=<64 hex digits> and X-Flowent-Timestamp unix seconds";
		case SIG_STALE:
			return "the signature's timestamp is more than 5 minutes away from now";
		case SIG_MISMATCH:
			return "the signature does not match the body";
	}
	return "invalid signature";
}
