import { infobipNotifyUrl, type Config } from '../config';
import type { Db } from '../db/client';
import { interaktApiKeyReader } from '../settings/provider-settings';
import type { SecretBox } from '../settings/secret-box';
import type { ProviderName } from '../shared';
import { createInfobipProvider } from '../providers/infobip';
import { createInteraktProvider } from '../providers/interakt';
import { createInteraktTemplateClient, type InteraktTemplateClient } from '../providers/interakt-templates';
import { createMetaProvider } from '../providers/meta';
import type { MessagingProvider } from '../providers/types';

export interface DeploymentProvider {
  provider: MessagingProvider;
  /** Server-enforced sends per second for the provider account. */
  sendsPerSecond: number;
  /** Template sync is Interakt's; other providers have none yet. */
  templateClient?: () => InteraktTemplateClient;
}

/**
 * The sending provider is chosen per deployment (`MESSAGING_PROVIDER`). Interakt's key is read
 * from settings on every use, so rotating it through the API needs no restart.
 */
export function createDeploymentProvider(config: Config, db: Db, secretBox: SecretBox): DeploymentProvider {
  if (config.MESSAGING_PROVIDER === 'meta') {
    const { META_ACCESS_TOKEN: token, META_PHONE_NUMBER_ID: phoneNumberId } = config;
    if (!phoneNumberId) throw new Error('MESSAGING_PROVIDER=meta needs META_PHONE_NUMBER_ID');
    return {
      provider: createMetaProvider({
        graphBaseUrl: config.META_GRAPH_BASE_URL,
        apiVersion: config.META_API_VERSION,
        phoneNumberId,
        timeoutMs: config.PROVIDER_TIMEOUT_MS,
        getAccessToken: () => {
          if (!token) throw new Error('META_ACCESS_TOKEN is not configured');
          return token;
        },
      }),
      sendsPerSecond: config.META_SENDS_PER_SECOND,
    };
  }
  if (config.MESSAGING_PROVIDER === 'infobip') {
    const { INFOBIP_API_KEY: apiKey, INFOBIP_WHATSAPP_SENDER: sender } = config;
    if (!sender) throw new Error('MESSAGING_PROVIDER=infobip needs INFOBIP_WHATSAPP_SENDER');
    return {
      provider: createInfobipProvider({
        baseUrl: config.INFOBIP_BASE_URL,
        timeoutMs: config.PROVIDER_TIMEOUT_MS,
        whatsappSender: sender,
        notifyUrl: infobipNotifyUrl(config),
        getApiKey: () => {
          if (!apiKey) throw new Error('INFOBIP_API_KEY is not configured');
          return apiKey;
        },
      }),
      sendsPerSecond: config.INFOBIP_SENDS_PER_SECOND,
    };
  }
  const getApiKey = interaktApiKeyReader(db, secretBox, { apiKey: config.INTERAKT_API_KEY });
  return {
    provider: createInteraktProvider({
      baseUrl: config.INTERAKT_BASE_URL,
      timeoutMs: config.PROVIDER_TIMEOUT_MS,
      getApiKey,
    }),
    sendsPerSecond: config.INTERAKT_SENDS_PER_SECOND,
    templateClient: () =>
      createInteraktTemplateClient({
        baseUrl: config.INTERAKT_BASE_URL,
        timeoutMs: config.PROVIDER_TIMEOUT_MS,
        getApiKey,
      }),
  };
}

export const deploymentProviderName = (config: Config): ProviderName => config.MESSAGING_PROVIDER;
