/** The welcome workflow's contract: its id and what it is started with; workflow-safe. */
export const welcomeWorkflowId = (leadId: number): string => `welcome-${leadId}`;

/** What `welcome-<leadId>` is started with: the settings as they were when the lead was created. */
export interface WelcomeWorkflowInput {
  leadId: number;
  templateName: string;
  templateLanguage: string;
  /** Media URL for a document header (e.g. a policies PDF). */
  headerMediaUrl?: string | undefined;
  /** File name shown for the document header. */
  fileName?: string | undefined;
  sendTaskQueue: string;
}
