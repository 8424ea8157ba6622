import { readFile } from 'node:fs/promises';

export interface ProcessMemory {
  /** Resident set now, MB. */
  rssMb: number;
  /** Peak resident set since the process started (VmHWM), MB. */
  peakRssMb: number;
}

/** A process's resident memory from /proc (Linux), by pid: what the kernel charges it, heap or not. */
export async function processMemory(pid: number): Promise<ProcessMemory> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
    if (!match) throw new Error(`/proc/${pid}/status has no ${field} line`);
    return Number(match[1]) / 1024;
  };
  return { rssMb: kb('VmRSS'), peakRssMb: kb('VmHWM') };
}
