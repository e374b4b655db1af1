// Reads the validation report of the last synth (cdk.out/validation-report.json) and fails unless
// cdk-nag's AwsSolutions pack ran, found no unacknowledged violation, and every acknowledgement has a reason.
import { readFileSync } from 'node:fs';

const path = process.argv[2] ?? 'cdk.out/validation-report.json';
const report = JSON.parse(readFileSync(path, 'utf8'));
const nag = (report.pluginReports ?? []).find((p) => p.pluginName === 'AwsSolutions');
if (!nag) {
  console.error(`cdk-nag: no AwsSolutions report in ${path}; is the pack registered in bin/demo-app.ts?`);
  process.exit(1);
}
const open = nag.violations ?? [];
const acknowledged = nag.suppressedViolations ?? [];
const unexplained = acknowledged.filter((v) => typeof v.reason !== 'string' || v.reason.trim().length < 10);
for (const v of open) console.error(`cdk-nag: ${v.ruleName}: ${v.description} at ${(v.violatingConstructs ?? []).map((c) => c.constructPath).join(', ')}`);
for (const v of unexplained) console.error(`cdk-nag: acknowledgement of ${v.ruleName} has no reason`);
console.log(`cdk-nag AwsSolutions: ${nag.conclusion}, ${open.length} open violation(s), ${acknowledged.length} acknowledged with reasons`);
process.exit(open.length === 0 && unexplained.length === 0 && nag.conclusion === 'success' ? 0 : 1);
