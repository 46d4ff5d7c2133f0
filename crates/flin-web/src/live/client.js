// FLIN live pages: the client runtime (web.md §9), served at /_flin/live.js.
// The page arrives rendered by the server. This script opens one WebSocket, sends the
// page's view token, keeps the page's render as templates and holes, sends events and
// bound values, applies the patches that come back (the DOM is changed in place:
// focus, caret and typed text survive), reconnects when the connection drops and
// shows small notices. No framework, no build step.
(function () {
  'use strict';
  var meta = document.querySelector('meta[name="flin-live"]');
  if (!meta || !window.WebSocket) return;
  var token = meta.content;
  var ws = null, tree = null, T = {}, ready = false, done = false;
  var queue = [], inflight = null, cookieWait = false, refs = 0;
  var retry = 500, beat = null;
  var timers = new Map(), onced = new WeakSet(), throttles = new WeakMap();

  // ---- the page as templates and holes ------------------------------------------
  function esc(s) {
    return String(s).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  }
  function html(f) {
    var s = T[f.t] || [''], out = s[0];
    for (var i = 0; i < f.d.length; i++) out += hole(f.d[i]) + (s[i + 1] || '');
    return out;
  }
  function hole(d) {
    if (typeof d === 'string') return d;
    if (d.k) {
      return d.k.map(function (k) {
        var h = html(d.i[k]);
        return d.y ? keyed(h, k) : h;
      }).join('');
    }
    return html(d);
  }
  // An item of a keyed list carries its key on its first element, so the element
  // keeps its identity when the list moves.
  function keyed(h, k) {
    var m = /<([a-zA-Z][^\s\/>]*)/.exec(h);
    if (!m) return h;
    var at = m.index + m[0].length;
    return h.slice(0, at) + ' data-flin-key="' + esc(k) + '"' + h.slice(at);
  }
  function patch(f, p) {
    if (p.t !== undefined || !f) return p;
    for (var i in p.d) f.d[i] = patchHole(f.d[i], p.d[i]);
    return f;
  }
  function patchHole(o, p) {
    if (typeof p === 'string') return p;
    if (p.k) {
      var items = {};
      p.k.forEach(function (k) {
        var old = o && o.i ? o.i[k] : undefined;
        items[k] = p.i[k] ? (old ? patch(old, p.i[k]) : p.i[k]) : old;
      });
      return { k: p.k, y: p.y, i: items };
    }
    return patch(o, p);
  }

  // ---- the DOM, changed in place ----------------------------------------------------
  function region() {
    var it = document.createNodeIterator(document.body, NodeFilter.SHOW_COMMENT), n, start = null;
    while ((n = it.nextNode())) {
      if (n.data === 'flin:live') start = n;
      else if (n.data === '/flin:live' && start) return [start, n];
    }
    return null;
  }
  function apply() {
    var r = region();
    if (!r || !tree) return;
    var focus = document.activeElement, sel = null;
    try { if (focus && focus.selectionStart != null) sel = [focus.selectionStart, focus.selectionEnd, focus.selectionDirection]; } catch (e) { sel = null; }
    var t = document.createElement('template');
    t.innerHTML = html(tree);
    children(r[0].parentNode, r[0], r[1], t.content);
    if (focus && focus !== document.activeElement && focus.isConnected && focus !== document.body) {
      focus.focus({ preventScroll: true });
      if (sel) try { focus.setSelectionRange(sel[0], sel[1], sel[2]); } catch (e) { /* not a text field */ }
    }
  }
  function keyOf(n) {
    return n.nodeType === 1 ? n.getAttribute('data-flin-key') || (n.id ? '#' + n.id : null) : null;
  }
  // Makes the nodes of `parent` between `start` and `stop` (both left out; null: all)
  // the nodes of `to`, reusing what it can: keyed nodes by key, others by position.
  function children(parent, start, stop, to) {
    var byKey = new Map(), n, k;
    for (n = start ? start.nextSibling : parent.firstChild; n && n !== stop; n = n.nextSibling) {
      k = keyOf(n);
      if (k) byKey.set(k, n);
    }
    var cur = start ? start.nextSibling : parent.firstChild;
    if (cur === stop) cur = null;
    var node = to.firstChild;
    while (node) {
      var next = node.nextSibling, match = null;
      k = keyOf(node);
      if (k) {
        match = byKey.get(k) || null;
        if (match) byKey.delete(k);
      } else if (cur && !keyOf(cur) && cur.nodeType === node.nodeType && cur.nodeName === node.nodeName) {
        match = cur;
      }
      if (match) {
        if (match === cur) {
          cur = cur.nextSibling;
          if (cur === stop) cur = null;
        } else {
          parent.insertBefore(match, cur || stop);
        }
        morph(match, node);
      } else {
        parent.insertBefore(node, cur || stop);
      }
      node = next;
    }
    while (cur && cur !== stop) {
      n = cur.nextSibling;
      parent.removeChild(cur);
      cur = n;
    }
  }
  function morph(from, to) {
    if (from.nodeType !== 1) {
      if (from.nodeValue !== to.nodeValue) from.nodeValue = to.nodeValue;
      return;
    }
    if (from.nodeName !== to.nodeName) {
      from.parentNode.replaceChild(to, from);
      return;
    }
    var tag = from.nodeName, oldValue = from.getAttribute('value');
    var wasChecked = from.hasAttribute('checked'), wasSelected = from.hasAttribute('selected');
    var a, i;
    for (i = from.attributes.length - 1; i >= 0; i--) {
      a = from.attributes[i];
      if (!to.hasAttribute(a.name)) from.removeAttribute(a.name);
    }
    for (i = 0; i < to.attributes.length; i++) {
      a = to.attributes[i];
      if (from.getAttribute(a.name) !== a.value) from.setAttribute(a.name, a.value);
    }
    if (tag === 'INPUT') {
      if (from.type === 'checkbox' || from.type === 'radio') {
        if (wasChecked !== to.hasAttribute('checked')) from.checked = to.hasAttribute('checked');
      } else {
        value(from, to.getAttribute('value') || '', oldValue);
      }
      return;
    }
    if (tag === 'TEXTAREA') {
      var before = from.defaultValue;
      if (before !== to.defaultValue) from.defaultValue = to.defaultValue;
      value(from, to.defaultValue, before);
      return;
    }
    if (tag === 'OPTION' && wasSelected !== to.hasAttribute('selected')) {
      from.selected = to.hasAttribute('selected');
    }
    children(from, null, null, to);
  }
  // A field's value: the server's, unless the person is typing in it and the server
  // only echoes what was sent (or did not change it).
  function value(el, v, old) {
    if (el.value === v) return;
    // Typed and not sent yet (the debounce is running): the person's text stays.
    if (timers.has(el)) return;
    var bound = el.hasAttribute('data-flin-bind');
    if (document.activeElement === el) {
      if ((bound && v === el._flinSent) || old === v) return;
    } else if (!bound && old === v) {
      return;
    }
    el.value = v;
  }

  // ---- notices ----------------------------------------------------------------------
  var box = null;
  function notice(text, kind) {
    if (!box || !box.isConnected) {
      box = document.createElement('div');
      box.setAttribute('data-flin-notices', '');
      box.setAttribute('aria-live', 'polite');
      Object.assign(box.style, {
        position: 'fixed', right: '1rem', bottom: '1rem', zIndex: '2147483647',
        display: 'flex', flexDirection: 'column', gap: '.5rem', maxWidth: '24rem',
        font: '14px/1.4 system-ui, sans-serif'
      });
      document.body.appendChild(box);
    }
    if (kind === 'connection' && box.querySelector('[data-flin-notice="connection"]')) return;
    var n = document.createElement('div');
    n.setAttribute('data-flin-notice', kind);
    n.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    Object.assign(n.style, {
      padding: '.6rem .8rem', borderRadius: '6px', color: '#1f1f1f',
      background: kind === 'error' ? '#fde2e1' : '#fff3cd',
      boxShadow: '0 2px 8px rgba(0,0,0,.15)', display: 'flex', gap: '.75rem', alignItems: 'start'
    });
    var t = document.createElement('span');
    t.textContent = text;
    var x = document.createElement('button');
    x.type = 'button';
    x.textContent = '\u00d7';
    x.setAttribute('aria-label', 'Dismiss');
    Object.assign(x.style, { border: '0', background: 'none', cursor: 'pointer', font: 'inherit', marginLeft: 'auto' });
    x.addEventListener('click', function () { n.remove(); });
    n.appendChild(t);
    n.appendChild(x);
    box.appendChild(n);
  }
  function unnotice(kind) {
    if (box) box.querySelectorAll('[data-flin-notice="' + kind + '"]').forEach(function (n) { n.remove(); });
  }
  // `<html data-flin-live="connected|reconnecting">`: for styles (and tests).
  function state(s) {
    document.documentElement.setAttribute('data-flin-live', s);
  }
  function title(t) {
    if (t == null) return;
    var d = document.createElement('textarea');
    d.innerHTML = t;
    document.title = d.value;
  }

  // ---- the connection ---------------------------------------------------------------
  function connect() {
    ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/_flin/live');
    ws.onopen = function () {
      ws.send(JSON.stringify({ t: 'm', k: token, b: boundValues() }));
      beat = setInterval(function () { if (ws.readyState === 1) ws.send('{"t":"h"}'); }, 25000);
    };
    ws.onmessage = function (e) {
      var m;
      try { m = JSON.parse(e.data); } catch (err) { return; }
      receive(m);
    };
    ws.onclose = function () {
      ready = false;
      state('reconnecting');
      clearInterval(beat);
      if (inflight) notice('The connection dropped: your last action may not have been saved.', 'error');
      inflight = null;
      queue = [];
      if (done) return;
      notice('Reconnecting\u2026', 'connection');
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 5000);
    };
  }
  function receive(m) {
    if (m.T) Object.assign(T, m.T);
    switch (m.t) {
      case 'm':
        tree = m.r;
        apply();
        title(m.title);
        ready = true;
        state('connected');
        retry = 500;
        unnotice('connection');
        pump();
        break;
      case 'p':
        if (m.p && tree) { tree = patch(tree, m.p); apply(); }
        if (m.title !== undefined) title(m.title);
        break;
      case 'a':
        if (m.p && tree) { tree = patch(tree, m.p); apply(); }
        if (m.title !== undefined) title(m.title);
        if (m.n) notice(m.n, 'error');
        inflight = null;
        pump();
        break;
      case 'n':
        notice(m.n, 'error');
        break;
      case 'c':
        // The session changed: the cookie is picked up before the next event goes.
        cookieWait = true;
        fetch('/_flin/session', { method: 'POST', headers: { 'x-flin-session': m.c }, credentials: 'same-origin' })
          .catch(function () {})
          .then(function () { cookieWait = false; pump(); });
        break;
      case 'go':
        done = true;
        location.assign(m.to);
        break;
      case 'reload':
        done = true;
        location.reload();
        break;
      case 'html':
        // `not_found()` in a handler: the page becomes the 404 page.
        done = true;
        var doc = new DOMParser().parseFromString(m.html, 'text/html');
        document.replaceChild(document.adoptNode(doc.documentElement), document.documentElement);
        break;
    }
  }
  function send(id, data) {
    if (!ready) {
      notice('Reconnecting\u2026 this action was not sent: try again in a moment.', 'error');
      return;
    }
    queue.push({ t: 'e', h: id, d: data, r: ++refs });
    pump();
  }
  // One event at a time: the next goes when the last is answered.
  function pump() {
    if (inflight || cookieWait || !ready || !queue.length) return;
    inflight = queue.shift();
    ws.send(JSON.stringify(inflight));
  }

  // ---- events -----------------------------------------------------------------------
  var TYPES = ['click', 'dblclick', 'submit', 'input', 'change', 'keydown', 'keyup', 'keypress',
    'focus', 'blur', 'mouseenter', 'mouseleave', 'mouseover', 'mouseout', 'mousedown', 'mouseup',
    'contextmenu', 'paste', 'copy', 'cut', 'drop', 'dragover', 'touchstart', 'touchend', 'scroll'];
  var DOM = { focus: 'focusin', blur: 'focusout', mouseenter: 'mouseover', mouseleave: 'mouseout' };
  var KEYS = { enter: 'Enter', escape: 'Escape', esc: 'Escape', tab: 'Tab', space: ' ', up: 'ArrowUp',
    down: 'ArrowDown', left: 'ArrowLeft', right: 'ArrowRight', delete: 'Delete', backspace: 'Backspace',
    home: 'Home', end: 'End', pageup: 'PageUp', pagedown: 'PageDown' };
  var byDom = {};
  TYPES.forEach(function (type) {
    var dom = DOM[type] || type;
    (byDom[dom] = byDom[dom] || []).push(type);
  });
  Object.keys(byDom).forEach(function (dom) {
    document.addEventListener(dom, function (e) { dispatch(byDom[dom], e); }, dom === 'scroll');
  });
  function argOf(mods, name) {
    for (var i = 0; i < mods.length; i++) {
      var m = /^(\w+)\((\d+)\)$/.exec(mods[i]);
      if (m && m[1] === name) return +m[2];
    }
    return null;
  }
  function accepts(e, el, mods) {
    var wantKey = false, key = false;
    for (var i = 0; i < mods.length; i++) {
      var m = mods[i];
      if (KEYS[m] !== undefined || m.length === 1) {
        wantKey = true;
        if (e.key === KEYS[m] || (m.length === 1 && (e.key || '').toLowerCase() === m)) key = true;
      } else if ((m === 'ctrl' && !e.ctrlKey) || (m === 'shift' && !e.shiftKey) ||
        (m === 'alt' && !e.altKey) || (m === 'meta' && !e.metaKey) || (m === 'self' && e.target !== el)) {
        return false;
      }
    }
    if (wantKey && !key) return false;
    if (mods.indexOf('once') >= 0) {
      if (onced.has(el)) return false;
      onced.add(el);
    }
    return true;
  }
  function dispatch(types, e) {
    for (var el = e.target; el && el.nodeType === 1; el = el.parentNode) {
      for (var i = 0; i < types.length; i++) {
        var type = types[i], spec = el.getAttribute('data-flin-' + type);
        if (spec === null) continue;
        if ((type === 'mouseenter' || type === 'mouseleave') && e.relatedTarget && el.contains(e.relatedTarget)) continue;
        var parts = spec.split(' '), mods = parts.slice(1);
        if (!accepts(e, el, mods)) continue;
        if (type === 'submit' || mods.indexOf('prevent') >= 0) e.preventDefault();
        trigger(el, parts[0], type, e, mods);
        if (mods.indexOf('stop') >= 0) {
          e.stopPropagation();
          return;
        }
      }
    }
  }
  function formOf(form) {
    var out = {};
    if (form && form.nodeName === 'FORM') {
      new FormData(form).forEach(function (v, k) { if (typeof v === 'string') out[k] = v; });
    }
    return out;
  }
  function trigger(el, id, type, e, mods) {
    var key = e.key || '';
    var read = function () {
      var d = { value: el.value != null ? String(el.value) : '', checked: !!el.checked, key: key };
      if (type === 'submit') d.form = formOf(el);
      return d;
    };
    var wait = argOf(mods, 'debounce');
    if (wait != null) {
      var name = 'e' + id;
      clearTimeout(timers.get(name));
      timers.set(name, setTimeout(function () { timers.delete(name); flush(); send(id, read()); }, wait));
      return;
    }
    var gap = argOf(mods, 'throttle');
    if (gap != null) {
      var last = throttles.get(el) || 0, now = Date.now();
      if (now - last < gap) return;
      throttles.set(el, now);
    }
    flush();
    send(id, read());
  }

  // ---- bind -------------------------------------------------------------------------
  function bindOf(el) {
    var spec = el.getAttribute && el.getAttribute('data-flin-bind');
    return spec ? spec.split(' ')[0] : null;
  }
  function immediate(el) {
    return el.type === 'checkbox' || el.type === 'radio' || el.nodeName === 'SELECT';
  }
  function sendBind(el, id) {
    var v = String(el.value);
    el._flinSent = v;
    send(id, { value: v, checked: !!el.checked });
  }
  // A file input uploads the file first (with progress in `data-flin-progress`, 0 to
  // 100), then binds what the server answered.
  function pickFile(el, id) {
    var file = el.files && el.files[0];
    flush();
    if (!file) { send(id, { file: null }); return; }
    var body = new FormData();
    body.append('file', file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open('POST', '/_flin/upload');
    el.setAttribute('data-flin-progress', '0');
    xhr.upload.onprogress = function (p) {
      if (p.lengthComputable) el.setAttribute('data-flin-progress', String(Math.floor(100 * p.loaded / p.total)));
    };
    xhr.onload = function () {
      el.removeAttribute('data-flin-progress');
      var answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch (_) {}
      if (xhr.status === 200 && answer) send(id, { file: answer });
      else notice((answer && answer.error) || 'The file could not be uploaded.', 'error');
    };
    xhr.onerror = function () {
      el.removeAttribute('data-flin-progress');
      notice('The file could not be uploaded.', 'error');
    };
    xhr.send(body);
  }
  function onBind(e) {
    var el = e.target, id = bindOf(el);
    if (!id) return;
    if (el.type === 'file') {
      if (e.type === 'change') pickFile(el, id);
      return;
    }
    if (immediate(el)) {
      if (e.type === 'change') {
        flush();
        sendBind(el, id);
      }
      return;
    }
    if (e.type !== 'input') return;
    clearTimeout(timers.get(el));
    timers.set(el, setTimeout(function () { timers.delete(el); sendBind(el, id); }, 150));
  }
  document.addEventListener('input', onBind);
  document.addEventListener('change', onBind);
  // Typed values go before any other event, so a handler sees them.
  function flush() {
    timers.forEach(function (t, el) {
      if (typeof el === 'string') return;
      clearTimeout(t);
      timers.delete(el);
      var id = bindOf(el);
      if (id) sendBind(el, id);
    });
  }
  // The bound inputs whose value differs from the page's: sent with the mount, so text
  // typed before the socket opened (or while it was down) is not lost.
  function boundValues() {
    var out = [];
    document.querySelectorAll('[data-flin-bind]').forEach(function (el) {
      var id = bindOf(el), changed;
      if (el.type === 'file') return;
      if (el.type === 'checkbox' || el.type === 'radio') changed = el.checked !== el.defaultChecked;
      else if (el.nodeName === 'SELECT') changed = Array.prototype.some.call(el.options, function (o) { return o.selected !== o.defaultSelected; });
      else changed = el.value !== el.defaultValue;
      if (changed && !(el.type === 'radio' && !el.checked)) {
        el._flinSent = String(el.value);
        out.push([id, { value: String(el.value), checked: !!el.checked }]);
      }
    });
    return out;
  }

  connect();
})();
