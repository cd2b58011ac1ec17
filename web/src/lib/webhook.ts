// The copyable curl example of a signed webhook call (DESIGN §10).
export function curlExample(origin: string, path: string, secret: string | null, body = '{"hello":"world"}'): string {
  const s = secret ?? '<secret>';
  return [
    `BODY='${body}'`,
    'TS=$(date +%s)',
    `SIG=$(printf '%s.%s' "$TS" "$BODY" | openssl dgst -sha256 -hmac '${s}' | sed 's/^.* //')`,
    `curl -X POST '${origin}${path}' \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -H "X-Flowent-Timestamp: $TS" \\`,
    `  -H "X-Flowent-Signature: sha256=$SIG" \\`,
    `  -d "$BODY"`,
  ].join('\n');
}
