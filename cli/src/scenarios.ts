// The scenarios a rehearsal replays: how the new version behaves over time (error rate, latency distribution,
// answer drift, traffic), built in or read from a JSON file. The current (control) version behaves as `control`
// says throughout. Every figure here is an assumption of the scenario, and the output says so.
import * as fs from 'fs';
import { CliInputError } from './errors';

/** What the rehearsal expects a scenario to end in: the new version promoted, or traffic rolled back to the old one. */
export type Expectation = 'promote' | 'rollback';
/** The strategies the CLI rehearses. */
export type RehearsedStrategy = 'staged' | 'blue-green' | 'canary' | 'linear' | 'all-at-once' | 'custom';

/** A latency distribution (log-normal, fitted to its median and 95th percentile). */
export interface Latency {
  readonly p50Ms: number;
  readonly p95Ms: number;
}

/** The new version's behaviour from `at` seconds on; a field left out keeps its earlier value. */
export interface Phase {
  readonly at: number;
  /** Share of user requests that fail (a function error, counted in the Errors metric). */
  readonly errorRate?: number;
  readonly latency?: Latency;
  /** Share of gold questions the new version answers with something else (another section's text): ΔS drift. */
  readonly drift?: number;
  /** User requests a second on the alias, both versions together. */
  readonly requestsPerSecond?: number;
  /** Share of the new version's requests that hit a cold environment, and what that adds. */
  readonly coldStartShare?: number;
  readonly coldStartMs?: number;
}

/** A scenario, built in or from a file. */
export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** `start`: phase times count from the rollout's start; `traffic`: from the moment users first reach the new version. */
  readonly clock: 'start' | 'traffic';
  readonly control: { readonly errorRate: number; readonly latency: Latency };
  readonly phases: readonly Phase[];
  /** Seconds until the new version's provisioned concurrency is READY (null: never, it fails to initialise). */
  readonly provisionedReadySeconds?: number | null;
  /**
   * An AWS read of the rollout never answers: the staged gate's or the blue-green worker's metric read from the first
   * check after users reach the new version; for CodeDeploy's own shapes, the first hook's read of its deployment.
   */
  readonly hungRead?: boolean;
  /**
   * Seconds after a staged approval step's wait begins until an operator approves it (`resume`); null: nobody does,
   * and the wait runs until the rest of the schedule no longer fits. @default 0 (approved as soon as it waits)
   */
  readonly approvalSeconds?: number | null;
  /** What a guarded rollout should do with it; `--expect` overrides it. */
  readonly expect: Expectation;
  /** The strategies it applies to (all when absent). */
  readonly strategies?: readonly RehearsedStrategy[];
}

/** The behaviour in force at one moment: every field filled in. */
export type Behaviour = Required<Omit<Phase, 'at'>>;

const CONTROL = { errorRate: 0.0002, latency: { p50Ms: 40, p95Ms: 60 } };
const GOOD: Phase = { at: 0, errorRate: 0.0002, latency: CONTROL.latency, drift: 0, requestsPerSecond: 20, coldStartShare: 0, coldStartMs: 0 };
const builtIn = (name: string, description: string, expect: Expectation, rest: Partial<Scenario> & { phases?: Phase[] } = {}): Scenario => ({
  name, description, expect, clock: 'start', control: CONTROL, ...rest, phases: [GOOD, ...(rest.phases ?? [])],
});

