import { describe, expect, it } from 'vitest';
import { MissingVariableError, resolveVariable, type LeadValues } from '../../src/messages/variables';

const lead = (customFields: Record<string, unknown>): LeadValues => ({
  name: 'Asha Rao',
  phone: '+919812345678',
  status: 'New',
  stage: 'Lead',
  customFields,
});

describe('resolveVariable from custom fields', () => {
  it("reads the lead's own scalar custom fields", () => {
    expect(resolveVariable(lead({ city: 'Pune', floors: 3, vip: true }), { field: 'custom.city' })).toBe('Pune');
    expect(resolveVariable(lead({ floors: 3 }), { field: 'custom.floors' })).toBe('3');
    expect(resolveVariable(lead({ vip: true }), { field: 'custom.vip' })).toBe('true');
  });

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])(
    'never reads the inherited %s: the value is missing',
    (name) => {
      expect(() => resolveVariable(lead({}), { field: `custom.${name}` })).toThrow(MissingVariableError);
    },
  );

  it('treats a nested object written into the CRM by hand as missing, never as [object Object]', () => {
    expect(() => resolveVariable(lead({ address: { city: 'Pune' } }), { field: 'custom.address' })).toThrow(
      MissingVariableError,
    );
  });
});
