/** Settings from SST links (placeholder until the stacks land): none outside SST. */
export function linkedSettings(): Record<string, string | undefined> {
  return {};
}