/** The built-in scenarios, in the order they run by default. */
export const BUILT_IN_SCENARIOS: readonly Scenario[] = [
  builtIn('good', 'the same answers, as fast and as reliable as the current version', 'promote'),
  builtIn('error-spike', '3 % of user requests fail, on a path the gold set does not exercise', 'rollback', { phases: [{ at: 0, errorRate: 0.03 }] }),
  builtIn('latency-regression', '18 % slower (p50 47 ms, p95 71 ms against 40 / 60 ms)', 'rollback', { phases: [{ at: 0, latency: { p50Ms: 47.2, p95Ms: 70.8 } }] }),
  builtIn('delta-s-drift', 'answers drift in meaning: 60 % of gold questions answered from the wrong section', 'rollback', { phases: [{ at: 0, drift: 0.6 }] }),
  builtIn('cold-start', 'provisioned concurrency never READY (init fails); 10 % of the new version\'s requests cold, +1.5 s', 'rollback', {
    provisionedReadySeconds: null, phases: [{ at: 0, coldStartShare: 0.1, coldStartMs: 1500 }],
  }),
  builtIn('low-traffic', 'a good version on an alias that sees 1 request a second', 'promote', { phases: [{ at: 0, requestsPerSecond: 1 }] }),
  builtIn('breach-after-switch', 'passes every check before the switch; 6 minutes after it, 3 % of requests fail', 'rollback', {
    clock: 'traffic', strategies: ['blue-green'], phases: [{ at: 360, errorRate: 0.03 }],
  }),
  builtIn('hung-aws-call', 'a good version, but an AWS read of the rollout never answers (the staged gate\'s or the blue-green watch\'s metrics once users are on it; a CodeDeploy hook\'s read of its deployment)', 'rollback', { hungRead: true }),
];

/** The behaviour at `seconds` on the scenario's clock. */
export function behaviourAt(scenario: Scenario, seconds: number): Behaviour {
  let state = { ...GOOD, latency: scenario.control.latency, errorRate: scenario.control.errorRate } as Behaviour;
  for (const phase of scenario.phases) if (phase.at <= seconds) state = { ...state, ...stripAt(phase) };
  return state;
}

function stripAt(phase: Phase): Omit<Phase, 'at'> {
  const { at: _at, ...rest } = phase;
  return Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
}

/** When the new version first behaves worse than the control (on the scenario's clock), if ever. */
export function breachStart(scenario: Scenario): number | undefined {
  if (scenario.hungRead) return 0;
  if (scenario.provisionedReadySeconds === null) return 0;
  const bad = scenario.phases.find((p) => (p.errorRate ?? 0) > scenario.control.errorRate || (p.drift ?? 0) > 0 || (p.coldStartShare ?? 0) > 0
    || (p.latency !== undefined && p.latency.p95Ms > scenario.control.latency.p95Ms));
  return bad?.at;
}

const share = (v: unknown) => typeof v === 'number' && v >= 0 && v <= 1;
const positive = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;

function checkLatency(value: unknown, where: string, problems: string[]): void {
  const l = value as Latency;
  if (!value || typeof value !== 'object' || !positive(l.p50Ms) || !positive(l.p95Ms) || l.p95Ms < l.p50Ms) {
    problems.push(`${where} must be { "p50Ms": n, "p95Ms": n } with 0 < p50Ms ≤ p95Ms, got ${JSON.stringify(value)}`);
  }
}

