// The live function's side of ShadowIntegration: its tap, configured through its environment, and whether
// its code can be seen to call shadowTap().
import * as fs from 'fs';
import * as path from 'path';
import { AssetStaging, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { DEFAULT_MAX_RECORD_BYTES, SHADOW_TAP_ENV } from 'cdk-rollout-guardrails-runtime/contract';
import { ShadowSettings } from './validate-props';

/** Configures the live function's tap through its environment: what it samples, copies and redacts. */
export function configureTap(settings: ShadowSettings, routeKey: string): void {
  const p = settings.props;
  const tapEnv: Record<string, string> = {
    [SHADOW_TAP_ENV.sampleRate]: String(p.sampleRate),
    [SHADOW_TAP_ENV.routes]: JSON.stringify([routeKey]),
    [SHADOW_TAP_ENV.methods]: JSON.stringify(settings.allowMethods),
    [SHADOW_TAP_ENV.headers]: JSON.stringify(settings.headers.map((h) => h.toLowerCase())),
    [SHADOW_TAP_ENV.redactPaths]: JSON.stringify(settings.redactPaths),
    [SHADOW_TAP_ENV.maxRecordBytes]: String(p.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES),
  };
  for (const [name, value] of Object.entries(tapEnv)) settings.liveFunction.addEnvironment(name, value);
}

/** Largest code file read to look for the tap: a bundle beyond it is not read (the note stays). */
const MAX_SCANNED_CODE_BYTES = 20 * 1024 * 1024;

/**
 * Whether the live function's code visibly calls `shadowTap(...)`: its inline code, or the handler's module
 * (`index.handler` → index.js, .mjs or .cjs) in its asset directory as staged for deployment. Comments are
 * left out, and so is the tap's own definition (`function shadowTap(`), which a bundle carries whether the
 * handler is wrapped or not. A minified bundle renames the call, so it is not seen there.
 */
export function tapEvidence(fn: lambda.Function): { seen: boolean; looked: string } {
  const cfn = fn.node.defaultChild as lambda.CfnFunction;
  const stack = Stack.of(fn);
  const code = stack.resolve(cfn.code) as { zipFile?: unknown; s3Key?: unknown } | undefined;
  if (typeof code?.zipFile === 'string') return { seen: callsShadowTap(code.zipFile), looked: 'its inline code was read' };
  const handler = stack.resolve(cfn.handler);
  const asset = fn.node.tryFindChild('Code') instanceof s3assets.Asset ? fn.node.tryFindChild('Code') as s3assets.Asset
    : stack.node.findAll().find((c): c is s3assets.Asset => c instanceof s3assets.Asset && typeof code?.s3Key === 'string' && stack.resolve(c.s3ObjectKey) === code.s3Key);
  const staging = asset?.node.tryFindChild('Stage');
  const dir = staging instanceof AssetStaging ? staging.absoluteStagedPath : undefined;
  if (!dir || typeof handler !== 'string' || !handler.includes('.')) return { seen: false, looked: 'its code cannot be read at synth' };
  const module = handler.slice(0, handler.lastIndexOf('.'));
  for (const ext of ['.js', '.mjs', '.cjs']) {
    const file = path.join(dir, module + ext);
    try {
      if (!fs.statSync(file).isFile()) continue;
      if (fs.statSync(file).size > MAX_SCANNED_CODE_BYTES) return { seen: false, looked: `${module + ext} of its asset is too large to read` };
      const seen = callsShadowTap(fs.readFileSync(file, 'utf8'));
      return { seen, looked: `${module + ext} of its asset was read${seen ? '' : '; a minified bundle hides the call'}` };
    } catch {
      continue;
    }
  }
  return { seen: false, looked: `no ${module}.js, .mjs or .cjs in its asset directory` };
}

/** Whether JavaScript text calls `shadowTap(` (directly or as `(0, x.shadowTap)(`), comments aside. */
function callsShadowTap(source: string): boolean {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:\\'"`])\/\/.*$/gm, '$1');
  for (const match of code.matchAll(/(function\s*\*?\s*)?\bshadowTap\b\s*\)?\s*\(/g)) {
    if (!match[1]) return true;
  }
  return false;
}
