// Runs before each test file (jest setupFiles, after test/setup-env.ts), in the file's own copy of process.env.
import { disableCreationStackTraces } from './synth-context';

// No creation stack traces in the tests' synths (see synth-context.ts); a suite that needs them calls
// keepCreationStackTraces() before it creates its apps.
disableCreationStackTraces();

// The AWS SDK warns once per test file that its releases after January 2027 will need Node.js 22; the tests run
// on the Node.js the project supports (package.json engines), so the warning says nothing about them.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// jest raises the stack trace limit to 100 frames for its failure messages. aws-cdk-lib captures a trace for every
// acknowledged rule (cdk-nag's and cfn-guard's), each frame mapped through the source maps: at 100 frames, seconds of
// a synth-heavy suite. 30 frames still reach from any failure here to the test that made it.
Error.stackTraceLimit = 30;
