// Reads the validation report of an integ app's assembly (validation-report.json, written by app.synth() with the
// plugins of integ/support/app.ts) and tells the library's findings from the test's own. Used by integ/run.ts.
//
// Whose resource, by the rule of scripts/check-guard-report.mjs, with the integ apps' own resources in the place of
// the user's: a resource of an integ-tests assertion stack (integ.json's `assertionStack`) is test support; a
// resource under one of the library's stack-wide constructs (StagedRollout, BlueGreenSwitch, ControlVersions,
// RolloutGuardrails) is the library's; otherwise the first frame of its creation trace outside aws-cdk-lib and
// constructs (the stack's metadata file, or the report's trace) says who called `new`: this package's lib/ (or
// dist/lib/) makes it the library's, any other file (integ/, integ-tests-alpha) test support. A finding is one rule
// on one resource; a plugin's finding that names several resources counts once for each.
import * as fs from 'fs';
import * as path from 'path';

/** The plugins integ/support/app.ts registers: the name each reports under, and a short label. */
const PLUGINS: ReadonlyArray<{ readonly name: string; readonly label: string }> = [
  { name: 'AwsSolutions', label: 'cdk-nag' },
  { name: 'cdk-validator-cfnguard', label: 'cfn-guard' },
];
const STACK_WIDE = new Set(['StagedRollout', 'BlueGreenSwitch', 'ControlVersions', 'RolloutGuardrails']);
const ROOT = path.join(__dirname, '..', '..');
const LIBRARY_DIRS = [path.join(ROOT, 'lib') + path.sep, path.join(ROOT, 'dist', 'lib') + path.sep];
const NOT_A_CALLER = /[\\/]node_modules[\\/](aws-cdk-lib|constructs)[\\/]|^node:|\(node:/;
/** The validation report's file name in the assembly (aws-cdk-lib's cx-api VALIDATION_REPORT_FILE). */
export const VALIDATION_REPORT = 'validation-report.json';

export type Owner = 'library' | 'support' | 'unknown';

export interface Finding {
  readonly plugin: string;
  readonly state: 'open' | 'acknowledged';
  readonly owner: Owner;
  /** Why that owner: the creation frame's file, the construct path or the assertion stack. */
  readonly by: string;
  readonly rule: string;
  readonly constructPath: string;
  readonly description: string;
  readonly fix?: string;
  readonly reason?: string;
}

export interface Findings {
  readonly findings: Finding[];
  /** What makes the run fail: open findings on the library's resources (or of unknown owner), a plugin that did not
   * run or failed, a library acknowledgement without a reason. Each problem is one printable line (or a few). */
  readonly problems: string[];
  /** One line: counts by owner and state, and by plugin. */
  readonly summary: string;
}

interface ReportConstruct {
  readonly constructPath?: string;
  readonly stackTraces?: string[];
  readonly cloudFormationResource?: { readonly templatePath?: string; readonly logicalId?: string };
}
interface ReportViolation {
  readonly ruleName: string;
  readonly description?: string;
  readonly suggestedFix?: string;
  readonly severity?: string;
  readonly violatingConstructs?: ReportConstruct[];
  readonly reason?: string;
  readonly acknowledgedAt?: string;
}
interface PluginReport {
  readonly pluginName: string;
  readonly conclusion?: string;
  readonly violations?: ReportViolation[];
  readonly suppressedViolations?: ReportViolation[];
  readonly metadata?: { readonly error?: string };
}

/** The construct paths of the assertion stacks of the assembly in `outdir` (integ.json). */
function assertionStacks(outdir: string): string[] {
  const file = path.join(outdir, 'integ.json');
  if (!fs.existsSync(file)) return [];
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as { testCases?: Record<string, { assertionStack?: string }> };
  return Object.values(manifest.testCases ?? {}).map((t) => t.assertionStack).filter((s): s is string => !!s);
}

/** The file of the first frame that is not aws-cdk-lib's, constructs' or node's. */
function caller(trace: readonly string[] | undefined): string | undefined {
  for (const line of trace ?? []) {
    const frame = line.trim();
    if (frame.startsWith('...') || NOT_A_CALLER.test(frame)) continue;
    const file = (frame.match(/\(([^()]+?)(?::\d+){0,2}\)$/) ?? frame.match(/^(?:at )?(\S+?)(?::\d+){0,2}$/))?.[1];
    // A built-in's frame names no file ('Array.map (:)', '<anonymous>'): the caller is further down.
    if (file && /[\\/]/.test(file)) return file;
  }
  return undefined;
}

/** Classifies every finding of the report in `outdir`. */
export function readFindings(outdir: string): Findings {
  const problems: string[] = [];
  const reportFile = path.join(outdir, VALIDATION_REPORT);
  if (!fs.existsSync(reportFile)) {
    const problem = `no ${VALIDATION_REPORT} in the assembly: are cdk-nag and cfn-guard registered (integ/support/app.ts integApp())?`;
    return { findings: [], problems: [problem], summary: 'validation: no report' };
  }
  const report = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as { pluginReports?: PluginReport[] };
  const assertions = assertionStacks(outdir);
  const metadataCache = new Map<string, Record<string, Array<{ type: string; data: unknown }>>>();

  const creationTrace = (c: ReportConstruct): string[] | undefined => {
    const template = c.cloudFormationResource?.templatePath;
    if (template) {
      const file = path.join(outdir, path.basename(template).replace(/\.template\.json$/, '.metadata.json'));
      if (!metadataCache.has(file)) metadataCache.set(file, fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {});
      const entry = (metadataCache.get(file)![`/${c.constructPath}`] ?? []).find((e) => e.type === 'aws:cdk:creationStack');
      if (entry && Array.isArray(entry.data)) return entry.data as string[];
    }
    return c.stackTraces?.[0]?.split('\n');
  };
  const ownerOf = (constructPath: string, c: ReportConstruct): { owner: Owner; by: string } => {
    const assertion = assertions.find((a) => constructPath === a || constructPath.startsWith(`${a}/`));
    if (assertion) return { owner: 'support', by: `integ-tests assertion stack ${assertion}` };
    if (constructPath.split('/').slice(1).some((s) => STACK_WIDE.has(s))) return { owner: 'library', by: 'path' };
    const file = caller(creationTrace(c));
    if (!file) return { owner: 'unknown', by: 'no creation trace' };
    const library = LIBRARY_DIRS.some((d) => file.startsWith(d));
    return { owner: library ? 'library' : 'support', by: file.startsWith(ROOT + path.sep) ? path.relative(ROOT, file) : file };
  };

  const findings: Finding[] = [];
  for (const { name, label } of PLUGINS) {
    const plugin = (report.pluginReports ?? []).find((p) => p.pluginName === name);
    if (!plugin) {
      problems.push(`${label}: no ${name} report: is it registered (integ/support/app.ts integApp())?`);
      continue;
    }
    if (plugin.metadata?.error || (plugin.conclusion !== 'success' && (plugin.violations ?? []).length === 0)) {
      problems.push(`${label}: the plugin did not run: ${plugin.metadata?.error ?? `conclusion ${plugin.conclusion} with no finding`}`);
    }
    for (const [state, list] of [['open', plugin.violations ?? []], ['acknowledged', plugin.suppressedViolations ?? []]] as const) {
      for (const v of list) {
        const placed = (v.violatingConstructs ?? []).filter((c) => c.constructPath);
        const owners = new Set(placed.map((c) => ownerOf(c.constructPath!, c).owner));
        for (const c of v.violatingConstructs ?? []) {
          // cfn-guard reports a check that failed at the template's root as a resource with no construct path, beside
          // the resource it is about: it goes with that resource when the rest of the finding has one owner.
          const who = c.constructPath ? ownerOf(c.constructPath, c)
            : owners.size === 1 ? { owner: [...owners][0], by: `the other resource(s) of the finding (${placed.map((p) => p.constructPath).join(', ')})` }
              : { owner: 'unknown' as const, by: 'no resource: the plugin placed this check at the template\'s root' };
          findings.push({
            plugin: label,
            state,
            ...who,
            rule: v.ruleName,
            constructPath: c.constructPath ?? `(${c.cloudFormationResource?.templatePath ?? 'a template'}, no resource)`,
            description: v.description ?? '',
            ...(state === 'open' ? { fix: v.suggestedFix } : { reason: v.reason }),
          });
        }
      }
    }
  }

  for (const f of findings.filter((x) => x.state === 'open' && x.owner !== 'support')) {
    problems.push(`${f.owner === 'library' ? 'LIBRARY' : 'UNKNOWN OWNER'} OPEN ${f.plugin} ${f.rule} at ${f.constructPath} (${f.by})\n`
      + `        ${f.description}${f.fix ? `\n        fix: ${f.fix}` : ''}`);
  }
  for (const f of findings.filter((x) => x.state === 'acknowledged' && x.owner === 'library' && (typeof x.reason !== 'string' || x.reason.trim().length < 10))) {
    problems.push(`${f.plugin}: the library's acknowledgement of ${f.rule} at ${f.constructPath} has no reason`);
  }

  const count = (owner: Owner, state: Finding['state'], plugin?: string) => findings.filter((f) => f.owner === owner && f.state === state && (!plugin || f.plugin === plugin)).length;
  const pair = (owner: Owner, plugin?: string) => `${count(owner, 'open', plugin)} open/${count(owner, 'acknowledged', plugin)} ack`;
  const unknown = count('unknown', 'open') + count('unknown', 'acknowledged');
  const summary = `library ${pair('library')}, test support ${pair('support')}${unknown ? `, unknown owner ${pair('unknown')}` : ''}`
    + ` (${PLUGINS.map(({ label }) => `${label}: library ${pair('library', label)}, support ${pair('support', label)}`).join('; ')})`;
  return { findings, problems, summary };
}

/** Every finding, one line each (library first), for `--findings`. */
export function describeFindings(findings: readonly Finding[]): string[] {
  const order: Record<Owner, number> = { library: 0, unknown: 1, support: 2 };
  return [...findings]
    .sort((a, b) => order[a.owner] - order[b.owner] || a.state.localeCompare(b.state) || a.plugin.localeCompare(b.plugin)
      || a.rule.localeCompare(b.rule) || a.constructPath.localeCompare(b.constructPath))
    .map((f) => `${f.owner.padEnd(7)} ${f.state === 'open' ? 'OPEN' : 'ack '} ${f.plugin.padEnd(9)} ${f.rule}  ${f.constructPath}  [${f.by}]`);
}
