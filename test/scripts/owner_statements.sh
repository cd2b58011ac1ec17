#!/usr/bin/env bash
# The engine's own statements cannot be steered by the caller's search_path:
# - C: every SQL text in src/ names its tables schema-qualified (flowent.…,
#   pg_catalog.…) or as a CTE of the same statement; the switch to the owner
#   (fl_owner_begin) pushes an override search path of pg_catalog alone.
# - SQL: every SECURITY DEFINER function of the extension has a search_path
#   with pg_catalog first and pg_temp last.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "owner_statements: FAIL: $*"; exit 1; }

python3 - <<'PY' || fail "unqualified table names in the engine's SQL (above)"
import glob, re, sys

bad = []
count = 0
for path in sorted(glob.glob('src/pg/*.c') + glob.glob('src/nodes/*.c') + glob.glob('src/worker/*.c')):
    src = open(path).read()
    src = re.sub(r'/\*.*?\*/', '', src, flags=re.S)
    # adjacent string literals form one statement
    for m in re.finditer(r'(?:"(?:[^"\\\n]|\\.)*"\s*)+', src):
        text = ''.join(re.findall(r'"((?:[^"\\\n]|\\.)*)"', m.group(0)))
        if not re.match(r'\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b', text, re.I):
            continue
        if not re.search(r'\b(FROM|INTO|UPDATE|JOIN)\b', text, re.I):
            continue
        count += 1
        sql = re.sub(r"'(?:[^']|'')*'", "''", text.replace('\\"', '"'))
        sql = re.sub(r'\bFOR\s+(NO\s+KEY\s+)?UPDATE\b', 'FOR LOCK', sql, flags=re.I)
        sql = re.sub(r'\bDO\s+UPDATE\b', 'DO CHANGE', sql, flags=re.I)   # ON CONFLICT … DO UPDATE SET
        ctes = set(n.lower() for n in re.findall(r'(?:\bWITH(?:\s+RECURSIVE)?|,)\s+(\w+)\s*(?:\([\w\s,]*\))?\s+AS\s*\(', sql, re.I))
        for kw, name in re.findall(r'\b(FROM|INTO|UPDATE|JOIN)\s+([\w."]+)', sql, re.I):
            low = name.lower()
            # flowent_rows, flowent_old: a table trigger's transition tables (no schema)
            if '.' in low or low in ctes or low in ('only', 'lateral', 'flowent_rows', 'flowent_old'):
                continue
            # FROM f(…) is a function, resolved in pg_catalog first
            after = sql[sql.lower().find(low, sql.lower().find(kw.lower())) + len(low):].lstrip()
            if after.startswith('('):
                continue
            bad.append(f'{path}: {kw} {name}: {text[:120]}')
for b in bad:
    print(b)
print(f'owner_statements: {count} SQL statements in src/ checked')
sys.exit(1 if bad else 0)
PY
echo "owner_statements: ok: every table the engine's SQL names is schema-qualified"

DB=flowent_owner_statements_test
dropdb --if-exists "$DB" >/dev/null 2>&1 || true
createdb "$DB"
trap 'dropdb --if-exists "$DB" >/dev/null 2>&1 || true' EXIT
psql -X -q -d "$DB" -v ON_ERROR_STOP=1 -c "CREATE EXTENSION flowent"
unsafe=$(psql -X -At -d "$DB" -v ON_ERROR_STOP=1 -c "
	SELECT p.oid::regprocedure || ' ' || coalesce(array_to_string(p.proconfig, ' '), '(no SET)')
	FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
	JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'flowent'
	WHERE p.prosecdef AND NOT EXISTS (
		SELECT 1 FROM unnest(p.proconfig) c
		WHERE c ~ '^search_path=pg_catalog(,|$)' AND c ~ '(^search_path=|, *)pg_temp$')")
[ -z "$unsafe" ] || fail "SECURITY DEFINER functions without search_path = pg_catalog, …, pg_temp: $unsafe"
n=$(psql -X -At -d "$DB" -c "SELECT count(*) FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
	JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'flowent' WHERE p.prosecdef")
echo "owner_statements: ok: all $n SECURITY DEFINER functions fix search_path (pg_catalog first, pg_temp last)"
