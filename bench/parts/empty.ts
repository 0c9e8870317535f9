/** An empty module: the fixed cost of importing any bundle, to subtract from the import shares. */
export const empty = true;
