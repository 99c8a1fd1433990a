/**
 * zod's tree-shakable build (zod/mini) with English messages: the functions' bundles stay
 * small (zod's classic build alone is about 450 KB minified) and errors still read well.
 * Modules that parse import `* as z from 'zod/mini'` (member access keeps it tree-shakable)
 * and this module once, for the messages.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());
