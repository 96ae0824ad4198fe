// Visitor screen (the robot's own display, kiosk mode): everything works by touch alone.
'use strict';
const $ = (id) => document.getElementById(id);
const V = {conn: null, state: null, targets: [], screen: 'welcome', dialogueLang: null, lastTouch: Date.now(), msgCount: 0};
window.l2b2 = V;
const IDLE_RESET_MS = 120000;

// A touch is never dropped because the link is not up yet (the page is still loading its texts, the
// socket is still opening, or it is reconnecting): it waits here and goes out, in order, the moment the
// link is up. A touch older than QUEUE_MAX_AGE_MS is dropped then: its visitor has likely moved on.
const QUEUE_MAX_AGE_MS = 30000;
V.pending = [];

function send(action, value, extra) {
  V.lastTouch = Date.now();
  V.pending.push({at: Date.now(), msg: {action, value: value || '', language: L2B2.lang, ...(extra || {})}});
  flush();
}

function flush() {
  V.pending = V.pending.filter((p) => Date.now() - p.at <= QUEUE_MAX_AGE_MS);
  while (V.pending.length && V.conn && V.conn.send(V.pending[0].msg)) V.pending.shift();
}

function show(name) {
  V.screen = name;
  document.querySelectorAll('.screen').forEach((s) => { s.hidden = s.id !== `screen-${name}`; });
  $('v-back').hidden = name === 'welcome' || name === 'menu';
  $('v-restart').hidden = name === 'welcome';
  $('v-lang').hidden = name === 'welcome';
  if (V.state) renderOffice(V.state);  // every language on the welcome screen, the visitor's after it
}

function targetName(t) { return t.name[L2B2.lang] || t.name.de; }
function targetLang(t) { return t.name[L2B2.lang] ? L2B2.lang : 'de'; }

function button(label, cls, onClick, data, lang) {
  const b = document.createElement('button');
  b.className = cls; b.textContent = label;
  if (lang) b.lang = lang;  // hyphenation and speech of a name follow its own language
  Object.assign(b.dataset, data || {});
  b.addEventListener('click', onClick);
  return b;
}

function renderTargets() {
  $('targets').replaceChildren(...V.targets.map((t) => button(targetName(t), 'big-btn target-btn', () => send('target', t.id), {target: t.id}, targetLang(t))));
  $('ticket-targets').replaceChildren(...V.targets.filter((t) => t.appointments).map((t) =>
    button(targetName(t), 'big-btn ticket-btn', () => { send('ticket', t.id); show('menu'); }, {target: t.id}, targetLang(t))));
}

// --- office day -------------------------------------------------------------------------------------
const LANGS = ['de', 'tr', 'en'];
const CLOSED_PHASES = ['before_opening', 'closed'];
// A text in a given language (the welcome screen speaks to everyone before a language is chosen).
function tIn(lang, key, vars) {
  let s = (L2B2.texts[lang] || {})[key] ?? (L2B2.texts.de || {})[key] ?? '';
  for (const [k, v] of Object.entries(vars || {})) s = s.replace(`{${k}}`, v);
  return s;
}
// "Montag 07:30": the office's own local time as the node wrote it (ISO with its offset), not the screen's.
function openingText(lang, iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso || '');
  if (!m) return '';
  const day = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])).getUTCDay();
  return tIn(lang, 'v_closed_next', {day: tIn(lang, `wd_${day}`), time: `${m[4]}:${m[5]}`});
}
function closedLines(lang, office) {
  const main = document.createElement('p');
  main.className = 'closed-main';
  main.lang = lang;
  main.textContent = (office.next_opening && openingText(lang, office.next_opening)) || tIn(lang, 'v_closed');
  const more = document.createElement('p');
  more.className = 'closed-more';
  more.lang = lang;
  more.textContent = tIn(lang, 'v_always_open');
  return [main, more];
}
function officeClosed(m) { return !!(m && m.office && CLOSED_PHASES.includes(m.office.phase)); }
function escortsRefused(m) { return !!(m && m.office && !m.office.accepting_escorts); }

function renderOffice(m) {
  const o = m.office;
  const closed = officeClosed(m);
  $('office-closed').hidden = !closed;
  $('no-escort').hidden = closed || !escortsRefused(m) || V.screen === 'welcome';
  if (!closed) { V.closedShown = ''; return; }
  const langs = V.screen === 'welcome' ? LANGS : [L2B2.lang];
  const key = JSON.stringify([langs, o.next_opening, V.targets.map((t) => t.id)]);
  if (key === V.closedShown) return;
  V.closedShown = key;
  $('office-closed-lines').replaceChildren(...langs.flatMap((lang) => closedLines(lang, o)));
  $('office-closed-targets').replaceChildren(...V.targets.filter((t) => t.always_open).map((t) =>
    button(targetName(t), 'big-btn accent always-btn', () => { send('target', t.id); show('menu'); }, {target: t.id},
           targetLang(t))));
}

async function setLanguage(lang) {
  await L2B2.loadTexts(lang);
  renderTargets();
  if (V.state) render(V.state);
}

