/** Which database a DATABASE_URL names: `mssql://` or `sqlserver://` is SQL Server, anything else a SQLite file. */
export function isMssqlUrl(url: string): boolean {
  return /^(mssql|sqlserver):\/\//i.test(url);
}
