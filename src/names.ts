import { z } from "zod";

/** Session, module and similar identifiers: safe as tmux targets, path parts and git subjects. */
export const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export const nameSchema = z
  .string()
  .regex(NAME_PATTERN, "use 1-64 characters from A-Z a-z 0-9 _ -");

/** Tensor names may have one level of namespace: `coder/decision`. */
export const TENSOR_PATTERN = /^[A-Za-z0-9_-]{1,64}(\/[A-Za-z0-9_-]{1,64})?$/;

export const tensorNameSchema = z
  .string()
  .regex(TENSOR_PATTERN, "tensor names are NAME or NAMESPACE/NAME, each part 1-64 characters from A-Z a-z 0-9 _ -");

export function assertName(kind: string, value: string): string {
  if (!NAME_PATTERN.test(value)) {
    throw new Error(`Invalid ${kind} name ${JSON.stringify(value.slice(0, 80))}: use 1-64 characters from A-Z a-z 0-9 _ -`);
  }
  return value;
}
