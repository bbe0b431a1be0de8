/**
 * `npx tsx bench/summarise-profile.ts <file.cpuprofile> [--top 25] [--under <function>[@<file>] ...]`
 *
 * Where a Node process spent its CPU, from a V8 profile (`node --cpu-prof`, e.g. the API's with
 * `npm run bench:enrol -- --profile-api <dir>`): self time grouped by package (node_modules/<pkg>,
 * our src/<dir>, Node internals, GC, idle) and the hottest functions. Each `--under` adds the time
 * spent in a function and everything it called (e.g. `--under init@vm-shared.js`, the Temporal
 * SDK's promise hook in a worker's workflow thread).
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { fixed, markdownTable } from './support/stats';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function groupOf(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const modules = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/g);
  if (modules) return modules.at(-1)!.replace('node_modules/', '');
  const ours = /\/(src|bench)\/([^/]+)/.exec(url);
  if (ours) return `${ours[1]}/${ours[2]}`;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  return url;
}

function main(): void {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' }, under: { type: 'string', multiple: true, default: [] } },
  });
  const file = positionals[0];
  if (!file)
    throw new Error('usage: tsx bench/summarise-profile.ts <file.cpuprofile> [--top 25] [--under <function>[@<file>]]');
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));

  // Self time per node from the sample stream (timeDeltas[i] is the gap before samples[i]).
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0)));
  const totalUs = [...selfUs.values()].reduce((sum, us) => sum + us, 0);
  const idleUs = [...selfUs]
    .filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)')
    .reduce((sum, [, us]) => sum + us, 0);
  const busyUs = totalUs - idleUs;

  const groups = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    if (node.callFrame.functionName === '(idle)') continue;
    const group = groupOf(node);
    groups.set(group, (groups.get(group) ?? 0) + us);
    const name = `${node.callFrame.functionName || '(anonymous)'} ${group}:${node.callFrame.lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
  }
  const top = Number(values.top);
  const rows = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => [name, fixed(us / 1000, 0), `${fixed((us / busyUs) * 100, 1)}%`]);

  // Inclusive time: a sample counts for a frame when the frame is on its stack.
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const matches = (node: ProfileNode, spec: string): boolean => {
    const [name, fileName] = spec.split('@');
    return node.callFrame.functionName === name && (!fileName || node.callFrame.url.endsWith(`/${fileName}`));
  };
  const underRows = values.under.map((spec) => {
    let us = 0;
    for (const [id, selfTime] of selfUs) {
      for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
        if (matches(byId.get(at)!, spec)) {
          us += selfTime;
          break;
        }
      }
    }
    return [spec, fixed(us / 1000, 0), `${fixed((us / busyUs) * 100, 1)}%`];
  });

  process.stdout.write(
    [
      `Profile ${file}: ${fixed(totalUs / 1e6)} s sampled, ${fixed(busyUs / 1e6)} s busy (not idle).`,
      '',
      markdownTable(['self time by package', 'ms', 'of busy'], rows(groups)),
      '',
      markdownTable(['hottest functions (self)', 'ms', 'of busy'], rows(functions)),
      '',
      ...(underRows.length ? [markdownTable(['time under (inclusive)', 'ms', 'of busy'], underRows), ''] : []),
    ].join('\n'),
  );
}

main();
