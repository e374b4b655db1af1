// The suites of the example app, its templates and judges (asl-validator on the state machines), the release dashboard, the CLI, and the shadow route constructs, run in one jest module registry (test/helpers/suites.ts).
import { suite } from './helpers/suites';

suite('example-app', () => require('./example-app.suite'));
suite('cli-rehearse', () => require('./cli-rehearse.suite'));
suite('cli-report', () => require('./cli-report.suite'));
suite('templates', () => require('./templates.suite'));
suite('release-dashboard', () => require('./release-dashboard.suite'));
suite('cli-input', () => require('./cli-input.suite'));
suite('newcomer', () => require('./newcomer.suite'));
suite('dependency-direction', () => require('./dependency-direction.suite'));
suite('cli-operate', () => require('./cli-operate.suite'));
suite('cli-operate-standin', () => require('./cli-operate-standin.suite'));
suite('shadow-constructs', () => require('./shadow-constructs.suite'));
suite('shadow-integration', () => require('./shadow-integration.suite'));
suite('asl-validator', () => require('./asl-validator.suite'));
