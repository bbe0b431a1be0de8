import type { LeadField, TemplateVariables, VariableSource } from '../shared';
import type { TemplateSend } from '../providers/types';

/** The lead fields a template variable can read. */
export interface LeadValues {
  name: string;
  firstName?: string | null;
  lastName?: string | null;
  phone: string;
  email?: string | null;
  status: string;
  stage: string;
  customFields: Record<string, unknown>;
}

export class MissingVariableError extends Error {
  readonly code = 'missing_variable';
}

/** Reads one variable; an empty value is an error because WhatsApp rejects empty parameters. */
export function resolveVariable(lead: LeadValues, source: VariableSource): string {
  const value = 'value' in source ? source.value : readField(lead, source.field);
  if (value.trim() === '') {
    const what = 'field' in source ? `lead field "${source.field}"` : 'literal value';
    throw new MissingVariableError(`template variable from ${what} is empty`);
  }
  return value;
}

/** The text of one lead field as a template variable (or a mirrored trait) reads it; empty when unset. */
export function readField(lead: LeadValues, field: LeadField): string {
  if (field.startsWith('custom.')) {
    // Own properties only, and only scalars: an inherited name (`constructor`) or a nested object
    // written into the CRM by hand must never reach the lead as `[object Object]`.
    const key = field.slice('custom.'.length);
    if (!Object.hasOwn(lead.customFields, key)) return '';
    const raw: unknown = lead.customFields[key];
    return typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : '';
  }
  switch (field) {
    case 'firstName':
      return lead.firstName ?? lead.name.split(/\s+/)[0] ?? '';
    case 'lastName':
      return lead.lastName ?? lead.name.split(/\s+/).slice(1).join(' ');
    case 'name':
    case 'phone':
    case 'status':
    case 'stage':
      return lead[field];
    case 'email':
      return lead.email ?? '';
    default:
      return '';
  }
}

/** Turns a step's variable mapping into the values of one send. */
export function resolveTemplateValues(
  lead: LeadValues,
  variables: TemplateVariables,
): Pick<TemplateSend, 'headerValues' | 'bodyValues' | 'buttonValues' | 'fileName'> {
  const resolveAll = (sources: VariableSource[] | undefined) => sources?.map((source) => resolveVariable(lead, source));
  const buttonValues = variables.buttons
    ? Object.fromEntries(
        Object.entries(variables.buttons).map(([index, sources]) => [index, resolveAll(sources) ?? []]),
      )
    : undefined;
  return {
    headerValues: resolveAll(variables.header),
    bodyValues: resolveAll(variables.body),
    buttonValues,
    fileName: variables.fileName,
  };
}
