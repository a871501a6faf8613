import { z } from "zod";
import { MAX_LABEL_CHARS, MAX_TEXT_CHARS } from "../limits.js";

/** A string of at most `max` characters; the refusal says how long it was and what to do. */
export function boundedString(field: string, max: number, hint: string) {
  return z.string().max(max, {
    error: (issue) => `${field} is ${typeof issue.input === "string" ? issue.input.length : "too many"} characters; the limit is ${max}: ${hint}`,
  });
}

/** Free text up to MAX_TEXT_CHARS. */
export function boundedText(field: string, hint = "pass the relevant part (e.g. the error's first lines)") {
  return boundedString(field, MAX_TEXT_CHARS, hint);
}

/** A short label up to MAX_LABEL_CHARS. */
export function boundedLabel(field: string) {
  return boundedString(field, MAX_LABEL_CHARS, "a label is a word or a few");
}
