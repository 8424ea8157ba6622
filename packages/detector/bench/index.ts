/** `npm run bench -w @kws/detector [-- --json]`: the detector's benchmarks (detect.ts says what each measures). */
import { benchDetect } from './detect.ts';

const result = await benchDetect(process.argv.slice(2));
const json = process.argv.includes('--json');
process.stdout.write(json ? `${JSON.stringify(result)}\n` : `${JSON.stringify(result, null, 2)}\n`);
