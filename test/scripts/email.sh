#!/usr/bin/env bash
# The email node (issue 10, item 8) against a real SMTP server on 127.0.0.1 (test/fake/smtp_server.py,
# aiosmtpd, AUTH required): a message with text and HTML (multipart/alternative), cc, bcc (in the
# envelope only), reply-to and a UTF-8 subject arrives as sent, its Message-ID in the output with every
# recipient; bad fields are named; a wrong password is CREDENTIAL_INVALID, a refused recipient
# EMAIL_REJECTED with the server's answer, a temporary refusal and an unreachable server
# EMAIL_UNAVAILABLE, a server the outbound policy does not allow OUTBOUND_REFUSED; the password
# appears in no output, node log or error; an asynchronous run sends through the worker.
set -euo pipefail

DB=flowent_email
NAME=email
. "$(dirname "$0")/../lib/sql_checks.sh"
. "$(dirname "$0")/../lib/fake_http.sh"
outbound_test_begin

/usr/bin/python3 "$(dirname "$0")/../fake/smtp_server.py" --port-file "$TMP/smtp.port" --out "$TMP/mail.jsonl" \
	--user mailer --password 's3cret-pw' 2>"$TMP/smtp.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do [ -s "$TMP/smtp.port" ] && break; sleep 0.05; done
[ -s "$TMP/smtp.port" ] || fail "the SMTP server did not start"
SMTP="smtp://127.0.0.1:$(cat "$TMP/smtp.port")"
allow '127.0.0.1'

createdb "$DB"
q "$DB" >/dev/null <<SQL
CREATE EXTENSION flowent;
SELECT flowent.set_credential('smtp', '{"username": "mailer", "password": "s3cret-pw"}');
SELECT flowent.set_credential('smtp-wrong', '{"username": "mailer", "password": "nope"}');
SELECT flowent.set_credential('smtp-bad', '"just a string"');
SQL
# mailer NAME DATA: a workflow trigger -> email (data) -> output
mailer() {
	q "$DB" -c "SELECT flowent.create_workflow('$1',
		jsonb_build_array('{\"id\":\"t\",\"type\":\"trigger\",\"data\":{}}'::jsonb,
			jsonb_build_object('id', 'm', 'type', 'email', 'data', '$2'::jsonb),
			'{\"id\":\"o\",\"type\":\"output\",\"data\":{\"value\":\"{{m}}\"}}'::jsonb),
		'[{\"id\":\"e1\",\"source\":\"t\",\"target\":\"m\"},{\"id\":\"e2\",\"source\":\"m\",\"target\":\"o\"}]')"
}
run() { q "$DB" -c "SELECT flowent.run('$1', '${2:-{\}}')"; }
err_of() { local r; r=$(run "$(mailer "e$RANDOM" "$1")"); echo "$(sval "$r" "['error']['code']") | $(sval "$r" "['error']['message']")"; }
# the last message the server took, parsed: python's email package reads it back
last_mail() {
	python3 - "$TMP/mail.jsonl" "$1" <<'PY'
import email, email.header, email.policy, json, sys
m = json.loads(open(sys.argv[1]).read().splitlines()[-1])
msg = email.message_from_string(m["data"], policy=email.policy.default)
parts = {p.get_content_type(): p.get_content() for p in msg.walk() if not p.is_multipart()}
out = {"mail_from": m["mail_from"], "rcpt_tos": m["rcpt_tos"], "from": str(msg["From"]), "to": str(msg["To"]),
       "cc": str(msg["Cc"]), "bcc": msg["Bcc"], "reply_to": str(msg["Reply-To"]), "subject": str(msg["Subject"]),
       "type": msg.get_content_type(), "parts": parts, "message_id": msg["Message-ID"], "date": bool(msg["Date"])}
print(json.dumps(out[sys.argv[2]], sort_keys=True) if sys.argv[2] != "all" else json.dumps(out, sort_keys=True))
PY
}

# ---- a message: text and HTML, cc, bcc, reply-to, a UTF-8 subject, templated
WF=$(mailer full "{\"server\": \"$SMTP\", \"credential\": \"smtp\", \"from\": \"Flowent Bot <bot@example.com>\",
	\"to\": [\"ana@example.com\", \"Bob Müller <bob@example.org>\"], \"cc\": \"carol@example.com\", \"bcc\": [\"audit@example.com\"],
	\"replyTo\": \"help@example.com\", \"subject\": \"Bestellung {{trigger.payload.order}} – Grüße\",
	\"text\": \"Order {{trigger.payload.order}}: {{trigger.payload.total}} EUR\", \"html\": \"<p>Order <b>{{trigger.payload.order}}</b></p>\"}")
