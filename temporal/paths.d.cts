export declare const REPO_ROOT: string;
export declare const TOOLS_DIR: string;
export declare const TOOLS_BIN_DIR: string;
export declare const TEMPORAL_CLI_PATH: string;
export declare const TEST_SERVER_PATH: string;
export declare const TEST_SERVER_LIB_DIR: string;
export declare const SCHEMATHESIS_PATH: string;
export declare const DEV_SERVER_DB_PATH: string;
