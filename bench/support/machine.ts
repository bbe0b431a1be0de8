/** What a bench report says about where it ran: the machine, the tool versions, the code measured. */
import { execFile } from 'node:child_process';
import os from 'node:os';
import { REPO_ROOT } from '../../temporal/paths.cjs';
import { temporalCliVersion } from './system';

export interface Machine {
  /** Commit measured, and whether src/ differed from it. */
  revision: string;
  cpu: string;
  cores: number;
  memory: string;
  os: string;
  node: string;
  temporal: string;
}

export async function describeMachine(): Promise<Machine> {
  const cpus = os.cpus();
  return {
    revision: await gitRevision(),
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memory: `${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    temporal: await temporalCliVersion().catch(() => 'unknown'),
  };
}

export function machineLine(machine: Machine): string {
  return `${machine.cpu}, ${machine.cores} cores, ${machine.memory} RAM, ${machine.os}; Node ${machine.node}; ${machine.temporal}. Code: ${machine.revision}.`;
}

async function gitRevision(): Promise<string> {
  const git = (...args: string[]) =>
    new Promise<string>((resolve) =>
      execFile('git', args, { cwd: REPO_ROOT }, (error, stdout) => resolve(error ? '' : stdout.trim())),
    );
  const commit = await git('rev-parse', '--short', 'HEAD');
  if (!commit) return 'unknown revision';
  const changed = (await git('status', '--porcelain', '--', 'src', 'temporal', 'package.json', 'package-lock.json'))
    .split('\n')
    .filter(Boolean).length;
  return changed === 0
    ? `commit ${commit}`
    : `commit ${commit} with ${changed} uncommitted change(s) in src/, temporal/ or package files`;
}
