// The suites of shadow traffic, idempotency, sticky cohorts and the runtime package, run in one jest module registry (test/helpers/suites.ts).
import { suite } from './helpers/suites';

suite('shadow-constructs', () => require('./shadow-constructs.suite'));
suite('shadow-integration', () => require('./shadow-integration.suite'));
suite('shadow-promotion', () => require('./shadow-promotion.suite'));
suite('shadow-promotion-summary', () => require('./shadow-promotion-summary.suite'));
suite('shadow-promotion-release', () => require('./shadow-promotion-release.suite'));
suite('shadow-dispatcher', () => require('./shadow-dispatcher.suite'));
suite('shadow-e2e', () => require('./shadow-e2e.suite'));
suite('shadow-tap', () => require('./shadow-tap.suite'));
suite('idempotency-table', () => require('./idempotency-table.suite'));
suite('idempotency-runtime', () => require('./idempotency-runtime.suite'));
suite('idempotency-telemetry', () => require('./idempotency-telemetry.suite'));
suite('idempotency-one-request', () => require('./idempotency-one-request.suite'));
suite('cohort', () => require('./cohort.suite'));
suite('cohort-forward', () => require('./cohort-forward.suite'));
suite('cohort-forward-standin', () => require('./cohort-forward-standin.suite'));
suite('cohort-safety-net', () => require('./cohort-safety-net.suite'));
suite('runtime-cache', () => require('./runtime-cache.suite'));
suite('runtime-faults-probe', () => require('./runtime-faults-probe.suite'));
suite('runtime-faults-release', () => require('./runtime-faults-release.suite'));
suite('runtime-faults-shadow', () => require('./runtime-faults-shadow.suite'));
suite('runtime-guardrails', () => require('./runtime-guardrails.suite'));
suite('runtime-middleware', () => require('./runtime-middleware.suite'));
suite('demo-answer', () => require('./demo-answer.suite'));
suite('payloads', () => require('./payloads.suite'));
