#!/usr/bin/env bash
# The four HubSpot nodes (issue 10, item 10) against a stand-in of HubSpot's CRM v3 API on
# 127.0.0.1 (test/fake/api_server.py, its request and error formats), on the running cluster:
# create-contact, update-deal, add-note (associations to a contact and a deal), search-contacts
# (filters, properties, limit, paging with after): the requests as sent and HubSpot's answers as
# the output; errors with HubSpot's message and correlation id (401 CREDENTIAL_INVALID, 409 and 404
# INVALID_CONFIG, 429 HTTP_ERROR retried by the node's retry setting); bad config named; the token
# in no stored row; an asynchronous run.
set -euo pipefail

DB=flowent_hubspot
NAME=hubspot
. "$(dirname "$0")/../lib/sql_checks.sh"
. "$(dirname "$0")/../lib/fake_api.sh"
outbound_test_begin

start_fake_api
HS="$API/hubspot"

createdb "$DB"
q "$DB" -c "CREATE EXTENSION flowent" -c "SELECT flowent.set_credential('hubspot', '{\"token\": \"hs-token\"}')" \
	-c "SELECT flowent.set_credential('hubspot-old', '\"hs-expired\"')" >/dev/null
node() {	# node TYPE DATA: a workflow trigger -> TYPE (data) -> output
	q "$DB" -c "SELECT flowent.create_workflow('h$RANDOM',
		jsonb_build_array('{\"id\":\"t\",\"type\":\"trigger\",\"data\":{}}'::jsonb,
			jsonb_build_object('id', 'hs', 'type', '$1', 'data', '$2'::jsonb),
			'{\"id\":\"o\",\"type\":\"output\",\"data\":{\"value\":\"{{hs}}\"}}'::jsonb),
		'[{\"id\":\"e1\",\"source\":\"t\",\"target\":\"hs\"},{\"id\":\"e2\",\"source\":\"hs\",\"target\":\"o\"}]')"
}
# out TYPE DATA [PAYLOAD]: "status | output (sorted JSON)" or "status | code: message | details"
out() {
	local r
	r=$(q "$DB" -c "SELECT flowent.run('$(node "$1" "$2")', '${3:-{\}}')")
	python3 -c "import json,sys; r=json.loads(sys.argv[1])
if r['status'] == 'success': print('success |', json.dumps(r['output'], sort_keys=True))
else: print(r['status'], '|', r['error']['code'] + ': ' + r['error']['message'], '|', json.dumps(r['error'].get('details'), sort_keys=True))" "$r"
}
last() { curl -s "$API/log" | python3 -c "import json,sys; e=json.load(sys.stdin)[-1]; print(e.get('method'), e['path'], e['authorization'], json.dumps(e['body'], sort_keys=True))"; }

eq "create" "$(out hubspot-create-contact "{\"baseUrl\": \"$HS\", \"credential\": \"hubspot\", \"properties\": {\"email\": \"{{trigger.payload.email}}\", \"firstname\": \"Ada\"}}" '{"email": "ada@example.com"}')" \
	'success | {"archived": false, "createdAt": "2026-12-02T00:00:00.000Z", "id": "501", "properties": {"createdate": "2026-12-02T00:00:00.000Z", "email": "ada@example.com", "firstname": "Ada", "hs_object_id": "501"}, "updatedAt": "2026-12-02T00:00:00.000Z"}'
eq "create request" "$(last)" 'POST /hubspot/crm/v3/objects/contacts Bearer hs-token {"properties": {"email": "ada@example.com", "firstname": "Ada"}}'
eq "update" "$(out hubspot-update-deal "{\"baseUrl\": \"$HS/\", \"credential\": \"hubspot\", \"dealId\": 77, \"properties\": {\"dealstage\": \"closedwon\"}}" | cut -c1-62)" \
	'success | {"archived": false, "id": "77", "properties": {"deal'
eq "update request" "$(last)" 'PATCH /hubspot/crm/v3/objects/deals/77 Bearer hs-token {"properties": {"dealstage": "closedwon"}}'
out hubspot-add-note "{\"baseUrl\": \"$HS\", \"credential\": \"hubspot\", \"body\": \"called them\", \"contactId\": \"501\", \"dealId\": 77}" | grep -q '^success | .*"id": "701"' || fail "add-note"
eq "note request" "$(last | python3 -c "import sys,json; m,p,a,t,b=sys.stdin.read().split(' ',4); b=json.loads(b); print(m, p, json.dumps(b['associations'], sort_keys=True), b['properties']['hs_note_body'], b['properties']['hs_timestamp'].isdigit())")" \
	'POST /hubspot/crm/v3/objects/notes [{"to": {"id": "501"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}]}, {"to": {"id": "77"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 214}]}] called them True'
eq "search" "$(out hubspot-search-contacts "{\"baseUrl\": \"$HS\", \"credential\": \"hubspot\", \"filters\": [{\"propertyName\": \"email\", \"operator\": \"CONTAINS_TOKEN\", \"value\": \"*@example.com\"}], \"properties\": [\"email\"], \"limit\": 2}")" \
	'success | {"paging": {"next": {"after": "2", "link": "?after=2"}}, "results": [{"id": "1", "properties": {"email": "a@example.com"}}, {"id": "2", "properties": {"email": "b@example.com"}}], "total": 3}'