/** Reads a scenario file (see docs/guides/cli.md): every problem is reported at once, naming the file and the field. */
export function readScenarioFile(file: string): Scenario {
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CliInputError(`--scenario ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not valid JSON (${(error as Error).message})`}`);
  }
  const problems: string[] = [];
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new CliInputError(`--scenario ${file}: must be a JSON object`);
  if (typeof data.name !== 'string' || !/^[\w.-]+$/.test(data.name)) problems.push(`"name" must be a word (letters, digits, - _ .), got ${JSON.stringify(data.name)}`);
  if (data.clock !== undefined && data.clock !== 'start' && data.clock !== 'traffic') problems.push(`"clock" must be "start" or "traffic", got ${JSON.stringify(data.clock)}`);
  if (data.expect !== undefined && data.expect !== 'promote' && data.expect !== 'rollback') problems.push(`"expect" must be "promote" or "rollback", got ${JSON.stringify(data.expect)}`);
  const control = (data.control ?? {}) as Record<string, unknown>;
  if (control.errorRate !== undefined && !share(control.errorRate)) problems.push(`"control.errorRate" must be between 0 and 1, got ${JSON.stringify(control.errorRate)}`);
  if (control.latency !== undefined) checkLatency(control.latency, '"control.latency"', problems);
  if (!Array.isArray(data.timeline) || data.timeline.length === 0) problems.push('"timeline" must be a non-empty array of phases ({ "at": seconds, ... })');
  const phases = (Array.isArray(data.timeline) ? data.timeline : []) as Array<Record<string, unknown>>;
  phases.forEach((p, i) => {
    const where = `"timeline[${i}]`;
    if (!p || typeof p !== 'object') return problems.push(`${where}" must be an object`);
    if (typeof p.at !== 'number' || p.at < 0) problems.push(`${where}.at" must be seconds ≥ 0, got ${JSON.stringify(p.at)}`);
    for (const key of ['errorRate', 'drift', 'coldStartShare']) if (p[key] !== undefined && !share(p[key])) problems.push(`${where}.${key}" must be between 0 and 1, got ${JSON.stringify(p[key])}`);
    for (const key of ['requestsPerSecond', 'coldStartMs']) if (p[key] !== undefined && !(typeof p[key] === 'number' && (p[key] as number) >= 0)) problems.push(`${where}.${key}" must be a number ≥ 0, got ${JSON.stringify(p[key])}`);
    if (p.latency !== undefined) checkLatency(p.latency, `${where}.latency"`, problems);
    const unknown = Object.keys(p).filter((k) => !['at', 'errorRate', 'latency', 'drift', 'requestsPerSecond', 'coldStartShare', 'coldStartMs'].includes(k));
    if (unknown.length > 0) problems.push(`${where}" has unknown field(s) ${unknown.map((k) => `"${k}"`).join(', ')}`);
    return undefined;
  });
  if (data.provisionedReadySeconds !== undefined && data.provisionedReadySeconds !== null && !(typeof data.provisionedReadySeconds === 'number' && data.provisionedReadySeconds >= 0)) {
    problems.push(`"provisionedReadySeconds" must be seconds ≥ 0 or null (never READY), got ${JSON.stringify(data.provisionedReadySeconds)}`);
  }
  if (data.approvalSeconds !== undefined && data.approvalSeconds !== null && !(typeof data.approvalSeconds === 'number' && data.approvalSeconds >= 0)) {
    problems.push(`"approvalSeconds" must be seconds ≥ 0 or null (nobody approves), got ${JSON.stringify(data.approvalSeconds)}`);
  }
  if (problems.length > 0) throw new CliInputError(`--scenario ${file}: malformed scenario file:\n  - ${problems.join('\n  - ')}`);
  return {
    name: data.name as string,
    description: typeof data.description === 'string' ? data.description : `from ${file}`,
    clock: (data.clock as Scenario['clock']) ?? 'start',
    control: { errorRate: (control.errorRate as number) ?? CONTROL.errorRate, latency: (control.latency as Latency) ?? CONTROL.latency },
    phases: [...phases as unknown as Phase[]].sort((a, b) => a.at - b.at),
    provisionedReadySeconds: data.provisionedReadySeconds as number | null | undefined,
    ...(data.approvalSeconds !== undefined ? { approvalSeconds: data.approvalSeconds as number | null } : {}),
    expect: (data.expect as Expectation) ?? 'promote',
  };
}

/** The scenarios `--scenario` names (built-in names or JSON files), all built-in ones when none is named. */
export function selectScenarios(names: readonly string[]): Scenario[] {
  if (names.length === 0) return [...BUILT_IN_SCENARIOS];
  return names.map((name) => {
    const found = BUILT_IN_SCENARIOS.find((s) => s.name === name);
    if (found) return found;
    if (name.endsWith('.json') || name.includes('/') || fs.existsSync(name)) return readScenarioFile(name);
    throw new CliInputError(`--scenario ${name}: unknown scenario; built in: ${BUILT_IN_SCENARIOS.map((s) => s.name).join(', ')}, or a JSON file (see docs/guides/cli.md)`);
  });
}