r=$(run "$WF" '{"order": 42, "total": 19.99}')
eq "status" "$(sval "$r" "['status']")" success
eq "accepted" "$(field "$r" "['output']['accepted']")" '["ana@example.com", "bob@example.org", "carol@example.com", "audit@example.com"]'
eq "envelope" "$(last_mail mail_from) $(last_mail rcpt_tos)" \
	'"bot@example.com" ["ana@example.com", "bob@example.org", "carol@example.com", "audit@example.com"]'
eq "headers" "$(last_mail from) $(last_mail to) $(last_mail cc) $(last_mail bcc) $(last_mail reply_to)" \
	'"Flowent Bot <bot@example.com>" "ana@example.com, Bob M\u00fcller <bob@example.org>" "carol@example.com" null "help@example.com"'
eq "subject" "$(last_mail subject)" '"Bestellung 42 \u2013 Gr\u00fc\u00dfe"'
eq "parts" "$(last_mail type) $(last_mail parts)" \
	'"multipart/alternative" {"text/html": "<p>Order <b>42</b></p>", "text/plain": "Order 42: 19.99 EUR"}'
eq "Message-ID" "$(last_mail message_id)" "$(field "$r" "['output']['messageId']")"
case "$(sval "$r" "['output']['messageId']")" in "<$(sval "$r" "['executionId']").m.0@example.com>") ;;
	*) fail "Message-ID $(sval "$r" "['output']['messageId']")" ;; esac
eq "a date" "$(last_mail date)" true
ok "a message with text and HTML (multipart/alternative), to/cc/bcc (bcc only in the envelope), reply-to and a UTF-8 subject arrives as sent through AUTH; output {messageId, accepted}"

WF=$(mailer plain "{\"server\": \"$SMTP\", \"credential\": \"smtp\", \"from\": \"bot@example.com\", \"to\": \"ana@example.com\",
	\"subject\": \"hi\", \"text\": \".a line with a dot first\\r\\n.\\r\\nand more\"}")
eq "text only" "$(sval "$(run "$WF")" "['status']") $(last_mail type) $(last_mail parts)" \
	'success "text/plain" {"text/plain": ".a line with a dot first\r\n.\r\nand more"}'
ok "a text-only message is one part; lines that start with a dot arrive whole"

# ---- bad fields, named
# required fields: the workflow is not valid (flowent.run refuses it)
verr() { err "$DB" "SELECT flowent.run('$(mailer "v$RANDOM" "$1")')"; }
case "$(verr '{"from": "a@example.com", "to": "b@example.com", "text": "x"}')" in
	*'node "m" (email): required field "server" is missing') ;; *) fail "no server: $(verr '{"from": "a@example.com", "to": "b@example.com", "text": "x"}')" ;; esac
case "$(verr "{\"server\": \"$SMTP\", \"from\": \"a@example.com\", \"text\": \"x\"}")" in
	*'node "m" (email): required field "to" is missing') ;; *) fail "no to" ;; esac
eq "http server" "$(err_of '{"server": "http://127.0.0.1:25", "from": "a@example.com", "to": "b@example.com", "text": "x"}')" \
	'INVALID_CONFIG | node "m": field "server" must be smtp://host:port or smtps://host:port, got "http://127.0.0.1:25"'
eq "bad from" "$(err_of "{\"server\": \"$SMTP\", \"from\": \"not an address\", \"to\": \"b@example.com\", \"text\": \"x\"}")" \
	'INVALID_CONFIG | node "m": field "from" must be an address like name@example.com or "Name <name@example.com>", got "not an address"'
eq "bad to" "$(err_of "{\"server\": \"$SMTP\", \"from\": \"a@example.com\", \"to\": [\"b@example.com\", 7], \"text\": \"x\"}")" \
	'INVALID_CONFIG | node "m": field "to"[1] must be an address like name@example.com or "Name <name@example.com>", got number'
eq "header injection" "$(err_of "{\"server\": \"$SMTP\", \"from\": \"a@example.com\", \"to\": \"b@example.com\", \"subject\": \"hi\\r\\nBcc: x@evil.example\", \"text\": \"x\"}")" \
	'INVALID_CONFIG | node "m": field "subject" must be one line'
