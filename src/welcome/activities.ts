import { getLead } from '../db/queries';
import { sendIdempotencyKey } from '../shared';
import { welcomeWorkflowId } from './contract';
import type { StepOutcome } from '../messages/contract';
import { sendTemplateMessage, type SendDeps } from '../messages/send';
import type { WelcomeWorkflowInput } from './contract';

export type SendWelcomeInput = Omit<WelcomeWorkflowInput, 'sendTaskQueue'>;

export function createWelcomeActivities(deps: SendDeps) {
  return {
    /**
     * Sends the welcome template to a new lead, at most once per lead: the idempotency key is
     * `welcome-<leadId>:0` whichever run asks, so a second start of the workflow, or a retry,
     * finds the first send in the message log. {{1}} is the lead's name; a document header takes
     * the configured URL, else the template's default media.
     */
    async sendWelcome(input: SendWelcomeInput): Promise<StepOutcome> {
      const lead = await getLead(deps.db, input.leadId);
      if (!lead) return { kind: 'skipped', reason: 'lead_not_found' };
      if (lead.optedOut) return { kind: 'skipped', reason: 'opted_out' };

      const workflowId = welcomeWorkflowId(lead.id);
      // Checked against Message Master like every send: an unknown or unapproved template is a
      // permanent failure on record (template_not_usable), never a send.
      const result = await sendTemplateMessage(deps, {
        idempotencyKey: sendIdempotencyKey(workflowId, 0),
        leadId: lead.id,
        phone: lead.phone,
        message: {
          templateName: input.templateName,
          languageCode: input.templateLanguage,
          bodyValues: [lead.name],
          ...(input.headerMediaUrl && { headerValues: [input.headerMediaUrl] }),
          ...(input.fileName && { fileName: input.fileName }),
        },
        referenceType: 'welcome',
        referenceId: String(lead.id),
        workflowId,
        stepIndex: 0,
      });
      return { kind: 'sent', ...result };
    },
  };
}

export type WelcomeActivities = ReturnType<typeof createWelcomeActivities>;
