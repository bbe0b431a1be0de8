export declare function hasThreadSafeAst(version: readonly number[]): boolean;
export declare function venvPythonVersion(venvDir: string): [number, number, number] | undefined;
