// Staff panel: the office's figures (issue 16) from /api/figures*, drawn with the vendored Chart.js.
// Counts only: the figures hold no visitor data. Loaded when the section is opened, a month chosen,
// or "refresh" pressed; nothing is polled. window.l2b2.figures tells tests what is shown.
'use strict';
const FIG = {load: 0, loaded: 0, month: '', day: '', summary: null, days: [], hours: [], available: null,
             error: '', charts: {}};
S.figures = FIG;
const FIG_INTENTS = ['escort', 'appointment_checkin', 'ticket', 'opening_hours', 'greeting', 'goodbye', 'affirm',
                     'deny', 'language_switch', 'staff_help', 'smalltalk', 'out_of_scope'];
const FIG_ESCORTS = ['succeeded', 'visitor_lost', 'failed', 'canceled', 'refused'];
const FIG_MONTHS_BACK = 36;

const pad2 = (n) => String(n).padStart(2, '0');
const figLocale = () => LOCALES[L2B2.lang] || 'de-DE';
function monthKey(d) { return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}`; }
function dayKey(d) { return `${monthKey(d)}-${pad2(d.getDate())}`; }
function monthDate(key) { const [y, m] = key.split('-').map(Number); return new Date(y, m - 1, 1); }
function daysIn(key) { const d = monthDate(key); return new Date(d.getFullYear(), d.getMonth() + 1, 0).getDate(); }
function monthName(key) { return monthDate(key).toLocaleDateString(figLocale(), {month: 'long', year: 'numeric'}); }
function dayName(key) {
  const [y, m, d] = key.split('-').map(Number);
  return new Date(y, m - 1, d).toLocaleDateString(figLocale(), {weekday: 'short', day: '2-digit', month: '2-digit'});
}

async function figGet(path) {
  const r = await fetch(path, {credentials: 'same-origin'});
  let data = {};
  try { data = await r.json(); } catch (e) { /* empty */ }
  if (r.status === 401) showLogin();
  if (!r.ok) throw new Error(data.error || String(r.status));
  return data;
}

function fillSelect(sel, options, value) {
  sel.replaceChildren(...options.map(([v, text]) => {
    const o = document.createElement('option'); o.value = v; o.textContent = text; return o;
  }));
  if (value) sel.value = value;
}

function fillMonths() {
  const now = new Date();
  const months = [];
  for (let i = 0; i < FIG_MONTHS_BACK; i++) months.push(monthKey(new Date(now.getFullYear(), now.getMonth() - i, 1)));
  if (FIG.month && !months.includes(FIG.month)) months.push(FIG.month);
  fillSelect($('fig-month'), months.map((k) => [k, monthName(k)]), FIG.month || months[0]);
  FIG.month = $('fig-month').value;
}

function fillDays() {
  const n = daysIn(FIG.month);
  const days = Array.from({length: n}, (_, i) => `${FIG.month}-${pad2(i + 1)}`);
  fillSelect($('fig-day'), days.map((k) => [k, dayName(k)]), FIG.day);
}

// The day the hour chart shows: the one chosen in this month, else today, else the last with visitors.
function defaultDay() {
  if (FIG.day.startsWith(`${FIG.month}-`)) return FIG.day;
  const today = dayKey(new Date());
  if (today.startsWith(`${FIG.month}-`)) return today;
  const busy = FIG.days.filter((r) => r.counts.greeted > 0).map((r) => r.period);
  return busy.length ? busy[busy.length - 1] : `${FIG.month}-01`;
}

function csvLinks() {
  const first = `${FIG.month}-01`, last = `${FIG.month}-${pad2(daysIn(FIG.month))}`;
  $('fig-csv-day').href = `/api/figures.csv?period=day&start=${first}&end=${last}`;
  $('fig-csv-hour').href = `/api/figures.csv?period=hour&start=${first}&end=${last}`;
}

async function loadFigures() {
  const load = ++FIG.load;
  FIG.month = $('fig-month').value || FIG.month;
  csvLinks();
  const [y, m] = FIG.month.split('-');
  try {
    const [month, days] = await Promise.all([
      figGet(`/api/figures/month?year=${y}&month=${Number(m)}`),
      figGet(`/api/figures?period=day&start=${FIG.month}-01&end=${FIG.month}-${pad2(daysIn(FIG.month))}`)]);
    if (load !== FIG.load) return;
    FIG.summary = month.summary; FIG.available = month.available; FIG.days = days.rows; FIG.error = '';
    FIG.day = defaultDay();
    fillDays();
    await loadHours(load);
  } catch (e) {
    if (load !== FIG.load) return;
    FIG.error = e.message;
    FIG.summary = null; FIG.days = []; FIG.hours = [];
  }
  if (load !== FIG.load) return;
  FIG.loaded += 1;
  renderFigures();
}

async function loadHours(load) {
  const hours = await figGet(`/api/figures?period=hour&start=${FIG.day}&end=${FIG.day}`);
  if (load === FIG.load) FIG.hours = hours.rows;
}

function barChart(canvas, onPick) {
  return new Chart(canvas, {
    type: 'bar',
    data: {labels: [], datasets: [{label: '', data: [], backgroundColor: '#ffd600', hoverBackgroundColor: '#fff176'}]},
    options: {
      animation: false, responsive: true, maintainAspectRatio: false,
      plugins: {legend: {display: false}},
      scales: {x: {grid: {display: false}, ticks: {maxRotation: 0, autoSkipPadding: 6}},
               y: {beginAtZero: true, ticks: {precision: 0}}},
      onClick: onPick ? (ev, elements) => { if (elements.length) onPick(elements[0].index); } : undefined,
    },
  });
}

function drawChart(name, canvasId, labels, values, onPick) {
  if (typeof Chart === 'undefined') return;  // the library did not load: the numbers still show
  if (!FIG.charts[name]) {
    Chart.defaults.color = '#fff';
    Chart.defaults.borderColor = '#555';
    Chart.defaults.font.family = '"DejaVu Sans", Arial, sans-serif';
    Chart.defaults.font.size = 14;
    FIG.charts[name] = barChart($(canvasId), onPick);
  }
  const chart = FIG.charts[name];
  chart.data.labels = labels;
  chart.data.datasets[0].data = values;
  chart.data.datasets[0].label = L2B2.t('fig_visitors');
  chart.update();
}

function countRows(tbody, counts, label) {
  const entries = Object.entries(counts || {}).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const rows = entries.length ? entries.map(([k, n]) => [label(k), n]) : [[L2B2.t('fig_none'), '']];
  tbody.replaceChildren(...rows.map(([text, n]) => {
    const tr = document.createElement('tr');
    const a = document.createElement('td'); a.textContent = text;
    const b = document.createElement('td'); b.className = 'n'; b.textContent = String(n);
    tr.append(a, b);
    return tr;
  }));
}

function renderFigures() {
  const s = FIG.summary;
  $('fig-status').textContent = FIG.error ? L2B2.t('fig_error', {error: FIG.error})
    : FIG.available === false ? L2B2.t('fig_no_database') : '';
  $('fig-status').className = FIG.error ? 'error' : '';
  $('fig-total').textContent = s ? String(s.visitors_greeted) : '–';
  $('fig-total-label').textContent = L2B2.t('fig_greeted_in', {month: monthName(FIG.month)});
  $('fig-days-title').textContent = L2B2.t('fig_per_day');
  $('fig-hours-title').textContent = FIG.day ? L2B2.t('fig_per_hour', {day: dayName(FIG.day)}) : '';
  $('fig-days-chart').setAttribute('aria-label', $('fig-days-title').textContent);
  $('fig-hours-chart').setAttribute('aria-label', $('fig-hours-title').textContent);
  drawChart('days', 'fig-days-chart', FIG.days.map((r) => String(Number(r.period.slice(8)))),
            FIG.days.map((r) => r.counts.greeted), (i) => pickDay(FIG.days[i].period));
  drawChart('hours', 'fig-hours-chart', FIG.hours.map((r) => r.period.slice(11)), FIG.hours.map((r) => r.counts.greeted));
  const key = s ? [['fig_conversations', s.conversations], ['fig_checkins', s.checkins], ['fig_tickets', s.tickets],
    ['fig_not_understood', s.not_understood], ['fig_days_with_visitors', s.days_with_visitors],
    ['fig_median_answer', s.median_answer_ms === null ? '–' : `${s.median_answer_ms} ms`]] : [];
  $('fig-key').replaceChildren(...key.flatMap(([k, v]) => {
    const dt = document.createElement('dt'); dt.textContent = L2B2.t(k);
    const dd = document.createElement('dd'); dd.textContent = String(v);
    return [dt, dd];
  }));
  countRows($('fig-languages'), s && s.languages, (k) => L2B2.t(`lang_${k}`) || k);
  countRows($('fig-intents'), s && s.intents, (k) => (FIG_INTENTS.includes(k) && L2B2.t(`fi_${k}`)) || k);
  countRows($('fig-departments'), s && s.departments, placeName);
  countRows($('fig-escorts'), s && s.escorts, (k) => (FIG_ESCORTS.includes(k) && L2B2.t(`eo_${k}`)) || k);
}

async function pickDay(day) {
  FIG.day = day;
  $('fig-day').value = day;
  const load = ++FIG.load;
  try { await loadHours(load); FIG.error = ''; } catch (e) { FIG.error = e.message; }
  if (load !== FIG.load) return;
  FIG.loaded += 1;
  renderFigures();
}

// The staff page's words changed language: month and day names, labels, the charts' legend.
function relabelFigures() {
  if (!FIG.month) return;
  fillMonths();
  fillDays();
  renderFigures();
}

$('figures').addEventListener('toggle', () => {
  if (!$('figures').open) return;
  if (!FIG.month) fillMonths();
  loadFigures();
});
$('fig-month').addEventListener('change', () => { FIG.month = $('fig-month').value; loadFigures(); });
$('fig-day').addEventListener('change', () => pickDay($('fig-day').value));
$('fig-refresh').addEventListener('click', loadFigures);
