/**
 * Freezes `value` and every object or array reachable from it, in place, and
 * returns it. Used on the loaded configuration, so that no module can change a
 * value another module has already read (runtime-changeable values live in the
 * settings service).
 */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  }
  return value;
}
