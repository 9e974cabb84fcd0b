import { GatehouseError } from "../errors.js";

/**
 * The one error of a file Gatehouse cannot import at all (bad CSV quoting, an
 * invalid JSON line, non-UTF-8 bytes, too many rows, a mapped column that is
 * missing): 400 `import_invalid`, nothing imported. `reason` says where and
 * what, never a value from the file ("line 7: unterminated quoted field").
 */
export function importInvalid(reason: string): GatehouseError {
  return new GatehouseError("import_invalid", { fields: [reason], cause: new Error(reason) });
}
