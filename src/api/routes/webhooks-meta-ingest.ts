import type { Router } from 'express';
import { normalizePhone } from '../../providers/phone';
import { applyInboundMessage, stopRepliedDrips } from '../../webhooks/ingest';
import type { ApiDeps } from '../app';
import { metaWebhookRouter } from './webhooks-meta';

/** Meta Cloud API webhooks, applied by the same exactly-once ingestion as Interakt's. */
export function metaWebhooks(deps: ApiDeps): Router {
  const log = deps.log ?? ((line: string) => console.error(line));
  return metaWebhookRouter({
    appSecret: deps.metaAppSecret,
    verifyToken: deps.metaVerifyToken,
    sink: {
      status: async (event, { receivedAt }) => {
        await deps.webhookPipeline!.batcher.submit({
          provider: 'meta',
          eventType: event.status,
          providerMessageId: event.providerMessageId,
          callbackData: event.callbackData,
          status: event.status,
          at: event.at,
          errorCode: event.errorCode,
          errorMessage: event.errorMessage,
          receivedAt,
          payload: event.raw,
        });
      },
      inbound: async (event) => {
        const phone = normalizePhone(`+${event.from}`, deps.defaultCountry);
        const result = await applyInboundMessage(deps, {
          provider: 'meta',
          providerMessageId: event.providerMessageId,
          fromPhoneE164: phone.ok ? phone.e164 : `+${event.from}`,
          text: event.text,
          contentType: event.type,
          receivedAt: event.at,
          raw: event.raw,
        });
        if (result.dripsToStop.length > 0) void stopRepliedDrips({ temporal: deps.temporal, log }, result.dripsToStop);
      },
    },
  });
}
