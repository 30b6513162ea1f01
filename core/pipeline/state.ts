declare const VALUE: unique symbol;

/**
 * A typed key for per-request state shared between plugins: `const USER = stateKey<User>('jwt-auth.user')`,
 * then `ctx.set(USER, user)` and `ctx.get(USER)` (a `User | undefined`). Two keys are the same
 * key only if they are the same object, so plugins cannot collide by picking the same name;
 * the name is for logs and debugging.
 */
export interface StateKey<T> {
  readonly name: string;
  /** Carries the value type; never set. */
  readonly [VALUE]?: T;
}

/** Make a typed state key (see {@link StateKey}); `name` is conventionally `<plugin>.<what>`. */
export function stateKey<T>(name: string): StateKey<T> {
  return Object.freeze({ name }) as StateKey<T>;
}
