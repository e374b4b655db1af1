// The HTML report of a rehearsal (`rehearse --report FILE`): one self-contained page, with no script, no stylesheet,
// font or image from anywhere else and no URL at all. Per alias and scenario: an inline SVG chart of the weight over
// simulated time with each decision as a marker and the rollback moment as a vertical line, each gate's measured
// value against its threshold at each check, the decisions, and the outcome against the expected one; then the summary
// table, what the model covers and does not, and the assumed figures, each marked as an assumption. The page is also
// well-formed XML (every element closed, only the XML escapes), so that a strict parser can check it.
import * as fs from 'fs';
import * as path from 'path';
import type { Check } from '../../packages/runtime/src/contract/check';
import { CliInputError } from './errors';
import { clock, describeAlias, honestyNotes, summaryRows } from './render';
import type { ScenarioResult, TimelineEntry } from './result';

/** Escapes text for HTML content and attribute values (double- or single-quoted). */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
const e = escapeHtml;
const num = (n: number) => String(Number(n.toFixed(1)));
const value = (v: Check['measured']) => (v === null ? '-' : typeof v === 'number' ? String(Number(v.toFixed(4))) : v);
const at = (s: number) => `t+${clock(s)}`;
/** `*` in the summary (a figure resting on an assumed one), shown as an assumption. */
const starred = (text: string) => e(text).replace(/\*$/, '<span class="assumed-tag" title="rests on an assumed figure">*assumed</span>');

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2430;margin:0 auto;max-width:1000px;padding:16px 24px}
h1{font-size:22px}h2{font-size:18px;border-bottom:2px solid #d0d6e0;padding-bottom:4px;margin-top:36px}h3{font-size:16px}
pre.config{background:#f4f6f9;padding:8px;overflow-x:auto;font-size:12px}
section.scenario{border:1px solid #d0d6e0;border-radius:6px;padding:4px 16px 12px;margin:16px 0}
table{border-collapse:collapse;font-size:12px;margin:8px 0}th,td{border:1px solid #d0d6e0;padding:2px 6px;text-align:left;vertical-align:top}
th{background:#eef1f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.fail td{background:#fde3e1}tr.fail td.result{color:#b3261e;font-weight:bold}tr.pass td.result{color:#1e7a34}tr.not-judged td{color:#6b7280}
tbody.check{border-top:2px solid #9aa4b2}
.outcome.as-expected strong.verdict{color:#1e7a34}.outcome.not-as-expected strong.verdict{color:#b3261e}
tr.not-as-expected td{background:#fde3e1}
.assumed-tag{display:inline-block;background:#fff4ce;border:1px solid #c9a400;color:#6b5500;border-radius:3px;font-size:11px;padding:0 4px;margin-right:4px}
ol.decisions{font-size:12px;padding-left:22px}ol.decisions .time{font-family:ui-monospace,monospace;color:#4b5563}
svg.weight-chart{display:block;max-width:100%;height:auto;background:#fbfcfd;border:1px solid #e3e7ed}
svg .grid{stroke:#e3e7ed}svg .axis{stroke:#6b7280}svg text{font-size:11px;fill:#4b5563}
svg .weight-line{fill:none;stroke:#2563eb;stroke-width:2}
svg .decision-marker{stroke:#fff;stroke-width:1}svg .decision-marker.pass{fill:#1e7a34}svg .decision-marker.fail{fill:#b3261e}
svg .decision-marker.not-judged{fill:#9aa4b2}svg .decision-marker.event{fill:#2563eb}
svg .rollback-marker{stroke:#b3261e;stroke-width:2}svg text.rollback-label{fill:#b3261e;font-weight:bold}
svg .breach-marker{stroke:#c97a00;stroke-width:1.5;stroke-dasharray:4 3}svg text.breach-label{fill:#c97a00}
.legend span{margin-right:14px;font-size:12px}
`;

const W = 760;
const H = 230;
const M = { left: 46, right: 18, top: 22, bottom: 32 };

/** Tick spacing in seconds: the smallest of a few round figures that gives at most eight ticks. */
function tickStep(end: number): number {
  return [30, 60, 120, 300, 600, 900, 1800, 3600, 7200].find((s) => end / s <= 8) ?? Math.ceil(end / 8 / 3600) * 3600;
}

/** The state of one timeline entry's check: a gate failed, every gate passed (or was not judged), none judged, or no check. */
function entryState(entry: TimelineEntry): 'fail' | 'pass' | 'not-judged' | 'event' {
  if (!entry.gates || entry.gates.length === 0) return 'event';
  if (entry.gates.some((g) => g.passed === false)) return 'fail';
  return entry.gates.some((g) => g.passed === true) ? 'pass' : 'not-judged';
}

/** The rollback moment: when the rollback was decided (or, failing that, when traffic was off, or the last entry). */
function rollbackAt(r: ScenarioResult): number | undefined {
  if (r.outcome !== 'rollback') return undefined;
  return r.detectedAt ?? r.trafficOffAt ?? r.timeline[r.timeline.length - 1]?.at ?? 0;
}

/** The weight (%) over simulated time as a step chart, each timeline entry a marker, the breach and rollback as lines. */
export function weightChart(r: ScenarioResult): string {
  const rollback = rollbackAt(r);
  const last = Math.max(60, ...r.timeline.map((t) => t.at), r.trafficOffAt ?? 0, r.detectedAt ?? 0);
  const end = last * 1.04;
  const x = (s: number) => M.left + (s / end) * (W - M.left - M.right);
  // A square-root scale, so that the first steps (1 %, 5 %) stand off the floor.
  const y = (w: number) => M.top + (1 - Math.sqrt(Math.max(0, w) / 100)) * (H - M.top - M.bottom);
  const points: string[] = [`${num(x(0))},${num(y(0))}`];
  let weight = 0;
  for (const entry of r.timeline) {
    points.push(`${num(x(entry.at))},${num(y(weight))}`, `${num(x(entry.at))},${num(y(entry.weight))}`);
    weight = entry.weight;
  }
  points.push(`${num(x(end))},${num(y(weight))}`);
  const step = tickStep(end);
  const xTicks = Array.from({ length: Math.floor(end / step) + 1 }, (_, i) => i * step);
  const label = (s: number, cls: string, text: string, row: number) => {
    const anchor = x(s) > W - 200 ? 'end' : 'start';
    return `<text class="${cls}" x="${num(x(s) + (anchor === 'end' ? -4 : 4))}" y="${M.top + 12 + row * 14}" text-anchor="${anchor}">${e(text)}</text>`;
  };
  const vertical = (s: number, cls: string) => `<line class="${cls}" x1="${num(x(s))}" y1="${M.top - 8}" x2="${num(x(s))}" y2="${H - M.bottom}" data-at="${s}"/>`;
  const trafficOff = r.trafficOffAt === undefined ? '' : `; traffic off ${at(r.trafficOffAt)}${r.trafficOffAssumed ? ' (assumed shift)' : ''}`;
  return [
    `<svg class="weight-chart" data-alias="${e(r.alias.path)}" data-scenario="${e(r.scenario.name)}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">`,
    `<title>Weight on the new version over simulated time: ${e(r.scenario.name)} on ${e(r.alias.path)}</title>`,
    `<text x="${M.left}" y="12">% of user traffic on the new version (square-root scale)</text>`,
    ...[0, 1, 5, 10, 25, 50, 100].map((w) => `<line class="grid" x1="${M.left}" y1="${num(y(w))}" x2="${W - M.right}" y2="${num(y(w))}"/><text x="${M.left - 6}" y="${num(y(w) + 4)}" text-anchor="end">${w} %</text>`),
    ...xTicks.map((s) => `<line class="axis" x1="${num(x(s))}" y1="${H - M.bottom}" x2="${num(x(s))}" y2="${H - M.bottom + 4}"/><text x="${num(x(s))}" y="${H - M.bottom + 16}" text-anchor="middle">${clock(s)}</text>`),
    `<line class="axis" x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}"/>`,
    `<text x="${W - M.right}" y="${H - 4}" text-anchor="end">simulated time since the BeforeAllowTraffic hook started (mm:ss)</text>`,
    ...(r.breachAt === undefined ? [] : [vertical(r.breachAt, 'breach-marker'), label(r.breachAt, 'breach-label', `breach ${at(r.breachAt)}`, 1)]),
    `<polyline class="weight-line" points="${points.join(' ')}"/>`,
    ...(rollback === undefined ? [] : [vertical(rollback, 'rollback-marker'), label(rollback, 'rollback-label', `rollback ${at(rollback)}${trafficOff}`, 0)]),
    ...r.timeline.map((entry) => `<circle class="decision-marker ${entryState(entry)}" cx="${num(x(entry.at))}" cy="${num(y(entry.weight))}" r="${entry.gates ? 5 : 3.5}" data-at="${entry.at}">`
      + `<title>${e(`${at(entry.at)} · ${entry.weight} % · ${entry.text}`)}</title></circle>`),
    '</svg>',
  ].join('\n');
}

/** Each gate's measured value against its threshold at each judged check; failing rows marked `fail`. */
export function gatesTable(r: ScenarioResult): string {
  const checks = r.timeline.filter((entry) => entry.gates && entry.gates.length > 0);
  if (checks.length === 0) return '<p class="no-gates">No gate was judged in this scenario.</p>';
  const row = (entry: TimelineEntry, gate: Check, i: number) => {
    const state = gate.passed === null ? 'not-judged' : gate.passed ? 'pass' : 'fail';
    const assumed = entry.assumed?.includes(gate.name);
    const note = assumed ? '<span class="assumed-tag">assumed</span>this alarm is not modelled: its state is assumed'
      : gate.passed === false || gate.passed === null ? e(gate.reason) : gate.name.startsWith('alarm') ? 'evaluated from the simulated traffic' : '';
    const first = i === 0 ? `<td rowspan="${entry.gates!.length}" class="time">${at(entry.at)}</td><td rowspan="${entry.gates!.length}" class="num">${entry.weight} %</td>` : '';
    return `<tr class="gate ${state}${assumed ? ' assumed' : ''}" data-gate="${e(gate.name)}">${first}<td class="name">${e(gate.name)}</td><td class="num measured">${e(value(gate.measured))}</td>`
      + `<td class="num threshold">${e(value(gate.threshold))}</td><td class="result">${state === 'pass' ? '✓ passed' : state === 'fail' ? '✗ failed' : '· not judged'}</td><td class="note">${note}</td></tr>`;
  };
  return [
    `<table class="gates" data-alias="${e(r.alias.path)}" data-scenario="${e(r.scenario.name)}">`,
    '<thead><tr><th>time</th><th>weight</th><th>gate</th><th>measured</th><th>threshold</th><th>result</th><th>note</th></tr></thead>',
    ...checks.map((entry) => `<tbody class="check" data-at="${entry.at}">\n${entry.gates!.map((g, i) => row(entry, g, i)).join('\n')}\n</tbody>`),
    '</table>',
  ].join('\n');
}

function scenarioSection(r: ScenarioResult, id: string): string {
  const asExpected = r.outcome === r.expected;
  const figure = (from?: number, to?: number, assumed?: boolean) => (from === undefined || to === undefined ? '-' : `${Math.max(0, Math.round(to - from))} s${assumed ? '*' : ''}`);
  return [
    `<section class="scenario" id="${id}" data-alias="${e(r.alias.path)}" data-scenario="${e(r.scenario.name)}" data-outcome="${r.outcome}" data-expected="${r.expected}">`,
    `<h3>${e(r.scenario.name)}</h3>`,
    `<p class="description">${e(r.scenario.description)}</p>`,
    `<p class="outcome ${asExpected ? 'as-expected' : 'not-as-expected'}">Outcome: <strong>${e(r.ending)}</strong> (${r.outcome}); expected: ${r.expected}; <strong class="verdict">${asExpected ? 'as expected' : 'NOT AS EXPECTED'}</strong>.`
      + ` Time to detect: ${figure(r.breachAt, r.detectedAt)}; time to traffic off: ${r.maxWeight === 0 && r.outcome === 'rollback' ? 'never on' : starred(figure(r.breachAt, r.trafficOffAt, r.trafficOffAssumed))}.</p>`,
    '<p class="legend"><span>● green: every gate passed</span><span>● red: a gate failed</span><span>● grey: not judged</span><span>● blue: an event</span><span>dashed: the breach begins</span><span>red line: the rollback</span></p>',
    weightChart(r),
    '<h4>Gates at each check</h4>',
    gatesTable(r),
    '<h4>Decisions</h4>',
    `<ol class="decisions">\n${r.timeline.map((entry) => `<li class="${entryState(entry)}" data-at="${entry.at}"><span class="time">${at(entry.at)}</span> <span class="weight">${entry.weight} %</span> ${e(entry.text)}</li>`).join('\n')}\n</ol>`,
    '<h4>Notifications</h4>',
    r.notifications.length === 0 ? '<p class="notifications">none</p>' : `<ol class="notifications">\n${r.notifications.map((n) => `<li>${e(n)}</li>`).join('\n')}\n</ol>`,
    '</section>',
  ].join('\n');
}

/** The summary table, as the terminal's, each scenario linking to its section. */
function summarySection(results: readonly ScenarioResult[], ids: readonly string[]): string {
  const [header, ...rows] = summaryRows(results);
  return [
    '<section class="summary"><h2>Summary</h2>',
    '<table class="summary">',
    `<thead><tr>${header.map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead>`,
    '<tbody>',
    ...rows.map((row, i) => `<tr class="${results[i].outcome === results[i].expected ? 'as-expected' : 'not-as-expected'}" data-alias="${e(results[i].alias.path)}" data-scenario="${e(results[i].scenario.name)}">`
      + row.map((cell, c) => `<td>${c === 1 ? `<a href="#${ids[i]}">${e(cell)}</a>` : starred(cell)}</td>`).join('') + '</tr>'),
    '</tbody></table>',
    '<p><span class="assumed-tag">*assumed</span>rests on an assumed figure (below).</p>',
    '</section>',
  ].join('\n');
}

/** What the model covers and does not, and the assumed figures: the terminal's notes, as lists. */
function modelSections(results: readonly ScenarioResult[]): string {
  const groups: { heading: string; items: string[] }[] = [];
  for (const line of honestyNotes(results).flatMap((l) => l.split('\n'))) {
    if (!line.startsWith(' ')) groups.push({ heading: line.replace(/:$/, ''), items: [] });
    else if (line.startsWith('  - ')) groups[groups.length - 1].items.push(line.slice(4));
    else groups[groups.length - 1].items.push(`${groups[groups.length - 1].items.pop()} ${line.trim()}`);
  }
  return groups.map(({ heading, items }) => {
    const assumptions = /^Assumed figures/.test(heading);
    const list = items.map((item) => (assumptions ? `<li class="assumption"><span class="assumed-tag">assumed</span>${e(item)}</li>` : `<li>${e(item)}</li>`)).join('\n');
    return `<section class="${assumptions ? 'assumptions' : 'model'}">\n<h2>${e(heading.replace(' (*)', ''))}</h2>\n<ul>\n${list}\n</ul>\n</section>`;
  }).join('\n');
}

/** The whole report: one HTML page, self-contained. */
export function renderReport(results: readonly ScenarioResult[], options: { app: string; generatedAt?: Date }): string {
  const ids = results.map((_, i) => `scenario-${i + 1}`);
  const aliases = [...new Map(results.map((r) => [r.alias.path, r.alias])).values()];
  const failed = results.filter((r) => r.outcome !== r.expected).length;
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    `<head>\n<meta charset="utf-8"/>\n<meta name="viewport" content="width=device-width, initial-scale=1"/>\n<title>Rollout rehearsal: ${e(options.app)}</title>\n<style>${CSS}</style>\n</head>`,
    '<body>',
    '<h1>Rollout rehearsal</h1>',
    `<p class="meta">Cloud assembly <code>${e(options.app)}</code>; ${results.length} scenario(s) on ${aliases.length} guarded alias(es), replayed offline in simulated time by <code>cdk-rollout-guardrails rehearse</code>`
      + `${options.generatedAt ? ` on ${e(options.generatedAt.toISOString())}` : ''}. <strong class="verdict">${failed === 0 ? `Every scenario ended as expected (${results.length}).` : `${failed} of ${results.length} scenario(s) did not end as expected.`}</strong></p>`,
    `<nav><ul>\n${results.map((r, i) => `<li><a href="#${ids[i]}">${e(r.alias.path)} · ${e(r.scenario.name)}</a>: ${e(r.ending)}</li>`).join('\n')}\n</ul></nav>`,
    ...aliases.map((alias) => [
      `<section class="alias" data-alias="${e(alias.path)}">`,
      `<h2>${e(alias.path)} <small>(${e(alias.strategy)})</small></h2>`,
      `<pre class="config">${e(describeAlias(alias).join('\n'))}</pre>`,
      ...results.map((r, i) => (r.alias.path === alias.path ? scenarioSection(r, ids[i]) : '')).filter(Boolean),
      '</section>',
    ].join('\n')),
    summarySection(results, ids),
    modelSections(results),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** Refuses, before the rehearsal, a report path whose folder does not exist or that is a folder itself. */
export function checkReportPath(file: string): void {
  const dir = path.dirname(path.resolve(file));
  if (!fs.existsSync(dir)) throw new CliInputError(`--report ${file}: the folder ${dir} does not exist (the CLI creates no folder)`);
  if (!fs.statSync(dir).isDirectory()) throw new CliInputError(`--report ${file}: ${dir} is not a folder`);
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new CliInputError(`--report ${file}: is a folder, not a file`);
}

/** Writes the report; a path that cannot be written is bad input. */
export function writeReport(file: string, results: readonly ScenarioResult[], app: string): void {
  checkReportPath(file);
  try {
    fs.writeFileSync(file, renderReport(results, { app, generatedAt: new Date() }));
  } catch (error) {
    throw new CliInputError(`--report ${file}: cannot write it (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}
