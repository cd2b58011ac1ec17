// A fake fetch for store tests: answers by "METHOD path", records every request.
import { setFetch } from '../src/api/client';

export interface Call {
  method: string;
  path: string;
  body: unknown;
  auth: string | null;
}

export function fakeFetch(routes: Record<string, (body: unknown) => [number, unknown]>): Call[] {
  const calls: Call[] = [];
  setFetch(async (input, init) => {
    const path = String(input);
    const method = init?.method ?? 'GET';
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    const headers = (init?.headers ?? {}) as Record<string, string>;
    calls.push({ method, path, body, auth: headers.Authorization ?? null });
    const h = routes[`${method} ${path}`] ?? routes[`${method} ${path.split('?')[0]}`];
    const [status, json] = h ? h(body) : [404, { error: { code: 'NOT_FOUND', message: 'no such route' } }];
    return new Response(JSON.stringify(json), { status, headers: { 'Content-Type': 'application/json' } });
  });
  return calls;
}
