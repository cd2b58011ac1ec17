/*
 * email.c
 *	  The email node: one message over SMTP or SMTPS through libcurl.
 *
 * data: server (smtp://host:port, or smtps://… for TLS from the start; an
 * smtp:// server that offers STARTTLS gets it), credential ({username,
 * password}, for AUTH), from, to (an address or a list), cc, bcc, replyTo,
 * subject, text and html (at least one), timeoutMs.  An address is
 * "name@example.com" or "Name <name@example.com>".  The message is MIME:
 * text and html as multipart/alternative, each UTF-8 in base64; a subject
 * or name beyond ASCII as an RFC 2047 encoded word; bcc only in the
 * envelope.  Its Message-ID comes from the execution, node and iteration,
 * so a message sent again after a worker's death carries the same one.
 * Output {messageId, accepted: [every recipient's address]}.  Errors: a bad
 * field INVALID_CONFIG (naming it); AUTH refused CREDENTIAL_INVALID; a
 * permanent refusal (SMTP 5xx: an unknown recipient) EMAIL_REJECTED with
 * the server's answer; no connection or a temporary refusal
 * EMAIL_UNAVAILABLE (retryable); TIMEOUT and OUTBOUND_REFUSED as for
 * http-request.  In asynchronous runs the worker's curl loop sends it.
 */
#include "postgres.h"

#include <time.h>

#include "common/base64.h"
#include "lib/stringinfo.h"

#include "core/mail.h"

#include "nodes/fl_nodes.h"
#include "pg/http.h"
#include "pg/http_async.h"
#include "pg/jsonb_util.h"

/* Does s hold a byte that would end a header line (or the message)? */
static bool
breaks_header(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

/* The address of "Name <addr>" or "addr" (core/mail.c); NULL when it is not one. */
static char *
bare_address(const char *s, char **name)
{
	const char *a,
			   *n;
	size_t		alen,
				nlen;

	*name = NULL;
	if (!fl_mail_address(s, strlen(s), &a, &alen, &n, &nlen))
		return NULL;
	if (n)
		*name = pnstrdup(n, nlen);
	return pnstrdup(a, alen);
}

static bool
is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char) *s >= 0x80)
			return false;
	return true;
}

/* s as RFC 2047 encoded words (=?UTF-8?B?…?=), whole UTF-8 characters in each. */
static void
append_encoded(StringInfo out, const char *s)
{
	size_t		len = strlen(s);
	size_t		i = 0;

	while (i < len)
	{
		size_t		take = Min(len - i, 45);
		char	   *b64;
		int			n;

		while (i + take < len && ((unsigned char) s[i + take] & 0xC0) == 0x80)
			take--;				/* not inside a character */
		b64 = palloc(pg_b64_enc_len((int) take) + 1);
		n = pg_b64_encode(s + i, (int) take, b64, pg_b64_enc_len((int) take));
		appendStringInfo(out, "%s=?UTF-8?B?%.*s?=", i > 0 ? "\r\n " : "", n, b64);
		i += take;
	}
}

/* A header's text: as it is in ASCII, else encoded. */
static void
append_text(StringInfo out, const char *s)
{
	if (is_ascii(s))
		appendStringInfoString(out, s);
	else
		append_encoded(out, s);
}

/* An address with its name, for a header. */
static void
append_address(StringInfo out, const char *name, const char *addr)
{
	if (name == NULL)
		appendStringInfoString(out, addr);
	else if (!is_ascii(name))
	{
		append_encoded(out, name);
		appendStringInfo(out, " <%s>", addr);
	}
	else if (strpbrk(name, "()<>[]:;@\\,.\"") != NULL)
	{
		appendStringInfoChar(out, '"');
		for (const char *p = name; *p; p++)
		{
			if (*p == '"' || *p == '\\')
				appendStringInfoChar(out, '\\');
			appendStringInfoChar(out, *p);
		}
		appendStringInfo(out, "\" <%s>", addr);
	}
	else
		appendStringInfo(out, "%s <%s>", name, addr);
}

/* A body part's text in base64, 76 characters a line. */
static void
append_base64(StringInfo out, const char *s)
{
	int			len = (int) strlen(s);
	char	   *b64 = palloc(pg_b64_enc_len(len) + 1);
	int			n = pg_b64_encode(s, len, b64, pg_b64_enc_len(len));

	for (int i = 0; i < n; i += 76)
		appendStringInfo(out, "%.*s\r\n", Min(76, n - i), b64 + i);
}

/*
 * A field of addresses (a string or a list of strings) into the header
 * (comma-separated, header NULL: only the envelope) and the recipients.
 */
