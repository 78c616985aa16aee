import { type Html, html, raw } from '../html.js';

/** A page of the site; `wide` lets a page of tables and charts use more of a large screen. */
export function layout({ title, body, wide = false }: { title: string; body: Html; wide?: boolean }): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>${title} · paperboy</title>
<link rel="stylesheet" href="/static/style.css">
<script src="/static/app.js" defer></script>
</head>
<body>
<header class="site"><a href="/" class="brand">paperboy</a></header>
<main${wide ? raw(' class="wide"') : ''}>
${body}
</main>
<footer class="site">Self-hosted research paper digests.</footer>
</body>
</html>
`.value;
}

/** A page that only says something: check your inbox, done, link not valid. */
export function messagePage({ title, message, extra }: { title: string; message: string; extra?: Html }) {
  return layout({
    title,
    body: html`<section class="card"><h1>${title}</h1><p>${message}</p>${extra}</section>`,
  });
}
