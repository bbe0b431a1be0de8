/** Everything the worker bundles: one workflow per file, re-exported here. */
export { dripWorkflow } from './drips/workflow';
export { welcomeWorkflow } from './welcome/workflow';
export { keywordReplyWorkflow } from './keyword-replies/workflow';
export { templateSyncWorkflow, templateSubmissionWorkflow } from './templates/workflow';
export { infobipSyncWorkflow } from './infobip-sync/workflow';
export { ctaWorkflow } from './cta/workflow';
export { campaignWorkflow } from './campaigns/workflow';
export { interaktTrackWorkflow } from './interakt-track/workflow';
