import type { Context, Middleware } from './context';

/**
 * Compose middleware once into a single function (Koa's onion). Calling `next()`
 * twice from one middleware is a bug and rejects rather than running the rest twice.
 */
export function compose(stack: readonly Middleware[]): (ctx: Context, last: () => Promise<void>) => Promise<void> {
  const fns = [...stack];
  return function pipeline(ctx, last) {
    let index = -1;
    const dispatch = (i: number): Promise<void> => {
      if (i <= index) return Promise.reject(new Error('next() called multiple times'));
      index = i;
      const fn: Middleware = i === fns.length ? last : fns[i];
      try {
        return Promise.resolve(fn(ctx, () => dispatch(i + 1)));
      } catch (err) {
        return Promise.reject(err);
      }
    };
    return dispatch(0);
  };
}
