// Staff panel: login, live state over a WebSocket, controls over authenticated POSTs, joystick over the socket.
'use strict';
const $ = (id) => document.getElementById(id);
const S = {session: null, conn: null, state: null, floor: null, mapVersion: -1, targets: [], waypoints: {},
           stream: false, msgCount: 0};
window.l2b2 = S;  // for tests and benchmarks: the last state and the message count

async function api(path, body) {
  const r = await fetch(path, {
    method: 'POST', credentials: 'same-origin',
    headers: {'Content-Type': 'application/json', 'X-L2B2-CSRF': S.session ? S.session.csrf : ''},
    body: JSON.stringify(body || {}),
  });
  let data = {};
  try { data = await r.json(); } catch (e) { /* empty */ }
  if (r.status === 401) showLogin();
  return {status: r.status, ok: r.ok && data.ok !== false, data};
}

function feedback(text, bad) {
  const el = $('feedback');
  el.textContent = text;
  el.className = bad ? 'error' : '';
}

async function control(name, body) {
  const r = await api(`/api/control/${name}`, body);
  const detail = r.data.error || r.data.message || r.status;
  feedback(r.ok ? `${L2B2.t('done')}: ${L2B2.t(`ctl_${name}`) || name}` : `${L2B2.t('failed')}: ${detail}`, !r.ok);
  // A stop the robot did not confirm is the one message staff must not miss: big, in their language.
  if (name === 'estop') showEstopFailed(!r.ok && r.status !== 401 && r.status !== 403, detail);
  return r;
}

function showEstopFailed(failed, detail) {
  $('estop-failed').hidden = !failed;
  $('estop-failed-detail').textContent = failed ? String(detail) : '';
}

// --- login -------------------------------------------------------------------------------------
function showLogin(info) {
  S.session = null;
  $('app').hidden = true;
  $('alerts').hidden = true;
  alertsShown = '';
  setAlertSound(false, false);
  $('logout').hidden = true;
  $('login').hidden = false;
  if (info) {
    $('login-setup').hidden = !info.setup_needed;
    $('login-demo').hidden = !info.demo;
  }
  if (S.conn) { S.conn.closedForGood = true; if (S.conn.ws) S.conn.ws.close(); S.conn = null; }
}

async function checkSession() {
  const r = await fetch('/api/session', {credentials: 'same-origin'});
  const data = await r.json();
  if (r.status !== 200) { showLogin(data); return; }
  startApp(data);
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  $('login-error').textContent = '';
  const r = await fetch('/api/login', {
    method: 'POST', credentials: 'same-origin', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({user: $('login-user').value, password: $('login-password').value}),
  });
  const data = await r.json();
  $('login-password').value = '';
  if (r.status === 429) { $('login-error').textContent = L2B2.t('login_throttled', {s: data.retry_after_s}); return; }
  if (r.status !== 200) { $('login-error').textContent = L2B2.t('login_wrong'); return; }
  startApp(data);
});

$('logout').addEventListener('click', async () => { await api('/api/logout'); showLogin(); });

function startApp(session) {
  S.session = session;
  $('login').hidden = true;
  $('app').hidden = false;
  $('logout').hidden = false;
  $('who').textContent = session.user + (session.role === 'staff' ? '' : ` (${L2B2.t('observer')})`);
  document.body.classList.toggle('observer', session.role !== 'staff');
  if (S.conn) return;
  S.conn = L2B2.connect('/ws/staff', onMessage, (up) => { S.stream = up; renderConn(); }, (ev) => {
    if (!S.session) return false;
    if (ev.code === 4401) { S.conn = null; showLogin(); return false; }
    // The server may be gone or the session over: ask, and show the login when needed.
    fetch('/api/session', {credentials: 'same-origin'}).then((r) => { if (r.status === 401) r.json().then(showLogin); }).catch(() => {});
    return true;
  });
}

// --- live state ---------------------------------------------------------------------------------
function onMessage(m) {
  S.msgCount += 1;
  if (m.type === 'hello') {
    S.targets = m.targets; S.waypoints = m.waypoints; S.home = m.home; fillTargets();
    return;
  }
  if (m.type === 'error') { feedback(m.error, true); return; }
  if (m.type !== 'state') return;
  S.state = m;
  if (m.map_version !== S.mapVersion) loadMap(m.map_version);
  render(m);
}

