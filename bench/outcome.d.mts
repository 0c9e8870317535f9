/** What a bundled handler answered: its status ("done" for a job) and " error" for a failure. */
export declare function outcomeOf(result: unknown): string;
