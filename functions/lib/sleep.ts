/** Waits `ms` (virtual time in local runs: it is a plain setTimeout). */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
