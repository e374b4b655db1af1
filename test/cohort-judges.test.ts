// Sticky cohorts' resources before the judges nobody here wrote: cdk-nag's AwsSolutions pack, AWS Control Tower's
// proactive controls (cfn-guard) and asl-validator on the state machine.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { GuardedAlias, RolloutStrategy } from '../lib';
import { FEATURE_FLAGS, TEST_ENV, testFunction } from './util';
import { checkAslCli } from './helpers/asl-check';
import { RelevantControlTowerRules } from './helpers/guard-plugin';
import { keepCreationStackTraces } from './helpers/synth-context';

keepCreationStackTraces();
const CHECK_GUARD = path.join(__dirname, '..', 'scripts', 'check-guard-report.mjs');

describe('a stack with a sticky staged alias', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cohort-judges-'));
  let report: any;
  beforeAll(() => {
    const app = new App({ context: { ...FEATURE_FLAGS, '@aws-cdk/core:failSynthOnValidationErrors': false }, outdir });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new RelevantControlTowerRules());
    const stack = new Stack(app, 'Sticky', { env: TEST_ENV });
    new GuardedAlias(stack, 'Answer', { function: testFunction(stack, 'Fn'), strategy: RolloutStrategy.staged({ stickyCohorts: {} }) });
    app.synth();
    report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
  }, 120_000);
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  const cohortPaths = (v: any) => (v.violatingConstructs ?? []).map((c: any) => c.constructPath as string)
    .filter((p: string) => /CohortTable|CohortCanary|CohortForward/.test(p));

  test('cdk-nag: no open finding on the cohort table, the canary alias or the forwarding policy; the table says why it has no PITR', () => {
    const nag = report.pluginReports.find((p: any) => p.pluginName === 'AwsSolutions');
    expect(nag.violations.flatMap(cohortPaths)).toEqual([]);
    // Nor on the machinery's or the guarded alias's own resources (the test's function aside).
    const library = (v: any) => (v.violatingConstructs ?? []).map((c: any) => `${v.ruleName} ${c.constructPath}`)
      .filter((p: string) => / Sticky\/(StagedRollout|Answer)\//.test(p));
    expect(nag.violations.flatMap(library)).toEqual([]);
    const acknowledged = nag.suppressedViolations.filter((v: any) => String(v.acknowledgedAt).includes('CohortTable'));
    expect(acknowledged.map((v: any) => v.ruleName)).toEqual(['AwsSolutions-DDB3']);
  });

  test('cfn-guard (Control Tower): no open finding on a library resource', () => {
    const run = spawnSync(process.execPath, [CHECK_GUARD, path.join(outdir, 'validation-report.json'), '--json'], { encoding: 'utf8' });
    const findings = JSON.parse(run.stdout).findings as Array<{ state: string; owner: string; rule: string; constructPath: string }>;
    expect(findings.filter((f) => f.owner === 'library' && f.state === 'open').map((f) => `${f.rule} ${f.constructPath}`)).toEqual([]);
    expect(findings.filter((f) => f.constructPath.includes('CohortTable')).map((f) => `${f.rule} ${f.state}`).sort()).toEqual([
      'dynamodb_table_encrypted_kms_check acknowledged', 'dynamodb_table_pitr_enabled_check acknowledged',
    ]);
  });

  test('asl-validator on the state machine (cfn-lint runs on the integ snapshot of a sticky stack in CI)', () => {
    const asl = checkAslCli(outdir);
    expect(asl.stderr).toBe('');
    expect(asl.status).toBe(0);
  });
});
