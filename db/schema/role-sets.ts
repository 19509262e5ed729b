import { type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { roles } from '../../core/roles.ts';

/** The catalogue as a SQL array literal (core/roles.ts), for the role-set checks. */
const catalogue = sql.raw(`array[${roles.map((r) => `'${r}'`).join(', ')}]::text[]`);

/** A role-set column holds only roles of the catalogue. */
export function rolesInCatalogue(column: AnyPgColumn): SQL {
  return sql`${column} <@ ${catalogue}`;
}
