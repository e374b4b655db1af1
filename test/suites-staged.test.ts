// The suites of the staged rollout (constructs, gates, gate function, machine, fences, consumers, warm-up, sticky cohorts, operator commands, scale), run in one jest module registry (test/helpers/suites.ts).
import { suite } from './helpers/suites';

suite('bench-stacks', () => require('./bench-stacks.suite'));
suite('cohort-staged', () => require('./cohort-staged.suite'));
suite('gates', () => require('./gates.suite'));
suite('staged-constructs', () => require('./staged-constructs.suite'));
suite('draining', () => require('./draining.suite'));
suite('operator', () => require('./operator.suite'));
suite('staged-rollout', () => require('./staged-rollout.suite'));
suite('warm', () => require('./warm.suite'));
suite('staged-consumers', () => require('./staged-consumers.suite'));
suite('staged-fences', () => require('./staged-fences.suite'));
suite('staged-machine-run', () => require('./staged-machine-run.suite'));
suite('gates-low-traffic', () => require('./gates-low-traffic.suite'));
suite('guarded-alias-options', () => require('./guarded-alias-options.suite'));
suite('warm-gate', () => require('./warm-gate.suite'));
suite('staged-handlers', () => require('./staged-handlers.suite'));
suite('staged-gate-engine', () => require('./staged-gate-engine.suite'));
suite('fence-key', () => require('./fence-key.suite'));
suite('safety-nets', () => require('./safety-nets.suite'));
suite('cohort', () => require('./cohort.suite'));
suite('cohort-forward', () => require('./cohort-forward.suite'));
suite('cohort-forward-standin', () => require('./cohort-forward-standin.suite'));
suite('cohort-safety-net', () => require('./cohort-safety-net.suite'));
