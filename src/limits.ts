/**
 * Input bounds shared by the tool schemas, so that a huge argument is refused by zod before any
 * work (a 50 MB signature field once held the server for 51 s). docs/troubleshooting.md lists them.
 */

/** Free text: an error output, a key, a value, a fix, a training example. */
export const MAX_TEXT_CHARS = 100_000;
/** A short label: a severity, an error type, a category. */
export const MAX_LABEL_CHARS = 200;
/** A filesystem path (Linux's PATH_MAX). */
export const MAX_PATH_CHARS = 4096;
/** Array items and object members, nested, in one call's arguments (the MCP SDK counts them). */
export const MAX_ARGUMENT_ELEMENTS = 10_000;
/** Longest excerpt of an input quoted back in an error message. */
export const MAX_ECHO_CHARS = 80;
