// attest's service worker: the app shell and the pages last visited open without
// signal, marked as the last copy. Pages always come from the network first, so a
// copy is only ever shown when the server cannot be reached. Copies are personal data:
// they are dropped when someone signs out or the sign-in page is shown.
'use strict';
const VERSION = 'v1';
const SHELL = 'attest-shell-' + VERSION;
const PAGES = 'attest-pages-' + VERSION;
const SHELL_FILES = [
  '/static/attest.css',
  '/static/htmx.min.js',
  '/static/offline.js',
  '/static/icon-192.png',
  '/static/manifest.webmanifest',
];
// Pages kept; the oldest goes first.
const MOST_PAGES = 60;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL).then((c) => c.addAll(SHELL_FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== SHELL && k !== PAGES).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method !== 'GET') {
    if (url.pathname === '/logout') event.waitUntil(caches.delete(PAGES));
    return;
  }
  if (url.pathname.startsWith('/static/')) {
    // The network first (its HTTP cache keeps it quick), so a new release is seen at
    // once; the kept copy when there is no network.
    event.respondWith(fetch(request).then((fresh) => {
      if (fresh.ok) {
        const copy = fresh.clone();
        event.waitUntil(caches.open(SHELL).then((c) => c.put(request, copy)));
      }
      return fresh;
    }).catch(() => caches.match(request).then((hit) => hit || Response.error())));
    return;
  }
  if (request.mode !== 'navigate') return;
  if (url.pathname === '/login') {
    event.waitUntil(caches.delete(PAGES));
    return;
  }
  event.respondWith(fromNetwork(event, request));
});

async function fromNetwork(event, request) {
  try {
    const response = await fetch(request);
    const type = response.headers.get('content-type') || '';
    if (response.ok && !response.redirected && type.startsWith('text/html')) {
      event.waitUntil(keep(request, response.clone()));
    }
    return response;
  } catch (offline) {
    const copy = await caches.open(PAGES).then((c) => c.match(request));
    return copy ? marked(copy) : notSaved();
  }
}

async function keep(request, response) {
  const body = await response.text();
  const headers = new Headers({ 'content-type': 'text/html; charset=utf-8', 'x-attest-saved': new Date().toISOString() });
  const cache = await caches.open(PAGES);
  await cache.delete(request);
  await cache.put(request, new Response(body, { headers }));
  const keys = await cache.keys();
  for (const old of keys.slice(0, Math.max(0, keys.length - MOST_PAGES))) await cache.delete(old);
}

function when(iso) {
  const d = new Date(iso);
  return isNaN(d) ? 'earlier' : d.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
}

async function marked(copy) {
  const html = await copy.text();
  const banner = '<p class="offline-banner" role="status" id="offline-copy">Offline — showing your last copy, saved '
    + when(copy.headers.get('x-attest-saved')) + '. Changes you make here wait until you are back online.</p>';
  const at = html.search(/<main[^>]*>/);
  const body = at < 0 ? banner + html : html.replace(/<main[^>]*>/, (m) => m + banner);
  return new Response(body, { headers: { 'content-type': 'text/html; charset=utf-8' } });
}

function notSaved() {
  const body = '<!doctype html><html lang="en-GB"><head><meta charset="utf-8">'
    + '<meta name="viewport" content="width=device-width, initial-scale=1">'
    + '<title>Offline — attest</title><link rel="stylesheet" href="/static/attest.css"></head>'
    + '<body><main id="main" class="container"><h1>You are offline</h1>'
    + '<p class="offline-banner" role="status">Offline — this page was not saved on this device.</p>'
    + '<p>Pages you opened recently open without signal. <a href="/">Go to your home page</a>.</p>'
    + '</main></body></html>';
  return new Response(body, { status: 503, headers: { 'content-type': 'text/html; charset=utf-8' } });
}