static bool
read_addresses(FlNodeCall *call, FlNodeResult *res, const char *field, bool required,
			   StringInfo header, List **rcpts)
{
	JsonbValue	v,
				el;
	int			n = 0;

	if (!fl_cfg_value(call, field, &v) || v.type == jbvNull)
	{
		if (required)
			fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"%s\" is required", call->def->id, field);
		return !required;
	}
	if (v.type != jbvString && !jbv_is_array(&v))
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"%s\" must be an address or a list of addresses, got %s",
				call->def->id, field, jbv_type_name(&v));
		return false;
	}
	for (int i = 0; v.type == jbvString ? i < 1 : jbv_get_index(&v, i, &el); i++)
	{
		JsonbValue *one = v.type == jbvString ? &v : &el;
		char	   *text,
				   *name,
				   *addr;

		if (one->type != jbvString || breaks_header(text = jbv_cstring(one)) ||
			(addr = bare_address(text, &name)) == NULL)
		{
			fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"%s\"%s must be an address like name@example.com "
					"or \"Name <name@example.com>\", got %s", call->def->id, field,
					v.type == jbvString ? "" : psprintf("[%d]", i),
					one->type == jbvString ? psprintf("\"%s\"", jbv_cstring(one)) : jbv_type_name(one));
			return false;
		}
		if (header)
		{
			if (n > 0)
				appendStringInfoString(header, ",\r\n ");
			append_address(header, name, addr);
		}
		*rcpts = lappend(*rcpts, psprintf("<%s>", addr));
		n++;
	}
	if (n == 0 && required)
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"%s\" must name at least one address", call->def->id, field);
		return false;
	}
	return true;
}

/* RFC 5322's date of now, in UTC (no locale's day and month names). */
static char *
mail_date(void)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
	"Nov", "Dec"};
	time_t		now = time(NULL);
	struct tm	tm;

	gmtime_r(&now, &tm);
	return psprintf("%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
					tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* <execution.node.iteration@domain>: the same when the message is sent again. */
static char *
message_id(FlNodeCall *call, const char *from_addr)
{
	char	   *key = fl_http_idempotency_key(call);

	for (char *p = key; *p; p++)
		if (!isalnum((unsigned char) *p) && *p != '-' && *p != '.' && *p != '_')
			*p = '.';
	return psprintf("<%s@%s>", key, strchr(from_addr, '@') + 1);
}

static bool
email_prepare(FlNodeCall *call, FlHttpRequest *reqp, FlNodeResult *res)
{
	const char *id = call->def->id;
	FlHttpRequest req;
	FlSmtp	   *smtp = palloc0(sizeof(FlSmtp));
	StringInfoData msg,
				to,
				cc;
	char	   *server,
			   *from,
			   *from_name,
			   *from_addr,
			   *reply_to = NULL,
			   *subject,
			   *text,
			   *html,
			   *cred_name,
			   *mid,
			   *boundary;

	memset(&req, 0, sizeof(req));
	memset(reqp, 0, sizeof(*reqp));
	if (!fl_cfg_string(call, res, "server", true, &server) ||
		!fl_cfg_string(call, res, "from", true, &from) ||
		!fl_cfg_string(call, res, "replyTo", false, &reply_to) ||
		!fl_cfg_string(call, res, "subject", false, &subject) ||
		!fl_cfg_string(call, res, "text", false, &text) ||
		!fl_cfg_string(call, res, "html", false, &html) ||
		!fl_cfg_string(call, res, "credential", false, &cred_name) ||
		!fl_http_config_timeout(call, res, &req))
		return false;
	if (strncmp(server, "smtp://", 7) != 0 && strncmp(server, "smtps://", 8) != 0)
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"server\" must be smtp://host:port or smtps://host:port, got \"%s\"",
				id, server);
		return false;
	}
	if (breaks_header(from) || (from_addr = bare_address(from, &from_name)) == NULL)
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"from\" must be an address like name@example.com "
				"or \"Name <name@example.com>\", got \"%s\"", id, from);
		return false;
	}
	if ((subject && breaks_header(subject)) || (reply_to && breaks_header(reply_to)))
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"%s\" must be one line", id,
				subject && breaks_header(subject) ? "subject" : "replyTo");
		return false;
	}
	if (text == NULL && html == NULL)
	{
		fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"text\" or \"html\" is required", id);
		return false;
	}
	initStringInfo(&to);
	initStringInfo(&cc);
	if (!read_addresses(call, res, "to", true, &to, &smtp->rcpts) ||
		!read_addresses(call, res, "cc", false, &cc, &smtp->rcpts) ||
		!read_addresses(call, res, "bcc", false, NULL, &smtp->rcpts))
		return false;
	if (reply_to)
	{
		char	   *name;
		char	   *addr = bare_address(reply_to, &name);

		if (addr == NULL)
		{
			fl_fail(res, "INVALID_CONFIG", "node \"%s\": field \"replyTo\" must be an address like name@example.com, got \"%s\"",
					id, reply_to);
			return false;
		}
		initStringInfo(&msg);
		append_address(&msg, name, addr);
		reply_to = msg.data;
	}
	if (cred_name)
	{
		JsonbValue	cred,
					u,
					p;

		if (!fl_node_credential(call, res, cred_name, &cred))
			return false;
		if (!jbv_is_object(&cred) || !jbv_get_key(&cred, "username", &u) || u.type != jbvString ||
			!jbv_get_key(&cred, "password", &p) || p.type != jbvString)
		{
			fl_fail(res, "INVALID_CONFIG", "node \"%s\": credential \"%s\" must be an object {username, password}",
					id, cred_name);
			return false;
		}
		smtp->username = jbv_cstring(&u);
		smtp->password = jbv_cstring(&p);
	}
	smtp->from = psprintf("<%s>", from_addr);

	mid = message_id(call, from_addr);
	initStringInfo(&msg);
	appendStringInfo(&msg, "Date: %s\r\nMessage-ID: %s\r\nFrom: ", mail_date(), mid);
	append_address(&msg, from_name, from_addr);
	appendStringInfo(&msg, "\r\nTo: %s\r\n", to.data);
	if (cc.len > 0)
		appendStringInfo(&msg, "Cc: %s\r\n", cc.data);
	if (reply_to)
		appendStringInfo(&msg, "Reply-To: %s\r\n", reply_to);
	appendStringInfoString(&msg, "Subject: ");
	append_text(&msg, subject ? subject : "");
	appendStringInfoString(&msg, "\r\nMIME-Version: 1.0\r\n");
	/* the Message-ID's local part: unique, and never in a base64 body */
	boundary = psprintf("=_flowent_%.*s", (int) strcspn(mid + 1, "@"), mid + 1);
	if (text && html)
		appendStringInfo(&msg, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n--%s\r\n", boundary, boundary);
	if (text)
	{
		appendStringInfoString(&msg, "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n");
		append_base64(&msg, text);
	}
	if (text && html)
		appendStringInfo(&msg, "--%s\r\n", boundary);
	if (html)
	{
		appendStringInfoString(&msg, "Content-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n");
		append_base64(&msg, html);
	}
	if (text && html)
		appendStringInfo(&msg, "--%s--\r\n", boundary);

	req.node_id = id;
	req.method = pstrdup("SMTP");
	req.url = server;
	req.body = msg.data;
	req.body_len = msg.len;
	req.idempotency_key = fl_http_idempotency_key(call);
	req.smtp = smtp;
	*reqp = req;
	return true;
}

