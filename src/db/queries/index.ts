export * from './api-keys';
export * from './assignments';
export type { Page, PageParams } from './common';
export * from './health';
export * from './leads';
export * from './messages';
export * from './sequences';
export type { AssignmentEventKind, HeaderType, MessageDirection, MessageStatus, ReferenceType } from '../schema/values';
