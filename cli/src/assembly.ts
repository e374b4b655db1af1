// Reads a cloud assembly as `cdk synth` writes it (cdk.out/manifest.json, one template per stack, nested
// assemblies for stages): plain JSON, no aws-cdk-lib.
import * as fs from 'fs';
import * as path from 'path';
import { CliInputError } from './errors';

/** One CloudFormation resource of a template. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
  readonly UpdatePolicy?: Record<string, unknown>;
}

/** A synthesized stack: its name, its template and the assembly directory its assets live in. */
export interface AssemblyStack {
  /** The stack's display name (`Stage/Stack` inside a stage), else its artifact ID. */
  readonly name: string;
  readonly artifactId: string;
  readonly templateFile: string;
  readonly directory: string;
  readonly resources: Record<string, CfnResource>;
  /** Construct paths by logical ID, from the stack's metadata (`aws:cdk:logicalId` entries). */
  readonly paths: Record<string, string>;
}

interface Manifest {
  readonly artifacts?: Record<string, {
    type: string; displayName?: string; properties?: Record<string, unknown>;
    metadata?: Record<string, Array<{ type: string; data: unknown }>>; additionalMetadataFile?: string;
  }>;
}

/** Construct paths by logical ID: the metadata inline in the manifest, or in the file beside it that newer CDK versions write. */
function pathsOf(directory: string, artifact: NonNullable<Manifest['artifacts']>[string]): Record<string, string> {
  let metadata = artifact.metadata ?? {};
  if (artifact.additionalMetadataFile && fs.existsSync(path.join(directory, artifact.additionalMetadataFile))) {
    metadata = { ...metadata, ...(readJson(path.join(directory, artifact.additionalMetadataFile), 'the stack metadata') as typeof metadata) };
  }
  const paths: Record<string, string> = {};
  for (const [constructPath, entries] of Object.entries(metadata)) {
    for (const entry of entries) if (entry.type === 'aws:cdk:logicalId' && typeof entry.data === 'string') paths[entry.data] = constructPath.replace(/^\//, '');
  }
  return paths;
}

function readJson(file: string, what: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CliInputError(`${what} ${file} is not readable JSON: ${(error as Error).message}`);
  }
}

function stacksIn(directory: string, depth: number): AssemblyStack[] {
  const manifest = readJson(path.join(directory, 'manifest.json'), 'the cloud assembly manifest') as Manifest;
  const stacks: AssemblyStack[] = [];
  for (const [artifactId, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type === 'aws:cloudformation:stack') {
      const templateFile = path.join(directory, String(artifact.properties?.templateFile ?? `${artifactId}.template.json`));
      const template = readJson(templateFile, `the template of stack ${artifactId}`) as { Resources?: Record<string, CfnResource> };
      stacks.push({ name: artifact.displayName ?? artifactId, artifactId, templateFile, directory, resources: template.Resources ?? {}, paths: pathsOf(directory, artifact) });
    } else if (artifact.type === 'cdk:cloud-assembly' && depth < 4) {
      const nested = path.join(directory, String(artifact.properties?.directoryName ?? ''));
      if (fs.existsSync(path.join(nested, 'manifest.json'))) stacks.push(...stacksIn(nested, depth + 1));
    }
  }
  return stacks;
}

/** Every stack of the cloud assembly in `directory` (`--app`), nested stages included. */
export function readAssembly(directory: string): AssemblyStack[] {
  const manifest = path.join(directory, 'manifest.json');
  if (!fs.existsSync(directory)) {
    throw new CliInputError(`--app ${directory}: no such directory; run 'cdk synth' first (it writes cdk.out), or pass --app <cloud assembly directory>`);
  }
  if (!fs.existsSync(manifest)) {
    throw new CliInputError(`--app ${directory}: not a cloud assembly (no manifest.json in it); run 'cdk synth' first, or pass --app <cloud assembly directory>`);
  }
  return stacksIn(directory, 0);
}

/** The construct path CDK recorded for a resource (`Stack/Answer/Alias/Resource`), if any. */
export function cdkPath(stack: AssemblyStack, logicalId: string): string | undefined {
  const value = stack.resources[logicalId]?.Metadata?.['aws:cdk:path'];
  return typeof value === 'string' ? value : stack.paths[logicalId];
}

/**
 * The folder of a Lambda function's code asset in the assembly: from its `aws:asset:path` metadata (the CDK CLI
 * asks for it), else from the asset hash its S3Key carries (`<hash>.zip` → `asset.<hash>`).
 */
export function assetDirectory(stack: AssemblyStack, logicalId: string): string | undefined {
  const fn = stack.resources[logicalId];
  const recorded = fn?.Metadata?.['aws:asset:path'];
  if (typeof recorded === 'string') return path.resolve(stack.directory, recorded);
  const key = (fn?.Properties?.Code as { S3Key?: unknown } | undefined)?.S3Key;
  const hash = typeof key === 'string' ? /^([0-9a-f]{64})\.zip$/.exec(key)?.[1] : undefined;
  return hash && fs.existsSync(path.join(stack.directory, `asset.${hash}`)) ? path.join(stack.directory, `asset.${hash}`) : undefined;
}
