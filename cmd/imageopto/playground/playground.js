// The imageopto playground: builds a Fastly IO query from the form, asks the
// server for the image with fetch() (so that it can send an Accept header
// of its own choice and read the response headers), and shows the result
// next to the original. Served as a separate file for the page's
// Content-Security-Policy (script-src 'self': no inline script).
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const form = $('controls');
  const prefix = document.body.dataset.headerPrefix || 'Imageopto';
  const debounceMs = 250;
  const maxRetries = 10;

  // ---- building the request ----

  // encodeValue escapes what must be escaped in a query value but keeps
  // the commas and colons of the grammar readable.
  const encodeValue = (v) => encodeURIComponent(v).replace(/%2C/g, ',').replace(/%3A/g, ':');

  // params lists [name, value] for every control that is set, in the
  // order of the form.
  function params() {
    const out = [];
    for (const el of form.querySelectorAll('[data-param], [data-kind]')) {
      const kind = el.dataset.kind;
      if (kind === 'upscale') {
        if (el.value) out.push([el.value, 'upscale']);
      } else if (kind === 'sharpen') {
        const a = $('p-sharpen-a').value.trim();
        if (a !== '') {
          const r = $('p-sharpen-r').value.trim() || '1';
          const t = $('p-sharpen-t').value.trim() || '0';
          out.push(['sharpen', `a${a},r${r},t${t}`]);
        }
      } else if (kind === 'bw') {
        const mode = $('p-bw').value;
        const lum = $('p-bw-l').value.trim();
        if (mode) out.push(['bw', mode === 'threshold' && lum !== '' ? `threshold,${lum}` : mode]);
      } else if (el.type === 'checkbox') {
        if (el.checked) out.push([el.dataset.param, el.value]);
      } else {
        const v = el.value.trim();
        if (v !== '' && v !== el.dataset.default) out.push([el.dataset.param, v]);
      }
    }
    return out;
  }

  // path is the origin path typed in, escaped segment by segment.
  function path() {
    let p = $('path').value.trim();
    if (!p.startsWith('/')) p = '/' + p;
    return p.split('/').map((seg) => {
      try { return encodeURIComponent(decodeURIComponent(seg)); } catch { return encodeURIComponent(seg); }
    }).join('/');
  }

  function query() {
    const parts = params().map(([k, v]) => `${k}=${encodeValue(v)}`);
    const extra = $('extra').value.trim().replace(/^[?&]+/, '');
    if (extra) parts.push(extra);
    return parts.join('&');
  }

  function requestURL() {
    const q = query();
    return path() + (q ? '?' + q : '');
  }

  // ---- showing the answer ----

  const units = ['bytes', 'KB', 'MB', 'GB'];
  function bytes(n) {
    let i = 0;
    for (n = Number(n); n >= 1000 && i < units.length - 1; i++) n /= 1000;
    return i === 0 ? `${n} bytes` : `${n.toFixed(n < 10 ? 2 : 1)} ${units[i]}`;
  }

  const formatNames = { jpeg: 'JPEG', png: 'PNG', gif: 'GIF', webp: 'WebP', avif: 'AVIF', heic: 'HEIC', png8: 'PNG8' };
  const formatName = (f) => formatNames[f] || (f || '?').toUpperCase();
  const dims = (d) => (d || '?').replace('x', ' × ');

  // describeInfo puts the info header ("ifsz=… idim=… ifmt=… ofsz=… odim=…
  // ofmt=…") into words.
  function describeInfo(header) {
    const f = {};
    for (const kv of header.split(/\s+/)) {
      const i = kv.indexOf('=');
      if (i > 0) f[kv.slice(0, i)] = kv.slice(i + 1);
    }
    if (!f.ofsz) return header;
    let text = `Input: ${formatName(f.ifmt)}, ${dims(f.idim)} px, ${bytes(f.ifsz)}. ` +
      `Output: ${formatName(f.ofmt)}, ${dims(f.odim)} px, ${bytes(f.ofsz)}`;
    const inSize = Number(f.ifsz), outSize = Number(f.ofsz);
    if (inSize > 0) {
      const saving = Math.round((1 - outSize / inSize) * 100);
      text += saving >= 0 ? ` — ${saving}% smaller.` : ` — ${-saving}% larger.`;
    }
    return text;
  }

  // setState shows where the request for url stands: loading, ok or
  // error.
  function setState(state, status, url) {
    document.body.dataset.state = state;
    document.body.dataset.url = url;
    $('status').textContent = status;
  }

  function clearMessages() {
    for (const el of form.querySelectorAll('.field.invalid')) el.classList.remove('invalid');
    for (const el of form.querySelectorAll('.msg')) el.textContent = '';
    $('error').hidden = true;
    $('error').textContent = '';
    $('warning').hidden = true;
  }

  // markParams shows each "name=value: reason" of an error or warning
  // text next to the control of that parameter.
  function markParams(text) {
    const body = text.replace(/^Invalid transformation for requested image:\s*/, '');
    for (const part of body.split('; ')) {
      const m = /^([a-z][a-z-]*)=/.exec(part.trim());
      if (!m) continue;
      const field = form.querySelector(`.field[data-field~="${m[1]}"]`);
      if (!field) continue;
      field.classList.add('invalid');
      const msg = field.querySelector('.msg');
      if (msg) msg.textContent = (msg.textContent ? msg.textContent + '; ' : '') + part.trim();
    }
  }

  // showError shows text in the result panel, and the parameters that
  // body (a 400's text) names at their controls.
  function showError(text, body) {
    $('error').textContent = text;
    $('error').hidden = false;
    if (body) markParams(body);
  }

  // ---- the request loop: debounced, newest wins ----

  let timer = 0;
  let seq = 0;
  let inflight = null;
  let blobURL = '';
  let originalPath = null;

  // schedule notes a change of the form: the URL shown follows at once,
  // the request after a pause in typing. An answer to a request made
  // before the change is stale from now on, and dropped.
  function schedule() {
    seq++;
    if (inflight) inflight.abort();
    inflight = null;
    const url = requestURL();
    $('url').value = location.origin + url;
    $('open').href = url;
    history.replaceState(null, '', '#' + url);
    clearTimeout(timer);
    timer = setTimeout(update, debounceMs);
  }

  // update requests the image the form describes. retries counts the
  // answers "503, retry shortly" to this same request so far.
  async function update(retries = 0) {
    const my = ++seq;
    if (inflight) inflight.abort();
    const ctrl = new AbortController();
    inflight = ctrl;
    const url = requestURL();
    const accept = $('accept').value.trim();

    const p = path();
    if (p !== originalPath) {
      originalPath = p;
      $('original').src = p;
    }
    setState('loading', 'Loading…', url);
    const started = performance.now();
    let resp, body;
    try {
      resp = await fetch(url, { headers: accept ? { Accept: accept } : {}, signal: ctrl.signal });
      body = resp.ok ? await resp.blob() : await resp.text();
    } catch (err) {
      if (my !== seq) return; // superseded: a newer request is on its way
      clearMessages();
      showError(`The request failed: ${err.message}`);
      setState('error', 'Failed', url);
      return;
    }
    if (my !== seq) return; // a stale answer
    inflight = null;
    const ms = Math.round(performance.now() - started);
    clearMessages();
    const warning = resp.headers.get(prefix + '-Warning');
    if (warning) {
      $('warning').textContent = 'Warning: ' + warning;
      $('warning').hidden = false;
      markParams(warning);
    }
    if (resp.status === 503 && resp.headers.has('Retry-After') && retries < maxRetries) {
      // The server is busy: ask again when it says, unless the form
      // changes first (that request supersedes this one).
      const wait = Math.min(Number(resp.headers.get('Retry-After')) || 1, 10);
      setState('loading', `Server busy; retrying in ${wait} s (${retries + 1} of ${maxRetries})`, url);
      timer = setTimeout(() => { if (my === seq) update(retries + 1); }, wait * 1000);
      return;
    }
    if (!resp.ok) {
      const reason = resp.headers.get(prefix + '-Error');
      showError(`${resp.status} ${resp.statusText}: ${body.trim()}${reason ? ` (${reason})` : ''}`, body.trim());
      $('info').textContent = '';
      setState('error', `Error ${resp.status} after ${ms} ms`, url);
      return;
    }
    const info = resp.headers.get(prefix + '-Info') || '';
    const vary = (resp.headers.get('Vary') || '').toLowerCase().includes('accept');
    $('info').textContent = describeInfo(info) +
      (vary ? ` Format negotiated from the Accept header (${resp.headers.get('Content-Type')}).` : '');
    $('info').dataset.raw = info;

    const img = $('result');
    const next = URL.createObjectURL(body);
    img.onload = () => {
      if (my !== seq) return;
      const dpr = Number($('p-dpr').value) || 1;
      const scaled = $('dpr-display').checked && dpr > 1;
      img.style.width = scaled ? `${img.naturalWidth / dpr}px` : '';
      $('natural').textContent = `${img.naturalWidth} × ${img.naturalHeight} px` +
        (scaled ? `, shown at ${Math.round(img.naturalWidth / dpr)} CSS px (dpr ${dpr})` : '');
      img.dataset.url = url;
      setState('ok', `Done in ${ms} ms`, url);
    };
    img.onerror = () => {
      if (my !== seq) return;
      showError(`This browser cannot display ${resp.headers.get('Content-Type')}; open the URL to download it.`);
      setState('error', 'Not displayable', url);
    };
    img.src = next;
    if (blobURL) URL.revokeObjectURL(blobURL);
    blobURL = next;
  }

  // ---- filling the form from a query (examples, the page's #fragment) ----

  function resetForm() {
    for (const el of form.querySelectorAll('input, select')) {
      if (el.id === 'path' || el.type === 'button') continue;
      if (el.type === 'checkbox') el.checked = false;
      else if (el.type === 'range') el.value = '0';
      else if (el.type === 'color') el.value = '#ffffff';
      else el.value = '';
    }
  }

  // applyQuery sets the controls from a query string; what no simple
  // control can hold goes to the free-text box.
  function applyQuery(q) {
    resetForm();
    const rest = [];
    for (const part of q.split('&')) {
      if (!part) continue;
      const i = part.indexOf('=');
      const name = i < 0 ? part : part.slice(0, i);
      let value = i < 0 ? '' : part.slice(i + 1);
      try { value = decodeURIComponent(value.replace(/\+/g, ' ')); } catch { /* keep it raw */ }
      if (!setControl(name, value)) rest.push(part);
    }
    $('extra').value = rest.join('&');
    for (const range of form.querySelectorAll('[data-mirror]')) range.value = $(range.dataset.mirror).value || '0';
  }

  function setControl(name, value) {
    if ((name === 'enable' || name === 'disable') && value === 'upscale' && !$('p-upscale').value) {
      $('p-upscale').value = name;
      return true;
    }
    if (name === 'bw' && !$('p-bw').value) {
      const [mode, lum] = value.split(',');
      if (mode !== 'threshold' && mode !== 'atkinson') return false;
      $('p-bw').value = mode;
      $('p-bw-l').value = lum || '';
      return true;
    }
    if (name === 'sharpen' && !$('p-sharpen-a').value) {
      const m = /^a([\d.]+),r([\d.]+),t(\d+)$/.exec(value);
      if (!m) return false;
      [$('p-sharpen-a').value, $('p-sharpen-r').value, $('p-sharpen-t').value] = m.slice(1);
      return true;
    }
    const el = form.querySelector(`[data-param="${CSS.escape(name)}"]`);
    if (!el) return false;
    if (el.type === 'checkbox') {
      if (el.checked || value !== el.value) return false;
      el.checked = true;
      return true;
    }
    if (el.value !== '') return false; // given twice: let the server say so
    if (el.tagName === 'SELECT' && ![...el.options].some((o) => o.value === value)) return false;
    el.value = value;
    return el.value === value; // a number input refuses what is not a number
  }

  function load(target) {
    const i = target.indexOf('?');
    const p = i < 0 ? target : target.slice(0, i);
    try { $('path').value = decodeURIComponent(p); } catch { $('path').value = p; }
    applyQuery(i < 0 ? '' : target.slice(i + 1));
  }

  // ---- wiring ----

  form.addEventListener('input', (ev) => {
    const t = ev.target;
    if (t.dataset.mirror) $(t.dataset.mirror).value = t.value === '0' ? '' : t.value;
    for (const range of form.querySelectorAll(`[data-mirror="${t.id}"]`)) range.value = t.value || '0';
    if (t.id === 'bg-picker') $('p-bg-color').value = t.value.slice(1);
    if (t.id !== 'preset') schedule();
  });
  form.addEventListener('change', (ev) => {
    if (ev.target.tagName === 'SELECT' && ev.target.id !== 'preset') schedule();
  });
  form.addEventListener('submit', (ev) => ev.preventDefault());
  $('preset').addEventListener('change', (ev) => {
    if (!ev.target.value) return;
    load(ev.target.value);
    ev.target.value = '';
    schedule();
  });
  for (const b of document.querySelectorAll('.sample')) {
    b.addEventListener('click', () => { $('path').value = b.dataset.path; schedule(); });
  }
  $('reset').addEventListener('click', () => { resetForm(); schedule(); });
  $('accept').addEventListener('input', schedule);
  $('dpr-display').addEventListener('change', schedule);
  $('copy').addEventListener('click', async () => {
    const field = $('url');
    try {
      await navigator.clipboard.writeText(field.value);
      $('copy').textContent = 'Copied';
    } catch {
      field.select(); // no clipboard access: leave it selected for Ctrl-C
      $('copy').textContent = 'Selected: press Ctrl-C';
    }
    setTimeout(() => { $('copy').textContent = 'Copy URL'; }, 1500);
  });

  // The #fragment holds the last request (path and query), so that a
  // reload or a shared link restores the form.
  if (location.hash.length > 1) load(location.hash.slice(1));
  schedule();
})();
