export * from './types';
export * from './errors';
export * from './phone';
export * from './interakt';
export * from './meta';
