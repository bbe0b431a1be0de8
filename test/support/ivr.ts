/** Fixtures for the IVR tests: CTA flows answering an IVR number, and callers' mobile numbers. */
import type { Db } from '../../src/db/client';
import { createCtaFlow, type CtaFlow, type NewCtaFlow } from '../../src/db/queries';

let flowCounter = 0;
let phoneCounter = 0;

/** A live CTA flow with long timings (nothing here waits for them). */
export function createIvrFlow(db: Db, overrides: Partial<NewCtaFlow> = {}): Promise<CtaFlow> {
  flowCounter += 1;
  return createCtaFlow(db, {
    name: `IVR flow ${flowCounter}`,
    templateName: 'project_update_template',
    templateLanguage: 'en',
    projectName: 'Skyline Towers',
    bodyVariables: [{ field: 'name' }, { value: 'Skyline Towers' }],
    interestedButtonIndex: 0,
    notInterestedButtonIndex: 1,
    reminderAfterSeconds: 86_400,
    closeAfterSeconds: 86_400,
    tokenTtlSeconds: 7 * 86_400,
    brochureTemplateName: 'project_brochure',
    brochureTemplateLanguage: 'en',
    brochureUrl: null,
    brochureFileName: null,
    followUpCallAfterSeconds: 3_600,
    ivrNumber: null,
    ...overrides,
  });
}

/** A distinct Indian mobile number in E.164, e.g. `+919876500001`. */
export function nextMobile(): string {
  phoneCounter += 1;
  return `+91987650${String(phoneCounter).padStart(4, '0')}`;
}

/** A distinct Bengaluru landline, as IVR numbers usually are: `{ e164, national }`. */
export function nextIvrLine(): { e164: string; national: string } {
  flowCounter += 1;
  const last = String(flowCounter).padStart(2, '0');
  return { e164: `+9180445566${last}`, national: `080 4455 66${last}` };
}
