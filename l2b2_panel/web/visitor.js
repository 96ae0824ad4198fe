// Visitor screen (the robot's own display, kiosk mode): everything works by touch alone.
'use strict';
const $ = (id) => document.getElementById(id);
const V = {conn: null, state: null, targets: [], screen: 'welcome', dialogueLang: null, lastTouch: Date.now(), msgCount: 0};
window.l2b2 = V;
const IDLE_RESET_MS = 120000;

function send(action, value, extra) {
  V.lastTouch = Date.now();
  return V.conn.send({action, value: value || '', language: L2B2.lang, ...(extra || {})});
}

function show(name) {
  V.screen = name;
  document.querySelectorAll('.screen').forEach((s) => { s.hidden = s.id !== `screen-${name}`; });
  $('v-back').hidden = name === 'welcome' || name === 'menu';
  $('v-restart').hidden = name === 'welcome';
  $('v-lang').hidden = name === 'welcome';
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
  $('choices').replaceChildren(...choices.map((c) => button(choiceLabel(c), 'big-btn choice-btn', () => send('choice', c), {choice: c})));
  if (d.state && d.state !== 'idle' && V.screen === 'welcome') show('menu');
  // The robot asks for something only words answer (e.g. the name on a booking): offer the keyboard.
  if (d.state === 'checkin' && !choices.length && V.screen === 'menu' && d.state !== V.lastState) show('type');
  V.lastState = d.state;
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
  show('welcome');
  V.conn = L2B2.connect('/ws/visitor', (m) => {
    V.msgCount += 1;
    if (m.type === 'hello') { V.targets = m.targets; renderTargets(); } else if (m.type === 'state') render(m);
  }, (up) => { document.body.classList.toggle('disconnected', !up); if (!up) $('offline').hidden = false; });
})();
