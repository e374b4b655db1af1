// Reads the validation report of the last synth (cdk.out/validation-report.json) and prints the findings of the
// cfn-guard plugin (@cdklabs/cdk-validator-cfnguard: AWS Control Tower's proactive controls), each on the
// library's resources or on the user's. Fails when the plugin did not run, when a finding on a library resource
// is not acknowledged, when a library acknowledgement has no reason, or when a finding's owner cannot be told;
// with --strict, also when a finding on a user's resource is open. --json prints the classified findings instead.
//
// Whose resource: the construct that created it. A resource under one of the library's stack-wide constructs
// (StagedRollout, BlueGreenSwitch, ControlVersions, RolloutGuardrails) is the library's; otherwise the first
// frame of its creation trace outside aws-cdk-lib (the stack's metadata, as the CLI writes it, or the report's
// trace) says who called `new`: this package's lib/ or dist/lib/ (or node_modules/cdk-rollout-guardrails/) makes
// it the library's (a GuardedAlias's gate alarms, a DeltaSProbe's function, a ShadowIntegration's route), any
// other file the user's (the demo's function, its API methods, their log groups).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const PLUGIN = 'cdk-validator-cfnguard';
const STACK_WIDE = new Set(['StagedRollout', 'BlueGreenSwitch', 'ControlVersions', 'RolloutGuardrails']);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LIBRARY_DIRS = [join(root, 'lib') + sep, join(root, 'dist', 'lib') + sep];
const INSTALLED = /[\\/]node_modules[\\/]cdk-rollout-guardrails[\\/]/;
const NOT_A_CALLER = /[\\/]node_modules[\\/](aws-cdk-lib|constructs)[\\/]|^node:|\(node:/;

const args = process.argv.slice(2);
const json = args.includes('--json');
const strict = args.includes('--strict');
const path = args.find((a) => !a.startsWith('--')) ?? 'cdk.out/validation-report.json';
const outdir = dirname(resolve(path));

const report = JSON.parse(readFileSync(path, 'utf8'));
const guard = (report.pluginReports ?? []).find((p) => p.pluginName === PLUGIN);
if (!guard) {
  console.error(`cfn-guard: no ${PLUGIN} report in ${path}; is CfnGuardValidator registered in bin/app.ts?`);
  process.exit(1);
}

const metadataCache = new Map();
function creationTrace(construct) {
  const template = construct.cloudFormationResource?.templatePath;
  if (template) {
    const file = join(outdir, template.replace(/\.template\.json$/, '.metadata.json'));
    if (!metadataCache.has(file)) metadataCache.set(file, existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {});
    const entry = (metadataCache.get(file)[`/${construct.constructPath}`] ?? []).find((e) => e.type === 'aws:cdk:creationStack');
    if (entry) return entry.data;
  }
  return construct.stackTraces?.[0]?.split('\n');
}

/** The file of the first frame that is not aws-cdk-lib's, constructs' or node's. */
function caller(trace) {
  for (const line of trace ?? []) {
    const frame = line.trim();
    if (frame.startsWith('...') || NOT_A_CALLER.test(frame)) continue;
    const file = (frame.match(/\(([^()]+?)(?::\d+){0,2}\)$/) ?? frame.match(/^(?:at )?(\S+?)(?::\d+){0,2}$/))?.[1];
    // A built-in's frame names no file ('Array.map (:)', '<anonymous>'): the caller is further down.
    if (file && /[\\/]/.test(file)) return file;
  }
  return undefined;
}

function ownerOf(construct) {
  const segments = construct.constructPath.split('/');
  if (segments.slice(1).some((s) => STACK_WIDE.has(s))) return { owner: 'library', by: 'path' };
  const file = caller(creationTrace(construct));
  if (!file) return { owner: 'unknown', by: 'no creation trace' };
  const library = LIBRARY_DIRS.some((d) => file.startsWith(d)) || INSTALLED.test(file);
  return { owner: library ? 'library' : 'user', by: file.startsWith(root + sep) ? file.slice(root.length + 1) : file };
}

const control = (v) => (v.description ?? '').match(/\[(CT\.[A-Z0-9-]+\.PR\.\d+)\]/)?.[1] ?? '';
const findings = [];
for (const [state, list] of [['open', guard.violations ?? []], ['acknowledged', guard.suppressedViolations ?? []]]) {
  for (const v of list) {
    const placed = (v.violatingConstructs ?? []).filter((c) => c.constructPath);
    const owners = new Set(placed.map((c) => ownerOf(c).owner));
    for (const c of v.violatingConstructs ?? []) {
      // The plugin reports a check that failed at the template's root (CT.KMS.PR.3 on a key policy without the
      // statement, for one) as a resource with no logical ID and so no construct path, beside the resource it
      // is about: it goes with that resource when the rest of the finding has one owner.
      const who = c.constructPath ? ownerOf(c)
        : owners.size === 1 ? { owner: [...owners][0], by: `the resource(s) of the same finding (${placed.map((p) => p.constructPath).join(', ')})` }
          : { owner: 'unknown', by: 'no resource: the plugin placed this check at the template\'s root' };
      findings.push({
        state,
        ...who,
        rule: v.ruleName,
        control: control(v),
        constructPath: c.constructPath,
        logicalId: c.cloudFormationResource?.logicalId,
        ...(state === 'acknowledged' ? { acknowledgedAt: v.acknowledgedAt, reason: v.reason } : { fix: v.suggestedFix }),
      });
    }
  }
}
const order = { library: 0, unknown: 1, user: 2 };
findings.sort((a, b) => order[a.owner] - order[b.owner] || a.state.localeCompare(b.state) || a.rule.localeCompare(b.rule) || a.constructPath.localeCompare(b.constructPath));

const count = (owner, state) => findings.filter((f) => f.owner === owner && f.state === state).length;
const unexplained = findings.filter((f) => f.state === 'acknowledged' && (typeof f.reason !== 'string' || f.reason.trim().length < 10));
const failed = count('library', 'open') > 0 || count('unknown', 'open') > 0 || unexplained.length > 0 || (strict && count('user', 'open') > 0);

if (json) {
  console.log(JSON.stringify({ conclusion: guard.conclusion, failed, findings }, undefined, 2));
} else {
  for (const f of findings) {
    const line = `${f.owner.padEnd(7)} ${f.state === 'open' ? 'OPEN' : 'ack '} ${f.control.padEnd(21)} ${f.rule}  ${f.constructPath}`;
    const detail = f.state === 'open' ? (f.fix ? `fix: ${f.fix}` : '') : `at ${f.acknowledgedAt}: ${f.reason}`;
    (f.state === 'open' && f.owner !== 'user' ? console.error : console.log)(`${line}${detail ? `\n          ${detail}` : ''}`);
  }
  for (const f of unexplained) console.error(`cfn-guard: the acknowledgement of ${f.rule} at ${f.acknowledgedAt} has no reason`);
  if (count('unknown', 'open') > 0) console.error('cfn-guard: a finding\'s owner is unknown (no resource, or no creation trace: synthesize without aws:cdk:disable-stack-trace)');
  const open = findings.filter((f) => f.state === 'open').length;
  if (open > 0 && guard.conclusion === 'success') {
    // aws-cdk-lib (2.276) recounts a plugin's report once one of its findings is acknowledged, as passing unless a
    // remaining finding has severity error; this plugin sets none, so the synth did not fail on the findings above.
    console.error(`cfn-guard: the report says 'success' with ${open} open finding(s): acknowledging any finding made the synth pass without them`);
  }
  console.log(`cfn-guard Control Tower controls: library resources: ${count('library', 'open')} open, ${count('library', 'acknowledged')} acknowledged; `
    + `user resources: ${count('user', 'open')} open, ${count('user', 'acknowledged')} acknowledged${count('unknown', 'open') ? `; ${count('unknown', 'open')} open of unknown owner` : ''}`);
}
process.exit(failed ? 1 : 0);