function choiceLabel(c) {
  const t = V.targets.find((q) => q.id === c);
  return t ? targetName(t) : (L2B2.t(`choice_${c}`) || c);
}

function render(m) {
  V.state = m;
  $('offline').hidden = m.online;
  $('stopped').hidden = !m.estop;
  const d = m.dialogue || {};
  $('takeover-note').hidden = !d.staff_takeover;
  // Follow the language the robot detected from speech, but only when it changes.
  if (d.language && d.language !== V.dialogueLang) {
    const first = V.dialogueLang === null;
    V.dialogueLang = d.language;
    if (!first && ['de', 'tr', 'en'].includes(d.language) && d.language !== L2B2.lang) setLanguage(d.language);
  }
  // The last sentence actually spoken (also escort announcements and staff answers during a takeover).
  $('sub-robot').textContent = (m.said && m.said.text) || d.last_robot_text || '';
  $('sub-user').textContent = d.last_user_text || '';
  $('number').hidden = !d.display_number;
  $('display-number').textContent = d.display_number || '';
  $('wait').textContent = d.estimated_wait_minutes > 0 ? L2B2.t('v_wait', {m: d.estimated_wait_minutes}) : '';
  // While the robot just listens, its choices are the menu's own buttons: show them only once.
  const choices = ['greeting', 'listening'].includes(d.state) ? [] : (d.choices || []).filter((c) => c);
  // Escorts refused (battery, outside hours, staff): the robot shows the way instead, and says so.
  const label = (c) => (c === 'escort' && escortsRefused(m) ? L2B2.t('choice_escort_directions') : choiceLabel(c));
  $('choices').replaceChildren(...choices.map((c) => button(label(c), 'big-btn choice-btn', () => send('choice', c), {choice: c})));
  if (d.state && d.state !== 'idle' && V.screen === 'welcome') show('menu');
  // The robot asks for something only words answer (e.g. the name on a booking): offer the keyboard.
  if (d.state === 'checkin' && !choices.length && V.screen === 'menu' && d.state !== V.lastState) show('type');
  V.lastState = d.state;
  renderOffice(m);
}

// Language choice starts a conversation, or switches the language of the one going on.
document.querySelectorAll('#screen-welcome button[data-lang]').forEach((b) => b.addEventListener('click', async () => {
  await setLanguage(b.dataset.lang);
  const talking = V.state && V.state.dialogue && !['', 'idle', null, undefined].includes(V.state.dialogue.state);
  send(talking ? 'language' : 'start', b.dataset.lang);
  show('menu');
}));
$('v-checkin').addEventListener('click', () => { $('booking').value = ''; show('checkin'); $('booking').focus(); });
$('v-ticket').addEventListener('click', () => show('ticket'));
$('v-type').addEventListener('click', () => { show('type'); $('free-text').focus(); });
$('v-back').addEventListener('click', () => show('menu'));
$('v-restart').addEventListener('click', () => { send('cancel'); show('welcome'); });
$('v-lang').addEventListener('click', () => show('welcome'));
$('booking-ok').addEventListener('click', () => {
  const number = $('booking').value.replace(/\D/g, '');
  if (!number) return;
  send('checkin', number);
  $('booking').value = '';  // the number is not kept on screen
  show('menu');
});
$('free-text-ok').addEventListener('click', () => {
  const text = $('free-text').value.trim();
  if (!text) return;
  send('text', text);
  $('free-text').value = '';
  show('menu');
});
$('keypad').replaceChildren(...['1', '2', '3', '4', '5', '6', '7', '8', '9', '⌫', '0', 'C'].map((k) =>
  button(k, 'key', () => {
    const el = $('booking');
    el.value = k === '⌫' ? el.value.slice(0, -1) : k === 'C' ? '' : (el.value + k).slice(0, 12);
  }, {key: k})));
document.addEventListener('pointerdown', () => { V.lastTouch = Date.now(); });
setInterval(() => {
  if (V.screen !== 'welcome' && Date.now() - V.lastTouch > IDLE_RESET_MS && (!V.state || (V.state.dialogue || {}).state === 'idle')) show('welcome');
}, 5000);

(async () => {
  await L2B2.loadTexts('de');
  // The other languages' texts too (not switching to them): the welcome screen's closed notice speaks all three.
  await Promise.all(['tr', 'en'].map(async (lang) => {
    try {
      if (!L2B2.texts[lang]) L2B2.texts[lang] = await (await fetch(`/static/i18n/${lang}.json`, {cache: 'no-store'})).json();
    } catch (e) { /* that language's lines fall back to German */ }
  }));
  show(V.screen);  // not 'welcome': a language touched while the page was still loading stays chosen
  V.conn = L2B2.connect('/ws/visitor', (m) => {
    V.msgCount += 1;
    if (m.type === 'hello') { V.targets = m.targets; renderTargets(); V.closedShown = ''; if (V.state) renderOffice(V.state); } else if (m.type === 'state') render(m);
  }, (up) => {
    document.body.classList.toggle('disconnected', !up);
    if (!up) $('offline').hidden = false;
    else flush();  // what was touched before the link was up
  });
})();
