// Runs the DynamoDB and SES emulators in their own process, so the simulator's engine and the emulators use
// both cores. Prints one JSON line with the endpoints, then serves until stdin closes or it is signalled.
import { startDynamo, startSes } from './emulators.ts';

const options = JSON.parse(process.argv[2] ?? '{}') as {
  path?: string;
  dynamoPort?: number;
  sesPort?: number;
};
const dynamo = await startDynamo({
  ...(options.path ? { path: options.path } : {}),
  ...(options.dynamoPort ? { port: options.dynamoPort } : {}),
});
const ses = await startSes({ port: options.sesPort ?? 0 }).catch(
  (err: NodeJS.ErrnoException & { port?: number }) => {
    process.stdout.write(`${JSON.stringify({ error: { code: err.code ?? err.message, port: err.port } })}\n`);
    process.exit(1);
  },
);
process.stdout.write(`${JSON.stringify({ dynamo: dynamo.endpoint, ses: ses.endpoint })}\n`);

const stop = () => {
  dynamo.server.close(() => process.exit(0));
  ses.server.close();
  setTimeout(() => process.exit(0), 2000).unref();
};
process.stdin.on('end', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
