// Benchmark child: the minimal upstream (the simulated VNeID) on a given port.
import { startSimulator } from '../src/dev/simulator.js';

const { port, callback } = JSON.parse(process.argv[2]!) as { port: number; callback: string };
await startSimulator({ kind: 'vneid', port, publicUrl: `http://127.0.0.1:${port}`, clients: [{ clientId: 'bench', clientSecret: 'bench-upstream-secret', redirectUris: [callback] }] });
process.stdout.write('ready\n');
