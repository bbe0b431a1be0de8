import fs from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, loadConfig } from '../src/config';

const ENV_EXAMPLE = fs.readFileSync(path.join(__dirname, '..', '.env.example'), 'utf8');

describe('.env.example', () => {
  it('lists exactly the variables src/config.ts reads, each once', () => {
    // Every assignment line, duplicates kept (parseEnv would fold them into one key).
    const listed = [...ENV_EXAMPLE.matchAll(/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=/gm)].map((match) => match[1]);
    expect(listed.sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it('holds values config.ts accepts wherever it fills one in', () => {
    const filledIn = Object.fromEntries(Object.entries(parseEnv(ENV_EXAMPLE)).filter(([, value]) => value !== ''));
    expect(Object.keys(filledIn).length).toBeGreaterThan(0);
    expect(() => loadConfig(filledIn)).not.toThrow();
  });
});