eq "no body" "$(err_of "{\"server\": \"$SMTP\", \"from\": \"a@example.com\", \"to\": \"b@example.com\"}")" \
	'INVALID_CONFIG | node "m": field "text" or "html" is required'
eq "credential shape" "$(err_of "{\"server\": \"$SMTP\", \"credential\": \"smtp-bad\", \"from\": \"a@example.com\", \"to\": \"b@example.com\", \"text\": \"x\"}")" \
	'INVALID_CONFIG | node "m": credential "smtp-bad" must be an object {username, password}'
ok "bad fields are named: server, from, to (and which element), a subject with a line break, no body, the credential's shape"

# ---- the server's refusals as stable codes, with its answer
case "$(err_of "{\"server\": \"$SMTP\", \"credential\": \"smtp-wrong\", \"from\": \"a@example.com\", \"to\": \"b@example.com\", \"text\": \"x\"}")" in
	"CREDENTIAL_INVALID | node \"m\": the mail server $SMTP refused the credential: "*) ;; *) fail "wrong password" ;; esac
case "$(err_of "{\"server\": \"$SMTP\", \"credential\": \"smtp\", \"from\": \"a@example.com\", \"to\": \"reject@example.com\", \"text\": \"x\"}")" in
	"EMAIL_REJECTED | node \"m\": the mail server $SMTP refused the mail (SMTP 550): "*) ;;
	*) fail "refused recipient: $(err_of "{\"server\": \"$SMTP\", \"credential\": \"smtp\", \"from\": \"a@example.com\", \"to\": \"reject@example.com\", \"text\": \"x\"}")" ;; esac
case "$(err_of "{\"server\": \"$SMTP\", \"credential\": \"smtp\", \"from\": \"a@example.com\", \"to\": \"later@example.com\", \"text\": \"x\"}")" in
	"EMAIL_UNAVAILABLE | node \"m\": the mail server $SMTP could not take the mail: "*) ;; *) fail "temporary refusal" ;; esac
case "$(err_of '{"server": "smtp://127.0.0.1:9", "credential": "smtp", "from": "a@example.com", "to": "b@example.com", "text": "x"}')" in
	"EMAIL_UNAVAILABLE | node \"m\": the mail server smtp://127.0.0.1:9 could not take the mail: "*) ;; *) fail "unreachable" ;; esac
allow ''
case "$(err_of "{\"server\": \"$SMTP\", \"credential\": \"smtp\", \"from\": \"a@example.com\", \"to\": \"b@example.com\", \"text\": \"x\"}")" in
	"OUTBOUND_REFUSED | "*"loopback"*"flowent.http_allow_hosts"*) ;; *) fail "outbound policy" ;; esac
allow '127.0.0.1'
ok "a wrong password CREDENTIAL_INVALID, a refused recipient EMAIL_REJECTED (SMTP 550), a temporary refusal and an unreachable server EMAIL_UNAVAILABLE, a loopback server not allowed OUTBOUND_REFUSED"

# ---- the password is nowhere
eq "password stored" "$(q "$DB" -c "SELECT count(*) FROM flowent.workflow_executions e WHERE e::text LIKE '%s3cret-pw%'") $(q "$DB" -c "SELECT count(*) FROM flowent.workflow_node_logs l WHERE l::text LIKE '%s3cret-pw%'")" "0 0"
ok "the password is in no execution or node log"

# ---- asynchronous: the worker sends it
WF=$(mailer async "{\"server\": \"$SMTP\", \"credential\": \"smtp\", \"from\": \"bot@example.com\", \"to\": \"ana@example.com\",
	\"subject\": \"async {{trigger.payload.n}}\", \"text\": \"sent by the worker\"}")
ID=$(q "$DB" -c "SELECT flowent.execute('$WF', '{\"n\": 7}')")
poll "$DB" "SELECT status = 'success' FROM flowent.workflow_executions WHERE id = '$ID'" 30 ||
	fail "the async run did not finish: $(q "$DB" -c "SELECT status || ' ' || coalesce(error, '') FROM flowent.workflow_executions WHERE id = '$ID'")"
eq "async" "$(last_mail subject) $(q "$DB" -c "SELECT output ->> 'messageId' FROM flowent.workflow_executions WHERE id = '$ID'")" \
	"\"async 7\" <$ID.m.0@example.com>"
ok "in an asynchronous run the worker's curl loop sends the message"
echo "email: all checks passed"
