// Moved to the route table, functions/src/routes.ts; this re-export goes once every importer has moved.
export * from "../functions/src/routes.ts";
