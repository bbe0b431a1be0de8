import type { ProviderName } from '../shared';

export type HeaderFormat = 'text' | 'image' | 'video' | 'document';

/** A template send as our code describes it; each client renders its provider's wire format. */
export interface TemplateSend {
  /** Recipient in E.164, e.g. `+919876543210`. */
  to: string;
  templateName: string;
  languageCode: string;
  /** Text-header variable, or the media URL for image / video / document headers. */
  headerValues?: string[];
  /**
   * The template's header kind, when known (Message Master). Meta needs it to label the header
   * parameter; without it the Meta client infers it from `fileName` and the URL. Interakt ignores it.
   */
  headerFormat?: HeaderFormat;
  /** File name shown for a document header. */
  fileName?: string;
  bodyValues?: string[];
  /** Keyed by the button's 0-based index in the template. */
  buttonValues?: Record<string, string[]>;
  /** Our correlation id, echoed back by the provider in its webhooks. */
  callbackData?: string;
}

export interface SendAccepted {
  provider: ProviderName;
  /** The provider's id for the message; its webhooks refer to it. */
  providerMessageId: string;
}

/** A sending provider. Acceptance only: the final state arrives later by webhook. */
export interface MessagingProvider {
  readonly name: ProviderName;
  sendTemplate(message: TemplateSend): Promise<SendAccepted>;
}
