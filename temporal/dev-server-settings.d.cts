export type SearchAttributeTypeName = 'Text' | 'Keyword' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

export declare const SEARCH_ATTRIBUTES: ReadonlyArray<{
  readonly name: string;
  readonly type: SearchAttributeTypeName;
}>;
export declare const DYNAMIC_CONFIG: Readonly<Record<string, unknown>>;
export declare const SQLITE_PRAGMAS: Readonly<Record<string, string>>;

export declare function searchAttributeArgs(): string[];
export declare function dynamicConfigArgs(): string[];
export declare function sqlitePragmaArgs(): string[];
