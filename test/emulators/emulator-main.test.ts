import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';

let child: ChildProcess | undefined;

afterEach(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
  child = undefined;
});

describe('npm run emulator (src/emulators/main.ts)', () => {
  it('announces itself as the local Interakt EMULATOR with its URL, never the key, and serves the control API', async () => {
    const secretKey = 'real-looking-key-that-must-not-be-logged==';
    child = spawn(process.execPath, ['--import', 'tsx', 'src/emulators/main.ts', '--port', '0'], {
      env: { ...process.env, INTERAKT_API_KEY: secretKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));

    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`emulator did not start: ${output}`)), 20_000);
      child!.stdout!.on('data', () => {
        const match = /(http:\/\/127\.0\.0\.1:\d+)\/v1\/public/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
    });

    expect(output).toMatch(/Interakt EMULATOR/);
    expect(output).not.toContain(secretKey);
    const health = await fetch(`${url}/__emulator/health`);
    expect(await health.json()).toMatchObject({ ok: true, emulator: 'interakt' });

    const send = await fetch(`${url}/v1/public/message/`, {
      method: 'POST',
      headers: { Authorization: `Basic ${secretKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        countryCode: '+91',
        phoneNumber: '9876543210',
        type: 'Template',
        template: { name: 'follow_up', languageCode: 'en', bodyValues: ['Asha'] },
      }),
    });
    expect(send.status).toBe(201);
  });
  it('with --provider meta, announces the local Meta Cloud API EMULATOR and accepts a Graph template send', async () => {
    child = spawn(process.execPath, ['--import', 'tsx', 'src/emulators/main.ts', '--port', '0', '--provider', 'meta'], {
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));

    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`emulator did not start: ${output}`)), 20_000);
      child!.stdout!.on('data', () => {
        const match = /Meta Cloud API EMULATOR .* at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
    });

    const health = await fetch(`${url}/__emulator/health`);
    expect(await health.json()).toMatchObject({ ok: true, emulator: 'meta', phoneNumberId: '100000000000001' });
    const send = await fetch(`${url}/v21.0/100000000000001/messages`, {
      method: 'POST',
      headers: { Authorization: 'Bearer emulator-token', 'Content-Type': 'application/json' },
      body: JSON.stringify({
        messaging_product: 'whatsapp',
        to: '919876543210',
        type: 'template',
        template: {
          name: 'follow_up',
          language: { code: 'en' },
          components: [{ type: 'body', parameters: [{ type: 'text', text: 'Asha' }] }],
        },
      }),
    });
    expect(send.status).toBe(200);
    expect(await send.json()).toMatchObject({ messages: [{ id: expect.stringMatching(/^wamid\./) }] });
  });
});