/* The Message-ID header of the message as built. */
static char *
sent_message_id(FlHttpRequest *req)
{
	const char *p = strstr(req->body, "Message-ID: ");
	const char *end = p ? strstr(p, "\r\n") : NULL;

	return p && end ? pnstrdup(p + 12, end - p - 12) : NULL;
}

static void
email_result(FlNodeCall *call, FlHttpRequest *req, FlHttpResponse *resp, CURLcode code, FlNodeResult *res)
{
	const char *id = call->def->id;
	const char *why = resp->errbuf[0] ? resp->errbuf : curl_easy_strerror(code);
	JB			b = {0};
	ListCell   *lc;

	if (code != CURLE_OK && resp->refused)
	{
		fl_http_result(req, resp, code, res);	/* OUTBOUND_REFUSED */
		return;
	}
	if (code == CURLE_OPERATION_TIMEDOUT)
	{
		fl_fail(res, "TIMEOUT", "node \"%s\": sending the mail through %s timed out after %d ms",
				id, req->url, req->timeout_ms > 0 ? req->timeout_ms : fl_http_timeout_ms);
		return;
	}
	if (code == CURLE_LOGIN_DENIED)
	{
		fl_fail(res, "CREDENTIAL_INVALID", "node \"%s\": the mail server %s refused the credential: %s", id, req->url, why);
		return;
	}
	if (code != CURLE_OK)
	{
		fl_fail(res, resp->status >= 500 ? "EMAIL_REJECTED" : "EMAIL_UNAVAILABLE",
				"node \"%s\": the mail server %s %s: %s", id, req->url,
				resp->status >= 500 ? psprintf("refused the mail (SMTP %ld)", resp->status) : "could not take the mail", why);
		return;
	}
	jb_obj_begin(&b);
	jb_kv_str(&b, "messageId", sent_message_id(req));
	jb_key(&b, "accepted");
	jb_arr_begin(&b);
	foreach(lc, req->smtp->rcpts)
	{
		const char *r = lfirst(lc);

		jb_str(&b, pnstrdup(r + 1, strlen(r) - 2));	/* without <> */
	}
	jb_arr_end(&b);
	jb_obj_end(&b);
	fl_succeed(res, jb_finish(&b), NULL);
}

static void
email_execute(FlNodeCall *call, FlNodeResult *res)
{
	fl_http_call_sync(call, res, email_prepare, email_result);
}

static void
email_resume(FlNodeCall *call, FlNodeResult *res)
{
	fl_http_call_resume(call, res, email_prepare, email_result);
}

const FlNodeType fl_node_email = {
	.type = "email",
	.flags = FL_NT_EXTERNAL,
	.execute = email_execute,
	.resume = email_resume,
	.prepare_http = email_prepare,
};
