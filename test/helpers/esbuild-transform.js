// jest's TypeScript transform: esbuild's transformSync, one file at a time, as ts-jest's isolatedModules did but
// about ten times faster on a cold cache (a fresh clone transforms every test, construct and handler once per
// worker). Type checking is `npm run typecheck`'s job. The compiler options that change what the code does
// (target, class fields, decorators) come from tsconfig.json, as for tsc, ts-node and the handler bundles.
//
// One deviation from esbuild's output: the properties of a module's exports object are made configurable, so
// that jest.spyOn can watch a module's function as it could with tsc's CommonJS output (esbuild defines them
// as getters that cannot be redefined).
const { createHash } = require('crypto');
const fs = require('fs');
const path = require('path');
const { transformSync, version } = require('esbuild');

const tsconfigText = fs.readFileSync(path.join(__dirname, '..', '..', 'tsconfig.json'), 'utf8');
const { compilerOptions } = JSON.parse(tsconfigText);
const ownText = fs.readFileSync(__filename, 'utf8');

const EXPORT_GETTER = '{ get: all[name], enumerable: true }';
const COPY_GETTER = '{ get: () => from[key], enumerable: !(desc = __getOwnPropDesc(from, key)) || desc.enumerable }';

module.exports = {
  getCacheKey(source, file) {
    return createHash('sha256').update(version).update('\0').update(ownText).update('\0').update(tsconfigText).update('\0')
      .update(file).update('\0').update(source).digest('hex');
  },
  process(source, file) {
    const { code } = transformSync(source, {
      loader: file.endsWith('.tsx') ? 'tsx' : 'ts',
      format: 'cjs',
      target: 'node20',
      sourcemap: 'inline',
      sourcefile: file,
      tsconfigRaw: { compilerOptions: { target: compilerOptions.target, experimentalDecorators: compilerOptions.experimentalDecorators } },
    });
    return {
      code: code
        .replace(EXPORT_GETTER, '{ get: all[name], enumerable: true, configurable: true }')
        .replace(COPY_GETTER, '{ get: () => from[key], enumerable: !(desc = __getOwnPropDesc(from, key)) || desc.enumerable, configurable: true }'),
    };
  },
};