function renderConn() {
  const el = $('conn');
  const online = S.stream && S.state && S.state.online;
  el.textContent = !S.stream ? L2B2.t('conn_lost') : online ? L2B2.t('conn_online') : L2B2.t('conn_stack_offline');
  el.className = 'badge ' + (online ? 'good' : 'bad');
  el.dataset.online = online ? '1' : '0';
}

function render(m) {
  renderConn();
  const p = m.robot.pose;
  $('pose').textContent = p ? `x=${p.x.toFixed(2)} y=${p.y.toFixed(2)} θ=${(p.yaw * 180 / Math.PI).toFixed(0)}°` : '–';
  $('battery').textContent = batteryText(m);
  $('escort').textContent = m.escort ? `${L2B2.t(`ph_${m.escort.phase}`) || m.escort.phase} (${m.escort.distance_remaining} m)`
    : (m.robot.target ? placeName(m.robot.target) : '–');
  const estop = m.safety.estop_active;
  if (estop) showEstopFailed(false);  // the gate reports the stop after all
  $('estop-state').hidden = !estop;
  $('estop').classList.toggle('engaged', estop);
  document.body.classList.toggle('estopped', estop);
  if (!estop) closeResume();
  $('resume').hidden = !estop || !$('resume-ask').hidden;
  const d = m.dialogue || {};
  $('dlg-state').textContent = (d.state ? L2B2.t(`st_${d.state}`) || d.state : '–') + (d.staff_takeover ? ' ✋' : '');
  $('dlg-lang').textContent = d.language ? L2B2.t(`lang_${d.language}`) || d.language : '–';
  $('takeover').textContent = L2B2.t(d.staff_takeover ? 'hand_back' : 'takeover');
  $('takeover').dataset.enabled = d.staff_takeover ? '1' : '0';
  const paused = !!(m.escort && m.escort.phase === 'paused') || $('pause').dataset.paused === '1' && !!m.escort;
  $('pause').dataset.paused = paused ? '1' : '0';
  $('pause').textContent = L2B2.t(paused ? 'unpause' : 'pause');
  const rec = m.speech.recognized || {};
  const said = m.speech.said || {};
  $('last-user').textContent = rec.text ? `${rec.text} [${rec.language || '?'}, ${rec.source}]` : (d.last_user_text || '–');
  $('last-robot').textContent = (said.text || d.last_robot_text || '–') + (m.speech.speaking ? ` (${L2B2.t('speaking')})` : '');
  const ul = $('health');
  ul.replaceChildren(...m.health.map((h) => {
    const li = document.createElement('li');
    li.className = h.shown || ['ok', 'degraded', 'error', 'stale'][h.level] || 'stale';
    li.dataset.component = h.component;
    const message = h.shown === 'stopped' ? L2B2.t('h_estop_engaged') : healthText(h.message);
    li.textContent = `${L2B2.t(`hc_${h.component}`) || h.component}: ${message}`;
    return li;
  }));
  renderAlerts(m);
  renderOffice(m);
  drawMap();
}

// --- office day (/office/status) -----------------------------------------------------------------
// "1 h 20 min", "25 min" in the page's language (time to full, rounded to minutes by the office node).
function durationText(seconds) {
  const minutes = Math.max(0, Math.round(seconds / 60));
  const h = Math.floor(minutes / 60), min = minutes % 60;
  return h ? L2B2.t('dur_hm', {h, m: min}) : L2B2.t('dur_m', {m: min});
}

// The map legend's battery: /battery (or /robot/status), charging also when the office node says so.
function batteryText(m) {
  const o = m.office || {};
  const b = m.robot.battery;
  const percent = b ? b.percent : o.battery_percent;
  if (percent === null || percent === undefined) return '–';
  const charging = !!((b && b.charging) || o.charging);
  return `${percent.toFixed(0)} %${charging ? ` ⚡ ${L2B2.t('office_charging')}` : ''}`;
}

function officeBattery(o) {
  if (o.battery_percent === null || o.battery_percent === undefined) return '–';
  let text = `${o.battery_percent.toFixed(0)} %`;
  if (o.charging) {
    text += ` · ⚡ ${L2B2.t('office_charging')}`;
    if (o.time_to_full_s !== null && o.time_to_full_s !== undefined) {
      text += ` · ${L2B2.t('office_full_in', {t: durationText(o.time_to_full_s)})}`;
    }
  }
  return text;
}