eq "search request" "$(last)" 'POST /hubspot/crm/v3/objects/contacts/search Bearer hs-token {"filterGroups": [{"filters": [{"operator": "CONTAINS_TOKEN", "propertyName": "email", "value": "*@example.com"}]}], "limit": 2, "properties": ["email"]}'
eq "next page" "$(out hubspot-search-contacts "{\"baseUrl\": \"$HS\", \"credential\": \"hubspot\", \"after\": \"2\"}")" \
	'success | {"results": [{"id": "3", "properties": {"email": "c@example.com"}}], "total": 3}'
ok "create-contact, update-deal, add-note (associated to the contact and the deal), search-contacts (filters, properties, limit, after): HubSpot's requests and answers"

eq "401" "$(out hubspot-create-contact "{\"baseUrl\": \"$HS\", \"credential\": \"hubspot-old\", \"properties\": {}}")" \
	'error | CREDENTIAL_INVALID: node "hs": the HubSpot API refused the credential (HTTP 401): Authentication credentials not found. | {"category": "INVALID_AUTHENTICATION", "correlationId": "c0ffee-401", "status": 401}'
eq "409" "$(out hubspot-create-contact "{\"baseUrl\": \"$HS\", \"credential\": \"hubspot\", \"properties\": {\"email\": \"taken@example.com\"}}")" \
	'error | INVALID_CONFIG: node "hs": the HubSpot API refused the request (HTTP 409): Contact already exists. Existing ID: 101 | {"category": "CONFLICT", "correlationId": "c0ffee-409", "status": 409}'
eq "404" "$(out hubspot-update-deal "{\"baseUrl\": \"$HS\", \"credential\": \"hubspot\", \"dealId\": \"404\", \"properties\": {}}" | cut -c1-110)" \
	'error | INVALID_CONFIG: node "hs": the HubSpot API refused the request (HTTP 404): Object not found.  objectId'
curl -s "$API/log/clear" >/dev/null
eq "429" "$(out hubspot-create-contact "{\"baseUrl\": \"$HS\", \"credential\": \"hubspot\", \"properties\": {\"email\": \"busy@example.com\"}, \"retry\": {\"maxAttempts\": 2}}")" \
	'error | HTTP_ERROR: node "hs": the HubSpot API answered HTTP 429: You have reached your secondly limit. | {"category": "RATE_LIMITS", "correlationId": "c0ffee-429", "status": 429}'
eq "... retried" "$(curl -s "$API/log" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 2
ok "HubSpot's message and correlation id: 401 CREDENTIAL_INVALID, 409 and 404 INVALID_CONFIG, 429 HTTP_ERROR retried"

eq "no note target" "$(out hubspot-add-note "{\"baseUrl\": \"$HS\", \"credential\": \"hubspot\", \"body\": \"x\"}")" \
	'error | INVALID_CONFIG: node "hs": a note needs "contactId" or "dealId" (or both) to be attached to | null'
case "$(err "$DB" "SELECT flowent.run('$(node hubspot-search-contacts "{\"credential\": \"hubspot\", \"filters\": {\"email\": \"x\"}}")')")" in
	*'field "filters"'*) ;; *) fail "filters not a list" ;; esac
eq "token" "$(out hubspot-search-contacts "{\"baseUrl\": \"$HS\", \"credential\": \"nobody\"}")" \
	'error | CREDENTIAL_NOT_FOUND: node "hs": credential "nobody" does not exist for the workflow owner | null'
case "$(err "$DB" "SELECT flowent.run('$(node hubspot-update-deal "{\"credential\": \"hubspot\", \"properties\": {}}")')")" in
	*'required field "dealId" is missing') ;; *) fail "update-deal without dealId" ;; esac
ok "bad config named: a note without a contact or deal, filters not a list, an unknown credential, a missing dealId"
eq "no token stored" "$(q "$DB" -c "SELECT (SELECT count(*) FROM flowent.workflow_node_logs WHERE concat(input, output, error) LIKE '%hs-token%')
	+ (SELECT count(*) FROM flowent.workflow_executions WHERE concat(output, error, options) LIKE '%hs-token%')")" 0
ok "the token is in no node log or execution"

WF=$(node hubspot-create-contact "{\"baseUrl\": \"$HS\", \"credential\": \"hubspot\", \"properties\": {\"email\": \"async@example.com\"}}")
ID=$(q "$DB" -c "SELECT flowent.execute('$WF')")
poll "$DB" "SELECT status = 'success' FROM flowent.workflow_executions WHERE id = '$ID'" 30 || fail "the async call did not finish"
eq "async" "$(q "$DB" -c "SELECT output #>> '{properties,email}' FROM flowent.workflow_executions WHERE id = '$ID'")" async@example.com
ok "an asynchronous run calls HubSpot through the worker's curl loop"
echo "hubspot: all checks passed"
