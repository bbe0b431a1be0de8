import type { Db } from '../../src/db/client';
import {
  createTemplate,
  getTemplateByNameLanguage,
  updateTemplate,
  type CreateTemplateParams,
  type Template,
  type TemplateButton,
} from '../../src/db/queries';
import {
  DEFAULT_EMULATOR_TEMPLATES,
  EmulatorTemplateSchema,
  type EmulatorTemplate,
} from '../../src/emulators/interakt-templates';
import { normaliseApprovalStatus } from '../../src/providers/approval-status';

/**
 * Puts templates into Message Master as a sync from the emulator would: by default the emulator's
 * own seeded templates (drip_day_1..3, follow_up, welcome_message, seller_registration), Approved.
 * Takes the emulator's input form, so a test can give the same template to both. Idempotent: a
 * template already there (same name + language) is overwritten, and un-archived.
 */
export async function seedTemplates(
  db: Db,
  templates: readonly EmulatorTemplate[] = DEFAULT_EMULATOR_TEMPLATES,
): Promise<Template[]> {
  const seeded: Template[] = [];
  for (const template of templates) {
    const values = messageMasterValues(template);
    const existing = await getTemplateByNameLanguage(db, values.name, values.language);
    seeded.push(
      existing
        ? (await updateTemplate(db, existing.id, { ...values, archivedAt: null, removedUpstreamAt: null }))!
        : await createTemplate(db, values),
    );
  }
  return seeded;
}

function messageMasterValues(input: EmulatorTemplate): CreateTemplateParams {
  const template = EmulatorTemplateSchema.parse(input);
  const header = template.header;
  return {
    name: template.name,
    language: template.language,
    category: template.category,
    approvalStatus: normaliseApprovalStatus(template.approvalStatus),
    headerType: header ? (header.format.toLowerCase() as CreateTemplateParams['headerType']) : 'none',
    headerText: header?.format === 'TEXT' ? header.text : null,
    // A sync keeps Interakt's sample media as the header's default, as here.
    headerMediaUrl: header && header.format !== 'TEXT' ? (header.exampleUrl ?? null) : null,
    body: template.body,
    footer: template.footer ?? null,
    buttons: (template.buttons ?? []).map((button): TemplateButton =>
      button.type === 'PHONE_NUMBER'
        ? { type: button.type, text: button.text, phoneNumber: button.phone_number }
        : button,
    ),
    provider: 'interakt',
    source: 'interakt',
  };
}
