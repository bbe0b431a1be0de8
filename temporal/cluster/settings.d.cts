export declare const TEMPORAL_SERVER_VERSION: string;
export declare const TEMPORAL_UI_VERSION: string;
export declare const GO_TOOLCHAIN: string;
export declare const NUM_HISTORY_SHARDS: number;
export declare const DYNAMIC_CONFIG_FILE: string;
export declare const NAMESPACE_RETENTION: string;
export declare const CLUSTER_TOOLS_DIR: string;
export declare const TEMPORAL_SERVER_PATH: string;
export declare const TEMPORAL_SQL_TOOL_PATH: string;
export declare const TEMPORAL_UI_SERVER_PATH: string;

export interface ServerPorts {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
  internalFrontendHttp: number;
}

export declare function serverEnvironment(options: {
  postgresPort: number;
  postgresUser: string;
  postgresPassword: string;
  ports: ServerPorts;
}): Record<string, string>;
