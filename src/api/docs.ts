/**
 * A readable API reference at /api/docs, rendered in the browser from /api/v1/openapi.json by a small script
 * served beside it: no third-party assets and nothing inline, so it works offline and under a strict
 * Content-Security-Policy (script and style from this origin only).
 */

/** The docs page. */
export function docsPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Edge wallet API</title>
<link rel="stylesheet" href="/api/docs.css"></head><body>
<h1>Edge wallet API</h1>
<p>Generated from <a href="/api/v1/openapi.json">openapi.json</a>. Money is integer minor units. Every money-moving POST needs an <code>Idempotency-Key</code>.</p>
<main id="routes">Loading…</main>
<script src="/api/docs.js" defer></script></body></html>`;
}

/** Its stylesheet. */
export const DOCS_CSS = `body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
h2{margin-top:2rem;border-bottom:1px solid #ddd}code,pre{font:13px ui-monospace,monospace;background:#f4f4f4;border-radius:4px}
pre{padding:.75rem;overflow:auto}.m{font-weight:700;display:inline-block;min-width:4rem}.get{color:#0a6}.post{color:#06c}`;

/** Its script: fetches the OpenAPI document and lists every route. */
export const DOCS_JS = `fetch('/api/v1/openapi.json').then(r => r.json()).then(doc => {
  const main = document.getElementById('routes'); main.textContent = '';
  const el = (tag, text, cls) => { const e = document.createElement(tag); if (text) e.textContent = text; if (cls) e.className = cls; return e; };
  for (const [path, ops] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(ops)) {
    const h = el('h2'); h.append(el('span', method.toUpperCase(), 'm ' + method), el('code', '/api/v1' + path)); main.append(h);
    if (op.summary) main.append(el('p', op.summary));
    const body = op.requestBody && op.requestBody.content['application/json'];
    if (body) { main.append(el('h3', 'Body')); main.append(el('pre', JSON.stringify(body.schema, null, 2))); }
    main.append(el('h3', 'Responses'));
    for (const [status, res] of Object.entries(op.responses)) main.append(el('p', status + ' — ' + res.description));
  }
  if (doc.components) { main.append(el('h2', 'Schemas')); main.append(el('pre', JSON.stringify(doc.components.schemas, null, 2))); }
});`;
