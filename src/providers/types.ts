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
  /**
   * Keyed by the button's 0-based index in the template: a dynamic URL button's suffix, a copy-code
   * button's code, a quick-reply button's payload (optional: its text by default).
   */
  buttonValues?: Record<string, string[]>;
  /**
   * The template's buttons in template order, as Message Master knows them. Infobip binds button
   * parameters by position among the buttons that take one (quick reply, dynamic URL, copy code,
   * flow), so it needs the whole list, not only the values; Meta needs each value's button kind.
   */
  templateButtons?: TemplateButtonShape[];
  /** Our correlation id, echoed back by the provider in its webhooks. */
  callbackData?: string;
  /**
   * The business number to send from (a Meta phone number id, an Infobip sender), one of the
   * provider's configured senders; absent: its default. Interakt sends from the account's number.
   */
  sender?: string;
}

/** One of a template's buttons, as a send needs to know it. */
export interface TemplateButtonShape {
  /** `QUICK_REPLY`, `URL`, `PHONE_NUMBER`, `COPY_CODE`, `FLOW`, or whatever else the provider lists. */
  type: string;
  text: string;
  /** URL buttons: a dynamic one ends in `{{1}}`. */
  url?: string;
}

/** What one button of a template takes at send time. */
export type ButtonParameterKind = 'quick_reply' | 'dynamic_url' | 'copy_code' | 'flow' | 'none';

/** Quick reply (a payload), dynamic URL (the suffix), copy code (the code), flow (its token); others nothing. */
export function buttonParameterKind(button: TemplateButtonShape): ButtonParameterKind {
  switch (button.type.toUpperCase()) {
    case 'QUICK_REPLY':
      return 'quick_reply';
    case 'URL':
      return /\{\{\s*1\s*\}\}$/.test(button.url ?? '') ? 'dynamic_url' : 'none';
    case 'COPY_CODE':
      return 'copy_code';
    case 'FLOW':
      return 'flow';
    default:
      return 'none';
  }
}

export interface SendAccepted {
  provider: ProviderName;
  /** The number it went from, where the provider names one. */
  sender?: string;
  /** The provider's id for the message; its webhooks refer to it. */
  providerMessageId: string;
}

/** A sending provider. Acceptance only: the final state arrives later by webhook. */
export interface MessagingProvider {
  readonly name: ProviderName;
  /** The number a send without a `sender` goes from, where the provider names one (Meta, Infobip). */
  readonly defaultSender?: string;
  sendTemplate(message: TemplateSend): Promise<SendAccepted>;
}
