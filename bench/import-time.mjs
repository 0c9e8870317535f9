// Child process of the cold-start benchmark: time one fresh import of the bundle given as a file URL.
const start = performance.now();
await import(process.argv[2]);
process.stdout.write(`import-ms ${performance.now() - start}\n`);
