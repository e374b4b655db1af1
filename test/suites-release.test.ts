// The suites of GuardedAlias, blue-green, the lifecycle hooks and the ΔS probe, run in one jest module registry (test/helpers/suites.ts).
import { suite } from './helpers/suites';

suite('blue-green-machine', () => require('./blue-green-machine.suite'));
suite('blue-green-engine', () => require('./blue-green-engine.suite'));
suite('blue-green-handlers', () => require('./blue-green-handlers.suite'));
suite('blue-green-notify', () => require('./blue-green-notify.suite'));
suite('guarded-alias', () => require('./guarded-alias.suite'));
suite('guarded', () => require('./guarded.suite'));
suite('delta-s-probe', () => require('./delta-s-probe.suite'));
suite('probe-warmup', () => require('./probe-warmup.suite'));
suite('probe-e2e', () => require('./probe-e2e.suite'));
suite('probe-bedrock', () => require('./probe-bedrock.suite'));
suite('probe-engine', () => require('./probe-engine.suite'));
suite('probe-gold-set', () => require('./probe-gold-set.suite'));
suite('probe-latency', () => require('./probe-latency.suite'));
suite('probe-paraphrase', () => require('./probe-paraphrase.suite'));
suite('probe-reuse-store', () => require('./probe-reuse-store.suite'));
suite('probe-reuse', () => require('./probe-reuse.suite'));
suite('probe-runtime', () => require('./probe-runtime.suite'));
suite('probe-stop-rules', () => require('./probe-stop-rules.suite'));
suite('hook-handlers', () => require('./hook-handlers.suite'));
suite('hook-kit', () => require('./hook-kit.suite'));
suite('control-version', () => require('./control-version.suite'));
suite('error-classes', () => require('./error-classes.suite'));
suite('release-runtime', () => require('./release-runtime.suite'));
