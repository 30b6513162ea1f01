// htm bound to preact's h: JSX-like templates without a build step.
import { h, htm } from '../deps.js';

export const html = htm.bind(h);
