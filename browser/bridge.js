// The refreshsuite bridge. The suite injects it into every frame before the
// page's own scripts run (Page.addScriptToEvaluateOnNewDocument), so an app never
// has to include it. It does two jobs:
//  1. window.refreshsuite: the adapter contract (config, emit, register, ready)
//     that a client app's small glue code talks to;
//  2. instrumentation the app cannot see: postMessage calls, message events and
//     iframes coming and going, reported with the page's own clock.
// Everything leaves through one CDP binding, __refreshsuite_report.
(() => {
  if (window.refreshsuite) return;
  const isTop = window === window.top;
  const frame = isTop ? 'top' : 'child';
  const here = () => String(location.href).split(/[?#]/)[0];
  const report = (what, fields) => {
    try {
      window.__refreshsuite_report(JSON.stringify({ what, now: Date.now(), fields }));
    } catch (e) {
      // Not driven by the suite (the binding is absent): stay silent.
    }
  };
  const text = (v) => {
    if (v === undefined || v === null) return '';
    if (typeof v === 'string') return v;
    try { return JSON.stringify(v); } catch (e) { return String(v); }
  };

  let driver = null;
  window.refreshsuite = Object.freeze({
    config: __REFRESHSUITE_CONFIG__,
    emit(type, info) {
      report('client.event', { type: String(type), info: text(info), frame });
    },
    register(d) {
      driver = d;
    },
    ready(state) {
      if (!isTop) return; // an app booted inside an iframe by mistake is not the app under test
      report('client.ready', { logged_in: state && state.loggedIn ? 'yes' : 'no', error: text(state && state.error) });
    },
    async call(name, args) {
      if (!driver) throw new Error('the app registered no driver (refreshsuite.register was not called)');
      if (typeof driver[name] !== 'function') throw new Error('the driver has no function ' + name);
      return driver[name](...(args || []));
    },
  });

  // postMessage on this window, whoever calls it: a same-origin child calling
  // parent.postMessage runs this window's function, so the callback page's target
  // origin is seen here. (A cross-origin caller gets the built-in, unrecorded; its
  // message still shows up as a message event below.)
  const post = window.postMessage;
  window.postMessage = function (message, targetOrigin, transfer) {
    const to = typeof targetOrigin === 'object' && targetOrigin !== null ? targetOrigin.targetOrigin || '/' : targetOrigin;
    report('browser.post-message', { to: here(), target_origin: String(to), data: text(message) });
    return post.apply(this, arguments);
  };
  window.addEventListener('message', (e) => {
    report('browser.message', { to: here(), origin: e.origin, data: text(e.data) });
  }, true);

  const visible = (el) => {
    const cs = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    return cs.display !== 'none' && cs.visibility !== 'hidden' && cs.opacity !== '0' && r.width > 0 && r.height > 0;
  };
  const describe = (el) => {
    const r = el.getBoundingClientRect();
    return {
      frame: here(), id: el.id || '', src: String(el.src || '').split(/[?#]/)[0],
      visible: visible(el) ? 'yes' : 'no', width: String(Math.round(r.width)), height: String(Math.round(r.height)),
    };
  };
  const iframes = (nodes) => {
    const out = [];
    for (const n of nodes) {
      if (n.nodeType !== 1) continue;
      if (n.tagName === 'IFRAME') out.push(n);
      if (n.querySelectorAll) out.push(...n.querySelectorAll('iframe'));
    }
    return out;
  };
  new MutationObserver((records) => {
    for (const r of records) {
      for (const el of iframes(r.addedNodes)) {
        // Styles are often set right after insertion: measure once layout settles.
        setTimeout(() => report('browser.frame-attached', describe(el)), 0);
      }
      for (const el of iframes(r.removedNodes)) {
        report('browser.frame-detached', { frame: here(), id: el.id || '', src: String(el.src || '').split(/[?#]/)[0] });
      }
    }
  }).observe(document, { childList: true, subtree: true });

  // Used by the harness after each step.
  Object.defineProperty(window, '__refreshsuite_frames', {
    value: () => {
      const all = Array.from(document.querySelectorAll('iframe'));
      return { count: all.length, visible: all.filter(visible).length, ids: all.map((f) => f.id || '(no id)').join(' ') };
    },
  });
})();
