import { deploymentSenders, infobipNotifyUrl, type Config } from '../config';
import type { Db } from '../db/client';
import { interaktApiKeyReader } from '../settings/provider-settings';
import type { SecretBox } from '../settings/secret-box';
import type { ProviderName } from '../shared';
import { createInfobipProvider } from '../providers/infobip';
import { createInfobipTemplateSource } from '../providers/infobip-templates';
import { createInteraktProvider } from '../providers/interakt';
import { createInteraktTemplateSource } from '../providers/interakt-templates';
import { createMetaProvider } from '../providers/meta';
import {
  createMetaTemplateClient,
  createMetaTemplateSource,
  type MetaTemplateClient,
} from '../providers/meta-templates';
import type { TemplateSource } from '../providers/templates';
import type { MessagingProvider } from '../providers/types';

export interface DeploymentProvider {
  provider: MessagingProvider;
  /** Server-enforced sends per second for the provider account. */
  sendsPerSecond: number;
  /** The provider's template list, synced into Message Master; absent when it is not configured (Meta without a WABA id). */
  templateSource?: () => TemplateSource;
  /** Meta's template edge, where submitted templates go for review (Meta with a WABA id only). */
  metaTemplateClient?: () => MetaTemplateClient;
}

/**
 * The sending provider is chosen per deployment (`MESSAGING_PROVIDER`). Interakt's key is read
 * from settings on every use, so rotating it through the API needs no restart.
 */
export function createDeploymentProvider(config: Config, db: Db, secretBox: SecretBox): DeploymentProvider {
  if (config.MESSAGING_PROVIDER === 'meta') {
    const { META_ACCESS_TOKEN: token, META_PHONE_NUMBER_ID: phoneNumberId, META_WABA_ID: wabaId } = config;
    if (!phoneNumberId) throw new Error('MESSAGING_PROVIDER=meta needs META_PHONE_NUMBER_ID');
    const getAccessToken = () => {
      if (!token) throw new Error('META_ACCESS_TOKEN is not configured');
      return token;
    };
    const graph = {
      graphBaseUrl: config.META_GRAPH_BASE_URL,
      apiVersion: config.META_API_VERSION,
      timeoutMs: config.PROVIDER_TIMEOUT_MS,
      getAccessToken,
    };
    return {
      provider: createMetaProvider({
        ...graph,
        phoneNumberId,
        extraPhoneNumberIds: deploymentSenders(config).others,
      }),
      sendsPerSecond: config.META_SENDS_PER_SECOND,
      ...(wabaId && {
        templateSource: () => createMetaTemplateSource({ ...graph, wabaId }),
        metaTemplateClient: () => createMetaTemplateClient({ ...graph, wabaId }),
      }),
    };
  }
  if (config.MESSAGING_PROVIDER === 'infobip') {
    const { INFOBIP_API_KEY: apiKey, INFOBIP_WHATSAPP_SENDER: sender } = config;
    if (!sender) throw new Error('MESSAGING_PROVIDER=infobip needs INFOBIP_WHATSAPP_SENDER');
    const account = {
      baseUrl: config.INFOBIP_BASE_URL,
      timeoutMs: config.PROVIDER_TIMEOUT_MS,
      getApiKey: () => {
        if (!apiKey) throw new Error('INFOBIP_API_KEY is not configured');
        return apiKey;
      },
    };
    return {
      provider: createInfobipProvider({
        ...account,
        whatsappSender: sender,
        extraSenders: deploymentSenders(config).others,
        notifyUrl: infobipNotifyUrl(config),
      }),
      sendsPerSecond: config.INFOBIP_SENDS_PER_SECOND,
      templateSource: () =>
        createInfobipTemplateSource({ ...account, senders: [sender, ...deploymentSenders(config).others] }),
    };
  }
  const getApiKey = interaktApiKeyReader(db, secretBox, { apiKey: config.INTERAKT_API_KEY });
  const account = { baseUrl: config.INTERAKT_BASE_URL, timeoutMs: config.PROVIDER_TIMEOUT_MS, getApiKey };
  return {
    provider: createInteraktProvider(account),
    sendsPerSecond: config.INTERAKT_SENDS_PER_SECOND,
    templateSource: () => createInteraktTemplateSource(account),
  };
}

export const deploymentProviderName = (config: Config): ProviderName => config.MESSAGING_PROVIDER;
