#!/usr/bin/env bash
# No control flow out of a PG_TRY block: a return, goto, break or continue
# between PG_TRY() and its PG_CATCH()/PG_FINALLY() leaves PostgreSQL's error
# stack pointing into a dead stack frame, and the next error jumps there
# (signal 11, and the postmaster restarts every backend).  break/continue are
# fine inside a loop or switch opened within the block.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ $# -eq 0 ]; then
	# the check itself must catch what it is for
	t=$(mktemp -d)
	trap 'rm -rf "$t"' EXIT
	printf '%s\n' 'void f(void) {' ' PG_TRY();' ' {' '  for (i = 0; i < 3; i++) { if (i) break; }' \
		'  if (x) return; /* return */' ' }' ' PG_CATCH();' ' { return; }' ' PG_END_TRY();' '}' >"$t/bad.c"
	if out=$("$0" "$t/bad.c"); then
		echo "pg_try_lint: FAIL: a return inside PG_TRY went unnoticed"; exit 1
	fi
	[ "$(grep -c "inside the PG_TRY" <<<"$out")" -eq 1 ] || { echo "pg_try_lint: FAIL: self-test: $out"; exit 1; }
fi

python3 - "$@" <<'PY'
import glob, re, sys

paths = sys.argv[1:] or sorted(glob.glob('src/**/*.c', recursive=True))
bad, blocks = [], 0
for path in paths:
    src = open(path).read()
    # comments and literals cannot hide or fake a keyword
    src = re.sub(r'/\*.*?\*/', lambda m: re.sub(r'[^\n]', ' ', m.group(0)), src, flags=re.S)
    src = re.sub(r'//[^\n]*', '', src)
    src = re.sub(r'"(?:[^"\\\n]|\\.)*"', '""', src)
    src = re.sub(r"'(?:[^'\\\n]|\\.)*'", "''", src)
    tokens = re.finditer(r'PG_TRY\s*\(\s*\)|PG_CATCH\s*\(\s*\)|PG_FINALLY\s*\(\s*\)|PG_END_TRY\s*\(\s*\)'
                         r'|\b(?:return|goto|break|continue|for|while|do|switch)\b|[{};()]', src)
    # per open PG_TRY: the brace stack since it opened (True = loop/switch)
    tries = []
    pending_loop = False
    parens = 0
    for m in tokens:
        t = m.group(0)
        line = src.count('\n', 0, m.start()) + 1
        if t.startswith('PG_TRY'):
            tries.append({'braces': [], 'line': line, 'in_try': True})
            blocks += 1
        elif t.startswith('PG_CATCH') or t.startswith('PG_FINALLY'):
            if tries:
                tries[-1]['in_try'] = False
        elif t.startswith('PG_END_TRY'):
            if tries:
                tries.pop()
        elif t in ('for', 'while', 'do', 'switch'):
            pending_loop = True
        elif t == '{':
            for tr in tries:
                tr['braces'].append(pending_loop)
            pending_loop = False
        elif t == '}':
            for tr in tries:
                if tr['braces']:
                    tr['braces'].pop()
        elif t == '(':
            parens += 1
        elif t == ')':
            parens -= 1
        elif t == ';':
            if parens == 0:
                pending_loop = False
        elif t in ('return', 'goto', 'break', 'continue'):
            if not tries or not tries[-1]['in_try']:
                continue
            tr = tries[-1]
            if t in ('break', 'continue') and (any(tr['braces']) or pending_loop):
                continue
            bad.append(f"{path}:{line}: '{t}' inside the PG_TRY block opened at line {tr['line']}")
for b in bad:
    print(b)
print(f"pg_try_lint: {blocks} PG_TRY blocks checked, {len(bad)} with control flow out of them")
sys.exit(1 if bad else 0)
PY