function officeReason(reason) { return L2B2.t(`or_${reason}`) || reason; }

function renderOffice(m) {
  const o = m.office;
  $('office').dataset.phase = o ? o.phase : '';
  if (!o) {
    $('office-phase').textContent = L2B2.t('office_unknown');
    ['office-battery', 'office-escorts', 'office-override', 'office-fault'].forEach((id) => { $(id).textContent = '–'; });
    $('office-retry').hidden = true;
    return;
  }
  const parts = [L2B2.t(`op_${o.phase}`) || o.phase];
  if (o.action) parts.push(L2B2.t(`oa_${o.action}`) || o.action);
  else if (o.docked) parts.push(L2B2.t('office_docked'));
  $('office-phase').textContent = parts.join(' · ');
  $('office-battery').textContent = officeBattery(o);
  $('office-battery').classList.toggle('charging', !!o.charging);
  $('office-escorts').textContent = o.accepting_escorts ? L2B2.t('office_escorts_yes')
    : L2B2.t('office_escorts_no', {reason: o.reason ? officeReason(o.reason) : '–'});
  $('office-escorts').className = o.accepting_escorts ? 'ok' : 'refused';
  $('office-override').textContent = o.override ? L2B2.t(`oo_${o.override}`) || o.override : L2B2.t('oo_none');
  $('office-fault').textContent = o.fault ? officeReason(o.fault) : '–';
  $('office-fault').className = o.fault ? 'error' : '';
  $('office-retry').hidden = !o.fault;
  // The toggle: stay out, or release the override there is (staying out, or docking now).
  const stay = $('office-stay-out');
  stay.dataset.enable = o.override ? '0' : '1';
  stay.textContent = L2B2.t(o.override === 'dock_now' ? 'office_release_dock' : o.override ? 'office_release' : 'office_stay_out');
  stay.classList.toggle('active', o.override === 'stay_out');
}

// Health messages are the nodes' English; known ones are shown in the page's language (the technical
// detail after them, a file or a device name, stays as it is). Unknown messages are shown unchanged.
const HEALTH_PATTERNS = [
  [/^ready$/, 'h_ready'], [/^ready(?::\s*|\s*\()(.*?)\)?$/, 'h_ready_detail'],
  [/^escorting to ([\w-]+)$/, 'h_escorting'], [/^going to ([\w-]+)$/, 'h_going'], [/^arrived at ([\w-]+)$/, 'h_arrived'],
  [/^at home$/, 'h_at_home'], [/^returning home$/, 'h_returning'], [/^could not return home: (.*)$/, 'h_no_return'], [/^emergency stop engaged$/, 'h_estop_engaged'],
  [/^appointment system reachable$/, 'h_queue_ok'], [/^appointment system unavailable: (.*)$/, 'h_queue_unavailable'],
  [/^appointment system unreliable: (.*)$/, 'h_queue_unreliable'], [/^appointment system login: (.*)$/, 'h_queue_login'],
  [/^check-in failed: ([a-z ]+?)(?: at ([\w-]+))?$/, 'h_checkin_failed'],
  [/^a visitor at the robot asks for staff$/, 'h_staff_call'], [/^tracking$/, 'h_tracking'],
  [/^waiting for \/scan$/, 'h_waiting_scan'], [/^no \/scan received recently$/, 'h_no_scan'],
  [/^navigating$/, 'h_navigating'], [/^way blocked: waiting$/, 'h_blocked'], [/^goal (\w+)$/, 'h_goal'],
  [/^listening on \/audio\/raw$/, 'h_listening'], [/^listening \((.*)\)$/, 'h_listening_detail'],
  [/^simulating (.*)$/, 'h_simulating'], [/^serving (.*)$/, 'h_serving'], [/^(.*) unavailable \((.*)\)$/, 'h_unavailable'],
  [/^no voice at all; subtitles only$/, 'h_no_voice'], [/^microphone (.*) open$/, 'h_microphone'],
  [/^(.*); touch screen only$/, 'h_touch_only'], [/^repeated check-in failures at the robot$/, 'al_checkin_failures'],
  // the office day (l2b2-office), the alerts and figures nodes, the simulated docking server
  [/^(starting|before_opening|opening|open|closing|closed)$/, 'h_phase'], [/^waiting for \/battery$/, 'h_waiting_battery'],
  [/^([a-z_]+(?:, [a-z_]+)*): staff needed$/, 'h_office_alerts'],
  [/^battery low: charging before new escorts$/, 'h_battery_low'],
  [/^cannot go home: no navigate_to_pose server$/, 'h_no_nav_server'], [/^going home refused by the navigator$/, 'h_home_refused'],
  [/^going home failed: (.*)$/, 'h_home_failed'], [/^watching$/, 'h_watching'], [/^counting$/, 'h_counting'],
  [/^docked$/, 'h_docked'], [/^undocked$/, 'h_undocked'], [/^docking failed: (.*)$/, 'h_dock_failed'],
  [/^undocking failed: (.*)$/, 'h_undock_failed'], [/^dock at (\(.*?\)), staging at .*$/, 'h_dock_at'],
];

