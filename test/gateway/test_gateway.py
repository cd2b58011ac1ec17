"""The gateway against a real PostgreSQL with the extension, through real
clients.  Run by test/scripts/gateway.sh, which makes the database, the
gateway's login role and the binary (GW_BIN, ASan in CI) and sets:
  GW_DB         database name          GW_ADMIN_CONNINFO  superuser conninfo
  GW_CONNINFO   the gateway's conninfo (a non-superuser member of flowent_gateway)
  GW_PORT, GW_PORT2  ports for two gateways           GW_LOG_DIR  logs
"""
import atexit
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from gwclient import WebSocket, http, http_at_once, recv_all, sign, sse  # noqa: E402

BIN = os.environ['GW_BIN']
ADMIN = os.environ['GW_ADMIN_CONNINFO']
CONNINFO = os.environ['GW_CONNINFO']
PORT = int(os.environ.get('GW_PORT', '3901'))
PORT2 = int(os.environ.get('GW_PORT2', '3902'))
LOGDIR = os.environ.get('GW_LOG_DIR', '/tmp')
HOST = '127.0.0.1'
failures = 0


def ok(cond, what, detail=''):
    global failures
    if cond:
        print(f'gateway: ok: {what}')
    else:
        failures += 1
        print(f'gateway: FAIL: {what} {detail}')
    return cond


def psql(sql):
    out = subprocess.run(['psql', '-X', '-At', '-q', '-v', 'ON_ERROR_STOP=1', '-d', ADMIN, '-c', sql],
                         capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr)
    return out.stdout.strip()


