// The refreshsuite bridge. The suite injects it into every frame before the
// page's own scripts run (Page.addScriptToEvaluateOnNewDocument), so an app never
// has to include it. It does two jobs:
//  1. window.refreshsuite: the adapter contract (config, emit, register, ready)
//     that a client app's small glue code talks to;
//  2. instrumentation the page cannot observe: messages between windows
//     (postMessage), BroadcastChannel traffic, events dispatched on a window, and
//     iframes coming and going, reported with the page's own clock.
// Everything leaves through one CDP binding, __refreshsuite_report.
//
// The instrument wraps nothing. A wrapper is a function of this realm: a
// same-origin callback page calling parent.postMessage through it would make this
// window the incumbent, so its message would arrive with event.source === window
// instead of the iframe, and the wrapper's identity and toString differ from the
// native function's. Instead the session sets debugger breakpoints on the native
// functions (see arm below and breakpoints.go), whose conditions call sent() with
// the call's receiver and arguments and never pause. Receiving is observed by
// listeners the page cannot see.
//
// Everything the instrument calls after start-up is captured here, before any page
// script runs: a page that replaces a built-in (Array.prototype.push, JSON, a
// getter on a prototype) never sees the instrument call it, so it can neither tell
// that the instrument is there nor steer what it records. The code below therefore
// uses no iterators, spread, array methods or prototype lookups on objects it did
// not make with a null prototype.
(() => {
  if (window.refreshsuite) return;

  const apply = Reflect.apply, ownKeys = Reflect.ownKeys, protoOf = Reflect.getPrototypeOf;
  const own = Object.getOwnPropertyDescriptor, define = Object.defineProperty;
  const hasOwn = Object.prototype.hasOwnProperty;
  const isArray = Array.isArray, quote = JSON.stringify, now = Date.now, str = String, round = Math.round;
  const lower = String.prototype.toLowerCase;
  const getter = (o, k) => {
    const d = o && own(o, k);
    return d && apply(hasOwn, d, ['get']) ? d.get : undefined;
  };
  const call = (f, self, args) => apply(f, self, args || []);
  const binding = window.__refreshsuite_report;
  // The virtual clock's markers call the binding by its global name: keep the page
  // from replacing it.
  try { define(window, '__refreshsuite_report', { value: binding }); } catch (e) { /* already fixed */ }

  const loc = location;
  const hrefOf = getter(loc, 'href'), originOf = getter(loc, 'origin');
  const href = () => call(hrefOf, loc);
  const ownOrigin = call(originOf, loc);
  const win = {
    parent: getter(window, 'parent'), top: getter(window, 'top'), length: getter(window, 'length'), opener: getter(window, 'opener'),
  };
  const rel = (name) => (win[name] ? call(win[name], window) : window[name]);
  const msg = {
    data: getter(MessageEvent.prototype, 'data'), origin: getter(MessageEvent.prototype, 'origin'), source: getter(MessageEvent.prototype, 'source'),
  };
  const eventType = getter(Event.prototype, 'type'), customDetail = getter(CustomEvent.prototype, 'detail');
  const addListener = EventTarget.prototype.addEventListener;
  const URLClass = URL, urlOrigin = getter(URL.prototype, 'origin');
  const eventProto = Event.prototype;
  const BC = window.BroadcastChannel;
  const channel = BC ? { name: getter(BC.prototype, 'name'), close: BC.prototype.close } : null;
  const WS = WeakSet, wsHas = WS.prototype.has, wsAdd = WS.prototype.add;
  const dom = {
    document: getter(window, 'document'),
    querySelectorAll: Document.prototype.querySelectorAll, elementQuerySelectorAll: Element.prototype.querySelectorAll,
    listLength: getter(NodeList.prototype, 'length'),
    contentWindow: getter(HTMLIFrameElement.prototype, 'contentWindow'), src: getter(HTMLIFrameElement.prototype, 'src'),
    id: getter(Element.prototype, 'id'), tagName: getter(Element.prototype, 'tagName'), nodeType: getter(Node.prototype, 'nodeType'),
    computedStyle: window.getComputedStyle, styleValue: CSSStyleDeclaration.prototype.getPropertyValue,
    rect: Element.prototype.getBoundingClientRect, width: getter(DOMRectReadOnly.prototype, 'width'), height: getter(DOMRectReadOnly.prototype, 'height'),
    added: getter(MutationRecord.prototype, 'addedNodes'), removed: getter(MutationRecord.prototype, 'removedNodes'),
    observe: MutationObserver.prototype.observe,
  };
  const MO = MutationObserver, later = window.setTimeout;
  const doc = () => call(dom.document, window);

  // Keys whose string values are secrets wherever they appear in a message.
  const secretKeys = __REFRESHSUITE_SECRET_KEYS__;

  // A list of our own: index assignment on a null-prototype object reaches no setter.
  const list = () => ({ __proto__: null, n: 0 });
  const put = (l, v) => { l[l.n] = v; l.n++; };

  // describe writes the start of a value as JSON-like text without running page
  // code: own data properties only (a getter is named, never called), a Location
  // as its href. A string under a secret key goes out as a placeholder (NUL, S,
  // its index, NUL: JSON quoting turns a NUL in page data into text, so only the
  // bridge writes one) and its value in secrets, which the session turns into a
  // fingerprint before anything is recorded. A Proxy's traps do run (there is no
  // way to tell one from an object without running them).
  const describe = (value, secrets) => {
    let left = 16384;
    const walk = (v, depth) => {
      if (left <= 0) return '...';
      switch (typeof v) {
        case 'string': { const q = quote(v); left -= q.length; return q; }
        case 'number': case 'boolean': case 'bigint': return str(v);
        case 'undefined': return 'undefined';
        case 'symbol': return '"(symbol)"';
        case 'function': return '"(function)"';
      }
      if (v === null) return 'null';
      const arr = isArray(v);
      if (!arr) {
        const p = protoOf(v);
        if (p !== null && protoOf(p) !== null) {
          // Not a plain object: a Location (a callback page's detail) as its
          // href, an Error as its own message, anything else by kind only.
          try { const h = call(hrefOf, v); left -= h.length; return '{"href":' + quote(h) + '}'; } catch (e) { /* not a Location */ }
          const m = own(v, 'message');
          if (m && apply(hasOwn, m, ['value']) && typeof m.value === 'string') { left -= m.value.length; return quote(m.value); }
          return '"(object)"';
        }
      }
      if (depth >= 5) return arr ? '[...]' : '{...}';
      const keys = ownKeys(v);
      let out = '', n = 0;
      for (let i = 0; i < keys.length && n < 40 && left > 0; i++) {
        const k = keys[i];
        if (typeof k !== 'string' || (arr && k === 'length')) continue;
        const d = own(v, k);
        if (!d || !d.enumerable) continue;
        let item;
        if (!apply(hasOwn, d, ['value'])) {
          item = '"(getter)"';
        } else if (typeof d.value === 'string' && d.value !== '' && secretKeys[call(lower, k)] === 1) {
          item = '"\u0000S' + secrets.n + '\u0000"';
          put(secrets, d.value);
        } else {
          item = walk(d.value, depth + 1);
        }
        out += (n ? ',' : '') + (arr ? '' : quote(k) + ':') + item;
        left -= k.length + 2;
        n++;
      }
      if (n === 40) out += ',...';
      return arr ? '[' + out + ']' : '{' + out + '}';
    };
    return typeof value === 'string' ? value : walk(value, 0);
  };

  const report = (what, fields, secrets) => {
    let s = '{"what":' + quote(what) + ',"now":' + now() + ',"fields":{';
    const keys = ownKeys(fields);
    for (let i = 0; i < keys.length; i++) {
      s += (i ? ',' : '') + quote(keys[i]) + ':' + quote(str(fields[keys[i]]));
    }
    s += '}';
    if (secrets && secrets.n) {
      s += ',"secrets":[';
      for (let i = 0; i < secrets.n; i++) s += (i ? ',' : '') + quote(secrets[i]);
      s += ']';
    }
    try {
      call(binding, window, [s + '}']);
    } catch (e) {
      // Not driven by the suite (the binding is absent): stay silent.
    }
  };
  const fields = () => ({ __proto__: null });

  const isTop = rel('top') === window;
  const frame = isTop ? 'top' : 'child';
  let driver = null;
  window.refreshsuite = Object.freeze({
    config: __REFRESHSUITE_CONFIG__,
    emit(type, info) {
      const f = fields(), secrets = list();
      f.type = str(type);
      f.info = info === undefined || info === null ? '' : describe(info, secrets);
      f.frame = frame;
      report('client.event', f, secrets);
    },
    register(d) {
      driver = d;
    },
    ready(state) {
      if (!isTop) return; // an app booted inside an iframe by mistake is not the app under test
      const f = fields(), secrets = list();
      f.logged_in = state && state.loggedIn ? 'yes' : 'no';
      f.error = state && state.error ? describe(state.error, secrets) : '';
      report('client.ready', f, secrets);
    },
    async call(name, args) {
      if (!driver) throw new Error('the app registered no driver (refreshsuite.register was not called)');
      if (typeof driver[name] !== 'function') throw new Error('the driver has no function ' + name);
      return driver[name](...(args || []));
    },
  });

  // The iframe elements of this document whose window is w, by id.
  const frameID = (w) => {
    const all = call(dom.querySelectorAll, doc(), ['iframe']);
    const n = call(dom.listLength, all);
    for (let i = 0; i < n; i++) {
      if (call(dom.contentWindow, all[i]) === w) return call(dom.id, all[i]) || '(no id)';
    }
    return '';
  };
  // How this window sees w; id is the iframe's id for a child.
  const relation = (w, f, prefix) => {
    let what = 'other';
    if (w === null) what = 'none';
    else if (w === window) what = 'self';
    else if (w === rel('parent')) what = 'parent';
    else if (w === rel('top')) what = 'top';
    else if (w === rel('opener')) what = 'opener';
    else {
      const n = rel('length');
      for (let i = 0; i < n; i++) {
        if (window[i] === w) {
          what = 'child';
          const id = frameID(w);
          if (id) f[prefix + '_frame'] = id;
          break;
        }
      }
    }
    f[prefix + '_window'] = what;
  };
  // The targetOrigin a postMessage call gives, as the native function will read
  // it; an options object is read through its own data property only.
  const targetOrigin = (args) => {
    const a = args[1];
    if (args.length < 2 || a === undefined || a === null) return '/';
    switch (typeof a) {
      case 'string': return a;
      case 'number': case 'boolean': case 'bigint': return str(a);
      case 'symbol': return '(invalid)';
    }
    const d = own(a, 'targetOrigin');
    if (!d) return 'targetOrigin' in a ? '(options object)' : '/';
    return apply(hasOwn, d, ['value']) && typeof d.value === 'string' ? d.value : '(options object)';
  };
  // Whether a message posted to this window with target origin to will be
  // delivered. "/" means the caller's origin, and a caller that reached this
  // window's own postMessage is same-origin with it.
  const delivers = (to) => {
    if (to === '*' || to === '/') return true;
    try { return call(urlOrigin, new URLClass(to)) === ownOrigin; } catch (e) { return false; }
  };

  // A same-origin caller (a callback page calling parent.postMessage) runs this
  // window's own postMessage, so this realm sees the call but not the caller;
  // the message event then names the caller (event.source). The two are paired
  // here, in order and by their text, so the received message carries the
  // target origin it was sent with.
  const posted = list();
  const takePosted = (data) => {
    for (let i = 0; i < posted.n; i++) {
      const p = posted[i];
      if (p && p.data === data) { posted[i] = undefined; return p.target; }
    }
    return '';
  };

  // The window whose realm made an event object (a callback page's
  // new CustomEvent), among this window and its same-origin relatives.
  const maker = (ev) => {
    if (sent(null, [ev], 'owns')) return href();
    const tryWindow = (w) => {
      if (!w || w === window) return '';
      try {
        const d = own(w, '__refreshsuite_sent');
        if (d && typeof d.value === 'function' && d.value(null, [ev], 'owns')) return call(hrefOf, w.location);
      } catch (e) { /* cross-origin */ }
      return '';
    };
    const n = rel('length');
    for (let i = 0; i < n; i++) {
      const u = tryWindow(window[i]);
      if (u) return u;
    }
    return tryWindow(rel('parent')) || tryWindow(rel('top')) || tryWindow(rel('opener'));
  };

  // BroadcastChannel: the page's open channels in this window by name, and a
  // channel of our own per name that hears what they hear. Ours also hears this
  // window's own posts, which the page's channels only do when the page holds
  // another channel of that name: those echoes are recognised by their text.
  const open = { __proto__: null }, shadows = { __proto__: null }, echoes = { __proto__: null };
  const closed = new WS();
  const shadowHeard = (name, e) => {
    const secrets = list();
    const data = describe(call(msg.data, e), secrets);
    const q = echoes[name];
    if (q) {
      for (let i = 0; i < q.n; i++) {
        if (q[i] === data) { q[i] = undefined; return; }
      }
    }
    const f = fields();
    f.to = href(); f.channel = name; f.origin = call(msg.origin, e); f.data = data;
    report('browser.channel-message', f, secrets);
  };

  // sent is what the breakpoint conditions call: self and args are the native
  // function's receiver and arguments. It returns false, so the page never
  // stops.
  const sent = (self, args, kind) => {
    try {
      const f = fields(), secrets = list();
      switch (kind) {
        case 'post': {
          f.target_origin = targetOrigin(args);
          f.data = describe(args[0], secrets);
          if (self !== window) {
            // Called through a cross-origin WindowProxy, or on another window
            // with this realm's function: this realm is the caller.
            f.from = href();
            relation(self, f, 'to');
            report('browser.post-message', f, secrets);
            return false;
          }
          f.to = href();
          if (delivers(f.target_origin)) put(posted, { __proto__: null, data: f.data, target: f.target_origin });
          report('browser.post-message', f, secrets);
          return false;
        }
        case 'event': {
          const ev = args[0];
          f.type = call(eventType, ev); // throws for a non-Event, as dispatchEvent will
          f.to = href();
          f.interface = 'Event';
          try {
            f.data = describe(call(customDetail, ev), secrets);
            f.interface = 'CustomEvent';
          } catch (e) {
            try { f.data = describe(call(msg.data, ev), secrets); f.interface = 'MessageEvent'; } catch (e2) { /* a plain Event */ }
          }
          f.from = maker(ev);
          report('browser.window-event', f, secrets);
          return false;
        }
        case 'owns': {
          let p = protoOf(args[0]);
          for (let i = 0; p !== null && i < 8; i++, p = protoOf(p)) {
            if (p === eventProto) return true;
          }
          return false;
        }
        case 'bc-open': {
          const name = args[0];
          if (typeof name !== 'string' || !channel) return false;
          open[name] = (open[name] || 0) + 1;
          if (!shadows[name]) {
            const sh = new BC(name);
            call(addListener, sh, ['message', (e) => shadowHeard(name, e)]);
            shadows[name] = sh;
          }
          return false;
        }
        case 'bc-post': {
          const name = call(channel.name, self);
          f.channel = name;
          f.from = href();
          f.origin = ownOrigin;
          f.data = describe(args[0], secrets);
          report('browser.channel-post', f, secrets);
          if (shadows[name] && (open[name] || 0) <= 1) {
            if (!echoes[name]) echoes[name] = list();
            put(echoes[name], f.data);
          }
          return false;
        }
        case 'bc-close': {
          const name = call(channel.name, self);
          if (call(wsHas, closed, [self])) return false;
          call(wsAdd, closed, [self]);
          open[name] = (open[name] || 1) - 1;
          if (open[name] === 0 && shadows[name]) {
            call(channel.close, shadows[name]);
            shadows[name] = undefined;
          }
          return false;
        }
      }
    } catch (e) {
      // A call the native function will reject (a non-Event, a closed channel).
    }
    return false;
  };
  define(window, '__refreshsuite_sent', { value: sent });

  call(addListener, window, ['message', (e) => {
    const f = fields(), secrets = list();
    f.to = href();
    f.origin = call(msg.origin, e);
    f.data = describe(call(msg.data, e), secrets);
    const trusted = e.isTrusted;
    if (!trusted) f.trusted = 'no';
    const src = call(msg.source, e);
    relation(src, f, 'from');
    if (src !== null && f.origin === ownOrigin) {
      try { f.from_url = call(hrefOf, src.location); } catch (err) { /* not same-origin after all */ }
      if (trusted) {
        const target = takePosted(f.data);
        if (target) f.target_origin = target;
      }
    }
    report('browser.message', f, secrets);
  }, true]);

  // The session pauses in __refreshsuite_arm (by its name) at the start of each
  // top-level document, before any page script runs and while no other frame of
  // the page exists, sets breakpoints on the native functions it is handed and
  // resumes; on virtual time the pause takes no page time. It pauses nowhere
  // else: a pause where other frames exist lets them interleave with the paused
  // one (an earlier version paused in every frame, and inside a callback's
  // postMessage to learn its caller: a frame loading meanwhile then ran its
  // scripts unarmed, and the app lost the BroadcastChannel message it sent).
  // Every realm's window.postMessage shares the breakpoint
  // set here; the interfaces' functions (BroadcastChannel, dispatchEvent) are the
  // top realm's, which is where an app listens and where a callback page
  // dispatches its event (parent.dispatchEvent).
  if (isTop) {
    const armed = { __proto__: null, post: window.postMessage, event: EventTarget.prototype.dispatchEvent };
    if (BC) {
      armed.bcOpen = BC;
      armed.bcPost = BC.prototype.postMessage;
      armed.bcClose = BC.prototype.close;
    }
    const __refreshsuite_arm = (fns) => { debugger; };
    __refreshsuite_arm(armed);
  }

  const visible = (el) => {
    const cs = call(dom.computedStyle, window, [el]);
    const r = call(dom.rect, el);
    const style = (p) => call(dom.styleValue, cs, [p]);
    return style('display') !== 'none' && style('visibility') !== 'hidden' && style('opacity') !== '0' &&
      call(dom.width, r) > 0 && call(dom.height, r) > 0;
  };
  const srcOf = (el) => call(dom.src, el) || '';
  const describeFrame = (el) => {
    const r = call(dom.rect, el);
    const f = fields();
    f.frame = href(); f.id = call(dom.id, el) || ''; f.src = srcOf(el);
    f.visible = visible(el) ? 'yes' : 'no';
    f.width = str(round(call(dom.width, r))); f.height = str(round(call(dom.height, r)));
    return f;
  };
  const iframes = (nodes, each) => {
    const n = call(dom.listLength, nodes);
    for (let i = 0; i < n; i++) {
      const node = nodes[i];
      if (call(dom.nodeType, node) !== 1) continue;
      if (call(dom.tagName, node) === 'IFRAME') each(node);
      const inner = call(dom.elementQuerySelectorAll, node, ['iframe']);
      const m = call(dom.listLength, inner);
      for (let j = 0; j < m; j++) each(inner[j]);
    }
  };
  const observer = new MO((records) => {
    for (let i = 0; i < records.length; i++) {
      iframes(call(dom.added, records[i]), (el) => {
        // Styles are often set right after insertion: measure once layout settles.
        call(later, window, [() => report('browser.frame-attached', describeFrame(el)), 0]);
      });
      iframes(call(dom.removed, records[i]), (el) => {
        const f = fields();
        f.frame = href(); f.id = call(dom.id, el) || ''; f.src = srcOf(el);
        report('browser.frame-detached', f);
      });
    }
  });
  call(dom.observe, observer, [doc(), { childList: true, subtree: true }]);

  // Used by the harness after each step.
  define(window, '__refreshsuite_frames', {
    value: () => {
      const all = call(dom.querySelectorAll, doc(), ['iframe']);
      const n = call(dom.listLength, all);
      let shown = 0, ids = '';
      for (let i = 0; i < n; i++) {
        if (visible(all[i])) shown++;
        ids += (i ? ' ' : '') + (call(dom.id, all[i]) || '(no id)');
      }
      return { count: n, visible: shown, ids };
    },
  });
})();
