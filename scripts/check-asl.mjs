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
import { checkAsl } from './asl-check-lib.mjs';

process.exitCode = checkAsl(process.argv.slice(2));
