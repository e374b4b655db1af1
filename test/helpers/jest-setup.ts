// Runs before each test file (jest setupFiles, after test/setup-env.ts), in the file's own copy of process.env.
import { disableAssetStaging, disableCreationStackTraces } from './synth-context';

// No creation stack traces in the tests' synths (see synth-context.ts), and no assets copied into their assemblies; a
// suite that needs the traces calls keepCreationStackTraces() before it creates its apps, and an assembly the CLI
// reads is made with withAssetStaging().
disableCreationStackTraces();
disableAssetStaging();

// The AWS SDK warns once per test file that its releases after January 2027 will need Node.js 22; the tests run
// on the Node.js the project supports (package.json engines), so the warning says nothing about them.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
