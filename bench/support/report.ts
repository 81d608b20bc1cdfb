/** Prints one benchmark figure as an aligned line, and keeps it for the summary. */
const rows: [string, string][] = [];

export function figure(name: string, value: string): void {
  rows.push([name, value]);
  process.stdout.write(`  ${name.padEnd(58)} ${value}\n`);
}

export function heading(text: string): void {
  process.stdout.write(`\n${text}\n`);
}

export const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
