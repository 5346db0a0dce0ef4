// Offline use, on top of pages that work without it: registers the service worker
// (static/sw.js), and turns the "Add evidence" form into a queue kept on the device
// (IndexedDB) that sends itself whenever the server can be reached. Each file goes as
// a resumable upload (a tus 1.0 subset, src/web/portfolio/uploads.rs), piece by piece,
// so a dropped connection resumes where it stopped; then the form goes with the
// uploads' ids and the item's key, so sending it twice makes one item.
'use strict';
(() => {
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/sw.js').catch(() => {});
  }
  if (!('indexedDB' in window)) return;

  const PIECE = 5 * 1024 * 1024;
  const AGAIN_MS = 15000;
  const DB = 'attest-queue';
  const STORE = 'items';

  function open() {
    return new Promise((resolve, reject) => {
      const r = indexedDB.open(DB, 1);
      r.onupgradeneeded = () => r.result.createObjectStore(STORE, { keyPath: 'key' });
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
  }

  async function tx(mode, work) {
    const db = await open();
    return new Promise((resolve, reject) => {
      const t = db.transaction(STORE, mode);
      const result = work(t.objectStore(STORE));
      t.oncomplete = () => { db.close(); resolve(result && 'result' in result ? result.result : undefined); };
      t.onerror = () => { db.close(); reject(t.error); };
    });
  }
  const all = () => tx('readonly', (s) => s.getAll());
  const put = (item) => tx('readwrite', (s) => s.put(item));
  const remove = (key) => tx('readwrite', (s) => s.delete(key));

  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // ---- the queue on the page ------------------------------------------------------

  const live = {};  // key -> { sent, size } while an item is sending
  let panel = null;

  function describe(item) {
    if (item.state === 'refused') return `Not sent: ${item.problem}`;
    if (item.state === 'sending') {
      const p = live[item.key];
      if (p && p.size > 0) return `Sending: ${Math.floor((100 * p.sent) / p.size)}%`;
      return 'Sending';
    }
    if (item.state === 'sent') return 'Sent';
    return navigator.onLine ? 'Waiting to send' : 'Waiting for a connection';
  }

  async function render() {
    if (!panel) return;
    const items = await all().catch(() => []);
    panel.hidden = items.length === 0;
    if (items.length === 0) { panel.replaceChildren(); return; }
    if (!panel.querySelector('ul')) {
      panel.innerHTML = '<h2 id="queue-title">Evidence waiting to be sent</h2>'
        + '<p class="hint">Kept on this device and sent by itself when there is a connection.</p>'
        + '<ul class="queue" aria-live="polite"></ul>';
    }
    const list = panel.querySelector('ul');
    list.replaceChildren(...items.map((item) => {
      const li = document.createElement('li');
      li.className = 'queue-item';
      li.dataset.key = item.key;
      const title = document.createElement('span');
      title.className = 'queue-title';
      title.textContent = item.title || 'Evidence';
      const state = document.createElement('span');
      state.className = 'queue-state';
      state.textContent = describe(item);
      li.append(title, ' ', state);
      const p = live[item.key];
      if (item.state === 'sending' && p && p.size > 0) {
        const bar = document.createElement('progress');
        bar.max = p.size; bar.value = p.sent;
        bar.setAttribute('aria-label', `Sending ${item.title}`);
        li.append(' ', bar);
      }
      if (item.state === 'refused') {
        const edit = document.createElement('button');
        edit.type = 'button'; edit.className = 'button button-secondary';
        edit.textContent = 'Correct it';
        edit.setAttribute('aria-label', `Correct it: ${item.title}`);
        edit.addEventListener('click', () => {
          const page = `/enrolments/${item.enrolment}/evidence/new`;
          if (location.pathname === page) refill(item.key);
          else location.assign(`${page}#queued=${item.key}`);
        });
        li.append(' ', edit);
      }
      if (item.state !== 'sending') {
        const retry = document.createElement('button');
        retry.type = 'button'; retry.className = 'button button-secondary';
        retry.textContent = 'Send now';
        retry.setAttribute('aria-label', `Send now: ${item.title}`);
        retry.addEventListener('click', async () => {
          item.state = 'waiting'; item.problem = '';
          await put(item); sendAll();
        });
        const discard = document.createElement('button');
        discard.type = 'button'; discard.className = 'button button-secondary';
        discard.textContent = 'Discard';
        discard.setAttribute('aria-label', `Discard: ${item.title}`);
        discard.addEventListener('click', async () => {
          await forget(item);
          render();
        });
        li.append(' ', retry, ' ', discard);
      }
      return li;
    }));
  }

  // Discarding an item drops its started uploads on the server too (if it can be reached).
  async function forget(item) {
    await remove(item.key);
    for (const f of item.files) {
      if (f.upload) fetch(f.upload, { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0' } }).catch(() => {});
    }
  }

  function showPanel() {
    const at = document.querySelector('[data-upload-queue]');
    if (!at) return;
    at.setAttribute('aria-labelledby', 'queue-title');
    panel = at;
    render();
  }

  // ---- sending ---------------------------------------------------------------------

  class Offline extends Error {}
  class Refused extends Error {}

  function problemOf(status, text) {
    const said = (text || '').trim().slice(0, 300);
    return said || `the server answered ${status}`;
  }

  async function startUpload(item, f) {
    const name = btoa(unescape(encodeURIComponent(f.name)));
    let r;
    try {
      r = await fetch(`/enrolments/${item.enrolment}/uploads`, {
        method: 'POST',
        headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(f.blob.size), 'Upload-Metadata': `filename ${name}` },
      });
    } catch (e) { throw new Offline(); }
    if (r.status !== 201) throw new Refused(problemOf(r.status, await r.text()));
    f.upload = r.headers.get('Location');
    await put(item);
  }

  async function offsetOf(f) {
    let r;
    try {
      r = await fetch(f.upload, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' }, cache: 'no-store' });
    } catch (e) { throw new Offline(); }
    if (r.status === 404) return null;  // expired or discarded: start again
    if (!r.ok) throw new Offline();
    return Number(r.headers.get('Upload-Offset'));
  }

  function sendPiece(item, f, offset) {
    return new Promise((resolve, reject) => {
      const x = new XMLHttpRequest();
      x.open('PATCH', f.upload);
      x.setRequestHeader('Tus-Resumable', '1.0.0');
      x.setRequestHeader('Upload-Offset', String(offset));
      x.setRequestHeader('Content-Type', 'application/offset+octet-stream');
      x.upload.onprogress = (e) => { progress(item, f, offset + e.loaded); };
      x.onload = () => {
        const at = Number(x.getResponseHeader('Upload-Offset'));
        if (x.status === 204 || (x.status === 409 && !Number.isNaN(at) && x.getResponseHeader('Upload-Offset') !== null)) resolve(at);
        else if (x.status === 413 || x.status === 415 || x.status === 400) reject(new Refused(problemOf(x.status, x.responseText)));
        else reject(new Offline());
      };
      x.onerror = () => reject(new Offline());
      x.onabort = () => reject(new Offline());
      x.send(f.blob.slice(offset, Math.min(offset + PIECE, f.blob.size)));
    });
  }

  function progress(item, f, at) {
    const p = live[item.key];
    if (!p) return;
    p.sent = item.files.reduce((n, g) => n + (g === f ? at : (g.done ? g.blob.size : 0)), 0);
    const li = panel && panel.querySelector(`[data-key="${item.key}"]`);
    const bar = li && li.querySelector('progress');
    if (bar) { bar.value = p.sent; li.querySelector('.queue-state').textContent = describe(item); } else render();
  }

  async function sendFile(item, f) {
    for (;;) {
      if (!f.upload) await startUpload(item, f);
      let at = await offsetOf(f);
      if (at === null) { f.upload = null; await put(item); continue; }
      while (at < f.blob.size) at = await sendPiece(item, f, at);
      f.done = true;
      await put(item);
      return;
    }
  }

  async function sendForm(item) {
    const body = new FormData();
    for (const [name, value] of item.fields) body.append(name, value);
    for (const f of item.files) body.append('upload', f.upload.split('/').pop());
    body.append('client_key', item.key);
    let r;
    try {
      r = await fetch(item.action, { method: 'POST', body, redirect: 'follow' });
    } catch (e) { throw new Offline(); }
    if (r.ok && r.redirected && /\/evidence\/[0-9a-f-]{36}$/.test(new URL(r.url).pathname)) return r.url;
    if (r.status >= 500 && r.status !== 507) throw new Offline();
    const page = new DOMParser().parseFromString(await r.text(), 'text/html');
    const said = [...page.querySelectorAll('.error-summary li, .error-message')].map((e) => e.textContent.replace('Error:', '').trim());
    throw new Refused(said[0] || `the server answered ${r.status}`);
  }

  async function send(item) {
    live[item.key] = { sent: 0, size: item.files.reduce((n, f) => n + f.blob.size, 0) };
    item.state = 'sending';
    await put(item);
    render();
    try {
      for (const f of item.files) if (!f.done) await sendFile(item, f);
      const at = await sendForm(item);
      await remove(item.key);
      // Sent from the form still open and left empty: on to the item, as the plain form
      // goes; otherwise (another item being typed) a link to it.
      if (item.key === justAdded && formEmpty()) location.assign(at);
      else announce(item.title, at);
    } catch (e) {
      item.state = e instanceof Refused ? 'refused' : 'waiting';
      item.problem = e instanceof Refused ? e.message : '';
      await put(item);
    } finally {
      delete live[item.key];
      render();
    }
  }

  let busy = false;
  async function sendAll() {
    if (busy) return;
    busy = true;
    try {
      for (const item of await all()) {
        if (item.state === 'refused') continue;
        await send(item);
      }
    } catch (e) { /* the database of the device failed: try again later */ }
    busy = false;
  }

  function announce(title, at) {
    const done = document.querySelector('[data-queue-sent]');
    if (!done) return;
    done.hidden = false;
    const p = document.createElement('p');
    const a = document.createElement('a');
    a.href = at; a.textContent = title;
    p.append('Sent: ', a);
    done.append(p);
  }

  // ---- the form --------------------------------------------------------------------

  // What the server would refuse at once goes to it as a plain form, so its page says
  // what is wrong beside each field; what it would take is queued.
  function complete(form) {
    // By the input's name: a fieldset may share it as its id.
    const input = (name) => form.querySelector(`input[name="${name}"], textarea[name="${name}"]`);
    const value = (name) => ((input(name) || {}).value || '').trim();
    const kind = form.querySelector('input[name="kind"]:checked');
    if (!value('title') || !kind) return false;
    if (kind.hasAttribute('data-signs')) {
      const declared = input('declared');
      if (!declared || !declared.checked || !value('signed_name')) return false;
    }
    return true;
  }

  let justAdded = null;
  function formEmpty() {
    const form = document.querySelector('form[data-queue]');
    const title = form && form.querySelector('input[name="title"]');
    return !!title && title.value.trim() === '';
  }

  function enhance(form) {
    form.addEventListener('submit', async (event) => {
      if (!complete(form)) return;
      event.preventDefault();
      const fields = [];
      const files = [];
      for (const [name, value] of new FormData(form)) {
        if (value instanceof File) {
          if (value.size > 0 || value.name) files.push({ name: value.name || 'file', blob: value, upload: null, done: false });
        } else {
          fields.push([name, value]);
        }
      }
      const title = (fields.find(([n]) => n === 'title') || [, ''])[1];
      const item = {
        key: newKey(), action: form.action, enrolment: form.dataset.enrolment,
        title: title.trim() || 'Evidence', fields, files, state: 'waiting', problem: '', added: Date.now(),
      };
      try {
        await put(item);
      } catch (noRoom) {
        // No queue on this device (storage full or refused): the plain form, as without
        // JavaScript.
        form.submit();
        return;
      }
      justAdded = item.key;
      form.reset();
      const note = document.querySelector('[data-queue-note]');
      if (note) { note.hidden = false; note.focus(); }
      await render();
      sendAll();
    });
  }

  // An item the server refused goes back into the form, files and all, with the reason,
  // and leaves the queue: added again, it is a new item.
  async function refill(key) {
    const form = document.querySelector('form[data-queue]');
    const item = (await all()).find((i) => i.key === key);
    if (!form || !item) return;
    form.reset();
    for (const [name, value] of item.fields) {
      for (const el of form.querySelectorAll(`[name="${name}"]`)) {
        if (el.type === 'radio' || el.type === 'checkbox') el.checked = el.value === value;
        else if (el.type !== 'file') el.value = value;
      }
    }
    const input = form.querySelector('input[type="file"][multiple]');
    if (input && item.files.length && window.DataTransfer) {
      const dt = new DataTransfer();
      for (const f of item.files) dt.items.add(new File([f.blob], f.name, { type: f.blob.type }));
      input.files = dt.files;
    }
    await forget(item);
    const note = document.querySelector('[data-queue-refused]');
    if (note) {
      note.textContent = `This item was not sent: ${item.problem}. Correct it and add it again.`;
      note.hidden = false;
      note.focus();
    }
    render();
  }

  function offlineNotice() {
    const n = document.querySelector('[data-offline-note]');
    if (n) n.hidden = navigator.onLine;
  }

  document.addEventListener('DOMContentLoaded', () => {
    showPanel();
    const form = document.querySelector('form[data-queue]');
    if (form) enhance(form);
    const queued = /^#queued=([0-9a-f-]{36})$/.exec(location.hash);
    if (form && queued) {
      history.replaceState(null, '', location.pathname + location.search);
      refill(queued[1]);
    }
    offlineNotice();
    sendAll();
  });
  window.addEventListener('online', () => { offlineNotice(); render(); sendAll(); });
  window.addEventListener('offline', () => { offlineNotice(); render(); });
  setInterval(sendAll, AGAIN_MS);
})();
