// Shared by both screens: texts per language and a WebSocket that reconnects by itself.
'use strict';
const L2B2 = {
  texts: {},
  lang: 'de',
  async loadTexts(lang) {
    this.wanted = lang;  // the last request wins, even if an earlier file arrives later
    if (!this.texts[lang]) {
      const r = await fetch(`/static/i18n/${lang}.json`, {cache: 'no-store'});
      this.texts[lang] = await r.json();
    }
    if (this.wanted !== lang) return;
    this.lang = lang;
    document.documentElement.lang = lang;
    document.querySelectorAll('[data-i18n]').forEach((el) => {
      const t = this.t(el.dataset.i18n);
      if (t) el.textContent = t;
    });
    document.querySelectorAll('[data-i18n-placeholder]').forEach((el) => {
      el.placeholder = this.t(el.dataset.i18nPlaceholder);
    });
  },
  t(key, vars) {
    let s = (this.texts[this.lang] || {})[key] ?? (this.texts.de || {})[key] ?? '';
    for (const [k, v] of Object.entries(vars || {})) s = s.replace(`{${k}}`, v);
    return s;
  },
  // Calls onMessage for each JSON message; onStatus(true|false) on connect/disconnect; retries with back-off.
  connect(path, onMessage, onStatus, onClose) {
    let delay = 250;
    const self = {ws: null, msgCount: 0, closedForGood: false};
    const open = () => {
      if (self.closedForGood) return;
      const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`);
      self.ws = ws;
      ws.onopen = () => { delay = 250; onStatus(true); };
      ws.onmessage = (ev) => { self.msgCount += 1; onMessage(JSON.parse(ev.data)); };
      ws.onclose = (ev) => {
        onStatus(false);
        if (onClose && onClose(ev) === false) { self.closedForGood = true; return; }
        setTimeout(open, delay);
        delay = Math.min(delay * 2, 4000);
      };
    };
    open();
    self.send = (obj) => { if (self.ws && self.ws.readyState === 1) { self.ws.send(JSON.stringify(obj)); return true; } return false; };
    return self;
  },
};