def token(user, extra=()):
    out = subprocess.run([BIN, 'token', 'create', '--db', ADMIN, '--user', user, *extra],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


STARTED = []


def _kill_all():
    for g in STARTED:
        if g.proc.poll() is None:
            g.proc.kill()


atexit.register(_kill_all)


class Gateway:
    def __init__(self, port, *args):
        self.port = port
        self.base = f'http://{HOST}:{port}'
        self.log = open(os.path.join(LOGDIR, f'gateway-{port}.log'), 'a')
        self.proc = subprocess.Popen([BIN, '--db', CONNINFO, '--listen', f'{HOST}:{port}', *args],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        STARTED.append(self)
        for _ in range(100):
            try:
                if http(self.base, 'GET', '/health', timeout=2).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f'gateway on {port} did not start')

    def req(self, method, path, tok=None, body=None, **kw):
        return http(self.base, method, path, token=tok, body=body, **kw)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None


def wf_body(name, **extra):
    body = {
        'name': name, 'description': 'made by the gateway test',
        'nodes': [{'id': 't', 'type': 'trigger', 'position': {'x': 0, 'y': 0}, 'data': {}},
                  {'id': 'x', 'type': 'data-transform', 'position': {'x': 200, 'y': 0},
                   'data': {'expression': "input || jsonb_build_object('doubled', (input->>'value')::numeric * 2)"}},
                  {'id': 'o', 'type': 'output', 'position': {'x': 400, 'y': 0},
                   'data': {'value': {'doubled': '{{x.doubled}}', 'exact': '{{trigger.payload.exact | null}}'}}}],
        'edges': [{'id': 'e1', 'source': 't', 'target': 'x'}, {'id': 'e2', 'source': 'x', 'target': 'o'}],
    }
    body.update(extra)
    return body

def answer_counts(gw):
    """cacheable requests by how they were answered (true: kept, shared, false: made), from /metrics"""
    body = gw.req('GET', '/metrics').body
    got = {}
    for line in body.splitlines():
        if line.startswith('flowent_gateway_answers_total{kept="'):
            got[line.split('"')[1]] = int(line.split()[-1])
    return got


def kept_counts(gw):
    """(served from a kept answer, made) of cacheable requests, from /metrics"""
    got = answer_counts(gw)
    return got.get('true', 0), got.get('false', 0)


def served_kept(gw, tok, path):
    """GET path twice: whether the second was served from the kept answer
    (tried three times: a background run between them makes it again)"""
    for _ in range(3):
        gw.req('GET', path, tok)
        h0, _ = kept_counts(gw)
        r = gw.req('GET', path, tok)
        if r.status == 200 and kept_counts(gw)[0] == h0 + 1:
            return True
    return False


def listed(r, pid):
    return next((p for p in r.json['pipelines'] if p['id'] == pid), None) if r.status == 200 else None


def kept_answers(gw, alice, bob):
    """GET /api/pipelines is served again while flowent.change_stamp() holds,
    and made again after any committed change, whoever made it and however"""
    def stamp():
        return psql('SELECT flowent.change_stamp()')
    s0 = stamp()
    psql("BEGIN; UPDATE flowent.workflows SET description = description; ROLLBACK")
    ok(stamp() == s0, 'change stamp: a rolled back write does not count')
    psql("SET work_mem = '8MB'; SHOW work_mem")
    ok(stamp() == s0, 'change stamp: SET does not count')
    psql("UPDATE flowent.workflows SET description = description WHERE false")
    ok(stamp() == s0, 'change stamp: a statement that changed no row does not count (the workers look every few seconds)')
    psql("UPDATE flowent.workflows SET description = description WHERE id = (SELECT id FROM flowent.workflows LIMIT 1)")
    s1 = stamp()
    ok(s1 != s0, 'change stamp: a committed change of a workflow counts', (s0, s1))
    psql("COMMENT ON TABLE flowent.workflows IS 'workflows'")
    s2 = stamp()
    ok(s2 != s1, 'change stamp: a utility statement (DDL) counts', (s1, s2))
    for t in ('workflow_versions', 'workflow_executions', 'workflow_node_logs', 'workspaces', 'workspace_members'):
        a = stamp()
        # a statement of no rows, in a transaction that wrote (txid_current() assigns its id)
        psql(f"BEGIN; DELETE FROM flowent.{t} WHERE false; SELECT txid_current(); COMMIT")
        ok(stamp() != a, f'change stamp: a committed statement on {t} counts')
    ok(psql("SELECT has_function_privilege('public', 'flowent.change_stamp()', 'execute')") == 'f',
       'change stamp: only the gateway role may read it')

    r = gw.req('POST', '/api/pipelines', alice, body=wf_body('gw-kept'))
    pid = r.json['id']
    ok(served_kept(gw, alice, '/api/pipelines?limit=200'), 'kept answers: the same list again is served from the kept answer')
    first = gw.req('GET', '/api/pipelines?limit=200', alice)
    again = gw.req('GET', '/api/pipelines?limit=200', alice)
    ok(again.json == first.json, 'kept answers: ... the same answer', (first, again))
    other = gw.req('GET', '/api/pipelines?limit=200', bob)
    ok(other.status == 200 and listed(other, pid) is None and listed(again, pid) is not None,
       'kept answers: another user with the same query gets his own list, not the kept one', other)

    psql(f"UPDATE flowent.workflows SET name = 'renamed in SQL' WHERE id = '{pid}'")
    r = gw.req('GET', '/api/pipelines?limit=200', alice)
    ok((listed(r, pid) or {}).get('name') == 'renamed in SQL',
       'kept answers: a change committed in SQL, not through the gateway, shows at once', listed(r, pid))
    n = (listed(r, pid) or {}).get('execution_count')
    psql(f"SELECT flowent.set_acting_user('alice'), flowent.run('{pid}', '{{\"value\": 1}}')")
    r = gw.req('GET', '/api/pipelines?limit=200', alice)
    p = listed(r, pid) or {}
    ok(n is not None and p.get('execution_count') == n + 1 and (p.get('latest_execution') or {}).get('status') == 'success',
       'kept answers: a run made in SQL shows in the counts and the latest execution at once', p)
    rolled_back = False
    for _ in range(3):
        gw.req('GET', '/api/pipelines?limit=200', alice)
        h0, _ = kept_counts(gw)
        psql("BEGIN; DELETE FROM flowent.workflows; ROLLBACK")
        r = gw.req('GET', '/api/pipelines?limit=200', alice)
        if listed(r, pid) is not None and kept_counts(gw)[0] == h0 + 1:
            rolled_back = True
            break
    ok(rolled_back, 'kept answers: a rolled back change leaves the kept answer in use')

    other_gw = Gateway(int(os.environ.get('GW_PORT5', '3905')))
    made = other_gw.req('POST', '/api/pipelines', alice, body=wf_body('gw-kept-elsewhere')).json['id']
    r = gw.req('GET', '/api/pipelines?limit=200', alice)
    ok(listed(r, made) is not None, 'kept answers: a pipeline made through another gateway shows at once')
    other_gw.req('DELETE', f'/api/pipelines/{made}', alice)
    r = gw.req('GET', '/api/pipelines?limit=200', alice)
    ok(r.status == 200 and listed(r, made) is None, 'kept answers: ... and its deletion too')
    ok(other_gw.stop() == 0, 'the second gateway stops cleanly')

    ws = gw.req('POST', '/api/workspaces', alice, body={'name': 'kept team'}).json
    wsid = ws.get('id') or ws.get('workspaceId')
    team = gw.req('POST', '/api/pipelines', alice, body=wf_body('gw-kept-team', visibility='team', workspaceId=wsid)).json['id']
    gw.req('POST', f'/api/workspaces/{wsid}/members', alice, body={'userId': 'bob', 'role': 'viewer'})
    gw.req('GET', '/api/pipelines?limit=200', bob)
    r = gw.req('GET', '/api/pipelines?limit=200', bob)
    ok(listed(r, team) is not None, 'kept answers: a member lists the team pipeline')
    psql(f"DELETE FROM flowent.workspace_members WHERE workspace_id = '{wsid}' AND user_id = 'bob'")
    r = gw.req('GET', '/api/pipelines?limit=200', bob)
    ok(r.status == 200 and listed(r, team) is None,
       'kept answers: removed from the workspace in SQL, his next list no longer has it', r)

    tok = token('kept-user')
    ok(served_kept(gw, tok, '/api/pipelines'), 'kept answers: a new token lists, the second time from its kept answer')
    out = subprocess.run([BIN, 'token', 'revoke', '--db', ADMIN, tok], capture_output=True, text=True)
    r = gw.req('GET', '/api/pipelines', tok)
    ok(out.returncode == 0 and r.status == 401 and 'revoked' in r.json['error']['message'],
       'kept answers: a revoked token gets 401, not its kept answer', r)
    ok(served_kept(gw, alice, '/api/pipelines?limit=200'), "kept answers: alice's list is kept")
    psql(f"UPDATE flowent.api_tokens SET user_id = 'mallory' WHERE user_id = 'alice' AND revoked_at IS NULL")
    r = gw.req('GET', '/api/pipelines?limit=200', alice)
    psql(f"UPDATE flowent.api_tokens SET user_id = 'alice' WHERE user_id = 'mallory'")
    ok(r.status == 200 and listed(r, pid) is None,
       "kept answers: a token given to another user no longer gets its former user's answer", (r, r.json['meta']))


def single_flight(gw, alice):
    """After a change, requests for the same list at once: one makes it, the
    others wait for that answer (it holds the change) instead of each making it"""
    pid = gw.req('POST', '/api/pipelines', alice, body=wf_body('gw-flight')).json['id']
    path = '/api/pipelines?limit=200'
    result = None
    for attempt in range(3):
        gw.req('GET', path, alice)
        name = f'flight {attempt}'
        psql(f"UPDATE flowent.workflows SET name = '{name}' WHERE id = '{pid}'")
        before = answer_counts(gw)
        got = http_at_once('127.0.0.1', gw.port, [(path, {'Authorization': 'Bearer ' + alice}, b'')] * 10, method='GET')
        after = answer_counts(gw)
        made = after.get('false', 0) - before.get('false', 0)
        shared = after.get('shared', 0) - before.get('shared', 0)
        fresh = all(r.status == 200 and (listed(r, pid) or {}).get('name') == name for r in got)
        same = all(r.json == got[0].json for r in got)
        result = (made, shared, fresh, same)
        if fresh and same and made <= 2 and shared >= 5:
            break
    made, shared, fresh, same = result
    ok(fresh and same, 'single flight: 10 lists at once after a change all show it, the same answer', result)
    ok(made <= 2 and shared >= 5, 'single flight: ... made once (or twice), the others served the answer being made', result)


def prepared_statements(gw, alice):
    """The pool prepares each statement once per connection; a function whose
    result type changed under it (an extension update) is prepared again and
    the request answered, not failed"""
    before = [gw.req('GET', '/api/node-types', alice) for _ in range(16)]
    ok(all(r.status == 200 for r in before), 'prepared statements: a route answers on every pooled connection')
    orig = psql("SELECT pg_get_functiondef('flowent.api_node_types()'::regprocedure)")
    acl = psql("SELECT proacl FROM pg_proc WHERE oid = 'flowent.api_node_types()'::regprocedure")
    swap = ("BEGIN; ALTER EXTENSION flowent DROP FUNCTION flowent.api_node_types(); "
            "DROP FUNCTION flowent.api_node_types(); {create}; "
            "ALTER EXTENSION flowent ADD FUNCTION flowent.api_node_types(); "
            "GRANT EXECUTE ON FUNCTION flowent.api_node_types() TO PUBLIC; COMMIT")
    psql(swap.format(create="CREATE FUNCTION flowent.api_node_types() RETURNS text LANGUAGE sql "
                            "AS $f$ SELECT '[\"changed\"]' $f$"))
    after = [gw.req('GET', '/api/node-types', alice) for _ in range(16)]
    psql(swap.format(create=orig))
    psql(f"UPDATE pg_proc SET proacl = '{acl}' WHERE oid = 'flowent.api_node_types()'::regprocedure" if acl else "SELECT 1")
    restored = [gw.req('GET', '/api/node-types', alice) for _ in range(16)]
    ok(all(r.status == 200 and r.json == ['changed'] for r in after),
       'prepared statements: a function whose result type changed is prepared again, no request fails',
       [(r.status, r.body[:80]) for r in after if r.status != 200][:2])
    ok(all(r.status == 200 and r.json == before[0].json for r in restored), 'prepared statements: ... and back')


def main():
    gw = Gateway(PORT, '--body-limit', '65536')
    alice, bob, carol = token('alice'), token('bob'), token('carol')

    # ---- public routes, refusals of tokens
    r = gw.req('GET', '/health')
    ok(r.status == 200 and r.json['status'] == 'ok' and r.json['database'] is True, '/health answers with the database', r)
    r = gw.req('GET', '/api/openapi.json')
    ok(r.status == 200 and '/api/pipelines/{id}' in r.json['paths'] and 'patch' in r.json['paths']['/api/pipelines/{id}'],
       '/api/openapi.json describes the routes', r)
    r = gw.req('GET', '/api/pipelines')
    ok(r.status == 401 and r.json['error']['code'] == 'UNAUTHORIZED' and r.headers.get('WWW-Authenticate') == 'Bearer',
       'no token: 401', r)
    r = gw.req('GET', '/api/pipelines', 'flw_' + '0' * 64)
    ok(r.status == 401 and 'flw_' not in r.body, 'an unknown token: 401, not echoed', r)
    r = gw.req('GET', '/api/pipelines', 'not a token at all')
    ok(r.status == 401, 'a malformed token: 401', r)
    dave = token('dave')
    out = subprocess.run([BIN, 'token', 'revoke', '--db', ADMIN, dave], capture_output=True, text=True)
    ok(out.returncode == 0, 'token revoke', out.stderr)
    r = gw.req('GET', '/api/pipelines', dave)
    ok(r.status == 401 and 'revoked' in r.json['error']['message'], 'a revoked token: 401', r)
    short = token('erin', ['--expires-in', '1 second'])
    time.sleep(1.2)
    r = gw.req('GET', '/api/pipelines', short)
    ok(r.status == 401 and 'expired' in r.json['error']['message'], 'an expired token: 401', r)
    r = gw.req('GET', '/api/nope', alice)
    ok(r.status == 404 and r.json['error']['code'] == 'NOT_FOUND', 'an unknown route: 404', r)
    r = gw.req('PUT', '/api/pipelines', alice, body={})
    ok(r.status == 405, 'a wrong method: 405', r)

    # ---- pipelines: create, read, list, update, conflicts, visibility
    r = gw.req('POST', '/api/pipelines', alice, body=wf_body('gw-alice-1'))
    ok(r.status == 201 and r.json['id'] and r.json['name'] == 'gw-alice-1' and len(r.json['nodes']) == 3,
       'POST /api/pipelines creates and answers the pipeline', r)
    wf = r.json['id']
    r = gw.req('GET', f'/api/pipelines/{wf}', alice)
    ok(r.status == 200 and r.json['id'] == wf and r.json['executions'] == [], 'GET /api/pipelines/:id', r)
    r = gw.req('GET', f'/api/pipelines/{wf}', bob)
    ok(r.status == 404, "another user's private pipeline: 404", r)
    r = gw.req('GET', '/api/pipelines', bob)
    ok(r.status == 200 and all(p['id'] != wf for p in r.json['pipelines']), "bob's list leaves alice's pipeline out", r)
    r = gw.req('GET', '/api/pipelines?search=gw-alice&limit=10', alice)
    ok(r.status == 200 and [p['id'] for p in r.json['pipelines']] == [wf] and r.json['meta']['limit'] == 10
       and r.json['meta']['total'] == 1, 'GET /api/pipelines with search and limit (seed §9.1 meta)', r)
    r = gw.req('GET', '/api/pipelines?limit=0', alice)
    ok(r.status == 400 and 'limit' in r.json['error']['message'], 'limit=0: 400 naming limit', r)
    r = gw.req('POST', '/api/pipelines', alice, raw=b'{"name": "x", ')
    ok(r.status == 400 and r.json['error']['code'] == 'INVALID_INPUT', 'a body that is not JSON: 400', r)
    r = gw.req('POST', '/api/pipelines', alice, body={'name': 5, 'nodes': [], 'edges': []})
    ok(r.status == 400 and 'name' in r.json['error']['message'], 'a name that is a number: 400 naming name', r)
    r = gw.req('POST', '/api/pipelines', alice, body={'name': 'x', 'nodes': {}, 'edges': []})
    ok(r.status == 400 and 'nodes' in r.json['error']['message'], 'nodes not an array: 400 naming nodes', r)
    r = gw.req('POST', '/api/pipelines', alice)
    ok(r.status == 400, 'no body: 400', r)
    r = gw.req('POST', '/api/pipelines', alice, raw=b'{"name": "' + b'x' * 70000 + b'"}')
    ok(r.status == 413 and r.json['error']['code'] == 'PAYLOAD_TOO_LARGE', 'a body over --body-limit: 413', r)
    r = gw.req('GET', '/api/pipelines/not-a-uuid', alice)
    ok(r.status == 400 and 'uuid' in r.json['error']['message'], 'an id that is not a uuid: 400', r)
    r = gw.req('PATCH', f'/api/pipelines/{wf}', alice, body={'description': 'second', 'expectedVersion': 1})
    ok(r.status == 200 and r.json['version'] == 2, 'PATCH saves version 2', r)
    r = gw.req('PATCH', f'/api/pipelines/{wf}', alice, body={'description': 'stale', 'expectedVersion': 1})
    ok(r.status == 409 and r.json['error']['details'] == {'expectedVersion': 1, 'currentVersion': 2},
       'PATCH with a stale expectedVersion: 409 with both versions', r)
    r = gw.req('PATCH', f'/api/pipelines/{wf}', bob, body={'description': 'bob was here'})
    ok(r.status == 404, "PATCH of another user's pipeline: 404", r)
    r = gw.req('PATCH', f'/api/pipelines/{wf}', alice, body={'bogus': 1})
    ok(r.status == 400 and 'bogus' in r.json['error']['message'], 'PATCH with an unknown key: 400 naming it', r)
    r = gw.req('GET', f'/api/workflows/{wf}/versions', alice)
    ok(r.status == 200 and [v['version'] for v in r.json['versions']] == [2, 1] or
       sorted(v['version'] for v in r.json['versions']) == [1, 2], 'versions', r)
    r = gw.req('GET', f'/api/workflows/{wf}/versions/1', alice)
    ok(r.status == 200 and r.json['version'] == 1 and isinstance(r.json['nodes'], list), 'one version with its graph', r)
    r = gw.req('GET', f'/api/workflows/{wf}/versions/9', alice)
    ok(r.status == 404 and 'no version 9' in r.json['error']['message'], 'a version that does not exist: 404', r)
    r = gw.req('GET', f'/api/workflows/{wf}/versions/one', alice)
    ok(r.status == 400 and 'version' in r.json['error']['message'], 'a version that is no number: 400 naming it', r)
    r = gw.req('GET', f'/api/workflows/{wf}/versions/1', bob)
    ok(r.status == 404, "another user's version: 404", r)
    r = gw.req('GET', f'/api/workflows/{wf}/diff?from=1&to=2', alice)
    ok(r.status == 200, 'diff of two versions', r)
    r = gw.req('GET', f'/api/workflows/{wf}/diff?from=1', alice)
    ok(r.status == 200 and r.json['toVersion'] == 2, 'diff without to: against the latest version', r)
    r = gw.req('GET', f'/api/workflows/{wf}/diff?from=x', alice)
    ok(r.status == 400 and 'from' in r.json['error']['message'], 'diff with from=x: 400 naming from', r)

    # ---- routes the dashboard added: validate, resume (a breakpoint), table triggers
    r = gw.req('POST', '/api/workflows/validate', alice,
               body={'nodes': [{'id': 'c', 'type': 'condition', 'position': {'x': 0, 'y': 0}, 'data': {}}], 'edges': []})
    codes = sorted(e['code'] for e in r.json.get('errors', [])) if r.status == 200 else []
    ok(r.status == 200 and r.json['valid'] is False and codes == ['MISSING_REQUIRED_FIELD', 'NO_TRIGGER']
       and any(e.get('nodeId') == 'c' for e in r.json['errors']), 'POST /api/workflows/validate: flowent.validate', r)
    r = gw.req('POST', '/api/workflows/validate', alice, body=wf_body('v'))
    ok(r.status == 200 and r.json == {'valid': True, 'errors': []}, 'validate of a good graph: valid', r)
    r = gw.req('POST', '/api/workflows/validate', alice)
    ok(r.status == 400, 'validate without a body: 400', r)
    bp = wf_body('gw-breakpoint')
    bp['nodes'][1]['data']['breakpoint'] = True
    r = gw.req('POST', '/api/pipelines', alice, body=bp)
    bp_wf = r.json['id']
    r = gw.req('POST', f'/api/workflows/{bp_wf}/execute', alice, body={'payload': {'value': 2}, 'isTest': True, 'mode': 'sync'})
    ok(r.status == 200 and r.json['status'] == 'suspended' and r.json.get('waitingNodeId') == 'x',
       'a test run stops at a breakpoint', r)
    bp_exec = r.json.get('executionId')
    r = gw.req('POST', f'/api/workflows/executions/{bp_exec}/resume', bob, body={})
    ok(r.status == 404, "resume of another user's execution: 404", r)
    r = gw.req('POST', f'/api/workflows/executions/{bp_exec}/resume', alice)
    ok(r.status == 200 and r.json['status'] == 'success' and r.json['resumedFromNodeId'] == 'x'
       and r.json['output']['doubled'] == 4, 'POST /api/workflows/executions/:id/resume: flowent.resume continues it', r)
    r = gw.req('POST', f'/api/workflows/executions/{bp_exec}/resume', alice, body={})
    ok(r.status == 409, 'resume of a finished execution: 409', r)
    r = gw.req('GET', f'/api/workflows/{bp_wf}/table-triggers', alice)
    ok(r.status == 200 and r.json == {'triggers': []}, 'GET /api/workflows/:id/table-triggers: none yet', r)
    psql("CREATE TABLE IF NOT EXISTS public.gw_dash_orders (id int, status text)")
    psql(f"SELECT flowent.set_acting_user('alice'); SELECT flowent.on_change('{bp_wf}', 'public.gw_dash_orders', '{{insert}}')")
    r = gw.req('GET', f'/api/workflows/{bp_wf}/table-triggers', alice)
    ok(r.status == 200 and len(r.json['triggers']) == 1 and r.json['triggers'][0]['table'] == 'gw_dash_orders'
       and r.json['triggers'][0]['events'] == ['insert'], 'table-triggers lists an on_change trigger', r)
    r = gw.req('GET', f'/api/workflows/{bp_wf}/table-triggers', bob)
    ok(r.status == 404, "table-triggers of another user's workflow: not found", r)
    r = gw.req('GET', '/api/workflows/nope/table-triggers', alice)
    ok(r.status == 400, 'table-triggers with an id that is not a uuid: 400', r)

    # ---- runs: sync keeps numbers exact, async is queued; logs; context
    exact = 12345678901234567890.123456789
    r = gw.req('POST', f'/api/pipelines/{wf}/execute', alice,
               raw=b'{"payload": {"value": 21, "exact": 12345678901234567890.123456789}, "mode": "sync"}')
    ok(r.status == 200 and r.json['status'] == 'success' and r.json['output']['doubled'] == 42
       and '12345678901234567890.123456789' in r.body, 'a sync run answers its output, numbers exact', r)
    sync_exec = r.json.get('executionId')
    r = gw.req('POST', f'/api/pipelines/{wf}/execute', alice, body={'payload': {'value': 1}})
    ok(r.status == 200 and r.json['success'] is True and r.json['executionId'] and r.json['status'] in ('pending', 'running', 'success'),
       'an async run is queued (seed §9.2)', r)
    async_exec = r.json.get('executionId')
    r = gw.req('POST', f'/api/pipelines/{wf}/execute', alice, body={'payload': {}, 'variables': 5})
    ok(r.status == 400 and 'variables' in r.json['error']['message'], 'variables that are not an object: 400 naming them', r)
    r = gw.req('POST', f'/api/pipelines/{wf}/execute', bob, body={})
    ok(r.status == 404, "bob cannot run alice's private pipeline: 404", r)
    r = gw.req('GET', f'/api/workflows/executions/{sync_exec}/logs', alice)
    ok(r.status == 200 and [l['nodeId'] for l in r.json['logs']] == ['t', 'x', 'o'], 'logs of a run', r)
    r = gw.req('GET', f'/api/workflows/executions/{sync_exec}/logs', bob)
    ok(r.status == 404, "bob cannot read alice's logs: 404", r)
    r = gw.req('GET', f'/api/pipelines/context/{sync_exec}', alice)
    ok(r.status == 200 and r.json['executionId'] == sync_exec and r.json['status'] == 'success', 'execution context', r)
    r = gw.req('GET', '/api/workflows/executions/recent?limit=5', alice)
    ok(r.status == 200 and any(e['id'] == sync_exec for e in r.json['executions']), 'recent executions', r)
    r = gw.req('GET', '/api/workflows/executions/recent?limit=1&offset=1', alice)
    ok(r.status == 200 and len(r.json['executions']) == 1 and r.json['hasMore'] in (True, False), 'recent executions page on with offset', r)
    r = gw.req('GET', '/api/workflows/executions/recent', bob)
    ok(r.status == 200 and not any(e['id'] == sync_exec for e in r.json['executions']), "bob's recent executions leave alice's out", r)
    for _ in range(100):
        r = gw.req('GET', f'/api/pipelines/context/{async_exec}', alice)
        if r.json and r.json.get('status') == 'success':
            break
        time.sleep(0.1)
    ok(r.json and r.json.get('status') == 'success', 'the worker finished the async run', r)
    r = gw.req('POST', f'/api/workflows/executions/{sync_exec}/cancel', alice, body={})
    ok(r.status == 409, 'cancel of a finished execution: 409', r)
    r = gw.req('GET', '/api/node-types', alice)
    ok(r.status == 200 and any(t['type'] == 'llm-agent' or t['type'] == 'trigger' for t in r.json['nodeTypes']), 'node types', r)
    r = gw.req('POST', '/api/workflows/estimate', alice, body={'workflowId': wf, 'payload': {}})
    ok(r.status == 200 and set(r.json) == {'totalTokens', 'totalCost', 'nodes'}, 'estimate: {totalTokens, totalCost, nodes}', r)
    r = gw.req('POST', '/api/workflows/estimate', bob, body={'workflowId': wf})
    ok(r.status == 404, "estimate of another user's workflow: 404", r)
    r = gw.req('POST', '/api/workflows/estimate', alice, body={'workflowId': 'nope'})
    ok(r.status == 400, 'estimate with a workflowId that is no uuid: 400', r)
    r = gw.req('POST', '/api/pipelines/generate', alice, body={'description': 'x'})
    ok(r.status == 400 and 'prompt' in r.json['error']['message'], '/generate without a prompt: 400 naming it', r)

    # ---- templates and analytics
    r = gw.req('GET', '/api/pipelines/templates?starterKit=true', bob)
    ok(r.status == 200 and len(r.json['templates']) >= 3 and all(t['starter_kit'] for t in r.json['templates']),
       'starter kits for any user', r)
    r = gw.req('GET', '/api/pipelines/templates', bob)
    ok(r.status == 200 and r.json['meta']['total'] >= 12
       and len({t['category'] for t in r.json['templates']}) >= 7, 'at least 12 templates over the 7 categories', r)
    lead = next(t for t in r.json['templates'] if t['name'] == 'Lead scoring')
    r = gw.req('GET', '/api/pipelines/templates?category=nope', bob)
    ok(r.status == 400 and 'category' in r.json['error']['message'], 'an unknown category: 400', r)
    r = gw.req('POST', '/api/pipelines/templates/clone', bob, body={'templateId': lead['id'], 'name': 'bob leads'})
    ok(r.status == 201 and r.json['name'] == 'bob leads' and r.json['id'] != lead['id'], 'clone a template into a private copy', r)
    ok(gw.req('GET', f"/api/pipelines/{r.json['id']}", alice).status == 404, "alice does not see bob's clone")
    r = gw.req('GET', '/api/pipelines/analytics', alice)
    ok(r.status == 200 and r.json['totals']['executions'] >= 2 and r.json['daily'], 'analytics of my runs', r)
    r = gw.req('GET', '/api/pipelines/analytics', bob)
    ok(r.status == 200 and r.json['totals']['executions'] == 0, "bob's analytics count none of alice's runs", r)
    r = gw.req('GET', '/api/pipelines/analytics?from=yesterday-ish', alice)
    ok(r.status == 400 and 'from' in r.json['error']['message'], 'analytics with a bad from: 400', r)

    # ---- approvals
    appr = gw.req('POST', '/api/pipelines', alice, body={
        'name': 'gw-approval',
        'nodes': [{'id': 't', 'type': 'trigger', 'data': {}},
                  {'id': 'a', 'type': 'human-approval', 'data': {'title': 'ok?'}},
                  {'id': 'y', 'type': 'output', 'data': {'value': 'yes'}},
                  {'id': 'n', 'type': 'output', 'data': {'value': 'no'}}],
        'edges': [{'id': 'e1', 'source': 't', 'target': 'a'},
                  {'id': 'e2', 'source': 'a', 'sourceHandle': 'approved', 'target': 'y'},
                  {'id': 'e3', 'source': 'a', 'sourceHandle': 'rejected', 'target': 'n'}]}).json['id']
    r = gw.req('POST', f'/api/pipelines/{appr}/execute', alice, body={'mode': 'sync'})
    ok(r.status == 200 and r.json['status'] == 'suspended', 'a run suspends at its approval', r)
    ax = r.json['executionId']
    r = gw.req('GET', '/api/workflows/approvals', alice)
    ok(r.status == 200 and any(a['executionId'] == ax for a in r.json['approvals']), 'pending approvals list it', r)
    r = gw.req('GET', '/api/workflows/approvals', bob)
    ok(r.status == 200 and not any(a['executionId'] == ax for a in r.json['approvals']), "bob's approvals do not", r)
    r = gw.req('POST', f'/api/workflows/executions/{ax}/approve', bob, body={'approved': True})
    ok(r.status in (403, 404), 'bob cannot decide it', r)
    r = gw.req('POST', f'/api/workflows/executions/{ax}/approve', alice, body={'approved': 'yes'})
    ok(r.status == 400 and 'approved' in r.json['error']['message'], 'approved must be a boolean: 400', r)
    r = gw.req('POST', f'/api/workflows/executions/{ax}/approve', alice, body={'approved': True, 'comment': 'fine'})
    ok(r.status == 200 and r.json['success'] is True and r.json['status'] == 'success', 'approve (seed §9.3) continues the run', r)
    r = gw.req('POST', f'/api/workflows/executions/{ax}/approve', alice, body={'approved': True})
    ok(r.status == 409, 'deciding twice: 409', r)

    # ---- WebSocket: join an execution, events in seq order with outputs
    ws = WebSocket(HOST, PORT, '/ws')
    ok(ws.status == 401, 'a WebSocket upgrade without a token: 401', ws.status)
    ws = WebSocket(HOST, PORT, f'/ws?token={alice}')
    ok(ws.status == 101, 'WebSocket upgrade with ?token=', ws.status)
    ws.send({'type': 'join:execution', 'executionId': sync_exec, 'since': 0})
    got = ws.until(lambda m: m.get('type') == 'joined')
    evs = [m for m in got if 'event' in m]
    seqs = [e['seq'] for e in evs]
    ok(seqs == sorted(seqs) and evs and evs[-1]['event'] == 'workflow:complete', 'join with since=0 replays the events in seq order', seqs)
    outs = [e for e in evs if e['event'] == 'step:completed' and e['nodeId'] == 'o']
    ok(outs and outs[0]['output']['doubled'] == 42, 'replayed step events carry their output', outs)
    ws.send({'type': 'join:execution', 'executionId': sync_exec, 'since': seqs[-2]})
    got = ws.until(lambda m: m.get('type') == 'joined')
    ok([e['seq'] for e in got if 'event' in e] == [seqs[-1]], 'since=n sends only what came after n', got)
    ws.send({'type': 'join:execution', 'executionId': str(uuid.uuid4())})
    m = ws.until(lambda m: m.get('type') == 'error')[-1]
    ok(m['code'] == 'NOT_FOUND', 'joining an unknown execution: an error message', m)
    ws.send({'type': 'join:execution', 'executionId': 'nope'})
    m = ws.until(lambda m: m.get('type') == 'error')[-1]
    ok(m['code'] == 'INVALID_INPUT', 'joining with a bad id: INVALID_INPUT', m)
    ws.send({'type': 'dance'})
    m = ws.until(lambda m: m.get('type') == 'error')[-1]
    ok('type' in m['message'], 'an unknown message type: an error naming type', m)
    wsb = WebSocket(HOST, PORT, f'/ws?token={bob}')
    wsb.send({'type': 'join:execution', 'executionId': sync_exec, 'since': 0})
    m = wsb.until(lambda m: m.get('type') in ('error', 'joined'))[-1]
    ok(m.get('type') == 'error' and m['code'] == 'NOT_FOUND', "bob cannot join alice's execution", m)
    wsb.send({'type': 'join:workflow', 'workflowId': wf})
    m = wsb.until(lambda m: m.get('type') in ('error', 'joined'))[-1]
    ok(m.get('type') == 'error', "bob cannot watch alice's workflow", m)

    # live: join the workflow, start a run, the events arrive in order, outputs included
    ws.send({'type': 'join:workflow', 'workflowId': wf})
    ws.until(lambda m: m.get('type') == 'joined' and m.get('workflowId') == wf)
    r = gw.req('POST', f'/api/pipelines/{wf}/execute', alice, body={'payload': {'value': 4}, 'mode': 'sync'})
    live = r.json['executionId']
    got = ws.until(lambda m: m.get('event') == 'workflow:complete' and m.get('executionId') == live)
    lseqs = [m['seq'] for m in got if m.get('executionId') == live]
    ok(lseqs == sorted(lseqs) and len(lseqs) >= 7, 'join:workflow: a new run\'s events arrive live, in seq order', lseqs)
    # an execution subscription gets outputs live
    ws.send({'type': 'leave:workflow', 'workflowId': wf})
    ws.until(lambda m: m.get('type') == 'left')
    r = gw.req('POST', f'/api/pipelines/{appr}/execute', alice, body={'mode': 'sync'})
    ax2 = r.json['executionId']
    ws.send({'type': 'join:execution', 'executionId': ax2})
    ws.until(lambda m: m.get('type') == 'joined')
    gw.req('POST', f'/api/workflows/executions/{ax2}/approve', alice, body={'approved': False})
    got = ws.until(lambda m: m.get('event') == 'workflow:complete')
    n_out = [m for m in got if m.get('event') == 'step:completed' and m.get('nodeId') == 'n']
    ok(n_out and n_out[0].get('output') == 'no' and all(m['executionId'] == ax2 for m in got if 'event' in m),
       'a joined execution\'s live events carry outputs', got)

    # ---- a reconnect with since misses nothing: leave mid-run, come back after it ended
    r = gw.req('POST', f'/api/pipelines/{appr}/execute', alice, body={'mode': 'sync'})
    ax3 = r.json['executionId']
    w1 = WebSocket(HOST, PORT, f'/ws?token={alice}')
    w1.send({'type': 'join:execution', 'executionId': ax3, 'since': 0})
    first = [m for m in w1.until(lambda m: m.get('type') == 'joined') if 'event' in m]
    w1.close()
    gw.req('POST', f'/api/workflows/executions/{ax3}/approve', alice, body={'approved': True})
    w2 = WebSocket(HOST, PORT, f'/ws?token={alice}')
    w2.send({'type': 'join:execution', 'executionId': ax3, 'since': first[-1]['seq']})
    rest = [m for m in w2.until(lambda m: m.get('type') == 'joined') if 'event' in m]
    w2.close()
    allseq = [m['seq'] for m in first + rest]
    since = first[-1]['seq']
    # a node's log keeps the seq of its last event: the approval's row moved on when it was decided
    logged = psql(f"SELECT string_agg(seq::text, ',' ORDER BY seq) FROM flowent.workflow_node_logs "
                  f"WHERE execution_id = '{ax3}' AND seq > {since}")
    final = psql(f"SELECT seq FROM flowent.workflow_executions WHERE id = '{ax3}'")
    ok(first[-1]['event'] == 'node:suspended' and allseq == sorted(set(allseq))
       and [m['seq'] for m in rest] == [int(x) for x in logged.split(',')] + [int(final)]
       and rest[-1]['event'] == 'workflow:complete',
       'a reconnect with since gets the rest: every later node and the end once, in order', (allseq, logged, final))

    # ---- the per-user feed: my executions finishing, approvals assigned to me
    feed_a = WebSocket(HOST, PORT, f'/ws?token={alice}')
    feed_a.send({'type': 'join:feed'})
    ok(feed_a.until(lambda m: m.get('type') == 'joined')[-1].get('feed') == 'alice', 'join:feed joins my own feed')
    feed_b = WebSocket(HOST, PORT, f'/ws?token={bob}')
    feed_b.send({'type': 'join:feed'})
    feed_b.until(lambda m: m.get('type') == 'joined')
    assigned = gw.req('POST', '/api/pipelines', alice, body={
        'name': 'gw-assigned',
        'nodes': [{'id': 't', 'type': 'trigger', 'data': {}},
                  {'id': 'a', 'type': 'human-approval', 'data': {'title': 'for bob', 'assignedUserId': 'bob'}},
                  {'id': 'y', 'type': 'output', 'data': {'value': 'yes'}}],
        'edges': [{'id': 'e1', 'source': 't', 'target': 'a'},
                  {'id': 'e2', 'source': 'a', 'sourceHandle': 'approved', 'target': 'y'}]}).json['id']
    r = gw.req('POST', f'/api/pipelines/{assigned}/execute', alice, body={'mode': 'sync'})
    fx = r.json['executionId']
    m = feed_b.until(lambda m: m.get('type') == 'feed')[-1]
    ok(m['reason'] == 'approval-assigned' and m['event']['executionId'] == fx and m['event']['event'] == 'node:suspended',
       "bob's feed: an approval assigned to him", m)
    mine = [a for a in gw.req('GET', '/api/workflows/approvals', bob).json['approvals'] if a['executionId'] == fx]
    ok(len(mine) == 1, "bob's pending approvals list the one assigned to him", mine)
    r = gw.req('POST', f'/api/workflows/executions/{mine[0]["id"]}/approve', bob, body={'approved': True})
    ok(r.status == 200 and r.json['status'] == 'success', 'the assignee decides it by its approval id', r)
    m = feed_a.until(lambda m: m.get('type') == 'feed' and m['event']['event'] == 'workflow:complete')[-1]
    ok(m['reason'] == 'execution-finished' and m['event']['executionId'] == fx and 'output' not in m['event'],
       "alice's feed: her execution finished (no outputs in the feed)", m)
    feed_a.close()
    feed_b.close()

    # ---- a slow client is closed, the others go on
    slowc = WebSocket(HOST, PORT, f'/ws?token={alice}')
    slowc.sock.setsockopt(__import__('socket').SOL_SOCKET, __import__('socket').SO_RCVBUF, 4096)
    big = gw.req('POST', '/api/pipelines', alice, body={
        'name': 'gw-big', 'nodes': [{'id': 't', 'type': 'trigger', 'data': {}},
                                    {'id': 'x', 'type': 'data-transform',
                                     'data': {'expression': "jsonb_build_object('s', repeat('x', 60000))"}}],
        'edges': [{'id': 'e', 'source': 't', 'target': 'x'}]}).json['id']
    r = gw.req('POST', f'/api/pipelines/{big}/execute', alice, body={'mode': 'sync'})
    bigx = r.json['executionId']
    for _ in range(150):  # ~9 MB of replies to a client that reads nothing
        slowc.send({'type': 'join:execution', 'executionId': bigx, 'since': 0})
    time.sleep(2)
    fast = WebSocket(HOST, PORT, f'/ws?token={alice}')
    fast.send({'type': 'ping'})
    ok(fast.until(lambda m: m.get('type') == 'pong'), 'a client that does not read does not stop the others')
    fast.close()
    slowc.sock.setsockopt(__import__('socket').SOL_SOCKET, __import__('socket').SO_RCVBUF, 1 << 20)
    code = None
    try:
        while True:
            m = slowc.recv(timeout=10)
            if m is None:
                code = slowc.close_code
                break
    except (ConnectionError, OSError):
        code = 'reset'
    ok(code in (1008, 'reset'), 'the client that does not read is closed (1008) past the send cap', code)
    slowc.close()
    r = gw.req('GET', '/metrics')
    ok('flowent_gateway_websockets ' in r.body, 'metrics count WebSockets')

    # ---- credentials: names only, never values
    psql("BEGIN; SELECT flowent.set_acting_user('alice'); "
         "SELECT flowent.set_credential('smtp-main', '{\"password\": \"hunter2-value\"}'); COMMIT;")
    r = gw.req('GET', '/api/credentials', alice)
    ok(r.status == 200 and any(c['name'] == 'smtp-main' for c in r.json['credentials']) and 'hunter2-value' not in r.body,
       '/api/credentials lists names, never values', r)
    r = gw.req('GET', '/api/credentials', bob)
    ok(r.status == 200 and 'smtp-main' not in r.body, "bob does not see alice's credentials", r)

    # ---- schedules (pg_cron serves another database here: a clear 409), rerun, delete
    r = gw.req('POST', f'/api/pipelines/{wf}/schedule', alice, body={'cron': '*/5 * * * *'})
    ok(r.status == 409 and r.json['error']['message'], 'schedule of an unpublished workflow, or where pg_cron does not run: 409 saying why', r)
    r = gw.req('POST', f'/api/pipelines/{wf}/schedule', alice, body={'cron': 5})
    ok(r.status == 400 and 'cron' in r.json['error']['message'], 'schedule with a cron that is not text: 400', r)
    r = gw.req('POST', f'/api/workflows/executions/{sync_exec}/rerun', alice, body={'fromNode': 'o'})
    ok(r.status == 200 and r.json['executionId'] != sync_exec and r.json['status'] == 'success', 'rerun from a node', r)
    r = gw.req('POST', f'/api/workflows/executions/{sync_exec}/rerun', alice, body={})
    ok(r.status == 400 and 'fromNode' in r.json['error']['message'], 'rerun without fromNode: 400', r)
    r = gw.req('POST', f'/api/workflows/executions/{sync_exec}/rerun', bob, body={'fromNode': 'o'})
    ok(r.status == 404, "bob cannot rerun alice's execution", r)
    r = gw.req('DELETE', f'/api/pipelines/{big}', bob)
    ok(r.status == 404, "bob cannot delete alice's pipeline", r)
    r = gw.req('DELETE', f'/api/pipelines/{big}', alice)
    ok(r.status == 200 and r.json['success'] is True and gw.req('GET', f'/api/pipelines/{big}', alice).status == 404,
       'DELETE removes the pipeline', r)

    # ---- SSE
    st, events = sse(HOST, PORT, f'/api/executions/{sync_exec}/events', alice)
    ok(st == 200 and events and events[-1]['data']['event'] == 'workflow:complete'
       and [e['id'] for e in events] == sorted(e['id'] for e in events), 'SSE replays from the start and ends at workflow:complete', events[-2:])
    st, tail = sse(HOST, PORT, f'/api/executions/{sync_exec}/events', alice, last_event_id=events[-2]['id'])
    ok(st == 200 and [e['id'] for e in tail] == [events[-1]['id']], 'SSE with Last-Event-ID sends only later events', tail)
    st, _ = sse(HOST, PORT, f'/api/executions/{sync_exec}/events', bob)
    ok(st == 404, "SSE of alice's execution for bob: 404", st)

    # ---- webhooks
    r = gw.req('POST', f'/api/workflows/{wf}/deploy', alice)
    ok(r.status == 200 and r.json.get('webhookSecret'), 'deploy publishes and answers the webhook secret', r)
    secret = r.json['webhookSecret']
    r = gw.req('GET', f'/api/pipelines/{wf}/webhooks', alice)
    ok(r.status == 200 and 'webhookSecret' not in r.body and secret not in r.body, 'webhooks GET never shows the secret', r)
    body = b'{"value": 8, "exact": 0.1000000000000000000001}'
    r = gw.req('POST', f'/api/hooks/{wf}', raw=body, headers=sign(secret, body))
    ok(r.status == 202 and r.json['executionId'], 'a signed webhook: 202 with the execution', r)
    hooked = r.json['executionId']
    body = b'{"value": 8, "exact": 0.1000000000000000000001, "n": 2}'
    hdrs = sign(secret, body)
    r1 = gw.req('POST', f'/api/hooks/{wf}?wait=true', raw=body, headers=hdrs)
    ok(r1.status == 200 and r1.json['output']['doubled'] == 16 and '0.1000000000000000000001' in r1.body,
       'a webhook with ?wait=true answers the output, numbers exact', r1)
    r = gw.req('POST', f'/api/hooks/{wf}?wait=true', raw=body, headers=hdrs)
    ok(r.status == 409 and r.json['error']['code'] == 'REPLAYED', 'the same signature again: refused', r)
    r = gw.req('POST', f'/api/hooks/{wf}', raw=body, headers=sign('wrong', body))
    ok(r.status == 401 and r.json['error']['code'] == 'INVALID_SIGNATURE', 'a bad signature: 401', r)
    r = gw.req('POST', f'/api/hooks/{wf}', raw=body, headers=sign(secret, body, ts=int(time.time()) - 400))
    ok(r.status == 401 and 'minutes' in r.json['error']['message'], 'a stale timestamp: 401', r)
    r = gw.req('POST', f'/api/hooks/{wf}', raw=body)
    ok(r.status == 401, 'no signature: 401', r)
    r = gw.req('POST', f'/api/hooks/{appr}', raw=body, headers=sign(secret, body))
    ok(r.status == 404, 'an unpublished workflow: 404', r)
    r = gw.req('POST', f'/api/pipelines/{wf}/webhooks', alice)
    ok(r.status == 200 and r.json.get('webhookSecret') and r.json['webhookSecret'] != secret, 'rotate the webhook secret', r)
    r = gw.req('POST', f'/api/hooks/{wf}', raw=body, headers=sign(secret, body))
    ok(r.status == 401, 'the old secret no longer signs', r)
    r = gw.req('GET', f'/api/pipelines/context/{hooked}', alice)
    ok(r.status == 200 and r.json['triggerType'] == 'webhook', 'a webhook run is of trigger type webhook, seen by the owner', r)
    published = r.json['workflowVersion']
    secret = gw.req('GET', f'/api/pipelines/{wf}/webhooks', alice).json and \
        gw.req('POST', f'/api/pipelines/{wf}/webhooks', alice).json['webhookSecret']
    changed = wf_body('gw-alice-1')
    changed['nodes'][2]['data']['value'] = {'changed': True}
    r = gw.req('PATCH', f'/api/pipelines/{wf}', alice, body={'nodes': changed['nodes']})
    ok(r.status == 200 and r.json['version'] > published, 'a new version saved after publishing', r)
    body = b'{"value": 1, "n": 3}'
    r = gw.req('POST', f'/api/hooks/{wf}?wait=true', raw=body, headers=sign(secret, body))
    ok(r.status == 200 and r.json['output'].get('doubled') == 2 and 'changed' not in r.json['output'],
       'a webhook runs the published version, not the latest save', r)
    sw = gw.req('POST', '/api/pipelines', alice, body=wf_body('gw-sync-hook', settings={'webhookWait': True})).json['id']
    ssec = gw.req('POST', f'/api/workflows/{sw}/deploy', alice).json['webhookSecret']
    body = b'{"value": 10}'
    r = gw.req('POST', f'/api/hooks/{sw}', raw=body, headers=sign(ssec, body))
    ok(r.status == 200 and r.json['output']['doubled'] == 20, 'a workflow with settings.webhookWait answers its output without ?wait', r)
    body = b'{"value": 11}'
    r = gw.req('POST', f'/api/hooks/{sw}?wait=false', raw=body, headers=sign(ssec, body))
    ok(r.status == 202 and 'output' not in r.json, '?wait=false queues it anyway', r)
    body = b'{"value": 1, "n": 4}'
    r = gw.req('POST', f'/api/hooks/{wf}', raw=body, headers=sign(secret, body))
    v = psql(f"SELECT workflow_version FROM flowent.workflow_executions WHERE id = '{r.json['executionId']}'")
    ok(r.status == 202 and int(v) == published, 'so does a queued webhook run', (r, v, published))
    # the gateway remembers a secret it verified with; the database still decides in the same transaction
    psql(f"UPDATE flowent.workflows SET is_published = false WHERE id = '{wf}'")
    body = b'{"value": 1, "n": 5}'
    r = gw.req('POST', f'/api/hooks/{wf}', raw=body, headers=sign(secret, body))
    ok(r.status == 404, 'unpublished after its secret was remembered: 404, nothing run', r)
    psql(f"UPDATE flowent.workflows SET is_published = true WHERE id = '{wf}'")
    r = gw.req('POST', f'/api/hooks/{wf}', raw=body, headers=sign(secret, body))
    ok(r.status == 202, '... published again: the same request runs (the refused one left no replay record)', r)

    # webhooks arriving together share transactions (a group commit); each is answered its own result
    def hook_batches():
        m = gw.req('GET', '/metrics').body
        got = {}
        for line in m.splitlines():
            for k in ('flowent_gateway_webhook_batches_total', 'flowent_gateway_webhook_deliveries_total'):
                if line.startswith(k + ' '):
                    got[k] = int(line.split()[1])
        return got.get('flowent_gateway_webhook_batches_total', 0), got.get('flowent_gateway_webhook_deliveries_total', 0)
    b0, d0 = hook_batches()
    sends = [(f'{{"value": {i}, "batch": {i}}}'.encode(), None) for i in range(24)]
    sends += [(b'{"value": 1, "broken', None) for _ in range(3)]
    twice = b'{"value": 7, "batch": "twice"}'
    th = sign(secret, twice)
    sends += [(twice, th), (twice, th)]
    answers = http_at_once('127.0.0.1', gw.port, [(f'/api/hooks/{wf}?wait=true', hdrs or sign(secret, raw), raw)
                                                 for raw, hdrs in sends])
    b1, d1 = hook_batches()
    good = answers[:24]
    ok(all(a.status == 200 and a.json['output']['doubled'] == 2 * i for i, a in enumerate(good)),
       'webhooks sent together: each answered its own output', [(a.status, a.body[:80]) for a in good if a.status != 200][:3])
    ok(all(a.status == 400 and a.json['error']['code'] == 'INVALID_INPUT' and 'json' in a.json['error']['message'].lower()
           for a in answers[24:27]), 'a webhook whose body is not JSON: 400, the others run', [a.body[:120] for a in answers[24:27]])
    ok(sorted(a.status for a in answers[27:]) == [200, 409], 'the same signature twice at once: one runs, one is refused',
       [a.status for a in answers[27:]])
    ok(d1 - d0 == len(sends) and b1 - b0 < d1 - d0, 'webhooks sent together share transactions',
       (b1 - b0, d1 - d0))
    n = psql(f"SELECT count(*) FROM flowent.workflow_executions WHERE workflow_id = '{wf}' "
             f"AND input ? 'batch'")
    ok(int(n) == 25, 'and each that ran is one committed execution', n)
    body = b'{"value": 1}\x00{"value": 2}'
    r = gw.req('POST', f'/api/hooks/{wf}?wait=true', raw=body, headers=sign(secret, body))
    ok(r.status == 400 and 'NUL' in r.json['error']['message'], 'a webhook body with a NUL byte: 400', r)

    # ---- workspaces: bob sees alice's team pipeline once he is a member
    r = gw.req('POST', '/api/workspaces', alice, body={'name': 'team gw'})
    ok(r.status == 201, 'create a workspace', r)
    wsid = r.json.get('id') or r.json.get('workspaceId')
    r = gw.req('POST', '/api/pipelines', alice, body=wf_body('gw-team', visibility='team', workspaceId=wsid))
    team = r.json['id']
    ok(gw.req('GET', f'/api/pipelines/{team}', bob).status == 404, 'a team pipeline is hidden from non-members')
    r = gw.req('POST', f'/api/workspaces/{wsid}/members', alice, body={'userId': 'bob', 'role': 'editor'})
    ok(r.status == 200, 'add bob as an editor', r)
    ok(gw.req('GET', f'/api/pipelines/{team}', bob).status == 200, 'then bob sees it')
    r = gw.req('POST', f'/api/workspaces/{wsid}/members', bob, body={'userId': 'carol', 'role': 'owner'})
    ok(r.status == 403, 'an editor cannot add members', r)
    r = gw.req('DELETE', f'/api/workspaces/{wsid}/members/bob', alice)
    ok(r.status == 200 and gw.req('GET', f'/api/pipelines/{team}', bob).status == 404, 'removed again, bob sees it no more', r)

    kept_answers(gw, alice, bob)
    single_flight(gw, alice)
    prepared_statements(gw, alice)

    # ---- rate limit: a gateway at 5 requests/s per token, bursts of 10
    gw3 = Gateway(int(os.environ.get('GW_PORT3', '3903')), '--rate-limit', '5', '--idle-timeout', '2',
                  '--max-connections', '6')
    codes = [gw3.req('GET', '/api/credentials', carol) for _ in range(14)]
    ok([c.status for c in codes[:10]] == [200] * 10 and codes[-1].status == 429
       and codes[-1].json['error']['code'] == 'RATE_LIMITED' and int(codes[-1].headers.get('Retry-After', '0')) >= 1,
       'past its burst a token gets 429 with Retry-After', [c.status for c in codes])
    ok(gw3.req('GET', '/api/credentials', alice).status == 200, 'another token is not limited by it')
    time.sleep(1.1)
    ok(gw3.req('GET', '/api/credentials', carol).status == 200, 'and the limited token may go on a second later')
    import socket as _s
    lazy = _s.create_connection((HOST, gw3.port))
    lazy.sendall(b'GET /health HTTP/1.1\r\nHost: x\r\n')  # and never the end of the headers
    t0 = time.time()
    lazy.settimeout(10)
    try:
        closed = lazy.recv(100) == b''
    except OSError:
        closed = True
    ok(closed and time.time() - t0 < 6, 'a client that never finishes its headers is closed after --idle-timeout', time.time() - t0)
    lazy.close()
    held = [_s.create_connection((HOST, gw3.port)) for _ in range(6)]
    time.sleep(0.3)
    extra = _s.create_connection((HOST, gw3.port))
    extra.settimeout(1)  # under --idle-timeout: the held ones still hold their slots
    try:
        extra.sendall(b'GET /health HTTP/1.1\r\nHost: x\r\n\r\n')
        refused = not extra.recv(100).startswith(b'HTTP/1.1 200')
    except OSError:
        refused = True
    ok(refused, 'past --max-connections a new connection waits, not served')
    for c in held + [extra]:
        c.close()
    time.sleep(0.3)
    ok(gw3.req('GET', '/health').status == 200, 'and once they close it serves again')
    ok(gw3.stop() == 0, 'the rate-limited gateway stops cleanly')

    # ---- metrics
    r = gw.req('GET', '/metrics')
    ok(r.status == 200 and 'flowent_gateway_requests_total{route="/api/pipelines",status="201"}' in r.body
       and 'flowent_gateway_request_duration_seconds_bucket' in r.body and 'flowent_gateway_websockets' in r.body,
       '/metrics counts requests by route and status', r.body[:200])

    # ---- the dashboard's files: by path, index.html for page routes, nothing outside the directory
    web = os.path.join(LOGDIR, 'web')
    os.makedirs(os.path.join(web, 'assets'), exist_ok=True)
    with open(os.path.join(web, 'index.html'), 'w') as f:
        f.write('<!doctype html><title>Flowent</title>')
    with open(os.path.join(web, 'assets', 'app-1234.js'), 'w') as f:
        f.write('console.log(1)')
    outside = os.path.join(LOGDIR, 'secret.txt')
    with open(outside, 'w') as f:
        f.write('not for the web')
    if not os.path.lexists(os.path.join(web, 'leak.txt')):
        os.symlink(outside, os.path.join(web, 'leak.txt'))
    gw4 = Gateway(int(os.environ.get('GW_PORT4', '3904')), '--web', web)
    r = gw4.req('GET', '/')
    ok(r.status == 200 and 'Flowent' in r.body and r.headers['Content-Type'].startswith('text/html'), 'GET / serves index.html', r)
    r = gw4.req('GET', '/pipelines/123/editor')
    ok(r.status == 200 and 'Flowent' in r.body, 'a page route serves the app (a reload or shared link works)', r)
    r = gw4.req('GET', '/assets/app-1234.js')
    ok(r.status == 200 and r.headers['Content-Type'].startswith('text/javascript')
       and 'immutable' in r.headers.get('Cache-Control', '') and r.headers.get('X-Content-Type-Options') == 'nosniff',
       'an asset with its type, cached, with security headers', r.headers)
    r = gw4.req('GET', '/leak.txt')
    ok(r.status == 404 and 'not for the web' not in r.body, 'a symlink out of the web directory is not followed', r)
    r = gw4.req('GET', '/assets/missing.js')
    ok(r.status == 404, 'a missing asset: 404, not the app', r)
    import socket as _s
    c = _s.create_connection((HOST, gw4.port))
    c.sendall(b'GET /assets/../../secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    raw = recv_all(c)
    ok(raw.startswith(b'HTTP/1.1 400') and b'not for the web' not in raw, 'a path with ".." is refused', raw[:80])
    r = gw4.req('GET', '/api/pipelines/abc/nothing', alice)
    ok(r.status == 404 and r.json['error']['code'] == 'NOT_FOUND', 'an unknown /api path is a JSON 404, not the app', r)
    ok(gw4.stop() == 0, 'the web gateway stops cleanly')

    # ---- two gateways: a socket on the second gets the events of a run started through the first
    gw2 = Gateway(PORT2)
    ws2 = WebSocket(HOST, PORT2, f'/ws?token={alice}')
    ws2.send({'type': 'join:workflow', 'workflowId': wf})
    ws2.until(lambda m: m.get('type') == 'joined')
    r = gw.req('POST', f'/api/pipelines/{wf}/execute', alice, body={'payload': {'value': 3}, 'mode': 'sync'})
    got = ws2.until(lambda m: m.get('event') == 'workflow:complete' and m.get('executionId') == r.json['executionId'])
    ok(got, 'two gateways: events of a run through one reach a socket on the other')

    # ---- a PostgreSQL restart while both run
    subprocess.run(['bash', os.environ['GW_CLUSTER_RESTART']], check=True, capture_output=True)
    codes = []
    for _ in range(50):
        codes.append(gw.req('GET', '/api/pipelines', alice).status)
        if codes[-1] == 200:
            break
        time.sleep(0.2)
    ok(codes[-1] == 200 and all(c in (200, 503) for c in codes), 'after a PostgreSQL restart requests succeed again', codes)
    for _ in range(100):
        h2 = gw2.req('GET', '/health')
        if h2.status == 200 and h2.json['events']:
            break
        time.sleep(0.1)
    ok(h2.json and h2.json['events'] is True, '/health says when the events connection listens again', h2)
    gap = ws2.until(lambda m: m.get('type') == 'events:gap')
    ok(gap[-1]['workflowId'] == wf, 'a workflow subscriber is told it may have missed events', gap[-1])
    r = gw.req('POST', f'/api/pipelines/{wf}/execute', alice, body={'payload': {'value': 5}, 'mode': 'sync'})
    got = ws2.until(lambda m: m.get('event') == 'workflow:complete' and m.get('executionId') == r.json['executionId'], timeout=20)
    ok(got, 'and the LISTEN connection is back: events flow after the restart')

    # ---- SIGTERM with a request in flight
    slow = gw.req('POST', '/api/pipelines', alice, body={
        'name': 'gw-slow', 'nodes': [{'id': 't', 'type': 'trigger', 'data': {}},
                                     {'id': 's', 'type': 'data-transform', 'data': {'expression': 'pg_sleep(1.5) IS NULL'}}],
        'edges': [{'id': 'e', 'source': 't', 'target': 's'}]}).json['id']
    result = {}

    def slow_call():
        result['r'] = gw2.req('POST', f'/api/pipelines/{slow}/execute', alice, body={'mode': 'sync'})
    t = threading.Thread(target=slow_call)
    t.start()
    time.sleep(0.5)
    rc = gw2.stop()
    t.join()
    ok(result['r'].status == 200 and result['r'].json['status'] == 'success' and rc == 0,
       'SIGTERM: the request in flight is answered, then the gateway exits 0', (result.get('r'), rc))
    m = ws2.recv(timeout=5)
    ok(m is None and ws2.close_code == 1001, 'SIGTERM closes WebSockets with 1001', ws2.close_code)

    ws.close()
    wsb.close()
    rc = gw.stop()
    ok(rc == 0, 'the first gateway stops cleanly', rc)
    print(f'gateway: {failures} failures')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