function healthText(message) {
  for (const [re, key] of HEALTH_PATTERNS) {
    const m = re.exec(message);
    if (!m || !L2B2.t(key)) continue;
    const parts = m.slice(1).map((p) => p || '');
    if (key === 'h_checkin_failed') {
      parts[0] = L2B2.t(`qr_${parts[0].replace(/ /g, '_')}`) || parts[0];
      parts[1] = parts[1] ? ` (${placeName(parts[1])})` : '';
    }
    if (key === 'h_goal') parts[0] = L2B2.t(`goal_${parts[0]}`) || parts[0];
    if (key === 'h_phase') parts[0] = L2B2.t(`op_${parts[0]}`) || parts[0];
    if (key === 'h_office_alerts') {
      parts[0] = parts[0].split(', ').map((k) => L2B2.t(`or_${k}`) || L2B2.t(`al_${k}`) || k).join(', ');
    }
    if (['h_escorting', 'h_going', 'h_arrived'].includes(key)) parts[0] = placeName(parts[0]);
    return L2B2.t(key, Object.fromEntries(parts.map((p, i) => [String(i + 1), p])));
  }
  return message;
}

// A waypoint's or target's name in the page's language: targets from the catalog, the rest (home,
// entrance...) from the texts.
function placeName(id) {
  const t = S.targets.find((q) => q.id === id);
  return t ? (t.name[L2B2.lang] || t.name.de) : (L2B2.t(`wp_${id}`) || id);
}

function fillTargets() {
  const sel = $('send-target');
  const opts = [[S.home || 'home', L2B2.t('home')], ...S.targets.map((t) => [t.id, placeName(t.id)])];
  sel.replaceChildren(...opts.map(([id, name]) => { const o = document.createElement('option'); o.value = id; o.textContent = name; return o; }));
}

// --- staff alerts -------------------------------------------------------------------------------
// /office/alerts through the staff snapshot: every alert not yet acknowledged or still active, newest
// first, and the last ones seen (history). While any is unacknowledged a beep pattern repeats (Web Audio,
// generated here: no audio file); acknowledged alerts still active stay listed, silently. Browsers allow
// sound only after a gesture on the page: the first click or key (the login) starts the AudioContext.
// window.l2b2.alertSound tells tests (and the curious) what the speaker does without listening to it.
const ALERT_BEEP_PERIOD_MS = 2500;
const LOCALES = {de: 'de-DE', tr: 'tr-TR', en: 'en-GB'};
const alertSound = {playing: false, beeps: 0, patterns: 0, unlocked: false, critical: false};
S.alertSound = alertSound;
let audio = null;
let beepTimer = null;
let alertsShown = '';  // what the alert list shows now: rebuilt (buttons and all) only when it changes

function unlockAudio() {
  if (alertSound.unlocked) return;
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return;
  try {
    if (!audio) audio = new Ctx();
    const started = () => { alertSound.unlocked = audio.state === 'running'; renderSoundHint(); };
    if (audio.state === 'running') started(); else audio.resume().then(started, () => {});
  } catch (e) { /* no audio output: the list still shows every alert */ }
}
['pointerdown', 'keydown'].forEach((e) => document.addEventListener(e, unlockAudio, true));

function beepPattern() {
  alertSound.patterns += 1;
  if (!audio || audio.state !== 'running') return;
  // Critical: three high beeps; warning: two lower ones. Short square tones cut through office noise.
  const [freq, count] = alertSound.critical ? [880, 3] : [660, 2];
  const t0 = audio.currentTime + 0.02;
  for (let i = 0; i < count; i++) {
    const t = t0 + i * 0.28;
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = 'square';
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.25, t + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.18);
    osc.connect(gain).connect(audio.destination);
    osc.start(t);
    osc.stop(t + 0.2);
    alertSound.beeps += 1;
  }
}

