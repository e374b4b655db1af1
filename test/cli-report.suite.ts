// `cdk-rollout-guardrails rehearse --report FILE` on the example app's cloud assembly: the HTML report is one
// self-contained page (no URL, no script, no stylesheet or image from elsewhere), well-formed (parsed here by a strict
// XML reader written for this test: no HTML parser is installed), with per alias and scenario a weight chart, the
// rollback marker exactly where the scenario rolled back, each gate against its threshold, the decisions, then the
// summary, the model's limits and its assumed figures marked as assumptions. Bad report paths exit 2 naming them.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { main, rehearse } from '../cli/src/main';
import { parseRehearse } from '../cli/src/options';
import { renderReport } from '../cli/src/report';
import { ScenarioResult } from '../cli/src/result';
import { synthDemo, tempDir } from './helpers/cli-assemblies';

/** An element as the strict reader gives it: its attributes decoded, its children, and all the text inside it. */
interface El { readonly name: string; readonly attrs: Record<string, string>; readonly children: El[]; text: string }

const VOID = new Set(['meta', 'br', 'hr', 'img', 'input', 'link', 'area', 'base', 'col', 'embed', 'source', 'track', 'wbr']);
const ENTITY = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/y;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: '\'' };

/**
 * Reads the page as XML, strictly: every element closed in order, attributes double-quoted and not repeated, no `<`
 * or bare `&` in text, only the XML escapes, one root element after the doctype; and as HTML, an element closes itself
 * (`<x/>`) only when HTML allows it (a void element, or inside `<svg>`). Throws naming the line on the first fault.
 */
function parseStrict(src: string): El {
  const root: El = { name: '#document', attrs: {}, children: [], text: '' };
  const stack: El[] = [root];
  let i = src.startsWith('<!DOCTYPE html>') ? '<!DOCTYPE html>'.length : 0;
  const fail = (message: string): never => { throw new Error(`not well-formed at line ${src.slice(0, i).split('\n').length}: ${message}`); };
  const decode = (raw: string): string => {
    for (let amp = raw.indexOf('&'); amp !== -1; amp = raw.indexOf('&', amp + 1)) {
      ENTITY.lastIndex = amp;
      if (!ENTITY.test(raw)) fail(`a bare & in ${JSON.stringify(raw.slice(amp, amp + 12))}`);
    }
    return raw.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (_, ref: string) => (ref.startsWith('#x') ? String.fromCodePoint(parseInt(ref.slice(2), 16))
      : ref.startsWith('#') ? String.fromCodePoint(Number(ref.slice(1))) : NAMED[ref]));
  };
  const open = /<([A-Za-z][\w-]*)((?:\s+[A-Za-z_:][\w:.-]*="[^"<]*")*)\s*(\/?)>/y;
  const close = /<\/([A-Za-z][\w-]*)\s*>/y;
  while (i < src.length) {
    const lt = src.indexOf('<', i);
    const text = src.slice(i, lt === -1 ? src.length : lt);
    if (text.trim() !== '' && stack.length === 1) fail('text outside the root element');
    const decoded = decode(text);
    stack.forEach((el) => { el.text += decoded; });
    if (lt === -1) break;
    i = lt;
    close.lastIndex = i;
    open.lastIndex = i;
    const closing = close.exec(src);
    if (closing) {
      const top = stack.pop()!;
      if (top === root || top.name !== closing[1]) fail(`</${closing[1]}> closes <${top.name}>`);
      i = close.lastIndex;
      continue;
    }
    const tag = open.exec(src) ?? fail(`a malformed tag ${JSON.stringify(src.slice(i, i + 40))}`);
    const el: El = { name: tag[1], attrs: {}, children: [], text: '' };
    for (const [, name, value] of tag[2].matchAll(/([A-Za-z_:][\w:.-]*)="([^"<]*)"/g)) {
      if (name in el.attrs) fail(`<${el.name}> repeats the attribute ${name}`);
      el.attrs[name] = decode(value);
    }
    if (stack.length === 1 && root.children.length > 0) fail('a second root element');
    if (tag[3] && !VOID.has(el.name) && !stack.some((s) => s.name === 'svg')) fail(`<${el.name}/> closes itself outside <svg>`);
    if (!tag[3] && VOID.has(el.name)) fail(`<${el.name}> is void and must close itself`);
    stack[stack.length - 1].children.push(el);
    if (!tag[3]) stack.push(el);
    i = open.lastIndex;
  }
  if (stack.length !== 1) fail(`<${stack[stack.length - 1].name}> is never closed`);
  return root.children[0] ?? fail('no root element');
}

