#!/usr/bin/env node
// Validates every Step Functions state machine of synthesized CloudFormation templates with asl-validator.
//
//   node scripts/check-asl.mjs [--allow-none] [<cloud assembly dir or template file> ...]
//
// Default: cdk.out (every *.template.json in it and in its nested assemblies). Each definition is rebuilt from
// DefinitionString/Definition with intrinsic functions resolved to placeholder values (scripts/asl-check-lib.mjs),
// then judged by asl-validator: the ASL JSON schemas, JSONPath syntax, JSONata `{% %}` expressions compiled,
// transition targets and terminal states. asl-validator 4.0.0 does not look inside catchers (Catch[].ResultPath,
// Output, Assign); those are judged with its own schemas as the same fields of a Pass state (CATCHER_INVALID).
// Exits 1 on any error, and when no state machine was found at all
// (unless --allow-none), so the check cannot pass over nothing; 2 on a usage error.
import { existsSync } from 'node:fs';
import { checkTemplate, findTemplates } from './asl-check-lib.mjs';

const argv = process.argv.slice(2);
const allowNone = argv.includes('--allow-none');
const unknown = argv.filter((a) => a.startsWith('-') && a !== '--allow-none');
if (unknown.length > 0) {
  console.error(`asl-validator: unknown option(s) ${unknown.join(' ')}; usage: check-asl.mjs [--allow-none] [<cloud assembly dir or template file> ...]`);
  process.exit(2);
}
const args = argv.filter((a) => !a.startsWith('-'));
const inputs = args.length > 0 ? args : ['cdk.out'];
const missing = inputs.filter((p) => !existsSync(p));
if (missing.length > 0) {
  console.error(`asl-validator: no such file or directory: ${missing.join(', ')}${args.length === 0 ? ' (run `npm run synth` first)' : ''}`);
  process.exit(2);
}

const files = findTemplates(inputs);
let machines = 0;
let failed = 0;
for (const file of files) {
  const result = checkTemplate(file);
  if (result.error) {
    failed++;
    console.error(`asl-validator: ${file}: ${result.error}`);
    continue;
  }
  for (const m of result.machines) {
    machines++;
    if (m.errors.length === 0) {
      console.log(`asl-validator: ${file} ${m.logicalId}: valid (${m.states} states)`);
    } else {
      failed++;
      console.error(`asl-validator: ${file} ${m.logicalId}: INVALID, ${m.errors.filter((e) => !e.startsWith('  ')).length} error(s):`);
      for (const e of m.errors) console.error(`  ${e}`);
    }
  }
}

const scope = `${machines} state machine(s) in ${files.length} template(s)`;
if (failed > 0) {
  console.error(`asl-validator: ${scope}, ${failed} invalid`);
  process.exit(1);
}
if (machines === 0 && !allowNone) {
  console.error(`asl-validator: no state machine (AWS::StepFunctions::StateMachine) in ${files.length} template(s) under ${inputs.join(', ')}; nothing was checked (pass --allow-none if that is expected)`);
  process.exit(1);
}
console.log(`asl-validator: ${scope}, no errors`);