function setAlertSound(on, critical) {
  alertSound.critical = critical;
  if (on !== alertSound.playing) {
    alertSound.playing = on;
    clearInterval(beepTimer);
    beepTimer = null;
    if (on) { beepPattern(); beepTimer = setInterval(beepPattern, ALERT_BEEP_PERIOD_MS); }
  }
  renderSoundHint();
}

function renderSoundHint() {
  $('alert-sound-locked').hidden = !alertSound.playing || !!(audio && audio.state === 'running');
}

function alertText(a) { return L2B2.t(`al_${a.kind}`) || L2B2.t('al_unknown', {kind: a.kind}); }
function alertTime(t) { return t ? new Date(t * 1000).toLocaleTimeString(LOCALES[L2B2.lang] || 'de-DE') : '–'; }
function alertSource(a) { return L2B2.t(`hc_${a.source}`) || a.source; }
function alertSeverity(a) { return a.severity === 2 ? 'critical' : 'warning'; }

function alertStatus(a) {
  const parts = [];
  if (a.active && a.acknowledged) parts.push(L2B2.t('alert_still_active'));
  if (!a.active) parts.push(L2B2.t('alert_ended'));
  if (a.acknowledged) parts.push(L2B2.t('alert_acked_by', {user: a.acknowledged_by || '?'}));
  return parts.join(', ');
}

function textSpan(cls, text) {
  const el = document.createElement('span');
  el.className = cls;
  el.textContent = text;
  return el;
}

function alertItem(a) {
  const li = document.createElement('li');
  li.className = `alert ${alertSeverity(a)}${a.acknowledged ? ' acked' : ''}`;
  li.dataset.id = a.id;
  li.dataset.kind = a.kind;
  li.append(textSpan('sev', L2B2.t(`sev_${alertSeverity(a)}`)), textSpan('text', alertText(a)),
            textSpan('meta', `${alertSource(a)} · ${alertTime(a.raised)}`));
  const status = alertStatus(a);
  if (status) li.append(textSpan('status', status));
  if (!a.acknowledged) {
    const b = document.createElement('button');
    b.className = 'ack staffonly';
    b.textContent = L2B2.t('alert_ack');
    b.addEventListener('click', async () => {
      b.disabled = true;
      const r = await control('ack_alert', {id: a.id});
      if (!r.ok) b.disabled = false;
    });
    li.append(b);
  }
  return li;
}

function historyItem(a) {
  const li = document.createElement('li');
  li.className = alertSeverity(a);
  li.dataset.id = a.id;
  li.title = a.raised ? new Date(a.raised * 1000).toLocaleString(LOCALES[L2B2.lang] || 'de-DE') : '';
  const status = alertStatus(a);
  li.textContent = `${alertTime(a.raised)} ${alertText(a)} (${alertSource(a)})${status ? ` – ${status}` : ''}`;
  return li;
}

function renderAlerts(m) {
  const alerts = m.alerts || [];
  const history = m.alert_history || [];
  const open = alerts.filter((a) => !a.acknowledged);
  setAlertSound(open.length > 0, open.some((a) => a.severity === 2));
  const shown = JSON.stringify([alerts, history, L2B2.lang]);
  if (shown === alertsShown) return;
  alertsShown = shown;
  $('alerts').hidden = alerts.length === 0;
  // The ones to acknowledge first, then those acknowledged but still there (each newest first).
  $('alert-list').replaceChildren(...open.concat(alerts.filter((a) => a.acknowledged)).map(alertItem));
  $('alert-history-count').textContent = String(history.length);
  $('alert-history-list').replaceChildren(...history.map(historyItem));
}

