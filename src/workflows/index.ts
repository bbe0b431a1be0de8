/** Everything the worker bundles: one workflow per file, re-exported here. */
export { dripWorkflow } from './drip';
export { welcomeWorkflow } from './welcome';
export { templateSyncWorkflow } from './template-sync';
export { infobipSyncWorkflow } from './infobip-sync';
export { ctaWorkflow } from './cta';