/** Every element below `el` (itself included) that `match` accepts, in document order. */
function all(el: El, match: (e: El) => boolean): El[] {
  return [...(match(el) ? [el] : []), ...el.children.flatMap((c) => all(c, match))];
}
const classes = (el: El) => (el.attrs.class ?? '').split(/\s+/);
const byClass = (el: El, name: string, cls: string) => all(el, (x) => x.name === name && classes(x).includes(cls));
const key = (alias: string, scenario: string) => `${alias} · ${scenario}`;

const temp = tempDir('cli-report-');
let app: string;
let file: string;
let html: string;
let doc: El;
let code: number;
let results: ScenarioResult[];
let output: string[];

beforeAll(async () => {
  app = synthDemo(path.join(temp.dir, 'cdk.out'));
  file = path.join(temp.dir, 'report.html');
  output = [];
  ({ code, results } = await rehearse(parseRehearse(['--app', app, '--quiet', '--report', file]), (line) => output.push(line)));
  html = fs.readFileSync(file, 'utf8');
  doc = parseStrict(html);
}, 180_000);
afterAll(() => temp.remove());

const scenarioOf = (el: El) => results.find((r) => r.alias.path === el.attrs['data-alias'] && r.scenario.name === el.attrs['data-scenario'])!;

describe('the report of the example app\'s rehearsal', () => {
  test('is written where --report says, said so, with the exit code unchanged (0: every scenario as expected)', () => {
    expect(code).toBe(0);
    expect(output).toContain(`report written: ${file}`);
    expect(fs.readdirSync(temp.dir).sort()).toEqual(['cdk.out', 'report.html']);
  });

  test('is self-contained: no URL of any kind, no script, no external stylesheet, font, image or frame', () => {
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|<object|<embed|\bsrc=|url\(|@import|@font-face/i);
    expect(all(doc, (el) => 'href' in el.attrs).every((el) => el.attrs.href.startsWith('#'))).toBe(true);
  });

  test('is well-formed: one html root with a head (charset, title, inline style) and a body', () => {
    expect(doc.name).toBe('html');
    expect(doc.children.map((c) => c.name)).toEqual(['head', 'body']);
    expect(all(doc, (el) => el.name === 'meta').map((el) => el.attrs.charset).filter(Boolean)).toEqual(['utf-8']);
    expect(all(doc, (el) => el.name === 'style')).toHaveLength(1);
    // every in-page link lands on an element of the page
    const ids = new Set(all(doc, (el) => 'id' in el.attrs).map((el) => el.attrs.id));
    expect(all(doc, (el) => el.name === 'a').map((a) => a.attrs.href.slice(1)).filter((id) => !ids.has(id))).toEqual([]);
  });

  test('holds one weight chart per alias and scenario, each decision a marker, the step line ending at the final weight', () => {
    const charts = byClass(doc, 'svg', 'weight-chart');
    expect(charts.map((c) => key(c.attrs['data-alias'], c.attrs['data-scenario']))).toEqual(results.map((r) => key(r.alias.path, r.scenario.name)));
    for (const chart of charts) {
      const r = scenarioOf(chart);
      expect(byClass(chart, 'circle', 'decision-marker').map((m) => Number(m.attrs['data-at']))).toEqual(r.timeline.map((t) => t.at));
      const [line] = byClass(chart, 'polyline', 'weight-line');
      const points = line.attrs.points.split(' ').map((p) => p.split(',').map(Number));
      expect(points).toHaveLength(2 * r.timeline.length + 2);
      // y runs from 22 (100 %) to 198 (0 %) on a square-root scale
      const final = r.timeline[r.timeline.length - 1].weight;
      expect(points[points.length - 1][1]).toBeCloseTo(22 + (1 - Math.sqrt(final / 100)) * 176, 0);
      if (r.maxWeight > 0) expect(Math.min(...points.map((p) => p[1]))).toBeCloseTo(22 + (1 - Math.sqrt(r.maxWeight / 100)) * 176, 0);
    }
    const good = charts.find((c) => c.attrs['data-scenario'] === 'good')!;
    expect(byClass(good, 'circle', 'decision-marker').some((m) => classes(m).includes('pass'))).toBe(true);
    const spike = charts.find((c) => c.attrs['data-scenario'] === 'error-spike')!;
    expect(byClass(spike, 'circle', 'fail').length).toBeGreaterThan(0);
  });

  test('marks the rollback moment exactly in the scenarios that rolled back, at the decision, and none in the promoted ones', () => {
    const charts = byClass(doc, 'svg', 'weight-chart');
    const rolledBack = charts.filter((c) => scenarioOf(c).outcome === 'rollback').map((c) => c.attrs['data-scenario']);
    expect(rolledBack).toEqual(['error-spike', 'latency-regression', 'delta-s-drift', 'cold-start', 'hung-aws-call']);
    for (const chart of charts) {
      const r = scenarioOf(chart);
      const markers = byClass(chart, 'line', 'rollback-marker');
      expect(markers).toHaveLength(r.outcome === 'rollback' ? 1 : 0);
      if (r.outcome === 'rollback') {
        expect(Number(markers[0].attrs['data-at'])).toBe(r.detectedAt);
        expect(byClass(chart, 'text', 'rollback-label')[0].text).toMatch(/^rollback t\+\d\d:\d\d/);
      }
      expect(byClass(chart, 'line', 'breach-marker')).toHaveLength(r.breachAt === undefined ? 0 : 1);
    }
    const spike = charts.find((c) => c.attrs['data-scenario'] === 'error-spike')!;
    expect(byClass(spike, 'text', 'rollback-label')[0].text).toBe('rollback t+09:02; traffic off t+09:03');
  });

  test('shows each gate\'s measured value against its threshold at each check, the failing ones marked', () => {
    const tables = byClass(doc, 'table', 'gates');
    expect(tables).toHaveLength(results.filter((r) => r.timeline.some((t) => t.gates?.length)).length);
    for (const table of tables) {
      const r = scenarioOf(table);
      const checks = r.timeline.filter((t) => t.gates?.length);
      const bodies = byClass(table, 'tbody', 'check');
      expect(bodies.map((b) => Number(b.attrs['data-at']))).toEqual(checks.map((t) => t.at));
      bodies.forEach((body, n) => {
        const rows = byClass(body, 'tr', 'gate');
        expect(rows.map((row) => row.attrs['data-gate'])).toEqual(checks[n].gates!.map((g) => g.name));
        rows.forEach((row, g) => {
          const gate = checks[n].gates![g];
          const threshold = byClass(row, 'td', 'threshold')[0].text;
          expect(threshold).toBe(gate.threshold === null ? '-' : typeof gate.threshold === 'number' ? String(Number(gate.threshold.toFixed(4))) : gate.threshold);
          expect(classes(row).includes('fail')).toBe(gate.passed === false);
        });
      });
    }
    const spike = tables.find((t) => t.attrs['data-scenario'] === 'error-spike')!;
    const failing = byClass(spike, 'tr', 'fail');
    expect([...new Set(failing.map((row) => row.attrs['data-gate']))].sort()).toEqual(['maxErrorRate', 'maxErrorRateDelta']);
    expect(failing.find((row) => row.attrs['data-gate'] === 'maxErrorRate')!.children.map((c) => c.text)).toContain('0.01');
    // an alarm the model does not evaluate is marked as an assumption in the table
    const assumed = byClass(doc, 'tr', 'assumed');
    expect(assumed.length).toBeGreaterThan(0);
    expect(assumed.every((row) => byClass(row, 'span', 'assumed-tag').length === 1 && /^alarm:/.test(row.attrs['data-gate']))).toBe(true);
  });

  test('lists the decisions and the outcome against the expected one in each scenario', () => {
    for (const section of byClass(doc, 'section', 'scenario')) {
      const r = scenarioOf(section);
      expect(byClass(section, 'ol', 'decisions')[0].children.map((li) => li.text)).toEqual(r.timeline.map((t) => expect.stringContaining(t.text)));
      const outcome = byClass(section, 'p', 'outcome')[0];
      expect(classes(outcome)).toContain('as-expected');
      expect(outcome.text).toContain(`Outcome: ${r.ending} (${r.outcome}); expected: ${r.expected}; as expected.`);
    }
  });

  test('ends with the summary table, what the model covers and does not, and each assumed figure marked as one', () => {
    const summary = byClass(doc, 'table', 'summary')[0];
    const rows = all(summary, (el) => el.name === 'tr' && classes(el).includes('as-expected'));
    expect(rows.map((row) => key(row.attrs['data-alias'], row.attrs['data-scenario']))).toEqual(results.map((r) => key(r.alias.path, r.scenario.name)));
    expect(rows.find((row) => row.attrs['data-scenario'] === 'error-spike')!.children.map((c) => c.text)).toEqual([
      'RolloutGuardrailsDemo/Answer', 'error-spike', 'rolled back at 1 % (check before 5 %)', 'rollback', '480 s', '481 s', 'none', 'as expected',
    ]);
    const model = byClass(doc, 'section', 'model');
    expect(model.map((s) => s.children[0].text)).toEqual(['What this rehearsal is', 'What it does not model']);
    expect(model[1].text).toMatch(/real metric delay \(register LAM-6\)/);
    expect(model[1].text).toMatch(/CodeDeploy's own alarm polling \(interval undocumented: register CD-14\)/);
    const assumptions = byClass(doc, 'section', 'assumptions');
    expect(assumptions).toHaveLength(1);
    const items = byClass(assumptions[0], 'li', 'assumption');
    expect(items.map((li) => li.text)).toEqual(expect.arrayContaining([
      expect.stringMatching(/^assumeda probe run takes 60 s/), 'assumedCodeDeploy\'s rollback shift: 15 s', 'assumedeach scenario\'s traffic, error rates and latency distributions',
    ]));
    expect(items.every((li) => byClass(li, 'span', 'assumed-tag').length === 1)).toBe(true);
  });
});

describe('the report\'s page, from results', () => {
  test('the strict reader refuses what is not well-formed', () => {
    expect(() => parseStrict('<html><p><b>x</p></b></html>')).toThrow('</p> closes <b>');
    expect(() => parseStrict('<html><p>a & b</p></html>')).toThrow('a bare &');
    expect(() => parseStrict('<html><div/></html>')).toThrow('<div/> closes itself outside <svg>');
    expect(() => parseStrict('<html><p class="a" class="b"></p></html>')).toThrow('repeats the attribute class');
    expect(() => parseStrict('<html><p>')).toThrow('<p> is never closed');
    expect(parseStrict('<html><svg><line x1="0"/></svg><meta charset="utf-8"/>&lt;&#39;</html>').text).toBe('<\'');
  });

  test('escapes every string from the assembly and the scenarios, and gives each alias its own charts', () => {
    const hostile = 'Shop/<script>alert("x")</script>&\'/Alias';
    const other = results.slice(0, 2).map((r) => ({
      ...r, alias: { ...r.alias, path: hostile }, scenario: { ...r.scenario, name: `${r.scenario.name}<img src=x>` },
      timeline: r.timeline.map((t) => ({ ...t, text: `${t.text} </svg><b>&amp;` })),
    }));
    const page = renderReport([...results.slice(0, 2), ...other], { app: 'cdk.out/"<x>"' });
    expect(page).not.toMatch(/<script|<img|<b>|https?:\/\//);
    const parsed = parseStrict(page);
    expect(byClass(parsed, 'section', 'alias').map((s) => s.attrs['data-alias'])).toEqual(['RolloutGuardrailsDemo/Answer/Alias', hostile]);
    expect(byClass(parsed, 'svg', 'weight-chart').map((c) => key(c.attrs['data-alias'], c.attrs['data-scenario']))).toEqual([
      key('RolloutGuardrailsDemo/Answer/Alias', 'good'), key('RolloutGuardrailsDemo/Answer/Alias', 'error-spike'),
      key(hostile, 'good<img src=x>'), key(hostile, 'error-spike<img src=x>'),
    ]);
    expect(all(parsed, (el) => el.name === 'title')[0].text).toBe('Rollout rehearsal: cdk.out/"<x>"');
    expect(byClass(parsed, 'ol', 'decisions')[3].children[0].text).toMatch(/ <\/svg><b>&amp;$/);
  });
});

describe('a report path that cannot be written', () => {
  async function cli(...args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
    const errors: string[] = [];
    const logs: string[] = [];
    const err = jest.spyOn(console, 'error').mockImplementation((line: string) => { errors.push(line); });
    const log = jest.spyOn(console, 'log').mockImplementation((line: string) => { logs.push(line); });
    try {
      return { code: await main(args), stderr: errors.join('\n'), stdout: logs.join('\n') };
    } finally {
      err.mockRestore();
      log.mockRestore();
    }
  }

  test('a folder that does not exist: exit 2 before the rehearsal, naming --report and the path, nothing created', async () => {
    const missing = path.join(temp.dir, 'no-such-folder', 'report.html');
    const run = await cli('rehearse', '--app', app, '--quiet', '--scenario', 'good', '--report', missing);
    expect(run).toEqual({ code: 2, stdout: '', stderr: `cdk-rollout-guardrails: --report ${missing}: the folder ${path.dirname(missing)} does not exist (the CLI creates no folder)` });
    expect(fs.existsSync(path.dirname(missing))).toBe(false);
  });

  test('a path that is a folder, or below a file: exit 2 naming it', async () => {
    expect(await cli('rehearse', '--app', app, '--scenario', 'good', '--report', temp.dir)).toMatchObject({ code: 2, stderr: `cdk-rollout-guardrails: --report ${temp.dir}: is a folder, not a file` });
    const below = path.join(file, 'report.html');
    expect(await cli('rehearse', '--app', app, '--scenario', 'good', '--report', below)).toMatchObject({ code: 2, stderr: `cdk-rollout-guardrails: --report ${below}: ${file} is not a folder` });
  });

  test('through main, a good path writes the report and keeps exit code 1 when a scenario is not as expected', async () => {
    const second = path.join(temp.dir, 'second.html');
    const run = await cli('rehearse', '--app', app, '--quiet', '--scenario', 'good', '--expect', 'good=rollback', '--report', second);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`report written: ${second}`);
    const page = parseStrict(fs.readFileSync(second, 'utf8'));
    expect(byClass(page, 'p', 'outcome').map((p) => classes(p))).toEqual([expect.arrayContaining(['not-as-expected'])]);
    expect(byClass(page, 'line', 'rollback-marker')).toEqual([]);
    fs.rmSync(second);
  });
});

/**
 * Opens a page in headless Chromium (Debian's `chromium` package, a prerequisite of these machines like cfn-lint) and
 * takes a screenshot: what it wrote, and every console message the page logged (Chromium logs them as CONSOLE lines).
 */
function openInChromium(page: string, png: string): { status: number | null; console: string[] } {
  const profile = fs.mkdtempSync(path.join(temp.dir, 'chromium-'));
  const run = spawnSync('chromium', [
    '--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--enable-logging=stderr', '--log-level=0',
    `--user-data-dir=${profile}`, `--screenshot=${png}`, '--window-size=1280,2400', `file://${page}`,
  ], { encoding: 'utf8', timeout: 60_000 });
  if (run.error) throw new Error(`headless Chromium could not run (${run.error.message}): install Debian's chromium package (apt-get install chromium)`);
  return { status: run.status, console: (run.stderr ?? '').split('\n').filter((line) => /:CONSOLE[:(]/.test(line)) };
}

describe('the report in a real browser (headless Chromium)', () => {
  test('loads with no console message and renders: a 1280 × 2400 screenshot of more than blank', () => {
    const png = path.join(temp.dir, 'report.png');
    const opened = openInChromium(file, png);
    expect(opened.console).toEqual([]);
    expect(opened.status).toBe(0);
    const image = fs.readFileSync(png);
    expect(image.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect([image.readUInt32BE(16), image.readUInt32BE(20)]).toEqual([1280, 2400]);
    // A blank page compresses to a few kilobytes; the charts and tables make it far larger.
    expect(image.length).toBeGreaterThan(100_000);
  }, 90_000);

  test('the check sees a page\'s console messages (it would catch an error in the report)', () => {
    const page = path.join(temp.dir, 'noisy.html');
    fs.writeFileSync(page, '<!doctype html><html><body><script>console.error("boom")</script></body></html>');
    expect(openInChromium(page, path.join(temp.dir, 'noisy.png')).console.join('\n')).toContain('"boom"');
  }, 90_000);
});