// --- map ----------------------------------------------------------------------------------------
async function loadMap(version) {
  S.mapVersion = version;
  const r = await fetch('/api/map', {credentials: 'same-origin'});
  if (r.status !== 200) return;
  const data = await r.json();
  S.waypoints = data.waypoints || S.waypoints;
  if (!data.map) { S.floor = null; drawMap(); return; }
  const g = data.map;
  const bytes = Uint8Array.from(atob(g.cells), (c) => c.charCodeAt(0));
  const img = new ImageData(g.width, g.height);
  for (let row = 0; row < g.height; row++) {
    const src = (g.height - 1 - row) * g.width;  // grid row 0 is at the bottom
    for (let col = 0; col < g.width; col++) {
      const v = bytes[src + col];
      const c = v === 255 ? 90 : v >= 50 ? 20 : 235;
      const i = (row * g.width + col) * 4;
      img.data[i] = img.data[i + 1] = img.data[i + 2] = c; img.data[i + 3] = 255;
    }
  }
  const off = document.createElement('canvas');
  off.width = g.width; off.height = g.height;
  off.getContext('2d').putImageData(img, 0, 0);
  S.floor = {meta: g, canvas: off};
  drawMap();
}

function view() {
  const c = $('map');
  if (S.floor) {
    const g = S.floor.meta;
    const w = g.width * g.resolution, h = g.height * g.resolution;
    return {x0: g.origin[0], y0: g.origin[1], w, h, scale: Math.min(c.width / w, c.height / h)};
  }
  const pts = Object.values(S.waypoints);
  const p = S.state && S.state.robot.pose;
  if (p) pts.push(p);
  const xs = pts.map((q) => q.x).concat([0]), ys = pts.map((q) => q.y).concat([0]);
  const x0 = Math.min(...xs) - 2, y0 = Math.min(...ys) - 2;
  const w = Math.max(...xs) + 2 - x0, h = Math.max(...ys) + 2 - y0;
  return {x0, y0, w, h, scale: Math.min(c.width / w, c.height / h)};
}

// Waypoint labels without overlap: each label takes the first free place of eight around its point
// (right, left, above, below, the corners); a label with no free place is left out rather than drawn
// over another (its point stays, and the send-to list names every target). S.labels keeps the
// boxes drawn (tests measure them).
const LABEL_FONT_PX = 13;
function drawLabels(ctx, px, py) {
  ctx.font = `bold ${LABEL_FONT_PX}px sans-serif`;
  ctx.textBaseline = 'middle';
  const boxes = [];
  const points = Object.entries(S.waypoints).map(([id, wp]) => ({id, x: px(wp.x), y: py(wp.y)}));
  for (const p of points) { ctx.fillStyle = '#1565c0'; ctx.beginPath(); ctx.arc(p.x, p.y, 5, 0, 2 * Math.PI); ctx.fill(); }
  const dots = points.map((p) => ({x: p.x - 5, y: p.y - 5, w: 10, h: 10}));
  const hit = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  const c = ctx.canvas;
  for (const p of points) {
    const text = placeName(p.id);
    const w = ctx.measureText(text).width + 6, h = LABEL_FONT_PX + 4;
    const near = [[8, -h / 2], [-8 - w, -h / 2], [-w / 2, -8 - h], [-w / 2, 8], [8, -8 - h], [-8 - w, -8 - h], [8, 8], [-8 - w, 8]];
    // Further out (with a line to the point) when everything near is taken.
    const far = [1, 2, 3].flatMap((k) => [[-w / 2, -8 - h - k * (h + 2)], [-w / 2, 8 + k * (h + 2)],
      [8, -h / 2 - k * (h + 2)], [8, -h / 2 + k * (h + 2)], [-8 - w, -h / 2 - k * (h + 2)], [-8 - w, -h / 2 + k * (h + 2)]]);
    const box = near.concat(far).map(([dx, dy]) => ({x: p.x + dx, y: p.y + dy, w, h})).find((b) =>
      b.x >= 0 && b.y >= 0 && b.x + b.w <= c.width && b.y + b.h <= c.height &&
      !boxes.some((o) => hit(o, b)) && !dots.some((d) => hit(d, b)));
    if (!box) continue;
    const cx = Math.max(box.x, Math.min(p.x, box.x + box.w)), cy = Math.max(box.y, Math.min(p.y, box.y + box.h));
    if (Math.hypot(cx - p.x, cy - p.y) > 12) {
      ctx.strokeStyle = '#0d47a1'; ctx.lineWidth = 1; ctx.beginPath(); ctx.moveTo(p.x, p.y); ctx.lineTo(cx, cy); ctx.stroke();
    }
    ctx.fillStyle = 'rgba(255, 255, 255, 0.85)'; ctx.fillRect(box.x, box.y, box.w, box.h);
    ctx.fillStyle = '#0d47a1'; ctx.fillText(text, box.x + 3, box.y + h / 2 + 1);
    boxes.push({...box, id: p.id, text});
  }
  S.labels = boxes;
}

