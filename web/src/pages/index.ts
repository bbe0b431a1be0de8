/**
 * The console's pages and its navigation: one entry in NAV and its pages in PAGES.
 */
import type { Page } from '../router';
import { auditPage } from './audit';
import { campaignEditorPage, campaignPage, campaignsPage } from './campaigns';
import { assignmentPage, dripsPage, sequencePage, sequenceEditorPage } from './drips';
import { infobipPage, infobipRunPage } from './infobip';
import { interactivePage } from './interactive';
import { leadPage, leadsPage } from './leads';
import { messagesPage } from './messages';
import { overviewPage } from './overview';
import { segmentPage, segmentsPage } from './segments';
import { settingsPage } from './settings';
import { templatesPage } from './templates';

export interface NavItem {
  path: string;
  label: string;
  adminOnly?: boolean;
}

export const NAV: NavItem[] = [
  { path: '/', label: 'Overview' },
  { path: '/templates', label: 'Message Master' },
  { path: '/drips', label: 'Drips' },
  { path: '/leads', label: 'Leads' },
  { path: '/segments', label: 'Segments' },
  { path: '/campaigns', label: 'Campaigns' },
  { path: '/interactive', label: 'WhatsApp interactive' },
  { path: '/infobip', label: 'Infobip sync' },
  { path: '/messages', label: 'Message log' },
  { path: '/settings', label: 'Settings', adminOnly: true },
  { path: '/audit', label: 'Audit log', adminOnly: true },
];

export const PAGES: Page[] = [
  overviewPage,
  templatesPage,
  sequenceEditorPage,
  sequencePage,
  dripsPage,
  assignmentPage,
  leadPage,
  leadsPage,
  segmentPage,
  segmentsPage,
  campaignEditorPage,
  campaignPage,
  campaignsPage,
  interactivePage,
  infobipRunPage,
  infobipPage,
  messagesPage,
  settingsPage,
  auditPage,
];
