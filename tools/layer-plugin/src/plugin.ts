import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CreateNodesContextV2, CreateNodesResult, TargetConfiguration } from '@nx/devkit';
import { layerTargets, summaryTarget, typecheckTarget, type LayerSettings } from './targets.ts';

/**
 * The one place where groundwork's targets are wired. Every package whose package.json says
 * `"groundwork": { "layer": true }` gets generate, verify and apply; every package with a tsconfig.json
 * gets typecheck; the one that says `"summary": true` gets the cluster-wide summary. Nothing is copied into the projects themselves.
 */

interface Manifest {
  groundwork?: LayerSettings & { layer?: boolean; summary?: boolean };
}

type Result = [string, CreateNodesResult];

function nodesFor(file: string, context: CreateNodesContextV2): Result {
  const manifest = JSON.parse(readFileSync(join(context.workspaceRoot, file), 'utf8')) as Manifest;
  const root = dirname(file);
  const targets: Record<string, TargetConfiguration> = {};
  if (existsSync(join(context.workspaceRoot, root, 'tsconfig.json'))) targets.typecheck = typecheckTarget(root);
  if (manifest.groundwork?.layer) Object.assign(targets, layerTargets(root, manifest.groundwork));
  if (manifest.groundwork?.summary) targets.summary = summaryTarget(root);
  return [file, Object.keys(targets).length ? { projects: { [root]: { targets } } } : {}];
}

export const createNodesV2 = [
  '{packages,tools}/*/package.json',
  async (files: readonly string[], _options: unknown, context: CreateNodesContextV2): Promise<Result[]> => files.map((file) => nodesFor(file, context)),
] as const;

export const createNodes = createNodesV2;