// The canvas draws at its shown size (labels stay readable and do not grow into each other when the
// page is narrow or wide); the floor plan keeps its aspect ratio.
function fitCanvas() {
  const c = $('map');
  const width = Math.max(200, Math.round(c.getBoundingClientRect().width));
  const g = S.floor && S.floor.meta;
  const height = Math.round(width * (g ? Math.min(1.2, g.height / g.width) : 0.7));
  if (c.width !== width || c.height !== height) { c.width = width; c.height = height; }
}
window.addEventListener('resize', () => { fitCanvas(); drawMap(); });

function drawMap() {
  fitCanvas();
  const c = $('map');
  const ctx = c.getContext('2d');
  ctx.fillStyle = '#333'; ctx.fillRect(0, 0, c.width, c.height);
  const v = view();
  const px = (x) => (x - v.x0) * v.scale, py = (y) => (v.h - (y - v.y0)) * v.scale;
  if (S.floor) {
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(S.floor.canvas, 0, 0, v.w * v.scale, v.h * v.scale);
  } else {
    ctx.fillStyle = '#bbb'; ctx.font = '16px sans-serif'; ctx.fillText(L2B2.t('no_map'), 10, 24);
  }
  drawLabels(ctx, px, py);
  const m = S.state;
  if (!m) return;
  if (m.plan.length > 1) {
    ctx.strokeStyle = '#2e7d32'; ctx.lineWidth = 3; ctx.beginPath();
    m.plan.forEach(([x, y], i) => (i ? ctx.lineTo(px(x), py(y)) : ctx.moveTo(px(x), py(y))));
    ctx.stroke();
  }
  for (const person of m.people) {
    ctx.fillStyle = person.escorted ? '#ff9800' : '#8e24aa';
    ctx.beginPath(); ctx.arc(px(person.x), py(person.y), person.escorted ? 8 : 6, 0, 2 * Math.PI); ctx.fill();
  }
  const p = m.robot.pose;
  if (p) {
    const r = Math.max(6, 0.3 * v.scale);
    ctx.fillStyle = m.safety.estop_active ? '#d50000' : '#00c853';
    ctx.beginPath(); ctx.arc(px(p.x), py(p.y), r, 0, 2 * Math.PI); ctx.fill();
    ctx.strokeStyle = '#000'; ctx.lineWidth = 3; ctx.beginPath(); ctx.moveTo(px(p.x), py(p.y));
    ctx.lineTo(px(p.x) + 1.6 * r * Math.cos(p.yaw), py(p.y) - 1.6 * r * Math.sin(p.yaw)); ctx.stroke();
  }
}

// --- controls -----------------------------------------------------------------------------------
// The stop acts on press (not release) so nothing is lost to a slow finger.
$('estop').addEventListener('pointerdown', (ev) => { ev.preventDefault(); joyRelease(); control('estop'); });
$('estop').addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') control('estop'); });
// Resume: "Resume…" opens the question; "Really resume" sits elsewhere and is armed only after
// RESUME_ARM_MS, so the second tap of a double tap (or a bounce) cannot resume; unanswered, it closes.
const RESUME_ARM_MS = 1000;
const RESUME_OPEN_MS = 10000;
let resumeTimers = [];
function closeResume() {
  resumeTimers.forEach(clearTimeout);
  resumeTimers = [];
  $('resume-ask').hidden = true;
  $('resume-confirm').disabled = true;
  if (S.state && S.state.safety.estop_active) $('resume').hidden = false;
}
$('resume').addEventListener('click', () => {
  $('resume').hidden = true;
  $('resume-confirm').disabled = true;
  $('resume-ask').hidden = false;
  resumeTimers = [setTimeout(() => { $('resume-confirm').disabled = false; }, RESUME_ARM_MS),
                  setTimeout(closeResume, RESUME_OPEN_MS)];
});
$('resume-keep').addEventListener('click', closeResume);
$('resume-confirm').addEventListener('click', async () => {
  if ($('resume-confirm').disabled) return;
  closeResume();
  $('resume').hidden = true;
  await control('resume', {confirm: true});
});
// Dock now: the same deliberate second step as resume (armed after RESUME_ARM_MS, closes unanswered).
let dockTimers = [];
function closeDockAsk() {
  dockTimers.forEach(clearTimeout);
  dockTimers = [];
  $('office-dock-ask').hidden = true;
  $('office-dock-confirm').disabled = true;
  $('office-buttons').hidden = false;
}
$('office-dock').addEventListener('click', () => {
  $('office-buttons').hidden = true;
  $('office-dock-confirm').disabled = true;
  $('office-dock-ask').hidden = false;
  dockTimers = [setTimeout(() => { $('office-dock-confirm').disabled = false; }, RESUME_ARM_MS),
                setTimeout(closeDockAsk, RESUME_OPEN_MS)];
});
$('office-dock-keep').addEventListener('click', closeDockAsk);
$('office-dock-confirm').addEventListener('click', async () => {
  if ($('office-dock-confirm').disabled) return;
  closeDockAsk();
  await control('dock_now');
});
$('office-stay-out').addEventListener('click', () => control('stay_out', {enable: $('office-stay-out').dataset.enable === '1'}));
$('office-retry').addEventListener('click', async () => {
  $('office-retry').disabled = true;
  await control('clear_fault');
  $('office-retry').disabled = false;
});
$('send-go').addEventListener('click', () => control('send', {target_id: $('send-target').value, language: $('say-lang').value}));
$('cancel-goal').addEventListener('click', () => control('cancel'));
$('pause').addEventListener('click', async () => {
  const pause = $('pause').dataset.paused !== '1';
  const r = await control('pause', {pause});
  if (r.ok) { $('pause').dataset.paused = pause ? '1' : '0'; $('pause').textContent = L2B2.t(pause ? 'unpause' : 'pause'); }
  if (r.data.message) feedback(`${L2B2.t(r.ok ? 'done' : 'failed')}: ${r.data.message}`, !r.ok);
});
$('say-go').addEventListener('click', async () => {
  const text = $('say-text').value.trim();
  if (!text) return;
  const r = await control('say', {text, language: $('say-lang').value});
  if (r.ok) $('say-text').value = '';
});
document.querySelectorAll('button.lang').forEach((b) => b.addEventListener('click', () => control('language', {language: b.dataset.lang})));
$('takeover').addEventListener('click', () => control('takeover', {enable: $('takeover').dataset.enabled !== '1'}));
$('reset').addEventListener('click', () => control('reset'));
$('ui-lang').addEventListener('change', async () => {
  await L2B2.loadTexts($('ui-lang').value); fillTargets(); if (S.state) render(S.state); relabelFigures();
});

// Joystick: while held, send the deflection at 20 Hz; the node stops the robot if sends stop for 300 ms.
const joy = {active: false, x: 0, y: 0, timer: null, pointer: null};
function joySend() { S.conn && S.conn.send({type: 'joy', linear: joy.y, angular: -joy.x}); }
function joyMove(ev) {
  const box = $('joystick').getBoundingClientRect();
  const r = box.width / 2;
  let x = (ev.clientX - box.left - r) / r, y = -(ev.clientY - box.top - r) / r;
  const n = Math.hypot(x, y);
  if (n > 1) { x /= n; y /= n; }
  joy.x = x; joy.y = y;
  $('knob').style.transform = `translate(${x * r * 0.7}px, ${-y * r * 0.7}px)`;
}
function joyRelease() {
  if (!joy.active) return;
  joy.active = false; joy.x = joy.y = 0;
  clearInterval(joy.timer);
  $('knob').style.transform = '';
  S.conn && S.conn.send({type: 'joy', release: true});
}
$('joystick').addEventListener('pointerdown', (ev) => {
  ev.preventDefault();
  $('joystick').setPointerCapture(ev.pointerId);
  joy.active = true; joyMove(ev); joySend();
  clearInterval(joy.timer);
  joy.timer = setInterval(joySend, 50);
});
$('joystick').addEventListener('pointermove', (ev) => { if (joy.active) joyMove(ev); });
['pointerup', 'pointercancel', 'lostpointercapture'].forEach((e) => $('joystick').addEventListener(e, joyRelease));
window.addEventListener('blur', joyRelease);
document.addEventListener('visibilitychange', () => { if (document.hidden) joyRelease(); });

(async () => {
  const lang = (navigator.language || 'de').slice(0, 2);
  $('ui-lang').value = ['de', 'tr', 'en'].includes(lang) ? lang : 'de';
  await L2B2.loadTexts('de');
  await L2B2.loadTexts($('ui-lang').value);
  await checkSession();
})();
